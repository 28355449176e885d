/* store_ledger - the hash-chained event ledger: encoding, hashing and
 * appending events.
 *
 * Value of one ledger entry (format 1, integers big-endian):
 *   u8 format, u8 flags (bit 0: tombstone; not hashed)
 *   canonical part, hashed:
 *     u64 seq, u64 rprev, u8 action, u32 time, u32 purposes, u32 states,
 *     id[16], notice_sha256[32], pii[32], prev[32],
 *     str controller, str method, str notice_id, str actor
 *   hash[32] = SHA-256("consent-ledger-v1" NUL || canonical part)
 *   personal part (absent in a tombstone):
 *     salt[16], dedup[16], str recipient, str source_ip, str user_agent
 *   where str = u16 length + bytes, and
 *   pii = BLAKE2b-256(salt || dedup || str recipient || str ip || str ua).
 * seq is inside the hash, so an event moved to another key is detected;
 * prev links each event to the one before it; pii lets a tombstone keep
 * the chain intact without the personal data. dedup is a keyed BLAKE2b of
 * the event's content used to make imports idempotent. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"
#include "store/store_repl.h"

#define ST_DOMAIN "consent-ledger-v1"
#define ST_ENC_MAX STORE_WIRE_MAX
#define ST_PERS_MAX (3 * (2 + ST_STR_MAX) + 32)

_Static_assert(STORE_WIRE_MAX == 200 + 7 * (2 + ST_STR_MAX), "wire size");
_Static_assert(STORE_WIRE_STRS == sizeof(((struct st_event *)0)->strs), "arena size");

struct enc {
    uint8_t *p;
    size_t n, cap;
    int err;
};

static void put(struct enc *e, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (e->err || n > e->cap - e->n) {
        e->err = 1;
        return;
    }
    memcpy(e->p + e->n, p, n);
    e->n += n;
}

static void put_u(struct enc *e, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    put(e, b, (size_t)bytes);
}

static void put_str(struct enc *e, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n > ST_STR_MAX) {
        e->err = 1;
        return;
    }
    put_u(e, n, 2);
    put(e, s, n);
}

static void hash_canon(const uint8_t *canon, size_t n, uint8_t out[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)ST_DOMAIN, sizeof ST_DOMAIN);
    crypto_hash_sha256_update(&h, canon, n);
    crypto_hash_sha256_final(&h, out);
}

/* pii digest over the encoded personal part: salt, dedup and the three
 * length-prefixed strings exactly as stored. BLAKE2b-256 (unkeyed; the
 * salt makes it unguessable): it is a commitment to the personal fields,
 * and the SHA-256 event hash covers it. */
static void hash_personal(const uint8_t *pers, size_t n, uint8_t out[32])
{
    crypto_generichash(out, 32, pers, n, NULL, 0);
}

