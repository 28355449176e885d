/* url_prim - the URL primitives every URL module shares: splitting a URL
 * into its parts (rw_url_split), finding a query parameter
 * (rw_query_find), percent and base64 decoding, and the test for an
 * absolute http(s) URL (rw_is_http_url).
 *
 * Data flow: bytes in, offsets into those bytes (borrowed) or decoded
 * bytes appended to the caller's struct buf out. The bottom of the URL
 * code: rules_match.c, url_decode.c, url.c, url_recipient.c,
 * url_resolve.c and classify.c build on it, and it uses nothing of theirs.
 *
 * Limits: input is bounded by the caller (lim->max_url_len); output grows
 * only through struct buf with its ceiling. Failure: splitting never
 * fails (absent parts have length 0); decoders return the buf_append
 * error (EFBIG, ENOMEM) or, for base64, -1 on a malformed input. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "common/b64.h"
#include "rewriter/rules_int.h"

static int scheme_char(int c, int first)
{
    return isalpha(c) || (!first && (isdigit(c) || c == '+' || c == '-' || c == '.'));
}

/* The authority of "//host..." : userinfo@host:port. */
static void split_authority(struct rw_urlp *u, size_t a, size_t end)
{
    const char *at = end > a ? memrchr(u->s + a, '@', end - a) : NULL;
    size_t h = at ? (size_t)(at - u->s) + 1 : a, e;
    const char *colon;

    e = h;
    if (h < end && u->s[h] == '[') {
        while (e < end && u->s[e] != ']')
            e++;
        if (e < end)
            e++;
    } else {
        colon = end > h ? memchr(u->s + h, ':', end - h) : NULL;
        e = colon ? (size_t)(colon - u->s) : end;
    }
    u->host_off = h;
    u->host_len = e - h;
}

/* Bytes that end an authority. */
static const unsigned char auth_end[256] = {['/'] = 1, ['?'] = 1, ['#'] = 1, ['\\'] = 1};

static int is_http_scheme(const char *s, size_t n)
{
    return (n == 4 || (n == 5 && (s[4] | 0x20) == 's')) && (s[0] | 0x20) == 'h' &&
           (s[1] | 0x20) == 't' && (s[2] | 0x20) == 't' && (s[3] | 0x20) == 'p';
}

void rw_url_split(const char *s, size_t len, struct rw_urlp *u)
{
    size_t i = 0, p;
    const char *q, *h;

    memset(u, 0, sizeof(*u));
    u->s = s;
    u->len = len;
    while (i < len && scheme_char((unsigned char)s[i], i == 0))
        i++;
    if (i > 0 && i < len && s[i] == ':') {
        u->scheme_len = i;
        u->http = is_http_scheme(s, i);
        i++;
    } else {
        i = 0;
    }
    p = i;
    if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        size_t a = i + 2, e = a;

        while (e < len && !auth_end[(unsigned char)s[e]])
            e++;
        split_authority(u, a, e);
        p = e;
    }
    u->path_off = p;
    h = p < len ? memchr(s + p, '#', len - p) : NULL;
    q = p < len ? memchr(s + p, '?', (size_t)((h ? h : s + len) - (s + p))) : NULL;
    p = q ? (size_t)(q - s) : h ? (size_t)(h - s) : len;
    u->path_len = p - u->path_off;
    if (q != NULL) {
        u->has_query = 1;
        u->query_off = ++p;
        p = h ? (size_t)(h - s) : len;
        u->query_len = p - u->query_off;
    }
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The decoding appended piece by piece: for a buffer whose ceiling leaves
 * room for the decoded text but not for s itself. */
static int pct_decode_append(const char *s, size_t n, struct buf *out)
{
    size_t i = 0, run;
    int e;

    while (i < n) {
        run = i;
        while (run < n && s[run] != '%')
            run++;
        if (run > i && (e = buf_append(out, s + i, run - i)) != 0)
            return e;
        i = run;
        if (i >= n)
            break;
        if (i + 2 < n && hexv((unsigned char)s[i + 1]) >= 0 &&
            hexv((unsigned char)s[i + 2]) >= 0) {
            e = buf_putc(out, hexv((unsigned char)s[i + 1]) * 16 +
                                  hexv((unsigned char)s[i + 2]));
            i += 3;
        } else {
            e = buf_putc(out, '%');
            i++;
        }
        if (e != 0)
            return e;
    }
    /* An empty result still has a NUL-terminated buffer. */
    return out->data == NULL ? buf_append(out, "", 0) : 0;
}

int rw_pct_decode(const char *s, size_t n, struct buf *out)
{
    size_t i = 0, start = out->len, run, max = out->max ? out->max : SIZE_MAX / 2;
    char *w;
    const char *pct;
    int e, hi, lo;

    if (n > max || out->len > max - n)
        return pct_decode_append(s, n, out);
    /* Decoding never grows the text: append s, then decode in place (the
     * write position never passes the read position). Also gives an empty
     * result a NUL-terminated buffer. */
    if ((e = buf_append(out, s, n)) != 0)
        return e;
    s = out->data + start;
    w = out->data + start;
    while (i < n) {
        pct = memchr(s + i, '%', n - i);
        run = pct ? (size_t)(pct - (s + i)) : n - i;
        if (w != s + i)
            memmove(w, s + i, run);
        w += run;
        i += run;
        if (i >= n)
            break;
        if (i + 2 < n && (hi = hexv((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexv((unsigned char)s[i + 2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            i += 3;
        } else {
            *w++ = '%';
            i++;
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return 0;
}

int rw_b64_any_decode(const char *s, size_t n, struct buf *out)
{
    unsigned acc = 0, bits = 0;

    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = cm_b64_value((unsigned char)s[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (buf_putc(out, (int)((acc >> bits) & 0xff)) != 0)
                return -1;
        }
    }
    return out->data == NULL && buf_append(out, "", 0) != 0 ? -1 : 0;
}

int rw_is_http_url(const char *s, size_t n)
{
    struct rw_urlp u;

    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return 0;
    rw_url_split(s, n, &u);
    return u.http && u.host_len > 0 && u.s[u.scheme_len + 1] == '/';
}

/* The key as written, or percent-decoded when it holds escapes. */
static int key_is(const char *k, size_t n, const char *want)
{
    struct buf b = BUF_INIT(256);
    int eq;

    if (strlen(want) == n && memcmp(k, want, n) == 0)
        return 1;
    if (memchr(k, '%', n) == NULL || rw_pct_decode(k, n, &b) != 0) {
        buf_free(&b);
        return 0;
    }
    eq = strcmp(buf_cstr(&b), want) == 0;
    buf_free(&b);
    return eq;
}

int rw_query_find(const struct rw_urlp *u, const char *key, const char **val,
                  size_t *vlen)
{
    size_t pos = u->query_off, b, e, kl;

    while (rw_query_next(u, &pos, &b, &e, &kl)) {
        if (key_is(u->s + b, kl, key)) {
            size_t v = b + kl + (b + kl < e);

            *val = u->s + v;
            *vlen = e - v;
            return 1;
        }
    }
    return 0;
}
