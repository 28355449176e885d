/* url - URL plumbing for the classifier: splitting, percent and base64
 * decoding, removal of personal query parameters (rw_url_clean) and the
 * unwrapping of nested click wrappers (rw_url_unwrap).
 *
 * Every function works on bounded input (the caller enforces
 * lim->max_url_len) and allocates only through struct buf with a ceiling,
 * so hostile URLs give RW_ELIMIT or "not decodable", never a crash. A
 * decoded destination is only ever returned when it is an absolute http(s)
 * URL (rw_is_http_url): javascript:, data: and friends are refused and the
 * wrapper is reported as opaque instead. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/rules_int.h"
#include "rewriter/rw_engine.h"

static int buf_rc(int e)
{
    return e == 0 ? RW_OK : e == EFBIG ? RW_ELIMIT : RW_ENOMEM;
}

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

static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int rw_b64_any_decode(const char *s, size_t n, struct buf *out)
{
    unsigned acc = 0, bits = 0;

    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64v((unsigned char)s[i]);

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

/* Each query parameter: [b, e) of the raw text and the key length. */
static int next_param(const struct rw_urlp *u, size_t *pos, size_t *b, size_t *e,
                      size_t *klen)
{
    size_t end = u->query_off + u->query_len, i = *pos;

    if (!u->has_query || i > end)
        return 0;
    *b = i;
    while (i < end && u->s[i] != '&')
        i++;
    *e = i;
    *pos = i + 1;
    *klen = *e - *b;
    for (size_t k = *b; k < *e; k++)
        if (u->s[k] == '=') {
            *klen = k - *b;
            break;
        }
    return 1;
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

    while (next_param(u, &pos, &b, &e, &kl)) {
        if (key_is(u->s + b, kl, key)) {
            size_t v = b + kl + (b + kl < e);

            *val = u->s + v;
            *vlen = e - v;
            return 1;
        }
    }
    return 0;
}

static int personal(const struct rw_rules *r, const char *k, size_t n)
{
    struct buf b = BUF_INIT(256);
    int hit;

    if (rw_is_personal_key(r, k, n))
        return 1;
    if (memchr(k, '%', n) == NULL || rw_pct_decode(k, n, &b) != 0) {
        buf_free(&b);
        return 0;
    }
    hit = rw_is_personal_key(r, b.data, b.len);
    buf_free(&b);
    return hit;
}

/* Rebuild url without the personal parameters; every other byte (order,
 * encoding, empty parameters, fragment) is kept as written. */
static int clean_into(const struct rw_rules *r, const struct rw_urlp *u, struct buf *out,
                      unsigned *removed)
{
    size_t pos = u->query_off, b, e, kl, qend = u->query_off + u->query_len;
    int first = 1, e2 = 0;

    *removed = 0;
    if ((e2 = buf_append(out, u->s, u->query_off - 1)) != 0)
        return buf_rc(e2);
    while (next_param(u, &pos, &b, &e, &kl)) {
        if (kl > 0 && personal(r, u->s + b, kl)) {
            (*removed)++;
            continue;
        }
        e2 = buf_puts(out, first ? "?" : "&");
        if (e2 == 0)
            e2 = buf_append(out, u->s + b, e - b);
        if (e2 != 0)
            return buf_rc(e2);
        first = 0;
    }
    return buf_rc(buf_append(out, u->s + qend, u->len - qend));
}

