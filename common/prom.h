/* prom - a small writer of the Prometheus text exposition format (0.0.4):
 * counters with zero, one or two labels drawn from fixed value sets, and a
 * histogram with fixed bucket bounds, plus an atomic textfile write for
 * node_exporter's textfile collector.
 *
 * The metric storage is owned by the caller (usually static). Increments
 * are relaxed __atomic adds, safe from any number of threads (libmilter
 * workers); rendering reads with relaxed atomic loads, so a scrape may see
 * one counter an event ahead of another, never a torn value. Label values
 * are escaped as the format requires (\\, \", \n). No I/O except
 * prom_textfile_write; nothing here logs. */
#ifndef CM_PROM_H
#define CM_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define PROM_MAX_LABELS 2
#define PROM_MAX_BUCKETS 16

/* A counter family: nlabels (0..2) label names, each with nvals[i] fixed
 * values; v holds nvals[0] * nvals[1] counters (row-major; a missing
 * dimension counts as 1). */
struct prom_counter {
    const char *name; /* e.g. "consent_milter_messages_total" */
    const char *help;
    unsigned nlabels;
    const char *label[PROM_MAX_LABELS];
    const char *const *vals[PROM_MAX_LABELS];
    size_t nvals[PROM_MAX_LABELS];
    unsigned long long *v;
};

/* A histogram of durations: bounds in microseconds, ascending, rendered
 * in seconds; bucket[i] counts observations <= bound[i] (not cumulative in
 * storage), bucket[nbounds] the rest. sum_us is the total. */
struct prom_hist {
    const char *name; /* e.g. "consent_milter_rewrite_seconds" */
    const char *help;
    size_t nbounds;
    uint64_t bound_us[PROM_MAX_BUCKETS];
    unsigned long long bucket[PROM_MAX_BUCKETS + 1];
    unsigned long long sum_us;
};

/* prom_add - atomically add n to the counter at index (i, j) of c (j is 0
 * for a one-label family, both 0 for a plain counter). Out-of-range
 * indexes are ignored. */
void prom_add(struct prom_counter *c, size_t i, size_t j, unsigned long long n);
/* prom_get - the current value at (i, j), 0 when out of range. */
unsigned long long prom_get(const struct prom_counter *c, size_t i, size_t j);
/* prom_observe - record one duration of us microseconds. */
void prom_observe(struct prom_hist *h, uint64_t us);

/* prom_escape - append s to b escaped as a label value. Returns 0, or the
 * buf error (ENOMEM, EFBIG). */
int prom_escape(struct buf *b, const char *s);
/* prom_write_counter - append HELP, TYPE and every sample of c (zeros
 * included, so a dashboard sees the series from the start). Returns 0 or
 * the buf error. */
int prom_write_counter(struct buf *b, const struct prom_counter *c);
/* prom_write_hist - append HELP, TYPE, the cumulative _bucket lines (le
 * ending with +Inf), _sum (seconds) and _count. Returns 0 or the buf
 * error. */
int prom_write_hist(struct buf *b, const struct prom_hist *h);
/* prom_write_gauge - one unlabelled gauge sample with its HELP and TYPE. */
int prom_write_gauge(struct buf *b, const char *name, const char *help, double v);

/* prom_textfile_write - replace path with data[0..len) atomically: written
 * to a temporary file in the same directory, flushed, mode 0644, renamed
 * over path, so node_exporter never reads half a file. Returns 0, or an
 * errno value (the temporary file is removed on failure). */
int prom_textfile_write(const char *path, const char *data, size_t len);

#endif
