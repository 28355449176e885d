/* store - consent store and proof ledger (SPEC §5), LMDB backend.
 *
 * One LMDB environment per directory, opened once per process with
 * MDB_NOTLS so that any thread (libmilter workers, gate threads) may read.
 * Reads are one short read transaction each; writes are serialised by LMDB
 * across processes and return only after commit (durable).
 *
 * The library never logs, exits or prints. Every function returns 0
 * (STORE_OK) or a STORE_E* code; store_strerror() names it.
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
    STORE_NOTFOUND,  /* no record for that key */
    STORE_EINVAL,    /* bad argument: address, purpose, controller, date ... */
    STORE_ENOMEM,
    STORE_EIO,       /* LMDB or file system error */
    STORE_ECORRUPT,  /* database content fails validation */
    STORE_EVERSION,  /* schema version newer than this program */
    STORE_EFULL,     /* map full */
    STORE_ENODB,     /* database directory missing (and not asked to create) */
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
    STORE_CREATE = 1,  /* create the directory/environment if missing */
    STORE_RDONLY = 2,
};
/* store_open - open (once per process) the environment in dir. max_readers:
 * 0 for the default (126); a milter passes its worker count plus margin. */
int store_open(const char *dir, unsigned flags, unsigned max_readers, struct store **out);
void store_close(struct store *st); /* accepts NULL */

/* store_consent_get - current consent. controller and rcpt are normalised by
 * the call. Returns 0 (filled), STORE_NOTFOUND (out zeroed = all unknown),
 * STORE_EINVAL, STORE_EIO. Thread-safe; opens its own read transaction. */
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
    char id[37];              /* UUIDv4; filled by store_record if empty */
    int64_t time;             /* UTC seconds; 0: now */
    const char *controller;
    const char *recipient;
    int action;               /* enum store_action */
    uint32_t purposes;        /* mask; WITHDRAW with 0 = all purposes */
    const char *method;       /* signup-form consent-page withdraw-link api import admin */
    const char *notice_id;    /* may be NULL for withdraw */
    uint8_t notice_sha256[32];/* SHA-256 of the exact notice text shown; zero if none */
    const char *source_ip;    /* NULL unless the domain allows storing it */
    const char *user_agent;   /* idem */
    const char *actor;        /* who recorded it: "admin:root", "gate", "api:key-id" */
};

/* store_record - apply one event to the current state and append it to the
 * ledger, in one write transaction; returns after commit. ev->id and time
 * filled in if empty. Returns 0, STORE_EINVAL, STORE_EIO, STORE_EFULL. */
int store_record(struct store *st, struct store_event *ev);

/* Deliverability: the day (UTC, days since epoch) of the last open,
 * overwritten each time; nothing else is kept. */
int store_lastopen_set(struct store *st, const char *controller, const char *rcpt,
                       int64_t day);
int store_lastopen_get(struct store *st, const char *controller, const char *rcpt,
                       int64_t *day);

/* Anonymous per-campaign per-day counters: no recipient, no IP, no UA. */
int store_anon_incr(struct store *st, const char *controller, const char *campaign,
                    int64_t day);
int store_anon_get(struct store *st, const char *controller, const char *campaign,
                   int64_t day, uint64_t *count);

#endif
