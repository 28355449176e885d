/* runtime - the live configuration snapshot of consent-milter.
 *
 * A snapshot bundles what a reload replaces: the parsed configuration, the
 * compiled tracker rules and the token keys. It is built completely (and so
 * validated) before it is installed; installing swaps one pointer under a
 * mutex. Connections retain the snapshot they started with and release it
 * when they close, so a reload never changes the rules under a message in
 * flight. The store is not part of it: LMDB is opened once per process.
 *
 * Failure: mlt_rt_load returns NULL with "FILE:LINE: reason"; nothing is
 * installed. */
#include "milter/milter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct store *mlt_store;

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mlt_rt *rt_live;

/* Read a whole small file (rules, at most 16 MiB). */
static int slurp(const char *path, struct buf *b, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf_init(b, 16u << 20);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && buf_append(b, chunk, (size_t)n) != 0)) {
            snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "file too large");
            close(fd);
            buf_free(b);
            return -1;
        }
        if (n == 0)
            break;
    }
    close(fd);
    return 0;
}

static int load_rules(struct mlt_rt *rt, char *err, size_t errlen)
{
    const char *path = rt->cfg->rules;
    struct buf b;
    char why[200];

    if (!path || !*path) {
        snprintf(err, errlen, "%s: [milter] rules is not set", rt->cfg->path);
        return -1;
    }
    if (slurp(path, &b, err, errlen) != 0)
        return -1;
    int rc = rw_rules_parse(b.data ? b.data : "", b.len, &rt->rules, why, sizeof why);
    buf_free(&b);
    if (rc != RW_OK) {
        snprintf(err, errlen, "%s:%s", path, why);
        return -1;
    }
    return 0;
}

struct mlt_rt *mlt_rt_load(const char *path, char *err, size_t errlen)
{
    struct mlt_rt *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rt->refs = 1;
    rw_limits_default(&rt->limits);
    rt->cfg = cfg_load(path, err, errlen);
    if (!rt->cfg)
        goto fail;
    if (load_rules(rt, err, errlen) != 0)
        goto fail;
    /* A missing keys file is not fatal: without keys nothing can be gated,
     * so every tracker is stripped or unwrapped and no footer is added -
     * the private outcome. It is said loudly at start and reload. */
    if (rt->cfg->gate_keys && *rt->cfg->gate_keys && access(rt->cfg->gate_keys, F_OK) != 0 &&
        errno == ENOENT) {
        snprintf(rt->warning, sizeof rt->warning,
                 "keys file %s does not exist: no tracker can be kept, no footer added",
                 rt->cfg->gate_keys);
    } else if (rt->cfg->gate_keys && *rt->cfg->gate_keys) {
        char why[200] = "";
        if (tok_keys_load(rt->cfg->gate_keys, &rt->keys, why, sizeof why) != TOK_OK) {
            snprintf(err, errlen, "%s", why[0] ? why : rt->cfg->gate_keys);
            goto fail;
        }
    }
    return rt;
fail:
    mlt_rt_release(rt);
    return NULL;
}

struct mlt_rt *mlt_rt_retain(struct mlt_rt *rt)
{
    if (rt)
        __atomic_add_fetch(&rt->refs, 1, __ATOMIC_RELAXED);
    return rt;
}

void mlt_rt_release(struct mlt_rt *rt)
{
    if (!rt || __atomic_sub_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    cfg_release(rt->cfg);
    if (rt->rules)
        rw_rules_free(rt->rules);
    if (rt->keys)
        tok_keys_free(rt->keys);
    free(rt);
}

void mlt_rt_install(struct mlt_rt *rt)
{
    pthread_mutex_lock(&rt_lock);
    struct mlt_rt *old = rt_live;
    rt_live = rt;
    pthread_mutex_unlock(&rt_lock);
    mlt_rt_release(old);
}

struct mlt_rt *mlt_rt_current(void)
{
    pthread_mutex_lock(&rt_lock);
    struct mlt_rt *rt = mlt_rt_retain(rt_live);
    pthread_mutex_unlock(&rt_lock);
    return rt;
}
