/* Unit tests for store/: normalisation, parsing, open/create, every state
 * transition, history, batches and import idempotence, erasure, last-open
 * days, anonymous counters, enumeration. Each test runs in its own
 * mkdtemp LMDB (Criterion runs each test in its own process). */
#include "tests/unit/test_store_util.h"

#include <sys/stat.h>
#include <time.h>

Test(store_norm, addresses_normalise_to_one_key)
{
    static const struct {
        const char *in, *want;
    } ok[] = {
        {"Alice@Example.ORG", "alice@example.org"},
        {"<alice@example.org>", "alice@example.org"},
        {"  <Alice@EXAMPLE.org>\t", "alice@example.org"},
        {"< alice@example.org >", "alice@example.org"},
        {"J\xc3\x89r\xc3\xb4me@Example.fr",
         "j\xc3\x89r\xc3\xb4me@example.fr"}, /* UTF-8 kept */
        {"e\xcc\x81@x.fr", "\xc3\xa9@x.fr"}, /* NFD e + acute -> NFC e-acute */
    };
    char out[STORE_ADDR_MAX];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(store_addr_normalise(ok[i].in, out, sizeof out), STORE_OK, "in=%s",
                     ok[i].in);
        cr_expect_str_eq(out, ok[i].want, "in=%s got=%s want=%s", ok[i].in, out,
                         ok[i].want);
    }
}

Test(store_norm, bad_addresses_rejected)
{
    static const char *const bad[] = {
        "",
        "   ",
        "<>",
        "alice",
        "@example.org",
        "alice@",
        "a b@example.org",
        "a@b@example.org",
        "al\x01ice@example.org",
        "\xff\xfe@example.org",
        "a,b@example.org",
        "alice@.example.org",
        "alice@example.org.",
    };
    char out[STORE_ADDR_MAX], longaddr[400];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(store_addr_normalise(bad[i], out, sizeof out), STORE_EINVAL, "in=%s",
                     bad[i]);
    memset(longaddr, 'a', sizeof longaddr);
    memcpy(longaddr + 380, "@example.org", 13);
    cr_expect_eq(store_addr_normalise(longaddr, out, sizeof out), STORE_EINVAL);
    cr_expect_eq(store_addr_normalise("a@b.c", out, 3), STORE_EINVAL,
                 "too small a buffer");
}

Test(store_norm, controllers)
{
    char out[80];
    cr_assert_eq(store_controller_normalise("Brand-Mail.FR_1", out, sizeof out),
                 STORE_OK);
    cr_expect_str_eq(out, "brand-mail.fr_1");
    cr_expect_eq(store_controller_normalise("", out, sizeof out), STORE_EINVAL);
    cr_expect_eq(store_controller_normalise("a b", out, sizeof out), STORE_EINVAL);
    cr_expect_eq(store_controller_normalise("br/and", out, sizeof out), STORE_EINVAL);
}

Test(store_norm, purposes)
{
    uint32_t m = 0;
    const char *bad = NULL;
    cr_assert_eq(store_purposes_parse("opens,clicks", &m, &bad), STORE_OK);
    cr_expect_eq(m, P_OPENS | P_CLICKS);
    cr_assert_eq(store_purposes_parse("Profiling fraud;deliverability", &m, &bad),
                 STORE_OK);
    cr_expect_eq(m, (1u << 2) | (1u << 3) | (1u << 4));
    cr_expect_eq(store_purposes_parse("opens,opnes", &m, &bad), STORE_EINVAL);
    cr_expect_str_eq(bad, "opnes");
    cr_expect_eq(store_purposes_parse("", &m, &bad), STORE_EINVAL);
    cr_expect_eq(store_purpose_parse("clicks"), STORE_P_CLICKS);
    cr_expect_eq(store_purpose_parse("nope"), -1);
    cr_expect_str_eq(store_purpose_name(STORE_P_FRAUD), "fraud");
    cr_expect_null(store_purpose_name(15));
}

