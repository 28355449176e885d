/* ctl_import - `consentctl import FILE`: CSV (libcsv) or JSON lines
 * (jansson) with proof columns, committed in batches.
 *
 * Columns / keys (case-insensitive in CSV headers):
 *   controller, recipient (or email), time (or date: required, it is
 *   proof), action (grant refuse withdraw inform) with purposes, or
 *   states ("opens=granted;clicks=refused", an IMPORT event; action may
 *   then say import), method
 *   (default import), notice_id, notice_sha256 (64 hex), source_ip,
 *   user_agent, actor, id (UUID). The columns of `export` are understood
 *   too, so an export imports back: one column per purpose holding its
 *   state (an IMPORT event), updated (= time), legacy_informed (an INFORM
 *   event at that time); in JSON lines, those of `export --json`. The
 *   rows of `export --events` (one per ledger event, every proof field
 *   and the event id) import back as the same events.
 * With a primary (--conninfo, [store] backend = postgresql) the rows go
 *   to PostgreSQL by COPY in one transaction (pgstore/pg_import.h): the
 *   same checks and messages, but an error that stops the import keeps
 *   nothing.
 * A bad row is reported with its line number and skipped: bad values,
 * broken quoting, a line over 1 MiB. An unknown or repeated column is an
 * error for the whole file (a typo would silently drop proof, a repeat
 * would let the last one win). A CSV record is one line: no field may
 * hold a control character, so a quote left open ends with its line
 * instead of swallowing the rest of the file. A cell that export escaped
 * against spreadsheet formulas ('=...) loses that one quote again.
 * Good rows are collected into batches of --batch rows, sorted by
 * controller and store_order_key (so each batch walks the consent database
 * in key order: a page is written once per batch, not once per row; events
 * of one recipient keep the file's order), then applied with
 * store_batch_add, which skips rows already recorded, so a second import
 * of the same file adds nothing. --dry-run rolls every batch back. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csv.h>
#include <sodium.h>

#include "ctl/ctl.h"
#include "pgstore/pg_import.h"
#include "pgstore/pgstore.h"

enum col {
    C_CONTROLLER,
    C_RECIPIENT,
    C_TIME,
    C_ACTION,
    C_PURPOSES,
    C_STATES,
    C_METHOD,
    C_NOTICE_ID,
    C_NOTICE_SHA,
    C_SOURCE_IP,
    C_USER_AGENT,
    C_ACTOR,
    C_ID,
    C_INFORMED,
    C_PSTATE, /* export: first of one column per purpose */
    NCOLS = C_PSTATE + STORE_P_MAX
};
static const char *const col_names[C_PSTATE] = {
    "controller", "recipient", "time",      "action",          "purposes",
    "states",     "method",    "notice_id", "notice_sha256",   "source_ip",
    "user_agent", "actor",     "id",        "legacy_informed",
};

#define FIELD_MAX 2048
#define REPORT_MAX 100 /* bad rows printed; the rest only counted */

struct imp {
    struct ctl *c;
    const char *file;
    struct store *st;
    struct ctl_batcher *batcher;
    struct pgstore *pg; /* the primary: one COPY transaction (pg_import.h) */
    struct pgstore_import *pgi;
    ctl_push_fn push; /* where good rows go: the batcher, the primary, or a test's */
    void *push_arg;
    char *f[NCOLS]; /* current row */
    int map[64];    /* CSV column -> enum col, -1 skipped */
    int ncsv, field, header_done, row_bad;
    unsigned long line, row_line;
    unsigned long bad; /* rows rejected (both threads; under report_mu) */
    struct ctl_batch_counts n;
    int fatal; /* store error: stop */
};

static int col_lookup(const char *name)
{
    if (strcasecmp(name, "email") == 0)
        return C_RECIPIENT;
    if (strcasecmp(name, "date") == 0 || strcasecmp(name, "timestamp") == 0 ||
        strcasecmp(name, "updated") == 0)
        return C_TIME;
    if (strcasecmp(name, "notice") == 0)
        return C_NOTICE_ID;
    for (int i = 0; i < C_PSTATE; i++)
        if (strcasecmp(name, col_names[i]) == 0)
            return i;
    for (int i = 0; i < STORE_P_MAX; i++)
        if (store_purpose_name(i) && strcasecmp(name, store_purpose_name(i)) == 0)
            return C_PSTATE + i;
    return -1;
}

