/* pg_conn - connecting to the primary, the schema check and pg-init.
 *
 * The conninfo string is parsed by libpq first (PQconninfoParse), so a
 * malformed string or one that carries a password is refused before any
 * network I/O; the password can only come from the passfile. Connecting
 * is bounded by connect_timeout (PGSTORE_CONNECT_TIMEOUT unless conninfo
 * sets one): an unreachable host is an error, never a hang. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pgstore/pg_int.h"

extern const char pgstore_schema_sql[];

void pg_set_err(char *err, size_t errlen, const char *what, const char *msg)
{
    static const char *const quoting[] = {"\nDETAIL:", "\nCONTEXT:"};
    size_t n;
    char *cut;

    if (err == NULL || errlen == 0)
        return;
    snprintf(err, errlen, "%s%s%s", what, *what && msg && *msg ? ": " : "", msg ? msg : "");
    /* PostgreSQL's DETAIL and CONTEXT lines may quote the failing row (a
     * recipient address, a COPY line): they never reach a log. */
    for (size_t i = 0; i < sizeof quoting / sizeof quoting[0]; i++)
        if ((cut = strstr(err, quoting[i])) != NULL)
            *cut = '\0';
    n = strlen(err); /* libpq messages end in a newline; keep one line */
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    for (char *p = err; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

/* Refuse a bad string or a password inside it; note connect_timeout. */
static int check_conninfo(const char *conninfo, int *has_timeout, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &perr);
    int rc = STORE_OK;

    if (o == NULL) {
        pg_set_err(err, errlen, "bad conninfo", perr ? perr : "out of memory");
        PQfreemem(perr);
        return perr ? STORE_EINVAL : STORE_ENOMEM;
    }
    *has_timeout = 0;
    for (PQconninfoOption *p = o; p->keyword != NULL; p++) {
        if (p->val == NULL)
            continue;
        if (strcmp(p->keyword, "password") == 0) {
            pg_set_err(err, errlen,
                    "conninfo contains a password; put it in the passfile (mode 0600)",
                    NULL);
            rc = STORE_EINVAL;
        }
        if (strcmp(p->keyword, "connect_timeout") == 0)
            *has_timeout = 1;
    }
    PQconninfoFree(o);
    return rc;
}

int pgstore_connect_raw(const char *conninfo, const char *passfile, struct pgstore **out,
                        char *err, size_t errlen)
{
    const char *kw[5], *val[5];
    char tmo[16];
    int n = 0, has_timeout, rc;
    struct pgstore *pg;

    *out = NULL;
    if (conninfo == NULL || *conninfo == '\0') {
        pg_set_err(err, errlen, "empty conninfo", NULL);
        return STORE_EINVAL;
    }
    if ((rc = check_conninfo(conninfo, &has_timeout, err, errlen)) != STORE_OK)
        return rc;
    if (sodium_init() < 0)
        return STORE_EIO;
    kw[n] = "dbname", val[n++] = conninfo; /* expanded: the whole string */
    if (passfile != NULL && *passfile != '\0')
        kw[n] = "passfile", val[n++] = passfile;
    if (!has_timeout) {
        snprintf(tmo, sizeof tmo, "%d", PGSTORE_CONNECT_TIMEOUT);
        kw[n] = "connect_timeout", val[n++] = tmo;
    }
    kw[n] = "application_name", val[n++] = "consent-milter";
    kw[n] = NULL, val[n] = NULL;
    if ((pg = calloc(1, sizeof *pg)) == NULL)
        return STORE_ENOMEM;
    pg->conn = PQconnectdbParams(kw, val, 1);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        pg_set_err(err, errlen, "cannot connect to the primary",
                pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
        pgstore_close(pg);
        return STORE_EIO;
    }
    *out = pg;
    return STORE_OK;
}

int pgstore_schema(struct pgstore *pg, unsigned *version)
{
    PGresult *r;

    *version = 0;
    r = PQexec(pg->conn, "select coalesce(max(version), 0) from schema_version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        /* 42P01: no such table: not initialised */
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        int missing = state != NULL && strcmp(state, "42P01") == 0;
        PQclear(r);
        return missing ? STORE_OK : STORE_EIO;
    }
    *version = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return STORE_OK;
}

