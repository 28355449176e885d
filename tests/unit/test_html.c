/* Unit tests for the HTML scanner (rewriter/html*.c): every place of
 * SPEC §3.1 with its exact byte range, image size and visibility, link
 * text, body_close, MSO comments, hostile input, escape+patch round trips,
 * and a sanity pass over the shared corpus. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/html_int.h"

static struct rw_limits test_limits(void)
{
    struct rw_limits l = {20, 500, 8u << 20, 256, 64u << 10, 16u << 10, 5};
    return l;
}

static int scan(const char *html, size_t len, struct rw_sites *s, size_t *skipped)
{
    struct rw_limits l = test_limits();
    char err[128];

    memset(s, 0, sizeof(*s));
    return rw_html_scan_ex(html, len, &l, s, err, sizeof(err), skipped);
}

struct want {
    enum rw_place place;
    const char *raw; /* exact bytes of the range */
    const char *url;
    int in_mso;
};

struct tcase {
    const char *name;
    const char *html;
    struct want w[5];
};

static const struct tcase cases[] = {
    {"img dq", "<p><img src=\"http://t.example/o.gif\" width=\"1\" height=\"1\"></p>",
     {{RW_P_IMG, "http://t.example/o.gif", "http://t.example/o.gif", 0}}},
    {"img upper unquoted", "<IMG SRC=http://x.example/a.gif ALT=x>",
     {{RW_P_IMG, "http://x.example/a.gif", "http://x.example/a.gif", 0}}},
    {"img sq", "<img src='http://x.example/a.gif'>",
     {{RW_P_IMG, "http://x.example/a.gif", "http://x.example/a.gif", 0}}},
    {"img xml-style", "<img src=\"http://x.example/a.gif\"/><br/>",
     {{RW_P_IMG, "http://x.example/a.gif", "http://x.example/a.gif", 0}}},
    {"img spaced", "<img\n  src = \" http://x.example/s.gif \" >",
     {{RW_P_IMG, " http://x.example/s.gif ", "http://x.example/s.gif", 0}}},
    {"wrapped href", "<a href=\"http://x.example/very/\n\tlong\">t</a>",
     {{RW_P_A, "http://x.example/very/\n\tlong", "http://x.example/very/long", 0}}},
    {"a entity", "<a href=\"http://x.example/?a=1&amp;b=2&#38;c=3\">t</a>",
     {{RW_P_A, "http://x.example/?a=1&amp;b=2&#38;c=3", "http://x.example/?a=1&b=2&c=3", 0}}},
    {"gt in quoted", "<a title=\"a>b<c\" href=\"http://x.example/g\">t</a>",
     {{RW_P_A, "http://x.example/g", "http://x.example/g", 0}}},
    {"duplicate attr", "<a href=\"http://first.example/\" HREF=\"http://second.example/\">t</a>",
     {{RW_P_A, "http://first.example/", "http://first.example/", 0}}},
    {"srcset", "<img srcset=\"http://x.example/a.png 1x, http://x.example/b.png 2x\">",
     {{RW_P_SRCSET, "http://x.example/a.png", "http://x.example/a.png", 0},
      {RW_P_SRCSET, "http://x.example/b.png", "http://x.example/b.png", 0}}},
    {"srcset entity", "<img srcset=\"http://x.example/a?x=1&amp;y=2 1x,http://x.example/b.png\">",
     {{RW_P_SRCSET, "http://x.example/a?x=1&amp;y=2", "http://x.example/a?x=1&y=2", 0},
      {RW_P_SRCSET, "http://x.example/b.png", "http://x.example/b.png", 0}}},
    {"background", "<body background=\"http://x.example/b.png\"><table><tr>"
                   "<td BACKGROUND=http://x.example/td.png>x</td></tr></table></body>",
     {{RW_P_BACKGROUND, "http://x.example/b.png", "http://x.example/b.png", 0},
      {RW_P_BACKGROUND, "http://x.example/td.png", "http://x.example/td.png", 0}}},
    {"style unquoted url", "<div style=\"background-image:url(http://x.example/a.png)\">x</div>",
     {{RW_P_CSS, "http://x.example/a.png", "http://x.example/a.png", 0}}},
    {"style quoted url", "<td style=\"color:red; background: URL( 'http://x.example/b.png' )\">",
     {{RW_P_CSS, "http://x.example/b.png", "http://x.example/b.png", 0}}},
    {"style entity quotes", "<div style=\"list-style-image:url(&quot;http://x.example/c.png&quot;)\">",
     {{RW_P_CSS, "http://x.example/c.png", "http://x.example/c.png", 0}}},
    {"style element", "<style>@import url(\"http://x.example/s.css\");\n@import 'http://x.example/t.css';\n"
                      ".a{background:url(http://x.example/u.png)} /* url(http://no.example/) */</style>",
     {{RW_P_IMPORT, "http://x.example/s.css", "http://x.example/s.css", 0},
      {RW_P_IMPORT, "http://x.example/t.css", "http://x.example/t.css", 0},
      {RW_P_CSS, "http://x.example/u.png", "http://x.example/u.png", 0}}},
    {"link stylesheet", "<link rel=\"StyleSheet\" href=\"http://x.example/s.css\"><link rel=icon href=\"http://x.example/i.ico\">",
     {{RW_P_STYLESHEET, "http://x.example/s.css", "http://x.example/s.css", 0},
      {RW_P_LINK_RES, "http://x.example/i.ico", "http://x.example/i.ico", 0}}},
    {"input image", "<input type=\"image\" src=\"http://x.example/btn.png\"><input type=text src=\"http://no.example/\">",
     {{RW_P_INPUT, "http://x.example/btn.png", "http://x.example/btn.png", 0}}},
    {"video poster", "<video poster=\"http://x.example/p.jpg\" src=\"v.mp4\"></video>",
     {{RW_P_POSTER, "http://x.example/p.jpg", "http://x.example/p.jpg", 0},
      {RW_P_MEDIA, "v.mp4", "v.mp4", 0}}},
    {"area", "<map name=m><area shape=rect coords=\"0,0,1,1\" href=\"http://x.example/ar\" alt=\"Area\"></map>",
     {{RW_P_AREA, "http://x.example/ar", "http://x.example/ar", 0}}},
    {"mso vml button",
     "<div><!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" href=\"http://x.example/btn\" "
     "style=\"height:40px\"><v:fill type=\"tile\" src=\"http://x.example/bg.png\" /><center>Go</center>"
     "</v:roundrect><![endif]--><a href=\"http://x.example/btn\">Go</a></div>",
     {{RW_P_VML_HREF, "http://x.example/btn", "http://x.example/btn", 1},
      {RW_P_VML_IMG, "http://x.example/bg.png", "http://x.example/bg.png", 1},
      {RW_P_A, "http://x.example/btn", "http://x.example/btn", 0}}},
    {"mso gte 9 vml", "<!--[if gte mso 9]><v:image src=\"http://x.example/i.png\"/><v:rect href=\"http://x.example/r\">"
                      "</v:rect><v:oval href='http://x.example/o'></v:oval><v:imagedata src=http://x.example/d.png><![endif]-->",
     {{RW_P_VML_IMG, "http://x.example/i.png", "http://x.example/i.png", 1},
      {RW_P_VML_HREF, "http://x.example/r", "http://x.example/r", 1},
      {RW_P_VML_HREF, "http://x.example/o", "http://x.example/o", 1},
      {RW_P_VML_IMG, "http://x.example/d.png", "http://x.example/d.png", 1}}},
    {"ordinary comment", "<p><!-- <img src=\"http://no.example/x.gif\"> --><img src=\"http://x.example/y.gif\"></p>",
     {{RW_P_IMG, "http://x.example/y.gif", "http://x.example/y.gif", 0}}},
    {"downlevel revealed", "<!--[if !mso]><!--><a href=\"http://x.example/y\">y</a><!--<![endif]-->",
     {{RW_P_A, "http://x.example/y", "http://x.example/y", 0}}},
    /* issue 13 (tests/hostile): comments that never end */
    {"unterminated comment hides the rest", "<img src=\"http://x.example/a\"><!-- <img src=\"http://no.example/b\">",
     {{RW_P_IMG, "http://x.example/a", "http://x.example/a", 0}}},
    {"unterminated mso comment is read by Outlook",
     "<p>a</p><!--[if mso]><img src=\"http://x.example/o\"><![endif] <img src=\"http://x.example/p\">",
     {{RW_P_IMG, "http://x.example/o", "http://x.example/o", 1},
      {RW_P_IMG, "http://x.example/p", "http://x.example/p", 1}}},
    {"abrupt empty comments end at once",
     "<!--><img src=\"http://x.example/a\"><!---><img src=\"http://x.example/b\"><!---->"
     "<img src=\"http://x.example/c\"><!--!><img src=\"http://no.example/d\">-->",
     {{RW_P_IMG, "http://x.example/a", "http://x.example/a", 0},
      {RW_P_IMG, "http://x.example/b", "http://x.example/b", 0},
      {RW_P_IMG, "http://x.example/c", "http://x.example/c", 0}}},
    {"bogus attrs", "<a \"x\" =y href=http://x.example/b>t</a>",
     {{RW_P_A, "http://x.example/b", "http://x.example/b", 0}}},
    {"source order", "<td style=\"background:url(http://x.example/c)\" background=\"http://x.example/b\">"
                     "<a style=\"background:url(http://x.example/d)\" href=\"http://x.example/e\">e</a>",
     {{RW_P_CSS, "http://x.example/c", "http://x.example/c", 0},
      {RW_P_BACKGROUND, "http://x.example/b", "http://x.example/b", 0},
      {RW_P_CSS, "http://x.example/d", "http://x.example/d", 0},
      {RW_P_A, "http://x.example/e", "http://x.example/e", 0}}},
    {"picture source", "<picture><source srcset=\"http://x.example/w.webp\" type=image/webp><img src=http://x.example/f.png></picture>",
     {{RW_P_SRCSET, "http://x.example/w.webp", "http://x.example/w.webp", 0},
      {RW_P_IMG, "http://x.example/f.png", "http://x.example/f.png", 0}}},
    {"input upper type", "<INPUT TYPE=IMAGE SRC=\"http://x.example/i\">",
     {{RW_P_INPUT, "http://x.example/i", "http://x.example/i", 0}}},
    {"alternate stylesheet", "<link href='http://x.example/a.css' rel=\"alternate stylesheet\">",
     {{RW_P_STYLESHEET, "http://x.example/a.css", "http://x.example/a.css", 0}}},
    /* issue 9 item 5 / issue 14 item 1: every form a mail client fetches,
     * with the URL as the browser resolves it */
    {"scheme-relative", "<img src=\"//t.example/track/ID\" width=\"1\" height=\"1\">"
                        "<a href=\"//t.example/c\">c</a><td background=\"//t.example/b\">",
     {{RW_P_IMG, "//t.example/track/ID", "https://t.example/track/ID", 0},
      {RW_P_A, "//t.example/c", "https://t.example/c", 0},
      {RW_P_BACKGROUND, "//t.example/b", "https://t.example/b", 0}}},
    {"base href", "<head><base href=\"https://tracker.example/open/\"></head>"
                  "<img src=\"p.gif?u=1\"><a href=\"/c/2\">x</a><img src=\"../o/3\">",
     {{RW_P_IMG, "p.gif?u=1", "https://tracker.example/open/p.gif?u=1", 0},
      {RW_P_A, "/c/2", "https://tracker.example/c/2", 0},
      {RW_P_IMG, "../o/3", "https://tracker.example/o/3", 0}}},
    {"base href after", "<img src=\"p.gif\"><base href=\"//tracker.example/x/y\"><base href=\"http://no.example/\">",
     {{RW_P_IMG, "p.gif", "https://tracker.example/x/p.gif", 0}}},
    {"backslashes", "<img src=\"https:\\\\t.example\\track/o?a=\\b\"><img src=\"\\\\t.example\\o\">",
     {{RW_P_IMG, "https:\\\\t.example\\track/o?a=\\b", "https://t.example/track/o?a=\\b", 0},
      {RW_P_IMG, "\\\\t.example\\o", "https://t.example/o", 0}}},
    {"scheme case, slashes, host escapes, dots",
     "<img src=\"HTTPS:t.example/a\"><img src=\"https:///T%2Eexample/x/../open/./p\">"
     "<img src=\"\x0bhttps://t.example/%2e%2E/open \">",
     {{RW_P_IMG, "HTTPS:t.example/a", "https://t.example/a", 0},
      {RW_P_IMG, "https:///T%2Eexample/x/../open/./p", "https://t.example/open/p", 0},
      {RW_P_IMG, "\x0bhttps://t.example/%2e%2E/open ", "https://t.example/open", 0}}},
    {"svg image", "<svg><image href=\"https://t.example/a\" width=1 height=1/>"
                  "<image xlink:href=\"https://t.example/b\"/><use href=\"//t.example/c#i\"/></svg>",
     {{RW_P_SVG_IMG, "https://t.example/a", "https://t.example/a", 0},
      {RW_P_SVG_IMG, "https://t.example/b", "https://t.example/b", 0},
      {RW_P_SVG_IMG, "//t.example/c#i", "https://t.example/c#i", 0}}},
    {"media", "<video src=\"https://t.example/v\"><source src=\"https://t.example/s\">"
              "<track src=\"https://t.example/t\"></video><audio src=\"//t.example/a\"></audio>",
     {{RW_P_MEDIA, "https://t.example/v", "https://t.example/v", 0},
      {RW_P_MEDIA, "https://t.example/s", "https://t.example/s", 0},
      {RW_P_MEDIA, "https://t.example/t", "https://t.example/t", 0},
      {RW_P_MEDIA, "//t.example/a", "https://t.example/a", 0}}},
    {"frames and objects", "<iframe src=\"https://t.example/f\"></iframe><object data=\"https://t.example/o\"></object>"
                           "<embed src=\"https://t.example/e\"><image src=\"https://t.example/i\">",
     {{RW_P_FRAME, "https://t.example/f", "https://t.example/f", 0},
      {RW_P_FRAME, "https://t.example/o", "https://t.example/o", 0},
      {RW_P_FRAME, "https://t.example/e", "https://t.example/e", 0},
      {RW_P_IMG, "https://t.example/i", "https://t.example/i", 0}}},
    {"link resources", "<link rel=\"shortcut icon\" href=\"https://t.example/i\"><link rel=prefetch href=\"https://t.example/p\">"
                       "<link rel=preload as=image href=\"//t.example/l\"><link rel=canonical href=\"https://no.example/\">",
     {{RW_P_LINK_RES, "https://t.example/i", "https://t.example/i", 0},
      {RW_P_LINK_RES, "https://t.example/p", "https://t.example/p", 0},
      {RW_P_LINK_RES, "//t.example/l", "https://t.example/l", 0}}},
    {"amp", "<amp-img src=\"https://t.example/a\" width=1 height=1 layout=fixed></amp-img>"
            "<amp-list src=\"https://t.example/l\"></amp-list><amp-analytics config=\"https://t.example/c\"></amp-analytics>"
            "<amp-anim srcset=\"https://t.example/n 1x\"></amp-anim>",
     {{RW_P_IMG, "https://t.example/a", "https://t.example/a", 0},
      {RW_P_FETCH, "https://t.example/l", "https://t.example/l", 0},
      {RW_P_FETCH, "https://t.example/c", "https://t.example/c", 0},
      {RW_P_SRCSET, "https://t.example/n", "https://t.example/n", 0}}},
    {"amp fetches", "<amp-autocomplete src=\"https://t.example/ac\"></amp-autocomplete>"
                    "<amp-render src=\"//t.example/r\"></amp-render><amp-state id=s src=\"https://t.example/s\"></amp-state>"
                    "<amp-pixel src=\"https://t.example/p\"></amp-pixel>",
     {{RW_P_FETCH, "https://t.example/ac", "https://t.example/ac", 0},
      {RW_P_FETCH, "//t.example/r", "https://t.example/r", 0},
      {RW_P_FETCH, "https://t.example/s", "https://t.example/s", 0},
      {RW_P_FETCH, "https://t.example/p", "https://t.example/p", 0}}},
    {"meta refresh", "<meta http-equiv=\"Refresh\" content=\"0; URL='//t.example/m?a=1&amp;b=2'\">"
                     "<meta http-equiv=refresh content=\"5\"><meta name=x content=\"https://no.example/\">",
     {{RW_P_FRAME, "0; URL='//t.example/m?a=1&amp;b=2'", "https://t.example/m?a=1&b=2", 0}}},
    {"css entity in style", "<div style=\"background:u&#114;l(//t.example/e)\">",
     {{RW_P_CSS, "//t.example/e", "https://t.example/e", 0}}},
    {"css escapes and image-set", "<div style=\"background:u\\72l(//t.example/a)\">"
                                  "<style>.x{background-image:image-set(\"https://t.example/b\" 1x,url(https://t.example/c) 2x)}</style>",
     {{RW_P_CSS, "//t.example/a", "https://t.example/a", 0},
      {RW_P_CSS, "https://t.example/b", "https://t.example/b", 0},
      {RW_P_CSS, "https://t.example/c", "https://t.example/c", 0}}},
    {"no sites", "<html><body><p>hello <b>world</b></p><img alt=x></body></html>", {{0, NULL, NULL, 0}}},
};

