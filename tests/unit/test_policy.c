/* Unit tests for policy/policy: the SPEC §4.4 decision table, gate URLs
 * carrying the right sealed claims, footers per consent state. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cfg.h"
#include "policy/policy.h"
#include "common/tok.h"
#include "store/store.h"

#define KEYS "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define OPENS (1u << STORE_P_OPENS)
#define CLICKS (1u << STORE_P_CLICKS)

static struct cfg *cfg;
static struct tok_keys *keys;
static struct rw_rules *fake_rules = (struct rw_rules *)&fake_rules; /* never dereferenced */

static void load(const char *domain_conf)
{
    char err[256] = "", text[2048], dir[512];
    const char *src = getenv("CM_SRCDIR");
    snprintf(dir, sizeof dir, "%s/conf", src ? src : ".");
    snprintf(text, sizeof text, "[gate]\nurl = https://gate.example\n[domain *]\n%s\n",
             domain_conf);
    cfg = cfg_load_string(text, dir, err, sizeof err);
    cr_assert_not_null(cfg, "%s", err);
    cr_assert_eq(tok_keys_parse(KEYS, strlen(KEYS), &keys, err, sizeof err), TOK_OK, "%s", err);
}

static void unload(void)
{
    cfg_release(cfg);
    tok_keys_free(keys);
}

struct prep {
    struct policy p;
    struct rw_request req;
};

static void prepare(struct prep *pr, const char *rcpt, uint32_t granted, int cls)
{
    struct policy_input in = {0};
    in.cfg = cfg;
    in.dom = cfg_domain_for(cfg, "brand.example");
    in.controller = "brand.example";
    in.mail_class = cls;
    in.rules = fake_rules;
    in.keys = keys;
    in.recipient = rcpt;
    in.granted = granted;
    in.campaign = "spring";
    in.now = 1780000000;
    cr_assert_eq(policy_prepare(&in, &pr->p, &pr->req), 0, "%s", pr->p.err);
}

static enum rw_action decide(struct prep *pr, enum rw_ttype t, unsigned personal,
                             struct buf *repl)
{
    struct rw_finding f = {0};
    enum rw_action a = RW_A_MAX;
    f.type = t;
    f.place = t == RW_T_PIXEL ? RW_P_IMG : RW_P_A;
    f.url = "https://t.vendor.example/x?id=1";
    f.dest = t == RW_T_LINK ? "https://shop.example/item" : NULL;
    f.personal_params = personal;
    buf_reset(repl);
    cr_assert_not_null(pr->req.decide);
    cr_assert_eq(pr->req.decide(pr->req.decide_ctx, &f, &a, repl), 0);
    return a;
}

/* Open the token at the end of a gate URL and check kind and claims. */
static void check_token(const char *url, int kind, const char *want_url, const char *want_dest)
{
    char prefix[64];
    struct tok t;
    snprintf(prefix, sizeof prefix, "https://gate.example/%c/", kind);
    cr_assert(strncmp(url, prefix, strlen(prefix)) == 0, "got %s", url);
    const char *tk = url + strlen(prefix);
    size_t n = strcspn(tk, ".");
    cr_assert_eq(tok_open(keys, kind, tk, n, &t), TOK_OK, "token of %s", url);
    cr_assert_str_eq(t.controller, "brand.example");
    /* the sending domain's section, whose rules the gate applies */
    unsigned char dom[TOK_DOMAIN_ID];
    tok_domain_id(cfg_domain_for(cfg, "brand.example")->name, dom);
    cr_assert(t.has_domain, "token of %s names no domain", url);
    cr_assert_arr_eq(t.domain, dom, sizeof dom);
    if (kind != TOK_ANON)
        cr_assert_str_eq(t.recipient, "a@example.org");
    if (want_url)
        cr_assert_str_eq(t.url, want_url);
    if (want_dest)
        cr_assert_str_eq(t.dest, want_dest);
    else if (kind == TOK_CLICK)
        cr_assert_null(t.dest);
    tok_clear(&t);
}

