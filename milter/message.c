/* message - per-message state of consent-milter.
 *
 * Data flow: envfrom/envrcpt fill the envelope; each header callback keeps
 * the field (for decisions) and appends "Name: value\r\n" to the message
 * store; eoh appends the blank line; body chunks follow. The store is a
 * memory buffer up to spool_threshold, then a private temp file in
 * spool_dir (O_TMPFILE, or mkstemp + unlink; mode 0600) that is mmap'ed at
 * end of message, because rw_rewrite wants the whole message contiguous.
 *
 * Limits: max_message_size (EFBIG), MLT_MAX_RCPTS, MLT_MAX_HEADERS (E2BIG).
 * mlt_msg_free is the one idempotent cleanup for abort, close and errors. */
#include "milter/milter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

double mlt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct mlt_msg *mlt_msg_new(const struct cfg *cfg)
{
    struct mlt_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    snprintf(m->qid, sizeof m->qid, "-");
    m->fd = -1;
    m->max_size = cfg->max_message_size ? cfg->max_message_size : (size_t)50 << 20;
    m->spool_at = cfg->spool_threshold ? cfg->spool_threshold : (size_t)1 << 20;
    if (m->spool_at > m->max_size)
        m->spool_at = m->max_size;
    m->spool_dir = cfg->spool_dir;
    buf_init(&m->mem, 0);
    m->t0 = mlt_now();
    return m;
}

struct mlt_msg *mlt_msg_free(struct mlt_msg *m)
{
    if (!m)
        return NULL;
    free(m->sender);
    for (size_t i = 0; i < m->nrcpts; i++)
        free(m->rcpts[i]);
    free(m->rcpts);
    for (size_t i = 0; i < m->nhdrs; i++) {
        free(m->hdrs[i].name);
        free(m->hdrs[i].value);
    }
    free(m->hdrs);
    buf_free(&m->mem);
    if (m->map)
        munmap(m->map, m->maplen);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
    return NULL;
}

/* Strip the angle brackets libmilter hands envelope addresses with. */
static char *envelope_addr(const char *a)
{
    size_t n = strlen(a);
    if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
        a++;
        n -= 2;
    }
    return strndup(a, n);
}

int mlt_msg_set_sender(struct mlt_msg *m, const char *addr)
{
    free(m->sender);
    m->sender = envelope_addr(addr ? addr : "");
    return m->sender ? 0 : ENOMEM;
}

int mlt_msg_add_rcpt(struct mlt_msg *m, const char *addr)
{
    char norm[STORE_ADDR_MAX];
    int rc = 0;

    /* A recipient we cannot normalise still counts (strictest rule); its
     * store lookup finds nothing, so it has no consent. */
    if (store_addr_normalise(addr, norm, sizeof norm) != 0) {
        snprintf(norm, sizeof norm, "%s", addr);
        rc = EINVAL;
    }
    if (m->nrcpts >= MLT_MAX_RCPTS)
        return E2BIG;
    if (m->nrcpts == m->rcap) {
        size_t cap = m->rcap ? m->rcap * 2 : 4;
        char **r = realloc(m->rcpts, cap * sizeof *r);
        if (!r)
            return ENOMEM;
        m->rcpts = r;
        m->rcap = cap;
    }
    if (!(m->rcpts[m->nrcpts] = strdup(norm)))
        return ENOMEM;
    m->nrcpts++;
    return rc;
}

