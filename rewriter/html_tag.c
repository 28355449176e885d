/* html_tag - the sites of one start tag, and the text of open links.
 *
 * html.c hands over a real start tag: libxml2's name and decoded
 * attributes plus the tag's bytes doc[lt..gt). The tag is re-read with
 * libxml2's rules (rw_tag_lex); for each URL-bearing attribute the first
 * occurrence (libxml2 keeps the first of duplicates) must decode to
 * exactly libxml2's value, otherwise the value is skipped and counted:
 * a guessed range is never reported. srcset candidates and url() in
 * style="" are located through the decode map, so entities inside them
 * still give raw ranges. Images (and frames, media, SVG images) get size
 * and visibility from width/height and inline CSS; links collect their
 * visible text until they end. The first <base href> is kept for html.c,
 * which resolves every site's URL against it once the part is scanned.
 * Which elements are looked at: every one a mail client fetches without a
 * click (choose() and its helpers), AMP for Email included. */
#include "rewriter/html_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

enum slot { S_HREF, S_SRC, S_SRCSET, S_BACKGROUND, S_POSTER, S_STYLE, S_DATA, S_XHREF,
            S_CONFIG, S_CONTENT, S_NSLOT };
static const char *const slot_name[S_NSLOT] = {"href",  "src",  "srcset",     "background",
                                               "poster", "style", "data", "xlink:href",
                                               "config", "content"};
static const size_t slot_len[S_NSLOT] = {4, 3, 6, 10, 6, 5, 4, 10, 6, 7};

struct tag {
    const char *name;
    const char *val[S_NSLOT];      /* libxml2's value, NULL if absent */
    enum rw_place place[S_NSLOT];  /* where a wanted value goes */
    int want[S_NSLOT];
    struct rw_rawattr raw[S_NSLOT];
    int have[S_NSLOT];
    const char *width, *height, *alt, *title, *type, *rel, *equiv;
    int hidden_attr;
};

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}


static int slot_of(const char *n)
{
    switch (n[0]) {
    case 'h':
        return rw_streq(n, "href") ? S_HREF : -1;
    case 's':
        return rw_streq(n, "src")      ? S_SRC
               : rw_streq(n, "srcset") ? S_SRCSET
               : rw_streq(n, "style")  ? S_STYLE
                                          : -1;
    case 'b':
        return rw_streq(n, "background") ? S_BACKGROUND : -1;
    case 'p':
        return rw_streq(n, "poster") ? S_POSTER : -1;
    case 'd':
        return rw_streq(n, "data") ? S_DATA : -1;
    case 'x':
        return rw_streq(n, "xlink:href") ? S_XHREF : -1;
    case 'c':
        return rw_streq(n, "config")    ? S_CONFIG
               : rw_streq(n, "content") ? S_CONTENT
                                        : -1;
    default:
        return -1;
    }
}

/* libxml2's values of the attributes that matter (names are lower case). */
static void collect(struct tag *t, const char **atts)
{
    size_t i;
    int k;

    for (i = 0; atts != NULL && atts[i] != NULL; i += 2) {
        const char *n = atts[i], *v = atts[i + 1];
        if ((k = slot_of(n)) >= 0)
            t->val[k] = v;
        else if (n[0] == 'w' && rw_streq(n, "width"))
            t->width = v;
        else if (n[0] == 'h' && rw_streq(n, "height"))
            t->height = v;
        else if (n[0] == 'a' && rw_streq(n, "alt"))
            t->alt = v;
        else if (n[0] == 't' && rw_streq(n, "title"))
            t->title = v;
        else if (n[0] == 't' && rw_streq(n, "type"))
            t->type = v;
        else if (n[0] == 'r' && rw_streq(n, "rel"))
            t->rel = v;
        else if (n[0] == 'h' && rw_streq(n, "http-equiv"))
            t->equiv = v;
        else if (n[0] == 'h' && rw_streq(n, "hidden"))
            t->hidden_attr = 1;
    }
}

/* Whether CSS text may hold a URL: a '(' preceded by "url" or "set"
 * (image-set) in any case, or after an escape (u\72l). */
