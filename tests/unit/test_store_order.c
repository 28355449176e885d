/* Ordering of consent events (SPEC §5): a withdrawal or refusal wins over
 * every grant recorded before it, whatever the dates claimed; back-dated
 * history only fills purposes still unknown (and never revives anything
 * after a withdrawal); events dated beyond the clock-skew allowance are
 * refused; store_record says whether the event took effect. */
#include <time.h>

#include "test_store_util.h"

TestSuite(store_order, .init = setup_store, .fini = teardown_store);

static struct store_consent get(const char *rcpt)
{
    struct store_consent c;
    cr_assert_eq(store_consent_get(tst, "brand", rcpt, &c), STORE_OK);
    return c;
}

static void verify_ok(void)
{
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "verify: %s", store_verify_problem_text(v.problem));
}

Test(store_order, withdrawal_wins_over_a_grant_dated_after_it)
{
    struct store_event ev;
    /* a grant whose claimed date is later than the withdrawal's (a clock
     * ahead, an import): the withdrawal, recorded after it, still wins */
    cr_assert_eq(rec(STORE_A_GRANT, "a@example.org", P_OPENS | P_CLICKS, 5000), STORE_OK);
    cr_assert_eq(rec_full(STORE_A_WITHDRAW, "brand", "a@example.org", 0, 4000, &ev),
                 STORE_OK);
    struct store_consent c = get("a@example.org");
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_WITHDRAWN, "got %d", c.state[STORE_P_OPENS]);
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_WITHDRAWN);
    cr_expect(ev.applied);
    cr_expect(ev.changed);
    verify_ok();
}

Test(store_order, refusal_wins_over_an_earlier_recorded_grant)
{
    cr_assert_eq(rec(STORE_A_GRANT, "b@example.org", P_OPENS, 5000), STORE_OK);
    cr_assert_eq(rec(STORE_A_REFUSE, "b@example.org", P_OPENS, 100), STORE_OK);
    cr_expect_eq(get("b@example.org").state[STORE_P_OPENS], STORE_REFUSED);
    verify_ok();
}

Test(store_order, backdated_grant_never_undoes_a_withdrawal)
{
    struct store_event ev;
    cr_assert_eq(rec(STORE_A_GRANT, "c@example.org", P_OPENS, 1000), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "c@example.org", 0, 2000), STORE_OK);
    /* old history imported afterwards: neither the withdrawn purpose nor a
     * purpose never granted comes back (the withdrawal was "stop all") */
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand", "c@example.org", P_OPENS | P_PROF, 1500,
                          &ev),
                 STORE_OK);
    struct store_consent c = get("c@example.org");
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_WITHDRAWN);
    cr_expect_eq(c.state[STORE_P_PROFILING], STORE_UNKNOWN, "got %d",
                 c.state[STORE_P_PROFILING]);
    cr_expect_not(ev.applied, "a grant that changed nothing is not applied");
    cr_expect_not(ev.changed);
    verify_ok();
}

Test(store_order, history_still_fills_unknown_purposes)
{
    struct store_event ev;
    cr_assert_eq(rec(STORE_A_GRANT, "d@example.org", P_OPENS, 2000), STORE_OK);
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand", "d@example.org", P_CLICKS, 1500, &ev),
                 STORE_OK);
    struct store_consent c = get("d@example.org");
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_GRANTED);
    cr_expect_eq(c.updated, 2000);
    cr_expect(ev.applied);
    /* a back-dated withdrawal of a purpose already withdrawn or refused
     * keeps the newer state; over a grant it wins */
    cr_assert_eq(rec(STORE_A_REFUSE, "d@example.org", P_OPENS, 2100), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "d@example.org", P_OPENS | P_CLICKS, 10), STORE_OK);
    c = get("d@example.org");
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_REFUSED);
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_WITHDRAWN);
    verify_ok();
}

Test(store_order, future_dates_refused_beyond_the_skew)
{
    struct store_event ev = {0};
    struct store_info in;
    int64_t now = (int64_t)time(NULL);
    int actions[] = {STORE_A_GRANT, STORE_A_REFUSE, STORE_A_WITHDRAW, STORE_A_INFORM};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        cr_expect_eq(rec(actions[i], "e@example.org", P_OPENS, now + STORE_CLOCK_SKEW + 60),
                     STORE_EINVAL, "action %d dated in the future", actions[i]);
    cr_expect_eq(rec(STORE_A_GRANT, "e@example.org", P_OPENS, 0xfffffff0LL), STORE_EINVAL);
    /* the import path refuses them too */
    struct store_batch *b;
    int dup;
    cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
    ev.action = STORE_A_GRANT;
    ev.controller = "brand";
    ev.recipient = "e@example.org";
    ev.purposes = P_OPENS;
    ev.method = "import";
    ev.time = now + 86400 * 365;
    cr_expect_eq(store_batch_add(b, &ev, &dup), STORE_EINVAL);
    cr_assert_eq(store_batch_commit(b), STORE_OK);
    cr_assert_eq(store_info_get(tst, &in), STORE_OK);
    cr_expect_eq(in.events, 0);
}

Test(store_order, within_the_skew_accepted_at_the_store_clock)
{
    struct store_event ev;
    int64_t now = (int64_t)time(NULL);
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand", "f@example.org", P_OPENS,
                          now + STORE_CLOCK_SKEW - 5, &ev),
                 STORE_OK);
    cr_expect_leq(ev.time, (int64_t)time(NULL), "a skewed date is recorded as now");
    cr_expect_geq(ev.time, now);
    /* so a withdrawal made right after applies, and so does a re-grant */
    cr_assert_eq(rec(STORE_A_WITHDRAW, "f@example.org", 0, 0), STORE_OK);
    cr_expect_eq(get("f@example.org").state[STORE_P_OPENS], STORE_WITHDRAWN);
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand", "f@example.org", P_OPENS, 0, &ev),
                 STORE_OK);
    cr_expect(ev.applied, "a live grant after a withdrawal applies");
    cr_expect_eq(get("f@example.org").state[STORE_P_OPENS], STORE_GRANTED);
    verify_ok();
}

Test(store_order, applied_and_changed_are_reported)
{
    struct store_event ev;
    cr_assert_eq(rec_full(STORE_A_GRANT, "brand", "g@example.org", P_OPENS, 100, &ev),
                 STORE_OK);
    cr_expect(ev.applied);
    cr_expect(ev.changed);
    cr_assert_eq(rec_full(STORE_A_WITHDRAW, "brand", "g@example.org", 0, 200, &ev),
                 STORE_OK);
    cr_expect(ev.applied);
    cr_expect(ev.changed);
    /* withdrawing again: nothing tracked before or after */
    cr_assert_eq(rec_full(STORE_A_WITHDRAW, "brand", "g@example.org", 0, 300, &ev),
                 STORE_OK);
    cr_expect(ev.applied, "nothing is granted: the withdrawal holds");
    cr_expect_not(ev.changed);
}
