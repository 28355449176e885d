/* Unit tests for common/buf: growth, ceiling, steal. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

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
