/* Unit tests for the click-wrapper decoders and rw_url_unwrap: one table
 * per decoder with real-looking URLs, nesting, refusal of non-http(s)
 * destinations, and the depth and length limits. */
#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rewriter/rules_int.h"

#include "tests/unit/rules_fixture.h"

TestSuite(unwrap, .init = load_rules, .fini = free_rules);

static struct rw_limits limits(void)
{
    struct rw_limits l = {20, 500, 8u << 20, 256, 64u << 10, 16u << 10, 5};
    return l;
}

struct ucase {
    const char *url;
    const char *want; /* NULL: RW_EINVAL (not decodable) */
};

static void run_table(const char *name, const struct ucase *c, size_t n)
{
    struct rw_limits lim = limits();

    for (size_t i = 0; i < n; i++) {
        char *got = NULL;
        int rc = rw_url_unwrap(rules, &lim, c[i].url, &got);

        if (c[i].want == NULL) {
            cr_expect_eq(rc, RW_EINVAL, "%s[%zu] %s: rc %d got %s, want RW_EINVAL", name,
                         i, c[i].url, rc, got ? got : "(null)");
            cr_expect_null(got);
        } else {
            cr_expect_eq(rc, RW_OK, "%s[%zu] %s: rc %d, want RW_OK", name, i, c[i].url,
                         rc);
            cr_expect(got && strcmp(got, c[i].want) == 0, "%s[%zu]: got %s, want %s",
                      name, i, got ? got : "(null)", c[i].want);
        }
        free(got);
    }
}
#define RUN(name, t) run_table(name, t, sizeof(t) / sizeof(t[0]))

/* Helpers to build encoded wrappers the way the vendors do. */
static char *b64(const char *s, int url, int pad)
{
    gchar *e = g_base64_encode((const guchar *)s, strlen(s));
    char *p;

    for (p = e; *p; p++) {
        if (url && *p == '+')
            *p = '-';
        if (url && *p == '/')
            *p = '_';
        if (!pad && *p == '=')
            *p = '\0';
    }
    return e;
}

static char *pct_all(const char *s)
{
    GString *g = g_string_new(NULL);

    for (; *s; s++) {
        if (g_ascii_isalnum(*s) || strchr(".-_~", *s))
            g_string_append_c(g, *s);
        else
            g_string_append_printf(g, "%%%02X", (unsigned char)*s);
    }
    return g_string_free(g, FALSE);
}

Test(unwrap, ses)
{
    static const struct ucase t[] = {
        {"https://tf0qz4v6.r.us-east-1.awstrack.me/L0/"
         "https:%2F%2Fwww.example.com%2Foffers"
         "%3Fid=42%26mc_eid=9f8e7d%26utm_source=ses/1/"
         "010001890a1b2c3d-7e8f9a0b-1c2d-3e4f-5a6b-"
         "7c8d9e0f1a2b-000000/Xr8z5Ot_HF3r1k0nTXcU8Ht4xQM=332",
         "https://www.example.com/offers?id=42&utm_source=ses"},
        {"https://links.news.example.com/CL0/https:%2F%2Fshop.example.com%2Fsale/1/"
         "0100018a-abcd-000000/AbC=",
         "https://shop.example.com/sale"},
        {"https://x.r.eu-west-1.awstrack.me/L0/https:%2F%2Flinks.example.com%2FCL0%2F"
         "https:%252F%252Fexample.net%252Fa/1/000/x=",
         "https://example.net/a"},
        {"https://x.r.eu-west-1.awstrack.me/L0/"
         "https:%2F%2Feur01.safelinks.protection.outlook"
         ".com%2F%3Furl=https%253A%252F%252Fexample.com%252Fdoc%26data=05%257C01/1/abc/"
         "x=",
         "https://example.com/doc"},
        {"https://x.awstrack.me/L0/javascript:alert(document.cookie)/1/x", NULL},
        {"https://x.awstrack.me/L0/", NULL},
        {"https://x.awstrack.me/L0/data:text%2Fhtml,%3Cscript%3E/1/x", NULL},
    };
    RUN("ses", t);
}

