/* ctl_pg_cmd - grant/withdraw/refuse/inform, verify and erase against the
 * PostgreSQL primary (pgstore). Output as the LMDB commands print it. */
#include <stdio.h>

#include "ctl/ctl.h"
#include "pgstore/pgstore.h"
#include "store/store_repl.h"

static int pg_fail(struct ctl *c, struct pgstore *pg, int rc)
{
    if (rc == STORE_EINVAL) {
        ctl_err(c, "rejected: check --method, --actor, --source-ip, --user-agent, --notice");
        pgstore_close(pg);
        return CTL_USAGE;
    }
    ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(pg));
    pgstore_close(pg);
    return CTL_FAIL;
}

int ctl_pg_record(struct ctl *c, struct store_event *ev)
{
    struct pgstore *pg;
    int rc;

    if ((rc = ctl_pg_connect(c, 0, &pg)) != CTL_OK)
        return rc;
    if ((rc = pgstore_record(pg, ev, NULL)) != STORE_OK)
        return pg_fail(c, pg, rc);
    pgstore_close(pg);
    if (!ev->applied) {
        ctl_err(c, "%s event %llu recorded as history only: the current consent is more "
                   "recent and was not changed",
                store_action_name(ev->action), (unsigned long long)ev->seq);
        return CTL_FAIL;
    }
    if (c->json)
        ctl_print_json(json_pack("{s:s,s:I,s:s}", "id", ev->id, "seq", (json_int_t)ev->seq,
                                 "action", store_action_name(ev->action)),
                       0);
    else
        printf("recorded %s event %llu id %s\n", store_action_name(ev->action),
               (unsigned long long)ev->seq, ev->id);
    return CTL_OK;
}

int ctl_pg_verify(struct ctl *c)
{
    struct store_verify r;
    struct pgstore *pg;
    char hex[65];
    int rc;

    if ((rc = ctl_pg_connect(c, 0, &pg)) != CTL_OK)
        return rc;
    if ((rc = pgstore_verify(pg, &r)) != STORE_OK)
        return pg_fail(c, pg, rc);
    pgstore_close(pg);
    ctl_hex(r.head, 32, hex);
    if (r.problem != STORE_V_OK) {
        ctl_err(c, "primary ledger FAILED at event %llu%s%s: %s",
                (unsigned long long)r.bad_seq, r.bad_id[0] ? " id " : "", r.bad_id,
                store_verify_problem_text(r.problem));
        return CTL_FAIL;
    }
    if (c->json)
        ctl_print_json(json_pack("{s:b,s:I,s:I,s:I,s:s}", "ok", 1, "events",
                                 (json_int_t)r.events, "tombstones",
                                 (json_int_t)r.tombstones, "head_seq",
                                 (json_int_t)r.head_seq, "head_hash", hex),
                       0);
    else
        printf("ok: %llu events (%llu erased), head %llu:%s\n", (unsigned long long)r.events,
               (unsigned long long)r.tombstones, (unsigned long long)r.head_seq, hex);
    return CTL_OK;
}

int ctl_pg_erase(struct ctl *c, const char *ctl, const char *rcpt, const char *actor)
{
    struct pgstore *pg;
    unsigned n = 0;
    int rc;

    if ((rc = ctl_pg_connect(c, 0, &pg)) != CTL_OK)
        return rc;
    rc = pgstore_erase(pg, ctl, rcpt, actor, &n);
    if (rc == STORE_NOTFOUND) {
        pgstore_close(pg);
        ctl_err(c, "nothing stored for that recipient of controller '%s'", ctl);
        return CTL_FAIL;
    }
    if (rc != STORE_OK)
        return pg_fail(c, pg, rc);
    pgstore_close(pg);
    if (c->json)
        ctl_print_json(json_pack("{s:b,s:i}", "erased", 1, "events", (int)n), 0);
    else
        printf("erased on the primary: %u ledger event(s) replaced by tombstones\n", n);
    return CTL_OK;
}
