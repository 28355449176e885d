/* gate - internal interfaces of consent-gate (SPEC §6), the HTTP service for
 * gated pixels and links, the withdrawal and consent pages, the JSON API and
 * the metrics.
 *
 * Data flow: libmicrohttpd threads call http.c, which accumulates a bounded
 * request, takes a reference on the current configuration snapshot
 * (policy/snap.h; its extra part is the page templates) and dispatches to
 * track.c (/o /c /a /d), pages.c (/w /p), api.c (/api/v1/consent) or
 * metrics.c. Responses are built with the helpers of reply.c, which always
 * add the security headers. Nothing here exits after start-up; every
 * failure is an HTTP answer.
 *
 * Layers inside gate/, each file using only those below it: main.c; http.c;
 * route.c; the handlers (track, pages, api, metrics); primary.c; form.c; util.c;
 * reply.c, req.c and counters.c; tpl.c.
 *
 * Thread safety: a struct gate is shared by all threads; the snapshot is
 * swapped under a mutex and refcounted; counters are atomics. */
#ifndef GATE_GATE_H
#define GATE_GATE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "policy/cfg.h"
#include "policy/snap.h"
#include "common/tok.h"
#include "gate/tpl.h"
#include "store/store.h"

/* Limits (also documented in consent-gate(8)). */
#define GATE_FORM_MAX 8192           /* POST body of a page form */
#define GATE_API_MAX 65536           /* POST body of the JSON API */
#define GATE_CONN_MEMORY (64 * 1024) /* per connection: request line + headers */
#define GATE_CONN_LIMIT 1000

enum gate_ep {
    GATE_EP_OPEN = 0,
    GATE_EP_CLICK,
    GATE_EP_ANON,
    GATE_EP_DELIV,
    GATE_EP_WITHDRAW,
    GATE_EP_PREFS,
    GATE_EP_API,
    GATE_EP_HEALTH,
    GATE_EP_METRICS,
    GATE_EP_STATIC,
    GATE_EP_OTHER,
    GATE_EP__N
};
enum gate_outcome {
    GATE_OUT_FORWARDED = 0, /* consent: 302 to the original tracker */
    GATE_OUT_BLANK,         /* no consent: transparent GIF */
    GATE_OUT_UNWRAPPED,     /* no consent: 302 to the clean destination */
    GATE_OUT_INTERSTITIAL,  /* no consent, opaque wrapper: interstitial page */
    GATE_OUT_COUNTED,       /* anonymous / deliverability pixel stored */
    GATE_OUT_PAGE,          /* a page shown */
    GATE_OUT_RECORDED,      /* a consent event recorded */
    GATE_OUT_OK,
    GATE_OUT_BAD_TOKEN,
    GATE_OUT_BAD_REQUEST,
    GATE_OUT_FORBIDDEN, /* CSRF check failed */
    GATE_OUT_UNAUTHORIZED,
    GATE_OUT_TOO_LARGE,
    GATE_OUT_NOT_FOUND,
    GATE_OUT_METHOD,
    GATE_OUT_ERROR,
    GATE_OUT_ABORTED, /* the request ended before any response was queued */
    GATE_OUT__N
};
enum gate_consent_ctr {
    GATE_CTR_GRANTED = 0,
    GATE_CTR_REFUSED,
    GATE_CTR_WITHDRAWN,
    GATE_CTR__N
};

struct gate_primary;
struct gate {
    struct store *store;          /* the LMDB store, or this host's replica */
    struct gate_primary *primary; /* [store] backend = postgresql, else NULL */
    struct snap_slot live; /* config, keys, templates (extra) */
    const char *pages_dir;
    const char *config_path;
    int access_log;
    /* metrics, updated with __atomic builtins */
    unsigned long long req[GATE_EP__N][GATE_OUT__N];
    unsigned long long consents[GATE_CTR__N];
    unsigned long long tok_rejected[8]; /* by enum tok_status */
    int64_t started;
};

/* One HTTP request as the handlers see it. */
struct gate_req {
    struct gate *g;
    struct snap *snap; /* referenced for the request's life */
    struct MHD_Connection *conn;
    const char *method; /* "GET", "HEAD", "POST" */
    const char *arg;    /* path after the endpoint prefix (the token) */
    size_t arglen;
    const char *body; /* POST body (NUL-terminated), NULL for GET */
    size_t bodylen;
    const char *client_ip; /* peer, or the client a trusted proxy names */
    int ep;                /* enum gate_ep */
    int outcome;           /* enum gate_outcome, set by the handler */
    int status;            /* HTTP status sent */
};

/* gate_pages - the page templates of the request's snapshot. */
static inline const struct gate_tpl_set *gate_pages(const struct gate_req *r)
{
    return r->snap->extra;
}

/* http.c: the daemon. gate_http_start binds cfg->gate_listen (port 0: any
 * free port, see gate_http_port) and starts the MHD threads and the
 * slow-request watchdog; returns NULL with a reason in err. */
struct gate_http;
struct gate_http *gate_http_start(struct gate *g, const struct cfg *cfg, char *err,
                                  size_t errlen);