Test(policy, consenting_recipient_gets_gated_trackers_and_withdraw_footer, .init = NULL)
{
    struct prep pr;
    struct buf repl = BUF_INIT(0);
    load("");
    prepare(&pr, "a@example.org", OPENS | CLICKS, CFG_CLASS_MARKETING);
    cr_assert_str_eq(pr.p.sum.decision, "consent");
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_GATE);
    check_token(buf_cstr(&repl), TOK_OPEN, "https://t.vendor.example/x?id=1", NULL);
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_GATE);
    check_token(buf_cstr(&repl), TOK_CLICK, "https://t.vendor.example/x?id=1",
                "https://shop.example/item");
    cr_assert_eq(decide(&pr, RW_T_OPAQUE, 0, &repl), RW_A_GATE);
    check_token(buf_cstr(&repl), TOK_CLICK, NULL, NULL);
    cr_assert_eq(decide(&pr, RW_T_PLAIN, 2, &repl), RW_A_KEEP, "consent: params stay");
    cr_assert_eq(decide(&pr, RW_T_PROTECTED, 0, &repl), RW_A_KEEP);
    cr_assert_not_null(pr.req.footer_html);
    const char *w = strstr(pr.req.footer_html, "https://gate.example/w/");
    cr_assert_not_null(w, "footer: %s", pr.req.footer_html);
    cr_assert_not_null(strstr(pr.req.footer_text, "https://gate.example/w/"));
    cr_assert_null(pr.req.footer_html_untracked, "request link off by default");
    cr_assert_eq(pr.req.dry_run, 0);
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, non_consenting_recipient_stripped_unwrapped_cleaned_no_footer)
{
    struct prep pr;
    struct buf repl = BUF_INIT(0);
    load("");
    prepare(&pr, "a@example.org", 0, CFG_CLASS_MARKETING);
    cr_assert_str_eq(pr.p.sum.decision, "no-consent");
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP);
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_UNWRAP);
    cr_assert_eq(decide(&pr, RW_T_OPAQUE, 0, &repl), RW_A_KEEP, "opaque_links = keep");
    cr_assert_eq(decide(&pr, RW_T_PLAIN, 1, &repl), RW_A_CLEAN);
    cr_assert_eq(decide(&pr, RW_T_PLAIN, 0, &repl), RW_A_KEEP);
    cr_assert_null(pr.req.footer_html);
    cr_assert_null(pr.req.footer_html_untracked);
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, partial_consent_needs_every_pixel_purpose)
{
    struct prep pr;
    struct buf repl = BUF_INIT(0);
    load("pixel_purposes = opens,profiling");
    prepare(&pr, "a@example.org", OPENS | CLICKS, CFG_CLASS_MARKETING);
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP, "profiling not granted");
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_GATE, "clicks granted");
    cr_assert_not_null(pr.req.footer_html, "a kept link still needs the withdrawal link");
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, classes_anonymous_and_interstitial)
{
    struct prep pr;
    struct buf repl = BUF_INIT(0);
    load("no_consent_pixels = anonymous\nopaque_links = interstitial\nconsent_request_link = yes");
    prepare(&pr, "a@example.org", 0, CFG_CLASS_TRANSACTIONAL);
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_DELIV);
    check_token(buf_cstr(&repl), TOK_DELIV, NULL, NULL);
    cr_assert_eq(decide(&pr, RW_T_OPAQUE, 0, &repl), RW_A_INTERSTITIAL);
    check_token(buf_cstr(&repl), TOK_CLICK, "https://t.vendor.example/x?id=1", NULL);
    cr_assert_not_null(pr.req.footer_html_untracked, "request link configured");
    cr_assert_not_null(strstr(pr.req.footer_html_untracked, "https://gate.example/p/"));
    policy_free(&pr.p);
    prepare(&pr, "a@example.org", 0, CFG_CLASS_AUTH);
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_KEEP, "auth pixels stay as they are");
    policy_free(&pr.p);
    prepare(&pr, "a@example.org", 0, CFG_CLASS_MARKETING);
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_ANON);
    const char *u = buf_cstr(&repl);
    cr_assert(strlen(u) > 4 && strcmp(u + strlen(u) - 4, ".gif") == 0, "got %s", u);
    struct tok t;
    const char *tk = u + strlen("https://gate.example/a/");
    cr_assert_eq(tok_open(keys, TOK_ANON, tk, strlen(tk) - 4, &t), TOK_OK);
    cr_assert_null(t.recipient, "anonymous pixel carries no recipient");
    cr_assert_str_eq(t.url, "spring");
    tok_clear(&t);
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, several_recipients_strictest_no_footer)
{
    struct prep pr;
    struct buf repl = BUF_INIT(0);
    load("consent_request_link = yes");
    prepare(&pr, NULL, 0, CFG_CLASS_TRANSACTIONAL);
    cr_assert_str_eq(pr.p.sum.decision, "strictest");
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP, "no per-recipient pixel");
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_UNWRAP);
    cr_assert_null(pr.req.footer_html);
    cr_assert_null(pr.req.footer_html_untracked);
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, modes_never_track_monitor_off)
{
    struct prep pr;
    struct buf repl = BUF_INIT(0);
    load("mode = never-track");
    prepare(&pr, "a@example.org", OPENS | CLICKS, CFG_CLASS_AUTH);
    cr_assert_str_eq(pr.p.sum.decision, "never-track");
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP, "even consent and auth");
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_UNWRAP);
    cr_assert_eq(decide(&pr, RW_T_PLAIN, 1, &repl), RW_A_CLEAN);
    cr_assert_null(pr.req.footer_html);
    policy_free(&pr.p);
    unload();
    load("mode = monitor");
    prepare(&pr, "a@example.org", 0, CFG_CLASS_MARKETING);
    cr_assert_eq(pr.req.dry_run, 1);
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP, "monitor reports enforce");
    policy_free(&pr.p);
    unload();
    load("mode = off");
    prepare(&pr, "a@example.org", 0, CFG_CLASS_MARKETING);
    cr_assert_null(pr.req.decide, "off: nothing decided");
    cr_assert_str_eq(pr.p.sum.decision, "off");
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, without_keys_nothing_is_kept_ungated)
{
    struct prep pr;
    struct policy_input in = {0};
    struct buf repl = BUF_INIT(0);
    load("");
    in.cfg = cfg;
    in.dom = &cfg->domains[0];
    in.controller = "brand.example";
    in.rules = fake_rules;
    in.recipient = "a@example.org";
    in.granted = OPENS | CLICKS;
    cr_assert_eq(policy_prepare(&in, &pr.p, &pr.req), 0);
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP);
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_UNWRAP);
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}

