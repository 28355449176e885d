/* store_env - the LMDB environment: open/close, named databases, meta
 * (schema, hash key, ledger head), controller ids, consent keys and the
 * pool of reset read transactions that makes lookups cheap.
 *
 * Opened once per process with MDB_NOTLS (any thread may run a read
 * transaction) and MDB_NORDAHEAD (random lookups in a large file). Read
 * transactions are recycled with mdb_txn_reset/mdb_txn_renew under one
 * mutex; write transactions are LMDB's own, serialised across processes.
 * The same mutex counts the transactions in flight, so that a writer can
 * close and reopen the environment after an erasure (store_scrub.c, env_renew).
 * LMDB errors map to STORE_E* codes in st_mdb_rc(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <sodium.h>

#include "store/store_int.h"

#define ST_MAPSIZE ((size_t)256 << 30) /* virtual only; the file grows with data */

int st_mdb_rc(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return STORE_OK;
    case MDB_NOTFOUND:
        return STORE_NOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return STORE_EFULL;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_BAD_TXN:
        return STORE_ECORRUPT;
    case MDB_VERSION_MISMATCH:
        return STORE_EVERSION;
    case ENOMEM:
        return STORE_ENOMEM;
    case ENOENT:
        return STORE_ENODB;
    default:
        return STORE_EIO;
    }
}

void st_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t st_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void st_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t st_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Another process may have grown the map: adopt its size and retry once. */
int st_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(st->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(st->env, 0) == 0)
        rc = mdb_txn_begin(st->env, NULL, flags, txn);
    return rc;
}

/* Transactions of this thread still open (any store handle): a thread
 * that holds one must not wait for the handle to fall idle. */
static __thread unsigned held;

unsigned st_held(void)
{
    return held;
}

static int env_open(struct store *st);
static int env_setup(struct store *st, unsigned flags);

#define ST_REVIVE_BACKOFF_S 1 /* after a reopen that failed */

int st_env_reopen_locked(struct store *st)
{
    int rc;

    if (st->env != NULL) {
        for (unsigned i = 0; i < st->npool; i++)
            mdb_txn_abort(st->pool[i]);
        st->npool = 0;
        mdb_env_close(st->env);
        st->env = NULL;
    }
    if ((rc = env_open(st)) == STORE_OK)
        rc = env_setup(st, 0); /* reads erasegen again */
    if (rc != STORE_OK && st->env != NULL) {
        mdb_env_close(st->env);
        st->env = NULL;
    }
    if (rc != STORE_OK)
        st->revive_after = time(NULL) + ST_REVIVE_BACKOFF_S;
    return rc;
}

/* Called holding st->lock: wait out a renewal; reopen an environment a
 * renewal failed to reopen (a full descriptor table, say), at most once a
 * second. */
static int usable_locked(struct store *st)
{
    time_t now;

    while (st->renewing)
        pthread_cond_wait(&st->idle, &st->lock);
    if (st->env != NULL)
        return STORE_OK;
    if ((now = time(NULL)) < st->revive_after)
        return STORE_EIO;
    return st_env_reopen_locked(st) == STORE_OK ? STORE_OK : STORE_EIO;
}

