/* store_dump - everything an LMDB environment holds, as stored, for
 * `consentctl migrate` (copying a single-host store into the PostgreSQL
 * primary without losing a byte of proof).
 *
 * Each walk is one read transaction; pointers given to a callback borrow
 * from it and are valid only during the call; a non-zero callback return
 * stops the walk and is returned. Never call other store functions from a
 * callback. Returns 0, STORE_EINVAL, STORE_EIO, STORE_ECORRUPT (a record
 * not laid out as the store writes it), STORE_ENOMEM, or the callback's
 * value. Like the rest of the store, nothing here logs. */
#ifndef STORE_STORE_DUMP_H
#define STORE_STORE_DUMP_H

#include <stdint.h>

#include "store/store.h"
#include "store/store_repl.h"

/* store_hashkey_get - the environment's 32-byte key of its dedup digests
 * and consent keys (meta "hashkey"). The primary must use the same key
 * after a migration, or an import of rows already held would add them
 * again. Secret: wipe it after use (sodium_memzero). */
int store_hashkey_get(struct store *st, uint8_t out[32]);

/* store_cval_walk - every current consent record as stored (the packed
 * value, with the seq of the recipient's latest event), with controller
 * and recipient (read from that event). */
typedef int (*store_cval_cb)(const char *ctl, const char *rcpt, const struct store_cval *v,
                             void *arg);
int store_cval_walk(struct store *st, store_cval_cb cb, void *arg);

/* store_lastopen_dump - every last-open day of every controller. */
typedef int (*store_lastopen_all_cb)(const char *ctl, const char *rcpt, int64_t day,
                                     void *arg);
int store_lastopen_dump(struct store *st, store_lastopen_all_cb cb, void *arg);

/* store_anon_dump - every anonymous counter. */
typedef int (*store_anon_cb)(const char *ctl, const char *campaign, int64_t day,
                             uint64_t count, void *arg);
int store_anon_dump(struct store *st, store_anon_cb cb, void *arg);

/* store_wire_dedup - the dedup digest inside a ledger value (what the
 * primary's ledger.dedup column holds). STORE_NOTFOUND for a tombstone
 * (no personal part), STORE_ECORRUPT when undecodable. The hash is not
 * checked (store_wire_decode does that). */
int store_wire_dedup(const void *raw, size_t len, uint8_t out[16]);

#endif
