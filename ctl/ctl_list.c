/* ctl_list - consentctl commands that enumerate: export, inactive, stats.
 *
 * They run one read transaction each (a consistent snapshot; writers go
 * on meanwhile). export and inactive stream one line per recipient (CSV or
 * JSON lines), so their memory use does not grow with the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "pgstore/pg_query.h"

static int export_one(const char *ctl, const char *rcpt, const struct store_consent *s,
                      void *arg)
{
    const struct ctl *c = arg;
    char iso[32];

    if (c->json) {
        ctl_print_json(ctl_consent_json(ctl, rcpt, s), 1);
        return ferror(stdout) ? STORE_EIO : 0;
    }
    ctl_csv_field(ctl);
    putchar(',');
    ctl_csv_field(rcpt);
    for (int i = 0; i < STORE_P_MAX; i++)
        if (store_purpose_name(i) != NULL)
            printf(",%s", store_state_name(s->state[i]));
    store_time_format(s->updated, iso, sizeof iso);
    printf(",%s,", iso);
    if (s->legacy_informed) {
        store_time_format(s->legacy_informed, iso, sizeof iso);
        fputs(iso, stdout);
    }
    putchar('\n');
    return ferror(stdout) ? STORE_EIO : 0;
}

/* The optional CONTROLLER argument of export and stats, then the store
 * (or, with a primary, *pg; *st stays NULL). cn receives the normalised
 * controller (unchanged when none is given). */
static int open_for_controller(struct ctl *c, int argc, char **argv, char *cn,
                               size_t cnlen, struct store **st, struct pgstore **pg)
{
    *st = NULL;
    *pg = NULL;
    if (argc > 1 || (argc == 1 && store_controller_normalise(argv[0], cn, cnlen) != 0)) {
        ctl_err(c, argc > 1 ? "too many arguments" : "bad controller '%s'", argv[0]);
        return CTL_USAGE;
    }
    return ctl_pg_wanted(c) ? ctl_pg_connect(c, 0, pg) : ctl_open(c, 0, st);
}

/* A store error of the primary or of the LMDB store; closes both. */
static int list_err(struct ctl *c, int rc, struct store *st, struct pgstore *pg)
{
    if (pg != NULL)
        ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(pg));
    else
        ctl_store_err(c, rc, c->db);
    store_close(st);
    pgstore_close(pg);
    return CTL_FAIL;
}

int ctl_export(struct ctl *c, int argc, char **argv)
{
    struct store *st;
    struct pgstore *pg;
    char cn[72];
    int rc;

    if (c->events)
        return ctl_export_events(c, argc, argv);
    if ((rc = open_for_controller(c, argc, argv, cn, sizeof cn, &st, &pg)) != CTL_OK)
        return rc;
    if (!c->json) {
        fputs("controller,recipient", stdout);
        for (int i = 0; i < STORE_P_MAX; i++)
            if (store_purpose_name(i) != NULL)
                printf(",%s", store_purpose_name(i));
        fputs(",updated,legacy_informed\n", stdout);
    }
    if (pg != NULL)
        rc = pgstore_consent_walk(pg, argc == 1 ? cn : NULL, export_one, c);
    else
        rc = store_consent_walk(st, argc == 1 ? cn : NULL, export_one, c);
    if (rc == STORE_NOTFOUND)
        rc = STORE_OK; /* unknown controller: nothing to export */
    if (rc != STORE_OK)
        return list_err(c, rc, st, pg);
    store_close(st);
    pgstore_close(pg);
    return CTL_OK;
}

struct inactive_arg {
    const struct ctl *c;
    int64_t before_day;
    unsigned long n;
};

static int inactive_one(const char *rcpt, int64_t day, void *arg)
{
    struct inactive_arg *a = arg;
    char iso[32];

    if (day >= a->before_day)
        return 0;
    store_time_format(day * 86400, iso, sizeof iso);
    iso[10] = '\0';
    a->n++;
    if (a->c->json)
        ctl_print_json(json_pack("{s:s,s:s}", "recipient", rcpt, "last_open", iso), 1);
    else
        printf("%s\t%s\n", rcpt, iso);
    return ferror(stdout) ? STORE_EIO : 0;
}

