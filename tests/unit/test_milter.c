/* Unit tests for consent-milter's pure parts: sending-domain parsing,
 * per-message buffering and spooling, ESP header merging, the trace MAC.
 * Built by milter/module.mk with the milter's objects (not main.o). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "milter/milter.h"

/* ---- msginfo_addr_domain */

struct dom_case {
    const char *in;
    const char *want; /* NULL: no domain */
};

Test(decide, from_domain_table)
{
    static const struct dom_case cases[] = {
        {"news@brand.example", "brand.example"},
        {"Brand <news@Brand.Example>", "brand.example"},
        {"\"news@evil.example\" <a@brand.example>", "brand.example"},
        {"(a@evil.example) b@brand.example", "brand.example"},
        {"\"Doe, John\" <j@brand.example>, k@other.example", "brand.example"},
        {"j@brand.example, k@other.example", "brand.example"},
        {"a@brand.example.", "brand.example"},
        {"a@brand.example>", "brand.example"},
        {"Undisclosed recipients:;", NULL},
        {"", NULL},
        {"a@", NULL},
        {"<@>", NULL},
        {"\"unterminated <a@brand.example>", NULL},
        {"((nested) a@evil.example) b@brand.example", "brand.example"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256] = "";
        int rc = msginfo_addr_domain(cases[i].in, out, sizeof out);
        if (cases[i].want) {
            cr_expect_eq(rc, 0, "%s: rc %d", cases[i].in, rc);
            cr_expect_str_eq(out, cases[i].want, "%s: got '%s' want '%s'", cases[i].in,
                             out, cases[i].want);
        } else {
            cr_expect_eq(rc, -1, "%s: got '%s', want no domain", cases[i].in, out);
        }
    }
}

Test(decide, from_domain_never_overflows)
{
    char in[2048], out[16];
    memset(in, 'a', sizeof in);
    in[0] = 'x';
    in[1] = '@';
    in[sizeof in - 1] = '\0';
    cr_assert_eq(msginfo_addr_domain(in, out, sizeof out), 0);
    cr_assert_eq(strlen(out), sizeof out - 1);
    cr_assert_eq(msginfo_addr_domain(NULL, out, sizeof out), -1);
}

/* ---- message buffering */

static struct cfg *test_cfg(size_t max, size_t spool_at)
{
    static struct cfg c;
    memset(&c, 0, sizeof c);
    c.max_message_size = max;
    c.spool_threshold = spool_at;
    c.spool_dir = NULL; /* TMPDIR or /tmp */
    return &c;
}

static void fill(struct mlt_msg *m, size_t body_lines)
{
    cr_assert_eq(mlt_msg_add_header(m, "From", "a@brand.example"), 0);
    cr_assert_eq(mlt_msg_add_header(m, "Subject", "folded\n\tsecond line"), 0);
    cr_assert_eq(mlt_msg_end_headers(m), 0);
    for (size_t i = 0; i < body_lines; i++)
        cr_assert_eq(mlt_msg_add_body(m, "0123456789abcdef\r\n", 18), 0);
}

Test(message, header_block_then_body)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    const char *d;
    size_t n;
    fill(m, 2);
    cr_assert_eq(mlt_msg_data(m, &d, &n), 0);
    const char *want = "From: a@brand.example\r\nSubject: folded\r\n\tsecond line\r\n\r\n"
                       "0123456789abcdef\r\n0123456789abcdef\r\n";
    cr_assert_eq(n, strlen(want));
    cr_assert(memcmp(d, want, n) == 0, "got %.*s", (int)n, d);
    cr_assert_eq(m->body_off, strlen(want) - 36);
    cr_assert_str_eq(mlt_msg_header(m, "subject"), "folded\n\tsecond line");
    cr_assert_eq(mlt_msg_header_count(m, "FROM"), 1);
    cr_assert_null(mlt_msg_header(m, "X-None"));
    cr_assert_eq(mlt_msg_add_header(m, "X-Mailgun-Track \t", "yes"), 0);
    cr_assert_str_eq(mlt_msg_header(m, "x-mailgun-track"), "yes",
                     "\"Name :\" is the field Name");
    m = mlt_msg_free(m);
    cr_assert_null(mlt_msg_free(m));
}

