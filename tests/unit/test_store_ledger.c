/* Unit tests for the ledger's tamper evidence (store_verify) and for
 * concurrency: several writer processes while reader threads look up.
 * Tampering goes through raw LMDB on the closed store, as an attacker with
 * file access would. White-box: uses store_int.h to find fields. */
#include "tests/unit/test_store_util.h"

#include <pthread.h>
#include <sodium.h>
#include <sys/wait.h>
#include <time.h>

#include "store/store_int.h"

static char ids[8][37];

/* Five events by five recipients; the store is left closed. */
static void setup_ledger(void)
{
    setup_store();
    for (int i = 1; i <= 5; i++) {
        char rcpt[64];
        struct store_event ev;
        snprintf(rcpt, sizeof rcpt, "user%d@example.org", i);
        cr_assert_eq(rec_full(STORE_A_GRANT, "brand", rcpt, P_OPENS, 100 + i, &ev),
                     STORE_OK);
        cr_assert_eq(ev.seq, (uint64_t)i);
        memcpy(ids[i], ev.id, 37);
    }
    store_close(tst);
    tst = NULL;
}

struct raw {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
};

static void raw_open(struct raw *r)
{
    cr_assert_eq(mdb_env_create(&r->env), 0);
    mdb_env_set_maxdbs(r->env, 8);
    mdb_env_set_mapsize(r->env, (size_t)1 << 30);
    cr_assert_eq(mdb_env_open(r->env, tdir, MDB_NOTLS, 0600), 0);
    cr_assert_eq(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
    cr_assert_eq(mdb_dbi_open(r->txn, "ledger", 0, &r->dbi), 0);
}

static void raw_close(struct raw *r)
{
    cr_assert_eq(mdb_txn_commit(r->txn), 0);
    mdb_env_close(r->env);
}

/* Copy event seq's value into buf; returns its length. */
static size_t raw_get(struct raw *r, uint64_t seq, uint8_t *buf, size_t cap)
{
    uint8_t kb[8];
    st_put_be64(kb, seq);
    MDB_val k = {8, kb}, v;
    cr_assert_eq(mdb_get(r->txn, r->dbi, &k, &v), 0);
    cr_assert(v.mv_size <= cap);
    memcpy(buf, v.mv_data, v.mv_size);
    return v.mv_size;
}

static void raw_put(struct raw *r, uint64_t seq, const uint8_t *buf, size_t n)
{
    uint8_t kb[8];
    st_put_be64(kb, seq);
    MDB_val k = {8, kb}, v = {n, (void *)buf};
    cr_assert_eq(mdb_put(r->txn, r->dbi, &k, &v, 0), 0);
}

static void raw_del(struct raw *r, uint64_t seq)
{
    uint8_t kb[8];
    st_put_be64(kb, seq);
    MDB_val k = {8, kb};
    cr_assert_eq(mdb_del(r->txn, r->dbi, &k, NULL), 0);
}

static struct store_verify verify_now(void)
{
    struct store_verify v;
    cr_assert_eq(store_open(tdir, 0, 0, &tst), STORE_OK);
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    return v;
}

static int count_cb(const struct store_ledger_event *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

#define OFF_PURPOSES 23 /* format, flags, seq, rprev, action, time */

TestSuite(ledger, .init = setup_ledger, .fini = teardown_store);

Test(ledger, intact_chain_verifies)
{
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_OK);
    cr_expect_eq(v.events, 5);
    cr_expect_eq(v.head_seq, 5);
}

Test(ledger, modified_event_is_named)
{
    struct raw r;
    uint8_t buf[4096];
    raw_open(&r);
    size_t n = raw_get(&r, 3, buf, sizeof buf);
    buf[OFF_PURPOSES + 3] ^= 0x02; /* opens -> opens+clicks */
    raw_put(&r, 3, buf, n);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_MODIFIED, "got %s",
                 store_verify_problem_text(v.problem));
    cr_expect_eq(v.bad_seq, 3);
    cr_expect_str_eq(v.bad_id, ids[3]);
}

