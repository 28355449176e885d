/* pg_ver CONNINFO [PASSFILE] - pgstore_connect and nothing else, for the
 * schema-version cases of tests/pg/run.sh: prints "connected" (exit 0) or
 * "rc=N reason" (exit 1). Built by pgstore/module.mk with the project's
 * flags, so it runs under make check-asan like everything else. */
#include <stdio.h>

#include "pgstore/pgstore.h"

int main(int argc, char **argv)
{
    struct pgstore *pg;
    char err[600];
    int rc;

    if (argc < 2) {
        fputs("usage: pg_ver CONNINFO [PASSFILE]\n", stderr);
        return 2;
    }
    rc = pgstore_connect(argv[1], argc > 2 ? argv[2] : NULL, &pg, err, sizeof err);
    if (rc == 0) {
        puts("connected");
        pgstore_close(pg);
        return 0;
    }
    printf("rc=%d %s\n", rc, err);
    return 1;
}
