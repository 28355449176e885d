/* Unit tests for gate/tpl.c: escaping, raw fragments, placeholder errors,
 * no re-expansion of values, and the shipped page set (conf/pages) loading
 * and rendering in both languages. The module is compiled into this test. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate/tpl.h"
#include "common/buf.h"

static const char *srcdir(void)
{
    const char *d = getenv("CM_SRCDIR");
    return d ? d : ".";
}

static char *render(const char *text, const struct gate_tpl_var *v, size_t n, int *rc)
{
    struct buf b = BUF_INIT(0);
    *rc = gate_tpl_render(text, v, n, &b);
    return buf_steal(&b, NULL);
}

Test(gate_tpl, escapes_every_special_character)
{
    struct gate_tpl_var v[] = {{"x", "<a href=\"x\">'&'</a>"}};
    int rc;
    char *s = render("[{{x}}]", v, 1, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(s, "[&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;]");
    free(s);
}

Test(gate_tpl, triple_braces_insert_raw)
{
    struct gate_tpl_var v[] = {{"frag", "<li>ok</li>"}, {"t", "a&b"}};
    int rc;
    char *s = render("<ul>{{{frag}}}</ul>{{t}}", v, 2, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(s, "<ul><li>ok</li></ul>a&amp;b");
    free(s);
}

Test(gate_tpl, values_are_never_expanded_again)
{
    struct gate_tpl_var v[] = {{"a", "{{b}}"}, {"b", "SECRET"}};
    int rc;
    char *s = render("{{a}}/{{{a}}}", v, 2, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(s, "{{b}}/{{b}}");
    free(s);
}

Test(gate_tpl, unknown_and_unterminated_placeholders_fail)
{
    struct gate_tpl_var v[] = {{"a", "1"}};
    int rc;
    free(render("x {{nope}} y", v, 1, &rc));
    cr_assert_eq(rc, ENOENT);
    free(render("x {{a y", v, 1, &rc));
    cr_assert_eq(rc, EINVAL);
    free(render("x {{{a}} y", v, 1, &rc));
    cr_assert_eq(rc, EINVAL);
}

Test(gate_tpl, null_value_renders_empty_and_plain_text_passes)
{
    struct gate_tpl_var v[] = {{"a", NULL}};
    int rc;
    char *s = render("<{{a}}> { } }} single {", v, 1, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(s, "<> { } }} single {");
    free(s);
}

Test(gate_tpl, missing_directory_names_the_file)
{
    struct gate_tpl_set *s = NULL;
    char err[256] = "";
    cr_assert_eq(gate_tpl_set_load("/nonexistent/pages", &s, err, sizeof err), -1);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err, "/nonexistent/pages/en/layout.html"), "%s", err);
}

Test(gate_tpl, shipped_pages_render_in_both_languages)
{
    static const struct {
        int id;
        const char *marker[2];
    } pages[] = {
        {GATE_TPL_WITHDRAW, {"Stop tracking", "Arrêter le suivi"}},
        {GATE_TPL_WITHDRAW_DONE, {"Tracking stopped", "Suivi arrêté"}},
        {GATE_TPL_CONSENT, {"Accept", "Accepter"}},
        {GATE_TPL_CONSENT_DONE, {"recorded", "enregistré"}},
        {GATE_TPL_INTERSTITIAL, {"tracking service", "service de suivi"}},
    };
    struct gate_tpl_var v[] = {
        {"controller", "brand<x>"},
        {"address", "a***@example.org"},
        {"csrf", "00"},
        {"notice", "<p>n</p>"},
        {"notice_id", "id"},
        {"notice_hash", "ab"},
        {"boxes", ""},
        {"error", ""},
        {"date", "2026"},
        {"event", "e"},
        {"accepted", "x"},
        {"refused", "y"},
        {"url", "https://t.example/?a=1&b=2"},
        {"host", "t.example"},
    };
    char path[4096], err[512] = "";
    struct gate_tpl_set *s = NULL;

    snprintf(path, sizeof path, "%s/conf/pages", srcdir());
    cr_assert_eq(gate_tpl_set_load(path, &s, err, sizeof err), 0, "%s", err);
    for (int lang = 0; lang < GATE_TPL_NLANG; lang++)
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
            struct buf b = BUF_INIT(0);
            int rc = gate_tpl_page(s, lang, pages[i].id, v, sizeof v / sizeof v[0], &b);
            cr_assert_eq(rc, 0, "page %d lang %d: rc %d", pages[i].id, lang, rc);
            cr_assert_not_null(strstr(b.data, pages[i].marker[lang]), "page %d lang %d",
                               pages[i].id, lang);
            cr_assert_not_null(
                strstr(b.data, lang ? "<html lang=\"fr\">" : "<html lang=\"en\">"));
            cr_assert_null(strstr(b.data, "brand<x>"), "controller not escaped");
            cr_assert_null(strstr(b.data, "<script"));
            cr_assert_null(strstr(b.data, "style=\""), "inline style breaks the CSP");
            cr_assert_null(strstr(b.data, "checked"), "pre-ticked box");
            buf_free(&b);
        }
    size_t n;
    cr_assert_gt(strlen(gate_tpl_css(s, &n)), 100);
    cr_assert_not_null(strstr(gate_tpl_notfound(s, &n), "Not found"));
    gate_tpl_set_free(s);
}
