/* snap - the reloadable configuration snapshot of both daemons (contract
 * in snap.h). Moved here from milter/runtime.c and the gate's main.c, which
 * each had their own.
 *
 * Keys: a daemon that cannot work without them (the gate) fails to load
 * when they do not; the milter (SNAP_KEYS_OPTIONAL) runs without them in
 * the private outcome - every tracker stripped or unwrapped, no footer -
 * which is said loudly through warning at start and at each reload. */
#include "policy/snap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int load_rules(struct snap *s, char *err, size_t errlen)
{
    const char *path = s->cfg->rules;
    struct buf b = BUF_INIT(16u << 20); /* rules file, at most 16 MiB */
    char why[200];
    int e;

    if (!path || !*path) {
        snprintf(err, errlen, "%s: [milter] rules is not set", s->cfg->path);
        return -1;
    }
    if ((e = buf_read_file(&b, path)) != 0) {
        snprintf(err, errlen, "%s: %s", path, e == EFBIG ? "file too large" : strerror(e));
        buf_free(&b);
        return -1;
    }
    int rc = rw_rules_parse(b.data ? b.data : "", b.len, &s->rules, why, sizeof why);
    buf_free(&b);
    if (rc != RW_OK) {
        snprintf(err, errlen, "%s:%s", path, why);
        return -1;
    }
    return 0;
}

static int load_keys(struct snap *s, unsigned flags, char *err, size_t errlen)
{
    if (flags & SNAP_NO_KEYS)
        return 0; /* the caller loads its own */
    const char *path = s->cfg->gate_keys;
    char why[200] = "";

    if (flags & SNAP_KEYS_OPTIONAL) {
        if (path == NULL || *path == '\0')
            return 0;
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            snprintf(
                s->warning, sizeof s->warning,
                "keys file %s does not exist: no tracker can be kept, no footer added",
                path);
            return 0;
        }
        if (tok_keys_load(path, &s->keys, why, sizeof why) != TOK_OK) {
            snprintf(err, errlen, "%s", why[0] ? why : path);
            return -1;
        }
        return 0;
    }
    if (tok_keys_load(path, &s->keys, why, sizeof why) != TOK_OK) {
        snprintf(err, errlen, "keys: %s", why);
        return -1;
    }
    return 0;
}

struct snap *snap_load(const char *path, unsigned flags, const struct snap_hook *hook,
                       char *err, size_t errlen)
{
    struct snap *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->refs = 1;
    rw_limits_default(&s->limits);
    s->cfg = cfg_load(path, err, errlen);
    if (!s->cfg)
        goto fail;
    if ((flags & SNAP_RULES) && load_rules(s, err, errlen) != 0)
        goto fail;
    if (load_keys(s, flags, err, errlen) != 0)
        goto fail;
    if (hook) {
        s->free_extra = hook->free_extra;
        if (hook->load(s, hook->arg, &s->extra, err, errlen) != 0)
            goto fail;
    }
    return s;
fail:
    snap_release(s);
    return NULL;
}

struct snap *snap_retain(struct snap *s)
{
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void snap_release(struct snap *s)
{
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    cfg_release(s->cfg);
    if (s->rules)
        rw_rules_free(s->rules);
    tok_keys_free(s->keys);
    if (s->extra && s->free_extra)
        s->free_extra(s->extra);
    free(s);
}

void snap_install(struct snap_slot *slot, struct snap *s)
{
    pthread_mutex_lock(&slot->lock);
    struct snap *old = slot->live;
    slot->live = s;
    pthread_mutex_unlock(&slot->lock);
    snap_release(old);
}

struct snap *snap_current(struct snap_slot *slot)
{
    pthread_mutex_lock(&slot->lock);
    struct snap *s = snap_retain(slot->live);
    pthread_mutex_unlock(&slot->lock);
    return s;
}
