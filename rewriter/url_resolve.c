/* url_resolve - the URL a browser would fetch for an attribute value
 * (WHATWG URL parsing, the parts that change which host and path are
 * fetched), so that every rule and heuristic judges what is loaded, not
 * how it is spelled.
 *
 * Done, in the standard's order: leading and trailing C0 controls and
 * spaces stripped, tabs and line breaks removed anywhere; scheme matched
 * in any case and written in lower case; for http(s) and for relative
 * references (a mail body's base is special) '\' read as '/' before the
 * query; any number of slashes after "http(s):"; scheme-relative "//host"
 * taking the base's scheme, https when there is no base (a mail client
 * loads it over https); "/path", "?query", "#frag" and relative paths
 * resolved against the document's <base href>; the host percent-decoded
 * and lower-cased; "." and ".." segments (also as %2e) removed from the
 * path. Not done: IDNA, IPv4 number forms, default-port removal (rules
 * match host names, which these do not change).
 *
 * Other schemes (mailto:, cid:, data:, ...) and relative references with
 * no base are returned as written, after the stripping: they are not
 * fetched over http(s). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "rewriter/rules_int.h"

/* Bytes the fast path must look at. */
static const unsigned char odd[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\\'] = 1, ['%'] = 1, ['.'] = 1, ['?'] = 2, ['#'] = 2,
};

/* Whether u[0..n) is already an absolute http(s) URL in resolved form:
 * the common case, answered without a copy. */
static int already_resolved(const char *u, size_t n)
{
    size_t i, a;
    int auth = 1;

    if (n < 8 || (unsigned char)u[0] <= 0x20 || (unsigned char)u[n - 1] <= 0x20)
        return 0;
    if ((u[0] | 0x20) != 'h' || (u[1] | 0x20) != 't' || (u[2] | 0x20) != 't'
        || (u[3] | 0x20) != 'p')
        return 0;
    a = (u[4] | 0x20) == 's' ? 5 : 4;
    if (n < a + 4 || u[a] != ':' || u[a + 1] != '/' || u[a + 2] != '/' || u[a + 3] == '/')
        return 0;
    for (i = a + 3; i < n; i++) {
        unsigned char c = (unsigned char)u[i];

        if (c == '/') {
            auth = 0;
            continue;
        }
        if (!odd[c])
            continue;
        if (odd[c] == 2) /* query or fragment: written as they are */
            break;
        if (c == '\t' || c == '\n' || c == '\r' || c == '\\')
            return 0;
        if (auth && c == '%')
            return 0; /* an escaped host */
        if (!auth && u[i - 1] == '/'
            && (c == '.' || (i + 2 < n && u[i + 1] == '2' && (u[i + 2] | 0x20) == 'e')))
            return 0; /* maybe a dot segment */
    }
    return i >= n || (memchr(u + i, '\t', n - i) == NULL && memchr(u + i, '\n', n - i) == NULL
                      && memchr(u + i, '\r', n - i) == NULL);
}

/* "." or ".." (also written %2e): 1, 2, or 0. */
static int dot_segment(const char *s, size_t n)
{
    size_t i = 0, dots = 0;

    while (i < n && dots < 3) {
        if (s[i] == '.')
            i++;
        else if (i + 3 <= n && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] | 0x20) == 'e')
            i += 3;
        else
            return 0;
        dots++;
    }
    return i == n && dots <= 2 ? (int)dots : 0;
}

/* Append path p[0..n) (starting with '/', or empty) without dot segments. */
static int put_path(struct buf *o, const char *p, size_t n)
{
    size_t p0 = o->len, i = 0, j;
    int e = 0, d;

    while (i < n && e == 0) {
        for (j = i + 1; j < n && p[j] != '/'; j++)
            ;
        d = dot_segment(p + i + 1, j - i - 1);
        if (d == 2)
            while (o->len > p0 && o->data[--o->len] != '/')
                ;
        if (d == 0)
            e = buf_append(o, p + i, j - i);
        else if (j >= n)
            e = buf_putc(o, '/');
        i = j;
    }
    if (e == 0 && o->len == p0)
        e = buf_putc(o, '/');
    if (e == 0)
        o->data[o->len] = '\0';
    return e;
}

/* Append path + query + fragment r[0..n): the path part normalised. */
static int put_tail(struct buf *o, const char *r, size_t n)
{
    size_t p = 0;
    int e;

    while (p < n && r[p] != '?' && r[p] != '#')
        p++;
    if ((e = put_path(o, r, p)) != 0)
        return e;
    return buf_append(o, r + p, n - p);
}

/* The host as browsers read it: percent-decoded, ASCII lower case. */
static int put_host(struct buf *o, const char *h, size_t n)
{
    size_t h0 = o->len, k;
    int rc = rw_pct_decode(h, n, o);

    for (k = h0; rc == 0 && k < o->len; k++)
        o->data[k] = g_ascii_tolower(o->data[k]);
    return rc;
}

/* The base's directory (its path up to the last '/') + r, dots removed. */
static int put_merged(struct buf *o, const struct rw_urlp *b, const char *r, size_t n)
{
    struct buf m = BUF_INIT(0);
    const char *lp = b->path_len ? memrchr(b->s + b->path_off, '/', b->path_len) : NULL;
    size_t dir = lp ? (size_t)(lp - (b->s + b->path_off)) + 1 : 0;
    int rc = dir ? buf_append(&m, b->s + b->path_off, dir) : buf_putc(&m, '/');

    if (rc == 0)
        rc = buf_append(&m, r, n);
    if (rc == 0)
        rc = put_tail(o, m.data, m.len);
    buf_free(&m);
    return rc;
}