static const char *col_name(int col)
{
    return col >= C_PSTATE ? store_purpose_name(col - C_PSTATE) : col_names[col];
}

static void row_bad(struct imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;

/* Report a bad row at line (either thread). */
static void row_bad_v(struct imp *im, unsigned long line, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&report_mu);
    im->bad++;
    if (im->bad <= REPORT_MAX) {
        fprintf(stderr, "consentctl: import: %s:%lu: ", im->file, line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    } else if (im->bad == REPORT_MAX + 1) {
        fprintf(stderr, "consentctl: import: more bad rows; only counting them now\n");
    }
    pthread_mutex_unlock(&report_mu);
}

static void row_bad(struct imp *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    row_bad_v(im, im->row_line, fmt, ap);
    va_end(ap);
}

static void row_rejected(struct imp *im, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row_rejected(struct imp *im, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    row_bad_v(im, line, fmt, ap);
    va_end(ap);
}

/* ctl_reject_fn: the store refused a row (applying thread). */
static void on_reject(void *arg, unsigned long line)
{
    row_rejected(
        arg, line,
        "rejected (method must be signup-form consent-page withdraw-link api import "
        "admin; text fields without control characters)");
}

/* "opens=granted;clicks=refused" -> mask + packed states. */
static int parse_states(const char *s, uint32_t *mask, uint32_t *states)
{
    char buf[FIELD_MAX];
    char *save = NULL;

    *mask = *states = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *t = strtok_r(buf, ";, ", &save); t; t = strtok_r(NULL, ";, ", &save)) {
        char *eq = strchr(t, '=');
        int p, v = -1;
        if (eq == NULL)
            return -1;
        *eq = '\0';
        if ((p = store_purpose_parse(t)) < 0)
            return -1;
        for (int i = 1; i <= 3; i++)
            if (strcasecmp(eq + 1, store_state_name(i)) == 0)
                v = i;
        if (v < 0)
            return -1;
        *mask |= 1u << p;
        STORE_STATES_SET(*states, p, v);
    }
    return *mask != 0 ? 0 : -1;
}

static int parse_action(const char *s)
{
    static const char *const n[] = {"grant", "refuse", "withdraw", "inform"};
    for (int i = 0; s && i < 4; i++)
        if (strcasecmp(s, n[i]) == 0)
            return i;
    return -1;
}

static const char *fld(const struct imp *im, int col)
{
    const char *s = im->f[col];
    return s != NULL && *s != '\0' ? s : NULL;
}

/* Export's per-purpose columns -> mask + packed states ("unknown" and
 * empty cells leave the purpose out). 0, or -1 naming the bad cell. */
static int pstate_cols(const struct imp *im, uint32_t *mask, uint32_t *states,
                       const char **bad)
{
    *mask = *states = 0;
    for (int p = 0; p < STORE_P_MAX; p++) {
        const char *s = fld(im, C_PSTATE + p);
        int v = -1;
        if (s == NULL)
            continue;
        for (int i = 0; i <= 3; i++)
            if (strcasecmp(s, store_state_name(i)) == 0)
                v = i;
        if (v < 0)
            return *bad = s, -1;
        if (v == 0)
            continue;
        *mask |= 1u << p;
        STORE_STATES_SET(*states, p, v);
    }
    return 0;
}

/* What the row does: states, export's purpose columns, action+purposes,
 * or (export of an inform-only recipient) legacy_informed alone, which
 * then becomes the event. 0, or -1 after reporting it. */
static int row_action(struct imp *im, struct store_event *ev, int64_t *informed)
{
    uint32_t pmask, pstates;
    const char *s, *bad = NULL, *act = fld(im, C_ACTION);

    /* export --events names an IMPORT event's action: its states follow */
    if (act != NULL && strcasecmp(act, "import") == 0) {
        if (fld(im, C_STATES) == NULL)
            return row_bad(im, "action import needs states (opens=granted;clicks=refused)"),
                   -1;
        act = NULL;
    }
    if (pstate_cols(im, &pmask, &pstates, &bad) != 0)
        return row_bad(im, "bad state '%s' (want granted refused withdrawn unknown)",
                       bad),
               -1;
    if ((s = fld(im, C_STATES)) != NULL || pmask != 0) {
        if (act != NULL || fld(im, C_PURPOSES) != NULL || (s != NULL && pmask != 0))
            return row_bad(im, "give either states, purpose columns or action+purposes"),
                   -1;
        if (s != NULL && parse_states(s, &ev->purposes, &ev->states) != 0)
            return row_bad(im, "bad states '%s' (want opens=granted;clicks=refused)", s),
                   -1;
        if (s == NULL)
            ev->purposes = pmask, ev->states = pstates;
        ev->action = STORE_A_IMPORT;
        return 0;
    }
    if (fld(im, C_ACTION) == NULL && *informed != 0) {
        ev->action = STORE_A_INFORM;
        ev->time = *informed;
        *informed = 0;
        return 0;
    }
    if ((ev->action = parse_action(fld(im, C_ACTION))) < 0)
        return row_bad(im, "bad or missing action '%s'",
                       fld(im, C_ACTION) ? fld(im, C_ACTION) : ""),
               -1;
    if ((s = fld(im, C_PURPOSES)) != NULL && store_purposes_parse(s, &ev->purposes, &bad))
        return row_bad(im, "unknown purpose in '%s'", s), -1;
    if (s == NULL && (ev->action == STORE_A_GRANT || ev->action == STORE_A_REFUSE))
        return row_bad(im, "missing purposes"), -1;
    return 0;
}

/* Check one row and turn it into ev, and *informed into the time of an
 * INFORM event to add (0: none); 0, or -1 after reporting it. */
static int row_event(struct imp *im, struct store_event *ev, int64_t *informed)
{
    char buf[STORE_ADDR_MAX];
    const char *s;

    memset(ev, 0, sizeof *ev);
    *informed = 0;
    if ((s = fld(im, C_CONTROLLER)) == NULL ||
        store_controller_normalise(s, buf, 72) != 0)
        return row_bad(im, "bad or missing controller '%s'", s ? s : ""), -1;
    ev->controller = im->f[C_CONTROLLER];
    if ((s = fld(im, C_RECIPIENT)) == NULL ||
        store_addr_normalise(s, buf, sizeof buf) != 0)
        return row_bad(im, "bad address '%s'", s ? s : ""), -1;
    ev->recipient = s;
    /* time 0 would mean "now" to the store, and 0 is "none" for
     * legacy_informed: a proof date is after the epoch */
    if ((s = fld(im, C_TIME)) == NULL || store_time_parse(s, &ev->time) != 0 ||
        ev->time <= 0)
        return row_bad(im, "bad or missing date '%s'", s ? s : ""), -1;
    if (ev->time > (int64_t)time(NULL) + STORE_CLOCK_SKEW)
        return row_bad(im, "date '%s' is in the future", s), -1;
    if ((s = fld(im, C_INFORMED)) != NULL &&
        (store_time_parse(s, informed) != 0 || *informed <= 0))
        return row_bad(im, "bad legacy_informed date '%s'", s), -1;
    if (row_action(im, ev, informed) != 0)
        return -1;
    ev->method = fld(im, C_METHOD) ? fld(im, C_METHOD) : "import";
    ev->notice_id = fld(im, C_NOTICE_ID);
    if ((s = fld(im, C_NOTICE_SHA)) != NULL &&
        (strlen(s) != 64 ||
         sodium_hex2bin(ev->notice_sha256, 32, s, 64, NULL, NULL, NULL) != 0))
        return row_bad(im, "bad notice_sha256 '%s' (want 64 hex digits)", s), -1;
    if ((s = fld(im, C_ID)) != NULL) {
        uint8_t u[16];
        if (strlen(s) != 36 || store_uuid_parse(s, u) != 0)
            return row_bad(im, "bad id '%s' (want a UUID)", s), -1;
        memcpy(ev->id, s, 37);
    }
    ev->source_ip = fld(im, C_SOURCE_IP);
    ev->user_agent = fld(im, C_USER_AGENT);
    ev->actor = fld(im, C_ACTOR) ? fld(im, C_ACTOR) : "import";
    return 0;
}

/* pgstore_reject_fn: the primary refused a row at its batch's flush. */
static void on_pg_reject(void *arg, unsigned long line, int why, const char *id)
{
    if (why == PGSTORE_R_ID_TAKEN)
        row_rejected(arg, line, "id %s is already in the primary's ledger for another event",
                     id);
    else
        on_reject(arg, line);
}

static int push(struct imp *im, const struct store_event *ev)
{
    int rc = im->push(im->push_arg, ev, im->row_line);

    if (rc == STORE_EINVAL)
        on_reject(im, im->row_line);
    else if (rc != STORE_OK)
        im->fatal = rc;
    return rc;
}

/* An export row of an informed recipient with states is two events, pushed
 * in time order (the batcher keeps a recipient's order). */
static void row_done(struct imp *im)
{
    struct store_event ev, inf;
    int64_t informed;

    if (im->fatal || im->row_bad || row_event(im, &ev, &informed) != 0)
        return;
    if (informed != 0) {
        inf = ev;
        inf.action = STORE_A_INFORM;
        inf.purposes = inf.states = 0;
        inf.time = informed;
        inf.id[0] = '\0';
    }
    if (informed != 0 && informed <= ev.time && push(im, &inf) != STORE_OK)
        return;
    if (push(im, &ev) == STORE_OK && informed > ev.time)
        push(im, &inf);
}

static void row_reset(struct imp *im)
{
    for (int i = 0; i < NCOLS; i++) {
        free(im->f[i]);
        im->f[i] = NULL;
    }
    im->field = 0;
    im->row_bad = 0;
}

/* One column name of the header: unknown or repeated (also through an
 * alias: email and recipient) is an error for the whole file. */
static void header_field(struct imp *im, int idx, const char *name)
{
    im->ncsv = idx + 1;
    if (im->fatal)
        return;
    if (idx >= 64 || (im->map[idx] = col_lookup(name)) < 0) {
        ctl_err(im->c,
                "%s:%lu: unknown column '%s' (known: controller recipient time "
                "action purposes states method notice_id notice_sha256 source_ip "
                "user_agent actor id, and export's columns)",
                im->file, im->line, name);
        im->fatal = -1;
        return;
    }
    for (int j = 0; j < idx; j++)
        if (im->map[j] == im->map[idx]) {
            ctl_err(im->c, "%s:%lu: column %d '%s' repeats column %d (%s)", im->file,
                    im->line, idx + 1, name, j + 1, col_name(im->map[idx]));
            im->fatal = -1;
            return;
        }
}

/* libcsv: one field. */
static void csv_cb_field(void *s, size_t n, void *data)
{
    struct imp *im = data;

    /* After an error for the whole file (a bad header) nothing is read,
     * not even the rest of its line: a CR ends a record within a line. */
    if (im->fatal)
        return;
    if (im->field == 0)
        im->row_line = im->line;
    int idx = im->field++;
    if (!im->header_done) {
        char name[64];
        if (idx == 0 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) { /* UTF-8 BOM */
            s = (char *)s + 3;
            n -= 3;
        }
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), (const char *)s);
        header_field(im, idx, name);
        return;
    }
    if (idx >= im->ncsv) {
        im->row_bad = 1;
        return;
    }
    if (n > FIELD_MAX || (n > 0 && memchr(s, '\0', n) != NULL)) {
        im->row_bad = 2;
        return;
    }
    int col = im->map[idx];
    free(im->f[col]);
    if ((im->f[col] = malloc(n + 1)) == NULL) {
        im->fatal = STORE_ENOMEM;
        return;
    }
    memcpy(im->f[col], s, n);
    im->f[col][n] = '\0';
    if (ctl_csv_escaped(im->f[col], 1))
        memmove(im->f[col], im->f[col] + 1, n); /* export's formula guard */
}

