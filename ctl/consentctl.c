/* consentctl - administration of the consent store (SPEC §5).
 *
 * consentctl [--db DIR] [--json] COMMAND ARGS...; options may come
 * anywhere. Every command goes through the store API (store/store.h);
 * writes return after the commit. Output is text, or JSON with --json
 * (one document; export and inactive print one JSON object per line).
 * Errors: one line on stderr, exit codes as in ctl/ctl.h. See
 * doc/consentctl.8. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/sigbus.h"
#include "ctl/ctl.h"

#define DEFAULT_DB "/var/lib/consent-milter"
#define DEFAULT_CONF "/etc/consent-milter/consent-milter.conf"

static const char usage[] =
    "usage: consentctl [--db DIR] [--json] COMMAND ARGS...\n"
    "  grant CONTROLLER RECIPIENT PURPOSE... --notice ID[:FILE]|:FILE [--method M]\n"
    "  refuse CONTROLLER RECIPIENT PURPOSE... --notice ID[:FILE] [--method M]\n"
    "  withdraw CONTROLLER RECIPIENT [PURPOSE...] [--method M]\n"
    "  inform CONTROLLER RECIPIENT [--notice ID[:FILE]]   (legacy_informed marker)\n"
    "  show CONTROLLER RECIPIENT\n"
    "  proof CONTROLLER RECIPIENT [--controller-info FILE] [--with-notices]\n"
    "        [--config FILE]   (jurisdiction: $CONSENT_CONF or " DEFAULT_CONF ")\n"
    "  access CONTROLLER RECIPIENT   (everything held on one person)\n"
    "  notice list | notice show HASH   (notice versions, exact text)\n"
    "  import FILE [--dry-run] [--batch N]   (CSV or JSONL; FILE - is stdin)\n"
    "  export [CONTROLLER] [--events]   (--events: every ledger event, all proof\n"
    "         fields; import reads it back)\n"
    "  inactive CONTROLLER --before DATE\n"
    "  stats [CONTROLLER]\n"
    "  verify [--expect SEQ:HASH]   (a head printed or logged before)\n"
    "  verify --replica DIR   (primary: a replica's chain is a prefix of the primary's)\n"
    "  erase CONTROLLER RECIPIENT\n"
    "  scrub   (zero old page copies; after an erase that exited 'older snapshot')\n"
    "  pg-init   (PostgreSQL primary: schema and roles; --conninfo S [--passfile F]\n"
    "            or --config FILE with a [store] section)\n"
    "  migrate   (copy the --db store into an empty primary, every seq and hash kept;\n"
    "            run again to resume) [--batch N]\n"
    "options: --db DIR (default $CONSENT_DB or " DEFAULT_DB "), --json,\n"
    "  --method signup-form|consent-page|withdraw-link|api|import|admin (default "
    "admin),\n"
    "  --actor WHO (default admin:$USER), --source-ip IP, --user-agent UA,\n"
    "  --at DATE (event time, default now), --help\n"
    "purposes: opens clicks profiling fraud deliverability (comma or space separated)\n"
    "dates: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[Z|+HH:MM] or epoch seconds\n";

static int need_args(const struct ctl *c, int argc, int min, int max)
{
    if (argc < min || (max >= 0 && argc > max)) {
        ctl_err(c, "wrong number of arguments (see consentctl --help)");
        return 0;
    }
    return 1;
}

static int check_ctl_rcpt(const struct ctl *c, const char *ctl, const char *rcpt)
{
    char buf[STORE_ADDR_MAX];
    if (store_controller_normalise(ctl, buf, sizeof buf) != STORE_OK) {
        ctl_err(c, "bad controller '%s' (letters, digits, '.', '-', '_'; 1-64 chars)",
                ctl);
        return 0;
    }
    if (rcpt != NULL && store_addr_normalise(rcpt, buf, sizeof buf) != STORE_OK) {
        ctl_err(c, "bad address '%s'", rcpt);
        return 0;
    }
    return 1;
}

/* PURPOSE... (each may be a comma list) -> mask. */
static int parse_purposes(const struct ctl *c, int argc, char **argv, uint32_t *mask)
{
    *mask = 0;
    for (int i = 0; i < argc; i++) {
        uint32_t m;
        const char *bad = NULL;
        if (store_purposes_parse(argv[i], &m, &bad) != STORE_OK) {
            size_t n = bad ? strcspn(bad, ", ;|") : 0;
            ctl_err(c,
                    "unknown purpose '%.*s' (known: opens, clicks, profiling, fraud, "
                    "deliverability)",
                    (int)(n ? n : strlen(argv[i])), n ? bad : argv[i]);
            return 0;
        }
        *mask |= m;
    }
    return 1;
}

