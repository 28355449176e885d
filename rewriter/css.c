/* css - URL sites in CSS text and rendering hints of inline styles.
 *
 * A small CSS lexer, not a CSS parser: it skips comments and strings,
 * finds url(...) tokens anywhere (background, list-style-image, content,
 * @font-face src, ...) and @import in both forms, decodes CSS escapes in
 * the value, and reports the raw byte range of the value (inside its
 * quotes). One linear pass; a url() that CSS itself would reject (bad-url
 * token) is not reported since no client loads it. rw_css_box reads the
 * declarations that decide whether an image is visible and how big. */
#include "rewriter/html_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

struct cssscan {
    const char *css;
    size_t len;
    const size_t *map;
    size_t base;
    enum rw_esc esc;
    int in_mso;
    const struct rw_limits *lim;
    struct rw_sites *out;
    unsigned iset; /* parenthesis depth inside image-set(), 0: outside */
};

static int css_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int ident_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '_' || c >= 0x80 || c == '\\';
}

static int ci_at(const char *s, size_t len, size_t i, const char *word)
{
    size_t n = strlen(word);

    return i + n <= len && g_ascii_strncasecmp(s + i, word, n) == 0;
}

static size_t skip_comment(const char *s, size_t len, size_t i)
{
    const char *e = i + 2 < len ? g_strstr_len(s + i + 2, (gssize)(len - i - 2), "*/") : NULL;

    return e ? (size_t)(e - s) + 2 : len;
}

/* Offset of the closing quote of the string opening at i, or len. */
static size_t string_end(const char *s, size_t len, size_t i)
{
    char q = s[i];

    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == q || s[i] == '\n')
            return i;
    }
    return len;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len) {
        if (css_ws((unsigned char)s[i]))
            i++;
        else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*')
            i = skip_comment(s, len, i);
        else
            break;
    }
    return i;
}

/* Decode CSS escapes of s[0..n) into out (NUL-terminated). */
static int css_unescape(const char *s, size_t n, struct buf *out)
{
    size_t i, k;
    unsigned long cp;
    char u[6];
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            rc = buf_putc(out, (unsigned char)s[i]);
            continue;
        }
        i++;
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\f')
            continue; /* line continuation inside a string */
        if (!g_ascii_isxdigit(s[i])) {
            rc = buf_putc(out, (unsigned char)s[i]);
            continue;
        }
        for (cp = 0, k = 0; k < 6 && i < n && g_ascii_isxdigit(s[i]); k++, i++)
            cp = cp * 16 + (unsigned long)g_ascii_xdigit_value(s[i]);
        if (i < n && css_ws((unsigned char)s[i]))
            i++;
        i--;
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            cp = 0xFFFD;
        rc = buf_append(out, u, (size_t)g_unichar_to_utf8((gunichar)cp, u));
    }
    if (rc == 0 && out->data == NULL)
        rc = buf_append(out, "", 0);
    return rw_buf_status(rc);
}

/* Report the value css[v0..v1) at place. */
static int add_site(struct cssscan *c, size_t v0, size_t v1, enum rw_quote q,
                    enum rw_place place)
{
    struct buf dec = BUF_INIT(0);
    struct rw_site s;
    size_t a, b;
    int rc;

    if ((rc = css_unescape(c->css + v0, v1 - v0, &dec)) != RW_OK)
        return rc;
    for (a = 0; a < dec.len && css_ws((unsigned char)dec.data[a]); a++)
        ;
    for (b = dec.len; b > a && css_ws((unsigned char)dec.data[b - 1]); b--)
        ;
    if (a == b || b - a > c->lim->max_url_len) {
        rc = (a == b || g_ascii_strncasecmp(dec.data + a, "data:", 5) == 0) ? RW_OK : RW_ELIMIT;
        buf_free(&dec);
        return rc;
    }
    rw_site_init(&s, place);
    s.off = c->base + (c->map ? c->map[v0] : v0);
    s.len = c->base + (c->map ? c->map[v1] : v1) - s.off;
    s.quote = q;
    s.esc = c->esc;
    s.in_mso = c->in_mso;
    s.url = strndup(dec.data + a, b - a);
    buf_free(&dec);
    if (s.url == NULL)
        return RW_ENOMEM;
    return rw_sites_add(c->out, &s);
}