/* libcsv: end of a record. */
static void csv_cb_row(int c, void *data)
{
    struct imp *im = data;

    (void)c;
    if (im->fatal) {
        /* nothing after an error for the whole file (csv_cb_field) */
    } else if (!im->header_done) {
        im->header_done = 1;
    } else if (im->row_bad == 1 || im->field != im->ncsv) {
        row_bad(im, "wrong number of fields");
    } else if (im->row_bad == 2) {
        row_bad(im, "field too long or contains NUL");
    } else {
        row_done(im);
    }
    row_reset(im);
}

#define LINE_MAX_BYTES (1u << 20)

/* Read one line (with its newline) into buf of cap bytes. Returns its
 * length, -1 at the end, or -2 for a line longer than cap - 1 (consumed).
 * *nul is set when the line holds a NUL byte. */
static ssize_t line_read(FILE *f, char *buf, size_t cap, int *nul)
{
    size_t n = 0;
    int ch = EOF;

    *nul = 0;
    while ((ch = getc_unlocked(f)) != EOF) {
        if (n + 1 < cap)
            buf[n] = (char)ch;
        n++;
        *nul |= ch == '\0';
        if (ch == '\n')
            break;
    }
    if (n == 0)
        return -1;
    if (n + 1 > cap)
        return -2;
    buf[n] = '\0';
    return (ssize_t)n;
}

