/* mime - the MIME walk: gmime parses, we keep byte ranges.
 *
 * The message is parsed by a GMimeParser over a GMimeStreamMem holding a
 * copy of the input, with persist-stream on: every leaf's content is then a
 * substream of that copy, and its bound_start/bound_end are the byte range
 * of the part's encoded body in the input; g_mime_header_get_offset gives
 * where each header field starts. That is all the engine needs to patch
 * the original bytes instead of re-serialising the tree.
 *
 * The walk descends multipart entities (alternative, related, mixed ...) up to
 * lim->mime_depth and lists text/html and text/plain leaves. It never
 * descends signed or encrypted multiparts or message/rfc822, and never
 * lists attachments, PKCS#7 or PGP parts or calendars: those are counted as
 * untouchable. A pre-scan bounds the containers, parts and header fields
 * before gmime builds objects for them, so a hostile message can neither
 * exhaust the stack (nesting) nor the memory (thousands of tiny parts or
 * header lines). */
#include <stdint.h>
#include <string.h>

#include <gmime/gmime.h>

#include "rewriter/mime_int.h"

struct walk {
    const char *msg;
    size_t len;
    const struct rw_limits *lim;
    struct rw_mime *m;
    char *err;
    size_t errlen;
};

/* Offset just past the header field starting at off (folded lines and the
 * final line end included). */
static size_t field_end(const char *msg, size_t len, size_t off)
{
    const char *nl;

    while (off < len) {
        nl = memchr(msg + off, '\n', len - off);
        if (nl == NULL)
            return len;
        off = (size_t)(nl - msg) + 1;
        if (off >= len || (msg[off] != ' ' && msg[off] != '\t'))
            return off;
    }
    return len;
}

/* Find the value of parameter name (nl bytes) in a Content-Type field:
 * [*vs, *ve) inside the quotes if quoted. Returns 1 if found. */
static int find_param(const char *f, size_t n, const char *name, size_t nl, size_t *vs,
                      size_t *ve)
{
    size_t i = 0, ns;
    int q = 0;

    while (i < n) {
        if (f[i] == '"')
            q = !q;
        if (q || f[i++] != ';')
            continue;
        while (i < n && g_ascii_isspace(f[i]))
            i++;
        ns = i;
        while (i < n && f[i] != '=' && f[i] != ';' && !g_ascii_isspace(f[i]))
            i++;
        if (i - ns != nl || g_ascii_strncasecmp(f + ns, name, nl) != 0)
            continue;
        while (i < n && g_ascii_isspace(f[i]))
            i++;
        if (i >= n || f[i++] != '=')
            continue;
        while (i < n && (f[i] == ' ' || f[i] == '\t'))
            i++;
        if (i < n && f[i] == '"') {
            *vs = ++i;
            while (i < n && f[i] != '"')
                i++;
        } else {
            *vs = i;
            while (i < n && f[i] != ';' && !g_ascii_isspace(f[i]))
                i++;
        }
        *ve = i;
        return 1;
    }
    return 0;
}

/* --- pre-scan ------------------------------------------------------------
 * gmime builds an object per entity and per header field, which costs far
 * more memory than the bytes they come from; a hostile message of tiny
 * parts or header lines would blow the per-message memory bound before
 * gmime returns. One cheap pass over the bytes first counts what gmime
 * would build: header fields (per block and in total), multipart and
 * message containers, and delimiter lines of the boundaries declared. */

#define RW_MAX_FIELDS_BLOCK 1000  /* header fields in one header block */
#define RW_MAX_FIELDS_TOTAL 10000 /* header fields in the whole message */

struct prescan {
    const char *msg;
    size_t len;
    const struct rw_limits *lim;
    GHashTable *bounds; /* declared boundaries (owned strings) */
    GPtrArray *blist;   /* the same strings, for prefix matches */
    unsigned containers, delims, fields, total;
    int headers; /* in a header block */
    int nested;  /* the block declared message/...: headers follow */
};

