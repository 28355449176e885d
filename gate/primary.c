/* primary - the gate's writes and consent lookups, on one host or many.
 *
 * [store] backend = lmdb (the default): every call is the plain store call
 * on the gate's LMDB store, as before.
 *
 * [store] backend = postgresql: the store the gate opened is this host's
 * replica (fed by consent-sync), and the system of record is the primary.
 *   - gate_record sends the event to the primary (pgstore_record), then
 *     applies the returned ledger value to the replica at once, fetching
 *     first any earlier events the replica lacks, so the next /o or /c on
 *     this host sees it whatever consent-sync is doing (store_replica_apply
 *     skips what it holds already: both may apply the same event).
 *   - The primary unreachable: a withdrawal (or refusal) is kept in the
 *     replica's durable outbox (store_outbox_put) with its event id and
 *     counts at once: gate_consent_get masks every purpose a pending
 *     outbox entry withdraws. The forwarder thread sends each entry again,
 *     by its id (the primary records an id once), and deletes it only once
 *     the replica holds the event. A grant is refused (GATE_REC_DOWN): it
 *     must be provable in the system of record.
 *   - Last-open days and anonymous counts go to the primary in batches
 *     from the same thread, every GATE_FLUSH_S seconds; while the primary
 *     is down they wait in memory, up to GATE_PENDING_MAX of each.
 *   - The replica older than [store] max_staleness (consent-sync stopped,
 *     primary down for long): lookups say "no consent" (fail closed, as
 *     the milter does).
 * One connection to the primary, under a mutex: consent events are rare
 * next to pixel hits, which never touch the primary. A failed connection
 * is tried again at most every GATE_RETRY_S seconds, so a primary that is
 * down costs a request nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "gate/gate.h"
#include "pgstore/pgstore.h"
#include "store/store_repl.h"

#define GATE_RETRY_S 2
#define GATE_FLUSH_S 2
#define GATE_FORWARD_BATCH 64
#define GATE_PENDING_MAX 100000
#define GATE_GAP_MAX 100000 /* events the gate fetches itself to fill its replica */

struct pending_open {
    char *ctl, *rcpt;
    int64_t day;
};
struct pending_anon {
    char *ctl, *campaign;
    int64_t day;
    uint64_t n;
};

struct gate_primary {
    struct gate *g;
    char *conninfo, *passfile;
    unsigned max_staleness;
    pthread_mutex_t lock; /* pg, retry_at, down_logged */
    struct pgstore *pg;
    int64_t retry_at;
    int down_logged;
    pthread_mutex_t qlock; /* the pending batches */
    pthread_cond_t wake;
    struct pending_open *opens;
    size_t nopens;
    struct pending_anon *anons;
    size_t nanons;
    int stop, kick;
    pthread_t thread;
    int started;
    /* metrics */
    int up;
    unsigned long long outbox_pending, forwarded, queued, refused_down, dropped;
};

static int64_t mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void set_up(struct gate_primary *p, int up)
{
    __atomic_store_n(&p->up, up, __ATOMIC_RELAXED);
}

/* With p->lock held: a connection, or NULL while the primary is down. */
static struct pgstore *conn(struct gate_primary *p)
{
    char err[512] = "";
    int rc;

    if (p->pg)
        return p->pg;
    if (mono_s() < p->retry_at)
        return NULL;
    rc = pgstore_connect(p->conninfo, p->passfile, &p->pg, err, sizeof err);
    if (rc != STORE_OK) {
        p->pg = NULL;
        p->retry_at = mono_s() + GATE_RETRY_S;
        if (!p->down_logged)
            log_err("primary unreachable: %s; withdrawals are kept in the outbox, "
                    "grants refused",
                    err[0] ? err : store_strerror(rc));
        p->down_logged = 1;
        set_up(p, 0);
        return NULL;
    }
    if (p->down_logged)
        log_info("primary reachable again");
    p->down_logged = 0;
    set_up(p, 1);
    return p->pg;
}

