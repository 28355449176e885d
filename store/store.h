/* store - consent store and proof ledger (SPEC §5), LMDB backend.
 *
 * One LMDB environment per directory, opened once per process with
 * MDB_NOTLS so that any thread (libmilter workers, gate threads) may read.
 * Reads are one short read transaction each; writes are serialised by LMDB
 * across processes and return only after commit (durable).
 *
 * Memory: every allocation of the library's own code, and LMDB's, is
 * checked: a failure is STORE_ENOMEM and the write transaction is aborted,
 * so no half-applied event is left. The one GLib call, g_utf8_normalize
 * (NFC of an address, store_norm.c), aborts on out-of-memory as GLib does
 * (see rewriter.h, "Memory").
 *
 * The library never logs, exits or prints. Every function returns 0
 * (STORE_OK) or a STORE_E* code; store_strerror() names it.
 *
 * Layout (schema version 1; named databases in one environment):
 *   meta      "schema" u32, "hashkey" 32 random bytes, "head" (last ledger
 *             seq + its hash), "nextctl" u32, "migrations" text,
 *             "erasegen" u64 erasures so far (a writer that opened before
 *             the last one renews its handle first: store_scrub.c),
 *             "scrubgen" u64 erasegen covered by the last completed scrub,
 *             "scrub" u64 time of the last scrub commit.
 *   ctl       controller name -> u32 id (ids are never reused or changed).
 *   consent   key  = ctl id (4, big-endian) + 12 bytes of keyed BLAKE2b of
 *                    the normalised recipient (key: meta "hashkey");
 *             data = 20 bytes: u32 states (2 bits per purpose), u32 updated,
 *                    u32 legacy_informed (UTC seconds), u64 seq of the
 *                    recipient's latest ledger event.
 *             The address itself lives in the ledger: the latest event gives
 *             it to export/stats, and each event links to the recipient's
 *             previous one (rprev), so history needs no second index.
 *   ledger    key  = u64 big-endian sequence (appended, never reused);
 *             data = one event, see store_ledger.c for the encoding.
 *   lastopen  key = consent key; data = u32 day + the address (for
 *             `consentctl inactive`, which must list recipients unknown to
 *             the consent database).
 *   anon      key = ctl id + u32 day + campaign; data = u64 count.
 *   notices   key = SHA-256 of a notice text; data = first-seen time,
 *             source name and the exact text (store_notice.c). Not
 *             personal data: templates, the same for everyone shown them;
 *             kept by erasure.
 * The "< 100 bytes per recipient" budget covers `consent` (16-byte key,
 * 20-byte value, LMDB node and page overhead); the ledger is the proof and
 * grows with events, not recipients.
 *
 * Ledger hash chain: each event carries prev (the hash of the event before
 * it) and hash = SHA-256 over its canonical fields, its sequence, prev and
 * pii = SHA-256(salt, recipient, source IP, user agent, dedup). Erasure
 * (GDPR) removes salt, recipient, IP and UA from the recipient's events but
 * keeps pii and hash, so the chain still verifies and the erased data can
 * not be guessed back from pii (the random salt is gone too).
 *
 * Time stamps are UTC seconds in [0, 2^32) on disk.
 *
 * NOTE TO IMPLEMENTERS: this header is the contract used by consentctl, the
 * gate and the milter. Add to it freely; change existing signatures only
 * with a strong reason and fix every caller. */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

enum store_status {
    STORE_OK = 0,
    STORE_NOTFOUND, /* no record for that key */
    STORE_EINVAL,   /* bad argument: address, purpose, controller, date ... */
    STORE_ENOMEM,
    STORE_EIO,      /* LMDB or file system error */
    STORE_ECORRUPT, /* database content fails validation */
    STORE_EVERSION, /* schema version newer than this program */
    STORE_EFULL,    /* map full, or no space on the file system (ENOSPC, EDQUOT, EFBIG) */
    STORE_ENODB,    /* database directory missing (and not asked to create) */
    STORE_EBUSY,    /* store_erase: committed, but a long reader blocks the scrub */
};
const char *store_strerror(int rc);

