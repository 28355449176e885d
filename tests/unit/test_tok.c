/* Unit tests for common/tok: round trip per kind (with the domain id),
 * format-1 tokens from mail sent before, domain ids, wrong kind, tampering,
 * truncation, unknown and retired key ids, rotation, keys file parsing,
 * MAC. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/tok.h"

#define K1 "1 0001020304050607080910111213141516171819202122232425262728293031\n"
#define K2 "2 a0a1a2a3a4a5a6a7a8a9b0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5c6c7c8c9d0d1\n"
#define K7 "7 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n"

static struct tok_keys *keys(const char *text)
{
    struct tok_keys *k = NULL;
    char err[200] = "";
    int rc = tok_keys_parse(text, strlen(text), &k, err, sizeof err);
    cr_assert_eq(rc, TOK_OK, "keys parse: %s", err);
    return k;
}

static char *seal(const struct tok_keys *k, const struct tok *t)
{
    struct buf b = BUF_INIT(0);
    int rc = tok_seal(k, t, &b);
    cr_assert_eq(rc, TOK_OK, "seal kind %c: %s", t->kind, tok_strerror(rc));
    return buf_steal(&b, NULL);
}

#define DOM_A {1, 2, 3, 4, 5, 6, 7, 8}
#define DOM_B {0xff, 0, 0xfe, 1, 0x80, 0x7f, 0, 0}
static const struct tok sample[] = {
    {TOK_OPEN, 0, 1700000000, "brand", "alice@example.org", "https://t.example/o.gif?u=1",
     NULL, 1, DOM_A},
    {TOK_CLICK, 0, 1700000001, "brand", "bob@example.org", "https://t.example/c?x=1",
     "https://shop.example/p", 1, DOM_B},
    {TOK_CLICK, 0, 1700000002, "brand", "bob@example.org",
     "https://opaque.example/ls/click", NULL, 1, DOM_A},
    {TOK_DELIV, 0, 1700000003, "bank", "carol@example.net", NULL, NULL, 1, DOM_B},
    {TOK_WITHDRAW, 0, 1700000004, "brand", "dave@example.org", NULL, NULL, 1, DOM_A},
    {TOK_PREFS, 0, 1700000005, "brand", "eve@\xc3\xa9xample.org", NULL, NULL, 1, DOM_B},
    {TOK_ANON, 0, 1700000006, "brand", NULL, "spring-2026", NULL, 1, DOM_A},
};
#define NSAMPLE (sizeof sample / sizeof sample[0])

static void assert_same(const struct tok *got, const struct tok *want)
{
    cr_assert_eq(got->kind, want->kind);
    cr_assert_eq(got->issued, want->issued, "issued got %lld want %lld",
                 (long long)got->issued, (long long)want->issued);
    cr_assert_str_eq(got->controller, want->controller);
    if (want->recipient)
        cr_assert_str_eq(got->recipient, want->recipient);
    else
        cr_assert_null(got->recipient);
    if (want->url)
        cr_assert_str_eq(got->url, want->url);
    else
        cr_assert_null(got->url);
    if (want->dest)
        cr_assert_str_eq(got->dest, want->dest);
    else
        cr_assert_null(got->dest);
    cr_assert_eq(got->has_domain, want->has_domain);
    cr_assert_arr_eq(got->domain, want->domain, TOK_DOMAIN_ID, "domain id differs");
}

Test(tok, round_trip_every_kind)
{
    struct tok_keys *k = keys(K1);
    for (size_t i = 0; i < NSAMPLE; i++) {
        char *text = seal(k, &sample[i]);
        struct tok got;
        cr_assert_leq(strlen(text), TOK_TEXT_MAX);
        cr_assert_eq(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789-_"),
                     strlen(text), "not base64url: %s", text);
        cr_assert_null(strstr(text, "alice"), "address readable in token");
        cr_assert_eq(tok_open(k, sample[i].kind, text, strlen(text), &got), TOK_OK);
        assert_same(&got, &sample[i]);
        cr_assert_eq(got.key_id, 1);
        tok_clear(&got);
        free(text);
    }
    tok_keys_free(k);
}

/* The domain costs 8 bytes of claims, 11 characters of link at most:
 * base64url of key id, nonce, tag, version, time, domain id and the four
 * length-prefixed fields, nothing more. */