/* url( at i (i points after the parenthesis). *next receives where to
 * continue. */
static int scan_url(struct cssscan *c, size_t i, enum rw_place place, size_t *next)
{
    const char *s = c->css;
    size_t len = c->len, v0, v1;
    enum rw_quote q = RW_Q_NONE;

    i = skip_ws(s, len, i);
    if (i < len && (s[i] == '"' || s[i] == '\'')) {
        q = s[i] == '"' ? RW_Q_DOUBLE : RW_Q_SINGLE;
        v0 = i + 1;
        v1 = string_end(s, len, i);
        *next = v1 < len ? v1 + 1 : len;
        return add_site(c, v0, v1, q, place);
    }
    for (v0 = v1 = i; v1 < len && s[v1] != ')' && !css_ws((unsigned char)s[v1]); v1++) {
        if (s[v1] == '"' || s[v1] == '\'' || s[v1] == '(') {
            *next = v1; /* bad-url token: no client loads it */
            return RW_OK;
        }
        if (s[v1] == '\\')
            v1++;
    }
    if (v1 > len)
        v1 = len;
    *next = v1;
    i = skip_ws(s, len, v1);
    if (i < len && s[i] != ')')
        return RW_OK;
    return add_site(c, v0, v1, q, place);
}

static int scan_import(struct cssscan *c, size_t i, size_t *next)
{
    const char *s = c->css;
    size_t v1;

    i = skip_ws(s, c->len, i);
    *next = i;
    if (i < c->len && (s[i] == '"' || s[i] == '\'')) {
        v1 = string_end(s, c->len, i);
        *next = v1 < c->len ? v1 + 1 : c->len;
        return add_site(c, i + 1, v1, s[i] == '"' ? RW_Q_DOUBLE : RW_Q_SINGLE, RW_P_IMPORT);
    }
    if (ci_at(s, c->len, i, "url("))
        return scan_url(c, i + 4, RW_P_IMPORT, next);
    return RW_OK;
}

/* End of the escape at s[i] == '\\' (CSS Syntax 4.3.7: up to six hex
 * digits and one whitespace, or one character); i if it is not one. */
static size_t escape_end(const char *s, size_t len, size_t i)
{
    size_t k = i + 1;

    if (k >= len || s[k] == '\n' || s[k] == '\r' || s[k] == '\f')
        return i;
    if (!g_ascii_isxdigit(s[k]))
        return k + 1;
    while (k < len && k < i + 7 && g_ascii_isxdigit(s[k]))
        k++;
    return k < len && css_ws((unsigned char)s[k]) ? k + 1 : k;
}

/* End of the identifier starting at i; *esc set when it holds escapes. */
static size_t ident_end(const char *s, size_t len, size_t i, int *esc)
{
    size_t e;

    while (i < len) {
        if (s[i] == '\\') {
            if ((e = escape_end(s, len, i)) == i)
                break;
            *esc = 1;
            i = e;
        } else if (ident_char((unsigned char)s[i])) {
            i++;
        } else {
            break;
        }
    }
    return i;
}

/* The name s[0..n) with escapes decoded, ASCII lower case, into name[cap];
 * 0 when it is longer or not ASCII (no function we look for). */
static size_t func_name(const char *s, size_t n, char *name, size_t cap)
{
    size_t i = 0, k = 0, e;
    unsigned long cp;

    while (i < n && k < cap) {
        if (s[i] != '\\') {
            cp = (unsigned char)s[i++];
        } else if (!g_ascii_isxdigit(s[i + 1])) {
            cp = (unsigned char)s[i + 1];
            i += 2;
        } else {
            e = escape_end(s, n, i);
            for (cp = 0, i++; i < e && g_ascii_isxdigit(s[i]); i++)
                cp = cp * 16 + (unsigned long)g_ascii_xdigit_value(s[i]);
            i = e;
        }
        if (cp == 0 || cp >= 0x80)
            return 0;
        name[k++] = g_ascii_tolower((char)cp);
    }
    return i == n ? k : 0;
}

