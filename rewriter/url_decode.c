/* url_decode - the click-wrapper decoders. Only the algorithms live here;
 * which host/path uses which decoder is data (conf/trackers.rules, "wrap"
 * rules name their decoder).
 *
 *   ses           /L0/<pct-encoded dest>/...  and  /CL0/<...>/...  (Amazon SES)
 *   postmark      /<ver>/<pct-encoded dest without scheme>/...; ver 2s 2ts
 *                 3s 3ts -> https, 2 3 -> http
 *   mandrill      ?p=<base64 JSON>; its "p" member is a JSON string holding
 *                 an object whose "url" is the destination
 *   mailgun       /c/<base64url of zlib(query string)>, destination in l=
 *                 (a JSON object with "l" is accepted too)
 *   mailjet       last path segment is base64url of the destination
 *   base64-param  query key=K holds base64 of the destination (ActiveCampaign)
 *   param         query key=K holds the (percent-encoded) destination
 *   path-url      the path carries the destination after the token, raw
 *                 ("/https://...") or percent-encoded ("/https%3A%2F%2F...",
 *                 Streak); an outer query is kept when the encoded part
 *                 has none
 *   json-segment  a path segment is base64url of a JSON object whose member
 *                 field=F is the destination (Customer.io /e/c/)
 *   generic       the first query parameter whose value is an absolute
 *                 http(s) URL (or, with key=K, that parameter)
 *   fragment      the URL after the first '#', raw or percent-encoded, or
 *                 glued after "-ft" in the path (Gmail's image proxy)
 *
 * Each decoder reads a split URL and returns a malloc'd candidate; the
 * caller (url.c) refuses anything that is not an http(s) URL. Outputs are
 * bounded by max (RW_ELIMIT), zlib output by a fixed ceiling. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "rewriter/rules_int.h"

#define INFLATE_MAX (64u << 10)

typedef int (*decode_fn)(const struct rw_urlp *u, const struct rw_rule *ru,
                         struct buf *out);

/* Path segment number idx (0 = first after the leading '/'). */
static int path_segment(const struct rw_urlp *u, unsigned idx, const char **seg,
                        size_t *n)
{
    const char *p = u->s + u->path_off, *end = p + u->path_len;

    if (p == end || *p != '/')
        return 0;
    p++;
    for (;;) {
        const char *e = memchr(p, '/', (size_t)(end - p));

        if (e == NULL)
            e = end;
        if (idx == 0) {
            *seg = p;
            *n = (size_t)(e - p);
            return *n > 0;
        }
        if (e == end)
            return 0;
        idx--;
        p = e + 1;
    }
}

static int pct_into(const char *s, size_t n, struct buf *out)
{
    return rw_buf_status(rw_pct_decode(s, n, out));
}

static int dec_ses(const struct rw_urlp *u, const struct rw_rule *ru, struct buf *out)
{
    const char *seg;
    size_t n;

    (void)ru;
    if (!path_segment(u, 1, &seg, &n))
        return RW_EINVAL;
    return pct_into(seg, n, out);
}

static int dec_postmark(const struct rw_urlp *u, const struct rw_rule *ru,
                        struct buf *out)
{
    const char *ver, *seg;
    size_t vn, n;
    int https, e;

    (void)ru;
    if (!path_segment(u, 0, &ver, &vn) || !path_segment(u, 1, &seg, &n))
        return RW_EINVAL;
    if ((vn == 2 && memcmp(ver, "2s", 2) == 0) ||
        (vn == 2 && memcmp(ver, "3s", 2) == 0) ||
        (vn == 3 && memcmp(ver, "2ts", 3) == 0) ||
        (vn == 3 && memcmp(ver, "3ts", 3) == 0))
        https = 1;
    else if (vn == 1 && (*ver == '2' || *ver == '3'))
        https = 0;
    else
        return RW_EINVAL;
    if (n >= 4 && strncasecmp(seg, "http", 4) == 0) /* already absolute */
        return pct_into(seg, n, out);
    if ((e = buf_puts(out, https ? "https://" : "http://")) != 0)
        return rw_buf_status(e);
    return pct_into(seg, n, out);
}

