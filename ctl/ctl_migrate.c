/* ctl_migrate - `consentctl migrate` (a single-host LMDB store into the
 * PostgreSQL primary, every seq and hash kept) and `consentctl verify
 * --replica DIR` (a replica's own chain, and its head a prefix of the
 * primary's). Both need the primary (--conninfo or [store]).
 *
 * migrate verifies the store first and copies nothing from a broken
 * chain; after the copy it verifies the primary (chain and consent
 * replay) and checks that its head is the store's. It may be run again:
 * a primary that holds a prefix of the store's ledger is resumed, one
 * that holds anything else is refused (pgstore_migrate). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "pgstore/pg_migrate.h"
#include "pgstore/pgstore.h"
#include "store/store_repl.h"

/* Verify the LMDB store at dir (its chain, then its consent replay). */
static int store_check(struct ctl *c, const char *dir, struct store **st,
                       struct store_verify *r)
{
    struct ctl o = *c;
    int rc;

    o.db = dir;
    if ((rc = ctl_open(&o, 0, st)) != CTL_OK)
        return rc;
    if ((rc = store_verify(*st, r)) != STORE_OK) {
        store_close(*st);
        *st = NULL;
        return ctl_store_err(c, rc, dir);
    }
    return CTL_OK;
}

static void problem(const struct ctl *c, const char *who, const struct store_verify *r,
                    const char *then)
{
    ctl_err(c, "%s FAILED at event %llu%s%s: %s%s", who, (unsigned long long)r->bad_seq,
            r->bad_id[0] ? " id " : "", r->bad_id, store_verify_problem_text(r->problem),
            then);
}

static int primary_check(struct ctl *c, struct pgstore *pg, struct store_verify *r)
{
    int rc = pgstore_verify(pg, r);

    if (rc != STORE_OK) {
        ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(pg));
        return CTL_FAIL;
    }
    if (r->problem != STORE_V_OK) {
        problem(c, "primary ledger", r, "");
        return CTL_FAIL;
    }
    return CTL_OK;
}

static json_t *verify_json(const struct store_verify *r)
{
    char hex[65];

    ctl_hex(r->head, 32, hex);
    return json_pack("{s:I,s:I,s:I,s:s}", "events", (json_int_t)r->events, "tombstones",
                     (json_int_t)r->tombstones, "head_seq", (json_int_t)r->head_seq,
                     "head_hash", hex);
}

static void print_mig(const struct ctl *c, const struct pgstore_mig_res *m,
                      const struct store_verify *pv)
{
    char hex[65];

    if (c->json) {
        json_t *j = json_pack(
            "{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "ok", 1, "store_events",
            (json_int_t)m->store_head, "already_on_primary", (json_int_t)m->pg_before,
            "copied", (json_int_t)m->copied, "transactions", (json_int_t)m->batches,
            "tombstoned", (json_int_t)m->tombstoned, "consents", (json_int_t)m->consents,
            "lastopen", (json_int_t)m->lastopen, "anon", (json_int_t)m->anon, "notices",
            (json_int_t)m->notices);
        json_object_set_new(j, "primary", verify_json(pv));
        ctl_print_json(j, 0);
        return;
    }
    ctl_hex(pv->head, 32, hex);
    printf("migrated: %llu events (%llu already on the primary, %llu copied in %llu "
           "transaction(s), %llu turned into tombstones)\n",
           (unsigned long long)m->store_head, (unsigned long long)m->pg_before,
           (unsigned long long)m->copied, (unsigned long long)m->batches,
           (unsigned long long)m->tombstoned);
    printf("migrated: %llu consent record(s), %llu last-open day(s), %llu counter(s), %llu "
           "new notice version(s)\n",
           (unsigned long long)m->consents, (unsigned long long)m->lastopen,
           (unsigned long long)m->anon, (unsigned long long)m->notices);
    printf("ok: primary verified: %llu events (%llu erased), head %llu:%s, the store's\n",
           (unsigned long long)pv->events, (unsigned long long)pv->tombstones,
           (unsigned long long)pv->head_seq, hex);
}

int ctl_migrate(struct ctl *c, int argc, char **argv)
{
    struct store_verify sv, pv;
    struct pgstore_mig_res m;
    struct pgstore *pg;
    struct store *st;
    int rc;

    (void)argv;
    if (argc != 0) {
        ctl_err(c, "wrong number of arguments (see consentctl --help)");
        return CTL_USAGE;
    }
    if ((rc = store_check(c, c->db, &st, &sv)) != CTL_OK)
        return rc;
    if (sv.problem != STORE_V_OK) {
        problem(c, "store ledger", &sv, "; nothing copied (a broken chain is not migrated)");
        store_close(st);
        return CTL_FAIL;
    }
    if ((rc = ctl_pg_connect(c, 0, &pg)) != CTL_OK) {
        store_close(st);
        return rc;
    }
    rc = pgstore_migrate(pg, st, (unsigned)c->batch, &m);
    store_close(st);
    if (rc != STORE_OK) {
        /* PostgreSQL's DETAIL may quote a failing row, address and all */
        const char *e = pgstore_error(pg), *d = strstr(e, " DETAIL:");
        ctl_err(c, "migration stopped: %s (%.*s); the primary keeps a prefix of the store: "
                   "run migrate again to resume",
                store_strerror(rc), (int)(d != NULL ? (size_t)(d - e) : strlen(e)), e);
        pgstore_close(pg);
        return CTL_FAIL;
    }
    if (m.refused != PGSTORE_MIG_OK) {
        ctl_err(c, "refused: %s%s%.0llu; nothing written (migrate copies into an empty "
                   "primary, or resumes one that holds a prefix of this store)",
                pgstore_mig_refusal_text(m.refused), m.bad_seq ? " at event " : "",
                (unsigned long long)m.bad_seq);
        pgstore_close(pg);
        return CTL_FAIL;
    }
    rc = primary_check(c, pg, &pv);
    pgstore_close(pg);
    if (rc != CTL_OK)
        return rc;
    if (pv.head_seq != sv.head_seq || memcmp(pv.head, sv.head, 32) != 0) {
        ctl_err(c, "the primary's head %llu is not the store's %llu (a writer during the "
                   "copy?); run migrate again",
                (unsigned long long)pv.head_seq, (unsigned long long)sv.head_seq);
        return CTL_FAIL;
    }
    print_mig(c, &m, &pv);
    return CTL_OK;
}