Test(message, spooled_equals_memory)
{
    struct mlt_msg *a = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    struct mlt_msg *b = mlt_msg_new(test_cfg(1 << 20, 100));
    const char *da, *db;
    size_t na, nb;
    fill(a, 500);
    fill(b, 500);
    cr_assert_lt(a->fd, 0, "small threshold not reached: in memory");
    cr_assert_geq(b->fd, 0, "past the threshold: spooled");
    cr_assert_eq(mlt_msg_data(a, &da, &na), 0);
    cr_assert_eq(mlt_msg_data(b, &db, &nb), 0);
    cr_assert_eq(na, nb);
    cr_assert(memcmp(da, db, na) == 0);
    mlt_msg_free(a);
    mlt_msg_free(b);
}

Test(message, size_limit_is_efbig)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(200, 100));
    cr_assert_eq(mlt_msg_add_header(m, "From", "a@brand.example"), 0);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++)
        rc = mlt_msg_add_body(m, "0123456789abcdef\r\n", 18);
    cr_assert_eq(rc, EFBIG);
    cr_assert_leq(m->size, 200);
    mlt_msg_free(m);
}

Test(message, recipients)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    cr_assert_eq(mlt_msg_add_rcpt(m, "<Yes@Example.ORG>"), 0);
    cr_assert_str_eq(m->rcpts[0], "yes@example.org");
    cr_assert_eq(mlt_msg_add_rcpt(m, "<not an address>"), EINVAL);
    cr_assert_eq(m->nrcpts, 2, "an odd recipient still counts for the strictest rule");
    cr_assert_eq(mlt_msg_set_sender(m, "<news@brand.example>"), 0);
    cr_assert_str_eq(m->sender, "news@brand.example");
    mlt_msg_free(m);
}

/* ---- ESP headers */

static const char *edit_value(struct mlt_hedit *e, int n, const char *name, int *op)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) {
            *op = e[i].op;
            return e[i].value;
        }
    return NULL;
}

Test(esp, merges_json_and_flags)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    mlt_msg_add_header(m, "X-SMTPAPI", "{\"category\":\"news\",\"filters\":{\"x\":1}}");
    mlt_msg_add_header(m, "X-Mailgun-Track", "yes");
    mlt_msg_add_header(m, "X-PM-TrackOpens", " false ");
    struct mlt_hedit *e;
    char err[200];
    int op = -1;
    int n = mlt_esp_edits(m, 1, 1, &e, err, sizeof err);
    cr_assert_gt(n, 0);
    const char *v = edit_value(e, n, "X-SMTPAPI", &op);
    cr_assert_not_null(v);
    cr_assert_eq(op, MLT_HDR_CHANGE);
    cr_assert_not_null(strstr(v, "\"category\":\"news\""), "%s", v);
    cr_assert_not_null(strstr(v, "\"x\":1"), "%s", v);
    cr_assert_not_null(strstr(v, "\"opentrack\":{\"settings\":{\"enable\":0}}"), "%s", v);
    cr_assert_not_null(strstr(v, "\"clicktrack\":{\"settings\":{\"enable\":0}}"), "%s",
                       v);
    cr_assert_str_eq(edit_value(e, n, "X-Mailgun-Track", &op), "no");
    cr_assert_eq(op, MLT_HDR_CHANGE);
    cr_assert_null(edit_value(e, n, "X-PM-TrackOpens", &op), "already off: left alone");
    cr_assert_str_eq(edit_value(e, n, "X-PM-TrackLinks", &op), "None");
    cr_assert_eq(op, MLT_HDR_ADD);
    cr_assert_str_eq(edit_value(e, n, "X-MSYS-API", &op),
                     "{\"options\":{\"open_tracking\":false,\"click_tracking\":false}}");
    mlt_esp_free(e, n);
    mlt_msg_free(m);
}

Test(esp, only_what_is_off)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    struct mlt_hedit *e;
    char err[200];
    int op;
    int n = mlt_esp_edits(m, 0, 1, &e, err, sizeof err);
    cr_assert_gt(n, 0);
    cr_assert_null(edit_value(e, n, "X-MJ-TrackOpen", &op), "opens were not asked off");
    cr_assert_null(edit_value(e, n, "X-Mailgun-Track", &op),
                   "only both off sets the master switch");
    cr_assert_str_eq(edit_value(e, n, "X-MJ-TrackClick", &op), "0");
    mlt_esp_free(e, n);
    cr_assert_eq(mlt_esp_edits(m, 0, 0, &e, err, sizeof err), 0);
    mlt_msg_free(m);
}

/* A JSON header that cannot be parsed cannot be switched off without
 * losing what it says: the message fails with a reason naming it, rather
 * than going out with the ESP's tracking on. */
