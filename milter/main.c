/* main - consent-milter: options, start-up, privileges, reload.
 *
 * consent-milter [-f [-s]] [-c FILE]  run (-f: foreground, log to stderr;
 *                                     -s: to syslog, facility mail, anyway)
 * consent-milter -n [-v] [-c FILE]    check the configuration and exit 0/1
 *
 * Start-up order: load and validate the whole snapshot (config, rules,
 * keys) - a bad file exits 1 naming the line; open the milter socket as
 * the starting user and hand it to [milter] user; daemonise; write the pid
 * file; drop privileges; open the LMDB store once (after the fork, as LMDB
 * requires); start the reload thread; run libmilter's loop.
 *
 * Reload: SIGUSR1 is blocked in every thread and taken by one thread with
 * sigwait(), off the mail path. It builds a complete new snapshot and
 * installs it only if valid; otherwise it logs why and the old one keeps
 * running. Connections in flight keep the snapshot they started with.
 * libmilter itself owns SIGHUP, SIGTERM and SIGINT (stop). */
#include "milter/milter.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/ledger_head.h"
#include "common/log.h"
#include "store/store.h"

#define DEFAULT_CONF "/etc/consent-milter/consent-milter.conf"

static const char *conf_path = DEFAULT_CONF;

static void usage(FILE *f)
{
    fprintf(f, "usage: consent-milter [-f [-s]] [-c FILE]\n"
               "       consent-milter -n [-v] [-c FILE]\n"
               "  -c FILE  configuration (default " DEFAULT_CONF ")\n"
               "  -f       stay in the foreground, log to stderr\n"
               "  -s       with -f: log to syslog (facility mail) all the same\n"
               "  -n       check the configuration and exit (0 valid, 1 invalid)\n"
               "  -v       with -n: print the effective configuration\n"
               "  -V       print the version\n");
}

/* The path of a unix socket spec ("unix:/p", "local:/p", "/p"), or NULL. */
static const char *unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    return spec[0] == '/' ? spec : NULL;
}

/* Create the socket's directory if missing, owned by the milter user. */
static int socket_dir(const char *path, const struct passwd *pw)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0750) == 0 && pw && chown(dir, pw->pw_uid, pw->pw_gid) != 0)
        return -1;
    return 0;
}

/* Whether the directory of socket path p is set-group-id: its group is
 * the MTA's (Debian's package: /var/spool/postfix/consent-milter, group
 * postfix), which the socket inherits and must keep. */
static int dir_setgid(const char *p)
{
    char dir[4096];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", p);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    slash[slash == dir] = '\0';
    return stat(dir, &st) == 0 && (st.st_mode & S_ISGID);
}

/* Give the bound unix socket to the milter user, mode 0660, as root; the
 * group is the milter user's, or the one a set-group-id directory gave it.
 * Its directory may belong to that user, who could put a symlink in the
 * socket's place: nothing here follows one (a swapped path fails). */
