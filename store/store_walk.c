/* store_walk - reading the store in bulk: one recipient's history, the
 * whole ledger, chain verification, current-consent and last-open
 * enumeration, and sizes.
 *
 * Each walk runs in one read transaction (a consistent snapshot that never
 * blocks writers). Callbacks get borrowed data valid only during the call
 * and must not write to the store. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"

#define HISTORY_MAX 1000000 /* events of one recipient, a sanity bound */

const char *store_verify_problem_text(int problem)
{
    static const char *const t[] = {
        [STORE_V_OK] = "chain intact",
        [STORE_V_MODIFIED] = "event content modified (hash mismatch)",
        [STORE_V_PERSONAL] = "personal fields modified (digest mismatch)",
        [STORE_V_CHAIN] = "previous-hash link broken (an event before it was deleted, "
                          "replaced or reordered)",
        [STORE_V_MISSING] = "event missing (deleted)",
        [STORE_V_MOVED] = "event stored at the wrong position (reordered)",
        [STORE_V_TRUNCATED] =
            "ledger head does not match the last event (events at the end "
            "deleted)",
        [STORE_V_UNREADABLE] = "event cannot be decoded",
        [STORE_V_STATE] =
            "current consent does not match the recipient's events (consent "
            "database modified)",
        [STORE_V_ANCHOR_MISSING] = "the recorded head is not in the ledger (events at "
                                   "the end deleted, with the head)",
        [STORE_V_ANCHOR_DIFFERS] = "the event at the recorded head has another hash "
                                   "(ledger rewritten)",
    };
    if (problem < 0 || problem > STORE_V_ANCHOR_DIFFERS)
        return "unknown problem";
    return t[problem];
}

/* Collect the recipient's sequence numbers (newest first, via rprev). */
static int chain_seqs(struct store *st, MDB_txn *txn, uint64_t last, struct st_event *e,
                      uint64_t **seqs, size_t *n)
{
    size_t cap = 0;

    *seqs = NULL;
    *n = 0;
    for (uint64_t seq = last; seq != 0;) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint64_t *p = nc <= HISTORY_MAX ? realloc(*seqs, nc * sizeof *p) : NULL;
            if (p == NULL)
                return nc <= HISTORY_MAX ? STORE_ENOMEM : STORE_ECORRUPT;
            *seqs = p;
            cap = nc;
        }
        (*seqs)[(*n)++] = seq;
        int rc = st_event_get(st, txn, seq, e, NULL, NULL);
        if (rc != STORE_OK)
            return rc;
        if (e->le.rprev >= seq)
            return STORE_ECORRUPT;
        seq = e->le.rprev;
    }
    return STORE_OK;
}

static int history_in(struct store *st, MDB_txn *txn, const char *controller,
                      const char *rcpt, store_event_cb cb, void *arg, struct st_event *e)
{
    uint8_t key[ST_KEYLEN];
    struct store_cval v;
    uint64_t *seqs = NULL;
    size_t n = 0;
    int rc = st_key_for(st, txn, controller, rcpt, 0, key, NULL, NULL);

    if (rc == STORE_OK)
        rc = st_cval_get(st, txn, key, &v);
    if (rc == STORE_OK)
        rc = chain_seqs(st, txn, v.last, e, &seqs, &n);
    for (size_t i = n; rc == STORE_OK && i-- > 0;) {
        const void *raw;
        size_t len;
        if ((rc = st_event_get(st, txn, seqs[i], e, &raw, &len)) != STORE_OK)
            break;
        if (st_event_check(raw, len, e) != STORE_V_OK) {
            rc = STORE_ECORRUPT;
            break;
        }
        rc = cb(&e->le, arg);
    }
    free(seqs);
    return rc;
}

int store_history(struct store *st, const char *controller, const char *rcpt,
                  store_event_cb cb, void *arg)
{
    struct st_event *e;
    MDB_txn *txn;
    int rc;

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if ((e = malloc(sizeof *e)) == NULL)
        return STORE_ENOMEM;
    if ((rc = st_rd_begin(st, &txn)) == STORE_OK) {
        rc = history_in(st, txn, controller, rcpt, cb, arg, e);
        st_rd_end(st, txn);
    }
    free(e);
    return rc;
}

/* Iterate the ledger from seq `from`; fn sees the raw value too. */
typedef int (*raw_fn)(uint64_t key, const MDB_val *v, struct st_event *e, void *arg);

static int ledger_iter(struct store *st, MDB_txn *txn, uint64_t from, raw_fn fn,
                       void *arg)
{
    struct st_event *e = malloc(sizeof *e);
    MDB_cursor *c = NULL;
    uint8_t kb[8];
    MDB_val k = {8, kb}, v;
    int rc, frc = 0;

    if (e == NULL)
        return STORE_ENOMEM;
    st_put_be64(kb, from);
    rc = mdb_cursor_open(txn, st->ledger, &c);
    if (rc == MDB_SUCCESS)
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint64_t key = k.mv_size == 8 ? st_get_be64(k.mv_data) : 0;
        if ((frc = fn(key, &v, e, arg)) != 0)
            break;
    }
    if (c != NULL)
        mdb_cursor_close(c);
    free(e);
    if (frc != 0)
        return frc;
    return rc == MDB_NOTFOUND ? STORE_OK : st_mdb_rc(rc);
}