Test(esp, unparseable_json_is_an_error_naming_the_header)
{
    static const char *const bad[] = {"{not json", "", "[1,2]", "\"filters\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
        struct mlt_hedit *e = NULL;
        char err[200] = "";
        mlt_msg_add_header(m, i % 2 ? "x-msys-api" : "X-SMTPAPI", bad[i]);
        cr_expect_eq(mlt_esp_edits(m, 1, 1, &e, err, sizeof err), -2, "'%s' accepted", bad[i]);
        cr_expect_null(e);
        cr_expect_not_null(strstr(err, i % 2 ? "X-MSYS-API" : "X-SMTPAPI"), "%s", err);
        mlt_msg_free(m);
    }
}

/* Every occurrence counts: a second flag header saying yes, a second JSON
 * header, a duplicate "filters" key (SendGrid reads the last), a name in
 * lower case. */
Test(esp, every_occurrence_normalised)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    mlt_msg_add_header(m, "X-Mailgun-Track", "no");
    mlt_msg_add_header(m, "X-SMTPAPI", "{\"category\":\"a\"}");
    mlt_msg_add_header(m, "X-Mailgun-Track", "yes");
    mlt_msg_add_header(m, "x-smtpapi",
                       "{\"filters\":{\"opentrack\":{\"settings\":{\"enable\":0}}},"
                       "\"filters\":{\"opentrack\":{\"settings\":{\"enable\":1}},"
                       "\"x\":{\"settings\":{\"y\":2}}}}");
    mlt_msg_add_header(m, "x-pm-trackopens", "true");
    struct mlt_hedit *e;
    char err[200];
    int n = mlt_esp_edits(m, 1, 1, &e, err, sizeof err);
    cr_assert_gt(n, 0);
    int mg = 0, sg = 0, pm = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(e[i].name, "X-Mailgun-Track") == 0) {
            mg++;
            cr_expect_eq(e[i].op, MLT_HDR_CHANGE);
            cr_expect_eq(e[i].index, 2, "the second one (yes) is changed");
            cr_expect_str_eq(e[i].value, "no");
        } else if (strcmp(e[i].name, "X-SMTPAPI") == 0) {
            sg++;
            cr_expect_eq(e[i].op, MLT_HDR_CHANGE);
            cr_expect_eq(e[i].index, sg, "each occurrence changed in place");
            json_t *j = json_loads(e[i].value, JSON_REJECT_DUPLICATES, NULL);
            cr_expect_not_null(j, "merged value has each key once: %s", e[i].value);
            json_t *en = json_object_get(
                json_object_get(
                    json_object_get(json_object_get(j, "filters"), "opentrack"), "settings"),
                "enable");
            cr_expect(json_is_integer(en) && json_integer_value(en) == 0, "%s", e[i].value);
            if (sg == 2)
                cr_expect_not_null(strstr(e[i].value, "\"y\":2"), "last key's data kept");
            json_decref(j);
        } else if (strcmp(e[i].name, "X-PM-TrackOpens") == 0) {
            pm++;
            cr_expect_eq(e[i].op, MLT_HDR_CHANGE, "the lower-case name is found");
        }
    }
    cr_expect_eq(mg, 1);
    cr_expect_eq(sg, 2, "both X-SMTPAPI headers normalised");
    cr_expect_eq(pm, 1);
    mlt_esp_free(e, n);
    mlt_msg_free(m);
}

/* ---- error classes */

