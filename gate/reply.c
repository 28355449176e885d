/* reply - how consent-gate answers (SPEC §6): every response the handlers
 * send is built here, so each one carries the security headers (a strict
 * Content-Security-Policy, nosniff, no referrer, no framing) and a cache
 * policy; the transparent GIF; redirects only to URLs gate_safe_url
 * accepts; one 404 page for every rejection.
 *
 * Below the handlers and http.c, above nothing of the gate but the
 * templates: moved out of http.c so that the handlers no longer depend on
 * the daemon that calls them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"

static const char SEC_CSP[] =
    "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/* 1x1 transparent GIF. */
static const unsigned char GIF[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01,
                                    0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
                                    0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00,
                                    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
                                    0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static void sec_headers(struct MHD_Response *resp, int cacheable)
{
    MHD_add_response_header(resp, "Content-Security-Policy", SEC_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "cross-origin");
    MHD_add_response_header(resp, "Cache-Control",
                            cacheable ? "public, max-age=3600" : "no-store, max-age=0");
}

static enum MHD_Result queue(struct gate_req *r, unsigned status,
                             struct MHD_Response *resp, int outcome)
{
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->status = (int)status;
    r->outcome = outcome;
    return ret;
}

static struct MHD_Response *text_response(const char *ctype, const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

    if (resp == NULL)
        return NULL;
    MHD_add_response_header(resp, "Content-Type", ctype);
    sec_headers(resp, strncmp(ctype, "text/css", 8) == 0);
    return resp;
}

enum MHD_Result gate_send(struct gate_req *r, unsigned status, const char *ctype,
                          const void *body, size_t len, int outcome)
{
    return queue(r, status, text_response(ctype, body, len), outcome);
}

enum MHD_Result gate_send_refusal(struct gate_req *r, unsigned status, const char *msg,
                                  int close)
{
    struct MHD_Response *resp = text_response("text/plain", msg, strlen(msg));

    if (resp && close)
        MHD_add_response_header(resp, "Connection", "close");
    return queue(r, status, resp, GATE_OUT_BAD_REQUEST);
}

enum MHD_Result gate_send_html(struct gate_req *r, unsigned status, struct buf *html,
                               int outcome)
{
    return gate_send(r, status, "text/html; charset=utf-8", buf_cstr(html), html->len,
                     outcome);
}

enum MHD_Result gate_send_gif(struct gate_req *r, int outcome)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof GIF, (void *)GIF, MHD_RESPMEM_PERSISTENT);

    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "image/gif");
    sec_headers(resp, 0);
    return queue(r, MHD_HTTP_OK, resp, outcome);
}

enum MHD_Result gate_send_redirect(struct gate_req *r, const char *url, int outcome)
{
    struct MHD_Response *resp;

    if (!gate_safe_url(url))
        return gate_send_404(r, GATE_OUT_BAD_TOKEN);
    resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    if (MHD_add_response_header(resp, "Location", url) != MHD_YES) {
        MHD_destroy_response(resp);
        return gate_send_404(r, GATE_OUT_BAD_TOKEN);
    }
    sec_headers(resp, 0);
    return queue(r, MHD_HTTP_FOUND, resp, outcome);
}

/* Every rejection gets the same bytes: nothing tells a forged token from a
 * retired key, a wrong endpoint or a path that does not exist. */
enum MHD_Result gate_send_404(struct gate_req *r, int outcome)
{
    size_t len;
    const char *page = gate_tpl_notfound(gate_pages(r), &len);

    return gate_send(r, MHD_HTTP_NOT_FOUND, "text/html; charset=utf-8", page, len,
                     outcome);
}

enum MHD_Result gate_send_json(struct gate_req *r, unsigned status, const char *json,
                               int outcome)
{
    return gate_send(r, status, "application/json", json, strlen(json), outcome);
}

int gate_safe_url(const char *url)
{
    const char *p;

    if (url == NULL)
        return 0;
    if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return 0;
    /* A host must follow; "http:///x" or "http://\evil" are refused. */
    if (*p == '\0' || *p == '/' || *p == '\\' || *p == '?' || *p == '#')
        return 0;
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return strlen(url) <= TOK_FIELD_MAX;
}
