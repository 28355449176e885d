/* tok - gate tokens (SPEC §6.1); see tok.h for the contract.
 *
 * Wire format (before base64url, no padding):
 *     key id (4 bytes, big endian, in clear)
 *     nonce  (24 bytes, random; for TOK_ANON derived, see seal_bin)
 *     XChaCha20-Poly1305-IETF ciphertext of the claims + 16-byte tag
 * Associated data: "cmtok1" | kind byte | key id, so a token opens only for
 * the endpoint (kind) and the key it was made for.
 * Claims, format 2 (made since tokens name their domain):
 *     version byte 2, issue time (8 bytes, big endian, signed),
 *     domain id (TOK_DOMAIN_ID = 8 bytes, tok_domain_id of the section name),
 *     controller, recipient, url, dest, each a 2-byte big-endian length
 *     followed by the bytes; length 0xFFFF means absent (NULL).
 * Format 1 (tokens in mail sent before): version byte 1, issue time, the
 * four fields; no domain id. Still opened (has_domain = 0), never made.
 * The version is inside the authenticated plaintext, so a format-2 token
 * cannot be passed off as format 1. Decoding is strict: every byte must be
 * consumed, no field may contain NUL or pass TOK_FIELD_MAX.
 *
 * Each keys-file key is a master key; the AEAD key and the MAC key are
 * derived from it with crypto_kdf so one secret never serves two algorithms.
 * Text longer than TOK_TEXT_MAX is refused before any decoding. Failures
 * never leave decrypted bytes behind (buffers are wiped). */
#include "common/tok.h"

#include "common/b64.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_BYTES 32
#define ID_BYTES 4
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CLAIMS_FIXED (1 + 8) /* format 1; format 2 adds the domain id */
#define FORMAT_LEGACY 1
#define FORMAT_DOMAIN 2
#define NFIELDS 4
#define ABSENT 0xFFFFu
#define BIN_MAX (TOK_TEXT_MAX / 4 * 3 + 3)
#define CLAIMS_MAX (BIN_MAX - ID_BYTES - NONCE_BYTES - TAG_BYTES)
#define KEYS_FILE_MAX (1024 * 1024)

struct tok_key {
    uint32_t id;
    unsigned char aead[KEY_BYTES];
    unsigned char mac[crypto_auth_KEYBYTES];
    unsigned char siv[crypto_generichash_KEYBYTES]; /* TOK_ANON nonces */
};

struct tok_keys {
    struct tok_key *v; /* sorted by id, ascending: the last one seals */
    size_t n;
};

const char *tok_strerror(int rc)
{
    switch (rc) {
    case TOK_OK:
        return "ok";
    case TOK_EINVAL:
        return "malformed token";
    case TOK_EFORGED:
        return "token authentication failed";
    case TOK_EKIND:
        return "token made for another endpoint";
    case TOK_EKEY:
        return "unknown or retired key id";
    case TOK_ENOMEM:
        return "out of memory";
    case TOK_EKEYS:
        return "bad keys file";
    default:
        return "unknown token error";
    }
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- keys ---------------------------------------------------------- */

static int key_derive(struct tok_key *k, uint32_t id,
                      const unsigned char master[KEY_BYTES])
{
    k->id = id;
    if (crypto_kdf_derive_from_key(k->aead, sizeof k->aead, 1, "cmtokenk", master) != 0)
        return -1;
    if (crypto_kdf_derive_from_key(k->mac, sizeof k->mac, 2, "cmtokmac", master) != 0)
        return -1;
    if (crypto_kdf_derive_from_key(k->siv, sizeof k->siv, 3, "cmtoksiv", master) != 0)
        return -1;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    uint32_t x = ((const struct tok_key *)a)->id, y = ((const struct tok_key *)b)->id;
    return x < y ? -1 : x > y;
}

/* One "ID HEX64" line, already stripped of comments and outer blanks. */
static int parse_key_line(const char *s, uint32_t *id, unsigned char master[KEY_BYTES],
                          const char **why)
{
    char *end;
    unsigned long v;
    size_t hexlen, got = 0;
    const char *hex, *hexend;

    if (*s < '0' || *s > '9')
        return *why = "key id must be a decimal number", -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || v == 0 || v > 0x7FFFFFFFul || (*end != ' ' && *end != '\t'))
        return *why = "key id must be 1..2147483647 followed by a blank", -1;
    hex = end + strspn(end, " \t");
    hexlen = strcspn(hex, " \t");
    if (hexlen != KEY_BYTES * 2 || hex[hexlen] != '\0')
        return *why = "key must be exactly 64 hex digits", -1;
    if (sodium_hex2bin(master, KEY_BYTES, hex, hexlen, NULL, &got, &hexend) != 0 ||
        got != KEY_BYTES || hexend != hex + hexlen)
        return *why = "key must be exactly 64 hex digits", -1;
    *id = (uint32_t)v;
    return 0;
}

