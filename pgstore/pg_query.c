/* pg_query - the primary read for consentctl (see pg_query.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore/pg_int.h"
#include "pgstore/pg_query.h"

typedef int (*row_fn)(const PGresult *r, void *arg);

/* Run sql in single-row mode; fn per row. After a non-zero return the
 * rest is drained unread (libpq has no cheaper way to leave a query on
 * the same connection that is always safe). */
static int stream(struct pgstore *pg, const char *sql, int n, const char *const *v,
                  int binary, row_fn fn, void *arg)
{
    PGresult *r;
    int rc = STORE_OK, done = 0;

    if (!PQsendQueryParams(pg->conn, sql, n, NULL, v, NULL, NULL, binary))
        return pg_exec_ok(pg, NULL, PGRES_TUPLES_OK);
    PQsetSingleRowMode(pg->conn);
    while ((r = PQgetResult(pg->conn)) != NULL) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && rc == STORE_OK && !done) {
            rc = fn(r, arg);
            PQclear(r);
        } else if (s == PGRES_SINGLE_TUPLE || s == PGRES_TUPLES_OK) {
            PQclear(r);
        } else if (rc == STORE_OK) {
            rc = pg_exec_ok(pg, r, PGRES_TUPLES_OK);
        } else {
            PQclear(r);
        }
        done |= rc != STORE_OK;
    }
    return rc;
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

static void cval_consent(uint32_t states, int64_t updated, int64_t informed,
                         struct store_consent *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < STORE_P_MAX; i++)
        s->state[i] = (uint8_t)STORE_STATES_GET(states, i);
    s->updated = updated;
    s->legacy_informed = informed;
}

struct consent_arg {
    pgstore_consent_cb cb;
    void *arg;
};

static int consent_row(const PGresult *r, void *arg)
{
    struct consent_arg *a = arg;
    struct store_consent s;

    cval_consent((uint32_t)strtoul(PQgetvalue(r, 0, 2), NULL, 10),
                 strtoll(PQgetvalue(r, 0, 3), NULL, 10), strtoll(PQgetvalue(r, 0, 4), NULL, 10),
                 &s);
    return a->cb(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), &s, a->arg);
}

int pgstore_consent_walk(struct pgstore *pg, const char *ctl, pgstore_consent_cb cb,
                         void *arg)
{
    struct consent_arg a = {cb, arg};
    const char *v[1] = {ctl};

    if (pg == NULL || cb == NULL)
        return STORE_EINVAL;
    return stream(pg,
                  "select controller, recipient, states::bigint & 4294967295, updated, "
                  "informed from consent where $1::text is null or controller = $1 "
                  "order by controller, recipient",
                  1, v, 0, consent_row, &a);
}

struct raw_arg {
    pgstore_raw_cb cb;
    void *arg;
};

static int raw_row(const PGresult *r, void *arg)
{
    struct raw_arg *a = arg;

    if (PQgetlength(r, 0, 0) != 8)
        return STORE_ECORRUPT;
    return a->cb(be64(PQgetvalue(r, 0, 0)), PQgetvalue(r, 0, 1),
                 (size_t)PQgetlength(r, 0, 1), a->arg);
}

int pgstore_ledger_walk(struct pgstore *pg, pgstore_raw_cb cb, void *arg)
{
    struct raw_arg a = {cb, arg};

    if (pg == NULL || cb == NULL)
        return STORE_EINVAL;
    return stream(pg, "select seq, raw from ledger order by seq", 0, NULL, 1, raw_row, &a);
}

int pgstore_person_history(struct pgstore *pg, const char *ctl, const char *rcpt,
                           pgstore_raw_cb cb, void *arg)
{
    struct raw_arg a = {cb, arg};
    const char *v[2] = {ctl, rcpt};

    if (pg == NULL || ctl == NULL || rcpt == NULL || cb == NULL)
        return STORE_EINVAL;
    return stream(pg,
                  "select seq, raw from ledger where controller = $1 and recipient = $2 "
                  "order by seq",
                  2, v, 1, raw_row, &a);
}

/* One row of a small query in text form: 0 and *out, or STORE_NOTFOUND. */
static int one_row(struct pgstore *pg, const char *sql, int n, const char *const *v,
                   PGresult **out)
{
    PGresult *r = PQexecParams(pg->conn, sql, n, NULL, v, NULL, NULL, 0);

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(pg, r, PGRES_TUPLES_OK);
    if (PQntuples(r) != 1) {
        PQclear(r);
        return STORE_NOTFOUND;
    }
    *out = r;
    return STORE_OK;
}

