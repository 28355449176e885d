/* rw_engine - private interfaces between the engine's own files:
 *
 *   mime.c     parse with gmime, list the parts, find byte ranges
 *   codec.c    transfer encodings (QP, base64) and charsets
 *   rewrite.c  orchestration: scan, classify, decide, patch, splice
 *   report.c   report items and JSON
 *
 * Not installed; unit tests may include it. */
#ifndef RW_ENGINE_H
#define RW_ENGINE_H

#include <stddef.h>

#include "common/buf.h"
#include "rewriter/rw_int.h"

enum rw_cte { RW_CTE_7BIT = 0, RW_CTE_8BIT, RW_CTE_BINARY, RW_CTE_QP, RW_CTE_BASE64 };

/* A byte range [off, end) of the input. */
struct rw_range {
    size_t off, end;
};

/* One rewritable text leaf, as found in the input. */
struct rw_part {
    int is_html;
    int top;                 /* the message's own body: its headers are top-level */
    struct rw_range body;    /* encoded body in the input */
    size_t hdr_start;        /* first byte of the part's header block */
    size_t hdr_end;          /* start of the blank line that ends it */
    struct rw_range ct;      /* Content-Type field (incl. line end), off == end: absent */
    struct rw_range cte_hdr; /* Content-Transfer-Encoding field, idem */
    enum rw_cte cte;
    char *charset; /* declared charset, lower case; NULL: none (us-ascii) */
    int crlf;      /* the part's raw lines end in CRLF */
};

struct rw_mime {
    struct rw_part *parts;
    size_t nparts;
    unsigned total;       /* every MIME entity seen */
    unsigned untouchable; /* signed, encrypted, attachments, calendars ... */
    size_t body_offset;   /* first byte of the top-level body in the input */
    int crlf;             /* the message's header lines end in CRLF */
    char **unsub;         /* URLs of List-Unsubscribe (http(s) and mailto) */
    size_t nunsub;
};

/* rw_mime_parse - parse msg with gmime and fill m. Returns RW_OK, RW_EPARSE,
 * RW_ELIMIT (depth, parts, containers; more than 1000 header fields in one
 * header block or 10000 in all), RW_ENOMEM; err gets the reason.
 * m must be freed with rw_mime_free in every case. */
int rw_mime_parse(const char *msg, size_t len, const struct rw_limits *lim,
                  struct rw_mime *m, char *err, size_t errlen);
void rw_mime_free(struct rw_mime *m);

/* rw_hdr_set_charset - the part's Content-Type field saying charset=utf-8
 * (value replaced, parameter added, or a new field). r receives the input
 * range to replace (empty: insert at r->off), field the new bytes, value
 * the new unfolded value (g_free). rw_hdr_set_cte_qp - the same for
 * Content-Transfer-Encoding: quoted-printable. Return RW_OK or RW_ENOMEM. */
int rw_hdr_set_charset(const char *msg, size_t len, const struct rw_part *p,
                       struct rw_range *r, struct buf *field, char **value);
int rw_hdr_set_cte_qp(const char *msg, size_t len, const struct rw_part *p,
                      struct rw_range *r, struct buf *field, char **value);

/* codec.c. All append to out and return RW_OK, RW_ENOMEM or RW_ELIMIT
 * (buffer ceiling); in never points into out. */
int rw_qp_decode(const char *in, size_t len, struct buf *out);
/* crlf: line end written for hard and soft breaks. */
int rw_qp_encode(const char *in, size_t len, int crlf, struct buf *out);
/* rw_qp_patch - the QP body raw with the patches p[0..n) (sorted, on its
 * decoding dec) applied, re-encoding only the physical lines they touch:
 * every other line stays byte-identical. RW_EINVAL if dec is not raw's
 * decoding (the caller then re-encodes everything). */
int rw_qp_patch(const char *raw, size_t rawlen, const char *dec, size_t declen,
                const struct rw_patch *p, size_t n, int crlf, struct buf *out);
/* The physical lines of a QP body and where their decodings start, as
 * rw_qp_decode_tab records them while decoding (g_free(v) after use). */
struct rw_qpline {
    size_t raw_off, raw_end; /* raw bytes, line end included */
    size_t dec_off;          /* where its decoding starts */
    int soft;                /* ends with a soft break */
};
struct rw_qptab {
    struct rw_qpline *v;
    size_t n, cap;
    size_t declen; /* length of the whole decoding */
};
/* rw_qp_decode_tab - rw_qp_decode that also fills t (zeroed by the
 * caller; t may be NULL). rw_qp_patch_tab - rw_qp_patch with the table of
 * raw already known (from rw_qp_decode_tab of the same raw). */
int rw_qp_decode_tab(const char *in, size_t len, struct buf *out, struct rw_qptab *t);
int rw_qp_patch_tab(const char *raw, size_t rawlen, const char *dec, size_t declen,
                    const struct rw_qptab *t, const struct rw_patch *p, size_t n, int crlf,
                    struct buf *out);
int rw_b64_decode(const char *in, size_t len, struct buf *out);
/* Lines of 76 characters; the last one gets a line end only if final_eol. */
int rw_b64_encode(const char *in, size_t len, int crlf, int final_eol, struct buf *out);
/* rw_charset_passthrough - 1 if cs (NULL: us-ascii) is handled as UTF-8
 * bytes without conversion (utf-8, us-ascii and aliases). */
int rw_charset_passthrough(const char *cs);
/* rw_charset_decode/encode - convert between cs and UTF-8. RW_ECHARSET when
 * the charset is unknown or the text is not representable. */
int rw_charset_decode(const char *cs, const char *in, size_t len, struct buf *out);
int rw_charset_encode(const char *cs, const char *in, size_t len, struct buf *out);
/* rw_charset_ascii_compat - whether the bytes of a part whose charset cs
 * cannot be decoded may be scanned as ASCII (every byte below 0x80 is the
 * ASCII character). 0 for the families that are not (UTF-16/32, UCS-2/4,
 * UTF-7, ISO-2022-*, HZ, EBCDIC code pages) and for bytes that do not look
 * so (NUL, ESC); *why then names the shape (static text). */
int rw_charset_ascii_compat(const char *cs, const char *in, size_t len, const char **why);
/* rw_is_ascii - 1 if s[0..len) is 7-bit. */
int rw_is_ascii(const char *s, size_t len);


/* report.c */
/* rw_report_add_item - the item of one decided finding, as req->items
 * says: kept in rep (its bytes added to *mem), streamed, or dropped.
 * RW_OK, RW_ENOMEM, RW_ECALLBACK (reason set) if req->item failed. */
int rw_report_add_item(struct rw_report *rep, const struct rw_request *req,
                       const struct rw_finding *f, enum rw_action act, const char *result,
                       size_t *mem);

#endif
