/* Issue 12: notice versions kept content-addressed, and the data-access
 * export (store_access) leaves nothing out. The completeness test does not
 * trust a list: it scans every named database of data.mdb for the
 * person's address and keyed hash and requires each database that holds
 * them to be in the export, entry for entry, so a new kind of personal
 * data that is not exported fails here. */
#include <lmdb.h>
#include <sodium.h>

#include "test_store_util.h"
#include "store/store_repl.h"

#define ADDR "ann.access@example.org"
#define NOTICE_A "<p>Who tracks: {{controller}} at {{address}}.</p>\n"
#define NOTICE_B "<p>Who tracks (edited): {{controller}}.</p>\n"

TestSuite(store_access, .init = setup_store, .fini = teardown_store);

/* ---- notice versions ------------------------------------------------ */

struct got {
    char text[256];
    size_t len;
    char source[256];
    int64_t first_seen;
    int n;
};

static int keep(const struct store_notice *n, void *arg)
{
    struct got *g = arg;
    cr_assert_lt(n->len, sizeof g->text);
    memcpy(g->text, n->text, n->len);
    g->len = n->len;
    snprintf(g->source, sizeof g->source, "%s", n->source);
    g->first_seen = n->first_seen;
    g->n++;
    return 0;
}

Test(store_access, notice_put_is_content_addressed)
{
    static const char bin[] = "a\0b\r\n\xff"; /* exact bytes, NUL included */
    uint8_t s1[32], s2[32], s3[32], want[32];
    struct got g = {0};
    int added = -1;

    cr_assert_eq(store_notice_put(tst, bin, sizeof bin - 1, "test one", s1, &added), 0);
    cr_expect_eq(added, 1);
    crypto_hash_sha256(want, (const unsigned char *)bin, sizeof bin - 1);
    cr_expect_eq(memcmp(s1, want, 32), 0, "key is the SHA-256 of the bytes");
    cr_assert_eq(store_notice_put(tst, bin, sizeof bin - 1, "again", s2, &added), 0);
    cr_expect_eq(added, 0, "same text stored twice is one version");
    cr_expect_eq(memcmp(s1, s2, 32), 0);
    cr_assert_eq(store_notice_get(tst, s1, keep, &g), 0);
    cr_expect_eq(g.len, sizeof bin - 1);
    cr_expect_eq(memcmp(g.text, bin, g.len), 0, "exact bytes back");
    cr_expect_str_eq(g.source, "test one", "first source kept, got '%s'", g.source);
    cr_assert_eq(store_notice_put(tst, NOTICE_B, strlen(NOTICE_B), NULL, s3, NULL), 0);
    g.n = 0;
    cr_assert_eq(store_notice_walk(tst, keep, &g), 0);
    cr_expect_eq(g.n, 2, "got %d versions, want 2", g.n);
    s3[0] ^= 1;
    cr_expect_eq(store_notice_get(tst, s3, NULL, NULL), STORE_NOTFOUND);
    cr_expect_eq(store_notice_put(tst, "", 0, NULL, s3, NULL), STORE_EINVAL);
    cr_expect_eq(store_notice_put(tst, "x", 1, "bad\nsource", s3, NULL), STORE_EINVAL);
}

Test(store_access, notice_id_is_derived)
{
    uint8_t s[32];
    char id[64], hex[65];

    cr_assert_eq(store_notice_put(tst, NOTICE_A, strlen(NOTICE_A), NULL, s, NULL), 0);
    store_notice_id("page-consent-en", s, id, sizeof id);
    sodium_bin2hex(hex, sizeof hex, s, 32);
    cr_expect_eq(strlen(id), strlen("page-consent-en-") + 12, "got '%s'", id);
    cr_expect_eq(strncmp(id + 16, hex, 12), 0, "got '%s' for %s", id, hex);
}

static int grant_with(const char *rcpt, const char *text, const uint8_t *sha)
{
    struct store_event ev = {0};
    ev.action = STORE_A_GRANT;
    ev.controller = "brand";
    ev.recipient = rcpt;
    ev.purposes = P_OPENS;
    ev.method = "consent-page";
    ev.notice_id = "page-consent-en-test";
    ev.notice_text = text;
    ev.notice_len = strlen(text);
    ev.notice_source = "test";
    if (sha != NULL)
        memcpy(ev.notice_sha256, sha, 32);
    else
        crypto_hash_sha256(ev.notice_sha256, (const unsigned char *)text, strlen(text));
    return store_record(tst, &ev);
}

