/* consent-sync - feed this host's LMDB replica from the PostgreSQL primary.
 *
 *   consent-sync [-c CONF] [-f] [--once] [--metrics FILE] [--replica DIR]
 *                [--batch N]
 *   consent-sync -n [-c CONF]        check the configuration and exit
 *
 * Reads the [store] section (backend = postgresql, conninfo, passfile,
 * replica, poll_interval), opens (creating if needed) the replica, then
 * runs the loop of sync_loop.c until SIGTERM or SIGINT. One per host: the
 * milter and the gate read the replica it writes. --once catches up with
 * the primary's head and exits (0 caught up, 1 error, 3 chain break): for
 * cron, tests and first fills. It exits non-zero at start-up only on a bad
 * configuration or a replica it cannot open; a primary that is down is
 * waited for. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "policy/cfg.h"
#include "sync/sync.h"

#define DEFAULT_CONF "/etc/consent-milter/consent-milter.conf"
#define SYNC_BATCH_DEFAULT 2000u
#define SYNC_BATCH_MAX 100000u

static void usage(void)
{
    fprintf(stderr, "usage: consent-sync [-c CONF] [-f] [--once] [--metrics FILE] "
                    "[--replica DIR] [--batch N]\n"
                    "       consent-sync -n [-c CONF]\n");
}

static int parse_opts(int argc, char **argv, struct sync_opts *o)
{
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                       {"foreground", no_argument, NULL, 'f'},
                                       {"check", no_argument, NULL, 'n'},
                                       {"once", no_argument, NULL, 'O'},
                                       {"metrics", required_argument, NULL, 'M'},
                                       {"replica", required_argument, NULL, 'r'},
                                       {"batch", required_argument, NULL, 'b'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    char *end;
    unsigned long v;
    int ch;

    memset(o, 0, sizeof *o);
    o->conf = DEFAULT_CONF;
    o->batch = SYNC_BATCH_DEFAULT;
    while ((ch = getopt_long(argc, argv, "c:fnh", lo, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->conf = optarg;
            break;
        case 'f':
            o->foreground = 1;
            break;
        case 'n':
            o->check = 1;
            break;
        case 'O':
            o->once = 1;
            break;
        case 'M':
            o->metrics = optarg;
            break;
        case 'r':
            o->replica = optarg;
            break;
        case 'b':
            errno = 0;
            v = strtoul(optarg, &end, 10);
            if (errno || *end || v == 0 || v > SYNC_BATCH_MAX) {
                fprintf(stderr, "consent-sync: --batch: 1..%u\n", SYNC_BATCH_MAX);
                return -1;
            }
            o->batch = (unsigned)v;
            break;
        default:
            usage();
            return -1;
        }
    }
    if (optind != argc) {
        usage();
        return -1;
    }
    return 0;
}

/* The [store] section names a primary; fills o from it. */
static int from_config(const struct cfg *c, struct sync_opts *o, char *err, size_t errlen)
{
    if (c->store_backend != CFG_STORE_PG)
        return snprintf(err, errlen,
                        "%s: [store] backend is not postgresql: there is no primary to "
                        "replicate from",
                        c->path),
               -1;
    if (c->store_conninfo == NULL || *c->store_conninfo == '\0')
        return snprintf(err, errlen, "%s: [store] conninfo is required", c->path), -1;
    o->conninfo = c->store_conninfo;
    o->passfile = c->store_passfile;
    if (o->replica == NULL)
        o->replica = c->store_replica ? c->store_replica : c->database;
    o->poll_interval = c->store_poll_interval ? c->store_poll_interval : 5;
    return 0;
}

/* The replica directory: a clear word for the usual mistakes before LMDB's. */
static int open_replica(const char *dir, struct store **st)
{
    int rc;

    char parent[4096];
    const char *slash;

    /* the directory, or the one it would be made in if missing */
    if (access(dir, F_OK) != 0 && (slash = strrchr(dir, '/')) != NULL &&
        (size_t)(slash - dir) < sizeof parent) {
        snprintf(parent, sizeof parent, "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
        if (access(parent, W_OK) != 0) {
            log_err("replica directory %s is missing and %s is not writable by uid %u: %s",
                    dir, parent, (unsigned)geteuid(), strerror(errno));
            return -1;
        }
    } else if (access(dir, F_OK) == 0 && access(dir, W_OK) != 0) {
        log_err("replica directory %s is not writable by uid %u: %s", dir,
                (unsigned)geteuid(), strerror(errno));
        return -1;
    }
    rc = store_open(dir, STORE_CREATE, 16, st);
    if (rc != STORE_OK) {
        log_err("cannot open the replica %s: %s", dir, store_strerror(rc));
        return -1;
    }
    return 0;
}

static int signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
    struct sync_opts o;
    struct store *st = NULL;
    struct cfg *c;
    char err[1024];
    int sigfd, rc;

    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    log_open("consent-sync", LOG_LVL_INFO, o.foreground || o.check || o.once);
    if ((c = cfg_load(o.conf, err, sizeof err)) == NULL || from_config(c, &o, err, sizeof err) != 0) {
        log_err("%s", err);
        if (!o.foreground && !o.check && !o.once)
            fprintf(stderr, "consent-sync: %s\n", err);
        cfg_release(c);
        return 1;
    }
    if (o.check) {
        printf("consent-sync: %s OK (replica %s, poll every %u s)\n", o.conf, o.replica,
               o.poll_interval);
        cfg_release(c);
        return 0;
    }
    log_set_level(c->log_level);
    if ((sigfd = signals()) < 0) {
        log_err("signalfd: %s", strerror(errno));
        cfg_release(c);
        return 1;
    }
    if (open_replica(o.replica, &st) != 0) {
        close(sigfd);
        cfg_release(c);
        return 1;
    }
    log_info("starting replica=%s poll=%us batch=%u%s", o.replica, o.poll_interval, o.batch,
             o.once ? " once" : "");
    rc = sync_run(&o, st, sigfd);
    store_close(st);
    close(sigfd);
    cfg_release(c);
    return rc;
}