/* scheme "://" + authority of a[0..n) (host decoded, lower case) + the rest. */
static int put_absolute(struct buf *o, const char *scheme, const char *a, size_t n)
{
    size_t e = 0, h, hend;
    const char *at;
    int rc;

    while (e < n && a[e] != '/' && a[e] != '?' && a[e] != '#')
        e++;
    at = e > 0 ? memrchr(a, '@', e) : NULL;
    h = at ? (size_t)(at - a) + 1 : 0;
    hend = h;
    if (hend < e && a[hend] == '[') { /* an IPv6 literal runs to ']' */
        while (hend < e && a[hend] != ']')
            hend++;
        hend += hend < e;
    } else {
        while (hend < e && a[hend] != ':')
            hend++;
    }
    if ((rc = buf_puts(o, scheme)) != 0 || (rc = buf_puts(o, "://")) != 0
        || (rc = buf_append(o, a, h)) != 0)
        return rc;
    if ((rc = put_host(o, a + h, hend - h)) != 0 || (rc = buf_append(o, a + hend, e - hend)) != 0)
        return rc;
    return put_tail(o, a + e, n - e);
}

/* r[0..n) (no scheme, not "//") against the absolute http(s) base b. */
static int put_relative(struct buf *o, const struct rw_urlp *b, const char *r, size_t n)
{
    size_t keep;
    int rc;

    if (n > 0 && r[0] == '/')
        return (rc = buf_append(o, b->s, b->path_off)) != 0 ? rc : put_tail(o, r, n);
    if (n == 0 || r[0] == '?' || r[0] == '#') {
        keep = n > 0 && r[0] == '#' ? (b->has_query ? b->query_off + b->query_len
                                                    : b->path_off + b->path_len)
                                    : b->path_off + b->path_len;
        if ((rc = buf_append(o, b->s, keep)) != 0)
            return rc;
        return buf_append(o, r, n);
    }
    if ((rc = buf_append(o, b->s, b->path_off)) != 0)
        return rc;
    return put_merged(o, b, r, n);
}

/* Scheme length of s (0: none). */
static size_t scheme_of(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !g_ascii_isalpha(s[0]))
        return 0;
    while (i < n && (g_ascii_isalnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return i < n && s[i] == ':' ? i : 0;
}

/* Strip C0 and space at both ends, drop tabs and line breaks, and (when
 * special) read '\' as '/' before the query. */
static int clean(const char *u, size_t n, struct buf *o)
{
    size_t i;
    int e = 0, special, inq = 0;

    while (n > 0 && (unsigned char)u[0] <= 0x20) {
        u++;
        n--;
    }
    while (n > 0 && (unsigned char)u[n - 1] <= 0x20)
        n--;
    i = scheme_of(u, n);
    special = i == 0 || ((i == 4 || i == 5) && g_ascii_strncasecmp(u, "https", i) == 0);
    for (i = 0; i < n && e == 0; i++) {
        char c = u[i];

        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        inq |= c == '?' || c == '#';
        e = buf_putc(o, c == '\\' && special && !inq ? '/' : c);
    }
    if (e == 0 && o->data == NULL)
        e = buf_append(o, "", 0);
    return e;
}

static int resolve_into(const char *s, size_t n, const char *base, struct buf *o)
{
    struct rw_urlp b;
    size_t sl = scheme_of(s, n), i;
    char scheme[6];

    memset(&b, 0, sizeof(b));
    if (base != NULL)
        rw_url_split(base, strlen(base), &b);
    if (sl > 0) {
        if (!((sl == 4 || sl == 5) && g_ascii_strncasecmp(s, "https", sl) == 0))
            return buf_append(o, s, n); /* not fetched over http(s) */
        memcpy(scheme, sl == 5 ? "https" : "http", sl + 1);
        s += sl + 1;
        n -= sl + 1;
        /* "http:path" is relative to an http base; otherwise slashes are optional */
        if (base != NULL && b.scheme_len == sl && g_ascii_strncasecmp(base, scheme, sl) == 0
            && (n == 0 || s[0] != '/'))
            return put_relative(o, &b, s, n);
    } else if (n >= 2 && s[0] == '/' && s[1] == '/') {
        g_strlcpy(scheme, base && b.scheme_len == 4 ? "http" : "https", sizeof(scheme));
    } else {
        return base ? put_relative(o, &b, s, n) : buf_append(o, s, n);
    }
    for (i = 0; i < n && s[i] == '/'; i++)
        ;
    return put_absolute(o, scheme, s + i, n - i);
}

int rw_url_resolve(const char *u, size_t n, const char *base, size_t max, char **out)
{
    struct buf c = BUF_INIT(max), o = BUF_INIT(max);
    int e;

    *out = NULL;
    if (already_resolved(u, n))
        return RW_OK;
    e = clean(u, n, &c);
    if (e == 0)
        e = resolve_into(c.data, c.len, base, &o);
    if (e == 0 && o.data == NULL)
        e = buf_append(&o, "", 0);
    buf_free(&c);
    if (e != 0) {
        buf_free(&o);
        return rw_buf_status(e);
    }
    if (o.len == n && memcmp(o.data, u, n) == 0) {
        buf_free(&o);
        return RW_OK;
    }
    *out = buf_steal(&o, NULL);
    return *out ? RW_OK : RW_ENOMEM;
}
