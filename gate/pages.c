/* pages - the withdrawal page (/w) and the consent page (/p) of
 * consent-gate (SPEC §6.2), in every language of the page set (tpl.h).
 *
 * GET shows a page and changes nothing. POST (CSRF-checked, see form.c)
 * records one ledger event per action through store_record and answers
 * with a receipt.
 *
 * Notice versions (issue 12). What a person reads before choosing is a
 * notice; its version is the SHA-256 of the templates the page is made
 * from, never of the rendered page (which holds the masked address, so
 * two people shown the same text would get different hashes, and which
 * is personal data). The consent page's notice is consent.html,
 * notice.html and purposes.txt of its language; the withdrawal page's is
 * withdraw.html. Their texts, as loaded, are framed into one document
 * ("==> LANG/FILE (N bytes) <==" before each), hashed, and named
 * page-consent-LANG-<12 hex> / page-withdraw-LANG-<12 hex>: editing a
 * template and reloading makes a new version, nobody bumps an id. The
 * document goes with the event to store_record, which keeps it in the
 * notices database in the same transaction, so every event names a
 * version the store can print (consentctl notice show). The rendered page
 * is the document plus the event's controller, recipient (masked) and
 * purposes (granted + refused = offered). The hash is shown on the page
 * and carried in the form; if it changed between GET and POST (a reload)
 * the POST is refused and the page shown again, so the version stored is
 * the one the person saw. Mail footers are not notices here: no choice
 * is made in the mail, the footer only links to these pages. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "gate/gate.h"

#define PAGE_MAX (1 << 20)
#define NPURPOSES 4 /* offered on the page: opens clicks profiling fraud */

struct page_ctx {
    struct gate_req *r;
    struct tok t;
    const struct cfg_domain *dom;
    struct gate_policy pol; /* the token's own domain section's */
    int lang;
    char masked[STORE_ADDR_MAX + 8];
    char csrf[TOK_MAC_HEX];
};

static enum MHD_Result fail(struct gate_req *r, unsigned status, int outcome,
                            const char *msg)
{
    return gate_send(r, status, "text/plain; charset=utf-8", msg, strlen(msg), outcome);
}

static enum MHD_Result send_page(struct page_ctx *pc, int id,
                                 const struct gate_tpl_var *v, size_t n, unsigned status,
                                 int outcome)
{
    struct buf page = BUF_INIT(PAGE_MAX);
    enum MHD_Result ret;

    if (gate_tpl_page(gate_pages(pc->r), pc->lang, id, v, n, &page) != 0)
        ret = fail(pc->r, MHD_HTTP_INTERNAL_SERVER_ERROR, GATE_OUT_ERROR, "page error\n");
    else
        ret = gate_send_html(pc->r, status, &page, outcome);
    buf_free(&page);
    return ret;
}

/* Opens the token, checks the method's preconditions. Returns 0 or -1
 * with the answer already queued in *ret. */
static int page_begin(struct page_ctx *pc, struct gate_req *r, int kind,
                      enum MHD_Result *ret)
{
    char field[TOK_MAC_HEX + 8];

    memset(pc, 0, sizeof *pc);
    pc->r = r;
    if (gate_open_token(r, kind, &pc->t) != TOK_OK) {
        *ret = gate_send_404(r, GATE_OUT_BAD_TOKEN);
        return -1;
    }
    gate_policy_of(r->snap->cfg, &pc->t, &pc->pol);
    pc->dom = pc->pol.dom;
    pc->lang = gate_tpl_lang_index(gate_pages(r), gate_pick_lang(r, pc->dom));
    gate_mask_address(pc->t.recipient, pc->masked, sizeof pc->masked);
    if (gate_csrf_make(r, kind, pc->csrf) != TOK_OK) {
        *ret = fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, GATE_OUT_ERROR, "error\n");
        return -1;
    }
    if (r->body == NULL)
        return 0;
    if (gate_form_get(r, "csrf", 0, field, sizeof field) < 0 ||
        !gate_csrf_ok(r, kind, field)) {
        *ret = fail(r, MHD_HTTP_FORBIDDEN, GATE_OUT_FORBIDDEN,
                    "Forbidden: this form must be sent from the page that shows it.\n");
        return -1;
    }
    return 0;
}

/* ---- notice versions -------------------------------------------------- */

struct notice {
    struct buf html; /* the consent page's notice block, rendered */
    struct buf src;  /* the version: framed template texts */
    char id[64];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    unsigned char sha[crypto_hash_sha256_BYTES];
    char source[STORE_NOTICE_SOURCE_MAX + 1];
};

