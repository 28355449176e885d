/* sync - internal interfaces of consent-sync, the daemon that feeds a host's
 * LMDB replica from the PostgreSQL primary (issue 11).
 *
 * Data flow: main.c parses options and the [store] section, opens the
 * replica and runs the loop of sync_loop.c: connect (with backoff), LISTEN,
 * pull the events after the replica's head in batches (pgstore_fetch),
 * apply each batch in one LMDB write transaction (store_replica_apply),
 * then wait for a notification, a signal or the poll interval. metrics.c
 * writes the textfile the loop's counters describe.
 *
 * Layers inside sync/: main.c; sync_loop.c; metrics.c.
 * Single-threaded: only the loop touches struct sync_state. */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct pgstore;

/* What the loop knows, for the log and the metrics. */
struct sync_stats {
    int up;                     /* connected to the primary */
    int broken;                 /* a chain break stopped replication */
    uint64_t bad_seq;           /* the event that broke it */
    int problem;                /* enum store_verify_problem of the break */
    uint64_t head;              /* replica head seq */
    uint64_t primary_head;      /* last known primary head seq */
    int64_t synced_at;          /* UTC seconds of the last successful poll, 0: never */
    int64_t caught_up_at;       /* last time head == primary_head */
    uint64_t applied_total;     /* events applied since start */
    uint64_t skipped_total;     /* events already held (idempotent) */
    uint64_t reconnects_total;  /* connections made after the first */
    uint64_t errors_total;      /* failed connects, fetches, applies */
    int scrub_due;              /* erased data awaits store_scrub */
    int64_t started;
};

struct sync_opts {
    const char *conf;
    const char *conninfo; /* borrowed from the configuration */
    const char *passfile; /* NULL: none */
    const char *replica;
    const char *metrics;  /* textfile path, NULL: none */
    const char *ready_file;
    unsigned poll_interval; /* seconds */
    unsigned batch;         /* events per fetch */
    int foreground, once, check;
};

/* sync_metrics_write - the Prometheus textfile (node_exporter textfile
 * collector format) at path, written to PATH.tmp then renamed, so a reader
 * never sees half a file. Returns 0 or -1 (errno). */
int sync_metrics_write(const char *path, const struct sync_stats *s, int64_t now);

/* sync_run - the loop. sigfd: a signalfd for SIGTERM/SIGINT/SIGHUP/SIGUSR1
 * (stop on the first two). With o->once it returns once the replica has
 * reached the primary's head. Returns the exit code: 0 stopped or caught
 * up, 1 error (o->once only: no primary, replica write failed), 3 chain
 * break (o->once only; the daemon keeps retrying slowly instead). The
 * caller closes replica on return. After an erase the store renews the
 * handle itself before its next write (store_scrub.c, st_wr_begin). */
int sync_run(const struct sync_opts *o, struct store *replica, int sigfd);

#endif
