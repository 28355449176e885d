/* store_enum - enumeration of current consent and last-open records, and
 * the size figures of store_info_get.
 *
 * The consent key holds no address (a keyed hash), so each record's
 * address is read from its latest ledger event; controller names come
 * from the small `ctl` database. One read transaction per walk. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

struct ctl_names {
    uint32_t ids[256];
    char names[256][ST_CTL_MAX];
    unsigned n;
};

static const char *ctl_lookup(MDB_txn *txn, struct store *st, struct ctl_names *cn,
                              uint32_t id)
{
    for (unsigned i = 0; i < cn->n; i++)
        if (cn->ids[i] == id)
            return cn->names[i];
    unsigned slot = cn->n < 256 ? cn->n++ : 255;
    if (st_ctl_name(txn, st, id, cn->names[slot]) != STORE_OK)
        return NULL;
    cn->ids[slot] = id;
    return cn->names[slot];
}

/* Position a cursor on the first key with the controller's 4-byte prefix
 * (or the first key at all). */
static int prefix_start(struct store *st, MDB_txn *txn, const char *controller,
                        uint8_t pfx[4], int *has_pfx)
{
    char cn[ST_CTL_MAX];
    uint32_t id;
    int rc;

    *has_pfx = controller != NULL;
    memset(pfx, 0, 4);
    if (controller == NULL)
        return STORE_OK;
    if (store_controller_normalise(controller, cn, sizeof cn) != STORE_OK)
        return STORE_EINVAL;
    if ((rc = st_ctl_id(st, txn, cn, 0, &id)) != STORE_OK)
        return rc;
    st_put_be32(pfx, id);
    return STORE_OK;
}

struct cwalk {
    struct store *st;
    MDB_txn *txn;
    int noaddr;
    struct ctl_names names;
    struct st_event ev;
};

static int consent_one(struct cwalk *w, const MDB_val *k, const MDB_val *v,
                       store_consent_cb cb, void *arg)
{
    struct store_cval cv;
    struct store_consent c;
    const char *ctl;
    int rc;

    if (k->mv_size != ST_KEYLEN || v->mv_size != ST_CVAL_LEN)
        return STORE_ECORRUPT;
    st_cval_decode(v->mv_data, &cv);
    if ((ctl = ctl_lookup(w->txn, w->st, &w->names, st_get_be32(k->mv_data))) == NULL)
        return STORE_ECORRUPT;
    st_cval_to_consent(&cv, &c);
    if (w->noaddr)
        return cb(ctl, NULL, &c, arg);
    if ((rc = st_event_get(w->st, w->txn, cv.last, &w->ev, NULL, NULL)) != STORE_OK)
        return rc;
    if (!w->ev.has_personal || w->ev.le.ev.recipient == NULL)
        return STORE_ECORRUPT;
    return cb(ctl, w->ev.le.ev.recipient, &c, arg);
}

static int consent_iter(struct cwalk *w, const char *controller, store_consent_cb cb,
                        void *arg)
{
    MDB_cursor *c;
    uint8_t pfx[4];
    MDB_val k = {4, pfx}, v;
    int has, rc = prefix_start(w->st, w->txn, controller, pfx, &has), frc = 0;

    if (rc != STORE_OK)
        return rc;
    if ((rc = mdb_cursor_open(w->txn, w->st->consent, &c)) != MDB_SUCCESS)
        return st_mdb_rc(rc);
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (has && (k.mv_size < 4 || memcmp(k.mv_data, pfx, 4) != 0))
            break;
        if ((frc = consent_one(w, &k, &v, cb, arg)) != 0)
            break;
    }
    mdb_cursor_close(c);
    if (frc != 0)
        return frc;
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? STORE_OK : st_mdb_rc(rc);
}

int store_consent_walk(struct store *st, const char *controller, store_consent_cb cb,
                       void *arg)
{
    return store_consent_scan(st, controller, 0, cb, arg);
}

int store_consent_scan(struct store *st, const char *controller, unsigned flags,
                       store_consent_cb cb, void *arg)
{
    struct cwalk *w;
    int rc;

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if ((w = calloc(1, sizeof *w)) == NULL)
        return STORE_ENOMEM;
    w->st = st;
    w->noaddr = (flags & STORE_SCAN_NOADDR) != 0;
    if ((rc = st_rd_begin(st, &w->txn)) == STORE_OK) {
        rc = consent_iter(w, controller, cb, arg);
        st_rd_end(st, w->txn);
    }
    free(w);
    return rc;
}

static int lastopen_iter(struct store *st, MDB_txn *txn, const char *controller,
                         store_lastopen_cb cb, void *arg)
{
    MDB_cursor *c;
    uint8_t pfx[4];
    char rcpt[STORE_ADDR_MAX];
    MDB_val k = {4, pfx}, v;
    int has, rc = prefix_start(st, txn, controller, pfx, &has), frc = 0;

    if (rc != STORE_OK)
        return rc;
    if ((rc = mdb_cursor_open(txn, st->lastopen, &c)) != MDB_SUCCESS)
        return st_mdb_rc(rc);
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (has && (k.mv_size < 4 || memcmp(k.mv_data, pfx, 4) != 0))
            break;
        if (v.mv_size <= 4 || v.mv_size - 4 >= sizeof rcpt) {
            frc = STORE_ECORRUPT;
            break;
        }
        memcpy(rcpt, (const char *)v.mv_data + 4, v.mv_size - 4);
        rcpt[v.mv_size - 4] = '\0';
        if ((frc = cb(rcpt, st_get_be32(v.mv_data), arg)) != 0)
            break;
    }
    mdb_cursor_close(c);
    if (frc != 0)
        return frc;
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? STORE_OK : st_mdb_rc(rc);
}

int store_lastopen_walk(struct store *st, const char *controller, store_lastopen_cb cb,
                        void *arg)
{
    MDB_txn *txn;
    int rc;

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = lastopen_iter(st, txn, controller, cb, arg);
    st_rd_end(st, txn);
    return rc;
}

static uint64_t db_bytes(const MDB_stat *s)
{
    return (uint64_t)s->ms_psize *
           (s->ms_branch_pages + s->ms_leaf_pages + s->ms_overflow_pages);
}

int store_info_get(struct store *st, struct store_info *out)
{
    MDB_txn *txn;
    MDB_stat sc, sl, so;
    MDB_envinfo ei;
    MDB_stat se;
    int rc;

    if (st == NULL || out == NULL)
        return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = mdb_stat(txn, st->consent, &sc);
    if (rc == MDB_SUCCESS)
        rc = mdb_stat(txn, st->ledger, &sl);
    if (rc == MDB_SUCCESS)
        rc = mdb_stat(txn, st->lastopen, &so);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_info(st->env, &ei);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_stat(st->env, &se);
    st_rd_end(st, txn);
    if (rc != MDB_SUCCESS)
        return st_mdb_rc(rc);
    out->consents = sc.ms_entries;
    out->consent_bytes = db_bytes(&sc);
    out->events = sl.ms_entries;
    out->ledger_bytes = db_bytes(&sl);
    out->lastopen = so.ms_entries;
    out->file_bytes = (uint64_t)(ei.me_last_pgno + 1) * se.ms_psize;
    out->readers_max = ei.me_maxreaders;
    return store_schema(st, &out->schema);
}
