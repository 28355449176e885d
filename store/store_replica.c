/* store_replica - a local LMDB replica fed with the primary's raw ledger
 * values (store_repl.h).
 *
 * Each value is checked exactly as store_verify checks it (format, hash,
 * personal digest, seq == head + 1, prev == head hash), appended
 * unchanged, and its state rule applied with store_state_apply, so the
 * replica's ledger is the primary's byte for byte. Meta "synced" (i64
 * big-endian UTC seconds) and "replica" (1) say when and that it is one. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"

struct apply {
    struct store_batch *b;
    struct st_event e, local;
    int erased; /* an ERASE was applied: scrub after the commit */
};

static int stop(struct store_repl_result *res, int problem, uint64_t seq)
{
    res->problem = problem;
    res->bad_seq = seq;
    return STORE_ECORRUPT;
}

/* The recipient of the chain ending at seq: the first event along rprev
 * that still holds it (a replica may have received some as tombstones). */
static int chain_rcpt(struct apply *a, uint64_t seq, char *rn)
{
    while (seq != 0) {
        int rc = st_event_get(a->b->st, a->b->txn, seq, &a->local, NULL, NULL);
        if (rc != STORE_OK)
            return rc;
        if (a->local.has_personal)
            return store_addr_normalise(a->local.le.ev.recipient, rn, STORE_ADDR_MAX);
        if (a->local.le.rprev >= seq)
            return STORE_ECORRUPT;
        seq = a->local.le.rprev;
    }
    return STORE_NOTFOUND;
}

static int erase_local(struct apply *a, const struct store_ledger_event *le)
{
    struct store *st = a->b->st;
    char rn[STORE_ADDR_MAX];
    uint8_t key[ST_KEYLEN];
    unsigned n = 0;
    /* counted before anything is deleted: a chain break later in the
     * batch still commits what came before it */
    int rc = a->erased ? STORE_OK : st_erasegen_bump(st, a->b->txn);

    if (rc == STORE_OK)
        a->erased = 1;
    if (rc == STORE_OK)
        rc = chain_rcpt(a, le->rprev, rn);
    if (rc == STORE_OK) {
        if ((rc = st_key_for(st, a->b->txn, le->ev.controller, rn, 0, key, NULL, NULL)) ==
            STORE_OK) {
            MDB_val k = {ST_KEYLEN, key};
            rc = st_mdb_rc(mdb_del(a->b->txn, st->consent, &k, NULL));
            if (rc == STORE_OK || rc == STORE_NOTFOUND)
                rc = st_mdb_rc(mdb_del(a->b->txn, st->lastopen, &k, NULL));
        }
        if (rc == STORE_NOTFOUND)
            rc = STORE_OK;
        if (rc == STORE_OK)
            rc = st_outbox_purge(st, a->b->txn, le->ev.controller, rn);
    } else if (rc == STORE_NOTFOUND) {
        rc = STORE_OK; /* every event came as a tombstone: nothing personal here */
    }
    if (rc == STORE_OK)
        rc = st_erase_chain(st, a->b->txn, le->rprev, &n);
    return rc;
}