Test(store_norm, dates)
{
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"2026-07-15", 1784073600},
        {"2026-07-15T10:00:00Z", 1784073600 + 36000},
        {"2026-07-15 10:00:00", 1784073600 + 36000},
        {"2026-07-15T12:00:00+02:00", 1784073600 + 36000},
        {"2026-07-15T10:00:00.123Z", 1784073600 + 36000},
        {"1784073600", 1784073600},
    };
    static const char *const bad[] = {
        "2026-13-01",           "2026-02-30", "2026-7-15",  "15/07/2026",
        "2026-07-15T25:00:00Z", "yesterday",  "",           "1969-12-31",
        "2026-07-15Tnoon",      "-5",         "99999999999"};
    int64_t t;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(store_time_parse(ok[i].in, &t), STORE_OK, "in=%s", ok[i].in);
        cr_expect_eq(t, ok[i].want, "in=%s got=%lld", ok[i].in, (long long)t);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(store_time_parse(bad[i], &t), STORE_EINVAL, "in=%s", bad[i]);
    char iso[32];
    store_time_format(1784073600, iso, sizeof iso);
    cr_expect_str_eq(iso, "2026-07-15T00:00:00Z");
}

Test(store_open, missing_without_create_then_create_and_reopen)
{
    struct store *st = NULL;
    char sub[128];
    tdir_make();
    snprintf(sub, sizeof sub, "%s/db", tdir);
    cr_expect_eq(store_open(sub, 0, 0, &st), STORE_ENODB);
    cr_expect_null(st);
    cr_assert_eq(store_open(sub, STORE_CREATE, 0, &st), STORE_OK);
    unsigned v = 0;
    cr_expect_eq(store_schema(st, &v), STORE_OK);
    cr_expect_eq(v, STORE_SCHEMA_VERSION);
    store_close(st);
    cr_assert_eq(store_open(sub, STORE_RDONLY, 0, &st), STORE_OK);
    struct store_consent c;
    cr_expect_eq(store_consent_get(st, "brand", "a@b.c", &c), STORE_NOTFOUND);
    store_close(st);
    store_close(NULL);
    tdir_remove();
}

Test(store_open, reader_table_has_the_same_floor_for_every_process)
{
    struct store *st = NULL;
    struct store_info info;
    tdir_make();
    /* The first opener creates the lock file and fixes the table for all:
     * a small request must not shrink it below the floor. */
    cr_assert_eq(store_open(tdir, STORE_CREATE, 4, &st), STORE_OK);
    cr_assert_eq(store_info_get(st, &info), STORE_OK);
    cr_expect_geq(info.readers_max, STORE_MIN_READERS, "got %u", info.readers_max);
    store_close(st);
    tdir_remove();
}

Test(store_open, corrupt_file_is_reported)
{
    struct store *st = NULL;
    char path[128];
    tdir_make();
    snprintf(path, sizeof path, "%s/data.mdb", tdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 100000; i++)
        fputc("garbage"[i % 7], f);
    fclose(f);
    int rc = store_open(tdir, 0, 0, &st);
    cr_expect_eq(rc, STORE_ECORRUPT, "got %s", store_strerror(rc));
    cr_expect_null(st);
    tdir_remove();
}

TestSuite(store, .init = setup_store, .fini = teardown_store);

Test(store, unknown_recipient_is_notfound_and_all_unknown)
{
    struct store_consent c;
    memset(&c, 0xff, sizeof c);
    cr_expect_eq(store_consent_get(tst, "brand", "nobody@example.org", &c),
                 STORE_NOTFOUND);
    for (int i = 0; i < STORE_P_MAX; i++)
        cr_expect_eq(c.state[i], STORE_UNKNOWN);
    cr_expect_eq(c.updated, 0);
    cr_expect_eq(store_covers(&c, P_OPENS), 0);
}

