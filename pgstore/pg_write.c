/* pg_write - appending one event to the primary's ledger.
 *
 * One transaction: the head row is locked (SELECT ... FOR UPDATE), so
 * appends are serialised and seq is gapless in commit order; the event is
 * validated, the state rule applied and the value encoded with the store's
 * own codec (store/store_repl.h: the LMDB ledger format, so a replica
 * appends the same bytes); then the row, the consent, the head and
 * pg_notify go in together. Built only once store/store_repl.h exists
 * (pgstore/module.mk). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pgstore/pg_int.h"
#include "store/store_repl.h"

static int q(struct pgstore *pg, const char *sql, int n, const char *const *v,
             const int *len, const int *fmt, ExecStatusType want, PGresult **out)
{
    PGresult *r = PQexecParams(pg->conn, sql, n, NULL, v, len, fmt, 1);

    if (out != NULL && r != NULL && PQresultStatus(r) == want) {
        *out = r;
        return STORE_OK;
    }
    return pg_exec_ok(pg, r, want);
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

static uint32_t be32(const char *p)
{
    return (uint32_t)(uint8_t)p[0] << 24 | (uint32_t)(uint8_t)p[1] << 16 |
           (uint32_t)(uint8_t)p[2] << 8 | (uint8_t)p[3];
}

/* The event id already in the ledger? *seq = its seq (0: no). */
static int id_known(struct pgstore *pg, const char *id, uint64_t *seq)
{
    const char *v[1] = {id};
    PGresult *r;
    int rc = q(pg, "select seq from ledger where id = $1::uuid", 1, v, NULL, NULL,
               PGRES_TUPLES_OK, &r);

    *seq = 0;
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(r) == 1)
        *seq = be64(PQgetvalue(r, 0, 0));
    PQclear(r);
    return STORE_OK;
}

int pg_head_lock(struct pgstore *pg, uint64_t *seq, uint8_t hash[32])
{
    PGresult *r;
    int rc = q(pg, "select seq, hash from ledger_head for update", 0, NULL, NULL, NULL,
               PGRES_TUPLES_OK, &r);

    if (rc != STORE_OK)
        return rc;
    rc = STORE_ECORRUPT;
    if (PQntuples(r) == 1 && PQgetlength(r, 0, 1) == 32) {
        *seq = be64(PQgetvalue(r, 0, 0));
        memcpy(hash, PQgetvalue(r, 0, 1), 32);
        rc = STORE_OK;
    }
    PQclear(r);
    return rc;
}

static int cval_lock(struct pgstore *pg, const char *cn, const char *rn,
                     struct store_cval *cv, int *found)
{
    const char *v[2] = {cn, rn};
    PGresult *r;
    int rc = q(pg,
               "select states, updated, informed, last_seq from consent "
               "where controller = $1 and recipient = $2 for update",
               2, v, NULL, NULL, PGRES_TUPLES_OK, &r);

    memset(cv, 0, sizeof *cv);
    *found = 0;
    if (rc != STORE_OK)
        return rc;
    if (PQntuples(r) == 1) {
        cv->states = be32(PQgetvalue(r, 0, 0));
        cv->updated = (uint32_t)be64(PQgetvalue(r, 0, 1));
        cv->informed = (uint32_t)be64(PQgetvalue(r, 0, 2));
        cv->last = be64(PQgetvalue(r, 0, 3));
        *found = 1;
    }
    PQclear(r);
    return STORE_OK;
}

