/* store_write - recording consent events: validation, the state rules of
 * store_record (store.h), batches for import, and GDPR erasure.
 *
 * Every write is one LMDB write transaction: the consent value, the ledger
 * event and the ledger head in meta change together or not at all, and
 * the call returns after the commit (fsync). A batch is the same with many
 * events; a process killed mid-batch loses only that uncommitted batch. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store/store_int.h"

static const char *const methods[] = {
    "signup-form", "consent-page", "withdraw-link", "api", "import", "admin",
};

static int str_ok(const char *s, size_t max, int required)
{
    if (s == NULL || *s == '\0')
        return !required;
    size_t n = strlen(s);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int method_ok(const char *m)
{
    for (size_t i = 0; m != NULL && i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i]) == 0)
            return 1;
    return 0;
}

static int purposes_ok(const struct store_event *ev)
{
    for (int i = 0; i < STORE_P_MAX; i++) {
        uint32_t bit = 1u << i;
        if ((ev->purposes & bit) && store_purpose_name(i) == NULL)
            return 0;
        if (ev->action != STORE_A_IMPORT)
            continue;
        unsigned s = STORE_STATES_GET(ev->states, i);
        if ((ev->purposes & bit) ? (s == STORE_UNKNOWN) : (s != STORE_UNKNOWN))
            return 0;
    }
    if (ev->purposes >> STORE_P_MAX)
        return 0;
    switch (ev->action) {
    case STORE_A_GRANT:
    case STORE_A_REFUSE:
    case STORE_A_IMPORT:
        return ev->purposes != 0;
    default:
        return 1;
    }
}

/* ASCII case-insensitive memmem (rn is lower-case already). */
static int has_addr(const unsigned char *p, size_t n, const char *rn)
{
    size_t m = strlen(rn);

    for (size_t i = 0; m != 0 && i + m <= n; i++) {
        size_t j = 0;
        while (j < m && (p[i + j] >= 'A' && p[i + j] <= 'Z' ? p[i + j] + 32 : p[i + j]) ==
                            (unsigned char)rn[j])
            j++;
        if (j == m)
            return 1;
    }
    return 0;
}

/* A notice text is kept for ever, erasure included: it must be the text
 * everybody saw (a template), never a page rendered for this recipient. */
static int notice_ok(const struct store_event *ev, const char *rn)
{
    return ev->notice_id != NULL &&
           st_notice_check(ev->notice_text, ev->notice_len, ev->notice_source,
                           ev->notice_sha256) == STORE_OK &&
           !has_addr(ev->notice_text, ev->notice_len, rn);
}

/* Check and complete ev (id, time, states); cn/rn get normalised names. */
static int ev_validate(struct store_event *ev, const uint8_t rnd[16], char *cn, char *rn,
                       uint8_t u[16])
{
    if (ev->action < STORE_A_GRANT || ev->action > STORE_A_IMPORT || !purposes_ok(ev) ||
        !method_ok(ev->method) || !str_ok(ev->notice_id, 256, 0) ||
        !str_ok(ev->source_ip, 64, 0) || !str_ok(ev->user_agent, 1024, 0) ||
        !str_ok(ev->actor, 128, 0) ||
        store_controller_normalise(ev->controller, cn, ST_CTL_MAX) != STORE_OK ||
        store_addr_normalise(ev->recipient, rn, STORE_ADDR_MAX) != STORE_OK)
        return STORE_EINVAL;
    if (ev->notice_text != NULL && !notice_ok(ev, rn))
        return STORE_EINVAL;
    if (ev->action != STORE_A_IMPORT)
        ev->states = 0;
    int64_t now = (int64_t)time(NULL);
    if (ev->time == 0)
        ev->time = now;
    if (ev->time < 0 || ev->time > 0xffffffffLL || ev->time > now + STORE_CLOCK_SKEW)
        return STORE_EINVAL;
    /* A date ahead of us inside the skew is our clock's fault or theirs;
     * the event cannot have happened after we record it, and a stored
     * "updated" in the future would make later live events look old. */
    if (ev->time > now)
        ev->time = now;
    if (ev->id[0] == '\0') {
        st_uuid_make(rnd, u);
        store_uuid_format(u, ev->id);
    } else {
        if (memchr(ev->id, '\0', sizeof ev->id) == NULL ||
            store_uuid_parse(ev->id, u) != 0)
            return STORE_EINVAL;
    }
    return STORE_OK;
}

