/* rewrite_out - step 4 of the engine (see rewrite.c): with every decision
 * known, the footer pair is chosen (tracked if a tracker remains), and the
 * output is written in one pass over the input: untouched bytes copied,
 * each changed leaf patched, re-encoded with its own transfer encoding and
 * charset (UTF-8 only if the inserted text needs it) and written in place
 * of its body, with the header fields that had to change.
 *
 * Memory: the output is written straight into the caller's buffer and each
 * leaf is released as soon as it is written, so the peak holds the input,
 * the output, the leaves not yet written and one leaf's re-encoding; no
 * copy of the whole output waits to be assembled. */
#include <stdlib.h>
#include <string.h>

#include "rewriter/rewrite_int.h"

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
    return rw_buf_status(rc);
}

/* Text for a part whose charset is not known (raw8): ASCII only, since no
 * other byte can be declared. HTML keeps every character as a numeric
 * reference; text/plain is transliterated ("é" -> "e"; g_str_to_ascii). */
static char *ascii_footer(const char *f, int html)
{
    GString *g;

    if (rw_is_ascii(f, strlen(f)))
        return g_strdup(f);
    if (!html || !g_utf8_validate(f, -1, NULL))
        return g_str_to_ascii(f, "C");
    g = g_string_sized_new(strlen(f) + 64);
    for (const char *p = f; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c < 0x80)
            g_string_append_c(g, (char)c);
        else
            g_string_append_printf(g, "&#%u;", (unsigned)c);
    }
    return g_string_free(g, FALSE);
}

/* In a raw8 part, a replacement URL's non-ASCII bytes (from the bytes of
 * b from start on) are percent-encoded: the same URL to a browser. */
