/* rewrite - the engine behind rw_rewrite (SPEC §3).
 *
 * Data flow, one message:
 *   1. mime.c lists the rewritable text leaves and their byte ranges;
 *   2. each leaf is decoded once (transfer encoding, then charset to UTF-8)
 *      and scanned once (html.c/css.c or text.c) for URL sites;
 *   3. every site of the whole message is classified (the repeat count of
 *      a URL is message-wide), List-Unsubscribe URLs are protected, and the
 *      caller decides an action per finding;
 *   4. rewrite_out.c: with every decision known, each changed leaf is
 *      patched, re-encoded and written in place of its body. Everything
 *      else is copied untouched, so an unchanged message comes out
 *      byte-identical.
 * Memory (SPEC §7: at most 4x the message): a 7bit/8bit UTF-8 or ASCII leaf
 * is scanned in place, not copied; a leaf is decided as soon as it can be
 * (a text/plain leaf at once, an HTML one when the image URLs of every
 * HTML leaf are counted), and then keeps only the sites it changes; report
 * items are kept, streamed or dropped as the caller asks. What remains is
 * charged to a working-memory ceiling (req->max_memory, default 3x the
 * message + 8 MiB, the output included; rewrite_mem.c keeps the account):
 * past it RW_ELIMIT, never an
 * unbounded peak.
 * Failures return a status and a reason in rep->error; nothing partial is
 * ever handed back as a result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/rewrite_int.h"

/* What malloc really takes for n bytes (header, 16-byte granules). */
static size_t alloc_cost(size_t n)
{
    return (n + 8 + 15) & ~(size_t)15;
}

/* --- step 2: decode and scan ------------------------------------------- */

/* A charset that cannot be decoded (unknown name, or bytes invalid in it):
 * the trackers are ASCII URLs, so an ASCII-compatible part is scanned as
 * its bytes (raw8): only sites made of ASCII bytes are rewritten, every
 * other byte is kept, the charset stays as declared. */
static int raw_bytes(struct eng *e, struct leaf *l, size_t idx, struct buf *dec)
{
    const char *why;

    buf_free(&l->text);
    if (!rw_charset_ascii_compat(l->mp->charset, dec->data, dec->len, &why)) {
        ERR(e, "part %zu: charset %s cannot be decoded and %s", idx + 1, l->mp->charset,
            why);
        buf_free(dec);
        return RW_ECHARSET;
    }
    l->text = *dec;
    l->raw8 = 1;
    return RW_OK;
}

static int decode_copy(struct eng *e, struct leaf *l, size_t idx)
{
    const struct rw_part *p = l->mp;
    const char *raw = e->msg + p->body.off;
    size_t n = p->body.end - p->body.off;
    /* QP decodes in place over a copy of the raw body, which may be larger
     * than the decoded limit; the decoded size is checked below. */
    struct buf dec = BUF_INIT(n > e->lim.max_part_size ? n : e->lim.max_part_size);
    int rc = RW_OK;

    if (n / 3 > e->lim.max_part_size) {
        ERR(e, "part %zu larger than %zu bytes", idx + 1, e->lim.max_part_size);
        return RW_ELIMIT;
    }
    if (p->cte == RW_CTE_QP)
        rc = rw_qp_decode_tab(raw, n, &dec,
                              rw_charset_passthrough(p->charset) ? &l->qpt : NULL);
    else if (p->cte == RW_CTE_BASE64)
        rc = rw_b64_decode(raw, n, &dec);
    else
        rc = rw_buf_status(buf_append(&dec, raw, n));
    if (rc == RW_OK && dec.len > e->lim.max_part_size)
        rc = RW_ELIMIT;
    if (rc == RW_OK && dec.data == NULL)
        rc = rw_buf_status(buf_append(&dec, "", 0));
    if (rc == RW_OK && rw_charset_passthrough(p->charset)) {
        l->text = dec;
        return RW_OK;
    }
    if (rc == RW_OK) {
        buf_init(&l->text, 4 * e->lim.max_part_size);
        rc = rw_charset_decode(p->charset, dec.data, dec.len, &l->text);
        if (rc == RW_OK && l->text.data == NULL)
            rc = rw_buf_status(buf_append(&l->text, "", 0));
        if (rc == RW_ECHARSET)
            return raw_bytes(e, l, idx, &dec);
    }
    if (rc == RW_ELIMIT)
        ERR(e, "part %zu larger than %zu bytes", idx + 1, e->lim.max_part_size);
    buf_free(&dec);
    return rc;
}

