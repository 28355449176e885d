/* html - find the URL sites of an HTML part (SPEC §3.1).
 *
 * libxml2 decides what each tag is: one SAX pass of its HTML parser over
 * the part, recovering from any error. It gives names and decoded
 * attribute values but no byte positions, so each event reads the
 * parser's input position and this module keeps a "mark", a position
 * before which no real start tag can begin. At a start tag the parser
 * stands on its '>' (or "/>", or the end); the tag's '<' is the first
 * "<name" at or after the mark whose attributes, re-read with libxml2's
 * rules (html_attr.c), end exactly there (html_find.c). Implied elements (html, head,
 * body, p) have no such bytes and are skipped. html_tag.c then matches
 * libxml2's values to the raw value ranges and reports them; a value
 * whose bytes do not decode to libxml2's value is skipped, never guessed.
 * Sites come out in increasing, non-overlapping byte order. body_close is
 * the "</body" of the last body end tag libxml2 acted on (a stray one
 * after the body was closed is ignored, like one in a comment).
 *
 * Known limits: a tag libxml2 discards without an event (a second <body>)
 * is not looked at; among many look-alike "<name" in text libxml2 skipped
 * without events only the first and last 16 are tried.
 *
 * The input is the decoded part in UTF-8. Bytes libxml2 would reject
 * (NUL, invalid UTF-8, which would make it switch to Latin-1 and move
 * every offset) are replaced by '_' in a private copy of the same length
 * first. MSO conditional comments are parsed again on their own, with
 * offsets mapped back (in_mso = 1). Limits: element nesting (RW_ELIMIT,
 * parsing stops at once; the default, 250000, is a memory bound, not a
 * refusal of junk HTML: libxml2's SAX parser keeps 8-16 bytes a level and
 * no depth limit of its own), the stack work of end tags that close
 * nothing (below), attribute and URL length (html_tag.c). */
#include "rewriter/html_int.h"
#include "rewriter/rules_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <libxml/parserInternals.h>

static int scan_doc(struct rw_hscan *h);

/* An end tag that matches no open element (or one libxml2 will not close)
 * makes libxml2 walk its whole element stack and report an error: under
 * deep unclosed junk, n such tags cost n x depth. The walked levels are
 * counted at each error and the part refused past this many (about 0.1 s;
 * real junk mail needs a few million at most). */
#define RW_ENDTAG_WORK_MAX 50000000ull

static size_t cur_pos(const struct rw_hscan *h)
{
    const xmlParserInputPtr in = ((htmlParserCtxtPtr)h->ctxt)->input;
    size_t p = in->consumed + (size_t)(in->cur - in->base);

    return p < h->len ? p : h->len;
}

static void fail(struct rw_hscan *h, int status, const char *why)
{
    if (h->status == RW_OK) {
        h->status = status;
        if (h->err != NULL && h->errlen > 0)
            snprintf(h->err, h->errlen, "%s", why);
    }
    h->stopped = 1;
    xmlStopParser(h->ctxt);
}

/* The walk behind the last error counts unless an end event follows it:
 * libxml2 also reports each element it closes for an end tag, and that
 * costs one step per element closed, which the parse pays anyway. */
static void work_commit(struct rw_hscan *h)
{
    h->stack_work += h->work_pending;
    h->work_pending = 0;
    if (h->stack_work > RW_ENDTAG_WORK_MAX)
        fail(h, RW_ELIMIT, "HTML end tags that close nothing, under nesting too deep to "
                           "parse in bounded time");
}

static int scan_conditional(struct rw_hscan *h, size_t cs, size_t ce, int open);

/* A comment that never ends: libxml2 drops it without an event, and
 * browsers hide the rest of the part in it. An MSO conditional comment
 * that never ends is still read by Outlook, which shows what follows
 * "[if ...]>": its URLs are treated to the end of the part, past a
 * "<![endif]" not followed by "-->" too (what Outlook makes of the rest is
 * not known; a pixel nobody loads costs nothing to treat). The comment is
 * the first "<!--" after the mark. */
