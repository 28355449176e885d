/* store_consent - current-consent lookups (the milter's hot path), the
 * deliverability last-open day and the anonymous campaign counters.
 *
 * store_consent_get is one pooled read transaction and one mdb_get on a
 * 16-byte key; the value is 20 bytes (see store.h). Last-open and counter
 * writes are single short write transactions (gate requests). */
#include <string.h>

#include "store/store_int.h"

#define CAMPAIGN_MAX 200

void st_cval_decode(const uint8_t *p, struct store_cval *v)
{
    v->states = st_get_be32(p);
    v->updated = st_get_be32(p + 4);
    v->informed = st_get_be32(p + 8);
    v->last = st_get_be64(p + 12);
}

void st_cval_encode(const struct store_cval *v, uint8_t *p)
{
    st_put_be32(p, v->states);
    st_put_be32(p + 4, v->updated);
    st_put_be32(p + 8, v->informed);
    st_put_be64(p + 12, v->last);
}

int st_cval_get(struct store *st, MDB_txn *txn, const uint8_t key[ST_KEYLEN],
                struct store_cval *v)
{
    MDB_val k = {ST_KEYLEN, (void *)key}, d;
    int rc = st_mdb_rc(mdb_get(txn, st->consent, &k, &d));

    memset(v, 0, sizeof *v);
    if (rc != STORE_OK)
        return rc;
    if (d.mv_size != ST_CVAL_LEN)
        return STORE_ECORRUPT;
    st_cval_decode(d.mv_data, v);
    return STORE_OK;
}

void st_cval_to_consent(const struct store_cval *v, struct store_consent *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < STORE_P_MAX; i++)
        c->state[i] = (uint8_t)STORE_STATES_GET(v->states, i);
    c->updated = v->updated;
    c->legacy_informed = v->informed;
}

int store_consent_get(struct store *st, const char *controller, const char *rcpt,
                      struct store_consent *out)
{
    MDB_txn *txn;
    uint8_t key[ST_KEYLEN];
    struct store_cval v;
    int rc;

    if (out == NULL)
        return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    if (st == NULL)
        return STORE_EINVAL;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_key_for(st, txn, controller, rcpt, 0, key, NULL, NULL);
    if (rc == STORE_OK)
        rc = st_cval_get(st, txn, key, &v);
    st_rd_end(st, txn);
    if (rc == STORE_OK)
        st_cval_to_consent(&v, out);
    return rc;
}

static int day_ok(int64_t day)
{
    return day >= 0 && day <= 0xffffffffLL;
}

int store_lastopen_set(struct store *st, const char *controller, const char *rcpt,
                       int64_t day)
{
    MDB_txn *txn;
    uint8_t key[ST_KEYLEN], val[4 + STORE_ADDR_MAX];
    char rn[STORE_ADDR_MAX];
    int rc;

    if (st == NULL || !day_ok(day))
        return STORE_EINVAL;
    if ((rc = st_wr_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_key_for(st, txn, controller, rcpt, 1, key, rn, NULL);
    if (rc == STORE_OK) {
        size_t n = strlen(rn);
        MDB_val k = {ST_KEYLEN, key}, v = {4 + n, val};
        st_put_be32(val, (uint32_t)day);
        memcpy(val + 4, rn, n);
        rc = st_mdb_rc(mdb_put(txn, st->lastopen, &k, &v, 0));
    }
    if (rc != STORE_OK) {
        st_wr_abort(st, txn);
        return rc;
    }
    return st_wr_commit(st, txn);
}

int store_lastopen_get(struct store *st, const char *controller, const char *rcpt,
                       int64_t *day)
{
    MDB_txn *txn;
    uint8_t key[ST_KEYLEN];
    int rc;

    if (st == NULL || day == NULL)
        return STORE_EINVAL;
    *day = 0;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_key_for(st, txn, controller, rcpt, 0, key, NULL, NULL);
    if (rc == STORE_OK) {
        MDB_val k = {ST_KEYLEN, key}, v;
        rc = st_mdb_rc(mdb_get(txn, st->lastopen, &k, &v));
        if (rc == STORE_OK && v.mv_size < 4)
            rc = STORE_ECORRUPT;
        if (rc == STORE_OK)
            *day = st_get_be32(v.mv_data);
    }
    st_rd_end(st, txn);
    return rc;
}

/* Counter key: ctl id, day, campaign bytes (printable ASCII only). */
static int anon_key(struct store *st, MDB_txn *txn, const char *controller,
                    const char *campaign, int64_t day, int create, uint8_t *key,
                    size_t *klen)
{
    char cn[ST_CTL_MAX];
    uint32_t id;
    size_t n;
    int rc;

    if (campaign == NULL || !day_ok(day) ||
        store_controller_normalise(controller, cn, sizeof cn) != STORE_OK)
        return STORE_EINVAL;
    n = strlen(campaign);
    if (n == 0 || n > CAMPAIGN_MAX)
        return STORE_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)campaign[i] <= 0x20 || (unsigned char)campaign[i] >= 0x7f)
            return STORE_EINVAL;
    if ((rc = st_ctl_id(st, txn, cn, create, &id)) != STORE_OK)
        return rc;
    st_put_be32(key, id);
    st_put_be32(key + 4, (uint32_t)day);
    memcpy(key + 8, campaign, n);
    *klen = 8 + n;
    return STORE_OK;
}

int store_anon_incr(struct store *st, const char *controller, const char *campaign,
                    int64_t day)
{
    MDB_txn *txn;
    uint8_t key[8 + CAMPAIGN_MAX], b[8];
    size_t klen;
    int rc;

    if (st == NULL)
        return STORE_EINVAL;
    if ((rc = st_wr_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = anon_key(st, txn, controller, campaign, day, 1, key, &klen);
    if (rc == STORE_OK) {
        MDB_val k = {klen, key}, v;
        uint64_t n = 0;
        rc = st_mdb_rc(mdb_get(txn, st->anon, &k, &v));
        if (rc == STORE_OK && v.mv_size == 8)
            n = st_get_be64(v.mv_data);
        else if (rc == STORE_OK)
            rc = STORE_ECORRUPT;
        if (rc == STORE_OK || rc == STORE_NOTFOUND) {
            st_put_be64(b, n + 1);
            v.mv_size = 8;
            v.mv_data = b;
            rc = st_mdb_rc(mdb_put(txn, st->anon, &k, &v, 0));
        }
    }
    if (rc != STORE_OK) {
        st_wr_abort(st, txn);
        return rc;
    }
    return st_wr_commit(st, txn);
}

int store_anon_get(struct store *st, const char *controller, const char *campaign,
                   int64_t day, uint64_t *count)
{
    MDB_txn *txn;
    uint8_t key[8 + CAMPAIGN_MAX];
    size_t klen;
    int rc;

    if (st == NULL || count == NULL)
        return STORE_EINVAL;
    *count = 0;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = anon_key(st, txn, controller, campaign, day, 0, key, &klen);
    if (rc == STORE_OK) {
        MDB_val k = {klen, key}, v;
        rc = st_mdb_rc(mdb_get(txn, st->anon, &k, &v));
        if (rc == STORE_OK && v.mv_size != 8)
            rc = STORE_ECORRUPT;
        if (rc == STORE_OK)
            *count = st_get_be64(v.mv_data);
    }
    st_rd_end(st, txn);
    return rc;
}