static int ascii_url(struct buf *b, size_t start)
{
    static const char hex[] = "0123456789ABCDEF";
    struct buf t = BUF_INIT(0);
    int e = 0;

    if (rw_is_ascii(b->data + start, b->len - start))
        return RW_OK;
    for (size_t i = start; i < b->len && e == 0; i++) {
        unsigned char c = (unsigned char)b->data[i];

        if (c < 0x80)
            e = buf_putc(&t, (char)c);
        else
            e = buf_putc(&t, '%') || buf_putc(&t, hex[c >> 4]) || buf_putc(&t, hex[c & 15]);
    }
    b->len = start;
    if (e == 0)
        e = buf_append(b, t.data, t.len);
    buf_free(&t);
    return rw_buf_status(e);
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
    char *ascii = NULL;

    if (f == NULL || *f == '\0')
        return RW_OK;
    if (l->raw8 && (f = ascii = ascii_footer(f, l->mp->is_html)) == NULL)
        return RW_ENOMEM;
    if (l->mp->is_html && l->sites.body_close >= 0 && (size_t)l->sites.body_close <= at)
        at = (size_t)l->sites.body_close;
    at_end = at == l->text.len;
    open_end = l->text.len > 0 && l->text.data[l->text.len - 1] != '\n';
    rc = put_footer(&pb->arena, f, text_crlf(l), at_end, open_end);
    g_free(ascii);
    if (rc != RW_OK)
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
        if ((rc = rw_site_escape(&l->sites.v[j], l->repl[j], &pb->arena)) != RW_OK ||
            (l->raw8 && (rc = ascii_url(&pb->arena, start)) != RW_OK))
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

/* A passthrough charset (ASCII, UTF-8) must be declared UTF-8 once the
 * inserted text is not ASCII. */
static int passthrough_to_utf8(const char *cs, const struct pbuild *pb)
{
    return !pb->ins_ascii && (cs == NULL || g_ascii_strncasecmp(cs, "utf", 3) != 0);
}

/* The output bytes in the part's charset (or UTF-8 if it must switch). */
static int charset_out(struct leaf *l, const struct pbuild *pb, const struct buf *t,
                       struct buf *cs_out, const struct buf **bytes)
{
    const char *cs = l->mp->charset;
    int rc;

    *bytes = t;
    if (l->raw8) /* the bytes stay as they came, every inserted one ASCII */
        return RW_OK;
    if (rw_charset_passthrough(cs)) {
        l->utf8 = passthrough_to_utf8(cs, pb);
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

    if (p->cte != RW_CTE_QP || (!rw_charset_passthrough(p->charset) && !l->raw8))
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
    if (rc == RW_OK && passthrough_to_utf8(p->charset, pb))
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
    else { /* 7bit/8bit/binary: the bytes are the body, no copy */
        buf_free(enc);
        *enc = *bytes;
        memset(bytes == &t ? &t : &cs_out, 0, sizeof t);
    }
    buf_free(&t);
    buf_free(&cs_out);
    return rc;
}

/* Copy the input up to off, then write data in place of its len bytes. */
static int emit(struct eng *e, struct buf *out, size_t off, size_t len, const char *data,
                size_t dlen)
{
    int rc;

    if (off < e->opos || off + len > e->len) {
        ERR(e, "overlapping changes");
        return RW_EINVAL;
    }
    rc = buf_append(out, e->msg + e->opos, off - e->opos);
    if (rc == 0)
        rc = buf_append(out, data, dlen);
    if (off + len <= e->mime.body_offset)
        e->odelta += (long long)dlen - (long long)len;
    e->opos = off + len;
    if (rc != 0)
        ERR(e, "output too large");
    return rw_buf_status(rc);
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

/* A header field of the part to change: charset=utf-8 (cte 0), or
 * quoted-printable (cte 1). */
struct fchange {
    struct rw_range r;
    struct buf field;
};

static int field_change(struct eng *e, struct leaf *l, int cte, struct fchange *fc)
{
    char *value = NULL;
    int rc;

    buf_init(&fc->field, 0);
    if (cte)
        rc = rw_hdr_set_cte_qp(e->msg, e->len, l->mp, &fc->r, &fc->field, &value);
    else
        rc = rw_hdr_set_charset(e->msg, e->len, l->mp, &fc->r, &fc->field, &value);
    if (rc == RW_OK && l->mp->top) {
        rc = hdr_change(e, cte ? "Content-Transfer-Encoding" : "Content-Type", value);
        value = NULL;
    }
    g_free(value);
    return rc;
}

/* The changed header fields (in input order; two insertions at the same
 * place keep charset before encoding), then the new body: enc, or (enc
 * NULL) the text with pb's patches, written straight into out. */
static int emit_leaf(struct eng *e, struct leaf *l, const struct buf *enc,
                     const struct pbuild *pb, struct buf *out)
{
    struct fchange fc[2];
    size_t n = 0, i;
    int rc = RW_OK;

    if (l->utf8)
        rc = field_change(e, l, 0, &fc[n++]);
    if (rc == RW_OK && l->to_qp)
        rc = field_change(e, l, 1, &fc[n++]);
    if (rc == RW_OK && n == 2 && fc[1].r.off < fc[0].r.off) {
        struct fchange t = fc[0];
        fc[0] = fc[1];
        fc[1] = t;
    }
    for (i = 0; i < n && rc == RW_OK; i++)
        rc = emit(e, out, fc[i].r.off, fc[i].r.end - fc[i].r.off, fc[i].field.data,
                  fc[i].field.len);
    for (i = 0; i < n; i++)
        buf_free(&fc[i].field);
    if (rc == RW_OK && enc != NULL)
        return emit(e, out, l->mp->body.off, l->mp->body.end - l->mp->body.off, enc->data,
                    enc->len);
    if (rc == RW_OK && (rc = emit(e, out, l->mp->body.off, 0, "", 0)) == RW_OK &&
        (rc = rw_patch_apply(l->text.data, l->text.len, pb->pv, pb->n, out)) == RW_OK)
        e->opos = l->mp->body.end;
    if (rc == RW_ELIMIT)
        ERR(e, "output too large");
    return rc;
}

/* The text is the body (7bit/8bit/binary ASCII or UTF-8) and stays in that
 * encoding (not 7bit receiving 8-bit text): no re-encoding, no copy. */
static int direct(const struct leaf *l, const struct pbuild *pb)
{
    return l->borrowed && !(l->mp->cte == RW_CTE_7BIT && !pb->ins_ascii);
}

static int rewrite_leaf(struct eng *e, struct leaf *l, struct buf *out)
{
    struct pbuild pb;
    struct buf enc = BUF_INIT(0);
    int rc;

    memset(&pb, 0, sizeof pb);
    buf_init(&pb.arena, 0);
    rc = patch_leaf(e, l, &pb);
    if (rc == RW_OK && pb.n > 0 && direct(l, &pb)) {
        l->utf8 = passthrough_to_utf8(l->mp->charset, &pb);
        rc = emit_leaf(e, l, NULL, &pb, out);
    } else if (rc == RW_OK && pb.n > 0) {
        rc = encode_leaf(e, l, &pb, &enc);
        /* the re-encoding exists beside the output for a moment */
        if (rc == RW_OK && (rc = rw_eng_charge(e, enc.len)) == RW_OK) {
            rc = emit_leaf(e, l, &enc, &pb, out);
            rw_eng_refund(e, enc.len);
        }
    }
    if (rc == RW_OK && pb.n > 0) {
        e->rep->parts_rewritten++;
        if (pb.footer && l->mp->is_html)
            e->rep->footer_html_added++;
        else if (pb.footer)
            e->rep->footer_text_added++;
    }
    g_free(pb.pv);
    g_free(pb.aoff);
    buf_free(&pb.arena);
    buf_free(&enc);
    return rc;
}

int rw_eng_produce(struct eng *e, struct buf *out)
{
    size_t i;
    int rc = RW_OK;

    buf_reset(out);
    /* about the input's size: one allocation, pages touched as written */
    (void)buf_reserve(out, e->len + (e->len >> 4) + 4096);
    e->opos = 0;
    e->odelta = 0;
    for (i = 0; i < e->nl && rc == RW_OK; i++) {
        if (!e->req->dry_run && !e->lv[i].skip)
            rc = rewrite_leaf(e, &e->lv[i], out);
        /* done with this leaf: the peak holds one re-encoded part, not all */
        rw_eng_leaf_release(e, &e->lv[i]);
    }
    if (rc == RW_OK && (rc = rw_buf_status(buf_append(out, e->msg + e->opos, e->len - e->opos))) !=
                           RW_OK)
        ERR(e, "output too large");
    if (rc != RW_OK)
        return rc;
    e->rep->footer_tracked = e->rep->kept_trackers > 0 &&
                             (e->rep->footer_html_added || e->rep->footer_text_added);
    e->rep->body_offset = (size_t)((long long)e->mime.body_offset + e->odelta);
    e->rep->changed =
        out->len != e->len || (e->len > 0 && memcmp(out->data, e->msg, e->len) != 0);
    if (out->data == NULL)
        rc = rw_buf_status(buf_append(out, "", 0));
    return rc;
}
