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
 *     decode the bytes just before and after to check the same boundaries;
 *   - md5, sha1 and sha256 hex of the normalised address, any case.
 * The address is normalised like the store does for ASCII: blanks and
 * angle brackets removed, lower case. Cost: linear in the URL for each of
 * a fixed number of needles; no allocation proportional to anything but
 * the URL. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "rewriter/rules_int.h"

#define ADDR_MAX 512

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

static int raw_in(const char *h, size_t hn, const char *a, size_t an)
{
    for (size_t i = 0; i + an <= hn; i++) {
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

static int b64val(int c)
{
    const char *p;

    if (c == 0)
        return -1;
    if ((p = strchr(b64std, c)) != NULL)
        return (int)(p - b64std);
    if ((p = strchr(b64url, c)) != NULL)
        return (int)(p - b64url);
    return -1;
}

/* Byte j of the stream whose char 0 sits at hay index g0; -1 if the chars
 * holding it are outside the hay or not base64. j >= -1. */
static int b64_byte(const char *h, long hn, long g0, long j)
{
    long bit = 8 * j + 12, ci = bit / 6 - 2 + g0, off = bit % 6;
    int v0, v1;

    if (ci < 0 || ci + 1 >= hn)
        return -1;
    if ((v0 = b64val((unsigned char)h[ci])) < 0 || (v1 = b64val((unsigned char)h[ci + 1])) < 0)
        return -1;
    return ((v0 & (63 >> off)) << (2 + off)) | (v1 >> (4 - off));
}

/* The chars of base64(k zero bytes + addr) that depend on addr only. */
static size_t b64_stable(const char *a, size_t an, unsigned k, const char *alpha, char *out,
                         size_t *first)
{
    size_t lo = (8 * k + 5) / 6, hi = (8 * (k + an)) / 6, n = 0;

    for (size_t i = lo; i < hi; i++) {
        size_t bit = 6 * i;
        unsigned v = 0;

        for (unsigned b = 0; b < 6; b++, bit++) {
            size_t byte = bit / 8;
            unsigned c = byte >= k && byte < k + an ? (unsigned char)a[byte - k] : 0;

            v = (v << 1) | ((c >> (7 - bit % 8)) & 1);
        }
        out[n++] = alpha[v];
    }
    *first = lo;
    return n;
}

static int b64_in(const char *h, size_t hn, const char *a, size_t an)
{
    char needle[ADDR_MAX * 2];

    for (unsigned k = 0; k < 3; k++) {
        for (int alpha = 0; alpha < 2; alpha++) {
            size_t first, nn = b64_stable(a, an, k, alpha ? b64url : b64std, needle, &first);
            const char *p = h, *end = h + hn;

            while (nn > 0 && (p = memmem(p, (size_t)(end - p), needle, nn)) != NULL) {
                long g0 = (long)(p - h) - (long)first;
                int before = b64_byte(h, (long)hn, g0, (long)k - 1);
                int after = b64_byte(h, (long)hn, g0, (long)(k + an));

                if ((before < 0 || !local_char(before)) && (after < 0 || !domain_char(after)))
                    return 1;
                p++;
            }
        }
    }
    return 0;
}

static int digest_in(const char *url, const char *a, size_t an)
{
    static const GChecksumType types[] = {G_CHECKSUM_MD5, G_CHECKSUM_SHA1, G_CHECKSUM_SHA256};
    int hit = 0;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && !hit; i++) {
        GChecksum *c = g_checksum_new(types[i]);

        if (c == NULL)
            return 0;
        g_checksum_update(c, (const guchar *)a, (gssize)an);
        hit = strcasestr(url, g_checksum_get_string(c)) != NULL;
        g_checksum_free(c);
    }
    return hit;
}

static int found_in(const char *h, size_t hn, const char *a, size_t an)
{
    return raw_in(h, hn, a, an) || b64_in(h, hn, a, an);
}

int rw_url_has_recipient(const char *url, const char *recipient)
{
    char addr[ADDR_MAX];
    struct buf d1 = BUF_INIT(0), d2 = BUF_INIT(0);
    int an, hit;

    if (url == NULL || recipient == NULL || (an = normalise(recipient, addr, sizeof(addr))) < 0)
        return 0;
    hit = found_in(url, strlen(url), addr, (size_t)an) || digest_in(url, addr, (size_t)an);
    if (!hit && strchr(url, '%') != NULL && rw_pct_decode(url, strlen(url), &d1) == 0) {
        hit = found_in(d1.data, d1.len, addr, (size_t)an);
        if (!hit && memchr(d1.data, '%', d1.len) != NULL &&
            rw_pct_decode(d1.data, d1.len, &d2) == 0)
            hit = found_in(d2.data, d2.len, addr, (size_t)an);
    }
    buf_free(&d1);
    buf_free(&d2);
    return hit;
}