/* Purposes: bit indexes. The first five are fixed; more may be registered. */
enum store_purpose {
    STORE_P_OPENS = 0,
    STORE_P_CLICKS = 1,
    STORE_P_PROFILING = 2,
    STORE_P_FRAUD = 3,
    STORE_P_DELIVERABILITY = 4, /* reserved */
    STORE_P_MAX = 16
};
/* store_purpose_parse - name -> index, or -1. */
int store_purpose_parse(const char *name);
const char *store_purpose_name(int idx);
/* store_purposes_parse - "opens,clicks" -> bit mask (1u << idx). Returns 0 or
 * STORE_EINVAL (unknown purpose; *bad points at its name in the input). */
int store_purposes_parse(const char *list, uint32_t *mask, const char **bad);

enum store_state { STORE_UNKNOWN = 0, STORE_GRANTED, STORE_REFUSED, STORE_WITHDRAWN };
const char *store_state_name(int st);

/* Current consent of one recipient for one controller. */
struct store_consent {
    uint8_t state[STORE_P_MAX]; /* enum store_state per purpose */
    int64_t updated;            /* UTC seconds of the last change, 0 if none */
    int64_t legacy_informed;    /* UTC seconds, 0 if never informed */
};

/* store_covers - 1 if every purpose in mask is STORE_GRANTED. */
int store_covers(const struct store_consent *c, uint32_t mask);

/* store_addr_normalise - SPEC §5 recipient key: trim whitespace and angle
 * brackets, lower-case ASCII, UTF-8 kept after NFC. Returns 0 or STORE_EINVAL
 * (not an address: no '@', empty local part or domain, control bytes, too
 * long). out must hold outlen bytes (STORE_ADDR_MAX is enough). */
#define STORE_ADDR_MAX 512
int store_addr_normalise(const char *in, char *out, size_t outlen);
/* store_controller_normalise - lower-case, [a-z0-9.-_] only. */
int store_controller_normalise(const char *in, char *out, size_t outlen);

struct store;

enum store_open_flags {
    STORE_CREATE = 1, /* create the directory/environment if missing */
    STORE_RDONLY = 2,
};
/* store_open - open (once per process) the environment in dir. max_readers:
 * the threads that may read at once (0: 126); the milter passes its worker
 * count plus margin, the gate its threads. The LMDB reader table gets at
 * least STORE_MIN_READERS slots whatever is asked: LMDB sizes it once, when
 * the first process creates the lock file, so every process asks for the
 * same floor and none can starve the others.
 * STORE_CREATE makes the directory (mode 0700) and a new environment with
 * schema STORE_SCHEMA_VERSION. The map may grow to 256 GiB (address space
 * only; the file grows with the data). With STORE_RDONLY every write
 * returns STORE_EINVAL. Returns 0, STORE_ENODB (no directory or no
 * environment in it and no STORE_CREATE), STORE_EVERSION, STORE_ECORRUPT
 * (not an LMDB file, or meta unreadable), STORE_EIO, STORE_ENOMEM. The
 * handle is shared by all threads; close it after every thread is done. */
#define STORE_MIN_READERS 1024
int store_open(const char *dir, unsigned flags, unsigned max_readers, struct store **out);
void store_close(struct store *st); /* accepts NULL */

/* store_consent_get - current consent. controller and rcpt are normalised by
 * the call. Returns 0 (filled), STORE_NOTFOUND (out zeroed = all unknown),
 * STORE_EINVAL, STORE_EIO. Thread-safe; uses its own short read
 * transaction (taken from a small pool of reset transactions and renewed,
 * which is cheaper than mdb_txn_begin), so never call it from a callback
 * of the walk functions below. Never blocks on writers, except for at
 * most 50 ms while a writer renews the handle after an erasure
 * (store_scrub.c, env_renew). */
int store_consent_get(struct store *st, const char *controller, const char *rcpt,
                      struct store_consent *out);

enum store_action {
    STORE_A_GRANT = 0,
    STORE_A_REFUSE,
    STORE_A_WITHDRAW,
    STORE_A_INFORM,
    STORE_A_IMPORT, /* import carries per-purpose states in the event */
    STORE_A_ERASE,  /* tombstone, written by store_erase only */
};
const char *store_action_name(int a);

