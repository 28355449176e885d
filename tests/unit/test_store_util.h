/* Helpers shared by the store unit tests: a mkdtemp LMDB per test and a
 * one-line event recorder. Included by tests/unit/test_store*.c only. */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char tdir[64];
static struct store *tst;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void tdir_make(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/test_store.XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static void tdir_remove(void)
{
    if (tdir[0] != '\0')
        nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup_store(void)
{
    tdir_make();
    cr_assert_eq(store_open(tdir, STORE_CREATE, 0, &tst), STORE_OK);
}

static void teardown_store(void)
{
    store_close(tst);
    tst = NULL;
    tdir_remove();
}

/* Record one event for controller "brand"; returns the store status. */
static int rec_full(int action, const char *ctl, const char *rcpt, uint32_t mask,
                    int64_t t, struct store_event *out)
{
    struct store_event ev = {0};
    ev.action = action;
    ev.controller = ctl;
    ev.recipient = rcpt;
    ev.purposes = mask;
    ev.method = "admin";
    ev.time = t;
    ev.actor = "test";
    int rc = store_record(tst, &ev);
    if (out != NULL)
        *out = ev;
    return rc;
}

static int rec(int action, const char *rcpt, uint32_t mask, int64_t t)
{
    return rec_full(action, "brand", rcpt, mask, t, NULL);
}

#define P_OPENS (1u << STORE_P_OPENS)
#define P_CLICKS (1u << STORE_P_CLICKS)
#define P_PROF (1u << STORE_P_PROFILING)

#endif
