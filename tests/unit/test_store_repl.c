/* Unit tests for store_repl.h: a store A replicated into B through its raw
 * ledger values (store_ledger_walk_raw + store_replica_apply): equal
 * state, idempotent re-apply, a tampered value, a seq gap or a wrong prev
 * stops at that event and B keeps its last good state; erase reaches B. */
#include "test_store_util.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "store/store_int.h"
#include "store/store_repl.h"

static char bdir[64];
static struct store *bst;

static void setup_ab(void)
{
    setup_store();
    snprintf(bdir, sizeof bdir, "/tmp/test_repl_b.XXXXXX");
    cr_assert_not_null(mkdtemp(bdir));
    cr_assert_eq(store_open(bdir, STORE_CREATE, 0, &bst), STORE_OK);
}

static void teardown_ab(void)
{
    store_close(bst);
    bst = NULL;
    nftw(bdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    teardown_store();
}

/* Raw values of A from seq `from`, copied. */
struct raws {
    void **v;
    size_t *len, n, cap;
};

static int collect(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct raws *r = arg;
    (void)seq;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        r->len = realloc(r->len, r->cap * sizeof *r->len);
        cr_assert(r->v && r->len);
    }
    r->v[r->n] = malloc(len);
    memcpy(r->v[r->n], raw, len);
    r->len[r->n++] = len;
    return 0;
}

static void raws_free(struct raws *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    free(r->len);
    memset(r, 0, sizeof *r);
}

static int sync_ab(uint64_t from, int64_t now, struct store_repl_result *res)
{
    struct raws r = {0};
    cr_assert_eq(store_ledger_walk_raw(tst, from, collect, &r), STORE_OK);
    int rc = store_replica_apply(bst, (const void *const *)r.v, r.len, r.n, now, res);
    raws_free(&r);
    return rc;
}

static void expect_same(const char *rcpt)
{
    struct store_consent a, b;
    int ra = store_consent_get(tst, "brand", rcpt, &a);
    int rb = store_consent_get(bst, "brand", rcpt, &b);
    cr_expect_eq(ra, rb, "%s: %d vs %d", rcpt, ra, rb);
    cr_expect(memcmp(a.state, b.state, sizeof a.state) == 0 && a.updated == b.updated,
              "%s differs", rcpt);
}

TestSuite(store_repl, .init = setup_ab, .fini = teardown_ab);

