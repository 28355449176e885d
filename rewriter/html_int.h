/* html_int - private helpers shared by the HTML, CSS and text scanners
 * (html.c html_find.c html_attr.c html_tag.c css.c text.c patch.c). Not
 * installed.
 *
 * Offsets are byte offsets into the scanned UTF-8 part. A "map" is an
 * array of decoded_len + 1 offsets: map[i] is the raw offset of decoded
 * byte i, map[decoded_len] the raw end; it lets a scanner working on
 * entity-decoded text report raw byte ranges. */
#ifndef RW_HTML_INT_H
#define RW_HTML_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "rewriter/rw_int.h"

/* rw_streq - strcmp(a, b) == 0, inline: tag and attribute names are short
 * and compared against many literals per tag. */
static inline int rw_streq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* libxml2 parses names of at most this many bytes (HTML_PARSER_BUFFER_SIZE). */
#define RW_HTML_NAME_MAX 100

/* rw_html_name_char - a byte that continues a tag name for libxml2's
 * htmlParseHTMLName: ASCII letter or digit, ':', '-', '_', '.'. Inline:
 * html.c runs it over every tag name of the part. */
static inline int rw_html_name_char(unsigned char c)
{
    unsigned char l = (unsigned char)(c | 0x20);

    return (c >= '0' && c <= '9') || (l >= 'a' && l <= 'z') || c == ':' || c == '-' ||
           c == '_' || c == '.';
}

/* One attribute as written in the source of a start tag. */
struct rw_rawattr {
    size_t noff, nlen;   /* name */
    size_t voff, vlen;   /* raw value, inside its quotes */
    enum rw_quote quote;
    int has_value;       /* "=" seen */
};

/* Receives each attribute of a tag in source order, duplicates included. */
typedef void (*rw_attr_fn)(void *ctx, const char *doc, const struct rw_rawattr *a);

/* rw_tag_lex - walk the attributes of a start tag the way libxml2 2.9's
 * htmlParseStartTag does, from p (just after the tag name) in doc[0..len).
 * Calls fn for each attribute (duplicates included, in order). Returns the
 * offset where libxml2 stops (at '>', at "/>", or len), or SIZE_MAX when
 * the tag would end after bound (bound <= len; reads stay within it). */
size_t rw_tag_lex(const char *doc, size_t len, size_t p, size_t bound, rw_attr_fn fn,
                  void *ctx);

/* rw_ent_decode - decode an attribute value the way libxml2 2.9's
 * htmlParseHTMLAttribute does (known named entities with ';', numeric
 * references). Appends to out; if map is non-NULL it must hold len + 1
 * entries and receives, for each decoded byte, the offset in raw (relative
 * to raw) where the character that produced it starts; map[out_len] = len.
 * Returns RW_OK, RW_ENOMEM/RW_ELIMIT, or RW_EPARSE when the value decodes
 * to something libxml2 truncates (a NUL). */
int rw_ent_decode(const char *raw, size_t len, struct buf *out, size_t *map);

/* rw_sites_add - append a copy of *site; on success the array owns
 * site->url and site->text; on failure they are freed. RW_OK/RW_ENOMEM. */
int rw_sites_add(struct rw_sites *s, struct rw_site *site);

/* rw_site_init - a site at place with every other field neutral. */
void rw_site_init(struct rw_site *s, enum rw_place place);

/* rw_css_scan_map - rw_css_scan over css[0..len); a site at css offset i
 * is reported at base + (map ? map[i] : i). in_mso is copied to sites. */
int rw_css_scan_map(const char *css, size_t len, const size_t *map, size_t base,
                    enum rw_esc esc, int in_mso, const struct rw_limits *lim,
                    struct rw_sites *out);

/* Rendering hints read from an inline style. */
struct rw_css_box {
    int width, height;        /* px, -1 unknown */
    int max_width, max_height;/* px, -1 unknown */
    int hidden;               /* display:none, visibility:hidden, opacity:0 */
};
/* rw_css_box - fill b from the declarations of an inline style (decoded). */
void rw_css_box(const char *css, size_t len, struct rw_css_box *b);
/* rw_css_px - a CSS or attribute length in px: "12", "12px", "12.7px" give
 * 12; "50%", "auto", "1em", "" give -1. */
int rw_css_px(const char *v, size_t len);

/* Scanner state for one HTML document (the part, or the content of one
 * MSO conditional comment). Private to html.c and html_tag.c. */
#define RW_LINK_TEXT_MAX 256
#define RW_LINK_STACK 8
struct rw_hlink {
    size_t site;     /* index in out->v */
    unsigned depth;  /* element depth of the link */
    size_t n;
    char txt[RW_LINK_TEXT_MAX + 8];
};
struct rw_hscan {
    void *ctxt;                 /* htmlParserCtxtPtr */
    const char *doc;            /* the bytes libxml2 parses */
    size_t len;
    size_t base;                /* offset of doc[0] in the part */
    int in_mso;
    const struct rw_limits *lim;
    struct rw_sites *out;
    size_t mark;                /* no real start tag begins before this */
    unsigned depth;
    size_t style_start;         /* content of the open <style>, SIZE_MAX if none */
    struct rw_hlink links[RW_LINK_STACK];
    unsigned nlinks;
    unsigned hidden_depth;      /* depth of the hidden element we are in, 0 if none */
    ssize_t body_close;
    int status, stopped;
    size_t skipped;             /* attribute values whose bytes did not match */
    unsigned long long stack_work; /* element levels libxml2 walked for errors */
    unsigned long long work_pending; /* the last error's walk, not yet counted */
    char *err;
    size_t errlen;
    char *base_href;            /* first <base href> value, malloc'd; NULL: none */
    struct buf tmp;             /* scratch for decoding */
    size_t *map;
    size_t mapcap;
};

/* rw_html_find_tag (html_find.c) - the '<' of the real start tag `name`
 * whose attributes end at pos (where libxml2 stands at its start event),
 * searched from h->mark; SIZE_MAX when there is none (an implied element). */
size_t rw_html_find_tag(const struct rw_hscan *h, const char *name, size_t pos);
/* rw_html_tag - report the sites of one real start tag doc[lt..gt) whose
 * libxml2 name and attributes are name/atts; lt may be SIZE_MAX (not yet
 * located: found on demand). Returns an RW_ status. */
int rw_html_tag(struct rw_hscan *h, const char *name, const char **atts, size_t lt, size_t gt);
/* rw_html_text - visible text inside the open links. */
void rw_html_text(struct rw_hscan *h, const char *s, size_t n);
/* rw_html_link_end - finish the links opened at the current depth. */
int rw_html_link_end(struct rw_hscan *h, int all);

/* rw_html_scan_ex - rw_html_scan that also counts the attribute values it
 * skipped because the bytes and libxml2's value disagreed. */
int rw_html_scan_ex(const char *html, size_t len, const struct rw_limits *lim,
                    struct rw_sites *out, char *err, size_t errlen, size_t *skipped);

/* rw_limits_or_default - lim, or built-in defaults when lim is NULL. */
const struct rw_limits *rw_limits_or_default(const struct rw_limits *lim);

#endif
