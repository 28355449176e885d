/* deadline - an absolute CLOCK_REALTIME time some milliseconds from now,
 * for pthread_cond_timedwait (which takes no relative timeout). */
#ifndef CM_DEADLINE_H
#define CM_DEADLINE_H

#include <time.h>

static inline struct timespec cm_deadline_ms(unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