int ctl_inactive(struct ctl *c, int argc, char **argv)
{
    struct inactive_arg a = {c, 0, 0};
    struct store *st;
    char cn[72];
    int64_t t;
    int rc;

    if (argc != 1) {
        ctl_err(c, "needs CONTROLLER and --before DATE");
        return CTL_USAGE;
    }
    if (store_controller_normalise(argv[0], cn, sizeof cn) != STORE_OK) {
        ctl_err(c, "bad controller '%s'", argv[0]);
        return CTL_USAGE;
    }
    if (c->before == NULL || store_time_parse(c->before, &t) != STORE_OK) {
        ctl_err(c,
                c->before ? "bad date '%s' (want YYYY-MM-DD)" : "needs --before DATE%s",
                c->before ? c->before : "");
        return CTL_USAGE;
    }
    a.before_day = t / 86400;
    if ((rc = ctl_open(c, 0, &st)) != CTL_OK)
        return rc;
    rc = store_lastopen_walk(st, cn, inactive_one, &a);
    store_close(st);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return ctl_store_err(c, rc, c->db);
    return CTL_OK;
}

struct ctl_count {
    char name[72];
    unsigned long recipients, informed;
    unsigned long st[STORE_P_MAX][4];
};

struct stats_arg {
    struct ctl_count ctls[64];
    unsigned n;
};

/* n recipients of ctl in state s. */
static int stats_add(struct stats_arg *a, const char *ctl, const struct store_consent *s,
                     unsigned long n)
{
    struct ctl_count *cc = NULL;

    for (unsigned i = 0; i < a->n && cc == NULL; i++)
        if (strcmp(a->ctls[i].name, ctl) == 0)
            cc = &a->ctls[i];
    if (cc == NULL) {
        if (a->n == 64)
            return 0; /* counted in the totals of store_info only */
        cc = &a->ctls[a->n++];
        snprintf(cc->name, sizeof cc->name, "%s", ctl);
    }
    cc->recipients += n;
    cc->informed += s->legacy_informed != 0 ? n : 0;
    for (int i = 0; i < STORE_P_MAX; i++)
        cc->st[i][s->state[i] & 3] += n;
    return 0;
}

static int stats_one(const char *ctl, const char *rcpt, const struct store_consent *s,
                     void *arg)
{
    (void)rcpt;
    return stats_add(arg, ctl, s, 1);
}

/* pgstore_count_cb: one group of the primary's consent table. */
static int stats_group(const char *ctl, uint32_t states, int informed, uint64_t n, void *arg)
{
    struct store_consent s = {.legacy_informed = informed};

    for (int i = 0; i < STORE_P_MAX; i++)
        s.state[i] = (uint8_t)STORE_STATES_GET(states, i);
    return stats_add(arg, ctl, &s, (unsigned long)n);
}

/* The primary's counts and sizes (sizes: pg_total_relation_size; "file"
 * is the whole database). */
static int stats_pg(struct pgstore *pg, const char *cn, struct stats_arg *a,
                    struct store_info *in)
{
    struct pgstore_info pi;
    int rc = pgstore_consent_counts(pg, cn, stats_group, a), rc2;

    if (rc == STORE_OK && cn != NULL && a->n == 0)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc;
    if ((rc2 = pgstore_info_get(pg, &pi)) != STORE_OK)
        return rc2;
    memset(in, 0, sizeof *in);
    in->events = pi.events;
    in->consents = pi.consents;
    in->lastopen = pi.lastopen;
    in->consent_bytes = pi.consent_bytes;
    in->ledger_bytes = pi.ledger_bytes;
    in->file_bytes = pi.db_bytes;
    in->schema = pi.schema;
    return rc;
}