/* A parser for the next record, after an error left it mid-record. */
static int parser_restart(struct imp *im, struct csv_parser *p)
{
    csv_free(p);
    row_reset(im);
    if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return im->fatal = STORE_ENOMEM;
    csv_set_blk_size(p, 4096);
    return 0;
}

/* A line that is not a record: skipped and reported, or, for the header,
 * the end of the file (nothing after it can be read). */
static void csv_line_bad(struct imp *im, struct csv_parser *p, const char *what,
                         const char *detail)
{
    if (!im->header_done) {
        ctl_err(im->c, "%s:%lu: %s%s (in the header line)", im->file, im->line, what,
                detail);
        im->fatal = -1;
        return;
    }
    row_bad(im, "%s%s; row skipped", what, detail);
    parser_restart(im, p);
}

/* One line is one record (no field may hold a line break): the parser is
 * finished at each line's end, so an open quote is that line's error. */
static void csv_line(struct imp *im, struct csv_parser *p, const char *line, ssize_t n)
{
    im->row_line = im->line;
    if (n == -2)
        return csv_line_bad(im, p, "line longer than 1 MiB", "");
    if (csv_parse(p, line, (size_t)n, csv_cb_field, csv_cb_row, im) != (size_t)n)
        return csv_line_bad(im, p, "CSV syntax error: ", csv_strerror(csv_error(p)));
    if (csv_fini(p, csv_cb_field, csv_cb_row, im) != 0)
        return csv_line_bad(im, p, "unterminated quote", "");
}