static unsigned new_state(const struct store_event *ev, int i, unsigned cur)
{
    uint32_t bit = 1u << i;
    switch (ev->action) {
    case STORE_A_GRANT:
        return (ev->purposes & bit) ? STORE_GRANTED : cur;
    case STORE_A_REFUSE:
        return (ev->purposes & bit) ? STORE_REFUSED : cur;
    case STORE_A_WITHDRAW:
        if (ev->purposes == 0)
            return cur == STORE_GRANTED ? STORE_WITHDRAWN : cur;
        return (ev->purposes & bit) ? STORE_WITHDRAWN : cur;
    case STORE_A_IMPORT:
        return (ev->purposes & bit) ? STORE_STATES_GET(ev->states, i) : cur;
    default:
        return cur;
    }
}

static int is_negative(unsigned s)
{
    return s == STORE_REFUSED || s == STORE_WITHDRAWN;
}

/* Does a late (back-dated) event move purpose from cur to next? Events
 * apply in ledger order; the claimed date only tells history apart. */
static int late_takes(unsigned cur, unsigned next, int revoked)
{
    /* A withdrawal or refusal wins over every grant recorded before it,
     * whatever either claims as its date: a grant dated ahead (a fast
     * clock, an import) must not make a later withdrawal a no-op. */
    if (cur == STORE_GRANTED)
        return is_negative(next);
    /* History fills purposes still unknown, but never grants one after a
     * withdrawal: "stop tracking" withdraws only what was granted then,
     * and an older grant cannot outlive it. */
    if (cur == STORE_UNKNOWN)
        return next != STORE_GRANTED || !revoked;
    return 0;
}

/* Did the event get what it asked for? (For a withdrawal: nothing of it
 * still granted.) */
static int got_asked(const struct store_event *ev, uint32_t states)
{
    for (int i = 0; i < STORE_P_MAX; i++) {
        unsigned s = STORE_STATES_GET(states, i), want = new_state(ev, i, s);
        int in = ev->purposes >> i & 1;
        if (ev->action == STORE_A_WITHDRAW && (in || ev->purposes == 0)) {
            if (s == STORE_GRANTED)
                return 0;
        } else if (in && ev->action != STORE_A_INFORM && s != want) {
            return 0;
        }
    }
    return 1;
}

/* The state rules of store_record (store.h). Returns 1 if the event got
 * what it asked for (see got_asked), 0 if it only went into the ledger. */
static int st_apply(struct store_cval *v, const struct store_event *ev, int found)
{
    int late = found && ev->time < (int64_t)v->updated, revoked = 0;

    for (int i = 0; i < STORE_P_MAX; i++)
        revoked |= STORE_STATES_GET(v->states, i) == STORE_WITHDRAWN;
    for (int i = 0; i < STORE_P_MAX; i++) {
        unsigned cur = STORE_STATES_GET(v->states, i), next = new_state(ev, i, cur);
        if (next != cur && (!late || late_takes(cur, next, revoked)))
            STORE_STATES_SET(v->states, i, next);
    }
    if (ev->action == STORE_A_INFORM && (!late || v->informed == 0))
        v->informed = (uint32_t)ev->time;
    if (!late)
        v->updated = (uint32_t)ev->time;
    return got_asked(ev, v->states);
}

