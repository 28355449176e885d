/* rw_int - interfaces between the rewriter's internal modules.
 *
 *   mime.c/rewrite.c (engine)   walks parts, runs scanners, classifies,
 *                               asks the caller, patches, re-encodes
 *   html.c css.c text.c         find URL sites in a decoded UTF-8 part
 *   patch.c                     apply replacements to the original bytes
 *   rules*.c url*.c classify.c  decide what a URL is
 *
 * Not installed; tests include it. */
#ifndef RW_INT_H
#define RW_INT_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "rewriter/rewriter.h"

/* rw_buf_status - the status for a common/buf result (0, ENOMEM, EFBIG):
 * the one mapping of buffer errors the rewriter uses. A ceiling passed is
 * a limit of the message (RW_ELIMIT). */
static inline int rw_buf_status(int e)
{
    return e == 0 ? RW_OK : e == ENOMEM ? RW_ENOMEM : RW_ELIMIT;
}

/* How the bytes at a site must be escaped when replaced. */
enum rw_esc {
    RW_ESC_NONE = 0,   /* text/plain: raw */
    RW_ESC_ATTR,       /* HTML attribute value: & < > and the quote char as entities */
    RW_ESC_CSS,        /* url(...) in a <style> element */
    RW_ESC_CSS_ATTR,   /* url(...) inside a style="" attribute: CSS, then attribute */
};

enum rw_quote { RW_Q_NONE = 0, RW_Q_DOUBLE, RW_Q_SINGLE };

/* One URL occurrence in a decoded UTF-8 part. */
struct rw_site {
    enum rw_place place;
    size_t off, len;      /* bytes to replace: the value inside its quotes */
    enum rw_quote quote;  /* quoting around the value in the source */
    enum rw_esc esc;
    char *url;            /* what the browser sees: entities/escapes decoded, trimmed; owned */
    int width, height;    /* rendered px from attributes or CSS; -1 unknown */
    int hidden;           /* display:none, visibility:hidden, opacity:0, zero size */
    int in_mso;           /* inside an MSO conditional comment */
    char *text;           /* links: visible text + title/alt, whitespace folded, <=256
                             bytes; NULL for images; owned */
    int resolved;         /* url is already what rw_url_resolve gives (HTML scanner) */
};

struct rw_sites {
    struct rw_site *v;
    size_t n, cap;
    ssize_t body_close;   /* offset of the last "</body" tag, -1 if none (HTML only) */
};

/* rw_html_scan - find every URL site of SPEC §3.1 in an HTML document (UTF-8).
 * libxml2 decides what each tag is; offsets point into html. MSO conditional
 * comments are scanned too (in_mso = 1). Appends to out. Returns RW_OK,
 * RW_ELIMIT (nesting/attribute/URL limits), RW_ENOMEM; err gets the reason. */
int rw_html_scan(const char *html, size_t len, const struct rw_limits *lim,
                 struct rw_sites *out, char *err, size_t errlen);
/* rw_css_scan - url(...) and @import sites in CSS text at base offset
 * base within the part; esc tells how values are escaped there. */
int rw_css_scan(const char *css, size_t len, size_t base, enum rw_esc esc,
                const struct rw_limits *lim, struct rw_sites *out);
/* rw_text_scan - bare http(s) URLs in text/plain (RW_P_TEXT). */
int rw_text_scan(const char *text, size_t len, const struct rw_limits *lim,
                 struct rw_sites *out);
void rw_sites_free(struct rw_sites *s);

/* rw_url_resolve - the URL a browser fetches for u[0..n) (url_resolve.c:
 * WHATWG parsing of scheme, slashes, backslashes, host and dot segments;
 * "//host" is https). base: the document's <base href>, already resolved
 * and absolute http(s), or NULL. *out is NULL when u is already in that
 * form (nothing allocated: the common case), else a malloc'd string of at
 * most max bytes (0: no ceiling). Returns RW_OK, RW_ENOMEM, RW_ELIMIT. */
int rw_url_resolve(const char *u, size_t n, const char *base, size_t max, char **out);

/* rw_strip_url - what RW_A_STRIP writes at a site of place p: the blank
 * GIF where an image is expected, "about:blank" where a document, media
 * or data is fetched (frames, objects, video/audio, link, AMP fetches). */
const char *rw_strip_url(enum rw_place p);

/* One replacement. repl is written as is (already escaped). */
struct rw_patch {
    size_t off, len;
    const char *repl;
    size_t repl_len;
};
/* rw_patch_apply - src with patches applied (patches sorted by off, non-
 * overlapping; a zero-length patch inserts). Returns RW_OK, RW_EINVAL for
 * overlaps, RW_ENOMEM/RW_ELIMIT from the buffer. */
int rw_patch_apply(const char *src, size_t len, const struct rw_patch *p, size_t n,
                   struct buf *out);
/* rw_site_escape - append url escaped for the site's context to out. */
int rw_site_escape(const struct rw_site *s, const char *url, struct buf *out);

/* Classification of one site. */
struct rw_class {
    enum rw_ttype type;
    const char *rule;         /* borrowed from the rules, or a static string */
    char *dest;               /* malloc'd; see rw_finding.dest */
    unsigned personal_params;
    int has_recipient;
};
/* rw_classify - what the site is. repeat: how often the same URL occurs in
 * the whole message (heuristics ignore URLs repeated >= 5 times).
 * Returns RW_OK, RW_ENOMEM, RW_ELIMIT. */
int rw_classify(const struct rw_rules *r, const struct rw_limits *lim,
                const struct rw_site *s, const char *recipient, unsigned repeat,
                struct rw_class *out);
void rw_class_clear(struct rw_class *c);

/* The transparent 1x1 GIF used by RW_A_STRIP. */
extern const char RW_BLANK_GIF_DATA_URL[];

#endif