/* Insert the row, upsert the consent, move the head, ring the bell. */
int pg_append(struct pgstore *pg, const struct store_event *ev, const char *cn,
                  const char *rn, const struct store_cval *cv, const struct store_wire *w)
{
    char seq[24], act[8], tm[24], st[16], up[16], inf[16];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)ev->seq);
    snprintf(act, sizeof act, "%d", ev->action);
    snprintf(tm, sizeof tm, "%lld", (long long)ev->time);
    st[0] = up[0] = inf[0] = '\0';
    if (cv != NULL) {
        snprintf(st, sizeof st, "%d", (int32_t)cv->states);
        snprintf(up, sizeof up, "%u", cv->updated);
        snprintf(inf, sizeof inf, "%u", cv->informed);
    }
    const char *lv[8] = {seq, ev->id, cn, rn, act, tm, (const char *)w->dedup,
                         (const char *)w->raw};
    const int ll[8] = {0, 0, 0, 0, 0, 0, 16, (int)w->len}, lf[8] = {0, 0, 0, 0, 0, 0, 1, 1};
    if (rn == NULL)
        lv[6] = NULL; /* an ERASE event: no recipient, no dedup */
    int rc = q(pg,
               "insert into ledger (seq, id, controller, recipient, action, time, dedup, raw)"
               " values ($1::bigint, $2::uuid, $3, $4, $5::smallint, $6::bigint, $7, $8)",
               8, lv, ll, lf, PGRES_COMMAND_OK, NULL);
    const char *cvv[6] = {cn, rn, st, up, inf, seq};
    if (rc == STORE_OK && cv != NULL)
        rc = q(pg,
               "insert into consent values ($1, $2, $3::integer, $4::bigint, $5::bigint, "
               "$6::bigint) on conflict (controller, recipient) do update set states = "
               "excluded.states, updated = excluded.updated, informed = excluded.informed, "
               "last_seq = excluded.last_seq",
               6, cvv, NULL, NULL, PGRES_COMMAND_OK, NULL);
    const char *hv[2] = {seq, (const char *)w->hash};
    const int hl[2] = {0, 32}, hf[2] = {0, 1};
    if (rc == STORE_OK)
        rc = q(pg, "update ledger_head set seq = $1::bigint, hash = $2", 2, hv, hl, hf,
               PGRES_COMMAND_OK, NULL);
    if (rc == STORE_OK)
        rc = q(pg, "select pg_notify('consent_ledger', $1)", 1, hv, NULL, NULL,
               PGRES_TUPLES_OK, NULL);
    return rc;
}

static int notice_put(struct pgstore *pg, const struct store_event *ev)
{
    char tm[24];
    snprintf(tm, sizeof tm, "%lld", (long long)ev->time);
    const char *v[4] = {(const char *)ev->notice_sha256, tm,
                        ev->notice_source ? ev->notice_source : "", ev->notice_text};
    const int l[4] = {32, 0, 0, (int)ev->notice_len}, f[4] = {1, 0, 0, 1};

    return q(pg, "insert into notices values ($1, $2::bigint, $3, $4) on conflict do nothing",
             4, v, l, f, PGRES_COMMAND_OK, NULL);
}

static int record_in(struct pgstore *pg, struct store_event *ev, struct store_wire *w)
{
    char cn[65], rn[STORE_ADDR_MAX];
    uint8_t hash[32], rnd[32];
    struct store_cval cv;
    uint64_t head, known;
    int rc, found;

    if ((rc = store_event_check_in(ev, cn, rn)) != STORE_OK)
        return rc;
    if ((rc = pg_head_lock(pg, &head, hash)) != STORE_OK ||
        (rc = id_known(pg, ev->id, &known)) != STORE_OK)
        return rc;
    if (known != 0) { /* a forward seen before: nothing new */
        ev->seq = known;
        ev->applied = 1;
        w->len = 0;
        return STORE_OK;
    }
    if ((rc = cval_lock(pg, cn, rn, &cv, &found)) != STORE_OK ||
        (rc = store_state_apply(&cv, ev, found)) != STORE_OK)
        return rc;
    randombytes_buf(rnd, sizeof rnd);
    rc = store_event_encode(pg->hashkey, ev, cn, rn, head + 1, cv.last, hash, rnd, w);
    sodium_memzero(rnd, sizeof rnd);
    if (rc != STORE_OK)
        return rc;
    ev->seq = head + 1;
    cv.last = ev->seq;
    if ((rc = pg_append(pg, ev, cn, rn, &cv, w)) == STORE_OK && ev->notice_text != NULL)
        rc = notice_put(pg, ev);
    return rc;
}

int pgstore_record(struct pgstore *pg, struct store_event *ev, struct store_wire *wire)
{
    struct store_wire *w = wire;
    int rc;

    if (pg == NULL || ev == NULL)
        return STORE_EINVAL;
    if (w == NULL && (w = malloc(sizeof *w)) == NULL)
        return STORE_ENOMEM;
    rc = pg_exec_ok(pg, PQexec(pg->conn, "begin"), PGRES_COMMAND_OK);
    if (rc == STORE_OK)
        rc = record_in(pg, ev, w);
    if (rc == STORE_OK)
        rc = pg_exec_ok(pg, PQexec(pg->conn, "commit"), PGRES_COMMAND_OK);
    else
        PQclear(PQexec(pg->conn, "rollback"));
    if (rc != STORE_OK && wire != NULL)
        wire->len = 0;
    if (w != wire)
        free(w);
    return rc;
}