/* Open the private spool file and move what memory holds into it. */
static int spool_open(struct mlt_msg *m)
{
    const char *dir = m->spool_dir;
    if (!dir || !*dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    m->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (m->fd < 0) {
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/consent-milter.XXXXXX", dir);
        m->fd = mkostemp(tmpl, O_CLOEXEC);
        if (m->fd < 0)
            return EIO;
        unlink(tmpl);
        fchmod(m->fd, 0600);
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Append bytes to the message store, spooling once past the threshold. */
static int keep_bytes(struct mlt_msg *m, const void *p, size_t n)
{
    if (n > m->max_size || m->size > m->max_size - n)
        return EFBIG;
    if (m->fd < 0 && m->size + n > m->spool_at) {
        int rc = spool_open(m);
        if (rc == 0 && m->mem.len > 0)
            rc = write_all(m->fd, m->mem.data, m->mem.len);
        if (rc != 0)
            return rc;
        buf_free(&m->mem);
    }
    int rc = m->fd >= 0 ? write_all(m->fd, p, n) : buf_append(&m->mem, p, n);
    if (rc == 0)
        m->size += n;
    return rc;
}

/* Append a header value, turning bare LF (Postfix's folding) into CRLF. */
static int keep_value(struct mlt_msg *m, const char *v)
{
    while (*v) {
        const char *lf = strchr(v, '\n');
        size_t n = lf ? (size_t)(lf - v) : strlen(v);
        if (n > 0 && v[n - 1] == '\r')
            n--;
        int rc = keep_bytes(m, v, n);
        if (rc != 0)
            return rc;
        if (!lf)
            break;
        if ((rc = keep_bytes(m, "\r\n", 2)) != 0)
            return rc;
        v = lf + 1;
    }
    return 0;
}

int mlt_msg_add_header(struct mlt_msg *m, const char *name, const char *value)
{
    if (m->nhdrs >= MLT_MAX_HEADERS)
        return E2BIG;
    if (m->nhdrs == m->hcap) {
        size_t cap = m->hcap ? m->hcap * 2 : 32;
        struct msginfo_hdr *h = realloc(m->hdrs, cap * sizeof *h);
        if (!h)
            return ENOMEM;
        m->hdrs = h;
        m->hcap = cap;
    }
    struct msginfo_hdr *h = &m->hdrs[m->nhdrs];
    /* "Name :" (obsolete syntax, accepted by MTAs and gmime) is the field
     * Name for every lookup: decision, ESP switches, trace inputs. */
    size_t nl = strlen(name);
    while (nl > 0 && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
        nl--;
    h->name = strndup(name, nl);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return ENOMEM;
    }
    m->nhdrs++;
    int rc = keep_bytes(m, name, strlen(name));
    if (rc == 0)
        rc = keep_bytes(m, *value == ' ' || *value == '\t' ? ":" : ": ",
                         *value == ' ' || *value == '\t' ? 1 : 2);
    if (rc == 0)
        rc = keep_value(m, value);
    if (rc == 0)
        rc = keep_bytes(m, "\r\n", 2);
    return rc;
}

int mlt_msg_end_headers(struct mlt_msg *m)
{
    if (m->headers_done)
        return 0;
    int rc = keep_bytes(m, "\r\n", 2);
    if (rc == 0) {
        m->headers_done = 1;
        m->body_off = m->size;
    }
    return rc;
}

int mlt_msg_add_body(struct mlt_msg *m, const void *p, size_t n)
{
    int rc = mlt_msg_end_headers(m);
    return rc != 0 ? rc : keep_bytes(m, p, n);
}

int mlt_msg_data(struct mlt_msg *m, const char **data, size_t *len)
{
    int rc = mlt_msg_end_headers(m);
    if (rc != 0)
        return rc;
    if (m->fd < 0) {
        *data = m->mem.data ? m->mem.data : "";
        *len = m->mem.len;
        return 0;
    }
    if (!m->map) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, m->fd, 0);
        if (p == MAP_FAILED)
            return EIO;
        m->map = p;
        m->maplen = m->size;
    }
    *data = m->map;
    *len = m->maplen;
    return 0;
}

const char *mlt_msg_header(const struct mlt_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcasecmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return NULL;
}

size_t mlt_msg_header_count(const struct mlt_msg *m, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nhdrs; i++)
        n += strcasecmp(m->hdrs[i].name, name) == 0;
    return n;
}