Test(store_repl, replicates_byte_for_byte_and_reapply_is_idempotent)
{
    struct store_repl_result res;
    int is_rep;
    uint64_t head;
    int64_t synced;

    cr_assert_eq(store_replica_status(bst, &is_rep, &head, &synced), STORE_OK);
    cr_expect(is_rep == 0 && head == 0 && synced == 0);
    cr_assert_eq(rec(STORE_A_GRANT, "a@example.org", 3, 0), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "b@example.org", 1, 0), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "a@example.org", 0, 0), STORE_OK);
    cr_assert_eq(sync_ab(1, 1000, &res), STORE_OK);
    cr_expect_eq(res.applied, 3);
    expect_same("a@example.org");
    expect_same("b@example.org");
    cr_assert_eq(store_replica_status(bst, &is_rep, &head, &synced), STORE_OK);
    cr_expect(is_rep == 1 && head == 3 && synced == 1000);
    /* again: everything skipped, nothing new */
    cr_assert_eq(sync_ab(1, 2000, &res), STORE_OK);
    cr_expect(res.applied == 0 && res.skipped == 3, "%lu %lu", (unsigned long)res.applied,
              (unsigned long)res.skipped);
    cr_assert_eq(store_replica_touch(bst, 3000), STORE_OK);
    cr_assert_eq(store_replica_status(bst, &is_rep, &head, &synced), STORE_OK);
    cr_expect(head == 3 && synced == 3000);
    struct store_verify v;
    cr_assert_eq(store_verify(bst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
    cr_expect_eq(v.events, 3);
    uint8_t ha[32], hb[32];
    uint64_t sa, sb;
    cr_assert_eq(store_ledger_head(tst, &sa, ha), STORE_OK);
    cr_assert_eq(store_ledger_head(bst, &sb, hb), STORE_OK);
    cr_expect(sa == sb && memcmp(ha, hb, 32) == 0);
}

Test(store_repl, tamper_gap_and_wrong_prev_stop_at_that_event)
{
    struct store_repl_result res;
    struct raws r = {0};

    for (int i = 0; i < 5; i++)
        cr_assert_eq(rec(STORE_A_GRANT, "t@example.org", 1u << (i % 2), 0), STORE_OK);
    cr_assert_eq(store_ledger_walk_raw(tst, 1, collect, &r), STORE_OK);
    cr_assert_eq(r.n, 5);
    /* tampered byte in event 3 (its time): 1 and 2 apply, stop at 3 */
    ((uint8_t *)r.v[2])[20] ^= 1;
    cr_expect_eq(store_replica_apply(bst, (const void *const *)r.v, r.len, 5, 100, &res),
                 STORE_ECORRUPT);
    cr_expect(res.applied == 2 && res.bad_seq == 3 && res.problem == STORE_V_MODIFIED,
              "applied %lu bad %lu problem %d", (unsigned long)res.applied,
              (unsigned long)res.bad_seq, res.problem);
    ((uint8_t *)r.v[2])[20] ^= 1;
    int is_rep;
    uint64_t head;
    int64_t synced;
    cr_assert_eq(store_replica_status(bst, &is_rep, &head, &synced), STORE_OK);
    cr_expect(head == 2 && synced == 0, "a chain break keeps the last sync time");
    /* a gap: event 4 without 3 */
    cr_expect_eq(store_replica_apply(bst, (const void *const *)&r.v[3], &r.len[3], 1, 100,
                                     &res),
                 STORE_ECORRUPT);
    cr_expect(res.bad_seq == 3 && res.problem == STORE_V_MISSING);
    /* a wrong prev: event 3 of another store at seq 3 */
    ((uint8_t *)r.v[2])[2 + 8 + 8 + 1 + 12 + 16 + 32 + 32] ^= 1; /* prev, re-hash needed */
    cr_expect_eq(store_replica_apply(bst, (const void *const *)&r.v[2], &r.len[2], 1, 100,
                                     &res),
                 STORE_ECORRUPT);
    cr_expect(res.bad_seq == 3 && res.problem == STORE_V_MODIFIED,
              "a changed prev breaks the hash first: %d", res.problem);
    ((uint8_t *)r.v[2])[2 + 8 + 8 + 1 + 12 + 16 + 32 + 32] ^= 1;
    struct store_consent c;
    cr_assert_eq(store_consent_get(bst, "brand", "t@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED);
    cr_expect_eq(c.state[STORE_P_CLICKS], STORE_GRANTED);
    /* the rest applies cleanly now */
    cr_expect_eq(store_replica_apply(bst, (const void *const *)&r.v[2], &r.len[2], 3, 200,
                                     &res),
                 STORE_OK);
    cr_expect_eq(res.applied, 3);
    raws_free(&r);
    expect_same("t@example.org");
}

Test(store_repl, wrong_prev_with_valid_hash_is_a_chain_break)
{
    struct store_repl_result res;
    uint8_t key[32] = {1}, rnd[32] = {2}, prev[32] = {9};
    struct store_wire *w = malloc(sizeof *w);
    struct store_event ev = {.action = STORE_A_GRANT, .controller = "brand",
                             .recipient = "p@example.org", .purposes = 1,
                             .method = "api"};
    char cn[65], rn[STORE_ADDR_MAX];

    cr_assert_eq(rec(STORE_A_GRANT, "p@example.org", 1, 0), STORE_OK);
    cr_assert_eq(sync_ab(1, 10, &res), STORE_OK);
    cr_assert_eq(store_event_check_in(&ev, cn, rn), STORE_OK);
    cr_assert_eq(store_event_encode(key, &ev, cn, rn, 2, 1, prev, rnd, w), STORE_OK);
    const void *p = w->raw;
    cr_expect_eq(store_replica_apply(bst, &p, &w->len, 1, 20, &res), STORE_ECORRUPT);
    cr_expect(res.bad_seq == 2 && res.problem == STORE_V_CHAIN, "%d", res.problem);
    struct store_ledger_event le;
    char *strs = malloc(STORE_WIRE_STRS);
    cr_assert_eq(store_wire_decode(w->raw, w->len, &le, strs, STORE_WIRE_STRS), STORE_OK);
    cr_expect_str_eq(le.ev.recipient, "p@example.org");
    cr_expect(le.seq == 2 && le.rprev == 1 && memcmp(le.hash, w->hash, 32) == 0);
    uint8_t t[STORE_WIRE_MAX];
    size_t tn;
    cr_assert_eq(store_wire_tombstone(w->raw, w->len, t, &tn), STORE_OK);
    cr_assert_eq(store_wire_decode(t, tn, &le, strs, STORE_WIRE_STRS), STORE_OK);
    cr_expect(le.tombstone && le.ev.recipient == NULL && memcmp(le.hash, w->hash, 32) == 0);
    w->raw[40] ^= 1;
    cr_expect_eq(store_wire_decode(w->raw, w->len, &le, strs, STORE_WIRE_STRS),
                 STORE_ECORRUPT);
    free(strs);
    free(w);
}

static int has_bytes(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = strlen(needle), cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    int found = 0;
    size_t got;
    cr_assert(f && buf);
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            cr_assert_not_null(buf = realloc(buf, cap *= 2));
    }
    fclose(f);
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

Test(store_repl, erase_reaches_the_replica_and_scrubs_it)
{
    struct store_repl_result res;
    char path[128];
    unsigned n;

    cr_assert_eq(rec(STORE_A_GRANT, "gone.person@example.org", 3, 0), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "kept@example.org", 1, 0), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, "gone.person@example.org", 2, 0), STORE_OK);
    cr_assert_eq(sync_ab(1, 10, &res), STORE_OK);
    cr_assert_eq(store_lastopen_set(bst, "brand", "gone.person@example.org", 20000),
                 STORE_OK);
    /* withdrawals still pending in the replica's outbox (a gate whose
     * primary was down): the erasure supersedes the erased person's */
    const char *pend[] = {"Gone.Person@example.org", "kept@example.org"};
    for (int i = 0; i < 2; i++) {
        struct store_event w = {.action = STORE_A_WITHDRAW, .controller = "brand",
                                .recipient = pend[i], .method = "withdraw-link",
                                .actor = "gate", .time = 1700000000};
        char cn[65], rn[STORE_ADDR_MAX];
        cr_assert_eq(store_event_check_in(&w, cn, rn), STORE_OK);
        cr_assert_eq(store_outbox_put(bst, &w), STORE_OK);
    }
    cr_assert_eq(store_erase(tst, "brand", "gone.person@example.org", "admin:test", &n),
                 STORE_OK);
    cr_expect_eq(n, 2);
    /* a fresh pull sees the erased events as tombstones: skipped (same
     * hash), then the ERASE applies */
    cr_assert_eq(sync_ab(1, 20, &res), STORE_OK);
    cr_expect(res.applied == 1 && res.skipped == 3, "%lu %lu", (unsigned long)res.applied,
              (unsigned long)res.skipped);
    struct store_consent c;
    int64_t day;
    cr_expect_eq(store_consent_get(bst, "brand", "gone.person@example.org", &c),
                 STORE_NOTFOUND);
    cr_expect_eq(store_lastopen_get(bst, "brand", "gone.person@example.org", &day),
                 STORE_NOTFOUND);
    uint32_t mask;
    cr_assert_eq(store_outbox_withdrawn(bst, "brand", "gone.person@example.org", &mask),
                 STORE_OK);
    cr_expect_eq(mask, 0, "the erased person's pending withdrawal is gone");
    cr_assert_eq(store_outbox_withdrawn(bst, "brand", "kept@example.org", &mask), STORE_OK);
    cr_expect_neq(mask, 0, "another person's pending withdrawal stays");
    /* the same on a local erase (LMDB backend) */
    struct store_event w = {.action = STORE_A_WITHDRAW, .controller = "brand",
                            .recipient = "kept@example.org", .method = "withdraw-link",
                            .actor = "gate", .time = 1700000000};
    char wcn[65], wrn[STORE_ADDR_MAX];
    cr_assert_eq(store_event_check_in(&w, wcn, wrn), STORE_OK);
    cr_assert_eq(store_outbox_put(tst, &w), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "kept@example.org", 1, 0), STORE_OK);
    cr_assert_eq(store_erase(tst, "brand", "kept@example.org", "admin:test", &n), STORE_OK);
    cr_assert_eq(store_outbox_withdrawn(tst, "brand", "kept@example.org", &mask), STORE_OK);
    cr_expect_eq(mask, 0, "a local erase drops the pending withdrawal too");
    struct store_verify v;
    cr_assert_eq(store_verify(bst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
    cr_expect_eq(v.tombstones, 3, "two erased events and the ERASE");
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "the primary verifies with rprev on ERASE");
    snprintf(path, sizeof path, "%s/data.mdb", bdir);
    cr_expect(!has_bytes(path, "gone.person@example.org"), "address bytes left in B");
    cr_expect(has_bytes(path, "kept@example.org"));
}

/* A reader on the replica (a milter in the middle of a message) holding a
 * snapshot from before the ERASE: the events still apply, the scrub is
 * reported due, and a later store_scrub removes the bytes. */
Test(store_repl, erase_with_an_old_reader_reports_the_scrub_due, .timeout = 60)
{
    struct store_repl_result res;
    char path[128];
    MDB_txn *r;
    unsigned n;

    cr_assert_eq(rec(STORE_A_GRANT, "gone.person@example.org", 3, 0), STORE_OK);
    cr_assert_eq(sync_ab(1, 10, &res), STORE_OK);
    cr_assert_eq(store_erase(tst, "brand", "gone.person@example.org", "admin:test", &n),
                 STORE_OK);
    cr_assert_eq(st_rd_begin(bst, &r), STORE_OK);
    cr_assert_eq(sync_ab(1, 20, &res), STORE_OK, "applied although the scrub waits");
    cr_expect_eq(res.applied, 1);
    cr_expect_eq(res.scrub_due, 1);
    cr_expect_eq(bst->scrub_owed, 1, "the held reader kept the handle from renewing: owed");
    struct store_consent c;
    cr_expect_eq(store_consent_get(bst, "brand", "gone.person@example.org", &c),
                 STORE_NOTFOUND);
    cr_expect_eq(store_scrub(bst, 0), STORE_EBUSY, "still held");
    st_rd_end(bst, r);
    cr_expect_eq(store_scrub(bst, 0), STORE_OK);
    snprintf(path, sizeof path, "%s/data.mdb", bdir);
    cr_expect(!has_bytes(path, "gone.person@example.org"), "address bytes left in B");
    cr_assert_eq(sync_ab(1, 30, &res), STORE_OK);
    cr_expect_eq(res.scrub_due, 0, "nothing new, nothing due");
}

/* consent-sync's life after an erase: it keeps applying batches and
 * touching "synced" every poll. LMDB reuses a handle's old dirty-page
 * buffers without zeroing the unused part of a page, so writes through the
 * handle that held the erased records would bring their bytes back. The
 * applied ERASE is counted, and the handle renews its environment before
 * the scrub writes (this test fails without the renewal). */
Test(store_repl, writes_after_the_erase_by_the_same_handle_bring_nothing_back, .timeout = 60)
{
    struct store_repl_result res;
    char path[128], rcpt[64];
    unsigned n;

    for (int i = 0; i < 200; i++) {
        snprintf(rcpt, sizeof rcpt, "n%03d@example.org", i);
        cr_assert_eq(rec(STORE_A_GRANT, rcpt, 3, 0), STORE_OK);
        if (i % 20 == 0)
            cr_assert_eq(rec(STORE_A_GRANT, "gone.person@example.org", 3, 0), STORE_OK);
    }
    cr_assert_eq(sync_ab(1, 10, &res), STORE_OK);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(store_replica_touch(bst, 11 + i), STORE_OK);
    cr_assert_eq(store_erase(tst, "brand", "gone.person@example.org", "admin:test", &n),
                 STORE_OK);
    cr_assert_eq(sync_ab(1, 50, &res), STORE_OK);
    cr_expect_eq(res.scrub_due, 0);
    cr_expect_eq(bst->renewals, 1, "the apply renewed the replica's handle: %u", bst->renewals);
    snprintf(path, sizeof path, "%s/data.mdb", bdir);
    cr_expect(!has_bytes(path, "gone.person@example.org"), "address bytes left after the scrub");
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(store_replica_touch(bst, 51 + i), STORE_OK);
        snprintf(rcpt, sizeof rcpt, "later%03d@example.org", i);
        cr_assert_eq(rec(STORE_A_GRANT, rcpt, 3, 0), STORE_OK);
    }
    cr_assert_eq(sync_ab(1, 90, &res), STORE_OK);
    cr_expect(!has_bytes(path, "gone.person@example.org"),
              "address bytes back after later writes by the same handle");
}

