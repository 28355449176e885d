/* log - syslog (facility mail) or stderr logging with levels.
 *
 * Mail-path lines follow one shape: "QUEUEID event key=value ...".
 * Recipient addresses only at debug level; bodies never (in a consent
 * product the logs are personal data too). Thread-safe: syslog(3) and
 * stdio are; the level is read atomically. */
#ifndef CM_LOG_H
#define CM_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* log_open - start logging as ident. to_stderr: write to stderr instead of
 * syslog (foreground, tests, CLIs). */
void log_open(const char *ident, int level, int to_stderr);
void log_set_level(int level);
/* log_level_parse - "err|error|warn|warning|info|debug" -> level, or -1. */
int log_level_parse(const char *s);
/* log_enabled - whether a line at level would be written; use it to avoid
 * formatting debug-only data (such as addresses) at all. */
int log_enabled(int level);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
