/* store_int - internals shared by the store_*.c files (not for callers).
 *
 * struct store, the consent-value codec, the ledger event codec and the
 * read-transaction pool. See store.h for the on-disk layout. */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <lmdb.h>

#include "store/store.h"
#include "store/store_repl.h"

#define ST_POOL_MAX 32  /* reset read transactions kept for reuse */
#define ST_CTL_CACHE 64 /* controller name -> id entries cached */
#define ST_KEYLEN 16    /* consent / lastopen key: ctl id (4) + hash (12) */
#define ST_CVAL_LEN 20  /* consent value */
#define ST_CTL_MAX 65
#define ST_STR_MAX 1024 /* longest string field in an event */

struct st_ctl_entry {
    char name[ST_CTL_MAX];
    uint32_t id;
};

struct store {
    MDB_env *env;
    MDB_dbi meta, ctl, consent, ledger, lastopen, anon, notices, outbox;
    int has_notices; /* 0: old environment opened read-only */
    int has_outbox;  /* idem */
    uint8_t hashkey[32];
    int rdonly;
    pthread_mutex_t lock; /* pool, controller cache, active and renewing */
    MDB_txn *pool[ST_POOL_MAX];
    unsigned npool, pool_max;
    /* Renewing the environment (store_env.c, st_wr_begin): the
     * transactions of this handle in flight, and the wait for none. */
    pthread_cond_t idle;
    unsigned active;
    int renewing;
    uint64_t erasegen;   /* meta "erasegen" when env was opened */
    int scrub_owed;      /* a write went ahead with stale buffers */
    time_t renew_after, scrub_after, revive_after; /* back-off */
    unsigned renewals;   /* env_renew done (tests) */
    char *dir;
    unsigned max_readers;
    struct st_ctl_entry ctls[ST_CTL_CACHE];
    unsigned nctls;
};

/* Current consent value as stored: struct store_cval (store_repl.h). */

/* A batch: one write transaction and the ledger head it advances. */
struct store_batch {
    struct store *st;
    MDB_txn *txn;
    uint64_t head_seq;
    uint8_t head_hash[32];
    uint8_t rnd[2048]; /* random bytes fetched in bulk (one syscall) */
    size_t rnd_left;
};

/* store_env.c */
int st_mdb_rc(int rc);
int st_rd_begin(struct store *st, MDB_txn **txn);
void st_rd_end(struct store *st, MDB_txn *txn);
/* st_wr_begin first renews the environment when an erase committed
 * since it was opened (see there); a write transaction ends with
 * st_wr_commit or st_wr_abort. */
int st_wr_begin(struct store *st, MDB_txn **txn); /* store_scrub.c */
void st_wr_abort(struct store *st, MDB_txn *txn);
/* The pieces st_wr_begin is made of: mdb_txn_begin adopting a map another
 * process grew; counting a transaction of this handle in and out (st_enter
 * waits out a renewal, and reopens after a failed one); closing and
 * reopening the environment, holding st->lock with no transaction open. */
int st_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);
int st_enter(struct store *st);
void st_leave(struct store *st);
unsigned st_held(void); /* transactions this thread holds, every handle */
int st_env_reopen_locked(struct store *st);
/* Count an erase in txn: every writer of the environment renews its
 * handle before its next write. */
int st_erasegen_bump(struct store *st, MDB_txn *txn);
/* meta u64 name (0 when absent; *present says which, may be NULL). */
uint64_t st_meta_u64(struct store *st, MDB_txn *txn, const char *name, int *present);
/* Commits txn (ended either way); a short write on a full disk, quota or
 * file size limit is STORE_EFULL, not STORE_EIO. */
int st_wr_commit(struct store *st, MDB_txn *txn);
int st_ctl_id(struct store *st, MDB_txn *txn, const char *ctl, int create, uint32_t *id);
int st_ctl_name(MDB_txn *txn, struct store *st, uint32_t id, char *out);
void st_key(const struct store *st, uint32_t ctl_id, const char *rcpt,
            uint8_t key[ST_KEYLEN]);
void st_random(struct store_batch *b, uint8_t *out, size_t n);
int st_key_norm(struct store *st, MDB_txn *txn, const char *cn, const char *rn,
                int create, uint8_t key[ST_KEYLEN]);
int st_key_for(struct store *st, MDB_txn *txn, const char *ctl, const char *rcpt,
               int create, uint8_t key[ST_KEYLEN], char *rcpt_norm, char *ctl_norm);
void st_cval_decode(const uint8_t *p, struct store_cval *v);
void st_cval_encode(const struct store_cval *v, uint8_t *p);
int st_cval_get(struct store *st, MDB_txn *txn, const uint8_t key[ST_KEYLEN],
                struct store_cval *v);