static const char *gate_tpl_file(int id)
{
    switch (id) {
    case GATE_TPL_CONSENT:
        return "consent.html";
    case GATE_TPL_NOTICE:
        return "notice.html";
    case GATE_TPL_PURPOSES:
        return "purposes.txt";
    default:
        return "withdraw.html";
    }
}

/* The version of page `what` (consent, withdraw) made of templates ids. */
static int notice_version(const struct page_ctx *pc, const char *what, const int *ids,
                          size_t nids, struct notice *n)
{
    const char *lang = gate_tpl_lang_code(gate_pages(pc->r), pc->lang);
    char prefix[32];
    int rc = 0;

    buf_init(&n->src, PAGE_MAX);
    for (size_t i = 0; i < nids && rc == 0; i++) {
        const char *title = gate_tpl_title(gate_pages(pc->r), pc->lang, ids[i]),
                   *body = gate_tpl_body(gate_pages(pc->r), pc->lang, ids[i]);
        size_t len = (*title ? strlen(title) + 1 : 0) + strlen(body);
        rc = buf_printf(&n->src, "==> %s/%s (%zu bytes) <==\n%s%s%s\n", lang,
                        gate_tpl_file(ids[i]), len, title, *title ? "\n" : "", body);
    }
    if (rc != 0)
        return rc;
    crypto_hash_sha256(n->sha, (const unsigned char *)n->src.data, n->src.len);
    sodium_bin2hex(n->hex, sizeof n->hex, n->sha, sizeof n->sha);
    snprintf(prefix, sizeof prefix, "page-%s-%s", what, lang);
    store_notice_id(prefix, n->sha, n->id, sizeof n->id);
    snprintf(n->source, sizeof n->source, "consent-gate %s/%s", pc->r->g->pages_dir, lang);
    return 0;
}

static void notice_free(struct notice *n)
{
    buf_free(&n->html);
    buf_free(&n->src);
}

/* The event names the version and carries its text to the store. */
static void notice_attach(struct store_event *ev, const struct notice *n)
{
    ev->notice_id = n->id;
    memcpy(ev->notice_sha256, n->sha, sizeof ev->notice_sha256);
    ev->notice_text = n->src.data;
    ev->notice_len = n->src.len;
    ev->notice_source = n->source;
}

static void fill_event(struct page_ctx *pc, struct store_event *ev, int action,
                       uint32_t mask, char *ip, size_t iplen)
{
    memset(ev, 0, sizeof *ev);
    ev->controller = pc->t.controller;
    ev->recipient = pc->t.recipient;
    ev->action = action;
    ev->purposes = mask;
    ev->method = action == STORE_A_WITHDRAW ? "withdraw-link" : "consent-page";
    ev->actor = "gate";
    if (pc->pol.store_source) {
        gate_client_ip(pc->r, ip, iplen);
        ev->source_ip = ip;
        ev->user_agent = gate_header(pc->r, "User-Agent");
    }
}