static int keys_add(struct tok_keys *k, uint32_t id,
                    const unsigned char master[KEY_BYTES])
{
    struct tok_key *nv;

    for (size_t i = 0; i < k->n; i++)
        if (k->v[i].id == id)
            return -2;
    nv = realloc(k->v, (k->n + 1) * sizeof *nv);
    if (nv == NULL)
        return -1;
    k->v = nv;
    if (key_derive(&k->v[k->n], id, master) != 0)
        return -1;
    k->n++;
    return 0;
}

/* Copy line [p, e) without comment and surrounding blanks into out. */
static void clean_line(const char *p, const char *e, char *out, size_t outlen)
{
    const char *hash = memchr(p, '#', (size_t)(e - p));
    size_t n;

    if (hash)
        e = hash;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    n = (size_t)(e - p) < outlen - 1 ? (size_t)(e - p) : outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int parse_lines(struct tok_keys *k, const char *text, size_t len, char *err,
                       size_t errlen)
{
    const char *p = text, *end = text + len;
    unsigned char master[KEY_BYTES];
    char line[256];
    int lineno = 0, rc = TOK_OK;

    while (p < end && rc == TOK_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *why = NULL;
        const char *e = nl ? nl : end;
        uint32_t id;
        int r;

        lineno++;
        if ((size_t)(e - p) >= sizeof line) {
            snprintf(err, errlen, "line %d: line too long", lineno);
            return TOK_EKEYS;
        }
        clean_line(p, e, line, sizeof line);
        p = nl ? nl + 1 : end;
        if (line[0] == '\0')
            continue;
        if (parse_key_line(line, &id, master, &why) != 0) {
            snprintf(err, errlen, "line %d: %s", lineno, why);
            rc = TOK_EKEYS;
        } else if ((r = keys_add(k, id, master)) != 0) {
            snprintf(err, errlen,
                     r == -2 ? "line %d: duplicate key id" : "line %d: out of memory",
                     lineno);
            rc = r == -2 ? TOK_EKEYS : TOK_ENOMEM;
        }
    }
    sodium_memzero(master, sizeof master);
    sodium_memzero(line, sizeof line);
    return rc;
}

int tok_keys_parse(const char *text, size_t len, struct tok_keys **out, char *err,
                   size_t errlen)
{
    struct tok_keys *k;
    char dummy[8];
    int rc;

    if (err == NULL || errlen == 0)
        err = dummy, errlen = sizeof dummy;
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium initialisation failed");
        return TOK_EKEYS;
    }
    k = calloc(1, sizeof *k);
    if (k == NULL)
        return TOK_ENOMEM;
    rc = parse_lines(k, text, len, err, errlen);
    if (rc == TOK_OK && k->n == 0) {
        snprintf(err, errlen, "no key in keys file");
        rc = TOK_EKEYS;
    }
    if (rc != TOK_OK) {
        tok_keys_free(k);
        return rc;
    }
    qsort(k->v, k->n, sizeof *k->v, cmp_key);
    *out = k;
    return TOK_OK;
}

