/* pg_migrate - an LMDB store into the primary, byte for byte (see
 * pg_migrate.h).
 *
 * One read transaction of the store walks its ledger from seq 1. The
 * events the primary already holds are compared with its rows, page by
 * page: the same raw value, or the store's tombstone of it (an erase made
 * after an interrupted run), else the histories differ and nothing is
 * written. The rest goes in with binary COPY, `batch` events per
 * transaction; each transaction first checks under the head lock that the
 * head is where the last one left it, and moves it to its own last event.
 * Consent, last-open days, counters and notices follow in one last
 * transaction, which also rings the doorbell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pgstore/pg_int.h"
#include "pgstore/pg_migrate.h"
#include "store/store_dump.h"
#include "store/store_repl.h"

#define PAGE 1000
#define CP_CAP 65536
#define CP_FLUSH (CP_CAP - STORE_WIRE_MAX - 1024)
/* Refused (res->refused says why): stops the walk; not a STORE_* code. */
#define REFUSED (-1)

/* ---- binary COPY rows (PostgreSQL's COPY BINARY format) ---- */

struct cp {
    struct pgstore *pg;
    uint8_t buf[CP_CAP];
    size_t n;
    int err; /* STORE_* once a write failed */
};

static void be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void cp_flush(struct cp *c)
{
    if (c->err == STORE_OK && c->n > 0 &&
        PQputCopyData(c->pg->conn, (const char *)c->buf, (int)c->n) != 1) {
        pg_set_err(c->pg->err, sizeof c->pg->err, "COPY", PQerrorMessage(c->pg->conn));
        c->err = STORE_EIO;
    }
    c->n = 0;
}

static void cp_raw(struct cp *c, const void *p, size_t n)
{
    if (c->n + n > CP_CAP)
        cp_flush(c);
    if (n > CP_CAP) { /* never: fields are bounded by STORE_WIRE_MAX */
        c->err = STORE_EINVAL;
        return;
    }
    memcpy(c->buf + c->n, p, n);
    c->n += n;
}

static void cp_uint(struct cp *c, uint64_t v, int bytes)
{
    uint8_t b[12];
    be(b, (uint64_t)bytes, 4);
    be(b + 4, v, bytes);
    cp_raw(c, b, 4 + (size_t)bytes);
}

static void cp_bytes(struct cp *c, const void *p, size_t n)
{
    uint8_t b[4];
    if (p == NULL) { /* NULL */
        be(b, 0xffffffffu, 4);
        cp_raw(c, b, 4);
        return;
    }
    be(b, n, 4);
    cp_raw(c, b, 4);
    cp_raw(c, p, n);
}

static void cp_str(struct cp *c, const char *s)
{
    cp_bytes(c, s, s != NULL ? strlen(s) : 0);
}

static void cp_row(struct cp *c, int fields)
{
    uint8_t b[2];
    be(b, (uint64_t)fields, 2);
    cp_raw(c, b, 2);
    if (c->n > CP_FLUSH)
        cp_flush(c);
}

