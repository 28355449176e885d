/* codec - transfer encodings and charsets for the engine.
 *
 * Quoted-printable and base64 are decoded and encoded here rather than
 * through gmime filters so that line ends are under our control: the
 * encoder writes the line end the part used in the input (CRLF or LF).
 * Charsets go through iconv (GLib), with gmime's alias table to map
 * labels such as "latin1" to iconv names. Every output goes into a
 * struct buf, whose ceiling bounds memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "rewriter/rw_engine.h"

static const signed char hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,
    ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14,
    ['E'] = 15, ['F'] = 16, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
    ['f'] = 16};

/* 0..15, or -1 if c is not a hex digit (the table holds value + 1). */
static inline int hexval(int c)
{
    return hexv[(unsigned char)c] - 1;
}

/* A '=' followed by optional blanks and a line end is a soft break; its
 * length (up to and including the line end) or 0. */
static inline size_t soft_break(const char *p, size_t n)
{
    size_t i = 1;

    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < n && p[i] == '\n')
        return i + 1;
    if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
        return i + 2;
    if (i == n)
        return n; /* "=" at the very end: a soft break without line end */
    return 0;
}

static int qpt_add(struct rw_qptab *t, size_t raw_off, size_t dec_off)
{
    struct rw_qpline *v;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;

        if ((v = g_try_renew(struct rw_qpline, t->v, cap)) == NULL)
            return RW_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct rw_qpline){raw_off, raw_off, dec_off, 0};
    return RW_OK;
}

/* Decode in[i..lend) (one physical line, or all of it) into w; soft
 * breaks and escapes are judged on everything up to len, so cutting at
 * line ends changes nothing: neither ever spans a line end. */