/* One ledger event as the caller describes it; id, time, prev hash are set
 * by the store unless given. */
struct store_event {
    char id[37];  /* UUIDv4; filled by store_record if empty */
    int64_t time; /* UTC seconds; 0: now */
    const char *controller;
    const char *recipient;
    int action;            /* enum store_action */
    uint32_t purposes;     /* mask; WITHDRAW with 0 = all purposes */
    const char *method;    /* signup-form consent-page withdraw-link api import admin */
    const char *notice_id; /* may be NULL for withdraw */
    uint8_t notice_sha256[32]; /* SHA-256 of the exact notice text shown; zero if none */
    const char *source_ip;     /* NULL unless the domain allows storing it */
    const char *user_agent;    /* idem */
    const char *actor;         /* who recorded it: "admin:root", "gate", "api:key-id" */
    /* Added fields (zero-initialise the struct and these keep defaults): */
    uint32_t states; /* IMPORT only: 2 bits per purpose (enum store_state)
                        for the purposes in mask; see STORE_STATES_SET */
    uint64_t seq;    /* out: ledger sequence given by the store */
    int applied;     /* out: 1 if the current consent now says what the event
                        asked for (0: kept in the ledger as history only) */
    int changed;     /* out: 1 if the current consent changed */
    /* Optional, store_record only: the exact notice text. When set,
     * notice_sha256 must be its SHA-256 and it must not contain the
     * recipient's address (a rendered page is personal data and would
     * outlive erasure): else STORE_EINVAL. It is kept as a notice version
     * (store_notice_put) in the same transaction as the event, so no
     * event names a notice the store cannot show. */
    const void *notice_text;
    size_t notice_len;
    const char *notice_source; /* as store_notice_put's source */
};

/* STORE_CLOCK_SKEW - how far ahead of the store's clock an event may be
 * dated (seconds): a sign-up back end whose clock runs a little fast. The
 * one allowance for the API, import and consentctl; an event dated later
 * is refused (STORE_EINVAL), one inside it is recorded at the store's
 * current time (it cannot have happened later than its recording), so no
 * stored date is ever in the future. */
#define STORE_CLOCK_SKEW 300

/* 2-bit state of purpose p in a packed states word. */
#define STORE_STATES_GET(w, p) (((w) >> (2 * (p))) & 3u)
#define STORE_STATES_SET(w, p, s)                                                        \
    ((w) = ((w) & ~(3u << (2 * (p)))) | ((uint32_t)(s) << (2 * (p))))

/* store_record - apply one event to the current state and append it to the
 * ledger, in one write transaction; returns after commit. ev->id and time
 * filled in if empty, ev->seq set. Rules:
 *   GRANT/REFUSE set the purposes in mask (mask must be non-zero);
 *   WITHDRAW sets them to withdrawn (mask 0: every granted purpose);
 *   INFORM sets legacy_informed to the event time; IMPORT sets each purpose
 *   of mask to its state in ev->states.
 * Events apply in ledger (recording) order. An event dated before the
 * stored "updated" time (history, e.g. an import) is always appended to
 * the ledger but only: sets a granted purpose to refused/withdrawn (a
 * withdrawal or refusal wins over every grant recorded before it, whatever
 * the dates), and fills purposes still unknown, except that it never
 * grants one once any purpose is withdrawn (the withdrawal may have been
 * "stop everything"). So no event, back-dated or not, undoes a withdrawal
 * recorded before it; only a new grant dated at or after the current
 * state does. ev->time more than STORE_CLOCK_SKEW ahead of the store's
 * clock: STORE_EINVAL; inside the skew: recorded as now. On success
 * ev->applied and ev->changed tell whether the event took effect (a
 * caller must not report "done" when applied is 0).
 * controller, recipient, method are required (recipient is normalised);
 * strings are borrowed and copied. Returns 0, STORE_EINVAL, STORE_EIO,
 * STORE_EFULL, STORE_ECORRUPT. Thread-safe (LMDB serialises writers). */