static int event_time(const struct ctl *c, int64_t *t)
{
    *t = 0;
    if (c->at != NULL && store_time_parse(c->at, t) != STORE_OK) {
        ctl_err(c, "bad date '%s' (want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", c->at);
        return 0;
    }
    if (*t > (int64_t)time(NULL) + STORE_CLOCK_SKEW) {
        ctl_err(c, "date '%s' is in the future (more than %d s ahead)", c->at,
                STORE_CLOCK_SKEW);
        return 0;
    }
    return 1;
}

static void print_consent(const struct ctl *c, const char *ctl, const char *rcpt,
                          const struct store_consent *s, int found)
{
    char iso[32];

    if (c->json) {
        json_t *j = ctl_consent_json(ctl, rcpt, s);
        json_object_set_new(j, "found", json_boolean(found));
        ctl_print_json(j, 0);
        return;
    }
    printf("controller: %s\nrecipient: %s\n", ctl, rcpt);
    store_time_format(s->updated, iso, sizeof iso);
    printf("updated: %s\n", found ? iso : "never (no record: nothing consented)");
    store_time_format(s->legacy_informed, iso, sizeof iso);
    printf("legacy_informed: %s\n", s->legacy_informed ? iso : "no");
    for (int i = 0; i < STORE_P_MAX; i++)
        if (store_purpose_name(i) != NULL)
            printf("%s: %s\n", store_purpose_name(i), store_state_name(s->state[i]));
}

/* grant, refuse, withdraw, inform: one event, then the new state. */
static int cmd_event(struct ctl *c, int action, int argc, char **argv)
{
    struct store_event ev = {0};
    struct store_consent s;
    struct store *st = NULL;
    char nid[257], rn[STORE_ADDR_MAX], cn[72], actor[160], src[STORE_NOTICE_SOURCE_MAX + 1];
    struct buf text = BUF_INIT(STORE_NOTICE_MAX);
    int rc, min = action == STORE_A_GRANT || action == STORE_A_REFUSE ? 3 : 2;

    if (!need_args(c, argc, min, action == STORE_A_INFORM ? 2 : -1) ||
        !check_ctl_rcpt(c, argv[0], argv[1]) ||
        !parse_purposes(c, argc - 2, argv + 2, &ev.purposes) || !event_time(c, &ev.time))
        return CTL_USAGE;
    if (c->notice == NULL && min == 3) {
        ctl_err(c, "needs --notice ID[:FILE] (the notice the recipient was shown)");
        return CTL_USAGE;
    }
    if (c->notice != NULL &&
        ctl_notice(c, c->notice, nid, sizeof nid, ev.notice_sha256, &text) != 0) {
        buf_free(&text);
        return CTL_USAGE;
    }
    if (text.len != 0) { /* kept as a notice version with the event */
        snprintf(src, sizeof src, "consentctl %s", strchr(c->notice, ':') + 1);
        ev.notice_text = text.data;
        ev.notice_len = text.len;
        ev.notice_source = src;
    }
    snprintf(actor, sizeof actor, "admin:%s",
             getenv("USER") ? getenv("USER") : "unknown");
    store_controller_normalise(argv[0], cn, sizeof cn);
    store_addr_normalise(argv[1], rn, sizeof rn);
    ev.action = action;
    ev.controller = cn;
    ev.recipient = rn;
    ev.method = c->method ? c->method : "admin";
    ev.notice_id = c->notice ? nid : NULL;
    ev.source_ip = c->source_ip;
    ev.user_agent = c->user_agent;
    ev.actor = c->actor ? c->actor : actor;
    if (ctl_pg_wanted(c)) {
        rc = ctl_pg_record(c, &ev);
        buf_free(&text);
        return rc;
    }
    if ((rc = ctl_open(c, CTL_OPEN_CREATE, &st)) != CTL_OK) {
        buf_free(&text);
        return rc;
    }
    rc = store_record(st, &ev);
    buf_free(&text);
    if (rc == STORE_EINVAL) {
        ctl_err(c, "rejected: check --method (signup-form consent-page withdraw-link api "
                   "import admin), --actor, --source-ip, --user-agent, and that the "
                   "--notice FILE is the notice template, not a copy naming the "
                   "recipient (notice texts are kept after erasure)");
        store_close(st);
        return CTL_USAGE;
    }
    if (rc != STORE_OK) {
        store_close(st);
        return ctl_store_err(c, rc, c->db);
    }
    rc = store_consent_get(st, cn, rn, &s);
    store_close(st);
    if (!ev.applied) {
        ctl_err(c, "%s event %llu recorded as history only: the current consent is more "
                   "recent and was not changed",
                store_action_name(action), (unsigned long long)ev.seq);
        return CTL_FAIL;
    }
    if (c->json) {
        json_t *j = ctl_consent_json(cn, rn, &s);
        json_object_set_new(j, "event",
                            json_pack("{s:s,s:I,s:s}", "id", ev.id, "seq",
                                      (json_int_t)ev.seq, "action",
                                      store_action_name(action)));
        ctl_print_json(j, 0);
    } else {
        printf("recorded %s event %llu id %s\n", store_action_name(action),
               (unsigned long long)ev.seq, ev.id);
        print_consent(c, cn, rn, &s, 1);
    }
    return rc == STORE_OK ? CTL_OK : CTL_FAIL;
}