static int blank_line(const char *p, size_t n)
{
    return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

/* A Content-Type field of the pre-scan: containers and boundaries. A
 * multipart without one is RW_EAMBIG: gmime files it all as a preface,
 * other readers show it as text or guess. */
static int prescan_ct(struct prescan *ps, const char *f, size_t n, char *err,
                      size_t errlen)
{
    size_t j = 13, vs, ve; /* strlen("content-type:") */

    while (j < n && g_ascii_isspace(f[j]))
        j++;
    if (n - j >= 8 && g_ascii_strncasecmp(f + j, "message/", 8) == 0) {
        ps->containers++;
        ps->nested = 1;
    }
    if (n - j < 10 || g_ascii_strncasecmp(f + j, "multipart/", 10) != 0)
        return RW_OK;
    ps->containers++;
    if (!find_param(f, n, "boundary", 8, &vs, &ve) || ve == vs) {
        g_snprintf(err, errlen, "multipart without a boundary at offset %zu",
                   (size_t)(f - ps->msg));
        return RW_EAMBIG;
    }
    char *b = g_strndup(f + vs, ve - vs);

    /* g_hash_table_add would free the key already in, which blist holds */
    if (g_hash_table_contains(ps->bounds, b)) {
        g_free(b);
        return RW_OK;
    }
    g_hash_table_add(ps->bounds, b);
    g_ptr_array_add(ps->blist, b);
    return RW_OK;
}

/* Is the line (after its "--") a delimiter of a declared boundary? */
static int delimiter(const struct prescan *ps, const char *p, size_t n, int *closing)
{
    char *cand;
    int hit;

    while (n > 0 && g_ascii_isspace(p[n - 1]))
        n--;
    cand = g_strndup(p, n);
    hit = g_hash_table_contains(ps->bounds, cand);
    *closing = 0;
    if (!hit && n > 2 && p[n - 1] == '-' && p[n - 2] == '-') {
        cand[n - 2] = '\0';
        hit = *closing = g_hash_table_contains(ps->bounds, cand);
    }
    g_free(cand);
    return hit;
}

/* "Name:" (blanks allowed before the colon), as a header field starts. */
static int field_start(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] > 32 && p[i] < 127 && p[i] != ':')
        i++;
    if (i == 0)
        return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < n && p[i] == ':';
}

static int prescan_line(struct prescan *ps, size_t *i, size_t le, char *err,
                        size_t errlen)
{
    const char *p = ps->msg + *i;
    size_t end;
    int closing;

    if (ps->headers && !blank_line(p, le - *i) && !field_start(p, le - *i))
        ps->headers = ps->nested = 0; /* not a field: the body starts here */
    if (ps->headers && blank_line(p, le - *i)) {
        ps->headers = ps->nested; /* an embedded message starts with headers */
        ps->nested = 0;
        ps->fields = 0;
    } else if (ps->headers) {
        end = field_end(ps->msg, ps->len, *i);
        if (++ps->fields > RW_MAX_FIELDS_BLOCK || ++ps->total > RW_MAX_FIELDS_TOTAL) {
            g_snprintf(err, errlen, "more than %u header fields",
                       ps->fields > RW_MAX_FIELDS_BLOCK ? RW_MAX_FIELDS_BLOCK
                                                        : RW_MAX_FIELDS_TOTAL);
            return RW_ELIMIT;
        }
        if (end - *i > 13 && g_ascii_strncasecmp(p, "content-type:", 13) == 0 &&
            prescan_ct(ps, p, end - *i, err, errlen) != RW_OK)
            return RW_EAMBIG;
        if (ps->containers > ps->lim->max_parts) {
            g_snprintf(err, errlen, "more than %u multipart or message entities",
                       ps->lim->max_parts);
            return RW_ELIMIT;
        }
        *i = end;
        return RW_OK;
    } else if (le - *i > 2 && p[0] == '-' && p[1] == '-' &&
               rw_ambig_delimiter(p + 2, le - *i - 2, ps->blist)) {
        g_snprintf(err, errlen,
                   "a line at offset %zu starts with a boundary but is not exactly its "
                   "delimiter (RFC 2046 readers split there, gmime does not)",
                   *i);
        return RW_EAMBIG;
    } else if (le - *i > 2 && p[0] == '-' && p[1] == '-' &&
               g_hash_table_size(ps->bounds) > 0 &&
               delimiter(ps, p + 2, le - *i - 2, &closing)) {
        if (++ps->delims > ps->lim->max_parts + ps->containers) {
            g_snprintf(err, errlen, "more than %u MIME parts", ps->lim->max_parts);
            return RW_ELIMIT;
        }
        ps->headers = !closing;
        ps->fields = 0;
    }
    *i = le;
    return RW_OK;
}

