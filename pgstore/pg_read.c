/* pg_read - reading the replication log and the doorbell.
 *
 * pgstore_fetch pulls raw ledger values by seq (binary results, no
 * decoding here: the replica checks every event itself); LISTEN/NOTIFY is
 * only a doorbell, a reader always goes by seq. Also the gate's batched
 * counters, which touch no ledger. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore/pg_int.h"

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

int pgstore_fetch(struct pgstore *pg, uint64_t after, unsigned limit, pgstore_raw_cb cb,
                  void *arg)
{
    char a[24], l[16];
    const char *p[2] = {a, l};
    PGresult *r;
    int rc = STORE_OK;

    if (pg == NULL || cb == NULL || limit == 0)
        return STORE_EINVAL;
    snprintf(a, sizeof a, "%llu", (unsigned long long)after);
    snprintf(l, sizeof l, "%u", limit);
    r = PQexecParams(pg->conn,
                     "select seq, raw from ledger where seq > $1::bigint order by seq "
                     "limit $2::bigint",
                     2, NULL, p, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(pg, r, PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(r) && rc == STORE_OK; i++) {
        if (PQgetlength(r, i, 0) != 8) {
            rc = STORE_ECORRUPT;
            break;
        }
        rc = cb(be64(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1),
                (size_t)PQgetlength(r, i, 1), arg);
    }
    PQclear(r);
    return rc;
}

int pgstore_head(struct pgstore *pg, uint64_t *seq, uint8_t hash[32])
{
    PGresult *r;
    int rc = STORE_ECORRUPT;

    if (pg == NULL)
        return STORE_EINVAL;
    r = PQexecParams(pg->conn, "select seq, hash from ledger_head", 0, NULL, NULL, NULL,
                     NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(pg, r, PGRES_TUPLES_OK);
    if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 8 && PQgetlength(r, 0, 1) == 32) {
        *seq = be64(PQgetvalue(r, 0, 0));
        memcpy(hash, PQgetvalue(r, 0, 1), 32);
        rc = STORE_OK;
    }
    PQclear(r);
    return rc;
}

int pgstore_listen(struct pgstore *pg)
{
    if (pg == NULL)
        return STORE_EINVAL;
    return pg_exec_ok(pg, PQexec(pg->conn, "listen consent_ledger"), PGRES_COMMAND_OK);
}

int pgstore_socket(struct pgstore *pg)
{
    return pg != NULL ? PQsocket(pg->conn) : -1;
}

/* Consume every pending notification; 1 if there was one. */
static int drain(struct pgstore *pg)
{
    PGnotify *n;
    int got = 0;

    while ((n = PQnotifies(pg->conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

int pgstore_wait(struct pgstore *pg, int timeout_ms)
{
    struct pollfd p;

    if (pg == NULL || PQsocket(pg->conn) < 0)
        return -1;
    if (!PQconsumeInput(pg->conn))
        return -1;
    if (drain(pg))
        return 1;
    p.fd = PQsocket(pg->conn);
    p.events = POLLIN;
    p.revents = 0;
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    if (!PQconsumeInput(pg->conn) || PQstatus(pg->conn) != CONNECTION_OK)
        return -1;
    return drain(pg);
}

int pgstore_lastopen_set(struct pgstore *pg, const char *ctl, const char *rcpt, int64_t day)
{
    char cn[72], rn[STORE_ADDR_MAX], d[24];
    const char *p[3] = {cn, rn, d};

    if (pg == NULL || day < 0 || day > 0xffffffffLL ||
        store_controller_normalise(ctl, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(rcpt, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    snprintf(d, sizeof d, "%lld", (long long)day);
    return pg_exec_ok(pg,
                      PQexecParams(pg->conn,
                                   "insert into lastopen values ($1, $2, $3::bigint) on "
                                   "conflict (controller, recipient) do update set day = "
                                   "greatest(lastopen.day, excluded.day)",
                                   3, NULL, p, NULL, NULL, 0),
                      PGRES_COMMAND_OK);
}

static int campaign_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

int pgstore_anon_add(struct pgstore *pg, const char *ctl, const char *campaign, int64_t day,
                     uint64_t n)
{
    char cn[72], d[24], c[24];
    const char *p[4] = {cn, campaign, d, c};

    if (pg == NULL || day < 0 || day > 0xffffffffLL || n > INT64_MAX ||
        !campaign_ok(campaign) || store_controller_normalise(ctl, cn, sizeof cn) != STORE_OK)
        return STORE_EINVAL;
    snprintf(d, sizeof d, "%lld", (long long)day);
    snprintf(c, sizeof c, "%llu", (unsigned long long)n);
    return pg_exec_ok(pg,
                      PQexecParams(pg->conn,
                                   "insert into anon values ($1, $2, $3::bigint, $4::bigint) "
                                   "on conflict (controller, campaign, day) do update set "
                                   "count = anon.count + excluded.count",
                                   4, NULL, p, NULL, NULL, 0),
                      PGRES_COMMAND_OK);
}