/* An anonymous campaign token is the same text for the same claims (one
 * pixel URL for every recipient), another for other claims or another
 * key, and still opens; every other kind stays random. */
Test(tok, anon_is_deterministic_others_random)
{
    struct tok_keys *k = keys(K1), *k2 = keys(K2);
    struct tok a = {TOK_ANON, 0, 1700000000, "brand", NULL, "spring-2026", NULL, 1, DOM_A};
    struct tok b = a, o = sample[0], got;
    char *t1 = seal(k, &a), *t2 = seal(k, &a), *t3, *t4, *o1, *o2;

    b.url = "summer-2026";
    t3 = seal(k, &b);
    t4 = seal(k2, &a);
    cr_assert_str_eq(t1, t2, "same campaign, two tokens");
    cr_assert_str_neq(t1, t3, "two campaigns, one token");
    cr_assert_str_neq(t1, t4, "two keys, one token");
    cr_assert_eq(tok_open(k, TOK_ANON, t1, strlen(t1), &got), TOK_OK);
    cr_assert_str_eq(got.url, "spring-2026");
    tok_clear(&got);
    o1 = seal(k, &o);
    o2 = seal(k, &o);
    cr_assert_str_neq(o1, o2, "a recipient's token must not repeat");
    free(t1), free(t2), free(t3), free(t4), free(o1), free(o2);
    tok_keys_free(k);
    tok_keys_free(k2);
}

/* The randomness seam: one seed gives the same tokens again (and they
 * still open), another seed other tokens, and NULL goes back to random.
 * More than one pool refill (42 nonces) is used, so the refill counter is
 * covered too. */
Test(tok, test_seed_makes_nonces_reproducible)
{
    struct tok_keys *k = keys(K1);
    struct tok o = sample[0], got;
    unsigned char s1[32] = {1}, s2[32] = {2};
    char *a[50], *b[50], *c, *r1, *r2;

    tok_test_seed(s1);
    for (int i = 0; i < 50; i++)
        a[i] = seal(k, &o);
    tok_test_seed(s1);
    for (int i = 0; i < 50; i++)
        b[i] = seal(k, &o);
    for (int i = 0; i < 50; i++) {
        cr_assert_str_eq(a[i], b[i], "token %d differs under the same seed", i);
        if (i > 0)
            cr_assert_str_neq(a[i], a[i - 1], "tokens %d and %d share a nonce", i - 1, i);
    }
    cr_assert_str_neq(a[0], a[42], "the second pool repeats the first");
    cr_assert_eq(tok_open(k, o.kind, a[49], strlen(a[49]), &got), TOK_OK);
    tok_clear(&got);
    tok_test_seed(s2);
    c = seal(k, &o);
    cr_assert_str_neq(c, a[0], "another seed, the same token");
    tok_test_seed(NULL);
    r1 = seal(k, &o);
    tok_test_seed(NULL);
    r2 = seal(k, &o);
    cr_assert_str_neq(r1, r2, "unseeded tokens repeat");
    cr_assert_str_neq(r1, a[0], "unseeded token equals a seeded one");
    for (int i = 0; i < 50; i++)
        free(a[i]), free(b[i]);
    free(c), free(r1), free(r2);
    tok_keys_free(k);
}

Test(tok, domain_adds_only_its_eight_bytes)
{
    struct tok_keys *k = keys(K1);
    const struct tok *t = &sample[0];
    size_t bin = 4 + 24 + 16 + 1 + 8 + TOK_DOMAIN_ID + 2 + strlen(t->controller) + 2 +
                 strlen(t->recipient) + 2 + strlen(t->url) + 2;
    char *text = seal(k, t);
    cr_assert_eq(strlen(text), (bin * 8 + 5) / 6, "token of %zu chars", strlen(text));
    free(text);
    tok_keys_free(k);
}