static int cmd_show(struct ctl *c, int argc, char **argv)
{
    struct store_consent s;
    struct store *st;
    char cn[72], rn[STORE_ADDR_MAX];
    int rc;

    if (!need_args(c, argc, 2, 2) || !check_ctl_rcpt(c, argv[0], argv[1]))
        return CTL_USAGE;
    store_controller_normalise(argv[0], cn, sizeof cn);
    store_addr_normalise(argv[1], rn, sizeof rn);
    if ((rc = ctl_open(c, 0, &st)) != CTL_OK)
        return rc;
    rc = store_consent_get(st, cn, rn, &s);
    store_close(st);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return ctl_store_err(c, rc, c->db);
    print_consent(c, cn, rn, &s, rc == STORE_OK);
    return CTL_OK;
}

static int cmd_erase(struct ctl *c, int argc, char **argv)
{
    struct store *st;
    char actor[160];
    unsigned n = 0;
    int rc;

    if (!need_args(c, argc, 2, 2) || !check_ctl_rcpt(c, argv[0], argv[1]))
        return CTL_USAGE;
    snprintf(actor, sizeof actor, "admin:%s",
             getenv("USER") ? getenv("USER") : "unknown");
    if (ctl_pg_wanted(c))
        return ctl_pg_erase(c, argv[0], argv[1], c->actor ? c->actor : actor);
    if ((rc = ctl_open(c, CTL_OPEN_WRITE, &st)) != CTL_OK)
        return rc;
    rc = store_erase(st, argv[0], argv[1], c->actor ? c->actor : actor, &n);
    store_close(st);
    if (rc == STORE_NOTFOUND) {
        ctl_err(c, "nothing stored for that recipient of controller '%s'", argv[0]);
        return CTL_FAIL;
    }
    if (rc == STORE_EBUSY) {
        ctl_err(c, "erased, but a reader holds an older snapshot: old copies remain "
                   "until 'consentctl scrub' succeeds");
        return CTL_FAIL;
    }
    if (rc != STORE_OK)
        return ctl_store_err(c, rc, c->db);
    if (c->json)
        ctl_print_json(json_pack("{s:b,s:i}", "erased", 1, "events", (int)n), 0);
    else
        printf(
            "erased: current state deleted, %u ledger event(s) replaced by tombstones\n",
            n);
    return CTL_OK;
}

/* --expect SEQ:HASH, as verify prints the head and the daemons log it. */
static int parse_expect(const struct ctl *c, uint64_t *seq, uint8_t hash[32])
{
    const char *colon = c->expect ? strchr(c->expect, ':') : NULL;
    char *end;

    *seq = 0;
    if (c->expect == NULL)
        return 0;
    errno = 0;
    if (colon && c->expect[0] >= '1' && c->expect[0] <= '9') {
        unsigned long long n = strtoull(c->expect, &end, 10);
        if (errno == 0 && end == colon && strlen(colon + 1) == 64 &&
            strspn(colon + 1, "0123456789abcdef") == 64 &&
            sodium_hex2bin(hash, 32, colon + 1, 64, NULL, NULL, NULL) == 0) {
            *seq = n;
            return 0;
        }
    }
    ctl_err(c, "bad --expect '%s' (want SEQ:HASH, as verify prints the head)", c->expect);
    return -1;
}

