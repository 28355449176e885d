/* Unit tests for rewriter/text.c: bare URLs in text/plain. */
#include <criterion/criterion.h>
#include <string.h>

#include "rewriter/html_int.h"

struct tcase {
    const char *text;
    const char *urls[3];
};

static const struct tcase cases[] = {
    {"see https://x.example/a?b=1 now", {"https://x.example/a?b=1"}},
    {"end of sentence http://x.example/p.", {"http://x.example/p"}},
    {"list: https://a.example/1, https://b.example/2; ok!", {"https://a.example/1", "https://b.example/2"}},
    {"(see https://x.example/wiki/Foo_(bar)) and (https://y.example/z)",
     {"https://x.example/wiki/Foo_(bar)", "https://y.example/z"}},
    {"<https://x.example/angle> and <URL:http://y.example/u>", {"https://x.example/angle", "http://y.example/u"}},
    {"quoted \"https://x.example/q\" 'https://y.example/s'", {"https://x.example/q", "https://y.example/s"}},
    {"HTTPS://UP.EXAMPLE/X\r\nnext", {"HTTPS://UP.EXAMPLE/X"}},
    {"nothttp://x.example/ http:// https://? ftp://x.example/", {NULL}},
    {"caf\xc3\xa9 https://x.example/\xc3\xa9t\xc3\xa9\xc2\xa0next", {"https://x.example/\xc3\xa9t\xc3\xa9"}},
    {"", {NULL}},
};

Test(text, urls)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *c = &cases[i];
        struct rw_sites s;
        size_t n = 0;
        memset(&s, 0, sizeof(s));
        while (n < 3 && c->urls[n])
            n++;
        cr_assert_eq(rw_text_scan(c->text, strlen(c->text), NULL, &s), RW_OK);
        cr_assert_eq(s.n, n, "%s: got %zu want %zu", c->text, s.n, n);
        for (size_t k = 0; k < n; k++) {
            cr_assert_str_eq(s.v[k].url, c->urls[k], "%s[%zu]", c->text, k);
            cr_assert_eq(s.v[k].len, strlen(c->urls[k]));
            cr_assert(memcmp(c->text + s.v[k].off, c->urls[k], s.v[k].len) == 0);
            cr_assert_eq(s.v[k].place, RW_P_TEXT);
            cr_assert_eq(s.v[k].esc, RW_ESC_NONE);
            cr_assert_not_null(s.v[k].text);
        }
        rw_sites_free(&s);
    }
}

Test(text, labels)
{
    const char *t = "Hello,\nTo unsubscribe:\nhttps://x.example/u\nRead   more: https://x.example/m\n";
    struct rw_sites s;

    memset(&s, 0, sizeof(s));
    cr_assert_eq(rw_text_scan(t, strlen(t), NULL, &s), RW_OK);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.v[0].text, "To unsubscribe:");
    cr_assert_str_eq(s.v[1].text, "Read more:");
    rw_sites_free(&s);
}

Test(text, not_nul_terminated_and_limit)
{
    char t[] = {'h', 't', 't', 'p', ':', '/', '/', 'x', '.', 'e', 'x', '/', 'a'};
    struct rw_limits lim = {20, 500, 8u << 20, 256, 64u << 10, 8, 5};
    struct rw_sites s;

    memset(&s, 0, sizeof(s));
    cr_assert_eq(rw_text_scan(t, sizeof(t), NULL, &s), RW_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.v[0].url, "http://x.ex/a");
    rw_sites_free(&s);
    cr_assert_eq(rw_text_scan(t, sizeof(t), &lim, &s), RW_ELIMIT);
    rw_sites_free(&s);
}