/* With p->lock held: the connection failed under us. */
static void drop(struct gate_primary *p)
{
    log_warn("primary connection lost: %s", p->pg ? pgstore_error(p->pg) : "?");
    pgstore_close(p->pg);
    p->pg = NULL;
    p->retry_at = 0; /* one immediate try, then every GATE_RETRY_S */
    set_up(p, 0);
}

static int apply_one(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct gate_primary *p = arg;
    struct store_repl_result res;
    const void *v[1] = {raw};
    size_t l[1] = {len};
    int rc = store_replica_apply(p->g->store, v, l, 1, (int64_t)time(NULL), &res);

    if (rc != STORE_OK)
        log_warn("replica: event seq=%llu not applied: %s (consent-sync will report it)",
                 (unsigned long long)seq, store_strerror(rc));
    return rc;
}

/* With p->lock held and a connection: make the replica hold event seq
 * (wire: its bytes if known). Returns 0 when it does. */
static int hold(struct gate_primary *p, uint64_t seq, const struct store_wire *wire)
{
    uint64_t head;
    int64_t synced;
    int is_replica, rc;

    if ((rc = store_replica_status(p->g->store, &is_replica, &head, &synced)) != STORE_OK)
        return rc;
    if (head >= seq)
        return 0;
    if (seq - head > GATE_GAP_MAX)
        return STORE_EBUSY; /* consent-sync is far behind: leave it to it */
    if (head + 1 < seq || wire == NULL) {
        rc = pgstore_fetch(p->pg, head, (unsigned)(seq - head - (wire != NULL)), apply_one, p);
        if (rc == STORE_EIO)
            drop(p);
        if (rc != STORE_OK)
            return rc;
    }
    if (wire) {
        rc = apply_one(seq, wire->raw, wire->len, p);
        if (rc != STORE_OK)
            return rc;
    }
    rc = store_replica_status(p->g->store, &is_replica, &head, &synced);
    return rc != STORE_OK ? rc : head >= seq ? 0 : STORE_NOTFOUND;
}

static int queueable(const struct store_event *ev)
{
    return ev->action == STORE_A_WITHDRAW || ev->action == STORE_A_REFUSE;
}

/* Put ev (id and time filled in if empty) in the outbox, names normalised. */
static int keep(struct gate_primary *p, struct store_event *ev)
{
    char ctl[65], rcpt[STORE_ADDR_MAX];
    const char *c0 = ev->controller, *r0 = ev->recipient;
    const void *text = ev->notice_text;
    size_t len = ev->notice_len;
    int rc;

    /* the notice text is not kept: the outbox holds its id and hash */
    ev->notice_text = NULL;
    ev->notice_len = 0;
    if ((rc = store_event_check_in(ev, ctl, rcpt)) == STORE_OK) {
        ev->controller = ctl;
        ev->recipient = rcpt;
        rc = store_outbox_put(p->g->store, ev);
    }
    ev->controller = c0;
    ev->recipient = r0;
    ev->notice_text = text;
    ev->notice_len = len;
    if (rc != STORE_OK)
        log_err("withdrawal %s not kept in the outbox: %s", ev->id, store_strerror(rc));
    else
        __atomic_fetch_add(&p->outbox_pending, 1, __ATOMIC_RELAXED);
    return rc;
}

/* The primary is down: keep a withdrawal in the outbox. */
static int queue(struct gate_primary *p, struct store_event *ev)
{
    int rc;

    if (!queueable(ev)) {
        __atomic_fetch_add(&p->refused_down, 1, __ATOMIC_RELAXED);
        return GATE_REC_DOWN;
    }
    if ((rc = keep(p, ev)) != STORE_OK)
        return rc;
    ev->applied = ev->changed = 1;
    __atomic_fetch_add(&p->queued, 1, __ATOMIC_RELAXED);
    log_info("withdrawal %s kept in the outbox until the primary is back", ev->id);
    pthread_mutex_lock(&p->qlock);
    p->kick = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->qlock);
    return GATE_REC_QUEUED;
}

