/* html_attr - the raw-byte view of a start tag's attributes.
 *
 * libxml2 decides what a tag is and gives decoded attribute values but no
 * byte positions. This module re-reads the bytes of one tag with the same
 * rules as libxml2 2.9's htmlParseStartTag / htmlParseAttribute /
 * htmlParseHTMLAttribute, so the caller can find where each value lives,
 * and decodes a raw value the way libxml2 does so the caller can check
 * that both readings agree before trusting the range. Pure functions, no
 * allocation except into the caller's buffer. */
#include "rewriter/html_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <libxml/HTMLparser.h>

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* htmlParseHTMLName's character classes. */
static int html_name_start(unsigned char c)
{
    return is_alpha(c) || c == '_' || c == ':' || c == '.';
}

/* html_name_char as a table: the attribute name loop is hot. */
#define NC4(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1
static const unsigned char name_char_tab[256] = {
    NC4('a'), NC4('e'), NC4('i'), NC4('m'), NC4('q'), NC4('u'), ['y'] = 1, ['z'] = 1,
    NC4('A'), NC4('E'), NC4('I'), NC4('M'), NC4('Q'), NC4('U'), ['Y'] = 1, ['Z'] = 1,
    NC4('0'), NC4('4'), ['8'] = 1, ['9'] = 1, [':'] = 1, ['-'] = 1, ['_'] = 1, ['.'] = 1};
#undef NC4

static int html_name_char(unsigned char c)
{
    return name_char_tab[c];
}

static int at_tag_end(const char *doc, size_t len, size_t p)
{
    return p >= len || doc[p] == '>' || (doc[p] == '/' && p + 1 < len && doc[p + 1] == '>');
}

static size_t skip_blanks(const char *doc, size_t bound, size_t p)
{
    while (p < bound && is_blank((unsigned char)doc[p]))
        p++;
    return p;
}

/* htmlParseAttValue: quoted up to the same quote (or end of input),
 * unquoted up to a blank or '>'. */
static size_t lex_value(const char *doc, size_t len, size_t bound, size_t p,
                        struct rw_rawattr *a)
{
    const char *q;

    if (p < bound && (doc[p] == '"' || doc[p] == '\'')) {
        a->quote = doc[p] == '"' ? RW_Q_DOUBLE : RW_Q_SINGLE;
        a->voff = ++p;
        q = memchr(doc + p, doc[p - 1], bound - p);
        if (q == NULL && bound < len)
            return SIZE_MAX;
        a->vlen = q ? (size_t)(q - (doc + p)) : len - p;
        return q ? (size_t)(q - doc) + 1 : len;
    }
    a->quote = RW_Q_NONE;
    a->voff = p;
    while (p < bound && !is_blank((unsigned char)doc[p]) && doc[p] != '>')
        p++;
    a->vlen = p - a->voff;
    return p;
}

size_t rw_tag_lex(const char *doc, size_t len, size_t p, size_t bound, rw_attr_fn fn,
                  void *ctx)
{
    struct rw_rawattr a;

    if (bound > len)
        bound = len;
    for (p = skip_blanks(doc, bound, p); p <= bound && !at_tag_end(doc, len, p);
         p = skip_blanks(doc, bound, p)) {
        if (p == bound)
            return SIZE_MAX; /* the tag goes on past bound */
        if (!html_name_start((unsigned char)doc[p])) {
            /* libxml2 drops a bogus attribute up to the next blank or tag end */
            while (p < bound && !at_tag_end(doc, len, p) && !is_blank((unsigned char)doc[p]))
                p++;
            continue;
        }
        memset(&a, 0, sizeof(a));
        a.noff = p;
        while (p < bound && html_name_char((unsigned char)doc[p]) && p - a.noff < RW_HTML_NAME_MAX)
            p++;
        a.nlen = p - a.noff;
        p = skip_blanks(doc, bound, p);
        if (p < bound && doc[p] == '=') {
            a.has_value = 1;
            p = lex_value(doc, len, bound, skip_blanks(doc, bound, p + 1), &a);
            if (p == SIZE_MAX)
                return SIZE_MAX;
        }
        if (fn != NULL)
            fn(ctx, doc, &a);
    }
    return p > bound ? SIZE_MAX : p;
}