Test(tok, seal_refuses_a_token_without_domain)
{
    struct tok_keys *k = keys(K1);
    struct buf b = BUF_INIT(0);
    for (size_t i = 0; i < NSAMPLE; i++) {
        struct tok t = sample[i];
        t.has_domain = 0;
        cr_assert_eq(tok_seal(k, &t, &b), TOK_EINVAL, "kind %c sealed without domain",
                     t.kind);
    }
    cr_assert_eq(b.len, 0);
    buf_free(&b);
    tok_keys_free(k);
}

/* Pinned: the milter and the gate of any release must agree on the id of
 * a section, since it travels in every link sent. */
Test(tok, domain_id_is_stable_and_case_blind)
{
    /* BLAKE2b with a 16-byte output, first 8 bytes (Python:
     * hashlib.blake2b(b"brand.example", digest_size=16).digest()[:8]) */
    static const unsigned char brand[TOK_DOMAIN_ID] = {0xeb, 0x4b, 0x3b, 0x28,
                                                       0xdf, 0x0b, 0xdf, 0x32};
    unsigned char a[TOK_DOMAIN_ID], b[TOK_DOMAIN_ID], c[TOK_DOMAIN_ID], star[TOK_DOMAIN_ID];
    char longname[300];
    tok_domain_id("brand.example", a);
    cr_assert_arr_eq(a, brand, sizeof a, "the id of a section changed");
    tok_domain_id("Brand.EXAMPLE", b);
    tok_domain_id("news.example", c);
    tok_domain_id("*", star);
    cr_assert_arr_eq(a, b, sizeof a, "case changes the id");
    cr_assert_arr_neq(a, c, sizeof a);
    cr_assert_arr_neq(a, star, sizeof a);
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    tok_domain_id(longname, b); /* longer than the lower-casing chunk */
    longname[0] = 'X';
    tok_domain_id(longname, c);
    cr_assert_arr_eq(b, c, sizeof b);
    longname[200] = 'y';
    tok_domain_id(longname, c);
    cr_assert_arr_neq(b, c, sizeof b);
}

/* Tokens in mail sent before tokens named their domain (claims format 1):
 * made by the previous release with K1 ("--make-link o brand
 * alice@example.org https://t.example/o.gif?u=1"). They still open, say
 * they name no domain, and keep their claims. */
#define LEGACY_O                                                                     \
    "AAAAAeFoyhzhltjkOrSYSM5W_EtnH7c_QVLkfLtYKVV41WAeC-no7-mpxqd-Mty-S34dHX3xbQTH-"   \
    "VqxzQH62cjEPAqZnt8kKVsbC-E3A7f6j1fVKpUYlqzU2EIjw43AhacCZovQvTjHEzhNj1I"
Test(tok, format1_token_from_old_mail_still_opens)
{
    static const unsigned char zero[TOK_DOMAIN_ID] = {0};
    struct tok_keys *k = keys(K1);
    struct tok got;
    cr_assert_eq(tok_open(k, TOK_OPEN, LEGACY_O, strlen(LEGACY_O), &got), TOK_OK);
    cr_assert_eq(got.has_domain, 0);
    cr_assert_arr_eq(got.domain, zero, sizeof zero);
    cr_assert_str_eq(got.controller, "brand");
    cr_assert_str_eq(got.recipient, "alice@example.org");
    cr_assert_str_eq(got.url, "https://t.example/o.gif?u=1");
    cr_assert_null(got.dest);
    cr_assert_gt(got.issued, 1700000000);
    tok_clear(&got);
    /* still bound to its endpoint and its key */
    cr_assert_eq(tok_open(k, TOK_CLICK, LEGACY_O, strlen(LEGACY_O), &got), TOK_EKIND);
    struct tok_keys *k2 = keys(K2);
    cr_assert_eq(tok_open(k2, TOK_OPEN, LEGACY_O, strlen(LEGACY_O), &got), TOK_EKEY);
    tok_keys_free(k2);
    tok_keys_free(k);
}

Test(tok, two_seals_differ_nonce)
{
    struct tok_keys *k = keys(K1);
    char *a = seal(k, &sample[0]), *b = seal(k, &sample[0]);
    cr_assert_str_neq(a, b, "nonce reused");
    free(a);
    free(b);
    tok_keys_free(k);
}

