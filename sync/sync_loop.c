/* sync_loop - the replication loop of consent-sync.
 *
 *   connect -> LISTEN -> catch up -> wait (notification | poll | signal) -> catch up ...
 *
 * Catch-up pulls the events after the replica's head from the primary in
 * batches of o->batch (pgstore_fetch, raw ledger values in seq order) and
 * applies each batch in one LMDB write transaction (store_replica_apply,
 * which checks every event's place in the hash chain and writes the
 * "synced" time with it). The first batch after each connection starts at
 * the replica's own head event, so the primary must still hold that very
 * event: a primary restored from an older backup, or one whose chain was
 * rewritten, is seen at once instead of being followed.
 *
 * The primary unreachable, or a query failing: the connection is dropped
 * and made again after 1, 2, 4 ... 30 s. A chain break (an event that does
 * not fit the replica's chain) stops replication: the events before it are
 * kept, the break is logged at error level and in the metrics, and the
 * loop only retries every SYNC_BROKEN_RETRY seconds (the operator may have
 * repaired the primary); store_replica_apply never applies past it.
 *
 * The lag: events = primary head - replica head; seconds = time since the
 * replica last reached the primary's head (0 when it is there). Logged at
 * info level when it changes state and once a minute while behind. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "pgstore/pgstore.h"
#include "store/store_repl.h"
#include "sync/sync.h"

#define SYNC_BACKOFF_MAX 30   /* seconds */
#define SYNC_BROKEN_RETRY 60  /* seconds between tries past a chain break */
#define SYNC_BROKEN_RELOG 600 /* seconds between two error lines for one break */
#define SYNC_LAG_LOG 60       /* seconds between two "behind" lines */
#define SYNC_LOCAL_RETRY 5    /* seconds after a replica write error */

/* One fetched batch: raw values copied out of libpq's result. */
struct batch {
    uint8_t *data;
    size_t used, cap;
    size_t *off, *len;
    const void **ptr;
    size_t n, max;
    uint64_t first, last; /* seq range */
    int oom;
};

