/* GDPR erasure leaves no byte of the erased person in data.mdb when
 * store_erase returns (issue 9.7): LMDB is copy-on-write, so the old
 * copies of the pages sit in free pages until reused; the store must
 * scrub them. A large history makes many freed pages. */
#include <lmdb.h>
#include <pthread.h>
#include <sys/wait.h>

#include "test_store_util.h"
#include "store/store_int.h" /* white-box: raw LMDB values, a held reader */

#define ADDR "zed.marker@example.org"
#define IP "203.0.113.219"
#define UA "UA-ERASE-MARKER-9c1d"

static char *slurp(const char *dir, size_t *n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *p = malloc((size_t)len + 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static int has(const char *buf, size_t n, const char *needle)
{
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void rec_pii(const char *rcpt, int action, int64_t t)
{
    struct store_event ev = {0};
    ev.action = action;
    ev.controller = "brand";
    ev.recipient = rcpt;
    ev.purposes = action == STORE_A_WITHDRAW ? 0 : P_OPENS | P_CLICKS;
    ev.method = "consent-page";
    ev.notice_id = "n1";
    ev.source_ip = IP;
    ev.user_agent = UA;
    ev.time = t;
    cr_assert_eq(store_record(tst, &ev), STORE_OK);
}

TestSuite(store_erase, .init = setup_store, .fini = teardown_store);

static void fill_n(int n)
{
    char other[64];
    for (int i = 0; i < n; i++) {
        rec_pii(ADDR, i % 2 ? STORE_A_WITHDRAW : STORE_A_GRANT, 1000 + i);
        snprintf(other, sizeof other, "other%d@example.org", i);
        cr_assert_eq(rec(STORE_A_GRANT, other, P_OPENS, 1000 + i), STORE_OK);
    }
}

static void fill(void)
{
    fill_n(1500);
}

/* No marker anywhere in the raw file. */
static void expect_file_clean(const char *when)
{
    size_t n;
    char *buf = slurp(tdir, &n);
    cr_expect_not(has(buf, n, ADDR), "address left in data.mdb %s", when);
    cr_expect_not(has(buf, n, IP), "IP left in data.mdb %s", when);
    cr_expect_not(has(buf, n, UA), "user agent left in data.mdb %s", when);
    free(buf);
}

/* Does any page of the free list (read with a second environment handle
 * after the store is closed) hold one of the markers? */
static int free_pages_hold_markers(const char *buf, size_t n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int found = 0;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
    cr_assert_eq(mdb_env_open(env, tdir, MDB_RDONLY, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_cursor_open(txn, 0, &cur), 0);
    for (int r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t cnt, pg;
        memcpy(&cnt, v.mv_data, sizeof cnt);
        for (size_t i = 1; i <= cnt; i++) {
            memcpy(&pg, (char *)v.mv_data + i * sizeof pg, sizeof pg);
            if ((pg + 1) * 4096 <= n)
                found |= has(buf + pg * 4096, 4096, ADDR) ||
                         has(buf + pg * 4096, 4096, IP) || has(buf + pg * 4096, 4096, UA);
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return found;
}

Test(store_erase, free_pages_scrubbed_and_ledger_verifies)
{
    size_t n;
    unsigned ne;
    fill();
    cr_assert_eq(store_erase(tst, "brand", ADDR, "admin:test", &ne), STORE_OK);
    cr_expect_eq(ne, 1500);
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
    store_close(tst);
    tst = NULL;
    char *buf = slurp(tdir, &n);
    cr_expect_not(free_pages_hold_markers(buf, n), "a free page still holds erased data");
    free(buf);
}

/* The whole raw file, pages in use included: liblmdb 0.9.24 reuses
 * dirty-page buffers without zeroing them, so the unused gap of a live
 * page can carry stale copies of erased events (store_gaps.c). */
Test(store_erase, no_personal_bytes_left_in_the_file)
{
    size_t n;
    unsigned ne;
    fill();
    cr_assert_eq(store_lastopen_set(tst, "brand", ADDR, 20000), STORE_OK);
    char *buf = slurp(tdir, &n);
    cr_assert(has(buf, n, ADDR) && has(buf, n, IP) && has(buf, n, UA), "markers stored");
    free(buf);
    cr_assert_eq(store_erase(tst, "brand", ADDR, "admin:test", &ne), STORE_OK);
    cr_expect_eq(ne, 1500);
    expect_file_clean("after erase");
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
    struct store_consent c;
    cr_expect_eq(store_consent_get(tst, "brand", "other7@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED, "other data intact");
}

/* A reader holding a snapshot from before the erase can still read the
 * old pages: erase says STORE_EBUSY; once the reader is gone, store_scrub
 * (consentctl scrub) finishes the job. */
Test(store_erase, old_reader_blocks_then_scrub_completes, .timeout = 60)
{
    MDB_txn *r;
    unsigned ne;
    fill_n(200);
    int due = -1;
    cr_assert_eq(store_scrub_pending(tst, &due), STORE_OK);
    cr_expect_eq(due, 0, "a new store owes no scrub");
    cr_assert_eq(st_rd_begin(tst, &r), STORE_OK);
    cr_expect_eq(store_erase(tst, "brand", ADDR, "admin:test", &ne), STORE_EBUSY);
    cr_expect_eq(ne, 200, "the erase itself committed");
    cr_expect_eq(store_scrub(tst, 0), STORE_EBUSY, "still held");
    cr_assert_eq(store_scrub_pending(tst, &due), STORE_OK);
    cr_expect_eq(due, 1, "the unfinished scrub is recorded as pending");
    st_rd_end(tst, r);
    cr_expect_eq(store_scrub(tst, 0), STORE_OK);
    cr_assert_eq(store_scrub_pending(tst, &due), STORE_OK);
    cr_expect_eq(due, 0, "the completed scrub covers the erase");
    expect_file_clean("after the reader ended and store_scrub");
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
}

/* Big values live in overflow pages; one rewritten shorter in the same
 * transaction keeps the old bytes past its end in its last pages, and a
 * deleted one leaves whole free pages: both must go. */
Test(store_erase, big_value_tails_scrubbed)
{
    static char big[12000], small[6000];
    MDB_txn *t;
    for (size_t i = 0; i + sizeof UA <= sizeof big; i += sizeof UA)
        memcpy(big + i, UA, sizeof UA);
    memset(small, 'x', sizeof small);
    MDB_val kb = {7, "big-one"}, kg = {7, "big-two"}, vb = {sizeof big, big},
            vs = {sizeof small, small}, got;
    cr_assert_eq(mdb_txn_begin(tst->env, NULL, 0, &t), 0);
    cr_assert_eq(mdb_put(t, tst->meta, &kb, &vb, 0), 0);
    cr_assert_eq(mdb_put(t, tst->meta, &kb, &vs, 0), 0); /* in place: page dirty */
    cr_assert_eq(mdb_put(t, tst->meta, &kg, &vb, 0), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    cr_assert_eq(mdb_txn_begin(tst->env, NULL, 0, &t), 0);
    cr_assert_eq(mdb_del(t, tst->meta, &kg, NULL), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    size_t n;
    char *buf = slurp(tdir, &n);
    cr_assert(has(buf, n, UA), "the test leaves stale bytes to scrub");
    free(buf);
    cr_assert_eq(store_scrub(tst, 0), STORE_OK);
    expect_file_clean("after store_scrub");
    cr_assert_eq(mdb_txn_begin(tst->env, NULL, MDB_RDONLY, &t), 0);
    cr_assert_eq(mdb_get(t, tst->meta, &kb, &got), 0);
    cr_expect(got.mv_size == sizeof small &&
                  memcmp(got.mv_data, small, sizeof small) == 0,
              "the live big value is intact");
    mdb_txn_abort(t);
}

/* Readers run while erase zeroes bytes in pages they are reading: every
 * lookup still succeeds with the right state, and the scrub still ends
 * (short read transactions only delay it). */
static volatile int readers_stop;
static int reader_bad;

static void *reader_loop(void *arg)
{
    char other[64];
    (void)arg;
    for (unsigned i = 0; !readers_stop; i++) {
        struct store_consent c;
        snprintf(other, sizeof other, "other%u@example.org", i % 1500);
        if (store_consent_get(tst, "brand", other, &c) != STORE_OK ||
            c.state[STORE_P_OPENS] != STORE_GRANTED)
            reader_bad++;
    }
    return NULL;
}

Test(store_erase, concurrent_readers_see_intact_data, .timeout = 120)
{
    pthread_t th[2];
    unsigned ne;
    fill();
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, reader_loop, NULL), 0);
    int rc = store_erase(tst, "brand", ADDR, "admin:test", &ne);
    readers_stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cr_expect_eq(rc, STORE_OK, "%s", store_strerror(rc));
    cr_expect_eq(reader_bad, 0, "%d lookups failed or read a wrong state", reader_bad);
    expect_file_clean("after an erase under read load");
}

/* A process that handled the erased data before the erase keeps stale
 * copies in liblmdb's cache of page buffers (me_dpages, reused
 * uncleared): a large write it makes after the erase could put some of
 * them back into the unused space of new pages. The erase counts itself
 * in meta "erasegen", and st_wr_begin renews the environment of any
 * handle that opened before it (store_scrub.c, env_renew). */
Test(store_erase, later_big_batch_by_same_process_brings_nothing_back)
{
    unsigned ne;
    char other[64];
    struct store_batch *b;
    fill();
    cr_assert_eq(store_erase(tst, "brand", ADDR, "admin:test", &ne), STORE_OK);
    expect_file_clean("right after erase");
    cr_assert_eq(store_batch_begin(tst, &b), STORE_OK);
    for (int i = 0; i < 3000; i++) {
        struct store_event ev = {0};
        int dup;
        snprintf(other, sizeof other, "later%d@example.org", i);
        ev.action = STORE_A_GRANT;
        ev.controller = "brand";
        ev.recipient = other;
        ev.purposes = P_OPENS;
        ev.method = "admin";
        ev.time = 5000 + i;
        cr_assert_eq(store_batch_add(b, &ev, &dup), STORE_OK);
    }
    cr_assert_eq(store_batch_commit(b), STORE_OK);
    expect_file_clean("after a big batch by the same process");
}


/* consentctl erase, as another process does it, on the test's store. */
static void erase_in_another_process(void)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        struct store *other;
        unsigned ne;
        int ok = store_open(tdir, 0, 0, &other) == STORE_OK &&
                 store_erase(other, "brand", ADDR, "admin:test", &ne) == STORE_OK;
        _exit(ok ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the other process erased");
}

/* The mechanism behind the test above, deterministically: the erase is
 * counted, and the handle renews its environment once before its next
 * write, and not again while no new erase comes. */
Test(store_erase, the_erasing_handle_renews_once)
{
    unsigned ne;
    fill_n(20);
    cr_assert_eq(rec(STORE_A_GRANT, "before@example.org", P_OPENS, 2000), STORE_OK);
    cr_expect_eq(tst->renewals, 0, "no erase yet, no renewal");
    cr_assert_eq(store_erase(tst, "brand", ADDR, "admin:test", &ne), STORE_OK);
    cr_expect_eq(tst->renewals, 1, "renewed before the scrub wrote: %u", tst->renewals);
    int due = -1;
    cr_assert_eq(store_scrub_pending(tst, &due), STORE_OK);
    cr_expect_eq(due, 0, "an erase that scrubbed owes nothing");
    /* an environment from before the record: due once, then covered */
    MDB_txn *t;
    MDB_val k = {8, "scrubgen"};
    cr_assert_eq(mdb_txn_begin(tst->env, NULL, 0, &t), 0);
    cr_assert_eq(mdb_del(t, tst->meta, &k, NULL), 0);
    cr_assert_eq(mdb_txn_commit(t), 0);
    cr_assert_eq(store_scrub_pending(tst, &due), STORE_OK);
    cr_expect_eq(due, 1, "no record: due");
    cr_assert_eq(store_scrub(tst, 0), STORE_OK);
    cr_assert_eq(store_scrub_pending(tst, &due), STORE_OK);
    cr_expect_eq(due, 0, "recorded by the scrub");
    for (int i = 0; i < 5; i++) {
        char other[64];
        snprintf(other, sizeof other, "after%d@example.org", i);
        cr_assert_eq(rec(STORE_A_GRANT, other, P_OPENS, 3000 + i), STORE_OK);
    }
    cr_expect_eq(tst->renewals, 1, "later writes do not renew again: %u", tst->renewals);
    struct store_consent c;
    cr_assert_eq(store_consent_get(tst, "brand", "before@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED, "the renewed handle reads the data");
}

/* An erase made by another process (consentctl, consent-sync): this
 * long-running writer renews before its first write after it. */
Test(store_erase, an_erase_by_another_process_renews_this_writer)
{
    fill_n(20);
    erase_in_another_process();
    struct store_consent c;
    cr_assert_eq(store_consent_get(tst, "brand", "other3@example.org", &c), STORE_OK);
    cr_expect_eq(tst->renewals, 0, "reads do not renew");
    cr_assert_eq(rec(STORE_A_GRANT, "later@example.org", P_OPENS, 5000), STORE_OK);
    cr_expect_eq(tst->renewals, 1, "renewed before writing: %u", tst->renewals);
    cr_assert_eq(store_consent_get(tst, "brand", "later@example.org", &c), STORE_OK);
    cr_expect_eq(c.state[STORE_P_OPENS], STORE_GRANTED);
    expect_file_clean("after the later write");
}

/* A write that cannot renew first (this thread holds a read transaction
 * of the handle) goes ahead and owes a scrub; the next write renews, the
 * one after scrubs, and the file ends clean. */
Test(store_erase, a_write_that_cannot_renew_owes_a_scrub)
{
    MDB_txn *r;
    fill_n(50);
    erase_in_another_process();
    cr_assert_eq(st_rd_begin(tst, &r), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "held1@example.org", P_OPENS, 5000), STORE_OK);
    st_rd_end(tst, r);
    cr_expect_eq(tst->renewals, 0, "no renewal while this thread held a transaction");
    cr_expect_eq(tst->scrub_owed, 1, "the write owes a scrub");
    cr_assert_eq(rec(STORE_A_GRANT, "held2@example.org", P_OPENS, 5001), STORE_OK);
    cr_expect_eq(tst->renewals, 1, "the next write renewed: %u", tst->renewals);
    cr_assert_eq(rec(STORE_A_GRANT, "held3@example.org", P_OPENS, 5002), STORE_OK);
    cr_expect_eq(tst->scrub_owed, 0, "the write after it scrubbed");
    expect_file_clean("after the owed scrub");
    struct store_verify v;
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK, "%s", store_verify_problem_text(v.problem));
}

/* Threads reading while another renews the handle: every lookup still
 * succeeds (they wait, briefly, for the reopen). */
Test(store_erase, readers_survive_a_renewal, .timeout = 120)
{
    pthread_t th[2];
    unsigned ne;
    fill_n(1500);
    readers_stop = 0;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, reader_loop, NULL), 0);
    int rc = store_erase(tst, "brand", ADDR, "admin:test", &ne);
    for (int i = 0; i < 20 && rc == STORE_OK; i++) {
        char other[64];
        snprintf(other, sizeof other, "during%d@example.org", i);
        rc = rec(STORE_A_GRANT, other, P_OPENS, 7000 + i);
    }
    readers_stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cr_expect_eq(rc, STORE_OK, "%s", store_strerror(rc));
    cr_expect_eq(reader_bad, 0, "%d lookups failed or read a wrong state", reader_bad);
    cr_expect(tst->renewals >= 1 || tst->scrub_owed, "the erase made the writer renew");
}