static int read_keys_file(const char *path, struct buf *text, char *err, size_t errlen)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc = TOK_OK, e;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return TOK_EKEYS;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        rc = TOK_EKEYS;
    } else if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen, "%s: group or world can access it (chmod 600)", path);
        rc = TOK_EKEYS;
    } else if ((e = buf_read_fd(text, fd)) != 0) {
        snprintf(err, errlen, "%s: %s", path, e == EFBIG ? "too large" : strerror(e));
        rc = TOK_EKEYS;
    }
    close(fd);
    return rc;
}

int tok_keys_load(const char *path, struct tok_keys **out, char *err, size_t errlen)
{
    struct buf text = BUF_INIT(KEYS_FILE_MAX);
    char why[200] = "";
    int rc;

    *out = NULL;
    rc = read_keys_file(path, &text, why, sizeof why);
    if (rc == TOK_OK) {
        rc = tok_keys_parse(buf_cstr(&text), text.len, out, why, sizeof why);
        if (rc != TOK_OK && err && errlen)
            snprintf(err, errlen, "%s: %s", path, why);
    } else if (err && errlen) {
        snprintf(err, errlen, "%s", why);
    }
    if (text.data)
        sodium_memzero(text.data, text.cap);
    buf_free(&text);
    return rc;
}

void tok_keys_free(struct tok_keys *k)
{
    if (k == NULL)
        return;
    if (k->v)
        sodium_memzero(k->v, k->n * sizeof *k->v);
    free(k->v);
    free(k);
}

int tok_keys_generate(const struct tok_keys *k, struct buf *line)
{
    unsigned char master[KEY_BYTES];
    char hex[KEY_BYTES * 2 + 1];
    uint32_t id = (k && k->n) ? k->v[k->n - 1].id + 1 : 1;
    int rc;

    if (sodium_init() < 0)
        return TOK_EKEYS;
    if (id > 0x7FFFFFFFu)
        return TOK_EINVAL;
    randombytes_buf(master, sizeof master);
    sodium_bin2hex(hex, sizeof hex, master, sizeof master);
    rc = buf_printf(line, "%u %s\n", (unsigned)id, hex);
    sodium_memzero(master, sizeof master);
    sodium_memzero(hex, sizeof hex);
    return rc == 0 ? TOK_OK : TOK_ENOMEM;
}

uint32_t tok_keys_newest(const struct tok_keys *k)
{
    return (k && k->n) ? k->v[k->n - 1].id : 0;
}

size_t tok_keys_count(const struct tok_keys *k)
{
    return k ? k->n : 0;
}