int store_state_apply(struct store_cval *s, struct store_event *ev, int found)
{
    if (s == NULL || ev == NULL || ev->action < STORE_A_GRANT || ev->action > STORE_A_ERASE)
        return STORE_EINVAL;
    if (!found)
        *s = (struct store_cval){0};
    uint32_t states0 = s->states, informed0 = s->informed;
    ev->applied = st_apply(s, ev, found);
    ev->changed = s->states != states0 || s->informed != informed0;
    return STORE_OK;
}

int store_event_check_in(struct store_event *ev, char ctl_norm[65],
                         char rcpt_norm[STORE_ADDR_MAX])
{
    uint8_t rnd[16], u[16];

    if (ev == NULL || ctl_norm == NULL || rcpt_norm == NULL)
        return STORE_EINVAL;
    /* only an event without an id needs randomness (a syscall: bulk
     * importers give ids) */
    if (ev->id[0] == '\0')
        randombytes_buf(rnd, sizeof rnd);
    else
        memset(rnd, 0, sizeof rnd);
    return ev_validate(ev, rnd, ctl_norm, rcpt_norm, u) == STORE_OK ? STORE_OK
                                                                    : STORE_EINVAL;
}

/* Visit a recipient's events newest first, from seq along rprev, until fn
 * sets *stop, fn returns an error (returned), or the chain ends. A link
 * that does not run back is STORE_ECORRUPT. The event passed to fn is
 * scratch, valid for that call. */
typedef int (*chain_fn)(struct store *st, MDB_txn *txn, uint64_t seq,
                        const struct st_event *e, void *arg, int *stop);

static int chain_each(struct store *st, MDB_txn *txn, uint64_t seq, chain_fn fn, void *arg)
{
    struct st_event *e = malloc(sizeof *e);
    int rc = STORE_OK, stop = 0;

    if (e == NULL)
        return STORE_ENOMEM;
    while (seq != 0 && !stop) {
        if ((rc = st_event_get(st, txn, seq, e, NULL, NULL)) != STORE_OK)
            break;
        if ((rc = fn(st, txn, seq, e, arg, &stop)) != STORE_OK)
            break;
        if (e->le.rprev >= seq) {
            rc = STORE_ECORRUPT;
            break;
        }
        seq = e->le.rprev;
    }
    free(e);
    return rc;
}

struct seen_arg {
    const uint8_t *dedup;
    int dup;
};

static int seen_one(struct store *st, MDB_txn *txn, uint64_t seq, const struct st_event *e,
                    void *arg, int *stop)
{
    struct seen_arg *a = arg;

    (void)st, (void)txn, (void)seq;
    a->dup = *stop = e->has_personal && sodium_memcmp(e->dedup, a->dedup, 16) == 0;
    return STORE_OK;
}

/* Does the recipient already have an event with this content? */
static int seen(struct store *st, MDB_txn *txn, uint64_t seq, const uint8_t dedup[16],
                int *dup)
{
    struct seen_arg a = {dedup, 0};
    int rc = chain_each(st, txn, seq, seen_one, &a);

    *dup = a.dup;
    return rc;
}

int store_event_prepare(struct store *st, struct store_event *ev, const uint8_t rnd[32],
                        struct store_prep *p)
{
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    uint8_t key[ST_KEYLEN];

    if (st == NULL || ev == NULL || p == NULL || ev_validate(ev, rnd, cn, rn, p->id) != 0)
        return STORE_EINVAL;
    st_key(st, 0, rn, key);
    memcpy(p->order, key + 4, sizeof p->order);
    st_dedup(st->hashkey, ev, cn, rn, p->dedup);
    memcpy(p->salt, rnd + 16, sizeof p->salt);
    return st_pii(p->salt, p->dedup, rn, ev, p->pii);
}

