/* test_rewrite - rw_rewrite end to end with the test's own decide
 * callbacks: each action, byte identity of what is not changed, QP soft
 * breaks inside URLs, base64, ISO-8859-1 and the switch to UTF-8, cid:
 * images, signed parts, attachments, footers, limits, dry run. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "rewriter/rw_engine.h"

static const char RULES[] = "format 1\n"
                            "version test-1\n"
                            "pixel mailchimp-open *.list-manage.com /track/open.php*\n"
                            "opaque mailchimp *.list-manage.com /track/click*\n"
                            "wrap ses ses *.awstrack.me /L0/*\n"
                            "param mc_eid\n"
                            "protect-path unsubscribe\n"
                            "protect-text unsubscribe\n"
                            "heuristic-word /open pixel beacon /track\n";

static struct rw_rules *rules;
static struct rw_request req;
static struct rw_report rep;
static struct buf out;

/* What the callback does: one action per type; repl for gate & co. */
struct policy_t {
    enum rw_action act[RW_T_MAX];
    const char *repl;
    int fail;
    unsigned calls;
};
static struct policy_t pol;

static int decide(void *ctx, const struct rw_finding *f, enum rw_action *act,
                  struct buf *repl)
{
    struct policy_t *p = ctx;

    p->calls++;
    if (p->fail)
        return -1;
    *act = p->act[f->type];
    if (p->repl)
        buf_puts(repl, p->repl);
    return 0;
}

static void setup(void)
{
    char err[200] = "";

    rw_init();
    cr_assert_eq(rw_rules_parse(RULES, strlen(RULES), &rules, err, sizeof err), RW_OK,
                 "%s", err);
    memset(&req, 0, sizeof req);
    memset(&pol, 0, sizeof pol);
    req.rules = rules;
    req.decide = decide;
    req.decide_ctx = &pol;
    buf_init(&out, 0);
}

static void teardown(void)
{
    rw_report_free(&rep);
    buf_free(&out);
    rw_rules_free(rules);
}

TestSuite(rewrite, .init = setup, .fini = teardown);

static int run(const char *msg)
{
    return rw_rewrite(&req, msg, strlen(msg), &out, &rep);
}

/* msg with the first occurrence of from replaced by to. */
static char *replaced(const char *msg, const char *from, const char *to)
{
    const char *p = strstr(msg, from);

    cr_assert_not_null(p, "'%s' not in message", from);
    return g_strdup_printf("%.*s%s%s", (int)(p - msg), msg, to, p + strlen(from));
}

#define PIXEL "https://brand.us1.list-manage.com/track/open.php?u=abc&id=def&e=123"
#define BLANK                                                                            \
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

static const char ALT[] =
    "From: News <news@brand.example>\n"
    "To: r@example.org\n"
    "Subject: hello\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"BB\"\n"
    "\n"
    "--BB\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Read https://example.com/article now.\n"
    "--BB\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "<html><body><p>Hi <a href=\"https://example.com/article\">article</a></p>\n"
    "<img src=\"" PIXEL "\" width=\"1\" height=\"1\" alt=\"\">\n"
    "</body></html>\n"
    "--BB--\n";

Test(rewrite, nothing_to_change_is_byte_identical)
{
    pol.act[RW_T_PIXEL] = RW_A_KEEP;
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_eq(out.len, strlen(ALT));
    cr_assert_eq(memcmp(out.data, ALT, out.len), 0);
    cr_assert_eq(rep.changed, 0);
    cr_assert_eq(rep.found[RW_T_PIXEL], 1);
    cr_assert_eq(rep.kept_trackers, 1);
    cr_assert_eq(rep.body_offset, (size_t)(strstr(ALT, "\n\n--BB") - ALT) + 2);
}