static int prescan(const char *msg, size_t len, const struct rw_limits *lim, char *err,
                   size_t errlen)
{
    struct prescan ps = {msg, len, lim, NULL, NULL, 0, 0, 0, 0, 1, 0};
    size_t i = 0, le;
    const char *nl;
    int rc = RW_OK;

    ps.bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ps.blist = g_ptr_array_new();
    while (i < len && rc == RW_OK) {
        if (!ps.headers && msg[i] != '-') {
            /* a body line that cannot be a delimiter does nothing: go to
             * the next line that starts with '-' */
            const char *q = msg + i;

            while ((q = memchr(q, '-', len - (size_t)(q - msg))) != NULL && q[-1] != '\n')
                q++;
            i = q ? (size_t)(q - msg) : len;
            continue;
        }
        nl = memchr(msg + i, '\n', len - i);
        le = nl ? (size_t)(nl - msg) + 1 : len;
        rc = prescan_line(&ps, &i, le, err, errlen);
    }
    g_ptr_array_free(ps.blist, TRUE);
    g_hash_table_destroy(ps.bounds);
    return rc;
}

static int is_type(GMimeObject *o, const char *type, const char *sub)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);

    return ct && g_mime_content_type_is_type(ct, type, sub);
}

/* Leaves the engine must never touch. */
static int untouchable_leaf(GMimeObject *o)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
    const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;

    if (cd && g_mime_content_disposition_is_attachment(cd))
        return 1;
    if (is_type(o, "text", "calendar"))
        return 1;
    if (is_type(o, "application", "*") && sub &&
        (g_ascii_strncasecmp(sub, "pkcs7-", 6) == 0 ||
         g_ascii_strncasecmp(sub, "x-pkcs7-", 8) == 0 ||
         g_ascii_strncasecmp(sub, "pgp-", 4) == 0))
        return 1;
    return 0;
}

static void header_range(GMimeObject *o, const char *name, const struct walk *w,
                         struct rw_range *r)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(o);
    GMimeHeader *h;
    int i, n = hl ? g_mime_header_list_get_count(hl) : 0;
    gint64 off;

    r->off = r->end = 0;
    for (i = n - 1; i >= 0; i--) {
        h = g_mime_header_list_get_header_at(hl, i);
        if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
            continue;
        off = g_mime_header_get_offset(h);
        if (off < 0 || (size_t)off >= w->len)
            return;
        r->off = (size_t)off;
        r->end = field_end(w->msg, w->len, r->off);
        return;
    }
}

/* First and past-the-end offsets of o's header block; the block of a part
 * without headers is empty at the blank line before its body. */
static void header_block(GMimeObject *o, const struct walk *w, size_t body, size_t *start,
                         size_t *end)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(o);
    int i, n = hl ? g_mime_header_list_get_count(hl) : 0;
    gint64 off;
    size_t lo = SIZE_MAX, hi = 0;

    for (i = 0; i < n; i++) {
        off = g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, i));
        if (off < 0 || (size_t)off >= w->len)
            continue;
        if ((size_t)off < lo)
            lo = (size_t)off;
        if ((size_t)off >= hi)
            hi = field_end(w->msg, w->len, (size_t)off);
    }
    if (lo == SIZE_MAX || hi > body) {
        hi = body;
        if (hi >= 1 && w->msg[hi - 1] == '\n')
            hi -= (hi >= 2 && w->msg[hi - 2] == '\r') ? 2 : 1;
        lo = hi;
    }
    *start = lo;
    *end = hi;
}

