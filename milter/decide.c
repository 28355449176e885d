/* decide - who sends, what class, which consent (SPEC §4.2-§4.5).
 *
 * Sending domain and class come from policy/msginfo (shared with
 * consent-rewrite). Sending domain: the domain of the From: header (the brand the recipient
 * sees), else the envelope sender's; cfg_domain_for maps it (and its
 * parents) to a [domain] section. Class: the section's auth rules, then its
 * transactional rules (header globs and envelope-sender globs), else
 * marketing. Consent (policy_granted, policy/input.c, shared with
 * consent-rewrite): one recipient is one short store read; several
 * recipients get the strictest outcome, i.e. no purpose granted (a tracker
 * stays only if every recipient consented, and no per-recipient footer can
 * be made, so none stays). An unknown recipient has no consent.
 *
 * Replica ([store] backend = postgresql): before the lookup, the replica's
 * last sync time (store_replica_status, one read transaction). Never
 * synced, or older than max_staleness: the message is decided as if
 * nobody had consented (strip, unwrap, no footer), with a warning at
 * most once a minute; never a tempfail, whatever PostgreSQL does.
 *
 * Failure: a store error other than "not found" is returned to the caller,
 * which applies on_error; except a damaged store (corrupt, or its file
 * faulted under the guard of guard.c): then, as for a stale replica, the
 * message is decided as if nobody had consented, with an error logged at
 * most once a minute. Mail a reader would display is never held back for a
 * file only the administrator can repair, and stripping is what no
 * consent asks for anyway. */
#include "milter/milter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "policy/policy.h"
#include "store/store_repl.h"

static int64_t stale_warned;   /* time of the last warning (atomic) */
static int64_t damaged_warned; /* same, for a damaged store */

/* Whether a warning last given at *last is due again at now (once a
 * minute, one thread). */
static int warning_due(int64_t *last, int64_t now)
{
    int64_t t = __atomic_load_n(last, __ATOMIC_RELAXED);

    return now - t >= 60 &&
           __atomic_compare_exchange_n(last, &t, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

int mlt_replica_stale(const struct cfg *cfg, struct store *st, int64_t now)
{
    int is_replica = 0;
    uint64_t head = 0;
    int64_t synced = 0;

    if (cfg->store_backend != CFG_STORE_PG || st == NULL)
        return 0;
    int rc = store_replica_status(st, &is_replica, &head, &synced);
    if (rc == STORE_OK && synced != 0 && now - synced <= (int64_t)cfg->store_max_staleness)
        return 0;
    if (warning_due(&stale_warned, now)) {
        if (rc != STORE_OK)
            log_warn("consent replica unreadable (%s): deciding as if nobody consented",
                     store_strerror(rc));
        else if (synced == 0)
            log_warn("consent replica %s never synced (is consent-sync running?): "
                     "deciding as if nobody consented",
                     cfg->store_replica);
        else
            log_warn("consent replica %s last synced %lld s ago (max_staleness %u): "
                     "deciding as if nobody consented",
                     cfg->store_replica, (long long)(now - synced),
                     cfg->store_max_staleness);
    }
    return 1;
}

struct lookup {
    const struct snap *rt;
    const struct mlt_msg *m;
    struct mlt_decision *d;
    char *err;
    size_t errlen;
};

static int lookup(void *arg)
{
    struct lookup *l = arg;

    if (mlt_replica_stale(l->rt->cfg, mlt_store, (int64_t)time(NULL)))
        return 0;
    return policy_granted(mlt_store, l->d->info.controller, l->m->rcpts[0], &l->d->granted,
                          &l->d->found, l->err, l->errlen);
}

int mlt_decide(const struct snap *rt, const struct mlt_msg *m, struct mlt_decision *d,
               char *err, size_t errlen)
{
    struct lookup l = {rt, m, d, err, errlen};
    int rc;

    memset(d, 0, sizeof *d);
    msginfo_derive(rt->cfg, m->hdrs, m->nhdrs, m->sender, &d->info);
    if (m->nrcpts != 1 || (mlt_store == NULL && !mlt_guard_damaged()))
        return 0;
    if ((rc = mlt_guarded(lookup, &l)) == STORE_ECORRUPT) {
        d->granted = 0;
        d->found = 0;
        if (warning_due(&damaged_warned, (int64_t)time(NULL)))
            log_err("consent store %s is damaged: deciding as if nobody consented; "
                    "restore it from a backup and restart the milter",
                    rt->cfg->store_replica ? rt->cfg->store_replica : rt->cfg->database);
        return 0;
    }
    return rc == 0 ? 0 : -1;
}