static json_t *count_json(const struct ctl_count *cc)
{
    json_t *p = json_object();
    for (int i = 0; i < STORE_P_MAX; i++) {
        if (store_purpose_name(i) == NULL)
            continue;
        json_t *o = json_object();
        for (int s = 0; s < 4; s++)
            json_object_set_new(o, store_state_name(s),
                                json_integer((json_int_t)cc->st[i][s]));
        json_object_set_new(p, store_purpose_name(i), o);
    }
    return json_pack("{s:s,s:I,s:I,s:o}", "controller", cc->name, "recipients",
                     (json_int_t)cc->recipients, "legacy_informed",
                     (json_int_t)cc->informed, "purposes", p);
}

static int count_cmp(const void *x, const void *y)
{
    return strcmp(((const struct ctl_count *)x)->name, ((const struct ctl_count *)y)->name);
}

/* Controllers by name, so the LMDB store (controller ids in order of
 * first use) and the primary print the same. */
static void stats_print(const struct ctl *c, struct stats_arg *a, const struct store_info *in)
{
    qsort(a->ctls, a->n, sizeof a->ctls[0], count_cmp);
    if (c->json) {
        json_t *arr = json_array();
        for (unsigned i = 0; i < a->n; i++)
            json_array_append_new(arr, count_json(&a->ctls[i]));
        ctl_print_json(json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:i}", "controllers", arr,
                                 "events", (json_int_t)in->events, "recipients_total",
                                 (json_int_t)in->consents, "consent_bytes",
                                 (json_int_t)in->consent_bytes, "ledger_bytes",
                                 (json_int_t)in->ledger_bytes, "file_bytes",
                                 (json_int_t)in->file_bytes, "schema", (int)in->schema),
                       0);
        return;
    }
    for (unsigned i = 0; i < a->n; i++) {
        const struct ctl_count *cc = &a->ctls[i];
        printf("controller %s: %lu recipients, %lu legacy-informed\n", cc->name,
               cc->recipients, cc->informed);
        for (int p = 0; p < STORE_P_MAX; p++)
            if (store_purpose_name(p) != NULL)
                printf("  %-15s granted %lu refused %lu withdrawn %lu unknown %lu\n",
                       store_purpose_name(p), cc->st[p][STORE_GRANTED],
                       cc->st[p][STORE_REFUSED], cc->st[p][STORE_WITHDRAWN],
                       cc->st[p][STORE_UNKNOWN]);
    }
    printf("store: %llu recipients, %llu ledger events, %llu last-open days, schema %u\n",
           (unsigned long long)in->consents, (unsigned long long)in->events,
           (unsigned long long)in->lastopen, in->schema);
    printf("size: consent %llu bytes, ledger %llu bytes, file %llu bytes\n",
           (unsigned long long)in->consent_bytes, (unsigned long long)in->ledger_bytes,
           (unsigned long long)in->file_bytes);
}

int ctl_stats(struct ctl *c, int argc, char **argv)
{
    static struct stats_arg a;
    struct store_info in;
    struct store *st;
    struct pgstore *pg;
    char cn[72];
    int rc;

    if ((rc = open_for_controller(c, argc, argv, cn, sizeof cn, &st, &pg)) != CTL_OK)
        return rc;
    if (pg != NULL)
        rc = stats_pg(pg, argc == 1 ? cn : NULL, &a, &in);
    else
        rc = store_consent_scan(st, argc == 1 ? cn : NULL, STORE_SCAN_NOADDR, stats_one, &a);
    if (rc == STORE_NOTFOUND) { /* controller never seen: zero counts */
        snprintf(a.ctls[0].name, sizeof a.ctls[0].name, "%s", cn);
        a.n = 1;
        rc = STORE_OK;
    }
    if (rc == STORE_OK && pg == NULL)
        rc = store_info_get(st, &in);
    if (rc != STORE_OK)
        return list_err(c, rc, st, pg);
    store_close(st);
    pgstore_close(pg);
    stats_print(c, &a, &in);
    return CTL_OK;
}
