/* pg_state - the second half of pgstore_verify: every row of the consent
 * table must be what its recipient's ledger events produce (the rules of
 * store_state_apply, as store_verify checks an LMDB store).
 *
 * Two cursors in the verify's snapshot, both in (controller, recipient)
 * byte order (collate "C", so strcmp agrees): the live ledger rows, oldest
 * first within a recipient, and the consent rows. They are merged: each
 * recipient's events are replayed from their raw values (decoded and
 * checked, naming the controller and recipient of their row, each linked
 * to the one before by rprev as the LMDB store links them) and the
 * result compared with its consent row; a recipient with events and no
 * row, or a row with no events, is a mismatch too. Memory stays one page
 * of each cursor, whatever the size of the table. */
#include <stdlib.h>
#include <string.h>

#include "pgstore/pg_int.h"
#include "store/store_repl.h"

#define FETCH "2000"
/* more(): a row is current; bad(): a mismatch (stops, not an error). The
 * STORE_* codes are positive, so neither is one of them. */
#define ROW (-1)
#define MISMATCH (-2)

struct stream {
    struct pgstore *pg;
    const char *name;
    PGresult *r;
    int i, n, done;
};

static uint64_t be(const char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* Make row i current (ROW), or end of the cursor (0), or a STORE_E*. */
static int more(struct stream *s)
{
    char sql[64];

    if (s->done)
        return 0;
    if (s->r != NULL && s->i < s->n)
        return ROW;
    PQclear(s->r);
    s->r = NULL;
    strcpy(sql, "fetch " FETCH " from ");
    strcat(sql, s->name);
    PGresult *r = PQexecParams(s->pg->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_exec_ok(s->pg, r, PGRES_TUPLES_OK);
    s->r = r;
    s->i = 0;
    s->n = PQntuples(r);
    s->done = s->n == 0;
    return s->done ? 0 : ROW;
}

static const char *col(const struct stream *s, int c)
{
    return PQgetvalue(s->r, s->i, c);
}

/* (controller, recipient) order of a row against a key. */
static int keycmp(const struct stream *s, const char *ctl, const char *rcpt)
{
    int d = strcmp(col(s, 0), ctl);
    return d != 0 ? d : strcmp(col(s, 1), rcpt);
}

struct state {
    struct stream led, con;
    struct store_verify *res;
    char ctl[72], rcpt[STORE_ADDR_MAX];
    struct store_cval cv;
    uint64_t last;
    char last_id[37];
    char strs[STORE_WIRE_STRS];
};

static int bad(struct state *w, uint64_t seq, const char *id)
{
    w->res->problem = STORE_V_STATE;
    w->res->bad_seq = seq;
    memset(w->res->bad_id, 0, sizeof w->res->bad_id);
    if (id != NULL)
        memcpy(w->res->bad_id, id, sizeof w->res->bad_id - 1);
    return MISMATCH;
}

/* Replay one recipient's events (the ledger cursor is on its first). */
static int replay(struct state *w)
{
    struct store_ledger_event e;
    int rc, found = 0;

    if (strlen(col(&w->led, 0)) >= sizeof w->ctl || strlen(col(&w->led, 1)) >= sizeof w->rcpt)
        return bad(w, be(col(&w->led, 2), 8), NULL);
    strcpy(w->ctl, col(&w->led, 0));
    strcpy(w->rcpt, col(&w->led, 1));
    memset(&w->cv, 0, sizeof w->cv);
    while ((rc = more(&w->led)) == ROW && keycmp(&w->led, w->ctl, w->rcpt) == 0) {
        uint64_t seq = be(col(&w->led, 2), 8);
        if (store_wire_decode(col(&w->led, 3), (size_t)PQgetlength(w->led.r, w->led.i, 3),
                              &e, w->strs, sizeof w->strs) != STORE_OK ||
            e.seq != seq || e.tombstone || e.ev.recipient == NULL ||
            strcmp(e.ev.controller, w->ctl) != 0 || strcmp(e.ev.recipient, w->rcpt) != 0 ||
            e.rprev != (found ? w->cv.last : 0))
            return bad(w, seq, NULL); /* the row's columns do not say what its bytes do,
                                         or the recipient's rprev links skip an event */
        struct store_event ev = {.action = e.ev.action, .time = e.ev.time,
                                 .purposes = e.ev.purposes, .states = e.ev.states};
        if (store_state_apply(&w->cv, &ev, found) != STORE_OK)
            return bad(w, seq, e.ev.id);
        found = 1;
        w->cv.last = seq;
        memcpy(w->last_id, e.ev.id, sizeof w->last_id);
        w->led.i++;
    }
    return rc == ROW ? 0 : rc;
}

/* The consent row for the replayed recipient (cursor on it, or past). */
static int compare(struct state *w)
{
    int rc;

    /* rows for recipients with no live event */
    if ((rc = more(&w->con)) == ROW && keycmp(&w->con, w->ctl, w->rcpt) < 0)
        return bad(w, be(col(&w->con, 5), 8), NULL);
    if (rc != ROW && rc != 0)
        return rc;
    if (rc == 0 || keycmp(&w->con, w->ctl, w->rcpt) > 0)
        return bad(w, w->cv.last, w->last_id); /* events, no consent row */
    if (be(col(&w->con, 2), 4) != w->cv.states || be(col(&w->con, 3), 8) != w->cv.updated ||
        be(col(&w->con, 4), 8) != w->cv.informed || be(col(&w->con, 5), 8) != w->cv.last)
        return bad(w, w->cv.last, w->last_id);
    w->con.i++;
    return 0;
}

static int merge(struct state *w)
{
    int rc;

    while ((rc = more(&w->led)) == ROW) {
        if ((rc = replay(w)) != 0 || (rc = compare(w)) != 0)
            return rc;
    }
    if (rc != 0)
        return rc;
    if ((rc = more(&w->con)) == ROW) /* rows after the last recipient */
        return bad(w, be(col(&w->con, 5), 8), NULL);
    return rc;
}

int pg_verify_state(struct pgstore *pg, struct store_verify *res)
{
    struct state *w = calloc(1, sizeof *w);
    int rc;

    if (w == NULL)
        return STORE_ENOMEM;
    w->res = res;
    w->led = (struct stream){pg, "consent_vl", NULL, 0, 0, 0};
    w->con = (struct stream){pg, "consent_vc", NULL, 0, 0, 0};
    rc = pg_exec_ok(pg,
                    PQexec(pg->conn,
                           "declare consent_vl no scroll cursor for select controller, "
                           "recipient, seq, raw from ledger where recipient is not null "
                           "order by controller collate \"C\", recipient collate \"C\", seq"),
                    PGRES_COMMAND_OK);
    if (rc == STORE_OK)
        rc = pg_exec_ok(pg,
                        PQexec(pg->conn,
                               "declare consent_vc no scroll cursor for select controller, "
                               "recipient, states, updated, informed, last_seq from consent "
                               "order by controller collate \"C\", recipient collate \"C\""),
                        PGRES_COMMAND_OK);
    if (rc == STORE_OK)
        rc = merge(w);
    PQclear(w->led.r);
    PQclear(w->con.r);
    free(w);
    return rc == MISMATCH ? STORE_OK : rc;
}
