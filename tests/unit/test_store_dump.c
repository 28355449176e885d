/* store_dump (consentctl migrate's view of an LMDB store): the dedup key
 * as stored, the raw consent values with their addresses, every last-open
 * day and counter of every controller, and the dedup digest of a ledger
 * value (none in a tombstone). */
#include "test_store_util.h"

#include "store/store_dump.h"
#include "store/store_repl.h"

TestSuite(store_dump, .init = setup_store, .fini = teardown_store);

struct seen {
    int n, ann, bob_other;
    uint64_t ann_last;
    uint32_t ann_states;
};

static int cval_cb(const char *ctl, const char *rcpt, const struct store_cval *v, void *arg)
{
    struct seen *s = arg;

    s->n++;
    if (strcmp(ctl, "brand") == 0 && strcmp(rcpt, "ann@example.org") == 0) {
        s->ann++;
        s->ann_last = v->last;
        s->ann_states = v->states;
    }
    if (strcmp(ctl, "other") == 0 && strcmp(rcpt, "bob@example.org") == 0)
        s->bob_other++;
    return 0;
}

Test(store_dump, consent_values_as_stored)
{
    struct store_event e;
    struct seen s = {0};

    cr_assert_eq(rec(STORE_A_GRANT, "ann@example.org", P_OPENS | P_CLICKS, 0), STORE_OK);
    cr_assert_eq(rec_full(STORE_A_WITHDRAW, "brand", "Ann@Example.org", P_OPENS, 0, &e),
                 STORE_OK);
    cr_assert_eq(rec_full(STORE_A_REFUSE, "other", "bob@example.org", P_PROF, 0, NULL),
                 STORE_OK);
    cr_assert_eq(store_cval_walk(tst, cval_cb, &s), STORE_OK);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.ann, 1);
    cr_assert_eq(s.bob_other, 1);
    cr_assert_eq(s.ann_last, e.seq, "last = the recipient's latest event");
    cr_assert_eq(STORE_STATES_GET(s.ann_states, STORE_P_OPENS), STORE_WITHDRAWN);
    cr_assert_eq(STORE_STATES_GET(s.ann_states, STORE_P_CLICKS), STORE_GRANTED);
}

static int stop_cb(const char *ctl, const char *rcpt, const struct store_cval *v, void *arg)
{
    (void)ctl, (void)rcpt, (void)v, (void)arg;
    return -7;
}

Test(store_dump, callback_stops_the_walk)
{
    cr_assert_eq(rec(STORE_A_GRANT, "ann@example.org", P_OPENS, 0), STORE_OK);
    cr_assert_eq(store_cval_walk(tst, stop_cb, NULL), -7);
    cr_assert_eq(store_cval_walk(NULL, stop_cb, NULL), STORE_EINVAL);
    cr_assert_eq(store_cval_walk(tst, NULL, NULL), STORE_EINVAL);
}

struct lo {
    int n;
    int64_t sum_brand, sum_other;
};

static int lastopen_cb(const char *ctl, const char *rcpt, int64_t day, void *arg)
{
    struct lo *l = arg;

    l->n++;
    cr_assert(strstr(rcpt, "@example.org") != NULL);
    if (strcmp(ctl, "brand") == 0)
        l->sum_brand += day;
    else if (strcmp(ctl, "other") == 0)
        l->sum_other += day;
    return 0;
}

Test(store_dump, lastopen_of_every_controller)
{
    struct lo l = {0};

    cr_assert_eq(store_lastopen_set(tst, "brand", "a@example.org", 20000), STORE_OK);
    cr_assert_eq(store_lastopen_set(tst, "brand", "b@example.org", 20001), STORE_OK);
    cr_assert_eq(store_lastopen_set(tst, "other", "a@example.org", 30000), STORE_OK);
    cr_assert_eq(store_lastopen_dump(tst, lastopen_cb, &l), STORE_OK);
    cr_assert_eq(l.n, 3);
    cr_assert_eq(l.sum_brand, 40001);
    cr_assert_eq(l.sum_other, 30000);
}

struct an {
    int n;
    uint64_t total;
    int camp2_day;
};

static int anon_cb(const char *ctl, const char *camp, int64_t day, uint64_t count, void *arg)
{
    struct an *a = arg;

    a->n++;
    a->total += count;
    if (strcmp(ctl, "other") == 0 && strcmp(camp, "spring-2026") == 0)
        a->camp2_day = (int)day;
    return 0;
}

Test(store_dump, anonymous_counters)
{
    struct an a = {0};

    for (int i = 0; i < 3; i++)
        cr_assert_eq(store_anon_incr(tst, "brand", "c1", 20000), STORE_OK);
    cr_assert_eq(store_anon_incr(tst, "brand", "c1", 20001), STORE_OK);
    cr_assert_eq(store_anon_incr(tst, "other", "spring-2026", 20002), STORE_OK);
    cr_assert_eq(store_anon_dump(tst, anon_cb, &a), STORE_OK);
    cr_assert_eq(a.n, 3);
    cr_assert_eq(a.total, 5);
    cr_assert_eq(a.camp2_day, 20002);
}

static int raw_cb(uint64_t seq, const void *raw, size_t len, void *arg)
{
    int *out = arg;
    uint8_t d[16];
    int rc = store_wire_dedup(raw, len, d);

    out[seq - 1] = rc;
    return 0;
}

Test(store_dump, dedup_key_and_digest)
{
    uint8_t k1[32], k2[32], zero[32] = {0};
    int rcs[3] = {-1, -1, -1};
    unsigned n = 0;

    cr_assert_eq(store_hashkey_get(tst, k1), STORE_OK);
    cr_assert_neq(memcmp(k1, zero, 32), 0);
    cr_assert_eq(rec(STORE_A_GRANT, "ann@example.org", P_OPENS, 0), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "bob@example.org", P_OPENS, 0), STORE_OK);
    cr_assert_eq(store_erase(tst, "brand", "bob@example.org", "test", &n), STORE_OK);
    cr_assert_eq(store_ledger_walk_raw(tst, 1, raw_cb, rcs), STORE_OK);
    cr_assert_eq(rcs[0], STORE_OK, "a live event carries its digest");
    cr_assert_eq(rcs[1], STORE_NOTFOUND, "a tombstone has none");
    cr_assert_eq(rcs[2], STORE_NOTFOUND, "nor the ERASE event");
    cr_assert_eq(store_wire_dedup("\x01", 1, k2), STORE_ECORRUPT);
    store_close(tst);
    cr_assert_eq(store_open(tdir, 0, 0, &tst), STORE_OK);
    cr_assert_eq(store_hashkey_get(tst, k2), STORE_OK);
    cr_assert_eq(memcmp(k1, k2, 32), 0, "the key is the stored one");
}
