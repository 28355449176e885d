/* metrics - consent-milter's Prometheus metrics ([milter] metrics_textfile):
 * messages by decision and class, trackers by action, errors by kind and
 * action, end-of-message time as a histogram. Counting is relaxed atomic
 * adds (common/prom), cheap enough for every worker; a writer thread
 * renders them to a node_exporter textfile every metrics_interval seconds
 * and once at stop. No label carries an address, a controller or a queue
 * id: every label value comes from the fixed sets below. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/prom.h"
#include "milter/milter.h"
#include "rewriter/rewriter.h"

static const char *const decisions[MLT_MD__N] = {
    "consent", "no-consent", "strictest", "never-track", "monitor",
    "off",     "skip",       "refused",   "error",
};
static const char *const classes[4] = {"marketing", "transactional", "auth", "unknown"};
static const char *const actions[RW_A_MAX] = {
    "kept", "stripped", "anonymised", "gated", "deliverability", "unwrapped", "cleaned",
    "interstitial",
};
static const char *const ekinds[4] = {"internal", "parse", "size", "policy"};
static const char *const eacts[3] = {"tempfail", "accept", "reject"}; /* cfg_on_error */

static unsigned long long v_msg[MLT_MD__N * 4], v_trk[RW_A_MAX], v_err[4 * 3];
static struct prom_counter m_msg = {
    "consent_milter_messages_total", "Messages by decision and mail class.", 2,
    {"decision", "class"}, {decisions, classes}, {MLT_MD__N, 4}, v_msg};
static struct prom_counter m_trk = {
    "consent_milter_trackers_total", "Trackers (pixels and links) by the action taken.",
    1, {"action"}, {actions}, {RW_A_MAX}, v_trk};
static struct prom_counter m_err = {
    "consent_milter_errors_total",
    "Messages failed, by error kind and the answer given (on_error).", 2,
    {"kind", "action"}, {ekinds, eacts}, {4, 3}, v_err};
static struct prom_hist m_time = {
    "consent_milter_rewrite_seconds",
    "End-of-message time per message (decision and rewrite), seconds.",
    10,
    {500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 500000, 2000000},
    {0},
    0};
static time_t started;

int mlt_decision_index(const char *d)
{
    for (int i = 0; i < MLT_MD__N && d; i++)
        if (strcmp(decisions[i], d) == 0)
            return i;
    return MLT_MD_ERROR;
}

void mlt_metrics_message(int decision, int mail_class, double seconds)
{
    if (mail_class < 0 || mail_class > 2)
        mail_class = 3;
    prom_add(&m_msg, (size_t)decision, (size_t)mail_class, 1);
    prom_observe(&m_time, seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
}

void mlt_metrics_trackers(const unsigned acted[][RW_A_MAX], int ntypes)
{
    for (int a = 0; a < RW_A_MAX; a++) {
        unsigned long long n = 0;
        for (int t = 0; t < ntypes; t++)
            n += acted[t][a];
        if (n)
            prom_add(&m_trk, (size_t)a, 0, n);
    }
}

void mlt_metrics_error(int kind, int action)
{
    prom_add(&m_err, (size_t)kind, (size_t)action, 1);
}

int mlt_metrics_render(struct buf *b)
{
    int rc = prom_write_counter(b, &m_msg);
    if (rc == 0)
        rc = prom_write_counter(b, &m_trk);
    if (rc == 0)
        rc = prom_write_counter(b, &m_err);
    if (rc == 0)
        rc = prom_write_hist(b, &m_time);
    if (rc == 0)
        rc = prom_write_gauge(b, "consent_milter_start_time_seconds",
                              "Start time of the process.", (double)started);
    return rc;
}

int mlt_metrics_write(const char *path)
{
    struct buf b = BUF_INIT(1 << 20);
    int rc = mlt_metrics_render(&b);
    if (rc == 0)
        rc = prom_textfile_write(path, buf_cstr(&b), b.len);
    buf_free(&b);
    return rc;
}

static char *tf_path;
static unsigned tf_interval;

static void *writer(void *arg)
{
    (void)arg;
    for (;;) {
        sleep(tf_interval);
        int rc = mlt_metrics_write(tf_path);
        if (rc != 0)
            log_warn("cannot write metrics textfile %s: %s", tf_path, strerror(rc));
    }
    return NULL;
}

int mlt_metrics_start(const char *path, unsigned interval)
{
    pthread_t th;
    started = time(NULL);
    if (!path)
        return 0;
    tf_path = strdup(path);
    tf_interval = interval ? interval : 15;
    if (!tf_path)
        return ENOMEM;
    int rc = mlt_metrics_write(tf_path);
    if (rc != 0)
        return rc;
    rc = pthread_create(&th, NULL, writer, NULL);
    return rc ? rc : pthread_detach(th);
}

int mlt_metrics_stop(void)
{
    return tf_path ? mlt_metrics_write(tf_path) : 0;
}