/* scrub: what erase does after its commit (store_scrub), on demand. */
static int cmd_scrub(struct ctl *c, int argc, char **argv)
{
    struct store *st;
    int rc;

    (void)argv;
    if (!need_args(c, argc, 0, 0))
        return CTL_USAGE;
    if ((rc = ctl_open(c, CTL_OPEN_WRITE, &st)) != CTL_OK)
        return rc;
    rc = store_scrub(st, STORE_SCRUB_WAIT_MS);
    store_close(st);
    if (rc == STORE_EBUSY) {
        ctl_err(c, "a reader holds an older snapshot: some old copies remain; run it "
                   "again once that reader has ended");
        return CTL_FAIL;
    }
    if (rc != STORE_OK)
        return ctl_store_err(c, rc, c->db);
    if (c->json)
        ctl_print_json(json_pack("{s:b}", "scrubbed", 1), 0);
    else
        printf("scrubbed: free pages and unused page space zeroed\n");
    return CTL_OK;
}

static int cmd_verify(struct ctl *c, int argc, char **argv)
{
    struct store_verify r;
    struct store *st;
    uint64_t aseq;
    uint8_t ahash[32];
    char hex[65];
    int rc;

    (void)argv;
    if (!need_args(c, argc, 0, 0) || parse_expect(c, &aseq, ahash) != 0)
        return CTL_USAGE;
    if (c->replica != NULL && !ctl_pg_wanted(c)) {
        ctl_err(c, "--replica needs the primary (--conninfo or [store] backend = postgresql)");
        return CTL_USAGE;
    }
    if (ctl_pg_wanted(c))
        return c->replica != NULL ? ctl_verify_replica(c) : ctl_pg_verify(c);
    if ((rc = ctl_open(c, 0, &st)) != CTL_OK)
        return rc;
    rc = store_verify_anchor(st, aseq, ahash, &r);
    store_close(st);
    if (rc != STORE_OK)
        return ctl_store_err(c, rc, c->db);
    ctl_hex(r.head, 32, hex);
    if (c->json) {
        json_t *j =
            json_pack("{s:b,s:I,s:I,s:I,s:s}", "ok", r.problem == STORE_V_OK, "events",
                      (json_int_t)r.events, "tombstones", (json_int_t)r.tombstones,
                      "head_seq", (json_int_t)r.head_seq, "head_hash", hex);
        if (aseq != 0)
            json_object_set_new(j, "expect", json_string(c->expect));
        if (r.problem != STORE_V_OK) {
            json_object_set_new(j, "bad_seq", json_integer((json_int_t)r.bad_seq));
            json_object_set_new(j, "bad_id",
                                r.bad_id[0] ? json_string(r.bad_id) : json_null());
            json_object_set_new(j, "problem",
                                json_string(store_verify_problem_text(r.problem)));
        }
        ctl_print_json(j, 0);
    } else if (r.problem == STORE_V_OK) {
        printf("ok: %llu events (%llu erased), head %llu:%s\n",
               (unsigned long long)r.events, (unsigned long long)r.tombstones,
               (unsigned long long)r.head_seq, hex);
        if (aseq != 0)
            printf("ok: the chain contains the recorded head %s\n", c->expect);
    }
    if (r.problem != STORE_V_OK) {
        ctl_err(c, "ledger FAILED at event %llu%s%s: %s", (unsigned long long)r.bad_seq,
                r.bad_id[0] ? " id " : "", r.bad_id,
                store_verify_problem_text(r.problem));
        return CTL_FAIL;
    }
    return CTL_OK;
}

static int dispatch(struct ctl *c, int argc, char **argv)
{
    static const struct {
        const char *name;
        int action;
        int (*fn)(struct ctl *, int, char **);
    } cmds[] = {
        {"grant", STORE_A_GRANT, NULL},
        {"refuse", STORE_A_REFUSE, NULL},
        {"withdraw", STORE_A_WITHDRAW, NULL},
        {"inform", STORE_A_INFORM, NULL},
        {"show", -1, cmd_show},
        {"proof", -1, ctl_proof},
        {"access", -1, ctl_access},
        {"notice", -1, ctl_notice_cmd},
        {"import", -1, ctl_import},
        {"export", -1, ctl_export},
        {"inactive", -1, ctl_inactive},
        {"stats", -1, ctl_stats},
        {"verify", -1, cmd_verify},
        {"erase", -1, cmd_erase},
        {"scrub", -1, cmd_scrub},
        {"pg-init", -1, ctl_pg_init},
        {"migrate", -1, ctl_migrate},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[0], cmds[i].name) != 0)
            continue;
        c->cmd = cmds[i].name;
        if (cmds[i].fn == NULL)
            return cmd_event(c, cmds[i].action, argc - 1, argv + 1);
        return cmds[i].fn(c, argc - 1, argv + 1);
    }
    ctl_err(c, "unknown command '%s' (see consentctl --help)", argv[0]);
    return CTL_USAGE;
}