Test(unwrap, postmark)
{
    static const struct ucase t[] = {
        {"https://click.pstmrk.it/3s/www.example.com%2Faccount%3Fref%3Dmail/r8Xy/Zm9v/"
         "bar",
         "https://www.example.com/account?ref=mail"},
        {"https://click.pstmrk.it/2s/example.com%2F/abc123/def456",
         "https://example.com/"},
        {"https://click.pstmrk.it/2ts/example.com%2Fa/abc/def", "https://example.com/a"},
        {"https://click.pstmrk.it/3ts/example.com%2Fb/abc/def", "https://example.com/b"},
        {"http://click.pstmrk.it/2/example.com%2Fc/abc/def", "http://example.com/c"},
        {"http://click.pstmrk.it/3/example.com%2Fd%3F_hsenc%3Dx%26q%3D1/abc",
         "http://example.com/d?q=1"},
        {"https://click.pstmrk.it/4s/example.com%2Fd/abc", NULL},
        {"https://click.pstmrk.it/3s", NULL},
    };
    RUN("postmark", t);
}

Test(unwrap, mandrill)
{
    const char *inner =
        "{\"u\":30363279,\"v\":1,\"url\":\"https:\\/\\/www.example.com\\/offer"
        "?mc_eid=abc&x=1\",\"id\":\"d7c8e1f0a9b84c3d\"}";
    char *p_json, *enc, *url1, *url2, *url3, *bad;

    {
        /* Escape the inner JSON as a JSON string. */
        GString *g = g_string_new("{\"p\":\"");
        for (const char *c = inner; *c; c++) {
            if (*c == '"' || *c == '\\')
                g_string_append_c(g, '\\');
            g_string_append_c(g, *c);
        }
        g_string_append(g, "\",\"s\":\"9a8b7c6d5e\",\"v\":1}");
        p_json = g_string_free(g, FALSE);
    }
    enc = b64(p_json, 0, 1);
    char *penc = pct_all(enc);
    url1 = g_strdup_printf(
        "https://mandrillapp.com/track/click/30363279/www.example.com?p=%s", penc);
    g_free(enc);
    enc = b64(p_json, 1, 0);
    url2 = g_strdup_printf(
        "https://click.mail.example.org/track/click/30363279/www.example.com?p=%s", enc);
    g_free(enc);
    enc = b64("{\"p\":\"{\\\"url\\\":\\\"javascript:alert(1)\\\"}\"}", 1, 0);
    bad = g_strdup_printf("https://mandrillapp.com/track/click/1/x?p=%s", enc);
    url3 = g_strdup("https://mandrillapp.com/track/click/1/x?p=%%%%notbase64");
    {
        const struct ucase t[] = {
            {url1, "https://www.example.com/offer?x=1"},
            {url2, "https://www.example.com/offer?x=1"},
            {bad, NULL},
            {url3, NULL},
        };
        RUN("mandrill", t);
    }
    g_free(enc);
    g_free(penc);
    g_free(p_json);
    g_free(url1);
    g_free(url2);
    g_free(url3);
    g_free(bad);
}