int store_record(struct store *st, struct store_event *ev);

/* Deliverability: the day (UTC, days since epoch) of the last open,
 * overwritten each time; nothing else is kept but the normalised address
 * (for `consentctl inactive`). set: one write transaction, durable on
 * return; 0, STORE_EINVAL (bad controller/address, day outside
 * [0, 2^32)), STORE_EIO, STORE_EFULL. get: 0, STORE_NOTFOUND (*day = 0),
 * STORE_EINVAL, STORE_EIO. Both thread-safe. */
int store_lastopen_set(struct store *st, const char *controller, const char *rcpt,
                       int64_t day);
int store_lastopen_get(struct store *st, const char *controller, const char *rcpt,
                       int64_t *day);

/* Anonymous per-campaign per-day counters: no recipient, no IP, no UA.
 * campaign: 1-200 printable ASCII bytes without spaces. incr is one write
 * transaction (atomic across processes, durable on return). Returns as
 * the last-open functions; get gives STORE_NOTFOUND and *count = 0 for a
 * counter never incremented. Thread-safe. */
int store_anon_incr(struct store *st, const char *controller, const char *campaign,
                    int64_t day);
int store_anon_get(struct store *st, const char *controller, const char *campaign,
                   int64_t day, uint64_t *count);

/* ---- Additions beyond the first contract (used by consentctl). ---- */

#define STORE_SCHEMA_VERSION 1u

/* store_time_parse - "YYYY-MM-DD" (00:00 UTC), "YYYY-MM-DDTHH:MM:SS[Z|
 * +HH:MM]" or "YYYY-MM-DD HH:MM:SS", or decimal epoch seconds. Returns 0
 * or STORE_EINVAL (also for dates outside 1970..2105). */
int store_time_parse(const char *s, int64_t *out);
/* store_time_format - "YYYY-MM-DDTHH:MM:SSZ" into out (>= 21 bytes). */
void store_time_format(int64_t t, char *out, size_t outlen);

/* store_schema - the schema version stored in the environment. */
int store_schema(struct store *st, unsigned *version);

/* Batched writes: one write transaction for many events (import). Events
 * are applied exactly as store_record does. store_batch_add sets *dup to 1
 * (and records nothing) when the recipient already has an event with the
 * same content (controller, recipient, action, purposes, states, time,
 * method, notice, source; not id or actor): importing a file twice adds
 * nothing, whoever runs it.
 * ev->id: if given, it must be a UUID. After a failed add (other than
 * STORE_EINVAL, which leaves the batch usable) abort the batch.
 * store_batch_commit makes everything durable and frees b; on error the
 * batch is aborted and freed. Only one batch per thread at a time; it
 * holds LMDB's writer lock (other writers wait, readers do not), so keep
 * batches bounded: consentctl uses 100,000 rows sorted by store_order_key,
 * which a loaded 10M-recipient store commits in a few seconds. Events get
 * ledger sequence numbers in the order they are added. */
struct store_batch;
/* Prepared event: the part of store_batch_add that needs no transaction
 * (validation, normalisation, digests), so that an importer can do it in
 * another thread. store_event_prepare checks ev (as store_record would),
 * fills ev->id and ev->time if empty, and fills p; rnd must be 32 fresh
 * random bytes (randombytes_buf). Thread-safe. Returns 0 or STORE_EINVAL.
 * store_batch_add_prepared is store_batch_add for an ev already prepared
 * into p; ev must not change in between (the digests cover it). */
struct store_prep {
    uint8_t id[16];
    uint8_t order[12]; /* = store_order_key of the recipient */
    uint8_t dedup[16];
    uint8_t salt[16];
    uint8_t pii[32];
};
int store_event_prepare(struct store *st, struct store_event *ev, const uint8_t rnd[32],
                        struct store_prep *p);
int store_batch_add_prepared(struct store_batch *b, struct store_event *ev,
                             const struct store_prep *p, int *dup);
/* store_order_key - 12 opaque bytes for rcpt such that events of one
 * controller added in (order key) order touch the consent database in key
 * order: a large import sorted this way writes each page once per batch
 * instead of once per row. Returns 0 or STORE_EINVAL (bad address). */
