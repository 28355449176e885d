/* Unit tests for rewriter/rules.c: the shipped conf/trackers.rules loads,
 * every parse error names its line, and garbage never crashes the parser. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/rules_int.h"

static char *slurp_rules(size_t *len)
{
    const char *dir = getenv("CM_SRCDIR");
    char path[4096];
    FILE *f;
    char *t;

    snprintf(path, sizeof(path), "%s/conf/trackers.rules", dir && *dir ? dir : ".");
    f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (set CM_SRCDIR)", path);
    t = malloc(1 << 20);
    cr_assert_not_null(t);
    *len = fread(t, 1, (1 << 20) - 1, f);
    t[*len] = '\0';
    fclose(f);
    return t;
}

static const struct rw_rule *find_rule(const struct rw_rules *r, const char *name,
                                       enum rw_rule_kind kind)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].kind == kind && strcmp(r->v[i].name, name) == 0)
            return &r->v[i];
    return NULL;
}

Test(rules, shipped_file_parses_with_version_and_all_kinds)
{
    size_t len;
    char *t = slurp_rules(&len), err[256];
    struct rw_rules *r = NULL;
    unsigned kinds[RW_RK_N] = {0};
    static const char *vendors[] = {
        "mailchimp",   "sendgrid",        "ses",        "ses-custom",
        "hubspot-e2t", "hubspot-e3t",     "hubspot-t",  "sfmc",
        "brevo",       "mailgun",         "mailjet",    "klaviyo",
        "postmark",    "marketo",         "selligent",  "eloqua",
        "responsys",   "constantcontact", "sparkpost",  "customerio",
        "iterable",    "campaignmonitor", "outreach",   "yesware",
        "mailtrack",   "superhuman",      "streak",     "mixmax",
        "gmass",       "litmus",          "emailonacid"};

    cr_assert_eq(rw_rules_parse(t, len, &r, err, sizeof(err)), RW_OK, "err: %s", err);
    cr_assert_str_neq(rw_rules_version(r), "");
    for (size_t i = 0; i < r->n; i++)
        kinds[r->v[i].kind]++;
    for (int k = 0; k < RW_RK_N; k++)
        cr_expect_gt(kinds[k], 0, "rule kind %d missing", k);
    for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
        const struct rw_rule *ru = find_rule(r, vendors[i], RW_RK_PIXEL);

        cr_expect(ru != NULL, "no pixel rule named %s", vendors[i]);
    }
    cr_expect_gt(r->params.n, 30);
    cr_expect_gt(r->prot_path.n, 5);
    cr_expect_gt(r->prot_text.n, 5);
    cr_expect_eq(r->heur_words.n >= 6, 1);
    rw_rules_free(r);
    free(t);
}

Test(rules, minimal_file_and_version)
{
    static const char txt[] = "# comment\n\n  format 1  # trailing\nversion 7.2\n"
                              "pixel a *.x.com /o/*\nparam k1 k2\n";
    struct rw_rules *r = NULL;
    char err[128];

    cr_assert_eq(rw_rules_parse(txt, strlen(txt), &r, err, sizeof(err)), RW_OK, "%s",
                 err);
    cr_expect_str_eq(rw_rules_version(r), "7.2");
    cr_expect_eq(r->n, 1);
    cr_expect_eq(r->params.n, 2);
    rw_rules_free(r);
    rw_rules_free(NULL);
    cr_expect_str_eq(rw_rules_version(NULL), "");
}

Test(rules, crlf_and_bom)
{
    static const char txt[] =
        "\xef\xbb\xbf# edited on Windows\r\nformat 1\r\nversion 3\r\n"
        "pixel a *.x.com /o/* key=t\r\nparam k\r\n";
    struct rw_rules *r = NULL;
    char err[128];

    cr_assert_eq(rw_rules_parse(txt, strlen(txt), &r, err, sizeof(err)), RW_OK, "%s",
                 err);
    cr_expect_str_eq(rw_rules_version(r), "3");
    cr_expect_str_eq(r->v[0].key, "t");
    cr_expect(rw_is_personal_key(r, "k", 1));
    rw_rules_free(r);
}

Test(rules, quoted_phrases_and_folding)
{
    static const char txt[] =
        "format 1\nversion 1\nprotect-text \"Voir EN Ligne\" DÉSINSCRIRE\n";
    struct rw_rules *r = NULL;
    char err[128];

    cr_assert_eq(rw_rules_parse(txt, strlen(txt), &r, err, sizeof(err)), RW_OK, "%s",
                 err);
    cr_assert_eq(r->prot_text.n, 2);
    /* Folded and sorted by first byte. */
    cr_expect_str_eq(r->prot_text.v[0], "désinscrire");
    cr_expect_str_eq(r->prot_text.v[1], "voir en ligne");
    cr_expect(rw_words_in(&r->prot_text, "Se Désinscrire ici", 18));
    cr_expect(rw_words_in(&r->prot_text, "VOIR en LIGNE", 13));
    cr_expect(!rw_words_in(&r->prot_text, "voir la ligne", 13));
    rw_rules_free(r);
}