Test(policy, footer_values_are_html_escaped)
{
    struct prep pr;
    struct policy_input in = {0};
    load("");
    in.cfg = cfg;
    in.dom = &cfg->domains[0];
    in.controller = "a<b>&c";
    in.rules = fake_rules;
    in.keys = keys;
    in.recipient = "a@example.org";
    in.granted = OPENS | CLICKS;
    cr_assert_eq(policy_prepare(&in, &pr.p, &pr.req), 0);
    cr_assert_not_null(strstr(pr.req.footer_html, "a&lt;b&gt;&amp;c"), "%s", pr.req.footer_html);
    cr_assert_not_null(strstr(pr.req.footer_text, "a<b>&c"), "text stays raw");
    policy_free(&pr.p);
    unload();
}

/* gate_kept = no keeps trackers ungated, but every mail that keeps one must
 * still carry the withdrawal link (SPEC §1, §4.4), and that link needs the
 * keys: without keys nothing may be kept, even ungated. */
Test(policy, without_keys_gate_kept_no_keeps_nothing_footerless)
{
    struct prep pr;
    struct policy_input in = {0};
    struct buf repl = BUF_INIT(0);
    load("gate_kept = no");
    in.cfg = cfg;
    in.dom = &cfg->domains[0];
    in.controller = "brand.example";
    in.rules = fake_rules;
    in.recipient = "a@example.org";
    in.granted = ~0u;
    cr_assert_eq(policy_prepare(&in, &pr.p, &pr.req), 0);
    cr_assert_null(pr.req.footer_html, "no withdrawal footer can be made without keys");
    cr_assert_eq(decide(&pr, RW_T_PIXEL, 0, &repl), RW_A_STRIP,
                 "a pixel kept without a withdrawal link");
    cr_assert_eq(decide(&pr, RW_T_LINK, 0, &repl), RW_A_UNWRAP,
                 "a tracked link kept without a withdrawal link");
    cr_assert_str_eq(pr.p.sum.decision, "no-consent");
    policy_free(&pr.p);
    buf_free(&repl);
    unload();
}
