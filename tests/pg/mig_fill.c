/* mig_fill - the parts of an LMDB store consentctl cannot write, for the
 * migrate tests (tests/pg/migrate.sh): last-open days and anonymous
 * counters, as the gate writes them.
 *   mig_fill DIR CONTROLLER N   last-open day 20000+i for u<i>@example.org
 *                               (i < N), and counter "camp<i%3>" day 20000
 *                               incremented i%5+1 times
 *   mig_fill --dump DIR         every ledger value as stored: "SEQ HEX" lines
 *                               (as psql prints seq and encode(raw, 'hex'))
 *   mig_fill --key DIR          the dedup key, hex
 * Exit 0, or 1 with a message. */
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "store/store_dump.h"
#include "store/store_repl.h"

static int dump_one(uint64_t seq, const void *raw, size_t len, void *arg)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = raw;

    (void)arg;
    printf("%llu ", (unsigned long long)seq);
    for (size_t i = 0; i < len; i++) {
        putchar(hex[p[i] >> 4]);
        putchar(hex[p[i] & 15]);
    }
    putchar('\n');
    return 0;
}

/* --dump and --key: read-only. */
static int show(const char *mode, const char *dir)
{
    struct store *st = NULL;
    uint8_t key[32];
    char hex[65];
    int rc = store_open(dir, STORE_RDONLY, 0, &st);

    if (rc == STORE_OK && strcmp(mode, "--dump") == 0)
        rc = store_ledger_walk_raw(st, 1, dump_one, NULL);
    else if (rc == STORE_OK && (rc = store_hashkey_get(st, key)) == STORE_OK)
        puts(sodium_bin2hex(hex, sizeof hex, key, sizeof key));
    store_close(st);
    if (rc != STORE_OK) {
        fprintf(stderr, "mig_fill: %s: %s\n", dir, store_strerror(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct store *st;
    char rcpt[64], camp[16];
    int rc;

    if (argc == 3 && (strcmp(argv[1], "--dump") == 0 || strcmp(argv[1], "--key") == 0))
        return show(argv[1], argv[2]);
    if (argc != 4) {
        fputs("usage: mig_fill DIR CONTROLLER N\n", stderr);
        return 1;
    }
    if ((rc = store_open(argv[1], 0, 0, &st)) != STORE_OK) {
        fprintf(stderr, "mig_fill: %s: %s\n", argv[1], store_strerror(rc));
        return 1;
    }
    int n = atoi(argv[3]);
    for (int i = 0; i < n && rc == STORE_OK; i++) {
        snprintf(rcpt, sizeof rcpt, "u%d@example.org", i);
        rc = store_lastopen_set(st, argv[2], rcpt, 20000 + i);
        snprintf(camp, sizeof camp, "camp%d", i % 3);
        for (int k = 0; k <= i % 5 && rc == STORE_OK; k++)
            rc = store_anon_incr(st, argv[2], camp, 20000 + i % 2);
    }
    store_close(st);
    if (rc != STORE_OK) {
        fprintf(stderr, "mig_fill: %s\n", store_strerror(rc));
        return 1;
    }
    return 0;
}
