/* store_bench - consent store benchmark helper (driven by bench/store.mk).
 *
 *   store_bench gen FIRST COUNT FILE    write COUNT CSV import rows for
 *                                       recipients userFIRST.. (controller
 *                                       "brand"), header included
 *   store_bench lookup DIR RECIPIENTS SAMPLES
 *                                       time store_consent_get on random
 *                                       recipients of a store holding
 *                                       user0..user(RECIPIENTS-1), against a
 *                                       bare mdb_get of the same keys
 *
 * Prints figures as "key: value" lines. Timing is per lookup with
 * CLOCK_MONOTONIC (vDSO, ~20 ns, included in every figure alike). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store/store_int.h"

static int gen(unsigned long first, unsigned long count, const char *file)
{
    FILE *f = fopen(file, "w");
    if (f == NULL) {
        perror(file);
        return 1;
    }
    fputs("controller,recipient,time,action,purposes,method,notice_id,notice_sha256\n",
          f);
    for (unsigned long i = first; i < first + count; i++)
        fprintf(f,
                "brand,User%lu@Example.org,%lu,grant,opens;clicks,signup-form,n-2026-07,"
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
                i, 1784073600UL + i % 86400);
    return fclose(f) == 0 ? 0 : 1;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(const char *name, double *t, size_t n, double *median)
{
    qsort(t, n, sizeof *t, cmp_d);
    *median = t[n / 2];
    printf("%s_median_ns: %.0f\n%s_p99_ns: %.0f\n", name, t[n / 2], name,
           t[n * 99 / 100]);
}

struct sample {
    char addr[48];
    uint8_t key[ST_KEYLEN];
};

/* n random recipients of user0..user(nrcpt-1) with their consent keys. */
static struct sample *samples(struct store *st, unsigned long nrcpt, size_t n)
{
    struct sample *s = calloc(n, sizeof *s);
    MDB_txn *txn;
    uint32_t id;

    if (s == NULL || st_rd_begin(st, &txn) != STORE_OK)
        return free(s), NULL;
    int rc = st_ctl_id(st, txn, "brand", 0, &id);
    st_rd_end(st, txn);
    if (rc != STORE_OK)
        return free(s), NULL;
    for (size_t i = 0; i < n; i++) {
        char norm[STORE_ADDR_MAX];
        snprintf(s[i].addr, sizeof s[i].addr, "User%lu@Example.org",
                 (unsigned long)randombytes_uniform((uint32_t)nrcpt));
        store_addr_normalise(s[i].addr, norm, sizeof norm);
        st_key(st, id, norm, s[i].key);
    }
    return s;
}

/* Time the API, then the two bare baselines, on the same keys. */
static int lookup_times(struct store *st, const struct sample *s, size_t n, double *t)
{
    struct store_consent c;
    double med_api, med_bare, med_txn;
    MDB_txn *txn;
    int found = 0;

    for (int pass = 0; pass < 2; pass++) /* pass 0 warms the page cache */
        for (size_t i = 0; i < n; i++) {
            double t0 = now_ns();
            int rc = store_consent_get(st, "brand", s[i].addr, &c);
            t[i] = now_ns() - t0;
            found += pass && rc == STORE_OK;
        }
    stats("store_consent_get", t, n, &med_api);
    /* bare: mdb_get of the precomputed key, one read transaction renewed
     * per lookup (what any safe one-shot lookup must do) */
    st_rd_begin(st, &txn);
    mdb_txn_reset(txn);
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {ST_KEYLEN, (void *)s[i].key}, v;
        double t0 = now_ns();
        mdb_txn_renew(txn);
        mdb_get(txn, st->consent, &k, &v);
        mdb_txn_reset(txn);
        t[i] = now_ns() - t0;
    }
    stats("bare_renew_mdb_get", t, n, &med_txn);
    /* bare: mdb_get alone inside one long read transaction */
    mdb_txn_renew(txn);
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {ST_KEYLEN, (void *)s[i].key}, v;
        double t0 = now_ns();
        mdb_get(txn, st->consent, &k, &v);
        t[i] = now_ns() - t0;
    }
    stats("bare_mdb_get", t, n, &med_bare);
    st_rd_end(st, txn);
    printf("lookups: %zu found: %d\n", n, found);
    printf("ratio_vs_bare_mdb_get: %.2f (goal <= 2, SPEC §7)\n"
           "ratio_vs_bare_renew_mdb_get: %.2f\n",
           med_api / med_bare, med_api / med_txn);
    return found == (int)n ? 0 : 1;
}

static int lookup(const char *dir, unsigned long nrcpt, size_t n)
{
    struct store *st;
    struct store_info in;
    double *t = calloc(n, sizeof *t);
    struct sample *s;
    int rc = 1;

    if (t == NULL || nrcpt == 0 || n == 0 || store_open(dir, STORE_RDONLY, 0, &st) != 0) {
        free(t);
        return 1;
    }
    if ((s = samples(st, nrcpt, n)) != NULL)
        rc = lookup_times(st, s, n, t);
    if (store_info_get(st, &in) == STORE_OK && in.consents > 0) {
        printf("recipients: %llu\nconsent_db_bytes_per_recipient: %.1f\n",
               (unsigned long long)in.consents, (double)in.consent_bytes / in.consents);
        printf("ledger_bytes_per_event: %.1f\nfile_bytes_per_recipient: %.1f\n",
               (double)in.ledger_bytes / (in.events ? in.events : 1),
               (double)in.file_bytes / in.consents);
    }
    store_close(st);
    free(s);
    free(t);
    return rc;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc == 5 && strcmp(argv[1], "gen") == 0)
        return gen(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), argv[4]);
    if (argc == 5 && strcmp(argv[1], "lookup") == 0)
        return lookup(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
    fputs("usage: store_bench gen FIRST COUNT FILE | lookup DIR RECIPIENTS SAMPLES\n",
          stderr);
    return 2;
}