/* An identifier at i: url( and image-set( in any spelling CSS accepts
 * (u\72l, URL, \75rl ...); other identifiers are skipped whole. */
static int scan_ident(struct cssscan *c, size_t i, size_t *next)
{
    char name[20];
    size_t j, n;
    int esc = 0;

    j = ident_end(c->css, c->len, i, &esc);
    *next = j > i ? j : i + 1;
    if (j == i || j >= c->len || c->css[j] != '(')
        return RW_OK;
    if (!esc && j - i != 3 && j - i != 9 && j - i != 17)
        return RW_OK; /* the usual case: no name we look for */
    n = func_name(c->css + i, j - i, name, sizeof(name));
    if (n == 3 && memcmp(name, "url", 3) == 0) {
        c->iset += c->iset > 0; /* its ')' closes it, not image-set */
        return scan_url(c, j + 1, RW_P_CSS, next);
    }
    if ((n == 9 && memcmp(name, "image-set", 9) == 0)
        || (n == 17 && memcmp(name, "-webkit-image-set", 17) == 0)) {
        c->iset++; /* its strings are URLs */
        *next = j + 1;
    }
    return RW_OK;
}

static int ident_start(unsigned char c)
{
    return g_ascii_isalpha(c) || c == '-' || c == '_' || c == '\\' || c >= 0x80;
}

int rw_css_scan_map(const char *css, size_t len, const size_t *map, size_t base,
                    enum rw_esc esc, int in_mso, const struct rw_limits *lim,
                    struct rw_sites *out)
{
    struct cssscan c = {css, len, map, base, esc, in_mso, rw_limits_or_default(lim), out, 0};
    size_t i = 0, next;
    int rc = RW_OK;

    while (i < len && rc == RW_OK) {
        unsigned char ch = (unsigned char)css[i];
        if (ch == '/' && i + 1 < len && css[i + 1] == '*') {
            i = skip_comment(css, len, i);
        } else if (ch == '"' || ch == '\'') {
            next = string_end(css, len, i);
            if (c.iset == 1) /* image-set("a.png" 1x): a URL */
                rc = add_site(&c, i + 1, next, ch == '"' ? RW_Q_DOUBLE : RW_Q_SINGLE, RW_P_CSS);
            i = next + 1;
        } else if (ch == '@' && ci_at(css, len, i + 1, "import")
                   && (i + 7 >= len || !ident_char((unsigned char)css[i + 7]))) {
            rc = scan_import(&c, i + 7, &next);
            i = next;
        } else if (c.iset > 0 && (ch == '(' || ch == ')')) {
            c.iset += ch == '(' ? 1u : -1u;
            i++;
        } else if (ident_start(ch) && (i == 0 || !ident_char((unsigned char)css[i - 1]))) {
            rc = scan_ident(&c, i, &next);
            i = next;
        } else {
            i++;
        }
    }
    return rc;
}

int rw_css_scan(const char *css, size_t len, size_t base, enum rw_esc esc,
                const struct rw_limits *lim, struct rw_sites *out)
{
    return rw_css_scan_map(css, len, NULL, base, esc, 0, lim, out);
}

int rw_css_px(const char *v, size_t len)
{
    size_t i = 0, e;
    long n = 0;

    while (i < len && css_ws((unsigned char)v[i]))
        i++;
    while (len > i && css_ws((unsigned char)v[len - 1]))
        len--;
    if (i < len && v[i] == '+')
        i++;
    if (i >= len || !g_ascii_isdigit(v[i]))
        return -1;
    for (; i < len && g_ascii_isdigit(v[i]); i++)
        if ((n = n * 10 + (v[i] - '0')) > 1000000)
            n = 1000000; /* clamp: only small sizes matter */
    if (i < len && v[i] == '.')
        for (i++; i < len && g_ascii_isdigit(v[i]); i++)
            ;
    e = len - i;
    if (e == 0 || (e == 2 && g_ascii_strncasecmp(v + i, "px", 2) == 0))
        return (int)n;
    return -1;
}