/* Decode a percent-encoded base64 value into raw bytes. */
static int b64_value(const char *v, size_t n, struct buf *raw)
{
    struct buf t = BUF_INIT(INFLATE_MAX);
    int rc = RW_OK;

    if (rw_pct_decode(v, n, &t) != 0 || rw_b64_any_decode(t.data, t.len, raw) != 0)
        rc = RW_EINVAL;
    buf_free(&t);
    return rc;
}

static int json_url(json_t *obj, const char *member, struct buf *out)
{
    json_t *v = json_object_get(obj, member);

    if (!json_is_string(v))
        return RW_EINVAL;
    return rw_buf_status(buf_append(out, json_string_value(v), json_string_length(v)));
}

static int dec_mandrill(const struct rw_urlp *u, const struct rw_rule *ru,
                        struct buf *out)
{
    struct buf raw = BUF_INIT(INFLATE_MAX);
    json_t *outer = NULL, *inner = NULL, *p;
    const char *v;
    size_t vn;
    int rc = RW_EINVAL;

    (void)ru;
    if (!rw_query_find(u, "p", &v, &vn) || b64_value(v, vn, &raw) != RW_OK)
        goto out;
    if ((outer = json_loadb(raw.data, raw.len, JSON_DISABLE_EOF_CHECK, NULL)) == NULL ||
        !json_is_object(outer))
        goto out;
    p = json_object_get(outer, "p");
    if (json_is_string(p)) {
        inner = json_loadb(json_string_value(p), json_string_length(p), 0, NULL);
        if (json_is_object(inner))
            rc = json_url(inner, "url", out);
    } else if (json_is_object(p)) {
        rc = json_url(p, "url", out);
    } else {
        rc = json_url(outer, "url", out);
    }
out:
    json_decref(inner);
    json_decref(outer);
    buf_free(&raw);
    return rc;
}

/* zlib (or raw deflate) data into out, at most INFLATE_MAX bytes. */
static int inflate_into(const unsigned char *in, size_t n, struct buf *out)
{
    unsigned char chunk[4096];
    z_stream z;
    int zr, rc = RW_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return RW_ENOMEM;
    z.next_in = (unsigned char *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = RW_EINVAL;
            break;
        }
        if (buf_append(out, chunk, sizeof(chunk) - z.avail_out) != 0) {
            rc = RW_EINVAL;
            break;
        }
    } while (zr != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
    if (rc == RW_OK && zr != Z_STREAM_END)
        rc = RW_EINVAL;
    inflateEnd(&z);
    return rc;
}

static int dec_mailgun(const struct rw_urlp *u, const struct rw_rule *ru, struct buf *out)
{
    struct buf raw = BUF_INIT(INFLATE_MAX), plain = BUF_INIT(INFLATE_MAX);
    struct rw_urlp q;
    const char *seg, *v;
    size_t n, vn;
    int rc = RW_EINVAL;

    (void)ru;
    if (!path_segment(u, 1, &seg, &n) || rw_b64_any_decode(seg, n, &raw) != 0 ||
        inflate_into((const unsigned char *)raw.data, raw.len, &plain) != RW_OK ||
        plain.len == 0)
        goto out;
    if (plain.len > 0 && plain.data[0] == '{') {
        json_t *j = json_loadb(plain.data, plain.len, 0, NULL);

        if (json_is_object(j))
            rc = json_url(j, "l", out);
        json_decref(j);
        goto out;
    }
    /* A bare query string: make it look like one for rw_query_find. */
    memset(&q, 0, sizeof(q));
    q.s = plain.data;
    q.len = plain.len;
    q.has_query = 1;
    q.query_off = plain.data[0] == '?';
    q.query_len = plain.len - q.query_off;
    if (rw_query_find(&q, "l", &v, &vn))
        rc = pct_into(v, vn, out);
out:
    buf_free(&raw);
    buf_free(&plain);
    return rc;
}

