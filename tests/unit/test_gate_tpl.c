/* Unit tests for gate/tpl.c: escaping, raw fragments, placeholder errors,
 * no re-expansion of values, and the shipped page set (conf/pages) loading
 * and rendering in every language. The module is compiled into this test. */
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

/* Every shipped language renders every page, with its own words (not a
 * copy of the English file) and its own <html lang>. */
Test(gate_tpl, shipped_pages_render_in_every_language)
{
    static const char *const codes[] = {"de", "en", "es", "fr", "it"};
    static const struct {
        int id;
        const char *marker[5]; /* in the order of codes */
    } pages[] = {
        {GATE_TPL_WITHDRAW,
         {"Tracking beenden", "Stop tracking", "Detener el seguimiento", "Arrêter le suivi",
          "Interrompi il tracciamento"}},
        {GATE_TPL_WITHDRAW_DONE,
         {"Widerruf der Einwilligung", "Tracking stopped", "Retirada del consentimiento",
          "Suivi arrêté", "Revoca del consenso"}},
        {GATE_TPL_CONSENT,
         {"Akzeptieren", "Accept", "Aceptar", "Accepter", "Accetta"}},
        {GATE_TPL_CONSENT_DONE,
         {"Anwendbares Recht", "Jurisdiction", "Legislación aplicable",
          "Droit applicable", "Legge applicabile"}},
        {GATE_TPL_INTERSTITIAL,
         {"Tracking-Dienst", "tracking service", "servicio de seguimiento",
          "service de suivi", "servizio di tracciamento"}},
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
        {"jurisdiction", "IT"},
    };
    char path[4096], err[512] = "", want[64];
    struct gate_tpl_set *s = NULL;

    snprintf(path, sizeof path, "%s/conf/pages", srcdir());
    cr_assert_eq(gate_tpl_set_load(path, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(gate_tpl_nlang(s), 5, "languages found: %zu", gate_tpl_nlang(s));
    for (size_t c = 0; c < 5; c++) {
        int lang = gate_tpl_lang_index(s, codes[c]);
        cr_assert_geq(lang, 0, "no %s pages", codes[c]);
        cr_assert_str_eq(gate_tpl_lang_code(s, lang), codes[c]);
        snprintf(want, sizeof want, "<html lang=\"%s\">", codes[c]);
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
            struct buf b = BUF_INIT(0);
            int rc = gate_tpl_page(s, lang, pages[i].id, v, sizeof v / sizeof v[0], &b);
            cr_assert_eq(rc, 0, "page %d lang %s: rc %d", pages[i].id, codes[c], rc);
            cr_assert_not_null(strstr(b.data, pages[i].marker[c]), "page %d lang %s: no '%s'",
                               pages[i].id, codes[c], pages[i].marker[c]);
            cr_assert_not_null(strstr(b.data, want), "page %d: want %s", pages[i].id, want);
            cr_assert_null(strstr(b.data, "brand<x>"), "controller not escaped");
            cr_assert_null(strstr(b.data, "<script"));
            cr_assert_null(strstr(b.data, "style=\""), "inline style breaks the CSP");
            cr_assert_null(strstr(b.data, "checked"), "pre-ticked box");
            buf_free(&b);
        }
    }
    size_t n;
    cr_assert_gt(strlen(gate_tpl_css(s, &n)), 100);
    cr_assert_not_null(strstr(gate_tpl_notfound(s, &n), "Not found"));
    gate_tpl_set_free(s);
}

/* A copy of the shipped pages in a temporary directory, changed by cmd
 * (run there); returns the load status and the error. */
static int load_changed(const char *cmd, char *err, size_t errlen, size_t *nlang)
{
    char dir[] = "/tmp/tpl-test.XXXXXX", sh[8192];
    struct gate_tpl_set *s = NULL;
    int rc;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(sh, sizeof sh, "cp -r '%s/conf/pages/.' '%s' && cd '%s' && %s", srcdir(), dir,
             dir, cmd);
    cr_assert_eq(system(sh), 0, "%s", sh);
    rc = gate_tpl_set_load(dir, &s, err, errlen);
    *nlang = s ? gate_tpl_nlang(s) : 0;
    gate_tpl_set_free(s);
    snprintf(sh, sizeof sh, "rm -rf '%s'", dir);
    cr_assert_eq(system(sh), 0);
    return rc;
}

/* The languages are the directories that exist: a new one is picked up
 * with no code change, an incomplete one is refused by name, and what is
 * not a language code is no language. */
Test(gate_tpl, languages_are_the_directories_found)
{
    char err[512] = "";
    size_t n;

    cr_assert_eq(load_changed("cp -r en pt", err, sizeof err, &n), 0, "%s", err);
    cr_assert_eq(n, 6);
    cr_assert_eq(load_changed("mkdir CVS en_GB x toolong && touch nl", err, sizeof err, &n),
                 0, "%s", err);
    cr_assert_eq(n, 5, "non-language names must be ignored: %zu", n);
    cr_assert_eq(load_changed("rm de/notice.html", err, sizeof err, &n), -1);
    cr_assert_not_null(strstr(err, "/de/notice.html"), "%s", err);
    cr_assert_eq(load_changed("rm -r en", err, sizeof err, &n), -1);
    cr_assert_not_null(strstr(err, "/en/layout.html"), "%s", err);
}
