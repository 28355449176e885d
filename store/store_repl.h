/* store_repl - the ledger's wire form, replicas and the gate outbox
 * (issue 11: one system of record, local LMDB replicas).
 *
 * The wire form of an event IS its LMDB ledger value (format 1, see
 * store_ledger.c): a writer on the primary encodes and hashes it with the
 * same code as store_record, a replica appends the same bytes. So a
 * replica's ledger equals the primary's byte for byte and store_verify is
 * the same check on both sides.
 *
 * The codec needs no struct store: pgstore uses it to write the primary.
 * The replica and outbox functions work on an LMDB environment opened
 * with store_open. Like the rest of the store, nothing here logs. */
#ifndef STORE_STORE_REPL_H
#define STORE_STORE_REPL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- Pure codec ---- */

/* Largest ledger value (bytes), and the string arena a decode needs. */
#define STORE_WIRE_MAX (200 + 7 * (2 + 1024))
#define STORE_WIRE_STRS (1024 * 7 + 16)

/* The current consent of one recipient as stored (the consent database's
 * value): 2 bits per purpose, time of the last change, legacy informed
 * time, seq of the recipient's latest event. (DESIGN11 called it struct
 * store_state; that tag is taken by enum store_state in store.h.) */
struct store_cval {
    uint32_t states, updated, informed;
    uint64_t last;
};

/* store_state_apply - the state rule of store_record on a plain value;
 * found = 0 for a recipient with no state yet (s is then reset first).
 * Sets ev->applied and ev->changed; leaves s->last alone (the caller sets
 * it to the event's seq). Returns 0 or STORE_EINVAL (bad action). */
int store_state_apply(struct store_cval *s, struct store_event *ev, int found);

/* store_event_check_in - validate and normalise ev exactly as store_record
 * does (action GRANT..IMPORT, purposes, method, string limits, clock skew:
 * a date inside STORE_CLOCK_SKEW becomes now), fill ev->id (fresh UUIDv4)
 * and ev->time (now) if empty, clear states unless IMPORT. ctl_norm and
 * rcpt_norm get the normalised controller and recipient. notice_text, if
 * set, is checked as store_record checks it. Returns 0 or STORE_EINVAL. */
int store_event_check_in(struct store_event *ev, char ctl_norm[65],
                         char rcpt_norm[STORE_ADDR_MAX]);

/* One encoded event. id is the event's UUID as text (ev->id, or the one
 * made from rnd when ev->id is empty). */
struct store_wire {
    uint8_t raw[STORE_WIRE_MAX];
    size_t len;
    uint8_t hash[32];
    uint8_t dedup[16];
    char id[37];
};
/* store_event_encode - one ledger value, ready to store at seq. hashkey:
 * the store's 32-byte key for dedup digests (the primary keeps its own);
 * rnd: 32 fresh random bytes (rnd[0..15] make an id when ev->id is empty,
 * rnd[16..31] the personal salt); prev: hash of event seq-1 (zero for the
 * first); rprev: seq of the recipient's previous event (0: none; for an
 * ERASE, the erased recipient's latest event). rcpt_norm NULL makes a
 * tombstone-born event (ERASE: no personal part, dedup zero). ev's fields
 * are used as given (run store_event_check_in first for a live event).
 * Returns 0 or STORE_EINVAL (a string too long, a bad id). */
int store_event_encode(const uint8_t hashkey[32], const struct store_event *ev,
                       const char *ctl_norm, const char *rcpt_norm, uint64_t seq,
                       uint64_t rprev, const uint8_t prev[32], const uint8_t rnd[32],
                       struct store_wire *out);
/* store_event_dedup - the recipient-content digest store_event_encode puts
 * in out->dedup (keyed by hashkey; the same for two events that say the
 * same thing about the same recipient, whatever their id, seq or salt),
 * without encoding: an importer checks for repeats before it numbers
 * events. ctl_norm/rcpt_norm as for store_event_encode. Returns 0 or
 * STORE_EINVAL. */
int store_event_dedup(const uint8_t hashkey[32], const struct store_event *ev,
                      const char *ctl_norm, const char *rcpt_norm, uint8_t out[16]);
/* store_wire_decode - decode raw and check its hash and, unless it is a
 * tombstone, its personal digest. out's strings borrow from strs (at least
 * STORE_WIRE_STRS bytes). Returns 0, STORE_EINVAL (arguments) or
 * STORE_ECORRUPT (undecodable, hash or digest mismatch). */
