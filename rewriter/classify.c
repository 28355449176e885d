/* classify - decide what one URL site is (SPEC §3.2), from the rules and
 * the facts the scanner measured (place, size, hidden, link text).
 *
 * Everything below judges the URL as a browser fetches it: rw_url_resolve
 * (url_resolve.c) first, unless the HTML scanner already did it against
 * the document's <base href>; "//host" is https, "https:\\host\x" is
 * https://host/x. A plain URL's dest keeps the site's own spelling (only
 * personal parameters go), so nothing is rewritten just to respell it.
 *
 * Links (a, area, VML href, bare text URLs), in this order:
 *   1. not http(s) (mailto:, tel:, cid:, #anchor, relative, javascript:,
 *      ...)                                        -> PROTECTED "scheme"
 *   2. a "protect" rule, a protect-path word in the percent-decoded path or
 *      query, or a protect-text word in the link text -> PROTECTED
 *   3. wrappers and image proxies (the URL a proxy fetches), unwrapped up
 *      to lim->unwrap_depth (deeper: RW_ELIMIT):
 *      decoded to an http(s) destination          -> LINK, dest = that
 *        destination minus personal parameters (PROTECTED instead when the
 *        destination itself is protected: it is never touched)
 *      undecodable, refused (not http(s)) or wrapping an opaque one -> OPAQUE
 *   4. an "opaque" rule                            -> OPAQUE
 *   5. anything else                               -> PLAIN, dest = cleaned
 *
 * Images (img, srcset, background, input, poster, VML image; also SVG
 * images, media, frames, link resources and AMP fetches) and CSS
 * (url(), @import, stylesheet):
 *   1. not http(s) (cid:, data:, ...)              -> PLAIN, never a pixel
 *   2. a "pixel" rule                              -> PIXEL, rule name
 *   3. the recipient in the URL in any form        -> PIXEL "recipient"
 *   3b. an AMP data fetch (RW_P_FETCH), which runs at each open
 *                                                  -> PIXEL "amp:fetch"
 *   3c. behind an image proxy ("proxy" rules: Gmail's /proxy/ and
 *      /meips/, Yahoo's ecp.yusercontent.com), the URL the proxy fetches
 *      is judged by 2, 3c and 5 (its pixel rule name, or a heuristic on it)
 *   4. CSS places stop here                        -> PLAIN
 *   5. heuristics. First, whatever the URL and however often it occurs:
 *        hidden, a known width or height, and no known one above 2px
 *                                                 -> PIXEL "heuristic:size+hidden"
 *      (a blank GIF in place of an invisible image of at most 2x2 px
 *      changes nothing a reader sees; a visible spacer, or a hidden 3px
 *      image, is never caught by this). The others only for URLs repeated
 *      fewer than 5 times in the message and images with no known
 *      dimension above 3px. With
 *        small  = a known width or height of 0..2 px
 *        hidden = the scanner saw display:none, visibility:hidden,
 *                 opacity:0 or a zero size
 *        word   = a heuristic-word of the rules in the decoded path+query
 *        query  = the URL has a non-empty query string
 *      PIXEL when  small && word    ("heuristic:size+path")
 *              or  hidden && word   ("heuristic:hidden+path")
 *              or  small && hidden && query ("heuristic:size+hidden+query")
 *      otherwise PLAIN; when small or word alone held the rule is
 *      "heuristic:suspect" so the engine can count residual_unknown.
 *   6. anything else                               -> PLAIN, dest = cleaned
 *
 * has_recipient is filled in for every http(s) site. Returns RW_OK,
 * RW_ENOMEM or RW_ELIMIT (URL longer than lim->max_url_len, wrappers
 * nested too deep). Pure function of its arguments; thread-safe. */
#include <stdlib.h>
#include <string.h>

#include "rewriter/rules_int.h"

#define REPEAT_MAX 5 /* a URL seen this often is layout, not a pixel */
#define SMALL_MAX 2  /* rendered px at most this: a pixel's size */
#define OTHER_MAX 3  /* any dimension above this: not a pixel */

static int set_dest_clean(const struct rw_rules *r, const char *url, struct rw_class *out)
{
    unsigned n = 0;
    int rc = rw_url_clean(r, url, &out->dest, &n);

    out->personal_params += n;
    return rc;
}

/* Decoded path + query, for word matching. */
static int words_in_url(const struct rw_wordlist *wl, const struct rw_urlp *u)
{
    struct buf b = BUF_INIT(0);
    size_t end = u->has_query ? u->query_off + u->query_len : u->path_off + u->path_len;
    int hit;

    if (wl->n == 0 || end <= u->path_off)
        return 0;
    if (memchr(u->s + u->path_off, '%', end - u->path_off) == NULL)
        return rw_words_in(wl, u->s + u->path_off, end - u->path_off); /* decodes to itself */
    if (rw_pct_decode(u->s + u->path_off, end - u->path_off, &b) != 0) {
        buf_free(&b);
        return rw_words_in(wl, u->s + u->path_off, end - u->path_off);
    }
    hit = rw_words_in(wl, b.data, b.len);
    buf_free(&b);
    return hit;
}