void gate_http_stop(struct gate_http *h); /* accepts NULL */
/* gate_http_metrics_port - the bound port of [gate] metrics_listen, 0 if off. */
uint16_t gate_http_metrics_port(const struct gate_http *h);
uint16_t gate_http_port(const struct gate_http *h);

/* The request once parsed (route.c), without a socket: http.c's and the
 * fuzz harness's. gate_route - the endpoint of path (the URL without its
 * query), *arg the rest of it after a token endpoint's prefix ("" else). */
int gate_route(const char *path, const char **arg);
/* gate_framing - of the request's headers: ncl Content-Length fields, nte
 * Transfer-Encoding fields (te the last one's value). 0, or the status to
 * answer with before reading the body (then closing: 400 or 501), with
 * *refusal its text (RFC 9112 §6: one Content-Length or a final chunked,
 * never both: else a proxy and we may frame it differently). */
unsigned gate_framing(int ncl, int nte, const char *te, const char **refusal);
/* gate_admit - for endpoint ep, method and the Content-Length value (NULL:
 * none): 0 to read the body, whose cap (0: none may come) is *cap, or the
 * status to answer with at once (400 body announced on GET/HEAD, 405, 413). */
unsigned gate_admit(int ep, const char *method, const char *content_length, size_t *cap);
/* gate_answer - answer r: status 0 runs the endpoint's handler, 405/400/
 * 501/413 send that refusal (refusal: its text for 400/501, NULL for the
 * default; close: add Connection: close). */
enum MHD_Result gate_answer(struct gate_req *r, unsigned status, const char *refusal,
                            int close);

/* Response helpers (reply.c). Each returns an MHD result and records the
 * status and outcome on r. */
enum MHD_Result gate_send(struct gate_req *r, unsigned status, const char *ctype,
                          const void *body, size_t len, int outcome);
enum MHD_Result gate_send_html(struct gate_req *r, unsigned status, struct buf *html,
                               int outcome);
enum MHD_Result gate_send_gif(struct gate_req *r, int outcome);
enum MHD_Result gate_send_redirect(struct gate_req *r, const char *url, int outcome);
enum MHD_Result gate_send_404(struct gate_req *r, int outcome);
enum MHD_Result gate_send_json(struct gate_req *r, unsigned status, const char *json,
                               int outcome);
/* gate_send_refusal - an answer given before the body is read (outcome
 * bad_request); close: the framing is unclear, so nothing after this on the
 * connection can be trusted to be a request. */
enum MHD_Result gate_send_refusal(struct gate_req *r, unsigned status, const char *msg,
                                  int close);
/* gate_safe_url - 1 if url is absolute http(s) with no control bytes or
 * blanks: the only kind of URL the gate ever redirects to. */
int gate_safe_url(const char *url);
/* The request (req.c): a header field's value, or NULL. */
const char *gate_header(const struct gate_req *r, const char *name);
/* gate_client_ip - textual client address into out (for store_source):
 * the TCP peer, or the client named by X-Forwarded-For when the peer is in
 * [gate] trusted_proxies. */
void gate_client_ip(const struct gate_req *r, char *out, size_t outlen);

/* The store behind the handlers (primary.c): with [store] backend = lmdb
 * the plain store calls; with postgresql the primary, this host's replica
 * and the outbox (see primary.c). gate_primary_start connects (a primary
 * that is down is not an error) and starts the outbox/batch thread; 0, or
 * -1 with err. gate_primary_stop: flush, stop, free; accepts no primary. */
int gate_primary_start(struct gate *g, const struct cfg *c, char *err, size_t errlen);
void gate_primary_stop(struct gate *g);
/* gate_record - store_record, or the primary's: returns 0 (recorded; ev as
 * store_record leaves it), GATE_REC_QUEUED (primary down: a withdrawal or
 * refusal kept in the outbox, counted at once; ev->id/time set, applied =
 * 1), GATE_REC_DOWN (primary down: a grant is not recorded), or a STORE_E*
 * code. Thread-safe. */
enum { GATE_REC_QUEUED = 100, GATE_REC_DOWN };
int gate_record(struct gate *g, struct store_event *ev);
/* gate_consent_get - store_consent_get, with the outbox's pending
 * withdrawals applied, and "nothing granted" from a replica older than
 * [store] max_staleness. */
int gate_consent_get(struct gate *g, const char *ctl, const char *rcpt,
                     struct store_consent *out);
/* gate_lastopen / gate_anon - store_lastopen_set / store_anon_incr, or a
 * batch sent to the primary within seconds. */
int gate_lastopen(struct gate *g, const char *ctl, const char *rcpt, int64_t day);
int gate_anon(struct gate *g, const char *ctl, const char *campaign, int64_t day);
/* gate_primary_metrics - the primary's gauges and counters (none without). */
int gate_primary_metrics(const struct gate *g, struct buf *b);

/* Counters (counters.c). */
void gate_count(struct gate *g, int ep, int outcome);
void gate_count_consent(struct gate *g, int which, unsigned n);
void gate_count_token(struct gate *g, int tok_status);
const char *gate_ep_name(int ep);
const char *gate_outcome_name(int outcome);

