/* metrics - consent-sync's Prometheus textfile (node_exporter's textfile
 * collector reads *.prom files from one directory).
 *
 * Written whole to PATH.tmp, then renamed over PATH: a scraper sees the
 * old file or the new one, never half of one. No recipient data: counts,
 * sequence numbers and times only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync/sync.h"

static void metric(FILE *f, const char *name, const char *type, const char *help,
                   unsigned long long v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

int sync_metrics_write(const char *path, const struct sync_stats *s, int64_t now)
{
    char tmp[4096];
    FILE *f;
    uint64_t lag = s->primary_head > s->head ? s->primary_head - s->head : 0;
    int64_t lag_s = lag == 0 && !s->broken ? 0
                    : s->caught_up_at      ? now - s->caught_up_at
                                           : now - s->started;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    metric(f, "consent_sync_up", "gauge", "1 if connected to the PostgreSQL primary",
           (unsigned)s->up);
    metric(f, "consent_sync_chain_broken", "gauge",
           "1 if a chain break stopped replication (see the log)", (unsigned)s->broken);
    metric(f, "consent_sync_scrub_pending", "gauge",
           "1 while erased data awaits its scrub from data.mdb (a reader holds an old snapshot)",
           (unsigned)s->scrub_due);
    metric(f, "consent_sync_chain_bad_seq", "gauge",
           "sequence number of the event that broke the chain, 0 if none", s->bad_seq);
    metric(f, "consent_sync_replica_head_seq", "gauge", "last event held by the replica",
           s->head);
    metric(f, "consent_sync_primary_head_seq", "gauge", "last event of the primary, as last read",
           s->primary_head);
    metric(f, "consent_sync_lag_events", "gauge", "events the replica is behind the primary",
           lag);
    metric(f, "consent_sync_lag_seconds", "gauge",
           "seconds since the replica last held the primary's head, 0 if it does",
           (unsigned long long)(lag_s > 0 ? lag_s : 0));
    metric(f, "consent_sync_synced_timestamp_seconds", "gauge",
           "UTC time of the last successful poll of the primary, 0 if never",
           (unsigned long long)(s->synced_at > 0 ? s->synced_at : 0));
    metric(f, "consent_sync_applied_events_total", "counter",
           "events applied to the replica since start", s->applied_total);
    metric(f, "consent_sync_skipped_events_total", "counter",
           "events fetched that the replica held already", s->skipped_total);
    metric(f, "consent_sync_reconnects_total", "counter",
           "connections to the primary made again after a loss", s->reconnects_total);
    metric(f, "consent_sync_errors_total", "counter",
           "failed connections, queries and replica writes", s->errors_total);
    if (ferror(f) | (fclose(f) != 0)) {
        remove(tmp);
        return -1;
    }
    return rename(tmp, path);
}