static void on_unterminated_comment(struct rw_hscan *h)
{
    const char *q;
    size_t cs;
    int rc;

    if (h->in_mso || h->mark >= h->len)
        return;
    q = memmem(h->doc + h->mark, h->len - h->mark, "<!--", 4);
    if (q == NULL)
        return;
    cs = (size_t)(q - h->doc) + 4;
    h->mark = h->len;
    if (cs < h->len && (rc = scan_conditional(h, cs, h->len, 1)) != RW_OK) {
        h->status = rc; /* the scan of the comment wrote the reason */
        h->stopped = 1;
        xmlStopParser(h->ctxt);
    }
}

static void on_error(void *ctx, xmlErrorPtr err)
{
    struct rw_hscan *h = ctx;

    if (h->stopped)
        return;
    if (err != NULL && err->code == XML_ERR_COMMENT_NOT_FINISHED) {
        on_unterminated_comment(h);
        if (h->stopped)
            return;
    }
    work_commit(h);
    h->work_pending = (unsigned long long)((htmlParserCtxtPtr)h->ctxt)->nameNr;
}

static int may_be_implied(const char *name)
{
    return rw_streq(name, "p") || rw_streq(name, "body") || rw_streq(name, "html")
           || rw_streq(name, "head");
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    struct rw_hscan *h = ctx;
    size_t pos, lt;
    int rc;

    if (h->stopped || (work_commit(h), h->stopped))
        return;
    if (++h->depth > h->lim->html_depth) {
        fail(h, RW_ELIMIT, "HTML nesting deeper than the limit (memory bound)");
        return;
    }
    pos = cur_pos(h);
    /* Only html, head, body and p are ever implied by libxml2; any other
     * start event stands on its own tag's end, and its '<' is needed only
     * when an attribute range is. */
    lt = SIZE_MAX;
    if (may_be_implied((const char *)name)
        || (pos < h->len && h->doc[pos] != '>' && h->doc[pos] != '/')) {
        lt = rw_html_find_tag(h, (const char *)name, pos);
        if (lt == SIZE_MAX)
            return; /* implied: no bytes of its own */
    }
    if (rw_streq((const char *)name, "style"))
        h->style_start = pos < h->len && h->doc[pos] == '>' ? pos + 1 : SIZE_MAX;
    rc = rw_html_tag(h, (const char *)name, (const char **)atts, lt, pos);
    h->mark = pos;
    if (rc != RW_OK)
        fail(h, rc, rc == RW_ELIMIT ? "attribute or URL longer than the limit"
                                    : "out of memory");
}

/* First (or last) occurrence of pat, which starts with '<', in any case,
 * in doc[from..to); to if none. */
static size_t find_ci(const struct rw_hscan *h, size_t from, size_t to, const char *pat,
                      int last)
{
    size_t n = strlen(pat), i, found = to;
    const char *q;

    for (i = from; i + n <= to && (q = memchr(h->doc + i, '<', to - i)) != NULL; i++) {
        i = (size_t)(q - h->doc);
        if (i + n <= to && g_ascii_strncasecmp(q, pat, n) == 0) {
            found = i;
            if (!last)
                break;
        }
    }
    return found;
}

static void end_style(struct rw_hscan *h, size_t pos)
{
    size_t s = h->style_start, e;
    int rc;

    h->style_start = SIZE_MAX;
    if (s == SIZE_MAX || s >= pos)
        return;
    e = find_ci(h, s, pos, "</style", 0);
    rc = rw_css_scan_map(h->doc + s, e - s, NULL, h->base + s, RW_ESC_CSS, h->in_mso, h->lim,
                         h->out);
    if (rc != RW_OK)
        fail(h, rc, rc == RW_ELIMIT ? "URL longer than the limit" : "out of memory");
}

