/* store_scrub - leave no byte of erased data in data.mdb: zero the free
 * pages no snapshot can reach, and the never-read bytes of the others.
 *
 * LMDB is copy-on-write: a write transaction copies every page it changes
 * and frees the old one, which keeps its bytes (addresses, IPs, user
 * agents) until LMDB happens to reuse it. Freed pages are listed in the
 * free database (dbi 0: key = id of the transaction that freed them, data
 * = an IDL: count, then page numbers). LMDB reuses the pages of record t
 * only when t is older than every live reader's snapshot and than the
 * last commit (mdb_find_oldest / mdb_page_alloc): such pages belong to no
 * snapshot either meta page or any reader can reach; we zero them whole.
 * Pages in use, and the free pages of the last commit (kept intact for
 * the other meta page), can hold stale bytes where nothing is read: that
 * is store_gaps.c. All pwrites are made holding the writer lock (inside a
 * write transaction that dirties nothing), on LMDB's own descriptor, and
 * fdatasync'ed before returning.
 *
 * Two passes, because the last commit's free pages cannot be zeroed whole:
 *   1. zero the reusable free pages, then commit one small write (W):
 *      every page W allocates was just zeroed, so the pages W frees
 *      without writing them (LMDB's "loose" pages) hold only zeros;
 *   2. if W is still the last commit: zero the reusable free pages again
 *      (now including those the erase freed and those W freed, whose
 *      snapshot no meta page names any more), then the never-read bytes
 *      of every other page. Another writer having committed since W
 *      means pass 1 again.
 * A pass is blocked while some free record newer than the oldest live
 * reader (and older than the last commit) exists: its pages may still be
 * read, and may hold stale bytes that only a whole-page zeroing removes.
 * We clear dead readers (mdb_reader_check) and wait a bounded time for
 * live ones, then report STORE_EBUSY.
 *
 * The end of the file is every write transaction's start (st_wr_begin):
 * a handle opened before the last erasure renews its environment first,
 * since liblmdb's cached page buffers may still hold the erased bytes;
 * one that could not owes a scrub, made by a later write. It lives here,
 * beside the scrub it may call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/deadline.h"
#include "store/store_int.h"

#define FREE_DBI 0

/* mdb_reader_list callback: lowest snapshot id of a live reader. Lines
 * are "pid thread txnid", txnid "-" for a reset (idle) transaction. */
static int reader_line(const char *msg, void *ctx)
{
    uint64_t *oldest = ctx;
    unsigned long long tid, txnid;
    int pid;

    if (sscanf(msg, "%d %llx %llu", &pid, &tid, &txnid) == 3 && txnid < *oldest)
        *oldest = txnid;
    return 0;
}

enum { SCRUB_DONE, SCRUB_AGAIN, SCRUB_BLOCKED };

/* The small write of pass 1. */
static int mark(struct store *st, MDB_txn *t)
{
    uint8_t b[8];
    MDB_val k = {5, "scrub"}, v = {sizeof b, b};

    st_put_be64(b, (uint64_t)time(NULL));
    return st_mdb_rc(mdb_put(t, st->meta, &k, &v, 0));
}

/* The pages of one free record (IDL: count, then page numbers): zeroed
 * whole when reusable, else only classed as held. */
static int do_record(int fd, const MDB_val *v, const uint8_t *zero, size_t psize,
                     uint8_t *cls, size_t npages, int reusable)
{
    size_t cnt, pg;

    if (v->mv_size < sizeof cnt)
        return STORE_ECORRUPT;
    memcpy(&cnt, v->mv_data, sizeof cnt);
    if (cnt > v->mv_size / sizeof pg - 1)
        return STORE_ECORRUPT;
    for (size_t i = 1; i <= cnt; i++) {
        memcpy(&pg, (const uint8_t *)v->mv_data + i * sizeof pg, sizeof pg);
        if (pg < 2 || pg >= npages)
            return STORE_ECORRUPT;
        cls[pg] = reusable ? ST_PG_ZEROED : ST_PG_HELD;
        if (reusable && pwrite(fd, zero, psize, (off_t)(pg * psize)) != (ssize_t)psize)
            return STORE_EIO;
    }
    return STORE_OK;
}

/* Walk the free database in a read transaction (LMDB allows no cursor on
 * it in a write one) while the caller holds the writer lock. */