/* Dedup check, state rules, ledger append, consent put. */
static int add_prepared(struct store_batch *b, struct store_event *ev,
                        const struct store_prep *p, int check_dup, int *dup)
{
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    uint8_t key[ST_KEYLEN], vb[ST_CVAL_LEN];
    struct store_cval v;
    uint32_t id;
    int rc, found, d = 0;

    if (ev != NULL)
        ev->applied = ev->changed = 0;
    if (b == NULL || ev == NULL || p == NULL ||
        store_controller_normalise(ev->controller, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(ev->recipient, rn, sizeof rn) != STORE_OK)
        return STORE_EINVAL;
    if ((rc = st_ctl_id(b->st, b->txn, cn, 1, &id)) != STORE_OK)
        return rc;
    st_put_be32(key, id);
    memcpy(key + 4, p->order, sizeof p->order);
    rc = st_cval_get(b->st, b->txn, key, &v);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc;
    found = rc == STORE_OK;
    if (check_dup && found && (rc = seen(b->st, b->txn, v.last, p->dedup, &d)) != 0)
        return rc;
    if (d) {
        if (dup != NULL)
            *dup = 1;
        return STORE_OK;
    }
    if ((rc = store_state_apply(&v, ev, found)) != STORE_OK ||
        (rc = st_append(b, ev, p->id, cn, rn, v.last, p)) != STORE_OK)
        return rc;
    v.last = ev->seq;
    st_cval_encode(&v, vb);
    MDB_val k = {ST_KEYLEN, key}, dv = {ST_CVAL_LEN, vb};
    return st_mdb_rc(mdb_put(b->txn, b->st->consent, &k, &dv, 0));
}

int store_batch_add_prepared(struct store_batch *b, struct store_event *ev,
                             const struct store_prep *p, int *dup)
{
    if (dup != NULL)
        *dup = 0;
    return add_prepared(b, ev, p, 1, dup);
}

static int batch_add(struct store_batch *b, struct store_event *ev, int check_dup,
                     int *dup)
{
    struct store_prep p;
    uint8_t rnd[32];
    int rc;

    if (dup != NULL)
        *dup = 0;
    if (b == NULL)
        return STORE_EINVAL;
    st_random(b, rnd, sizeof rnd);
    if ((rc = store_event_prepare(b->st, ev, rnd, &p)) != STORE_OK)
        return rc;
    return add_prepared(b, ev, &p, check_dup, dup);
}

int store_batch_begin(struct store *st, struct store_batch **out)
{
    struct store_batch *b;
    int rc;

    *out = NULL;
    if (st == NULL)
        return STORE_EINVAL;
    if ((b = calloc(1, sizeof *b)) == NULL)
        return STORE_ENOMEM;
    b->st = st;
    if ((rc = st_wr_begin(st, &b->txn)) != STORE_OK) {
        free(b);
        return rc;
    }
    if ((rc = st_head_get(st, b->txn, &b->head_seq, b->head_hash)) != STORE_OK) {
        store_batch_abort(b);
        return rc;
    }
    *out = b;
    return STORE_OK;
}

int store_batch_add(struct store_batch *b, struct store_event *ev, int *dup)
{
    return batch_add(b, ev, 1, dup);
}

int store_batch_commit(struct store_batch *b)
{
    int rc;

    if (b == NULL)
        return STORE_EINVAL;
    rc = st_head_put(b->st, b->txn, b->head_seq, b->head_hash);
    if (rc != STORE_OK) {
        store_batch_abort(b);
        return rc;
    }
    rc = st_wr_commit(b->st, b->txn);
    free(b);
    return rc;
}

void store_batch_abort(struct store_batch *b)
{
    if (b == NULL)
        return;
    st_wr_abort(b->st, b->txn);
    free(b);
}

int store_record(struct store *st, struct store_event *ev)
{
    struct store_batch *b;
    int rc = store_batch_begin(st, &b);

    if (rc != STORE_OK)
        return rc;
    rc = batch_add(b, ev, 0, NULL);
    if (rc == STORE_OK && ev->notice_text != NULL)
        rc = st_notice_put(st, b->txn, ev->notice_text, ev->notice_len,
                           ev->notice_source, ev->notice_sha256, NULL);
    if (rc != STORE_OK) {
        store_batch_abort(b);
        return rc;
    }
    return store_batch_commit(b);
}

static int erase_one(struct store *st, MDB_txn *txn, uint64_t seq, const struct st_event *e,
                     void *arg, int *stop)
{
    int rc = st_event_tombstone(st, txn, seq);

    (void)e, (void)stop;
    if (rc == STORE_OK)
        (*(unsigned *)arg)++;
    return rc;
}

/* Tombstone the chain of events that starts at seq. */
int st_erase_chain(struct store *st, MDB_txn *txn, uint64_t seq, unsigned *n)
{
    return chain_each(st, txn, seq, erase_one, n);
}

static int erase_in(struct store_batch *b, const char *cn, const char *rn,
                    const char *actor, unsigned *n)
{
    uint8_t key[ST_KEYLEN];
    struct store_cval v = {0};
    int rc = st_key_for(b->st, b->txn, cn, rn, 0, key, NULL, NULL), any = 0;

    if (rc != STORE_OK)
        return rc;
    MDB_val k = {ST_KEYLEN, key};
    rc = st_cval_get(b->st, b->txn, key, &v);
    if (rc == STORE_OK) {
        any = 1;
        if ((rc = st_erase_chain(b->st, b->txn, v.last, n)) != STORE_OK ||
            (rc = st_mdb_rc(mdb_del(b->txn, b->st->consent, &k, NULL))) != STORE_OK)
            return rc;
    } else if (rc != STORE_NOTFOUND) {
        return rc;
    }
    rc = st_mdb_rc(mdb_del(b->txn, b->st->lastopen, &k, NULL));
    if (rc == STORE_OK)
        any = 1;
    else if (rc != STORE_NOTFOUND)
        return rc;
    if (!any)
        return STORE_NOTFOUND;
    if ((rc = st_erasegen_bump(b->st, b->txn)) != STORE_OK ||
        (rc = st_outbox_purge(b->st, b->txn, cn, rn)) != STORE_OK)
        return rc;
    struct store_event ev = {.action = STORE_A_ERASE,
                             .controller = cn,
                             .method = "admin",
                             .actor = actor,
                             .time = (int64_t)time(NULL)};
    uint8_t rnd[16], u[16];
    randombytes_buf(rnd, sizeof rnd);
    st_uuid_make(rnd, u);
    store_uuid_format(u, ev.id);
    ev.states = *n; /* how many events were erased, for the record */
    /* rprev names the recipient's latest event, so that a replica can
     * find the chain to erase (store_replica_apply); 0 when only a
     * last-open day was known. */
    return st_append(b, &ev, u, cn, NULL, v.last, NULL);
}

int store_erase(struct store *st, const char *controller, const char *rcpt,
                const char *actor, unsigned *nevents)
{
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
    struct store_batch *b;
    unsigned n = 0;
    int rc;

    if (nevents != NULL)
        *nevents = 0;
    if (store_controller_normalise(controller, cn, sizeof cn) != STORE_OK ||
        store_addr_normalise(rcpt, rn, sizeof rn) != STORE_OK || !str_ok(actor, 128, 0))
        return STORE_EINVAL;
    if ((rc = store_batch_begin(st, &b)) != STORE_OK)
        return rc;
    if ((rc = erase_in(b, cn, rn, actor, &n)) != STORE_OK) {
        store_batch_abort(b);
        return rc;
    }
    if ((rc = store_batch_commit(b)) != STORE_OK)
        return rc;
    if (nevents != NULL)
        *nevents = n;
    /* The old copies of the erased events are in freed pages: zero them
     * before saying it is done (store_scrub.c). */
    return store_scrub(st, STORE_SCRUB_WAIT_MS);
}