static void on_end(void *ctx, const xmlChar *name)
{
    struct rw_hscan *h = ctx;
    size_t pos, b;
    const char *q;

    if (h->stopped)
        return;
    h->work_pending = 0; /* that error closed this element: linear */
    pos = cur_pos(h);
    if (h->hidden_depth != 0 && h->depth <= h->hidden_depth)
        h->hidden_depth = 0;
    if (rw_html_link_end(h, 0) != RW_OK) {
        fail(h, RW_ENOMEM, "out of memory");
        return;
    }
    if (rw_streq((const char *)name, "style"))
        end_style(h, pos);
    else if (rw_streq((const char *)name, "body") && !h->in_mso && pos > h->mark) {
        b = find_ci(h, h->mark, pos, "</body", 1);
        if (b < pos)
            h->body_close = (ssize_t)(h->base + b);
    }
    if (h->depth > 0)
        h->depth--;
    /* An end event may fire in the middle of the next tag (after its name):
     * never move the mark past a '<' the next start tag may need. */
    if (pos > h->mark) {
        q = memrchr(h->doc + h->mark, '<', pos - h->mark);
        h->mark = q ? (size_t)(q - h->doc) : pos;
    }
}

static void on_text(void *ctx, const xmlChar *s, int n)
{
    struct rw_hscan *h = ctx;
    size_t pos;

    if (h->stopped)
        return;
    pos = cur_pos(h);
    if (pos > h->mark)
        h->mark = pos;
    if (n > 0)
        rw_html_text(h, (const char *)s, (size_t)n);
}

static void on_cdata(void *ctx, const xmlChar *s, int n)
{
    struct rw_hscan *h = ctx;
    size_t pos;

    (void)s;
    (void)n;
    if (h->stopped)
        return;
    pos = cur_pos(h);
    if (pos > h->mark)
        h->mark = pos;
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    on_cdata(ctx, data, 0);
}

static void on_subset(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
    (void)eid;
    (void)sid;
    on_cdata(ctx, name, 0);
}

/* Whether markup can hold a site at all: most conditional comments only
 * open or close Outlook tables and are not worth a parser. */
static int may_hold_url(const char *s, size_t n)
{
    static const char *const words[] = {"src", "href", "background", "url(", "poster"};
    size_t i, k;

    for (i = 0; i + 3 <= n; i++) {
        unsigned char c = (unsigned char)(s[i] | 0x20);
        if (c != 's' && c != 'h' && c != 'b' && c != 'u' && c != 'p')
            continue;
        for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
            if (i + strlen(words[k]) <= n && g_ascii_strncasecmp(s + i, words[k], strlen(words[k])) == 0)
                return 1;
    }
    return 0;
}

/* Parse the markup of a conditional comment's content doc[cs..ce):
 * "[if COND]>" MARKUP "<![endif]"; open: a comment that never ends, whose
 * markup runs to ce. */
static int scan_conditional(struct rw_hscan *h, size_t cs, size_t ce, int open)
{
    struct rw_hscan sub;
    const char *gt;
    size_t is, ie;
    int rc;

    if (ce - cs < 4 || g_ascii_strncasecmp(h->doc + cs, "[if", 3) != 0)
        return RW_OK;
    gt = g_strstr_len(h->doc + cs, (gssize)(ce - cs), "]>");
    if (gt == NULL)
        return RW_OK;
    is = (size_t)(gt - h->doc) + 2;
    ie = open ? ce : find_ci(h, is, ce, "<![endif]", 1);
    if (ie <= is || !may_hold_url(h->doc + is, ie - is))
        return RW_OK;
    memset(&sub, 0, sizeof(sub));
    sub.doc = h->doc + is;
    sub.len = ie - is;
    sub.base = h->base + is;
    sub.in_mso = 1;
    sub.lim = h->lim;
    sub.out = h->out;
    sub.err = h->err;
    sub.errlen = h->errlen;
    rc = scan_doc(&sub);
    h->skipped += sub.skipped;
    if (h->base_href == NULL)
        h->base_href = sub.base_href; /* Outlook reads it too */
    else
        free(sub.base_href);
    return rc;
}