static enum rw_cte map_cte(GMimeContentEncoding e, int *ok)
{
    *ok = 1;
    switch (e) {
    case GMIME_CONTENT_ENCODING_DEFAULT:
    case GMIME_CONTENT_ENCODING_7BIT:
        return RW_CTE_7BIT;
    case GMIME_CONTENT_ENCODING_8BIT:
        return RW_CTE_8BIT;
    case GMIME_CONTENT_ENCODING_BINARY:
        return RW_CTE_BINARY;
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
        return RW_CTE_QP;
    case GMIME_CONTENT_ENCODING_BASE64:
        return RW_CTE_BASE64;
    default:
        *ok = 0;
        return RW_CTE_7BIT; /* uuencode and friends: leave alone */
    }
}

static int add_part(struct walk *w, GMimeObject *o, int top)
{
    GMimeDataWrapper *dw = g_mime_part_get_content((GMimePart *)o);
    GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
    struct rw_mime *m = w->m;
    struct rw_part *p, *v;
    const char *cs;
    int ok;

    if (s == NULL)
        return RW_OK; /* empty part: nothing to rewrite */
    if (s->bound_start < 0 || (size_t)s->bound_start > w->len ||
        (s->bound_end >= 0 &&
         (s->bound_end < s->bound_start || (size_t)s->bound_end > w->len))) {
        g_snprintf(w->err, w->errlen, "part body outside the message");
        return RW_EPARSE;
    }
    v = g_try_renew(struct rw_part, m->parts, m->nparts + 1);
    if (v == NULL)
        return RW_ENOMEM;
    m->parts = v;
    p = &v[m->nparts];
    memset(p, 0, sizeof *p);
    p->cte = map_cte(g_mime_part_get_content_encoding((GMimePart *)o), &ok);
    if (!ok) {
        m->untouchable++;
        return RW_OK;
    }
    m->nparts++;
    p->top = top;
    p->is_html = !is_type(o, "text", "plain"); /* text/html or AMP (walk_obj) */
    p->body.off = (size_t)s->bound_start;
    p->body.end = s->bound_end < 0 ? w->len : (size_t)s->bound_end;
    p->crlf = p->body.off >= 2 && w->msg[p->body.off - 2] == '\r';
    header_block(o, w, p->body.off, &p->hdr_start, &p->hdr_end);
    header_range(o, "Content-Type", w, &p->ct);
    header_range(o, "Content-Transfer-Encoding", w, &p->cte_hdr);
    cs = g_mime_object_get_content_type_parameter(o, "charset");
    p->charset = cs && *cs ? g_ascii_strdown(cs, -1) : NULL;
    return RW_OK;
}

static int walk_obj(struct walk *w, GMimeObject *o, unsigned depth, int top)
{
    GMimeMultipart *mp;
    char where[40];
    int i, n, rc;

    if (++w->m->total > w->lim->max_parts) {
        g_snprintf(w->err, w->errlen, "more than %u MIME parts", w->lim->max_parts);
        return RW_ELIMIT;
    }
    if (depth > w->lim->mime_depth) {
        g_snprintf(w->err, w->errlen, "MIME nesting deeper than %u", w->lim->mime_depth);
        return RW_ELIMIT;
    }
    /* before anything is decided from these headers */
    g_snprintf(where, sizeof where, top ? "in the message header" : "in part %u",
               w->m->total);
    if ((rc = rw_ambig_headers(o, where, w->err, w->errlen)) != RW_OK)
        return rc;
    if (GMIME_IS_MULTIPART_SIGNED(o) || GMIME_IS_MULTIPART_ENCRYPTED(o) ||
        GMIME_IS_MESSAGE_PART(o) || is_type(o, "multipart", "signed") ||
        is_type(o, "multipart", "encrypted")) {
        w->m->untouchable++;
        return RW_OK;
    }
    if (GMIME_IS_MULTIPART(o)) {
        mp = (GMimeMultipart *)o;
        n = g_mime_multipart_get_count(mp);
        for (i = 0; i < n; i++)
            if ((rc = walk_obj(w, g_mime_multipart_get_part(mp, i), depth + 1, 0)) !=
                RW_OK)
                return rc;
        return RW_OK;
    }
    if (!GMIME_IS_PART(o))
        return RW_OK;
    if (untouchable_leaf(o)) {
        w->m->untouchable++;
        return RW_OK;
    }
    /* text/x-amp-html (AMP for Email, rendered by Gmail and others) is
     * HTML with amp-* elements: scanned and rewritten the same way */
    if (is_type(o, "text", "html") || is_type(o, "text", "plain")
        || is_type(o, "text", "x-amp-html"))
        return add_part(w, o, top);
    return RW_OK;
}

