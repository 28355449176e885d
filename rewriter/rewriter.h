/* rewriter - the public API of the message rewriting library (SPEC §3).
 *
 * Bytes in, bytes out, plus a report. The library never does I/O, never
 * logs, never exits; every failure is a status code and a reason in the
 * report. The caller (milter, consent-rewrite) decides per tracker what to
 * do through a callback; the library finds trackers, applies the chosen
 * actions by patching the original bytes, and injects footers.
 *
 * Memory: every malloc, calloc, realloc, strdup and strndup of this
 * library's own code is checked; a failure is RW_ENOMEM with no output and
 * nothing half written (tests/unit/test_oom.c fails each such allocation
 * of a whole rewrite in turn). GMime and GLib, which parse the MIME and
 * hold the report's strings, abort the process when memory runs out, as
 * GLib documents for g_malloc; no NULL check follows a g_ allocation. The
 * milter then dies and the MTA applies its milter_default_action (tempfail
 * in the shipped Postfix recipes: the mail stays queued), the Postfix
 * way: a process out of memory stops rather than guesses. Working memory
 * is bounded first by rw_request.max_memory (RW_ELIMIT), which is what
 * keeps a hostile message from getting that far.
 *
 * Thread safety: after rw_init(), any number of threads may call
 * rw_rewrite() concurrently; a struct rw_rules is immutable once parsed and
 * may be shared. */
#ifndef RW_REWRITER_H
#define RW_REWRITER_H

#include <stddef.h>

#include "common/buf.h"

enum rw_status {
    RW_OK = 0,
    RW_ENOMEM,    /* allocation failed */
    RW_EPARSE,    /* input cannot be parsed (MIME, HTML, encoding) */
    RW_ELIMIT,    /* a configured limit was exceeded (depth, parts, sizes) */
    RW_EINVAL,    /* bad argument or bad rules text */
    RW_ECHARSET,  /* charset conversion failed */
    RW_ECALLBACK, /* the caller's decide callback failed */
    RW_EAMBIG,    /* MIME that readers disagree on (duplicate Content-* fields,
                     unterminated quotes, boundary lines only some take as
                     delimiters): no rewrite is right under every reading */
};

/* rw_strerror - short constant text for a status. */
const char *rw_strerror(int status);

/* rw_init - one-time library initialisation (gmime, libxml2). Idempotent and
 * thread-safe. Returns RW_OK. */
int rw_init(void);

/* Limits (SPEC §3.1). Exceeding one is RW_ELIMIT, never a crash or hang. */
struct rw_limits {
    unsigned mime_depth;    /* default 20 */
    unsigned max_parts;     /* default 500 */
    size_t max_part_size;   /* decoded bytes of one text part, default 8 MiB */
    unsigned html_depth;    /* element nesting, default 250000 (memory) */
    size_t max_attr_len;    /* default 64 KiB */
    size_t max_url_len;     /* default 16 KiB */
    unsigned unwrap_depth;  /* nested click wrappers, default 5 */
};
void rw_limits_default(struct rw_limits *lim);

/* Rules (conf/trackers.rules, format documented in that file). The caller
 * reads the file; the library only parses text. */
struct rw_rules;
/* rw_rules_parse - compile rules text. On error returns RW_EINVAL and writes
 * "line N: reason" into err. *out is owned by the caller (rw_rules_free). */
int rw_rules_parse(const char *text, size_t len, struct rw_rules **out, char *err,
                   size_t errlen);
/* rw_rules_version - the "version" declared by the rules text (borrowed). */
const char *rw_rules_version(const struct rw_rules *r);
void rw_rules_free(struct rw_rules *r);

/* What a URL occurrence is (SPEC §3.2). */
enum rw_ttype {
    RW_T_PIXEL = 0, /* personal open pixel (vendor rule, heuristic, or recipient in URL) */
    RW_T_LINK,      /* click wrapper whose destination can be decoded offline */
    RW_T_OPAQUE,    /* click wrapper that cannot be decoded */
    RW_T_PLAIN,     /* ordinary link or image: only personal parameters may be cleaned */
    RW_T_PROTECTED, /* unsubscribe / preferences / view-in-browser / mailto ...: never touched */
    RW_T_MAX
};

