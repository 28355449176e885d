/* ctl_batch - the import pipeline of consentctl: the reading thread
 * collects validated rows into batches; a second thread applies each full
 * batch, sorted by controller and store_order_key, in one store batch and
 * commits it, while the next batch is being read. At most two batches are
 * in memory; batches are applied in file order, one at a time.
 *
 * The reading thread also does everything that needs no transaction:
 * validation and digests (store_event_prepare) and the sort, so the
 * applying thread, which holds LMDB's writer lock, only does the ordered
 * puts and the chained SHA-256. Sorting makes a batch walk the consent
 * database in key order (each page written once per batch); events of one
 * recipient keep the file's order (the sort is stable on the line number).
 * push returns STORE_EINVAL for a row the store refuses (nothing queued);
 * a row refused later (should not happen) goes to the reject callback. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl/ctl.h"

#define CTL_IX_MAX 64 /* controllers interned for sorting; others compare by name */

struct pend {
    unsigned ctl_ix;
    struct store_prep prep; /* digests made by the reading thread */
    unsigned long line;
    struct store_event ev;
    char *mem; /* the event's strings */
};

struct ctl_batcher {
    struct store *st;
    size_t batch;
    int dry_run;
    ctl_reject_fn reject;
    void *arg;
    /* reading thread */
    uint8_t rnd[4096]; /* random bytes fetched in bulk */
    size_t rnd_left;
    struct pend *pend;
    size_t npend, cap;
    char ctls[CTL_IX_MAX][72];
    unsigned nctls;
    /* hand-off */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pend *q;
    size_t qn;
    int done, err, started;
    pthread_t th;
    /* applying thread */
    struct ctl_batch_counts n;
};

static int pend_cmp(const void *a, const void *b)
{
    const struct pend *x = a, *y = b;
    int c = x->ctl_ix < y->ctl_ix ? -1 : x->ctl_ix > y->ctl_ix;
    if (c == 0 && x->ctl_ix == CTL_IX_MAX)
        c = strcmp(x->ev.controller, y->ev.controller);
    if (c == 0)
        c = memcmp(x->prep.order, y->prep.order, sizeof x->prep.order);
    if (c == 0) /* same recipient: keep the file's order */
        c = x->line < y->line ? -1 : x->line > y->line;
    return c;
}

static void pend_free(struct pend *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].mem);
    free(p);
}

/* Apply one batch in key order; commit (or roll back for --dry-run). */
static int apply(struct ctl_batcher *b, struct pend *p, size_t n)
{
    struct store_batch *sb;
    unsigned long added = 0, dups = 0;
    int rc;

    if ((rc = store_batch_begin(b->st, &sb)) != STORE_OK)
        return rc;
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        int dup = 0;
        rc = store_batch_add_prepared(sb, &p[i].ev, &p[i].prep, &dup);
        if (rc == STORE_EINVAL) {
            b->reject(b->arg, p[i].line);
            rc = STORE_OK;
            continue;
        }
        dups += rc == STORE_OK && dup;
        added += rc == STORE_OK && !dup;
    }
    if (rc != STORE_OK) {
        store_batch_abort(sb);
        return rc;
    }
    if (b->dry_run)
        store_batch_abort(sb);
    else if ((rc = store_batch_commit(sb)) != STORE_OK)
        return rc;
    b->n.added += added;
    b->n.dups += dups;
    b->n.batches++;
    return STORE_OK;
}

static void *applier(void *arg)
{
    struct ctl_batcher *b = arg;

    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (b->q == NULL && !b->done && !b->err)
            pthread_cond_wait(&b->cv, &b->mu);
        struct pend *p = b->err ? NULL : b->q;
        size_t n = b->qn;
        b->q = NULL;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        if (p == NULL)
            return NULL;
        int rc = apply(b, p, n);
        pend_free(p, n);
        if (rc != STORE_OK) {
            pthread_mutex_lock(&b->mu);
            b->err = rc;
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
            return NULL;
        }
    }
}

int ctl_batcher_start(struct ctl_batcher **out, struct store *st, long batch, int dry_run,
                      ctl_reject_fn reject, void *arg)
{
    struct ctl_batcher *b = calloc(1, sizeof *b);

    *out = NULL;
    if (b == NULL)
        return STORE_ENOMEM;
    b->st = st;
    b->batch = (size_t)batch;
    b->dry_run = dry_run;
    b->reject = reject;
    b->arg = arg;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    if (pthread_create(&b->th, NULL, applier, b) != 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        free(b);
        return STORE_ENOMEM;
    }
    b->started = 1;
    *out = b;
    return STORE_OK;
}