/* Count one transaction in. */
int st_enter(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    int rc = usable_locked(st);
    if (rc == STORE_OK) {
        st->active++;
        held++;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static void leave_locked(struct store *st)
{
    st->active--;
    held--;
    if (st->active == 0 && st->renewing)
        pthread_cond_broadcast(&st->idle);
}

void st_leave(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    leave_locked(st);
    pthread_mutex_unlock(&st->lock);
}

int st_rd_begin(struct store *st, MDB_txn **txn)
{
    MDB_txn *t = NULL;
    int rc;

    pthread_mutex_lock(&st->lock);
    if ((rc = usable_locked(st)) != STORE_OK) {
        pthread_mutex_unlock(&st->lock);
        return rc;
    }
    st->active++;
    held++;
    if (st->npool > 0)
        t = st->pool[--st->npool];
    pthread_mutex_unlock(&st->lock);
    if (t != NULL) {
        if (mdb_txn_renew(t) == MDB_SUCCESS) {
            *txn = t;
            return STORE_OK;
        }
        mdb_txn_abort(t);
    }
    if ((rc = st_mdb_rc(st_txn_begin(st, MDB_RDONLY, txn))) != STORE_OK)
        st_leave(st);
    return rc;
}

void st_rd_end(struct store *st, MDB_txn *txn)
{
    if (txn == NULL)
        return;
    mdb_txn_reset(txn);
    pthread_mutex_lock(&st->lock);
    if (st->npool < st->pool_max) {
        st->pool[st->npool++] = txn;
        txn = NULL;
    }
    leave_locked(st);
    pthread_mutex_unlock(&st->lock);
    if (txn != NULL)
        mdb_txn_abort(txn);
}

void st_wr_abort(struct store *st, MDB_txn *txn)
{
    if (txn == NULL)
        return;
    mdb_txn_abort(txn);
    st_leave(st);
}

/* LMDB reports a short write (a disk or quota that fills up within a
 * page, a file size limit) as EIO: look at the room left before calling it
 * an I/O error. Less than 64 KiB free, or the file at its size limit, is
 * "full". */
static int eio_or_full(struct store *st)
{
    struct statvfs vfs;
    struct rlimit lim;
    struct stat sb;
    int fd;

    if (mdb_env_get_fd(st->env, &fd) != MDB_SUCCESS || fstat(fd, &sb) != 0)
        return STORE_EIO;
    if (fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < 65536)
        return STORE_EFULL;
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY
        && (uint64_t)sb.st_size + 65536 > (uint64_t)lim.rlim_cur)
        return STORE_EFULL;
    return STORE_EIO;
}

int st_wr_commit(struct store *st, MDB_txn *txn)
{
    int rc = st_mdb_rc(mdb_txn_commit(txn));

    if (rc == STORE_EIO) /* before leave: st->env may be renewed after it */
        rc = eio_or_full(st);
    st_leave(st);
    return rc;
}

static int meta_get(struct store *st, MDB_txn *txn, const char *name, MDB_val *v)
{
    MDB_val k = {strlen(name), (void *)name};
    return st_mdb_rc(mdb_get(txn, st->meta, &k, v));
}

static int meta_put(struct store *st, MDB_txn *txn, const char *name, const void *p,
                    size_t n)
{
    MDB_val k = {strlen(name), (void *)name}, v = {n, (void *)p};
    return st_mdb_rc(mdb_put(txn, st->meta, &k, &v, 0));
}

uint64_t st_meta_u64(struct store *st, MDB_txn *txn, const char *name, int *present)
{
    MDB_val v;
    int ok = meta_get(st, txn, name, &v) == STORE_OK && v.mv_size == 8;

    if (present != NULL)
        *present = ok;
    return ok ? st_get_be64(v.mv_data) : 0;
}

static uint64_t erasegen_get(struct store *st, MDB_txn *txn)
{
    return st_meta_u64(st, txn, "erasegen", NULL);
}

int st_erasegen_bump(struct store *st, MDB_txn *txn)
{
    uint8_t b[8];

    st_put_be64(b, erasegen_get(st, txn) + 1);
    return meta_put(st, txn, "erasegen", b, sizeof b);
}

int st_meta_get(struct store *st, MDB_txn *txn, const char *name, MDB_val *v)
{
    return meta_get(st, txn, name, v);
}

int st_meta_put(struct store *st, MDB_txn *txn, const char *name, const void *p, size_t n)
{
    return meta_put(st, txn, name, p, n);
}

int st_head_get(struct store *st, MDB_txn *txn, uint64_t *seq, uint8_t hash[32])
{
    MDB_val v;
    int rc = meta_get(st, txn, "head", &v);
    if (rc == STORE_NOTFOUND) {
        *seq = 0;
        memset(hash, 0, 32);
        return STORE_OK;
    }
    if (rc != STORE_OK)
        return rc;
    if (v.mv_size != 40)
        return STORE_ECORRUPT;
    *seq = st_get_be64(v.mv_data);
    memcpy(hash, (const uint8_t *)v.mv_data + 8, 32);
    return STORE_OK;
}

int st_head_put(struct store *st, MDB_txn *txn, uint64_t seq, const uint8_t hash[32])
{
    uint8_t b[40];
    st_put_be64(b, seq);
    memcpy(b + 8, hash, 32);
    return meta_put(st, txn, "head", b, sizeof b);
}

/* Fill a new environment's meta, or check an existing one's schema. */
static int meta_init(struct store *st, MDB_txn *txn, int may_write)
{
    MDB_val v;
    int rc = meta_get(st, txn, "schema", &v);

    if (rc == STORE_NOTFOUND && may_write) {
        uint8_t b[4];
        randombytes_buf(st->hashkey, sizeof st->hashkey);
        st_put_be32(b, STORE_SCHEMA_VERSION);
        if ((rc = meta_put(st, txn, "schema", b, 4)) != STORE_OK ||
            (rc = meta_put(st, txn, "hashkey", st->hashkey, 32)) != STORE_OK)
            return rc;
        st_put_be32(b, 1);
        if ((rc = meta_put(st, txn, "nextctl", b, 4)) != STORE_OK)
            return rc;
        uint8_t z[8] = {0}; /* no erasure yet, none to scrub */
        if ((rc = meta_put(st, txn, "scrubgen", z, 8)) != STORE_OK)
            return rc;
        return meta_put(st, txn, "migrations", "1:initial", 9);
    }
    if (rc == STORE_NOTFOUND)
        return STORE_ENODB;
    if (rc != STORE_OK)
        return rc;
    if (v.mv_size != 4)
        return STORE_ECORRUPT;
    if (st_get_be32(v.mv_data) > STORE_SCHEMA_VERSION)
        return STORE_EVERSION;
    if ((rc = meta_get(st, txn, "hashkey", &v)) != STORE_OK)
        return rc == STORE_NOTFOUND ? STORE_ECORRUPT : rc;
    if (v.mv_size != 32)
        return STORE_ECORRUPT;
    if (memcmp(st->hashkey, v.mv_data, 32) != 0) /* a renewal reads the same */
        memcpy(st->hashkey, v.mv_data, 32);
    return STORE_OK;
}

static int dbis_open(struct store *st, MDB_txn *txn, unsigned cflag)
{
    static const char *const names[] = {"meta",   "ctl",      "consent",
                                        "ledger", "lastopen", "anon"};
    MDB_dbi *dbis[] = {&st->meta,   &st->ctl,      &st->consent,
                       &st->ledger, &st->lastopen, &st->anon};

    for (size_t i = 0; i < 6; i++) {
        int rc = mdb_dbi_open(txn, names[i], cflag, dbis[i]);
        if (rc != MDB_SUCCESS)
            return rc == MDB_NOTFOUND ? STORE_ENODB : st_mdb_rc(rc);
    }
    return STORE_OK;
}

/* An environment made before notice versions (issue 12) or the gate
 * outbox (issue 11) gets the databases at its first writable open;
 * nothing else changes, so the schema version stays and older programs
 * simply ignore them. */
static int extra_dbs_create(struct store *st)
{
    MDB_txn *txn;
    int rc = st_mdb_rc(st_txn_begin(st, 0, &txn));

    if (rc != STORE_OK)
        return rc;
    rc = st_mdb_rc(mdb_dbi_open(txn, "notices", MDB_CREATE, &st->notices));
    if (rc == STORE_OK)
        rc = st_mdb_rc(mdb_dbi_open(txn, "outbox", MDB_CREATE, &st->outbox));
    if (rc != STORE_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = st_mdb_rc(mdb_txn_commit(txn));
    st->has_notices = st->has_outbox = rc == STORE_OK;
    return rc;
}

/* Open the named databases: first read-only (the usual case), then, if
 * something is missing and we may create, in a write transaction. */
static int env_setup(struct store *st, unsigned flags)
{
    MDB_txn *txn;
    int rc = st_mdb_rc(st_txn_begin(st, MDB_RDONLY, &txn));

    if (rc != STORE_OK)
        return rc;
    rc = dbis_open(st, txn, 0);
    if (rc == STORE_OK)
        rc = meta_init(st, txn, 0);
    if (rc == STORE_OK) {
        st->erasegen = erasegen_get(st, txn);
        int hn = mdb_dbi_open(txn, "notices", 0, &st->notices) == MDB_SUCCESS;
        int ho = mdb_dbi_open(txn, "outbox", 0, &st->outbox) == MDB_SUCCESS;
        if (st->has_notices != hn) /* read unlocked: a renewal writes nothing */
            st->has_notices = hn;
        if (st->has_outbox != ho)
            st->has_outbox = ho;
        if ((rc = st_mdb_rc(mdb_txn_commit(txn))) != STORE_OK ||
            (st->has_notices && st->has_outbox) || st->rdonly)
            return rc;
        return extra_dbs_create(st);
    }
    mdb_txn_abort(txn);
    if (rc != STORE_ENODB || !(flags & STORE_CREATE) || st->rdonly)
        return rc;
    if ((rc = st_mdb_rc(st_txn_begin(st, 0, &txn))) != STORE_OK)
        return rc;
    rc = dbis_open(st, txn, MDB_CREATE);
    if (rc == STORE_OK)
        rc = meta_init(st, txn, 1);
    if (rc == STORE_OK)
        rc = st_mdb_rc(mdb_dbi_open(txn, "notices", MDB_CREATE, &st->notices));
    if (rc == STORE_OK)
        rc = st_mdb_rc(mdb_dbi_open(txn, "outbox", MDB_CREATE, &st->outbox));
    st->has_notices = st->has_outbox = rc == STORE_OK;
    if (rc != STORE_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    return st_mdb_rc(mdb_txn_commit(txn));
}

/* LMDB maps the file and trusts its meta page: in a file cut short (a
 * partial copy or restore, a full disk) the pages the meta names past the
 * end would be read as SIGBUS. */
static int size_check(struct store *st)
{
    MDB_envinfo info;
    MDB_stat ms;
    struct stat sb;
    int fd;

    if (mdb_env_info(st->env, &info) != MDB_SUCCESS || mdb_env_stat(st->env, &ms) != MDB_SUCCESS
        || mdb_env_get_fd(st->env, &fd) != MDB_SUCCESS || fstat(fd, &sb) != 0)
        return STORE_EIO;
    if (((uint64_t)info.me_last_pgno + 1) * ms.ms_psize > (uint64_t)sb.st_size)
        return STORE_ECORRUPT;
    return STORE_OK;
}

static int dir_check(const char *dir, unsigned flags)
{
    struct stat sb;
    char path[4096];

    if (dir == NULL || *dir == '\0')
        return STORE_EINVAL;
    if (stat(dir, &sb) != 0) {
        if (errno != ENOENT)
            return STORE_EIO;
        if (!(flags & STORE_CREATE))
            return STORE_ENODB;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return STORE_EIO;
        return STORE_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return STORE_ENODB;
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
        return STORE_EINVAL;
    if (stat(path, &sb) != 0)
        return (flags & STORE_CREATE) ? STORE_OK : STORE_ENODB;
    return sb.st_size == 0 && !(flags & STORE_CREATE) ? STORE_ENODB : STORE_OK;
}

/* Create and open st->env from st->dir (store_open, env_renew). */
static int env_open(struct store *st)
{
    int rc = mdb_env_create(&st->env);

    if (rc != MDB_SUCCESS) {
        st->env = NULL;
        return st_mdb_rc(rc);
    }
    rc = mdb_env_set_maxdbs(st->env, 16);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxreaders(st->env, st->max_readers);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(st->env, ST_MAPSIZE);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(st->env, st->dir,
                          MDB_NOTLS | MDB_NORDAHEAD | (st->rdonly ? MDB_RDONLY : 0), 0600);
    rc = st_mdb_rc(rc);
    return rc == STORE_OK ? size_check(st) : rc;
}

int store_open(const char *dir, unsigned flags, unsigned max_readers, struct store **out)
{
    struct store *st;
    int rc;

    *out = NULL;
    if (sodium_init() < 0)
        return STORE_ENOMEM;
    if ((rc = dir_check(dir, flags)) != STORE_OK)
        return rc;
    if ((st = calloc(1, sizeof *st)) == NULL)
        return STORE_ENOMEM;
    pthread_condattr_t ca;
    pthread_mutex_init(&st->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* env_renew's wait */
    pthread_cond_init(&st->idle, &ca);
    pthread_condattr_destroy(&ca);
    st->rdonly = (flags & STORE_RDONLY) != 0;
    if (max_readers == 0)
        max_readers = 126;
    st->pool_max = max_readers / 4 < ST_POOL_MAX ? max_readers / 4 : ST_POOL_MAX;
    /* The first process to create the lock file fixes the reader table for
     * every process (milter, gate, consentctl): all ask for the same floor
     * so that whoever starts first cannot starve the others. */
    if (max_readers < STORE_MIN_READERS)
        max_readers = STORE_MIN_READERS;
    st->max_readers = max_readers;
    /* absolute: a daemon that chdirs away may renew it (store_scrub.c, env_renew) */
    if ((st->dir = realpath(dir, NULL)) == NULL)
        st->dir = strdup(dir);
    rc = st->dir == NULL ? STORE_ENOMEM : env_open(st);
    if (rc == STORE_OK)
        rc = env_setup(st, flags);
    if (rc != STORE_OK) {
        store_close(st);
        return rc;
    }
    *out = st;
    return STORE_OK;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    for (unsigned i = 0; i < st->npool; i++)
        mdb_txn_abort(st->pool[i]);
    if (st->env != NULL)
        mdb_env_close(st->env);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->idle);
    free(st->dir);
    sodium_memzero(st->hashkey, sizeof st->hashkey);
    free(st);
}

int store_schema(struct store *st, unsigned *version)
{
    MDB_txn *txn;
    MDB_val v;
    int rc = st_rd_begin(st, &txn);

    if (rc != STORE_OK)
        return rc;
    rc = meta_get(st, txn, "schema", &v);
    if (rc == STORE_OK && v.mv_size != 4)
        rc = STORE_ECORRUPT;
    if (rc == STORE_OK)
        *version = st_get_be32(v.mv_data);
    st_rd_end(st, txn);
    return rc;
}

static int ctl_cached(struct store *st, const char *ctl, uint32_t *id)
{
    int found = 0;
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < st->nctls && !found; i++)
        if (strcmp(st->ctls[i].name, ctl) == 0) {
            *id = st->ctls[i].id;
            found = 1;
        }
    pthread_mutex_unlock(&st->lock);
    return found;
}

static void ctl_cache_add(struct store *st, const char *ctl, uint32_t id)
{
    pthread_mutex_lock(&st->lock);
    if (st->nctls < ST_CTL_CACHE) {
        snprintf(st->ctls[st->nctls].name, ST_CTL_MAX, "%s", ctl);
        st->ctls[st->nctls++].id = id;
    }
    pthread_mutex_unlock(&st->lock);
}

/* Controller ids never change once committed, so the cache never goes
 * stale; only ids seen by read transactions (committed) are cached. */
int st_ctl_id(struct store *st, MDB_txn *txn, const char *ctl, int create, uint32_t *id)
{
    MDB_val k = {strlen(ctl), (void *)ctl}, v;
    int rc;

    if (ctl_cached(st, ctl, id))
        return STORE_OK;
    rc = st_mdb_rc(mdb_get(txn, st->ctl, &k, &v));
    if (rc == STORE_OK) {
        if (v.mv_size != 4)
            return STORE_ECORRUPT;
        *id = st_get_be32(v.mv_data);
        if (!create) /* a write txn may see its own uncommitted id */
            ctl_cache_add(st, ctl, *id);
        return STORE_OK;
    }
    if (rc != STORE_NOTFOUND || !create)
        return rc;
    uint8_t b[4];
    if ((rc = meta_get(st, txn, "nextctl", &v)) != STORE_OK)
        return rc == STORE_NOTFOUND ? STORE_ECORRUPT : rc;
    if (v.mv_size != 4)
        return STORE_ECORRUPT;
    *id = st_get_be32(v.mv_data);
    st_put_be32(b, *id + 1);
    if ((rc = meta_put(st, txn, "nextctl", b, 4)) != STORE_OK)
        return rc;
    st_put_be32(b, *id);
    v.mv_size = 4;
    v.mv_data = b;
    return st_mdb_rc(mdb_put(txn, st->ctl, &k, &v, MDB_NOOVERWRITE));
}

/* Reverse lookup by scanning: there are few controllers. */
int st_ctl_name(MDB_txn *txn, struct store *st, uint32_t id, char *out)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, st->ctl, &c), found = 0;

    if (rc != MDB_SUCCESS)
        return st_mdb_rc(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && !found;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (v.mv_size == 4 && st_get_be32(v.mv_data) == id && k.mv_size < ST_CTL_MAX) {
            memcpy(out, k.mv_data, k.mv_size);
            out[k.mv_size] = '\0';
            found = 1;
        }
    }
    mdb_cursor_close(c);
    if (found)
        return STORE_OK;
    return rc == MDB_NOTFOUND ? STORE_NOTFOUND : st_mdb_rc(rc);
}

void st_key(const struct store *st, uint32_t ctl_id, const char *rcpt,
            uint8_t key[ST_KEYLEN])
{
    uint8_t h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)rcpt, strlen(rcpt),
                       st->hashkey, sizeof st->hashkey);
    st_put_be32(key, ctl_id);
    memcpy(key + 4, h, ST_KEYLEN - 4);
}

