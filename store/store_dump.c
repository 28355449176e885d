/* store_dump - the raw contents of an environment for `consentctl
 * migrate` (see store_dump.h): the dedup key, the consent values as
 * stored, every last-open day and anonymous counter, and the dedup digest
 * of a ledger value. Walks in key order, one read transaction each. */
#include <stdlib.h>
#include <string.h>

#include "store/store_dump.h"
#include "store/store_int.h"

#define NAMES 256

/* Controller id -> name, cached (the ctl database is small). */
struct names {
    uint32_t ids[NAMES];
    char name[NAMES][ST_CTL_MAX];
    unsigned n, next;
};

static const char *name_of(struct store *st, MDB_txn *txn, struct names *nm, uint32_t id)
{
    for (unsigned i = 0; i < nm->n; i++)
        if (nm->ids[i] == id)
            return nm->name[i];
    unsigned slot = nm->n < NAMES ? nm->n++ : nm->next++ % NAMES;
    nm->ids[slot] = UINT32_MAX;
    if (st_ctl_name(txn, st, id, nm->name[slot]) != STORE_OK)
        return NULL;
    nm->ids[slot] = id;
    return nm->name[slot];
}

int store_hashkey_get(struct store *st, uint8_t out[32])
{
    if (st == NULL || out == NULL)
        return STORE_EINVAL;
    memcpy(out, st->hashkey, 32);
    return STORE_OK;
}

/* One walk: a cursor over db, fn(k, v) per entry. */
struct walk {
    struct store *st;
    MDB_txn *txn;
    struct names names;
    struct st_event ev;
    void *cb, *arg;
};

static int walk_db(struct store *st, MDB_dbi dbi, struct walk *w,
                   int (*fn)(struct walk *w, const MDB_val *k, const MDB_val *v))
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc, frc = 0;

    if ((rc = st_rd_begin(st, &w->txn)) != STORE_OK)
        return rc;
    w->st = st;
    if ((rc = mdb_cursor_open(w->txn, dbi, &c)) != MDB_SUCCESS) {
        st_rd_end(st, w->txn);
        return st_mdb_rc(rc);
    }
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if ((frc = fn(w, &k, &v)) != 0)
            break;
    mdb_cursor_close(c);
    st_rd_end(st, w->txn);
    if (frc != 0)
        return frc;
    return rc == MDB_NOTFOUND ? STORE_OK : st_mdb_rc(rc);
}

static int run(struct store *st, MDB_dbi dbi, void *cb, void *arg,
               int (*fn)(struct walk *w, const MDB_val *k, const MDB_val *v))
{
    struct walk *w;
    int rc;

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if ((w = calloc(1, sizeof *w)) == NULL)
        return STORE_ENOMEM;
    w->cb = cb;
    w->arg = arg;
    rc = walk_db(st, dbi, w, fn);
    free(w);
    return rc;
}

static int cval_one(struct walk *w, const MDB_val *k, const MDB_val *v)
{
    struct store_cval cv;
    const char *ctl;
    int rc;

    if (k->mv_size != ST_KEYLEN || v->mv_size != ST_CVAL_LEN)
        return STORE_ECORRUPT;
    st_cval_decode(v->mv_data, &cv);
    if ((ctl = name_of(w->st, w->txn, &w->names, st_get_be32(k->mv_data))) == NULL)
        return STORE_ECORRUPT;
    if ((rc = st_event_get(w->st, w->txn, cv.last, &w->ev, NULL, NULL)) != STORE_OK)
        return rc;
    if (!w->ev.has_personal || w->ev.le.ev.recipient == NULL)
        return STORE_ECORRUPT;
    return ((store_cval_cb)w->cb)(ctl, w->ev.le.ev.recipient, &cv, w->arg);
}

int store_cval_walk(struct store *st, store_cval_cb cb, void *arg)
{
    return run(st, st != NULL ? st->consent : 0, (void *)cb, arg, cval_one);
}

static int lastopen_one(struct walk *w, const MDB_val *k, const MDB_val *v)
{
    char rcpt[STORE_ADDR_MAX];
    const char *ctl;

    if (k->mv_size != ST_KEYLEN || v->mv_size <= 4 || v->mv_size - 4 >= sizeof rcpt)
        return STORE_ECORRUPT;
    if ((ctl = name_of(w->st, w->txn, &w->names, st_get_be32(k->mv_data))) == NULL)
        return STORE_ECORRUPT;
    memcpy(rcpt, (const char *)v->mv_data + 4, v->mv_size - 4);
    rcpt[v->mv_size - 4] = '\0';
    return ((store_lastopen_all_cb)w->cb)(ctl, rcpt, st_get_be32(v->mv_data), w->arg);
}

int store_lastopen_dump(struct store *st, store_lastopen_all_cb cb, void *arg)
{
    return run(st, st != NULL ? st->lastopen : 0, (void *)cb, arg, lastopen_one);
}

/* Counter key: ctl id (4), day (4), campaign; value: count (8). */
static int anon_one(struct walk *w, const MDB_val *k, const MDB_val *v)
{
    char camp[256];
    const char *ctl;
    size_t n = k->mv_size - 8;

    if (k->mv_size <= 8 || n >= sizeof camp || v->mv_size != 8)
        return STORE_ECORRUPT;
    if ((ctl = name_of(w->st, w->txn, &w->names, st_get_be32(k->mv_data))) == NULL)
        return STORE_ECORRUPT;
    memcpy(camp, (const char *)k->mv_data + 8, n);
    camp[n] = '\0';
    return ((store_anon_cb)w->cb)(ctl, camp, st_get_be32((const uint8_t *)k->mv_data + 4),
                                  st_get_be64(v->mv_data), w->arg);
}

int store_anon_dump(struct store *st, store_anon_cb cb, void *arg)
{
    return run(st, st != NULL ? st->anon : 0, (void *)cb, arg, anon_one);
}

int store_wire_dedup(const void *raw, size_t len, uint8_t out[16])
{
    struct st_event *e;
    int rc;

    if (raw == NULL || out == NULL)
        return STORE_EINVAL;
    if ((e = malloc(sizeof *e)) == NULL)
        return STORE_ENOMEM;
    rc = st_event_decode(raw, len, e);
    if (rc == STORE_OK && !e->has_personal)
        rc = STORE_NOTFOUND;
    if (rc == STORE_OK)
        memcpy(out, e->dedup, 16);
    free(e);
    return rc;
}
