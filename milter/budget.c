/* budget - the memory budget every worker shares ([milter] max_memory).
 *
 * Each message is bounded on its own (the rewriter's working-memory
 * ceiling, SPEC §7), but libmilter runs up to one message per worker, so
 * many large ones at once could still exhaust the host. Before its end of
 * message work a message takes its share: what the rewrite may use at most
 * (mlt_budget_need), and gives it back after. A share that does not fit
 * waits (other messages finish and give theirs back) up to a deadline, then
 * the message temp-fails; a share larger than the whole budget can never
 * fit and gets on_error at once.
 *
 * Thread-safe: one mutex and condition variable for the process. A reload
 * that changes max_memory applies to the shares taken after it. */
#include "milter/milter.h"
#include "common/deadline.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static size_t used;

size_t mlt_budget_need(size_t len)
{
    /* the message itself, and the rewriter's ceiling of 3x + 8 MiB */
    if (len > (SIZE_MAX - MLT_BUDGET_BASE) / 4)
        return SIZE_MAX;
    return 4 * len + MLT_BUDGET_BASE;
}

int mlt_budget_take(size_t total, size_t n, unsigned wait_ms, size_t *held)
{
    struct timespec ts;
    int rc = 0;

    *held = 0;
    if (total == 0)
        return 0;
    if (n > total)
        return EFBIG;
    ts = cm_deadline_ms(CLOCK_REALTIME, wait_ms);
    pthread_mutex_lock(&mu);
    while (used > total - n && rc == 0)
        rc = pthread_cond_timedwait(&cv, &mu, &ts);
    if (used <= total - n) {
        used += n;
        *held = n;
        rc = 0;
    } else {
        rc = ETIMEDOUT;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void mlt_budget_give(size_t held)
{
    if (held == 0)
        return;
    pthread_mutex_lock(&mu);
    used -= held < used ? held : used;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

size_t mlt_budget_used(void)
{
    size_t n;

    pthread_mutex_lock(&mu);
    n = used;
    pthread_mutex_unlock(&mu);
    return n;
}
