/* Unit tests for gate/util.c and gate/form.c: address masking, redirect URL
 * checks, language choice, form decoding, the CSRF scheme, the policy a
 * token gets (its own domain section's; old tokens the strictest). Both modules come
 * from libgate.a; the two functions they borrow from req.c/counters.c (request
 * headers, counters) are replaced by stubs reading a header table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"

static const char *hdr_names[8], *hdr_values[8];

static void set_headers(const char *const *kv)
{
    memset(hdr_names, 0, sizeof hdr_names);
    for (int i = 0; kv && kv[2 * i] && i < 8; i++) {
        hdr_names[i] = kv[2 * i];
        hdr_values[i] = kv[2 * i + 1];
    }
}

const char *gate_header(const struct gate_req *r, const char *name)
{
    (void)r;
    for (int i = 0; i < 8 && hdr_names[i]; i++)
        if (strcasecmp(hdr_names[i], name) == 0)
            return hdr_values[i];
    return NULL;
}

void gate_count_token(struct gate *g, int tok_status)
{
    (void)g;
    (void)tok_status;
}

static const char CONF[] = "[milter]\ndatabase = /tmp/x\n[gate]\nurl = "
                           "https://consent.brand.example\nlanguage = en\n"
                           "[domain brand.example]\ncontroller = brand\nlanguage = fr\n"
                           "[domain other.example]\ncontroller = other\n";
#define KEY "1 0001020304050607080910111213141516171819202122232425262728293031\n"

struct fixture {
    struct snap snap;
    struct gate_req r;
};

static void fixture(struct fixture *f, const char *arg, const char *body)
{
    char err[512] = "";
    memset(f, 0, sizeof *f);
    char conf_dir[4096];
    const char *src = getenv("CM_SRCDIR");
    snprintf(conf_dir, sizeof conf_dir, "%s/conf", src ? src : ".");
    f->snap.cfg = cfg_load_string(CONF, conf_dir, err, sizeof err);
    cr_assert_not_null(f->snap.cfg, "%s", err);
    strncat(conf_dir, "/pages", sizeof conf_dir - strlen(conf_dir) - 1);
    cr_assert_eq(gate_tpl_set_load(conf_dir, (struct gate_tpl_set **)&f->snap.extra, err,
                                   sizeof err),
                 0, "%s", err);
    cr_assert_eq(tok_keys_parse(KEY, strlen(KEY), &f->snap.keys, err, sizeof err),
                 TOK_OK);
    f->r.snap = &f->snap;
    f->r.arg = arg;
    f->r.arglen = strlen(arg);
    f->r.body = body;
    f->r.bodylen = body ? strlen(body) : 0;
    f->r.method = body ? "POST" : "GET";
    set_headers(NULL);
}

static void fixture_free(struct fixture *f)
{
    cfg_release(f->snap.cfg);
    tok_keys_free(f->snap.keys);
    gate_tpl_set_free(f->snap.extra);
}

Test(gate_util, mask_address)
{
    static const char *tab[][2] = {
        {"alice@example.org", "a***@example.org"},
        {"\xc3\xa9lise@example.fr", "\xc3\xa9***@example.fr"},
        {"a@b", "a***@b"},
        {"@example.org", "***"},
        {"no-at-sign", "***"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        gate_mask_address(tab[i][0], out, sizeof out);
        cr_assert_str_eq(out, tab[i][1], "%s", tab[i][0]);
    }
    gate_mask_address(NULL, out, sizeof out);
    cr_assert_str_eq(out, "***");
}

Test(gate_util, only_absolute_http_urls_are_redirect_targets)
{
    static const struct {
        const char *url;
        int ok;
    } tab[] = {
        {"https://shop.example/p?a=1", 1},
        {"http://t.example/o.gif", 1},
        {"HTTPS://X.EXAMPLE/", 1},
        {"javascript:alert(1)", 0},
        {"//evil.example/", 0},
        {"https:///evil", 0},
        {"http://\\evil.example", 0},
        {"https://a b/", 0},
        {"https://x/\r\nSet-Cookie: a", 0},
        {"data:text/html,x", 0},
        {"ftp://x/", 0},
        {"", 0},
        {"https://", 0},
        {"https://?x", 0},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        cr_assert_eq(gate_safe_url(tab[i].url), tab[i].ok, "%s", tab[i].url);
    cr_assert_eq(gate_safe_url(NULL), 0);
}

/* The page language through the request: brand.example says fr, other.example
 * nothing ([gate] language = en). Pages exist for de en es fr it. */