static void on_comment(void *ctx, const xmlChar *value)
{
    struct rw_hscan *h = ctx;
    size_t pos, vlen = strlen((const char *)value), cs;
    int rc;

    if (h->stopped)
        return;
    pos = cur_pos(h);
    /* the raw comment must read "<!--" value "-->" (or "--!>") ending at pos */
    if (!h->in_mso && pos >= h->mark && vlen + 7 <= pos - h->mark) {
        cs = pos - 3 - vlen;
        if (memcmp(h->doc + pos - 3, "-->", 3) != 0)
            cs--;
        if (cs >= h->mark + 4 && memcmp(h->doc + cs - 4, "<!--", 4) == 0
            && memcmp(h->doc + cs, value, vlen) == 0) {
            rc = scan_conditional(h, cs, cs + vlen, 0);
            if (rc != RW_OK) {
                h->status = rc;
                h->stopped = 1;
                xmlStopParser(h->ctxt);
                return;
            }
        }
    }
    h->mark = pos;
}

/* Run libxml2 over h->doc and report sites; h is zeroed except doc, len,
 * base, in_mso, lim, out, err. */
static int scan_doc(struct rw_hscan *h)
{
    htmlParserCtxtPtr ctxt;
    htmlSAXHandler sax;

    h->body_close = -1;
    h->style_start = SIZE_MAX;
    if (h->len == 0)
        return RW_OK;
    if (h->len > INT_MAX)
        return RW_ELIMIT;
    ctxt = htmlCreateMemoryParserCtxt(h->doc, (int)h->len);
    if (ctxt == NULL)
        return RW_ENOMEM;
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    /* a declared encoding (<meta charset>) must not switch the decoder */
    if (ctxt->input->encoding == NULL)
        ctxt->input->encoding = xmlStrdup((const xmlChar *)"UTF-8");
    htmlCtxtUseOptions(ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR
                                 | HTML_PARSE_NOWARNING);
    memset(&sax, 0, sizeof(sax));
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    sax.cdataBlock = on_cdata;
    sax.comment = on_comment;
    sax.processingInstruction = on_pi;
    sax.internalSubset = on_subset;
    sax.serror = on_error; /* libxml2 reads serror only from an SAX2 handler */
    sax.initialized = XML_SAX2_MAGIC;
    memcpy(ctxt->sax, &sax, sizeof(sax));
    ctxt->userData = h;
    h->ctxt = ctxt;
    htmlParseDocument(ctxt);
    h->stopped = 1;
    if (rw_html_link_end(h, 1) != RW_OK && h->status == RW_OK)
        h->status = RW_ENOMEM;
    htmlFreeParserCtxt(ctxt);
    h->ctxt = NULL;
    buf_free(&h->tmp);
    free(h->map);
    h->map = NULL;
    return h->status;
}

/* A copy of html where NUL bytes and bytes of invalid UTF-8 are '_', so
 * that libxml2 keeps reading UTF-8 and offsets do not move. NULL if html
 * needs no change (*copy = NULL) or on ENOMEM (returns -1). */
/* Offset of the first byte at or after i that is not in 0x01..0x7F. */
static size_t ascii_run(const char *s, size_t i, size_t len)
{
    const uint64_t hi = 0x8080808080808080ull, lo = 0x0101010101010101ull;
    uint64_t w;

#ifdef __SSE2__
    /* 16 bytes a step: high bits and zero bytes as one mask each */
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int m = _mm_movemask_epi8(v) | _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));

        if (m != 0)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i + 32 <= len; i += 32) {
        uint64_t a, b, c, d;

        memcpy(&a, s + i, 8);
        memcpy(&b, s + i + 8, 8);
        memcpy(&c, s + i + 16, 8);
        memcpy(&d, s + i + 24, 8);
        if (((a | b | c | d) & hi) != 0 ||
            (((a - lo) & ~a) | ((b - lo) & ~b) | ((c - lo) & ~c) | ((d - lo) & ~d)) & hi)
            break; /* a high bit or a zero byte in these words */
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t m;

        memcpy(&w, s + i, 8);
        /* a high bit or a zero byte: the lowest flagged byte is the first */
        if ((m = (w & hi) | ((w - lo) & ~w & hi)) != 0)
            return i + (size_t)__builtin_ctzll(m) / 8;
    }
    while (i < len && (unsigned char)s[i] - 1u < 0x7Fu)
        i++;
    return i;
}

/* A copy of html where NUL bytes and bytes of invalid UTF-8 are '_', so
 * that libxml2 keeps reading UTF-8 and offsets do not move. *copy is NULL
 * when html needs no change. Returns 0, or -1 on ENOMEM. */