Test(rewrite, strip_pixel_changes_only_its_src)
{
    char *want = replaced(ALT, PIXEL, BLANK);

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), want);
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_STRIP], 1);
    cr_assert_eq(rep.kept_trackers, 0);
    cr_assert_eq(rep.parts_rewritten, 1);
    cr_assert(rep.changed);
    g_free(want);
}

Test(rewrite, gate_and_anon_use_the_callback_url_escaped)
{
    char *want = replaced(ALT, PIXEL, "https://gate.example/o/T0K?a=1&amp;b=2");

    pol.act[RW_T_PIXEL] = RW_A_GATE;
    pol.repl = "https://gate.example/o/T0K?a=1&b=2";
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), want);
    cr_assert_eq(rep.kept_trackers, 1, "a gated pixel is still a tracker");
    g_free(want);
}

Test(rewrite, action_that_does_not_fit_is_keep)
{
    pol.act[RW_T_PIXEL] = RW_A_UNWRAP;
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.changed, 0);
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_KEEP], 1);
    pol.act[RW_T_PIXEL] = RW_A_GATE; /* gate without a URL */
    rw_report_free(&rep);
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.changed, 0);
}

Test(rewrite, callback_failure_aborts)
{
    pol.fail = 1;
    cr_assert_eq(run(ALT), RW_ECALLBACK);
}

Test(rewrite, dry_run_reports_but_keeps_input)
{
    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    req.dry_run = 1;
    req.footer_html_untracked = "<p>footer</p>";
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), ALT);
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_STRIP], 1);
    cr_assert_eq(rep.changed, 0);
}

Test(rewrite, footers_tracked_and_untracked)
{
    char *a, *want;

    req.footer_html = "<p>TRACKED</p>\n";
    req.footer_text = "\n--\nTRACKED\n";
    req.footer_html_untracked = "<p>FREE</p>\n";
    req.footer_text_untracked = "\n--\nFREE\n";
    pol.act[RW_T_PIXEL] = RW_A_KEEP;
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    a = replaced(ALT, "</body>", "<p>TRACKED</p>\n</body>");
    want = replaced(a, "now.\n--BB", "now.\n\n--\nTRACKED\n--BB");
    cr_assert_str_eq(buf_cstr(&out), want);
    cr_assert_eq(rep.footer_tracked, 1);
    cr_assert_eq(rep.footer_html_added, 1);
    cr_assert_eq(rep.footer_text_added, 1);
    g_free(a);
    g_free(want);
    rw_report_free(&rep);
    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert(strstr(out.data, "<p>FREE</p>\n</body>") != NULL);
    cr_assert(strstr(out.data, "now.\n\n--\nFREE\n--BB") != NULL);
    cr_assert_eq(rep.footer_tracked, 0);
}

static const char MC[] =
    "From: a@brand.example\r\n"
    "List-Unsubscribe: <https://brand.us1.list-manage.com/track/click?u=1&id=unsub>\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<a href=\"https://brand.us1.list-manage.com/track/click?u=1&amp;id=2\">read</a>\r\n"
    "<a href=\"https://brand.us1.list-manage.com/track/click?u=1&amp;id=unsub\">x</a>\r\n"
    "<a "
    "href=\"https://x.awstrack.me/L0/https:%2F%2Fshop.example%2Fp%3Fmc_eid%3D9%26k%3D1/1/"
    "abc\">"
    "shop</a>\r\n";

Test(rewrite, unwrap_interstitial_and_list_unsubscribe_protection)
{
    pol.act[RW_T_LINK] = RW_A_UNWRAP;
    pol.act[RW_T_OPAQUE] = RW_A_KEEP;
    cr_assert_eq(run(MC), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.found[RW_T_OPAQUE], 1);
    cr_assert_eq(rep.found[RW_T_PROTECTED], 1, "the List-Unsubscribe URL is protected");
    cr_assert_eq(rep.residual_opaque, 1);
    cr_assert(strstr(out.data, "href=\"https://shop.example/p?k=1\">shop") != NULL, "%s",
              out.data);
    cr_assert(strstr(out.data, "\r\n\r\n<a href") != NULL, "CRLF kept");
    cr_assert_eq(rep.body_offset, (size_t)(strstr(MC, "\r\n\r\n") - MC) + 4);
}

