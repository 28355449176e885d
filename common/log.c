/* log - levelled logging to syslog (LOG_MAIL) or stderr; see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

static int cur_level = LOG_LVL_INFO; /* read and set atomically: any thread may log */
static int use_stderr = 1;
static const char *log_ident = "consent-milter";

void log_open(const char *ident, int level, int to_stderr)
{
    log_ident = ident;
    __atomic_store_n(&cur_level, level, __ATOMIC_RELAXED);
    use_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(int level)
{
    __atomic_store_n(&cur_level, level, __ATOMIC_RELAXED);
}

int log_level_parse(const char *s)
{
    static const struct { const char *name; int level; } tab[] = {
        {"err", LOG_LVL_ERR},   {"error", LOG_LVL_ERR}, {"warn", LOG_LVL_WARN},
        {"warning", LOG_LVL_WARN}, {"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcasecmp(s, tab[i].name) == 0)
            return tab[i].level;
    return -1;
}

int log_enabled(int level)
{
    return level <= __atomic_load_n(&cur_level, __ATOMIC_RELAXED);
}

static void log_emit(int level, const char *fmt, va_list ap)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    static const char *word[] = {"error", "warning", "info", "debug"};

    if (!log_enabled(level))
        return;
    if (use_stderr) {
        char line[2048];
        vsnprintf(line, sizeof line, fmt, ap);
        fprintf(stderr, "%s: %s: %s\n", log_ident, word[level], line);
        return;
    }
    vsyslog(prio[level], fmt, ap);
}

#define LOG_FN(name, level)                                                              \
    void name(const char *fmt, ...)                                                      \
    {                                                                                    \
        va_list ap;                                                                      \
        va_start(ap, fmt);                                                               \
        log_emit(level, fmt, ap);                                                        \
        va_end(ap);                                                                      \
    }
LOG_FN(log_err, LOG_LVL_ERR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)