/* COPY table FROM STDIN (binary); the header goes out with the first rows. */
static int cp_begin(struct cp *c, const char *sql)
{
    static const uint8_t hdr[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
    int rc = pg_exec_ok(c->pg, PQexec(c->pg->conn, sql), PGRES_COPY_IN);

    c->n = 0;
    c->err = rc;
    if (rc == STORE_OK)
        cp_raw(c, hdr, sizeof hdr);
    return rc;
}

/* End the COPY; its outcome (a constraint, a type) comes back here. */
static int cp_end(struct cp *c)
{
    static const uint8_t trailer[2] = {0xff, 0xff};
    PGresult *r;
    int rc;

    cp_raw(c, trailer, sizeof trailer);
    cp_flush(c);
    if (PQputCopyEnd(c->pg->conn, c->err == STORE_OK ? NULL : "aborted") != 1 &&
        c->err == STORE_OK) {
        pg_set_err(c->pg->err, sizeof c->pg->err, "COPY", PQerrorMessage(c->pg->conn));
        c->err = STORE_EIO;
    }
    rc = STORE_OK;
    while ((r = PQgetResult(c->pg->conn)) != NULL) {
        int one = pg_exec_ok(c->pg, r, PGRES_COMMAND_OK);
        if (rc == STORE_OK)
            rc = one;
    }
    return c->err != STORE_OK ? c->err : rc;
}

/* ---- the primary's rows, a page at a time (the prefix check) ---- */

struct page {
    uint64_t seq[PAGE];
    uint8_t *raw[PAGE];
    size_t len[PAGE];
    unsigned n, i;
};

static void page_free(struct page *p)
{
    for (unsigned k = 0; k < p->n; k++)
        free(p->raw[k]);
    p->n = p->i = 0;
}

static int page_one(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct page *p = arg;
    uint8_t *copy = malloc(len ? len : 1);

    if (copy == NULL)
        return STORE_ENOMEM;
    memcpy(copy, raw, len);
    p->seq[p->n] = seq;
    p->raw[p->n] = copy;
    p->len[p->n++] = len;
    return STORE_OK;
}

/* ---- the walk ---- */

struct tomb {
    uint64_t seq;
    size_t len;
    uint8_t raw[STORE_WIRE_MAX];
};

struct mig {
    struct pgstore *pg;
    struct pgstore_mig_res *res;
    unsigned batch;
    uint64_t pg_head;   /* the primary's head when we started */
    uint64_t head;      /* the store's walk: last seq seen */
    uint8_t hash[32];   /* and its hash */
    uint64_t txn_head;  /* the head the open transaction found */
    uint8_t txn_hash[32];
    int in_txn;
    unsigned rows;      /* in the open transaction */
    struct page page;
    struct tomb *tombs; /* pending: applied by the next transaction */
    size_t ntombs, captombs;
    struct cp cp;
    char strs[STORE_WIRE_STRS];
};

static int set_tombstones(struct mig *m)
{
    char seq[24];
    int rc = STORE_OK;

    for (size_t i = 0; i < m->ntombs && rc == STORE_OK; i++) {
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)m->tombs[i].seq);
        const char *v[2] = {seq, (const char *)m->tombs[i].raw};
        const int l[2] = {0, (int)m->tombs[i].len}, f[2] = {0, 1};
        rc = pg_exec_ok(m->pg,
                        PQexecParams(m->pg->conn,
                                     "update ledger set raw = $2, tombstone = true, recipient "
                                     "= null, dedup = null where seq = $1::bigint",
                                     2, NULL, v, l, f, 0),
                        PGRES_COMMAND_OK);
    }
    m->res->tombstoned += rc == STORE_OK ? m->ntombs : 0;
    m->ntombs = 0;
    return rc;
}

/* begin; the head must be where we left it (a writer moved it: refuse). */
static int txn_begin(struct mig *m, uint64_t want_seq, const uint8_t want_hash[32])
{
    int rc = pg_exec_ok(m->pg, PQexec(m->pg->conn, "begin"), PGRES_COMMAND_OK);

    if (rc == STORE_OK)
        rc = pg_head_lock(m->pg, &m->txn_head, m->txn_hash);
    if (rc == STORE_OK && (m->txn_head != want_seq || memcmp(m->txn_hash, want_hash, 32))) {
        m->res->refused = PGSTORE_MIG_MOVED;
        m->res->bad_seq = m->txn_head;
        rc = REFUSED;
    }
    if (rc != STORE_OK)
        PQclear(PQexec(m->pg->conn, "rollback"));
    m->in_txn = rc == STORE_OK;
    return rc;
}

static int txn_commit(struct mig *m, int ok)
{
    int rc = STORE_OK;

    if (!m->in_txn)
        return STORE_OK;
    m->in_txn = 0;
    if (ok)
        rc = pg_exec_ok(m->pg, PQexec(m->pg->conn, "commit"), PGRES_COMMAND_OK);
    else
        PQclear(PQexec(m->pg->conn, "rollback"));
    return rc;
}