Test(rules, word_search_long_and_invalid_text)
{
    static const char txt[] = "format 1\nversion 1\nprotect-text unsubscribe désinscri\n";
    struct rw_rules *r = NULL;
    char err[128], big[2000];

    cr_assert_eq(rw_rules_parse(txt, strlen(txt), &r, err, sizeof(err)), RW_OK, "%s",
                 err);
    memset(big, 'x', sizeof(big));
    cr_expect(!rw_words_in(&r->prot_text, big, sizeof(big)));
    memcpy(big + sizeof(big) - 11, "UNSUBSCRIBE", 11); /* at the very end, heap path */
    cr_expect(rw_words_in(&r->prot_text, big, sizeof(big)));
    cr_expect(!rw_words_in(&r->prot_text, big, sizeof(big) - 1),
              "word cut by the length");
    /* Invalid UTF-8 falls back to ASCII folding. */
    cr_expect(rw_words_in(&r->prot_text, "\xff\xfeUnSubScribe", 13));
    cr_expect(!rw_words_in(&r->prot_text, "\xff\xfe", 2));
    cr_expect(rw_words_in(&r->prot_text, "Se DÉSINSCRIRE", strlen("Se DÉSINSCRIRE")));
    cr_expect(!rw_words_in(&r->prot_text, "", 0));
    cr_expect(!rw_is_personal_key(r, "", 0));
    rw_rules_free(r);
}