/* Endpoints. */
enum MHD_Result gate_track(struct gate_req *r);    /* /o /c /a /d (track.c) */
enum MHD_Result gate_withdraw(struct gate_req *r); /* /w (pages.c) */
enum MHD_Result gate_prefs(struct gate_req *r);    /* /p (pages.c) */
enum MHD_Result gate_api(struct gate_req *r);      /* /api/v1/consent (api.c) */
/* gate_metrics_render - the counters in the text exposition (metrics.c),
 * served by the [gate] metrics_listen daemon (http.c), never the public one. */
int gate_metrics_render(struct gate *g, struct buf *b);

/* Shared helpers (util.c). */
/* gate_policy - what the gate does for one token under the current
 * configuration: the policy of the [domain] section the token names (the
 * mail's sending domain), never that of another domain of the same
 * controller. */
struct gate_policy {
    const struct cfg_domain *dom; /* page language: the section that decides, or the
                                     first of several; else "*". Never NULL */
    int tracking;                 /* 0: forward, count and store nothing (never-track,
                                     off, section removed or now another controller's) */
    uint32_t pixel_purposes;      /* /o forwards only if consent covers all; never 0 */
    int clicks_free;              /* /c forwards without consent to clicks */
    uint32_t offered;             /* purposes the consent page offers; never 0 */
    int store_source;             /* pages store the client IP and user agent */
    int exact;                    /* 1: the token's own section decides */
    unsigned n;                   /* sections merged (0: none) */
};
/* gate_policy_of - the policy for t (borrowed; out borrows from c).
 * A token names its section (tok has_domain): that section decides; one
 * without controller ([domain *]) yields to the sending domain's own section
 * if it has one now. A section that is gone, or now names another
 * controller, tracks nothing; its pages take the controller's sections as
 * below. A format-1 token (no domain, mail sent before) gets the strictest
 * of every section its controller could have come from: tracking only if
 * none is never-track or off, every section's pixel purposes, clicks free
 * only if free in all, source stored only if all say so, the union of what
 * they offer. No section at all: "*" for the pages, no tracking. */
void gate_policy_of(const struct cfg *c, const struct tok *t, struct gate_policy *out);
/* gate_open_token - tok_open for r->arg with kind; counts rejections. */
int gate_open_token(struct gate_req *r, int kind, struct tok *t);
/* gate_mask_address - "alice@example.org" -> "a***@example.org". */
void gate_mask_address(const char *addr, char *out, size_t outlen);
/* gate_pick_lang - the page language (gate/lang.c): the best of the loaded
 * languages that Accept-Language accepts, else the domain's language, else
 * the [gate] language, else en, skipping those the header refuses (q=0).
 * Always a language of gate_pages(r) ("en" if there are none). */
const char *gate_pick_lang(const struct gate_req *r, const struct cfg_domain *dom);
/* gate_lang_choose - the index in codes[0..n-1] (lowercase primary subtags,
 * at most GATE_TPL_LANG_MAX) that Accept-Language value h (NULL: none)
 * picks: the highest q > 0, a tie to the element listed first, then to the
 * order of prefer[0..nprefer-1] (indexes, -1 ignored), then to the lower
 * index. If h picks none: the first of prefer, then of codes, that h does
 * not refuse with q=0; if h refuses all, prefer[0] (else 0). Malformed
 * elements are skipped; linear time in strlen(h), no allocation; -1 only
 * if n is 0. Thread-safe. */
int gate_lang_choose(const char *h, const char *const *codes, size_t n, const int *prefer,
                     size_t nprefer);
/* gate_forwarded_client - the client named by an X-Forwarded-For value
 * received from a trusted peer: the right-most entry that is not in the
 * trusted ranges (or the left-most if all are trusted). An entry that is
 * not an IP literal ends the walk. Returns 1 with *client set (to the last
 * good entry read), or 0 if xff is NULL or has no usable right-most entry:
 * the caller keeps the peer's address. */
int gate_forwarded_client(const char *xff, const struct cidr *trusted, size_t ntrusted,
                          uint8_t client[CIDR_ADDR_LEN]);
/* Forms and CSRF (form.c). The scheme: every page form carries a hidden
 * field csrf = MAC(newest key, "csrf" | kind | token); a POST is accepted
 * only if that field verifies (any current key) AND, when the browser sends
 * them, Sec-Fetch-Site is same-origin/none and Origin (else Referer) is the
 * gate's own origin ([gate] url, or the Host the request was sent to). */
int gate_csrf_make(const struct gate_req *r, int kind, char out[TOK_MAC_HEX]);
int gate_csrf_ok(const struct gate_req *r, int kind, const char *field);
/* gate_form_get - the n-th (0-based) value of name in the urlencoded body,
 * decoded into out. Returns its length, or -1 if absent, malformed or
 * longer than outlen - 1. */
int gate_form_get(const struct gate_req *r, const char *name, int n, char *out,
                  size_t outlen);
/* gate_today - days since the epoch, UTC. */
int64_t gate_today(void);

#endif