static int head_put(struct mig *m)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)m->head);
    const char *v[2] = {seq, (const char *)m->hash};
    const int l[2] = {0, 32}, f[2] = {0, 1};

    return pg_exec_ok(m->pg,
                      PQexecParams(m->pg->conn,
                                   "update ledger_head set seq = $1::bigint, hash = $2", 2,
                                   NULL, v, l, f, 0),
                      PGRES_COMMAND_OK);
}

/* Close the open COPY and its transaction: head moved to the walk's. */
static int batch_end(struct mig *m)
{
    int rc = cp_end(&m->cp);

    if (rc == STORE_OK)
        rc = head_put(m);
    rc = txn_commit(m, rc == STORE_OK) == STORE_OK ? rc : STORE_EIO;
    if (rc == STORE_OK) {
        m->res->batches++;
        m->res->copied += m->rows;
    }
    m->rows = 0;
    return rc;
}

static int batch_begin(struct mig *m)
{
    int rc = txn_begin(m, m->head, m->hash);

    if (rc == STORE_OK)
        rc = set_tombstones(m);
    if (rc == STORE_OK)
        rc = cp_begin(&m->cp, "copy ledger (seq, id, controller, recipient, action, time, "
                              "dedup, tombstone, raw) from stdin (format binary)");
    if (rc != STORE_OK && m->in_txn)
        txn_commit(m, 0);
    return rc;
}

/* One event the primary lacks: a COPY row. */
static int copy_one(struct mig *m, uint64_t seq, const void *raw, size_t len)
{
    struct store_ledger_event e;
    uint8_t id[16], dedup[16];
    int rc, has_dedup;

    if ((rc = store_wire_decode(raw, len, &e, m->strs, sizeof m->strs)) != STORE_OK)
        return rc == STORE_ENOMEM ? rc : STORE_ECORRUPT;
    if (e.seq != seq || store_uuid_parse(e.ev.id, id) != STORE_OK)
        return STORE_ECORRUPT;
    rc = store_wire_dedup(raw, len, dedup);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc;
    has_dedup = rc == STORE_OK;
    if (m->rows == 0 && (rc = batch_begin(m)) != STORE_OK)
        return rc;
    cp_row(&m->cp, 9);
    cp_uint(&m->cp, seq, 8);
    cp_bytes(&m->cp, id, 16);
    cp_str(&m->cp, e.ev.controller);
    if (e.tombstone || e.ev.recipient == NULL)
        cp_bytes(&m->cp, NULL, 0);
    else
        cp_str(&m->cp, e.ev.recipient);
    cp_uint(&m->cp, (uint64_t)e.ev.action, 2);
    cp_uint(&m->cp, (uint64_t)e.ev.time, 8);
    cp_bytes(&m->cp, has_dedup ? dedup : NULL, 16);
    /* as pgstore's own writers: an ERASE row is no tombstone of a recipient */
    cp_uint(&m->cp, e.tombstone && e.ev.action != STORE_A_ERASE, 1);
    cp_bytes(&m->cp, raw, len);
    m->head = seq;
    memcpy(m->hash, e.hash, 32);
    if (++m->rows >= m->batch)
        return batch_end(m);
    return m->cp.err;
}

/* One event the primary should hold already: the same bytes, or the
 * store's tombstone of them. */
