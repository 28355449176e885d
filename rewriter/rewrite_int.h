/* rewrite_int - state shared by the engine's two files: rewrite.c (steps
 * 1-3: parse, decode, scan, classify, decide) and rewrite_out.c (step 4:
 * patch, re-encode, write the output). Not installed. */
#ifndef RW_REWRITE_INT_H
#define RW_REWRITE_INT_H

#include <errno.h>

#include <glib.h>

#include "rewriter/rules_int.h"
#include "rewriter/rw_engine.h"

/* One leaf being rewritten. After its decisions only the sites that get a
 * replacement are kept (their url and text freed): that, not the whole
 * scan, is what waits for the output step. */
struct leaf {
    struct rw_part *mp;
    struct buf text; /* decoded UTF-8 (or passthrough bytes) */
    int borrowed;    /* text points into the input (7bit/8bit UTF-8/ASCII) */
    struct rw_sites sites;
    char **repl;     /* per site: replacement URL (UTF-8), NULL: keep */
    unsigned *cnt;   /* per image site: repeats of its URL in the message */
    int skip;        /* inline PGP: counted untouchable, left alone */
    int utf8;        /* the output switched to UTF-8 */
    int to_qp;       /* the output switched from 7bit to quoted-printable */
    int raw8;        /* charset not decodable: text is the bytes, scanned as ASCII */
    size_t cost;     /* bytes charged to eng.mem for sites and repl */
    struct rw_qptab qpt; /* lines of a QP body whose text is its decoding */
};

struct eng {
    const struct rw_request *req;
    struct rw_limits lim;
    const char *msg;
    size_t len;
    struct rw_mime mime;
    struct leaf *lv;
    size_t nl, ndecided;
    GHashTable *repeat;    /* image url (borrowed) -> count, until counted */
    struct rw_recip recip; /* the recipient, prepared once */
    struct buf replbuf;    /* the decide callback's replacement URL */
    struct rw_report *rep;
    size_t mem, mem_max;   /* working memory charged, and its ceiling */
    size_t opos;           /* input bytes already written to the output */
    long long odelta;      /* size change of the output's header block */
};

#define ERR(e, ...) g_snprintf((e)->rep->error, sizeof(e)->rep->error, __VA_ARGS__)

/* A replacement URL of leaf.repl: the blank GIF is the constant itself. */
static inline void rw_repl_free(char *r)
{
    if (r != RW_BLANK_GIF_DATA_URL)
        g_free(r);
}

/* rw_eng_charge - add n bytes to the working memory of the message;
 * RW_ELIMIT (reason set) past e->mem_max. rw_eng_refund gives them back. */
int rw_eng_charge(struct eng *e, size_t n);
void rw_eng_refund(struct eng *e, size_t n);

/* rw_eng_leaf_release - free what a leaf holds once it is written. */
void rw_eng_leaf_release(struct eng *e, struct leaf *l);

/* rw_eng_produce - step 4: write the whole output message to out. */
int rw_eng_produce(struct eng *e, struct buf *out);

#endif
