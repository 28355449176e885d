/* Unit tests for policy/snap: the reloadable snapshot both daemons share.
 * What it loads for each (rules for the milter, keys required or optional,
 * the daemon's own part through the hook), that a part which does not load
 * yields no snapshot (a reload is refused and the live one stays), and
 * that a holder keeps its snapshot across an install. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/snap.h"

#define KEY "1 0001020304050607080910111213141516171819202122232425262728293031\n"

static char dir[256];

static void put(const char *name, const char *text)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof p, "%s/%s", dir, name);
    cr_assert_not_null(f = fopen(p, "w"), "%s", p);
    fputs(text, f);
    fclose(f);
}

/* A directory with the real footers and rules (symlinked), a key file and
 * a configuration naming them. */
static void setup(void)
{
    static const char *const files[] = {
        "footer-en.html",  "footer-en.txt",   "footer-fr.html",
        "footer-fr.txt",   "request-en.html", "request-en.txt",
        "request-fr.html", "request-fr.txt",  "trackers.rules"};
    const char *src = getenv("CM_SRCDIR");
    char from[512], to[512];

    snprintf(dir, sizeof dir, "/tmp/test_snap.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(from, sizeof from, "%s/conf/%s", src ? src : ".", files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        if (from[0] != '/') {
            char cwd[256];
            cr_assert_not_null(getcwd(cwd, sizeof cwd));
            snprintf(from, sizeof from, "%s/conf/%s", cwd, files[i]);
        }
        cr_assert_eq(symlink(from, to), 0, "%s", to);
    }
    put("keys", KEY);
    snprintf(to, sizeof to, "%s/keys", dir);
    cr_assert_eq(chmod(to, 0600), 0); /* tok_keys_load refuses a readable one */
    put("good.conf", "[milter]\ndatabase = /tmp/x\n[gate]\nkeys = keys\n");
    put("nokeys.conf", "[milter]\ndatabase = /tmp/x\n[gate]\nkeys = absent\n");
    put("norules.conf", "[milter]\ndatabase = /tmp/x\nrules = absent.rules\n"
                        "[gate]\nkeys = keys\n");
    put("bad.conf", "[milter]\ndatabase = /tmp/x\nno_such_key = 1\n");
}

static void teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static struct snap *load(const char *conf, unsigned flags, const struct snap_hook *h,
                         char *err, size_t errlen)
{
    char p[512];

    snprintf(p, sizeof p, "%s/%s", dir, conf);
    return snap_load(p, flags, h, err, errlen);
}

TestSuite(snap, .init = setup, .fini = teardown);

Test(snap, milter_gets_config_rules_and_keys)
{
    char err[512] = "";
    struct snap *s =
        load("good.conf", SNAP_RULES | SNAP_KEYS_OPTIONAL, NULL, err, sizeof err);

    cr_assert_not_null(s, "%s", err);
    cr_assert_not_null(s->cfg);
    cr_assert_not_null(s->rules);
    cr_assert_not_null(s->keys);
    cr_assert_str_eq(s->warning, "");
    snap_release(s);
}

Test(snap, rules_only_when_asked)
{
    char err[512] = "";
    struct snap *s = load("norules.conf", 0, NULL, err, sizeof err);

    cr_assert_not_null(s, "the gate needs no rules: %s", err);
    cr_assert_null(s->rules);
    snap_release(s);
    cr_assert_null(load("norules.conf", SNAP_RULES, NULL, err, sizeof err));
    cr_assert(strstr(err, "absent.rules") != NULL, "names the rules file: %s", err);
}

Test(snap, missing_keys_refused_unless_optional)
{
    char err[512] = "";
    struct snap *s;

    cr_assert_null(load("nokeys.conf", 0, NULL, err, sizeof err));
    cr_assert(strncmp(err, "keys: ", 6) == 0, "%s", err);
    s = load("nokeys.conf", SNAP_RULES | SNAP_KEYS_OPTIONAL, NULL, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_null(s->keys);
    cr_assert(strstr(s->warning, "does not exist") != NULL, "%s", s->warning);
    snap_release(s);
}

static int freed;
static int hook_load(const struct snap *s, void *arg, void **extra, char *err,
                     size_t errlen)
{
    cr_assert_not_null(s->cfg, "the hook runs after the configuration loaded");
    *extra = malloc(1);
    if (arg != NULL) {
        snprintf(err, errlen, "pages: %s", (const char *)arg);
        return -1;
    }
    return 0;
}
static void hook_free(void *extra)
{
    freed++;
    free(extra);
}

Test(snap, hook_part_loaded_and_freed_with_the_snapshot)
{
    const struct snap_hook ok = {hook_load, hook_free, NULL};
    const struct snap_hook bad = {hook_load, hook_free, "broken"};
    char err[512] = "";
    struct snap *s;

    freed = 0;
    s = load("good.conf", 0, &ok, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_not_null(s->extra);
    snap_retain(s);
    snap_release(s);
    cr_assert_eq(freed, 0, "a reference is still held");
    snap_release(s);
    cr_assert_eq(freed, 1, "freed with the last reference");
    cr_assert_null(load("good.conf", 0, &bad, err, sizeof err));
    cr_assert_str_eq(err, "pages: broken");
    cr_assert_eq(freed, 2, "a failed part is freed too");
}

Test(snap, refused_reload_keeps_the_live_one)
{
    struct snap_slot slot = SNAP_SLOT_INIT;
    char err[512] = "";
    struct snap *s = load("good.conf", 0, NULL, err, sizeof err), *cur;

    cr_assert_not_null(s, "%s", err);
    snap_install(&slot, s);
    cr_assert_null(load("bad.conf", 0, NULL, err, sizeof err));
    cr_assert(strstr(err, "bad.conf") != NULL, "names the file: %s", err);
    cur = snap_current(&slot);
    cr_assert_eq(cur, s, "nothing installed");
    snap_release(cur);
    snap_install(&slot, NULL);
    cr_assert_null(snap_current(&slot));
}

Test(snap, holder_keeps_its_snapshot_across_an_install)
{
    struct snap_slot slot = SNAP_SLOT_INIT;
    char err[512] = "";
    struct snap *a = load("good.conf", 0, NULL, err, sizeof err), *b, *held, *cur;

    cr_assert_not_null(a, "%s", err);
    snap_install(&slot, a);
    held = snap_current(&slot);
    b = load("good.conf", 0, NULL, err, sizeof err);
    cr_assert_not_null(b, "%s", err);
    snap_install(&slot, b); /* releases the slot's reference to a */
    cr_assert_eq(held, a);
    cr_assert_not_null(held->cfg, "still whole: the holder's reference keeps it");
    cr_assert_eq(held->refs, 1);
    cur = snap_current(&slot);
    cr_assert_eq(cur, b);
    snap_release(cur);
    snap_release(held);
    snap_install(&slot, NULL);
}