static void gh_str(crypto_generichash_state *h, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    uint8_t b[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    crypto_generichash_update(h, b, 2);
    crypto_generichash_update(h, (const unsigned char *)(s != NULL ? s : ""), n);
}

void st_dedup(const uint8_t hashkey[32], const struct store_event *ev, const char *ctl,
              const char *rcpt, uint8_t out[16])
{
    crypto_generichash_state h;
    uint8_t b[17];

    crypto_generichash_init(&h, hashkey, 32, 16);
    b[0] = (uint8_t)ev->action;
    st_put_be32(b + 1, ev->purposes);
    st_put_be32(b + 5, ev->action == STORE_A_IMPORT ? ev->states : 0);
    st_put_be64(b + 9, (uint64_t)ev->time);
    crypto_generichash_update(&h, b, sizeof b);
    crypto_generichash_update(&h, ev->notice_sha256, 32);
    gh_str(&h, ctl);
    gh_str(&h, rcpt);
    gh_str(&h, ev->method);
    gh_str(&h, ev->notice_id);
    gh_str(&h, ev->source_ip);
    gh_str(&h, ev->user_agent);
    crypto_generichash_final(&h, out, 16);
}

/* Encode the personal part into pers (for the pii digest). */
static int enc_personal(struct enc *e, const uint8_t salt[16], const uint8_t dedup[16],
                        const char *rcpt, const struct store_event *ev)
{
    put(e, salt, 16);
    put(e, dedup, 16);
    put_str(e, rcpt);
    put_str(e, ev->source_ip);
    put_str(e, ev->user_agent);
    return e->err ? STORE_EINVAL : STORE_OK;
}

static int enc_event(struct enc *e, const struct store_event *ev, uint64_t seq,
                     uint64_t rprev, const uint8_t id[16], const uint8_t pii[32],
                     const uint8_t prev[32], const char *ctl, int tomb)
{
    put_u(e, 1, 1);
    put_u(e, tomb ? 1 : 0, 1);
    put_u(e, seq, 8);
    put_u(e, rprev, 8);
    put_u(e, (uint64_t)ev->action, 1);
    put_u(e, (uint64_t)ev->time, 4);
    put_u(e, ev->purposes, 4);
    put_u(e, ev->states, 4);
    put(e, id, 16);
    put(e, ev->notice_sha256, 32);
    put(e, pii, 32);
    put(e, prev, 32);
    put_str(e, ctl);
    put_str(e, ev->method);
    put_str(e, ev->notice_id);
    put_str(e, ev->actor);
    return e->err ? STORE_EINVAL : STORE_OK;
}

int st_pii(const uint8_t salt[16], const uint8_t dedup[16], const char *rcpt,
           const struct store_event *ev, uint8_t pii[32])
{
    uint8_t pers[ST_PERS_MAX];
    struct enc pe = {pers, 0, sizeof pers, 0};
    int rc = enc_personal(&pe, salt, dedup, rcpt, ev);

    if (rc == STORE_OK)
        hash_personal(pers, pe.n, pii);
    return rc;
}

/* Encode one ledger value at seq after prev; prep NULL makes a
 * tombstone-born event (no personal part). Fills raw, len and hash. */
static int encode(const struct store_event *ev, const uint8_t id[16], const char *ctl,
                  const char *rcpt, uint64_t seq, uint64_t rprev, const uint8_t prev[32],
                  const struct store_prep *prep, struct store_wire *out)
{
    uint8_t pers[ST_PERS_MAX], zero[32] = {0};
    struct enc e = {out->raw, 0, sizeof out->raw, 0}, pe = {pers, 0, sizeof pers, 0};
    int tomb = prep == NULL, rc;

    if (!tomb && (rc = enc_personal(&pe, prep->salt, prep->dedup, rcpt, ev)) != STORE_OK)
        return rc;
    rc = enc_event(&e, ev, seq, rprev, id, tomb ? zero : prep->pii, prev, ctl, tomb);
    if (rc != STORE_OK)
        return rc;
    hash_canon(out->raw + 2, e.n - 2, out->hash);
    put(&e, out->hash, 32);
    if (!tomb)
        put(&e, pers, pe.n);
    if (e.err)
        return STORE_EINVAL;
    out->len = e.n;
    return STORE_OK;
}

int store_event_encode(const uint8_t hashkey[32], const struct store_event *ev,
                       const char *ctl_norm, const char *rcpt_norm, uint64_t seq,
                       uint64_t rprev, const uint8_t prev[32], const uint8_t rnd[32],
                       struct store_wire *out)
{
    struct store_prep p;
    int rc;

    if (hashkey == NULL || ev == NULL || ctl_norm == NULL || prev == NULL || rnd == NULL ||
        out == NULL)
        return STORE_EINVAL;
    memset(&p, 0, sizeof p);
    if (ev->id[0] == '\0') {
        st_uuid_make(rnd, p.id);
    } else if (memchr(ev->id, '\0', sizeof ev->id) == NULL ||
               store_uuid_parse(ev->id, p.id) != 0) {
        return STORE_EINVAL;
    }
    store_uuid_format(p.id, out->id);
    memset(out->dedup, 0, sizeof out->dedup);
    if (rcpt_norm != NULL) {
        st_dedup(hashkey, ev, ctl_norm, rcpt_norm, p.dedup);
        memcpy(p.salt, rnd + 16, sizeof p.salt);
        if ((rc = st_pii(p.salt, p.dedup, rcpt_norm, ev, p.pii)) != STORE_OK)
            return rc;
        memcpy(out->dedup, p.dedup, sizeof out->dedup);
    }
    rc = encode(ev, p.id, ctl_norm, rcpt_norm, seq, rprev, prev,
                rcpt_norm != NULL ? &p : NULL, out);
    sodium_memzero(&p, sizeof p);
    return rc;
}

int store_event_dedup(const uint8_t hashkey[32], const struct store_event *ev,
                      const char *ctl_norm, const char *rcpt_norm, uint8_t out[16])
{
    if (hashkey == NULL || ev == NULL || ctl_norm == NULL || rcpt_norm == NULL || out == NULL)
        return STORE_EINVAL;
    st_dedup(hashkey, ev, ctl_norm, rcpt_norm, out);
    return STORE_OK;
}

/* Put one encoded value at the batch's next seq and advance its head. */
int st_append_raw(struct store_batch *b, uint64_t seq, const void *raw, size_t len,
                  const uint8_t hash[32])
{
    uint8_t kb[8];
    int rc;

    if (seq != b->head_seq + 1)
        return STORE_ECORRUPT;
    st_put_be64(kb, seq);
    MDB_val k = {8, kb}, v = {len, (void *)raw};
    rc = mdb_put(b->txn, b->st->ledger, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) /* the head in meta is behind the ledger */
        return STORE_ECORRUPT;
    if (rc != MDB_SUCCESS)
        return st_mdb_rc(rc);
    b->head_seq = seq;
    memcpy(b->head_hash, hash, 32);
    return STORE_OK;
}

int st_append(struct store_batch *b, struct store_event *ev, const uint8_t id[16],
              const char *ctl, const char *rcpt, uint64_t rprev,
              const struct store_prep *prep)
{
    struct store_wire *w = malloc(sizeof *w);
    uint64_t seq = b->head_seq + 1;
    int rc;

    if (w == NULL)
        return STORE_ENOMEM;
    rc = encode(ev, id, ctl, rcpt, seq, rprev, b->head_hash, prep, w);
    if (rc == STORE_OK)
        rc = st_append_raw(b, seq, w->raw, w->len, w->hash);
    if (rc == STORE_OK)
        ev->seq = seq;
    free(w);
    return rc;
}

struct dec {
    const uint8_t *p;
    size_t n, off;
    int err;
    char *out; /* string arena */
    size_t outoff, outcap;
};

static const uint8_t *get(struct dec *d, size_t n)
{
    if (d->err || n > d->n - d->off) {
        d->err = 1;
        return NULL;
    }
    d->off += n;
    return d->p + d->off - n;
}

static uint64_t get_u(struct dec *d, int bytes)
{
    const uint8_t *p = get(d, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; p != NULL && i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

static void get_fixed(struct dec *d, void *out, size_t n)
{
    const uint8_t *p = get(d, n);
    if (p != NULL)
        memcpy(out, p, n);
}

/* A string, copied NUL-terminated into the arena; empty -> NULL when
 * null_empty. Embedded NULs or control bytes make the event unreadable. */
static const char *get_str(struct dec *d, int null_empty)
{
    size_t n = (size_t)get_u(d, 2);
    const uint8_t *p = get(d, n);
    if (p == NULL || n + 1 > d->outcap - d->outoff) {
        d->err = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f) {
            d->err = 1;
            return NULL;
        }
    char *s = d->out + d->outoff;
    memcpy(s, p, n);
    s[n] = '\0';
    d->outoff += n + 1;
    return n == 0 && null_empty ? NULL : s;
}

static void dec_canon(struct dec *d, struct st_event *e)
{
    struct store_ledger_event *le = &e->le;
    uint8_t id[16] = {0};

    le->seq = get_u(d, 8);
    le->rprev = get_u(d, 8);
    le->ev.action = (int)get_u(d, 1);
    le->ev.time = (int64_t)get_u(d, 4);
    le->ev.purposes = (uint32_t)get_u(d, 4);
    le->ev.states = (uint32_t)get_u(d, 4);
    get_fixed(d, id, 16);
    store_uuid_format(id, le->ev.id);
    get_fixed(d, le->ev.notice_sha256, 32);
    get_fixed(d, le->pii, 32);
    get_fixed(d, le->prev, 32);
    le->ev.controller = get_str(d, 0);
    le->ev.method = get_str(d, 0);
    le->ev.notice_id = get_str(d, 1);
    le->ev.actor = get_str(d, 1);
    le->ev.seq = le->seq;
}

/* Decode into e, strings into the arena strs (cap bytes). */
static int decode_in(const void *data, size_t len, struct st_event *e, char *strs,
                     size_t cap)
{
    struct dec d = {data, len, 0, 0, strs, 0, cap};

    memset(&e->le, 0, sizeof e->le);
    e->has_personal = 0;
    if (get_u(&d, 1) != 1)
        return STORE_ECORRUPT;
    e->le.tombstone = (get_u(&d, 1) & 1) != 0;
    dec_canon(&d, e);
    e->canon_end = d.off;
    get_fixed(&d, e->le.hash, 32);
    if (!d.err && !e->le.tombstone) {
        get_fixed(&d, e->salt, 16);
        get_fixed(&d, e->dedup, 16);
        e->le.ev.recipient = get_str(&d, 0);
        e->le.ev.source_ip = get_str(&d, 1);
        e->le.ev.user_agent = get_str(&d, 1);
        e->has_personal = 1;
    }
    if (d.err || d.off != len || e->le.ev.action > STORE_A_ERASE)
        return STORE_ECORRUPT;
    return STORE_OK;
}

int st_event_decode(const void *data, size_t len, struct st_event *e)
{
    return decode_in(data, len, e, e->strs, sizeof e->strs);
}

int st_event_check(const void *data, size_t len, const struct st_event *e)
{
    const uint8_t *p = data;
    uint8_t h[32];
    size_t pers_off = e->canon_end + 32;

    hash_canon(p + 2, e->canon_end - 2, h);
    if (sodium_memcmp(h, e->le.hash, 32) != 0)
        return STORE_V_MODIFIED;
    if (!e->has_personal)
        return STORE_V_OK;
    /* the personal part runs from pers_off to the end of the value */
    hash_personal(p + pers_off, len - pers_off, h);
    if (sodium_memcmp(h, e->le.pii, 32) != 0)
        return STORE_V_PERSONAL;
    return STORE_V_OK;
}

int st_event_get(struct store *st, MDB_txn *txn, uint64_t seq, struct st_event *e,
                 const void **raw, size_t *rawlen)
{
    uint8_t kb[8];
    MDB_val k = {8, kb}, v;
    int rc;

    st_put_be64(kb, seq);
    if ((rc = st_mdb_rc(mdb_get(txn, st->ledger, &k, &v))) != STORE_OK)
        return rc == STORE_NOTFOUND ? STORE_ECORRUPT : rc;
    if ((rc = st_event_decode(v.mv_data, v.mv_size, e)) != STORE_OK)
        return rc;
    if (e->le.seq != seq)
        return STORE_ECORRUPT;
    if (raw != NULL)
        *raw = v.mv_data;
    if (rawlen != NULL)
        *rawlen = v.mv_size;
    return STORE_OK;
}

/* Keep format, canonical part and hash; set the flag; drop the rest. */
static size_t tomb_of(const void *raw, const struct st_event *e, uint8_t *out)
{
    size_t n = e->canon_end + 32;

    memmove(out, raw, n);
    out[1] |= 1;
    return n;
}

int store_wire_tombstone(const void *raw, size_t len, uint8_t *out, size_t *outlen)
{
    struct st_event *e;
    int rc;

    if (raw == NULL || out == NULL || outlen == NULL)
        return STORE_EINVAL;
    if ((e = malloc(sizeof *e)) == NULL)
        return STORE_ENOMEM;
    rc = st_event_decode(raw, len, e);
    if (rc == STORE_OK)
        *outlen = tomb_of(raw, e, out);
    free(e);
    return rc;
}

int store_wire_decode(const void *raw, size_t len, struct store_ledger_event *out,
                      char *strs, size_t strslen)
{
    struct st_event *e;
    int rc;

    if (raw == NULL || out == NULL || strs == NULL)
        return STORE_EINVAL;
    if ((e = malloc(sizeof *e)) == NULL)
        return STORE_ENOMEM;
    rc = decode_in(raw, len, e, strs, strslen);
    if (rc == STORE_OK && st_event_check(raw, len, e) != STORE_V_OK)
        rc = STORE_ECORRUPT;
    if (rc == STORE_OK)
        *out = e->le;
    free(e);
    return rc;
}

int st_event_tombstone(struct store *st, MDB_txn *txn, uint64_t seq)
{
    struct st_event *e = malloc(sizeof *e);
    uint8_t buf[ST_ENC_MAX], kb[8];
    const void *raw;
    size_t rawlen;
    int rc;

    if (e == NULL)
        return STORE_ENOMEM;
    rc = st_event_get(st, txn, seq, e, &raw, &rawlen);
    if (rc == STORE_OK && e->has_personal) {
        size_t n = tomb_of(raw, e, buf);
        st_put_be64(kb, seq);
        MDB_val k = {8, kb}, v = {n, buf};
        rc = st_mdb_rc(mdb_put(txn, st->ledger, &k, &v, 0));
    }
    free(e);
    return rc;
}

/* Outbox value: u8 version 1, u8 action, u32 time, u32 purposes, u32
 * states, notice_sha256[32], str controller, recipient, method, notice_id,
 * actor, source_ip, user_agent. */
int st_outbox_encode(const struct store_event *ev, uint8_t *buf, size_t cap, size_t *n)
{
    struct enc e = {buf, 0, cap, 0};

    put_u(&e, 1, 1);
    put_u(&e, (uint64_t)ev->action, 1);
    put_u(&e, (uint64_t)ev->time, 4);
    put_u(&e, ev->purposes, 4);
    put_u(&e, ev->states, 4);
    put(&e, ev->notice_sha256, 32);
    put_str(&e, ev->controller);
    put_str(&e, ev->recipient);
    put_str(&e, ev->method);
    put_str(&e, ev->notice_id);
    put_str(&e, ev->actor);
    put_str(&e, ev->source_ip);
    put_str(&e, ev->user_agent);
    *n = e.n;
    return e.err ? STORE_EINVAL : STORE_OK;
}

int st_outbox_decode(const void *data, size_t len, struct st_outbox_ev *o)
{
    struct dec d = {data, len, 0, 0, o->strs, 0, sizeof o->strs};
    struct store_event *ev = &o->ev;

    memset(ev, 0, sizeof *ev);
    if (get_u(&d, 1) != 1)
        return STORE_ECORRUPT;
    ev->action = (int)get_u(&d, 1);
    ev->time = (int64_t)get_u(&d, 4);
    ev->purposes = (uint32_t)get_u(&d, 4);
    ev->states = (uint32_t)get_u(&d, 4);
    get_fixed(&d, ev->notice_sha256, 32);
    ev->controller = get_str(&d, 0);
    ev->recipient = get_str(&d, 0);
    ev->method = get_str(&d, 0);
    ev->notice_id = get_str(&d, 1);
    ev->actor = get_str(&d, 1);
    ev->source_ip = get_str(&d, 1);
    ev->user_agent = get_str(&d, 1);
    return d.err || d.off != len ? STORE_ECORRUPT : STORE_OK;
}