static int has_url_paren(const char *css)
{
    const char *p = css;

    while ((p = strchr(p, '(')) != NULL) {
        if (p - css >= 3 && (g_ascii_strncasecmp(p - 3, "url", 3) == 0
                             || g_ascii_strncasecmp(p - 3, "set", 3) == 0))
            return 1;
        p++;
    }
    return strchr(css, '(') != NULL && strchr(css, '\\') != NULL;
}

/* rel tokens that make a browser fetch href by itself, stylesheet apart
 * (any "...icon" too: icon, apple-touch-icon, mask-icon, ...). Even a DNS
 * lookup of a per-recipient host tells the sender the mail was opened. */
static int rel_fetches(const char *p, size_t n)
{
    static const char *const words[] = {"prefetch",   "preload",      "modulepreload",
                                        "prerender",  "dns-prefetch", "preconnect",
                                        "manifest",   "import",       "next"};
    size_t i;

    if (n >= 4 && g_ascii_strncasecmp(p + n - 4, "icon", 4) == 0)
        return 1;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i]) == n && g_ascii_strncasecmp(p, words[i], n) == 0)
            return 1;
    return 0;
}

/* What <link rel> loads: 2 a stylesheet, 1 another resource, 0 nothing. */
static int rel_kind(const char *rel)
{
    const char *p = rel;
    size_t n;
    int kind = 0;

    while (p != NULL && *p) {
        while (is_ws((unsigned char)*p))
            p++;
        for (n = 0; p[n] && !is_ws((unsigned char)p[n]); n++)
            ;
        if (n == 10 && g_ascii_strncasecmp(p, "stylesheet", 10) == 0)
            return 2;
        if (n > 0 && rel_fetches(p, n))
            kind = 1;
        p += n;
    }
    return kind;
}

static void want(struct tag *t, enum slot k, enum rw_place place)
{
    if (t->val[k] != NULL) {
        t->want[k] = 1;
        t->place[k] = place;
    }
}

/* An image: src and srcset. */
static void want_img(struct tag *t)
{
    want(t, S_SRC, RW_P_IMG);
    want(t, S_SRCSET, RW_P_SRCSET);
}

/* An SVG reference (href wins over xlink:href in browsers; both are
 * reported, so neither can carry a tracker past the other). */
static void want_svg(struct tag *t)
{
    want(t, S_HREF, RW_P_SVG_IMG);
    want(t, S_XHREF, RW_P_SVG_IMG);
}

/* The elements whose names start with "amp-" (AMP for Email parts, which
 * are scanned as HTML): images, media, frames; the src of any other one
 * (amp-list, amp-state, amp-autocomplete, amp-render, amp-pixel, ...) and
 * amp-analytics config are data the AMP runtime fetches at each open. */
static void choose_amp(struct tag *t, const char *n)
{
    if (rw_streq(n, "img") || rw_streq(n, "anim"))
        want_img(t);
    else if (rw_streq(n, "video") || rw_streq(n, "audio")) {
        want(t, S_SRC, RW_P_MEDIA);
        want(t, S_POSTER, RW_P_POSTER);
    } else if (rw_streq(n, "iframe"))
        want(t, S_SRC, RW_P_FRAME);
    else {
        want(t, S_SRC, RW_P_FETCH);
        want(t, S_CONFIG, RW_P_FETCH);
    }
}

/* Media, frames and SVG: every element a mail client may fetch by itself. */
static void choose_fetched(struct tag *t, const char *n)
{
    if (rw_streq(n, "video")) {
        want(t, S_POSTER, RW_P_POSTER);
        want(t, S_SRC, RW_P_MEDIA);
    } else if (rw_streq(n, "source")) {
        want(t, S_SRCSET, RW_P_SRCSET);
        want(t, S_SRC, RW_P_MEDIA);
    } else if (rw_streq(n, "audio") || rw_streq(n, "track") || rw_streq(n, "bgsound"))
        want(t, S_SRC, RW_P_MEDIA);
    else if (rw_streq(n, "iframe") || rw_streq(n, "frame") || rw_streq(n, "embed"))
        want(t, S_SRC, RW_P_FRAME);
    else if (rw_streq(n, "object"))
        want(t, S_DATA, RW_P_FRAME);
    else if (rw_streq(n, "image")) { /* HTML reads <image> as <img>; SVG has its own */
        want(t, S_SRC, RW_P_IMG);
        want_svg(t);
    } else if (rw_streq(n, "use") || rw_streq(n, "feimage"))
        want_svg(t);
    else if (strncmp(n, "amp-", 4) == 0)
        choose_amp(t, n + 4);
}

