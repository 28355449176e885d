/* Unit tests for rewriter/css.c: url() and @import sites with exact
 * ranges and decoded values, what must not be reported, inline-style
 * size/visibility hints and px parsing. */
#include <criterion/criterion.h>
#include <string.h>

#include "rewriter/html_int.h"

struct cwant {
    enum rw_place place;
    const char *raw;
    const char *url;
    enum rw_quote quote;
};

struct ccase {
    const char *css;
    struct cwant w[3];
};

static const struct ccase cases[] = {
    {"a{background:url(http://x/a.png)}", {{RW_P_CSS, "http://x/a.png", "http://x/a.png", RW_Q_NONE}}},
    {"a{background-image: url( \"http://x/b.png\" )}", {{RW_P_CSS, "http://x/b.png", "http://x/b.png", RW_Q_DOUBLE}}},
    {"li{list-style-image:URL('http://x/c.png')}", {{RW_P_CSS, "http://x/c.png", "http://x/c.png", RW_Q_SINGLE}}},
    {"p:after{content:url(http://x/d.gif)}", {{RW_P_CSS, "http://x/d.gif", "http://x/d.gif", RW_Q_NONE}}},
    {"@import url(http://x/s.css) screen;", {{RW_P_IMPORT, "http://x/s.css", "http://x/s.css", RW_Q_NONE}}},
    {"@IMPORT \"http://x/t.css\";@import 'http://x/u.css';",
     {{RW_P_IMPORT, "http://x/t.css", "http://x/t.css", RW_Q_DOUBLE},
      {RW_P_IMPORT, "http://x/u.css", "http://x/u.css", RW_Q_SINGLE}}},
    {"a{b:url(http://x/a\\(1\\).png)}", {{RW_P_CSS, "http://x/a\\(1\\).png", "http://x/a(1).png", RW_Q_NONE}}},
    {"a{b:url(\"http://x/\\41 b\")}", {{RW_P_CSS, "http://x/\\41 b", "http://x/Ab", RW_Q_DOUBLE}}},
    {"/* url(http://no/) */ a{content:\"url(http://no/)\"} b{c:myurl(http://no/)}", {{0, NULL, NULL, 0}}},
    {"a{b:url(http://no/ x)} c{d:url()} e{f:url(\"\")}", {{0, NULL, NULL, 0}}},
    {"@font-face{src:url(http://x/f.woff) format('woff'),url(http://x/g.ttf)}",
     {{RW_P_CSS, "http://x/f.woff", "http://x/f.woff", RW_Q_NONE},
      {RW_P_CSS, "http://x/g.ttf", "http://x/g.ttf", RW_Q_NONE}}},
    {"a{b:url(\"http://x/unterminated", {{RW_P_CSS, "http://x/unterminated", "http://x/unterminated", RW_Q_DOUBLE}}},
    /* issue 9 item 5: escaped function names and image-set() */
    {"a{b:u\\72l(http://x/e1)} c{d:\\75 RL(http://x/e2)} e{f:\\55\\52\\4c('http://x/e3')}",
     {{RW_P_CSS, "http://x/e1", "http://x/e1", RW_Q_NONE},
      {RW_P_CSS, "http://x/e2", "http://x/e2", RW_Q_NONE},
      {RW_P_CSS, "http://x/e3", "http://x/e3", RW_Q_SINGLE}}},
    {"a{b:image-set(\"http://x/i1\" 1x, 'http://x/i2' type(\"image/webp\") 2x, url(http://x/i3) 3x)}",
     {{RW_P_CSS, "http://x/i1", "http://x/i1", RW_Q_DOUBLE},
      {RW_P_CSS, "http://x/i2", "http://x/i2", RW_Q_SINGLE},
      {RW_P_CSS, "http://x/i3", "http://x/i3", RW_Q_NONE}}},
    {"a{b:-webkit-image-set(url('http://x/w1') 1x, \"http://x/w2\" 2x)} c{content:\"http://no/\"}",
     {{RW_P_CSS, "http://x/w1", "http://x/w1", RW_Q_SINGLE},
      {RW_P_CSS, "http://x/w2", "http://x/w2", RW_Q_DOUBLE}}},
    {"a{b:xurl(http://no/1); c:url\\(http://no/2); d:image-setx(\"http://no/3\")}", {{0, NULL, NULL, 0}}},
};