static int protected_urlp(const struct rw_rules *r, const struct rw_urlp *u,
                          const struct rw_rule **ru)
{
    if ((*ru = rw_rule_match(r, RW_RK_PROTECT, u, 0)) != NULL)
        return 1;
    return words_in_url(&r->prot_path, u);
}

static int link_unwrapped(const struct rw_rules *r, struct rw_unwrap *w,
                          struct rw_class *out)
{
    const struct rw_rule *pr = NULL;
    struct rw_urlp du;

    rw_url_split(w->dest, strlen(w->dest), &du);
    if (protected_urlp(r, &du, &pr)) {
        out->type = RW_T_PROTECTED;
        out->rule = pr ? pr->name : "protect:dest";
        out->personal_params = 0;
        return RW_OK;
    }
    out->type = RW_T_LINK;
    out->rule = w->outer->name;
    return set_dest_clean(r, w->dest, out);
}

/* After the protection checks: wrapper, opaque or plain. */
static int link_tracked(const struct rw_rules *r, const struct rw_limits *lim,
                        const struct rw_site *s, const struct rw_urlp *u,
                        struct rw_class *out)
{
    struct rw_unwrap w;
    char *clean = NULL;
    int rc;

    /* Personal keys on the wrapper itself count too. */
    if ((rc = rw_url_clean(r, s->url, &clean, &out->personal_params)) != RW_OK)
        return rc;
    if ((rc = rw_unwrap_chain(r, lim, s->url, &w)) != RW_OK) {
        free(clean);
        return rc;
    }
    if (w.opaque != NULL ||
        (w.outer == NULL && (w.opaque = rw_rule_match(r, RW_RK_OPAQUE, u, 0)) != NULL)) {
        out->type = RW_T_OPAQUE;
        out->rule = w.opaque->name;
    } else if (w.outer != NULL) {
        rc = link_unwrapped(r, &w, out);
    } else {
        out->type = RW_T_PLAIN;
        out->dest = clean;
        clean = NULL;
    }
    free(w.dest);
    free(clean);
    return rc;
}

static int classify_link(const struct rw_rules *r, const struct rw_limits *lim,
                         const struct rw_site *s, const struct rw_urlp *u,
                         struct rw_class *out)
{
    const struct rw_rule *ru = NULL;

    out->type = RW_T_PROTECTED;
    if (!u->http || u->host_len == 0) {
        out->rule = "scheme";
        return RW_OK;
    }
    if (protected_urlp(r, u, &ru)) {
        out->rule = ru ? ru->name : "protect:path";
        return RW_OK;
    }
    if (s->text != NULL && rw_words_in(&r->prot_text, s->text, strlen(s->text))) {
        out->rule = "protect:text";
        return RW_OK;
    }
    return link_tracked(r, lim, s, u, out);
}

static int is_css_place(enum rw_place p)
{
    return p == RW_P_CSS || p == RW_P_IMPORT || p == RW_P_STYLESHEET;
}

/* The heuristic of the header comment; returns the rule or NULL, and sets
 * *suspect when one weak signal held. */
static const char *heuristic(const struct rw_rules *r, const struct rw_site *s,
                             const struct rw_urlp *u, unsigned repeat, int *suspect)
{
    int small, word, query;

    *suspect = 0;
    /* invisible and no known side above 2px: a blank GIF there changes
     * nothing a reader can see, so the URL does not matter */
    if (s->hidden && (s->width >= 0 || s->height >= 0) && s->width <= SMALL_MAX &&
        s->height <= SMALL_MAX)
        return "heuristic:size+hidden";
    if (repeat >= REPEAT_MAX || s->width > OTHER_MAX || s->height > OTHER_MAX)
        return NULL;
    small = (s->width >= 0 && s->width <= SMALL_MAX) ||
            (s->height >= 0 && s->height <= SMALL_MAX);
    word = words_in_url(&r->heur_words, u);
    query = u->has_query && u->query_len > 0;
    if (small && word)
        return "heuristic:size+path";
    if (s->hidden && word)
        return "heuristic:hidden+path";
    if (small && s->hidden && query)
        return "heuristic:size+hidden+query";
    *suspect = small || word;
    return NULL;
}

/* Whether an http(s) image URL is a pixel by the rules of the URL proxied
 * behind it or by the heuristic: *rule set (else NULL; *suspect when one
 * weak signal held). The URL an image proxy fetches is judged like the
 * image itself (pixel rules, its own proxies, the heuristic), up to
 * lim->unwrap_depth proxies deep; depth 0 is the image, whose pixel rules
 * the caller has tried. */
