/* counters - consent-gate's metrics counters and the names of endpoints
 * and outcomes (also used by the access log).
 *
 * Counters are plain integers in struct gate updated with relaxed atomic
 * adds, from any thread. A file of its own, below the handlers that bump
 * them and the /metrics handler that renders them (metrics.c). */
#include "gate/gate.h"

static const char *const ep_names[GATE_EP__N] = {
    "open", "click",   "anon",    "deliverability", "withdraw", "prefs",
    "api",  "healthz", "metrics", "static",         "other",
};
static const char *const outcome_names[GATE_OUT__N] = {
    "forwarded", "blank",     "unwrapped", "interstitial", "counted",   "page",
    "recorded",  "ok",        "bad_token", "bad_request",  "forbidden", "unauthorized",
    "too_large", "not_found", "method",    "error",        "aborted",
};

const char *gate_ep_name(int ep)
{
    return ep >= 0 && ep < GATE_EP__N ? ep_names[ep] : "other";
}

const char *gate_outcome_name(int outcome)
{
    return outcome >= 0 && outcome < GATE_OUT__N ? outcome_names[outcome] : "error";
}

void gate_count(struct gate *g, int ep, int outcome)
{
    if (ep < 0 || ep >= GATE_EP__N)
        ep = GATE_EP_OTHER;
    if (outcome < 0 || outcome >= GATE_OUT__N)
        outcome = GATE_OUT_ERROR;
    __atomic_fetch_add(&g->req[ep][outcome], 1, __ATOMIC_RELAXED);
}

void gate_count_consent(struct gate *g, int which, unsigned n)
{
    if (which >= 0 && which < GATE_CTR__N)
        __atomic_fetch_add(&g->consents[which], n, __ATOMIC_RELAXED);
}

void gate_count_token(struct gate *g, int tok_status)
{
    if (tok_status <= 0 || tok_status > 6)
        tok_status = 7;
    __atomic_fetch_add(&g->tok_rejected[tok_status], 1, __ATOMIC_RELAXED);
}