/* Which attributes of this element carry URLs (SPEC §3.1). */
static int choose(struct tag *t)
{
    const char *n = t->name;
    int k, any = 0, rk;

    if (rw_streq(n, "a"))
        want(t, S_HREF, RW_P_A);
    else if (rw_streq(n, "area"))
        want(t, S_HREF, RW_P_AREA);
    else if (rw_streq(n, "img"))
        want_img(t);
    else if (rw_streq(n, "input") && t->type && g_ascii_strcasecmp(t->type, "image") == 0)
        want(t, S_SRC, RW_P_INPUT);
    else if (rw_streq(n, "link") && t->rel && (rk = rel_kind(t->rel)) != 0)
        want(t, S_HREF, rk == 2 ? RW_P_STYLESHEET : RW_P_LINK_RES);
    else if (strncmp(n, "v:", 2) == 0) {
        want(t, S_HREF, RW_P_VML_HREF);
        want(t, S_SRC, RW_P_VML_IMG);
    } else if (rw_streq(n, "meta") && t->equiv && g_ascii_strcasecmp(t->equiv, "refresh") == 0)
        want(t, S_CONTENT, RW_P_FRAME); /* a navigation at open, without a click */
    else if (t->val[S_SRC] || t->val[S_SRCSET] || t->val[S_HREF] || t->val[S_XHREF]
               || t->val[S_POSTER] || t->val[S_DATA] || t->val[S_CONFIG])
        choose_fetched(t, n);
    want(t, S_BACKGROUND, RW_P_BACKGROUND);
    if (t->val[S_STYLE] != NULL && has_url_paren(t->val[S_STYLE]))
        want(t, S_STYLE, RW_P_CSS);
    for (k = 0; k < S_NSLOT; k++)
        any |= t->want[k];
    return any;
}

static void on_attr(void *ctx, const char *doc, const struct rw_rawattr *a)
{
    struct tag *t = ctx;
    int k;

    for (k = 0; k < S_NSLOT; k++)
        if (a->nlen == slot_len[k] && (doc[a->noff] | 0x20) == slot_name[k][0]
            && g_ascii_strncasecmp(doc + a->noff, slot_name[k], a->nlen) == 0) {
            if (!t->have[k]) {
                t->have[k] = 1;
                t->raw[k] = *a;
            }
            return;
        }
}

/* Decode the raw value of slot k and compare with libxml2's. Returns 1 if
 * they agree (h->tmp holds the value; h->map the offsets when withmap),
 * 0 if not, or -RW_ status. */
static int agree(struct rw_hscan *h, const struct tag *t, enum slot k, int withmap)
{
    const struct rw_rawattr *a = &t->raw[k];
    size_t vlen = strlen(t->val[k]), *m;
    int rc;

    if (!t->have[k] || !a->has_value)
        return 0;
    if (withmap && h->mapcap < a->vlen + 1) {
        if ((m = realloc(h->map, (a->vlen + 1) * sizeof(*m))) == NULL)
            return -RW_ENOMEM;
        h->map = m;
        h->mapcap = a->vlen + 1;
    }
    buf_reset(&h->tmp);
    rc = rw_ent_decode(h->doc + a->voff, a->vlen, &h->tmp, withmap ? h->map : NULL);
    if (rc == RW_EPARSE)
        return 0;
    if (rc != RW_OK)
        return -rc;
    return h->tmp.len == vlen && memcmp(buf_cstr(&h->tmp), t->val[k], vlen) == 0;
}

/* Copy of a URL without tabs and line breaks, which browsers drop from
 * anywhere in a URL (a long href wrapped by a mailer still works). */