static size_t qp_run(const char *in, size_t i, size_t lend, size_t len, char **wp, int *soft)
{
    char *w = *wp;
    size_t sb;
    int hi, lo;

    while (i < lend) {
        /* escapes often follow each other ("=C3=A9"): no memchr then */
        if (in[i] != '=') {
            const char *eq = memchr(in + i, '=', lend - i);
            size_t run = eq ? (size_t)(eq - (in + i)) : lend - i;
            memcpy(w, in + i, run);
            w += run;
            i += run;
            if (i >= lend)
                break;
        }
        if ((sb = soft_break(in + i, len - i)) != 0) {
            i += sb;
            *soft = 1;
        } else if (i + 2 < len && (hi = hexval(in[i + 1])) >= 0 &&
                   (lo = hexval(in[i + 2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            i += 3;
        } else {
            *w++ = '='; /* a stray '=' is kept literally, as mail readers do */
            i++;
        }
    }
    *wp = w;
    return i;
}

int rw_qp_decode_tab(const char *in, size_t len, struct buf *out, struct rw_qptab *t)
{
    size_t i = 0, start = out->len, lend;
    char *w;
    const char *nl;
    int e, soft = 0;

    /* Decoding never grows the text: room for len bytes is enough (the
     * same ceiling as appending the input). in must not lie in out. */
    if ((e = buf_reserve(out, len)) != 0)
        return rw_buf_status(e);
    w = out->data + start;
    if (t == NULL)
        qp_run(in, 0, len, len, &w, &soft);
    while (t != NULL && i < len) {
        nl = memchr(in + i, '\n', len - i);
        lend = nl ? (size_t)(nl - in) + 1 : len;
        if ((e = qpt_add(t, i, (size_t)(w - (out->data + start)))) != RW_OK)
            return e;
        soft = 0;
        i = qp_run(in, i, lend, len, &w, &soft);
        t->v[t->n - 1].raw_end = i;
        t->v[t->n - 1].soft = soft;
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    if (t != NULL)
        t->declen = out->len - start;
    return RW_OK;
}

int rw_qp_decode(const char *in, size_t len, struct buf *out)
{
    return rw_qp_decode_tab(in, len, out, NULL);
}

/* A small output window flushed into the buffer: QP output is produced a
 * few bytes at a time, and one buf_append per byte would dominate. */
struct qpw {
    struct buf *out;
    size_t n;
    int err;
    char w[8192];
};

static void qpw_flush(struct qpw *q)
{
    if (q->err == 0 && q->n > 0)
        q->err = buf_append(q->out, q->w, q->n);
    q->n = 0;
}

static inline void qpw_put(struct qpw *q, const char *s, size_t n)
{
    if (q->n + n > sizeof q->w)
        qpw_flush(q);
    memcpy(q->w + q->n, s, n);
    q->n += n;
}

/* Encode one line (without its line end). */
static void qp_line(const char *s, size_t n, const char *eol, size_t eoln, struct qpw *q)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, col = 0, w;
    unsigned char c;
    char *o;

    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        w = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && i + 1 < n)
                ? 1
                : 3;
        if (q->n + 8 > sizeof q->w)
            qpw_flush(q);
        o = q->w + q->n;
        /* Keep room for the soft break's '=' within 76 columns. */
        if (col + w > 75 && !(i + 1 == n && col + w <= 76)) {
            *o++ = '=';
            memcpy(o, eol, eoln);
            o += eoln;
            col = 0;
        }
        if (w == 1) {
            *o++ = (char)c;
        } else {
            o[0] = '=';
            o[1] = hex[c >> 4];
            o[2] = hex[c & 15];
            o += 3;
        }
        col += w;
        q->n = (size_t)(o - q->w);
    }
}

int rw_qp_encode(const char *in, size_t len, int crlf, struct buf *out)
{
    const char *eol = crlf ? "\r\n" : "\n";
    size_t eoln = crlf ? 2 : 1, n;
    const char *p = in, *end = in + len, *nl;
    struct qpw *q = g_try_new(struct qpw, 1);
    int e;

    if (q == NULL)
        return RW_ENOMEM;
    q->out = out;
    q->n = 0;
    q->err = 0;
    while (p < end && q->err == 0) {
        nl = memchr(p, '\n', (size_t)(end - p));
        n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (nl && n > 0 && p[n - 1] == '\r')
            n--; /* CRLF in the text is one hard break */
        qp_line(p, n, eol, eoln, q);
        if (nl == NULL)
            break;
        qpw_put(q, eol, eoln);
        p = nl + 1;
    }
    qpw_flush(q);
    e = q->err;
    g_free(q);
    return rw_buf_status(e);
}

int rw_b64_decode(const char *in, size_t len, struct buf *out)
{
    gint state = 0;
    guint save = 0;
    size_t chunk, n;
    guchar tmp[3072];
    int e;

    /* g_base64_decode_step skips characters outside the alphabet. */
    while (len > 0) {
        chunk = len > 4096 ? 4096 : len;
        n = g_base64_decode_step(in, chunk, tmp, &state, &save);
        if ((e = buf_append(out, tmp, n)) != 0)
            return rw_buf_status(e);
        in += chunk;
        len -= chunk;
    }
    return RW_OK;
}

int rw_b64_encode(const char *in, size_t len, int crlf, int final_eol, struct buf *out)
{
    const char *eol = crlf ? "\r\n" : "\n";
    gchar *enc = g_base64_encode((const guchar *)in, len);
    size_t n = strlen(enc), i, w;
    int e = 0;

    for (i = 0; i < n && e == 0; i += w) {
        w = n - i > 76 ? 76 : n - i;
        e = buf_append(out, enc + i, w);
        if (e == 0 && (i + w < n || final_eol))
            e = buf_puts(out, eol);
    }
    if (n == 0 && final_eol)
        e = buf_puts(out, eol);
    g_free(enc);
    return rw_buf_status(e);
}

int rw_charset_passthrough(const char *cs)
{
    static const char *const same[] = {
        "utf-8",     "utf8", "us-ascii",          "ascii", "ansi_x3.4-1968",
        "iso646-us", "us",   "unicode-1-1-utf-8", NULL};
    size_t i;

    if (cs == NULL || *cs == '\0')
        return 1;
    for (i = 0; same[i]; i++)
        if (g_ascii_strcasecmp(cs, same[i]) == 0)
            return 1;
    return 0;
}

static int convert(const char *to, const char *from, const char *in, size_t len,
                   struct buf *out)
{
    GIConv cd = g_iconv_open(to, from);
    gchar *ip = (gchar *)in, *op;
    gsize il = len, ol, r;
    char tmp[4096];
    int rc = RW_OK, e, flushing = 0, err;

    if (cd == (GIConv)-1)
        return RW_ECHARSET;
    for (;;) {
        op = tmp;
        ol = sizeof tmp;
        /* After the input, one call with NULL flushes shift states. */
        r = flushing ? g_iconv(cd, NULL, NULL, &op, &ol)
                     : g_iconv(cd, &ip, &il, &op, &ol);
        err = errno;
        if ((e = buf_append(out, tmp, sizeof tmp - ol)) != 0) {
            rc = rw_buf_status(e);
            break;
        }
        if (r == (gsize)-1 && err == E2BIG)
            continue;
        if (r == (gsize)-1) {
            rc = RW_ECHARSET; /* EILSEQ, EINVAL: not representable or truncated */
            break;
        }
        if (flushing)
            break;
        flushing = 1;
    }
    g_iconv_close(cd);
    return rc;
}

int rw_charset_decode(const char *cs, const char *in, size_t len, struct buf *out)
{
    const char *name = g_mime_charset_iconv_name(cs);

    return convert("UTF-8", name ? name : cs, in, len, out);
}

int rw_charset_encode(const char *cs, const char *in, size_t len, struct buf *out)
{
    const char *name = g_mime_charset_iconv_name(cs);

    return convert(name ? name : cs, "UTF-8", in, len, out);
}

/* An EBCDIC code page named cp037, ibm-1047, ibm500, csibm273... */
static int ebcdic_name(const char *cs)
{
    static const unsigned pages[] = {37,  273, 277, 278, 280, 284, 285, 290, 297,  420,
                                     423, 424, 500, 870, 871, 875, 880, 905, 918,  1025,
                                     1026, 1047, 1140, 1141, 1142, 1143, 1144, 1145, 1146,
                                     1147, 1148, 1149};
    const char *p = cs;
    char *end;
    unsigned long n;

    if (g_ascii_strncasecmp(p, "cs", 2) == 0)
        p += 2;
    if (g_ascii_strncasecmp(p, "ibm", 3) == 0)
        p += 3;
    else if (g_ascii_strncasecmp(p, "cp", 2) == 0)
        p += 2;
    else
        return 0;
    p += *p == '-' || *p == '_';
    if (!g_ascii_isdigit(*p))
        return 0;
    n = strtoul(p, &end, 10);
    for (size_t i = 0; *end == '\0' && i < sizeof pages / sizeof pages[0]; i++)
        if (n == pages[i])
            return 1;
    return 0;
}

int rw_charset_ascii_compat(const char *cs, const char *in, size_t len, const char **why)
{
    static const char *const wide[] = {"utf-16", "utf16", "utf-32", "utf32", "ucs-2",
                                       "ucs2",   "ucs-4", "ucs4",   "unicode", "utf-7",
                                       "utf7",   "iso-2022", "iso2022", "cp1200", "cp1201",
                                       "cp12000", "cp12001", "csunicode", "cp65000", NULL};

    *why = "its bytes are not ASCII-compatible (UTF-16/32, UTF-7, ISO-2022, HZ or EBCDIC)";
    for (size_t i = 0; cs && wide[i]; i++)
        if (g_ascii_strncasecmp(cs, wide[i], strlen(wide[i])) == 0)
            return 0;
    if (cs && (g_ascii_strncasecmp(cs, "hz", 2) == 0 || strstr(cs, "ebcdic") != NULL ||
               strstr(cs, "EBCDIC") != NULL || ebcdic_name(cs)))
        return 0;
    *why = "its bytes do not look ASCII-compatible (NUL or ESC bytes)";
    return memchr(in, '\0', len) == NULL && memchr(in, 0x1B, len) == NULL;
}

int rw_is_ascii(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] & 0x80)
            return 0;
    return 1;
}