static int dec_mailjet(const struct rw_urlp *u, const struct rw_rule *ru, struct buf *out)
{
    const char *p = u->s + u->path_off, *end = p + u->path_len, *seg;

    (void)ru;
    while (end > p && end[-1] == '/')
        end--;
    seg = end;
    while (seg > p && seg[-1] != '/')
        seg--;
    if (seg == end || rw_b64_any_decode(seg, (size_t)(end - seg), out) != 0)
        return RW_EINVAL;
    return RW_OK;
}

static int dec_b64param(const struct rw_urlp *u, const struct rw_rule *ru,
                        struct buf *out)
{
    const char *v;
    size_t vn;

    if (ru->key == NULL || !rw_query_find(u, ru->key, &v, &vn))
        return RW_EINVAL;
    return b64_value(v, vn, out);
}

static int dec_param(const struct rw_urlp *u, const struct rw_rule *ru, struct buf *out)
{
    const char *v;
    size_t vn;

    if (ru->key == NULL || !rw_query_find(u, ru->key, &v, &vn) || vn == 0)
        return RW_EINVAL;
    return pct_into(v, vn, out);
}

static int starts_http(const char *s, size_t n)
{
    return (n >= 7 && strncasecmp(s, "http://", 7) == 0) ||
           (n >= 8 && strncasecmp(s, "https://", 8) == 0);
}

static int dec_path_url(const struct rw_urlp *u, const struct rw_rule *ru,
                        struct buf *out)
{
    const char *p = u->s + u->path_off, *end = p + u->path_len;

    (void)ru;
    for (; p < end; p++) {
        const char *seg = p + 1, *e;

        if (*p != '/' || end - seg < 4 || strncasecmp(seg, "http", 4) != 0)
            continue;
        /* Written raw: the destination runs to the end, query included. */
        if (starts_http(seg, (size_t)(u->s + u->len - seg)))
            return rw_buf_status(buf_append(out, seg, (size_t)(u->s + u->len - seg)));
        e = memchr(seg, '/', (size_t)(end - seg));
        if (e == NULL)
            e = end;
        buf_reset(out);
        if (pct_into(seg, (size_t)(e - seg), out) == RW_OK &&
            starts_http(out->data, out->len)) {
            /* Streak encodes the path only; the query stays outside. */
            if (e == end && end < u->s + u->len &&
                memchr(out->data, '?', out->len) == NULL)
                return rw_buf_status(buf_append(out, end, (size_t)(u->s + u->len - end)));
            return RW_OK;
        }
        buf_reset(out);
    }
    return RW_EINVAL;
}

static int dec_generic(const struct rw_urlp *u, const struct rw_rule *ru, struct buf *out)
{
    const char *q = u->s + u->query_off, *end = q + u->query_len;

    if (ru->key != NULL)
        return dec_param(u, ru, out);
    while (u->has_query && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q)), *eq;

        if (amp == NULL)
            amp = end;
        eq = memchr(q, '=', (size_t)(amp - q));
        if (eq != NULL) {
            buf_reset(out);
            if (pct_into(eq + 1, (size_t)(amp - eq - 1), out) == RW_OK &&
                rw_is_http_url(out->data, out->len))
                return RW_OK;
        }
        q = amp + 1;
    }
    buf_reset(out);
    return RW_EINVAL;
}

/* Image proxies (Gmail's /proxy/ and /meips/): the fetched URL follows the
 * first '#', raw or percent-encoded; older Gmail URLs glue it to the end of
 * the signature instead ("...=s0-d-e1-fthttp://host/x"). */
static int dec_fragment(const struct rw_urlp *u, const struct rw_rule *ru,
                        struct buf *out)
{
    const char *hash = memchr(u->s, '#', u->len), *end = u->s + u->len, *p;
    size_t n;

    (void)ru;
    if (hash != NULL) {
        n = (size_t)(end - hash - 1);
        if (starts_http(hash + 1, n))
            return rw_buf_status(buf_append(out, hash + 1, n));
        if (pct_into(hash + 1, n, out) == RW_OK && starts_http(out->data, out->len))
            return RW_OK;
        buf_reset(out);
        return RW_EINVAL;
    }
    for (p = u->s + u->path_off; (p = memchr(p, '-', (size_t)(end - p))) != NULL; p++)
        if (end - p > 3 && (p[1] | 0x20) == 'f' && (p[2] | 0x20) == 't' &&
            starts_http(p + 3, (size_t)(end - p - 3)))
            return rw_buf_status(buf_append(out, p + 3, (size_t)(end - p - 3)));
    return RW_EINVAL;
}

