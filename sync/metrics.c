/* metrics - consent-sync's Prometheus textfile (node_exporter's textfile
 * collector reads *.prom files from one directory).
 *
 * Written whole by prom_textfile_write (a temporary file renamed over
 * PATH, mode 0644): a scraper sees the old file or the new one, never half
 * of one. No recipient data: counts, sequence numbers and times only. */
#include <errno.h>
#include <string.h>

#include "common/prom.h"
#include "sync/sync.h"

/* one gauge or counter without labels: prom's own writers */
static int gauge(struct buf *b, const char *name, const char *help, unsigned long long v)
{
    return prom_write_gauge(b, name, help, (double)v);
}

static int counter(struct buf *b, const char *name, const char *help, unsigned long long v)
{
    struct prom_counter c = {.name = name, .help = help, .v = &v};
    return prom_write_counter(b, &c);
}

int sync_metrics_write(const char *path, const struct sync_stats *s, int64_t now)
{
    struct buf b;
    uint64_t lag = s->primary_head > s->head ? s->primary_head - s->head : 0;
    int64_t lag_s = lag == 0 && !s->broken ? 0
                    : s->caught_up_at      ? now - s->caught_up_at
                                           : now - s->started;
    int rc = 0;

    buf_init(&b, 64 * 1024);
    rc |= gauge(&b, "consent_sync_up", "1 if connected to the PostgreSQL primary",
                (unsigned)s->up);
    rc |= gauge(&b, "consent_sync_chain_broken",
                "1 if a chain break stopped replication (see the log)", (unsigned)s->broken);
    rc |= gauge(&b, "consent_sync_scrub_pending",
                "1 while erased data awaits its scrub from data.mdb (a reader holds an old "
                "snapshot)",
                (unsigned)s->scrub_due);
    rc |= gauge(&b, "consent_sync_chain_bad_seq",
                "sequence number of the event that broke the chain, 0 if none", s->bad_seq);
    rc |= gauge(&b, "consent_sync_replica_head_seq", "last event held by the replica", s->head);
    rc |= gauge(&b, "consent_sync_primary_head_seq", "last event of the primary, as last read",
                s->primary_head);
    rc |= gauge(&b, "consent_sync_lag_events", "events the replica is behind the primary", lag);
    rc |= gauge(&b, "consent_sync_lag_seconds",
                "seconds since the replica last held the primary's head, 0 if it does",
                (unsigned long long)(lag_s > 0 ? lag_s : 0));
    rc |= gauge(&b, "consent_sync_synced_timestamp_seconds",
                "UTC time of the last successful poll of the primary, 0 if never",
                (unsigned long long)(s->synced_at > 0 ? s->synced_at : 0));
    rc |= counter(&b, "consent_sync_applied_events_total",
                  "events applied to the replica since start", s->applied_total);
    rc |= counter(&b, "consent_sync_skipped_events_total",
                  "events fetched that the replica held already", s->skipped_total);
    rc |= counter(&b, "consent_sync_reconnects_total",
                  "connections to the primary made again after a loss", s->reconnects_total);
    rc |= counter(&b, "consent_sync_errors_total",
                  "failed connections, queries and replica writes", s->errors_total);
    if (rc == 0)
        rc = prom_textfile_write(path, buf_cstr(&b), b.len);
    else
        rc = ENOMEM;
    buf_free(&b);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}