Test(rewrite, interstitial_for_opaque)
{
    pol.act[RW_T_OPAQUE] = RW_A_INTERSTITIAL;
    pol.repl = "https://gate.example/c/TOK";
    cr_assert_eq(run(MC), RW_OK, "%s", rep.error);
    cr_assert(strstr(out.data, "href=\"https://gate.example/c/TOK\">read") != NULL);
    cr_assert(strstr(out.data, "id=unsub\">x") != NULL, "unsubscribe untouched");
    cr_assert_eq(rep.residual_opaque, 0);
}

static const char QP[] =
    "From: a@brand.example\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "<p>Caf=C3=A9</p><img width=3D\"1\" height=3D\"1\" src=3D\"https://brand.us1.list-=\n"
    "manage.com/track/open.php?u=3Dabc&amp;id=3Ddef\"><a href=3D\"https://example.c=\n"
    "om/\">x</a>\n";

Test(rewrite, qp_soft_break_inside_url)
{
    struct buf dec = BUF_INIT(0);
    const char *body, *p, *nl;

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    cr_assert_eq(run(QP), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.found[RW_T_PIXEL], 1);
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_STRIP], 1);
    cr_assert_eq(strncmp(out.data, QP, rep.body_offset), 0, "headers identical");
    body = out.data + rep.body_offset;
    for (p = body; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        cr_assert_leq(nl - p, 76);
    cr_assert_eq(rw_qp_decode(body, strlen(body), &dec), RW_OK);
    cr_assert_str_eq(buf_cstr(&dec),
                     "<p>Caf\xc3\xa9</p><img width=\"1\" height=\"1\" src=\"" BLANK
                     "\"><a href=\"https://example.com/\">x</a>\n");
    buf_free(&dec);
}

Test(rewrite, base64_html)
{
    const char *html =
        "<html><body><img src=\"" PIXEL "\" width=1 height=1></body></html>\r\n";
    gchar *b64 = g_base64_encode((const guchar *)html, strlen(html));
    char *msg = g_strdup_printf("From: a@b.example\nContent-Type: text/html\n"
                                "Content-Transfer-Encoding: base64\n\n%s\n",
                                b64);
    struct buf dec = BUF_INIT(0);

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    req.footer_html_untracked = "<p>f</p>";
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_eq(
        rw_b64_decode(out.data + rep.body_offset, out.len - rep.body_offset, &dec),
        RW_OK);
    cr_assert_str_eq(buf_cstr(&dec), "<html><body><img src=\"" BLANK
                                     "\" width=1 height=1><p>f</p></body></html>\r\n");
    cr_assert_eq(out.data[out.len - 1], '\n');
    buf_free(&dec);
    g_free(msg);
    g_free(b64);
}

static const char LATIN[] = "From: a@brand.example\n"
                            "Content-Type: text/plain; charset=\"iso-8859-1\"\n"
                            "Content-Transfer-Encoding: 8bit\n"
                            "\n"
                            "Caf\xe9 cr\xe8me\n";

Test(rewrite, latin1_footer_that_fits_keeps_charset)
{
    req.footer_text_untracked = "\n--\nd\xc3\xa9sinscription\n";
    cr_assert_eq(run(LATIN), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), "From: a@brand.example\n"
                                     "Content-Type: text/plain; charset=\"iso-8859-1\"\n"
                                     "Content-Transfer-Encoding: 8bit\n"
                                     "\n"
                                     "Caf\xe9 cr\xe8me\n\n--\nd\xe9sinscription\n");
    cr_assert_eq(rep.nhdr_changes, 0);
}