int gate_record(struct gate *g, struct store_event *ev)
{
    struct gate_primary *p = g->primary;
    struct store_wire wire;
    int rc;

    if (p == NULL)
        return store_record(g->store, ev);
    pthread_mutex_lock(&p->lock);
    if (conn(p) == NULL) {
        pthread_mutex_unlock(&p->lock);
        return queue(p, ev);
    }
    wire.len = 0;
    rc = pgstore_record(p->pg, ev, &wire);
    if (rc == STORE_EIO) {
        /* a connection that died while idle (primary restarted): one more
         * try on a new one before calling the primary down */
        drop(p);
        if (conn(p) != NULL) {
            wire.len = 0;
            rc = pgstore_record(p->pg, ev, &wire);
            if (rc == STORE_EIO)
                drop(p);
        }
    }
    if (rc != STORE_OK && rc != STORE_EINVAL) {
        pthread_mutex_unlock(&p->lock);
        /* connection lost, wrong schema, primary read-only ...: a withdrawal
         * is kept (sent or not, its id makes a second send harmless), a
         * grant refused as with the primary down */
        log_warn("primary: event not recorded: %s", store_strerror(rc));
        return queue(p, ev);
    }
    if (rc == STORE_OK && hold(p, ev->seq, wire.len ? &wire : NULL) != 0) {
        pthread_mutex_unlock(&p->lock);
        /* recorded, but this host's replica does not show it yet: let the
         * outbox make a withdrawal count here until it does */
        if (queueable(ev))
            keep(p, ev);
        return STORE_OK;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* ---- lookups -------------------------------------------------------- */

static int stale(struct gate_primary *p)
{
    uint64_t head;
    int64_t synced;
    int is_replica;

    if (store_replica_status(p->g->store, &is_replica, &head, &synced) != STORE_OK)
        return 1;
    return synced == 0 || (int64_t)time(NULL) - synced > (int64_t)p->max_staleness;
}

int gate_consent_get(struct gate *g, const char *ctl, const char *rcpt,
                     struct store_consent *out)
{
    struct gate_primary *p = g->primary;
    uint32_t mask = 0;
    int rc = store_consent_get(g->store, ctl, rcpt, out);

    if (p == NULL || (rc != STORE_OK && rc != STORE_NOTFOUND))
        return rc;
    if (stale(p)) {
        memset(out, 0, sizeof *out);
        return STORE_NOTFOUND;
    }
    if (rc == STORE_OK && store_outbox_withdrawn(g->store, ctl, rcpt, &mask) == STORE_OK)
        for (int i = 0; i < STORE_P_MAX; i++)
            if (mask >> i & 1 && out->state[i] == STORE_GRANTED)
                out->state[i] = STORE_WITHDRAWN;
    return rc;
}

/* ---- last-open days and anonymous counts ---------------------------- */

int gate_lastopen(struct gate *g, const char *ctl, const char *rcpt, int64_t day)
{
    struct gate_primary *p = g->primary;
    struct pending_open *o;
    char c[65], r[STORE_ADDR_MAX];

    if (p == NULL)
        return store_lastopen_set(g->store, ctl, rcpt, day);
    if (store_controller_normalise(ctl, c, sizeof c) != STORE_OK ||
        store_addr_normalise(rcpt, r, sizeof r) != STORE_OK)
        return STORE_EINVAL;
    pthread_mutex_lock(&p->qlock);
    for (size_t i = 0; i < p->nopens; i++)
        if (strcmp(p->opens[i].rcpt, r) == 0 && strcmp(p->opens[i].ctl, c) == 0) {
            p->opens[i].day = day > p->opens[i].day ? day : p->opens[i].day;
            pthread_mutex_unlock(&p->qlock);
            return STORE_OK;
        }
    if (p->nopens >= GATE_PENDING_MAX ||
        (o = realloc(p->opens, (p->nopens + 1) * sizeof *o)) == NULL) {
        pthread_mutex_unlock(&p->qlock);
        __atomic_fetch_add(&p->dropped, 1, __ATOMIC_RELAXED);
        return STORE_EFULL;
    }
    p->opens = o;
    o += p->nopens;
    o->ctl = strdup(c);
    o->rcpt = strdup(r);
    o->day = day;
    if (o->ctl == NULL || o->rcpt == NULL) {
        free(o->ctl);
        free(o->rcpt);
        pthread_mutex_unlock(&p->qlock);
        return STORE_ENOMEM;
    }
    p->nopens++;
    pthread_mutex_unlock(&p->qlock);
    return STORE_OK;
}

int gate_anon(struct gate *g, const char *ctl, const char *campaign, int64_t day)
{
    struct gate_primary *p = g->primary;
    struct pending_anon *a;
    char c[65];

    if (p == NULL)
        return store_anon_incr(g->store, ctl, campaign, day);
    if (store_controller_normalise(ctl, c, sizeof c) != STORE_OK)
        return STORE_EINVAL;
    pthread_mutex_lock(&p->qlock);
    for (size_t i = 0; i < p->nanons; i++)
        if (p->anons[i].day == day && strcmp(p->anons[i].campaign, campaign) == 0 &&
            strcmp(p->anons[i].ctl, c) == 0) {
            p->anons[i].n++;
            pthread_mutex_unlock(&p->qlock);
            return STORE_OK;
        }
    if (p->nanons >= GATE_PENDING_MAX ||
        (a = realloc(p->anons, (p->nanons + 1) * sizeof *a)) == NULL) {
        pthread_mutex_unlock(&p->qlock);
        __atomic_fetch_add(&p->dropped, 1, __ATOMIC_RELAXED);
        return STORE_EFULL;
    }
    p->anons = a;
    a += p->nanons;
    a->ctl = strdup(c);
    a->campaign = strdup(campaign);
    a->day = day;
    a->n = 1;
    if (a->ctl == NULL || a->campaign == NULL) {
        free(a->ctl);
        free(a->campaign);
        pthread_mutex_unlock(&p->qlock);
        return STORE_ENOMEM;
    }
    p->nanons++;
    pthread_mutex_unlock(&p->qlock);
    return STORE_OK;
}

static void free_opens(struct pending_open *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].ctl);
        free(o[i].rcpt);
    }
    free(o);
}

