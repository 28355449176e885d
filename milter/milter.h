/* milter - internal interfaces of consent-milter (SPEC §4).
 *
 *   main.c       options, config check, daemon, privileges, reload thread
 *   live.c       the live configuration snapshot (policy/snap.c) and the
 *                process-wide store handle, below every other file
 *   callbacks.c  the libmilter callbacks, thin
 *   message.c    per-message state: envelope, headers, body buffer/spool
 *   decide.c     controller, mail class, consent lookups, strictest rule
 *   guard.c      store reads that a damaged store file cannot crash
 *   esp.c        ESP no-track headers, merged with existing values
 *   trace.c      the X-Consent-Milter trace header and its MAC
 *
 * Threading: libmilter calls one connection's callbacks one at a time but
 * on any worker thread. Everything per connection hangs off smfi_setpriv;
 * the only shared state is the runtime snapshot (refcounted, swapped under
 * a mutex) and the store (thread-safe, MDB_NOTLS). */
#ifndef MILTER_MILTER_H
#define MILTER_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#include "common/buf.h"
#include "policy/cfg.h"
#include "policy/msginfo.h"
#include "policy/snap.h"
#include "common/tok.h"
#include "rewriter/rewriter.h"

#define MLT_VERSION "1.0"
#define MLT_TRACE_HEADER "X-Consent-Milter"
/* Trace format version: 2 binds the decision inputs (headers, sender) to
 * the MAC. A trace header of another version is not ours: unprocessed. */
#define MLT_TRACE_VERSION "2"
#define MLT_MAX_RCPTS 10000   /* recipients kept per transaction */
#define MLT_MAX_HEADERS 2000  /* header fields kept per message */

struct store;

/* ---- live.c: the live configuration snapshot (policy/snap.h: cfg,
 * rules, keys), loaded with MLT_SNAP_FLAGS (a missing keys file is only a
 * warning), installed by main.c, retained by each connection for its life. */
#define MLT_SNAP_FLAGS (SNAP_RULES | SNAP_KEYS_OPTIONAL)
extern struct snap_slot mlt_live;

/* The process-wide store, opened once after daemonising; NULL if none. */
extern struct store *mlt_store;

/* ---- guard.c: store reads under a SIGBUS guard. mlt_guard_init installs
 * the handler (once, at start). mlt_guarded runs fn(arg) and returns its
 * status, or STORE_ECORRUPT if the mapped store file faulted during it or
 * was found damaged before (then fn is not run). mlt_guard_set_damaged
 * marks the store damaged (open found it corrupt); mlt_guard_damaged says
 * whether it is. */
typedef int (*mlt_guarded_fn)(void *arg);
int mlt_guard_init(void);
int mlt_guarded(mlt_guarded_fn fn, void *arg);
void mlt_guard_set_damaged(void);
int mlt_guard_damaged(void);

/* ---- message.c: per-message state. */
/* Header fields as received from the MTA, folding kept (policy/msginfo.h). */

struct mlt_msg {
    char qid[64];           /* MTA queue id, "-" until known */
    char *sender;           /* envelope sender without brackets */
    char **rcpts;           /* normalised recipients */
    size_t nrcpts, rcap;
    struct msginfo_hdr *hdrs;
    size_t nhdrs, hcap;
    /* The message as rw_rewrite wants it: header block, blank line, body. */
    struct buf mem;         /* in memory up to spool_threshold */
    int fd;                 /* spool file (unlinked, 0600) or -1 */
    size_t size;            /* bytes stored (memory or file) */
    size_t body_off;        /* where the body starts */
    int headers_done;
    void *map;              /* mmap of the spool at end of message */
    size_t maplen;
    size_t max_size;        /* max_message_size */
    size_t spool_at;        /* spool_threshold */
    const char *spool_dir;  /* borrowed from the snapshot */
    double t0;              /* monotonic start, seconds */
};

/* mlt_msg_new - empty state for one transaction; limits from cfg. NULL on
 * ENOMEM. */
struct mlt_msg *mlt_msg_new(const struct cfg *cfg);
/* mlt_msg_free - idempotent cleanup for every path (abort, close, error):
 * frees memory, unmaps and closes the spool. Returns NULL. */
