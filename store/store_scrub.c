/* store_scrub - overwrite the free pages of data.mdb with zeros, so that a
 * GDPR erasure leaves no copy of the erased data in the file.
 *
 * LMDB is copy-on-write: a write transaction copies every page it changes
 * and frees the old one, which keeps its bytes (addresses, IPs, user
 * agents) until LMDB happens to reuse it. Freed pages are listed in the
 * free database (dbi 0: key = id of the transaction that freed them, data
 * = an IDL: count, then page numbers). LMDB reuses the pages of record t
 * only when t is older than every live reader's snapshot and than the
 * last commit (mdb_find_oldest / mdb_page_alloc): such pages belong to no
 * snapshot either meta page or any reader can reach. We zero exactly
 * those pages, and nothing else, while holding the writer lock (a write
 * transaction we then abort), so no writer can hand them out meanwhile;
 * readers never read a free page. A commit first makes the pages freed by
 * the last commit (the erase) fall under the rule. Bytes are written with
 * pwrite on LMDB's own descriptor and fdatasync'ed before returning.
 *
 * Limits: a reader that keeps a snapshot from before the erase blocks the
 * scrub of the pages it may still read; we clear dead readers
 * (mdb_reader_check) and wait a bounded time for live ones, then report
 * STORE_EBUSY. KNOWN GAP: pages still in use are not touched; liblmdb
 * 0.9.24 reuses dirty-page buffers without zeroing them, so the unused
 * gap between a live page's pointers and its nodes can still hold stale
 * bytes of erased events (tests/unit/test_store_erase.c, the disabled
 * test); closing it needs a walk of every tree to zero those gaps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* One small commit: the pages freed by the previous commit become
 * unreachable from both meta pages. */
static int bump(struct store *st)
{
    MDB_txn *t;
    uint8_t b[8];
    int rc = st_wr_begin(st, &t);

    if (rc != STORE_OK)
        return rc;
    st_put_be64(b, (uint64_t)time(NULL));
    MDB_val k = {5, "scrub"}, v = {sizeof b, b};
    if ((rc = st_mdb_rc(mdb_put(t, st->meta, &k, &v, 0))) != STORE_OK) {
        mdb_txn_abort(t);
        return rc;
    }
    return st_mdb_rc(mdb_txn_commit(t));
}

/* Zero the pages of one free record (IDL: count, then page numbers). */
static int zero_record(int fd, const MDB_val *v, const uint8_t *zero, size_t psize)
{
    size_t cnt, pg;

    if (v->mv_size < sizeof cnt)
        return STORE_ECORRUPT;
    memcpy(&cnt, v->mv_data, sizeof cnt);
    if (cnt > v->mv_size / sizeof pg - 1)
        return STORE_ECORRUPT;
    for (size_t i = 1; i <= cnt; i++) {
        memcpy(&pg, (const uint8_t *)v->mv_data + i * sizeof pg, sizeof pg);
        if (pwrite(fd, zero, psize, (off_t)(pg * psize)) != (ssize_t)psize)
            return STORE_EIO;
    }
    return STORE_OK;
}

/* Walk the free database in a read transaction (LMDB allows no cursor on
 * it in a write one) while wtxn holds the writer lock. *blocked: a record
 * freed at or before upto is still reachable by some reader. */
static int zero_free(struct store *st, uint64_t oldest, uint64_t upto, int *blocked)
{
    MDB_txn *rtxn = NULL;
    MDB_cursor *cur = NULL;
    MDB_stat ms;
    MDB_val k, v;
    mdb_filehandle_t fd;
    uint8_t *zero = NULL;
    int rc;

    if (mdb_env_stat(st->env, &ms) != 0 || mdb_env_get_fd(st->env, &fd) != 0)
        return STORE_EIO;
    if ((zero = calloc(1, ms.ms_psize)) == NULL)
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
        else if (t >= oldest)
            *blocked |= t <= upto;
        else
            rc = zero_record(fd, &v, zero, ms.ms_psize);
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

static int scrub_once(struct store *st, uint64_t upto, int *blocked)
{
    MDB_txn *wtxn;
    MDB_envinfo info;
    uint64_t oldest;
    int rc, dead;

    *blocked = 0;
    mdb_reader_check(st->env, &dead); /* slots of processes that died */
    if ((rc = st_wr_begin(st, &wtxn)) != STORE_OK)
        return rc;
    /* Readers starting from now on see the last commit, which is at least
     * oldest: computing it once under the lock is conservative. */
    mdb_env_info(st->env, &info);
    oldest = info.me_last_txnid;
    mdb_reader_list(st->env, reader_line, &oldest);
    rc = zero_free(st, oldest, upto, blocked);
    mdb_txn_abort(wtxn); /* nothing to commit: the free list is unchanged */
    return rc;
}

int store_scrub(struct store *st, unsigned wait_ms)
{
    MDB_envinfo info;
    struct timespec pause = {0, 20 * 1000 * 1000};
    uint64_t upto;
    int rc, blocked = 0;

    if (st == NULL || st->rdonly)
        return STORE_EINVAL;
    if (mdb_env_info(st->env, &info) != 0)
        return STORE_EIO;
    upto = info.me_last_txnid;
    if ((rc = bump(st)) != STORE_OK)
        return rc;
    for (unsigned waited = 0;; waited += 20) {
        if ((rc = scrub_once(st, upto, &blocked)) != STORE_OK || !blocked)
            return rc;
        if (waited >= wait_ms)
            return STORE_EBUSY;
        nanosleep(&pause, NULL);
    }
}
