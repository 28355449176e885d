/* rewrite - the engine behind rw_rewrite (SPEC §3).
 *
 * Data flow, one message:
 *   1. mime.c lists the rewritable text leaves and their byte ranges;
 *   2. each leaf is decoded once (transfer encoding, then charset to UTF-8)
 *      and scanned once (html.c/css.c or text.c) for URL sites;
 *   3. every site of the whole message is classified (the repeat count of
 *      a URL is message-wide), List-Unsubscribe URLs are protected, and the
 *      caller decides an action per finding;
 *   4. with every decision known, the footer pair is chosen (tracked if a
 *      tracker remains), each changed leaf is patched, re-encoded with its
 *      own transfer encoding and charset (UTF-8 only if the inserted text
 *      needs it), and spliced into the original bytes. Everything else is
 *      copied untouched, so an unchanged message comes out byte-identical.
 * Failures return a status and a reason in rep->error; nothing partial is
 * ever handed back as a result. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "rewriter/rules_int.h"
#include "rewriter/rw_engine.h"

/* One leaf being rewritten. */
struct leaf {
    struct rw_part *mp;
    struct buf text; /* decoded UTF-8 (or passthrough bytes) */
    struct rw_sites sites;
    char **repl; /* per site: replacement URL (UTF-8), NULL: keep */
    int skip;    /* inline PGP: counted untouchable, left alone */
    int utf8;    /* the output switched to UTF-8 */
    int to_qp;   /* the output switched from 7bit to quoted-printable */
    struct rw_qptab qpt; /* lines of a QP body whose text is its decoding */
};

/* One replacement of input bytes. */
struct splice {
    size_t off, len;
    char *data;
    size_t dlen;
    unsigned seq;
};

struct eng {
    const struct rw_request *req;
    struct rw_limits lim;
    const char *msg;
    size_t len;
    struct rw_mime mime;
    struct leaf *lv;
    size_t nl;
    GHashTable *repeat; /* url (borrowed) -> count */
    struct rw_recip recip; /* the recipient, prepared once (decide_all) */
    struct rw_report *rep;
    struct splice *sp;
    size_t nsp;
};

#define ERR(e, ...) g_snprintf((e)->rep->error, sizeof(e)->rep->error, __VA_ARGS__)

static int buf_rc(int e)
{
    return e == 0 ? RW_OK : e == ENOMEM ? RW_ENOMEM : RW_ELIMIT;
}

/* --- step 2: decode and scan ------------------------------------------- */

static int decode_leaf(struct eng *e, struct leaf *l, size_t idx)
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
        rc = buf_rc(buf_append(&dec, raw, n));
    if (rc == RW_OK && dec.len > e->lim.max_part_size)
        rc = RW_ELIMIT;
    if (rc == RW_OK && dec.data == NULL)
        rc = buf_rc(buf_append(&dec, "", 0));
    if (rc == RW_OK && rw_charset_passthrough(p->charset)) {
        l->text = dec;
        return RW_OK;
    }
    if (rc == RW_OK) {
        buf_init(&l->text, 4 * e->lim.max_part_size);
        rc = rw_charset_decode(p->charset, dec.data, dec.len, &l->text);
        if (rc == RW_OK && l->text.data == NULL)
            rc = buf_rc(buf_append(&l->text, "", 0));
        if (rc == RW_ECHARSET)
            ERR(e, "part %zu: cannot decode charset %s", idx + 1, p->charset);
    }
    if (rc == RW_ELIMIT)
        ERR(e, "part %zu larger than %zu bytes", idx + 1, e->lim.max_part_size);
    buf_free(&dec);
    return rc;
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
    return rc;
}