static void free_anons(struct pending_anon *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].ctl);
        free(a[i].campaign);
    }
    free(a);
}

/* Append n elements of size sz from old to *arr; frees old's array (not
 * what its elements own) on success. -1: out of memory or over the cap. */
static int putback(void **arr, size_t *len, void *old, size_t n, size_t sz)
{
    char *m;

    if (n == 0) {
        free(old);
        return 0;
    }
    if (*len + n > GATE_PENDING_MAX || (m = realloc(*arr, (*len + n) * sz)) == NULL)
        return -1;
    memcpy(m + *len * sz, old, n * sz);
    *arr = m;
    *len += n;
    free(old);
    return 0;
}

/* Send the pending batches; what fails is put back for the next round. */
static void flush_counts(struct gate_primary *p)
{
    struct pending_open *o;
    struct pending_anon *a;
    size_t no, na;
    int rc = STORE_OK;

    pthread_mutex_lock(&p->qlock);
    o = p->opens, no = p->nopens;
    a = p->anons, na = p->nanons;
    p->opens = NULL, p->nopens = 0;
    p->anons = NULL, p->nanons = 0;
    pthread_mutex_unlock(&p->qlock);
    if (no == 0 && na == 0)
        return;
    pthread_mutex_lock(&p->lock);
    if (conn(p) == NULL) {
        rc = STORE_EIO;
    } else {
        for (size_t i = 0; i < no && rc == STORE_OK; i++)
            rc = pgstore_lastopen_set(p->pg, o[i].ctl, o[i].rcpt, o[i].day);
        for (size_t i = 0; i < na && rc == STORE_OK; i++)
            rc = pgstore_anon_add(p->pg, a[i].ctl, a[i].campaign, a[i].day, a[i].n);
        if (rc == STORE_EIO)
            drop(p);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc == STORE_OK) {
        free_opens(o, no);
        free_anons(a, na);
        return;
    }
    /* back in the queue for the next round, behind what came in meanwhile
     * (a day sent twice or a count split in two adds up the same) */
    pthread_mutex_lock(&p->qlock);
    if (putback((void **)&p->opens, &p->nopens, o, no, sizeof *o) != 0)
        free_opens(o, no);
    if (putback((void **)&p->anons, &p->nanons, a, na, sizeof *a) != 0)
        free_anons(a, na);
    pthread_mutex_unlock(&p->qlock);
}