static int sanitize(const char *html, size_t len, char **copy)
{
    const gchar *end;
    size_t i = 0;
    char *c = NULL;

    while ((i = ascii_run(html, i, len)) < len) {
        unsigned char c0 = (unsigned char)html[i];

        /* the common case inline: a valid two-byte sequence (Latin text) */
        if (c0 >= 0xC2 && c0 <= 0xDF && i + 1 < len && ((unsigned char)html[i + 1] & 0xC0) == 0x80) {
            i += 2;
            continue;
        }
        if (html[i] != '\0' && g_utf8_validate(html + i, (gssize)(len - i < 4 ? len - i : 4), &end)) {
            i = len - i < 4 ? len : i + 4; /* whole window valid: ASCII follows */
            continue;
        }
        if (html[i] != '\0' && end > html + i) {
            i = (size_t)(end - html); /* a valid character, then something else */
            continue;
        }
        if (c == NULL) {
            if ((c = malloc(len)) == NULL)
                return -1;
            memcpy(c, html, len);
        }
        c[i++] = '_';
    }
    *copy = c;
    return 0;
}

/* HTML5 ends "<!-->" and "<!--->" at once, as empty comments; libxml2 2.9
 * reads on to the next "-->" and would hide the markup in between from
 * the scan while browsers show it (a pixel there would be missed). In the
 * copy they become "<?-->" and "<?--->", which libxml2 2.9 reads as text,
 * like a browser; the length stays, so offsets do not move. Makes the copy
 * if there is none yet. Returns 0, or -1 on ENOMEM. */
/* The first "<!--" in p[0..n), or NULL. memchr for the rare '!' instead
 * of memmem: on a newsletter this pass then costs a tenth as much. */
static const char *find_comment_open(const char *p, size_t n)
{
    const char *end = p + n, *q = p;

    while (q < end && (q = memchr(q, '!', (size_t)(end - q))) != NULL) {
        if (q > p && q[-1] == '<' && end - q >= 3 && q[1] == '-' && q[2] == '-')
            return q - 1;
        q++;
    }
    return NULL;
}

static int abrupt_comments(const char *html, size_t len, char **copy)
{
    const char *q;
    size_t i = 0;

    while (i + 5 <= len && (q = find_comment_open(html + i, len - i)) != NULL) {
        i = (size_t)(q - html) + 4;
        if (!(i < len && html[i] == '>') && !(i + 1 < len && html[i] == '-' && html[i + 1] == '>'))
            continue;
        if (*copy == NULL) {
            if ((*copy = malloc(len)) == NULL)
                return -1;
            memcpy(*copy, html, len);
        }
        (*copy)[i - 3] = '?';
    }
    return 0;
}

/* libxml2 2.9 checks each new attribute of a start tag against all the
 * earlier ones, so a tag with k attributes costs k*k/2 comparisons and a
 * hostile tag with 100000 distinct attributes would take minutes (a
 * repeated name is cheap: it is dropped). Refuse a part whose tags would
 * cost more than this in total (well under a second; real mail needs a
 * few hundred thousand). */
#define RW_ATTR_WORK_MAX 32000000ull

struct attr_count {
    size_t k;           /* attributes */
    uint64_t *hash;     /* their names' hashes, on the second pass */
};

