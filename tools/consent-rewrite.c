/* consent-rewrite - the rewriting library on the command line (SPEC §3.4).
 *
 * Reads one message (FILE or stdin), decides per recipient exactly as the
 * milter does (same configuration, rules, keys, policy_prepare), writes the
 * rewritten message to stdout and, with --report json, the report to
 * stderr. The sending domain comes from the From: header (else --from), the
 * mail class from the domain's rules (unless --class), the consent from the
 * store at [milter] database (unless --consent).
 *
 * --now, --keys and --test-seed make tokens reproducible for tests: the
 * seed fixes the nonces (tok_test_seed), so golden files can hold real
 * tokens (see tests/fixtures/README).
 *
 * Exit codes: 0 written; 1 usage; 2 configuration, rules or keys; 3 input
 * unreadable; 4 message cannot be rewritten; 5 consent store. Errors are
 * one line on stderr naming the problem; nothing is written to stdout
 * then. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include <glib.h>
#include <jansson.h>
#include <sodium.h>

#include "common/buf.h"
#include "common/sigbus.h"
#include "policy/cfg.h"
#include "policy/msginfo.h"
#include "policy/policy.h"
#include "common/tok.h"
#include "rewriter/rewriter.h"
#include "store/store.h"

enum {
    EX_OKAY = 0,
    EX_USAGE_ = 1,
    EX_CONF = 2,
    EX_INPUT = 3,
    EX_REWRITE = 4,
    EX_STORE = 5
};

struct opts {
    const char *conf, *from, *rcpt, *consent, *klass, *report, *now, *keys, *seed, *file;
};

struct run {
    struct opts o;
    struct snap *snap;       /* configuration, rules, keys: as the milter loads them */
    const struct cfg *cfg;   /* snap->cfg */
    struct buf msg;
    char rcpt[STORE_ADDR_MAX];
    struct msginfo info; /* domain, section, controller, class, campaign */
    uint32_t granted;
};

