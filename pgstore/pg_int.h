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
    char msg[512];       /* pgstore_error's copy of libpq's message */
};

/* pg_exec_ok - 0 if r has status want, else STORE_EIO with pg->err set;
 * clears r either way. */
int pg_exec_ok(struct pgstore *pg, PGresult *r, ExecStatusType want);
/* pg_set_err - err = "what: msg" on one line, without PostgreSQL's DETAIL
 * and CONTEXT lines (they may quote a row: addresses stay out of logs). */
void pg_set_err(char *err, size_t errlen, const char *what, const char *msg);
int pg_load_hashkey(struct pgstore *pg);
/* pg_write.c (built with store/store_repl.h): lock the head row inside
 * the caller's transaction; append one encoded event at ev->seq (rn NULL
 * and cv NULL: an ERASE event, no consent row). */
struct store_cval;
struct store_wire;
int pg_head_lock(struct pgstore *pg, uint64_t *seq, uint8_t hash[32]);
int pg_append(struct pgstore *pg, const struct store_event *ev, const char *cn,
              const char *rn, const struct store_cval *cv, const struct store_wire *w);
/* pg_state.c: replay every recipient's events against the consent table,
 * inside the caller's (read-only) transaction; res->problem =
 * STORE_V_STATE and bad_seq at the first mismatch. */
struct store_verify;
int pg_verify_state(struct pgstore *pg, struct store_verify *res);

#endif
