/* consent-gate - the HTTP service of consent-milter (SPEC §6).
 *
 *   consent-gate [-c CONF] [-f] [-P PAGES] [--ready-file FILE] [--no-access-log]
 *   consent-gate -n [-c CONF] [-P PAGES]       check config, keys, pages
 *   consent-gate --new-key FILE                 create/append a token key
 *   consent-gate [-c CONF] --make-link KIND DOMAIN RECIPIENT [URL [DEST]]
 *
 * Start-up reads the [gate] section of the INI file, the keys file and the
 * page templates, opens the store, binds, then waits for signals: SIGTERM
 * or SIGINT stop it; SIGUSR1 reloads config, keys and pages, swapping them
 * in only if all three load (requests in flight keep their snapshot). It
 * exits only at start-up (bad config, cannot bind) or on a stop signal. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy/ledger_head.h"
#include "common/log.h"
#include "gate/gate.h"

#ifndef GATE_PAGES_DIR
#define GATE_PAGES_DIR "/usr/local/share/consent-milter/pages"
#endif
#define DEFAULT_CONF "/etc/consent-milter/consent-milter.conf"

struct opts {
    const char *conf, *pages, *ready_file, *new_key;
    int foreground, check, make_link, no_access_log;
};

/* ---- snapshots ------------------------------------------------------ */

/* Every language the configuration names has pages: a domain whose footers
 * exist in a language the gate cannot show would otherwise get its pages in
 * another language without anyone noticing. */
static int langs_check(const struct cfg *c, const struct gate_tpl_set *pages,
                       const char *dir, char *err, size_t errlen)
{
    char have[256];

    gate_tpl_lang_list(pages, have, sizeof have);
    if (gate_tpl_lang_index(pages, c->gate_language) < 0)
        return snprintf(err, errlen, "[gate] language = %s: no pages in %s/%s (have: %s)",
                        c->gate_language, dir, c->gate_language, have),
               -1;
    for (size_t i = 0; i < c->ndomains; i++)
        if (gate_tpl_lang_index(pages, c->domains[i].language) < 0)
            return snprintf(err, errlen,
                            "%s:%d: [domain %s]: language = %s: no pages in %s/%s "
                            "(have: %s)",
                            c->path, c->domains[i].language_line, c->domains[i].name,
                            c->domains[i].language, dir, c->domains[i].language, have),
                   -1;
    return 0;
}

/* The gate's part of a snapshot (policy/snap.h): the page templates, so
 * that a reload replaces config, keys and pages together or not at all. */
static int load_pages(const struct snap *s, void *arg, void **extra, char *err,
                      size_t errlen)
{
    struct gate_tpl_set *pages = NULL;
    char why[512] = "";

    if (gate_tpl_set_load(arg, &pages, why, sizeof why) != 0) {
        snprintf(err, errlen, "pages: %s", why);
        return -1;
    }
    if (langs_check(s->cfg, pages, arg, err, errlen) != 0) {
        gate_tpl_set_free(pages);
        return -1;
    }
    *extra = pages;
    return 0;
}

static void free_pages(void *extra)
{
    gate_tpl_set_free(extra);
}

/* Config, keys (required: the gate opens every token with them), pages. */
static struct snap *load_snap(const char *config_path, const char *pages_dir, char *err,
                              size_t errlen)
{
    const struct snap_hook hook = {load_pages, free_pages, (void *)pages_dir};

    return snap_load(config_path, 0, &hook, err, errlen);
}

static void reload(struct gate *g)
{
    char err[1024];
    struct snap *s = load_snap(g->config_path, g->pages_dir, err, sizeof err);

    if (s == NULL) {
        log_err("reload refused, keeping the running configuration: %s", err);
        return;
    }
    /* Log before installing: once installed, s is no longer ours. */
    log_info("reload done keys=%zu newest=%u", tok_keys_count(s->keys),
             (unsigned)tok_keys_newest(s->keys));
    snap_install(&g->live, s);
}

/* ---- sub-commands --------------------------------------------------- */

static int new_key(const char *path)
{
    struct tok_keys *k = NULL;
    struct buf line = BUF_INIT(256);
    struct stat sb;
    char err[512];
    int fd, rc = 1;

    if (stat(path, &sb) == 0 && sb.st_size > 0 &&
        tok_keys_load(path, &k, err, sizeof err) != TOK_OK) {
        fprintf(stderr, "consent-gate: %s\n", err);
        return 1;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "consent-gate: %s: %s\n", path, strerror(errno));
    } else if (tok_keys_generate(k, &line) != TOK_OK ||
               write(fd, line.data, line.len) != (ssize_t)line.len || fsync(fd) != 0) {
        fprintf(stderr, "consent-gate: %s: cannot write the key\n", path);
    } else {
        printf("consent-gate: key %u added to %s\n",
               (unsigned)strtoul(line.data, NULL, 10), path);
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    if (line.data)
        sodium_memzero(line.data, line.cap);
    buf_free(&line);
    tok_keys_free(k);
    return rc;
}