int store_order_key(struct store *st, const char *rcpt, uint8_t out[12]);
int store_batch_begin(struct store *st, struct store_batch **out);
int store_batch_add(struct store_batch *b, struct store_event *ev, int *dup);
int store_batch_commit(struct store_batch *b);
void store_batch_abort(struct store_batch *b); /* accepts NULL */

/* One ledger event as read back. All pointers borrow from the read
 * transaction and are valid only during the callback. For a tombstone
 * (erased) event recipient, source_ip and user_agent are NULL. */
struct store_ledger_event {
    struct store_event ev;
    uint64_t seq;
    uint64_t rprev; /* seq of the recipient's previous event, 0 if none */
    int tombstone;
    uint8_t prev[32]; /* hash of event seq-1 (zero for the first) */
    uint8_t hash[32];
    uint8_t pii[32]; /* digest of the personal fields */
};
typedef int (*store_event_cb)(const struct store_ledger_event *e, void *arg);

/* store_history - every ledger event of (controller, rcpt), oldest first.
 * The callback returns 0 to go on, anything else to stop (returned as
 * is). Returns 0, STORE_NOTFOUND (no events), STORE_EINVAL, STORE_EIO,
 * STORE_ECORRUPT, STORE_ENOMEM. Each event's own hash and personal digest
 * are checked; a mismatch is STORE_ECORRUPT. */
int store_history(struct store *st, const char *controller, const char *rcpt,
                  store_event_cb cb, void *arg);

/* store_ledger_walk - every event from seq `from` (1 = first) in order. */
int store_ledger_walk(struct store *st, uint64_t from, store_event_cb cb, void *arg);

/* Result of store_verify. */
enum store_verify_problem {
    STORE_V_OK = 0,
    STORE_V_MODIFIED,       /* an event's content no longer matches its hash */
    STORE_V_PERSONAL,       /* personal fields do not match their digest */
    STORE_V_CHAIN,          /* prev hash != hash of the event before: deleted/reordered */
    STORE_V_MISSING,        /* a sequence number is missing: event deleted */
    STORE_V_MOVED,          /* event stored under another sequence: reordered */
    STORE_V_TRUNCATED,      /* the head in meta names an event that is gone */
    STORE_V_UNREADABLE,     /* an event cannot be decoded */
    STORE_V_STATE,          /* a current consent differs from the replay of its
                               recipient's events (consent database modified);
                               bad_seq/bad_id name that recipient's latest event */
    STORE_V_ANCHOR_MISSING, /* the chain ends before a recorded head's seq:
                               events at the end deleted, with the head */
    STORE_V_ANCHOR_DIFFERS, /* the event at a recorded head's seq has
                               another hash: the chain was rewritten */
};
struct store_verify {
    uint64_t events; /* events checked */
    uint64_t tombstones;
    int problem;      /* enum store_verify_problem */
    uint64_t bad_seq; /* first bad event (or where one is missing) */
    char bad_id[37];  /* its UUID, "" if unknown */
    uint8_t head[32]; /* hash of the last event: publish it as an anchor */
    uint64_t head_seq;
};
/* store_verify_problem_text - one phrase for a problem code. */
const char *store_verify_problem_text(int problem);
/* store_verify - walk the whole chain in one read transaction, then replay
 * each recipient's events and compare with its current consent. Returns 0
 * with res->problem set (STORE_V_OK when intact), or STORE_EIO etc. */
int store_verify(struct store *st, struct store_verify *res);
/* store_verify_anchor - store_verify, and the chain must contain a head
 * recorded earlier: event seq with hash (from verify's output or the
 * daemons' "ledger head" log line). Deleting the last events together with
 * their consent rows and the head leaves a chain that is intact on its
 * own; only such a record shows it. A chain shorter than seq is
 * STORE_V_ANCHOR_MISSING (bad_seq = seq), another hash at seq
 * STORE_V_ANCHOR_DIFFERS (bad_seq, bad_id: that event). Other problems
 * come first. Returns as store_verify. */