/* What to do with it (SPEC §3.3). */
enum rw_action {
    RW_A_KEEP = 0,
    RW_A_STRIP,        /* pixel -> transparent 1x1 data: GIF */
    RW_A_ANON,         /* pixel -> anonymous campaign pixel URL (supplied by caller) */
    RW_A_GATE,         /* pixel or link -> gate URL (supplied by caller) */
    RW_A_DELIV,        /* pixel -> deliverability last-open-day URL (supplied by caller) */
    RW_A_UNWRAP,       /* link -> decoded destination minus personal parameters */
    RW_A_CLEAN,        /* link -> same URL minus personal parameters */
    RW_A_INTERSTITIAL, /* opaque link -> interstitial URL (supplied by caller) */
    RW_A_MAX
};

/* Where the URL was found. */
enum rw_place {
    RW_P_IMG = 0,   /* <img src> */
    RW_P_SRCSET,    /* one candidate of srcset */
    RW_P_BACKGROUND,/* background= attribute */
    RW_P_CSS,       /* url(...) in style= or <style> */
    RW_P_IMPORT,    /* @import in CSS */
    RW_P_STYLESHEET,/* <link rel=stylesheet href> */
    RW_P_INPUT,     /* <input type=image src> */
    RW_P_POSTER,    /* <video poster> */
    RW_P_VML_IMG,   /* v:fill src, v:image src */
    RW_P_A,         /* <a href> */
    RW_P_AREA,      /* <area href> */
    RW_P_VML_HREF,  /* v:roundrect href and other VML hrefs */
    RW_P_TEXT,      /* bare URL in text/plain */
    RW_P_SVG_IMG,   /* svg <image>, <use>, <feImage> href / xlink:href */
    RW_P_MEDIA,     /* <video>, <audio>, <source>, <track>, <bgsound> src; amp-video */
    RW_P_FRAME,     /* <iframe>, <frame>, <embed> src, <object> data, amp-iframe; <meta
                       http-equiv=refresh> (its whole content value) */
    RW_P_LINK_RES,  /* <link href> with a fetching rel but stylesheet (icon, prefetch, ...) */
    RW_P_FETCH,     /* AMP data fetch: amp-list/amp-state src, amp-analytics config,
                       amp-pixel src; always a tracker */
    RW_P_MAX
};
#define RW_PLACE_IS_LINK(p)                                                              \
    ((p) == RW_P_A || (p) == RW_P_AREA || (p) == RW_P_VML_HREF || (p) == RW_P_TEXT)

/* One tracker or link as shown to the decide callback. All pointers are
 * borrowed and valid only during the callback. */
struct rw_finding {
    enum rw_ttype type;
    enum rw_place place;
    const char *url;      /* as found: entities, QP and charset decoded; UTF-8 */
    const char *rule;     /* rule that matched ("mailchimp", "heuristic:size+path"), or NULL */
    const char *dest;     /* RW_T_LINK: decoded destination minus personal parameters;
                             RW_T_PLAIN: url minus personal parameters; NULL otherwise */
    unsigned personal_params; /* personal query keys found in url (and dest) */
    int has_recipient;    /* the recipient address appears in the URL in some form */
    int in_mso;           /* inside an MSO conditional comment */
};

/* rw_decide_fn - the caller chooses the action for one finding. For
 * RW_A_ANON, RW_A_GATE, RW_A_DELIV and RW_A_INTERSTITIAL it appends the
 * replacement URL to repl (empty on entry). An action that does not fit the
 * type (e.g. RW_A_UNWRAP on a pixel) is treated as RW_A_KEEP and reported.
 * Return 0, or non-zero to abort the whole rewrite with RW_ECALLBACK. */
typedef int (*rw_decide_fn)(void *ctx, const struct rw_finding *f, enum rw_action *act,
                            struct buf *repl);

/* What happens to report items (struct rw_item, below). Keeping them costs
 * about 200 bytes per finding, which a hostile message multiplies. */
enum rw_items {
    RW_ITEMS_KEEP = 0, /* in rep->items (charged to max_memory) */
    RW_ITEMS_STREAM,   /* handed to item() one by one, then forgotten */
    RW_ITEMS_NONE,     /* only the counts */
};
struct rw_item;
/* rw_item_fn - one item; its strings are borrowed for the call only.
 * Return 0, or non-zero to abort the rewrite with RW_ECALLBACK. */
typedef int (*rw_item_fn)(void *ctx, const struct rw_item *it);