int rw_url_clean(const struct rw_rules *r, const char *url, char **out, unsigned *removed)
{
    struct rw_urlp u;
    struct buf b = BUF_INIT(0);
    unsigned n = 0;
    int rc;

    if (removed)
        *removed = 0;
    if (r == NULL || url == NULL || out == NULL)
        return RW_EINVAL;
    rw_url_split(url, strlen(url), &u);
    if (!u.has_query) {
        *out = strdup(url);
        return *out ? RW_OK : RW_ENOMEM;
    }
    (void)buf_reserve(&b, u.len + 1); /* the result is not longer: one allocation */
    rc = clean_into(r, &u, &b, &n);
    if (rc == RW_OK && n == 0) {
        buf_free(&b);
        *out = strdup(url);
        rc = *out ? RW_OK : RW_ENOMEM;
    } else if (rc == RW_OK) {
        *out = buf_steal(&b, NULL);
        rc = *out ? RW_OK : RW_ENOMEM;
    }
    buf_free(&b);
    if (rc == RW_OK && removed)
        *removed = n;
    return rc;
}

/* One step: the first wrap rule that decodes cur. *next is NULL when no
 * rule applies; *stop is set when a matching rule could not decode (and
 * its fail= says opaque) or the destination is refused. */
static int unwrap_step(const struct rw_rules *r, const char *cur, size_t max,
                       const struct rw_rule **rule, char **next, int *stop,
                       struct rw_urlp *up)
{
    struct rw_urlp u;
    struct rw_rule_iter it;
    const struct rw_rule *ru;

    *next = NULL;
    *stop = 0;
    rw_url_split(cur, strlen(cur), &u);
    *up = u; /* the caller's split of cur */
    rw_rule_iter_init(r, RW_RK_WRAP, &u, &it);
    while ((ru = rw_rule_iter_next(r, &it, &u, 0)) != NULL) {
        int rc;

        *rule = ru;
        rc = rw_decoder_run(ru, &u, max, next);
        if (rc == RW_OK && rw_is_http_url(*next, strlen(*next)))
            return RW_OK;
        free(*next);
        *next = NULL;
        if (rc == RW_ENOMEM)
            return rc;
        if (rc == RW_OK || !ru->fail_next) { /* refused, or known but undecodable */
            *stop = 1;
            return RW_OK;
        }
    }
    *rule = NULL;
    return RW_OK;
}

int rw_unwrap_chain(const struct rw_rules *r, const struct rw_limits *lim,
                    const char *url, struct rw_unwrap *res)
{
    const struct rw_rule *rule;
    struct rw_urlp u;
    char *cur, *next;
    int stop, rc = RW_OK;

    memset(res, 0, sizeof(*res));
    if (strlen(url) > lim->max_url_len)
        return RW_ELIMIT;
    if ((cur = strdup(url)) == NULL)
        return RW_ENOMEM;
    for (;;) {
        if ((rc = unwrap_step(r, cur, lim->max_url_len, &rule, &next, &stop, &u)) != RW_OK)
            break;
        if (stop) {
            res->opaque = rule;
            break;
        }
        if (next == NULL) {
            /* A decodable wrapper around an opaque one is still opaque. */
            if (res->outer != NULL)
                res->opaque = rw_rule_match(r, RW_RK_OPAQUE, &u, 0);
            break;
        }
        if (res->depth >= lim->unwrap_depth) {
            free(next);
            rc = RW_ELIMIT;
            break;
        }
        res->depth++;
        if (res->outer == NULL)
            res->outer = rule;
        free(cur);
        cur = next;
    }
    if (rc == RW_OK && res->outer != NULL && res->opaque == NULL)
        res->dest = cur;
    else
        free(cur);
    return rc;
}

int rw_url_unwrap(const struct rw_rules *r, const struct rw_limits *lim, const char *url,
                  char **dest)
{
    struct rw_limits dl;
    struct rw_unwrap res;
    unsigned n;
    int rc;

    if (r == NULL || url == NULL || dest == NULL)
        return RW_EINVAL;
    *dest = NULL;
    if (lim == NULL) {
        rw_limits_default(&dl);
        lim = &dl;
    }
    if ((rc = rw_unwrap_chain(r, lim, url, &res)) != RW_OK)
        return rc;
    if (res.dest == NULL)
        return RW_EINVAL;
    rc = rw_url_clean(r, res.dest, dest, &n);
    free(res.dest);
    return rc;
}
