/* guard - reads of the consent store that a damaged file cannot turn
 * into a crash of the milter.
 *
 * LMDB maps the store and trusts its pages: no checksums. A file cut
 * short, or a page overwritten so that it names bytes past the end of the
 * file, is read as SIGBUS, in whichever thread looks. The store is the
 * only file the milter maps, so a SIGBUS inside a guarded call means the
 * store is damaged: the handler jumps back out of LMDB to the guard, which
 * marks the store damaged for good (it is never read again: the abandoned
 * read transaction and its reader slot are left as they are) and returns
 * STORE_ECORRUPT. A SIGBUS anywhere else gets the default action. SIGSEGV
 * is not caught: it stays a crash (with the sanitizers' report), as a bug
 * should.
 *
 * The caller decides what a damaged store means; for the milter it is
 * "nobody consented" (decide.c), never a tempfail. */
#include "milter/milter.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "store/store.h"

static __thread sigjmp_buf *guard_jb;
static int damaged;

static void on_sigbus(int sig)
{
    if (guard_jb != NULL)
        siglongjmp(*guard_jb, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

int mlt_guard_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL);
}

int mlt_guarded(mlt_guarded_fn fn, void *arg)
{
    sigjmp_buf jb;
    int rc;

    if (__atomic_load_n(&damaged, __ATOMIC_ACQUIRE))
        return STORE_ECORRUPT;
    if (sigsetjmp(jb, 1) != 0) {
        guard_jb = NULL;
        mlt_guard_set_damaged();
        return STORE_ECORRUPT;
    }
    guard_jb = &jb;
    rc = fn(arg);
    guard_jb = NULL;
    return rc;
}

void mlt_guard_set_damaged(void)
{
    __atomic_store_n(&damaged, 1, __ATOMIC_RELEASE);
}

int mlt_guard_damaged(void)
{
    return __atomic_load_n(&damaged, __ATOMIC_ACQUIRE);
}
