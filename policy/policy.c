/* policy - SPEC §4.4 per-recipient decision, shared by consent-milter and
 * consent-rewrite (see policy.h).
 *
 * policy_prepare() works out once per message what the recipient's consent
 * allows (pixels_ok, clicks_ok), expands the footer templates, and hands the
 * rewriter a decide callback that maps each finding to an action, sealing a
 * gate token when a tracker is kept. Without keys no withdrawal link can be
 * made, so nothing is kept (gated or not): the tracker is treated as if
 * consent were missing. Failure: -1 with p->err; the caller applies
 * on_error. */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

static int consent_based(const struct policy *p)
{
    return p->sum.pixels_ok ||
           (p->sum.clicks_ok && p->in.dom->clicks == CFG_CLICKS_CONSENT);
}

/* A token for the message's controller and recipient, issued now. It names
 * the sending domain's section, whose policy the gate then applies (several
 * domains may share one controller, each with its own policy). */
static void tok_for(const struct policy_input *in, int kind, struct tok *t)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->issued = in->now;
    t->controller = (char *)in->controller;
    t->recipient = (char *)in->recipient;
    t->has_domain = 1;
    tok_domain_id(in->dom->name, t->domain);
}

/* Append "<gate url>/<kind>/<sealed t>" to out. */
static int seal_link(const struct policy_input *in, const struct tok *t, struct buf *out)
{
    if (in->keys == NULL || in->cfg->gate_url == NULL)
        return -1;
    if (buf_printf(out, "%s/%c/", in->cfg->gate_url, t->kind) != 0)
        return -1;
    return tok_seal(in->keys, t, out) == TOK_OK ? 0 : -1;
}

int policy_link(const struct policy_input *in, int kind, struct buf *out)
{
    struct tok t;

    tok_for(in, kind, &t);
    return seal_link(in, &t, out);
}

/* Gate URL for a kept tracker: /o (pixel), /c (link), /d (deliverability),
 * /a/<token>.gif (anonymous campaign pixel). */
static int gate_url(const struct policy *p, const struct rw_finding *f,
                    enum rw_action act, struct buf *out)
{
    const struct policy_input *in = &p->in;
    struct tok t;

    if (act == RW_A_ANON) {
        tok_for(in, TOK_ANON, &t);
        /* the claims, so the token (tok_seal), are the campaign's, the same
         * for every copy: no recipient, the issue time to the UTC day */
        t.issued = in->now - (in->now % 86400 + 86400) % 86400;
        t.recipient = NULL;
        t.url = (char *)(in->campaign ? in->campaign : "unknown");
        return seal_link(in, &t, out) == 0 ? buf_puts(out, ".gif") : -1;
    }
    if (act == RW_A_DELIV) {
        tok_for(in, TOK_DELIV, &t);
    } else if (f->type == RW_T_PIXEL) {
        tok_for(in, TOK_OPEN, &t);
        t.url = (char *)f->url;
    } else {
        tok_for(in, TOK_CLICK, &t);
        t.url = (char *)f->url;
        t.dest = f->type == RW_T_LINK ? (char *)f->dest : NULL;
    }
    return seal_link(in, &t, out);
}

/* The action for one finding under the summary worked out in prepare. */
static enum rw_action choose(const struct policy *p, const struct rw_finding *f)
{
    const struct cfg_domain *d = p->in.dom;
    int gate = d->gate_kept;
    int never = d->mode == CFG_MODE_NEVER_TRACK;

    switch (f->type) {
    case RW_T_PIXEL:
        if (!never && p->sum.pixels_ok)
            return gate ? RW_A_GATE : RW_A_KEEP;
        if (!never && p->in.mail_class == CFG_CLASS_AUTH)
            return RW_A_KEEP;
        if (!never && p->in.mail_class == CFG_CLASS_TRANSACTIONAL && p->in.recipient &&
            p->in.keys)
            return RW_A_DELIV;
        if (d->no_consent_pixels == CFG_NOPIX_ANONYMOUS && p->in.keys && !never)
            return RW_A_ANON;
        return RW_A_STRIP;
    case RW_T_LINK:
        if (!never && p->sum.clicks_ok)
            return gate && d->clicks == CFG_CLICKS_CONSENT ? RW_A_GATE : RW_A_KEEP;
        return RW_A_UNWRAP;
    case RW_T_OPAQUE:
        if (!never && p->sum.clicks_ok)
            return gate && d->clicks == CFG_CLICKS_CONSENT ? RW_A_GATE : RW_A_KEEP;
        if (d->opaque_links == CFG_OPAQUE_INTERSTITIAL && p->in.keys)
            return RW_A_INTERSTITIAL;
        return RW_A_KEEP;
    case RW_T_PLAIN:
        if ((never || !p->sum.clicks_ok) && f->personal_params > 0)
            return RW_A_CLEAN;
        return RW_A_KEEP;
    default:
        return RW_A_KEEP;
    }
}

static int policy_decide(void *ctx, const struct rw_finding *f, enum rw_action *act,
                         struct buf *repl)
{
    struct policy *p = ctx;
    enum rw_action a = choose(p, f);

    /* Kept trackers need the gate; if a token cannot be made, do not keep. */
    if ((a == RW_A_GATE || a == RW_A_DELIV || a == RW_A_ANON || a == RW_A_INTERSTITIAL) &&
        gate_url(p, f, a, repl) != 0) {
        snprintf(p->err, sizeof p->err, "cannot seal gate token");
        return -1;
    }
    *act = a;
    return 0;
}