/* ---- the outbox forwarder ------------------------------------------- */

struct fwd_item {
    struct store_event ev;
    char ctl[65], rcpt[STORE_ADDR_MAX], method[32], actor[300], notice[128];
};
struct fwd_list {
    struct fwd_item *it;
    size_t n, total;
};

static void copy_str(char *dst, size_t len, const char *src, const char **field)
{
    if (src == NULL) {
        *field = NULL;
        return;
    }
    snprintf(dst, len, "%s", src);
    *field = dst;
}

static int collect(const struct store_event *ev, void *arg)
{
    struct fwd_list *l = arg;
    struct fwd_item *f;

    l->total++;
    if (l->n == GATE_FORWARD_BATCH)
        return 0;
    f = &l->it[l->n++];
    memset(f, 0, sizeof *f);
    f->ev = *ev;
    copy_str(f->ctl, sizeof f->ctl, ev->controller, &f->ev.controller);
    copy_str(f->rcpt, sizeof f->rcpt, ev->recipient, &f->ev.recipient);
    copy_str(f->method, sizeof f->method, ev->method, &f->ev.method);
    copy_str(f->actor, sizeof f->actor, ev->actor, &f->ev.actor);
    copy_str(f->notice, sizeof f->notice, ev->notice_id, &f->ev.notice_id);
    f->ev.source_ip = f->ev.user_agent = NULL;
    f->ev.notice_text = NULL;
    f->ev.notice_source = NULL;
    return 0;
}

/* One round: returns the entries still pending. */
static size_t forward(struct gate_primary *p)
{
    struct fwd_item *items = calloc(GATE_FORWARD_BATCH, sizeof *items);
    struct fwd_list l = {items, 0, 0};
    size_t done = 0;
    int rc;

    if (items == NULL)
        return 1;
    if ((rc = store_outbox_walk(p->g->store, collect, &l)) != STORE_OK) {
        log_warn("outbox unreadable: %s", store_strerror(rc));
        free(items);
        return 1;
    }
    for (size_t i = 0; i < l.n; i++) {
        struct store_event *ev = &items[i].ev;
        struct store_wire wire;
        pthread_mutex_lock(&p->lock);
        if (conn(p) == NULL) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        wire.len = 0;
        rc = pgstore_record(p->pg, ev, &wire);
        if (rc == STORE_EIO)
            drop(p);
        else if (rc == STORE_OK)
            rc = hold(p, ev->seq, wire.len ? &wire : NULL);
        pthread_mutex_unlock(&p->lock);
        if (rc == STORE_OK && store_outbox_del(p->g->store, ev->id) == STORE_OK) {
            done++;
            __atomic_fetch_add(&p->forwarded, 1, __ATOMIC_RELAXED);
            log_info("outbox: withdrawal %s recorded on the primary seq=%llu", ev->id,
                     (unsigned long long)ev->seq);
        } else if (rc != STORE_OK && rc != STORE_EIO) {
            log_warn("outbox: withdrawal %s not forwarded yet: %s", ev->id,
                     store_strerror(rc));
        }
    }
    free(items);
    __atomic_store_n(&p->outbox_pending, l.total - done, __ATOMIC_RELAXED);
    return l.total - done;
}