Test(errors, rewriter_statuses_classified)
{
    struct {
        int rw;
        int permanent;
    } cases[] = {
        {RW_ENOMEM, 0}, {RW_EPARSE, 1},    {RW_ELIMIT, 1}, {RW_EINVAL, 0},
        {RW_ECHARSET, 1}, {RW_ECALLBACK, 0}, {99, 0}, /* unknown: transient */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(mlt_ekind_permanent(mlt_rw_ekind(cases[i].rw)), cases[i].permanent,
                     "status %d", cases[i].rw);
    cr_expect(!mlt_ekind_permanent(MLT_E_INTERNAL));
    cr_expect(mlt_ekind_permanent(MLT_E_SIZE));
    cr_expect(mlt_ekind_permanent(MLT_E_PARSE));
}

/* ---- trace header */

static struct tok_keys *keys(const char *text)
{
    struct tok_keys *k = NULL;
    char err[200];
    cr_assert_eq(tok_keys_parse(text, strlen(text), &k, err, sizeof err), TOK_OK, "%s",
                 err);
    return k;
}

#define KEY1 "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define KEY2 "2 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f\n"

Test(trace, bound_to_its_recipients_in_any_order_under_any_key)
{
    struct tok_keys *k1 = keys(KEY1), *both = keys(KEY1 KEY2);
    char *ab[] = {"a@example.org", "b@example.org"},
         *ba[] = {"b@example.org", "a@example.org"};
    char *a[] = {"a@example.org"}, *c[] = {"c@example.org"};
    char rmac[TOK_MAC_HEX], fields[200];
    struct buf v = BUF_INIT(0);
    cr_assert_eq(mlt_trace_rcpts(k1, ab, 2, rmac), 0);
    snprintf(fields, sizeof fields, "decision=strictest; for=%s", rmac);
    cr_assert_eq(mlt_trace_make(k1, fields, "", "b", 1, &v), 0);
    cr_assert(mlt_trace_verify(k1, v.data, "", "b", 1));
    cr_assert(mlt_trace_for(k1, v.data, ab, 2));
    cr_assert(mlt_trace_for(k1, v.data, ba, 2), "order does not matter");
    cr_assert(mlt_trace_for(both, v.data, ab, 2), "an older key still verifies");
    cr_assert(!mlt_trace_for(k1, v.data, a, 1), "a subset is other recipients");
    cr_assert(!mlt_trace_for(k1, v.data, c, 1), "another recipient");
    cr_assert(!mlt_trace_for(k1, "2; decision=consent; mac=00", a, 1), "no for= field");
    cr_assert(!mlt_trace_for(NULL, v.data, ab, 2), "no keys: nothing matches");
    /* a relay folds the long header before the white space of "; for=" */
    char *folded = malloc(v.len + 3), *sp = strstr(v.data, "; for=");
    cr_assert_not_null(sp);
    size_t at = (size_t)(sp - v.data) + 1;
    memcpy(folded, v.data, at);
    memcpy(folded + at, "\r\n", 2);
    memcpy(folded + at + 2, v.data + at, v.len - at + 1);
    cr_assert(mlt_trace_verify(k1, folded, "", "b", 1), "folded: still ours");
    cr_assert(mlt_trace_for(k1, folded, ab, 2), "folded: still bound to its recipients");
    cr_assert(!mlt_trace_for(k1, folded, c, 1), "folded: other recipients still refused");
    free(folded);
    buf_free(&v);
    tok_keys_free(k1);
    tok_keys_free(both);
}

Test(trace, make_and_verify)
{
    struct tok_keys *k = keys(KEY1);
    struct buf v = BUF_INIT(0);
    const char *body = "hello\r\nworld\r\n";
    const char *in = "h:from:a@brand.example\n";
    cr_assert_eq(
        mlt_trace_make(k, "decision=consent; rcpts=1", in, body, strlen(body), &v), 0);
    cr_assert(strncmp(v.data, "2; decision=consent; rcpts=1; bmac=", 35) == 0, "%s",
              v.data);
    cr_assert(strncmp(v.data + 35 + 64, "; mac=", 6) == 0, "%s", v.data);
    cr_assert_eq(strlen(v.data), 35 + 64 + 6 + 64);
    cr_assert(mlt_trace_verify(k, v.data, in, body, strlen(body)));
    cr_assert(mlt_trace_verify(k, v.data, in, "hello\r\nworld\r\n\r\n\r\n", 18),
              "trailing empty lines do not count");
    cr_assert(!mlt_trace_verify(k, v.data, in, "hello\r\nWorld\r\n", 14), "body changed");
    cr_assert(!mlt_trace_verify(k, v.data, "h:from:a@evil.example\n", body, strlen(body)),
              "decision inputs changed");
    char *forged = strdup(v.data);
    forged[8] = 'X'; /* inside "decision=" */
    cr_assert(!mlt_trace_verify(k, forged, in, body, strlen(body)), "field changed");
    free(forged);
    buf_free(&v);
    tok_keys_free(k);
}

Test(trace, rotation_and_garbage)
{
    struct tok_keys *old = keys(KEY1), *both = keys(KEY1 KEY2), *other = keys(KEY2);
    struct buf v = BUF_INIT(0);
    cr_assert_eq(mlt_trace_make(old, "decision=monitor", "", "b", 1, &v), 0);
    cr_assert(mlt_trace_verify(both, v.data, "", "b", 1), "an older key still verifies");
    cr_assert(!mlt_trace_verify(other, v.data, "", "b", 1), "an unknown key does not");
    static const char *const junk[] = {
        "",
        "2",
        "2; mac=",
        "2; mac=zz",
        "2.0; decision=x; mac=00",
        "2; decision=x; "
        "mac=0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        cr_expect(!mlt_trace_verify(both, junk[i], "", "b", 1), "'%s' verified", junk[i]);
    cr_assert(!mlt_trace_verify(NULL, v.data, "", "b", 1), "no keys: nothing verifies");
    /* a version 1.0 header (fields and body only) is not ours any more */
    char *v1 = malloc(v.len + 4);
    snprintf(v1, v.len + 4, "1.0%s", v.data + 1);
    cr_assert(!mlt_trace_verify(both, v1, "", "b", 1), "version 1.0: unprocessed");
    free(v1);
    buf_reset(&v);
    cr_assert_eq(mlt_trace_make(NULL, "decision=off", "", "b", 1, &v), 0);
    cr_assert_str_eq(v.data, "2; decision=off; mac=none");
    buf_free(&v);
    tok_keys_free(old);
    tok_keys_free(both);
    tok_keys_free(other);
}

/* SendGrid's X-SMTPAPI often carries a "to" list and substitutions of many
 * KB, folded by the sender. The merged value must stay folded (RFC 5322:
 * lines of at most 998 octets; SendGrid asks for it too): relays break an
 * over-long line by inserting CRLF SPACE anywhere, which can split a JSON
 * token and make the ESP drop the whole header - opentrack off included. */
Test(esp, long_json_header_stays_folded)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    struct buf in = BUF_INIT(0);
    buf_puts(&in, "{\"to\": [");
    for (int i = 0; i < 300; i++)
        buf_printf(&in, "%s\"recipient-%03d@example.org\"", i ? ",\n " : "", i);
    buf_puts(&in, "],\n \"category\": \"news\"}");
    mlt_msg_add_header(m, "X-SMTPAPI", buf_cstr(&in));
    struct mlt_hedit *e;
    char err[200];
    int op;
    int n = mlt_esp_edits(m, 1, 1, &e, err, sizeof err);
    const char *v = edit_value(e, n, "X-SMTPAPI", &op);
    cr_assert_not_null(v);
    size_t line = strlen("X-SMTPAPI: ");
    for (const char *p = v; *p; p++) {
        if (*p == '\n') {
            cr_assert(p[1] == ' ' || p[1] == '\t',
                      "continuation line must start with a blank");
            line = 0;
            continue;
        }
        cr_assert_lt(++line, 999, "header line longer than 998 octets");
    }
    json_error_t jerr;
    json_t *j = json_loads(v, 0, &jerr);
    cr_assert_not_null(j, "unfolded value is not JSON: %s", jerr.text);
    cr_assert_eq(json_array_size(json_object_get(j, "to")), 300);
    cr_assert_eq(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(json_object_get(j, "filters"), "opentrack"),
                            "settings"),
            "enable")),
        0);
    json_decref(j);
    mlt_esp_free(e, n);
    buf_free(&in);
    mlt_msg_free(m);
}

