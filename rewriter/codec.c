/* codec - transfer encodings and charsets for the engine.
 *
 * Quoted-printable and base64 are decoded and encoded here rather than
 * through gmime filters so that line ends are under our control: the
 * encoder writes the line end the part used in the input (CRLF or LF).
 * Charsets go through iconv (GLib), with gmime's alias table to map
 * labels such as "latin1" to iconv names. Every output goes into a
 * struct buf, whose ceiling bounds memory. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "rewriter/rw_engine.h"

static int buf_rc(int e)
{
    return e == 0 ? RW_OK : e == EFBIG ? RW_ELIMIT : RW_ENOMEM;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A '=' followed by optional blanks and a line end is a soft break; its
 * length (up to and including the line end) or 0. */
static size_t soft_break(const char *p, size_t n)
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

int rw_qp_decode(const char *in, size_t len, struct buf *out)
{
    size_t i = 0, start = out->len, sb;
    char *w;
    int hi, lo, e;

    /* Decoding never grows the text: copy the input once, then decode in
     * place (the write position never passes the read position). */
    if ((e = buf_append(out, in, len)) != 0)
        return buf_rc(e);
    in = out->data + start;
    w = out->data + start;
    while (i < len) {
        const char *eq = memchr(in + i, '=', len - i);
        size_t run = eq ? (size_t)(eq - (in + i)) : len - i;
        memmove(w, in + i, run);
        w += run;
        i += run;
        if (i >= len)
            break;
        if ((sb = soft_break(in + i, len - i)) != 0) {
            i += sb;
        } else if (i + 2 < len && (hi = hexval(in[i + 1])) >= 0 &&
                   (lo = hexval(in[i + 2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            i += 3;
        } else {
            *w++ = '='; /* a stray '=' is kept literally, as mail readers do */
            i++;
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return RW_OK;
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
        w = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && i + 1 < n) ? 1 : 3;
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
    return buf_rc(e);
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
            return buf_rc(e);
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
    return buf_rc(e);
}

int rw_charset_passthrough(const char *cs)
{
    static const char *const same[] = {"utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968",
                                       "iso646-us", "us", "unicode-1-1-utf-8", NULL};
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
        r = flushing ? g_iconv(cd, NULL, NULL, &op, &ol) : g_iconv(cd, &ip, &il, &op, &ol);
        err = errno;
        if ((e = buf_append(out, tmp, sizeof tmp - ol)) != 0) {
            rc = buf_rc(e);
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

int rw_is_ascii(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] & 0x80)
            return 0;
    return 1;
}
