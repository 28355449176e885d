/* Unit tests for rw_url_has_recipient: the address raw, percent-encoded,
 * base64/base64url (padded or not, at every alignment in a longer string),
 * md5/sha1/sha256 hex; and no false positive for other addresses. */
#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/rewriter.h"

#define RCPT "bob.smith+news@example.com"

static char *b64(const char *s, int url, int pad)
{
    gchar *e = g_base64_encode((const guchar *)s, strlen(s));

    for (char *p = e; *p; p++) {
        if (url && *p == '+')
            *p = '-';
        if (url && *p == '/')
            *p = '_';
        if (!pad && *p == '=')
            *p = '\0';
    }
    return e;
}

static char *hex(GChecksumType t, const char *s, int upper)
{
    gchar *h = g_compute_checksum_for_string(t, s, -1);

    if (upper)
        for (char *p = h; *p; p++)
            *p = g_ascii_toupper(*p);
    return h;
}

static void expect(const char *url, const char *rcpt, int want)
{
    int got = rw_url_has_recipient(url, rcpt);

    cr_expect_eq(got, want, "%s in %s: got %d, want %d", rcpt ? rcpt : "(null)", url, got,
                 want);
}

Test(recipient, raw_and_percent_encoded)
{
    static const struct {
        const char *url;
        int want;
    } t[] = {
        {"https://t.example.net/o.gif?e=bob.smith+news@example.com", 1},
        {"https://t.example.net/o.gif?e=BOB.Smith+News@EXAMPLE.com&x=1", 1},
        {"https://t.example.net/bob.smith+news@example.com/o.gif", 1},
        {"https://t.example.net/o?e=bob.smith%2Bnews%40example.com", 1},
        {"https://t.example.net/o?e=bob.smith%2bnews%40EXAMPLE.com", 1},
        {"https://t.example.net/"
         "o?e=%62%6f%62%2E%73%6D%69%74%68%2B%6E%65%77%73%40%65%78%61%6d%70%6c%65%2e%63%"
         "6f%6d",
         1},
        {"https://t.example.net/"
         "o?u=https%3A%2F%2Fx%3Fe%3Dbob.smith%252Bnews%2540example.com",
         1},
        /* other addresses */
        {"https://t.example.net/o?e=alice@example.com", 0},
        {"https://t.example.net/o?e=jimbob.smith+news@example.com", 0},
        {"https://t.example.net/o?e=bob.smith+news@example.com.au", 0},
        {"https://t.example.net/o?e=bob.smith+news@example.community", 0},
        {"https://t.example.net/o?e=bob.smith%2Bnews%40example.org", 0},
        {"https://t.example.net/o?e=bob.smith", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        expect(t[i].url, RCPT, t[i].want);
}

Test(recipient, normalises_the_recipient)
{
    expect("https://t.example.net/o?e=bob.smith+news@example.com",
           " <Bob.Smith+News@Example.COM> ", 1);
    expect("https://t.example.net/o?e=x@y", NULL, 0);
    expect("https://t.example.net/o?e=x@y", "", 0);
    expect("https://t.example.net/o?e=ab", "ab", 0);
    cr_expect_eq(rw_url_has_recipient(NULL, RCPT), 0);
}

Test(recipient, base64_all_forms_and_alignments)
{
    /* Prefixes of 0..5 bytes put the address at each of the 3 alignments
     * (twice); the suffix ends it mid-group. */
    static const char *const pre[] = {"", "{", "{\"", "e=\"", "{\"e\"", "{\"e\":"};
    static const char *const suf[] = {"", "\"", "\",", "\",\"c\":12}"};

    for (size_t p = 0; p < sizeof(pre) / sizeof(pre[0]); p++) {
        for (size_t s = 0; s < sizeof(suf) / sizeof(suf[0]); s++) {
            char *plain = g_strdup_printf("%s%s%s", pre[p], RCPT, suf[s]);

            for (int url = 0; url < 2; url++) {
                for (int pad = 0; pad < 2; pad++) {
                    char *e = b64(plain, url, pad);
                    char *u1 = g_strdup_printf("https://t.example.net/o/%s/x.gif", e);
                    char *pe = g_uri_escape_string(e, NULL, FALSE);
                    char *u2 = g_strdup_printf("https://t.example.net/o?d=%s&z=1", pe);

                    expect(u1, RCPT, 1);
                    expect(u2, RCPT, 1);
                    g_free(e), g_free(u1), g_free(pe), g_free(u2);
                }
            }
            g_free(plain);
        }
    }
}

Test(recipient, base64_no_false_positive)
{
    static const char *const others[] = {
        "jimbob.smith+news@example.com",
        "{\"e\":\"xbob.smith+news@example.com\"}",
        "bob.smith+news@example.com.au",
        "{\"e\":\"bob.smith+news@example.com-x\"}",
        "alice@example.com",
        "bob.smith+news@example.org",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        for (int url = 0; url < 2; url++) {
            char *e = b64(others[i], url, 1);
            char *u = g_strdup_printf("https://t.example.net/o/%s", e);

            expect(u, RCPT, 0);
            g_free(e);
            g_free(u);
        }
    }
}

/* The encoded address right after a path separator: '/', '+', '-' and
 * '_' are base64 digits too, and the byte they would complete before the
 * address must not count as part of a longer local part. */
Test(recipient, base64_after_path_separator)
{
    char *e = b64(RCPT, 0, 0);
    static const char *const dirs[] = {"/o/", "/k/", "/m/", "/v2/", "/api/v1/", "/ab+/"};

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *u = g_strdup_printf("https://t.example.net%s%s", dirs[i], e);

        expect(u, RCPT, 1);
        g_free(u);
    }
    g_free(e);
}

/* SparkPost-style binary token: tag, length byte, address, next tag. */
Test(recipient, base64_binary_token)
{
    char plain[64];
    char *e, *u;

    snprintf(plain, sizeof(plain), "PR%c%sX%c", (char)strlen(RCPT), RCPT, 4);
    e = b64(plain, 1, 0);
    u = g_strdup_printf("http://go.sparkpostmail.com/q/22ca3lBl~~/AABO7gA~/%s~~", e);
    expect(u, RCPT, 1);
    g_free(e);
    g_free(u);
}

Test(recipient, digests_any_case)
{
    static const GChecksumType types[] = {G_CHECKSUM_MD5, G_CHECKSUM_SHA1,
                                          G_CHECKSUM_SHA256};

    for (size_t i = 0; i < 3; i++) {
        for (int upper = 0; upper < 2; upper++) {
            char *h = hex(types[i], RCPT, upper);
            char *u1 = g_strdup_printf("https://t.example.net/open/%s.png", h);
            char *u2 = g_strdup_printf("https://t.example.net/o?uid=%s&c=7", h);
            char *other = hex(types[i], "alice@example.com", upper);
            char *u3 = g_strdup_printf("https://t.example.net/o?uid=%s", other);

            expect(u1, RCPT, 1);
            expect(u2, RCPT, 1);
            expect(u3, RCPT, 0);
            g_free(h), g_free(u1), g_free(u2), g_free(other), g_free(u3);
        }
    }
    /* The digest of the normalised (lower-case) form is what counts. */
    {
        char *h = hex(G_CHECKSUM_SHA256, RCPT, 0);
        char *u = g_strdup_printf("https://t.example.net/o/%s", h);

        expect(u, "Bob.Smith+News@Example.com", 1);
        g_free(h);
        g_free(u);
    }
}

Test(recipient, long_hostile_urls_are_fine)
{
    GString *g = g_string_new("https://t.example.net/o?d=");

    for (int i = 0; i < 4000; i++)
        g_string_append(g, i % 3 ? "%4" : "QUJD");
    expect(g->str, RCPT, 0);
    g_string_append(g, "%00bob.smith+news@example.com");
    expect(g->str, RCPT, 1);
    g_string_free(g, TRUE);
}
