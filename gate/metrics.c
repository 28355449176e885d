/* metrics - the GET /metrics handler: consent-gate's counters
 * (counters.c) in the Prometheus text exposition, format version 0.0.4.
 *
 * Reads the counters with relaxed atomic loads: a scrape may see one
 * counter a request ahead of another, never a torn value. No label ever
 * carries a token, address or controller. */
#include <stdio.h>

#include "gate/gate.h"

static const char *const token_reasons[8] = {
    "ok",          "malformed", "forged", "wrong_endpoint",
    "unknown_key", "nomem",     "keys",   "other",
};

static unsigned long long get(const unsigned long long *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int emit_requests(struct gate *g, struct buf *b)
{
    int rc =
        buf_puts(b, "# HELP consent_gate_requests_total HTTP requests by endpoint and "
                    "outcome.\n# TYPE consent_gate_requests_total counter\n");
    for (int e = 0; e < GATE_EP__N && rc == 0; e++)
        for (int o = 0; o < GATE_OUT__N && rc == 0; o++) {
            unsigned long long v = get(&g->req[e][o]);
            if (v)
                rc = buf_printf(
                    b,
                    "consent_gate_requests_total{endpoint=\"%s\",outcome=\"%s\"} "
                    "%llu\n",
                    gate_ep_name(e), gate_outcome_name(o), v);
        }
    return rc;
}

static int emit_consents(struct gate *g, struct buf *b)
{
    static const char *const names[GATE_CTR__N] = {"granted", "refused", "withdrawn"};
    static const char *const help[GATE_CTR__N] = {
        "Purposes granted through the gate (pages and API).",
        "Purposes refused through the gate (pages and API).",
        "Withdrawals recorded through the gate (pages and API).",
    };
    int rc = 0;

    for (int i = 0; i < GATE_CTR__N && rc == 0; i++)
        rc = buf_printf(b,
                        "# HELP consent_gate_consents_%s_total %s\n"
                        "# TYPE consent_gate_consents_%s_total counter\n"
                        "consent_gate_consents_%s_total %llu\n",
                        names[i], help[i], names[i], names[i], get(&g->consents[i]));
    return rc;
}

static int emit_tokens(struct gate *g, struct buf *b)
{
    int rc = buf_puts(b, "# HELP consent_gate_tokens_rejected_total Tokens refused, by "
                         "reason.\n# TYPE consent_gate_tokens_rejected_total counter\n");
    for (int i = 1; i < 8 && rc == 0; i++)
        if (i != TOK_ENOMEM && i != TOK_EKEYS)
            rc = buf_printf(b, "consent_gate_tokens_rejected_total{reason=\"%s\"} %llu\n",
                            token_reasons[i], get(&g->tok_rejected[i]));
    return rc;
}

int gate_metrics_render(struct gate *g, struct buf *b)
{
    int rc = emit_requests(g, b);
    if (rc == 0)
        rc = emit_consents(g, b);
    if (rc == 0)
        rc = emit_tokens(g, b);
    if (rc == 0)
        rc = gate_primary_metrics(g, b);
    if (rc == 0)
        rc = buf_printf(
            b,
            "# HELP consent_gate_start_time_seconds Start time of the process.\n"
            "# TYPE consent_gate_start_time_seconds gauge\n"
            "consent_gate_start_time_seconds %lld\n",
            (long long)g->started);
    return rc;
}