Test(store, grant_refuse_withdraw_transitions)
{
    struct store_consent c;
    cr_assert_eq(rec(STORE_A_GRANT, "Alice@Example.ORG", P_OPENS | P_CLICKS, 1000),
                 STORE_OK);
    cr_assert_eq(store_consent_get(tst, "BRAND", "<alice@example.org>", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED);
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_GRANTED);
    cr_expect_eq(c.state[STORE_P_PROFILING], STORE_UNKNOWN);
    cr_expect_eq(c.updated, 1000);
    cr_expect(store_covers(&c, P_OPENS | P_CLICKS));

    cr_assert_eq(rec(STORE_A_REFUSE, "alice@example.org", P_PROF, 1001), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "alice@example.org", P_CLICKS, 1002), STORE_OK);
    cr_assert_eq(store_consent_get(tst, "brand", "alice@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED);
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_WITHDRAWN);
    cr_expect_eq(c.state[STORE_P_PROFILING], STORE_REFUSED);
    cr_expect_not(store_covers(&c, P_OPENS | P_CLICKS));

    /* withdraw with no purposes: every granted purpose, refusals stay */
    cr_assert_eq(rec(STORE_A_WITHDRAW, "alice@example.org", 0, 1003), STORE_OK);
    cr_assert_eq(store_consent_get(tst, "brand", "alice@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_WITHDRAWN);
    cr_expect_eq(c.state[STORE_P_PROFILING], STORE_REFUSED);

    /* granted again after a withdrawal */
    cr_assert_eq(rec(STORE_A_GRANT, "alice@example.org", P_OPENS, 1004), STORE_OK);
    cr_assert_eq(store_consent_get(tst, "brand", "alice@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED);
    cr_expect_eq(c.updated, 1004);
}

Test(store, inform_sets_legacy_marker_only)
{
    struct store_consent c;
    cr_assert_eq(rec(STORE_A_INFORM, "bob@example.org", 0, 5000), STORE_OK);
    cr_assert_eq(store_consent_get(tst, "brand", "bob@example.org", &c), STORE_OK);
    cr_expect_eq(c.legacy_informed, 5000);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_UNKNOWN);
    cr_expect_not(store_covers(&c, P_OPENS));
}

Test(store, import_states_and_late_events_fill_unknown_only)
{
    struct store_event ev = {0};
    struct store_consent c;
    ev.action = STORE_A_IMPORT;
    ev.controller = "brand";
    ev.recipient = "carol@example.org";
    ev.method = "import";
    ev.time = 2000;
    ev.purposes = P_OPENS | P_CLICKS;
    STORE_STATES_SET(ev.states, STORE_P_OPENS, STORE_GRANTED);
    STORE_STATES_SET(ev.states, STORE_P_CLICKS, STORE_REFUSED);
    cr_assert_eq(store_record(tst, &ev), STORE_OK);
    /* an older grant of clicks and profiling: clicks keeps the newer refusal */
    cr_assert_eq(rec(STORE_A_GRANT, "carol@example.org", P_CLICKS | P_PROF, 1500),
                 STORE_OK);
    cr_assert_eq(store_consent_get(tst, "brand", "carol@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED);
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_REFUSED);
    cr_expect_eq(c.state[STORE_P_PROFILING], STORE_GRANTED);
    cr_expect_eq(c.updated, 2000);
}

Test(store, controllers_are_separate)
{
    struct store_consent c;
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand-a", "dan@example.org", P_OPENS, 10, NULL),
                 0);
    cr_expect_eq(store_consent_get(tst, "brand-b", "dan@example.org", &c),
                 STORE_NOTFOUND);
    cr_expect_eq(store_consent_get(tst, "brand-a", "dan@example.org", &c), STORE_OK);
}

Test(store, invalid_events_rejected_and_nothing_written)
{
    struct store_event ev = {0};
    struct store_info in;
    ev.controller = "brand";
    ev.recipient = "eve@example.org";
    ev.purposes = P_OPENS;
    ev.method = "carrier-pigeon";
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL, "unknown method");
    ev.method = "admin";
    ev.purposes = 0;
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL, "grant of nothing");
    ev.purposes = 1u << 12;
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL, "unnamed purpose");
    ev.purposes = P_OPENS;
    ev.action = STORE_A_ERASE;
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL, "erase only via store_erase");
    ev.action = 99;
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL);
    ev.action = STORE_A_GRANT;
    ev.recipient = "not-an-address";
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL);
    ev.recipient = "eve@example.org";
    strcpy(ev.id, "not-a-uuid");
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL);
    ev.id[0] = '\0';
    ev.user_agent = "evil\nheader";
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL, "control bytes");
    ev.user_agent = NULL;
    ev.time = -1;
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL);
    ev.action = STORE_A_IMPORT;
    ev.time = 5;
    ev.states = 0; /* a purpose without a state */
    cr_expect_eq(store_record(tst, &ev), STORE_EINVAL);
    cr_assert_eq(store_info_get(tst, &in), STORE_OK);
    cr_expect_eq(in.events, 0);
    cr_expect_eq(in.consents, 0);
}

struct hist {
    int n;
    struct store_event ev[8];
    char rcpt[8][80], ip[8][40], ua[8][80], notice[8][40], actor[8][40];
    int tomb[8];
};

