/* Unit tests for common/buf: growth, ceiling, steal, the bounded file reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"

Test(buf, append_and_cstr)
{
    struct buf b = BUF_INIT(0);
    cr_assert_str_eq(buf_cstr(&b), "");
    cr_assert_eq(buf_puts(&b, "hello "), 0);
    cr_assert_eq(buf_printf(&b, "%s %d", "world", 42), 0);
    cr_assert_str_eq(buf_cstr(&b), "hello world 42");
    cr_assert_eq(b.len, 14);
    buf_free(&b);
    buf_free(&b); /* idempotent */
}

Test(buf, ceiling_refuses_and_leaves_buffer_unchanged)
{
    struct buf b = BUF_INIT(8);
    cr_assert_eq(buf_puts(&b, "12345678"), 0);
    cr_assert_eq(buf_putc(&b, 'x'), EFBIG);
    cr_assert_eq(buf_printf(&b, "%d", 1), EFBIG);
    cr_assert_str_eq(buf_cstr(&b), "12345678");
    buf_free(&b);
}

Test(buf, steal_hands_over_memory)
{
    struct buf b = BUF_INIT(0);
    size_t n = 0;
    char *s;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(buf_putc(&b, 'a' + i % 26), 0);
    s = buf_steal(&b, &n);
    cr_assert_eq(n, 1000);
    cr_assert_eq(strlen(s), 1000);
    cr_assert_null(b.data);
    free(s);
}

Test(buf, reserve_allocates_once_and_respects_ceiling)
{
    struct buf b = BUF_INIT(100);
    cr_assert_eq(buf_reserve(&b, 50), 0);
    cr_assert_eq(b.cap, 51, "exactly the room asked for, plus the NUL");
    cr_assert_str_eq(buf_cstr(&b), "");
    char *before = b.data;
    for (int i = 0; i < 50; i++)
        cr_assert_eq(buf_putc(&b, 'x'), 0);
    cr_assert_eq(b.data, before, "no reallocation within the reserved room");
    cr_assert_eq(buf_reserve(&b, 51), EFBIG);
    cr_assert_eq(b.len, 50);
    buf_free(&b);
}

/* A file of n bytes 'z' in a fresh temporary directory; returns its path. */
static char *temp_file(size_t n)
{
    static char path[64];
    char dir[] = "/tmp/test_buf.XXXXXX";
    FILE *f;
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert_not_null(f = fopen(path, "wb"));
    for (size_t i = 0; i < n; i++)
        fputc('z', f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static void temp_remove(const char *path)
{
    char dir[64];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
    unlink(path);
    rmdir(dir);
}

Test(buf, read_file_whole_bounded_and_errors)
{
    static const struct {
        size_t size, max;
        int want;
    } cases[] = {
        {0, 10, 0},             /* empty: "" and non-NULL */
        {200000, 0, 0},         /* several reads */
        {100, 100, 0},          /* exactly the ceiling */
        {101, 100, EFBIG},      /* one past it */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b = BUF_INIT(cases[i].max);
        char *path = temp_file(cases[i].size);
        int rc = buf_read_file(&b, path);
        cr_assert_eq(rc, cases[i].want, "case %zu: got %d want %d", i, rc, cases[i].want);
        if (rc == 0) {
            cr_assert_not_null(b.data, "case %zu: data never NULL", i);
            cr_assert_eq(b.len, cases[i].size, "case %zu: got %zu bytes", i, b.len);
            cr_assert_eq(b.data[b.len], '\0');
        }
        buf_free(&b);
        temp_remove(path);
    }
    struct buf b = BUF_INIT(0);
    cr_assert_eq(buf_read_file(&b, "/nonexistent/test_buf"), ENOENT);
    cr_assert_eq(buf_read_file(&b, "/tmp"), EISDIR, "a directory is refused, not read as empty");
    buf_free(&b);
}
