/* track - the tracker endpoints of consent-gate (SPEC §6.2):
 *
 *   /o/<token>      gated pixel: consent still covers the domain's
 *                   pixel_purposes -> 302 to the original pixel; otherwise a
 *                   transparent GIF, nothing stored, nothing forwarded.
 *   /c/<token>      gated link: consent to clicks (or clicks = free) -> 302 to
 *                   the original tracked URL; otherwise 302 to the clean
 *                   destination carried in the token, or for an opaque wrapper
 *                   the interstitial page.
 *   /a/<token>.gif  anonymous pixel: per-campaign per-day counter, nothing
 *                   about the reader.
 *   /d/<token>      deliverability pixel: the day of the last open, only.
 *
 * Every redirect target comes from inside a valid token (no open redirect).
 * A store error on /o or /c fails closed: no tracking. The rules are those
 * of the section the token names (gate_policy_of): a domain switched to
 * never-track or off, or removed, stops its old mail on every endpoint
 * (/a and /d then count nothing). */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "gate/gate.h"

static int consent_covers(struct gate_req *r, const struct tok *t, uint32_t mask)
{
    struct store_consent c;
    int rc = gate_consent_get(r->g, t->controller, t->recipient, &c);

    if (rc != STORE_OK && rc != STORE_NOTFOUND) {
        log_warn("store lookup failed: %s", store_strerror(rc));
        return 0;
    }
    return rc == STORE_OK && store_covers(&c, mask);
}

static enum MHD_Result open_pixel(struct gate_req *r, const struct tok *t,
                                  const struct gate_policy *pol)
{
    if (pol->tracking && consent_covers(r, t, pol->pixel_purposes))
        return gate_send_redirect(r, t->url, GATE_OUT_FORWARDED);
    return gate_send_gif(r, GATE_OUT_BLANK);
}

static enum MHD_Result interstitial(struct gate_req *r, const struct tok *t,
                                    const struct cfg_domain *dom)
{
    int lang = gate_tpl_lang_index(gate_pages(r), gate_pick_lang(r, dom));
    char host[256];
    const char *h = strstr(t->url, "://") + 3;
    size_t hl = strcspn(h, "/?#");
    struct buf page = BUF_INIT(1 << 20);
    enum MHD_Result ret;

    snprintf(host, sizeof host, "%.*s", (int)(hl < sizeof host ? hl : sizeof host - 1),
             h);
    /* userinfo is not the host a reader should see */
    if (strchr(host, '@'))
        memmove(host, strrchr(host, '@') + 1, strlen(strrchr(host, '@') + 1) + 1);
    struct gate_tpl_var v[] = {{"url", t->url}, {"host", host}};
    if (gate_tpl_page(gate_pages(r), lang, GATE_TPL_INTERSTITIAL, v, 2, &page) != 0)
        ret = gate_send(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "error\n", 6,
                        GATE_OUT_ERROR);
    else
        ret = gate_send_html(r, MHD_HTTP_OK, &page, GATE_OUT_INTERSTITIAL);
    buf_free(&page);
    return ret;
}

static enum MHD_Result click(struct gate_req *r, const struct tok *t,
                             const struct gate_policy *pol)
{
    if (pol->tracking && (pol->clicks_free || consent_covers(r, t, 1u << STORE_P_CLICKS)))
        return gate_send_redirect(r, t->url, GATE_OUT_FORWARDED);
    if (t->dest)
        return gate_send_redirect(r, t->dest, GATE_OUT_UNWRAPPED);
    if (!gate_safe_url(t->url))
        return gate_send_404(r, GATE_OUT_BAD_TOKEN);
    return interstitial(r, t, pol->dom);
}

static int is_get(const struct gate_req *r)
{
    return strcmp(r->method, "GET") == 0;
}

static enum MHD_Result anon_pixel(struct gate_req *r, const struct tok *t,
                                  const struct gate_policy *pol)
{
    int rc;

    if (!is_get(r)) /* HEAD probes count nothing */
        return gate_send_gif(r, GATE_OUT_OK);
    if (!pol->tracking)
        return gate_send_gif(r, GATE_OUT_BLANK);
    rc = gate_anon(r->g, t->controller, t->url, gate_today());
    if (rc != STORE_OK)
        log_warn("anonymous counter not stored: %s", store_strerror(rc));
    return gate_send_gif(r, rc == STORE_OK ? GATE_OUT_COUNTED : GATE_OUT_ERROR);
}

static enum MHD_Result deliv_pixel(struct gate_req *r, const struct tok *t,
                                   const struct gate_policy *pol)
{
    int rc;

    if (!is_get(r))
        return gate_send_gif(r, GATE_OUT_OK);
    if (!pol->tracking)
        return gate_send_gif(r, GATE_OUT_BLANK);
    rc = gate_lastopen(r->g, t->controller, t->recipient, gate_today());
    if (rc != STORE_OK)
        log_warn("last-open day not stored: %s", store_strerror(rc));
    return gate_send_gif(r, rc == STORE_OK ? GATE_OUT_COUNTED : GATE_OUT_ERROR);
}

enum MHD_Result gate_track(struct gate_req *r)
{
    static const int kind_of[GATE_EP__N] = {[GATE_EP_OPEN] = TOK_OPEN,
                                            [GATE_EP_CLICK] = TOK_CLICK,
                                            [GATE_EP_ANON] = TOK_ANON,
                                            [GATE_EP_DELIV] = TOK_DELIV};
    struct tok t;
    struct gate_policy pol;
    enum MHD_Result ret;

    /* The anonymous pixel is "<token>.gif"; the suffix is required. */
    if (r->ep == GATE_EP_ANON) {
        if (r->arglen < 4 || strcmp(r->arg + r->arglen - 4, ".gif") != 0)
            return gate_send_404(r, GATE_OUT_NOT_FOUND);
        r->arglen -= 4;
    }
    if (gate_open_token(r, kind_of[r->ep], &t) != TOK_OK)
        return gate_send_404(r, GATE_OUT_BAD_TOKEN);
    gate_policy_of(r->snap->cfg, &t, &pol);
    switch (r->ep) {
    case GATE_EP_OPEN:
        ret = open_pixel(r, &t, &pol);
        break;
    case GATE_EP_CLICK:
        ret = click(r, &t, &pol);
        break;
    case GATE_EP_ANON:
        ret = anon_pixel(r, &t, &pol);
        break;
    default:
        ret = deliv_pixel(r, &t, &pol);
        break;
    }
    tok_clear(&t);
    return ret;
}