static int hist_cb(const struct store_ledger_event *e, void *arg)
{
    struct hist *h = arg;
    if (h->n >= 8)
        return 1;
    h->ev[h->n] = e->ev;
    snprintf(h->rcpt[h->n], 80, "%s", e->ev.recipient ? e->ev.recipient : "(null)");
    snprintf(h->ip[h->n], 40, "%s", e->ev.source_ip ? e->ev.source_ip : "(null)");
    snprintf(h->ua[h->n], 80, "%s", e->ev.user_agent ? e->ev.user_agent : "(null)");
    snprintf(h->notice[h->n], 40, "%s", e->ev.notice_id ? e->ev.notice_id : "(null)");
    snprintf(h->actor[h->n], 40, "%s", e->ev.actor ? e->ev.actor : "(null)");
    h->tomb[h->n] = e->tombstone;
    h->n++;
    return 0;
}

Test(store, history_keeps_every_field_in_order)
{
    struct store_event ev = {0};
    static struct hist h;
    ev.action = STORE_A_GRANT;
    ev.controller = "Brand";
    ev.recipient = "Frank@Example.org";
    ev.purposes = P_OPENS;
    ev.method = "consent-page";
    ev.notice_id = "notice-7";
    memset(ev.notice_sha256, 0xab, 32);
    ev.source_ip = "192.0.2.1";
    ev.user_agent = "Mozilla/5.0";
    ev.actor = "gate";
    ev.time = 3000;
    cr_assert_eq(store_record(tst, &ev), STORE_OK);
    cr_expect_eq(ev.seq, 1);
    cr_expect_eq(strlen(ev.id), 36);
    cr_expect_eq(ev.id[14], '4', "UUID version 4: %s", ev.id);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "frank@example.org", 0, 3100), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "other@example.org", P_OPENS, 3050), STORE_OK);
    cr_assert_eq(store_history(tst, "brand", "frank@example.org", hist_cb, &h), STORE_OK);
    cr_assert_eq(h.n, 2);
    cr_expect_str_eq(h.ev[0].id, ev.id);
    cr_expect_eq(h.ev[0].time, 3000);
    cr_expect_eq(h.ev[0].action, STORE_A_GRANT);
    cr_expect_eq(h.ev[0].purposes, P_OPENS);
    cr_expect_str_eq(h.rcpt[0], "frank@example.org");
    cr_expect_str_eq(h.ip[0], "192.0.2.1");
    cr_expect_str_eq(h.ua[0], "Mozilla/5.0");
    cr_expect_str_eq(h.notice[0], "notice-7");
    cr_expect_str_eq(h.actor[0], "gate");
    cr_expect_eq(h.ev[0].notice_sha256[31], 0xab);
    cr_expect_eq(h.ev[1].action, STORE_A_WITHDRAW);
    cr_expect_eq(h.ev[1].seq, 2);
    cr_expect_str_eq(h.ip[1], "(null)");
    cr_expect_eq(store_history(tst, "brand", "ghost@example.org", hist_cb, &h),
                 STORE_NOTFOUND);
}

Test(store, batch_import_is_idempotent)
{
    struct store_batch *b;
    struct store_info in;
    int dup = -1;
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
        for (int i = 0; i < 50; i++) {
            char rcpt[64];
            struct store_event ev = {0};
            snprintf(rcpt, sizeof rcpt, "user%d@example.org", i);
            ev.action = STORE_A_GRANT;
            ev.controller = "brand";
            ev.recipient = rcpt;
            ev.purposes = P_OPENS;
            ev.method = "import";
            ev.time = 4000 + i;
            ev.actor = round == 0 ? "import:alice" : "import:bob";
            cr_assert_eq(store_batch_add(b, &ev, &dup), STORE_OK);
            cr_expect_eq(dup, round, "row %d round %d", i, round);
        }
        /* a bad row leaves the batch usable */
        struct store_event bad = {.action = STORE_A_GRANT,
                                  .controller = "brand",
                                  .recipient = "x",
                                  .purposes = P_OPENS,
                                  .method = "import"};
        cr_expect_eq(store_batch_add(b, &bad, &dup), STORE_EINVAL);
        cr_assert_eq(store_batch_commit(b), STORE_OK);
    }
    cr_assert_eq(store_info_get(tst, &in), STORE_OK);
    cr_expect_eq(in.events, 50);
    cr_expect_eq(in.consents, 50);
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK);
    cr_expect_eq(v.events, 50);
}