static const struct tok_key *key_find(const struct tok_keys *k, uint32_t id)
{
    size_t lo = 0, hi = k->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->v[mid].id == id)
            return &k->v[mid];
        if (k->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- claims -------------------------------------------------------- */

static int valid_kind(int kind)
{
    return kind == TOK_OPEN || kind == TOK_CLICK || kind == TOK_DELIV ||
           kind == TOK_WITHDRAW || kind == TOK_PREFS || kind == TOK_ANON;
}

/* Which fields a kind requires: bit 0 controller, 1 recipient, 2 url. */
static unsigned kind_needs(int kind)
{
    switch (kind) {
    case TOK_OPEN:
    case TOK_CLICK:
        return 7;
    case TOK_ANON:
        return 5;
    default:
        return 3;
    }
}

void tok_domain_id(const char *name, unsigned char out[TOK_DOMAIN_ID])
{
    unsigned char full[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;
    char low[64];
    size_t n = 0;

    crypto_generichash_init(&st, NULL, 0, sizeof full);
    for (const char *p = name ? name : ""; *p; p++) {
        low[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        if (n == sizeof low || p[1] == '\0') {
            crypto_generichash_update(&st, (const unsigned char *)low, n);
            n = 0;
        }
    }
    crypto_generichash_final(&st, full, sizeof full);
    memcpy(out, full, TOK_DOMAIN_ID);
}

static int put_field(struct buf *b, const char *s)
{
    unsigned char len[2];
    size_t n;

    if (s == NULL) {
        len[0] = len[1] = 0xFF;
        return buf_append(b, len, 2);
    }
    n = strlen(s);
    if (n > TOK_FIELD_MAX)
        return EINVAL;
    len[0] = (unsigned char)(n >> 8);
    len[1] = (unsigned char)n;
    return buf_append(b, len, 2) || buf_append(b, s, n);
}

static int claims_encode(const struct tok *t, struct buf *b)
{
    unsigned char fixed[CLAIMS_FIXED];
    int64_t issued = t->issued ? t->issued : (int64_t)time(NULL);
    uint64_t u = (uint64_t)issued;
    const char *f[NFIELDS] = {t->controller, t->recipient, t->url, t->dest};
    unsigned need = kind_needs(t->kind);

    if (!t->has_domain) /* the gate could not tell whose policy applies */
        return TOK_EINVAL;
    for (int i = 0; i < 3; i++)
        if ((need >> i & 1) && (f[i] == NULL || f[i][0] == '\0'))
            return TOK_EINVAL;
    fixed[0] = FORMAT_DOMAIN;
    for (int i = 0; i < 8; i++)
        fixed[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    if (buf_append(b, fixed, sizeof fixed) != 0 ||
        buf_append(b, t->domain, TOK_DOMAIN_ID) != 0)
        return TOK_EINVAL;
    for (int i = 0; i < NFIELDS; i++)
        if (put_field(b, f[i]) != 0)
            return TOK_EINVAL;
    return TOK_OK;
}

static int get_field(const unsigned char **p, const unsigned char *end, char **out)
{
    size_t n;

    if (end - *p < 2)
        return TOK_EINVAL;
    n = (size_t)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    if (n == ABSENT)
        return *out = NULL, TOK_OK;
    if (n > TOK_FIELD_MAX || (size_t)(end - *p) < n || memchr(*p, '\0', n))
        return TOK_EINVAL;
    *out = malloc(n + 1);
    if (*out == NULL)
        return TOK_ENOMEM;
    memcpy(*out, *p, n);
    (*out)[n] = '\0';
    *p += n;
    return TOK_OK;
}

static int claims_decode(const unsigned char *p, size_t len, int kind, struct tok *t)
{
    const unsigned char *end = p + len;
    char **f[NFIELDS] = {&t->controller, &t->recipient, &t->url, &t->dest};
    unsigned need = kind_needs(kind);
    uint64_t u = 0;
    int rc;

    if (len < CLAIMS_FIXED || (p[0] != FORMAT_LEGACY && p[0] != FORMAT_DOMAIN))
        return TOK_EINVAL;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[1 + i];
    t->issued = (int64_t)u;
    t->has_domain = p[0] == FORMAT_DOMAIN;
    p += CLAIMS_FIXED;
    if (t->has_domain) {
        if ((size_t)(end - p) < TOK_DOMAIN_ID)
            return TOK_EINVAL;
        memcpy(t->domain, p, TOK_DOMAIN_ID);
        p += TOK_DOMAIN_ID;
    }
    for (int i = 0; i < NFIELDS; i++)
        if ((rc = get_field(&p, end, f[i])) != TOK_OK)
            return rc;
    if (p != end)
        return TOK_EINVAL;
    for (int i = 0; i < 3; i++)
        if ((need >> i & 1) && (*f[i] == NULL || (*f[i])[0] == '\0'))
            return TOK_EINVAL;
    return TOK_OK;
}

/* ---- seal / open --------------------------------------------------- */

static void make_ad(unsigned char ad[11], int kind, uint32_t id)
{
    memcpy(ad, "cmtok1", 6);
    ad[6] = (unsigned char)kind;
    put_be32(ad + 7, id);
}

/* Nonces. Every token takes 24 random bytes; they come from a per-thread
 * pool that randombytes_buf fills 42 nonces at a time, so one getrandom
 * call serves a whole newsletter instead of one call per link. Nonces are
 * public (they travel in the token), so a pool holds nothing secret; what
 * matters is that no two tokens share one: a forked child, which keeps
 * only the forking thread, drops that thread's pool before its first
 * token (pthread_atfork). */
#define NONCE_POOL (NONCE_BYTES * 42)
static __thread unsigned char nonce_pool[NONCE_POOL];
static __thread size_t nonce_left;
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void nonce_forget(void)
{
    nonce_left = 0;
}

static void nonce_atfork(void)
{
    pthread_atfork(NULL, NULL, nonce_forget);
}

/* Test seam (tok_test_seed): when set, each pool refill is libsodium's
 * deterministic stream under a seed derived from the test seed and a
 * refill counter, so a golden file can hold real tokens. */
static int nonce_seeded;
static unsigned char nonce_seed[randombytes_SEEDBYTES];
static uint64_t nonce_refills;

void tok_test_seed(const unsigned char seed[32])
{
    nonce_seeded = seed != NULL;
    if (seed != NULL)
        memcpy(nonce_seed, seed, sizeof nonce_seed);
    nonce_refills = 0;
    nonce_left = 0;
}

static void nonce_refill(void)
{
    if (!nonce_seeded) {
        randombytes_buf(nonce_pool, sizeof nonce_pool);
        return;
    }
    unsigned char ctr[8], seed[randombytes_SEEDBYTES];
    put_be32(ctr, (uint32_t)(nonce_refills >> 32));
    put_be32(ctr + 4, (uint32_t)nonce_refills);
    nonce_refills++;
    crypto_generichash(seed, sizeof seed, ctr, sizeof ctr, nonce_seed, sizeof nonce_seed);
    randombytes_buf_deterministic(nonce_pool, sizeof nonce_pool, seed);
}

static void nonce_take(unsigned char *out)
{
    pthread_once(&nonce_once, nonce_atfork);
    if (nonce_left < NONCE_BYTES) {
        nonce_refill();
        nonce_left = sizeof nonce_pool;
    }
    memcpy(out, nonce_pool + sizeof nonce_pool - nonce_left, NONCE_BYTES);
    nonce_left -= NONCE_BYTES;
}

/* The nonce of an anonymous campaign token: a keyed BLAKE2b of the
 * associated data and the claims (SIV-like). Every recipient of a campaign
 * must get the same pixel URL, or the URL itself would tell them apart;
 * the same plaintext under the same key then gives the same token, and a
 * nonce is never used with two plaintexts (a different claim is a
 * different nonce, up to a 2^-96 collision). The key is its own kdf
 * subkey, used for nothing else. Only TOK_ANON: every other token carries
 * a recipient and is random. */
static void nonce_derive(const struct tok_key *key, const unsigned char *ad, size_t adlen,
                         const struct buf *claims, unsigned char *out)
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, key->siv, sizeof key->siv, NONCE_BYTES);
    crypto_generichash_update(&st, ad, adlen);
    crypto_generichash_update(&st, (const unsigned char *)claims->data, claims->len);
    crypto_generichash_final(&st, out, NONCE_BYTES);
}

static int seal_bin(const struct tok_key *key, int kind, const struct buf *claims,
                    unsigned char *bin, size_t *binlen)
{
    unsigned char ad[11];
    unsigned long long clen = 0;

    put_be32(bin, key->id);
    make_ad(ad, kind, key->id);
    if (kind == TOK_ANON)
        nonce_derive(key, ad, sizeof ad, claims, bin + ID_BYTES);
    else
        nonce_take(bin + ID_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bin + ID_BYTES + NONCE_BYTES, &clen, (const unsigned char *)claims->data,
        claims->len, ad, sizeof ad, NULL, bin + ID_BYTES, key->aead);
    *binlen = ID_BYTES + NONCE_BYTES + (size_t)clen;
    return TOK_OK;
}

/* Append base64url without padding, with GLib's table-driven encoder: a
 * token is ciphertext, so libsodium's constant-time encoder, several times
 * slower and run for every link of every message, protects nothing here. */
static int b64url_append(struct buf *out, const unsigned char *in, size_t len)
{
    gint state = 0, save = 0;
    size_t n;
    char *p;

    if (buf_reserve(out, (len / 3 + 1) * 4 + 4) != 0)
        return TOK_ENOMEM;
    p = out->data + out->len;
    n = g_base64_encode_step(in, len, FALSE, p, &state, &save);
    n += g_base64_encode_close(FALSE, p + n, &state, &save);
    while (n > 0 && p[n - 1] == '=')
        n--;
    for (size_t i = 0; i < n; i++)
        p[i] = p[i] == '+' ? '-' : p[i] == '/' ? '_' : p[i];
    out->len += n;
    out->data[out->len] = '\0';
    return TOK_OK;
}

int tok_seal(const struct tok_keys *k, const struct tok *t, struct buf *out)
{
    struct buf claims = BUF_INIT(CLAIMS_MAX);
    unsigned char *bin = NULL;
    size_t binlen = 0, textlen = 0;
    int rc;

    if (k == NULL || k->n == 0 || t == NULL || !valid_kind(t->kind))
        return TOK_EINVAL;
    rc = claims_encode(t, &claims);
    if (rc == TOK_OK && claims.len > CLAIMS_MAX)
        rc = TOK_EINVAL;
    if (rc == TOK_OK) {
        textlen =
            sodium_base64_encoded_len(ID_BYTES + NONCE_BYTES + claims.len + TAG_BYTES,
                                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        bin = malloc(ID_BYTES + NONCE_BYTES + claims.len + TAG_BYTES);
        rc = bin ? TOK_OK : TOK_ENOMEM;
    }
    if (rc == TOK_OK)
        rc = seal_bin(&k->v[k->n - 1], t->kind, &claims, bin, &binlen);
    if (rc == TOK_OK && textlen > TOK_TEXT_MAX + 1)
        rc = TOK_EINVAL;
    if (rc == TOK_OK)
        rc = b64url_append(out, bin, binlen);
    if (claims.data)
        sodium_memzero(claims.data, claims.cap);
    buf_free(&claims);
    free(bin);
    return rc;
}

/* Try the other kinds, so the caller can tell "wrong endpoint" from
 * "forged". The expected kind has already failed. */
static int other_kind(const struct tok_key *key, int kind, const unsigned char *bin,
                      size_t binlen, unsigned char *scratch)
{
    static const int kinds[] = {TOK_OPEN,     TOK_CLICK, TOK_DELIV,
                                TOK_WITHDRAW, TOK_PREFS, TOK_ANON};
    unsigned char ad[11];
    unsigned long long mlen;

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i] == kind)
            continue;
        make_ad(ad, kinds[i], key->id);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                scratch, &mlen, NULL, bin + ID_BYTES + NONCE_BYTES,
                binlen - ID_BYTES - NONCE_BYTES, ad, sizeof ad, bin + ID_BYTES,
                key->aead) == 0)
            return TOK_EKIND;
    }
    return TOK_EFORGED;
}