static int is_zero_number(const char *v, size_t len)
{
    char tmp[32];
    char *end;
    double d;

    if (len == 0 || len >= sizeof(tmp))
        return 0;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    d = g_ascii_strtod(tmp, &end);
    if (end == tmp || (*end != '\0' && strcmp(end, "%") != 0))
        return 0;
    return d <= 0.0;
}

/* One declaration name: value (both trimmed, !important removed). */
static void box_decl(const char *n, size_t nl, const char *v, size_t vl, struct rw_css_box *b)
{
    const char *imp = memchr(v, '!', vl);

    if (imp != NULL)
        vl = (size_t)(imp - v);
    while (vl > 0 && css_ws((unsigned char)v[vl - 1]))
        vl--;
    if (nl == 5 && g_ascii_strncasecmp(n, "width", 5) == 0)
        b->width = rw_css_px(v, vl);
    else if (nl == 6 && g_ascii_strncasecmp(n, "height", 6) == 0)
        b->height = rw_css_px(v, vl);
    else if (nl == 9 && g_ascii_strncasecmp(n, "max-width", 9) == 0)
        b->max_width = rw_css_px(v, vl);
    else if (nl == 10 && g_ascii_strncasecmp(n, "max-height", 10) == 0)
        b->max_height = rw_css_px(v, vl);
    else if (nl == 7 && g_ascii_strncasecmp(n, "display", 7) == 0)
        b->hidden |= vl == 4 && g_ascii_strncasecmp(v, "none", 4) == 0;
    else if (nl == 10 && g_ascii_strncasecmp(n, "visibility", 10) == 0)
        b->hidden |= (vl == 6 && g_ascii_strncasecmp(v, "hidden", 6) == 0)
                     || (vl == 8 && g_ascii_strncasecmp(v, "collapse", 8) == 0);
    else if (nl == 7 && g_ascii_strncasecmp(n, "opacity", 7) == 0)
        b->hidden |= is_zero_number(v, vl);
}

/* Split declarations at ';' outside strings, parentheses and comments. */
/* The bytes rw_css_box acts on; all others only move it forward. */
static const unsigned char box_special[256] = {['/'] = 1, ['"'] = 1, ['\''] = 1, ['('] = 1,
                                               [')'] = 1, [':'] = 1, [';'] = 1};

void rw_css_box(const char *css, size_t len, struct rw_css_box *b)
{
    size_t i = 0, start = 0, colon = SIZE_MAX, n0, n1, v0;
    int paren = 0;

    b->width = b->height = b->max_width = b->max_height = -1;
    b->hidden = 0;
    for (i = 0; i <= len; i++) {
        if (i < len && !box_special[(unsigned char)css[i]])
            continue;
        if (i < len && css[i] == '/' && i + 1 < len && css[i + 1] == '*') {
            n0 = i;
            i = skip_comment(css, len, i) - 1;
            if (colon == SIZE_MAX && skip_ws(css, n0, start) == n0)
                start = i + 1; /* a comment before the property name */
        } else if (i < len && (css[i] == '"' || css[i] == '\'')) {
            i = string_end(css, len, i);
            if (i >= len)
                i = len - 1;
        } else if (i < len && css[i] == '(') {
            paren++;
        } else if (i < len && css[i] == ')' && paren > 0) {
            paren--;
        } else if (i < len && css[i] == ':' && colon == SIZE_MAX && paren == 0) {
            colon = i;
        } else if (i == len || (css[i] == ';' && paren == 0)) {
            if (colon != SIZE_MAX) {
                for (n0 = start; n0 < colon && css_ws((unsigned char)css[n0]); n0++)
                    ;
                for (n1 = colon; n1 > n0 && css_ws((unsigned char)css[n1 - 1]); n1--)
                    ;
                for (v0 = colon + 1; v0 < i && css_ws((unsigned char)css[v0]); v0++)
                    ;
                box_decl(css + n0, n1 - n0, css + v0, i - v0, b);
            }
            start = i + 1;
            colon = SIZE_MAX;
        }
    }
}
