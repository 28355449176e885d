/* pgstore - the PostgreSQL primary: the system of record of issue 11.
 *
 * One connection per struct pgstore (libpq; not thread-safe: one thread at
 * a time, the caller locks). The schema is sql/schema-v1.sql; every call
 * maps failures to STORE_* codes: STORE_EIO for the connection or a
 * statement that failed, STORE_EVERSION for a database whose
 * schema_version is not PGSTORE_SCHEMA_VERSION, STORE_EINVAL for bad
 * arguments. pgstore_error() gives the last libpq message (never a
 * password: libpq does not echo it). The library never logs or exits. */
#ifndef PGSTORE_PGSTORE_H
#define PGSTORE_PGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define PGSTORE_SCHEMA_VERSION 1
/* Seconds libpq may spend on connecting when conninfo sets none. */
#define PGSTORE_CONNECT_TIMEOUT 5

struct pgstore;
struct store_wire;

/* pgstore_connect - connect with conninfo (a libpq keyword string or URI;
 * a password in it is refused: STORE_EINVAL) and passfile (may be NULL;
 * libpq ignores one that is not mode 0600), then check schema_version.
 * connect_timeout is PGSTORE_CONNECT_TIMEOUT unless conninfo sets it, so
 * an unreachable host fails instead of hanging. err (errlen bytes) gets a
 * one-line reason on failure. Returns 0, STORE_EINVAL, STORE_EIO (cannot
 * connect: wrong password, host down, no database), STORE_EVERSION
 * (schema missing or another version), STORE_ENOMEM. */
int pgstore_connect(const char *conninfo, const char *passfile, struct pgstore **out,
                    char *err, size_t errlen);
/* pgstore_connect_raw - the same without the schema check (pg-init). */
int pgstore_connect_raw(const char *conninfo, const char *passfile, struct pgstore **out,
                        char *err, size_t errlen);
void pgstore_close(struct pgstore *pg); /* accepts NULL */
const char *pgstore_error(struct pgstore *pg);

/* pgstore_init - apply sql/schema-v1.sql (idempotent) and create the
 * dedup key in meta if missing, in one transaction. Needs a role that
 * may create tables and roles. Returns 0, STORE_EIO, STORE_EVERSION (the
 * database already holds a newer schema). *version gets the result. */
int pgstore_init(struct pgstore *pg, unsigned *version);
/* pgstore_schema - the schema_version of the database (0: none). */
int pgstore_schema(struct pgstore *pg, unsigned *version);

/* pgstore_record - one event in one transaction: lock the head, validate
 * (store_event_check_in), state rule, encode (store_event_encode, the LMDB
 * ledger format), insert, upsert consent, advance the head,
 * pg_notify('consent_ledger', seq), commit. An ev->id already in the
 * ledger: 0 with ev->seq = that event, no new row (idempotent forward).
 * wire (may be NULL) gets the raw bytes of the new event (len 0 for a
 * repeat). Returns 0, STORE_EINVAL, STORE_EIO, STORE_ECORRUPT. */
int pgstore_record(struct pgstore *pg, struct store_event *ev, struct store_wire *wire);
/* pgstore_fetch - events with seq > after, at most limit, in seq order;
 * cb gets the raw ledger value (borrowed for the call); a non-zero return
 * stops and is returned. Returns 0, STORE_EIO or cb's value. */
typedef int (*pgstore_raw_cb)(uint64_t seq, const void *raw, size_t len, void *arg);
int pgstore_fetch(struct pgstore *pg, uint64_t after, unsigned limit, pgstore_raw_cb cb,
                  void *arg);
/* pgstore_head - the chain head (seq 0 and zero hash when empty). */
int pgstore_head(struct pgstore *pg, uint64_t *seq, uint8_t hash[32]);
/* LISTEN consent_ledger; wait: 1 notified (all pending consumed), 0
 * timeout, <0 connection lost; socket: for poll(2). */
int pgstore_listen(struct pgstore *pg);
int pgstore_wait(struct pgstore *pg, int timeout_ms);
int pgstore_socket(struct pgstore *pg);
/* pgstore_erase - GDPR erasure on the primary (see store_erase). */
int pgstore_erase(struct pgstore *pg, const char *ctl, const char *rcpt, const char *actor,
                  unsigned *n);
/* pgstore_verify - the chain in PostgreSQL, with the store's decoder:
 * res as store_verify fills it (events, tombstones, head, problem,
 * bad_seq: the first bad row); then every consent row against the
 * replay of its recipient's events (STORE_V_STATE, bad_seq = that
 * recipient's latest event, at the first mismatch).
 * Returns 0 (res->problem says the outcome), STORE_EIO. */
int pgstore_verify(struct pgstore *pg, struct store_verify *res);
/* Gate batches: last-open day (overwrite), anonymous counter (+n). */
int pgstore_lastopen_set(struct pgstore *pg, const char *ctl, const char *rcpt, int64_t day);
int pgstore_anon_add(struct pgstore *pg, const char *ctl, const char *campaign, int64_t day,
                     uint64_t n);

#endif