Test(css, sites_and_ranges)
{
    struct rw_limits lim = {20, 500, 8u << 20, 256, 64u << 10, 16u << 10, 5};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ccase *c = &cases[i];
        struct rw_sites s;
        size_t n = 0, base = 100;
        memset(&s, 0, sizeof(s));
        while (n < 3 && c->w[n].raw)
            n++;
        cr_assert_eq(rw_css_scan(c->css, strlen(c->css), base, RW_ESC_CSS, &lim, &s), RW_OK);
        cr_assert_eq(s.n, n, "%s: got %zu sites want %zu", c->css, s.n, n);
        for (size_t k = 0; k < n; k++) {
            const struct rw_site *g = &s.v[k];
            cr_assert_eq(g->place, c->w[k].place, "%s[%zu] place", c->css, k);
            cr_assert_eq(g->quote, c->w[k].quote, "%s[%zu] quote", c->css, k);
            cr_assert_eq(g->esc, RW_ESC_CSS);
            cr_assert(g->off >= base && g->len == strlen(c->w[k].raw)
                          && memcmp(c->css + g->off - base, c->w[k].raw, g->len) == 0,
                      "%s[%zu]: raw got [%.*s]", c->css, k, (int)g->len, c->css + g->off - base);
            cr_assert_str_eq(g->url, c->w[k].url, "%s[%zu]", c->css, k);
            cr_assert_eq(g->width, -1);
        }
        rw_sites_free(&s);
    }
}

Test(css, url_length_limit)
{
    struct rw_limits lim = {20, 500, 8u << 20, 256, 64u << 10, 32, 5};
    struct rw_sites s;
    const char *big = "a{b:url(http://x.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)}";
    const char *data = "a{b:url(data:image/png;base64,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)}";

    memset(&s, 0, sizeof(s));
    cr_assert_eq(rw_css_scan(big, strlen(big), 0, RW_ESC_CSS, &lim, &s), RW_ELIMIT);
    rw_sites_free(&s);
    cr_assert_eq(rw_css_scan(data, strlen(data), 0, RW_ESC_CSS, &lim, &s), RW_OK);
    cr_assert_eq(s.n, 0);
    rw_sites_free(&s);
}

Test(css, px)
{
    static const struct {
        const char *v;
        int want;
    } t[] = {{"1", 1},       {"1px", 1},   {" 12PX ", 12}, {"1.9px", 1}, {"50%", -1},
             {"auto", -1},   {"1em", -1},  {"", -1},       {"-1px", -1}, {"+3", 3},
             {"0", 0},       {"99999999", 1000000}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        cr_assert_eq(rw_css_px(t[i].v, strlen(t[i].v)), t[i].want, "%s: got %d want %d", t[i].v,
                     rw_css_px(t[i].v, strlen(t[i].v)), t[i].want);
}

Test(css, box)
{
    static const struct {
        const char *css;
        struct rw_css_box want;
    } t[] = {
        {"width:1px;height:2px", {1, 2, -1, -1, 0}},
        {"max-width: 3px !important; max-height:4px", {-1, -1, 3, 4, 0}},
        {"display:none", {-1, -1, -1, -1, 1}},
        {"DISPLAY : NONE", {-1, -1, -1, -1, 1}},
        {"display:block; visibility:hidden", {-1, -1, -1, -1, 1}},
        {"opacity:0", {-1, -1, -1, -1, 1}},
        {"opacity:0%", {-1, -1, -1, -1, 1}},
        {"opacity:.5", {-1, -1, -1, -1, 0}},
        {"background:url(a;b);width:5px", {5, -1, -1, -1, 0}},
        {"font-family:'a;width:9px';height:7px", {-1, 7, -1, -1, 0}},
        {"", {-1, -1, -1, -1, 0}},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct rw_css_box b;
        rw_css_box(t[i].css, strlen(t[i].css), &b);
        cr_assert(b.width == t[i].want.width && b.height == t[i].want.height
                      && b.max_width == t[i].want.max_width
                      && b.max_height == t[i].want.max_height && b.hidden == t[i].want.hidden,
                  "%s: got %d %d %d %d %d", t[i].css, b.width, b.height, b.max_width,
                  b.max_height, b.hidden);
    }
}