int pgstore_consent_get(struct pgstore *pg, const char *ctl, const char *rcpt,
                        struct store_consent *out)
{
    const char *v[2] = {ctl, rcpt};
    PGresult *r;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (pg == NULL || ctl == NULL || rcpt == NULL || out == NULL)
        return STORE_EINVAL;
    rc = one_row(pg,
                 "select states::bigint & 4294967295, updated, informed from consent "
                 "where controller = $1 and recipient = $2",
                 2, v, &r);
    if (rc != STORE_OK)
        return rc;
    cval_consent((uint32_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10),
                 strtoll(PQgetvalue(r, 0, 1), NULL, 10), strtoll(PQgetvalue(r, 0, 2), NULL, 10),
                 out);
    PQclear(r);
    return STORE_OK;
}

int pgstore_lastopen_get(struct pgstore *pg, const char *ctl, const char *rcpt,
                         int64_t *day)
{
    const char *v[2] = {ctl, rcpt};
    PGresult *r;
    int rc;

    if (pg == NULL || ctl == NULL || rcpt == NULL || day == NULL)
        return STORE_EINVAL;
    *day = 0;
    rc = one_row(pg, "select day from lastopen where controller = $1 and recipient = $2", 2,
                 v, &r);
    if (rc != STORE_OK)
        return rc;
    *day = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return STORE_OK;
}

int pgstore_notice_get(struct pgstore *pg, const uint8_t sha256[32],
                       int (*cb)(const struct store_notice *n, void *arg), void *arg)
{
    const char *v[1] = {(const char *)sha256};
    const int l[1] = {32}, f[1] = {1};
    struct store_notice n;
    PGresult *r;
    int rc;

    if (pg == NULL || sha256 == NULL || cb == NULL)
        return STORE_EINVAL;
    r = PQexecParams(pg->conn,
                     "select first_seen, source, text from notices where sha256 = $1", 1,
                     NULL, v, l, f, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(pg, r, PGRES_TUPLES_OK);
    if (PQntuples(r) != 1) {
        PQclear(r);
        return STORE_NOTFOUND;
    }
    if (PQgetlength(r, 0, 0) != 8) {
        PQclear(r);
        return STORE_ECORRUPT;
    }
    memcpy(n.sha256, sha256, 32);
    n.first_seen = (int64_t)be64(PQgetvalue(r, 0, 0));
    n.source = PQgetvalue(r, 0, 1);
    n.text = PQgetvalue(r, 0, 2);
    n.len = (size_t)PQgetlength(r, 0, 2);
    rc = cb(&n, arg);
    PQclear(r);
    return rc;
}

struct count_arg {
    pgstore_count_cb cb;
    void *arg;
};

static int count_row(const PGresult *r, void *arg)
{
    struct count_arg *a = arg;

    return a->cb(PQgetvalue(r, 0, 0), (uint32_t)strtoul(PQgetvalue(r, 0, 1), NULL, 10),
                 PQgetvalue(r, 0, 2)[0] == 't', strtoull(PQgetvalue(r, 0, 3), NULL, 10),
                 a->arg);
}

int pgstore_consent_counts(struct pgstore *pg, const char *ctl, pgstore_count_cb cb,
                           void *arg)
{
    struct count_arg a = {cb, arg};
    const char *v[1] = {ctl};

    if (pg == NULL || cb == NULL)
        return STORE_EINVAL;
    return stream(pg,
                  "select controller, states::bigint & 4294967295, informed <> 0, count(*) "
                  "from consent where $1::text is null or controller = $1 "
                  "group by 1, 2, 3 order by 1",
                  1, v, 0, count_row, &a);
}

int pgstore_info_get(struct pgstore *pg, struct pgstore_info *out)
{
    PGresult *r;
    int rc;

    if (pg == NULL || out == NULL)
        return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    rc = one_row(pg,
                 "select (select count(*) from ledger), (select count(*) from consent), "
                 "(select count(*) from lastopen), pg_total_relation_size('consent'), "
                 "pg_total_relation_size('ledger'), pg_database_size(current_database()), "
                 "(select coalesce(max(version), 0) from schema_version)",
                 0, NULL, &r);
    if (rc == STORE_NOTFOUND)
        return STORE_ECORRUPT;
    if (rc != STORE_OK)
        return rc;
    out->events = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    out->consents = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
    out->lastopen = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
    out->consent_bytes = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
    out->ledger_bytes = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
    out->db_bytes = strtoull(PQgetvalue(r, 0, 5), NULL, 10);
    out->schema = (unsigned)strtoul(PQgetvalue(r, 0, 6), NULL, 10);
    PQclear(r);
    return STORE_OK;
}