/* --- minimal QP re-encoding -------------------------------------------- */

/* Index of the line holding decoded offset off (the last line for the end). */
static size_t line_of(const struct rw_qpline *v, size_t n, size_t off)
{
    size_t lo = 0, hi = n;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].dec_off <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Re-encode lines [a, b] (decoded [start, stop)) with the patches
 * p[0..np) applied; a group ending in a soft break keeps one. */
static int qp_group(const struct rw_qpline *v, size_t a, size_t b, size_t stop,
                    const char *dec, const struct rw_patch *p, size_t np, int crlf,
                    struct buf *out)
{
    size_t pos = v[a].dec_off, i;
    struct buf chunk = BUF_INIT(0);
    int e = 0, rc;

    for (i = 0; i < np && e == 0; i++) {
        e = buf_append(&chunk, dec + pos, p[i].off - pos);
        if (e == 0)
            e = buf_append(&chunk, p[i].repl, p[i].repl_len);
        pos = p[i].off + p[i].len;
    }
    if (e == 0)
        e = buf_append(&chunk, dec + pos, stop - pos);
    rc = e ? rw_buf_status(e) : rw_qp_encode(chunk.data ? chunk.data : "", chunk.len, crlf, out);
    if (rc == RW_OK && v[b].soft)
        rc = rw_buf_status(buf_puts(out, crlf ? "=\r\n" : "=\n"));
    buf_free(&chunk);
    return rc;
}