static size_t nwant(const struct tcase *c)
{
    size_t n = 0;
    while (n < 5 && c->w[n].raw != NULL)
        n++;
    return n;
}

Test(html, places_and_exact_ranges)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *c = &cases[i];
        struct rw_sites s;
        size_t skipped = 9, n = nwant(c), len = strlen(c->html);
        int rc = scan(c->html, len, &s, &skipped);
        cr_assert_eq(rc, RW_OK, "%s: rc got %d want 0", c->name, rc);
        cr_assert_eq(skipped, 0, "%s: skipped %zu", c->name, skipped);
        cr_assert_eq(s.n, n, "%s: sites got %zu want %zu", c->name, s.n, n);
        for (size_t k = 0; k < n; k++) {
            const struct rw_site *g = &s.v[k];
            const struct want *w = &c->w[k];
            cr_assert_eq(g->place, w->place, "%s[%zu]: place got %d want %d", c->name, k,
                         g->place, w->place);
            cr_assert(g->off + g->len <= len, "%s[%zu]: range outside", c->name, k);
            cr_assert(g->len == strlen(w->raw) && memcmp(c->html + g->off, w->raw, g->len) == 0,
                      "%s[%zu]: raw got [%.*s] want [%s]", c->name, k, (int)g->len,
                      c->html + g->off, w->raw);
            cr_assert_str_eq(g->url, w->url, "%s[%zu]: url", c->name, k);
            cr_assert_eq(g->in_mso, w->in_mso, "%s[%zu]: in_mso", c->name, k);
        }
        rw_sites_free(&s);
    }
}

