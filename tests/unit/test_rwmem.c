/* test_rwmem - the engine's memory contract (SPEC §7, issue 9 item 6):
 * the working-memory ceiling is an error past it, report items are kept,
 * streamed or dropped as asked, and the output is the same either way. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "rewriter/rw_engine.h"

static const char RULES[] = "format 1\nversion test-1\n"
                            "pixel mailchimp-open *.list-manage.com /track/open.php*\n";
#define PIXEL "https://brand.us1.list-manage.com/track/open.php?u=abc&id=def&e=123"
static const char MSG[] = "From: a@brand.example\nMIME-Version: 1.0\n"
                          "Content-Type: multipart/alternative; boundary=\"BB\"\n\n"
                          "--BB\nContent-Type: text/plain\n\nsee https://example.com/a\n"
                          "--BB\nContent-Type: text/html\n\n<p><a href=\"https://example.com/a\">a"
                          "</a><img src=\"" PIXEL "\" width=1 height=1></p>\n--BB--\n";

static struct rw_rules *rules;
static struct rw_request req;
static struct rw_report rep;
static struct buf out;
static unsigned streamed;

static int strip(void *ctx, const struct rw_finding *f, enum rw_action *act, struct buf *r)
{
    (void)ctx;
    (void)r;
    *act = f->type == RW_T_PIXEL ? RW_A_STRIP : RW_A_KEEP;
    return 0;
}

static int on_item(void *ctx, const struct rw_item *it)
{
    (void)ctx;
    cr_assert_not_null(it->url);
    streamed++;
    return 0;
}

static void setup(void)
{
    char err[200] = "";

    rw_init();
    cr_assert_eq(rw_rules_parse(RULES, strlen(RULES), &rules, err, sizeof err), RW_OK, "%s",
                 err);
    memset(&req, 0, sizeof req);
    req.rules = rules;
    req.decide = strip;
    buf_init(&out, 0);
    streamed = 0;
}

static void teardown(void)
{
    rw_report_free(&rep);
    buf_free(&out);
    rw_rules_free(rules);
}

TestSuite(rwmem, .init = setup, .fini = teardown);

Test(rwmem, ceiling_is_a_clear_limit)
{
    req.max_memory = 64; /* less than the sites of this message */
    cr_assert_eq(rw_rewrite(&req, MSG, strlen(MSG), &out, &rep), RW_ELIMIT);
    cr_assert(strstr(rep.error, "working memory") != NULL, "error: %s", rep.error);
    rw_report_free(&rep);
    req.max_memory = 0; /* default: 3x the message + 8 MiB */
    cr_assert_eq(rw_rewrite(&req, MSG, strlen(MSG), &out, &rep), RW_OK, "%s", rep.error);
    cr_assert(strstr(out.data, PIXEL) == NULL, "pixel stripped");
}

Test(rwmem, items_kept_streamed_or_dropped_same_output)
{
    char *kept;

    cr_assert_eq(rw_rewrite(&req, MSG, strlen(MSG), &out, &rep), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.nitems, 3, "kept: %zu items", rep.nitems);
    kept = g_strdup(out.data);
    rw_report_free(&rep);

    req.items = RW_ITEMS_STREAM;
    req.item = on_item;
    cr_assert_eq(rw_rewrite(&req, MSG, strlen(MSG), &out, &rep), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.nitems, 0, "streamed: none kept");
    cr_assert_eq(streamed, 3, "streamed: %u items", streamed);
    cr_assert_str_eq(out.data, kept);
    cr_assert_eq(rep.found[RW_T_PIXEL], 1);
    rw_report_free(&rep);

    req.items = RW_ITEMS_NONE;
    cr_assert_eq(rw_rewrite(&req, MSG, strlen(MSG), &out, &rep), RW_OK, "%s", rep.error);
    cr_assert_eq(rep.nitems, 0, "none: none kept");
    cr_assert_eq(rep.acted[RW_T_PIXEL][RW_A_STRIP], 1, "none: counts still there");
    cr_assert_str_eq(out.data, kept);
    g_free(kept);
}