static int compare_one(struct mig *m, uint64_t seq, const void *raw, size_t len)
{
    struct store_ledger_event e;
    struct page *p = &m->page;
    uint8_t *t;
    size_t tl;
    int rc;

    if (p->i == p->n) {
        page_free(p);
        if ((rc = pgstore_fetch(m->pg, seq - 1, PAGE, page_one, p)) != STORE_OK)
            return rc;
    }
    if (p->i == p->n || p->seq[p->i] != seq) {
        m->res->refused = PGSTORE_MIG_DIVERGED; /* a gap in the primary */
        m->res->bad_seq = seq;
        return REFUSED;
    }
    const uint8_t *pr = p->raw[p->i];
    size_t pl = p->len[p->i++];
    if ((rc = store_wire_decode(raw, len, &e, m->strs, sizeof m->strs)) != STORE_OK)
        return rc == STORE_ENOMEM ? rc : STORE_ECORRUPT;
    m->head = seq;
    memcpy(m->hash, e.hash, 32);
    if (pl == len && memcmp(pr, raw, len) == 0)
        return STORE_OK;
    if (e.tombstone && (t = malloc(pl ? pl : 1)) != NULL) {
        rc = store_wire_tombstone(pr, pl, t, &tl);
        int same = rc == STORE_OK && tl == len && memcmp(t, raw, len) == 0;
        free(t);
        if (same) { /* erased in the store since: the primary follows */
            if (m->ntombs == m->captombs) {
                size_t nc = m->captombs ? m->captombs * 2 : 16;
                struct tomb *nt = realloc(m->tombs, nc * sizeof *nt);
                if (nt == NULL)
                    return STORE_ENOMEM;
                m->tombs = nt;
                m->captombs = nc;
            }
            m->tombs[m->ntombs].seq = seq;
            m->tombs[m->ntombs].len = len;
            memcpy(m->tombs[m->ntombs++].raw, raw, len);
            return STORE_OK;
        }
    } else if (e.tombstone) {
        return STORE_ENOMEM;
    }
    m->res->refused = PGSTORE_MIG_DIVERGED;
    m->res->bad_seq = seq;
    return REFUSED;
}

static int walk_one(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct mig *m = arg;

    if (len > STORE_WIRE_MAX || seq != m->head + 1)
        return STORE_ECORRUPT; /* store_verify would have said so */
    if (seq <= m->pg_head)
        return compare_one(m, seq, raw, len);
    return copy_one(m, seq, raw, len);
}

/* ---- the tables beside the ledger: one last transaction ---- */

static int cval_row(const char *ctl, const char *rcpt, const struct store_cval *v, void *arg)
{
    struct mig *m = arg;

    cp_row(&m->cp, 6);
    cp_str(&m->cp, ctl);
    cp_str(&m->cp, rcpt);
    cp_uint(&m->cp, v->states, 4);
    cp_uint(&m->cp, v->updated, 8);
    cp_uint(&m->cp, v->informed, 8);
    cp_uint(&m->cp, v->last, 8);
    m->res->consents++;
    return m->cp.err;
}

static int lastopen_row(const char *ctl, const char *rcpt, int64_t day, void *arg)
{
    struct mig *m = arg;

    cp_row(&m->cp, 3);
    cp_str(&m->cp, ctl);
    cp_str(&m->cp, rcpt);
    cp_uint(&m->cp, (uint64_t)day, 8);
    m->res->lastopen++;
    return m->cp.err;
}

static int anon_row(const char *ctl, const char *camp, int64_t day, uint64_t n, void *arg)
{
    struct mig *m = arg;

    if (n > INT64_MAX)
        return STORE_ECORRUPT;
    cp_row(&m->cp, 4);
    cp_str(&m->cp, ctl);
    cp_str(&m->cp, camp);
    cp_uint(&m->cp, (uint64_t)day, 8);
    cp_uint(&m->cp, n, 8);
    m->res->anon++;
    return m->cp.err;
}

static int notice_row(const struct store_notice *n, void *arg)
{
    struct mig *m = arg;
    char tm[24];
    snprintf(tm, sizeof tm, "%lld", (long long)n->first_seen);
    const char *v[4] = {(const char *)n->sha256, tm, n->source ? n->source : "", n->text};
    const int l[4] = {32, 0, 0, (int)n->len}, f[4] = {1, 0, 0, 1};
    PGresult *r = PQexecParams(m->pg->conn,
                               "insert into notices values ($1, $2::bigint, $3, $4) "
                               "on conflict do nothing",
                               4, NULL, v, l, f, 0);

    if (PQresultStatus(r) == PGRES_COMMAND_OK)
        m->res->notices += (uint64_t)atoi(PQcmdTuples(r));
    return pg_exec_ok(m->pg, r, PGRES_COMMAND_OK);
}