int store_verify_anchor(struct store *st, uint64_t seq, const uint8_t hash[32],
                        struct store_verify *res);
/* store_ledger_head - the head as recorded with the last event (seq 0 and
 * a zero hash for an empty ledger), in its own read transaction; for the
 * daemons' hourly log line. Returns 0, STORE_EINVAL, STORE_EIO,
 * STORE_ECORRUPT. Thread-safe. */
int store_ledger_head(struct store *st, uint64_t *seq, uint8_t hash[32]);

/* store_erase - GDPR erasure of (controller, rcpt): every ledger event of
 * that recipient becomes a tombstone (personal fields dropped, hash and
 * digests kept), the current consent and last-open day are deleted, and
 * one ERASE event (no recipient) is appended; all in one transaction.
 * *nevents (may be NULL) gets the number of events erased. Then the
 * freed pages are scrubbed (store_scrub) so that no byte of the erased
 * data is left in data.mdb (or a backup of it) when the call returns.
 * Returns 0, STORE_NOTFOUND (nothing known about that recipient),
 * STORE_EINVAL, STORE_EIO, STORE_EFULL, or STORE_EBUSY: erased and
 * committed, but a read transaction begun before the scrub's own commit
 * (so before or during the erase; any thread or process) outlived
 * STORE_SCRUB_WAIT_MS, so old copies may remain until store_scrub
 * succeeds. */
int store_erase(struct store *st, const char *controller, const char *rcpt,
                const char *actor, unsigned *nevents);

/* store_scrub - overwrite with zeros every byte of data.mdb that holds no
 * data of the newest snapshot and that no reader can read: the free pages
 * no snapshot reaches (LMDB's own rule for reusing a page: freed by a
 * transaction older than every live reader and than the last commit) and,
 * in every other page, the space no header, node or value uses (liblmdb
 * reuses page buffers uncleared, so that space can hold stale bytes).
 * Commits one small write to the meta database first, so that the pages
 * freed by the last commit become unreachable too; fsynced on return.
 * Dead readers are cleared (mdb_reader_check); live ones holding an older
 * snapshot are waited for up to wait_ms. Returns 0, STORE_EBUSY (some
 * pages still reachable by such a reader; nothing else is wrong; call
 * again later), STORE_EIO, STORE_ENOMEM, STORE_ECORRUPT. Reads and may
 * write every page of the file (store_scrub.c, store_gaps.c). */
#define STORE_SCRUB_WAIT_MS 5000
int store_scrub(struct store *st, unsigned wait_ms);
/* store_scrub_pending - *due = 1 when an erasure was committed that no
 * completed store_scrub has covered since (meta "erasegen" against
 * "scrubgen", which store_scrub records on completion; an environment
 * from before that record counts as due once). 0, or STORE_EIO. */
int store_scrub_pending(struct store *st, int *due);

/* Enumeration (read transaction; do not write from the callbacks).
 * store_consent_walk - every current record of controller (NULL: all),
 * with its address and controller (borrowed). */
typedef int (*store_consent_cb)(const char *controller, const char *rcpt,
                                const struct store_consent *c, void *arg);
int store_consent_walk(struct store *st, const char *controller, store_consent_cb cb,
                       void *arg);
/* store_consent_scan - the same; with STORE_SCAN_NOADDR the callback gets
 * rcpt NULL and no ledger read is made (counting: much faster). */
#define STORE_SCAN_NOADDR 1u
int store_consent_scan(struct store *st, const char *controller, unsigned flags,
                       store_consent_cb cb, void *arg);
/* store_lastopen_walk - every last-open record of controller. */
typedef int (*store_lastopen_cb)(const char *rcpt, int64_t day, void *arg);
int store_lastopen_walk(struct store *st, const char *controller, store_lastopen_cb cb,
                        void *arg);