static void fmt_time(int64_t t, char *out, size_t outlen)
{
    time_t tt = (time_t)(t ? t : time(NULL));
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- /w ------------------------------------------------------------- */

static enum MHD_Result withdraw_post(struct page_ctx *pc)
{
    struct store_event ev;
    char ip[64], date[32];
    int rc;

    static const int ids[] = {GATE_TPL_WITHDRAW};
    struct notice n = {.html = BUF_INIT(0)};

    fill_event(pc, &ev, STORE_A_WITHDRAW, 0, ip, sizeof ip);
    rc = notice_version(pc, "withdraw", ids, 1, &n);
    if (rc == 0)
        notice_attach(&ev, &n);
    rc = rc == 0 ? gate_record(pc->r->g, &ev) : STORE_ENOMEM;
    notice_free(&n);
    if (rc == GATE_REC_QUEUED) /* counts now; the primary gets it when back */
        rc = STORE_OK;
    if (rc != STORE_OK) {
        log_err("withdrawal not recorded: %s", store_strerror(rc));
        return fail(pc->r, MHD_HTTP_SERVICE_UNAVAILABLE, GATE_OUT_ERROR,
                    "The withdrawal could not be recorded; please try again later.\n");
    }
    /* "Done" only if nothing is granted any more: the receipt is a promise
     * that /o and /c stop tracking. */
    if (!ev.applied) {
        log_err("withdrawal %s recorded but some purpose is still granted", ev.id);
        return fail(pc->r, MHD_HTTP_INTERNAL_SERVER_ERROR, GATE_OUT_ERROR,
                    "The withdrawal was recorded but tracking is not stopped yet; "
                    "please contact the sender.\n");
    }
    gate_count_consent(pc->r->g, GATE_CTR_WITHDRAWN, 1);
    fmt_time(ev.time, date, sizeof date);
    struct gate_tpl_var v[] = {{"controller", pc->t.controller},
                               {"address", pc->masked},
                               {"date", date},
                               {"event", ev.id}};
    return send_page(pc, GATE_TPL_WITHDRAW_DONE, v, 4, MHD_HTTP_OK, GATE_OUT_RECORDED);
}

enum MHD_Result gate_withdraw(struct gate_req *r)
{
    struct page_ctx pc;
    enum MHD_Result ret;

    if (page_begin(&pc, r, TOK_WITHDRAW, &ret) != 0)
        goto out;
    if (r->body) {
        ret = withdraw_post(&pc);
    } else {
        struct gate_tpl_var v[] = {
            {"controller", pc.t.controller}, {"address", pc.masked}, {"csrf", pc.csrf}};
        ret = send_page(&pc, GATE_TPL_WITHDRAW, v, 3, MHD_HTTP_OK, GATE_OUT_PAGE);
    }
out:
    tok_clear(&pc.t);
    return ret;
}

/* ---- /p ------------------------------------------------------------- */

/* The text of key in purposes.txt ("key = value"), or NULL. */
static const char *text_get(const struct page_ctx *pc, const char *key, size_t *len)
{
    const char *p = gate_tpl_body(gate_pages(pc->r), pc->lang, GATE_TPL_PURPOSES);
    size_t klen = strlen(key);

    while (p && *p) {
        size_t n = strcspn(p, "\n");
        if (n > klen + 3 && strncmp(p, key, klen) == 0 &&
            strncmp(p + klen, " = ", 3) == 0) {
            *len = n - klen - 3;
            return p + klen + 3;
        }
        p += n + (p[n] == '\n');
    }
    return NULL;
}

/* "Label | description" of a purpose, split. */
static int purpose_text(const struct page_ctx *pc, int idx, struct buf *label,
                        struct buf *desc)
{
    size_t n;
    const char *v = text_get(pc, store_purpose_name(idx), &n), *bar;

    if (v == NULL)
        return buf_puts(label, store_purpose_name(idx));
    bar = memchr(v, '|', n);
    if (bar == NULL)
        return buf_append(label, v, n);
    return buf_append(label, v, (size_t)(bar - v) - (bar > v && bar[-1] == ' ')) ||
           (bar + 2 <= v + n && buf_append(desc, bar + 2, (size_t)(v + n - bar - 2)));
}

/* One fragment per offered purpose: notice list items or checkboxes. */
static int render_purposes(const struct page_ctx *pc, int boxes, struct buf *out)
{
    uint32_t m = pc->pol.offered;
    int rc = 0;

    for (int i = 0; i < NPURPOSES && rc == 0; i++) {
        struct buf label = BUF_INIT(4096), desc = BUF_INIT(4096);
        const char *name = store_purpose_name(i);
        if (!(m >> i & 1))
            continue;
        rc = purpose_text(pc, i, &label, &desc);
        if (rc == 0 && boxes)
            rc = buf_printf(out,
                            "<div class=\"box\"><input type=\"checkbox\" id=\"p-%s\" "
                            "name=\"purpose\" value=\"%s\"><label for=\"p-%s\">",
                            name, name, name) ||
                 gate_tpl_escape(out, buf_cstr(&label)) ||
                 buf_puts(out, "</label></div>\n");
        else if (rc == 0)
            rc = buf_puts(out, "<li><strong>") ||
                 gate_tpl_escape(out, buf_cstr(&label)) ||
                 /* French typography: a no-break space before the colon */
                 buf_puts(out, strcmp(gate_tpl_lang_code(gate_pages(pc->r), pc->lang),
                                      "fr") == 0
                                   ? "</strong>\xc2\xa0: "
                                   : "</strong>: ") ||
                 gate_tpl_escape(out, buf_cstr(&desc)) || buf_puts(out, "</li>\n");
        buf_free(&label);
        buf_free(&desc);
    }
    return rc;
}

static int render_notice(const struct page_ctx *pc, struct notice *n)
{
    static const int ids[] = {GATE_TPL_CONSENT, GATE_TPL_NOTICE, GATE_TPL_PURPOSES};
    struct buf items = BUF_INIT(PAGE_MAX);
    int rc = render_purposes(pc, 0, &items);

    buf_init(&n->html, PAGE_MAX);
    if (rc == 0)
        rc = notice_version(pc, "consent", ids, 3, n);
    else
        buf_init(&n->src, PAGE_MAX);
    if (rc == 0) {
        struct gate_tpl_var v[] = {{"controller", pc->t.controller},
                                   {"address", pc->masked},
                                   {"purposes", buf_cstr(&items)}};
        rc = gate_tpl_render(gate_tpl_body(gate_pages(pc->r), pc->lang, GATE_TPL_NOTICE),
                             v, 3, &n->html);
    }
    buf_free(&items);
    return rc;
}

static enum MHD_Result consent_page(struct page_ctx *pc, const char *error_key,
                                    unsigned status, int outcome)
{
    struct notice n;
    struct buf boxes = BUF_INIT(PAGE_MAX), err = BUF_INIT(4096);
    enum MHD_Result ret;
    size_t elen = 0;
    const char *etext = error_key ? text_get(pc, error_key, &elen) : NULL;

    if (etext) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%.*s",
                 (int)(elen < sizeof tmp ? elen : sizeof tmp - 1), etext);
        buf_puts(&err, "<p class=\"error\" role=\"alert\">");
        gate_tpl_escape(&err, tmp);
        buf_puts(&err, "</p>");
    }
    if (render_notice(pc, &n) != 0 || render_purposes(pc, 1, &boxes) != 0) {
        ret = fail(pc->r, MHD_HTTP_INTERNAL_SERVER_ERROR, GATE_OUT_ERROR, "page error\n");
    } else {
        struct gate_tpl_var v[] = {
            {"controller", pc->t.controller},
            {"address", pc->masked},
            {"csrf", pc->csrf},
            {"notice", buf_cstr(&n.html)},
            {"notice_id", n.id},
            {"notice_hash", n.hex},
            {"boxes", buf_cstr(&boxes)},
            {"error", buf_cstr(&err)},
        };
        ret = send_page(pc, GATE_TPL_CONSENT, v, sizeof v / sizeof v[0], status, outcome);
    }
    notice_free(&n);
    buf_free(&boxes);
    buf_free(&err);
    return ret;
}