static int open_bin(const struct tok_keys *k, int kind, const unsigned char *bin,
                    size_t binlen, struct tok *out)
{
    unsigned char *plain, ad[11];
    unsigned long long mlen = 0;
    const struct tok_key *key;
    int rc;

    key = key_find(k, get_be32(bin));
    if (key == NULL)
        return TOK_EKEY;
    plain = malloc(binlen); /* the plaintext is shorter than the token */
    if (plain == NULL)
        return TOK_ENOMEM;
    make_ad(ad, kind, key->id);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &mlen, NULL, bin + ID_BYTES + NONCE_BYTES,
            binlen - ID_BYTES - NONCE_BYTES, ad, sizeof ad, bin + ID_BYTES,
            key->aead) != 0)
        rc = other_kind(key, kind, bin, binlen, plain);
    else
        rc = claims_decode(plain, (size_t)mlen, kind, out);
    if (rc == TOK_OK) {
        out->kind = kind;
        out->key_id = key->id;
    }
    sodium_memzero(plain, binlen);
    free(plain);
    return rc;
}

/* base64url without padding -> bytes. A table decoder: libsodium's is
 * constant-time per character, which a token (public ciphertext) does not
 * need, and it dominated the gate's per-request cost. Returns the length,
 * or -1 on a character outside the alphabet, a dangling sextet, or
 * non-zero padding bits. */