/* delete from table; COPY the store's rows in. */
static int replace(struct mig *m, const char *table, const char *copy,
                   int (*dump)(struct mig *m, struct store *st), struct store *st)
{
    char sql[64];
    int rc;

    snprintf(sql, sizeof sql, "delete from %s", table);
    if ((rc = pg_exec_ok(m->pg, PQexec(m->pg->conn, sql), PGRES_COMMAND_OK)) != STORE_OK ||
        (rc = cp_begin(&m->cp, copy)) != STORE_OK)
        return rc;
    rc = dump(m, st);
    if (rc != STORE_OK && m->cp.err == STORE_OK)
        m->cp.err = rc; /* aborts the COPY */
    int end = cp_end(&m->cp);
    return rc != STORE_OK ? rc : end;
}

static int dump_cval(struct mig *m, struct store *st)
{
    return store_cval_walk(st, cval_row, m);
}

static int dump_lastopen(struct mig *m, struct store *st)
{
    return store_lastopen_dump(st, lastopen_row, m);
}

static int dump_anon(struct mig *m, struct store *st)
{
    return store_anon_dump(st, anon_row, m);
}

static int tables(struct mig *m, struct store *st)
{
    char seq[24];
    const char *v[1] = {seq};
    int rc = txn_begin(m, m->head, m->hash);

    if (rc != STORE_OK)
        return rc;
    rc = set_tombstones(m);
    if (rc == STORE_OK)
        rc = replace(m, "consent",
                     "copy consent (controller, recipient, states, updated, informed, "
                     "last_seq) from stdin (format binary)",
                     dump_cval, st);
    if (rc == STORE_OK)
        rc = replace(m, "lastopen",
                     "copy lastopen (controller, recipient, day) from stdin (format binary)",
                     dump_lastopen, st);
    if (rc == STORE_OK)
        rc = replace(m, "anon",
                     "copy anon (controller, campaign, day, count) from stdin (format binary)",
                     dump_anon, st);
    if (rc == STORE_OK)
        rc = store_notice_walk(st, notice_row, m);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)m->head);
    if (rc == STORE_OK)
        rc = pg_exec_ok(m->pg,
                        PQexecParams(m->pg->conn, "select pg_notify('consent_ledger', $1)", 1,
                                     NULL, v, NULL, NULL, 0),
                        PGRES_TUPLES_OK);
    int crc = txn_commit(m, rc == STORE_OK);
    return rc != STORE_OK ? rc : crc;
}

/* ---- the dedup key ---- */

static int key_check(struct mig *m, struct store *st)
{
    uint8_t key[32];
    const char *v[2] = {"hashkey", (const char *)key};
    const int l[2] = {0, 32}, f[2] = {0, 1};
    PGresult *r;
    int rc = store_hashkey_get(st, key);

    if (rc != STORE_OK)
        return rc;
    if (m->pg_head != 0) { /* resuming: the key went in with the first run */
        rc = pg_load_hashkey(m->pg);
        if (rc == STORE_OK && sodium_memcmp(key, m->pg->hashkey, 32) != 0) {
            m->res->refused = PGSTORE_MIG_KEY;
            rc = REFUSED;
        }
        sodium_memzero(key, sizeof key);
        return rc;
    }
    r = PQexecParams(m->pg->conn, "update meta set value = $2 where key = $1", 2, NULL, v, l,
                     f, 0);
    if (PQresultStatus(r) == PGRES_COMMAND_OK && atoi(PQcmdTuples(r)) == 0) {
        PQclear(r);
        r = PQexecParams(m->pg->conn, "insert into meta values ($1, $2)", 2, NULL, v, l, f,
                         0);
    }
    rc = pg_exec_ok(m->pg, r, PGRES_COMMAND_OK);
    if (rc == STORE_OK)
        memcpy(m->pg->hashkey, key, 32); /* this connection writes with it too */
    sodium_memzero(key, sizeof key);
    return rc;
}