/* Give the collected batch to the applier (waiting while it holds one). */
static int handoff(struct ctl_batcher *b)
{
    int err;

    qsort(b->pend, b->npend, sizeof *b->pend, pend_cmp); /* before waiting */
    pthread_mutex_lock(&b->mu);
    while (b->q != NULL && !b->err)
        pthread_cond_wait(&b->cv, &b->mu);
    if ((err = b->err) == 0) {
        b->q = b->pend;
        b->qn = b->npend;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    if (err != 0)
        pend_free(b->pend, b->npend);
    b->pend = NULL;
    b->npend = b->cap = 0;
    return err;
}

static unsigned ctl_intern(struct ctl_batcher *b, const char *ctl)
{
    for (unsigned i = 0; i < b->nctls; i++)
        if (strcmp(b->ctls[i], ctl) == 0)
            return i;
    if (b->nctls == CTL_IX_MAX || strlen(ctl) >= sizeof b->ctls[0])
        return CTL_IX_MAX;
    strcpy(b->ctls[b->nctls], ctl);
    return b->nctls++;
}

static char *dup_into(char **p, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*p, s, n);
    *p += n;
    return d;
}

/* Copy ev (strings included) into the batch being collected. */
static int pend_add(struct ctl_batcher *b, const struct store_event *ev,
                    unsigned long line)
{
    const char *strs[] = {ev->controller, ev->recipient,  ev->method, ev->notice_id,
                          ev->source_ip,  ev->user_agent, ev->actor};
    size_t total = 0;
    struct pend *p;

    if (b->npend == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        if ((p = realloc(b->pend, nc * sizeof *p)) == NULL)
            return STORE_ENOMEM;
        b->pend = p;
        b->cap = nc;
    }
    p = &b->pend[b->npend];
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        total += strs[i] ? strlen(strs[i]) + 1 : 0;
    if ((p->mem = malloc(total)) == NULL)
        return STORE_ENOMEM;
    char *w = p->mem;
    p->ev = *ev;
    p->ev.controller = dup_into(&w, ev->controller);
    p->ev.recipient = dup_into(&w, ev->recipient);
    p->ev.method = dup_into(&w, ev->method);
    p->ev.notice_id = dup_into(&w, ev->notice_id);
    p->ev.source_ip = dup_into(&w, ev->source_ip);
    p->ev.user_agent = dup_into(&w, ev->user_agent);
    p->ev.actor = dup_into(&w, ev->actor);
    p->line = line;
    if (b->rnd_left < 32) {
        randombytes_buf(b->rnd, sizeof b->rnd);
        b->rnd_left = sizeof b->rnd;
    }
    b->rnd_left -= 32;
    int rc = store_event_prepare(b->st, &p->ev, b->rnd + b->rnd_left, &p->prep);
    sodium_memzero(b->rnd + b->rnd_left, 32);
    if (rc != STORE_OK) {
        free(p->mem);
        return rc;
    }
    p->ctl_ix = ctl_intern(b, p->ev.controller);
    b->npend++;
    return STORE_OK;
}

int ctl_batcher_push(struct ctl_batcher *b, const struct store_event *ev,
                     unsigned long line)
{
    int rc = pend_add(b, ev, line);

    if (rc != STORE_OK)
        return rc;
    return b->npend >= b->batch ? handoff(b) : STORE_OK;
}

int ctl_batcher_finish(struct ctl_batcher *b, int flush, struct ctl_batch_counts *out)
{
    int rc = STORE_OK;

    if (b == NULL)
        return STORE_OK;
    if (flush && b->npend > 0)
        rc = handoff(b);
    pend_free(b->pend, b->npend);
    pthread_mutex_lock(&b->mu);
    b->done = 1;
    if (!flush && b->err == 0)
        b->err = -1; /* abandon what is queued */
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (b->started)
        pthread_join(b->th, NULL);
    if (b->q != NULL)
        pend_free(b->q, b->qn);
    if (rc == STORE_OK && b->err > 0)
        rc = b->err;
    if (out != NULL)
        *out = b->n;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
    return rc;
}