Test(gate_util, language_from_accept_language_then_domain)
{
    struct fixture f;
    fixture(&f, "x", NULL);
    const struct cfg_domain *brand = cfg_domain_for(f.snap.cfg, "brand.example");
    const struct cfg_domain *other = cfg_domain_for(f.snap.cfg, "other.example");
    static const struct {
        const char *al;
        const char *want_brand, *want_other;
    } tab[] = {
        {NULL, "fr", "en"},
        {"", "fr", "en"},
        {"fr-FR,fr;q=0.9,en;q=0.5", "fr", "fr"},
        {"en-GB", "en", "en"},
        {"de-DE, fr;q=0.3", "de", "de"},
        {"de-AT", "de", "de"},
        {"it-IT,it;q=0.9,en-US;q=0.8", "it", "it"},
        {"es-419", "es", "es"},
        {"fr;q=0.2, en;q=0.8", "en", "en"},
        {"it, de", "it", "it"},       /* a tie: the first listed */
        {"pt-BR", "fr", "en"},        /* nothing available */
        {"fr;q=0", "en", "en"},       /* refused: never chosen, not even as default */
        {"en;q=0, fr;q=0", "de", "de"},
        {"de-AT;q=0.9, de;q=0", "fr", "en"}, /* the language itself refused */
        {"EN", "en", "en"},
        {"frx, enz", "fr", "en"},
        {"*", "fr", "en"},            /* anything: the default */
        {"*;q=0.5, de", "de", "de"},
        {"fr;q=0, *", "en", "en"},
        {"en;q=0.1, *;q=0.5", "fr", "de"}, /* anything but en: alphabetical */
        {"de;q=abc, it", "it", "it"}, /* malformed elements are skipped */
        {"de;q=1.5, it;q=0.5", "it", "it"},
        {"de;q=-1, it;q=0.1", "it", "it"},
        {"de;q=0.0001, it;q=0.001", "it", "it"},
        {"de;q=1e0, it;q=0.5", "it", "it"},
        {"de;q=inf", "fr", "en"},
        {"de;q=nan", "fr", "en"},
        {"de;q=0x1", "fr", "en"},
        {"de;q=.5", "fr", "en"},
        {"de;q=", "fr", "en"},
        {"de;level=1", "fr", "en"},
        {"de ; q=0.5 , it;q=0.4", "de", "de"},
        {"de;Q=0.5", "de", "de"},
        {",,, de ,,", "de", "de"},
        {"de-", "fr", "en"},
        {"-de", "fr", "en"},
        {"d\xc3\xa9", "fr", "en"},
        {"de-AT-x-aaaaaaaaa", "fr", "en"}, /* a subtag over 8 characters */
        {"i-klingon, x-pig", "fr", "en"},
        {";q=1", "fr", "en"},
        {"de;;q=1", "fr", "en"},
        {"de;q=1;q=0.5", "fr", "en"},
        {"\"de\"", "fr", "en"},
        {"de\x01", "fr", "en"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        const char *kv[] = {"Accept-Language", tab[i].al, NULL};
        set_headers(tab[i].al ? kv : NULL);
        cr_assert_str_eq(gate_pick_lang(&f.r, brand), tab[i].want_brand, "brand: %s",
                         tab[i].al);
        cr_assert_str_eq(gate_pick_lang(&f.r, other), tab[i].want_other, "other: %s",
                         tab[i].al);
    }
    fixture_free(&f);
}

/* Hostile sizes: a megabyte header, 100 000 entries, one huge tag. Linear
 * time (Criterion's timeout), no crash, and the entry that counts is found
 * wherever it is. */
Test(gate_util, language_hostile_headers, .timeout = 20)
{
    struct fixture f;
    size_t big = 1 << 20;
    char *h = malloc(big + 64);
    fixture(&f, "x", NULL);
    const struct cfg_domain *other = cfg_domain_for(f.snap.cfg, "other.example");
    const char *kv[] = {"Accept-Language", h, NULL};

    cr_assert_not_null(h);
    set_headers(kv);
    /* 100 000+ entries, the only available one last */
    h[0] = '\0';
    for (size_t n = 0; n + 16 < big; n += 10)
        memcpy(h + n, "xx;q=0.9, ", 11);
    strcat(h, "it;q=0.1");
    cr_assert_str_eq(gate_pick_lang(&f.r, other), "it");
    /* the first entry wins a tie against 100 000 later ones */
    memcpy(h, "es,", 3);
    cr_assert_str_eq(gate_pick_lang(&f.r, other), "es");
    /* one tag of a megabyte: malformed, ignored */
    memset(h, 'a', big);
    h[big] = '\0';
    cr_assert_str_eq(gate_pick_lang(&f.r, other), "en");
    /* a megabyte of separators and spaces */
    memset(h, ',', big);
    for (size_t n = 0; n < big; n += 2)
        h[n] = ' ';
    cr_assert_str_eq(gate_pick_lang(&f.r, other), "en");
    /* a q-value with a megabyte of digits */
    memset(h, '0', big);
    memcpy(h, "de;q=0.", 7);
    cr_assert_str_eq(gate_pick_lang(&f.r, other), "en");
    free(h);
    fixture_free(&f);
}

/* The chooser alone: defaults in prefer order, refusals, the edges. */
Test(gate_util, language_choose_edges)
{
    static const char *const codes[] = {"de", "en", "fr"};
    static const int prefer[] = {-1, 2, 1};

    cr_assert_eq(gate_lang_choose(NULL, codes, 3, prefer, 3), 2);
    cr_assert_eq(gate_lang_choose("fr;q=0", codes, 3, prefer, 3), 1);
    cr_assert_eq(gate_lang_choose("fr;q=0,en;q=0", codes, 3, prefer, 3), 0);
    cr_assert_eq(gate_lang_choose("de;q=0,fr;q=0,en;q=0", codes, 3, prefer, 3), 2);
    cr_assert_eq(gate_lang_choose("*;q=0", codes, 3, prefer, 3), 2); /* all refused: a page all the same */
    cr_assert_eq(gate_lang_choose("*;q=0, de;q=0.5", codes, 3, prefer, 3), 0);
    cr_assert_eq(gate_lang_choose("de;q=0.5, *;q=0.5", codes, 3, prefer, 3), 0);
    cr_assert_eq(gate_lang_choose("*;q=0.5, de;q=0.5", codes, 3, prefer, 3), 2);
    cr_assert_eq(gate_lang_choose("DE-at", codes, 3, NULL, 0), 0);
    cr_assert_eq(gate_lang_choose("xx", codes, 3, NULL, 0), 0);
    cr_assert_eq(gate_lang_choose("de", codes, 0, NULL, 0), -1);
}

/* ---- gate_policy_of ---------------------------------------------------- */

#define P(x) (1u << STORE_P_##x)
#define TWO_DOMAINS                                                                      \
    "[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"                     \
    "[domain brand.example]\ncontroller = brand\nlanguage = fr\n"                        \
    "[domain news.example]\ncontroller = brand\npixel_purposes = opens,profiling\n"      \
    "clicks = free\nstore_source = yes\nlanguage = en\n"

static struct cfg *conf(const char *text)
{
    char err[512] = "", dir[4096];
    const char *src = getenv("CM_SRCDIR");
    snprintf(dir, sizeof dir, "%s/conf", src ? src : ".");
    struct cfg *c = cfg_load_string(text, dir, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    return c;
}

/* A token of mail sent under section name (NULL: format 1, no domain). */
static struct tok tk(const char *name, const char *ctl)
{
    struct tok t = {.kind = TOK_OPEN, .controller = (char *)ctl};
    if (name) {
        t.has_domain = 1;
        tok_domain_id(name, t.domain);
    }
    return t;
}

static struct gate_policy pol_of(const struct cfg *c, const char *name, const char *ctl)
{
    struct gate_policy p;
    struct tok t = tk(name, ctl);
    gate_policy_of(c, &t, &p);
    cr_assert_not_null(p.dom);
    return p;
}

Test(gate_policy, each_domain_of_a_controller_has_its_own_policy)
{
    struct cfg *c = conf(TWO_DOMAINS);
    struct gate_policy a = pol_of(c, "brand.example", "brand");
    struct gate_policy b = pol_of(c, "NEWS.example", "brand");

    cr_assert(a.exact && a.tracking);
    cr_assert_str_eq(a.dom->name, "brand.example");
    cr_assert_eq(a.pixel_purposes, P(OPENS));
    cr_assert_eq(a.clicks_free, 0);
    cr_assert_eq(a.offered, P(OPENS) | P(CLICKS));
    cr_assert_eq(a.store_source, 0);
    /* the second domain of the same controller: its own rules, not the first's */
    cr_assert(b.exact && b.tracking);
    cr_assert_str_eq(b.dom->name, "news.example");
    cr_assert_eq(b.pixel_purposes, P(OPENS) | P(PROFILING));
    cr_assert_eq(b.clicks_free, 1);
    cr_assert_eq(b.offered, P(OPENS) | P(PROFILING));
    cr_assert_eq(b.store_source, 1);
    cfg_release(c);
}

/* Old mail (format 1) cannot say which domain sent it: the strictest of
 * the controller's domains, never the laxest. */
Test(gate_policy, format1_token_gets_the_strictest_of_the_controller)
{
    struct cfg *c = conf(TWO_DOMAINS "[domain other.example]\ncontroller = other\n"
                                     "clicks = free\n");
    struct gate_policy l = pol_of(c, NULL, "BRAND");

    cr_assert_eq(l.exact, 0);
    cr_assert_eq(l.n, 2, "other.example is not brand's");
    cr_assert_eq(l.tracking, 1);
    cr_assert_eq(l.pixel_purposes, P(OPENS) | P(PROFILING));
    cr_assert_eq(l.clicks_free, 0);
    cr_assert_eq(l.store_source, 0);
    cr_assert_eq(l.offered, P(OPENS) | P(CLICKS) | P(PROFILING));
    cfg_release(c);
}

Test(gate_policy, never_track_or_off_stops_old_mail_of_that_domain_only)
{
    static const char *modes[] = {"never-track", "off"};
    for (size_t i = 0; i < 2; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%smode = %s\n", TWO_DOMAINS, modes[i]);
        struct cfg *c = conf(text);
        cr_assert_eq(pol_of(c, "news.example", "brand").tracking, 0, "%s", modes[i]);
        cr_assert_eq(pol_of(c, "brand.example", "brand").tracking, 1, "%s", modes[i]);
        cr_assert_eq(pol_of(c, NULL, "brand").tracking, 0, "format 1, %s", modes[i]);
        cfg_release(c);
    }
    struct cfg *c = conf(TWO_DOMAINS "mode = monitor\n");
    cr_assert_eq(pol_of(c, "news.example", "brand").tracking, 1);
    cfg_release(c);
}

Test(gate_policy, removed_or_reassigned_domain_stops_tracking)
{
    struct cfg *c = conf("[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"
                         "[domain brand.example]\ncontroller = brand\n");
    struct gate_policy b = pol_of(c, "news.example", "brand");
    cr_assert_eq(b.tracking, 0);
    cr_assert_eq(b.exact, 0);
    cr_assert_str_eq(b.dom->name, "brand.example", "pages: the controller's domain");
    cr_assert_eq(pol_of(c, NULL, "brand").tracking, 1, "format 1: the domain left");
    cfg_release(c);
    c = conf("[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"
             "[domain brand.example]\ncontroller = brand\n"
             "[domain news.example]\ncontroller = news\n");
    cr_assert_eq(pol_of(c, "news.example", "brand").tracking, 0, "now news's domain");
    cr_assert_eq(pol_of(c, "news.example", "news").tracking, 1);
    cfg_release(c);
}

/* [domain *] without controller: the sending domain is the controller; a
 * section of its own added later decides for its old mail. */
Test(gate_policy, default_section_yields_to_a_new_own_section)
{
    struct cfg *c = conf("[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"
                         "[domain *]\npixel_purposes = opens\n");
    struct gate_policy s = pol_of(c, "*", "misc.example");
    cr_assert(s.exact && s.tracking);
    cr_assert_str_eq(s.dom->name, "*");
    cr_assert(pol_of(c, NULL, "misc.example").tracking, "format 1 under *");
    cfg_release(c);
    c = conf("[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"
             "[domain misc.example]\nmode = never-track\n");
    s = pol_of(c, "*", "misc.example");
    cr_assert_str_eq(s.dom->name, "misc.example");
    cr_assert_eq(s.tracking, 0);
    cr_assert_eq(pol_of(c, NULL, "misc.example").tracking, 0);
    cr_assert_eq(pol_of(c, "*", "else.example").tracking, 1, "others stay under *");
    cfg_release(c);
    c = conf("[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"
             "[domain misc.example]\ncontroller = corp\n");
    cr_assert_eq(pol_of(c, "*", "misc.example").tracking, 0, "now corp's domain");
    cfg_release(c);
}

Test(gate_policy, no_section_for_the_controller_tracks_nothing)
{
    struct cfg *c = conf("[milter]\ndatabase = /tmp/x\n[gate]\nurl = https://g.example\n"
                         "[domain *]\ncontroller = corp\n");
    struct gate_policy p = pol_of(c, NULL, "brand");
    cr_assert_eq(p.n, 0);
    cr_assert_eq(p.tracking, 0);
    cr_assert_str_eq(p.dom->name, "*");
    cr_assert_eq(p.offered, P(OPENS));
    cr_assert_eq(pol_of(c, "brand.example", "brand").tracking, 0);
    cr_assert_eq(pol_of(c, "*", "corp").tracking, 1);
    cfg_release(c);
}

Test(gate_form, fields_are_decoded)
{
    struct fixture f;
    char out[64];
    fixture(&f, "x", "a=1&purpose=opens&b=x+y%21&purpose=clicks&empty=&bad=%zz&nul=%00");
    cr_assert_eq(gate_form_get(&f.r, "a", 0, out, sizeof out), 1);
    cr_assert_str_eq(out, "1");
    cr_assert_eq(gate_form_get(&f.r, "purpose", 0, out, sizeof out), 5);
    cr_assert_str_eq(out, "opens");
    cr_assert_eq(gate_form_get(&f.r, "purpose", 1, out, sizeof out), 6);
    cr_assert_str_eq(out, "clicks");
    cr_assert_eq(gate_form_get(&f.r, "purpose", 2, out, sizeof out), -1);
    cr_assert_eq(gate_form_get(&f.r, "b", 0, out, sizeof out), 4);
    cr_assert_str_eq(out, "x y!");
    cr_assert_eq(gate_form_get(&f.r, "empty", 0, out, sizeof out), 0);
    cr_assert_eq(gate_form_get(&f.r, "bad", 0, out, sizeof out), -1);
    cr_assert_eq(gate_form_get(&f.r, "nul", 0, out, sizeof out), -1);
    cr_assert_eq(gate_form_get(&f.r, "missing", 0, out, sizeof out), -1);
    cr_assert_eq(gate_form_get(&f.r, "purpose", 1, out, 4), -1, "overflow must fail");
    cr_assert_eq(gate_form_get(&f.r, "purp", 0, out, sizeof out), -1,
                 "prefix is not a match");
    fixture_free(&f);
}

Test(gate_form, csrf_field_bound_to_token_and_endpoint)
{
    struct fixture f, g;
    char mac[TOK_MAC_HEX], other[TOK_MAC_HEX];
    fixture(&f, "TOKEN-A", "");
    fixture(&g, "TOKEN-B", "");
    cr_assert_eq(gate_csrf_make(&f.r, 'w', mac), TOK_OK);
    cr_assert_eq(gate_csrf_ok(&f.r, 'w', mac), 1);
    cr_assert_eq(gate_csrf_ok(&f.r, 'p', mac), 0, "other endpoint");
    cr_assert_eq(gate_csrf_ok(&g.r, 'w', mac), 0, "other token");
    cr_assert_eq(gate_csrf_ok(&f.r, 'w', NULL), 0);
    cr_assert_eq(gate_csrf_ok(&f.r, 'w', "00"), 0);
    cr_assert_eq(gate_csrf_make(&g.r, 'w', other), TOK_OK);
    cr_assert_str_neq(mac, other);
    fixture_free(&f);
    fixture_free(&g);
}

Test(gate_form, csrf_browser_headers)
{
    static const struct {
        const char *h[8];
        int ok;
    } tab[] = {
        {{NULL}, 1},
        {{"Origin", "https://consent.brand.example", NULL}, 1},
        {{"Origin", "https://CONSENT.brand.example", NULL}, 1},
        {{"Origin", "https://consent.brand.example.evil", NULL}, 0},
        {{"Origin", "https://evil.example", NULL}, 0},
        {{"Origin", "http://127.0.0.1:8025", "Host", "127.0.0.1:8025", NULL}, 1},
        {{"Origin", "http://127.0.0.1:8026", "Host", "127.0.0.1:8025", NULL}, 0},
        {{"Origin", "null", NULL}, 0},
        {{"Origin", "null", "Sec-Fetch-Site", "same-origin", NULL}, 1},
        {{"Origin", "null", "Sec-Fetch-Site", "cross-site", NULL}, 0},
        {{"Sec-Fetch-Site", "same-site", NULL}, 0},
        {{"Sec-Fetch-Site", "none", NULL}, 1},
        {{"Referer", "https://consent.brand.example/w/x", NULL}, 1},
        {{"Referer", "https://evil.example/consent.brand.example", NULL}, 0},
        {{"Origin", "https://consent.brand.example", "Sec-Fetch-Site", "cross-site",
          NULL},
         0},
    };
    struct fixture f;
    char mac[TOK_MAC_HEX];
    fixture(&f, "TOKEN", "");
    cr_assert_eq(gate_csrf_make(&f.r, 'w', mac), TOK_OK);
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        set_headers(tab[i].h);
        cr_assert_eq(gate_csrf_ok(&f.r, 'w', mac), tab[i].ok, "case %zu (%s: %s)", i,
                     tab[i].h[0] ? tab[i].h[0] : "-", tab[i].h[1] ? tab[i].h[1] : "-");
    }
    fixture_free(&f);
}

/* ---- client address behind trusted proxies ------------------------------ */

static const char *xff_pick(const char *xff, const char *trusted)
{
    static char out[CIDR_TEXT_MAX];
    struct cidr *v = NULL;
    size_t n = 0;
    const char *why = NULL;
    uint8_t a[CIDR_ADDR_LEN];

    cr_assert_eq(cidr_list_parse(trusted, &v, &n, &why), 0, "%s: %s", trusted, why);
    if (gate_forwarded_client(xff, v, n, a))
        cidr_addr_format(a, out, sizeof out);
    else
        snprintf(out, sizeof out, "peer");
    free(v);
    return out;
}

Test(gate_util, forwarded_for_takes_the_rightmost_untrusted_address)
{
    static const char *tab[][3] = {
        /* XFF, trusted ranges, client ("peer": keep the TCP peer) */
        {"198.51.100.7", "127.0.0.1", "198.51.100.7"},
        {"  198.51.100.7  ", "127.0.0.1", "198.51.100.7"},
        /* the client wrote the left part: never believed */
        {"6.6.6.6, 198.51.100.7", "127.0.0.1", "198.51.100.7"},
        {"6.6.6.6,198.51.100.7,10.0.0.2", "10.0.0.0/8", "198.51.100.7"},
        {"2001:db8::7, 10.1.2.3", "10.0.0.0/8 ::1", "2001:db8::7"},
        {"2001:db8::7, 2001:db8:ff::1", "2001:db8:ff::/48", "2001:db8::7"},
        {"::ffff:198.51.100.7", "127.0.0.1", "198.51.100.7"},
        /* every hop trusted: the left-most is as close as we get */
        {"10.0.0.9, 10.0.0.2", "10.0.0.0/8", "10.0.0.9"},
        /* garbage from a trusted hop ends the walk at the last good entry */
        {"198.51.100.7, bogus, 10.0.0.2", "10.0.0.0/8", "10.0.0.2"},
        {"6.6.6.6, <script>", "127.0.0.1", "peer"},
        {"198.51.100.7:443", "127.0.0.1", "peer"},
        {"[2001:db8::7]", "127.0.0.1", "peer"},
        {"unknown", "127.0.0.1", "peer"},
        {"", "127.0.0.1", "peer"},
        {",", "127.0.0.1", "peer"},
        {"198.51.100.7,", "127.0.0.1", "peer"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        cr_assert_str_eq(xff_pick(tab[i][0], tab[i][1]), tab[i][2],
                         "XFF '%s' trusted '%s'", tab[i][0], tab[i][1]);
    cr_assert_str_eq(xff_pick(NULL, "127.0.0.1"), "peer");
}

Test(gate_util, cidr_lists_parse_and_match_both_families)
{
    static const struct {
        const char *addr;
        int in;
    } tab[] = {
        {"10.0.0.1", 1},      {"10.255.255.255", 1}, {"11.0.0.1", 0},
        {"192.0.2.7", 1},     {"192.0.2.8", 0},      {"::ffff:10.9.9.9", 1},
        {"2001:db8:1::5", 1}, {"2001:db9::1", 0},    {"::1", 1},
        {"::2", 0},
    };
    struct cidr *v = NULL;
    size_t n = 0;
    const char *why = NULL;
    char text[64];
    uint8_t a[CIDR_ADDR_LEN];

    cr_assert_eq(
        cidr_list_parse("10.1.2.3/8, 192.0.2.7 2001:db8::/32,::1/128", &v, &n, &why), 0,
        "%s", why);
    cr_assert_eq(n, 4);
    cidr_format(&v[0], text, sizeof text);
    cr_assert_str_eq(text, "10.0.0.0/8", "host bits cleared, IPv4 bits shown");
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        cr_assert_eq(cidr_addr_parse(tab[i].addr, strlen(tab[i].addr), a), 0);
        cr_assert_eq(cidr_match(v, n, a), tab[i].in, "%s", tab[i].addr);
        cr_assert_eq(cidr_addr_is_v4(a), strchr(tab[i].addr, '.') != NULL, "%s",
                     tab[i].addr);
    }
    free(v);
    static const char *bad[] = {"10.0.0.0/33", "::/129",       "10.0.0.0/",
                                "10.0.0/8",    "host.example", "10.0.0.0/8x",
                                "1.2.3.4/-1",  "fe80::1%eth0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = NULL;
        cr_assert_eq(cidr_list_parse(bad[i], &v, &n, &why), -1, "%s accepted", bad[i]);
        cr_assert_null(v);
    }
    cr_assert_eq(cidr_list_parse(" ", &v, &n, &why), 0);
    cr_assert_eq(n, 0);
}

Test(gate_util, trusted_proxies_and_per_ip_limit_from_config)
{
    char err[512] = "", dir[4096];
    const char *src = getenv("CM_SRCDIR");
    struct cfg *c;

    snprintf(dir, sizeof dir, "%s/conf", src ? src : ".");
    c = cfg_load_string("[gate]\ntrusted_proxies = 127.0.0.1, ::1\nper_ip_limit = 0\n",
                        dir, err, sizeof err);

    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->ngate_trusted, 2);
    cr_assert_eq(c->gate_per_ip_limit, 0);
    cfg_release(c);
    c = cfg_load_string("[gate]\n", dir, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->ngate_trusted, 0, "no proxy trusted by default");
    cr_assert_eq(c->gate_per_ip_limit, 128);
    cfg_release(c);
    c = cfg_load_string("[gate]\ntrusted_proxies = 10.0.0.0/40\n", dir, err, sizeof err);
    cr_assert_null(c, "a bad range is refused");
    cr_assert(strstr(err, "trusted_proxies") != NULL, "%s", err);
}
