/* Unit tests for rewriter/patch.c: byte patches and context escaping. */
#include <criterion/criterion.h>
#include <string.h>

#include "rewriter/html_int.h"

Test(patch, apply)
{
    const char *src = "<a href=\"OLD\">x</a></body>";
    struct rw_patch p[] = {{9, 3, "NEW-URL", 7}, {19, 0, "<p>footer</p>", 13}};
    struct buf out = BUF_INIT(0);

    cr_assert_eq(rw_patch_apply(src, strlen(src), p, 2, &out), RW_OK);
    cr_assert_str_eq(buf_cstr(&out), "<a href=\"NEW-URL\">x</a><p>footer</p></body>");
    buf_reset(&out);
    cr_assert_eq(rw_patch_apply(src, strlen(src), NULL, 0, &out), RW_OK);
    cr_assert_str_eq(buf_cstr(&out), src);
    buf_reset(&out);
    /* insertion at the very end and at the start */
    struct rw_patch q[] = {{0, 0, "A", 1}, {strlen(src), 0, "Z", 1}};
    cr_assert_eq(rw_patch_apply(src, strlen(src), q, 2, &out), RW_OK);
    cr_assert_eq(out.len, strlen(src) + 2);
    cr_assert(out.data[0] == 'A' && out.data[out.len - 1] == 'Z');
    buf_free(&out);
}

Test(patch, rejects_bad_patches)
{
    const char *src = "0123456789";
    struct buf out = BUF_INIT(0);
    struct rw_patch overlap[] = {{2, 4, "x", 1}, {5, 1, "y", 1}};
    struct rw_patch unsorted[] = {{6, 1, "x", 1}, {2, 1, "y", 1}};
    struct rw_patch outside[] = {{8, 5, "x", 1}};

    cr_assert_eq(rw_patch_apply(src, 10, overlap, 2, &out), RW_EINVAL);
    cr_assert_eq(rw_patch_apply(src, 10, unsorted, 2, &out), RW_EINVAL);
    cr_assert_eq(rw_patch_apply(src, 10, outside, 1, &out), RW_EINVAL);
    cr_assert_eq(out.len, 0);
    buf_free(&out);
}

Test(patch, ceiling_is_a_limit)
{
    struct buf out = BUF_INIT(12);
    struct rw_patch p[] = {{0, 1, "LONGER-THAN-TWELVE", 18}};

    cr_assert_eq(rw_patch_apply("abc", 3, p, 1, &out), RW_ELIMIT);
    buf_free(&out);
}

struct ecase {
    enum rw_esc esc;
    enum rw_quote q;
    const char *url;
    const char *want;
};

Test(patch, escape)
{
    static const struct ecase t[] = {
        {RW_ESC_NONE, RW_Q_NONE, "http://x/?a=1&b=\"2\"", "http://x/?a=1&b=\"2\""},
        {RW_ESC_ATTR, RW_Q_DOUBLE, "http://x/?a=1&b=\"2'<>", "http://x/?a=1&amp;b=&quot;2'&lt;&gt;"},
        {RW_ESC_ATTR, RW_Q_SINGLE, "http://x/?b=\"2'", "http://x/?b=\"2&#39;"},
        {RW_ESC_ATTR, RW_Q_NONE, "http://x/a b>c\"'", "http://x/a%20b&gt;c&quot;&#39;"},
        {RW_ESC_CSS, RW_Q_NONE, "http://x/a(1) 'q\"\\", "http://x/a%281%29%20%27q%22%5C"},
        {RW_ESC_CSS, RW_Q_DOUBLE, "http://x/a(1)'\"", "http://x/a(1)'%22"},
        {RW_ESC_CSS, RW_Q_SINGLE, "http://x/a(1)'\"", "http://x/a(1)%27\""},
        {RW_ESC_CSS_ATTR, RW_Q_NONE, "http://x/?a=1&b=(2)", "http://x/?a=1&amp;b=%282%29"},
        {RW_ESC_CSS_ATTR, RW_Q_SINGLE, "http://x/\"&'", "http://x/&quot;&amp;%27"},
        {RW_ESC_ATTR, RW_Q_DOUBLE, "data:image/gif;base64,R0lG+/==", "data:image/gif;base64,R0lG+/=="},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct rw_site s;
        struct buf out = BUF_INIT(0);
        rw_site_init(&s, RW_P_IMG);
        s.esc = t[i].esc;
        s.quote = t[i].q;
        cr_assert_eq(rw_site_escape(&s, t[i].url, &out), RW_OK);
        cr_assert_str_eq(buf_cstr(&out), t[i].want, "case %zu: got [%s] want [%s]", i,
                         buf_cstr(&out), t[i].want);
        buf_free(&out);
    }
}

Test(patch, sites_free_accepts_empty_and_resets)
{
    struct rw_sites s;
    struct rw_site one;

    memset(&s, 0, sizeof(s));
    rw_sites_free(&s);
    rw_sites_free(NULL);
    rw_site_init(&one, RW_P_A);
    one.url = strdup("http://x/");
    one.text = strdup("t");
    cr_assert_eq(rw_sites_add(&s, &one), RW_OK);
    cr_assert_eq(s.n, 1);
    rw_sites_free(&s);
    cr_assert_eq(s.n, 0);
    cr_assert_null(s.v);
    cr_assert_eq(s.body_close, -1);
}