Test(store_repl, catch_up_10000_events_equals_the_source)
{
    struct store_repl_result res;
    struct store_batch *b;
    char rcpt[64];

    cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
    for (int i = 0; i < 10000; i++) {
        struct store_event ev = {0};
        snprintf(rcpt, sizeof rcpt, "u%d@example.org", i % 2500);
        ev.action = i % 3 == 2 ? STORE_A_WITHDRAW : STORE_A_GRANT;
        ev.controller = "brand";
        ev.recipient = rcpt;
        ev.purposes = i % 3 == 2 ? 0 : 1u << (i % 2);
        ev.method = "api";
        ev.time = 1700000000 + i; /* distinct: no dedup */
        cr_assert_eq(store_batch_add(b, &ev, NULL), STORE_OK);
    }
    cr_assert_eq(store_batch_commit(b), STORE_OK);
    cr_assert_eq(sync_ab(1, 10, &res), STORE_OK);
    cr_expect_eq(res.applied, 10000);
    for (int i = 0; i < 2500; i++) {
        snprintf(rcpt, sizeof rcpt, "u%d@example.org", i);
        expect_same(rcpt);
    }
    struct store_verify va, vb;
    cr_assert_eq(store_verify(tst, &va), STORE_OK);
    cr_assert_eq(store_verify(bst, &vb), STORE_OK);
    cr_expect_eq(vb.problem, STORE_V_OK, "%s", store_verify_problem_text(vb.problem));
    cr_expect(va.events == vb.events && va.events == 10000);
    cr_expect(memcmp(va.head, vb.head, 32) == 0);
}