Test(store, aborted_batch_leaves_nothing)
{
    struct store_batch *b;
    struct store_consent c;
    struct store_event ev = {.action = STORE_A_GRANT,
                             .controller = "brand",
                             .recipient = "gina@example.org",
                             .purposes = P_OPENS,
                             .method = "import",
                             .time = 7};
    cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
    cr_assert_eq(store_batch_add(b, &ev, NULL), STORE_OK);
    store_batch_abort(b);
    store_batch_abort(NULL);
    cr_expect_eq(store_consent_get(tst, "brand", "gina@example.org", &c), STORE_NOTFOUND);
    /* the controller id made in the aborted batch is not reused wrongly */
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand", "gina@example.org", P_OPENS, 8, NULL),
                 0);
    cr_expect_eq(store_consent_get(tst, "brand", "gina@example.org", &c), STORE_OK);
}

Test(store, erase_tombstones_history_and_keeps_chain)
{
    static struct hist h;
    struct store_consent c;
    struct store_verify v;
    unsigned n = 0;
    cr_assert_eq(rec(STORE_A_GRANT, "hana@example.org", P_OPENS, 10), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "ivan@example.org", P_OPENS, 11), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "hana@example.org", P_OPENS, 12), STORE_OK);
    cr_assert_eq(store_lastopen_set(tst, "brand", "hana@example.org", 20000), STORE_OK);
    cr_assert_eq(store_erase(tst, "brand", "Hana@Example.org", "admin:test", &n),
                 STORE_OK);
    cr_expect_eq(n, 2);
    cr_expect_eq(store_consent_get(tst, "brand", "hana@example.org", &c), STORE_NOTFOUND);
    int64_t day;
    cr_expect_eq(store_lastopen_get(tst, "brand", "hana@example.org", &day),
                 STORE_NOTFOUND);
    cr_expect_eq(store_history(tst, "brand", "hana@example.org", hist_cb, &h),
                 STORE_NOTFOUND);
    cr_expect_eq(store_consent_get(tst, "brand", "ivan@example.org", &c), STORE_OK);
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
    cr_expect_eq(v.events, 4);
    cr_expect_eq(v.tombstones, 3, "two erased events and the erase record");
    /* the ledger walk shows tombstones without personal data */
    memset(&h, 0, sizeof h);
    cr_assert_eq(store_ledger_walk(tst, 1, hist_cb, &h), STORE_OK);
    cr_assert_eq(h.n, 4);
    cr_expect(h.tomb[0]);
    cr_expect_str_eq(h.rcpt[0], "(null)");
    cr_expect_str_eq(h.rcpt[1], "ivan@example.org");
    cr_expect_eq(h.ev[3].action, STORE_A_ERASE);
    cr_expect_str_eq(h.rcpt[3], "(null)");
    cr_expect_eq(store_erase(tst, "brand", "hana@example.org", "admin", &n),
                 STORE_NOTFOUND);
    cr_expect_eq(store_erase(tst, "brand", "bad", "admin", &n), STORE_EINVAL);
    /* a recipient may consent again after erasure */
    cr_assert_eq(rec(STORE_A_GRANT, "hana@example.org", P_OPENS, 30), STORE_OK);
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK);
}

Test(store, lastopen_and_anonymous_counters)
{
    int64_t day = -1;
    uint64_t n = 9;
    cr_assert_eq(store_lastopen_set(tst, "brand", "Jo@Example.org", 20500), STORE_OK);
    cr_assert_eq(store_lastopen_set(tst, "brand", "jo@example.org", 20510), STORE_OK);
    cr_assert_eq(store_lastopen_get(tst, "brand", "<jo@example.org>", &day), STORE_OK);
    cr_expect_eq(day, 20510, "overwritten, only the day kept");
    cr_expect_eq(store_lastopen_get(tst, "brand", "kim@example.org", &day),
                 STORE_NOTFOUND);
    cr_expect_eq(store_lastopen_set(tst, "brand", "jo@example.org", -3), STORE_EINVAL);
    cr_expect_eq(store_anon_get(tst, "brand", "spring", 20500, &n), STORE_NOTFOUND);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(store_anon_incr(tst, "brand", "spring", 20500), STORE_OK);
    cr_assert_eq(store_anon_incr(tst, "brand", "spring", 20501), STORE_OK);
    cr_assert_eq(store_anon_get(tst, "brand", "spring", 20500, &n), STORE_OK);
    cr_expect_eq(n, 3);
    cr_expect_eq(store_anon_incr(tst, "brand", "bad campaign", 20500), STORE_EINVAL);
    cr_expect_eq(store_anon_incr(tst, "brand", "", 20500), STORE_EINVAL);
}

