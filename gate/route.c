/* route - what the gate does with a request once libmicrohttpd has parsed
 * it: the endpoint its path names, whether its framing, method and
 * announced size let its body be read, and the answer. Pure over the
 * parsed request (struct gate_req and a few header facts), no socket:
 * http.c calls it for every request, and the fuzz harness
 * (tests/fuzz/fuzz_gate.c) drives it with requests of its own.
 *
 * Between http.c and the handlers (gate.h, "Layers inside gate/"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"

int gate_route(const char *path, const char **arg)
{
    static const struct {
        const char *prefix;
        int ep;
    } tab[] = {
        {"/o/", GATE_EP_OPEN},  {"/c/", GATE_EP_CLICK},    {"/a/", GATE_EP_ANON},
        {"/d/", GATE_EP_DELIV}, {"/w/", GATE_EP_WITHDRAW}, {"/p/", GATE_EP_PREFS},
    };

    *arg = "";
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strncmp(path, tab[i].prefix, 3) == 0) {
            *arg = path + 3;
            return tab[i].ep;
        }
    if (strcmp(path, "/api/v1/consent") == 0)
        return GATE_EP_API;
    if (strcmp(path, "/healthz") == 0)
        return GATE_EP_HEALTH;
    if (strcmp(path, "/metrics") == 0)
        return GATE_EP_METRICS;
    if (strcmp(path, "/static/gate.css") == 0)
        return GATE_EP_STATIC;
    return GATE_EP_OTHER;
}

unsigned gate_framing(int ncl, int nte, const char *te, const char **refusal)
{
    if (ncl > 1)
        *refusal = "more than one Content-Length\n";
    else if (ncl && nte)
        *refusal = "both Content-Length and Transfer-Encoding\n";
    else if (nte && (nte > 1 || te == NULL || strcasecmp(te, "chunked") != 0))
        *refusal = "transfer coding not implemented (only chunked)\n";
    else
        return 0;
    return ncl ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_NOT_IMPLEMENTED;
}

static int accepts_post(int ep)
{
    return ep == GATE_EP_WITHDRAW || ep == GATE_EP_PREFS || ep == GATE_EP_API;
}

unsigned gate_admit(int ep, const char *method, const char *content_length, size_t *cap)
{
    *cap = 0;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        /* A body here is never read: refused at once when announced,
         * discarded unbuffered when chunked (http.c). */
        return content_length && strtoull(content_length, NULL, 10) > 0
                   ? MHD_HTTP_BAD_REQUEST
                   : 0;
    if (strcmp(method, "POST") != 0 || !accepts_post(ep))
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    *cap = ep == GATE_EP_API ? GATE_API_MAX : GATE_FORM_MAX;
    return content_length && strtoull(content_length, NULL, 10) > *cap
               ? MHD_HTTP_CONTENT_TOO_LARGE
               : 0;
}

static enum MHD_Result dispatch(struct gate_req *r)
{
    size_t len;
    const char *css;

    switch (r->ep) {
    case GATE_EP_OPEN:
    case GATE_EP_CLICK:
    case GATE_EP_ANON:
    case GATE_EP_DELIV:
        return gate_track(r);
    case GATE_EP_WITHDRAW:
        return gate_withdraw(r);
    case GATE_EP_PREFS:
        return gate_prefs(r);
    case GATE_EP_API:
        return gate_api(r);
    case GATE_EP_HEALTH:
        return gate_send(r, MHD_HTTP_OK, "text/plain", "ok\n", 3, GATE_OUT_OK);
    case GATE_EP_METRICS: /* served on [gate] metrics_listen only */
        return gate_send_404(r, GATE_OUT_NOT_FOUND);
    case GATE_EP_STATIC:
        css = gate_tpl_css(gate_pages(r), &len);
        return gate_send(r, MHD_HTTP_OK, "text/css; charset=utf-8", css, len,
                         GATE_OUT_OK);
    default:
        return gate_send_404(r, GATE_OUT_NOT_FOUND);
    }
}

enum MHD_Result gate_answer(struct gate_req *r, unsigned status, const char *refusal,
                            int close)
{
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        return gate_send(r, status, "text/plain", "method not allowed\n", 19,
                         GATE_OUT_METHOD);
    if (status == MHD_HTTP_BAD_REQUEST || status == MHD_HTTP_NOT_IMPLEMENTED)
        return gate_send_refusal(r, status, refusal ? refusal : "no request body allowed\n",
                                 close);
    if (status == MHD_HTTP_CONTENT_TOO_LARGE)
        return r->ep == GATE_EP_API
                   ? gate_send_json(r, status,
                                    "{\"error\":\"too_large\",\"message\":\"request body "
                                    "larger than 65536 bytes\"}\n",
                                    GATE_OUT_TOO_LARGE)
                   : gate_send(r, status, "text/plain", "request too large\n", 18,
                               GATE_OUT_TOO_LARGE);
    return dispatch(r);
}