Test(ledger, modified_address_is_named)
{
    struct raw r;
    uint8_t buf[4096];
    raw_open(&r);
    size_t n = raw_get(&r, 2, buf, sizeof buf);
    uint8_t *p = memmem(buf, n, "user2@", 6);
    cr_assert_not_null(p);
    p[4] = '9';
    raw_put(&r, 2, buf, n);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_PERSONAL);
    cr_expect_eq(v.bad_seq, 2);
    /* history of that recipient refuses to present tampered proof */
    int cnt = 0;
    cr_expect_eq(store_history(tst, "brand", "user2@example.org", count_cb, &cnt),
                 STORE_ECORRUPT);
}

Test(ledger, history_of_tampered_event_is_corrupt)
{
    struct raw r;
    uint8_t buf[4096];
    int n = 0;
    raw_open(&r);
    size_t len = raw_get(&r, 4, buf, sizeof buf);
    buf[OFF_PURPOSES + 3] ^= 0x04;
    raw_put(&r, 4, buf, len);
    raw_close(&r);
    cr_assert_eq(store_open(tdir, 0, 0, &tst), STORE_OK);
    cr_expect_eq(store_history(tst, "brand", "user4@example.org", count_cb, &n),
                 STORE_ECORRUPT);
    cr_expect_eq(store_history(tst, "brand", "user5@example.org", count_cb, &n),
                 STORE_OK);
}

Test(ledger, deleted_event_is_named)
{
    struct raw r;
    raw_open(&r);
    raw_del(&r, 3);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_MISSING, "got %s",
                 store_verify_problem_text(v.problem));
    cr_expect_eq(v.bad_seq, 3);
}

Test(ledger, reordered_events_are_named)
{
    struct raw r;
    uint8_t a[4096], b[4096];
    raw_open(&r);
    size_t na = raw_get(&r, 2, a, sizeof a), nb = raw_get(&r, 3, b, sizeof b);
    raw_put(&r, 2, b, nb);
    raw_put(&r, 3, a, na);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_MOVED, "got %s",
                 store_verify_problem_text(v.problem));
    cr_expect_eq(v.bad_seq, 2);
    cr_expect_str_eq(v.bad_id, ids[3], "the event found there");
}

Test(ledger, deleted_last_event_is_named)
{
    struct raw r;
    raw_open(&r);
    raw_del(&r, 5);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_TRUNCATED, "got %s",
                 store_verify_problem_text(v.problem));
    cr_expect_eq(v.bad_seq, 5);
}

/* A forger who rewrites an event and recomputes its hash breaks the link
 * from the next event. */
Test(ledger, rehashed_forgery_breaks_the_chain)
{
    struct raw r;
    uint8_t buf[4096];
    static struct st_event e;
    raw_open(&r);
    size_t n = raw_get(&r, 3, buf, sizeof buf);
    buf[OFF_PURPOSES + 3] ^= 0x02;
    cr_assert_eq(st_event_decode(buf, n, &e), STORE_OK);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)"consent-ledger-v1", 18);
    crypto_hash_sha256_update(&h, buf + 2, e.canon_end - 2);
    crypto_hash_sha256_final(&h, buf + e.canon_end);
    raw_put(&r, 3, buf, n);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_CHAIN, "got %s",
                 store_verify_problem_text(v.problem));
    cr_expect_eq(v.bad_seq, 4);
    cr_expect_str_eq(v.bad_id, ids[4]);
}

/* Granting consent by editing the consent database, without a ledger
 * event, is caught by the replay. */