Test(store_repl, read_only_replica_gives_a_clear_error)
{
    struct store_repl_result res;
    struct store *ro;

    cr_assert_eq(rec(STORE_A_GRANT, "r@example.org", 1, 0), STORE_OK);
    cr_assert_eq(store_open(bdir, STORE_RDONLY, 0, &ro), STORE_OK);
    struct raws r = {0};
    cr_assert_eq(store_ledger_walk_raw(tst, 1, collect, &r), STORE_OK);
    cr_expect_eq(store_replica_apply(ro, (const void *const *)r.v, r.len, r.n, 1, &res),
                 STORE_EINVAL);
    cr_expect_eq(store_replica_touch(ro, 1), STORE_EINVAL);
    store_close(ro);
    raws_free(&r);
}

/* ---- gate outbox */

struct ob_seen {
    int n;
    char id[37];
    char rcpt[64];
    uint32_t purposes;
};

static int ob_one(const struct store_event *ev, void *arg)
{
    struct ob_seen *s = arg;
    s->n++;
    snprintf(s->id, sizeof s->id, "%s", ev->id);
    snprintf(s->rcpt, sizeof s->rcpt, "%s", ev->recipient);
    s->purposes = ev->purposes;
    cr_expect_str_eq(ev->method, "withdraw-link");
    cr_expect_str_eq(ev->actor, "gate");
    cr_expect_eq(ev->time, 1700000000);
    return 0;
}

