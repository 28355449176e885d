/* policy - the per-recipient decision of SPEC §4.4, shared by the milter and
 * consent-rewrite so that both give the same result for the same input.
 *
 * Input: the domain section, the mail class, the recipient's consent (or the
 * intersection for several recipients, §4.5), the token keys. Output: a
 * ready struct rw_request (decide callback + expanded footers) whose
 * pointers stay valid until policy_free(). The callback seals gate tokens
 * with tok_seal() for kept trackers.
 *
 * Not thread-safe per struct policy; use one per message.
 *
 * Memory: the policy's own allocations are checked (policy_prepare -1,
 * the decide callback's failure: RW_ECALLBACK, so no half-decided mail);
 * the GLib calls it shares with the rewriter abort on out-of-memory as
 * rewriter.h ("Memory") states. */
#ifndef CM_POLICY_H
#define CM_POLICY_H

#include <stdint.h>

#include "common/buf.h"
#include "policy/cfg.h"
#include "policy/msginfo.h"
#include "policy/snap.h"
#include "common/tok.h"
#include "rewriter/rewriter.h"

struct policy_input {
    const struct cfg *cfg;
    const struct cfg_domain *dom;   /* cfg_domain_for(From: domain) */
    const char *controller;         /* dom->controller, or the sending domain when the
                                       section ([domain *]) names none; required */
    int mail_class;                 /* enum cfg_class */
    const struct rw_rules *rules;
    const struct rw_limits *limits; /* NULL: defaults */
    const struct tok_keys *keys;    /* NULL: no gate; kept trackers are then
                                       stripped/unwrapped (nothing ungated stays) */
    const char *recipient;          /* normalised; NULL for several recipients */
    uint32_t granted;               /* purposes granted (store mask); for several
                                       recipients the caller passes 0 (strictest) */
    const char *campaign;           /* anonymous-pixel campaign id; NULL: derived */
    int64_t now;                    /* token issue time; 0: time(NULL) */
};

/* What the policy decided, for the trace header and the log. */
struct policy_summary {
    const char *decision;  /* "consent", "no-consent", "never-track", "monitor", "off",
                              "strictest" */
    int pixels_ok;         /* consent covers pixel_purposes */
    int clicks_ok;         /* consent covers clicks (or clicks = free) */
};

struct policy {
    struct policy_input in;
    struct policy_summary sum;
    char *footer_html, *footer_text;       /* expanded templates, owned */
    char *footer_html_u, *footer_text_u;
    char err[256];
};

/* policy_prepare - fill p and req for one message. For mode off the caller
 * should not rewrite at all (policy_prepare still succeeds, req->decide
 * keeps everything); for monitor, req->dry_run is set. Returns 0, or -1
 * with p->err set (e.g. template expansion failed, token sealing failed). */
int policy_prepare(const struct policy_input *in, struct policy *p, struct rw_request *req);
void policy_free(struct policy *p);

/* policy_input_build - the one builder of *in (policy/input.c) for a
 * message under snapshot s with message info info: rcpt is the one
 * recipient (normalised) and granted its purposes, or rcpt NULL for several
 * recipients (granted ignored: strictest, nothing granted). now: token
 * issue time, 0 for time(NULL). in borrows from s and info, which must
 * outlive it. */
void policy_input_build(struct policy_input *in, const struct snap *s,
                        const struct msginfo *info, const char *rcpt, uint32_t granted,
                        int64_t now);

struct store;
/* policy_granted - the purposes granted to rcpt (normalised) by controller,
 * from st (NULL: no store, nothing granted). *found says whether a record
 * exists. Returns 0 (also for an unknown recipient: no consent), or the
 * store's status (STORE_E*, > 0) with a reason in err on a store error.
 * Thread-safe as store_consent_get. */
int policy_granted(struct store *st, const char *controller, const char *rcpt,
                   uint32_t *granted, int *found, char *err, size_t errlen);

/* policy_link - build "<gate url>/<kind>/<token>" for a recipient (withdraw,
 * prefs) into out; the token names in->dom (required), whose rules the
 * gate applies. Returns 0 or -1. */
int policy_link(const struct policy_input *in, int kind, struct buf *out);

#endif