Test(store_access, record_keeps_notice_with_event)
{
    uint8_t s[32], bad[32] = {1};
    struct store_consent c;

    cr_expect_eq(grant_with(ADDR, NOTICE_A, bad), STORE_EINVAL, "hash must match text");
    cr_expect_eq(grant_with(ADDR, "<p>hello ANN.Access@Example.ORG</p>", NULL),
                 STORE_EINVAL, "a text naming the recipient is personal data");
    cr_expect_eq(store_consent_get(tst, "brand", ADDR, &c), STORE_NOTFOUND,
                 "a refused notice records nothing");
    cr_assert_eq(grant_with(ADDR, NOTICE_A, NULL), STORE_OK);
    crypto_hash_sha256(s, (const unsigned char *)NOTICE_A, strlen(NOTICE_A));
    cr_expect_eq(store_notice_get(tst, s, NULL, NULL), STORE_OK, "kept with the event");
}

Test(store_access, erase_keeps_notice_versions)
{
    uint8_t s[32];
    struct got g = {0};

    cr_assert_eq(grant_with(ADDR, NOTICE_A, NULL), STORE_OK);
    cr_assert_eq(store_erase(tst, "brand", ADDR, "test", NULL), STORE_OK);
    crypto_hash_sha256(s, (const unsigned char *)NOTICE_A, strlen(NOTICE_A));
    cr_assert_eq(store_notice_get(tst, s, keep, &g), STORE_OK);
    cr_expect_eq(memcmp(g.text, NOTICE_A, g.len), 0);
}

/* An environment made before the notices database: read-only opens still
 * work (no versions), the first writable open adds the database. */
Test(store_access, old_environment_gets_notices_db)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    uint8_t s[32];

    store_close(tst);
    tst = NULL;
    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    mdb_env_set_mapsize(env, (size_t)1 << 30);
    cr_assert_eq(mdb_env_open(env, tdir, 0, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "notices", 0, &dbi), 0);
    cr_assert_eq(mdb_drop(txn, dbi, 1), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    cr_assert_eq(store_open(tdir, STORE_RDONLY, 0, &tst), STORE_OK);
    memset(s, 0, sizeof s);
    cr_expect_eq(store_notice_get(tst, s, NULL, NULL), STORE_NOTFOUND);
    store_close(tst);
    cr_assert_eq(store_open(tdir, 0, 0, &tst), STORE_OK);
    cr_expect_eq(store_notice_put(tst, NOTICE_A, strlen(NOTICE_A), NULL, s, NULL), 0);
    cr_expect_eq(store_notice_get(tst, s, NULL, NULL), STORE_OK);
}

/* ---- the access export ---------------------------------------------- */

#define MAXDB 16
struct tally {
    char db[MAXDB][32];
    int n[MAXDB];
    int ndb;
    int64_t day;
    int notice_exact;
};

static int *slot(struct tally *t, const char *db)
{
    for (int i = 0; i < t->ndb; i++)
        if (strcmp(t->db[i], db) == 0)
            return &t->n[i];
    cr_assert_lt(t->ndb, MAXDB);
    snprintf(t->db[t->ndb], sizeof t->db[0], "%s", db);
    return &t->n[t->ndb++];
}

static int count(const struct store_access_item *it, void *arg)
{
    struct tally *t = arg;
    (*slot(t, it->db))++;
    if (strcmp(it->db, "lastopen") == 0)
        t->day = it->lastopen_day;
    if (strcmp(it->db, "notices") == 0)
        t->notice_exact = it->notice->len == strlen(NOTICE_A) &&
                          memcmp(it->notice->text, NOTICE_A, it->notice->len) == 0;
    return 0;
}