/* A live event: the recipient's state, which must link to its latest. */
static int apply_state(struct apply *a, struct store_repl_result *res)
{
    struct store_ledger_event *le = &a->e.le;
    struct store *st = a->b->st;
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    uint8_t key[ST_KEYLEN], vb[ST_CVAL_LEN];
    struct store_cval v;
    int rc;

    if (store_controller_normalise(le->ev.controller, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(le->ev.recipient, rn, sizeof rn) != STORE_OK)
        return stop(res, STORE_V_UNREADABLE, le->seq);
    if ((rc = st_key_norm(st, a->b->txn, cn, rn, 1, key)) != STORE_OK)
        return rc;
    rc = st_cval_get(st, a->b->txn, key, &v);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc;
    if (le->rprev != (rc == STORE_OK ? v.last : 0))
        return stop(res, STORE_V_STATE, le->seq);
    struct store_event ev = le->ev;
    if ((rc = store_state_apply(&v, &ev, rc == STORE_OK)) != STORE_OK)
        return stop(res, STORE_V_UNREADABLE, le->seq);
    v.last = le->seq;
    st_cval_encode(&v, vb);
    MDB_val k = {ST_KEYLEN, key}, dv = {ST_CVAL_LEN, vb};
    return st_mdb_rc(mdb_put(a->b->txn, st->consent, &k, &dv, 0));
}

static int apply_one(struct apply *a, const void *raw, size_t len,
                     struct store_repl_result *res)
{
    struct store_batch *b = a->b;
    struct store_ledger_event *le = &a->e.le;
    int p, rc;

    if (raw == NULL || st_event_decode(raw, len, &a->e) != STORE_OK)
        return stop(res, STORE_V_UNREADABLE, b->head_seq + 1);
    if (le->seq != 0 && le->seq <= b->head_seq) {
        rc = st_event_get(b->st, b->txn, le->seq, &a->local, NULL, NULL);
        if (rc != STORE_OK && rc != STORE_ECORRUPT)
            return rc;
        if (rc != STORE_OK || sodium_memcmp(a->local.le.hash, le->hash, 32) != 0)
            return stop(res, STORE_V_ANCHOR_DIFFERS, le->seq);
        res->skipped++;
        return STORE_OK;
    }
    if (le->seq != b->head_seq + 1)
        return stop(res, STORE_V_MISSING, b->head_seq + 1);
    if ((p = st_event_check(raw, len, &a->e)) != STORE_V_OK)
        return stop(res, p, le->seq);
    if (sodium_memcmp(le->prev, b->head_hash, 32) != 0)
        return stop(res, STORE_V_CHAIN, le->seq);
    if (a->e.has_personal)
        rc = apply_state(a, res);
    else if (le->ev.action == STORE_A_ERASE && le->rprev != 0)
        rc = le->rprev < le->seq ? erase_local(a, le) : stop(res, STORE_V_STATE, le->seq);
    else
        rc = STORE_OK;
    if (rc == STORE_OK)
        rc = st_append_raw(b, le->seq, raw, len, le->hash);
    if (rc == STORE_OK)
        res->applied++;
    return rc;
}

static int synced_put(struct store *st, MDB_txn *txn, int64_t synced_at)
{
    uint8_t t[8], one = 1;
    int rc;

    st_put_be64(t, (uint64_t)synced_at);
    if ((rc = st_meta_put(st, txn, "synced", t, sizeof t)) != STORE_OK)
        return rc;
    return st_meta_put(st, txn, "replica", &one, 1);
}

int store_replica_apply(struct store *st, const void *const *raw, const size_t *len,
                        size_t n, int64_t synced_at, struct store_repl_result *res)
{
    struct apply *a;
    int rc, stoprc = STORE_OK;

    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (st == NULL || res == NULL || (n > 0 && (raw == NULL || len == NULL)))
        return STORE_EINVAL;
    if ((a = calloc(1, sizeof *a)) == NULL)
        return STORE_ENOMEM;
    if ((rc = store_batch_begin(st, &a->b)) != STORE_OK) {
        free(a);
        return rc;
    }
    for (size_t i = 0; i < n && stoprc == STORE_OK; i++)
        stoprc = apply_one(a, raw[i], len[i], res);
    /* A chain problem keeps what came before it; any other error (I/O,
     * map full) aborts the whole batch. */
    if (stoprc != STORE_OK && stoprc != STORE_ECORRUPT)
        rc = stoprc;
    /* A chain break keeps the last sync time: the milter goes stale. */
    else if (stoprc != STORE_OK || (rc = synced_put(st, a->b->txn, synced_at)) == STORE_OK) {
        rc = store_batch_commit(a->b);
        a->b = NULL;
    }
    store_batch_abort(a->b);
    if (rc == STORE_OK && a->erased && (rc = store_scrub(st, STORE_SCRUB_WAIT_MS)) == STORE_EBUSY) {
        res->scrub_due = 1; /* applied; the caller retries the scrub */
        rc = STORE_OK;
    }
    free(a);
    return rc != STORE_OK ? rc : stoprc;
}

int store_replica_touch(struct store *st, int64_t synced_at)
{
    MDB_txn *txn;
    int rc;

    if (st == NULL)
        return STORE_EINVAL;
    if ((rc = st_wr_begin(st, &txn)) != STORE_OK)
        return rc;
    if ((rc = synced_put(st, txn, synced_at)) != STORE_OK) {
        st_wr_abort(st, txn);
        return rc;
    }
    return st_wr_commit(st, txn);
}

int store_replica_status(struct store *st, int *is_replica, uint64_t *head,
                         int64_t *synced_at)
{
    uint8_t hash[32];
    MDB_txn *txn;
    MDB_val v;
    int rc;

    if (st == NULL || is_replica == NULL || head == NULL || synced_at == NULL)
        return STORE_EINVAL;
    *is_replica = 0;
    *head = 0;
    *synced_at = 0;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_head_get(st, txn, head, hash);
    if (rc == STORE_OK && (rc = st_meta_get(st, txn, "replica", &v)) == STORE_OK)
        *is_replica = v.mv_size == 1 && *(const uint8_t *)v.mv_data == 1;
    if (rc == STORE_NOTFOUND)
        rc = STORE_OK;
    if (rc == STORE_OK && (rc = st_meta_get(st, txn, "synced", &v)) == STORE_OK)
        rc = v.mv_size == 8 ? (*synced_at = (int64_t)st_get_be64(v.mv_data), STORE_OK)
                            : STORE_ECORRUPT;
    if (rc == STORE_NOTFOUND)
        rc = STORE_OK;
    st_rd_end(st, txn);
    return rc;
}