struct loop {
    const struct sync_opts *o;
    struct store *st; /* the replica (the caller's) */
    struct pgstore *pg;
    int sigfd;
    int stop;
    unsigned backoff; /* seconds before the next connect */
    int64_t next_connect, next_broken_try, last_broken_log, last_lag_log;
    int verified_head; /* this connection has re-read the replica's head event */
    int64_t last_scrub_log;
    uint64_t connects;
    struct batch b;
    struct sync_stats s;
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int batch_init(struct batch *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
    b->off = calloc(max, sizeof *b->off);
    b->len = calloc(max, sizeof *b->len);
    b->ptr = calloc(max, sizeof *b->ptr);
    b->cap = 256 * 1024;
    b->data = malloc(b->cap);
    return b->off && b->len && b->ptr && b->data ? 0 : -1;
}

static void batch_free(struct batch *b)
{
    free(b->data);
    free(b->off);
    free(b->len);
    free(b->ptr);
    memset(b, 0, sizeof *b);
}

static int batch_add(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct batch *b = arg;

    if (b->n == b->max)
        return 0; /* pgstore_fetch was asked for at most max */
    if (b->used + len > b->cap) {
        size_t cap = b->cap;
        uint8_t *p;
        while (cap < b->used + len)
            cap *= 2;
        if ((p = realloc(b->data, cap)) == NULL) {
            b->oom = 1;
            return STORE_ENOMEM;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->used, raw, len);
    b->off[b->n] = b->used;
    b->len[b->n] = len;
    b->used += len;
    if (b->n == 0)
        b->first = seq;
    b->last = seq;
    b->n++;
    return 0;
}

static void disconnect(struct loop *l, const char *why)
{
    if (l->pg == NULL)
        return;
    if (why)
        log_warn("primary connection lost: %s", why);
    pgstore_close(l->pg);
    l->pg = NULL;
    l->s.up = 0;
    l->s.errors_total++;
    l->next_connect = now_s() + l->backoff;
}

static int try_connect(struct loop *l)
{
    char err[512] = "";
    int rc;

    rc = pgstore_connect(l->o->conninfo, l->o->passfile, &l->pg, err, sizeof err);
    if (rc != STORE_OK) {
        l->pg = NULL;
        l->s.errors_total++;
        /* pgstore's err says "cannot connect ..." or what else is wrong */
        log_err("primary: %s; next try in %u s", err[0] ? err : store_strerror(rc),
                l->backoff);
        l->next_connect = now_s() + l->backoff;
        l->backoff = l->backoff * 2 > SYNC_BACKOFF_MAX ? SYNC_BACKOFF_MAX : l->backoff * 2;
        return -1;
    }
    if (pgstore_listen(l->pg) != STORE_OK) {
        log_err("LISTEN on the primary failed: %s", pgstore_error(l->pg));
        disconnect(l, NULL);
        return -1;
    }
    if (l->connects++ > 0)
        l->s.reconnects_total++;
    l->s.up = 1;
    l->backoff = 1;
    l->verified_head = 0;
    log_info("connected to the primary");
    return 0;
}

static void log_break(struct loop *l, const struct store_repl_result *res)
{
    int64_t now = now_s();
    int first = !l->s.broken || l->s.bad_seq != res->bad_seq;

    l->s.broken = 1;
    l->s.bad_seq = res->bad_seq;
    l->s.problem = res->problem;
    if (first || now - l->last_broken_log >= SYNC_BROKEN_RELOG) {
        log_err("replication stopped: chain break at seq=%llu (%s); the replica keeps "
                "its last good state, head=%llu; repair the primary, then restart or "
                "wait for the next try (every %d s)",
                (unsigned long long)res->bad_seq, store_verify_problem_text(res->problem),
                (unsigned long long)l->s.head, SYNC_BROKEN_RETRY);
        l->last_broken_log = now;
    }
    l->next_broken_try = now + SYNC_BROKEN_RETRY;
}

/* One batch. Returns 1 applied something (more may follow), 0 nothing new,
 * -1 connection trouble (disconnected), -2 chain break, -3 local error. */
static int step(struct loop *l)
{
    struct store_repl_result res;
    struct batch *b = &l->b;
    uint64_t after;
    int is_replica, rc;

    rc = store_replica_status(l->st, &is_replica, &l->s.head, &l->s.synced_at);
    if (rc != STORE_OK) {
        log_err("replica unreadable: %s", store_strerror(rc));
        l->s.errors_total++;
        return -3;
    }
    /* After (re)connecting, re-read our own head event from the primary:
     * store_replica_apply skips it if it is the same, stops if not. */
    after = l->s.head > 0 && !l->verified_head ? l->s.head - 1 : l->s.head;
    b->n = b->used = 0;
    b->oom = 0;
    rc = pgstore_fetch(l->pg, after, (unsigned)b->max, batch_add, b);
    if (rc != STORE_OK) {
        if (b->oom) {
            log_err("out of memory for a batch of %zu events", b->max);
            l->s.errors_total++;
            return -3;
        }
        disconnect(l, pgstore_error(l->pg));
        return -1;
    }
    if (b->n == 0) {
        l->verified_head = 1;
        rc = store_replica_touch(l->st, now_s());
        if (rc != STORE_OK) {
            log_err("replica not writable: %s", store_strerror(rc));
            l->s.errors_total++;
            return -3;
        }
        return 0;
    }
    for (size_t i = 0; i < b->n; i++)
        b->ptr[i] = b->data + b->off[i];
    memset(&res, 0, sizeof res);
    rc = store_replica_apply(l->st, b->ptr, b->len, b->n, now_s(), &res);
    l->s.applied_total += res.applied;
    l->s.scrub_due |= res.scrub_due;
    l->s.skipped_total += res.skipped;
    l->verified_head = 1;
    if (rc == STORE_ECORRUPT) {
        l->s.head = res.bad_seq ? res.bad_seq - 1 : l->s.head;
        store_replica_status(l->st, &is_replica, &l->s.head, &l->s.synced_at);
        log_break(l, &res);
        return -2;
    }
    if (rc != STORE_OK) {
        log_err("cannot apply events %llu..%llu to the replica: %s",
                (unsigned long long)b->first, (unsigned long long)b->last,
                store_strerror(rc));
        l->s.errors_total++;
        return -3;
    }
    if (l->s.broken)
        log_info("replication resumed past seq=%llu", (unsigned long long)l->s.bad_seq);
    l->s.broken = 0;
    l->s.bad_seq = 0;
    l->s.head = b->last > l->s.head ? b->last : l->s.head;
    /* a short batch held the whole rest of the ledger, unless only the
     * head event came back */
    return res.applied > 0 || b->n == b->max ? 1 : 0;
}

static void note_lag(struct loop *l, uint64_t before)
{
    int64_t now = now_s();
    uint64_t ph, lag;
    uint8_t hash[32];

    if (l->pg && pgstore_head(l->pg, &ph, hash) == STORE_OK)
        l->s.primary_head = ph;
    store_replica_status(l->st, &(int){0}, &l->s.head, &l->s.synced_at);
    lag = l->s.primary_head > l->s.head ? l->s.primary_head - l->s.head : 0;
    if (lag == 0 && !l->s.broken) {
        if (before != l->s.head && log_enabled(LOG_LVL_DEBUG))
            log_debug("caught up head=%llu", (unsigned long long)l->s.head);
        if (l->s.caught_up_at == 0 || now - l->s.caught_up_at > SYNC_LAG_LOG)
            if (before != l->s.head)
                log_info("caught up head=%llu applied=%llu", (unsigned long long)l->s.head,
                         (unsigned long long)(l->s.head - before));
        l->s.caught_up_at = now;
        return;
    }
    if (now - l->last_lag_log >= SYNC_LAG_LOG) {
        log_info("behind head=%llu primary=%llu lag_events=%llu lag_seconds=%lld",
                 (unsigned long long)l->s.head, (unsigned long long)l->s.primary_head,
                 (unsigned long long)lag,
                 (long long)(l->s.caught_up_at ? now - l->s.caught_up_at : 0));
        l->last_lag_log = now;
    }
}

/* Catch up as far as the primary goes. Returns as step (0: caught up). */
static int catch_up(struct loop *l)
{
    uint64_t before = l->s.head;
    int rc;

    if (l->s.broken && now_s() < l->next_broken_try)
        return -2;
    while ((rc = step(l)) == 1 && !l->stop)
        ;
    note_lag(l, before);
    return rc;
}

/* Erased data must leave data.mdb even when a reader (a milter in the
 * middle of a message) held an old snapshot past the apply's wait: retry
 * after every batch until the scrub completes. Also at start-up, when an
 * erase applied by a run that stopped before its scrub ended is pending
 * (store_scrub_pending). */
static void scrub_if_due(struct loop *l)
{
    int64_t now = now_s();
    int rc;

    if (!l->s.scrub_due)
        return;
    rc = store_scrub(l->st, 200);
    if (rc == STORE_OK) {
        if (l->last_scrub_log != 0)
            log_info("erased data scrubbed from the replica");
        l->s.scrub_due = 0;
        l->last_scrub_log = 0;
        return;
    }
    if (l->last_scrub_log == 0 || now - l->last_scrub_log >= SYNC_LAG_LOG) {
        if (rc == STORE_EBUSY)
            log_warn("erased data not yet scrubbed: a reader holds an old snapshot; retrying");
        else
            log_err("cannot scrub the replica: %s; retrying", store_strerror(rc));
        l->last_scrub_log = now;
    }
    if (rc != STORE_EBUSY)
        l->s.errors_total++;
}

static void write_metrics(struct loop *l)
{
    if (l->o->metrics && sync_metrics_write(l->o->metrics, &l->s, now_s()) != 0)
        log_warn("cannot write the metrics file %s: %s", l->o->metrics, strerror(errno));
}

/* Wait up to ms for the primary's socket or a signal. */
static void wait_event(struct loop *l, int ms)
{
    struct pollfd p[2] = {{.fd = l->sigfd, .events = POLLIN}, {.fd = -1}};
    struct signalfd_siginfo si;
    int n = 1, rc;

    if (l->pg) {
        /* notifications read along with a fetch are queued already */
        rc = pgstore_wait(l->pg, 0);
        if (rc > 0)
            return;
        if (rc < 0) {
            disconnect(l, pgstore_error(l->pg));
            return;
        }
        p[1].fd = pgstore_socket(l->pg);
        p[1].events = POLLIN;
        n = p[1].fd >= 0 ? 2 : 1;
    }
    if (poll(p, (nfds_t)n, ms) <= 0)
        return;
    if (p[0].revents & POLLIN && read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            log_info("stopping on signal %u", si.ssi_signo);
            l->stop = 1;
        }
        return;
    }
    if (n == 2 && p[1].revents && pgstore_wait(l->pg, 0) < 0)
        disconnect(l, pgstore_error(l->pg));
}

int sync_run(const struct sync_opts *o, struct store *replica, int sigfd)
{
    struct loop l;
    int rc = 0, code = 0;

    memset(&l, 0, sizeof l);
    l.o = o;
    l.st = replica;
    l.sigfd = sigfd;
    l.backoff = 1;
    l.s.started = now_s();
    if (batch_init(&l.b, o->batch) != 0) {
        log_err("out of memory");
        batch_free(&l.b);
        return 1;
    }
    store_replica_status(l.st, &(int){0}, &l.s.head, &l.s.synced_at);
    /* an erase whose scrub a previous run did not finish (or an unreadable
     * record: scrub to be safe) */
    if (store_scrub_pending(l.st, &l.s.scrub_due) != STORE_OK)
        l.s.scrub_due = 1;
    while (!l.stop) {
        int64_t now = now_s();
        if (l.pg == NULL && now >= l.next_connect && try_connect(&l) != 0 && o->once) {
            code = 1;
            break;
        }
        if (l.pg)
            rc = catch_up(&l);
        scrub_if_due(&l);
        write_metrics(&l);
        if (o->once && l.pg && rc != -1) {
            code = rc == 0 ? 0 : rc == -2 ? 3 : 1;
            break;
        }
        int64_t wake = l.pg ? now_s() + o->poll_interval : l.next_connect;
        if (l.s.broken && l.pg)
            wake = l.next_broken_try < wake ? l.next_broken_try : wake;
        if ((rc == -3 || l.s.scrub_due) && l.pg)
            wake = now_s() + SYNC_LOCAL_RETRY;
        int64_t ms = (wake - now_s()) * 1000;
        wait_event(&l, ms < 0 ? 0 : ms > 600000 ? 600000 : (int)ms);
    }
    write_metrics(&l);
    if (l.pg)
        pgstore_close(l.pg);
    batch_free(&l.b);
    return code;
}