/* Nonces come from a per-thread pool: across several refills of it, no
 * two tokens (same key, same claims, so only the nonce differs) agree. */
Test(tok, nonces_unique_across_pool_refills)
{
    enum { N = 300 };
    struct tok_keys *k = keys(K1);
    char *t[N];
    for (int i = 0; i < N; i++)
        t[i] = seal(k, &sample[0]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            cr_assert_str_neq(t[i], t[j], "tokens %d and %d share a nonce", i, j);
    for (int i = 0; i < N; i++)
        free(t[i]);
    tok_keys_free(k);
}

/* A forked child must not take the nonces the parent's pool still holds:
 * with the pool copied into the child, the child's next token would be
 * the parent's next token, byte for byte. */
Test(tok, fork_does_not_share_nonces)
{
    struct tok_keys *k = keys(K1);
    char *first = seal(k, &sample[0]), child[4096] = "";
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        struct buf b = BUF_INIT(0);
        int ok = tok_seal(k, &sample[0], &b) == TOK_OK &&
                 write(fd[1], b.data, b.len) == (ssize_t)b.len;
        _exit(ok ? 0 : 1);
    }
    close(fd[1]);
    char *parent = seal(k, &sample[0]);
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd[0], child + got, sizeof child - 1 - got)) > 0)
        got += (size_t)n;
    close(fd[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child could not seal");
    child[got] = '\0';
    cr_assert_gt(got, 0);
    cr_assert_str_neq(child, parent, "child and parent sealed with the same nonce");
    cr_assert_str_neq(child, first);
    free(first);
    free(parent);
    tok_keys_free(k);
}

Test(tok, issued_zero_means_now)
{
    struct tok_keys *k = keys(K1);
    struct tok t = sample[4], got;
    t.issued = 0;
    char *text = seal(k, &t);
    int64_t now = (int64_t)time(NULL);
    cr_assert_eq(tok_open(k, TOK_WITHDRAW, text, strlen(text), &got), TOK_OK);
    cr_assert(got.issued >= now - 5 && got.issued <= now + 5);
    tok_clear(&got);
    free(text);
    tok_keys_free(k);
}

Test(tok, wrong_kind_is_rejected_for_every_pair)
{
    static const int kinds[] = {TOK_OPEN,     TOK_CLICK, TOK_DELIV,
                                TOK_WITHDRAW, TOK_PREFS, TOK_ANON};
    struct tok_keys *k = keys(K1);
    for (size_t i = 0; i < NSAMPLE; i++) {
        char *text = seal(k, &sample[i]);
        for (size_t j = 0; j < 6; j++) {
            struct tok got;
            if (kinds[j] == sample[i].kind)
                continue;
            int rc = tok_open(k, kinds[j], text, strlen(text), &got);
            cr_assert_eq(rc, TOK_EKIND, "kind %c opened as %c: rc %d", sample[i].kind,
                         kinds[j], rc);
            cr_assert_null(got.controller);
        }
        free(text);
    }
    tok_keys_free(k);
}

Test(tok, flipped_byte_anywhere_is_rejected)
{
    struct tok_keys *k = keys(K1);
    char *text = seal(k, &sample[1]);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        static const char alt[] = "AQgw-_";
        for (size_t a = 0; a < sizeof alt - 1; a++) {
            char *bad = strdup(text);
            struct tok got;
            if (bad[i] == alt[a]) {
                free(bad);
                continue;
            }
            bad[i] = alt[a];
            int rc = tok_open(k, TOK_CLICK, bad, n, &got);
            /* The last character carries only some bits: a change there may
             * decode to the same bytes, which must then give the same claims. */
            if (rc == TOK_OK) {
                cr_assert_eq(i, n - 1, "tampered token accepted at %zu", i);
                assert_same(&got, &sample[1]);
                tok_clear(&got);
            } else {
                cr_assert(rc == TOK_EFORGED || rc == TOK_EINVAL || rc == TOK_EKEY,
                          "pos %zu rc %d", i, rc);
            }
            free(bad);
        }
    }
    free(text);
    tok_keys_free(k);
}