static int zero_free(struct store *st, int fd, size_t psize, uint64_t oldest,
                     uint64_t last, uint8_t *cls, size_t npages, int *blocked)
{
    MDB_txn *rtxn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t *zero = NULL;
    int rc;

    if ((zero = calloc(1, psize)) == NULL)
        return STORE_ENOMEM;
    rc = st_mdb_rc(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rtxn));
    if (rc == STORE_OK)
        rc = st_mdb_rc(mdb_cursor_open(rtxn, FREE_DBI, &cur));
    for (int r = rc ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         r == MDB_SUCCESS && rc == STORE_OK; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t t = 0;
        if (k.mv_size == sizeof t)
            memcpy(&t, k.mv_data, sizeof t);
        if (k.mv_size != sizeof t)
            rc = STORE_ECORRUPT;
        else
            rc = do_record(fd, &v, zero, psize, cls, npages, t < oldest);
        *blocked |= t >= oldest && t < last;
    }
    if (rc == STORE_OK && fdatasync(fd) != 0)
        rc = STORE_EIO;
    if (cur != NULL)
        mdb_cursor_close(cur);
    if (rtxn != NULL)
        mdb_txn_abort(rtxn);
    free(zero);
    return rc;
}

/* One pass (see the top of the file); *mine: id of our commit W; *gen:
 * the erasure count the completed scrub covers. */
static int scrub_pass(struct store *st, uint64_t *mine, int *state, uint64_t *gen)
{
    MDB_txn *w;
    MDB_envinfo info;
    MDB_stat ms;
    mdb_filehandle_t fd;
    uint64_t oldest;
    uint8_t *cls = NULL;
    int rc, dead, blocked = 0;

    *state = SCRUB_BLOCKED;
    if ((rc = st_wr_begin(st, &w)) != STORE_OK)
        return rc;
    mdb_reader_check(st->env, &dead); /* slots of processes that died */
    /* Readers starting from now on see the last commit, which is at least
     * oldest: computing it once under the lock is conservative. */
    if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0 ||
        mdb_env_get_fd(st->env, &fd) != 0) {
        rc = STORE_EIO;
        goto out;
    }
    oldest = info.me_last_txnid;
    mdb_reader_list(st->env, reader_line, &oldest);
    size_t npages = info.me_last_pgno + 1;
    if ((cls = calloc(npages, 1)) == NULL) {
        rc = STORE_ENOMEM;
        goto out;
    }
    rc =
        zero_free(st, fd, ms.ms_psize, oldest, info.me_last_txnid, cls, npages, &blocked);
    if (rc != STORE_OK || blocked)
        goto out;
    if (info.me_last_txnid == *mine) { /* pass 2 */
        *gen = st_meta_u64(st, w, "erasegen", NULL); /* under the writer lock */
        rc = st_gaps_zero(fd, ms.ms_psize, npages, cls);
        if (rc == STORE_OK && fdatasync(fd) != 0)
            rc = STORE_EIO;
        *state = SCRUB_DONE;
        goto out; /* nothing to commit: no page was dirtied */
    }
    if ((rc = mark(st, w)) != STORE_OK)
        goto out;
    *mine = mdb_txn_id(w);
    rc = st_wr_commit(st, w); /* ends w, even when it fails */
    w = NULL;
    *state = SCRUB_AGAIN;
out:
    st_wr_abort(st, w);
    free(cls);
    return rc;
}

/* Record the erasure count a completed scrub covered. This write frees
 * only pages written after the scrub began, so it leaves nothing to zero
 * (its own buffers are fresh: st_wr_begin renewed them after the erasure). */
static int covered(struct store *st, uint64_t gen)
{
    MDB_txn *w;
    uint8_t b[8];
    int rc, present;

    if ((rc = st_wr_begin(st, &w)) != STORE_OK)
        return rc;
    if (st_meta_u64(st, w, "scrubgen", &present) == gen && present) {
        st_wr_abort(st, w); /* already recorded: write nothing */
        return STORE_OK;
    }
    st_put_be64(b, gen);
    if ((rc = st_meta_put(st, w, "scrubgen", b, sizeof b)) != STORE_OK) {
        st_wr_abort(st, w);
        return rc;
    }
    if ((rc = st_wr_commit(st, w)) == STORE_OK) {
        pthread_mutex_lock(&st->lock); /* renewed since: nothing more owed */
        if (st->erasegen == gen)
            st->scrub_owed = 0;
        pthread_mutex_unlock(&st->lock);
    }
    return rc;
}

int store_scrub_pending(struct store *st, int *due)
{
    MDB_txn *t;
    int rc, present;

    if (st == NULL || due == NULL)
        return STORE_EINVAL;
    if ((rc = st_rd_begin(st, &t)) != STORE_OK)
        return rc;
    uint64_t done = st_meta_u64(st, t, "scrubgen", &present);
    *due = !present || done != st_meta_u64(st, t, "erasegen", NULL);
    st_rd_end(st, t);
    return STORE_OK;
}