struct mlt_msg *mlt_msg_free(struct mlt_msg *m);
int mlt_msg_set_sender(struct mlt_msg *m, const char *addr);
/* mlt_msg_add_rcpt - normalise and keep addr. 0, EINVAL (not an address:
 * kept as given, so it still counts), E2BIG (too many), ENOMEM. */
int mlt_msg_add_rcpt(struct mlt_msg *m, const char *addr);
/* mlt_msg_add_header - keep one field and append it to the header block.
 * 0, EFBIG (max_message_size), E2BIG (too many fields), ENOMEM, EIO. */
int mlt_msg_add_header(struct mlt_msg *m, const char *name, const char *value);
/* mlt_msg_end_headers - append the blank line; idempotent. */
int mlt_msg_end_headers(struct mlt_msg *m);
/* mlt_msg_add_body - append a body chunk (CRLF line ends, as libmilter
 * gives it), spooling past the threshold. 0, EFBIG, ENOMEM, EIO. */
int mlt_msg_add_body(struct mlt_msg *m, const void *p, size_t n);
/* mlt_msg_data - the whole message (mmaps the spool if needed). 0 or EIO.
 * Valid until mlt_msg_free. */
int mlt_msg_data(struct mlt_msg *m, const char **data, size_t *len);
/* mlt_msg_header - value of the first field named name (case-insensitive),
 * or NULL. mlt_msg_header_count - how many fields carry that name. */
const char *mlt_msg_header(const struct mlt_msg *m, const char *name);
size_t mlt_msg_header_count(const struct mlt_msg *m, const char *name);

/* ---- decide.c: who, what class, which consent. */
struct mlt_decision {
    struct msginfo info;              /* sending domain, section, controller, class,
                                         campaign (policy/msginfo.h) */
    uint32_t granted;                 /* purposes granted (strictest for several) */
    int found;                        /* single recipient: a store record existed */
};

/* mlt_decide - fill d for message m under snapshot rt: sending domain from
 * From: (else envelope sender), section, class, consent. Returns 0, or -1
 * with a reason in err (store failure). A damaged store is no failure:
 * nobody consented (a warning at most once a minute). */
int mlt_decide(const struct snap *rt, const struct mlt_msg *m, struct mlt_decision *d,
               char *err, size_t errlen);
/* mlt_replica_stale - 1 when cfg's [store] backend is postgresql and the
 * replica st was never synced or not within max_staleness of now (or
 * cannot be read): decide as if nobody consented. Logs a warning at most
 * once a minute. 0 otherwise (lmdb backend: always). */
struct store;
int mlt_replica_stale(const struct cfg *cfg, struct store *st, int64_t now);

/* ---- esp.c: ESP no-track headers (§4.7). */
enum mlt_hop { MLT_HDR_ADD = 0, MLT_HDR_CHANGE };
struct mlt_hedit {
    int op;        /* enum mlt_hop */
    char name[32];
    int index;     /* MLT_HDR_CHANGE: 1-based occurrence */
    char *value;   /* owned */
};
/* Every ESP header esp.c handles, NULL-terminated (the trace MAC covers
 * them all). */
extern const char *const mlt_esp_headers[];
/* mlt_esp_edits - header edits that switch off open tracking (opens_off)
 * and/or click tracking (clicks_off) at every known ESP, merged with the
 * existing values of m. Every occurrence of a header (names compared
 * without case) is normalised: a flag that does not say off is changed, a
 * JSON header is merged (a duplicate key counts once, the last, as
 * SendGrid reads it); a header is added only when none is there. Returns
 * the number of edits in *out (free with mlt_esp_free); -1 on ENOMEM; -2
 * when an existing JSON header is not a JSON object (err names it: it
 * cannot be switched off without losing what it says). */
int mlt_esp_edits(const struct mlt_msg *m, int opens_off, int clicks_off,
                  struct mlt_hedit **out, char *err, size_t errlen);
void mlt_esp_free(struct mlt_hedit *e, int n);