/* Every kind of write the store makes, for ADDR and for someone else. */
static void fill_everything(void)
{
    cr_assert_eq(grant_with(ADDR, NOTICE_A, NULL), STORE_OK);
    cr_assert_eq(rec(STORE_A_WITHDRAW, ADDR, P_OPENS, 0), STORE_OK);
    cr_assert_eq(rec(STORE_A_INFORM, ADDR, 0, 0), STORE_OK);
    cr_assert_eq(store_lastopen_set(tst, "brand", ADDR, 20400), STORE_OK);
    struct store_event ob = {.action = STORE_A_WITHDRAW, .controller = "brand",
                             .recipient = ADDR, .method = "withdraw-link",
                             .actor = "gate"};
    char obc[65], obr[STORE_ADDR_MAX];
    cr_assert_eq(store_event_check_in(&ob, obc, obr), STORE_OK);
    cr_assert_eq(store_outbox_put(tst, &ob), STORE_OK); /* a pending withdrawal */
    cr_assert_eq(store_anon_incr(tst, "brand", "spring", 20400), STORE_OK);
    cr_assert_eq(rec(STORE_A_GRANT, "bob@example.org", P_OPENS, 0), STORE_OK);
    cr_assert_eq(store_lastopen_set(tst, "brand", "bob@example.org", 20401), STORE_OK);
    cr_assert_eq(grant_with("bob@example.org", NOTICE_B, NULL), STORE_OK);
}

static int mentions(const MDB_val *v, const uint8_t hash[12])
{
    return memmem(v->mv_data, v->mv_size, ADDR, strlen(ADDR)) != NULL ||
           memmem(v->mv_data, v->mv_size, hash, 12) != NULL;
}

/* Entries of every named database that hold ADDR or its keyed hash. */
static void scan_raw(struct tally *raw, const uint8_t hash[12])
{
    static const char *const known[] = {"meta", "ctl",     "consent", "ledger",
                                        "lastopen", "anon", "notices", "outbox"};
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi main, dbi;
    MDB_cursor *c, *d;
    MDB_val k, v, dk, dv;
    char name[64];

    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    cr_assert_eq(mdb_env_open(env, tdir, MDB_RDONLY, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &main), 0);
    cr_assert_eq(mdb_cursor_open(txn, main, &c), 0);
    while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
        size_t i, nk = sizeof known / sizeof known[0];
        cr_assert_lt(k.mv_size, sizeof name);
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        for (i = 0; i < nk && strcmp(known[i], name) != 0; i++)
            ;
        cr_expect_lt(i, nk,
                     "named database '%s' is new: export it in store_access (or say "
                     "why it holds nothing personal) and list it here",
                     name);
        cr_assert_eq(mdb_dbi_open(txn, name, 0, &dbi), 0);
        cr_assert_eq(mdb_cursor_open(txn, dbi, &d), 0);
        while (mdb_cursor_get(d, &dk, &dv, MDB_NEXT) == 0)
            if (mentions(&dk, hash) || mentions(&dv, hash))
                (*slot(raw, name))++;
        mdb_cursor_close(d);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

Test(store_access, export_leaves_nothing_out)
{
    struct tally got = {0}, raw = {0};
    uint8_t hash[12];

    fill_everything();
    cr_assert_eq(store_order_key(tst, ADDR, hash), STORE_OK);
    cr_assert_eq(store_access(tst, "brand", ADDR, count, &got), STORE_OK);
    store_close(tst); /* LMDB: one handle per environment per process */
    tst = NULL;
    scan_raw(&raw, hash);
    cr_assert_gt(raw.ndb, 0, "the scan must find the person somewhere");
    for (int i = 0; i < raw.ndb; i++) {
        int n = *slot(&got, raw.db[i]);
        cr_expect_eq(n, raw.n[i], "database '%s' holds %d entries on the person, the "
                     "export gives %d", raw.db[i], raw.n[i], n);
    }
    cr_expect_eq(got.day, 20400, "last-open day: got %lld", (long long)got.day);
    cr_expect_eq(*slot(&got, "notices"), 1, "the notice version the events name");
    cr_expect(got.notice_exact, "with its exact text");
}

Test(store_access, export_of_unknown_person)
{
    struct tally got = {0};

    cr_assert_eq(rec(STORE_A_GRANT, "bob@example.org", P_OPENS, 0), STORE_OK);
    cr_expect_eq(store_access(tst, "brand", ADDR, count, &got), STORE_NOTFOUND);
    cr_expect_eq(store_access(tst, "brand", "not an address", count, &got), STORE_EINVAL);
}

Test(store_access, export_lastopen_only)
{
    struct tally got = {0};

    cr_assert_eq(store_lastopen_set(tst, "brand", ADDR, 20400), STORE_OK);
    cr_assert_eq(store_access(tst, "brand", ADDR, count, &got), STORE_OK);
    cr_expect_eq(*slot(&got, "lastopen"), 1, "someone known only by a last open");
}
