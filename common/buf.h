/* buf - one growable byte buffer with a mandatory maximum.
 *
 * Every buffer has a ceiling: an append that would pass it fails with EFBIG
 * instead of growing without bound (curl's dynbuf). The data is always
 * NUL-terminated when non-NULL, so buf_cstr() is free. Not thread-safe: a
 * buffer belongs to one thread at a time.
 *
 * Memory: allocations are checked; a failed one returns ENOMEM and leaves
 * the buffer as it was (common/ never aborts and uses no GLib). */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stddef.h>

struct buf {
    char *data;  /* NULL until the first append; always NUL-terminated after */
    size_t len;  /* bytes used, excluding the terminating NUL */
    size_t cap;  /* bytes allocated */
    size_t max;  /* ceiling on len; 0 means SIZE_MAX/2 */
};

#define BUF_INIT(maxbytes) {NULL, 0, 0, (maxbytes)}

/* buf_init - empty buffer with ceiling max (0: no practical ceiling). */
void buf_init(struct buf *b, size_t max);

/* buf_reserve - make room for extra more bytes (and the NUL) in one
 * allocation of exactly that size, so a caller that knows the final size
 * avoids repeated growth. Returns 0, ENOMEM, or EFBIG (ceiling). */
int buf_reserve(struct buf *b, size_t extra);

/* buf_append - append n bytes. Returns 0, ENOMEM, or EFBIG (ceiling); on
 * failure the buffer is unchanged. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, int c);
/* buf_printf - append formatted text. Returns as buf_append, or EINVAL. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* buf_cstr - the contents as a C string ("" when empty). Borrowed. */
const char *buf_cstr(const struct buf *b);

/* buf_reset - empty the buffer, keep its memory and ceiling. */
void buf_reset(struct buf *b);

/* buf_steal - hand the allocation to the caller (free() it); the buffer is
 * left empty. Returns a NUL-terminated string, never NULL on success, or
 * NULL on ENOMEM. *len (if non-NULL) receives the length. */
char *buf_steal(struct buf *b, size_t *len);

/* buf_read_fd - append everything readable from fd until end of file (the
 * one bounded file reader: configuration, templates, rules, keys, input
 * messages). The buffer's ceiling bounds it; data stays NUL-terminated and
 * non-NULL, also for an empty file. fd stays open (the caller's).
 * Returns 0, EFBIG (past the ceiling), ENOMEM, or the read(2) errno; on
 * failure the bytes read so far stay in b. Retries EINTR. */
int buf_read_fd(struct buf *b, int fd);

/* buf_read_file - buf_read_fd on path, opened read-only and close-on-exec.
 * Returns as buf_read_fd, or the open(2) errno. */
int buf_read_file(struct buf *b, const char *path);

/* buf_free - release memory; accepts NULL and an already-freed buffer. */
void buf_free(struct buf *b);

#endif