/* ---- Notice versions (store_notice.c) ----
 * Content-addressed, append-only: the key is the SHA-256 of the exact
 * text, so a version can be neither edited nor confused with another.
 * store_notice_put keeps text (1..STORE_NOTICE_MAX bytes) with the time
 * it was first seen and source (who stored it: "consent-gate
 * pages/en/...", "consentctl FILE"; at most STORE_NOTICE_SOURCE_MAX
 * printable bytes, may be NULL); sha256 gets its hash; *added (may be
 * NULL) is 1 if it was new. Storing a known text again changes nothing.
 * Returns 0, STORE_EINVAL, STORE_EIO, STORE_EFULL. Thread-safe; one write
 * transaction only when the text is new.
 * store_notice_get calls cb (may be NULL: existence check) with the
 * version; store_notice_walk calls it for every version, in hash order.
 * The text and source borrow from the read transaction and are valid
 * only during the callback; a callback's non-zero return stops and is
 * returned. Returns 0, STORE_NOTFOUND (get: unknown hash), STORE_ECORRUPT
 * (the bytes no longer match their hash), STORE_EIO. Never call other
 * store functions from the callback.
 * store_notice_id - "PREFIX-<first 12 hex digits>": the notice id that
 * goes with a version, derived, never bumped by hand. */
#define STORE_NOTICE_MAX (1024 * 1024)
#define STORE_NOTICE_SOURCE_MAX 255
struct store_notice {
    uint8_t sha256[32];
    int64_t first_seen; /* UTC seconds */
    const char *source; /* "" if none */
    const void *text;
    size_t len;
};
typedef int (*store_notice_cb)(const struct store_notice *n, void *arg);
int store_notice_put(struct store *st, const void *text, size_t len, const char *source,
                     uint8_t sha256[32], int *added);
int store_notice_get(struct store *st, const uint8_t sha256[32], store_notice_cb cb,
                     void *arg);
int store_notice_walk(struct store *st, store_notice_cb cb, void *arg);
void store_notice_id(const char *prefix, const uint8_t sha256[32], char *out,
                     size_t outlen);

/* ---- Data-access export (store_access.c) ----
 * store_access - everything the store holds on (controller, rcpt), for a
 * data-access request (GDPR art. 15), as a sequence of items, each tagged
 * with the named database it comes from: "consent" (current state, at
 * most one), "lastopen" (deliverability day, at most one), "ledger" (every
 * event, oldest first), then "notices" (each distinct notice version the
 * events name that the store holds, once). Databases that hold nothing
 * per person (meta, ctl, anon) give no items. A new kind of personal data
 * must be added here: tests/unit/test_store_access.c fails otherwise.
 * Pointers in an item are valid only during the callback. The callback
 * returns 0 to go on. Returns 0, STORE_NOTFOUND (nothing held),
 * STORE_EINVAL, STORE_EIO, STORE_ECORRUPT, STORE_ENOMEM. Do not call other
 * store functions from the callback. */
struct store_access_item {
    const char *db;                          /* named database */
    const struct store_consent *consent;     /* "consent" */
    int64_t lastopen_day;                    /* "lastopen": days since epoch */
    const struct store_ledger_event *event;  /* "ledger" */
    const struct store_notice *notice;       /* "notices" */
    const struct store_event *outbox;        /* "outbox": a withdrawal the
                                                primary has not confirmed */
};
typedef int (*store_access_cb)(const struct store_access_item *it, void *arg);
int store_access(struct store *st, const char *controller, const char *rcpt,
                 store_access_cb cb, void *arg);

/* store_info - sizes for `consentctl stats` and the benchmark. */
struct store_info {
    uint64_t events;        /* ledger entries */
    uint64_t consents;      /* consent entries (all controllers) */
    uint64_t consent_bytes; /* pages of the consent database * page size */
    uint64_t ledger_bytes;
    uint64_t lastopen;   /* entries */
    uint64_t file_bytes; /* pages in use * page size (the data file) */
    unsigned readers_max;
    unsigned schema;
};
int store_info_get(struct store *st, struct store_info *out);

/* store_uuid_format/parse - 16 bytes <-> "xxxxxxxx-xxxx-4xxx-..." (37 bytes). */
void store_uuid_format(const uint8_t u[16], char out[37]);
int store_uuid_parse(const char *s, uint8_t u[16]);

#endif