Test(store_repl, outbox_put_walk_withdrawn_del)
{
    struct store_event ev = {.action = STORE_A_WITHDRAW, .controller = "Brand",
                             .recipient = "<Out@Example.org>", .purposes = 0,
                             .method = "withdraw-link", .actor = "gate",
                             .time = 1700000000};
    char cn[65], rn[STORE_ADDR_MAX];
    struct ob_seen s = {0};
    uint32_t mask;

    cr_assert_eq(store_event_check_in(&ev, cn, rn), STORE_OK);
    cr_assert_eq(store_outbox_put(bst, &ev), STORE_OK);
    cr_assert_eq(store_outbox_walk(bst, ob_one, &s), STORE_OK);
    cr_expect_eq(s.n, 1);
    cr_expect_str_eq(s.id, ev.id);
    cr_expect_str_eq(s.rcpt, "out@example.org", "stored normalised");
    cr_assert_eq(store_outbox_withdrawn(bst, "brand", "out@example.org", &mask), STORE_OK);
    cr_expect_eq(mask, (1u << STORE_P_MAX) - 1, "withdraw all covers every purpose");
    cr_assert_eq(store_outbox_withdrawn(bst, "brand", "other@example.org", &mask),
                 STORE_OK);
    cr_expect_eq(mask, 0);
    /* durable: survives a reopen */
    store_close(bst);
    cr_assert_eq(store_open(bdir, 0, 0, &bst), STORE_OK);
    struct store_event ev2 = ev;
    ev2.id[0] = '\0';
    ev2.purposes = 1u << STORE_P_CLICKS;
    ev2.recipient = "two@example.org";
    cr_assert_eq(store_event_check_in(&ev2, cn, rn), STORE_OK);
    cr_assert_eq(store_outbox_put(bst, &ev2), STORE_OK);
    cr_assert_eq(store_outbox_withdrawn(bst, "brand", "two@example.org", &mask), STORE_OK);
    cr_expect_eq(mask, 1u << STORE_P_CLICKS);
    memset(&s, 0, sizeof s);
    cr_assert_eq(store_outbox_walk(bst, ob_one, &s), STORE_OK);
    cr_expect_eq(s.n, 2);
    cr_assert_eq(store_outbox_del(bst, ev.id), STORE_OK);
    cr_expect_eq(store_outbox_del(bst, ev.id), STORE_NOTFOUND);
    cr_assert_eq(store_outbox_withdrawn(bst, "brand", "out@example.org", &mask), STORE_OK);
    cr_expect_eq(mask, 0, "forwarded: no longer overlaid");
    memset(&s, 0, sizeof s);
    cr_assert_eq(store_outbox_walk(bst, ob_one, &s), STORE_OK);
    cr_expect_eq(s.n, 1);
    struct store *ro;
    store_close(bst);
    cr_assert_eq(store_open(bdir, STORE_RDONLY, 0, &ro), STORE_OK);
    cr_expect_eq(store_outbox_put(ro, &ev), STORE_EINVAL, "read-only handle");
    cr_assert_eq(store_outbox_withdrawn(ro, "brand", "two@example.org", &mask), STORE_OK);
    cr_expect_eq(mask, 1u << STORE_P_CLICKS, "a read-only reader sees the outbox");
    store_close(ro);
    cr_assert_eq(store_open(bdir, 0, 0, &bst), STORE_OK);
}
