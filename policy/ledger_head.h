/* ledger_head - the ledger head logged by both daemons once an hour, as
 * "ledger head seq=N hash=H" at info level, so that a record of it exists
 * outside the store (central syslog). The hash chain alone cannot show that
 * its last events were deleted together with their consent rows and the
 * head; `consentctl verify --expect SEQ:HASH` against a logged head can.
 *
 * The daemons wait for signals in one thread (sigwait); ledger_head_wait
 * is that wait with a deadline, so the periodic log needs no thread or
 * timer of its own. Not thread-safe per *next: one waiting thread. */
#ifndef CM_LEDGER_HEAD_H
#define CM_LEDGER_HEAD_H

#include <signal.h>
#include <time.h>

#include "store/store.h"

/* Seconds between two head lines. */
#define LEDGER_HEAD_INTERVAL 3600

/* ledger_head_interval - LEDGER_HEAD_INTERVAL, or the value of
 * $CM_LEDGER_HEAD_INTERVAL (1..86400; a test hook) when set. */
unsigned ledger_head_interval(void);

/* ledger_head_wait - wait for one of the signals in set, as sigwait, but
 * only until the head is due. *next is the monotonic time it is due (0:
 * now); it is advanced by one interval when due. Returns 1 when the head
 * is due (log it, then wait again), 0 with *sig set for a signal, -1 on
 * an error of sigtimedwait (errno). */
int ledger_head_wait(const sigset_t *set, time_t *next, int *sig);

/* ledger_head_log - log the head of st at info level now; a NULL st (no
 * database configured) logs nothing, a store error a warning. */
void ledger_head_log(struct store *st);

#endif