static int hand_socket(const char *p, const struct passwd *pw)
{
    struct stat st;
    if (lstat(p, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        log_err("%s is not the socket just bound", p);
        return -1;
    }
    gid_t gid = dir_setgid(p) ? st.st_gid : pw->pw_gid;
    if (fchownat(AT_FDCWD, p, pw->pw_uid, gid, AT_SYMLINK_NOFOLLOW) != 0 ||
        fchmodat(AT_FDCWD, p, 0660, AT_SYMLINK_NOFOLLOW) != 0) {
        log_err("cannot hand %s to %s: %s", p, pw->pw_name, strerror(errno));
        return -1;
    }
    return 0;
}

/* Bind the milter socket now, as the starting user, so that a privileged
 * path works; then give a unix socket to the milter user (mode 0660: the
 * MTA connects as that user or through its group). */
static int open_socket(const struct cfg *cfg, const struct passwd *pw)
{
    const char *p = unix_path(cfg->socket);
    if (p && socket_dir(p, pw) != 0) {
        log_err("cannot create the directory of %s: %s", p, strerror(errno));
        return -1;
    }
    if (smfi_setconn(cfg->socket) != MI_SUCCESS ||
        smfi_settimeout((int)cfg->timeout) != MI_SUCCESS ||
        smfi_register(*mlt_filter_desc()) != MI_SUCCESS) {
        log_err("cannot set up libmilter for %s", cfg->socket);
        return -1;
    }
    if (smfi_opensocket(true) != MI_SUCCESS) {
        log_err("cannot open milter socket %s", cfg->socket);
        return -1;
    }
    return p && pw ? hand_socket(p, pw) : 0;
}

static int daemonise(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    if ((pid = fork()) < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return -1;
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
        close(fd);
    return 0;
}

static int write_pid(const char *path)
{
    if (!path || !*path)
        return 0;
    /* written as root: never through a symlink */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    int rc = write(fd, line, (size_t)n) == n ? 0 : -1;
    return close(fd) == 0 ? rc : -1;
}

static int drop_privileges(const struct passwd *pw)
{
    if (!pw || (getuid() == pw->pw_uid && geteuid() == pw->pw_uid))
        return 0;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return -1;
    /* Make sure root cannot be regained. */
    if (pw->pw_uid != 0 && setuid(0) == 0)
        return -1;
#ifdef __SANITIZE_ADDRESS__
    /* LeakSanitizer reads /proc/self, which a set-uid'ed process may not. */
    prctl(PR_SET_DUMPABLE, 1);
#endif
    return 0;
}

/* Held for the whole of a reload, and by main() at shutdown, so that the
 * last snapshot is not freed under a reload in progress. */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

static void reload(void)
{
    char err[512];
    pthread_mutex_lock(&reload_lock);
    struct snap *old = snap_current(&mlt_live);
    struct snap *rt = snap_load(conf_path, MLT_SNAP_FLAGS, NULL, err, sizeof err);
    if (!rt) {
        log_err("reload refused, keeping the running configuration: %s", err);
        snap_release(old);
        pthread_mutex_unlock(&reload_lock);
        return;
    }
    if (old && strcmp(old->cfg->database ? old->cfg->database : "",
                      rt->cfg->database ? rt->cfg->database : "") != 0)
        log_warn("reload: database changes need a restart; still using the old one");
    if (old && strcmp(old->cfg->socket, rt->cfg->socket) != 0)
        log_warn("reload: socket changes need a restart");
    snap_release(old);
    log_set_level(rt->cfg->log_level);
    if (rt->warning[0])
        log_warn("reload: %s", rt->warning);
    /* Log before installing: once installed, rt is no longer ours. */
    log_info("reload ok config=%s rules=%s", conf_path,
             rw_rules_version(rt->rules) ? rw_rules_version(rt->rules) : "-");
    snap_install(&mlt_live, rt);
    pthread_mutex_unlock(&reload_lock);
}

static int head_log(void *st)
{
    ledger_head_log(st);
    return 0;
}

/* Also logs the ledger head once an hour (ledger_head.h), under
 * reload_lock: shutdown takes that lock before it closes the store. */
static void *reload_thread(void *arg)
{
    sigset_t *set = arg;
    time_t next = 0;
    for (;;) {
        int sig = 0, due = ledger_head_wait(set, &next, &sig);
        if (due == 1) {
            pthread_mutex_lock(&reload_lock);
            mlt_guarded(head_log, mlt_store);
            pthread_mutex_unlock(&reload_lock);
        } else if (due == 0 && sig == SIGUSR1) {
            reload();
        }
    }
    return NULL;
}

/* SIGUSR1 stays blocked everywhere (the reload thread takes it with
 * sigwait); the reload thread also blocks libmilter's stop signals so that
 * they reach libmilter's own signal thread, not the default action. */
static int start_reload_thread(void)
{
    static sigset_t set;
    sigset_t stop;
    pthread_t th;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigemptyset(&stop);
    sigaddset(&stop, SIGHUP);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
        pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0 ||
        pthread_create(&th, NULL, reload_thread, &set) != 0 ||
        pthread_sigmask(SIG_UNBLOCK, &stop, NULL) != 0)
        return -1;
    return pthread_detach(th);
}

struct store_args {
    const char *dir;
    unsigned flags, readers;
    int err; /* errno of a failed open */
};

static int open_guarded(void *arg)
{
    struct store_args *a = arg;
    int rc = store_open(a->dir, a->flags, a->readers, &mlt_store);

    a->err = errno;
    return rc;
}

/* The milter only reads the store. A read-only directory (a read-only
 * mount, a unit's ProtectSystem) is opened read-only; a damaged store
 * (corrupt, or a file that faults when read) leaves the milter running as
 * if nobody consented (decide.c). Anything else stops the start. */
static int open_store(const struct cfg *cfg)
{
    /* [store] replica: the local copy consent-sync feeds (default: the
     * database itself, as on one host). */
    const char *dir = cfg->store_replica ? cfg->store_replica : cfg->database;
    if (!dir || !*dir) {
        log_warn("no [milter] database: every recipient counts as not consenting");
        return 0;
    }
    struct store_args a = {dir, STORE_CREATE, cfg->workers_hint + 16, 0};
    int rc = mlt_guarded(open_guarded, &a);
    if (rc == STORE_EIO && (a.err == EROFS || a.err == EACCES)) {
        a.flags = STORE_RDONLY;
        if ((rc = mlt_guarded(open_guarded, &a)) == STORE_OK)
            log_warn("consent store %s is read-only here: opened for reading only", dir);
    }
    if (rc == STORE_ECORRUPT) {
        mlt_store = NULL;
        mlt_guard_set_damaged();
        log_err("consent store %s is damaged (%s): deciding as if nobody consented; "
                "restore it from a backup and restart the milter",
                dir, store_strerror(rc));
        return 0;
    }
    if (rc != STORE_OK) {
        log_err("cannot open consent store %s: %s", dir,
                rc == STORE_EIO && a.err != 0 ? strerror(a.err) : store_strerror(rc));
        return -1;
    }
    return 0;
}

/* Everything between a valid configuration and libmilter's loop. */
static int start(const struct cfg *cfg, int foreground)
{
    struct passwd *pw = NULL;
    if (cfg->user && *cfg->user && !(pw = getpwnam(cfg->user))) {
        log_err("unknown user %s", cfg->user);
        return -1;
    }
    if (open_socket(cfg, pw) != 0)
        return -1;
    if (!foreground && daemonise() != 0) {
        log_err("cannot daemonise: %s", strerror(errno));
        return -1;
    }
    if (write_pid(cfg->pid_file) != 0)
        log_warn("cannot write pid file %s: %s", cfg->pid_file, strerror(errno));
    if (drop_privileges(pw) != 0) {
        log_err("cannot drop privileges to %s: %s", cfg->user, strerror(errno));
        return -1;
    }
    if (mlt_guard_init() != 0 || open_store(cfg) != 0 || start_reload_thread() != 0)
        return -1;
    int mrc = mlt_metrics_start(cfg->metrics_textfile, cfg->metrics_interval);
    if (mrc != 0) {
        log_err("cannot write metrics textfile %s: %s", cfg->metrics_textfile,
                strerror(mrc));
        return -1;
    }
    return 0;
}

/* -n: the snapshot loaded, so the configuration is valid. */
static int check_only(struct snap *rt, int verbose)
{
    char *dump = verbose ? cfg_dump(rt->cfg) : NULL;
    if (dump)
        fputs(dump, stdout);
    free(dump);
    printf("%s: configuration ok\n", conf_path);
    snap_release(rt);
    return 0;
}

int main(int argc, char **argv)
{
    int check = 0, verbose = 0, foreground = 0, to_syslog = 0, opt;
    char err[512];

    while ((opt = getopt(argc, argv, "c:fnsvVh")) != -1) {
        switch (opt) {
        case 'c':
            conf_path = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'n':
            check = 1;
            break;
        case 's':
            to_syslog = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'V':
            printf("consent-milter %s\n", MLT_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* Reloads run after daemonise's chdir("/"): hold the configuration by
     * its absolute path, which also anchors the relative paths inside it.
     * (A missing file keeps its name, for the error message.) */
    char *abs_conf = realpath(conf_path, NULL);
    if (abs_conf)
        conf_path = abs_conf;
    /* Block SIGUSR1 from the start: a reload request that arrives before
     * the reload thread exists must wait for it, not kill the daemon. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    /* Every SMTP connection is a new libmilter thread, and every message
     * allocates and frees the same few buffers (body, decoded parts,
     * output). By default glibc hands the top of an arena back to the
     * kernel as soon as they are freed, and the next message faults the
     * same pages in again; blocks over 128 KiB are mmap'd and unmapped
     * each time. Keep up to 8 MiB free per arena and serve blocks up to
     * 2 MiB (above the in-memory spool threshold's usual size) from the
     * heap. At most two arenas per CPU (glibc's default is eight), so
     * that what is kept stays bounded: a few times the largest messages
     * held at once. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_ARENA_MAX, ncpu > 0 && ncpu < 64 ? (int)(2 * ncpu) : 8);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    mallopt(M_MMAP_THRESHOLD, 2 << 20);
    rw_init();
    struct snap *rt = snap_load(conf_path, MLT_SNAP_FLAGS, NULL, err, sizeof err);
    if (!rt) {
        fprintf(stderr, "consent-milter: %s\n", err);
        return 1;
    }
    if (rt->warning[0])
        fprintf(stderr, "consent-milter: warning: %s\n", rt->warning);
    if (check)
        return check_only(rt, verbose);
    /* -s: under systemd, syslog(3) lands in the journal and, through it,
     * in mail.log with Postfix's own lines (stderr would be journal only). */
    int to_stderr = foreground && !to_syslog;
    log_open("consent-milter", rt->cfg->log_level, to_stderr);
    if (rt->warning[0] && !to_stderr)
        log_warn("%s", rt->warning);
    snap_install(&mlt_live, snap_retain(rt));
    if (start(rt->cfg, foreground) != 0)
        return 1;
    log_info("start version=%s socket=%s config=%s", MLT_VERSION, rt->cfg->socket,
             conf_path);
    snap_release(rt);
    int rc = smfi_main();
    log_info("stop");
    pthread_mutex_lock(&reload_lock); /* no reload from here on */
    struct snap *last = snap_current(&mlt_live);
    if (last && last->cfg->pid_file)
        unlink(last->cfg->pid_file);
    snap_release(last);
    /* smfi_main returns on SIGTERM without waiting for sessions still in
     * progress, and an eom may be reading the store: wait for those, and
     * close the store only when none is left (exit frees it otherwise). */
    int drained = mlt_eom_drain(10);
    if (drained)
        store_close(mlt_store);
    else
        log_warn("a message was still being processed at exit; the MTA will retry it");
    int mrc = mlt_metrics_stop();
    if (mrc != 0)
        log_warn("cannot write metrics textfile: %s", strerror(mrc));
    snap_install(&mlt_live, NULL);
    return rc == MI_SUCCESS ? 0 : 1;
}