Test(rules, errors_name_the_line)
{
    static const struct {
        const char *txt, *want;
    } cases[] = {
        {"", "line 1: missing"},
        {"version 1\n", "line 1: the first directive must be \"format 2\""},
        {"format 3\nversion 1\n", "line 1: unsupported format \"3\" (this parser reads 1 to 2)"},
        {"format 1\nversion 1\nproxy g fragment *.googleusercontent.com /proxy/*\n",
         "line 3: \"proxy\" needs \"format 2\""},
        {"format 1\nversion 1\nwrap w fragment t.example /r/*\n",
         "line 3: decoder \"fragment\" needs \"format 2\""},
        {"format 1\n", "line 2: missing"},
        {"format 1\nversion 1\nversion 2\n", "line 3: \"version\" takes one value"},
        {"format 1\nversion 1\nformat 1\n", "line 3: \"format\" must be the first"},
        {"format 1\nversion 1\nbogus x\n", "line 3: unknown directive \"bogus\""},
        {"format 1\nversion 1\n\n\npixel\n", "line 5: pixel needs NAME HOST PATH"},
        {"format 1\nversion 1\npixel a b\n", "line 3: pixel needs"},
        {"format 1\nversion 1\npixel bad/name h.com /x\n", "line 3: bad rule name"},
        {"format 1\nversion 1\npixel a h/st.com /x\n", "line 3: bad host pattern"},
        {"format 1\nversion 1\npixel a h.com nopath\n", "line 3: bad path pattern"},
        {"format 1\nversion 1\npixel a h.com /x?y\n", "line 3: bad path pattern"},
        {"format 1\nversion 1\npixel a h.com /x key=\n", "line 3: bad query key"},
        {"format 1\nversion 1\npixel a h.com /x key=a key=b\n",
         "line 3: unknown or repeated"},
        {"format 1\nversion 1\npixel a h.com /x fail=next\n",
         "line 3: unknown or repeated"},
        {"format 1\nversion 1\nwrap a nodec h.com /x\n", "line 3: unknown decoder"},
        {"format 1\nversion 1\nwrap a param h.com /x\n", "line 3: decoder needs key="},
        {"format 1\nversion 1\nwrap a ses h.com\n", "line 3: wrap needs NAME DECODER"},
        {"format 2\nversion 1\nproxy a h.com /x\n", "line 3: proxy needs NAME DECODER"},
        {"format 2\nversion 1\nproxy a nodec h.com /x\n", "line 3: unknown decoder"},
        {"format 2\nversion 1\nproxy a param h.com /x\n", "line 3: decoder needs key="},
        {"format 2\nversion 1\nproxy a fragment h.com /x fail=next\n",
         "line 3: unknown or repeated"},
        {"format 1\nversion 1\nwrap a json-segment h.com /x\n",
         "line 3: decoder needs field="},
        {"format 1\nversion 1\npixel a h.com /x field=href\n",
         "line 3: unknown or repeated"},
        {"format 1\nversion 1\nwrap a json-segment h.com /x field=a&b\n",
         "line 3: bad field"},
        {"format 1\nversion 1\nparam\n", "line 3: param needs at least one word"},
        {"format 1\nversion 1\nparam a=b\n", "line 3: bad query key"},
        {"format 1\nversion 1\nprotect-text \"open\n", "line 3: unterminated"},
        {"format 1\nversion 1\nprotect-text \xff\xfe\n", "line 3: word is not UTF-8"},
        {"format 1\nversion \x01\n", "line 2: bad version"},
    };
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rw_rules *r = (struct rw_rules *)0x1;
        int rc = rw_rules_parse(cases[i].txt, strlen(cases[i].txt), &r, err, sizeof(err));

        cr_expect_eq(rc, RW_EINVAL, "case %zu: rc %d, want RW_EINVAL", i, rc);
        cr_expect_null(r, "case %zu: *out not NULL on error", i);
        cr_expect(strstr(err, cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"",
                  i, err, cases[i].want);
    }
}

Test(rules, nul_byte_and_long_line_are_errors)
{
    char big[5000];
    char err[128];
    struct rw_rules *r = NULL;
    static const char nul[] = "format 1\nversion 1\npar\0am x\n";

    cr_expect_eq(rw_rules_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), RW_EINVAL);
    cr_expect(strstr(err, "line 3: NUL byte") != NULL, "got %s", err);
    memset(big, 'a', sizeof(big));
    memcpy(big, "format 1\n", 9);
    cr_expect_eq(rw_rules_parse(big, sizeof(big), &r, err, sizeof(err)), RW_EINVAL);
    cr_expect(strstr(err, "line 2: line longer") != NULL, "got %s", err);
    /* A tiny or absent error buffer is fine. */
    cr_expect_eq(rw_rules_parse(big, sizeof(big), &r, err, 4), RW_EINVAL);
    cr_expect_eq(strlen(err), 3);
    cr_expect_eq(rw_rules_parse(big, sizeof(big), &r, NULL, 0), RW_EINVAL);
    cr_expect_eq(rw_rules_parse(NULL, 3, &r, err, sizeof(err)), RW_EINVAL);
}

/* Deterministic garbage: random bytes, random tokens from the grammar, and
 * every prefix and one-byte mutation of the shipped file. */