static const struct option opts[] = {
    {"db", required_argument, NULL, 'd'},
    {"json", no_argument, NULL, 'j'},
    {"method", required_argument, NULL, 'm'},
    {"notice", required_argument, NULL, 'n'},
    {"actor", required_argument, NULL, 'a'},
    {"source-ip", required_argument, NULL, 'i'},
    {"user-agent", required_argument, NULL, 'u'},
    {"at", required_argument, NULL, 't'},
    {"before", required_argument, NULL, 'b'},
    {"dry-run", no_argument, NULL, 'r'},
    {"batch", required_argument, NULL, 'B'},
    {"controller-info", required_argument, NULL, 'I'},
    {"config", required_argument, NULL, 'C'},
    {"conninfo", required_argument, NULL, 'P'},
    {"passfile", required_argument, NULL, 'F'},
    {"expect", required_argument, NULL, 'e'},
    {"replica", required_argument, NULL, 'R'},
    {"with-notices", no_argument, NULL, 'W'},
    {"events", no_argument, NULL, 'E'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Options that just store their string argument. */
static const struct {
    int ch;
    size_t off;
} str_opts[] = {
    {'d', offsetof(struct ctl, db)},        {'m', offsetof(struct ctl, method)},
    {'n', offsetof(struct ctl, notice)},    {'a', offsetof(struct ctl, actor)},
    {'i', offsetof(struct ctl, source_ip)}, {'u', offsetof(struct ctl, user_agent)},
    {'t', offsetof(struct ctl, at)},        {'b', offsetof(struct ctl, before)},
    {'I', offsetof(struct ctl, info)},      {'e', offsetof(struct ctl, expect)},
    {'C', offsetof(struct ctl, config)},    {'P', offsetof(struct ctl, conninfo)},
    {'F', offsetof(struct ctl, passfile)}, {'c', offsetof(struct ctl, config)},
    {'R', offsetof(struct ctl, replica)},
};

/* One option; returns -1 to go on, else the exit code. */
static int option(struct ctl *c, int o, char **argv)
{
    char *end;

    for (size_t i = 0; i < sizeof str_opts / sizeof str_opts[0]; i++)
        if (str_opts[i].ch == o) {
            *(const char **)((char *)c + str_opts[i].off) = optarg;
            return -1;
        }
    switch (o) {
    case 'j':
        c->json = 1;
        return -1;
    case 'r':
        c->dry_run = 1;
        return -1;
    case 'W':
        c->with_notices = 1;
        return -1;
    case 'E':
        c->events = 1;
        return -1;
    case 'B':
        c->batch = strtol(optarg, &end, 10);
        if (*end == '\0' && c->batch >= 1 && c->batch <= 1000000)
            return -1;
        ctl_err(c, "bad --batch '%s' (1..1000000)", optarg);
        return CTL_USAGE;
    case 'h':
        fputs(usage, stdout);
        return CTL_OK;
    case ':':
        ctl_err(c, "option %s needs a value", argv[optind - 1]);
        return CTL_USAGE;
    default:
        ctl_err(c, "unknown option '%s' (see --help)", argv[optind - 1]);
        return CTL_USAGE;
    }
}

int main(int argc, char **argv)
{
    struct ctl c = {.batch = 100000};
    const char *env = getenv("CONSENT_DB");
    int o, rc;

    c.db = env != NULL && *env != '\0' ? env : DEFAULT_DB;
    /* the store is the only file this program maps (common/sigbus.h) */
    cm_sigbus_exit("consentctl: the database file is damaged (a page points past its end): "
                   "restore it from a backup\n",
                   CTL_FAIL);
    opterr = 0;
    /* GNU getopt permutes: options may follow the command and its operands */
    while ((o = getopt_long(argc, argv, ":c:", opts, NULL)) != -1)
        if ((rc = option(&c, o, argv)) >= 0)
            return rc;
    if (optind >= argc) {
        fputs(usage, stderr);
        return CTL_USAGE;
    }
    return dispatch(&c, argc - optind, argv + optind);
}