/* Labels of the purposes in mask, comma-separated, or the "none" text. */
static void labels(const struct page_ctx *pc, uint32_t mask, struct buf *out)
{
    size_t n;
    const char *none;

    for (int i = 0; i < NPURPOSES; i++) {
        struct buf label = BUF_INIT(4096), desc = BUF_INIT(4096);
        if (!(mask >> i & 1))
            continue;
        purpose_text(pc, i, &label, &desc);
        if (out->len)
            buf_puts(out, ", ");
        buf_puts(out, buf_cstr(&label));
        buf_free(&label);
        buf_free(&desc);
    }
    if (out->len == 0 && (none = text_get(pc, "none", &n)) != NULL)
        buf_append(out, none, n);
}

static int record(struct page_ctx *pc, int action, uint32_t mask, const struct notice *n,
                  struct buf *ids, int64_t *when)
{
    struct store_event ev;
    char ip[64];
    int rc;

    fill_event(pc, &ev, action, mask, ip, sizeof ip);
    notice_attach(&ev, n);
    rc = gate_record(pc->r->g, &ev);
    if (rc == GATE_REC_DOWN)
        return -2;
    if (rc == GATE_REC_QUEUED)
        rc = STORE_OK;
    if (rc != STORE_OK || !ev.applied) {
        log_err("consent %s: %s", rc != STORE_OK ? "not recorded" : "not applied",
                rc != STORE_OK ? store_strerror(rc) : ev.id);
        return -1;
    }
    gate_count_consent(pc->r->g,
                       action == STORE_A_GRANT ? GATE_CTR_GRANTED : GATE_CTR_REFUSED,
                       (unsigned)__builtin_popcount(mask));
    *when = ev.time;
    if (ids->len)
        buf_puts(ids, ", ");
    buf_puts(ids, ev.id);
    return 0;
}