static void usage(FILE *f)
{
    fputs(
        "usage: consent-rewrite -c CONF --from ADDR --rcpt ADDR [--consent "
        "none|PURPOSES]\n"
        "       [--class marketing|transactional|auth] [--report json] [--now EPOCH]\n"
        "       [--keys FILE] [--test-seed HEX64] [FILE]\n"
        "Rewrites one message (FILE or stdin) for one recipient as consent-milter would\n"
        "and writes it to stdout. --consent overrides the store lookup (purposes:\n"
        "opens,clicks,profiling,fraud,deliverability); --report json prints the report\n"
        "to stderr; --now fixes the token time; --keys overrides [gate] keys;\n"
        "--test-seed (64 hex digits) fixes the token nonces (tests only).\n"
        "As consent-milter, the sending domain comes from the From: header (else\n"
        "--from) and the mail class from the domain's rules (unless --class).\n"
        "Exit: 0 ok, 1 usage, 2 configuration/rules/keys, 3 input unreadable,\n"
        "      4 message cannot be rewritten, 5 consent store.\n",
        f);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("consent-rewrite: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static int check_args(const struct opts *o);

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                       {"from", required_argument, NULL, 'f'},
                                       {"rcpt", required_argument, NULL, 'r'},
                                       {"consent", required_argument, NULL, 'C'},
                                       {"class", required_argument, NULL, 'k'},
                                       {"report", required_argument, NULL, 'R'},
                                       {"now", required_argument, NULL, 'n'},
                                       {"keys", required_argument, NULL, 'K'},
                                       {"test-seed", required_argument, NULL, 'S'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->conf = optarg;
            break;
        case 'f':
            o->from = optarg;
            break;
        case 'r':
            o->rcpt = optarg;
            break;
        case 'C':
            o->consent = optarg;
            break;
        case 'k':
            o->klass = optarg;
            break;
        case 'R':
            o->report = optarg;
            break;
        case 'n':
            o->now = optarg;
            break;
        case 'K':
            o->keys = optarg;
            break;
        case 'S':
            o->seed = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            return fail(EX_USAGE_, "option %s needs a value", argv[optind - 1]);
        default:
            return fail(EX_USAGE_, "unknown option %s (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc - 1)
        return fail(EX_USAGE_, "more than one input file");
    o->file = optind < argc ? argv[optind] : NULL;
    return check_args(o);
}

/* Required flags and closed value sets. */
static int check_args(const struct opts *o)
{
    if (!o->conf || !o->from || !o->rcpt)
        return fail(EX_USAGE_,
                    "-c CONF, --from ADDR and --rcpt ADDR are required (see --help)");
    if (o->report && strcmp(o->report, "json") != 0)
        return fail(EX_USAGE_, "--report takes 'json', not '%s'", o->report);
    if (o->klass && strcmp(o->klass, "marketing") && strcmp(o->klass, "transactional") &&
        strcmp(o->klass, "auth"))
        return fail(EX_USAGE_, "--class takes marketing, transactional or auth, not '%s'",
                    o->klass);
    return 0;
}

static int read_input(struct run *r)
{
    const char *name = r->o.file ? r->o.file : "stdin";
    int e;

    buf_init(&r->msg, r->cfg->max_message_size ? r->cfg->max_message_size : 0);
    e = r->o.file ? buf_read_file(&r->msg, r->o.file) : buf_read_fd(&r->msg, STDIN_FILENO);
    if (e == EFBIG)
        return fail(EX_INPUT, "%s: larger than max_message_size (%zu bytes)", name,
                    r->cfg->max_message_size);
    if (e != 0)
        return fail(EX_INPUT, "%s: %s", name, strerror(e));
    if (r->msg.len == 0)
        return fail(EX_INPUT, "%s: empty input", name);
    return 0;
}

static int load_config(struct run *r)
{
    char err[512] = "";
    struct tok_keys *k = NULL;

    if ((r->snap = snap_load(r->o.conf, SNAP_RULES | (r->o.keys ? SNAP_NO_KEYS : 0), NULL, err,
                               sizeof err)) == NULL)
        return fail(EX_CONF, "%s", err[0] ? err : r->o.conf);
    r->cfg = r->snap->cfg;
    if (r->o.keys) { /* --keys stands in for [gate] keys */
        if (tok_keys_load(r->o.keys, &k, err, sizeof err) != TOK_OK)
            return fail(EX_CONF, "keys: %s", err[0] ? err : r->o.keys);
        r->snap->keys = k; /* freed with the snapshot */
    }
    return 0;
}

/* --- sending domain, class, campaign: exactly as the milter ------------ */

/* The envelope sender stands in for the From: header only when the message
 * has none; --class overrides the configured class rules. */
static int sender_and_class(struct run *r)
{
    struct msginfo_hdr *h = NULL;
    size_t n = 0;

    if (msginfo_parse_headers(r->msg.data, r->msg.len, 10000, &h, &n) != 0)
        return fail(EX_INPUT, "too many header fields or out of memory");
    msginfo_derive(r->cfg, h, n, r->o.from, &r->info);
    msginfo_headers_free(h, n);
    if (r->o.klass) {
        r->info.class_rule = "--class";
        r->info.mail_class = strcmp(r->o.klass, "transactional") == 0 ? CFG_CLASS_TRANSACTIONAL
                             : strcmp(r->o.klass, "auth") == 0      ? CFG_CLASS_AUTH
                                                                    : CFG_CLASS_MARKETING;
    }
    return 0;
}

/* --- consent ----------------------------------------------------------- */

static int consent_from_store(struct run *r)
{
    struct store *st = NULL;
    char err[256] = "";
    int rc, found;

    /* the store is the only file this program maps */
    cm_sigbus_exit("consent-rewrite: consent store: the database file is damaged (a page "
                   "points past its end): restore it from a backup\n",
                   EX_STORE);
    rc = store_open(r->cfg->database, STORE_RDONLY, 0, &st);
    if (rc != STORE_OK)
        return fail(EX_STORE, "consent store %s: %s (use --consent to bypass)",
                    r->cfg->database, store_strerror(rc));
    rc = policy_granted(st, r->info.controller, r->rcpt, &r->granted, &found, err,
                        sizeof err);
    store_close(st);
    if (rc != 0)
        return fail(EX_STORE, "%s: %s", r->cfg->database, err);
    return 0;
}

static int consent(struct run *r)
{
    const char *bad = NULL;

    if (store_addr_normalise(r->o.rcpt, r->rcpt, sizeof r->rcpt) != STORE_OK)
        return fail(EX_USAGE_, "--rcpt '%s' is not an address", r->o.rcpt);
    if (r->o.consent == NULL)
        return consent_from_store(r);
    if (strcmp(r->o.consent, "none") == 0)
        return 0;
    if (store_purposes_parse(r->o.consent, &r->granted, &bad) != STORE_OK)
        return fail(EX_USAGE_, "--consent: unknown purpose '%s'",
                    bad ? bad : r->o.consent);
    return 0;
}

/* --- rewrite and output ------------------------------------------------ */

/* --report json: the items are streamed to a temporary file while the
 * message is rewritten (kept in memory they cost ~200 bytes per finding,
 * and a JSON tree of them ten times that: SPEC §7), then copied into the
 * report where the "items" array goes, formatted as jansson would. */
struct items_out {
    FILE *f;
    struct buf b; /* one item's JSON */
    unsigned long n;
    int err;
};

/* One line of s at a time, indented by four more spaces (array depth). */
static int put_indented(FILE *f, const char *s)
{
    for (; *s; s++)
        if (fputc(*s, f) == EOF || (*s == '\n' && fputs("    ", f) == EOF))
            return -1;
    return 0;
}

static int item_json(void *ctx, const struct rw_item *it)
{
    struct items_out *io = ctx;

    buf_reset(&io->b);
    if (rw_item_json(it, &io->b) != RW_OK ||
        fputs(io->n++ ? ",\n    " : "\n    ", io->f) == EOF ||
        put_indented(io->f, io->b.data) != 0)
        io->err = 1;
    return io->err ? -1 : 0;
}

/* The report with an empty "items", then the streamed ones put in. */
static int print_report(const struct run *r, const struct policy *p,
                        const struct rw_report *rep, struct items_out *io)
{
    static const char mark[] = "\n  \"items\": []";
    struct buf b = BUF_INIT(0);
    json_t *o;
    char *s, *at, chunk[65536];
    size_t n;
    int ex = 0;

    if (rw_report_json(rep, &b) != RW_OK || (o = json_loads(b.data, 0, NULL)) == NULL) {
        buf_free(&b);
        return fail(EX_REWRITE, "cannot build the JSON report");
    }
    json_object_set_new(o, "controller", json_string(r->info.controller));
    json_object_set_new(o, "class", json_string(cfg_class_name(r->info.mail_class)));
    json_object_set_new(o, "class_rule", json_string(r->info.class_rule));
    json_object_set_new(o, "decision",
                        json_string(p->sum.decision ? p->sum.decision : "-"));
    s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    at = s ? strstr(s, mark) : NULL;
    if (at == NULL || io->err || fflush(io->f) != 0 || fseek(io->f, 0, SEEK_SET) != 0) {
        ex = fail(EX_REWRITE, "cannot build the JSON report");
    } else {
        at += sizeof mark - 2; /* just after the '[' */
        fwrite(s, 1, (size_t)(at - s), stderr);
        while ((n = fread(chunk, 1, sizeof chunk, io->f)) > 0)
            fwrite(chunk, 1, n, stderr);
        if (io->n)
            fputs("\n  ", stderr);
        fprintf(stderr, "%s\n", at);
    }
    free(s);
    json_decref(o);
    buf_free(&b);
    return ex;
}

static int write_all(const char *p, size_t n)
{
    if (n && fwrite(p, 1, n, stdout) != n)
        return fail(EX_INPUT, "stdout: %s", strerror(errno));
    if (fflush(stdout) != 0)
        return fail(EX_INPUT, "stdout: %s", strerror(errno));
    return 0;
}

static int rewrite(struct run *r)
{
    struct policy_input in;
    struct policy pol;
    struct rw_request req;
    struct rw_report rep;
    struct buf out = BUF_INIT(0);
    struct items_out io = {NULL, BUF_INIT(0), 0, 0};
    int rc, ex = 0;

    policy_input_build(&in, r->snap, &r->info, r->rcpt, r->granted,
                       r->o.now ? (int64_t)g_ascii_strtoll(r->o.now, NULL, 10) : 0);
    if (policy_prepare(&in, &pol, &req) != 0) {
        ex = fail(EX_CONF, "policy: %s", pol.err);
        policy_free(&pol);
        return ex;
    }
    if (r->o.report && (io.f = tmpfile()) == NULL) {
        policy_free(&pol);
        return fail(EX_INPUT, "temporary file for the report: %s", strerror(errno));
    }
    if (io.f) {
        req.items = RW_ITEMS_STREAM;
        req.item = item_json;
        req.item_ctx = &io;
    }
    rc = rw_rewrite(&req, r->msg.data, r->msg.len, &out, &rep);
    if (rc != RW_OK)
        ex = fail(EX_REWRITE, "%s: %s%s%s", r->o.file ? r->o.file : "stdin",
                  rw_strerror(rc), rep.error[0] ? ": " : "", rep.error);
    else if (r->info.dom->mode == CFG_MODE_OFF)
        ex = write_all(r->msg.data, r->msg.len); /* mode off: the milter passes it on */
    else
        ex = write_all(out.data, out.len);
    if (rc == RW_OK && ex == 0 && r->o.report)
        ex = print_report(r, &pol, &rep, &io);
    if (io.f)
        fclose(io.f);
    buf_free(&io.b);
    rw_report_free(&rep);
    buf_free(&out);
    policy_free(&pol);
    return ex;
}

int main(int argc, char **argv)
{
    struct run r;
    int ex;

    memset(&r, 0, sizeof r);
    if ((ex = parse_args(argc, argv, &r.o)) != 0)
        return ex;
    if (r.o.now && (g_ascii_strtoll(r.o.now, NULL, 10) <= 0 ||
                    strspn(r.o.now, "0123456789") != strlen(r.o.now)))
        return fail(EX_USAGE_, "--now takes seconds since the epoch, not '%s'", r.o.now);
    if (r.o.seed) {
        unsigned char seed[32];
        size_t n = 0;
        if (strlen(r.o.seed) != 64 ||
            sodium_hex2bin(seed, sizeof seed, r.o.seed, 64, NULL, &n, NULL) != 0 || n != 32)
            return fail(EX_USAGE_, "--test-seed takes 64 hex digits");
        tok_test_seed(seed);
    }
    rw_init();
    ex = load_config(&r);
    if (ex == 0)
        ex = read_input(&r);
    if (ex == 0)
        ex = sender_and_class(&r);
    if (ex == 0)
        ex = consent(&r);
    if (ex == 0)
        ex = rewrite(&r);
    buf_free(&r.msg);
    snap_release(r.snap);
    return ex;
}