/* A copy relabelled after processing is not exempt (mac fails), but its
 * fields and body are still ours (bmac): for= can still refuse it for
 * other recipients. Format 1.0 headers count there too, never as exempt. */
Test(trace, personalised_survives_relabelling_exemption_does_not)
{
    struct tok_keys *k = keys(KEY1);
    struct buf v = BUF_INIT(0);
    const char *body = "<a href=x>\r\n";
    cr_assert_eq(mlt_trace_make(k, "decision=consent; for=ab", "h:from:a@b\n", body,
                                strlen(body), &v), 0);
    cr_assert(mlt_trace_verify(k, v.data, "h:from:a@b\n", body, strlen(body)));
    cr_assert(!mlt_trace_verify(k, v.data, "h:from:a@c\n", body, strlen(body)));
    cr_assert(mlt_trace_personalised(k, v.data, body, strlen(body)), "relabelled: still ours");
    cr_assert(!mlt_trace_personalised(k, v.data, "other", 5), "another body");
    char *forged = strdup(v.data);
    forged[3] = 'X';
    cr_assert(!mlt_trace_personalised(k, forged, body, strlen(body)), "fields changed");
    free(forged);
    cr_assert(!mlt_trace_personalised(NULL, v.data, body, strlen(body)));
    /* a 1.0 header: MAC over "1.0; fields" and the body digest */
    struct buf in = BUF_INIT(0);
    unsigned char h[32];
    char hex[65], mac[TOK_MAC_HEX];
    crypto_generichash(h, sizeof h, (const unsigned char *)body, strlen(body) - 2, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    buf_printf(&in, "1.0; decision=consent; for=ab\nbody-blake2b=%s", hex);
    cr_assert_eq(tok_mac(k, in.data, in.len, mac), TOK_OK);
    buf_reset(&v);
    buf_printf(&v, "1.0; decision=consent; for=ab; mac=%s", mac);
    cr_assert(mlt_trace_personalised(k, v.data, body, strlen(body)), "1.0: ours, for refusal");
    cr_assert(!mlt_trace_verify(k, v.data, "", body, strlen(body)), "1.0: never exempt");
    buf_free(&in);
    buf_free(&v);
    tok_keys_free(k);
}

/* Only an enforcing decision exempts a later pass: monitor changed nothing. */
Test(trace, only_enforcing_decisions_count)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"2; decision=consent; mode=enforce; mac=00", 1},
        {"2; decision=no-consent; mac=00", 1},
        {"2; decision=never-track; mac=00", 1},
        {"2; decision=strictest; mac=00", 1},
        {"2; decision=monitor; mode=monitor; mac=00", 0},
        {"2; decision=off; mac=00", 0},
        {"2; decision=consentx; mac=00", 0},
        {"2; decision=; mac=00", 0},
        {"2; rule=\"x\"; mac=00", 0},
        {"2;\r\n decision=monitor;\r\n mac=00", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(mlt_trace_enforced(cases[i].v), cases[i].want, "%s", cases[i].v);
}