void st_cval_to_consent(const struct store_cval *v, struct store_consent *c);
void st_put_be64(uint8_t *p, uint64_t v);
uint64_t st_get_be64(const uint8_t *p);
void st_put_be32(uint8_t *p, uint32_t v);
uint32_t st_get_be32(const uint8_t *p);
int st_meta_get(struct store *st, MDB_txn *txn, const char *name, MDB_val *v);
int st_meta_put(struct store *st, MDB_txn *txn, const char *name, const void *p, size_t n);
int st_head_get(struct store *st, MDB_txn *txn, uint64_t *seq, uint8_t hash[32]);
int st_head_put(struct store *st, MDB_txn *txn, uint64_t seq, const uint8_t hash[32]);

/* store_notice.c: put one version inside txn (sha already checked);
 * check a text against a hash (want NULL: only the limits). */
int st_notice_put(struct store *st, MDB_txn *txn, const void *text, size_t len,
                  const char *source, const uint8_t sha[32], int *added);
int st_notice_check(const void *text, size_t len, const char *source,
                    const uint8_t want[32]);

/* store_write.c: tombstone the recipient chain ending at seq (counted in *n). */
int st_erase_chain(struct store *st, MDB_txn *txn, uint64_t seq, unsigned *n);
/* store_ledger.c: the outbox value codec (store_outbox.c). Strings of the
 * decoded event borrow from strs. */
struct st_outbox_ev {
    struct store_event ev;
    char strs[STORE_WIRE_STRS];
};
int st_outbox_encode(const struct store_event *ev, uint8_t *buf, size_t cap, size_t *n);
int st_outbox_decode(const void *data, size_t len, struct st_outbox_ev *e);
/* store_outbox.c: drop, inside an erasure's write transaction, every
 * pending entry for (ctl, normalised rn): the erasure supersedes them, and
 * they hold the address. */
int st_outbox_purge(struct store *st, MDB_txn *txn, const char *ctl, const char *rn);
/* store_norm.c: a UUIDv4 from 16 random bytes. */
void st_uuid_make(const uint8_t rnd[16], uint8_t u[16]);
/* store_check.c: replay every recipient's events against its consent. */
int st_verify_state(struct store *st, MDB_txn *txn, struct store_verify *r);

/* store_ledger.c: decoded event (strings borrow the encoded bytes, which
 * are NUL-free; each is copied into `strs`, NUL-terminated). */
struct st_event {
    struct store_ledger_event le;
    uint8_t salt[16], dedup[16];
    int has_personal;
    size_t canon_end; /* offset just past the canonical bytes (hash follows) */
    char strs[ST_STR_MAX * 7 + 16];
};
int st_event_decode(const void *data, size_t len, struct st_event *e);
/* st_event_check - 0, STORE_V_MODIFIED or STORE_V_PERSONAL. */
int st_event_check(const void *data, size_t len, const struct st_event *e);
int st_event_get(struct store *st, MDB_txn *txn, uint64_t seq, struct st_event *e,
                 const void **raw, size_t *rawlen);
int st_event_tombstone(struct store *st, MDB_txn *txn, uint64_t seq);
/* st_append - encode, hash and append one event; prep NULL makes a
 * tombstone-born event (no personal part: erase records). */
int st_append_raw(struct store_batch *b, uint64_t seq, const void *raw, size_t len,
                  const uint8_t hash[32]);
int st_append(struct store_batch *b, struct store_event *ev, const uint8_t id[16],
              const char *ctl, const char *rcpt, uint64_t rprev,
              const struct store_prep *prep);
int st_pii(const uint8_t salt[16], const uint8_t dedup[16], const char *rcpt,
           const struct store_event *ev, uint8_t pii[32]);
void st_dedup(const uint8_t hashkey[32], const struct store_event *ev, const char *ctl,
              const char *rcpt, uint8_t out[16]);

/* store_gaps.c: zero the never-read bytes of every page of data.mdb that
 * is in use (ST_PG_LIVE) or free but still reachable by an older snapshot
 * (ST_PG_HELD); cls has one class per page [0, npages). Call holding the
 * writer lock after zeroing the ST_PG_ZEROED pages. 0, STORE_EIO,
 * STORE_ENOMEM or STORE_ECORRUPT (a page not laid out as expected). */
enum { ST_PG_LIVE, ST_PG_ZEROED, ST_PG_HELD };
int st_gaps_zero(int fd, size_t psize, size_t npages, const uint8_t *cls);

#endif