struct walk_arg {
    store_event_cb cb;
    void *arg;
};

static int walk_one(uint64_t key, const MDB_val *v, struct st_event *e, void *arg)
{
    struct walk_arg *w = arg;
    if (key == 0 || st_event_decode(v->mv_data, v->mv_size, e) != STORE_OK)
        return STORE_ECORRUPT;
    return w->cb(&e->le, w->arg);
}

/* ledger_iter in its own read transaction. */
static int ledger_iter_rd(struct store *st, uint64_t from, raw_fn fn, void *arg)
{
    MDB_txn *txn;
    int rc;

    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = ledger_iter(st, txn, from, fn, arg);
    st_rd_end(st, txn);
    return rc;
}

int store_ledger_walk(struct store *st, uint64_t from, store_event_cb cb, void *arg)
{
    struct walk_arg w = {cb, arg};

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    return ledger_iter_rd(st, from, walk_one, &w);
}

struct raw_arg {
    store_raw_cb cb;
    void *arg;
};

static int raw_one(uint64_t key, const MDB_val *v, struct st_event *e, void *arg)
{
    struct raw_arg *w = arg;

    (void)e;
    if (key == 0)
        return STORE_ECORRUPT;
    return w->cb(key, v->mv_data, v->mv_size, w->arg);
}

int store_ledger_walk_raw(struct store *st, uint64_t from, store_raw_cb cb, void *arg)
{
    struct raw_arg w = {cb, arg};

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    return ledger_iter_rd(st, from, raw_one, &w);
}

/* The walk's state: the result, and the recorded head to meet (seq 0:
 * none). */
struct verify_arg {
    struct store_verify *r;
    uint64_t anchor_seq;
    const uint8_t *anchor;
};

static int verify_one(uint64_t key, const MDB_val *v, struct st_event *e, void *arg)
{
    struct verify_arg *va = arg;
    struct store_verify *r = va->r;
    uint64_t want = r->head_seq + 1;
    int p = STORE_V_OK;

    if (key != want) {
        r->problem = key == 0 ? STORE_V_UNREADABLE : STORE_V_MISSING;
        r->bad_seq = want;
        return -1;
    }
    if (st_event_decode(v->mv_data, v->mv_size, e) != STORE_OK)
        p = STORE_V_UNREADABLE;
    else if (e->le.seq != key)
        p = STORE_V_MOVED;
    else if ((p = st_event_check(v->mv_data, v->mv_size, e)) != STORE_V_OK)
        ;
    else if (sodium_memcmp(e->le.prev, r->head, 32) != 0)
        p = STORE_V_CHAIN;
    else if (key == va->anchor_seq && sodium_memcmp(e->le.hash, va->anchor, 32) != 0)
        p = STORE_V_ANCHOR_DIFFERS;
    if (p != STORE_V_OK) {
        r->problem = p;
        r->bad_seq = key;
        if (p != STORE_V_UNREADABLE)
            memcpy(r->bad_id, e->le.ev.id, sizeof r->bad_id);
        return -1;
    }
    r->events++;
    r->tombstones += e->le.tombstone != 0;
    r->head_seq = key;
    memcpy(r->head, e->le.hash, 32);
    return 0;
}

int store_verify_anchor(struct store *st, uint64_t seq, const uint8_t hash[32],
                        struct store_verify *res)
{
    struct verify_arg va = {res, seq, hash};
    MDB_txn *txn;
    uint64_t hseq;
    uint8_t hhash[32];
    int rc;

    if (st == NULL || res == NULL || (seq != 0 && hash == NULL))
        return STORE_EINVAL;
    memset(res, 0, sizeof *res);
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = ledger_iter(st, txn, 1, verify_one, &va);
    if (rc == -1) /* stopped at the first problem */
        rc = STORE_OK;
    else if (rc == STORE_OK && (rc = st_head_get(st, txn, &hseq, hhash)) == STORE_OK &&
             (hseq != res->head_seq || sodium_memcmp(hhash, res->head, 32) != 0)) {
        res->problem = STORE_V_TRUNCATED;
        res->bad_seq = hseq;
    }
    if (rc == STORE_OK && res->problem == STORE_V_OK && res->head_seq < seq) {
        res->problem = STORE_V_ANCHOR_MISSING;
        res->bad_seq = seq;
    }
    if (rc == STORE_OK && res->problem == STORE_V_OK)
        rc = st_verify_state(st, txn, res);
    st_rd_end(st, txn);
    return rc;
}

int store_verify(struct store *st, struct store_verify *res)
{
    return store_verify_anchor(st, 0, NULL, res);
}

int store_ledger_head(struct store *st, uint64_t *seq, uint8_t hash[32])
{
    MDB_txn *txn;
    int rc;

    if (st == NULL || seq == NULL || hash == NULL)
        return STORE_EINVAL;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_head_get(st, txn, seq, hash);
    st_rd_end(st, txn);
    return rc;
}