static int read_csv(struct imp *im, FILE *f)
{
    struct csv_parser p;
    char *line = malloc(LINE_MAX_BYTES + 2);
    ssize_t n;
    int nul;

    if (line == NULL || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(line);
        return STORE_ENOMEM;
    }
    csv_set_blk_size(&p, 4096);
    while (!im->fatal && (n = line_read(f, line, LINE_MAX_BYTES + 2, &nul)) != -1) {
        im->line++;
        csv_line(im, &p, line, n);
    }
    csv_free(&p);
    free(line);
    row_reset(im);
    return im->fatal;
}

/* One JSON value as the text of a column. */
static char *json_text(json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
        return strdup(b);
    }
    char *out = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    size_t i;
    const char *k;
    json_t *x;
    if (m == NULL)
        return NULL;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) fprintf(
            m, "%s%s", i ? "," : "", json_is_string(x) ? json_string_value(x) : "?");
    } else if (json_is_object(v)) {
        i = 0;
        json_object_foreach(v, k, x)
        {
            if (json_is_string(x) && strcmp(json_string_value(x), "unknown") == 0)
                continue; /* export's "not set" */
            fprintf(m, "%s%s=%s", i++ ? ";" : "", k,
                    json_is_string(x) ? json_string_value(x) : "?");
        }
    } else {
        fputs("?", m);
    }
    fclose(m);
    return out;
}