int store_scrub(struct store *st, unsigned wait_ms)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    uint64_t mine = UINT64_MAX, gen = 0;
    unsigned waited = 0, passes = 0;
    int rc, state;

    if (st == NULL || st->rdonly)
        return STORE_EINVAL;
    for (;;) {
        if ((rc = scrub_pass(st, &mine, &state, &gen)) != STORE_OK)
            return rc;
        if (state == SCRUB_DONE)
            return covered(st, gen);
        /* another writer may commit between our passes: retry at once a
         * few times, then count it like a blocking reader */
        if (state == SCRUB_AGAIN && ++passes < 50)
            continue;
        if (waited >= wait_ms)
            return STORE_EBUSY;
        nanosleep(&pause, NULL);
        waited += 20;
    }
}

/* ---- write transactions after an erasure ----------------------------
 * Here, beside the scrub they may call, and not in store_env.c. */

#define ST_RENEW_WAIT_MS 50   /* new transactions wait at most this long */
#define ST_RENEW_BACKOFF_S 5  /* after a renewal that timed out */
#define ST_SCRUB_BACKOFF_S 60 /* after a scrub owed that did not finish */

/* Renew the environment: close it and open it again, once no transaction
 * of this handle is in flight (new ones wait meanwhile). liblmdb keeps
 * the buffers of the pages a process has written in a cache it reuses
 * without clearing them (me_dpages); after an erase, in this process or
 * another, those buffers may still hold the erased bytes, and a page
 * written from one puts them back in its unused space, past what
 * store_scrub zeroed. Closing the environment frees the cache; fresh
 * buffers are zeroed. STORE_EBUSY: transactions still open after wait_ms
 * (st_wr_begin then writes anyway and owes a scrub). */
static int env_renew(struct store *st, unsigned wait_ms)
{
    struct timespec until = cm_deadline_ms(CLOCK_MONOTONIC, wait_ms);
    int rc = STORE_OK;

    pthread_mutex_lock(&st->lock);
    if (st->renewing || st->env == NULL) { /* another thread is at it */
        pthread_mutex_unlock(&st->lock);
        return STORE_OK;
    }
    st->renewing = 1;
    while (st->active > 0 && rc == STORE_OK)
        if (pthread_cond_timedwait(&st->idle, &st->lock, &until) != 0 && st->active > 0)
            rc = STORE_EBUSY;
    if (rc == STORE_OK) {
        rc = st_env_reopen_locked(st); /* failed: st_enter tries again */
        st->renewals += rc == STORE_OK;
    } else {
        st->renew_after = time(NULL) + ST_RENEW_BACKOFF_S;
    }
    st->renewing = 0;
    pthread_cond_broadcast(&st->idle);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

enum { W_GO, W_RENEW, W_SCRUB };

/* What a write must do before it starts, given the erasure count read
 * under the writer lock. A write that cannot renew first (this thread
 * holds another transaction, or the last try timed out) goes ahead and
 * owes a scrub, made at a later write once renewed. */
static int wr_todo(struct store *st, uint64_t gen, int tries)
{
    time_t now = time(NULL);
    int todo = W_GO, alone = tries == 0 && st_held() == 1;

    pthread_mutex_lock(&st->lock);
    if (gen != st->erasegen) {
        if (alone && now >= st->renew_after)
            todo = W_RENEW;
        else
            st->scrub_owed = 1;
    } else if (st->scrub_owed && alone && now >= st->scrub_after) {
        st->scrub_after = now + ST_SCRUB_BACKOFF_S;
        todo = W_SCRUB;
    }
    pthread_mutex_unlock(&st->lock);
    return todo;
}

int st_wr_begin(struct store *st, MDB_txn **txn)
{
    int rc;

    if (st->rdonly)
        return STORE_EINVAL;
    for (int tries = 0;; tries++) {
        if ((rc = st_enter(st)) != STORE_OK)
            return rc;
        if ((rc = st_mdb_rc(st_txn_begin(st, 0, txn))) != STORE_OK) {
            st_leave(st);
            return rc;
        }
        /* read under the writer lock: no erase can commit meanwhile */
        int todo = wr_todo(st, st_meta_u64(st, *txn, "erasegen", NULL), tries);
        if (todo == W_GO)
            return STORE_OK;
        mdb_txn_abort(*txn);
        st_leave(st);
        if (todo == W_RENEW) {
            if ((rc = env_renew(st, ST_RENEW_WAIT_MS)) != STORE_OK && rc != STORE_EBUSY)
                return rc;
        } else if (store_scrub(st, 0) == STORE_OK) { /* its own writes: W_GO */
            pthread_mutex_lock(&st->lock);
            st->scrub_owed = 0;
            pthread_mutex_unlock(&st->lock);
        }
    }
}