/* The URLs between angle brackets of List-Unsubscribe. */
static int collect_unsub(struct rw_mime *m, const char *v)
{
    const char *p = v, *lt, *gt;
    char **nv;

    while (v && (lt = strchr(p, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
        nv = g_try_renew(char *, m->unsub, m->nunsub + 1);
        if (nv == NULL)
            return RW_ENOMEM;
        m->unsub = nv;
        m->unsub[m->nunsub++] = g_strstrip(g_strndup(lt + 1, (gsize)(gt - lt - 1)));
        p = gt + 1;
    }
    return RW_OK;
}

static size_t last_field_end(GMimeObject *o, const struct walk *w, size_t end)
{
    GMimeHeaderList *hl = o ? g_mime_object_get_header_list(o) : NULL;
    int i, n = hl ? g_mime_header_list_get_count(hl) : 0;
    size_t e;
    gint64 off;

    for (i = 0; i < n; i++) {
        off = g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, i));
        if (off >= 0 && (size_t)off < w->len &&
            (e = field_end(w->msg, w->len, (size_t)off)) > end)
            end = e;
    }
    return end;
}

/* Where the top-level body starts: past the last header field (the
 * message's own, or the Content-* fields gmime files under the body
 * entity) and the blank line after it. */
static size_t top_body(GMimeMessage *msg, const struct walk *w)
{
    size_t end = last_field_end((GMimeObject *)msg, w, 0);

    end = last_field_end(g_mime_message_get_mime_part(msg), w, end);
    if (end < w->len && w->msg[end] == '\n')
        end++;
    else if (end + 1 < w->len && w->msg[end] == '\r' && w->msg[end + 1] == '\n')
        end += 2;
    return end;
}

static int parse_tree(struct walk *w, GMimeParser *parser)
{
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    GMimeObject *body;
    int rc;

    if (msg == NULL) {
        g_snprintf(w->err, w->errlen, "not a MIME message");
        return RW_EPARSE;
    }
    w->m->body_offset = top_body(msg, w);
    if ((rc = rw_ambig_headers((GMimeObject *)msg, "in the message header", w->err,
                               w->errlen)) != RW_OK) {
        g_object_unref(msg);
        return rc;
    }
    body = g_mime_message_get_mime_part(msg);
    rc = collect_unsub(w->m,
                       g_mime_object_get_header((GMimeObject *)msg, "List-Unsubscribe"));
    if (rc == RW_OK && body != NULL)
        rc = walk_obj(w, body, 0, 1);
    g_object_unref(msg);
    return rc;
}

int rw_mime_parse(const char *msg, size_t len, const struct rw_limits *lim,
                  struct rw_mime *m, char *err, size_t errlen)
{
    struct walk w = {msg, len, lim, m, err, errlen};
    GMimeStream *st;
    GMimeParser *parser;
    GByteArray *arr;
    const char *nl;
    int rc;

    memset(m, 0, sizeof *m);
    nl = memchr(msg, '\n', len);
    m->crlf = nl && nl > msg && nl[-1] == '\r';
    if ((rc = prescan(msg, len, lim, err, errlen)) != RW_OK)
        return rc;
    /* The stream reads msg in place (gmime never writes to it): a byte
     * array borrowing msg, not owned by the stream, handed back unfreed. */
    arr = len <= G_MAXUINT ? g_byte_array_new_take((guint8 *)(uintptr_t)msg, len) : NULL;
    if (arr != NULL) {
        st = g_mime_stream_mem_new_with_byte_array(arr);
        g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
    } else {
        st = g_mime_stream_mem_new_with_buffer(msg, len);
    }
    parser = g_mime_parser_new_with_stream(st);
    g_mime_parser_set_persist_stream(parser, TRUE);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    rc = parse_tree(&w, parser);
    g_object_unref(parser);
    g_object_unref(st);
    if (arr != NULL)
        g_byte_array_free(arr, FALSE); /* the bytes are msg's: kept */
    return rc;
}

