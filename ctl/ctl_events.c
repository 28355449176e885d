/* ctl_events - `consentctl export --events [CONTROLLER]`: every ledger
 * event, oldest first, one CSV row (or JSON line) each, with every proof
 * field the ledger holds: id, controller, recipient, time, action,
 * purposes (or, for an import event, states), method, notice_id,
 * notice_sha256, source_ip, user_agent, actor. `consentctl import` reads
 * these rows back as the same events (same id, time and fields), into
 * LMDB or into the primary, so a store can be rebuilt elsewhere without
 * losing proof. Erased events (tombstones) and ERASE events are not
 * exported: they hold no one's consent. The chain itself (seq, hashes,
 * salts) is not carried: the importing store numbers and hashes the
 * events again; `consentctl migrate` is the way to keep them.
 * Reads the LMDB store (one read transaction) or, with a primary, the
 * PostgreSQL ledger (one statement), decoding every event with the
 * store's codec, which checks its hash and personal digest. */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "pgstore/pg_query.h"
#include "store/store_repl.h"

struct evx {
    const struct ctl *c;
    const char *cn; /* NULL: every controller */
    unsigned long n;
    char *strs; /* decode arena (primary) */
};

static const char ev_header[] = "id,controller,recipient,time,action,purposes,states,method,"
                                "notice_id,notice_sha256,source_ip,user_agent,actor\n";

static int is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* "opens,clicks" / "opens=granted;clicks=refused" into out. */
static void purposes_text(const struct store_event *ev, int states, char *out, size_t len)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < STORE_P_MAX && n < len; i++) {
        if (!(ev->purposes & (1u << i)) || store_purpose_name(i) == NULL)
            continue;
        if (states)
            n += (size_t)snprintf(out + n, len - n, "%s%s=%s", n ? ";" : "",
                                  store_purpose_name(i),
                                  store_state_name(STORE_STATES_GET(ev->states, i)));
        else
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "",
                                  store_purpose_name(i));
    }
}

static void cell(const char *s, int last)
{
    ctl_csv_field(s != NULL ? s : "");
    putchar(last ? '\n' : ',');
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static int event_row(const struct store_ledger_event *e, void *arg)
{
    struct evx *x = arg;
    const struct store_event *ev = &e->ev;
    int imp = ev->action == STORE_A_IMPORT;
    char iso[32], hex[65], purp[256];

    if (e->tombstone || ev->action == STORE_A_ERASE || ev->recipient == NULL)
        return 0;
    if (x->cn != NULL && (ev->controller == NULL || strcmp(ev->controller, x->cn) != 0))
        return 0;
    x->n++;
    purposes_text(ev, imp, purp, sizeof purp);
    hex[0] = '\0';
    if (!is_zero(ev->notice_sha256, 32))
        ctl_hex(ev->notice_sha256, 32, hex);
    if (x->c->json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s}", "id", ev->id, "controller",
                              ev->controller, "recipient", ev->recipient, "time",
                              (json_int_t)ev->time, "action", store_action_name(ev->action));
        if (j == NULL)
            return STORE_ENOMEM;
        json_object_set_new(j, imp ? "states" : "purposes",
                            purp[0] ? json_string(purp) : json_null());
        json_object_set_new(j, "method", str_or_null(ev->method));
        json_object_set_new(j, "notice_id", str_or_null(ev->notice_id));
        json_object_set_new(j, "notice_sha256", hex[0] ? json_string(hex) : json_null());
        json_object_set_new(j, "source_ip", str_or_null(ev->source_ip));
        json_object_set_new(j, "user_agent", str_or_null(ev->user_agent));
        json_object_set_new(j, "actor", str_or_null(ev->actor));
        ctl_print_json(j, 1);
        return ferror(stdout) ? STORE_EIO : 0;
    }
    store_time_format(ev->time, iso, sizeof iso);
    cell(ev->id, 0);
    cell(ev->controller, 0);
    cell(ev->recipient, 0);
    cell(iso, 0);
    cell(store_action_name(ev->action), 0);
    cell(imp ? "" : purp, 0);
    cell(imp ? purp : "", 0);
    cell(ev->method, 0);
    cell(ev->notice_id, 0);
    cell(hex, 0);
    cell(ev->source_ip, 0);
    cell(ev->user_agent, 0);
    cell(ev->actor, 1);
    return ferror(stdout) ? STORE_EIO : 0;
}

/* pgstore_raw_cb: decode (hash and digest checked), then as LMDB's. */
static int raw_row(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct evx *x = arg;
    struct store_ledger_event e;
    int rc = store_wire_decode(raw, len, &e, x->strs, STORE_WIRE_STRS);

    if (rc != STORE_OK)
        return rc;
    if (e.seq != seq)
        return STORE_ECORRUPT;
    return event_row(&e, x);
}

int ctl_export_events(struct ctl *c, int argc, char **argv)
{
    static char strs[STORE_WIRE_STRS];
    struct evx x = {c, NULL, 0, strs};
    struct pgstore *pg = NULL;
    struct store *st = NULL;
    char cn[72];
    int rc;

    if (argc > 1 || (argc == 1 && store_controller_normalise(argv[0], cn, sizeof cn) != 0)) {
        ctl_err(c, argc > 1 ? "too many arguments" : "bad controller '%s'", argv[0]);
        return CTL_USAGE;
    }
    x.cn = argc == 1 ? cn : NULL;
    rc = ctl_pg_wanted(c) ? ctl_pg_connect(c, 0, &pg) : ctl_open(c, 0, &st);
    if (rc != CTL_OK)
        return rc;
    if (!c->json)
        fputs(ev_header, stdout);
    rc = pg != NULL ? pgstore_ledger_walk(pg, raw_row, &x) : store_ledger_walk(st, 1, event_row, &x);
    if (rc == STORE_NOTFOUND)
        rc = STORE_OK; /* an empty ledger */
    if (rc != STORE_OK && pg != NULL)
        ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(pg));
    else if (rc != STORE_OK)
        ctl_store_err(c, rc, c->db);
    store_close(st);
    pgstore_close(pg);
    if (fflush(stdout) != 0 && rc == STORE_OK) {
        ctl_err(c, "cannot write the export: %m");
        return CTL_FAIL;
    }
    return rc == STORE_OK ? CTL_OK : CTL_FAIL;
}
