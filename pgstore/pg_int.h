/* pg_int - internals shared by the files of pgstore/ (not for callers). */
#ifndef PGSTORE_PG_INT_H
#define PGSTORE_PG_INT_H

#include <stdint.h>

#include <libpq-fe.h>

#include "pgstore/pgstore.h"

struct pgstore {
    PGconn *conn;
    uint8_t hashkey[32]; /* meta "hashkey": the dedup digests' key */
    char err[512];       /* last statement error, one line */
};

/* pg_exec_ok - 0 if r has status want, else STORE_EIO with pg->err set;
 * clears r either way. */
int pg_exec_ok(struct pgstore *pg, PGresult *r, ExecStatusType want);
int pg_load_hashkey(struct pgstore *pg);

#endif