void rw_mime_free(struct rw_mime *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nparts; i++)
        g_free(m->parts[i].charset);
    g_free(m->parts);
    for (i = 0; i < m->nunsub; i++)
        g_free(m->unsub[i]);
    g_free(m->unsub);
    memset(m, 0, sizeof *m);
}

/* --- header field patches ---------------------------------------------- */

/* The unfolded value of a field (text after the colon, trimmed). */
static char *unfold_value(const char *f, size_t n)
{
    const char *colon = memchr(f, ':', n);
    GString *s = g_string_sized_new(n);

    for (size_t i = colon ? (size_t)(colon - f) + 1 : 0; i < n; i++)
        if (f[i] != '\r' && f[i] != '\n')
            g_string_append_c(s, f[i]);
    return g_strstrip(g_string_free(s, FALSE));
}

/* Length of the line end that closes a field. */
static size_t eol_len(const char *f, size_t n)
{
    if (n >= 2 && f[n - 2] == '\r' && f[n - 1] == '\n')
        return 2;
    return n >= 1 && f[n - 1] == '\n' ? 1 : 0;
}

static int new_field(const struct rw_part *p, const char *text, struct rw_range *r,
                     struct buf *field, char **value)
{
    const char *colon = strchr(text, ':');

    r->off = r->end = p->hdr_end;
    if (buf_puts(field, text) != 0 || buf_puts(field, p->crlf ? "\r\n" : "\n") != 0)
        return RW_ENOMEM;
    *value = g_strdup(colon + 2);
    return RW_OK;
}

/* End of a field's last parameter: trailing white space, folds and empty
 * parameters (a ';' with nothing after it) are left out, so that the
 * charset added after it is one clean "; charset=" (not ";; charset="). */
static size_t params_end(const char *f, size_t n)
{
    const char *colon = memchr(f, ':', n);
    size_t min = colon ? (size_t)(colon - f) + 1 : 0;

    while (n > min && (f[n - 1] == ' ' || f[n - 1] == '\t' || f[n - 1] == '\r' ||
                       f[n - 1] == '\n' || f[n - 1] == ';'))
        n--;
    return n;
}

int rw_hdr_set_charset(const char *msg, size_t len, const struct rw_part *p,
                       struct rw_range *r, struct buf *field, char **value)
{
    const char *f = msg + p->ct.off;
    size_t n = p->ct.end - p->ct.off, vs, ve, el;
    int e;

    (void)len;
    if (n == 0)
        return new_field(p,
                         p->is_html ? "Content-Type: text/html; charset=utf-8"
                                    : "Content-Type: text/plain; charset=utf-8",
                         r, field, value);
    *r = p->ct;
    if (find_param(f, n, "charset", 7, &vs, &ve))
        e = buf_append(field, f, vs) || buf_puts(field, "utf-8") ||
            buf_append(field, f + ve, n - ve);
    else {
        el = eol_len(f, n);
        e = buf_append(field, f, params_end(f, n - el)) ||
            buf_puts(field, "; charset=utf-8") || buf_append(field, f + n - el, el);
    }
    if (e)
        return RW_ENOMEM;
    *value = unfold_value(field->data, field->len);
    return RW_OK;
}

int rw_hdr_set_cte_qp(const char *msg, size_t len, const struct rw_part *p,
                      struct rw_range *r, struct buf *field, char **value)
{
    static const char cte[] = "Content-Transfer-Encoding: quoted-printable";

    (void)msg;
    (void)len;
    if (p->cte_hdr.end == p->cte_hdr.off)
        return new_field(p, cte, r, field, value);
    *r = p->cte_hdr;
    if (buf_puts(field, cte) != 0 || buf_puts(field, p->crlf ? "\r\n" : "\n") != 0)
        return RW_ENOMEM;
    *value = g_strdup("quoted-printable");
    return RW_OK;
}
