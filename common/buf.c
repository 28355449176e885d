/* buf - growable byte buffer with a ceiling (see buf.h).
 * Growth doubles the allocation; the ceiling is checked before any
 * allocation, so a hostile input can never make a buffer grow past it. */
#include "common/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

static size_t buf_ceiling(const struct buf *b)
{
    return b->max ? b->max : SIZE_MAX / 2;
}

static int buf_grow(struct buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > buf_ceiling(b) - b->len)
        return EFBIG;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 4 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
    size_t need;
    char *p;

    if (b->len > buf_ceiling(b) || extra > buf_ceiling(b) - b->len)
        return EFBIG;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    if ((p = realloc(b->data, need)) == NULL)
        return ENOMEM;
    p[b->len] = '\0';
    b->data = p;
    b->cap = need;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_grow(b, n);

    if (rc != 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, int c)
{
    char ch = (char)c;

    return buf_append(b, &ch, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return EINVAL;
    if ((rc = buf_grow(b, (size_t)n)) != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *buf_cstr(const struct buf *b)
{
    return b->data ? b->data : "";
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *buf_steal(struct buf *b, size_t *len)
{
    char *p;

    if (b->data == NULL && buf_grow(b, 0) != 0)
        return NULL;
    if (b->data == NULL)
        return NULL;
    p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_free(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int buf_read_fd(struct buf *b, int fd)
{
    char chunk[65536];
    int rc = buf_reserve(b, 0);

    while (rc == 0) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n == 0)
            break;
        if (n < 0)
            rc = errno == EINTR ? 0 : errno;
        else
            rc = buf_append(b, chunk, (size_t)n);
    }
    explicit_bzero(chunk, sizeof chunk); /* key files pass through it */
    return rc;
}

int buf_read_file(struct buf *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

    if (fd < 0)
        return errno;
    rc = buf_read_fd(b, fd);
    close(fd);
    return rc;
}
