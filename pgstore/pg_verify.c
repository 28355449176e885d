/* pg_verify - the hash chain of the primary's ledger, checked with the
 * store's own decoder (store_wire_decode: format, hash, personal digest),
 * in pages of PG_VERIFY_PAGE rows by seq: every seq present in order,
 * each prev equal to the hash before it, and ledger_head naming the last
 * event; then the consent table against the replay of the ledger
 * (pg_state.c). Built with pg_write.c (needs store/store_repl.h). */
#include <string.h>

#include "pgstore/pg_int.h"
#include "store/store_repl.h"

#define PG_VERIFY_PAGE 5000

struct vwalk {
    struct store_verify *res;
    uint8_t prev[32];
    char strs[STORE_WIRE_STRS];
};

static int fail(struct store_verify *r, int problem, uint64_t seq, const char *id)
{
    r->problem = problem;
    r->bad_seq = seq;
    if (id != NULL)
        memcpy(r->bad_id, id, sizeof r->bad_id);
    return 1; /* stops the fetch */
}

static int one(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct vwalk *w = arg;
    struct store_verify *r = w->res;
    struct store_ledger_event e;

    if (seq != r->head_seq + 1)
        return fail(r, STORE_V_MISSING, r->head_seq + 1, NULL);
    if (store_wire_decode(raw, len, &e, w->strs, sizeof w->strs) != STORE_OK)
        return fail(r, STORE_V_MODIFIED, seq, NULL);
    if (e.seq != seq)
        return fail(r, STORE_V_MOVED, seq, e.ev.id);
    if (memcmp(e.prev, w->prev, 32) != 0)
        return fail(r, STORE_V_CHAIN, seq, e.ev.id);
    memcpy(w->prev, e.hash, 32);
    r->head_seq = seq;
    r->events++;
    r->tombstones += e.tombstone != 0;
    return 0;
}

int pgstore_verify(struct pgstore *pg, struct store_verify *res)
{
    struct vwalk w;
    uint64_t hseq;
    uint8_t hhash[32];
    int rc;

    if (pg == NULL || res == NULL)
        return STORE_EINVAL;
    memset(res, 0, sizeof *res);
    memset(w.prev, 0, sizeof w.prev);
    w.res = res;
    /* one snapshot for the head and every page */
    rc = pg_exec_ok(pg, PQexec(pg->conn, "begin isolation level repeatable read read only"),
                    PGRES_COMMAND_OK);
    if (rc == STORE_OK)
        rc = pgstore_head(pg, &hseq, hhash);
    for (uint64_t before = ~0ull; rc == STORE_OK && res->problem == STORE_V_OK &&
                                  res->head_seq != before;) {
        before = res->head_seq;
        rc = pgstore_fetch(pg, res->head_seq, PG_VERIFY_PAGE, one, &w);
        if (rc == 1)
            rc = STORE_OK;
    }
    if (rc == STORE_OK && res->problem == STORE_V_OK && res->head_seq == hseq &&
        memcmp(w.prev, hhash, 32) == 0)
        rc = pg_verify_state(pg, res); /* same snapshot: consent vs the replay */
    PQclear(PQexec(pg->conn, "rollback"));
    if (rc != STORE_OK)
        return rc;
    if (res->problem == STORE_V_OK && res->head_seq < hseq)
        fail(res, STORE_V_TRUNCATED, hseq, NULL);
    else if (res->problem == STORE_V_OK && res->head_seq > hseq)
        fail(res, STORE_V_CHAIN, hseq + 1, NULL);
    else if (res->problem == STORE_V_OK && memcmp(w.prev, hhash, 32) != 0)
        fail(res, STORE_V_CHAIN, hseq, NULL);
    memcpy(res->head, w.prev, 32);
    return STORE_OK;
}