Test(rewrite, latin1_footer_that_does_not_fit_switches_to_utf8)
{
    req.footer_text_untracked = "\n--\nit\xe2\x80\x99s free\n";
    cr_assert_eq(run(LATIN), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out),
                     "From: a@brand.example\n"
                     "Content-Type: text/plain; charset=\"utf-8\"\n"
                     "Content-Transfer-Encoding: 8bit\n"
                     "\n"
                     "Caf\xc3\xa9 cr\xc3\xa8me\n\n--\nit\xe2\x80\x99s free\n");
    cr_assert_eq(rep.nhdr_changes, 1);
    cr_assert_str_eq(rep.hdr_changes[0].name, "Content-Type");
    cr_assert_str_eq(rep.hdr_changes[0].value, "text/plain; charset=\"utf-8\"");
    cr_assert_eq(rep.body_offset, (size_t)(strstr(out.data, "\n\nCaf") - out.data) + 2,
                 "body offset follows the shorter header");
}

Test(rewrite, seven_bit_footer_with_accents_becomes_qp)
{
    static const char msg[] = "From: a@b.example\nContent-Type: text/plain\n\nhello\n";

    req.footer_text_untracked = "\n--\nd\xc3\xa9sinscription\n";
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), "From: a@b.example\n"
                                     "Content-Type: text/plain; charset=utf-8\n"
                                     "Content-Transfer-Encoding: quoted-printable\n"
                                     "\nhello\n\n--\nd=C3=A9sinscription\n");
    cr_assert_eq(rep.nhdr_changes, 2);
}

static const char RELATED[] =
    "From: a@b.example\n"
    "Content-Type: multipart/related; boundary=R\n"
    "\n"
    "--R\n"
    "Content-Type: text/html\n"
    "\n"
    "<img src=\"cid:logo@x\" width=\"1\" height=\"1\"><img src=\"" PIXEL "\">\n"
    "--R\n"
    "Content-Type: image/gif\n"
    "Content-ID: <logo@x>\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7\n"
    "--R--\n";

Test(rewrite, related_cid_images_untouched)
{
    char *want = replaced(RELATED, PIXEL, BLANK);

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    pol.act[RW_T_PLAIN] = RW_A_STRIP; /* must not apply: plain is not a pixel */
    cr_assert_eq(run(RELATED), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), want);
    cr_assert_eq(rep.found[RW_T_PIXEL], 1);
    g_free(want);
}

static const char SIGNED[] = "From: a@b.example\n"
                             "Content-Type: multipart/mixed; boundary=M\n"
                             "\n"
                             "--M\n"
                             "Content-Type: multipart/signed; "
                             "protocol=\"application/pkcs7-signature\"; boundary=S\n"
                             "\n"
                             "--S\n"
                             "Content-Type: text/html\n"
                             "\n"
                             "<img src=\"" PIXEL "\">\n"
                             "--S\n"
                             "Content-Type: application/pkcs7-signature\n"
                             "\n"
                             "AAAA\n"
                             "--S--\n"
                             "--M\n"
                             "Content-Type: text/html\n"
                             "Content-Disposition: attachment; filename=\"t.html\"\n"
                             "\n"
                             "<img src=\"" PIXEL "\">\n"
                             "--M--\n";

Test(rewrite, signed_and_attachments_untouched)
{
    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    req.footer_html_untracked = "<p>f</p>";
    cr_assert_eq(run(SIGNED), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), SIGNED);
    cr_assert_eq(rep.found[RW_T_PIXEL], 0);
    cr_assert_eq(rep.parts_untouchable, 2);
}

Test(rewrite, text_plain_tracked_link)
{
    static const char msg[] =
        "From: a@b.example\nContent-Type: text/plain\n\n"
        "Shop: https://x.awstrack.me/L0/https:%2F%2Fshop.example%2F/1/abc\nBye\n";

    pol.act[RW_T_LINK] = RW_A_UNWRAP;
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), "From: a@b.example\nContent-Type: "
                                     "text/plain\n\nShop: https://shop.example/\nBye\n");
}