const char *pgstore_mig_refusal_text(int refused)
{
    switch (refused) {
    case PGSTORE_MIG_OK:
        return "copied";
    case PGSTORE_MIG_DIVERGED:
        return "the primary holds another history (its event differs from the store's)";
    case PGSTORE_MIG_AHEAD:
        return "the primary holds more events than the store";
    case PGSTORE_MIG_KEY:
        return "the primary was not filled from this store (another dedup key)";
    case PGSTORE_MIG_MOVED:
        return "the primary's head moved during the copy (another writer)";
    }
    return "refused";
}

int pgstore_migrate(struct pgstore *pg, struct store *st, unsigned batch,
                    struct pgstore_mig_res *res)
{
    struct mig *m;
    uint8_t h[32];
    int rc;

    if (pg == NULL || st == NULL || res == NULL || batch == 0)
        return STORE_EINVAL;
    memset(res, 0, sizeof *res);
    if ((m = calloc(1, sizeof *m)) == NULL)
        return STORE_ENOMEM;
    m->pg = m->cp.pg = pg;
    m->res = res;
    m->batch = batch;
    rc = store_ledger_head(st, &res->store_head, h);
    if (rc == STORE_OK)
        rc = pgstore_head(pg, &m->pg_head, h);
    res->pg_before = m->pg_head;
    if (rc == STORE_OK)
        rc = key_check(m, st);
    if (rc == STORE_OK && m->pg_head > res->store_head) {
        res->refused = PGSTORE_MIG_AHEAD;
        res->bad_seq = res->store_head + 1;
        rc = REFUSED;
    }
    if (rc == STORE_OK)
        rc = store_ledger_walk_raw(st, 1, walk_one, m);
    if (rc == STORE_OK && m->head != res->store_head)
        rc = STORE_ECORRUPT; /* the walk ended before the recorded head */
    if (rc == STORE_OK && m->rows > 0)
        rc = batch_end(m);
    else if (m->rows > 0) { /* the walk stopped inside a batch: drop it */
        char why[sizeof pg->err];
        memcpy(why, pg->err, sizeof why); /* the reason, not the abort's echo */
        m->cp.err = m->cp.err ? m->cp.err : STORE_EINVAL;
        cp_end(&m->cp);
        txn_commit(m, 0);
        memcpy(pg->err, why, sizeof why);
    }
    if (rc == STORE_OK)
        rc = tables(m, st);
    page_free(&m->page);
    free(m->tombs);
    free(m);
    return rc == REFUSED ? STORE_OK : rc;
}

int pgstore_hash_at(struct pgstore *pg, uint64_t seq, uint8_t hash[32], int *found)
{
    struct store_ledger_event e;
    char s[24], *strs;
    const char *v[1] = {s};
    PGresult *r;
    int rc;

    if (pg == NULL || hash == NULL || found == NULL)
        return STORE_EINVAL;
    *found = 0;
    snprintf(s, sizeof s, "%llu", (unsigned long long)seq);
    r = PQexecParams(pg->conn, "select raw from ledger where seq = $1::bigint", 1, NULL, v,
                     NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(pg, r, PGRES_TUPLES_OK);
    rc = STORE_OK;
    if (PQntuples(r) == 1) {
        if ((strs = malloc(STORE_WIRE_STRS)) == NULL)
            rc = STORE_ENOMEM;
        else
            rc = store_wire_decode(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), &e,
                                   strs, STORE_WIRE_STRS);
        free(strs);
        if (rc == STORE_OK && e.seq != seq)
            rc = STORE_ECORRUPT;
        if (rc == STORE_OK) {
            memcpy(hash, e.hash, 32);
            *found = 1;
        }
    }
    PQclear(r);
    return rc;
}