static char *mailgun_url(const char *host, const char *query)
{
    unsigned char z[1024];
    uLongf zl = sizeof(z);
    gchar *e, *u;

    cr_assert_eq(compress2(z, &zl, (const Bytef *)query, strlen(query), 6), Z_OK);
    e = g_base64_encode(z, zl);
    for (char *p = e; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '\0' : *p;
    u = g_strdup_printf("https://%s/c/%s", host, e);
    g_free(e);
    return u;
}

Test(unwrap, mailgun)
{
    char *u1 = mailgun_url("email.mg.example.com",
                           "h=3f0e6f5b2c&l=https%3A%2F%2Fexample.com%2Fpromo%3Fx%3D1%"
                           "26ck_subscriber_id%3D9&r=bob");
    char *u2 = mailgun_url("email.example.org", "l=http%3A%2F%2Fexample.org%2F&h=1");
    char *u3 = mailgun_url("email.example.org", "h=1&r=2");
    char *u4 = mailgun_url("email.example.org", "l=javascript%3Aalert(1)");
    const struct ucase t[] = {
        {u1, "https://example.com/promo?x=1"},
        {u2, "http://example.org/"},
        {u3, NULL},
        {u4, NULL},
        {"https://email.example.org/c/eJzzSM3JyVcozy_KSQEAGKsEPQ",
         NULL}, /* truncated zlib */
        {"https://email.example.org/c/eJ!!", NULL},
    };
    RUN("mailgun", t);
    g_free(u1);
    g_free(u2);
    g_free(u3);
    g_free(u4);
}

Test(unwrap, mailjet)
{
    char *d1 = b64("https://www.example.com/page?x=1&_kx=abc", 1, 0);
    char *d2 = b64("https://www.example.com/page?x=1", 1, 1);
    char *d3 = b64("data:text/html,<script>alert(1)</script>", 1, 0);
    char *u1 = g_strdup_printf(
        "https://xy1z.mjt.lu/lnk/AVAAAFXyz12AAcv6lRQAAAAs_cQAAAAA/1/Ab-cd_ef/%s", d1);
    char *u2 = g_strdup_printf("http://abc.mjt.lu/lnk/BAAAAB/2/xyz/%s/", d2);
    char *u3 = g_strdup_printf("https://xy1z.mjt.lu/lnk/AVAAAF/1/Ab/%s", d3);
    const struct ucase t[] = {
        {u1, "https://www.example.com/page?x=1"},
        {u2, "https://www.example.com/page?x=1"},
        {u3, NULL},
        {"https://xy1z.mjt.lu/lnk/AVAAAF/1/Ab/!!!", NULL},
    };
    RUN("mailjet", t);
    g_free(d1), g_free(d2), g_free(d3), g_free(u1), g_free(u2), g_free(u3);
}

Test(unwrap, customerio)
{
    char *j1 =
        b64("{\"email_id\":\"dgSRiAcBAOqifemifQGJAEA-3HmQFiUsUqQSc_A=\",\"href\":"
            "\"https://www.example.com/release-notes?utm_source=cio\\u0026_cio_id=42\","
            "\"internal\":\"9188\",\"link_id\":24}",
            1, 0);
    char *j2 = b64("{\"email_id\":\"x\",\"href\":\"javascript:alert(1)\"}", 1, 0);
    char *j3 = b64("{\"email_id\":\"x\",\"link_id\":1}", 1, 0);
    char *u1 =
        g_strdup_printf("https://e.customeriomail.com/e/c/%s/07115b1fd7a19811050d", j1);
    char *u2 = g_strdup_printf("https://links.brand.example/e/c/%s/07115b", j1);
    char *u3 = g_strdup_printf("https://e.customeriomail.com/e/c/%s/07115b", j2);
    char *u4 = g_strdup_printf("https://e.customeriomail.com/e/c/%s/07115b", j3);
    const struct ucase t[] = {
        {u1, "https://www.example.com/release-notes?utm_source=cio"},
        {u2, "https://www.example.com/release-notes?utm_source=cio"},
        {u3, NULL},
        {u4, NULL},
        {"https://e.customeriomail.com/e/c/eyJub3QganNvbg/1", NULL},
    };
    RUN("customerio", t);
    g_free(j1), g_free(j2), g_free(j3), g_free(u1), g_free(u2), g_free(u3), g_free(u4);
}

Test(unwrap, activecampaign)
{
    char *d = b64("https://www.example.com/webinar?utm_source=ac&vgo_ee=Ym9i", 0, 1);
    char *pd = pct_all(d);
    char *u1 =
        g_strdup_printf("https://acme.lt.acemlnb.com/Prod/link-tracker?redirectUrl=%s"
                        "&sig=5xYz&iat=1700000000&a=%%7C%%7C25254045%%7C%%7C&account="
                        "acme%%2Eactivehosted%%2Ecom"
                        "&email=Zm9vQGJhci5jb20%%3D&s=abc&i=12A34A5A678",
                        pd);
    char *u2 =
        g_strdup_printf("https://acme.activehosted.com/lt.php?redirectUrl=%s&s=1", d);
    const struct ucase t[] = {
        {u1, "https://www.example.com/webinar?utm_source=ac"},
        {u2, "https://www.example.com/webinar?utm_source=ac"},
        {"https://acme.lt.acemlnb.com/Prod/"
         "link-tracker?redirectUrl=amF2YXNjcmlwdDphbGVydCgxKQ",
         NULL},
        {"https://acme.activehosted.com/"
         "lt.php?s=5a&i=12A3A4A5&l=https%3A%2F%2Fwww.example.com%2Fshop",
         "https://www.example.com/shop"},
    };
    RUN("activecampaign", t);
    g_free(d), g_free(pd), g_free(u1), g_free(u2);
}

Test(unwrap, query_param_wrappers)
{
    static const struct ucase t[] = {
        /* Yesware */
        {"https://t.yesware.com/tt/6a1b3c5d7e9f/8d0f2e4c6a8b/f0e1d2c3b4a5/"
         "c0a1b2c3d4e5?ytl="
         "https%3A%2F%2Fwww.example.com%2Fpricing",
         "https://www.example.com/pricing"},
        {"https://t.yesware.com/tt/6a1b/8d0f?ytl=javascript%3Aalert%281%29", NULL},
        /* iContact */
        {"https://click.icptrack.com/icp/"
         "relay.php?r=123456&msgid=789&act=ABCD&c=1234567&pid=111"
         "&destination=https%3A%2F%2Fwww.example.com%2Fnews%3Fmkt_tok%3Dabc&cf=5",
         "https://www.example.com/news"},
        /* Bananatag */
        {"https://app.bl-1.com/click/load/"
         "VmQBZwQ9AjVXYAEz-b1?url=https%3A%2F%2Fexample.com%2Fdemo",
         "https://example.com/demo"},
        /* Outlook safelinks */
        {"https://nam12.safelinks.protection.outlook.com/"
         "?url=https%3A%2F%2Fgo.microsoft.com%2F"
         "fwlink%2F%3FLinkId%3D521839&data=05%7C02%7Cjohn%40acme.com%7C0f1e2d&sdata="
         "Om8HqQKd"
         "%2BHIJCpl%3D&reserved=0",
         "https://go.microsoft.com/fwlink/?LinkId=521839"},
        {"https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2F&data=1",
         NULL},
        /* a destination decoded one level too far keeps working */
        {"https://t.yesware.com/tt/"
         "6a1b?ytl=https%3A%2F%2Fwww.example.com%2Fmy%20file.pdf",
         "https://www.example.com/my%20file.pdf"},
        {"https://t.yesware.com/tt/6a1b?ytl=https%3A%2F%2Fwww.example.com%2Fa%0D%0Ab",
         NULL},
        /* Mailtrack */
        {"https://mailtrack.io/trace/link/"
         "0a1b2c3d4e5f?url=https%3A%2F%2Fexample.com%2Fx&userId=1",
         "https://example.com/x"},
        /* Google redirector */
        {"https://www.google.com/url?q=https://example.com/"
         "doc?id%3D1&sa=D&source=editors",
         "https://example.com/doc?id=1"},
    };
    RUN("param", t);
}

Test(unwrap, streak_and_generic)
{
    static const struct ucase t[] = {
        {"https://886132a5.streaklinks.com/CPdoc00YmJqhv9T9EwVgiZiS/"
         "https%3A%2F%2Fwww.example.com"
         "%2Fcase-study%23top",
         "https://www.example.com/case-study#top"},
        {"https://streaklinks.com/BwzrK3H4eEskKtBC8QNf_o6X/"
         "https%3A%2F%2Fcal.example.com%2Fchat"
         "?ref=mail&mc_eid=7",
         "https://cal.example.com/chat?ref=mail"},
        {"https://streaklinks.com/B7LF/"
         "https%3A%2F%2Fwww.example.com%2Fp%3Forigin%3Dweb?x=1",
         "https://www.example.com/p?origin=web"},
        {"https://streaklinks.com/AbC/https://www.example.com/x?y=1&mc_cid=2",
         "https://www.example.com/x?y=1"},
        {"https://streaklinks.com/AbC/nothing-here", NULL},
        /* home-grown trackers caught by the /redirect and /click catch-alls */
        {"https://news.shop.example/"
         "click?id=5&url=https%3A%2F%2Fshop.example%2Fp%3F_ke%3Dx",
         "https://shop.example/p"},
        {"https://t.shop.example/e/redirect/5?to=https://shop.example/q",
         "https://shop.example/q"},
        {"https://links.mixmax.com/ABC123?redirect=https%3A%2F%2Fwww.example.com%2Fmeet",
         "https://www.example.com/meet"},
        {"https://links.mixmax.com/ABC123?a=1&b=ftp%3A%2F%2Fx", NULL},
    };
    RUN("streak+generic", t);
}

Test(unwrap, not_wrappers_and_opaque_are_einval)
{
    static const struct ucase t[] = {
        {"https://us14.list-manage.com/track/click?u=3f2193&id=9bc957&e=042ea43672",
         NULL},
        {"https://u123.ct.sendgrid.net/ls/click?upn=abcDEF-2BxyZ", NULL},
        {"https://www.example.com/page?next=https%3A%2F%2Fother.example%2F", NULL},
        {"mailto:bob@example.com", NULL},
        {"", NULL},
        /* Decodable wrapper around an opaque one: still not decodable. */
        {"https://eur01.safelinks.protection.outlook.com/"
         "?url=https%3A%2F%2Fus14.list-manage.com"
         "%2Ftrack%2Fclick%3Fu%3D1%26id%3D2&data=1",
         NULL},
    };
    RUN("opaque", t);
}

static char *nest_cl0(const char *dest, int layers)
{
    char *cur = g_strdup(dest);

    for (int i = 0; i < layers; i++) {
        char *enc = pct_all(cur);
        char *next =
            g_strdup_printf("https://t%d.example.com/CL0/%s/1/0100-%d/sig=", i, enc, i);

        g_free(enc);
        g_free(cur);
        cur = next;
    }
    return cur;
}

Test(unwrap, depth_limit)
{
    struct rw_limits lim = limits();
    char *five = nest_cl0("https://example.com/end", 5),
         *six = nest_cl0("https://example.com/end", 6);
    char *got = NULL;

    cr_expect_eq(rw_url_unwrap(rules, &lim, five, &got), RW_OK);
    cr_expect(got && strcmp(got, "https://example.com/end") == 0, "got %s",
              got ? got : "(null)");
    free(got);
    got = NULL;
    cr_expect_eq(rw_url_unwrap(rules, &lim, six, &got), RW_ELIMIT, "6 layers, limit 5");
    cr_expect_null(got);
    lim.unwrap_depth = 1;
    cr_expect_eq(rw_url_unwrap(rules, &lim, five, &got), RW_ELIMIT);
    lim.unwrap_depth = 0;
    cr_expect_eq(rw_url_unwrap(rules, &lim, five, &got), RW_ELIMIT);
    g_free(five);
    g_free(six);
}

Test(unwrap, length_limit_and_null_limits)
{
    struct rw_limits lim = limits();
    const char *u =
        "https://links.news.example.com/CL0/https:%2F%2Fshop.example.com%2Fsale/1/x=";
    char *got = NULL;

    lim.max_url_len = 20;
    cr_expect_eq(rw_url_unwrap(rules, &lim, u, &got), RW_ELIMIT);
    cr_expect_null(got);
    lim.max_url_len = strlen(u);
    cr_expect_eq(rw_url_unwrap(rules, &lim, u, &got), RW_OK);
    free(got);
    got = NULL;
    cr_expect_eq(rw_url_unwrap(rules, NULL, u, &got), RW_OK, "NULL limits mean defaults");
    cr_expect_str_eq(got, "https://shop.example.com/sale");
    free(got);
    cr_expect_eq(rw_url_unwrap(NULL, NULL, u, &got), RW_EINVAL);
    cr_expect_eq(rw_url_unwrap(rules, NULL, NULL, &got), RW_EINVAL);
}

/* Every prefix of every wrapper above must decode or refuse, never crash. */
Test(unwrap, truncated_wrappers_are_safe)
{
    static const char *const u[] = {
        "https://x.r.eu-west-1.awstrack.me/L0/"
        "https:%2F%2Flinks.example.com%2FCL0%2Fhttps:%252F%252Fexample.net%252Fa/1/000/"
        "x=",
        "https://click.pstmrk.it/3s/www.example.com%2Faccount%3Fref%3Dmail/r8Xy/Zm9v/bar",
        "https://email.example.org/c/"
        "eJzLKCkpKLbS1y8vL9fLzEvOKU1JVcgvLUlJLErRS87PVcgsyM9JzcvOTM4tKkktKlKwBQCtrRHy",
        "https://mandrillapp.com/track/click/1/"
        "x?p=eyJwIjoie1widXJsXCI6XCJodHRwczpcL1wvZXhhbXBsZS5jb21cIn0ifQ",
        "https://nam12.safelinks.protection.outlook.com/"
        "?url=https%3A%2F%2Fexample.com%2F&data=1",
    };
    struct rw_limits lim = limits();

    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        for (size_t n = 0; n <= strlen(u[i]); n++) {
            char *s = g_strndup(u[i], n), *got = NULL;
            int rc = rw_url_unwrap(rules, &lim, s, &got);

            cr_assert(rc == RW_OK || rc == RW_EINVAL, "%s: rc %d", s, rc);
            if (rc == RW_OK)
                cr_assert(rw_is_http_url(got, strlen(got)), "%s -> %s", s, got);
            free(got);
            g_free(s);
        }
    }
}