static long b64url_decode(const char *text, size_t len, unsigned char *out, size_t outmax)
{
    const unsigned char *p = (const unsigned char *)text;
    uint32_t acc = 0;
    size_t n = 0;
    int bits = 0;

    if (len % 4 == 1 || len / 4 * 3 + 3 > outmax)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = cm_b64url_value(p[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1)) /* canonical encoding only */
        return -1;
    return (long)n;
}

int tok_open(const struct tok_keys *k, int kind, const char *text, size_t len,
             struct tok *out)
{
    unsigned char *bin;
    long binlen;
    int rc = TOK_EINVAL;

    memset(out, 0, sizeof *out);
    if (k == NULL || !valid_kind(kind) || text == NULL)
        return TOK_EINVAL;
    if (len > TOK_TEXT_MAX || len < TOK_TEXT_MIN)
        return TOK_EINVAL;
    bin = malloc(len / 4 * 3 + 3);
    if (bin == NULL)
        return TOK_ENOMEM;
    binlen = b64url_decode(text, len, bin, len / 4 * 3 + 3);
    if (binlen >= ID_BYTES + NONCE_BYTES + TAG_BYTES + CLAIMS_FIXED)
        rc = open_bin(k, kind, bin, (size_t)binlen, out);
    if (rc != TOK_OK)
        tok_clear(out);
    free(bin);
    return rc;
}

