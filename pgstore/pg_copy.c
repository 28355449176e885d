/* pg_copy - bulk import into the primary with COPY (see pg_import.h).
 *
 * Per batch: COPY the keys into imp_k, one SELECT for the recipients'
 * current consent and the dedup/id probes, then in C the dedup inside the
 * batch, the state rule and the encoding (seq head+1.., prev = the
 * running head hash, rprev = the recipient's latest seq), streamed as
 * binary COPY into ledger; then the batch's final consent rows go through
 * imp_c into consent with one upsert. Binary COPY: no escaping, bytea and
 * uuid as their bytes. A flusher thread owns the connection from begin to
 * end and sends one batch while the caller's thread reads and checks the
 * next (two row buffers), so parsing overlaps the server's work. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pgstore/pg_import.h"
#include "pgstore/pg_int.h"
#include "store/store_repl.h"

#define NONE ((size_t)-1)
#define COPY_CHUNK (256 * 1024)

struct row {
    struct store_event ev; /* strings point into mem */
    char *mem;
    const char *cn, *rn; /* normalised, in mem */
    uint8_t dedup[16];
    unsigned long tag;
    int has_id;
    int probe;                /* asked the primary (else known new) */
    int old_rcpt;             /* the recipient may have a consent row */
    int found, dup, id_taken; /* from the primary */
    int added;
    struct store_cval cv; /* primary's, then the recipient's after this row */
    size_t prev;          /* the recipient's previous added row in the batch */
};

struct cbuf {
    uint8_t *p;
    size_t n, cap;
};

struct pgstore_import {
    struct pgstore *pg;
    size_t batch;
    int dry_run, dead;
    pgstore_reject_fn reject;
    void *arg;
    uint64_t head;
    uint8_t hash[32];
    struct row *rows; /* the batch being sent (flusher thread) */
    size_t n;
    struct row *buf[2]; /* the caller fills buf[fill] */
    int fill;
    size_t fill_n;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int busy, quit, started, err; /* under mu */
    size_t *rslot, *islot; /* recipient / id -> row, open addressing */
    size_t nslots;
    struct cbuf out;
    uint8_t rnd[4096]; /* flusher: salts */
    size_t rnd_left;
    uint8_t idrnd[4096]; /* caller: ids of events that have none */
    size_t idrnd_left;
    /* An import into an empty primary (head 0 at begin) only needs to ask
     * about recipients and ids an earlier batch of its own may have
     * added: a Bloom filter of those (no false negatives) spares the
     * probe for all others, and their consent rows are plain inserts. */
    uint64_t *seen; /* NULL: the primary was not empty; probe every row */
    struct pgstore_import_counts cnt;
};

/* ---- binary COPY ---- */