static int decode_leaf(struct eng *e, struct leaf *l, size_t idx)
{
    const struct rw_part *p = l->mp;
    size_t n = p->body.end - p->body.off;
    int rc;

    if ((p->cte == RW_CTE_7BIT || p->cte == RW_CTE_8BIT || p->cte == RW_CTE_BINARY) &&
        rw_charset_passthrough(p->charset)) {
        if (n > e->lim.max_part_size) {
            ERR(e, "part %zu larger than %zu bytes", idx + 1, e->lim.max_part_size);
            return RW_ELIMIT;
        }
        /* the text is the body: the scanners read (data, len) and never
         * write, so the input is used in place */
        l->text = (struct buf){(char *)(uintptr_t)(e->msg + p->body.off), n, 0, 0};
        l->borrowed = 1;
        return RW_OK;
    }
    if ((rc = decode_copy(e, l, idx)) != RW_OK)
        return rc;
    return rw_eng_charge(e, l->text.cap + l->qpt.cap * sizeof *l->qpt.v);
}

static int is_inline_pgp(const struct buf *t)
{
    static const char mark[] = "-----BEGIN PGP ";
    const char *p = t->data, *end = t->data + t->len;

    /* Only a marker at the start of a line counts: look at each '-' that
     * starts a line (memchr is much cheaper than memmem over the part). */
    for (; p != NULL && p < end; p++) {
        size_t rest;

        if ((p = memchr(p, '-', (size_t)(end - p))) == NULL)
            break;
        if (p != t->data && p[-1] != '\n')
            continue;
        rest = (size_t)(end - p);
        if (rest >= sizeof mark - 1 && memcmp(p, mark, sizeof mark - 1) == 0 &&
            ((rest >= 34 && memcmp(p, "-----BEGIN PGP SIGNED MESSAGE-----", 34) == 0) ||
             (rest >= 27 && memcmp(p, "-----BEGIN PGP MESSAGE-----", 27) == 0)))
            return 1;
    }
    return 0;
}

/* Hash of a URL for the repeat table, 8 bytes per step (g_str_hash goes
 * byte by byte over URLs that are often hundreds of bytes long). */
static guint url_hash(gconstpointer key)
{
    const char *s = key;
    size_t n = strlen(s), i;
    guint64 h = n * 0x9E3779B97F4A7C15ull, w;

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
    h ^= h >> 32;
    return (guint)h;
}

/* In a part of undecodable charset, a URL holding non-ASCII bytes is not
 * known as the client sees it: left as it is. */
static void drop_non_ascii_sites(struct leaf *l)
{
    size_t j, k = 0;

    for (j = 0; j < l->sites.n; j++) {
        struct rw_site *s = &l->sites.v[j];

        if (s->off + s->len <= l->text.len && rw_is_ascii(l->text.data + s->off, s->len)) {
            l->sites.v[k++] = *s;
            continue;
        }
        free(s->url);
        free(s->text);
    }
    l->sites.n = k;
}

static int scan_leaf(struct eng *e, struct leaf *l, size_t idx)
{
    char err[200] = "";
    int rc;

    l->sites.body_close = -1;
    if (l->mp->is_html)
        rc = rw_html_scan(l->text.data, l->text.len, &e->lim, &l->sites, err, sizeof err);
    else
        rc = rw_text_scan(l->text.data, l->text.len, &e->lim, &l->sites);
    if (rc != RW_OK)
        ERR(e, "part %zu: %s", idx + 1, err[0] ? err : rw_strerror(rc));
    else if (l->raw8)
        drop_non_ascii_sites(l);
    return rc;
}

/* What the sites of a leaf (with their replacement slots) cost. */
static size_t sites_cost(const struct leaf *l)
{
    size_t c = l->sites.n * (sizeof *l->sites.v + sizeof *l->repl), j;

    for (j = 0; j < l->sites.n; j++) {
        const struct rw_site *s = &l->sites.v[j];

        c += s->url ? alloc_cost(strlen(s->url) + 1) : 0;
        c += s->text ? alloc_cost(strlen(s->text) + 1) : 0;
        if (l->repl[j] && l->repl[j] != RW_BLANK_GIF_DATA_URL)
            c += alloc_cost(strlen(l->repl[j]) + 1);
        if (l->repl[j] == NULL && !RW_PLACE_IS_LINK(s->place))
            c += sizeof *l->cnt + 32; /* an undecided image: its count and table entry */
    }
    return c;
}

