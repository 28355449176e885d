/* rss_check - peak memory of consent-rewrite on hostile inputs (SPEC §7:
 * at most 4x the message size; issue 9 item 6).
 *
 *   rss_check CONSENT-REWRITE SRCDIR [bench]
 *
 * Generates the two shapes of the issue at test size (a text/html part with
 * a tracked link and an open pixel in every paragraph; seven 8bit
 * text/plain parts with a tracked link per line), runs consent-rewrite on
 * each (and the second with --report json) as a child, reads the child's
 * peak RSS from wait4(), and checks it against 4x the input plus a fixed
 * base: the peak of the same run on a tiny message, plus 8 MiB for the
 * allocator's granularity. Prints one line per case; exits 1 on any
 * failure. Sanitizer builds inflate RSS by design: the make rule skips
 * them. With "bench" (make bench): the issue's own sizes (7 MB HTML, 44 MB
 * of seven parts), each with and without --report json; the ratios are
 * printed against the goal, never failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLACK_KB (8L * 1024)

static char dir[] = "/tmp/rss_check.XXXXXX";

static FILE *open_out(const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    return fopen(path, "w");
}

static void gen_html(FILE *f, long size)
{
    long n = 0;

    fputs("From: News <news@brand.example>\r\nTo: r@example.org\r\nSubject: html\r\n"
          "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
          "Content-Transfer-Encoding: 8bit\r\n\r\n<html><body>\r\n",
          f);
    for (long i = 0; n < size; i++)
        n += fprintf(f,
                     "<p>Paragraph %ld, read <a href=\"https://brand.us1.list-manage.com/"
                     "track/click?u=ab12&id=%08lx&e=cd34\">the article</a>.<img src=\"https:"
                     "//brand.us1.list-manage.com/track/open.php?u=ab12&id=%08lx&e=cd34\" "
                     "width=\"1\" height=\"1\"></p>\r\n",
                     i, i, i);
    fputs("</body></html>\r\n", f);
}

static void gen_parts(FILE *f, long size)
{
    fputs("From: News <news@brand.example>\r\nTo: r@example.org\r\nSubject: parts\r\n"
          "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"hb\"\r\n\r\n",
          f);
    for (int k = 0; k < 7; k++) {
        long n = 0;

        fputs("--hb\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: 8bit\r\n\r\n",
              f);
        for (long i = 0; n < size / 7; i++)
            n += fprintf(f,
                         "Line %ld of part %d: https://brand.us1.list-manage.com/track/"
                         "click?u=ab12&id=%08lx&e=cd34 read it\r\n",
                         i, k, i);
    }
    fputs("--hb--\r\n", f);
}

/* Peak RSS (KiB) of one consent-rewrite run, -1 if it did not exit 0. */
static long run(const char *bin, const char *conf, const char *keys, const char *eml,
                int report)
{
    struct rusage ru;
    int st;
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 1);
        dup2(null, 2);
        execl(bin, bin, "-c", conf, "--keys", keys, "--now", "1790000000", "--from",
              "news@brand.example", "--rcpt", "r@example.org", "--consent", "none",
              report ? "--report" : eml, report ? "json" : NULL, report ? eml : NULL,
              (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
        return -1;
    return ru.ru_maxrss;
}

static int copy_keys(const char *src, char *dst, size_t n)
{
    char buf[4096];
    size_t k;
    FILE *in = fopen(src, "r"), *out;

    snprintf(dst, n, "%s/keys", dir);
    out = fopen(dst, "w");
    if (in == NULL || out == NULL)
        return -1;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, k, out);
    fclose(in);
    fclose(out);
    return chmod(dst, 0600);
}

struct tcase {
    const char *name;
    void (*gen)(FILE *, long);
    long size;
    int report;
};

int main(int argc, char **argv)
{
    static const struct tcase tests[] = {
        {"html, link+pixel per paragraph", gen_html, 6L << 20, 0},
        {"seven text parts", gen_parts, 12L << 20, 0},
        {"seven text parts, --report json", gen_parts, 8L << 20, 1},
    };
    static const struct tcase bench[] = {
        {"7 MB html, link+pixel per paragraph", gen_html, 7L << 20, 0},
        {"7 MB html, link+pixel per paragraph, --report json", gen_html, 7L << 20, 1},
        {"44 MB, seven text parts", gen_parts, 44L << 20, 0},
        {"44 MB, seven text parts, --report json", gen_parts, 44L << 20, 1},
    };
    int is_bench = argc == 4 && strcmp(argv[3], "bench") == 0;
    const struct tcase *cases = is_bench ? bench : tests;
    size_t ncases = is_bench ? sizeof bench / sizeof bench[0] : sizeof tests / sizeof tests[0];
    char conf[4096], keys[4096], eml[4096];
    long base, peak;
    int failed = 0;
    struct stat sb;
    FILE *f;

    if ((argc != 3 && !is_bench) || mkdtemp(dir) == NULL) {
        fprintf(stderr, "usage: rss_check CONSENT-REWRITE SRCDIR [bench]\n");
        return 2;
    }
    snprintf(conf, sizeof conf, "%s/tests/fixtures/test.conf", argv[2]);
    snprintf(eml, sizeof eml, "%s/tests/fixtures/test.keys", argv[2]);
    if (copy_keys(eml, keys, sizeof keys) != 0 || (f = open_out("tiny.eml", eml, sizeof eml)) == NULL)
        return 2;
    fputs("From: a@brand.example\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n", f);
    fclose(f);
    if ((base = run(argv[1], conf, keys, eml, 1)) < 0) {
        fprintf(stderr, "rss_check: consent-rewrite fails on a tiny message\n");
        return 2;
    }
    for (size_t i = 0; i < ncases; i++) {
        const struct tcase *c = &cases[i];

        if ((f = open_out("big.eml", eml, sizeof eml)) == NULL)
            return 2;
        c->gen(f, c->size);
        fclose(f);
        stat(eml, &sb);
        peak = run(argv[1], conf, keys, eml, c->report);
        long limit = 4 * (long)(sb.st_size / 1024) + base + SLACK_KB;
        int ok = peak >= 0 && peak <= limit;
        if (is_bench) {
            printf("bench-memory: %s: peak RSS %.1f MB, %.2fx the input (%.2fx over the "
                   "%.1f MB base; goal <= 4)\n",
                   c->name, peak / 1024.0, (double)peak * 1024 / (double)sb.st_size,
                   (double)(peak - base) * 1024 / (double)sb.st_size, base / 1024.0);
            unlink(eml);
            continue;
        }
        printf("%s rss %s: %.1f MB input, peak %ld KB (%.2fx the input over a %ld KB "
               "base), limit %ld KB\n",
               ok ? "ok  " : "FAIL", c->name, sb.st_size / 1048576.0, peak,
               (double)(peak - base) * 1024 / (double)sb.st_size, base, limit);
        failed += !ok;
        unlink(eml);
    }
    snprintf(eml, sizeof eml, "%s/tiny.eml", dir);
    unlink(eml);
    unlink(keys);
    rmdir(dir);
    return failed && !is_bench ? 1 : 0;
}