struct walk {
    int n;
    char seen[8][80];
};

static int walk_cb(const char *ctl, const char *rcpt, const struct store_consent *c,
                   void *arg)
{
    struct walk *w = arg;
    (void)c;
    if (w->n < 8)
        snprintf(w->seen[w->n], 80, "%s/%s", ctl, rcpt);
    w->n++;
    return 0;
}

static int lo_cb(const char *rcpt, int64_t day, void *arg)
{
    struct walk *w = arg;
    if (w->n < 8)
        snprintf(w->seen[w->n], 80, "%s/%lld", rcpt, (long long)day);
    w->n++;
    return 0;
}

Test(store, enumeration_by_controller)
{
    struct walk w = {0};
    cr_assert_eq(rec_full(STORE_A_GRANT, "a", "x1@example.org", P_OPENS, 1, NULL), 0);
    cr_assert_eq(rec_full(STORE_A_GRANT, "b", "x2@example.org", P_OPENS, 1, NULL), 0);
    cr_assert_eq(rec_full(STORE_A_GRANT, "a", "x3@example.org", P_OPENS, 1, NULL), 0);
    cr_assert_eq(store_consent_walk(tst, "a", walk_cb, &w), STORE_OK);
    cr_expect_eq(w.n, 2);
    for (int i = 0; i < 2; i++)
        cr_expect(strcmp(w.seen[i], "a/x1@example.org") == 0 ||
                      strcmp(w.seen[i], "a/x3@example.org") == 0,
                  "%s", w.seen[i]);
    w.n = 0;
    cr_assert_eq(store_consent_walk(tst, NULL, walk_cb, &w), STORE_OK);
    cr_expect_eq(w.n, 3);
    w.n = 0;
    cr_expect_eq(store_consent_walk(tst, "nobody", walk_cb, &w), STORE_NOTFOUND);
    cr_assert_eq(store_lastopen_set(tst, "b", "y@example.org", 100), STORE_OK);
    w.n = 0;
    cr_assert_eq(store_lastopen_walk(tst, "b", lo_cb, &w), STORE_OK);
    cr_expect_eq(w.n, 1);
    cr_expect_str_eq(w.seen[0], "y@example.org/100");
}

Test(store, prepared_events_match_store_batch_add)
{
    struct store_event ev = {.action = STORE_A_GRANT,
                             .controller = "Brand",
                             .recipient = "<Kai@Example.org>",
                             .purposes = P_OPENS,
                             .method = "import",
                             .time = 900,
                             .actor = "t"};
    struct store_prep p;
    struct store_batch *b;
    uint8_t rnd[32], order[12];
    int dup = -1;

    memset(rnd, 7, sizeof rnd);
    cr_assert_eq(store_event_prepare(tst, &ev, rnd, &p), STORE_OK);
    cr_assert_eq(store_order_key(tst, "kai@example.org", order), STORE_OK);
    cr_expect_eq(memcmp(order, p.order, sizeof order), 0, "order key = store_order_key");
    cr_expect_eq(strlen(ev.id), 36, "id filled by prepare");
    cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
    cr_assert_eq(store_batch_add_prepared(b, &ev, &p, &dup), STORE_OK);
    cr_expect_eq(dup, 0);
    cr_assert_eq(store_batch_commit(b), STORE_OK);
    /* the same content through the plain path is a duplicate */
    struct store_event again = ev;
    again.id[0] = '\0';
    cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
    cr_assert_eq(store_batch_add(b, &again, &dup), STORE_OK);
    cr_expect_eq(dup, 1);
    store_batch_abort(b);
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
    ev.method = "fax";
    cr_expect_eq(store_event_prepare(tst, &ev, rnd, &p), STORE_EINVAL);
    cr_expect_eq(store_order_key(tst, "nope", order), STORE_EINVAL);
}