Test(tok, truncation_at_every_length_is_rejected)
{
    struct tok_keys *k = keys(K1);
    char *text = seal(k, &sample[1]);
    size_t n = strlen(text);
    for (size_t len = 0; len < n; len++) {
        struct tok got;
        int rc = tok_open(k, TOK_CLICK, text, len, &got);
        cr_assert_neq(rc, TOK_OK, "truncated token of %zu/%zu accepted", len, n);
        cr_assert_null(got.controller);
    }
    /* Extended by one character: also refused. */
    char *longer = malloc(n + 2);
    memcpy(longer, text, n);
    longer[n] = 'A';
    longer[n + 1] = '\0';
    struct tok got;
    cr_assert_neq(tok_open(k, TOK_CLICK, longer, n + 1, &got), TOK_OK);
    free(longer);
    free(text);
    tok_keys_free(k);
}

Test(tok, garbage_and_oversize_refused_before_decoding)
{
    struct tok_keys *k = keys(K1);
    struct tok got;
    char *big = malloc(TOK_TEXT_MAX + 2);
    memset(big, 'A', TOK_TEXT_MAX + 1);
    big[TOK_TEXT_MAX + 1] = '\0';
    cr_assert_eq(tok_open(k, TOK_OPEN, big, TOK_TEXT_MAX + 1, &got), TOK_EINVAL);
    free(big);
    static const char *bad[] = {"",
                                "a",
                                "%2e%2e/%2e%2e",
                                "AAAA====",
                                "../../../../etc/passwd/../../../../../../../../../../../"
                                "../../../../../../../../../../../../../",
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                "AAAAAAAAAAAAAAAAAAAAAAAAA"
                                "AAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = tok_open(k, TOK_OPEN, bad[i], strlen(bad[i]), &got);
        cr_assert(rc == TOK_EINVAL || rc == TOK_EKEY, "garbage %zu rc %d", i, rc);
    }
    tok_keys_free(k);
}

Test(tok, unknown_key_id_is_rejected)
{
    struct tok_keys *k7 = keys(K7), *k1 = keys(K1);
    char *text = seal(k7, &sample[0]);
    struct tok got;
    cr_assert_eq(tok_open(k1, TOK_OPEN, text, strlen(text), &got), TOK_EKEY);
    free(text);
    tok_keys_free(k7);
    tok_keys_free(k1);
}

Test(tok, same_id_other_secret_is_forged)
{
    struct tok_keys *a = keys(K1);
    struct tok_keys *b =
        keys("1 1111111111111111111111111111111111111111111111111111111111111111\n");
    char *text = seal(a, &sample[0]);
    struct tok got;
    cr_assert_eq(tok_open(b, TOK_OPEN, text, strlen(text), &got), TOK_EFORGED);
    free(text);
    tok_keys_free(a);
    tok_keys_free(b);
}

Test(tok, rotation_old_key_opens_newest_seals)
{
    struct tok_keys *old = keys(K1);
    struct tok_keys *both = keys(K2 "# rotated\n" K1);
    struct tok_keys *retired = keys(K2);
    struct tok got;
    char *t_old = seal(old, &sample[4]);
    char *t_new = seal(both, &sample[4]);

    cr_assert_eq(tok_keys_newest(both), 2);
    cr_assert_eq(tok_keys_count(both), 2);
    cr_assert_eq(tok_open(both, TOK_WITHDRAW, t_old, strlen(t_old), &got), TOK_OK);
    cr_assert_eq(got.key_id, 1);
    tok_clear(&got);
    cr_assert_eq(tok_open(both, TOK_WITHDRAW, t_new, strlen(t_new), &got), TOK_OK);
    cr_assert_eq(got.key_id, 2, "newest key must seal");
    tok_clear(&got);
    /* Key 1 retired from the file: its tokens are dead. */
    cr_assert_eq(tok_open(retired, TOK_WITHDRAW, t_old, strlen(t_old), &got), TOK_EKEY);
    cr_assert_eq(tok_open(old, TOK_WITHDRAW, t_new, strlen(t_new), &got), TOK_EKEY);
    free(t_old);
    free(t_new);
    tok_keys_free(old);
    tok_keys_free(both);
    tok_keys_free(retired);
}