static int recharge(struct eng *e, struct leaf *l)
{
    size_t c = sites_cost(l);

    rw_eng_refund(e, l->cost);
    l->cost = c;
    return rw_eng_charge(e, c);
}

/* Image URLs go to the message-wide repeat table (the heuristics ignore
 * an image repeated 5 times); links never read it. */
static void count_images(struct eng *e, const struct leaf *l)
{
    for (size_t j = 0; j < l->sites.n; j++) {
        const char *u = l->sites.v[j].url;
        guint c;

        if (RW_PLACE_IS_LINK(l->sites.v[j].place))
            continue;
        c = GPOINTER_TO_UINT(g_hash_table_lookup(e->repeat, u));
        g_hash_table_insert(e->repeat, (gpointer)u, GUINT_TO_POINTER(c + 1));
    }
}

/* Every HTML leaf is scanned: each image site gets its final count, and
 * the table (which borrows site URLs) goes before any site is freed. */
static int settle_counts(struct eng *e)
{
    for (size_t i = 0; i < e->nl; i++) {
        struct leaf *l = &e->lv[i];

        if (!l->mp->is_html || l->skip)
            continue;
        if ((l->cnt = g_try_new0(unsigned, l->sites.n ? l->sites.n : 1)) == NULL)
            return RW_ENOMEM;
        for (size_t j = 0; j < l->sites.n; j++)
            if (!RW_PLACE_IS_LINK(l->sites.v[j].place))
                l->cnt[j] =
                    GPOINTER_TO_UINT(g_hash_table_lookup(e->repeat, l->sites.v[j].url));
    }
    g_hash_table_destroy(e->repeat);
    e->repeat = NULL;
    return RW_OK;
}

static int decide_leaf(struct eng *e, struct leaf *l);

/* Decide, in message order, every leaf whose image counts are final. */
static int decide_ready(struct eng *e)
{
    int rc = RW_OK;

    while (rc == RW_OK && e->ndecided < e->nl &&
           (!e->lv[e->ndecided].mp->is_html || e->repeat == NULL))
        rc = decide_leaf(e, &e->lv[e->ndecided++]);
    return rc;
}

static int prepare_leaf(struct eng *e, struct leaf *l, size_t i)
{
    int rc;

    if ((rc = decode_leaf(e, l, i)) != RW_OK)
        return rc;
    if (is_inline_pgp(&l->text)) {
        l->skip = 1;
        e->mime.untouchable++;
        rw_eng_leaf_release(e, l); /* never read again */
        return RW_OK;
    }
    if ((rc = scan_leaf(e, l, i)) != RW_OK)
        return rc;
    if ((l->repl = g_try_new0(char *, l->sites.n ? l->sites.n : 1)) == NULL)
        return RW_ENOMEM;
    if (l->mp->is_html)
        count_images(e, l);
    return recharge(e, l);
}

/* Steps 2 and 3, leaf by leaf: what waits is only what must. */
static int prepare_leaves(struct eng *e)
{
    size_t i, last_html = 0;
    int rc, any_html = 0;

    e->lv = g_try_new0(struct leaf, e->mime.nparts ? e->mime.nparts : 1);
    if (e->lv == NULL)
        return RW_ENOMEM;
    for (i = 0; i < e->mime.nparts; i++)
        if (e->mime.parts[i].is_html) {
            last_html = i;
            any_html = 1;
        }
    if (!any_html && (rc = settle_counts(e)) != RW_OK)
        return rc;
    for (i = 0; i < e->mime.nparts; i++) {
        e->lv[e->nl].mp = &e->mime.parts[i];
        if ((rc = prepare_leaf(e, &e->lv[e->nl++], i)) != RW_OK)
            return rc;
        if (any_html && i == last_html && (rc = settle_counts(e)) != RW_OK)
            return rc;
        if ((rc = decide_ready(e)) != RW_OK)
            return rc;
    }
    return RW_OK;
}