Test(rewrite, limits_are_errors)
{
    struct rw_limits lim;

    rw_limits_default(&lim);
    lim.max_part_size = 16;
    req.limits = &lim;
    cr_assert_eq(run(ALT), RW_ELIMIT);
    cr_assert(strstr(rep.error, "larger") != NULL, "%s", rep.error);
}

Test(rewrite, garbage_is_a_clean_result_or_error)
{
    static const char *inputs[] = {
        "",
        "\n\n\n",
        "no headers at all",
        "Content-Type: multipart/mixed; boundary=\n\n--\n--",
        "Content-Type: text/html; charset=x-bogus\n\n<a href=x>",
        "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n!!!"};

    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        int rc = run(inputs[i]);
        /* an empty boundary= is RW_EAMBIG (see test_ambig) */
        cr_assert(rc == RW_OK || rc == RW_EPARSE || rc == RW_ECHARSET || rc == RW_EAMBIG,
                  "input %zu: %d", i, rc);
        if (rc == RW_OK)
            cr_assert_str_eq(buf_cstr(&out), inputs[i], "input %zu changed", i);
        rw_report_free(&rep);
    }
}

Test(rewrite, report_json)
{
    struct buf j = BUF_INIT(0);

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
    cr_assert_eq(rw_report_json(&rep, &j), RW_OK);
    cr_assert(strstr(j.data, "\"strip\": 1") != NULL, "%s", j.data);
    cr_assert(strstr(j.data, "\"rule\": \"mailchimp-open\"") != NULL, "%s", j.data);
    buf_free(&j);
}

/* Every pixel action with a replacement from the callback. */
Test(rewrite, anon_and_deliverability_pixels)
{
    static const enum rw_action acts[] = {RW_A_ANON, RW_A_DELIV};

    for (size_t i = 0; i < 2; i++) {
        char *want = replaced(ALT, PIXEL, "https://gate.example/x/1");
        pol.act[RW_T_PIXEL] = acts[i];
        pol.repl = "https://gate.example/x/1";
        cr_assert_eq(run(ALT), RW_OK, "%s", rep.error);
        cr_assert_str_eq(buf_cstr(&out), want);
        cr_assert_eq(rep.acted[RW_T_PIXEL][acts[i]], 1);
        cr_assert_eq(rep.kept_trackers, acts[i] == RW_A_DELIV,
                     "deliverability keeps a tracker");
        g_free(want);
        rw_report_free(&rep);
    }
    memset(&rep, 0, sizeof rep);
}

Test(rewrite, clean_plain_link_personal_params)
{
    static const char msg[] =
        "From: a@b.example\nContent-Type: text/html\n\n"
        "<a href=\"https://shop.example/p?utm_source=x&amp;mc_eid=42&amp;k=1\">p</a>\n";

    pol.act[RW_T_PLAIN] = RW_A_CLEAN;
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert(strstr(out.data, "href=\"https://shop.example/p?utm_source=x&amp;k=1\"") !=
                  NULL,
              "%s", out.data);
    cr_assert_eq(rep.acted[RW_T_PLAIN][RW_A_CLEAN], 1);
    cr_assert_eq(rep.kept_trackers, 0);
}

Test(rewrite, output_ceiling_is_a_limit)
{
    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    buf_free(&out);
    buf_init(&out, 64);
    cr_assert_eq(run(ALT), RW_ELIMIT);
}

Test(rewrite, crlf_text_footer_uses_crlf)
{
    static const char msg[] =
        "From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhello\r\n";

    req.footer_text_untracked = "\n--\nno tracking\n";
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out),
                     "From: a@b.example\r\nContent-Type: text/plain\r\n\r\n"
                     "hello\r\n\r\n--\r\nno tracking\r\n");
}