/* The replica's head against the primary's: 0 a prefix, else a phrase. */
static const char *prefix_of(struct ctl *c, struct pgstore *pg, const struct store_verify *rv,
                             uint64_t phead, int *rc)
{
    uint8_t h[32];
    int found = 0;

    *rc = CTL_OK;
    if (rv->head_seq > phead)
        return "the replica holds events the primary does not (ahead of it)";
    if (rv->head_seq == 0)
        return NULL;
    int prc = pgstore_hash_at(pg, rv->head_seq, h, &found);
    if (prc != STORE_OK) {
        ctl_err(c, "primary: %s (%s)", store_strerror(prc), pgstore_error(pg));
        *rc = CTL_FAIL;
        return "";
    }
    if (!found)
        return "the primary lacks the replica's head event";
    if (memcmp(h, rv->head, 32) != 0)
        return "the replica's head event differs from the primary's (diverged)";
    return NULL;
}

int ctl_verify_replica(struct ctl *c)
{
    struct store_verify pv, rv;
    struct pgstore *pg;
    struct store *st;
    uint64_t head;
    int64_t synced = 0;
    int rc, is_replica = 0;

    if ((rc = ctl_pg_connect(c, 0, &pg)) != CTL_OK)
        return rc;
    if ((rc = primary_check(c, pg, &pv)) != CTL_OK) {
        pgstore_close(pg);
        return rc;
    }
    if ((rc = store_check(c, c->replica, &st, &rv)) != CTL_OK) {
        pgstore_close(pg);
        return rc;
    }
    if (store_replica_status(st, &is_replica, &head, &synced) != STORE_OK)
        synced = 0;
    store_close(st);
    if (rv.problem != STORE_V_OK) {
        pgstore_close(pg);
        problem(c, "replica ledger", &rv, "");
        return CTL_FAIL;
    }
    /* the primary's head now: the replica may have synced past the one
     * verified above while it was being verified itself */
    uint64_t phead = pv.head_seq;
    uint8_t phash[32];
    if ((rc = pgstore_head(pg, &phead, phash)) != STORE_OK) {
        ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(pg));
        pgstore_close(pg);
        return CTL_FAIL;
    }
    const char *why = prefix_of(c, pg, &rv, phead, &rc);
    pgstore_close(pg);
    if (rc != CTL_OK)
        return rc;
    if (why != NULL) {
        ctl_err(c, "replica %s FAILED at its head event %llu: %s", c->replica,
                (unsigned long long)rv.head_seq, why);
        return CTL_FAIL;
    }
    uint64_t lag = phead - rv.head_seq;
    long long age = synced > 0 ? (long long)time(NULL) - (long long)synced : -1;
    if (c->json) {
        json_t *r = verify_json(&rv);
        json_object_set_new(r, "dir", json_string(c->replica));
        json_object_set_new(r, "is_replica", json_boolean(is_replica));
        json_object_set_new(r, "lag_events", json_integer((json_int_t)lag));
        json_object_set_new(r, "synced_seconds_ago", age >= 0 ? json_integer(age) : json_null());
        ctl_print_json(json_pack("{s:b,s:o,s:o}", "ok", 1, "primary", verify_json(&pv),
                                 "replica", r),
                       0);
        return CTL_OK;
    }
    char hex[65];
    ctl_hex(pv.head, 32, hex);
    printf("ok: primary: %llu events (%llu erased), head %llu:%s\n",
           (unsigned long long)pv.events, (unsigned long long)pv.tombstones,
           (unsigned long long)pv.head_seq, hex);
    ctl_hex(rv.head, 32, hex);
    printf("ok: replica %s: %llu events (%llu erased), head %llu:%s, a prefix of the "
           "primary\n",
           c->replica, (unsigned long long)rv.events, (unsigned long long)rv.tombstones,
           (unsigned long long)rv.head_seq, hex);
    if (age >= 0)
        printf("lag: %llu event(s), last sync %lld s ago%s\n", (unsigned long long)lag, age,
               is_replica ? "" : " (not marked a replica)");
    else
        printf("lag: %llu event(s), never synced%s\n", (unsigned long long)lag,
               is_replica ? "" : " (not a replica: an LMDB store)");
    return CTL_OK;
}
