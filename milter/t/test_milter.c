/* Unit tests for consent-milter's pure parts: sending-domain parsing,
 * per-message buffering and spooling, ESP header merging, the trace MAC.
 * Built by milter/module.mk with the milter's objects (not main.o). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
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
    int op = -1;
    int n = mlt_esp_edits(m, 1, 1, &e);
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

Test(esp, only_what_is_off_and_bad_json_left_alone)
{
    struct mlt_msg *m = mlt_msg_new(test_cfg(1 << 20, 1 << 20));
    mlt_msg_add_header(m, "X-SMTPAPI", "{not json");
    struct mlt_hedit *e;
    int op;
    int n = mlt_esp_edits(m, 0, 1, &e);
    cr_assert_gt(n, 0);
    cr_assert_null(edit_value(e, n, "X-SMTPAPI", &op),
                   "unparseable JSON is not clobbered");
    cr_assert_null(edit_value(e, n, "X-MJ-TrackOpen", &op), "opens were not asked off");
    cr_assert_null(edit_value(e, n, "X-Mailgun-Track", &op),
                   "only both off sets the master switch");
    cr_assert_str_eq(edit_value(e, n, "X-MJ-TrackClick", &op), "0");
    mlt_esp_free(e, n);
    cr_assert_eq(mlt_esp_edits(m, 0, 0, &e), 0);
    mlt_msg_free(m);
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
    cr_assert_eq(mlt_trace_make(k1, fields, "b", 1, &v), 0);
    cr_assert(mlt_trace_verify(k1, v.data, "b", 1));
    cr_assert(mlt_trace_for(k1, v.data, ab, 2));
    cr_assert(mlt_trace_for(k1, v.data, ba, 2), "order does not matter");
    cr_assert(mlt_trace_for(both, v.data, ab, 2), "an older key still verifies");
    cr_assert(!mlt_trace_for(k1, v.data, a, 1), "a subset is other recipients");
    cr_assert(!mlt_trace_for(k1, v.data, c, 1), "another recipient");
    cr_assert(!mlt_trace_for(k1, "1.0; decision=consent; mac=00", a, 1), "no for= field");
    cr_assert(!mlt_trace_for(NULL, v.data, ab, 2), "no keys: nothing matches");
    /* a relay folds the long header before the white space of "; for=" */
    char *folded = malloc(v.len + 3), *sp = strstr(v.data, "; for=");
    cr_assert_not_null(sp);
    size_t at = (size_t)(sp - v.data) + 1;
    memcpy(folded, v.data, at);
    memcpy(folded + at, "\r\n", 2);
    memcpy(folded + at + 2, v.data + at, v.len - at + 1);
    cr_assert(mlt_trace_verify(k1, folded, "b", 1), "folded: still ours");
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
    cr_assert_eq(mlt_trace_make(k, "decision=consent; rcpts=1", body, strlen(body), &v),
                 0);
    cr_assert(strncmp(v.data, "1.0; decision=consent; rcpts=1; mac=", 36) == 0, "%s",
              v.data);
    cr_assert_eq(strlen(v.data), 36 + 64);
    cr_assert(mlt_trace_verify(k, v.data, body, strlen(body)));
    cr_assert(mlt_trace_verify(k, v.data, "hello\r\nworld\r\n\r\n\r\n", 18),
              "trailing empty lines do not count");
    cr_assert(!mlt_trace_verify(k, v.data, "hello\r\nWorld\r\n", 14), "body changed");
    char *forged = strdup(v.data);
    forged[10] = 'X'; /* inside "decision=" */
    cr_assert(!mlt_trace_verify(k, forged, body, strlen(body)), "field changed");
    free(forged);
    buf_free(&v);
    tok_keys_free(k);
}

Test(trace, rotation_and_garbage)
{
    struct tok_keys *old = keys(KEY1), *both = keys(KEY1 KEY2), *other = keys(KEY2);
    struct buf v = BUF_INIT(0);
    cr_assert_eq(mlt_trace_make(old, "decision=monitor", "b", 1, &v), 0);
    cr_assert(mlt_trace_verify(both, v.data, "b", 1), "an older key still verifies");
    cr_assert(!mlt_trace_verify(other, v.data, "b", 1), "an unknown key does not");
    static const char *const junk[] = {
        "",
        "1.0",
        "1.0; mac=",
        "1.0; mac=zz",
        "2.0; decision=x; mac=00",
        "1.0; decision=x; "
        "mac=0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        cr_expect(!mlt_trace_verify(both, junk[i], "b", 1), "'%s' verified", junk[i]);
    cr_assert(!mlt_trace_verify(NULL, v.data, "b", 1), "no keys: nothing verifies");
    buf_reset(&v);
    cr_assert_eq(mlt_trace_make(NULL, "decision=off", "b", 1, &v), 0);
    cr_assert_str_eq(v.data, "1.0; decision=off; mac=none");
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
    int op;
    int n = mlt_esp_edits(m, 1, 1, &e);
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