static int prepare_leaves(struct eng *e)
{
    size_t i, j;
    struct leaf *l;
    int rc;

    e->lv = g_try_new0(struct leaf, e->mime.nparts ? e->mime.nparts : 1);
    if (e->lv == NULL)
        return RW_ENOMEM;
    for (i = 0; i < e->mime.nparts; i++) {
        l = &e->lv[e->nl++];
        l->mp = &e->mime.parts[i];
        if ((rc = decode_leaf(e, l, i)) != RW_OK)
            return rc;
        if (is_inline_pgp(&l->text)) {
            l->skip = 1;
            e->mime.untouchable++;
            continue;
        }
        if ((rc = scan_leaf(e, l, i)) != RW_OK)
            return rc;
        l->repl = g_try_new0(char *, l->sites.n ? l->sites.n : 1);
        if (l->repl == NULL)
            return RW_ENOMEM;
        for (j = 0; j < l->sites.n; j++) {
            const char *u = l->sites.v[j].url;
            guint c = GPOINTER_TO_UINT(g_hash_table_lookup(e->repeat, u));
            g_hash_table_insert(e->repeat, (gpointer)u, GUINT_TO_POINTER(c + 1));
        }
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
    unsigned rep = RW_PLACE_IS_LINK(s->place)
                       ? 1
                       : GPOINTER_TO_UINT(g_hash_table_lookup(e->repeat, s->url));
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
    rc = rw_report_add_item(e->rep, &f, a, r);
    if (rc == RW_OK && r && (l->repl[j] = g_strdup(r)) == NULL)
        rc = RW_ENOMEM;
    rw_class_clear(&c);
    return rc;
}

static int decide_all(struct eng *e)
{
    struct buf repl = BUF_INIT(e->lim.max_url_len * 4 + 4096);
    size_t i, j;
    int rc = rw_recip_prepare(e->req->recipient, &e->recip);

    if (rc != RW_OK)
        ERR(e, "out of memory");
    for (i = 0; i < e->nl && rc == RW_OK; i++)
        for (j = 0; !e->lv[i].skip && j < e->lv[i].sites.n && rc == RW_OK; j++)
            rc = decide_site(e, &e->lv[i], j, &repl);
    buf_free(&repl);
    return rc;
}

/* --- step 4: patch, re-encode, splice ---------------------------------- */

static int text_crlf(const struct leaf *l)
{
    const char *nl = memchr(l->text.data, '\n', l->text.len);

    if (nl != NULL)
        return nl > l->text.data && nl[-1] == '\r';
    return l->mp->crlf;
}

static const char *footer_for(const struct eng *e, const struct leaf *l)
{
    const struct rw_request *r = e->req;

    if (e->rep->kept_trackers > 0)
        return l->mp->is_html ? r->footer_html : r->footer_text;
    return l->mp->is_html ? r->footer_html_untracked : r->footer_text_untracked;
}

/* Append the footer to b with its line ends turned into the text's. At the
 * end of a text that does not end on a line end (the line end before a
 * boundary belongs to the boundary), start a new line and leave the last
 * one open, so the part keeps its shape. */
static int put_footer(struct buf *b, const char *f, int crlf, int at_end, int open_end)
{
    const char *eol = crlf ? "\r\n" : "\n";
    size_t n = strlen(f);
    int rc = 0;

    if (at_end && open_end) {
        rc = buf_puts(b, eol);
        if (n > 0 && f[n - 1] == '\n')
            n--;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (f[i] == '\r')
            continue;
        rc = f[i] == '\n' ? buf_puts(b, eol) : buf_putc(b, f[i]);
    }
    if (rc == 0 && at_end && !open_end && n > 0 && f[n - 1] != '\n')
        rc = buf_puts(b, eol);
    return buf_rc(rc);
}

struct pbuild {
    struct rw_patch *pv;
    size_t *aoff; /* offset of each patch's bytes in arena */
    size_t n;
    struct buf arena;
    int ins_ascii; /* every inserted byte is 7-bit */
    int footer;    /* a footer was inserted */
};

static int add_footer(struct eng *e, struct leaf *l, struct pbuild *pb)
{
    const char *f = footer_for(e, l);
    size_t at = l->text.len, start = pb->arena.len;
    int at_end, open_end, rc;

    if (f == NULL || *f == '\0')
        return RW_OK;
    if (l->mp->is_html && l->sites.body_close >= 0 && (size_t)l->sites.body_close <= at)
        at = (size_t)l->sites.body_close;
    at_end = at == l->text.len;
    open_end = l->text.len > 0 && l->text.data[l->text.len - 1] != '\n';
    if ((rc = put_footer(&pb->arena, f, text_crlf(l), at_end, open_end)) != RW_OK)
        return rc;
    pb->pv[pb->n] = (struct rw_patch){at, 0, NULL, pb->arena.len - start};
    pb->aoff[pb->n++] = start;
    pb->footer = 1;
    return RW_OK;
}

static int cmp_patch(const void *a, const void *b)
{
    const struct rw_patch *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* The patches for l: site replacements and the footer, sorted. */
static int patch_leaf(struct eng *e, struct leaf *l, struct pbuild *pb)
{
    size_t j, start;
    int rc = RW_OK;

    pb->pv = g_try_new0(struct rw_patch, l->sites.n + 1);
    pb->aoff = g_try_new0(size_t, l->sites.n + 1);
    if (pb->pv == NULL || pb->aoff == NULL)
        return RW_ENOMEM;
    for (j = 0; j < l->sites.n && rc == RW_OK; j++) {
        if (l->repl[j] == NULL)
            continue;
        start = pb->arena.len;
        if ((rc = rw_site_escape(&l->sites.v[j], l->repl[j], &pb->arena)) != RW_OK)
            break;
        pb->pv[pb->n] = (struct rw_patch){l->sites.v[j].off, l->sites.v[j].len, NULL,
                                          pb->arena.len - start};
        pb->aoff[pb->n++] = start;
    }
    if (rc == RW_OK)
        rc = add_footer(e, l, pb);
    if (rc != RW_OK || pb->n == 0)
        return rc;
    pb->ins_ascii = rw_is_ascii(pb->arena.data, pb->arena.len);
    for (j = 0; j < pb->n; j++)
        pb->pv[j].repl = pb->arena.data + pb->aoff[j];
    qsort(pb->pv, pb->n, sizeof *pb->pv, cmp_patch);
    for (j = 1; j < pb->n; j++)
        if (pb->pv[j].off < pb->pv[j - 1].off + pb->pv[j - 1].len) {
            ERR(e, "overlapping URL sites in one part");
            return RW_EINVAL;
        }
    return RW_OK;
}

/* The output bytes in the part's charset (or UTF-8 if it must switch). */
static int charset_out(struct leaf *l, const struct pbuild *pb, const struct buf *t,
                       struct buf *cs_out, const struct buf **bytes)
{
    const char *cs = l->mp->charset;
    int rc;

    *bytes = t;
    if (rw_charset_passthrough(cs)) {
        if (!pb->ins_ascii && (cs == NULL || g_ascii_strncasecmp(cs, "utf", 3) != 0))
            l->utf8 = 1;
        return RW_OK;
    }
    rc = rw_charset_encode(cs, t->data, t->len, cs_out);
    if (rc == RW_ECHARSET) {
        l->utf8 = 1; /* the inserted text needs characters the charset lacks */
        return RW_OK;
    }
    *bytes = cs_out;
    return rc;
}

/* A quoted-printable part whose bytes are its decoding (UTF-8, ASCII):
 * re-encode only the lines the patches touch. RW_EINVAL: not possible,
 * re-encode all. */
static int encode_qp_lines(struct eng *e, struct leaf *l, const struct pbuild *pb,
                           struct buf *enc)
{
    const struct rw_part *p = l->mp;
    int rc;

    if (p->cte != RW_CTE_QP || !rw_charset_passthrough(p->charset))
        return RW_EINVAL;
    /* the result is about the body's size: one allocation, no doublings
     * (a failure here only means the appends will grow it) */
    (void)buf_reserve(enc, (p->body.end - p->body.off) + (p->body.end - p->body.off) / 8 + 1024);
    if (l->qpt.v != NULL)
        rc = rw_qp_patch_tab(e->msg + p->body.off, p->body.end - p->body.off, l->text.data,
                             l->text.len, &l->qpt, pb->pv, pb->n, p->crlf, enc);
    else
        rc = rw_qp_patch(e->msg + p->body.off, p->body.end - p->body.off, l->text.data,
                         l->text.len, pb->pv, pb->n, p->crlf, enc);
    if (rc == RW_OK && !pb->ins_ascii &&
        (p->charset == NULL || g_ascii_strncasecmp(p->charset, "utf", 3) != 0))
        l->utf8 = 1;
    if (rc == RW_EINVAL)
        buf_reset(enc);
    return rc;
}

static int encode_leaf(struct eng *e, struct leaf *l, const struct pbuild *pb,
                       struct buf *enc)
{
    const struct rw_part *p = l->mp;
    struct buf t = BUF_INIT(0), cs_out = BUF_INIT(0);
    const struct buf *bytes;
    int rc, final_eol = p->body.end > p->body.off && e->msg[p->body.end - 1] == '\n';

    if ((rc = encode_qp_lines(e, l, pb, enc)) != RW_EINVAL)
        return rc;
    rc = rw_patch_apply(l->text.data, l->text.len, pb->pv, pb->n, &t);
    if (rc == RW_OK)
        rc = charset_out(l, pb, &t, &cs_out, &bytes);
    if (rc == RW_OK && p->cte == RW_CTE_7BIT && !pb->ins_ascii &&
        !rw_is_ascii(bytes->data, bytes->len))
        l->to_qp = 1;
    if (rc != RW_OK)
        ;
    else if (p->cte == RW_CTE_QP || l->to_qp)
        rc = rw_qp_encode(bytes->data, bytes->len, p->crlf, enc);
    else if (p->cte == RW_CTE_BASE64)
        rc = rw_b64_encode(bytes->data, bytes->len, p->crlf, final_eol, enc);
    else
        rc = buf_rc(buf_append(enc, bytes->data, bytes->len));
    buf_free(&t);
    buf_free(&cs_out);
    return rc;
}

static int add_splice(struct eng *e, size_t off, size_t len, struct buf *data)
{
    struct splice *v = g_try_renew(struct splice, e->sp, e->nsp + 1);

    if (v == NULL)
        return RW_ENOMEM;
    e->sp = v;
    if (buf_append(data, "", 0) != 0)
        return RW_ENOMEM;
    v[e->nsp] = (struct splice){off, len, NULL, data->len, (unsigned)e->nsp};
    v[e->nsp].data = buf_steal(data, NULL);
    if (v[e->nsp].data == NULL)
        return RW_ENOMEM;
    e->nsp++;
    return RW_OK;
}

static int hdr_change(struct eng *e, const char *name, char *value)
{
    struct rw_report *rep = e->rep;
    struct rw_hdr_change *v =
        g_try_renew(struct rw_hdr_change, rep->hdr_changes, rep->nhdr_changes + 1);

    if (v == NULL) {
        g_free(value);
        return RW_ENOMEM;
    }
    rep->hdr_changes = v;
    v[rep->nhdr_changes].name = g_strdup(name);
    v[rep->nhdr_changes++].value = value;
    return RW_OK;
}

/* Header fields of the part: charset=utf-8, or quoted-printable. */
static int field_splice(struct eng *e, struct leaf *l, int cte)
{
    struct buf field = BUF_INIT(0);
    struct rw_range r;
    char *value = NULL;
    int rc;

    if (cte)
        rc = rw_hdr_set_cte_qp(e->msg, e->len, l->mp, &r, &field, &value);
    else
        rc = rw_hdr_set_charset(e->msg, e->len, l->mp, &r, &field, &value);
    if (rc == RW_OK)
        rc = add_splice(e, r.off, r.end - r.off, &field);
    if (rc == RW_OK && l->mp->top) {
        rc = hdr_change(e, cte ? "Content-Transfer-Encoding" : "Content-Type", value);
        value = NULL;
    }
    g_free(value);
    buf_free(&field);
    return rc;
}

static int rewrite_leaf(struct eng *e, struct leaf *l)
{
    struct pbuild pb;
    struct buf enc = BUF_INIT(0);
    int rc;

    memset(&pb, 0, sizeof pb);
    buf_init(&pb.arena, 0);
    rc = patch_leaf(e, l, &pb);
    if (rc == RW_OK && pb.n > 0)
        rc = encode_leaf(e, l, &pb, &enc);
    if (rc == RW_OK && pb.n > 0)
        rc = add_splice(e, l->mp->body.off, l->mp->body.end - l->mp->body.off, &enc);
    if (rc == RW_OK && pb.n > 0) {
        e->rep->parts_rewritten++;
        if (pb.footer && l->mp->is_html)
            e->rep->footer_html_added++;
        else if (pb.footer)
            e->rep->footer_text_added++;
        if (l->utf8)
            rc = field_splice(e, l, 0);
        if (rc == RW_OK && l->to_qp)
            rc = field_splice(e, l, 1);
    }
    g_free(pb.pv);
    g_free(pb.aoff);
    buf_free(&pb.arena);
    buf_free(&enc);
    return rc;
}

static int cmp_splice(const void *a, const void *b)
{
    const struct splice *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int assemble(struct eng *e, struct buf *out)
{
    size_t pos = 0, i, body = e->mime.body_offset, total;
    long long delta = 0;
    int rc = 0;

    if (e->nsp > 1)
        qsort(e->sp, e->nsp, sizeof *e->sp, cmp_splice);
    /* The final size is known: one allocation instead of doublings (on
     * failure the appends below fail and report it as before). */
    for (i = 0, total = e->len; i < e->nsp; i++)
        total += e->sp[i].dlen - e->sp[i].len;
    (void)buf_reserve(out, total);
    for (i = 0; i < e->nsp && rc == 0; i++) {
        const struct splice *s = &e->sp[i];
        if (s->off < pos) {
            ERR(e, "overlapping changes");
            return RW_EINVAL;
        }
        rc = buf_append(out, e->msg + pos, s->off - pos);
        if (rc == 0)
            rc = buf_append(out, s->data, s->dlen);
        pos = s->off + s->len;
        if (s->off + s->len <= body)
            delta += (long long)s->dlen - (long long)s->len;
    }
    if (rc == 0)
        rc = buf_append(out, e->msg + pos, e->len - pos);
    e->rep->body_offset = (size_t)((long long)body + delta);
    e->rep->changed =
        out->len != e->len || (e->len > 0 && memcmp(out->data, e->msg, e->len) != 0);
    if (rc != 0)
        ERR(e, "output too large");
    return buf_rc(rc);
}

static int produce(struct eng *e, struct buf *out)
{
    size_t i;
    int rc = RW_OK;

    buf_reset(out);
    for (i = 0; i < e->nl && rc == RW_OK; i++) {
        if (!e->req->dry_run && !e->lv[i].skip)
            rc = rewrite_leaf(e, &e->lv[i]);
        /* Done with this text: the peak holds one decoded part, not all. */
        buf_free(&e->lv[i].text);
    }
    if (rc != RW_OK)
        return rc;
    e->rep->footer_tracked = e->rep->kept_trackers > 0 &&
                             (e->rep->footer_html_added || e->rep->footer_text_added);
    rc = assemble(e, out);
    if (rc == RW_OK && out->data == NULL)
        rc = buf_rc(buf_append(out, "", 0));
    return rc;
}

static void eng_free(struct eng *e)
{
    size_t i, j;

    for (i = 0; i < e->nl; i++) {
        buf_free(&e->lv[i].text);
        if (e->lv[i].repl)
            for (j = 0; j < e->lv[i].sites.n; j++)
                g_free(e->lv[i].repl[j]);
        g_free(e->lv[i].repl);
        g_free(e->lv[i].qpt.v);
        rw_sites_free(&e->lv[i].sites);
    }
    g_free(e->lv);
    for (i = 0; i < e->nsp; i++)
        free(e->sp[i].data);
    g_free(e->sp);
    if (e->repeat)
        g_hash_table_destroy(e->repeat);
    rw_mime_free(&e->mime);
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
    e.repeat = g_hash_table_new(url_hash, g_str_equal);
    rc = rw_mime_parse(msg, len, &e.lim, &e.mime, err, sizeof err);
    if (rc != RW_OK)
        g_strlcpy(rep->error, err, sizeof rep->error);
    if (rc == RW_OK)
        rc = prepare_leaves(&e);
    rep->parts_total = e.mime.total;
    rep->parts_untouchable = e.mime.untouchable;
    if (rc == RW_OK)
        rc = decide_all(&e);
    if (rc == RW_OK)
        rc = produce(&e, out);
    eng_free(&e);
    return rc;
}
