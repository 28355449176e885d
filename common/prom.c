/* prom - Prometheus text exposition writer and atomic textfile (see
 * prom.h). */
#include "common/prom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t dim(const struct prom_counter *c, unsigned k)
{
    return k < c->nlabels ? c->nvals[k] : 1;
}

void prom_add(struct prom_counter *c, size_t i, size_t j, unsigned long long n)
{
    if (!c || !c->v || i >= dim(c, 0) || j >= dim(c, 1))
        return;
    __atomic_fetch_add(&c->v[i * dim(c, 1) + j], n, __ATOMIC_RELAXED);
}

unsigned long long prom_get(const struct prom_counter *c, size_t i, size_t j)
{
    if (!c || !c->v || i >= dim(c, 0) || j >= dim(c, 1))
        return 0;
    return __atomic_load_n(&c->v[i * dim(c, 1) + j], __ATOMIC_RELAXED);
}

void prom_observe(struct prom_hist *h, uint64_t us)
{
    size_t k = 0;
    size_t nb = h->nbounds > PROM_MAX_BUCKETS ? PROM_MAX_BUCKETS : h->nbounds;
    while (k < nb && us > h->bound_us[k])
        k++;
    __atomic_fetch_add(&h->bucket[k], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_us, us, __ATOMIC_RELAXED);
}

int prom_escape(struct buf *b, const char *s)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++) {
        if (*s == '\\')
            rc = buf_puts(b, "\\\\");
        else if (*s == '"')
            rc = buf_puts(b, "\\\"");
        else if (*s == '\n')
            rc = buf_puts(b, "\\n");
        else
            rc = buf_putc(b, *s);
    }
    return rc;
}

/* HELP text escapes only \ and newline. */
static int head(struct buf *b, const char *name, const char *help, const char *type)
{
    int rc = buf_printf(b, "# HELP %s ", name);
    for (const char *s = help; s && *s && rc == 0; s++)
        rc = *s == '\\' ? buf_puts(b, "\\\\")
             : *s == '\n' ? buf_puts(b, "\\n")
                          : buf_putc(b, *s);
    return rc ? rc : buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static int label(struct buf *b, const char *name, const char *val, int first)
{
    int rc = buf_printf(b, "%s%s=\"", first ? "{" : ",", name);
    if (rc == 0)
        rc = prom_escape(b, val);
    return rc ? rc : buf_putc(b, '"');
}

int prom_write_counter(struct buf *b, const struct prom_counter *c)
{
    int rc = head(b, c->name, c->help, "counter");
    unsigned nl = c->nlabels > PROM_MAX_LABELS ? PROM_MAX_LABELS : c->nlabels;
    for (size_t i = 0; i < dim(c, 0) && rc == 0; i++)
        for (size_t j = 0; j < dim(c, 1) && rc == 0; j++) {
            rc = buf_puts(b, c->name);
            if (rc == 0 && nl > 0)
                rc = label(b, c->label[0], c->vals[0][i], 1);
            if (rc == 0 && nl > 1)
                rc = label(b, c->label[1], c->vals[1][j], 0);
            if (rc == 0 && nl > 0)
                rc = buf_putc(b, '}');
            if (rc == 0)
                rc = buf_printf(b, " %llu\n", prom_get(c, i, j));
        }
    return rc;
}

int prom_write_hist(struct buf *b, const struct prom_hist *h)
{
    size_t nb = h->nbounds > PROM_MAX_BUCKETS ? PROM_MAX_BUCKETS : h->nbounds;
    unsigned long long cum = 0;
    int rc = head(b, h->name, h->help, "histogram");
    for (size_t k = 0; k <= nb && rc == 0; k++) {
        cum += __atomic_load_n(&h->bucket[k], __ATOMIC_RELAXED);
        if (k < nb)
            rc = buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", h->name,
                            (double)h->bound_us[k] / 1e6, cum);
        else
            rc = buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", h->name, cum);
    }
    if (rc == 0)
        rc = buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", h->name,
                        (double)__atomic_load_n(&h->sum_us, __ATOMIC_RELAXED) / 1e6,
                        h->name, cum);
    return rc;
}

int prom_write_gauge(struct buf *b, const char *name, const char *help, double v)
{
    int rc = head(b, name, help, "gauge");
    return rc ? rc : buf_printf(b, "%s %.17g\n", name, v);
}

int prom_textfile_write(const char *path, const char *data, size_t len)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return errno;
    int err = 0;
    size_t off = 0;
    while (off < len && err == 0) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno != EINTR)
            err = errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (err == 0 && fchmod(fd, 0644) != 0)
        err = errno;
    if (err == 0 && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && err == 0)
        err = errno;
    if (err == 0 && rename(tmp, path) != 0)
        err = errno;
    if (err != 0)
        unlink(tmp);
    return err;
}