/* ---- trace.c: X-Consent-Milter. */
/* mlt_trace_inputs - the decision inputs of a message, canonical, into
 * out: every occurrence of each header the decision or the rewrite reads
 * (From, List-Id, List-Unsubscribe, MIME-Version, Content-Type,
 * Content-Transfer-Encoding, Content-Disposition, every ESP header, every
 * header a class rule of any section names), unfolded with blanks
 * collapsed; and the envelope sender when it can matter (From: has no
 * domain, or a class rule matches senders). h is the header list as sent
 * (mlt_trace_hdrs_edit) or as received. 0 or -1 (ENOMEM). */
int mlt_trace_inputs(const struct cfg *cfg, const struct msginfo_hdr *h, size_t n,
                     const char *sender, struct buf *out);
/* mlt_trace_hdrs_edit - apply one smfi_chgheader/addheader to a shallow
 * header list *v (pointers borrowed, the array owned by the caller):
 * index 0 adds, index k changes the k-th field named name (adds when there
 * is none), value NULL deletes. 0 or -1 (ENOMEM). */
int mlt_trace_hdrs_edit(struct msginfo_hdr **v, size_t *n, const char *name, int index,
                        const char *value);
/* mlt_trace_make - "2; k=v; ...; bmac=HEX; mac=HEX" for the given fields,
 * decision inputs (mlt_trace_inputs) and output body: mac binds all three,
 * bmac the fields and the body only. Returns 0 or -1. */
int mlt_trace_make(const struct tok_keys *k, const char *fields, const char *inputs,
                   const char *body, size_t bodylen, struct buf *out);
/* mlt_trace_rcpts - the "for=" value: MAC (newest key) of the sorted
 * recipients, hex. 0 or -1 (no keys, out of memory). */
int mlt_trace_rcpts(const struct tok_keys *k, char *const *rcpts, size_t n,
                    char out[TOK_MAC_HEX]);
/* mlt_trace_for - 1 if the trace header value carries a "for=" MAC (any
 * key) of exactly these recipients, in any order; else 0. */
int mlt_trace_for(const struct tok_keys *k, const char *value, char *const *rcpts, size_t n);
/* mlt_trace_verify - 1 if value is a trace header made by us (any key) for
 * these decision inputs and this body, else 0. */
int mlt_trace_verify(const struct tok_keys *k, const char *value, const char *inputs,
                     const char *body, size_t bodylen);
/* mlt_trace_personalised - 1 if value's fields (for= among them) were made
 * by us (any key) for this body, whatever the inputs: the bmac of format 2,
 * or the MAC of format 1.0 (fields and body). Used only to refuse a copy
 * for other recipients, never to exempt one. */
int mlt_trace_personalised(const struct tok_keys *k, const char *value, const char *body,
                           size_t bodylen);
/* mlt_trace_enforced - 1 if the (verified) value records an enforcing
 * decision (consent, no-consent, never-track, strictest); 0 for monitor,
 * off or anything else: such a message was not enforced and must not be
 * exempted from enforcement later. */
int mlt_trace_enforced(const char *value);

/* ---- callbacks.c / eom.c */
/* Per-connection private data (smfi_setpriv). */
struct mlt_conn {
    struct snap *rt;     /* snapshot retained at connect, released at close */
    struct mlt_msg *msg;   /* current transaction, or NULL */
    unsigned long noreply; /* SMFIP_NR_* steps negotiated: they return NOREPLY */
    int err;               /* deferred error from a no-reply callback (errno) */
    char errwhy[128];
};

/* Error kinds, mapped to SMTP reply codes under on_error. INTERNAL is
 * transient (out of memory, I/O, store busy, a token not sealed: a retry
 * can succeed); PARSE, SIZE and POLICY are deterministic (the same message
 * fails the same way for ever), so on_error = tempfail answers them with a
 * permanent 5.x.x instead of making the sender retry for days. */
