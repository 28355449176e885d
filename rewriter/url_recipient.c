/* url_recipient - does a URL carry the recipient's address (SPEC §3.2.4)?
 *
 * Forms recognised, each in the URL as written and after one and two rounds
 * of percent-decoding:
 *   - the address itself, any case, with address boundaries on both sides
 *     (so "bob@example.com" is not found inside "jimbob@example.com" or
 *     "bob@example.com.au");
 *   - base64 and base64url, padded or not, with the address at any of the
 *     three byte alignments inside a longer base64 string: for alignment k
 *     we search the characters that depend on the address bytes only, then
 *     decode the bytes just before and after: the one before must not be
 *     part of a local part, the one after must not be '.' or '-' (binary
 *     tokens such as SparkPost's put arbitrary bytes after the address);
 *   - md5, sha1 and sha256 hex of the normalised address, any case.
 * The address is normalised like the store does for ASCII: blanks and
 * angle brackets removed, lower case. All of that about the address
 * (normal form, needles, digests) is computed once by rw_recip_prepare
 * (the engine: once per message); rw_url_has_recipient prepares per call.
 * Cost: linear in the URL for each of a fixed number of needles, searched
 * only inside runs of base64 characters long enough to hold one; no
 * allocation proportional to anything but the URL. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "common/b64.h"
#include "rewriter/rules_int.h"

#define ADDR_MAX RW_RECIP_ADDR_MAX

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int normalise(const char *in, char *out, size_t outlen)
{
    size_t n = 0;

    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;

        if (isspace(c) || c == '<' || c == '>')
            continue;
        if (n + 1 >= outlen)
            return -1;
        out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
    return n >= 3 && strchr(out, '@') != NULL ? (int)n : -1;
}

static int local_char(int c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

static int domain_char(int c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* Anchored on each '@' of the hay: the address has its '@' at a fixed
 * offset, so only those positions can match. */
static int raw_in(const char *h, size_t hn, const char *a, size_t an)
{
    size_t at = (size_t)(strchr(a, '@') - a);
    const char *p = h, *end = h + hn;

    while ((p = memchr(p, '@', (size_t)(end - p))) != NULL) {
        size_t i = (size_t)(p - h);

        p++;
        if (i < at || i - at + an > hn)
            continue;
        i -= at;
        if (strncasecmp(h + i, a, an) != 0)
            continue;
        if (i > 0 && local_char((unsigned char)h[i - 1]))
            continue;
        if (i + an < hn && domain_char((unsigned char)h[i + an]))
            continue;
        return 1;
    }
    return 0;
}

/* Byte j of the stream whose char 0 sits at hay index g0; -1 if the chars
 * holding it are outside the hay or not base64. j >= -1. */
static int b64_byte(const char *h, long hn, long g0, long j)
{
    long bit = 8 * j + 12, ci = bit / 6 - 2 + g0, off = bit % 6;
    int v0, v1;

    if (ci < 0 || ci + 1 >= hn)
        return -1;
    if ((v0 = cm_b64_value((unsigned char)h[ci])) < 0 ||
        (v1 = cm_b64_value((unsigned char)h[ci + 1])) < 0)
        return -1;
    return ((v0 & (63 >> off)) << (2 + off)) | (v1 >> (4 - off));
}


static void b64_needles(const char *a, size_t an, struct rw_recip_needles *nd)
{
    unsigned char bytes[ADDR_MAX + 4];
    char enc[(ADDR_MAX + 4) / 3 * 4 + 8];

    nd->min = 0;

    for (unsigned k = 0; k < 3; k++) {
        size_t tot = k + an, lo = (8 * k + 5) / 6, hi = (8 * tot) / 6, e = 0;

        memset(bytes, 0, sizeof(bytes));
        memcpy(bytes + k, a, an);
        for (size_t i = 0; i < tot; i += 3) {
            unsigned v =
                (unsigned)bytes[i] << 16 | (unsigned)bytes[i + 1] << 8 | bytes[i + 2];

            for (int c = 3; c >= 0; c--)
                enc[e++] = (char)((v >> (6 * c)) & 63);
        }
        for (int alpha = 0; alpha < 2; alpha++) {
            struct rw_recip_needles *x = nd;
            int i = (int)k * 2 + alpha;

            for (size_t j = lo; j < hi; j++)
                x->s[i][j - lo] = (alpha ? b64url : b64std)[(unsigned char)enc[j]];
            x->n[i] = hi > lo ? hi - lo : 0;
            /* the url alphabet's needle equal to the std one finds the same */
            if (alpha == 1 && x->n[i] == x->n[i - 1] &&
                memcmp(x->s[i], x->s[i - 1], x->n[i]) == 0)
                x->n[i] = 0;
            if (x->n[i] > 0 && (x->min == 0 || x->n[i] < x->min))
                x->min = x->n[i];
            x->first[i] = lo;
            x->k[i] = k;
        }
    }
}