Test(rewrite, inline_pgp_text_untouched)
{
    static const char msg[] =
        "From: a@b.example\nContent-Type: text/plain\n\n"
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        "https://x.awstrack.me/L0/https:%2F%2Fshop.example%2F/1/abc\n";

    pol.act[RW_T_LINK] = RW_A_UNWRAP;
    req.footer_text_untracked = "\n--\nno tracking\n";
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), msg);
    cr_assert_eq(rep.parts_untouchable, 1);
}

Test(rewrite, report_json_repairs_invalid_utf8)
{
    static const char msg[] =
        "From: a@b.example\nContent-Type: text/html; charset=utf-8\n\n"
        "<a href=\"https://shop.example/\xff\xfe?x=\\&quot;\">x</a>\n";
    struct buf j = BUF_INIT(0);

    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_eq(rw_report_json(&rep, &j), RW_OK);
    cr_assert(g_utf8_validate(j.data, (gssize)j.len, NULL), "JSON is valid UTF-8");
    cr_assert(strstr(j.data, "\"url\": \"https://shop.example/") != NULL, "%s", j.data);
    buf_free(&j);
}

/* Issue 9 item 5: a text/x-amp-html alternative is scanned like HTML
 * (Gmail renders it): its amp-img pixel is stripped, its amp-list data
 * fetch (a tracker by nature) and an iframe get about:blank; the
 * scheme-relative pixel in the HTML part is stripped too. */
static const char AMP[] =
    "From: News <news@brand.example>\n"
    "To: r@example.org\n"
    "Subject: hello\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"BB\"\n"
    "\n"
    "--BB\n"
    "Content-Type: text/x-amp-html; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "<!doctype html><html \xe2\x9a\xa1\x34\x65mail><head><meta charset=\"utf-8\"></head><body>\n"
    "<amp-img src=\"" PIXEL "\" width=\"1\" height=\"1\"></amp-img>\n"
    "<amp-list src=\"https://api.brand.example/deals.json\" layout=\"fixed-height\" height=\"90\">"
    "</amp-list>\n"
    "</body></html>\n"
    "--BB\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "<html><body><img src=\"//brand.us1.list-manage.com/track/open.php?u=abc\">\n"
    "<iframe src=\"https://brand.us1.list-manage.com/track/open.php?u=f\"></iframe>\n"
    "</body></html>\n"
    "--BB--\n";

Test(rewrite, amp_part_and_frames_are_neutralised)
{
    char *a = replaced(AMP, PIXEL, BLANK);
    char *b = replaced(a, "https://api.brand.example/deals.json", "about:blank");
    char *c = replaced(b, "//brand.us1.list-manage.com/track/open.php?u=abc", BLANK);
    char *want = replaced(c, "https://brand.us1.list-manage.com/track/open.php?u=f",
                          "about:blank");

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    cr_assert_eq(run(AMP), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), want);
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_STRIP], 4);
    cr_assert_eq(rep.kept_trackers, 0);
    g_free(a);
    g_free(b);
    g_free(c);
    g_free(want);
}

/* <meta http-equiv=refresh> to a tracker: the whole content value is
 * replaced, so no refresh (no delay left) and no fetch happen. */
Test(rewrite, meta_refresh_tracker_is_neutralised)
{
    char *msg = replaced(ALT, "<html><body>",
                         "<html><head><meta http-equiv=\"refresh\" content=\"1;url=" PIXEL
                         "&amp;r=1\"></head><body>");
    char *a = replaced(msg, "1;url=" PIXEL "&amp;r=1", "about:blank");
    char *want = replaced(a, PIXEL, BLANK);

    pol.act[RW_T_PIXEL] = RW_A_STRIP;
    cr_assert_eq(run(msg), RW_OK, "%s", rep.error);
    cr_assert_str_eq(buf_cstr(&out), want);
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_STRIP], 2);
    g_free(msg);
    g_free(a);
    g_free(want);
}