static int cb_room(struct cbuf *b, size_t n)
{
    if (b->n + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : COPY_CHUNK * 2;
    while (cap < b->n + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p, b->cap = cap;
    return 0;
}

static void be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Room for one tuple is made by tuple_begin (max bytes given). */
static void put_raw(struct cbuf *b, const void *p, size_t n)
{
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_field(struct cbuf *b, const void *p, size_t n)
{
    be(b->p + b->n, n, 4);
    b->n += 4;
    put_raw(b, p, n);
}

static void put_null(struct cbuf *b)
{
    be(b->p + b->n, 0xffffffffu, 4);
    b->n += 4;
}

static void put_int(struct cbuf *b, uint64_t v, int n)
{
    uint8_t x[8];
    be(x, v, n);
    put_field(b, x, (size_t)n);
}

static void put_str(struct cbuf *b, const char *s)
{
    put_field(b, s, strlen(s));
}

static int tuple_begin(struct cbuf *b, int nfields, size_t max)
{
    if (cb_room(b, max + 2 + 4 * (size_t)nfields) != 0)
        return -1;
    be(b->p + b->n, (uint64_t)nfields, 2);
    b->n += 2;
    return 0;
}

static int pg_fail(struct pgstore *pg, const char *what)
{
    char w[128];

    snprintf(w, sizeof w, "primary: %s", what);
    pg_set_err(pg->err, sizeof pg->err, w, PQerrorMessage(pg->conn));
    return STORE_EIO;
}

static int copy_send(struct pgstore *pg, struct cbuf *b)
{
    if (b->n == 0)
        return STORE_OK;
    if (PQputCopyData(pg->conn, (const char *)b->p, (int)b->n) != 1)
        return pg_fail(pg, "COPY");
    b->n = 0;
    return STORE_OK;
}

static int copy_start(struct pgstore *pg, struct cbuf *b, const char *sql)
{
    static const uint8_t hdr[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
    PGresult *r = PQexec(pg->conn, sql);

    if (pg_exec_ok(pg, r, PGRES_COPY_IN) != STORE_OK)
        return STORE_EIO;
    b->n = 0;
    if (cb_room(b, sizeof hdr) != 0)
        return STORE_ENOMEM;
    put_raw(b, hdr, sizeof hdr);
    return STORE_OK;
}

/* Trailer, end, and the COPY's own result. */
static int copy_end(struct pgstore *pg, struct cbuf *b, int rc)
{
    PGresult *r;

    if (rc == STORE_OK && cb_room(b, 2) != 0)
        rc = STORE_ENOMEM;
    if (rc == STORE_OK) {
        be(b->p + b->n, 0xffff, 2);
        b->n += 2;
        rc = copy_send(pg, b);
    }
    b->n = 0;
    if (PQputCopyEnd(pg->conn, rc == STORE_OK ? NULL : "import abandoned") != 1 &&
        rc == STORE_OK)
        rc = pg_fail(pg, "COPY end");
    while ((r = PQgetResult(pg->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == STORE_OK) {
            rc = pg_exec_ok(pg, r, PGRES_COMMAND_OK);
            continue;
        }
        PQclear(r);
    }
    return rc;
}

static int exec(struct pgstore *pg, const char *sql)
{
    return pg_exec_ok(pg, PQexec(pg->conn, sql), PGRES_COMMAND_OK);
}

/* ---- rows ---- */

#define SEEN_BITS (1u << 28) /* 32 MiB; ~1e-5 false positives at 10 M keys */

static void seen_bits(const uint8_t h[32], uint32_t bit[4])
{
    for (int k = 0; k < 4; k++)
        bit[k] = ((uint32_t)h[4 * k] << 24 | (uint32_t)h[4 * k + 1] << 16 |
                  (uint32_t)h[4 * k + 2] << 8 | h[4 * k + 3]) &
                 (SEEN_BITS - 1);
}

static void seen_hash(const char *tag, const char *a, const char *b, uint8_t h[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)tag, strlen(tag) + 1);
    crypto_generichash_update(&st, (const uint8_t *)a, strlen(a) + 1);
    if (b != NULL)
        crypto_generichash_update(&st, (const uint8_t *)b, strlen(b) + 1);
    crypto_generichash_final(&st, h, 32);
}

static int seen_test(uint64_t *set, const char *tag, const char *a, const char *b,
                     int add)
{
    uint8_t h[32];
    uint32_t bit[4];
    int all = 1;

    seen_hash(tag, a, b, h);
    seen_bits(h, bit);
    for (int k = 0; k < 4; k++) {
        all &= (set[bit[k] >> 6] >> (bit[k] & 63)) & 1;
        if (add)
            set[bit[k] >> 6] |= 1ull << (bit[k] & 63);
    }
    return all;
}

static uint64_t fnv(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (; *a; a++)
        h = (h ^ (uint8_t)*a) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (; b && *b; b++)
        h = (h ^ (uint8_t)*b) * 1099511628211ull;
    return h;
}

/* The slot of (cn, rn) in rslot: holding its latest row, or NONE. */
static size_t *rcpt_slot(struct pgstore_import *im, const char *cn, const char *rn)
{
    size_t m = im->nslots - 1, i = (size_t)fnv(cn, rn) & m;
    for (;; i = (i + 1) & m) {
        size_t r = im->rslot[i];
        if (r == NONE || (strcmp(im->rows[r].rn, rn) == 0 && strcmp(im->rows[r].cn, cn) == 0))
            return &im->rslot[i];
    }
}

static size_t *id_slot(struct pgstore_import *im, const char *id)
{
    size_t m = im->nslots - 1, i = (size_t)fnv(id, NULL) & m;
    for (;; i = (i + 1) & m) {
        size_t r = im->islot[i];
        if (r == NONE || strcmp(im->rows[r].ev.id, id) == 0)
            return &im->islot[i];
    }
}

static void rows_free(struct row *rows, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(rows[i].mem);
    *n = 0;
}

static char *dup_in(char **at, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = *at;
    memcpy(p, s, n);
    *at += n;
    return p;
}

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static int hand_off(struct pgstore_import *im);

int pgstore_import_add(struct pgstore_import *im, const struct store_event *in,
                       unsigned long tag)
{
    char cn[65], rn[STORE_ADDR_MAX];
    struct store_event ev;
    int rc;

    if (im == NULL || in == NULL)
        return STORE_EINVAL;
    if (im->dead)
        return im->dead;
    ev = *in;
    ev.notice_text = NULL; /* an import carries no notice text */
    ev.notice_len = 0;
    ev.notice_source = NULL;
    int has_id = ev.id[0] != '\0';
    if (!has_id) { /* a UUIDv4 from bulk random bytes */
        uint8_t *u;
        if (im->idrnd_left < 16) {
            randombytes_buf(im->idrnd, sizeof im->idrnd);
            im->idrnd_left = sizeof im->idrnd;
        }
        u = im->idrnd + sizeof im->idrnd - im->idrnd_left;
        im->idrnd_left -= 16;
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
        store_uuid_format(u, ev.id);
    }
    if (store_event_check_in(&ev, cn, rn) != STORE_OK)
        return STORE_EINVAL;
    if (has_id) { /* canonical (lower-case) text, as the ledger keeps it */
        uint8_t u[16];
        if (store_uuid_parse(ev.id, u) != 0)
            return STORE_EINVAL;
        store_uuid_format(u, ev.id);
    }
    struct row *r = &im->buf[im->fill][im->fill_n];
    memset(r, 0, sizeof *r);
    size_t need = slen(cn) + slen(rn) + slen(ev.method) + slen(ev.notice_id) +
                  slen(ev.source_ip) + slen(ev.user_agent) + slen(ev.actor);
    char *at = r->mem = malloc(need);
    if (at == NULL)
        return im->dead = STORE_ENOMEM;
    r->cn = dup_in(&at, cn);
    r->rn = dup_in(&at, rn);
    ev.controller = r->cn;
    ev.recipient = r->rn;
    ev.method = dup_in(&at, ev.method);
    ev.notice_id = dup_in(&at, ev.notice_id);
    ev.source_ip = dup_in(&at, ev.source_ip);
    ev.user_agent = dup_in(&at, ev.user_agent);
    ev.actor = dup_in(&at, ev.actor);
    r->ev = ev;
    r->tag = tag;
    r->has_id = has_id;
    r->prev = NONE;
    store_event_dedup(im->pg->hashkey, &r->ev, r->cn, r->rn, r->dedup);
    im->fill_n++;
    if (im->fill_n == im->batch && (rc = hand_off(im)) != STORE_OK)
        return im->dead = rc;
    return STORE_OK;
}

/* ---- one batch ---- */

static int send_keys(struct pgstore_import *im)
{
    struct cbuf *b = &im->out;
    int rc = copy_start(im->pg, b, "copy imp_k from stdin (format binary)");

    for (size_t i = 0; i < im->n && rc == STORE_OK; i++) {
        const struct row *r = &im->rows[i];
        uint8_t u[16];
        if (!r->probe)
            continue;
        if (tuple_begin(b, 5, 4 + strlen(r->cn) + strlen(r->rn) + 16 + 16) != 0) {
            rc = STORE_ENOMEM;
            break;
        }
        put_int(b, i, 4);
        put_str(b, r->cn);
        put_str(b, r->rn);
        put_field(b, r->dedup, 16);
        if (r->has_id && store_uuid_parse(r->ev.id, u) == 0)
            put_field(b, u, 16);
        else
            put_null(b);
        if (b->n >= COPY_CHUNK)
            rc = copy_send(im->pg, b);
    }
    return copy_end(im->pg, b, rc);
}

static uint64_t num(const PGresult *r, int row, int col)
{
    return strtoull(PQgetvalue(r, row, col), NULL, 10);
}

/* The primary's side of every row: consent, dedup and id probes. */
static int lookup(struct pgstore_import *im, size_t nprobe)
{
    PGresult *r = PQexec(
        im->pg->conn,
        "select k.i, c.states, c.updated, c.informed, c.last_seq, "
        "c.last_seq is not null and exists (select 1 from ledger l where l.controller = "
        "k.controller and l.recipient = k.recipient and l.dedup = k.dedup), "
        "k.id is not null and exists (select 1 from ledger l where l.id = k.id) "
        "from imp_k k left join consent c "
        "on c.controller = k.controller and c.recipient = k.recipient");
    int rc = STORE_OK;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(im->pg, r, PGRES_TUPLES_OK);
    if ((size_t)PQntuples(r) != nprobe)
        rc = STORE_ECORRUPT;
    for (int t = 0; t < PQntuples(r) && rc == STORE_OK; t++) {
        uint64_t i = num(r, t, 0);
        if (i >= im->n) {
            rc = STORE_ECORRUPT;
            break;
        }
        struct row *w = &im->rows[i];
        w->found = !PQgetisnull(r, t, 4);
        if (w->found) {
            w->cv.states = (uint32_t)strtol(PQgetvalue(r, t, 1), NULL, 10);
            w->cv.updated = (uint32_t)num(r, t, 2);
            w->cv.informed = (uint32_t)num(r, t, 3);
            w->cv.last = num(r, t, 4);
        }
        w->dup = PQgetvalue(r, t, 5)[0] == 't';
        w->id_taken = PQgetvalue(r, t, 6)[0] == 't';
    }
    PQclear(r);
    return rc;
}

/* Inside the batch: does an earlier added row of the recipient say the
 * same thing? */
static int dup_in_batch(const struct pgstore_import *im, size_t j, const uint8_t d[16])
{
    for (; j != NONE; j = im->rows[j].prev)
        if (sodium_memcmp(im->rows[j].dedup, d, 16) == 0)
            return 1;
    return 0;
}

static void rnd32(struct pgstore_import *im, uint8_t out[32])
{
    if (im->rnd_left < 32) {
        randombytes_buf(im->rnd, sizeof im->rnd);
        im->rnd_left = sizeof im->rnd;
    }
    memcpy(out, im->rnd + sizeof im->rnd - im->rnd_left, 32);
    sodium_memzero(im->rnd + sizeof im->rnd - im->rnd_left, 32);
    im->rnd_left -= 32;
}

/* Number, rule and encode one row; its ledger tuple goes to the COPY. */
static int add_row(struct pgstore_import *im, size_t i, struct store_wire *w)
{
    struct row *r = &im->rows[i];
    size_t *rs = rcpt_slot(im, r->cn, r->rn), *is = NULL;
    size_t j = *rs;
    uint8_t rnd[32], u[16];
    struct cbuf *b = &im->out;
    int rc, found = r->found;

    if (r->dup || dup_in_batch(im, j, r->dedup)) {
        im->cnt.dups++;
        return STORE_OK;
    }
    if (r->has_id && (r->id_taken || *(is = id_slot(im, r->ev.id)) != NONE)) {
        im->reject(im->arg, r->tag, PGSTORE_R_ID_TAKEN, r->ev.id);
        return STORE_OK;
    }
    if (j != NONE)
        r->cv = im->rows[j].cv, found = 1;
    if (store_state_apply(&r->cv, &r->ev, found) != STORE_OK) {
        im->reject(im->arg, r->tag, PGSTORE_R_INVALID, r->ev.id);
        return STORE_OK;
    }
    rnd32(im, rnd);
    rc = store_event_encode(im->pg->hashkey, &r->ev, r->cn, r->rn, im->head + 1, r->cv.last,
                            im->hash, rnd, w);
    sodium_memzero(rnd, sizeof rnd);
    if (rc == STORE_EINVAL) {
        im->reject(im->arg, r->tag, PGSTORE_R_INVALID, r->ev.id);
        return STORE_OK;
    }
    if (rc != STORE_OK)
        return rc;
    im->head++;
    memcpy(im->hash, w->hash, 32);
    r->cv.last = im->head;
    r->prev = j;
    r->added = 1;
    *rs = i;
    if (is != NULL)
        *is = i;
    im->cnt.added++;
    if (store_uuid_parse(w->id, u) != 0)
        return STORE_ECORRUPT;
    if (tuple_begin(b, 8, 8 + 16 + strlen(r->cn) + strlen(r->rn) + 2 + 8 + 16 + w->len) != 0)
        return STORE_ENOMEM;
    put_int(b, im->head, 8);
    put_field(b, u, 16);
    put_str(b, r->cn);
    put_str(b, r->rn);
    put_int(b, (uint64_t)r->ev.action, 2);
    put_int(b, (uint64_t)r->ev.time, 8);
    put_field(b, w->dedup, 16);
    put_field(b, w->raw, w->len);
    return b->n >= COPY_CHUNK ? copy_send(im->pg, b) : STORE_OK;
}

static int send_ledger(struct pgstore_import *im)
{
    struct store_wire *w = malloc(sizeof *w);
    int rc;

    if (w == NULL)
        return STORE_ENOMEM;
    rc = copy_start(im->pg, &im->out,
                    "copy ledger (seq, id, controller, recipient, action, time, dedup, raw) "
                    "from stdin (format binary)");
    for (size_t i = 0; i < im->n && rc == STORE_OK; i++)
        rc = add_row(im, i, w);
    sodium_memzero(w, sizeof *w);
    free(w);
    return copy_end(im->pg, &im->out, rc);
}

/* The final consent of every recipient the batch changed: copied
 * straight into consent (old 0: a recipient new to the primary) or
 * through imp_c (old 1). */
static int copy_consent(struct pgstore_import *im, int old, const char *sql)
{
    struct cbuf *b = &im->out;
    int rc = copy_start(im->pg, b, sql);

    for (size_t s = 0; s < im->nslots && rc == STORE_OK; s++) {
        if (im->rslot[s] == NONE || im->rows[im->rslot[s]].old_rcpt != old)
            continue;
        const struct row *r = &im->rows[im->rslot[s]];
        if (tuple_begin(b, 6, strlen(r->cn) + strlen(r->rn) + 4 + 24) != 0) {
            rc = STORE_ENOMEM;
            break;
        }
        put_str(b, r->cn);
        put_str(b, r->rn);
        put_int(b, r->cv.states, 4);
        put_int(b, r->cv.updated, 8);
        put_int(b, r->cv.informed, 8);
        put_int(b, r->cv.last, 8);
        if (b->n >= COPY_CHUNK)
            rc = copy_send(im->pg, b);
    }
    return copy_end(im->pg, b, rc);
}

static int send_consent(struct pgstore_import *im, int news, int olds)
{
    int rc = STORE_OK;

    if (news)
        rc = copy_consent(im, 0, "copy consent from stdin (format binary)");
    if (rc != STORE_OK || !olds)
        return rc;
    rc = exec(im->pg, "truncate imp_c");
    if (rc == STORE_OK)
        rc = copy_consent(im, 1, "copy imp_c from stdin (format binary)");
    if (rc == STORE_OK)
        rc = exec(im->pg, "insert into consent select * from imp_c "
                          "on conflict (controller, recipient) do update set "
                          "states = excluded.states, updated = excluded.updated, "
                          "informed = excluded.informed, last_seq = excluded.last_seq");
    return rc;
}

/* Which rows the primary must be asked about (all, unless it was empty
 * at begin: then those the filter may have seen). */
static size_t mark_probes(struct pgstore_import *im, int *news, int *olds)
{
    size_t n = 0;

    *news = *olds = 0;
    for (size_t i = 0; i < im->n; i++) {
        struct row *r = &im->rows[i];
        r->old_rcpt = im->seen == NULL || seen_test(im->seen, "r", r->cn, r->rn, 0);
        r->probe = r->old_rcpt ||
                   (r->has_id && seen_test(im->seen, "i", r->ev.id, NULL, 0));
        n += r->probe != 0;
        *news |= !r->old_rcpt;
        *olds |= r->old_rcpt;
    }
    return n;
}

static void mark_seen(struct pgstore_import *im)
{
    for (size_t i = 0; im->seen != NULL && i < im->n; i++) {
        const struct row *r = &im->rows[i];
        if (!r->added)
            continue;
        seen_test(im->seen, "r", r->cn, r->rn, 1);
        if (r->has_id)
            seen_test(im->seen, "i", r->ev.id, NULL, 1);
    }
}

static int flush_batch(struct pgstore_import *im)
{
    int rc = STORE_OK, news, olds;
    size_t nprobe;

    if (im->n == 0)
        return STORE_OK;
    for (size_t s = 0; s < im->nslots; s++)
        im->rslot[s] = im->islot[s] = NONE;
    if ((nprobe = mark_probes(im, &news, &olds)) > 0) {
        rc = exec(im->pg, "truncate imp_k");
        if (rc == STORE_OK)
            rc = send_keys(im);
        if (rc == STORE_OK)
            rc = lookup(im, nprobe);
    }
    if (rc == STORE_OK)
        rc = send_ledger(im);
    if (rc == STORE_OK)
        rc = send_consent(im, news, olds);
    if (rc == STORE_OK)
        mark_seen(im);
    if (rc == STORE_OK)
        im->cnt.batches++;
    rows_free(im->rows, &im->n);
    return rc;
}

/* ---- the flusher thread ---- */

static void *flusher(void *arg)
{
    struct pgstore_import *im = arg;

    pthread_mutex_lock(&im->mu);
    for (;;) {
        while (!im->busy && !im->quit)
            pthread_cond_wait(&im->cv, &im->mu);
        if (!im->busy)
            break;
        pthread_mutex_unlock(&im->mu);
        int rc = im->err ? STORE_OK : flush_batch(im);
        rows_free(im->rows, &im->n); /* after an error: dropped unsent */
        pthread_mutex_lock(&im->mu);
        if (rc != STORE_OK && im->err == STORE_OK)
            im->err = rc;
        im->busy = 0;
        pthread_cond_broadcast(&im->cv);
    }
    pthread_mutex_unlock(&im->mu);
    return NULL;
}

/* Wait until the flusher is idle; its error, if any. */
static int wait_idle(struct pgstore_import *im)
{
    int rc;

    pthread_mutex_lock(&im->mu);
    while (im->busy)
        pthread_cond_wait(&im->cv, &im->mu);
    rc = im->err;
    pthread_mutex_unlock(&im->mu);
    return rc;
}

/* Give the full buffer to the flusher (once it is done with the other
 * one) and go on filling the other. */
static int hand_off(struct pgstore_import *im)
{
    int rc;

    pthread_mutex_lock(&im->mu);
    while (im->busy)
        pthread_cond_wait(&im->cv, &im->mu);
    if ((rc = im->err) == STORE_OK) {
        im->rows = im->buf[im->fill];
        im->n = im->fill_n;
        im->busy = 1;
        pthread_cond_broadcast(&im->cv);
    }
    pthread_mutex_unlock(&im->mu);
    if (rc != STORE_OK)
        return rc;
    im->fill ^= 1;
    im->fill_n = 0;
    return STORE_OK;
}

static void flusher_stop(struct pgstore_import *im)
{
    if (!im->started)
        return;
    pthread_mutex_lock(&im->mu);
    im->quit = 1;
    pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
    pthread_join(im->th, NULL);
    im->started = 0;
}

/* ---- begin / end ---- */

static void import_free(struct pgstore_import *im)
{
    flusher_stop(im);
    rows_free(im->buf[im->fill], &im->fill_n);
    rows_free(im->rows, &im->n);
    free(im->buf[0]);
    free(im->buf[1]);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->cv);
    free(im->rslot);
    free(im->islot);
    free(im->out.p);
    free(im->seen);
    sodium_memzero(im->rnd, sizeof im->rnd);
    sodium_memzero(im->idrnd, sizeof im->idrnd);
    free(im);
}

int pgstore_import_begin(struct pgstore *pg, size_t batch, int dry_run,
                         pgstore_reject_fn reject, void *arg, struct pgstore_import **out)
{
    struct pgstore_import *im;
    int rc;

    *out = NULL;
    if (pg == NULL || batch == 0 || reject == NULL || batch > (SIZE_MAX >> 4))
        return STORE_EINVAL;
    if ((im = calloc(1, sizeof *im)) == NULL)
        return STORE_ENOMEM;
    im->pg = pg, im->batch = batch, im->dry_run = dry_run;
    im->reject = reject, im->arg = arg;
    for (im->nslots = 16; im->nslots < 2 * batch; im->nslots *= 2)
        continue;
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    im->buf[0] = malloc(batch * sizeof *im->buf[0]);
    im->buf[1] = malloc(batch * sizeof *im->buf[1]);
    im->rslot = malloc(im->nslots * sizeof *im->rslot);
    im->islot = malloc(im->nslots * sizeof *im->islot);
    if (im->buf[0] == NULL || im->buf[1] == NULL || im->rslot == NULL || im->islot == NULL) {
        import_free(im);
        return STORE_ENOMEM;
    }
    /* The probes join a small temporary table against big indexed ones:
     * index lookups, never a scan of the consent or ledger table. */
    rc = exec(pg, "begin");
    if (rc == STORE_OK)
        rc = pg_head_lock(pg, &im->head, im->hash);
    if (rc == STORE_OK && im->head == 0 &&
        (im->seen = calloc(SEEN_BITS / 64, sizeof *im->seen)) == NULL)
        rc = STORE_ENOMEM;
    if (rc == STORE_OK)
        rc = exec(pg, "set local enable_hashjoin = off; set local enable_mergejoin = off; "
                      "create temp table imp_k (i integer, controller text, recipient text, "
                      "dedup bytea, id uuid) on commit drop; "
                      "create temp table imp_c (controller text, recipient text, "
                      "states integer, updated bigint, informed bigint, last_seq bigint) "
                      "on commit drop");
    if (rc == STORE_OK && pthread_create(&im->th, NULL, flusher, im) != 0)
        rc = STORE_ENOMEM;
    if (rc != STORE_OK) {
        PQclear(PQexec(pg->conn, "rollback"));
        import_free(im);
        return rc;
    }
    im->started = 1;
    *out = im;
    return STORE_OK;
}

int pgstore_import_end(struct pgstore_import *im, int commit,
                       struct pgstore_import_counts *out)
{
    struct pgstore *pg;
    int rc;

    if (im == NULL)
        return STORE_EINVAL;
    pg = im->pg;
    rc = im->dead;
    if (rc == STORE_OK && commit && im->fill_n > 0)
        rc = hand_off(im);
    int rc2 = wait_idle(im); /* the connection is ours again */
    if (rc == STORE_OK)
        rc = rc2;
    flusher_stop(im);
    im->cnt.head = im->head;
    if (rc == STORE_OK && commit && !im->dry_run && im->cnt.added > 0) {
        char seq[24];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)im->head);
        const char *v[2] = {seq, (const char *)im->hash};
        const int l[2] = {0, 32}, f[2] = {0, 1};
        rc = pg_exec_ok(pg,
                        PQexecParams(pg->conn, "update ledger_head set seq = $1::bigint, "
                                               "hash = $2",
                                     2, NULL, v, l, f, 0),
                        PGRES_COMMAND_OK);
        if (rc == STORE_OK)
            rc = pg_exec_ok(pg,
                            PQexecParams(pg->conn, "select pg_notify('consent_ledger', $1)",
                                         1, NULL, v, NULL, NULL, 0),
                            PGRES_TUPLES_OK);
    }
    if (rc == STORE_OK && commit && !im->dry_run)
        rc = exec(pg, "commit");
    else
        PQclear(PQexec(pg->conn, "rollback"));
    if (out != NULL)
        *out = im->cnt;
    import_free(im);
    return rc;
}