/* --- step 3: classify and decide --------------------------------------- */

static int is_unsub_url(const struct eng *e, const char *url)
{
    size_t i;

    for (i = 0; i < e->mime.nunsub; i++)
        if (strcmp(e->mime.unsub[i], url) == 0)
            return 1;
    return 0;
}

/* The replacement for action a, or NULL to keep; a is set to KEEP when it
 * does not fit the finding. */
static const char *replacement(const struct rw_finding *f, enum rw_action *a,
                               const struct buf *repl)
{
    int link = RW_PLACE_IS_LINK(f->place);
    int tracker = f->type == RW_T_PIXEL || f->type == RW_T_LINK || f->type == RW_T_OPAQUE;
    int have = repl->len > 0;

    switch (*a) {
    case RW_A_STRIP:
        if (f->type == RW_T_PIXEL && !link)
            return rw_strip_url(f->place);
        break;
    case RW_A_ANON:
    case RW_A_DELIV:
        if (f->type == RW_T_PIXEL && !link && have)
            return repl->data;
        break;
    case RW_A_GATE:
        if (tracker && have)
            return repl->data;
        break;
    case RW_A_INTERSTITIAL:
        if ((f->type == RW_T_OPAQUE || f->type == RW_T_LINK) && link && have)
            return repl->data;
        break;
    case RW_A_UNWRAP:
        if (f->type == RW_T_LINK && f->dest)
            return f->dest;
        break;
    case RW_A_CLEAN:
        if ((f->type == RW_T_PLAIN || f->type == RW_T_LINK) && f->dest)
            return strcmp(f->dest, f->url) == 0 ? NULL : f->dest;
        break;
    case RW_A_KEEP:
        return NULL;
    default:
        break;
    }
    *a = RW_A_KEEP;
    return NULL;
}

static void count(struct rw_report *rep, const struct rw_finding *f, enum rw_action a)
{
    rep->found[f->type]++;
    rep->acted[f->type][a]++;
    if ((f->type == RW_T_PIXEL || f->type == RW_T_LINK || f->type == RW_T_OPAQUE) &&
        (a == RW_A_KEEP || a == RW_A_GATE || a == RW_A_DELIV))
        rep->kept_trackers++;
    if (f->type == RW_T_OPAQUE && a == RW_A_KEEP)
        rep->residual_opaque++;
    /* classify.c names images that showed one weak pixel signal only. */
    if (f->type == RW_T_PLAIN && f->rule && strcmp(f->rule, "heuristic:suspect") == 0 &&
        a == RW_A_KEEP)
        rep->residual_unknown++;
}

static int decide_site(struct eng *e, struct leaf *l, size_t j, struct buf *repl)
{
    const struct rw_site *s = &l->sites.v[j];
    /* only the image heuristics read the repeat count */
    unsigned rep = RW_PLACE_IS_LINK(s->place) || l->cnt == NULL ? 1 : l->cnt[j];
    struct rw_class c;
    struct rw_finding f;
    enum rw_action a = RW_A_KEEP;
    const char *r;
    int rc;

    memset(&c, 0, sizeof c);
    rc = rw_classify_recip(e->req->rules, &e->lim, s,
                           e->req->recipient ? &e->recip : NULL, rep, &c);
    if (rc != RW_OK) {
        rw_class_clear(&c);
        ERR(e, "classification failed: %s", rw_strerror(rc));
        return rc;
    }
    if (is_unsub_url(e, s->url))
        c.type = RW_T_PROTECTED;
    f = (struct rw_finding){c.type, s->place,          s->url,          c.rule,
                            c.dest, c.personal_params, c.has_recipient, s->in_mso};
    buf_reset(repl);
    if (e->req->decide && e->req->decide(e->req->decide_ctx, &f, &a, repl) != 0) {
        rw_class_clear(&c);
        ERR(e, "decide callback failed");
        return RW_ECALLBACK;
    }
    if ((unsigned)a >= RW_A_MAX)
        a = RW_A_KEEP;
    r = replacement(&f, &a, repl);
    count(e->rep, &f, a);
    rc = rw_report_add_item(e->rep, e->req, &f, a, r, &e->mem);
    if (rc == RW_OK && e->mem > e->mem_max)
        rc = rw_eng_charge(e, 0);
    if (rc == RW_OK && r == RW_BLANK_GIF_DATA_URL)
        l->repl[j] = (char *)RW_BLANK_GIF_DATA_URL; /* constant: not copied per site */
    else if (rc == RW_OK && r)
        l->repl[j] = g_strdup(r); /* GLib aborts on OOM (rewriter.h, "Memory") */
    rw_class_clear(&c);
    return rc;
}

