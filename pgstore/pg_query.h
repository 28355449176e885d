/* pg_query - reading the primary for consentctl: export, proof, stats.
 *
 * Walks stream their rows (libpq single-row mode), so memory does not
 * grow with the tables; each walk is one statement, so one snapshot. A
 * callback's non-zero return stops the walk and is returned. Every call
 * returns 0, STORE_NOTFOUND (the *_get calls: nothing held), STORE_EINVAL,
 * STORE_EIO (pgstore_error says why) or STORE_ECORRUPT (a value of the
 * wrong shape). Nothing here decodes ledger values: the caller runs
 * store_wire_decode, which checks each event's hash and personal digest. */
#ifndef PGSTORE_PG_QUERY_H
#define PGSTORE_PG_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "pgstore/pgstore.h"

/* The consent table (controller NULL: all), ordered by controller and
 * recipient. */
typedef int (*pgstore_consent_cb)(const char *ctl, const char *rcpt,
                                  const struct store_consent *s, void *arg);
int pgstore_consent_walk(struct pgstore *pg, const char *ctl, pgstore_consent_cb cb,
                         void *arg);
/* The whole ledger in seq order (raw values, tombstones included). */
int pgstore_ledger_walk(struct pgstore *pg, pgstore_raw_cb cb, void *arg);
/* One person: the ledger rows of (ctl, rcpt) in seq order (erased rows
 * have no recipient and are not among them), the consent and the
 * last-open day. ctl and rcpt are normalised by the caller. */
int pgstore_person_history(struct pgstore *pg, const char *ctl, const char *rcpt,
                           pgstore_raw_cb cb, void *arg);
int pgstore_consent_get(struct pgstore *pg, const char *ctl, const char *rcpt,
                        struct store_consent *out);
int pgstore_lastopen_get(struct pgstore *pg, const char *ctl, const char *rcpt,
                         int64_t *day);
/* One notice version by its SHA-256 (STORE_NOTFOUND if the primary does
 * not hold its text). n's pointers borrow for the call. */
int pgstore_notice_get(struct pgstore *pg, const uint8_t sha256[32],
                       int (*cb)(const struct store_notice *n, void *arg), void *arg);
/* Counts for stats: cb once per (controller, packed states, informed?)
 * group with its number of recipients; then the totals. */
typedef int (*pgstore_count_cb)(const char *ctl, uint32_t states, int informed,
                                uint64_t n, void *arg);
int pgstore_consent_counts(struct pgstore *pg, const char *ctl, pgstore_count_cb cb,
                           void *arg);
struct pgstore_info {
    uint64_t events, consents, lastopen;
    uint64_t consent_bytes, ledger_bytes, db_bytes; /* pg_total_relation_size */
    unsigned schema;
};
int pgstore_info_get(struct pgstore *pg, struct pgstore_info *out);

#endif
