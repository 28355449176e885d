/* ctl_pg - consentctl against the PostgreSQL primary (issue 11).
 *
 * The primary is named by --conninfo/--passfile, or by the [store]
 * section of --config FILE (conninfo, passfile; a password in conninfo is
 * refused). pg-init applies the schema (sql/schema-v1.sql) and creates
 * the roles and the dedup key; it may be run again (idempotent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "ctl/ctl.h"
#include "pgstore/pgstore.h"

struct pgconf {
    char *conninfo, *passfile;
    int pg; /* [store] backend = postgresql */
};

static int conf_kv(void *arg, const char *sec, const char *key, const char *val)
{
    struct pgconf *pc = arg;
    char **slot = NULL;

    if (strcmp(sec, "store") != 0)
        return 1;
    if (strcmp(key, "backend") == 0)
        pc->pg = strcmp(val, "postgresql") == 0;
    if (strcmp(key, "conninfo") == 0)
        slot = &pc->conninfo;
    else if (strcmp(key, "passfile") == 0)
        slot = &pc->passfile;
    if (slot != NULL) {
        free(*slot);
        if ((*slot = strdup(val)) == NULL)
            return 0;
    }
    return 1;
}

int ctl_pg_wanted(const struct ctl *c)
{
    struct pgconf pc = {NULL, NULL, 0};

    if (c->conninfo != NULL)
        return 1;
    if (c->config == NULL || ini_parse(c->config, conf_kv, &pc) != 0)
        pc.pg = 0; /* a bad file is reported by the command that reads it */
    free(pc.conninfo), free(pc.passfile);
    return pc.pg;
}

int ctl_pg_connect(const struct ctl *c, int init, struct pgstore **pg)
{
    struct pgconf pc = {NULL, NULL, 0};
    char err[600];
    int rc;

    *pg = NULL;
    if (c->config != NULL && (rc = ini_parse(c->config, conf_kv, &pc)) != 0) {
        if (rc < 0)
            ctl_err(c, "%s: cannot read the configuration", c->config);
        else
            ctl_err(c, "%s:%d: bad line", c->config, rc);
        free(pc.conninfo), free(pc.passfile);
        return CTL_USAGE;
    }
    const char *ci = c->conninfo ? c->conninfo : pc.conninfo;
    const char *pf = c->passfile ? c->passfile : pc.passfile;
    if (ci == NULL) {
        ctl_err(c, "no primary: give --conninfo or a --config with [store] conninfo");
        free(pc.conninfo), free(pc.passfile);
        return CTL_USAGE;
    }
    rc = init ? pgstore_connect_raw(ci, pf, pg, err, sizeof err)
              : pgstore_connect(ci, pf, pg, err, sizeof err);
    free(pc.conninfo), free(pc.passfile);
    if (rc != STORE_OK) {
        ctl_err(c, "%s", err);
        return rc == STORE_EINVAL ? CTL_USAGE : CTL_FAIL;
    }
    return CTL_OK;
}

int ctl_pg_init(struct ctl *c, int argc, char **argv)
{
    struct pgstore *pg;
    unsigned v = 0;
    int rc;

    (void)argv;
    if (argc != 0) {
        ctl_err(c, "wrong number of arguments (see consentctl --help)");
        return CTL_USAGE;
    }
    if ((rc = ctl_pg_connect(c, 1, &pg)) != CTL_OK)
        return rc;
    rc = pgstore_init(pg, &v);
    if (rc == STORE_EVERSION) {
        ctl_err(c, "the database holds schema version %u, newer than this program (%d)", v,
                PGSTORE_SCHEMA_VERSION);
        pgstore_close(pg);
        return CTL_FAIL;
    }
    if (rc != STORE_OK) {
        ctl_err(c, "schema not applied: %s", pgstore_error(pg));
        pgstore_close(pg);
        return CTL_FAIL;
    }
    pgstore_close(pg);
    if (c->json)
        ctl_print_json(json_pack("{s:b,s:i}", "ok", 1, "schema", (int)v), 0);
    else
        printf("ok: schema version %u, roles consent_relay and consent_writer\n", v);
    return CTL_OK;
}
