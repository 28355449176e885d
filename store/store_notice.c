/* store_notice - notice versions, content-addressed (issue 12).
 *
 * A notice version is the exact text a person was shown before choosing:
 * for the gate, the page templates (never a rendered page); for consentctl
 * and the API, the file or text the caller gives. The "notices" database
 * maps its SHA-256 to
 *   u64 first-seen time (UTC seconds, big-endian), u8 source length,
 *   source name, then the exact bytes.
 * A version is written once (MDB_NOOVERWRITE) and never changed or
 * deleted: ledger events name it by hash, and erasure keeps it, since it
 * is the same for everyone shown it and holds no personal data (store_
 * record refuses a notice text that contains the event's recipient).
 * Reads check the key against the bytes, so a modified text is
 * STORE_ECORRUPT rather than a false proof.
 *
 * Environments made before this database existed get it at the first
 * writable open; a read-only open of such an environment sees no notices
 * (STORE_NOTFOUND) instead of failing. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store/store_int.h"

#define HDR 9 /* first-seen (8) + source length (1) */

static int source_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n > STORE_NOTICE_SOURCE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int st_notice_put(struct store *st, MDB_txn *txn, const void *text, size_t len,
                  const char *source, const uint8_t sha[32], int *added)
{
    size_t sl = source != NULL ? strlen(source) : 0;
    MDB_val k = {32, (void *)sha}, v = {HDR + sl + len, NULL};
    int rc;

    if (added != NULL)
        *added = 0;
    if (!st->has_notices)
        return STORE_EIO;
    rc = mdb_put(txn, st->notices, &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);
    if (rc == MDB_KEYEXIST)
        return STORE_OK; /* same hash, same bytes: first-seen stays */
    if (rc != MDB_SUCCESS)
        return st_mdb_rc(rc);
    uint8_t *p = v.mv_data;
    st_put_be64(p, (uint64_t)time(NULL));
    p[8] = (uint8_t)sl;
    if (sl > 0)
        memcpy(p + HDR, source, sl);
    memcpy(p + HDR + sl, text, len);
    if (added != NULL)
        *added = 1;
    return STORE_OK;
}

int st_notice_check(const void *text, size_t len, const char *source,
                    const uint8_t want[32])
{
    uint8_t got[32];

    if (text == NULL || len == 0 || len > STORE_NOTICE_MAX || !source_ok(source))
        return STORE_EINVAL;
    crypto_hash_sha256(got, text, len);
    return want == NULL || sodium_memcmp(got, want, 32) == 0 ? STORE_OK : STORE_EINVAL;
}

int store_notice_put(struct store *st, const void *text, size_t len, const char *source,
                     uint8_t sha256[32], int *added)
{
    MDB_txn *txn;
    int rc;

    if (added != NULL)
        *added = 0;
    if (st == NULL || sha256 == NULL || st_notice_check(text, len, source, NULL) != 0)
        return STORE_EINVAL;
    crypto_hash_sha256(sha256, text, len);
    /* Usually known already (the gate at every reload): a read is enough. */
    if (store_notice_get(st, sha256, NULL, NULL) == STORE_OK)
        return STORE_OK;
    if ((rc = st_wr_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_notice_put(st, txn, text, len, source, sha256, added);
    if (rc != STORE_OK) {
        st_wr_abort(st, txn);
        return rc;
    }
    return st_wr_commit(st, txn);
}

/* Decode and check one record; source is copied into srcbuf. */
static int decode(const MDB_val *k, const MDB_val *v, struct store_notice *n,
                  char srcbuf[STORE_NOTICE_SOURCE_MAX + 1])
{
    const uint8_t *p = v->mv_data;
    uint8_t got[32];

    if (k->mv_size != 32 || v->mv_size < HDR || v->mv_size < HDR + (size_t)p[8])
        return STORE_ECORRUPT;
    memcpy(n->sha256, k->mv_data, 32);
    n->first_seen = (int64_t)st_get_be64(p);
    memcpy(srcbuf, p + HDR, p[8]);
    srcbuf[p[8]] = '\0';
    n->source = srcbuf;
    n->text = p + HDR + p[8];
    n->len = v->mv_size - HDR - p[8];
    crypto_hash_sha256(got, n->text, n->len);
    return sodium_memcmp(got, n->sha256, 32) == 0 ? STORE_OK : STORE_ECORRUPT;
}

int store_notice_get(struct store *st, const uint8_t sha256[32], store_notice_cb cb,
                     void *arg)
{
    struct store_notice n;
    char src[STORE_NOTICE_SOURCE_MAX + 1];
    MDB_txn *txn;
    MDB_val k = {32, (void *)sha256}, v;
    int rc;

    if (st == NULL || sha256 == NULL)
        return STORE_EINVAL;
    if (!st->has_notices)
        return STORE_NOTFOUND;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    rc = st_mdb_rc(mdb_get(txn, st->notices, &k, &v));
    if (rc == STORE_OK)
        rc = decode(&k, &v, &n, src);
    if (rc == STORE_OK && cb != NULL)
        rc = cb(&n, arg);
    st_rd_end(st, txn);
    return rc;
}

int store_notice_walk(struct store *st, store_notice_cb cb, void *arg)
{
    struct store_notice n;
    char src[STORE_NOTICE_SOURCE_MAX + 1];
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    int rc, mrc;

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if (!st->has_notices)
        return STORE_OK;
    if ((rc = st_rd_begin(st, &txn)) != STORE_OK)
        return rc;
    if ((rc = st_mdb_rc(mdb_cursor_open(txn, st->notices, &c))) != STORE_OK)
        goto out;
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS && rc == 0;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if ((rc = decode(&k, &v, &n, src)) == STORE_OK)
            rc = cb(&n, arg);
    if (rc == STORE_OK && mrc != MDB_NOTFOUND)
        rc = st_mdb_rc(mrc);
    mdb_cursor_close(c);
out:
    st_rd_end(st, txn);
    return rc;
}

void store_notice_id(const char *prefix, const uint8_t sha256[32], char *out,
                     size_t outlen)
{
    char hex[65];

    sodium_bin2hex(hex, sizeof hex, sha256, 32);
    snprintf(out, outlen, "%s-%.12s", prefix, hex);
}
