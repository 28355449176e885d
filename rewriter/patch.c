/* patch - byte patches on the original part, escaping of replacement URLs
 * for the place they go, and the site array shared by the scanners.
 *
 * The rewriter never re-serialises: a part is copied byte for byte and
 * only the ranges the scanners found are replaced (SPEC §3.1 "Byte
 * fidelity"). Replacement URLs are escaped here for their context so that
 * libxml2 (and a browser) reads back exactly the URL the engine chose. */
#include "rewriter/html_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const struct rw_limits *rw_limits_or_default(const struct rw_limits *lim)
{
    static const struct rw_limits def = {20, 500, 8u << 20, 256, 64u << 10, 16u << 10, 5};

    return lim != NULL ? lim : &def;
}

void rw_site_init(struct rw_site *s, enum rw_place place)
{
    memset(s, 0, sizeof(*s));
    s->place = place;
    s->width = s->height = -1;
}

int rw_sites_add(struct rw_sites *s, struct rw_site *site)
{
    struct rw_site *v;
    size_t cap;

    if (s->n == s->cap) {
        cap = s->cap ? s->cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof(*v) || (v = realloc(s->v, cap * sizeof(*v))) == NULL) {
            free(site->url);
            free(site->text);
            site->url = site->text = NULL;
            return RW_ENOMEM;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *site;
    return RW_OK;
}

void rw_sites_free(struct rw_sites *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++) {
        free(s->v[i].url);
        free(s->v[i].text);
    }
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
    s->body_close = -1;
}

int rw_patch_apply(const char *src, size_t len, const struct rw_patch *p, size_t n,
                   struct buf *out)
{
    size_t i, at = 0;
    int rc;

    for (i = 0; i < n; i++)
        if (p[i].off < at || p[i].off > len || p[i].len > len - p[i].off
            || (p[i].repl == NULL && p[i].repl_len != 0))
            return RW_EINVAL;
        else
            at = p[i].off + p[i].len;
    at = 0;
    for (i = 0; i < n; i++) {
        if ((rc = rw_buf_status(buf_append(out, src + at, p[i].off - at))) != RW_OK)
            return rc;
        if ((rc = rw_buf_status(buf_append(out, p[i].repl, p[i].repl_len))) != RW_OK)
            return rc;
        at = p[i].off + p[i].len;
    }
    return rw_buf_status(buf_append(out, src + at, len - at));
}

static int put_pct(struct buf *out, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char t[3] = {'%', hex[c >> 4], hex[c & 15]};

    return buf_append(out, t, 3);
}

/* CSS layer: inside url( ). Whitespace and controls are never legal there;
 * an unquoted url() also ends at ( ) ' " \ ; a quoted one at its quote. */
static int css_char(struct buf *out, unsigned char c, enum rw_quote q)
{
    if (c <= 0x20 || c == 0x7F)
        return put_pct(out, c);
    if (q == RW_Q_NONE && (c == '(' || c == ')' || c == '\'' || c == '"' || c == '\\'))
        return put_pct(out, c);
    if ((q == RW_Q_DOUBLE && c == '"') || (q == RW_Q_SINGLE && c == '\'') || c == '\\')
        return put_pct(out, c);
    return buf_putc(out, c);
}

/* Attribute layer. aq: the attribute's quote; -1 when unknown (style=""
 * of a CSS site), in which case both quotes are escaped. '>' becomes an
 * entity, not %3E, so the URL reads back unchanged even when unquoted. */
static int attr_char(struct buf *out, unsigned char c, int aq)
{
    if (c == '&')
        return buf_puts(out, "&amp;");
    if (c == '<')
        return buf_puts(out, "&lt;");
    if (c == '"' && aq != RW_Q_SINGLE)
        return buf_puts(out, "&quot;");
    if (c == '\'' && aq != RW_Q_DOUBLE)
        return buf_puts(out, "&#39;");
    if (c <= 0x20 || c == 0x7F)
        return put_pct(out, c); /* never valid in a URL; would end an unquoted value */
    if (c == '>')
        return buf_puts(out, "&gt;");
    return buf_putc(out, c);
}

int rw_site_escape(const struct rw_site *s, const char *url, struct buf *out)
{
    struct buf tmp = BUF_INIT(0);
    const unsigned char *u = (const unsigned char *)url;
    int rc = 0;
    size_t i;

    if (s->esc == RW_ESC_NONE)
        return rw_buf_status(buf_puts(out, url));
    if (s->esc == RW_ESC_ATTR) {
        while (*u && rc == 0) {
            size_t run = 0;

            /* bytes attr_char copies as they are, in one append */
            while (u[run] > 0x20 && u[run] != 0x7F && u[run] != '&' && u[run] != '<' &&
                   u[run] != '>' && u[run] != '"' && u[run] != '\'')
                run++;
            if (run > 0) {
                rc = buf_append(out, u, run);
                u += run;
            } else {
                rc = attr_char(out, *u++, (int)s->quote);
            }
        }
        return rw_buf_status(rc);
    }
    if (s->esc == RW_ESC_CSS) {
        for (; *u && rc == 0; u++)
            rc = css_char(out, *u, s->quote);
        return rw_buf_status(rc);
    }
    for (; *u && rc == 0; u++)
        rc = css_char(&tmp, *u, s->quote);
    for (i = 0; rc == 0 && i < tmp.len; i++)
        rc = attr_char(out, (unsigned char)tmp.data[i], -1);
    buf_free(&tmp);
    return rw_buf_status(rc);
}