Test(ledger, consent_database_edit_is_named)
{
    struct raw r;
    MDB_dbi cdb;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t val[ST_CVAL_LEN];
    raw_open(&r);
    cr_assert_eq(mdb_dbi_open(r.txn, "consent", 0, &cdb), 0);
    cr_assert_eq(mdb_cursor_open(r.txn, cdb, &cur), 0);
    cr_assert_eq(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
    cr_assert_eq(v.mv_size, ST_CVAL_LEN);
    memcpy(val, v.mv_data, sizeof val);
    uint64_t last = st_get_be64(val + 12);
    val[3] |= 0x04; /* clicks: unknown -> granted */
    v.mv_data = val;
    cr_assert_eq(mdb_cursor_put(cur, &k, &v, MDB_CURRENT), 0);
    mdb_cursor_close(cur);
    raw_close(&r);
    struct store_verify res = verify_now();
    cr_expect_eq(res.problem, STORE_V_STATE, "got %s",
                 store_verify_problem_text(res.problem));
    cr_expect_eq(res.bad_seq, last);
    cr_expect_str_eq(res.bad_id, ids[last]);
}

/* Deleting the last events with their consent rows and moving the head
 * back leaves a chain that is intact on its own: only a head recorded
 * earlier (verify's output, the daemons' hourly log line) reveals it. */
static void cut_tail_after(uint64_t keep)
{
    struct raw r;
    MDB_dbi cdb, mdb;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t buf[4096], head[40];
    static struct st_event e;
    raw_open(&r);
    size_t n = raw_get(&r, keep, buf, sizeof buf);
    cr_assert_eq(st_event_decode(buf, n, &e), STORE_OK);
    for (uint64_t s = keep + 1; s <= 5; s++)
        raw_del(&r, s);
    cr_assert_eq(mdb_dbi_open(r.txn, "consent", 0, &cdb), 0);
    cr_assert_eq(mdb_cursor_open(r.txn, cdb, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (st_get_be64((const uint8_t *)v.mv_data + 12) > keep)
            cr_assert_eq(mdb_cursor_del(cur, 0), 0);
    mdb_cursor_close(cur);
    cr_assert_eq(mdb_dbi_open(r.txn, "meta", 0, &mdb), 0);
    st_put_be64(head, keep);
    memcpy(head + 8, e.le.hash, 32);
    k.mv_size = 4;
    k.mv_data = "head";
    v.mv_size = sizeof head;
    v.mv_data = head;
    cr_assert_eq(mdb_put(r.txn, mdb, &k, &v, 0), 0);
    raw_close(&r);
}

Test(ledger, deleted_tail_with_head_needs_a_recorded_head)
{
    struct store_verify v = verify_now(), got;
    uint8_t recorded[32], other[32];
    uint64_t hseq;
    cr_assert_eq(v.head_seq, 5);
    memcpy(recorded, v.head, 32);
    cr_assert_eq(store_ledger_head(tst, &hseq, other), STORE_OK);
    cr_expect_eq(hseq, 5, "store_ledger_head: seq");
    cr_expect(memcmp(other, recorded, 32) == 0, "store_ledger_head: hash");
    store_close(tst);
    tst = NULL;
    cut_tail_after(3);
    v = verify_now();
    cr_expect_eq(v.problem, STORE_V_OK, "the cut chain alone still verifies (got %s)",
                 store_verify_problem_text(v.problem));
    cr_expect_eq(v.head_seq, 3);
    cr_assert_eq(store_verify_anchor(tst, 5, recorded, &got), STORE_OK);
    cr_expect_eq(got.problem, STORE_V_ANCHOR_MISSING, "got %s",
                 store_verify_problem_text(got.problem));
    cr_expect_eq(got.bad_seq, 5);
    memcpy(other, recorded, 32);
    other[0] ^= 1;
    cr_assert_eq(store_verify_anchor(tst, 3, other, &got), STORE_OK);
    cr_expect_eq(got.problem, STORE_V_ANCHOR_DIFFERS, "got %s",
                 store_verify_problem_text(got.problem));
    cr_expect_eq(got.bad_seq, 3);
    cr_expect_str_eq(got.bad_id, ids[3]);
    cr_assert_eq(store_verify_anchor(tst, 3, v.head, &got), STORE_OK);
    cr_expect_eq(got.problem, STORE_V_OK, "the head that is there: %s",
                 store_verify_problem_text(got.problem));
}

Test(ledger, garbage_event_is_unreadable)
{
    struct raw r;
    uint8_t junk[40];
    memset(junk, 0x41, sizeof junk);
    raw_open(&r);
    raw_put(&r, 4, junk, sizeof junk);
    raw_close(&r);
    struct store_verify v = verify_now();
    cr_expect_eq(v.problem, STORE_V_UNREADABLE);
    cr_expect_eq(v.bad_seq, 4);
}

/* ---- concurrency ---- */

#define WRITERS 3
#define WRITES 150
#define READERS 4

struct reader {
    pthread_t th;
    volatile int *stop;
    unsigned long lookups;
    double max_us;
    int errors;
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct store_consent c;
    while (!*r->stop) {
        double t0 = now_us();
        int rc = store_consent_get(tst, "brand", "shared@example.org", &c);
        double dt = now_us() - t0;
        if (rc != STORE_OK && rc != STORE_NOTFOUND)
            r->errors++;
        if (dt > r->max_us)
            r->max_us = dt;
        r->lookups++;
    }
    return NULL;
}

static void writer_main(int w)
{
    struct store *st;
    if (store_open(tdir, 0, 0, &st) != STORE_OK)
        _exit(2);
    tst = st;
    for (int i = 0; i < WRITES; i++) {
        char own[64];
        snprintf(own, sizeof own, "w%d-%d@example.org", w, i);
        int a = i % 2 ? STORE_A_WITHDRAW : STORE_A_GRANT;
        if (rec(a, "shared@example.org", P_OPENS, 0) != STORE_OK ||
            rec(STORE_A_GRANT, own, P_CLICKS, 0) != STORE_OK)
            _exit(3);
    }
    store_close(st);
    _exit(0);
}

TestSuite(concurrency, .init = setup_store, .fini = teardown_store);

Test(concurrency, writers_in_processes_readers_in_threads, .timeout = 120)
{
    pid_t pids[WRITERS];
    struct reader rd[READERS];
    volatile int stop = 0;
    int hist_n = 0;

    store_close(tst); /* never carry an open environment across fork */
    tst = NULL;
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        cr_assert(pids[w] >= 0);
        if (pids[w] == 0)
            writer_main(w);
    }
    cr_assert_eq(store_open(tdir, 0, 64, &tst), STORE_OK);
    for (int i = 0; i < READERS; i++) {
        rd[i] = (struct reader){.stop = &stop};
        cr_assert_eq(pthread_create(&rd[i].th, NULL, reader_main, &rd[i]), 0);
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        cr_assert_eq(waitpid(pids[w], &status, 0), pids[w]);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d status %d", w,
                  status);
    }
    unsigned long during = 0;
    for (int i = 0; i < READERS; i++)
        during += rd[i].lookups;
    stop = 1;
    for (int i = 0; i < READERS; i++) {
        pthread_join(rd[i].th, NULL);
        cr_expect_eq(rd[i].errors, 0);
        cr_expect_gt(rd[i].lookups, 0, "reader %d made progress while writers ran", i);
        cr_log_info("reader %d: %lu lookups, max %.0f us", i, rd[i].lookups,
                    rd[i].max_us);
    }
    cr_expect_gt(during, 100, "lookups went on during the writes (%lu)", during);
    /* no lost update: every event is in the ledger, chained */
    struct store_info in;
    struct store_verify v;
    cr_assert_eq(store_info_get(tst, &in), STORE_OK);
    cr_expect_eq(in.events, (uint64_t)WRITERS * WRITES * 2);
    cr_expect_eq(in.consents, (uint64_t)WRITERS * WRITES + 1);
    cr_assert_eq(store_verify(tst, &v), STORE_OK);
    cr_expect_eq(v.problem, STORE_V_OK);
    cr_assert_eq(store_history(tst, "brand", "shared@example.org", count_cb, &hist_n),
                 STORE_OK);
    cr_expect_eq(hist_n, WRITERS * WRITES);
}
