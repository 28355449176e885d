/* pg_erase - GDPR erasure on the primary (as store_erase does in LMDB).
 *
 * One transaction under the head lock: each ledger row of the recipient
 * is rewritten in place into its tombstone (store_wire_tombstone: the
 * canonical part and hash kept, the personal part gone; recipient and
 * dedup NULL), the consent and last-open rows are deleted, and an ERASE
 * event with rprev = the recipient's latest seq is appended, so every
 * replica that applies it tombstones its own copies too. Built with
 * pg_write.c (needs store/store_repl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "pgstore/pg_int.h"
#include "store/store_repl.h"

static int tombstone_rows(struct pgstore *pg, const char *cn, const char *rn, unsigned *n,
                          uint64_t *latest)
{
    const char *v[2] = {cn, rn};
    PGresult *r = PQexecParams(pg->conn,
                               "select seq, raw from ledger where controller = $1 and "
                               "recipient = $2 order by seq for update",
                               2, NULL, v, NULL, NULL, 1);
    uint8_t *tomb = NULL;
    int rc;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(pg, r, PGRES_TUPLES_OK);
    rc = STORE_OK;
    for (int i = 0; i < PQntuples(r) && rc == STORE_OK; i++) {
        size_t len = (size_t)PQgetlength(r, i, 1), tl;
        const char *seqb = PQgetvalue(r, i, 0);
        free(tomb);
        if ((tomb = malloc(len)) == NULL) {
            rc = STORE_ENOMEM;
            break;
        }
        if ((rc = store_wire_tombstone(PQgetvalue(r, i, 1), len, tomb, &tl)) != STORE_OK)
            break;
        const char *uv[2] = {seqb, (const char *)tomb};
        const int ul[2] = {8, (int)tl}, uf[2] = {1, 1};
        /* seq travels as int8 in binary, as it came */
        rc = pg_exec_ok(pg,
                        PQexecParams(pg->conn,
                                     "update ledger set raw = $2, tombstone = true, "
                                     "recipient = null, dedup = null where seq = $1",
                                     2, (const Oid[]){20, 17}, uv, ul, uf, 0),
                        PGRES_COMMAND_OK);
        uint64_t s = 0;
        for (int k = 0; k < 8; k++)
            s = s << 8 | (uint8_t)seqb[k];
        *latest = s;
        (*n)++;
    }
    free(tomb);
    PQclear(r);
    return rc;
}

/* Delete the current rows; *any = 1 if one existed. */
static int delete_rows(struct pgstore *pg, const char *cn, const char *rn, int *any)
{
    static const char *const sql[2] = {
        "delete from consent where controller = $1 and recipient = $2",
        "delete from lastopen where controller = $1 and recipient = $2"};
    const char *v[2] = {cn, rn};

    for (int i = 0; i < 2; i++) {
        PGresult *r = PQexecParams(pg->conn, sql[i], 2, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_COMMAND_OK && atoi(PQcmdTuples(r)) > 0)
            *any = 1;
        int rc = pg_exec_ok(pg, r, PGRES_COMMAND_OK);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static int erase_event(struct pgstore *pg, const char *cn, const char *actor, unsigned n,
                       uint64_t rprev)
{
    struct store_event ev = {.action = STORE_A_ERASE, .controller = cn, .method = "admin",
                             .actor = actor, .time = (int64_t)time(NULL), .states = n};
    uint8_t hash[32], rnd[32];
    uint64_t head;
    struct store_wire *w = malloc(sizeof *w);
    int rc;

    if (w == NULL)
        return STORE_ENOMEM;
    if ((rc = pg_head_lock(pg, &head, hash)) == STORE_OK) {
        randombytes_buf(rnd, sizeof rnd);
        rc = store_event_encode(pg->hashkey, &ev, cn, NULL, head + 1, rprev, hash, rnd, w);
    }
    if (rc == STORE_OK) {
        memcpy(ev.id, w->id, sizeof ev.id);
        ev.seq = head + 1;
        rc = pg_append(pg, &ev, cn, NULL, NULL, w);
    }
    free(w);
    return rc;
}

int pgstore_erase(struct pgstore *pg, const char *ctl, const char *rcpt, const char *actor,
                  unsigned *nevents)
{
    char cn[72], rn[STORE_ADDR_MAX];
    uint8_t hash[32];
    uint64_t head, latest = 0;
    unsigned n = 0;
    int rc, any = 0;

    if (nevents != NULL)
        *nevents = 0;
    if (pg == NULL || store_controller_normalise(ctl, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(rcpt, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    rc = pg_exec_ok(pg, PQexec(pg->conn, "begin"), PGRES_COMMAND_OK);
    if (rc == STORE_OK)
        rc = pg_head_lock(pg, &head, hash); /* serialise with every append */
    if (rc == STORE_OK)
        rc = tombstone_rows(pg, cn, rn, &n, &latest);
    if (rc == STORE_OK)
        rc = delete_rows(pg, cn, rn, &any);
    if (rc == STORE_OK && n == 0 && !any)
        rc = STORE_NOTFOUND;
    if (rc == STORE_OK)
        rc = erase_event(pg, cn, actor, n, latest);
    if (rc == STORE_OK)
        rc = pg_exec_ok(pg, PQexec(pg->conn, "commit"), PGRES_COMMAND_OK);
    else
        PQclear(PQexec(pg->conn, "rollback"));
    if (rc == STORE_OK && nevents != NULL)
        *nevents = n;
    return rc;
}