int store_wire_decode(const void *raw, size_t len, struct store_ledger_event *out,
                      char *strs, size_t strslen);
/* store_wire_tombstone - the tombstone form of raw: format, canonical part
 * and hash kept, tombstone flag set, personal part dropped (the same bytes
 * store_erase leaves). out must hold len bytes; *outlen gets the length.
 * A tombstone gives itself. Returns 0, STORE_EINVAL or STORE_ECORRUPT
 * (undecodable). The hash is not checked. */
int store_wire_tombstone(const void *raw, size_t len, uint8_t *out, size_t *outlen);

/* ---- Raw ledger walk ---- */

/* store_ledger_walk_raw - every ledger value from seq `from` in order, as
 * stored (raw borrows from the read transaction, valid during the call).
 * A non-zero callback return stops the walk and is returned. Returns 0,
 * STORE_EINVAL, STORE_EIO, STORE_ECORRUPT (a key that is not a seq). */
typedef int (*store_raw_cb)(uint64_t seq, const void *raw, size_t len, void *arg);
int store_ledger_walk_raw(struct store *st, uint64_t from, store_raw_cb cb, void *arg);

/* ---- Replica side (an environment opened with store_open) ---- */

struct store_repl_result {
    uint64_t applied, skipped;
    uint64_t bad_seq; /* first event that did not fit (for a gap: the missing seq) */
    int problem;      /* enum store_verify_problem */
    int scrub_due;    /* an ERASE committed but a reader blocked the scrub */
};
/* store_replica_apply - n raw events in seq order, in ONE write transaction
 * that also sets meta "synced" = synced_at and marks the environment a
 * replica. An event at a seq already held whose hash equals the local one
 * is skipped (idempotent). The first event that does not fit stops: seq
 * gap (STORE_V_MISSING), prev != head hash (STORE_V_CHAIN), bad hash
 * (STORE_V_MODIFIED) or personal digest (STORE_V_PERSONAL), undecodable
 * (STORE_V_UNREADABLE), another event at a held seq
 * (STORE_V_ANCHOR_DIFFERS), rprev not the recipient's latest here
 * (STORE_V_STATE). The events before it commit; returns STORE_ECORRUPT.
 * A tombstone is appended with no state change; an ERASE with rprev
 * tombstones the local chain from rprev, deletes the recipient's consent
 * and last-open day, and the file is scrubbed after the commit. When a
 * reader holds an old snapshot past STORE_SCRUB_WAIT_MS the events stay
 * applied, res->scrub_due is set and 0 is returned: the caller must call
 * store_scrub again until it succeeds. The erasure is counted, so this
 * handle renews its environment before its next write (st_wr_begin):
 * LMDB's reused page buffers cannot bring the erased bytes back. Returns
 * 0, STORE_ECORRUPT,
 * STORE_EINVAL (read-only handle), STORE_EIO, STORE_EFULL. */
int store_replica_apply(struct store *st, const void *const *raw, const size_t *len,
                        size_t n, int64_t synced_at, struct store_repl_result *res);
/* store_replica_touch - only meta "synced" = synced_at. */
int store_replica_touch(struct store *st, int64_t synced_at);
/* store_replica_status - is_replica, head seq, synced_at (0: never). One
 * read transaction; thread-safe, cheap enough once per message. */
int store_replica_status(struct store *st, int *is_replica, uint64_t *head,
                         int64_t *synced_at);

/* ---- Gate outbox (named database "outbox"; durable) ----
 * Withdrawals applied locally that the primary has not confirmed yet.
 * key = ev->id (UUID text, required: run store_event_check_in first);
 * value = controller and recipient (normalised), action, purposes,
 * states, time, method, actor, notice id/sha, source ip, user agent.
 * put overwrites an entry with the same id. walk calls cb for each entry
 * in id order (ev borrows scratch space valid during the call; a non-zero
 * return stops and is returned; do not call store functions from cb).
 * del: STORE_NOTFOUND when absent. withdrawn: the purposes a pending
 * withdrawal covers for (ctl, rcpt), all STORE_P_MAX bits for "withdraw
 * all", 0 if none. Writes on a read-only handle: STORE_EINVAL. */
int store_outbox_put(struct store *st, const struct store_event *ev);
int store_outbox_walk(struct store *st, int (*cb)(const struct store_event *ev, void *arg),
                      void *arg);
int store_outbox_del(struct store *st, const char *id);
int store_outbox_withdrawn(struct store *st, const char *ctl, const char *rcpt,
                           uint32_t *mask);

#endif