Test(tok, seal_refuses_missing_or_oversized_fields)
{
    struct tok_keys *k = keys(K1);
    struct buf b = BUF_INIT(0);
    struct tok t = sample[0];
    t.url = NULL;
    cr_assert_eq(tok_seal(k, &t, &b), TOK_EINVAL, "open token without url");
    t = sample[4];
    t.recipient = NULL;
    cr_assert_eq(tok_seal(k, &t, &b), TOK_EINVAL, "withdraw token without recipient");
    t = sample[4];
    t.kind = 'z';
    cr_assert_eq(tok_seal(k, &t, &b), TOK_EINVAL);
    char *huge = malloc(TOK_FIELD_MAX + 2);
    memset(huge, 'x', TOK_FIELD_MAX + 1);
    huge[TOK_FIELD_MAX + 1] = '\0';
    t = sample[0];
    t.url = huge;
    cr_assert_eq(tok_seal(k, &t, &b), TOK_EINVAL);
    huge[TOK_FIELD_MAX] = '\0'; /* at the limit: fine */
    cr_assert_eq(tok_seal(k, &t, &b), TOK_OK);
    struct tok got;
    cr_assert_eq(tok_open(k, TOK_OPEN, b.data, b.len, &got), TOK_OK);
    cr_assert_eq(strlen(got.url), TOK_FIELD_MAX);
    tok_clear(&got);
    cr_assert_eq(tok_seal(NULL, &sample[0], &b), TOK_EINVAL);
    /* The largest URL pair the rewriter may hand over still makes a token. */
    buf_reset(&b);
    t = sample[1];
    t.url = huge;
    t.dest = huge;
    cr_assert_eq(tok_seal(k, &t, &b), TOK_OK);
    cr_assert_leq(b.len, TOK_TEXT_MAX);
    cr_assert_eq(tok_open(k, TOK_CLICK, b.data, b.len, &got), TOK_OK);
    cr_assert_eq(strlen(got.dest), TOK_FIELD_MAX);
    tok_clear(&got);
    free(huge);
    buf_free(&b);
    tok_keys_free(k);
}