static void jsonl_row(struct imp *im, const char *line)
{
    json_error_t err;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err), *v;
    const char *k;

    im->row_line = im->line;
    if (!json_is_object(o)) {
        row_bad(im, "not a JSON object: %s", o == NULL ? err.text : "wrong type");
        json_decref(o);
        return;
    }
    json_object_foreach(o, k, v)
    {
        int col = col_lookup(k);
        /* export --json: "updated_utc" repeats "updated"; "purposes" holds
         * states in an object */
        if (strcmp(k, "updated_utc") == 0 && json_object_get(o, "updated") != NULL)
            continue;
        if (strcmp(k, "updated_utc") == 0)
            col = C_TIME;
        if (col == C_PURPOSES && json_is_object(v))
            col = C_STATES;
        if (col < 0) {
            row_bad(im, "unknown key '%s'", k);
            im->row_bad = 1;
            break;
        }
        if (json_is_null(v))
            continue;
        if (im->f[col] != NULL) { /* an alias of a key already given */
            row_bad(im, "key '%s' repeats another key for '%s'", k, col_name(col));
            im->row_bad = 1;
            break;
        }
        if ((im->f[col] = json_text(v)) == NULL || strlen(im->f[col]) > FIELD_MAX) {
            row_bad(im, "bad value for '%s'", k);
            im->row_bad = 1;
            break;
        }
    }
    json_decref(o);
    if (!im->row_bad)
        row_done(im);
    row_reset(im);
}

static int read_jsonl(struct imp *im, FILE *f)
{
    char *line = malloc(LINE_MAX_BYTES + 2);
    ssize_t n;
    int nul;

    if (line == NULL)
        return STORE_ENOMEM;
    while (!im->fatal && (n = line_read(f, line, LINE_MAX_BYTES + 2, &nul)) != -1) {
        im->line++;
        im->row_line = im->line;
        if (n == -2 || nul) {
            row_bad(im, n == -2 ? "line longer than 1 MiB" : "NUL byte in line");
            continue;
        }
        size_t i = 0;
        while (isspace((unsigned char)line[i]))
            i++;
        if (line[i] != '\0')
            jsonl_row(im, line + i);
    }
    free(line);
    return im->fatal;
}

/* JSONL if the name says so or the first non-blank byte is '{'. */
static int is_jsonl(const char *name, FILE *f)
{
    size_t n = strlen(name);
    if ((n > 6 && strcmp(name + n - 6, ".jsonl") == 0) ||
        (n > 7 && strcmp(name + n - 7, ".ndjson") == 0) ||
        (n > 5 && strcmp(name + n - 5, ".json") == 0))
        return 1;
    if (n > 4 && strcmp(name + n - 4, ".csv") == 0)
        return 0;
    int ch;
    while ((ch = getc(f)) != EOF && isspace(ch))
        continue;
    if (ch != EOF)
        ungetc(ch, f);
    return ch == '{';
}

static int import_report(struct imp *im)
{
    int rc = im->bad ? CTL_PARTIAL : CTL_OK;
    if (im->c->json) {
        ctl_print_json(json_pack("{s:s,s:b,s:I,s:I,s:I,s:I}", "file", im->file, "dry_run",
                                 im->c->dry_run, "added", (json_int_t)im->n.added,
                                 "duplicates", (json_int_t)im->n.dups, "rejected",
                                 (json_int_t)im->bad, "batches",
                                 (json_int_t)im->n.batches),
                       0);
    } else {
        printf("%s%s: %lu event(s) %s, %lu duplicate(s) skipped, %lu bad row(s) skipped, "
               "%lu batch(es)\n",
               im->c->dry_run ? "dry run: " : "", im->file, im->n.added,
               im->c->dry_run ? "would be added" : "added", im->n.dups, im->bad,
               im->n.batches);
    }
    return rc;
}

static int read_any(struct imp *im, FILE *f)
{
    return is_jsonl(im->file, f) ? read_jsonl(im, f) : read_csv(im, f);
}

int ctl_import_read(struct ctl *c, const char *name, FILE *f, ctl_push_fn to, void *arg,
                    unsigned long *bad)
{
    struct imp im = {.c = c, .file = name, .push = to, .push_arg = arg};
    int rc = read_any(&im, f);

    *bad = im.bad;
    return rc;
}

