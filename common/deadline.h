/* deadline - an absolute time on clock (CLOCK_REALTIME, or the clock set
 * on the condition variable) some milliseconds from now, for
 * pthread_cond_timedwait, which takes no relative timeout. */
#ifndef CM_DEADLINE_H
#define CM_DEADLINE_H

#include <time.h>

static inline struct timespec cm_deadline_ms(clockid_t clock, unsigned ms)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
