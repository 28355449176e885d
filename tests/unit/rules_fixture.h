/* rules_fixture - the shipped conf/trackers.rules, loaded once per test
 * process for the rewriter's unit tests (CM_SRCDIR names the repository;
 * "." when unset). Include from exactly one .c file per test binary. */
#ifndef TESTS_RULES_FIXTURE_H
#define TESTS_RULES_FIXTURE_H

#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "rewriter/rewriter.h"

static struct rw_rules *rules;

static void load_rules(void)
{
    const char *dir = getenv("CM_SRCDIR");
    char path[4096], err[256];
    gchar *t = NULL;
    gsize len = 0;

    snprintf(path, sizeof(path), "%s/conf/trackers.rules", dir && *dir ? dir : ".");
    cr_assert(g_file_get_contents(path, &t, &len, NULL), "cannot read %s", path);
    cr_assert_eq(rw_rules_parse(t, len, &rules, err, sizeof(err)), RW_OK, "%s", err);
    g_free(t);
}

static void free_rules(void)
{
    rw_rules_free(rules);
    rules = NULL;
}

#endif