void tok_clear(struct tok *t)
{
    if (t == NULL)
        return;
    free(t->controller);
    free(t->recipient);
    free(t->url);
    free(t->dest);
    memset(t, 0, sizeof *t);
}

/* ---- MAC ----------------------------------------------------------- */

int tok_mac(const struct tok_keys *k, const void *data, size_t len, char out[TOK_MAC_HEX])
{
    unsigned char mac[crypto_auth_BYTES];

    if (k == NULL || k->n == 0)
        return TOK_EINVAL;
    crypto_auth(mac, data, len, k->v[k->n - 1].mac);
    sodium_bin2hex(out, TOK_MAC_HEX, mac, sizeof mac);
    return TOK_OK;
}

int tok_mac_verify(const struct tok_keys *k, const void *data, size_t len,
                   const char *hex)
{
    unsigned char mac[crypto_auth_BYTES];
    size_t got = 0;
    const char *end = NULL;
    int ok = 0;

    if (k == NULL || hex == NULL || strlen(hex) != TOK_MAC_HEX - 1)
        return TOK_EINVAL;
    if (sodium_hex2bin(mac, sizeof mac, hex, TOK_MAC_HEX - 1, NULL, &got, &end) != 0 ||
        got != sizeof mac || *end != '\0')
        return TOK_EINVAL;
    /* Every key is tried whatever the outcome: time does not tell which. */
    for (size_t i = 0; i < k->n; i++)
        ok |= crypto_auth_verify(mac, data, len, k->v[i].mac) == 0;
    return ok ? TOK_OK : TOK_EFORGED;
}
