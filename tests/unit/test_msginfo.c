/* Unit tests for policy/msginfo: header splitting, sending domain and
 * section, class rules (auth before transactional, header and sender
 * globs), campaign ids. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cfg.h"
#include "policy/msginfo.h"

static struct cfg *load(void)
{
    char err[256] = "", dir[512];
    const char *src = getenv("CM_SRCDIR");
    struct cfg *c;
    snprintf(dir, sizeof dir, "%s/conf", src ? src : ".");
    c = cfg_load_string("[domain *]\nauth = header:X-Mail-Class: auth\n"
                        "transactional = header:X-Mail-Class: trans*;sender:bills@*\n"
                        "[domain brand.example]\ncontroller = brand-group\n",
                        dir, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    return c;
}

static void derive(struct cfg *c, const char *msg, const char *sender, struct msginfo *mi)
{
    struct msginfo_hdr *h;
    size_t n;
    cr_assert_eq(msginfo_parse_headers(msg, strlen(msg), 100, &h, &n), 0);
    msginfo_derive(c, h, n, sender, mi);
    msginfo_headers_free(h, n);
}

Test(msginfo, parse_headers_unfolds_nothing_and_stops_at_blank_line)
{
    const char *m = "From: A <a@x.example>\r\nSubject: one\r\n two\r\nX-Empty:\r\n\r\n"
                    "Body: not a header\r\n";
    struct msginfo_hdr *h;
    size_t n;
    cr_assert_eq(msginfo_parse_headers(m, strlen(m), 100, &h, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(h[0].name, "From");
    cr_assert_str_eq(h[0].value, "A <a@x.example>");
    cr_assert_str_eq(h[1].value, "one\r\n two", "folding kept");
    cr_assert_str_eq(h[2].value, "");
    cr_assert_str_eq(msginfo_header(h, n, "subject"), "one\r\n two");
    cr_assert_null(msginfo_header(h, n, "Body"));
    msginfo_headers_free(h, n);
    cr_assert_eq(msginfo_parse_headers(m, strlen(m), 2, &h, &n), -1,
                 "over the field limit");
}

Test(msginfo, domain_section_controller)
{
    struct cfg *c = load();
    struct msginfo mi;
    derive(c, "From: \"x@evil.example\" <news@News.Brand.Example>\n\n", "s@other.example",
           &mi);
    cr_assert_str_eq(mi.domain, "news.brand.example");
    cr_assert_str_eq(mi.dom->name, "brand.example", "parent section");
    cr_assert_str_eq(mi.controller, "brand-group");
    derive(c, "Subject: no from\n\n", "s@Other.Example", &mi);
    cr_assert_str_eq(mi.domain, "other.example", "falls back to the envelope sender");
    cr_assert_str_eq(mi.controller, "other.example",
                     "[domain *] controller is the domain");
    derive(c, "Subject: nothing\n\n", NULL, &mi);
    cr_assert_str_eq(mi.domain, "*");
    cfg_release(c);
}

Test(msginfo, class_rules_auth_first_then_transactional)
{
    struct cfg *c = load();
    struct msginfo mi;
    derive(c, "From: a@x.example\nX-Mail-Class: Transactional\n\n", "n@x.example", &mi);
    cr_assert_eq(mi.mail_class, CFG_CLASS_TRANSACTIONAL);
    cr_assert_str_eq(mi.class_rule, "header:X-Mail-Class: trans*");
    derive(c, "From: a@x.example\nX-Mail-Class: trans\nX-Mail-Class: auth\n\n", NULL,
           &mi);
    cr_assert_eq(mi.mail_class, CFG_CLASS_AUTH, "auth rules are tried first");
    derive(c, "From: a@x.example\n\n", "bills@x.example", &mi);
    cr_assert_eq(mi.mail_class, CFG_CLASS_TRANSACTIONAL);
    cr_assert_str_eq(mi.class_rule, "sender:bills@*");
    derive(c, "From: a@x.example\nX-Mail-Class: newsletter\n\n", "n@x.example", &mi);
    cr_assert_eq(mi.mail_class, CFG_CLASS_MARKETING);
    cr_assert_str_eq(mi.class_rule, "default");
    cfg_release(c);
}

Test(msginfo, campaign_same_for_every_recipient_and_not_personal)
{
    struct cfg *c = load();
    struct msginfo a, b, d;
    derive(c, "From: n@x.example\nTo: one@r.example\nList-Id: <spring.x.example>\n\n",
           NULL, &a);
    derive(c, "From: n@x.example\nTo: two@r.example\nList-Id: <spring.x.example>\n\n",
           NULL, &b);
    derive(c, "From: n@x.example\nList-Id: <autumn.x.example>\n\n", NULL, &d);
    cr_assert_str_eq(a.campaign, b.campaign, "To: does not enter the campaign id");
    cr_assert_str_neq(a.campaign, d.campaign);
    cr_assert_eq(strlen(a.campaign), 32);
    cr_assert_null(strstr(a.campaign, "spring"));
    cfg_release(c);
}

/* ESPs give every recipient's copy its own Message-ID (and may personalise
 * the Subject): the anonymous pixel's campaign id must not follow either,
 * or the "anonymous" per-campaign counter counts one person's opens. */
Test(msginfo, campaign_not_per_message_without_list_id)
{
    struct cfg *c = load();
    struct msginfo a, b, d;
    derive(c, "From: n@x.example\nMessage-ID: <1.alice@x.example>\nSubject: Alice, 20% off\n\n",
           NULL, &a);
    derive(c, "From: n@x.example\nMessage-ID: <2.bob@x.example>\nSubject: Bob, 20% off\n\n",
           NULL, &b);
    derive(c, "From: n@y.example\nMessage-ID: <3.bob@y.example>\n\n", NULL, &d);
    cr_assert_str_eq(a.campaign, b.campaign,
                     "Message-ID and Subject must not make the campaign id personal");
    cr_assert_str_neq(a.campaign, d.campaign, "still one campaign id per sending domain");
    cfg_release(c);
}
