/* Unit tests for rw_url_clean: every personal key of the shipped rules is
 * removed by exact key, everything else stays byte for byte (order,
 * encoding, empty parameters, fragment), utm_* stay, unsubscribe links are
 * never touched by the classifier. */
#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/rules_int.h"

#include "tests/unit/rules_fixture.h"

TestSuite(params, .init = load_rules, .fini = free_rules);

/* SPEC §3.2 item 3 lists these; each must be in the shipped rules. */
static const char *const spec_keys[] = {
    "mc_eid",
    "mc_cid",
    "_hsenc",
    "_hsmi",
    "__hssc",
    "__hstc",
    "__hsfp",
    "hsCtaTracking",
    "mkt_tok",
    "_kx",
    "_ke",
    "vero_id",
    "oly_enc_id",
    "oly_anon_id",
    "ml_subscriber",
    "ml_subscriber_hash",
    "ck_subscriber_id",
    "elqTrackId",
    "elq",
    "trk_contact",
    "dm_i",
};

Test(params, every_spec_key_is_listed)
{
    for (size_t i = 0; i < sizeof(spec_keys) / sizeof(spec_keys[0]); i++)
        cr_expect(rw_is_personal_key(rules, spec_keys[i], strlen(spec_keys[i])),
                  "%s missing from conf/trackers.rules", spec_keys[i]);
}

Test(params, every_listed_key_is_removed_alone_and_in_company)
{
    for (size_t i = 0; i < rules->params.n; i++) {
        const char *k = rules->params.v[i];
        char *u1 = g_strdup_printf("https://shop.example.com/p?%s=abc123", k);
        char *u2 = g_strdup_printf(
            "https://shop.example.com/p?id=7&%s=abc%%40x&utm_source=nl#top", k);
        char *got = NULL;
        unsigned n = 0;

        cr_expect_eq(rw_url_clean(rules, u1, &got, &n), RW_OK);
        cr_expect_str_eq(got, "https://shop.example.com/p", "key %s: got %s", k, got);
        cr_expect_eq(n, 1, "key %s: removed %u", k, n);
        free(got);
        cr_expect_eq(rw_url_clean(rules, u2, &got, &n), RW_OK);
        cr_expect_str_eq(got, "https://shop.example.com/p?id=7&utm_source=nl#top",
                         "key %s: got %s", k, got);
        cr_expect_eq(n, 1);
        free(got);
        g_free(u1);
        g_free(u2);
    }
}