static int image_pixel(const struct rw_rules *r, const struct rw_limits *lim,
                       const struct rw_site *s, const struct rw_urlp *u, unsigned repeat,
                       unsigned depth, const char **rule, int *suspect)
{
    const struct rw_rule *ru;
    struct rw_urlp iu;
    char *inner = NULL;
    int rc;

    *rule = NULL;
    if (depth > 0 && (ru = rw_rule_match(r, RW_RK_PIXEL, u, 0)) != NULL) {
        *rule = ru->name;
        return RW_OK;
    }
    if (depth < lim->unwrap_depth &&
        (rc = rw_proxy_inner(r, u, lim->max_url_len, &ru, &inner)) != RW_OK)
        return rc;
    if (inner != NULL) {
        rw_url_split(inner, strlen(inner), &iu);
        rc = image_pixel(r, lim, s, &iu, repeat, depth + 1, rule, suspect);
        free(inner);
        if (rc != RW_OK || *rule != NULL)
            return rc;
    }
    if (!is_css_place(s->place))
        *rule = heuristic(r, s, u, repeat, suspect);
    return RW_OK;
}

static int classify_image(const struct rw_rules *r, const struct rw_limits *lim,
                          const struct rw_site *s, const struct rw_urlp *u, unsigned repeat,
                          struct rw_class *out)
{
    const struct rw_rule *ru;
    const char *h = NULL;
    int suspect = 0, rc;

    out->type = RW_T_PLAIN;
    if (!u->http || u->host_len == 0) {
        out->dest = strdup(s->url);
        return out->dest ? RW_OK : RW_ENOMEM;
    }
    if ((ru = rw_rule_match(r, RW_RK_PIXEL, u, 0)) != NULL)
        h = ru->name;
    else if (out->has_recipient)
        h = "recipient";
    else if (s->place == RW_P_FETCH) /* fetched at each open, whatever the URL says */
        h = "amp:fetch";
    else if ((rc = image_pixel(r, lim, s, u, repeat, 0, &h, &suspect)) != RW_OK)
        return rc;
    if (h != NULL) {
        out->type = RW_T_PIXEL;
        out->rule = h;
        return RW_OK;
    }
    if (suspect)
        out->rule = "heuristic:suspect";
    return set_dest_clean(r, s->url, out);
}

int rw_classify_recip(const struct rw_rules *r, const struct rw_limits *lim,
                      const struct rw_site *s, const struct rw_recip *recip,
                      unsigned repeat, struct rw_class *out)
{
    struct rw_limits dl;
    struct rw_urlp u;
    struct rw_site rs;
    char *resolved = NULL;
    const char *orig;
    unsigned removed;
    size_t n;
    int rc;

    if (out == NULL)
        return RW_EINVAL;
    memset(out, 0, sizeof(*out));
    out->type = RW_T_PLAIN;
    if (r == NULL || s == NULL || s->url == NULL)
        return RW_EINVAL;
    if (lim == NULL) {
        rw_limits_default(&dl);
        lim = &dl;
    }
    if ((n = strlen(s->url)) > lim->max_url_len)
        return RW_ELIMIT;
    orig = s->url;
    /* judge what a browser fetches ("//host", "https:\\host", ...) */
    if (!s->resolved && (rc = rw_url_resolve(s->url, n, NULL, lim->max_url_len, &resolved))
                            != RW_OK)
        return rc;
    if (resolved != NULL) {
        rs = *s;
        rs.url = resolved;
        s = &rs;
        n = strlen(resolved);
    }
    rw_url_split(s->url, n, &u);
    if (recip != NULL && u.http)
        out->has_recipient = rw_recip_in_url(recip, s->url);
    if (RW_PLACE_IS_LINK(s->place))
        rc = classify_link(r, lim, s, &u, out);
    else
        rc = classify_image(r, lim, s, &u, repeat, out);
    /* a plain URL keeps its spelling: only personal parameters go */
    if (rc == RW_OK && resolved != NULL && out->type == RW_T_PLAIN && out->dest != NULL) {
        free(out->dest);
        out->dest = NULL;
        rc = rw_url_clean(r, orig, &out->dest, &removed);
    }
    if (rc != RW_OK)
        rw_class_clear(out);
    free(resolved);
    return rc;
}

const char *rw_strip_url(enum rw_place p)
{
    switch (p) {
    case RW_P_MEDIA:
    case RW_P_FRAME:
    case RW_P_LINK_RES:
    case RW_P_FETCH:
        return "about:blank";
    default:
        return RW_BLANK_GIF_DATA_URL;
    }
}

int rw_classify(const struct rw_rules *r, const struct rw_limits *lim,
                const struct rw_site *s, const char *recipient, unsigned repeat,
                struct rw_class *out)
{
    struct rw_recip p;

    if (recipient != NULL && rw_recip_prepare(recipient, &p) != RW_OK) {
        if (out != NULL)
            memset(out, 0, sizeof(*out));
        return RW_ENOMEM;
    }
    return rw_classify_recip(r, lim, s, recipient ? &p : NULL, repeat, out);
}

void rw_class_clear(struct rw_class *c)
{
    if (c == NULL)
        return;
    free(c->dest);
    c->dest = NULL;
    c->rule = NULL;
    c->personal_params = 0;
}