static int kind_from_name(const char *s)
{
    static const struct {
        const char *name;
        int kind;
    } tab[] = {{"open", TOK_OPEN},         {"o", TOK_OPEN},      {"click", TOK_CLICK},
               {"c", TOK_CLICK},           {"deliv", TOK_DELIV}, {"d", TOK_DELIV},
               {"withdraw", TOK_WITHDRAW}, {"w", TOK_WITHDRAW},  {"prefs", TOK_PREFS},
               {"p", TOK_PREFS},           {"anon", TOK_ANON},   {"a", TOK_ANON}};

    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(s, tab[i].name) == 0)
            return tab[i].kind;
    return -1;
}

/* --make-link KIND DOMAIN RECIPIENT [URL [DEST]]; for TOK_ANON the third
 * argument is the campaign id. DOMAIN is the sending domain: its section
 * and controller are found as the milter finds them (cfg_domain_for; a
 * section without controller = the domain itself). */
static int make_link(const struct opts *o, int argc, char **argv)
{
    struct tok t = {0};
    struct buf out = BUF_INIT(TOK_TEXT_MAX + 4096);
    char err[1024], norm[STORE_ADDR_MAX], ctl[256];
    struct cfg *c;
    struct tok_keys *k = NULL;
    int rc;

    if (argc < 3 || argc > 5 || (t.kind = kind_from_name(argv[0])) < 0) {
        fprintf(stderr, "usage: consent-gate --make-link o|c|d|w|p|a DOMAIN RECIPIENT "
                        "[URL [DEST]]\n");
        return 2;
    }
    if ((c = cfg_load(o->conf, err, sizeof err)) == NULL ||
        tok_keys_load(c->gate_keys, &k, err, sizeof err) != TOK_OK) {
        fprintf(stderr, "consent-gate: %s\n", err);
        cfg_release(c);
        return 1;
    }
    const struct cfg_domain *dom = cfg_domain_for(c, argv[1]);
    if (store_controller_normalise(dom->controller ? dom->controller : argv[1], ctl,
                                   sizeof ctl) != STORE_OK ||
        (t.kind != TOK_ANON &&
         store_addr_normalise(argv[2], norm, sizeof norm) != STORE_OK)) {
        fprintf(stderr, "consent-gate: bad controller or recipient\n");
        rc = 1;
        goto out;
    }
    t.controller = ctl;
    t.has_domain = 1;
    tok_domain_id(dom->name, t.domain);
    t.recipient = t.kind == TOK_ANON ? NULL : norm;
    t.url = t.kind == TOK_ANON ? argv[2] : argc > 3 ? argv[3] : NULL;
    t.dest = argc > 4 ? argv[4] : NULL;
    buf_printf(&out, "%s/%c/", c->gate_url, t.kind);
    rc = tok_seal(k, &t, &out);
    if (rc != TOK_OK)
        fprintf(stderr, "consent-gate: cannot make the token: %s\n", tok_strerror(rc));
    else
        printf("%s%s\n", buf_cstr(&out), t.kind == TOK_ANON ? ".gif" : "");
    rc = rc != TOK_OK;
out:
    buf_free(&out);
    tok_keys_free(k);
    cfg_release(c);
    return rc;
}

/* ---- service -------------------------------------------------------- */

/* Run as [milter] user, like the milter, so both share the store files.
 * Done before the store is opened and the port bound (the gate listens on
 * an unprivileged port behind the TLS proxy). */
static int drop_privileges(const char *user)
{
    struct passwd *pw;

    if (user == NULL || *user == '\0')
        return 0;
    if ((pw = getpwnam(user)) == NULL) {
        log_err("unknown user %s", user);
        return -1;
    }
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
        return 0;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0 || (pw->pw_uid != 0 && setuid(0) == 0)) {
        log_err("cannot drop privileges to %s: %s", user, strerror(errno));
        return -1;
    }
#ifdef __SANITIZE_ADDRESS__
    prctl(PR_SET_DUMPABLE, 1); /* LeakSanitizer reads /proc/self */
#endif
    return 0;
}