Test(params, table)
{
    static const struct {
        const char *in, *want;
        unsigned removed;
    } t[] = {
        /* utm_* stay, order and encoding stay */
        {"https://e.com/?utm_source=a&utm_medium=email&utm_campaign=x%20y",
         "https://e.com/?utm_source=a&utm_medium=email&utm_campaign=x%20y", 0},
        {"https://e.com/a?z=1&mc_eid=123&b=%2F&mc_cid=9&a=2#frag?mc_eid=1",
         "https://e.com/a?z=1&b=%2F&a=2#frag?mc_eid=1", 2},
        {"https://e.com/a?mc_eid=1&mc_cid=2", "https://e.com/a", 2},
        {"https://e.com/a?mc_eid=1#x", "https://e.com/a#x", 1},
        {"https://e.com/a?_hsenc=p2ANqtz-abc&_hsmi=2&q=hubspot",
         "https://e.com/a?q=hubspot", 2},
        /* exact keys only: prefixes, suffixes and case variants stay */
        {"https://e.com/u?mc_eid2=1&xmc_eid=2&MC_EID=3&elq_x=4&elqa=5",
         "https://e.com/u?mc_eid2=1&xmc_eid=2&MC_EID=3&elq_x=4&elqa=5", 0},
        /* a key without value, an empty parameter, a percent-encoded key */
        {"https://e.com/u?elq&&a=1", "https://e.com/u?&a=1", 1},
        {"https://e.com/u?mc%5Feid=1&a=1", "https://e.com/u?a=1", 1},
        {"https://e.com/u?a=1&mkt_tok=eyJpIjoi&", "https://e.com/u?a=1&", 1},
        /* no query, non-http */
        {"https://e.com/path/mc_eid=1", "https://e.com/path/mc_eid=1", 0},
        {"mailto:x@e.com?subject=hi&mc_eid=1", "mailto:x@e.com?subject=hi", 1},
        {"https://e.com/?", "https://e.com/?", 0},
        {"", "", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *got = NULL;
        unsigned n = 99;

        cr_expect_eq(rw_url_clean(rules, t[i].in, &got, &n), RW_OK);
        cr_expect_str_eq(got, t[i].want, "[%zu] %s: got %s, want %s", i, t[i].in, got,
                         t[i].want);
        cr_expect_eq(n, t[i].removed, "[%zu] removed %u, want %u", i, n, t[i].removed);
        free(got);
    }
}

Test(params, bad_arguments)
{
    char *got = NULL;

    cr_expect_eq(rw_url_clean(NULL, "https://e.com/", &got, NULL), RW_EINVAL);
    cr_expect_eq(rw_url_clean(rules, NULL, &got, NULL), RW_EINVAL);
    cr_expect_eq(rw_url_clean(rules, "https://e.com/?mc_eid=1", &got, NULL), RW_OK);
    cr_expect_str_eq(got, "https://e.com/");
    free(got);
}

/* The classifier never cleans an unsubscribe / preferences link, even with
 * personal keys on it (they identify the subscriber to unsubscribe). */
Test(params, unsubscribe_links_untouched)
{
    static const struct {
        const char *url, *text;
    } t[] = {
        {"https://us14.list-manage.com/"
         "unsubscribe?u=3f2193&id=9bc957&e=042ea43672&mc_eid=1",
         "x"},
        {"https://example.com/email/unsubscribe?_hsenc=abc&_hsmi=2", "click"},
        {"https://example.com/preferences?mkt_tok=abc", "here"},
        {"https://example.com/x?mkt_tok=abc", "Unsubscribe"},
        {"https://example.com/x?mkt_tok=abc", "Se désinscrire"},
        {"https://example.com/x?mkt_tok=abc", "SE DÉSINSCRIRE"},
        {"https://example.com/x?mkt_tok=abc", "Manage your preferences"},
        {"https://example.com/x?mc_eid=1", "View this email in your browser"},
        {"https://example.com/x?mc_eid=1", "Voir la version en ligne"},
        {"https://x.mjt.lu/unsub2?hl=fr&m=1&b=2&e=3&x=4", "lien"},
        {"https://example.com/d%C3%A9sinscription?elq=1", "ici"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct rw_site s = {.place = RW_P_A, .width = -1, .height = -1};
        struct rw_class c;

        s.url = (char *)t[i].url;
        s.text = (char *)t[i].text;
        cr_assert_eq(rw_classify(rules, NULL, &s, NULL, 1, &c), RW_OK);
        cr_expect_eq(c.type, RW_T_PROTECTED, "[%zu] %s \"%s\": type %d, want protected",
                     i, t[i].url, t[i].text, c.type);
        cr_expect_null(c.dest);
        rw_class_clear(&c);
    }
}

Test(params, plain_link_dest_is_cleaned_and_counted)
{
    struct rw_site s = {.place = RW_P_A, .width = -1, .height = -1, .text = "Read more"};
    struct rw_class c;

    s.url = "https://blog.example.com/post?utm_source=nl&_hsenc=p2AN&_hsmi=77&id=3";
    cr_assert_eq(rw_classify(rules, NULL, &s, NULL, 1, &c), RW_OK);
    cr_expect_eq(c.type, RW_T_PLAIN);
    cr_expect_str_eq(c.dest, "https://blog.example.com/post?utm_source=nl&id=3");
    cr_expect_eq(c.personal_params, 2);
    rw_class_clear(&c);
    rw_class_clear(&c);
}
