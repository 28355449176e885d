/* Unit tests for common/prom: counters with labels, histogram buckets,
 * label escaping, threaded increments, the atomic textfile. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/prom.h"

static const char *const dec[] = {"pass", "strip"};
static const char *const cls[] = {"marketing", "trans\"act\\ional\n"};

Test(prom, labelled_counter_renders_every_series_escaped)
{
    unsigned long long v[4] = {0};
    struct prom_counter c = {"x_total", "Help \\ text", 2, {"decision", "class"},
                             {dec, cls}, {2, 2}, v};
    struct buf b = BUF_INIT(0);
    prom_add(&c, 1, 0, 2);
    prom_add(&c, 1, 1, 1);
    prom_add(&c, 2, 0, 5); /* out of range: ignored */
    cr_assert_eq(prom_get(&c, 1, 0), 2);
    cr_assert_eq(prom_write_counter(&b, &c), 0);
    cr_assert_str_eq(buf_cstr(&b),
                     "# HELP x_total Help \\\\ text\n# TYPE x_total counter\n"
                     "x_total{decision=\"pass\",class=\"marketing\"} 0\n"
                     "x_total{decision=\"pass\",class=\"trans\\\"act\\\\ional\\n\"} 0\n"
                     "x_total{decision=\"strip\",class=\"marketing\"} 2\n"
                     "x_total{decision=\"strip\",class=\"trans\\\"act\\\\ional\\n\"} 1\n");
    buf_free(&b);
}

Test(prom, plain_counter_and_gauge)
{
    unsigned long long v[1] = {0};
    struct prom_counter c = {"y_total", "Y.", 0, {0}, {0}, {0}, v};
    struct buf b = BUF_INIT(0);
    prom_add(&c, 0, 0, 3);
    cr_assert_eq(prom_write_counter(&b, &c), 0);
    cr_assert_eq(prom_write_gauge(&b, "g", "G.", 1.5), 0);
    cr_assert_str_eq(buf_cstr(&b), "# HELP y_total Y.\n# TYPE y_total counter\ny_total 3\n"
                                   "# HELP g G.\n# TYPE g gauge\ng 1.5\n");
    buf_free(&b);
}

Test(prom, histogram_is_cumulative_with_inf_sum_count)
{
    struct prom_hist h = {"t_seconds", "T.", 2, {1000, 100000}, {0}, 0};
    struct buf b = BUF_INIT(0);
    prom_observe(&h, 500);     /* <= 0.001 */
    prom_observe(&h, 1000);    /* <= 0.001 (le is inclusive) */
    prom_observe(&h, 50000);   /* <= 0.1 */
    prom_observe(&h, 2000000); /* +Inf */
    cr_assert_eq(prom_write_hist(&b, &h), 0);
    cr_assert_str_eq(buf_cstr(&b), "# HELP t_seconds T.\n# TYPE t_seconds histogram\n"
                                   "t_seconds_bucket{le=\"0.001\"} 2\n"
                                   "t_seconds_bucket{le=\"0.1\"} 3\n"
                                   "t_seconds_bucket{le=\"+Inf\"} 4\n"
                                   "t_seconds_sum 2.051500\nt_seconds_count 4\n");
    buf_free(&b);
}

static unsigned long long tv[1];
static struct prom_counter tc = {"z_total", "Z.", 0, {0}, {0}, {0}, tv};
static struct prom_hist th = {"h_seconds", "H.", 1, {10}, {0}, 0};

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        prom_add(&tc, 0, 0, 1);
        prom_observe(&th, (uint64_t)(i % 20));
    }
    return NULL;
}

Test(prom, increments_from_threads_are_not_lost)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(prom_get(&tc, 0, 0), 400000);
    cr_assert_eq(th.bucket[0] + th.bucket[1], 400000);
    cr_assert_eq(th.bucket[0], 4 * 55000); /* 0..10 of each 20 */
}

Test(prom, textfile_replaces_atomically_and_reports_errors)
{
    char dir[] = "/tmp/promtestXXXXXX";
    char path[256], got[64] = {0};
    struct stat st;
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.prom", dir);
    cr_assert_eq(prom_textfile_write(path, "a 1\n", 4), 0);
    cr_assert_eq(prom_textfile_write(path, "b 2\n", 4), 0);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fread(got, 1, sizeof got - 1, f), 4);
    fclose(f);
    cr_assert_str_eq(got, "b 2\n");
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);
    snprintf(path, sizeof path, "%s/nodir/m.prom", dir);
    cr_assert_neq(prom_textfile_write(path, "x", 1), 0);
    snprintf(path, sizeof path, "%s/m.prom", dir);
    unlink(path);
    cr_assert_eq(rmdir(dir), 0); /* no temporary file left behind */
}