/* Customer.io: a path segment is base64url of a JSON object whose member
 * ru->field is the destination. */
static int dec_json_segment(const struct rw_urlp *u, const struct rw_rule *ru,
                            struct buf *out)
{
    const char *seg;
    size_t n;

    for (unsigned i = 0; ru->field != NULL && path_segment(u, i, &seg, &n); i++) {
        struct buf raw = BUF_INIT(INFLATE_MAX);
        json_t *j = NULL;
        int rc = RW_EINVAL;

        /* "eyJ" is base64 of '{"': skip the other segments cheaply. */
        if (n >= 4 && memcmp(seg, "eyJ", 3) == 0 &&
            rw_b64_any_decode(seg, n, &raw) == 0 &&
            (j = json_loadb(raw.data, raw.len, 0, NULL)) != NULL && json_is_object(j))
            rc = json_url(j, ru->field, out);
        json_decref(j);
        buf_free(&raw);
        if (rc != RW_EINVAL)
            return rc;
    }
    return RW_EINVAL;
}

static const struct {
    const char *name;
    decode_fn fn;
    int needs; /* 0, 'k' (key=) or 'f' (field=) */
} decoders[] = {
    {"ses", dec_ses, 0},           {"postmark", dec_postmark, 0},
    {"mandrill", dec_mandrill, 0}, {"mailgun", dec_mailgun, 0},
    {"mailjet", dec_mailjet, 0},   {"base64-param", dec_b64param, 'k'},
    {"param", dec_param, 'k'},     {"json-segment", dec_json_segment, 'f'},
    {"path-url", dec_path_url, 0}, {"generic", dec_generic, 0},
    {"fragment", dec_fragment, 0},
};
#define NDECODERS (sizeof(decoders) / sizeof(decoders[0]))

int rw_decoder_find(const char *name)
{
    for (size_t i = 0; i < NDECODERS; i++)
        if (strcmp(decoders[i].name, name) == 0)
            return (int)i;
    return -1;
}

int rw_decoder_needs(int idx)
{
    return idx >= 0 && (size_t)idx < NDECODERS ? decoders[idx].needs : 0;
}

/* A destination decoded one level too far ("a b" for "a%20b") is still
 * the destination: spaces are written back as %20. Other control bytes
 * stay and make the caller refuse it. */
static int spaces_escaped(struct buf *b, size_t max)
{
    struct buf t = BUF_INIT(max);
    int e = 0;

    for (size_t i = 0; i < b->len && e == 0; i++)
        e = b->data[i] == ' ' ? buf_puts(&t, "%20") : buf_putc(&t, b->data[i]);
    if (e != 0) {
        buf_free(&t);
        return rw_buf_status(e);
    }
    buf_free(b);
    *b = t;
    return RW_OK;
}

int rw_decoder_run(const struct rw_rule *ru, const struct rw_urlp *u, size_t max,
                   char **out)
{
    struct buf b = BUF_INIT(max);
    int rc;

    *out = NULL;
    if (ru->decoder < 0 || (size_t)ru->decoder >= NDECODERS)
        return RW_EINVAL;
    rc = decoders[ru->decoder].fn(u, ru, &b);
    if (rc == RW_OK && b.len == 0)
        rc = RW_EINVAL;
    if (rc == RW_OK && memchr(b.data, '\0', b.len) != NULL)
        rc = RW_EINVAL; /* an embedded NUL would truncate the URL */
    if (rc == RW_OK && memchr(b.data, ' ', b.len) != NULL)
        rc = spaces_escaped(&b, max);
    if (rc == RW_OK && (*out = buf_steal(&b, NULL)) == NULL)
        rc = RW_ENOMEM;
    buf_free(&b);
    return rc;
}