struct rw_request {
    const struct rw_rules *rules;   /* required */
    const struct rw_limits *limits; /* NULL: defaults */
    const char *recipient;          /* normalised address for in-URL detection; NULL: none */
    rw_decide_fn decide;            /* NULL: keep everything (report only) */
    void *decide_ctx;
    /* Footers (UTF-8, placeholders already expanded; NULL: none). The
     * "tracked" pair is injected when the output still carries at least one
     * tracker (a PIXEL/LINK/OPAQUE finding whose action is KEEP, GATE or
     * DELIV): the withdrawal footer. Otherwise the "untracked" pair is used
     * (the optional preferences / consent-request link). */
    const char *footer_html;        /* tracked: HTML before the last </body>, or appended */
    const char *footer_text;        /* tracked: appended to every text/plain part */
    const char *footer_html_untracked;
    const char *footer_text_untracked;
    int dry_run;                    /* decide and report, but output = input (monitor) */
    size_t max_memory;              /* working memory of this rewrite, output included
                                       (SPEC §7); past it RW_ELIMIT. 0: 3x the
                                       message + 8 MiB */
    enum rw_items items;            /* default RW_ITEMS_KEEP */
    rw_item_fn item;                /* RW_ITEMS_STREAM: required */
    void *item_ctx;
};

/* A top-level header the rewrite had to change (e.g. charset switched to
 * UTF-8 for a footer in a single-part message). */
struct rw_hdr_change {
    char *name;
    char *value; /* new unfolded value */
};

/* One reported occurrence, for --report json and logs. */
struct rw_item {
    enum rw_ttype type;
    enum rw_place place;
    enum rw_action action;
    char *rule;   /* may be NULL */
    char *url;    /* as found */
    char *result; /* replacement written, NULL if kept */
};

struct rw_report {
    unsigned found[RW_T_MAX];
    unsigned acted[RW_T_MAX][RW_A_MAX];
    unsigned residual_opaque;  /* opaque wrappers left in the output */
    unsigned residual_unknown; /* suspicious images not matched strongly enough to act */
    unsigned parts_total, parts_rewritten, parts_untouchable;
    int footer_html_added, footer_text_added; /* parts that received a footer */
    int footer_tracked;        /* 1: the tracked pair was used, 0: untracked/none */
    unsigned kept_trackers;    /* trackers still present (kept, gated, deliverability) */
    int changed;               /* output differs from input */
    size_t body_offset;        /* offset of the body (after the blank line) in output */
    struct rw_hdr_change *hdr_changes;
    size_t nhdr_changes;
    struct rw_item *items;
    size_t nitems;
    char error[256];           /* reason, when rw_rewrite fails */
};

/* rw_rewrite - rewrite one RFC 5322 message.
 * msg/len: the whole message as received (CRLF or LF line ends kept).
 * out: receives the complete output message (headers + body); untouched
 *      headers and parts are byte-identical to the input; if nothing changed
 *      the output equals the input.
 * rep: zeroed by the call, filled in; free with rw_report_free.
 * Returns RW_OK or an error status with rep->error set; on error out is
 * empty (reset): no partial result is left that a caller could send. */
int rw_rewrite(const struct rw_request *req, const char *msg, size_t len, struct buf *out,
               struct rw_report *rep);

void rw_report_free(struct rw_report *rep);

/* rw_report_json - append the report as one JSON object to out (indent
 * 2). rw_item_json - the same for one item, as it appears in "items". */
int rw_report_json(const struct rw_report *rep, struct buf *out);
int rw_item_json(const struct rw_item *it, struct buf *out);

const char *rw_ttype_name(enum rw_ttype t);
const char *rw_action_name(enum rw_action a);
const char *rw_place_name(enum rw_place p);

/* URL helpers shared with the milter and gate (implemented in url.c). */

/* rw_url_unwrap - decode nested click wrappers (up to lim->unwrap_depth) and
 * remove personal parameters. Returns RW_OK with *dest malloc'd, RW_EINVAL
 * if url is not a decodable wrapper (opaque or none), RW_ELIMIT. */
int rw_url_unwrap(const struct rw_rules *r, const struct rw_limits *lim, const char *url,
                  char **dest);
/* rw_url_clean - copy of url without personal query parameters (exact keys).
 * *removed receives the count. Returns RW_OK or RW_ENOMEM. */
int rw_url_clean(const struct rw_rules *r, const char *url, char **out, unsigned *removed);
/* rw_url_has_recipient - 1 if the address appears in url raw, percent-
 * encoded, base64/base64url, or as md5/sha1/sha256 hex; else 0. */
int rw_url_has_recipient(const char *url, const char *recipient);

#endif