int rw_qp_patch_tab(const char *raw, size_t rawlen, const char *dec, size_t declen,
                    const struct rw_qptab *t, const struct rw_patch *p, size_t n, int crlf,
                    struct buf *out)
{
    const struct rw_qpline *v = t->v;
    size_t nl = t->n, i = 0, j, a, b, copied = 0, stop;
    int rc = RW_OK;

    if (t->declen != declen || nl == 0 || v[nl - 1].raw_end != rawlen)
        return RW_EINVAL; /* not the decoding of raw: the caller re-encodes all */
    while (i < n && rc == RW_OK) {
        a = line_of(v, nl, p[i].off);
        b = line_of(v, nl, p[i].len ? p[i].off + p[i].len - 1 : p[i].off);
        for (j = i + 1; j < n && line_of(v, nl, p[j].off) <= b; j++) {
            size_t e = line_of(v, nl, p[j].len ? p[j].off + p[j].len - 1 : p[j].off);
            b = e > b ? e : b;
        }
        stop = b + 1 < nl ? v[b + 1].dec_off : declen;
        rc = rw_buf_status(buf_append(out, raw + copied, v[a].raw_off - copied));
        if (rc == RW_OK)
            rc = qp_group(v, a, b, stop, dec, p + i, j - i, crlf, out);
        copied = v[b].raw_end;
        i = j;
    }
    if (rc == RW_OK)
        rc = rw_buf_status(buf_append(out, raw + copied, rawlen - copied));
    return rc;
}

int rw_qp_patch(const char *raw, size_t rawlen, const char *dec, size_t declen,
                const struct rw_patch *p, size_t n, int crlf, struct buf *out)
{
    struct rw_qptab t = {NULL, 0, 0, 0};
    struct buf redec = BUF_INIT(0);
    int rc = rw_qp_decode_tab(raw, rawlen, &redec, &t);

    buf_free(&redec);
    if (rc == RW_OK)
        rc = rw_qp_patch_tab(raw, rawlen, dec, declen, &t, p, n, crlf, out);
    g_free(t.v);
    return rc;
}
