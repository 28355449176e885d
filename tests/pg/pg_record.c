/* pg_record - pgstore_record against a real primary (tests/pg/run.sh):
 * grant, withdraw, an idempotent repeat by id; then every fetched value
 * decodes with the store's codec, chains (prev = hash before, seq in
 * order) and the head equals the last hash. argv[1]: conninfo.
 * Prints "ok ..." lines; exit 0 when all hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore/pgstore.h"
#include "store/store_repl.h"

struct walk {
    uint64_t n, last;
    uint8_t prev[32];
    int bad;
};

static int one(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct walk *w = arg;
    struct store_ledger_event e;
    static char strs[STORE_WIRE_STRS];

    if (store_wire_decode(raw, len, &e, strs, sizeof strs) != STORE_OK || e.seq != seq ||
        seq != w->last + 1 || memcmp(e.prev, w->prev, 32) != 0)
        w->bad = 1;
    memcpy(w->prev, e.hash, 32);
    w->last = seq;
    w->n++;
    return 0;
}

int main(int argc, char **argv)
{
    struct pgstore *pg;
    struct store_wire wire;
    struct store_event ev = {.controller = "Brand", .recipient = "<Ann@Example.org>",
                             .action = STORE_A_GRANT, .purposes = 3, .method = "admin",
                             .notice_id = "n1", .actor = "test"};
    char err[600];
    int fails = 0;

    if (argc < 2 || pgstore_connect(argv[1], NULL, &pg, err, sizeof err) != STORE_OK) {
        printf("FAIL connect: %s\n", argc < 2 ? "usage" : err);
        return 1;
    }
#define CHECK(cond, name)                                                                  \
    do {                                                                                   \
        int ok_ = (cond);                                                                  \
        printf("%s %s\n", ok_ ? "ok" : "FAIL", name);                                      \
        fails += !ok_;                                                                     \
    } while (0)
    if (argc > 2) { /* run.sh changed one byte of row argv[2]: verify only */
        struct store_verify tv;
        CHECK(pgstore_verify(pg, &tv) == STORE_OK && tv.problem == STORE_V_MODIFIED &&
                  tv.bad_seq == (uint64_t)atoll(argv[2]),
              "verify after tamper: names that seq");
        pgstore_close(pg);
        return fails != 0;
    }
    CHECK(pgstore_record(pg, &ev, &wire) == STORE_OK && ev.seq == 1 && wire.len > 0 &&
              ev.applied,
          "grant recorded as seq 1");
    struct store_event wd = {.controller = "brand", .recipient = "ann@example.org",
                             .action = STORE_A_WITHDRAW, .method = "withdraw-link"};
    CHECK(pgstore_record(pg, &wd, &wire) == STORE_OK && wd.seq == 2 && wd.applied,
          "withdraw recorded as seq 2");
    struct store_event again = wd;
    again.seq = 0;
    CHECK(pgstore_record(pg, &again, &wire) == STORE_OK && again.seq == 2 && wire.len == 0,
          "same event id again: seq 2, no new row");
    struct store_event bad = {.controller = "brand", .recipient = "not-an-address",
                              .action = STORE_A_GRANT, .purposes = 1, .method = "admin"};
    CHECK(pgstore_record(pg, &bad, NULL) == STORE_EINVAL, "bad address: STORE_EINVAL");
    struct walk w = {0};
    uint64_t hs;
    uint8_t hh[32];
    CHECK(pgstore_fetch(pg, 0, 100, one, &w) == STORE_OK && w.n == 2 && !w.bad,
          "fetch: 2 events decode and chain");
    CHECK(pgstore_head(pg, &hs, hh) == STORE_OK && hs == 2 && memcmp(hh, w.prev, 32) == 0,
          "head = last event's hash");
    unsigned n = 0;
    CHECK(pgstore_erase(pg, "brand", "Ann@example.org", "test", &n) == STORE_OK && n == 2,
          "erase: 2 events tombstoned");
    CHECK(pgstore_erase(pg, "brand", "ann@example.org", "test", &n) == STORE_NOTFOUND,
          "erase again: STORE_NOTFOUND");
    struct walk w2 = {0};
    CHECK(pgstore_fetch(pg, 0, 100, one, &w2) == STORE_OK && w2.n == 3 && !w2.bad,
          "after erase: 3 events (2 tombstones + ERASE) decode and chain");
    CHECK(pgstore_head(pg, &hs, hh) == STORE_OK && hs == 3 && memcmp(hh, w2.prev, 32) == 0,
          "head = the ERASE event");
    struct store_verify v;
    CHECK(pgstore_verify(pg, &v) == STORE_OK && v.problem == STORE_V_OK && v.events == 3 &&
              v.tombstones == 3 && v.head_seq == 3,
          "verify: intact, 3 events, 3 tombstones (2 erased + the ERASE record)");
    pgstore_close(pg);
    return fails != 0;
}