static struct cfg *rules_cfg(void)
{
    char err[300], dir[512];
    const char *src = getenv("CM_SRCDIR");
    snprintf(dir, sizeof dir, "%s/conf", src ? src : ".");
    struct cfg *c = cfg_load_string("[domain *]\nmode = enforce\n"
                                    "transactional = header:X-Mail-Class: transactional\n"
                                    "[domain b.example]\nauth = header:X-Auth-Kind: otp\n",
                                    dir, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    return c;
}

static char *inputs_of(const struct cfg *c, struct msginfo_hdr *h, size_t n, const char *snd)
{
    struct buf b = BUF_INIT(0);
    cr_assert_eq(mlt_trace_inputs(c, h, n, snd, &b), 0);
    return buf_steal(&b, NULL);
}

/* Every header the decision reads changes the inputs; others, folding and
 * the envelope sender (when From: decides) do not. */
Test(trace, inputs_cover_every_decision_header)
{
    struct cfg *c = rules_cfg();
    struct msginfo_hdr base[] = {
        {"From", "a@b.example"},           {"Content-Type", "text/plain"},
        {"Subject", "s"},                  {"Received", "from x"},
    };
    char *ref = inputs_of(c, base, 4, "bounce@b.example");
    char *same = inputs_of(c, base, 4, "other@c.example");
    cr_expect_str_eq(ref, same, "sender does not count when From: decides");
    free(same);
    struct msginfo_hdr folded[] = {
        {"from", "a@b.example"}, {"Content-Type", "text/plain"}, {"Subject", "other"}};
    same = inputs_of(c, folded, 3, NULL);
    cr_expect_str_eq(ref, same, "Subject, Received, name case do not count");
    free(same);
    static const char *const names[] = {
        "From",         "Content-Type",     "Content-Transfer-Encoding", "MIME-Version",
        "List-Id",      "List-Unsubscribe", "Content-Disposition",       "X-Mail-Class",
        "X-Auth-Kind",  "X-SMTPAPI",        "X-MSYS-API",                "X-Mailgun-Track",
        "x-mailgun-track-opens", "X-Mailgun-Track-Clicks", "X-PM-TrackOpens",
        "X-PM-TrackLinks", "X-MJ-TrackOpen", "X-MJ-TrackClick",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct msginfo_hdr h[5];
        memcpy(h, base, sizeof base);
        h[4].name = (char *)names[i];
        h[4].value = "text/html";
        char *got = inputs_of(c, h, 5, NULL);
        cr_expect_str_neq(got, ref, "%s not covered", names[i]);
        free(got);
    }
    /* relabelled in place, and folded differently */
    struct msginfo_hdr relab[] = {{"From", "a@b.example"}, {"Content-Type", "text/html"}};
    struct msginfo_hdr refold[] = {{"From", "a@b.example"}, {"Content-Type", "text/plain"}};
    char *a = inputs_of(c, relab, 2, NULL), *b = inputs_of(c, refold, 2, NULL);
    cr_expect_str_neq(a, b);
    free(a);
    free(b);
    struct msginfo_hdr f1[] = {{"Content-Type", "text/plain;\n\tcharset=utf-8"}};
    struct msginfo_hdr f2[] = {{"Content-Type", "text/plain; charset=utf-8"}};
    a = inputs_of(c, f1, 1, "s@b.example");
    b = inputs_of(c, f2, 1, "s@b.example");
    cr_expect_str_eq(a, b, "refolding does not count");
    free(b);
    b = inputs_of(c, f2, 1, "s@c.example");
    cr_expect_str_neq(a, b, "without From: the envelope sender decides");
    free(a);
    free(b);
    free(ref);
    cfg_release(c);
}

Test(trace, header_edits_applied_like_the_mta)
{
    struct msginfo_hdr *v = malloc(3 * sizeof *v);
    size_t n = 3;
    v[0] = (struct msginfo_hdr){"X-A", "1"};
    v[1] = (struct msginfo_hdr){"Subject", "s"};
    v[2] = (struct msginfo_hdr){"x-a", "2"};
    cr_assert_eq(mlt_trace_hdrs_edit(&v, &n, "X-A", 2, "two"), 0);
    cr_expect_str_eq(v[2].value, "two");
    cr_assert_eq(mlt_trace_hdrs_edit(&v, &n, "X-A", 1, NULL), 0);
    cr_expect_eq(n, 2);
    cr_expect_str_eq(v[0].name, "Subject");
    cr_assert_eq(mlt_trace_hdrs_edit(&v, &n, "X-B", 1, "b"), 0); /* none: added */
    cr_assert_eq(mlt_trace_hdrs_edit(&v, &n, "X-C", 0, "c"), 0);
    cr_expect_eq(n, 4);
    cr_expect_str_eq(v[2].value, "b");
    cr_expect_str_eq(v[3].value, "c");
    free(v);
}

/* ---- the workers' shared memory budget (milter/budget.c) */

struct giver {
    size_t held;
};

static void *give_later(void *arg)
{
    struct giver *g = arg;

    usleep(100000);
    mlt_budget_give(g->held);
    return NULL;
}

Test(budget, shares_wait_time_out_and_never_fit)
{
    size_t a, b, c;
    struct giver g;
    pthread_t th;

    cr_assert_eq(mlt_budget_need(10 << 20), (size_t)(40 << 20) + MLT_BUDGET_BASE);
    cr_assert_eq(mlt_budget_need(SIZE_MAX / 2), SIZE_MAX, "overflow saturates");
    cr_assert_eq(mlt_budget_take(0, 1000, 0, &a), 0, "no budget: always fits");
    cr_assert_eq(a, 0, "no budget: nothing held");
    cr_assert_eq(mlt_budget_take(100, 101, 0, &a), EFBIG, "larger than the budget");
    cr_assert_eq(mlt_budget_take(100, 60, 0, &a), 0);
    cr_assert_eq(mlt_budget_used(), 60);
    cr_assert_eq(mlt_budget_take(100, 50, 50, &b), ETIMEDOUT, "over the budget: waits, then times out");
    cr_assert_eq(b, 0);
    cr_assert_eq(mlt_budget_take(100, 40, 0, &b), 0, "what is left still fits");
    /* a waiter gets its share as soon as another gives one back */
    g.held = a;
    cr_assert_eq(pthread_create(&th, NULL, give_later, &g), 0);
    cr_assert_eq(mlt_budget_take(100, 55, 5000, &c), 0, "share given back: the waiter goes on");
    pthread_join(th, NULL);
    cr_assert_eq(mlt_budget_used(), 95);
    mlt_budget_give(b);
    mlt_budget_give(c);
    mlt_budget_give(0);
    cr_assert_eq(mlt_budget_used(), 0);
}

/* ---- [store] backend = postgresql: a stale replica decides as if nobody
 * consented (issue 11), a fresh one decides from its consent. */
#include "store/store_repl.h"
#include <time.h>

static void rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static int copy_first(uint64_t seq, const void *v, size_t n, void *arg)
{
    struct store_wire *w = arg;
    (void)seq;
    cr_assert(n <= sizeof w->raw);
    memcpy(w->raw, v, n);
    w->len = n;
    return 1; /* the first event only */
}

Test(decide, stale_replica_decides_as_if_nobody_consented)
{
    char pdir[] = "/tmp/test_mlt_p.XXXXXX", rdir[] = "/tmp/test_mlt_r.XXXXXX", err[256];
    struct store *p, *r;
    cr_assert_not_null(mkdtemp(pdir));
    cr_assert_not_null(mkdtemp(rdir));
    cr_assert_eq(store_open(pdir, STORE_CREATE, 0, &p), STORE_OK);
    cr_assert_eq(store_open(rdir, STORE_CREATE, 0, &r), STORE_OK);
    struct store_event ev = {.action = STORE_A_GRANT, .controller = "brand.example",
                             .recipient = "a@example.org", .purposes = 3,
                             .method = "api"};
    cr_assert_eq(store_record(p, &ev), STORE_OK);

    char text[256];
    snprintf(text, sizeof text,
             "[store]\nbackend = postgresql\nconninfo = host=/nonexistent\n"
             "replica = %s\nmax_staleness = 60\n",
             rdir);
    char conf[512];
    snprintf(conf, sizeof conf, "%s/conf", getenv("CM_SRCDIR") ? getenv("CM_SRCDIR") : ".");
    struct cfg *cfg = cfg_load_string(text, conf, err, sizeof err);
    cr_assert_not_null(cfg, "%s", err);
    struct snap rt = {.cfg = cfg};
    char r0[] = "a@example.org", *rcpts[] = {r0};
    char hn[] = "From", hv[] = "news@brand.example", snd[] = "news@brand.example";
    struct msginfo_hdr from = {.name = hn, .value = hv};
    struct mlt_msg m = {.sender = snd, .rcpts = rcpts, .nrcpts = 1,
                        .hdrs = &from, .nhdrs = 1};
    struct mlt_decision d;
    int64_t now = (int64_t)time(NULL);

    struct store *saved = mlt_store;
    mlt_store = r;
    cr_expect_eq(mlt_replica_stale(cfg, r, now), 1, "never synced is stale");
    cr_assert_eq(mlt_decide(&rt, &m, &d, err, sizeof err), 0, "never a tempfail");
    cr_expect_eq(d.granted, 0);

    /* replicate, synced 10 minutes ago: still stale */
    const void *raw;
    size_t len;
    struct store_wire *w = malloc(sizeof *w);
    cr_assert_not_null(w);
    cr_assert_eq(store_ledger_walk_raw(p, 1, copy_first, w), 1);
    raw = w->raw;
    len = w->len;
    struct store_repl_result res;
    cr_assert_eq(store_replica_apply(r, &raw, &len, 1, now - 600, &res), STORE_OK);
    cr_expect_eq(mlt_replica_stale(cfg, r, now), 1, "synced 600 s ago > 60 s");
    cr_assert_eq(mlt_decide(&rt, &m, &d, err, sizeof err), 0);
    cr_expect_eq(d.granted, 0, "stale: nothing granted although the replica says so");

    /* a fresh sync: the replica's consent counts */
    cr_assert_eq(store_replica_touch(r, now - 5), STORE_OK);
    cr_expect_eq(mlt_replica_stale(cfg, r, now), 0);
    cr_assert_eq(mlt_decide(&rt, &m, &d, err, sizeof err), 0);
    cr_expect_eq(d.granted, 3, "fresh: granted opens and clicks");

    /* lmdb backend: the sync time plays no part */
    struct cfg *lm = cfg_load_string("", conf, err, sizeof err);
    cr_assert_not_null(lm, "%s", err);
    cr_expect_eq(mlt_replica_stale(lm, r, now + 100000), 0);
    cfg_release(lm);

    mlt_store = saved;
    free(w);
    cfg_release(cfg);
    store_close(p);
    store_close(r);
    rm_rf(pdir);
    rm_rf(rdir);
}


/* guard.c (issue 13): a SIGBUS inside a guarded store read (a damaged
 * mapped file) returns STORE_ECORRUPT, marks the store damaged, and no
 * later guarded read runs; a normal read returns its own status. */
#include <signal.h>

static int guarded_calls;

static int read_ok(void *arg)
{
    (void)arg;
    guarded_calls++;
    return STORE_NOTFOUND;
}

static int read_faults(void *arg)
{
    (void)arg;
    guarded_calls++;
    raise(SIGBUS);
    return STORE_OK;
}

Test(guard, sigbus_in_a_store_read_marks_the_store_damaged)
{
    cr_assert_eq(mlt_guard_init(), 0);
    cr_assert_eq(mlt_guarded(read_ok, NULL), STORE_NOTFOUND);
    cr_assert_eq(mlt_guard_damaged(), 0);
    cr_assert_eq(mlt_guarded(read_faults, NULL), STORE_ECORRUPT, "the fault is caught");
    cr_assert_eq(mlt_guard_damaged(), 1);
    cr_assert_eq(mlt_guarded(read_ok, NULL), STORE_ECORRUPT, "a damaged store is not read again");
    cr_assert_eq(guarded_calls, 2);
}