/* Append s to b with HTML escaping when html is set. */
static int put_value(struct buf *b, const char *s, int html)
{
    int rc = 0;

    if (!html)
        return buf_puts(b, s);
    for (; *s && rc == 0; s++) {
        switch (*s) {
        case '&':
            rc = buf_puts(b, "&amp;");
            break;
        case '<':
            rc = buf_puts(b, "&lt;");
            break;
        case '>':
            rc = buf_puts(b, "&gt;");
            break;
        case '"':
            rc = buf_puts(b, "&quot;");
            break;
        case '\'':
            rc = buf_puts(b, "&#39;");
            break;
        default:
            rc = buf_putc(b, *s);
            break;
        }
    }
    return rc;
}

/* Expand {withdraw_url} {preferences_url} {controller} in tpl. */
static char *expand(const char *tpl, const char *wurl, const char *purl, const char *ctl,
                    int html)
{
    struct buf b = BUF_INIT(256 * 1024);
    static const char *const names[] = {"{withdraw_url}", "{preferences_url}",
                                        "{controller}"};
    const char *vals[] = {wurl, purl, ctl};
    const char *p = tpl;
    int rc = 0;

    while (*p && rc == 0) {
        size_t i;
        for (i = 0; i < 3; i++)
            if (strncmp(p, names[i], strlen(names[i])) == 0)
                break;
        if (i < 3) {
            rc = put_value(&b, vals[i], html);
            p += strlen(names[i]);
        } else {
            rc = buf_putc(&b, *p++);
        }
    }
    if (rc == 0 && buf_append(&b, "", 0) == 0)
        return buf_steal(&b, NULL);
    buf_free(&b);
    return NULL;
}

static int make_footers(struct policy *p)
{
    const struct policy_input *in = &p->in;
    const struct cfg_domain *d = in->dom;
    struct buf w = BUF_INIT(8192), pr = BUF_INIT(8192);
    int rc = -1, tracked, request;

    tracked = consent_based(p) && d->mode != CFG_MODE_NEVER_TRACK;
    request = d->consent_request_link && d->mode != CFG_MODE_NEVER_TRACK;
    if (in->recipient == NULL || in->keys == NULL || (!tracked && !request))
        return 0; /* no per-recipient link can be made, or none wanted */
    if (policy_link(in, TOK_WITHDRAW, &w) != 0 || policy_link(in, TOK_PREFS, &pr) != 0)
        goto out;
    if (tracked) {
        p->footer_html =
            expand(d->footer_html_tpl, buf_cstr(&w), buf_cstr(&pr), in->controller, 1);
        p->footer_text =
            expand(d->footer_text_tpl, buf_cstr(&w), buf_cstr(&pr), in->controller, 0);
        if (!p->footer_html || !p->footer_text)
            goto out;
    }
    if (request) {
        p->footer_html_u =
            expand(d->request_html_tpl, buf_cstr(&w), buf_cstr(&pr), in->controller, 1);
        p->footer_text_u =
            expand(d->request_text_tpl, buf_cstr(&w), buf_cstr(&pr), in->controller, 0);
        if (!p->footer_html_u || !p->footer_text_u)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        snprintf(p->err, sizeof p->err, "cannot build footer links");
    buf_free(&w);
    buf_free(&pr);
    return rc;
}

static void summarise(struct policy *p)
{
    const struct policy_input *in = &p->in;
    const struct cfg_domain *d = in->dom;
    /* A kept tracker needs the per-recipient withdrawal link (and, with
     * gate_kept, the gate): both need the keys, even with gate_kept = no. */
    int can_keep = in->recipient != NULL && in->keys != NULL;
    uint32_t pm = d->pixel_purposes;
    uint32_t cm = 1u << STORE_P_CLICKS;

    p->sum.pixels_ok = can_keep && pm && (in->granted & pm) == pm;
    p->sum.clicks_ok =
        d->clicks == CFG_CLICKS_FREE || (can_keep && (in->granted & cm) == cm);
    switch (d->mode) {
    case CFG_MODE_OFF:
        p->sum.decision = "off";
        break;
    case CFG_MODE_MONITOR:
        p->sum.decision = "monitor";
        break;
    case CFG_MODE_NEVER_TRACK:
        p->sum.decision = "never-track";
        break;
    default:
        if (in->recipient == NULL)
            p->sum.decision = "strictest";
        else
            p->sum.decision = consent_based(p) ? "consent" : "no-consent";
    }
}

int policy_prepare(const struct policy_input *in, struct policy *p,
                   struct rw_request *req)
{
    memset(p, 0, sizeof *p);
    memset(req, 0, sizeof *req);
    p->in = *in;
    if (p->in.now == 0)
        p->in.now = (int64_t)time(NULL);
    if (in->cfg == NULL || in->dom == NULL || in->controller == NULL ||
        in->rules == NULL) {
        snprintf(p->err, sizeof p->err, "policy: missing configuration");
        return -1;
    }
    summarise(p);
    req->rules = in->rules;
    req->limits = in->limits;
    req->recipient = in->recipient;
    if (in->dom->mode == CFG_MODE_OFF)
        return 0; /* decide NULL: report only, keep everything */
    if (make_footers(p) != 0)
        return -1;
    req->decide = policy_decide;
    req->decide_ctx = p;
    req->dry_run = in->dom->mode == CFG_MODE_MONITOR;
    /* per-finding items cost memory per finding (SPEC §7): the milter
     * logs counts only; consent-rewrite --report streams them */
    req->items = RW_ITEMS_NONE;
    req->footer_html = p->footer_html;
    req->footer_text = p->footer_text;
    req->footer_html_untracked = p->footer_html_u;
    req->footer_text_untracked = p->footer_text_u;
    return 0;
}

void policy_free(struct policy *p)
{
    if (p == NULL)
        return;
    free(p->footer_html);
    free(p->footer_text);
    free(p->footer_html_u);
    free(p->footer_text_u);
    p->footer_html = p->footer_text = p->footer_html_u = p->footer_text_u = NULL;
}