/* Decide every site of l, then keep only those that change: their url
 * and text are not needed to patch. */
static int decide_leaf(struct eng *e, struct leaf *l)
{
    size_t j, k = 0;
    int rc = RW_OK;

    for (j = 0; !l->skip && j < l->sites.n && rc == RW_OK; j++)
        rc = decide_site(e, l, j, &e->replbuf);
    if (rc != RW_OK)
        return rc;
    for (j = 0; j < l->sites.n; j++) {
        free(l->sites.v[j].url);
        free(l->sites.v[j].text);
        l->sites.v[j].url = l->sites.v[j].text = NULL;
        if (l->repl[j] == NULL)
            continue;
        l->sites.v[k] = l->sites.v[j];
        l->repl[k++] = l->repl[j];
    }
    l->sites.n = k;
    if (k == 0) {
        free(l->sites.v);
        g_free(l->repl);
        l->sites.v = NULL;
        l->repl = NULL;
        l->sites.cap = 0;
    } else if (k < l->sites.cap) { /* give the rest back (a failure keeps it) */
        struct rw_site *v = realloc(l->sites.v, k * sizeof *v);
        char **r = g_try_renew(char *, l->repl, k);

        if (v != NULL) {
            l->sites.v = v;
            l->sites.cap = k;
        }
        if (r != NULL)
            l->repl = r;
    }
    g_free(l->cnt);
    l->cnt = NULL;
    return recharge(e, l);
}

static void eng_free(struct eng *e)
{
    size_t i;

    for (i = 0; i < e->nl; i++)
        rw_eng_leaf_release(e, &e->lv[i]);
    g_free(e->lv);
    if (e->repeat)
        g_hash_table_destroy(e->repeat);
    buf_free(&e->replbuf);
    rw_mime_free(&e->mime);
}

/* The working-memory ceiling: the caller's, or 3x the message + 8 MiB
 * (with the input that makes SPEC §7's 4x, plus a fixed base; the milter's
 * shared budget, milter/budget.c, takes the same share). */
static size_t mem_ceiling(const struct rw_request *req, size_t len)
{
    if (req->max_memory)
        return req->max_memory;
    return len > (SIZE_MAX - (8u << 20)) / 3 ? SIZE_MAX : 3 * len + (8u << 20);
}

int rw_rewrite(const struct rw_request *req, const char *msg, size_t len, struct buf *out,
               struct rw_report *rep)
{
    struct eng e;
    char err[256] = "";
    int rc;

    memset(rep, 0, sizeof *rep);
    if (req == NULL || req->rules == NULL || msg == NULL || out == NULL) {
        g_strlcpy(rep->error, "missing request, rules, message or output",
                  sizeof rep->error);
        return RW_EINVAL;
    }
    rw_init();
    memset(&e, 0, sizeof e);
    e.req = req;
    e.msg = msg;
    e.len = len;
    e.rep = rep;
    if (req->limits)
        e.lim = *req->limits;
    else
        rw_limits_default(&e.lim);
    e.mem_max = mem_ceiling(req, len);
    buf_init(&e.replbuf, e.lim.max_url_len * 4 + 4096);
    e.repeat = g_hash_table_new(url_hash, g_str_equal);
    rc = rw_recip_prepare(req->recipient, &e.recip);
    if (rc != RW_OK)
        ERR(&e, "out of memory");
    if (rc == RW_OK && (rc = rw_mime_parse(msg, len, &e.lim, &e.mime, err, sizeof err)) !=
                           RW_OK)
        g_strlcpy(rep->error, err, sizeof rep->error);
    if (rc == RW_OK)
        rc = prepare_leaves(&e);
    rep->parts_total = e.mime.total;
    rep->parts_untouchable = e.mime.untouchable;
    if (rc == RW_OK)
        rc = rw_eng_produce(&e, out);
    if (rc != RW_OK)
        buf_reset(out); /* no half-written message is left to send */
    eng_free(&e);
    return rc;
}