static void *forwarder(void *arg)
{
    struct gate_primary *p = arg;
    int stop = 0;

    while (!stop) {
        struct timespec ts;
        size_t pending = forward(p);
        flush_counts(p);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += pending ? 1 : GATE_FLUSH_S;
        pthread_mutex_lock(&p->qlock);
        while (!p->stop && !p->kick)
            if (pthread_cond_timedwait(&p->wake, &p->qlock, &ts) == ETIMEDOUT)
                break;
        p->kick = 0;
        stop = p->stop;
        pthread_mutex_unlock(&p->qlock);
    }
    forward(p);
    flush_counts(p);
    return NULL;
}

int gate_primary_start(struct gate *g, const struct cfg *c, char *err, size_t errlen)
{
    struct gate_primary *p;

    if (c->store_backend != CFG_STORE_PG)
        return 0;
    if ((p = calloc(1, sizeof *p)) == NULL ||
        (p->conninfo = strdup(c->store_conninfo ? c->store_conninfo : "")) == NULL ||
        (c->store_passfile && (p->passfile = strdup(c->store_passfile)) == NULL)) {
        if (p)
            free(p->conninfo);
        free(p);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    p->g = g;
    p->max_staleness = c->store_max_staleness;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->qlock, NULL);
    pthread_cond_init(&p->wake, NULL);
    g->primary = p;
    pthread_mutex_lock(&p->lock);
    conn(p); /* a primary that is down now is no reason not to start */
    pthread_mutex_unlock(&p->lock);
    if (pthread_create(&p->thread, NULL, forwarder, p) != 0) {
        gate_primary_stop(g);
        return snprintf(err, errlen, "cannot start the outbox thread"), -1;
    }
    p->started = 1;
    return 0;
}

void gate_primary_stop(struct gate *g)
{
    struct gate_primary *p = g->primary;

    if (p == NULL)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->qlock);
        p->stop = 1;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->qlock);
        pthread_join(p->thread, NULL);
    }
    pgstore_close(p->pg);
    free_opens(p->opens, p->nopens);
    free_anons(p->anons, p->nanons);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->qlock);
    pthread_cond_destroy(&p->wake);
    free(p->conninfo);
    free(p->passfile);
    free(p);
    g->primary = NULL;
}

int gate_primary_metrics(const struct gate *g, struct buf *b)
{
    const struct gate_primary *p = g->primary;

    if (p == NULL)
        return 0;
    return buf_printf(
        b,
        "# HELP consent_gate_primary_up 1 if the PostgreSQL primary was reachable at the "
        "last try.\n# TYPE consent_gate_primary_up gauge\nconsent_gate_primary_up %d\n"
        "# HELP consent_gate_outbox_pending Withdrawals kept until the primary records "
        "them.\n# TYPE consent_gate_outbox_pending gauge\nconsent_gate_outbox_pending %llu\n"
        "# HELP consent_gate_outbox_queued_total Withdrawals put in the outbox.\n"
        "# TYPE consent_gate_outbox_queued_total counter\n"
        "consent_gate_outbox_queued_total %llu\n"
        "# HELP consent_gate_outbox_forwarded_total Outbox withdrawals recorded on the "
        "primary.\n# TYPE consent_gate_outbox_forwarded_total counter\n"
        "consent_gate_outbox_forwarded_total %llu\n"
        "# HELP consent_gate_refused_primary_down_total Grants refused while the primary "
        "was down.\n# TYPE consent_gate_refused_primary_down_total counter\n"
        "consent_gate_refused_primary_down_total %llu\n"
        "# HELP consent_gate_counts_dropped_total Last-open days and anonymous counts "
        "dropped (too many pending).\n# TYPE consent_gate_counts_dropped_total counter\n"
        "consent_gate_counts_dropped_total %llu\n",
        __atomic_load_n(&p->up, __ATOMIC_RELAXED),
        __atomic_load_n(&p->outbox_pending, __ATOMIC_RELAXED),
        __atomic_load_n(&p->queued, __ATOMIC_RELAXED),
        __atomic_load_n(&p->forwarded, __ATOMIC_RELAXED),
        __atomic_load_n(&p->refused_down, __ATOMIC_RELAXED),
        __atomic_load_n(&p->dropped, __ATOMIC_RELAXED));
}