int pgstore_connect(const char *conninfo, const char *passfile, struct pgstore **out,
                    char *err, size_t errlen)
{
    unsigned v;
    int rc = pgstore_connect_raw(conninfo, passfile, out, err, errlen);

    if (rc != STORE_OK)
        return rc;
    if ((rc = pgstore_schema(*out, &v)) != STORE_OK) {
        pg_set_err(err, errlen, "cannot read schema_version", PQerrorMessage((*out)->conn));
    } else if (v != PGSTORE_SCHEMA_VERSION) {
        char m[96];
        if (v == 0)
            snprintf(m, sizeof m, "no consent schema in this database (run consentctl "
                                  "pg-init)");
        else
            snprintf(m, sizeof m, "schema version %u, this program knows %d", v,
                     PGSTORE_SCHEMA_VERSION);
        pg_set_err(err, errlen, "wrong schema version", m);
        rc = STORE_EVERSION;
    } else if ((rc = pg_load_hashkey(*out)) != STORE_OK) {
        pg_set_err(err, errlen, "meta hashkey missing or bad", NULL);
    }
    if (rc != STORE_OK) {
        pgstore_close(*out);
        *out = NULL;
    }
    return rc;
}

void pgstore_close(struct pgstore *pg)
{
    if (pg == NULL)
        return;
    if (pg->conn != NULL)
        PQfinish(pg->conn);
    free(pg);
}

const char *pgstore_error(struct pgstore *pg)
{
    if (pg == NULL || pg->conn == NULL)
        return "not connected";
    if (pg->err[0] != '\0')
        return pg->err;
    pg_set_err(pg->msg, sizeof pg->msg, "", PQerrorMessage(pg->conn));
    return pg->msg;
}

int pg_exec_ok(struct pgstore *pg, PGresult *r, ExecStatusType want)
{
    int ok = r != NULL && PQresultStatus(r) == want;

    if (!ok)
        pg_set_err(pg->err, sizeof pg->err, "primary",
                r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
    else
        pg->err[0] = '\0';
    PQclear(r);
    return ok ? STORE_OK : STORE_EIO;
}

int pg_load_hashkey(struct pgstore *pg)
{
    const char *p[1] = {"hashkey"};
    PGresult *r = PQexecParams(pg->conn, "select value from meta where key = $1", 1, NULL,
                               p, NULL, NULL, 1);
    int rc = STORE_ECORRUPT;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = STORE_EIO;
    else if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 32) {
        memcpy(pg->hashkey, PQgetvalue(r, 0, 0), 32);
        rc = STORE_OK;
    }
    PQclear(r);
    return rc;
}

int pgstore_init(struct pgstore *pg, unsigned *version)
{
    uint8_t key[32];
    char hex[65];
    const char *p[1] = {hex};
    int rc;

    *version = 0;
    if ((rc = pgstore_schema(pg, version)) != STORE_OK)
        return rc;
    if (*version > PGSTORE_SCHEMA_VERSION)
        return STORE_EVERSION;
    if ((rc = pg_exec_ok(pg, PQexec(pg->conn, "begin"), PGRES_COMMAND_OK)) != STORE_OK)
        return rc;
    rc = pg_exec_ok(pg, PQexec(pg->conn, pgstore_schema_sql), PGRES_COMMAND_OK);
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    if (rc == STORE_OK)
        rc = pg_exec_ok(pg,
                        PQexecParams(pg->conn,
                                     "insert into meta values ('hashkey', decode($1, 'hex'))"
                                     " on conflict do nothing",
                                     1, NULL, p, NULL, NULL, 0),
                        PGRES_COMMAND_OK);
    sodium_memzero(key, sizeof key);
    sodium_memzero(hex, sizeof hex);
    if (rc == STORE_OK)
        rc = pg_exec_ok(pg, PQexec(pg->conn, "commit"), PGRES_COMMAND_OK);
    else
        PQclear(PQexec(pg->conn, "rollback"));
    if (rc == STORE_OK && (rc = pgstore_schema(pg, version)) == STORE_OK)
        rc = pg_load_hashkey(pg);
    return rc;
}
