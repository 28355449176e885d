/* store_outbox - the gate's durable outbox (store_repl.h): withdrawals
 * applied locally that the primary has not confirmed yet.
 *
 * Named database "outbox" in the store's environment: key = the event's
 * UUID text, value = the fields a re-send needs (st_outbox_encode in
 * store_ledger.c). A handful of entries at most, so the overlay walks
 * them all. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int store_outbox_put(struct store *st, const struct store_event *ev)
{
    uint8_t *buf;
    size_t n;
    MDB_txn *txn;
    int rc;

    if (st == NULL || ev == NULL || !st->has_outbox || ev->id[0] == '\0' ||
        memchr(ev->id, '\0', sizeof ev->id) == NULL)
        return STORE_EINVAL;
    /* stored normalised, so that store_outbox_withdrawn compares names */
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    struct store_event e = *ev;
    if (store_controller_normalise(ev->controller, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(ev->recipient, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    e.controller = cn;
    e.recipient = rn;
    if ((buf = malloc(STORE_WIRE_MAX)) == NULL)
        return STORE_ENOMEM;
    if ((rc = st_outbox_encode(&e, buf, STORE_WIRE_MAX, &n)) == STORE_OK &&
        (rc = st_wr_begin(st, &txn)) == STORE_OK) {
        MDB_val k = {strlen(ev->id), (void *)ev->id}, v = {n, buf};
        rc = st_mdb_rc(mdb_put(txn, st->outbox, &k, &v, 0));
        if (rc == STORE_OK)
            rc = st_wr_commit(st, txn);
        else
            st_wr_abort(st, txn);
    }
    free(buf);
    return rc;
}

int store_outbox_del(struct store *st, const char *id)
{
    MDB_txn *txn;
    int rc;

    if (st == NULL || id == NULL || *id == '\0' || !st->has_outbox)
        return STORE_EINVAL;
    if ((rc = st_wr_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_val k = {strlen(id), (void *)id};
    rc = st_mdb_rc(mdb_del(txn, st->outbox, &k, NULL));
    if (rc == STORE_OK)
        return st_wr_commit(st, txn);
    st_wr_abort(st, txn);
    return rc;
}

/* Every entry in key order; the event given to cb borrows scratch space. */
static int walk_in(struct store *st, int (*cb)(const struct store_event *ev, void *arg),
                   void *arg)
{
    struct st_outbox_ev *e = malloc(sizeof *e);
    MDB_cursor *c = NULL;
    MDB_txn *txn;
    MDB_val k, v;
    int rc, frc = 0;

    if (e == NULL)
        return STORE_ENOMEM;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK) {
        free(e);
        return rc;
    }
    rc = mdb_cursor_open(txn, st->outbox, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size >= sizeof e->ev.id ||
            st_outbox_decode(v.mv_data, v.mv_size, e) != STORE_OK) {
            frc = STORE_ECORRUPT;
            break;
        }
        memcpy(e->ev.id, k.mv_data, k.mv_size);
        e->ev.id[k.mv_size] = '\0';
        if ((frc = cb(&e->ev, arg)) != 0)
            break;
    }
    if (c != NULL)
        mdb_cursor_close(c);
    st_rd_end(st, txn);
    free(e);
    if (frc != 0)
        return frc;
    return rc == MDB_NOTFOUND ? STORE_OK : st_mdb_rc(rc);
}

int store_outbox_walk(struct store *st, int (*cb)(const struct store_event *ev, void *arg),
                      void *arg)
{
    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if (!st->has_outbox)
        return STORE_OK; /* an old environment opened read-only: nothing pending */
    return walk_in(st, cb, arg);
}

struct wd_arg {
    const char *cn, *rn;
    uint32_t mask;
};

static int wd_one(const struct store_event *ev, void *arg)
{
    struct wd_arg *a = arg;

    if (ev->action == STORE_A_WITHDRAW && ev->controller != NULL &&
        ev->recipient != NULL && strcmp(ev->controller, a->cn) == 0 &&
        strcmp(ev->recipient, a->rn) == 0)
        a->mask |= ev->purposes == 0 ? (1u << STORE_P_MAX) - 1 : ev->purposes;
    return 0;
}

int store_outbox_withdrawn(struct store *st, const char *ctl, const char *rcpt,
                           uint32_t *mask)
{
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    struct wd_arg a = {cn, rn, 0};
    int rc;

    if (mask != NULL)
        *mask = 0;
    if (st == NULL || mask == NULL ||
        store_controller_normalise(ctl, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(rcpt, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    if ((rc = store_outbox_walk(st, wd_one, &a)) == STORE_OK)
        *mask = a.mask;
    return rc;
}

int st_outbox_purge(struct store *st, MDB_txn *txn, const char *ctl, const char *rn)
{
    struct st_outbox_ev *e;
    char cn[ST_CTL_MAX];
    MDB_cursor *c = NULL;
    MDB_val k, v;
    int rc;

    if (!st->has_outbox)
        return STORE_OK;
    if (store_controller_normalise(ctl, cn, sizeof cn) != STORE_OK)
        return STORE_EINVAL;
    if ((e = malloc(sizeof *e)) == NULL)
        return STORE_ENOMEM;
    rc = mdb_cursor_open(txn, st->outbox, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (st_outbox_decode(v.mv_data, v.mv_size, e) != STORE_OK)
            continue; /* not ours to judge here; the forwarder reports it */
        if (e->ev.controller != NULL && e->ev.recipient != NULL &&
            strcmp(e->ev.controller, cn) == 0 && strcmp(e->ev.recipient, rn) == 0 &&
            (rc = mdb_cursor_del(c, 0)) != MDB_SUCCESS)
            break;
    }
    if (c != NULL)
        mdb_cursor_close(c);
    free(e);
    return rc == MDB_NOTFOUND ? STORE_OK : st_mdb_rc(rc);
}