static char *url_dup(const char *u, size_t n)
{
    char *d = malloc(n + 1);
    size_t i, k = 0;

    if (d == NULL)
        return NULL;
    if (memchr(u, '\t', n) == NULL && memchr(u, '\n', n) == NULL &&
        memchr(u, '\r', n) == NULL) {
        memcpy(d, u, n); /* the usual case: nothing to drop */
        d[n] = '\0';
        return d;
    }
    for (i = 0; i < n; i++)
        if (u[i] != '\t' && u[i] != '\n' && u[i] != '\r')
            d[k++] = u[i];
    d[k] = '\0';
    return d;
}

/* A URL value u[0..n) (already trimmed) at raw part range [off, off+len). */
static int add_url(struct rw_hscan *h, enum rw_place place, const struct rw_rawattr *a,
                   size_t off, size_t len, const char *u, size_t n)
{
    struct rw_site s;

    if (n == 0)
        return RW_OK;
    if (n > h->lim->max_url_len)
        return g_ascii_strncasecmp(u, "data:", 5) == 0 ? RW_OK : RW_ELIMIT;
    rw_site_init(&s, place);
    s.off = h->base + off;
    s.len = len;
    s.quote = a->quote;
    s.esc = RW_ESC_ATTR;
    s.in_mso = h->in_mso;
    if ((s.url = url_dup(u, n)) == NULL)
        return RW_ENOMEM;
    if (RW_PLACE_IS_LINK(place) && (s.text = strdup("")) == NULL) {
        free(s.url);
        return RW_ENOMEM;
    }
    return rw_sites_add(h->out, &s);
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_ws((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_ws((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Each candidate URL of srcset (HTML: split on whitespace, commas). */
static int add_srcset(struct rw_hscan *h, const struct rw_rawattr *a, enum rw_place place)
{
    const char *d = buf_cstr(&h->tmp);
    size_t n = h->tmp.len, i = 0, u0, u1;
    int rc;

    while (i < n) {
        while (i < n && (is_ws((unsigned char)d[i]) || d[i] == ','))
            i++;
        for (u0 = i; i < n && !is_ws((unsigned char)d[i]); i++)
            ;
        for (u1 = i; u1 > u0 && d[u1 - 1] == ','; u1--)
            ;
        if (u1 > u0) {
            rc = add_url(h, place, a, a->voff + h->map[u0], h->map[u1] - h->map[u0], d + u0,
                         u1 - u0);
            if (rc != RW_OK)
                return rc;
        }
        if (u1 == i) /* descriptors run to the next comma */
            while (i < n && d[i] != ',')
                i++;
    }
    return RW_OK;
}

/* The URL of <meta http-equiv=refresh content="5; url='...'"> (HTML's
 * shared declarative refresh steps): a delay, ';' or ',', "url=", an
 * optional quote; none when the content is a delay only. */
static int add_refresh(struct rw_hscan *h, const struct rw_rawattr *a, enum rw_place place)
{
    const char *d = buf_cstr(&h->tmp);
    size_t n = h->tmp.len, i = 0, e;
    char q = 0;

    while (i < n && is_ws((unsigned char)d[i]))
        i++;
    while (i < n && (g_ascii_isdigit(d[i]) || d[i] == '.'))
        i++;
    while (i < n && is_ws((unsigned char)d[i]))
        i++;
    if (i < n && (d[i] == ';' || d[i] == ','))
        i++;
    while (i < n && is_ws((unsigned char)d[i]))
        i++;
    if (i + 3 <= n && g_ascii_strncasecmp(d + i, "url", 3) == 0) {
        for (e = i + 3; e < n && is_ws((unsigned char)d[e]); e++)
            ;
        if (e < n && d[e] == '=')
            for (i = e + 1; i < n && is_ws((unsigned char)d[i]); i++)
                ;
    }
    if (i < n && (d[i] == '"' || d[i] == '\''))
        q = d[i++];
    for (e = i; e < n && d[e] != q; e++)
        ;
    while (e > i && is_ws((unsigned char)d[e - 1]))
        e--;
    if (e == i)
        return RW_OK;
    /* the range is the whole value: any URL written there (about:blank when
     * stripped) leaves no delay, so no refresh happens at all */
    return add_url(h, place, a, a->voff, a->vlen, d + i, e - i);
}

static int add_slot(struct rw_hscan *h, struct tag *t, enum slot k)
{
    const struct rw_rawattr *a = &t->raw[k];
    const char *u;
    size_t n;
    int ok;

    /* style="" is read like a <style> block (linear, URLs limited one by
     * one); any other URL attribute past the limit is an error unless it
     * is an inline data: image, which is never a tracker */
    if (t->have[k] && a->vlen > h->lim->max_attr_len && k != S_STYLE) {
        u = t->val[k] + strspn(t->val[k], " \t\n\r\f");
        return g_ascii_strncasecmp(u, "data:", 5) == 0 ? RW_OK : RW_ELIMIT;
    }
    ok = agree(h, t, k, k == S_SRCSET || k == S_STYLE);
    if (ok <= 0) {
        h->skipped += ok == 0;
        return -ok;
    }
    if (k == S_SRCSET)
        return add_srcset(h, a, t->place[k]);
    if (k == S_CONTENT)
        return add_refresh(h, a, t->place[k]);
    if (k == S_STYLE)
        return rw_css_scan_map(buf_cstr(&h->tmp), h->tmp.len, h->map, h->base + a->voff,
                               RW_ESC_CSS_ATTR, h->in_mso, h->lim, h->out);
    u = t->val[k];
    n = strlen(u);
    trim(&u, &n);
    return add_url(h, t->place[k], a, a->voff, a->vlen, u, n);
}

/* Sites whose rendered box the heuristics read. */
static int boxed_place(enum rw_place p)
{
    return p == RW_P_IMG || p == RW_P_SRCSET || p == RW_P_SVG_IMG || p == RW_P_FRAME
           || p == RW_P_MEDIA;
}

/* Rendered size and visibility of an <img> (or a frame, media, SVG or AMP
 * image), onto sites [from, n). */
static void img_box(struct rw_hscan *h, const struct tag *t, size_t from)
{
    struct rw_css_box b = {-1, -1, -1, -1, 0};
    int w = t->width ? rw_css_px(t->width, strlen(t->width)) : -1;
    int ht = t->height ? rw_css_px(t->height, strlen(t->height)) : -1;
    size_t i;

    if (t->val[S_STYLE] != NULL)
        rw_css_box(t->val[S_STYLE], strlen(t->val[S_STYLE]), &b);
    if (b.width >= 0)
        w = b.width;
    if (b.height >= 0)
        ht = b.height;
    /* max-* only bounds a known size, or proves a tiny one */
    if (b.max_width >= 0 && (w > b.max_width || (w < 0 && b.max_width <= 3)))
        w = b.max_width;
    if (b.max_height >= 0 && (ht > b.max_height || (ht < 0 && b.max_height <= 3)))
        ht = b.max_height;
    for (i = from; i < h->out->n; i++) {
        struct rw_site *s = &h->out->v[i];
        if (!boxed_place(s->place))
            continue;
        s->width = w;
        s->height = ht;
        s->hidden = b.hidden || t->hidden_attr || w == 0 || ht == 0 || h->hidden_depth != 0;
    }
}

/* An attribute's text into the open links, as a separate word. */
static void link_words(struct rw_hscan *h, const char *s)
{
    if (s != NULL && *s) {
        rw_html_text(h, " ", 1);
        rw_html_text(h, s, strlen(s));
        rw_html_text(h, " ", 1);
    }
}

static void open_link(struct rw_hscan *h, size_t site, const struct tag *t)
{
    struct rw_hlink *l;

    if (h->nlinks >= RW_LINK_STACK)
        return;
    l = &h->links[h->nlinks++];
    l->site = site;
    l->depth = h->depth;
    l->n = 0;
    link_words(h, t->title);
    if (rw_streq(t->name, "area"))
        link_words(h, t->alt);
}

/* An element hidden by its own style or hidden attribute. */
static int element_hidden(const struct tag *t)
{
    const char *st = t->val[S_STYLE];
    struct rw_css_box b;

    if (t->hidden_attr)
        return 1;
    if (st == NULL || (strstr(st, "none") == NULL && strstr(st, "hidden") == NULL
                       && strstr(st, "opacity") == NULL))
        return 0;
    rw_css_box(st, strlen(st), &b);
    return b.hidden;
}

/* Keep the sites of one tag in source order (attributes are handled in a
 * fixed order, not as written): a few elements, insertion sort. */
static void sort_sites(struct rw_sites *out, size_t first)
{
    struct rw_site tmp;
    size_t i, j;

    for (i = first + 1; i < out->n; i++)
        for (j = i; j > first && out->v[j - 1].off > out->v[j].off; j--) {
            tmp = out->v[j];
            out->v[j] = out->v[j - 1];
            out->v[j - 1] = tmp;
        }
}

int rw_html_tag(struct rw_hscan *h, const char *name, const char **atts, size_t lt, size_t gt)
{
    struct tag t;
    size_t first = h->out->n, i;
    int k, rc = RW_OK;

    if (atts == NULL)
        return RW_OK; /* no attribute: no site, no hiding, no link text */
    memset(&t, 0, sizeof(t));
    t.name = name;
    collect(&t, atts);
    if (h->nlinks > 0 && rw_streq(name, "img")) {
        link_words(h, t.alt);
        link_words(h, t.title);
    }
    if (h->hidden_depth == 0 && !rw_streq(name, "img") && element_hidden(&t))
        h->hidden_depth = h->depth; /* everything inside is hidden too */
    /* the first <base href> is the document's base, wherever it is */
    if (rw_streq(name, "base") && h->base_href == NULL && t.val[S_HREF] != NULL)
        return (h->base_href = strdup(t.val[S_HREF])) ? RW_OK : RW_ENOMEM;
    if (!choose(&t))
        return RW_OK;
    if (lt == SIZE_MAX && (lt = rw_html_find_tag(h, name, gt)) == SIZE_MAX) {
        h->skipped++; /* libxml2 saw a tag whose bytes cannot be located */
        return RW_OK;
    }
    rw_tag_lex(h->doc, h->len, lt + 1 + strlen(name), gt, on_attr, &t);
    for (k = 0; k < S_NSLOT && rc == RW_OK; k++)
        if (t.want[k])
            rc = add_slot(h, &t, (enum slot)k);
    if (rc != RW_OK)
        return rc;
    sort_sites(h->out, first);
    for (i = first; i < h->out->n; i++)
        if (rw_streq(name, "img") || (h->out->v[i].place != RW_P_SRCSET
                                       && boxed_place(h->out->v[i].place))) {
            img_box(h, &t, first);
            break;
        }
    for (i = first; i < h->out->n; i++)
        if (t.want[S_HREF] && RW_PLACE_IS_LINK(t.place[S_HREF])
            && h->out->v[i].place == t.place[S_HREF]) {
            open_link(h, i, &t);
            break;
        }
    return RW_OK;
}

void rw_html_text(struct rw_hscan *h, const char *s, size_t n)
{
    unsigned k;
    size_t i;

    for (k = 0; k < h->nlinks; k++) {
        struct rw_hlink *l = &h->links[k];
        for (i = 0; i < n && l->n < RW_LINK_TEXT_MAX + 4; i++) {
            int nbsp = (unsigned char)s[i] == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0;
            if (nbsp || is_ws((unsigned char)s[i])) {
                i += nbsp; /* &nbsp; folds like a space */
                if (l->n > 0 && l->txt[l->n - 1] != ' ')
                    l->txt[l->n++] = ' ';
            } else {
                l->txt[l->n++] = s[i];
            }
        }
    }
}

int rw_html_link_end(struct rw_hscan *h, int all)
{
    struct rw_hlink *l;
    struct rw_site *s;
    size_t n;
    char *txt;

    while (h->nlinks > 0 && (all || h->links[h->nlinks - 1].depth >= h->depth)) {
        l = &h->links[--h->nlinks];
        n = l->n;
        while (n > 0 && l->txt[n - 1] == ' ')
            n--;
        if (n > RW_LINK_TEXT_MAX)
            n = RW_LINK_TEXT_MAX;
        while (n > 0 && n < l->n && ((unsigned char)l->txt[n] & 0xC0) == 0x80)
            n--; /* never cut a UTF-8 sequence */
        if ((txt = strndup(l->txt, n)) == NULL)
            return RW_ENOMEM;
        s = &h->out->v[l->site];
        free(s->text);
        s->text = txt;
    }
    return RW_OK;
}