enum mlt_ekind { MLT_E_INTERNAL = 0, MLT_E_PARSE, MLT_E_SIZE, MLT_E_POLICY };
/* mlt_ekind_permanent - 1 if errors of kind can never succeed on retry. */
int mlt_ekind_permanent(int kind);
/* mlt_rw_ekind - the kind of a rewriter status: RW_EPARSE, RW_ELIMIT,
 * RW_ECHARSET are deterministic (MLT_E_PARSE); RW_ENOMEM, RW_EINVAL (bad
 * rules: a configuration fix makes it pass), RW_ECALLBACK (token sealing)
 * and any status not known here are transient (MLT_E_INTERNAL). */
int mlt_rw_ekind(int rw_status);

/* mlt_filter_desc - the filter description for smfi_register. */
struct smfiDesc *mlt_filter_desc(void);
/* budget.c - the memory budget shared by every worker ([milter]
 * max_memory). mlt_budget_need: the share of a message of len bytes (the
 * message and the rewriter's ceiling, 4x + MLT_BUDGET_BASE).
 * mlt_budget_take: take n of total (0: no budget, nothing taken), waiting
 * up to wait_ms for others to give theirs back; *held receives what was
 * taken (give it back with mlt_budget_give, which accepts 0). Returns 0,
 * EFBIG (n > total: can never fit) or ETIMEDOUT. Thread-safe. */
#define MLT_BUDGET_BASE ((size_t)8 << 20)
#define MLT_BUDGET_WAIT_MS 20000u
size_t mlt_budget_need(size_t len);
int mlt_budget_take(size_t total, size_t n, unsigned wait_ms, size_t *held);
void mlt_budget_give(size_t held);
size_t mlt_budget_used(void);

/* mlt_eom_drain - at shutdown: from now on eom temp-fails at once; wait up
 * to `seconds` for those in progress. Returns 1 when none is left, else 0
 * (the caller must then leave the store open). */
int mlt_eom_drain(unsigned seconds);
/* mlt_eom - the end-of-message work: decide, rewrite, apply, log. */
sfsistat mlt_eom(SMFICTX *ctx, struct mlt_conn *c);
/* mlt_fail - apply on_error (or force tempfail when force_tempfail) with a
 * reply text naming why; logs one line and frees the message. Under
 * on_error = tempfail a permanent kind is rejected (552 for SIZE, else 554)
 * unless force_tempfail. */
sfsistat mlt_fail(SMFICTX *ctx, struct mlt_conn *c, int kind, const char *why,
                  int force_tempfail);

/* now_mono - monotonic clock in seconds. */
double mlt_now(void);


/* metrics.c - Prometheus counters ([milter] metrics_textfile). */
enum mlt_mdecision {
    MLT_MD_CONSENT = 0, MLT_MD_NO_CONSENT, MLT_MD_STRICTEST, MLT_MD_NEVER_TRACK,
    MLT_MD_MONITOR, MLT_MD_OFF, MLT_MD_SKIP, MLT_MD_REFUSED, MLT_MD_ERROR, MLT_MD__N
};
/* mlt_decision_index - the metrics index of a policy decision word
 * ("consent", "no-consent", ...); MLT_MD_ERROR when unknown. */
int mlt_decision_index(const char *decision);
/* mlt_metrics_message - one message finished: decision (enum
 * mlt_mdecision), mail class (CFG class, -1 unknown), seconds spent. */
void mlt_metrics_message(int decision, int mail_class, double seconds);
/* mlt_metrics_trackers - add a rewrite report's acted[ntypes][RW_A_MAX]. */
void mlt_metrics_trackers(const unsigned acted[][RW_A_MAX], int ntypes);
/* mlt_metrics_error - one failure of kind (enum mlt_ekind) answered with
 * action (enum cfg on_error: accept, reject, tempfail). */
void mlt_metrics_error(int kind, int action);
/* mlt_metrics_render - every metric, text exposition, into b. */
int mlt_metrics_render(struct buf *b);
/* mlt_metrics_write - render to path atomically. Returns 0 or errno. */
int mlt_metrics_write(const char *path);
/* mlt_metrics_start - note the start time; with a path, write it now and
 * every interval seconds from a thread. mlt_metrics_stop writes it once
 * more. Both return 0 or an errno value. */
int mlt_metrics_start(const char *path, unsigned interval);
int mlt_metrics_stop(void);

#endif