Test(tok, keys_file_errors_name_the_line)
{
    static const struct {
        const char *text, *want;
    } tab[] = {
        {"", "no key"},
        {"# only a comment\n\n", "no key"},
        {K1 "x 00\n", "line 2"},
        {K1 K1, "line 2: duplicate"},
        {"1 0011\n", "line 1: key must be exactly 64 hex"},
        {"0 0001020304050607080910111213141516171819202122232425262728293031\n",
         "line 1"},
        {"3 zz01020304050607080910111213141516171819202122232425262728293031\n",
         "line 1"},
        {"4 0001020304050607080910111213141516171819202122232425262728293031 extra\n",
         "line 1"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        struct tok_keys *k = NULL;
        char err[200] = "";
        int rc = tok_keys_parse(tab[i].text, strlen(tab[i].text), &k, err, sizeof err);
        cr_assert_eq(rc, TOK_EKEYS, "case %zu accepted", i);
        cr_assert_null(k);
        cr_assert_not_null(strstr(err, tab[i].want), "case %zu: got '%s' want '%s'", i,
                           err, tab[i].want);
    }
}

Test(tok, keys_load_checks_mode_and_generate_appends)
{
    char path[] = "/tmp/test_tok_keysXXXXXX";
    int fd = mkstemp(path);
    struct tok_keys *k = NULL, *k2 = NULL;
    struct buf line = BUF_INIT(0);
    char err[300] = "";

    cr_assert_geq(fd, 0);
    cr_assert_eq(tok_keys_generate(NULL, &line), TOK_OK);
    cr_assert_eq(strncmp(line.data, "1 ", 2), 0, "first generated id: %s", line.data);
    cr_assert_eq(write(fd, line.data, line.len), (ssize_t)line.len);
    close(fd);
    chmod(path, 0644);
    cr_assert_eq(tok_keys_load(path, &k, err, sizeof err), TOK_EKEYS);
    cr_assert_not_null(strstr(err, "chmod 600"), "%s", err);
    chmod(path, 0600);
    cr_assert_eq(tok_keys_load(path, &k, err, sizeof err), TOK_OK, "%s", err);
    buf_reset(&line);
    cr_assert_eq(tok_keys_generate(k, &line), TOK_OK);
    cr_assert_eq(strncmp(line.data, "2 ", 2), 0, "next id: %s", line.data);
    FILE *f = fopen(path, "a");
    fputs(line.data, f);
    fclose(f);
    cr_assert_eq(tok_keys_load(path, &k2, err, sizeof err), TOK_OK, "%s", err);
    cr_assert_eq(tok_keys_newest(k2), 2);
    tok_keys_free(k2);
    cr_assert_eq(tok_keys_load("/nonexistent/keys", &k2, err, sizeof err), TOK_EKEYS);
    cr_assert_null(k2, "a failed load leaves no keys");
    unlink(path);
    buf_free(&line);
    tok_keys_free(k);
    tok_keys_free(k2);
}

Test(tok, mac_round_trip_rotation_and_tamper)
{
    struct tok_keys *old = keys(K1), *both = keys(K1 K2), *other = keys(K7);
    char mac[TOK_MAC_HEX], mac2[TOK_MAC_HEX];
    cr_assert_eq(tok_mac(old, "hello", 5, mac), TOK_OK);
    cr_assert_eq(strlen(mac), TOK_MAC_HEX - 1);
    cr_assert_eq(tok_mac_verify(old, "hello", 5, mac), TOK_OK);
    cr_assert_eq(tok_mac_verify(both, "hello", 5, mac), TOK_OK, "old key must verify");
    cr_assert_eq(tok_mac(both, "hello", 5, mac2), TOK_OK);
    cr_assert_str_neq(mac, mac2, "newest key must sign");
    cr_assert_eq(tok_mac_verify(old, "hello", 5, mac2), TOK_EFORGED);
    cr_assert_eq(tok_mac_verify(other, "hello", 5, mac), TOK_EFORGED);
    cr_assert_eq(tok_mac_verify(old, "hellO", 5, mac), TOK_EFORGED);
    mac[3] = mac[3] == '0' ? '1' : '0';
    cr_assert_eq(tok_mac_verify(old, "hello", 5, mac), TOK_EFORGED);
    cr_assert_eq(tok_mac_verify(old, "hello", 5, "abc"), TOK_EINVAL);
    tok_keys_free(old);
    tok_keys_free(both);
    tok_keys_free(other);
}

Test(tok, random_text_never_opens)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct tok_keys *k = keys(K1);
    char text[600];
    unsigned seed = 12345;
    for (int i = 0; i < 20000; i++) {
        struct tok got;
        size_t len = (size_t)(rand_r(&seed) % (sizeof text - 1));
        for (size_t j = 0; j < len; j++)
            text[j] =
                i % 7 == 0 ? (char)(rand_r(&seed) % 256) : alpha[rand_r(&seed) % 64];
        /* a valid key id prefix half of the time, so decryption is reached */
        if (i % 2 && len >= 6)
            memcpy(text, "AAAAAQ", 6);
        text[len] = '\0';
        int rc = tok_open(k, TOK_OPEN, text, len, &got);
        cr_assert_neq(rc, TOK_OK, "random text %d opened", i);
        cr_assert_null(got.controller);
    }
    tok_keys_free(k);
}

/* common/b64: the one digit table, both alphabets; base64url alone for tokens. */
Test(b64, digit_table_both_alphabets)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int digits = 0;

    for (int i = 0; i < 64; i++) {
        cr_assert_eq(cm_b64_value((unsigned char)std[i]), i, "std %c", std[i]);
        cr_assert_eq(cm_b64_value((unsigned char)url[i]), i, "url %c", url[i]);
        cr_assert_eq(cm_b64url_value((unsigned char)url[i]), i, "url-only %c", url[i]);
    }
    cr_assert_eq(cm_b64url_value('+'), -1);
    cr_assert_eq(cm_b64url_value('/'), -1);
    for (int c = 0; c < 256; c++)
        digits += cm_b64_value((unsigned char)c) >= 0;
    cr_assert_eq(digits, 66, "64 digits plus the two URL-safe ones, nothing else ('=' included)");
}