static int write_ready(const char *path, uint16_t port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", (unsigned)port) < 0 || fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* s: the snapshot loaded at start-up (user, store, listening address). */
static int serve(struct gate *g, const struct opts *o, const struct snap *s)
{
    struct gate_http *h;
    const char *db;
    sigset_t set;
    char err[1024];
    int sig = 0, due, rc = STORE_OK;
    time_t next = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask */
    signal(SIGPIPE, SIG_IGN);
    if (drop_privileges(s->cfg->user) != 0)
        return 1;
    /* with a primary, the store here is this host's replica */
    db = s->cfg->store_backend == CFG_STORE_PG && s->cfg->store_replica
             ? s->cfg->store_replica
             : s->cfg->database;
    rc = store_open(db, STORE_CREATE, s->cfg->gate_threads * 2 + 16, &g->store);
    if (rc != STORE_OK) {
        log_err("cannot open the store %s: %s", db, store_strerror(rc));
        return 1;
    }
    if (gate_primary_start(g, s->cfg, err, sizeof err) != 0) {
        log_err("%s", err);
        return 1;
    }
    h = gate_http_start(g, s->cfg, err, sizeof err);
    if (h == NULL) {
        log_err("%s", err);
        gate_primary_stop(g);
        return 1;
    }
    log_info("listening addr=%s port=%u threads=%u keys=%zu metrics_port=%u",
             s->cfg->gate_listen, (unsigned)gate_http_port(h), s->cfg->gate_threads,
             tok_keys_count(s->keys), (unsigned)gate_http_metrics_port(h));
    if (o->ready_file && write_ready(o->ready_file, gate_http_port(h)) != 0)
        log_warn("cannot write %s: %s", o->ready_file, strerror(errno));
    /* the signal wait also logs the ledger head once an hour */
    while ((due = ledger_head_wait(&set, &next, &sig)) >= 0) {
        if (due == 1) {
            ledger_head_log(g->store);
            continue;
        }
        if (sig == SIGUSR1 || sig == SIGHUP) {
            reload(g);
            continue;
        }
        log_info("stopping on signal %d", sig);
        break;
    }
    gate_http_stop(h);
    gate_primary_stop(g); /* after the last request: it may queue */
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: consent-gate [-c CONF] [-f] [-P PAGES_DIR] [--ready-file FILE] "
            "[--no-access-log]\n"
            "       consent-gate -n [-c CONF] [-P PAGES_DIR]\n"
            "       consent-gate --new-key KEYS_FILE\n"
            "       consent-gate [-c CONF] --make-link KIND DOMAIN RECIPIENT [URL "
            "[DEST]]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                       {"pages", required_argument, NULL, 'P'},
                                       {"foreground", no_argument, NULL, 'f'},
                                       {"check", no_argument, NULL, 'n'},
                                       {"new-key", required_argument, NULL, 'K'},
                                       {"make-link", no_argument, NULL, 'L'},
                                       {"ready-file", required_argument, NULL, 'R'},
                                       {"no-access-log", no_argument, NULL, 'A'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int ch;

    memset(o, 0, sizeof *o);
    o->conf = DEFAULT_CONF;
    o->pages = GATE_PAGES_DIR;
    while ((ch = getopt_long(argc, argv, "+c:P:fnh", lo, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->conf = optarg;
            break;
        case 'P':
            o->pages = optarg;
            break;
        case 'f':
            o->foreground = 1;
            break;
        case 'n':
            o->check = 1;
            break;
        case 'K':
            o->new_key = optarg;
            break;
        case 'L':
            o->make_link = 1;
            break;
        case 'R':
            o->ready_file = optarg;
            break;
        case 'A':
            o->no_access_log = 1;
            break;
        default:
            usage();
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct gate g;
    struct snap *s;
    struct opts o;
    char err[1024];
    int rc;

    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    if (o.new_key)
        return new_key(o.new_key);
    if (o.make_link)
        return make_link(&o, argc - optind, argv + optind);
    log_open("consent-gate", LOG_LVL_INFO, o.foreground || o.check);
    s = load_snap(o.conf, o.pages, err, sizeof err);
    if (s == NULL) {
        log_err("%s", err);
        fprintf(stderr, "consent-gate: %s\n", err);
        return 1;
    }
    if (o.check) {
        printf("consent-gate: %s OK (keys: %zu, newest %u; pages: %s)\n", o.conf,
               tok_keys_count(s->keys), (unsigned)tok_keys_newest(s->keys), o.pages);
        snap_release(s);
        return 0;
    }
    log_set_level(s->cfg->log_level);
    pthread_mutex_init(&g.live.lock, NULL);
    snap_install(&g.live, snap_retain(s));
    g.config_path = o.conf;
    g.pages_dir = o.pages;
    g.access_log = !o.no_access_log;
    g.started = (int64_t)time(NULL);
    rc = serve(&g, &o, s);
    snap_release(s);
    store_close(g.store);
    snap_install(&g.live, NULL);
    return rc;
}