Test(html, quote_and_escape_context)
{
    const char *h = "<img src='http://a.example/x'><a href=http://b.example/>b</a>"
                    "<p style=\"background:url('http://c.example/')\"></p><style>p{background:url(http://d.example/)}</style>";
    struct rw_sites s;

    cr_assert_eq(scan(h, strlen(h), &s, NULL), RW_OK);
    cr_assert_eq(s.n, 4);
    cr_assert_eq(s.v[0].quote, RW_Q_SINGLE);
    cr_assert_eq(s.v[0].esc, RW_ESC_ATTR);
    cr_assert_eq(s.v[1].quote, RW_Q_NONE);
    cr_assert_eq(s.v[2].quote, RW_Q_SINGLE);
    cr_assert_eq(s.v[2].esc, RW_ESC_CSS_ATTR);
    cr_assert_eq(s.v[3].quote, RW_Q_NONE);
    cr_assert_eq(s.v[3].esc, RW_ESC_CSS);
    rw_sites_free(&s);
}

struct boxcase {
    const char *html;
    int w, h, hidden;
};

Test(html, image_size_and_visibility)
{
    static const struct boxcase bc[] = {
        {"<img src=\"http://x/p\" width=\"1\" height=\"1\">", 1, 1, 0},
        {"<img src=\"http://x/p\" width=\"100%\" height=\"20px\">", -1, 20, 0},
        {"<img src=\"http://x/p\" width=600 style=\"width:1px;height:2px\">", 1, 2, 0},
        {"<img src=\"http://x/p\" width=600 style=\"max-width:300px\">", 300, -1, 0},
        {"<img src=\"http://x/p\" style=\"max-width:1px;max-height:1px\">", 1, 1, 0},
        {"<img src=\"http://x/p\" style=\"max-width:600px\">", -1, -1, 0},
        {"<img src=\"http://x/p\" style=\"display: none !important\">", -1, -1, 1},
        {"<img src=\"http://x/p\" style=\"visibility:hidden\">", -1, -1, 1},
        {"<img src=\"http://x/p\" style=\"opacity:0.0\">", -1, -1, 1},
        {"<img src=\"http://x/p\" style=\"opacity:0.5\">", -1, -1, 0},
        {"<img src=\"http://x/p\" width=\"0\" height=\"0\">", 0, 0, 1},
        {"<img src=\"http://x/p\" hidden>", -1, -1, 1},
        {"<img src=\"http://x/p\" style=\"WIDTH:1PX;/*c*/HEIGHT : 1px\">", 1, 1, 0},
        {"<div style=\"display:none\"><p><img src=\"http://x/p\"></p></div>", -1, -1, 1},
        {"<div style=\"display:none\"></div><img src=\"http://x/p\">", -1, -1, 0},
        {"<table hidden><tr><td><img src=\"http://x/p\"></table>", -1, -1, 1},
        {"<div style=\"overflow:hidden\"><img src=\"http://x/p\"></div>", -1, -1, 0},
        {"<iframe src=\"http://x/p\" width=1 height=1></iframe>", 1, 1, 0},
        {"<iframe src=\"http://x/p\" style=\"display:none\"></iframe>", -1, -1, 1},
        {"<svg><image href=\"http://x/p\" width=\"0\" height=\"0\"/></svg>", 0, 0, 1},
        {"<amp-img src=\"http://x/p\" width=\"1\" height=\"1\"></amp-img>", 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof(bc) / sizeof(bc[0]); i++) {
        struct rw_sites s;
        cr_assert_eq(scan(bc[i].html, strlen(bc[i].html), &s, NULL), RW_OK);
        cr_assert_eq(s.n, 1, "%s", bc[i].html);
        cr_assert_eq(s.v[0].width, bc[i].w, "%s: width got %d want %d", bc[i].html, s.v[0].width, bc[i].w);
        cr_assert_eq(s.v[0].height, bc[i].h, "%s: height got %d want %d", bc[i].html, s.v[0].height, bc[i].h);
        cr_assert_eq(s.v[0].hidden, bc[i].hidden, "%s: hidden", bc[i].html);
        cr_assert_null(s.v[0].text);
        rw_sites_free(&s);
    }
}

Test(html, link_text)
{
    const char *h = "<a style=\"background:url(http://x/bg)\" href=\"http://x/1\" title=\"T\">  Click \n\t <b>here</b>&amp;now "
                    "<img src=\"http://x/logo\" alt=\"Logo\"></a>"
                    "<a href=\"http://x/2\"></a><area href=\"http://x/3\" alt=\"Unsubscribe\">";
    struct rw_sites s;

    cr_assert_eq(scan(h, strlen(h), &s, NULL), RW_OK);
    cr_assert_eq(s.n, 5);
    cr_assert_eq(s.v[0].place, RW_P_CSS);
    cr_assert_null(s.v[0].text);
    cr_assert_str_eq(s.v[1].text, "T Click here&now Logo");
    cr_assert_str_eq(s.v[3].text, "");
    cr_assert_str_eq(s.v[4].text, "Unsubscribe");
    rw_sites_free(&s);
}

Test(html, vml_button_text)
{
    const char *h = "<!--[if mso]><v:roundrect href=\"http://x/b\"><w:anchorlock/>"
                    "<center style=\"color:#fff\">Buy&nbsp;now</center></v:roundrect><![endif]-->";
    struct rw_sites s;

    cr_assert_eq(scan(h, strlen(h), &s, NULL), RW_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.v[0].place, RW_P_VML_HREF);
    cr_assert_eq(s.v[0].in_mso, 1);
    cr_assert_str_eq(s.v[0].text, "Buy now");
    rw_sites_free(&s);
}

Test(html, link_text_is_capped)
{
    char h[2000];
    struct rw_sites s;
    size_t n = (size_t)snprintf(h, sizeof(h), "<a href=\"http://x/\">");

    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(h + n, sizeof(h) - n, "\xc3\xa9"); /* é: 2 bytes */
    n += (size_t)snprintf(h + n, sizeof(h) - n, "</a>");
    cr_assert_eq(scan(h, n, &s, NULL), RW_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(strlen(s.v[0].text), 256);
    rw_sites_free(&s);
}

struct bodycase {
    const char *html;
    int nth; /* the expected </body is the nth occurrence (1-based), 0: none */
};

static ssize_t nth_body(const char *h, int nth)
{
    for (const char *p = h; *p; p++)
        if (strncasecmp(p, "</body", 6) == 0 && --nth == 0)
            return p - h;
    return -1;
}

Test(html, body_close)
{
    static const struct bodycase bc[] = {
        {"<html><body><p>x</p></body></html>", 1},
        {"<html><body><p>x</p></BODY ></html>", 1},
        {"<html><body><p>x</p><!-- </body> --></body>\n</html>", 2},
        {"<html><body><p>x</p>", 0},
        {"<p>x</p><script>var a='</body>';</script>", 0},
        {"<html><body>a</body></html><html><body>b</body></html>", 2},
        {"<p title=\"</body>\">x</p>", 0},
        {"<!--[if mso]></body><![endif]--><p>x", 0},
    };
    for (size_t i = 0; i < sizeof(bc) / sizeof(bc[0]); i++) {
        struct rw_sites s;
        const char *h = bc[i].html;
        ssize_t want = bc[i].nth ? nth_body(h, bc[i].nth) : -1;
        cr_assert_eq(scan(h, strlen(h), &s, NULL), RW_OK);
        cr_assert_eq(s.body_close, want, "%s: got %zd want %zd", h, s.body_close, want);
        rw_sites_free(&s);
    }
}

/* Unclosed junk nested deeper than libxml2's DOM limit (256): mail
 * clients render it, so the scan goes on and finds the pixel after it. */
Test(html, deep_nesting_is_scanned, .timeout = 30)
{
    static const size_t depth[] = {300, 3000, 100000};
    static const char tail[] = "<img src=\"http://t.example/open.gif\" width=1 height=1>";
    struct rw_limits l;
    struct rw_sites s;
    char err[128] = "";

    rw_limits_default(&l);
    for (size_t k = 0; k < sizeof depth / sizeof depth[0]; k++) {
        size_t n = depth[k], len = n * 6 + sizeof tail;
        char *h = malloc(len);

        for (size_t i = 0; i < n; i++)
            memcpy(h + i * 6, i % 2 ? "<font>" : "<div >", 6);
        memcpy(h + n * 6, tail, sizeof tail);
        memset(&s, 0, sizeof s);
        cr_assert_eq(rw_html_scan(h, len - 1, &l, &s, err, sizeof err), RW_OK,
                     "depth %zu: %s", n, err);
        cr_assert_eq(s.n, 1, "depth %zu: got %zu sites want 1", n, s.n);
        cr_assert_str_eq(s.v[0].url, "http://t.example/open.gif");
        cr_assert_eq(s.v[0].off, n * 6 + 10, "depth %zu: off %zu", n, s.v[0].off);
        rw_sites_free(&s);
        free(h);
    }
}

/* The nesting limit is a memory bound and still holds. */
Test(html, hostile_deep_nesting_is_a_limit)
{
    size_t n = 1000, len = n * 5;
    char *h = malloc(len + 1);
    struct rw_sites s;

    for (size_t i = 0; i < n; i++)
        memcpy(h + i * 5, "<div>", 5);
    cr_assert_eq(scan(h, len, &s, NULL), RW_ELIMIT); /* test limit: 256 */
    rw_sites_free(&s);
    free(h);
}

/* Stray end tags under deep nesting cost libxml2 a walk of its whole
 * stack each: refused in bounded time, while a few are fine. */
Test(html, hostile_stray_end_tags_are_a_limit, .timeout = 30)
{
    size_t n = 40000, len = 0;
    char *h = malloc(n * 10 + 64);
    struct rw_limits l;
    struct rw_sites s;
    char err[128] = "";

    rw_limits_default(&l);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(h + len, "<div>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(h + len, "</b>");
    memset(&s, 0, sizeof s);
    cr_assert_eq(rw_html_scan(h, len, &l, &s, err, sizeof err), RW_ELIMIT);
    cr_assert(strstr(err, "end tags that close nothing") != NULL, "err: %s", err);
    rw_sites_free(&s);
    len = n * 5 / 10; /* 4000 deep, 1000 stray end tags: junk mail, fine */
    for (size_t i = 0; i < 1000; i++)
        len += (size_t)sprintf(h + len, "</b>");
    len += (size_t)sprintf(h + len, "<img src=\"http://t.example/o.gif\">");
    memset(&s, 0, sizeof s);
    cr_assert_eq(rw_html_scan(h, len, &l, &s, err, sizeof err), RW_OK, "%s", err);
    cr_assert_eq(s.n, 1);
    rw_sites_free(&s);
    /* one end tag closing 40000 elements (an error for each) is linear */
    for (size_t i = len = 0; i < n; i++)
        len += (size_t)sprintf(h + len, "<b>");
    len += (size_t)sprintf(h + len, "</body><img src=\"http://t.example/o.gif\">");
    memset(&s, 0, sizeof s);
    cr_assert_eq(rw_html_scan(h, len, &l, &s, err, sizeof err), RW_OK, "%s", err);
    cr_assert_eq(s.n, 1);
    rw_sites_free(&s);
    free(h);
}

Test(html, hostile_long_attribute)
{
    size_t n = 200000;
    char *h = malloc(n + 64);
    struct rw_sites s;
    int len;

    len = snprintf(h, n + 64, "<img src=\"http://x.example/%0*d\">", (int)(n - 40), 7);
    cr_assert_eq(scan(h, (size_t)len, &s, NULL), RW_ELIMIT);
    rw_sites_free(&s);
    /* a long data: image is not a tracker and not an error */
    memcpy(h + 10, " data:image/png;base64,AAAA", 27);
    cr_assert_eq(scan(h, (size_t)len, &s, NULL), RW_OK);
    cr_assert_eq(s.n, 0);
    rw_sites_free(&s);
    /* nor in a long style="", whose other url() are still found */
    len = snprintf(h, n + 64, "<td style=\"background:url(data:image/png;base64,%0*d) ;"
                              "list-style-image:url(http://x/y)\">", (int)(n - 120), 7);
    cr_assert_eq(scan(h, (size_t)len, &s, NULL), RW_OK);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.v[0].url, "http://x/y");
    rw_sites_free(&s);
    free(h);
}

Test(html, hostile_attribute_count_is_a_limit, .timeout = 30)
{
    /* libxml2's duplicate check is quadratic in the attributes of a tag */
    size_t n = 100000, len = 0;
    char *h = malloc(n * 12 + 64);
    struct rw_sites s;

    len += (size_t)sprintf(h, "<img src=\"http://x/\"");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(h + len, " a%zu", i);
    len += (size_t)sprintf(h + len, ">");
    cr_assert_eq(scan(h, len, &s, NULL), RW_ELIMIT);
    rw_sites_free(&s);
    /* many ordinary tags, and one tag repeating a name, are fine */
    len = (size_t)sprintf(h, "<img src=\"http://x/\"");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(h + len, " a=%zu", i);
    len += (size_t)sprintf(h + len, ">");
    cr_assert_eq(scan(h, len, &s, NULL), RW_OK);
    cr_assert_eq(s.n, 1);
    rw_sites_free(&s);
    for (size_t i = len = 0; i < n / 10; i++)
        len += (size_t)sprintf(h + len, "<img class=a style=b width=1 height=2 align=c valign=d>");
    cr_assert_eq(scan(h, len, &s, NULL), RW_OK);
    rw_sites_free(&s);
    free(h);
}

Test(html, hostile_bytes_keep_offsets)
{
    /* NUL, invalid UTF-8 and a BOM before the link must not move offsets */
    static const char h[] = "\xef\xbb\xbf<meta charset=iso-8859-1><p>a\0b \xff\xfe\xc3 x"
                            "<a href=\"http://x.example/\xc3\xa9\">\xe9t\xe9</a><img src=http://x.example/i>";
    size_t len = sizeof(h) - 1;
    struct rw_sites s;

    cr_assert_eq(scan(h, len, &s, NULL), RW_OK);
    cr_assert_eq(s.n, 2);
    cr_assert(memcmp(h + s.v[0].off, "http://x.example/\xc3\xa9", s.v[0].len) == 0);
    cr_assert_str_eq(s.v[0].url, "http://x.example/\xc3\xa9");
    cr_assert(memcmp(h + s.v[1].off, "http://x.example/i", s.v[1].len) == 0);
    rw_sites_free(&s);
}

Test(html, hostile_truncated_and_empty)
{
    static const char *docs[] = {"", "<", "<a", "<a href=\"http://x.example/", "<img src=http://x.example/a",
                                 "<!--[if mso]><v:fill src=\"http://x", "<style>a{b:url(http://x",
                                 "</body></body></body>", "<a href=x><a href=y><a href=z>"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct rw_sites s;
        size_t len = strlen(docs[i]);
        cr_assert_eq(scan(docs[i], len, &s, NULL), RW_OK, "%s", docs[i]);
        for (size_t k = 0; k < s.n; k++)
            cr_assert(s.v[k].off + s.v[k].len <= len);
        rw_sites_free(&s);
    }
}

Test(html, hostile_many_fake_candidates_is_linear, .timeout = 30)
{
    /* a gap without parser events full of "<a" whose attributes run to the
     * real tag's end must not make the tag search quadratic */
    static const char *frag[] = {"<a x='", "<a x="};
    for (size_t f = 0; f < 2; f++) {
        size_t n = 200000, len = 0;
        char *h = malloc(n * 8 + 64);
        struct rw_sites s;
        len += (size_t)sprintf(h, "<p></x ");
        for (size_t i = 0; i < n; i++)
            len += (size_t)sprintf(h + len, "%s", frag[f]);
        len += (size_t)sprintf(h + len, "><a href=\"http://x/\">t</a>");
        cr_assert_eq(scan(h, len, &s, NULL), RW_OK);
        cr_assert_eq(s.n, 1, "%s: the real link must still be found", frag[f]);
        cr_assert_str_eq(s.v[0].url, "http://x/");
        rw_sites_free(&s);
        free(h);
    }
}

/* Replace every site by a new URL, re-scan: libxml2 must read it back. */
static void round_trip(const char *h, const char *url, const char *css_url)
{
    struct rw_sites s, s2;
    struct rw_patch *p;
    struct buf *e, out = BUF_INIT(0);

    cr_assert_eq(scan(h, strlen(h), &s, NULL), RW_OK);
    cr_assert_gt(s.n, 0);
    p = calloc(s.n, sizeof(*p));
    e = calloc(s.n, sizeof(*e));
    for (size_t i = 0; i < s.n; i++) {
        int css = s.v[i].esc == RW_ESC_CSS || s.v[i].esc == RW_ESC_CSS_ATTR;
        cr_assert_eq(rw_site_escape(&s.v[i], css ? css_url : url, &e[i]), RW_OK);
        p[i].off = s.v[i].off;
        p[i].len = s.v[i].len;
        p[i].repl = buf_cstr(&e[i]);
        p[i].repl_len = e[i].len;
    }
    cr_assert_eq(rw_patch_apply(h, strlen(h), p, s.n, &out), RW_OK);
    cr_assert_eq(scan(out.data, out.len, &s2, NULL), RW_OK);
    cr_assert_eq(s2.n, s.n, "%s -> %s", h, out.data);
    for (size_t i = 0; i < s.n; i++) {
        int css = s.v[i].esc == RW_ESC_CSS || s.v[i].esc == RW_ESC_CSS_ATTR;
        cr_assert_eq(s2.v[i].place, s.v[i].place);
        cr_assert_str_eq(s2.v[i].url, css ? css_url : url, "%s", out.data);
        buf_free(&e[i]);
    }
    rw_sites_free(&s);
    rw_sites_free(&s2);
    buf_free(&out);
    free(p);
    free(e);
}

Test(html, patch_and_escape_round_trip)
{
    static const char *docs[] = {
        "<a href=\"http://old/\">x</a><img src='http://old/i.gif'><td background=http://old/b>",
        "<img srcset=\"http://old/a 1x, http://old/b 2x\"><!--[if mso]><v:fill src=\"http://old/f\"/><![endif]-->",
        "<div style=\"background:url(http://old/a)\"></div><p style='background:url(\"http://old/b\")'></p>"
        "<p style=background:url(http://old/c)>x</p><style>a{background:url('http://old/d')}@import \"http://old/e\";</style>",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        round_trip(docs[i], "https://gate.example/p?t=a&b=\"c\"&d='e'<f>g",
                   "https://gate.example/p?t=a&b=c");
}

/* Write every site's own URL back through rw_site_escape: the document
 * must re-scan to the same sites and URLs (CSS-escaped characters aside). */
static void self_patch(const char *path, const char *doc, size_t len, const struct rw_sites *s)
{
    struct rw_patch *p = calloc(s->n, sizeof(*p));
    struct buf *e = calloc(s->n, sizeof(*e)), out = BUF_INIT(0);
    struct rw_sites s2;

    for (size_t i = 0; i < s->n; i++) {
        cr_assert_eq(rw_site_escape(&s->v[i], s->v[i].url, &e[i]), RW_OK);
        p[i] = (struct rw_patch){s->v[i].off, s->v[i].len, buf_cstr(&e[i]), e[i].len};
    }
    cr_assert_eq(rw_patch_apply(doc, len, p, s->n, &out), RW_OK, "%s", path);
    cr_assert_eq(scan(out.data, out.len, &s2, NULL), RW_OK);
    cr_assert_eq(s2.n, s->n, "%s: %zu sites after self-patch, %zu before", path, s2.n, s->n);
    for (size_t i = 0; i < s->n; i++) {
        int css = s->v[i].esc == RW_ESC_CSS || s->v[i].esc == RW_ESC_CSS_ATTR;
        cr_assert_eq(s2.v[i].place, s->v[i].place);
        if (!css || strpbrk(s->v[i].url, "()'\"\\ \t\r\n") == NULL)
            cr_assert_str_eq(s2.v[i].url, s->v[i].url, "%s: site %zu", path, i);
        buf_free(&e[i]);
    }
    rw_sites_free(&s2);
    buf_free(&out);
    free(p);
    free(e);
}

/* Corpus: every HTML file of ../shared/corpus/layout/NAME and real. */
static void check_sanity(const char *path, const char *doc, size_t len)
{
    struct rw_sites s;
    size_t skipped = 0, prev_end = 0;

    cr_assert_eq(scan(doc, len, &s, &skipped), RW_OK, "%s", path);
    cr_assert_eq(skipped, 0, "%s: %zu values skipped", path, skipped);
    for (size_t i = 0; i < s.n; i++) {
        const struct rw_site *g = &s.v[i];
        struct buf d = BUF_INIT(0);
        const char *u;
        size_t a = 0, n;
        cr_assert(g->off + g->len <= len, "%s: site %zu outside", path, i);
        cr_assert(g->off >= prev_end, "%s: site %zu overlaps", path, i);
        prev_end = g->off + g->len;
        if (g->esc == RW_ESC_CSS) {
            cr_assert_eq(buf_append(&d, doc + g->off, g->len), 0);
        } else {
            cr_assert_eq(rw_ent_decode(doc + g->off, g->len, &d, NULL), RW_OK);
        }
        u = buf_cstr(&d);
        n = d.len;
        while (a < n && strchr(" \t\r\n\f", u[a]))
            a++;
        while (n > a && strchr(" \t\r\n\f", u[n - 1]))
            n--;
        {   /* browsers drop tabs and line breaks inside a URL */
            size_t k = a;
            for (size_t j = a; j < n; j++)
                if (u[j] != '\t' && u[j] != '\n' && u[j] != '\r')
                    d.data[k++] = u[j];
            n = k;
        }
        cr_assert(n - a == strlen(g->url) && memcmp(u + a, g->url, n - a) == 0,
                  "%s: site %zu raw [%.*s] url [%s]", path, i, (int)g->len, doc + g->off, g->url);
        buf_free(&d);
    }
    cr_assert_gt(s.n, 0, "%s: no sites", path);
    self_patch(path, doc, len, &s);
    rw_sites_free(&s);
}

static int scan_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[8192];
        size_t n = strlen(e->d_name);
        FILE *f;
        char *doc;
        long sz;
        if (n < 5 || strcmp(e->d_name + n - 5, ".html") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        cr_assert_not_null(f = fopen(path, "rb"));
        fseek(f, 0, SEEK_END);
        sz = ftell(f);
        rewind(f);
        doc = malloc((size_t)sz + 1);
        cr_assert_eq(fread(doc, 1, (size_t)sz, f), (size_t)sz);
        fclose(f);
        check_sanity(path, doc, (size_t)sz);
        free(doc);
        files++;
    }
    closedir(d);
    return files;
}

/* Run by "make check-corpus" only (check-unit filters it out), with
 * CM_CORPUS naming the corpus: a clone with nothing beside it has no corpus,
 * and a skipped test would count as a failure. Without CM_CORPUS it fails
 * rather than pass having checked nothing. */
Test(html, corpus_sanity)
{
    const char *base = getenv("CM_CORPUS");
    char dir[4096];
    int files = 0;

    cr_assert(base != NULL && *base != '\0', "CM_CORPUS not set (run by make check-corpus)");
    DIR *d = opendir(base);
    cr_assert_not_null(d, "corpus %s: %s", base, strerror(errno));
    closedir(d);
    static const char *sub[] = {"layout/cerberus", "layout/postmark", "real"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", base, sub[i]);
        files += scan_dir(dir);
    }
    cr_log_info("corpus: %d HTML files checked", files);
    cr_assert_gt(files, 30);
}
