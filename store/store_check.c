/* store_check - the second half of store_verify: every current consent
 * must be what its recipient's ledger events produce.
 *
 * The hash chain protects the ledger; this check extends the protection to
 * the consent database, which the milter reads: for each record, follow
 * the recipient's events (rprev links) back to the first, check that each
 * belongs to this controller and recipient, replay them with the rules of
 * store_record (st_apply), and compare the result with the stored value.
 * One read transaction; about one ledger read per event. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"

#define CHAIN_MAX 1000000

struct mini {
    int action;
    int64_t time;
    uint32_t purposes, states;
};

struct check {
    struct store *st;
    MDB_txn *txn;
    struct st_event ev;
    struct mini *m;
    size_t cap;
    char ctl[ST_CTL_MAX];
    uint32_t ctl_id;
};

/* Does event e belong to the record with this key? */
static int owns(struct check *c, const uint8_t *key)
{
    uint8_t k[ST_KEYLEN];
    uint32_t id = st_get_be32(key);

    if (c->ev.le.ev.controller == NULL)
        return 0;
    if (id != c->ctl_id || strcmp(c->ctl, c->ev.le.ev.controller) != 0) {
        if (st_ctl_name(c->txn, c->st, id, c->ctl) != STORE_OK)
            return 0;
        c->ctl_id = id;
        if (strcmp(c->ctl, c->ev.le.ev.controller) != 0)
            return 0;
    }
    if (!c->ev.has_personal) /* erased events are never reachable from a record */
        return 0;
    st_key(c->st, id, c->ev.le.ev.recipient, k);
    return sodium_memcmp(k, key, ST_KEYLEN) == 0;
}

/* Collect the chain newest first; 0, 1 (does not match) or a STORE_E*. */
static int collect(struct check *c, const uint8_t *key, uint64_t seq, size_t *n)
{
    *n = 0;
    while (seq != 0) {
        if (*n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 64;
            struct mini *p = nc <= CHAIN_MAX ? realloc(c->m, nc * sizeof *p) : NULL;
            if (p == NULL)
                return nc <= CHAIN_MAX ? STORE_ENOMEM : 1;
            c->m = p;
            c->cap = nc;
        }
        int rc = st_event_get(c->st, c->txn, seq, &c->ev, NULL, NULL);
        if (rc == STORE_ECORRUPT)
            return 1;
        if (rc != STORE_OK)
            return rc;
        if (!owns(c, key) || c->ev.le.rprev >= seq)
            return 1;
        c->m[(*n)++] = (struct mini){c->ev.le.ev.action, c->ev.le.ev.time,
                                     c->ev.le.ev.purposes, c->ev.le.ev.states};
        seq = c->ev.le.rprev;
    }
    return 0;
}

/* 0 when the record matches its replay, 1 when not, or a STORE_E*. */
static int check_one(struct check *c, const MDB_val *k, const MDB_val *v)
{
    struct store_cval stored, replay = {0};
    size_t n;
    int rc;

    if (k->mv_size != ST_KEYLEN || v->mv_size != ST_CVAL_LEN)
        return 1;
    st_cval_decode(v->mv_data, &stored);
    if ((rc = collect(c, k->mv_data, stored.last, &n)) != 0)
        return rc;
    for (size_t i = n; i-- > 0;) {
        struct store_event ev = {.action = c->m[i].action,
                                 .time = c->m[i].time,
                                 .purposes = c->m[i].purposes,
                                 .states = c->m[i].states};
        store_state_apply(&replay, &ev, i + 1 < n);
    }
    if (n == 0 || replay.states != stored.states || replay.updated != stored.updated ||
        replay.informed != stored.informed)
        return 1;
    return 0;
}

int st_verify_state(struct store *st, MDB_txn *txn, struct store_verify *r)
{
    struct check *c = calloc(1, sizeof *c);
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc, bad = 0;

    if (c == NULL)
        return STORE_ENOMEM;
    c->st = st;
    c->txn = txn;
    c->ctl_id = UINT32_MAX;
    rc = mdb_cursor_open(txn, st->consent, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && !bad;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if ((bad = check_one(c, &k, &v)) == 1) {
            struct store_cval cv = {0};
            if (v.mv_size == ST_CVAL_LEN)
                st_cval_decode(v.mv_data, &cv);
            r->problem = STORE_V_STATE;
            r->bad_seq = cv.last;
            r->bad_id[0] = '\0';
            if (st_event_get(st, txn, cv.last, &c->ev, NULL, NULL) == STORE_OK)
                memcpy(r->bad_id, c->ev.le.ev.id, sizeof r->bad_id);
        }
    }
    if (cur != NULL)
        mdb_cursor_close(cur);
    free(c->m);
    free(c);
    if (bad > 1)
        return bad;
    return rc == MDB_NOTFOUND || rc == MDB_SUCCESS ? STORE_OK : st_mdb_rc(rc);
}