/* IS_CHAR of libxml2: what a character reference may produce. */
static unsigned valid_char(unsigned long c)
{
    if (c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
        || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF))
        return (unsigned)c;
    return 0;
}

static int hexval(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* htmlParseCharRef from raw[i] == '&', raw[i+1] == '#'. *end receives the
 * offset after the reference. Returns the character, 0 if invalid. */
static unsigned char_ref(const char *raw, size_t len, size_t i, size_t *end)
{
    unsigned long val = 0;
    int hex = i + 2 < len && (raw[i + 2] == 'x' || raw[i + 2] == 'X');
    size_t j = i + (hex ? 3 : 2);
    int d;

    for (; j < len && raw[j] != ';'; j++) {
        d = hex ? hexval((unsigned char)raw[j])
                : (is_digit((unsigned char)raw[j]) ? raw[j] - '0' : -1);
        if (d < 0)
            break;
        if (val < 0x110000)
            val = val * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (j < len && raw[j] == ';')
        j++;
    *end = j;
    return valid_char(val);
}

static size_t utf8_put(unsigned c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* htmlParseEntityRef from raw[i] == '&' (not '#'): a known name followed
 * by ';' is decoded; anything else is kept as written. Returns the
 * character or 0 with *end the offset after what was consumed. */
static unsigned named_ref(const char *raw, size_t len, size_t i, size_t *end)
{
    const htmlEntityDesc *ent;
    char name[16];
    size_t j = i + 1;
    unsigned char c;

    if (j >= len || !(is_alpha((unsigned char)raw[j]) || raw[j] == '_' || raw[j] == ':'
                      || (unsigned char)raw[j] >= 0x80)) {
        *end = i + 1;
        return 0;
    }
    for (; j < len; j++) {
        c = (unsigned char)raw[j];
        if (!(html_name_char(c) || c >= 0x80))
            break;
    }
    *end = j;
    if (j >= len || raw[j] != ';' || j - i - 1 >= sizeof(name))
        return 0;
    memcpy(name, raw + i + 1, j - i - 1);
    name[j - i - 1] = '\0';
    ent = htmlEntityLookup((const xmlChar *)name);
    if (ent == NULL)
        return 0;
    *end = j + 1;
    return ent->value;
}

/* Append n bytes; map them to raw offset at (each byte to at + k when seq). */
static int put_bytes(struct buf *out, size_t *map, size_t start, const char *p, size_t n,
                     size_t at, int seq)
{
    size_t k, base = out->len - start;
    int rc = buf_append(out, p, n);

    if (rc != 0)
        return rw_buf_status(rc);
    if (map != NULL)
        for (k = 0; k < n; k++)
            map[base + k] = seq ? at + k : at;
    return RW_OK;
}

int rw_ent_decode(const char *raw, size_t len, struct buf *out, size_t *map)
{
    size_t i = 0, j, start = out->len;
    unsigned c;
    char u[4];
    int rc;

    while (i < len) {
        if (raw[i] != '&') {
            const char *amp = memchr(raw + i, '&', len - i);
            j = amp ? (size_t)(amp - raw) : len;
            if ((rc = put_bytes(out, map, start, raw + i, j - i, i, 1)) != RW_OK)
                return rc;
            i = j;
            continue;
        }
        if (i + 1 < len && raw[i + 1] == '#') {
            c = char_ref(raw, len, i, &j);
            if (c == 0)
                return RW_EPARSE; /* libxml2 writes a NUL: value truncated */
        } else {
            c = named_ref(raw, len, i, &j);
        }
        if (c != 0)
            rc = put_bytes(out, map, start, u, utf8_put(c, u), i, 0);
        else
            rc = put_bytes(out, map, start, raw + i, j - i, i, 1);
        if (rc != RW_OK)
            return rc;
        i = j;
    }
    if (map != NULL)
        map[out->len - start] = len;
    return RW_OK;
}