Test(rules, garbage_never_crashes)
{
    static const char *words[] = {"format",
                                  "1",
                                  "version",
                                  "pixel",
                                  "wrap",
                                  "opaque",
                                  "protect",
                                  "param",
                                  "protect-path",
                                  "protect-text",
                                  "heuristic-word",
                                  "ses",
                                  "param",
                                  "*",
                                  "*.x.com",
                                  "/a*",
                                  "key=",
                                  "key=u",
                                  "fail=next",
                                  "\"",
                                  "#",
                                  "\n",
                                  "\t",
                                  "\xc3\xa9",
                                  "\xff",
                                  "=",
                                  "&",
                                  "/",
                                  "**"};
    unsigned seed = 12345;
    size_t len;
    char *t = slurp_rules(&len), buf[2048], err[128];
    struct rw_rules *r;

    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0;

        while (n < sizeof(buf) - 16) {
            seed = seed * 1103515245u + 12345u;
            if (iter % 2) {
                buf[n++] = (char)(seed >> 16);
            } else {
                const char *w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];

                memcpy(buf + n, w, strlen(w));
                n += strlen(w);
                buf[n++] = (seed & 0x100) ? ' ' : '\n';
            }
            if ((seed >> 8) % 97 == 0)
                break;
        }
        r = NULL;
        int rc = rw_rules_parse(buf, n, &r, err, sizeof(err));
        cr_assert(rc == RW_OK || rc == RW_EINVAL, "iter %d: rc %d", iter, rc);
        cr_assert((rc == RW_OK) == (r != NULL));
        rw_rules_free(r);
    }
    for (size_t cut = 0; cut < len; cut += 7) {
        r = NULL;
        (void)rw_rules_parse(t, cut, &r, err, sizeof(err));
        rw_rules_free(r);
        char saved = t[cut];
        t[cut] = (char)(cut * 31);
        r = NULL;
        (void)rw_rules_parse(t, len, &r, err, sizeof(err));
        rw_rules_free(r);
        t[cut] = saved;
    }
    free(t);
}

Test(rules, host_and_path_globs)
{
    static const char txt[] = "format 1\nversion 1\n"
                              "pixel star *.list-manage.com /track/open*\n"
                              "pixel any * /CI0/*\n"
                              "pixel keyed * /trk key=t\n";
    static const struct {
        const char *url, *want;
    } cases[] = {
        {"https://us14.list-manage.com/track/open.php?u=1", "star"},
        {"https://list-manage.com/track/open.php", "star"},
        {"https://US14.List-Manage.COM/TRACK/OPEN.php", "star"},
        {"https://us14.list-manage.com./track/open.php", "star"},
        {"https://list-manage.com@evil.example/track/open.php", NULL},
        {"https://evil.example\\@us14.list-manage.com/track/open.php", NULL},
        {"https://evil-list-manage.com/track/open.php", NULL},
        {"https://list-manage.com.evil.org/track/open.php", NULL},
        {"https://t.example.org/CI0/0100abc/1/x.gif", "any"},
        {"https://t.example.org/CI0", NULL},
        {"https://t.example.org/trk?t=1&mid=2", "keyed"},
        {"https://t.example.org/trk?tt=1", NULL},
        {"https://t.example.org/trk", NULL},
        {"mailto:a@list-manage.com", NULL},
        {"//us14.list-manage.com/track/open.php", NULL},
    };
    struct rw_rules *r = NULL;
    char err[128];

    cr_assert_eq(rw_rules_parse(txt, strlen(txt), &r, err, sizeof(err)), RW_OK, "%s",
                 err);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rw_urlp u;
        const struct rw_rule *ru;

        rw_url_split(cases[i].url, strlen(cases[i].url), &u);
        ru = rw_rule_match(r, RW_RK_PIXEL, &u, 0);
        if (cases[i].want == NULL)
            cr_expect_null(ru, "%s: got %s, want no match", cases[i].url,
                           ru ? ru->name : "");
        else
            cr_expect(ru && strcmp(ru->name, cases[i].want) == 0, "%s: got %s, want %s",
                      cases[i].url, ru ? ru->name : "(none)", cases[i].want);
    }
    rw_rules_free(r);
}
