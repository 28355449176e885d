/* snap - the reloadable configuration snapshot shared by both daemons
 * (SPEC §4 reload, §6 SIGUSR1): the parsed configuration, the token keys,
 * the milter's compiled tracker rules, and one part of the daemon's own
 * (the gate's page templates) loaded through a hook.
 *
 * A snapshot is built completely, and so validated, before it is
 * installed: a configuration, keys file, rules file or daemon part that
 * does not load yields no snapshot and the running one stays. Installing
 * swaps one pointer under the slot's mutex. Users (a milter connection, a
 * gate request) retain the snapshot they started with and release it when
 * they end, so a reload never changes anything under work in flight. The
 * store is not part of it: LMDB is opened once per process.
 *
 * Thread safety: a snapshot is immutable once loaded; its count is atomic;
 * a slot may be used from any thread. */
#ifndef CM_SNAP_H
#define CM_SNAP_H

#include <pthread.h>
#include <stddef.h>

#include "common/tok.h"
#include "policy/cfg.h"
#include "rewriter/rewriter.h"

/* What snap_load reads besides the configuration. */
enum snap_flags {
    SNAP_RULES = 1,        /* compile [milter] rules into rules and limits */
    SNAP_KEYS_OPTIONAL = 2, /* a keys file that does not exist is a warning,
                               not an error (the milter then gates nothing) */
    SNAP_NO_KEYS = 4        /* leave keys NULL: the caller loads another file
                               (consent-rewrite --keys) */
};

struct snap;
/* snap_hook - the daemon's own part: load it into *extra (freed with
 * free_extra, also after a later failure). Returns 0, or -1 with a reason
 * in err. */
struct snap_hook {
    int (*load)(const struct snap *s, void *arg, void **extra, char *err, size_t errlen);
    void (*free_extra)(void *extra);
    void *arg;
};

struct snap {
    struct cfg *cfg;
    struct tok_keys *keys;   /* NULL: no keys file configured, or (optional) absent */
    struct rw_rules *rules;  /* SNAP_RULES only, else NULL */
    struct rw_limits limits; /* defaults */
    char warning[512];       /* non-fatal problem to report, or "" */
    void *extra;             /* the hook's part, or NULL */
    void (*free_extra)(void *extra);
    int refs; /* atomic; use snap_retain/snap_release */
};

/* snap_load - build a snapshot from the config file at path: cfg_load, the
 * keys file it names, the rules file (SNAP_RULES), then hook (may be NULL).
 * Returns it with one reference, or NULL and a reason naming the file (and
 * line) in err. */
struct snap *snap_load(const char *path, unsigned flags, const struct snap_hook *hook,
                       char *err, size_t errlen);
struct snap *snap_retain(struct snap *s); /* accepts NULL; returns s */
void snap_release(struct snap *s);        /* accepts NULL; frees at the last */

/* The live snapshot of a daemon. */
struct snap_slot {
    pthread_mutex_t lock;
    struct snap *live;
};
#define SNAP_SLOT_INIT                                                                   \
    {                                                                                    \
        PTHREAD_MUTEX_INITIALIZER, NULL                                                  \
    }

/* snap_install - make s the live snapshot (takes the caller's reference;
 * s may be NULL); the previous one is released (holders keep it). */
void snap_install(struct snap_slot *slot, struct snap *s);
/* snap_current - a retained reference to the live snapshot, or NULL. */
struct snap *snap_current(struct snap_slot *slot);

#endif