static inline int b64_char(unsigned char c)
{
    return cm_b64_digit[c] != 0; /* either alphabet: a needle lies inside one run */
}

static int b64_in_run(const char *h, size_t hn, size_t r0, size_t r1, size_t an,
                      const struct rw_recip_needles *nd)
{
    for (int i = 0; i < 6; i++) {
        const char *p = h + r0, *end = h + r1;

        while (nd->n[i] > 0 && (size_t)(end - p) >= nd->n[i] &&
               (p = memmem(p, (size_t)(end - p), nd->s[i], nd->n[i])) != NULL) {
            long g0 = (long)(p - h) - (long)nd->first[i];
            int before = b64_byte(h, (long)hn, g0, (long)nd->k[i] - 1);
            int after = b64_byte(h, (long)hn, g0, (long)(nd->k[i] + an));

            /* Binary formats (SparkPost's TLV tokens) put any byte after
             * the address, so only a separator that continues a domain
             * ("bob@example.com.au") disqualifies it here. */
            if ((before < 0 || !local_char(before)) && after != '.' && after != '-')
                return 1;
            p++;
        }
    }
    return 0;
}

/* Every needle is made of base64 characters, so only runs of them at
 * least as long as the shortest needle are searched. */
static int b64_in(const char *h, size_t hn, size_t an, const struct rw_recip_needles *nd)
{
    size_t i = 0, r0;

    while (i < hn) {
        while (i < hn && !b64_char((unsigned char)h[i]))
            i++;
        r0 = i;
        while (i < hn && b64_char((unsigned char)h[i]))
            i++;
        if (i - r0 >= nd->min && b64_in_run(h, hn, r0, i, an, nd))
            return 1;
    }
    return 0;
}

/* Digests are only looked for when the URL holds a run of 32+ hex digits. */
static int has_hex_run(const char *s)
{
    size_t run = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        run = (unsigned char)(c - '0') < 10 || (unsigned char)((c | 0x20) - 'a') < 6 ? run + 1 : 0;
        if (run >= 32)
            return 1;
    }
    return 0;
}

static int digest_in(const char *url, const struct rw_recip *p)
{
    if (!has_hex_run(url))
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (strcasestr(url, p->digest[i]) != NULL)
            return 1;
    return 0;
}

static int found_in(const char *h, size_t hn, const struct rw_recip *p)
{
    return raw_in(h, hn, p->addr, p->an) || b64_in(h, hn, p->an, &p->nd);
}

int rw_recip_prepare(const char *recipient, struct rw_recip *p)
{
    static const GChecksumType types[] = {G_CHECKSUM_MD5, G_CHECKSUM_SHA1,
                                          G_CHECKSUM_SHA256};
    int n;

    p->ok = 0;
    if (recipient == NULL || (n = normalise(recipient, p->addr, sizeof(p->addr))) < 0)
        return RW_OK;
    p->an = (size_t)n;
    b64_needles(p->addr, p->an, &p->nd);
    for (size_t i = 0; i < 3; i++) {
        GChecksum *c = g_checksum_new(types[i]);

        if (c == NULL)
            return RW_ENOMEM;
        g_checksum_update(c, (const guchar *)p->addr, (gssize)p->an);
        g_strlcpy(p->digest[i], g_checksum_get_string(c), sizeof(p->digest[i]));
        g_checksum_free(c);
    }
    p->ok = 1;
    return RW_OK;
}

int rw_recip_in_url(const struct rw_recip *p, const char *url)
{
    struct buf d1 = BUF_INIT(0), d2 = BUF_INIT(0);
    size_t len;
    int hit;

    if (url == NULL || p == NULL || !p->ok)
        return 0;
    len = strlen(url);
    hit = found_in(url, len, p) || digest_in(url, p);
    if (!hit && memchr(url, '%', len) != NULL && rw_pct_decode(url, len, &d1) == 0) {
        hit = found_in(d1.data, d1.len, p);
        if (!hit && memchr(d1.data, '%', d1.len) != NULL &&
            rw_pct_decode(d1.data, d1.len, &d2) == 0)
            hit = found_in(d2.data, d2.len, p);
    }
    buf_free(&d1);
    buf_free(&d2);
    return hit;
}

int rw_url_has_recipient(const char *url, const char *recipient)
{
    struct rw_recip p;

    if (url == NULL || rw_recip_prepare(recipient, &p) != RW_OK)
        return 0;
    return rw_recip_in_url(&p, url);
}
