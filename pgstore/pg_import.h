/* pg_import - bulk import into the PostgreSQL primary with COPY.
 *
 * The whole import is ONE transaction: the chain head is locked (SELECT
 * ... FOR UPDATE on ledger_head) for its length, so seq stays gapless and
 * in commit order, and other writers (gates, consentctl) wait for it;
 * any error rolls everything back, so a failed import leaves nothing. The
 * events are encoded and hashed in C with the store's codec
 * (store_event_encode: the LMDB ledger format), numbered head+1, head+2,
 * ... in the order they were added, and sent in batches:
 *   COPY the batch's keys (controller, recipient, dedup digest, given id)
 *   into a temporary table; one SELECT returns, per row, the recipient's
 *   current consent and whether the ledger already holds an event with the
 *   same content (dedup) or the same id; the state rule and the encoding
 *   run in C; COPY the ledger rows; COPY the batch's final consent rows
 *   and upsert them with one INSERT .. ON CONFLICT.
 * At the end the head row is moved once and pg_notify('consent_ledger',
 * head) is called once, in the same transaction.
 * Semantics are those of the LMDB import (store_batch_add_prepared): an
 * event whose content the recipient's chain already holds is a duplicate
 * and skipped; events of one recipient keep their order; an event dated
 * before the current consent is history only. An event whose given id is
 * already in the ledger with other content is refused (the primary keeps
 * ids unique; the LMDB store does not index them). Not thread-safe; the
 * library never logs. */
#ifndef PGSTORE_PG_IMPORT_H
#define PGSTORE_PG_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct pgstore;
struct pgstore_import;

enum pgstore_reject { PGSTORE_R_INVALID = 1, PGSTORE_R_ID_TAKEN = 2 };
/* reject: a row refused at flush time (tag as given to add, why, the
 * event's id). */
typedef void (*pgstore_reject_fn)(void *arg, unsigned long tag, int why, const char *id);

struct pgstore_import_counts {
    unsigned long added, dups, batches;
    uint64_t head; /* head seq after the import (uncommitted on dry run) */
};

/* pgstore_import_begin - BEGIN, lock the head, make the temporary tables.
 * batch: events per batch (>= 1). dry_run: end rolls back after the last
 * batch (the counts are still right). Returns 0, STORE_EINVAL, STORE_EIO,
 * STORE_ECORRUPT (head row bad), STORE_ENOMEM. */
int pgstore_import_begin(struct pgstore *pg, size_t batch, int dry_run,
                         pgstore_reject_fn reject, void *arg, struct pgstore_import **out);
/* pgstore_import_add - validate ev (store_event_check_in: STORE_EINVAL,
 * nothing queued) and queue a copy; a full batch is sent. Returns 0,
 * STORE_EINVAL, or the STORE_E* of a failed batch (the import is then
 * dead: call end with commit 0). */
int pgstore_import_add(struct pgstore_import *im, const struct store_event *ev,
                       unsigned long tag);
/* pgstore_import_end - commit = 1: send the rest, move the head, notify,
 * COMMIT (ROLLBACK for a dry run); commit = 0: ROLLBACK (abandon). Frees im. Returns 0
 * or the first STORE_E*; *out (may be NULL) gets the counts. */
int pgstore_import_end(struct pgstore_import *im, int commit,
                       struct pgstore_import_counts *out);

#endif