static void count_attr(void *ctx, const char *doc, const struct rw_rawattr *a)
{
    struct attr_count *c = ctx;
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the lower-cased name */
    size_t i;

    if (c->hash != NULL) {
        for (i = 0; i < a->nlen; i++)
            h = (h ^ (unsigned char)g_ascii_tolower(doc[a->noff + i])) * 1099511628211ull;
        c->hash[c->k] = h;
    }
    c->k++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* libxml2's cost for one tag from p: attributes x distinct names. */
static unsigned long long tag_work(const char *doc, size_t len, size_t p, size_t *end)
{
    struct attr_count c = {0, NULL};
    size_t i, d;

    *end = rw_tag_lex(doc, len, p, len, count_attr, &c);
    if (c.k <= 64)
        return (unsigned long long)c.k * c.k / 2;
    if ((c.hash = malloc(c.k * sizeof(*c.hash))) == NULL)
        return ~0ull;
    c.k = 0;
    rw_tag_lex(doc, len, p, len, count_attr, &c);
    qsort(c.hash, c.k, sizeof(*c.hash), cmp_u64);
    for (i = d = 1; i < c.k; i++)
        d += c.hash[i] != c.hash[i - 1];
    free(c.hash);
    return (unsigned long long)c.k * d;
}

static int attr_bomb(const char *doc, size_t len)
{
    unsigned long long work = 0;
    size_t i = 0, e;
    const char *q;

    while (i < len && (q = memchr(doc + i, '<', len - i)) != NULL) {
        i = (size_t)(q - doc) + 1;
        if (i >= len || !g_ascii_isalpha(doc[i]))
            continue;
        while (i < len && rw_html_name_char((unsigned char)doc[i]))
            i++;
        work += tag_work(doc, len, i, &e);
        if (work > RW_ATTR_WORK_MAX)
            return 1;
        if (e != SIZE_MAX && e > i)
            i = e;
    }
    return 0;
}

/* Every site from first on as the browser fetches it: resolved against
 * the document's first <base href> (wherever it stands: the mail is
 * rendered as a whole), "//host" as https, backslashes as slashes. */
static int resolve_sites(struct rw_sites *out, size_t first, const char *href, size_t max)
{
    struct rw_urlp u;
    char *b = NULL, *r;
    const char *base = NULL;
    size_t i;
    int rc = RW_OK;

    if (href != NULL && (rc = rw_url_resolve(href, strlen(href), NULL, max, &b)) == RW_OK) {
        base = b ? b : href;
        rw_url_split(base, strlen(base), &u);
        if (!u.http || u.host_len == 0)
            base = NULL; /* a base that is not http(s) fetches nothing over the net */
    }
    for (i = first; i < out->n && rc == RW_OK; i++) {
        rc = rw_url_resolve(out->v[i].url, strlen(out->v[i].url), base, max, &r);
        if (rc == RW_OK && r != NULL) {
            free(out->v[i].url);
            out->v[i].url = r;
        }
        out->v[i].resolved = 1;
    }
    free(b);
    return rc;
}

int rw_html_scan_ex(const char *html, size_t len, const struct rw_limits *lim,
                    struct rw_sites *out, char *err, size_t errlen, size_t *skipped)
{
    struct rw_hscan h;
    char *copy;
    size_t first;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    out->body_close = -1;
    if (html == NULL && len > 0)
        return RW_EINVAL;
    if (sanitize(html, len, &copy) != 0 || abrupt_comments(copy ? copy : html, len, &copy) != 0) {
        free(copy);
        return RW_ENOMEM;
    }
    if (attr_bomb(copy ? copy : html, len)) {
        free(copy);
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "HTML tags with too many attributes");
        return RW_ELIMIT;
    }
    memset(&h, 0, sizeof(h));
    h.doc = copy ? copy : html;
    h.len = len;
    h.lim = rw_limits_or_default(lim);
    h.out = out;
    h.err = err;
    h.errlen = errlen;
    first = out->n;
    rc = scan_doc(&h);
    if (rc == RW_OK && (rc = resolve_sites(out, first, h.base_href, h.lim->max_url_len)) != RW_OK
        && err != NULL && errlen > 0)
        snprintf(err, errlen, rc == RW_ELIMIT ? "URL longer than the limit" : "out of memory");
    free(h.base_href);
    if (rc == RW_ELIMIT && len > INT_MAX && err != NULL && errlen > 0)
        snprintf(err, errlen, "HTML part too large");
    if (rc == RW_ENOMEM && err != NULL && errlen > 0 && err[0] == '\0')
        snprintf(err, errlen, "out of memory");
    out->body_close = h.body_close;
    if (skipped != NULL)
        *skipped = h.skipped;
    free(copy);
    return rc;
}

int rw_html_scan(const char *html, size_t len, const struct rw_limits *lim,
                 struct rw_sites *out, char *err, size_t errlen)
{
    return rw_html_scan_ex(html, len, lim, out, err, errlen, NULL);
}
