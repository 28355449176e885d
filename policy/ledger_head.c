/* ledger_head - the periodic "ledger head" log line of both daemons; see
 * ledger_head.h. The deadline runs on CLOCK_MONOTONIC, so a clock step
 * neither floods the log nor silences it. */
#include "policy/ledger_head.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "common/log.h"

unsigned ledger_head_interval(void)
{
    const char *e = getenv("CM_LEDGER_HEAD_INTERVAL");
    char *end;
    unsigned long n;

    if (e == NULL || *e == '\0')
        return LEDGER_HEAD_INTERVAL;
    n = strtoul(e, &end, 10);
    return *end == '\0' && n >= 1 && n <= 86400 ? (unsigned)n : LEDGER_HEAD_INTERVAL;
}

static time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

int ledger_head_wait(const sigset_t *set, time_t *next, int *sig)
{
    for (;;) {
        time_t now = mono_now();
        struct timespec ts = {0, 0};
        int s;

        if (*next == 0 || now >= *next) {
            *next = now + (time_t)ledger_head_interval();
            return 1;
        }
        ts.tv_sec = *next - now;
        if ((s = sigtimedwait(set, NULL, &ts)) > 0) {
            *sig = s;
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
    }
}

void ledger_head_log(struct store *st)
{
    uint64_t seq;
    uint8_t hash[32];
    char hex[65];
    int rc;

    if (st == NULL)
        return;
    if ((rc = store_ledger_head(st, &seq, hash)) != STORE_OK) {
        log_warn("ledger head unreadable: %s", store_strerror(rc));
        return;
    }
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    log_info("ledger head seq=%llu hash=%s", (unsigned long long)seq, hex);
}
