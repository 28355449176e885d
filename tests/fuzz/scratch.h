/* scratch - the scratch LMDB store of a fuzz harness: made under /dev/shm
 * (tmpfs: LMDB's sync at each commit costs nothing there) or /tmp, closed
 * and removed at exit. Included by tests/fuzz/fuzz_*.c only. */
#ifndef FUZZ_SCRATCH_H
#define FUZZ_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

static struct store *scratch_st;
static char scratch_dir[64];

static int scratch_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void scratch_remove(void)
{
    store_close(scratch_st);
    scratch_st = NULL;
    if (scratch_dir[0])
        nftw(scratch_dir, scratch_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* A new empty store in a directory named after the harness; aborts if it
 * cannot be made. */
static struct store *scratch_store(const char *name)
{
    snprintf(scratch_dir, sizeof scratch_dir, "%s/%s-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
    if (mkdtemp(scratch_dir) == NULL)
        abort();
    atexit(scratch_remove);
    if (store_open(scratch_dir, STORE_CREATE, 16, &scratch_st) != STORE_OK)
        abort();
    return scratch_st;
}

#endif