static enum MHD_Result receipt(struct page_ctx *pc, uint32_t granted, uint32_t refused,
                               const struct notice *n)
{
    struct buf ids = BUF_INIT(4096), acc = BUF_INIT(4096), ref = BUF_INIT(4096);
    char date[32];
    int64_t when = 0;
    enum MHD_Result ret;

    int rc = granted ? record(pc, STORE_A_GRANT, granted, n, &ids, &when) : 0;

    if (rc == 0 && refused)
        rc = record(pc, STORE_A_REFUSE, refused, n, &ids, &when);
    if (rc == -2) {
        /* a consent must be provable in the system of record */
        ret = fail(pc->r, MHD_HTTP_SERVICE_UNAVAILABLE, GATE_OUT_ERROR,
                   "The consent service cannot reach its database at the moment, so "
                   "your choice was NOT recorded and nothing changed. Please try again "
                   "in a few minutes.\n");
    } else if (rc != 0) {
        ret = fail(pc->r, MHD_HTTP_SERVICE_UNAVAILABLE, GATE_OUT_ERROR,
                   "Your choice could not be recorded; please try again later.\n");
    } else {
        labels(pc, granted, &acc);
        labels(pc, refused, &ref);
        fmt_time(when, date, sizeof date);
        struct gate_tpl_var v[] = {
            {"controller", pc->t.controller},
            {"jurisdiction", pc->dom->jurisdiction},
            {"address", pc->masked},
            {"accepted", acc.data},
            {"refused", ref.data},
            {"date", date},
            {"notice_id", n->id},
            {"notice_hash", n->hex},
            {"event", ids.data},
        };
        ret = send_page(pc, GATE_TPL_CONSENT_DONE, v, sizeof v / sizeof v[0], MHD_HTTP_OK,
                        GATE_OUT_RECORDED);
    }
    buf_free(&ids);
    buf_free(&acc);
    buf_free(&ref);
    return ret;
}

/* The purposes ticked in the form; -1 if one is unknown or not offered. */
static int64_t ticked(const struct page_ctx *pc)
{
    uint32_t m = 0, off = pc->pol.offered;
    char p[32];

    for (int i = 0; i < 2 * STORE_P_MAX; i++) {
        int idx;
        if (gate_form_get(pc->r, "purpose", i, p, sizeof p) < 0)
            break;
        idx = store_purpose_parse(p);
        if (idx < 0 || idx >= 32 || !(off >> idx & 1))
            return -1;
        m |= 1u << idx;
    }
    return m;
}

static enum MHD_Result prefs_post(struct page_ctx *pc)
{
    char lang[8], action[16], hash[80];
    struct notice n;
    int64_t tick;
    int accept;
    enum MHD_Result ret;

    /* The language of the page the person read, not of this request. */
    if (gate_form_get(pc->r, "lang", 0, lang, sizeof lang) >= 0 &&
        gate_tpl_lang_index(gate_pages(pc->r), lang) >= 0)
        pc->lang = gate_tpl_lang_index(gate_pages(pc->r), lang);
    if (gate_form_get(pc->r, "action", 0, action, sizeof action) < 0 ||
        (strcmp(action, "accept") != 0 && strcmp(action, "refuse") != 0) ||
        (tick = ticked(pc)) < 0)
        return fail(pc->r, MHD_HTTP_BAD_REQUEST, GATE_OUT_BAD_REQUEST, "Bad request.\n");
    accept = strcmp(action, "accept") == 0;
    if (render_notice(pc, &n) != 0) {
        notice_free(&n);
        return fail(pc->r, MHD_HTTP_INTERNAL_SERVER_ERROR, GATE_OUT_ERROR, "page error\n");
    }
    if (gate_form_get(pc->r, "notice", 0, hash, sizeof hash) < 0 ||
        strcmp(hash, n.hex) != 0)
        ret = consent_page(pc, "error.notice", MHD_HTTP_CONFLICT, GATE_OUT_BAD_REQUEST);
    else if (accept && tick == 0)
        ret = consent_page(pc, "error.none", MHD_HTTP_BAD_REQUEST, GATE_OUT_BAD_REQUEST);
    else if (accept)
        ret = receipt(pc, (uint32_t)tick, pc->pol.offered & ~(uint32_t)tick, &n);
    else
        ret = receipt(pc, 0, pc->pol.offered, &n);
    notice_free(&n);
    return ret;
}

enum MHD_Result gate_prefs(struct gate_req *r)
{
    struct page_ctx pc;
    enum MHD_Result ret;

    if (page_begin(&pc, r, TOK_PREFS, &ret) == 0)
        ret = r->body ? prefs_post(&pc)
                      : consent_page(&pc, NULL, MHD_HTTP_OK, GATE_OUT_PAGE);
    tok_clear(&pc.t);
    return ret;
}
