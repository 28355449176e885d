/* pg_migrate - copying a single-host LMDB store into the PostgreSQL
 * primary, keeping every event's seq and bytes (`consentctl migrate`),
 * and comparing a replica's head with the primary's (`verify --replica`).
 * Part of libpgstore; a separate header so callers of pgstore.h need not
 * see the LMDB side. The library never logs or exits. */
#ifndef PGSTORE_PG_MIGRATE_H
#define PGSTORE_PG_MIGRATE_H

#include <stdint.h>

#include "pgstore/pgstore.h"

/* Why a migration was refused (res->refused). */
enum pgstore_mig_refusal {
    PGSTORE_MIG_OK = 0,
    PGSTORE_MIG_DIVERGED, /* the primary holds another event at res->bad_seq */
    PGSTORE_MIG_AHEAD,    /* the primary holds more events than the store */
    PGSTORE_MIG_KEY,      /* the primary's dedup key is not the store's */
    PGSTORE_MIG_MOVED,    /* the primary's head moved while copying (a writer) */
};
const char *pgstore_mig_refusal_text(int refused);

struct pgstore_mig_res {
    uint64_t store_head;  /* events in the store */
    uint64_t pg_before;   /* events the primary held before (resumed from) */
    uint64_t copied;      /* events appended now */
    uint64_t tombstoned;  /* primary rows turned into the store's tombstones */
    uint64_t batches;     /* ledger transactions committed */
    uint64_t consents, lastopen, anon, notices; /* rows written */
    int refused;          /* enum pgstore_mig_refusal; 0 when copied */
    uint64_t bad_seq;
};

/* pgstore_migrate - make the primary's ledger equal to the store's, byte
 * for byte: the primary's ledger must be empty or a prefix of the store's
 * (same raw value at every seq it holds, or the tombstone the store now
 * has, which it then takes), else nothing is written and res->refused
 * says why. The store's dedup key goes into meta first (an empty primary
 * only; needs UPDATE on meta: the role that ran pg-init). The missing
 * events are appended with COPY in transactions of `batch` events, each
 * under the head lock and moving the head with it, so an interruption
 * leaves a shorter prefix and a re-run resumes. Then, in one transaction,
 * the consent, last-open and anonymous counter tables are replaced by the
 * store's, the notice versions added, and pg_notify sent. Verify the
 * store's chain first (store_verify): this copies what it finds. Returns
 * 0 (see res->refused), STORE_EINVAL, STORE_EIO (pgstore_error says
 * which statement), STORE_ECORRUPT (an undecodable store value),
 * STORE_ENOMEM. */
int pgstore_migrate(struct pgstore *pg, struct store *st, unsigned batch,
                    struct pgstore_mig_res *res);

/* pgstore_hash_at - the hash of the primary's event seq (its raw value
 * decoded and checked). *found = 0 when the primary has no such event.
 * Returns 0, STORE_EIO, STORE_ECORRUPT (the row does not decode). */
int pgstore_hash_at(struct pgstore *pg, uint64_t seq, uint8_t hash[32], int *found);

#endif