static int batch_push(void *arg, const struct store_event *ev, unsigned long line)
{
    return ctl_batcher_push(arg, ev, line);
}

static int pg_push(void *arg, const struct store_event *ev, unsigned long line)
{
    return pgstore_import_add(arg, ev, line);
}

/* The sink: the primary (one COPY transaction) or the LMDB batcher.
 * Prints the error; returns an exit code. */
static int import_start(struct imp *im)
{
    struct ctl *c = im->c;
    int rc;

    if (ctl_pg_wanted(c)) {
        if ((rc = ctl_pg_connect(c, 0, &im->pg)) != CTL_OK)
            return rc;
        rc = pgstore_import_begin(im->pg, (size_t)c->batch, c->dry_run, on_pg_reject, im,
                                  &im->pgi);
        if (rc != STORE_OK) {
            ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(im->pg));
            pgstore_close(im->pg);
            return CTL_FAIL;
        }
        im->push = pg_push;
        im->push_arg = im->pgi;
        return CTL_OK;
    }
    if ((rc = ctl_open(c, !c->dry_run, &im->st)) != CTL_OK)
        return rc;
    if ((rc = ctl_batcher_start(&im->batcher, im->st, c->batch, c->dry_run, on_reject,
                                im)) != STORE_OK) {
        store_close(im->st);
        return ctl_store_err(c, rc, c->db);
    }
    im->push = batch_push;
    im->push_arg = im->batcher;
    return CTL_OK;
}

static void import_finish(struct imp *im)
{
    int rc;

    if (im->pgi != NULL) {
        struct pgstore_import_counts n;
        rc = pgstore_import_end(im->pgi, im->fatal == 0, &n);
        im->n.added = n.added, im->n.dups = n.dups, im->n.batches = n.batches;
    } else {
        rc = ctl_batcher_finish(im->batcher, im->fatal == 0, &im->n);
        store_close(im->st);
    }
    if (rc != STORE_OK && im->fatal >= 0)
        im->fatal = rc;
}

int ctl_import(struct ctl *c, int argc, char **argv)
{
    struct imp im = {.c = c};
    FILE *f;
    int rc;

    if (argc != 1) {
        ctl_err(c, "needs exactly one FILE (- for standard input)");
        return CTL_USAGE;
    }
    im.file = argv[0];
    f = strcmp(argv[0], "-") == 0 ? stdin : fopen(argv[0], "r");
    if (f == NULL) {
        ctl_err(c, "cannot open '%s': %m", argv[0]);
        return CTL_USAGE;
    }
    if ((rc = import_start(&im)) != CTL_OK) {
        if (f != stdin)
            fclose(f);
        return rc;
    }
    rc = read_any(&im, f);
    if (rc == 0 && ferror(f)) {
        ctl_err(c, "%s: read error", im.file);
        rc = im.fatal = -1;
    }
    /* a syntax error (fatal < 0) abandons the batch being read; committed
     * batches stay (LMDB); on the primary nothing stays */
    import_finish(&im);
    if (f != stdin)
        fclose(f);
    if (im.fatal > 0) {
        if (im.pg != NULL) {
            ctl_err(c, "primary: %s (%s)", store_strerror(im.fatal), pgstore_error(im.pg));
            fprintf(stderr,
                    "consentctl: import: stopped at %s:%lu; nothing was imported (the "
                    "import is one transaction on the primary)\n",
                    im.file, im.line);
        } else {
            ctl_store_err(c, im.fatal, c->db);
            fprintf(stderr,
                    "consentctl: import: stopped at %s:%lu; %lu batch(es) committed "
                    "before it are kept\n",
                    im.file, im.line, im.n.batches);
        }
        pgstore_close(im.pg);
        return CTL_FAIL;
    }
    if (im.fatal < 0 && im.pg != NULL)
        fprintf(stderr, "consentctl: import: nothing was imported (the import is one "
                        "transaction on the primary)\n");
    pgstore_close(im.pg);
    if (im.fatal < 0)
        return CTL_USAGE;
    return import_report(&im);
}