/* Key of already normalised names. */
int st_key_norm(struct store *st, MDB_txn *txn, const char *cn, const char *rn,
                int create, uint8_t key[ST_KEYLEN])
{
    uint32_t id;
    int rc = st_ctl_id(st, txn, cn, create, &id);
    if (rc == STORE_OK)
        st_key(st, id, rn, key);
    return rc;
}

void st_random(struct store_batch *b, uint8_t *out, size_t n)
{
    if (n > sizeof b->rnd) {
        randombytes_buf(out, n);
        return;
    }
    if (b->rnd_left < n) {
        randombytes_buf(b->rnd, sizeof b->rnd);
        b->rnd_left = sizeof b->rnd;
    }
    memcpy(out, b->rnd + sizeof b->rnd - b->rnd_left, n);
    sodium_memzero(b->rnd + sizeof b->rnd - b->rnd_left, n); /* never hand out twice */
    b->rnd_left -= n;
}

/* Normalise, resolve the controller id, derive the key. rcpt_norm and
 * ctl_norm (may be NULL) receive the normalised forms. */
int st_key_for(struct store *st, MDB_txn *txn, const char *ctl, const char *rcpt,
               int create, uint8_t key[ST_KEYLEN], char *rcpt_norm, char *ctl_norm)
{
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    uint32_t id;
    int rc;

    if (store_controller_normalise(ctl, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(rcpt, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    if ((rc = st_ctl_id(st, txn, cn, create, &id)) != STORE_OK)
        return rc;
    st_key(st, id, rn, key);
    if (rcpt_norm != NULL)
        memcpy(rcpt_norm, rn, strlen(rn) + 1);
    if (ctl_norm != NULL)
        memcpy(ctl_norm, cn, strlen(cn) + 1);
    return STORE_OK;
}

int store_order_key(struct store *st, const char *rcpt, uint8_t out[12])
{
    char rn[STORE_ADDR_MAX];
    uint8_t key[ST_KEYLEN];

    if (st == NULL || store_addr_normalise(rcpt, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    st_key(st, 0, rn, key);
    memcpy(out, key + 4, 12);
    return STORE_OK;
}
