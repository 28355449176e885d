/* sync_watch - when each new event becomes visible on a replica (driven
 * by bench/sync.sh).
 *
 *   sync_watch DIR UNTIL_SEQ OUT
 *
 * Polls store_replica_status on the replica in DIR (every 100 us, as a
 * milter worker would see it) until its head reaches UNTIL_SEQ, and writes
 * "SEQ NANOSECONDS" (CLOCK_REALTIME) to OUT for every sequence number the
 * moment it is first seen (several at once share a time). Exits 0, 1 on
 * a store error, 2 on usage, 3 if nothing changed for 60 s. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/store.h"
#include "store/store_repl.h"

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct store *st = NULL;
    const struct timespec pause = {0, 100000};
    unsigned long long until, seen = 0;
    long long last_change;
    FILE *out;
    int rc;

    if (argc != 4) {
        fprintf(stderr, "usage: sync_watch DIR UNTIL_SEQ OUT\n");
        return 2;
    }
    until = strtoull(argv[2], NULL, 10);
    if ((rc = store_open(argv[1], STORE_CREATE, 0, &st)) != STORE_OK) {
        fprintf(stderr, "sync_watch: %s: %s\n", argv[1], store_strerror(rc));
        return 1;
    }
    if ((out = fopen(argv[3], "w")) == NULL) {
        perror(argv[3]);
        store_close(st);
        return 1;
    }
    last_change = now_ns();
    if ((rc = store_replica_status(st, &(int){0}, &(uint64_t){0}, &(int64_t){0})) == STORE_OK) {
        uint64_t head0;
        store_replica_status(st, &(int){0}, &head0, &(int64_t){0});
        seen = head0; /* what was there before the run */
    }
    while (rc == STORE_OK && seen < until) {
        uint64_t head;
        int64_t synced;
        int is_replica;
        long long t = now_ns();
        if ((rc = store_replica_status(st, &is_replica, &head, &synced)) != STORE_OK) {
            fprintf(stderr, "sync_watch: %s\n", store_strerror(rc));
            break;
        }
        if (head > seen) {
            for (; seen < head; seen++)
                fprintf(out, "%llu %lld\n", seen + 1, t);
            last_change = t;
        } else if (t - last_change > 60000000000LL) {
            fprintf(stderr, "sync_watch: nothing new for 60 s at seq %llu\n", seen);
            rc = -1;
            break;
        }
        nanosleep(&pause, NULL);
    }
    fclose(out);
    store_close(st);
    return rc == STORE_OK ? 0 : rc == -1 ? 3 : 1;
}
