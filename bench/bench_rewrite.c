/* bench_rewrite - SPEC §7 speed bar for the rewriter, measured in one run:
 * N full rw_rewrite calls on the reference newsletter (no-consent policy:
 * pixels stripped, wrappers unwrapped, personal parameters cleaned, footer
 * added) against N bare libxml2 SAX parses of the same decoded HTML.
 * Prints both times and the ratio (the SPEC §7 goal, <= 1.25, is on
 * instructions: make bench-rewrite counts them). No assertion: timing is
 * for humans and CI logs.
 *
 * Each figure is the fastest of 10 rounds of N calls (default 30), and the
 * stages of the engine are timed alone too, so the report says where the
 * time goes.
 *
 * With BENCH_ONLY=rewrite|sax|mime|scan|classify in the environment it
 * only runs that stage N times, untimed, for an instruction counter
 * (make bench-rewrite runs it under valgrind --tool=callgrind).
 *
 * usage: bench-rewrite RULES MESSAGE [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <libxml/HTMLparser.h>

#include "rewriter/rw_engine.h"

static double now(void)
{
    struct timespec ts;

    /* CPU time of this thread: other processes on a busy machine do not
     * count against either side. */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int decide(void *ctx, const struct rw_finding *f, enum rw_action *act,
                  struct buf *repl)
{
    (void)ctx;
    (void)repl;
    *act = f->type == RW_T_PIXEL   ? RW_A_STRIP
           : f->type == RW_T_LINK  ? RW_A_UNWRAP
           : f->type == RW_T_PLAIN ? RW_A_CLEAN
                                   : RW_A_KEEP;
    return 0;
}

/* The decoded HTML part of the message (the SAX side parses the same). */
static int html_of(const char *msg, size_t len, struct buf *html)
{
    struct rw_limits lim;
    struct rw_mime m;
    char err[256];
    int rc = RW_EINVAL;

    rw_limits_default(&lim);
    if (rw_mime_parse(msg, len, &lim, &m, err, sizeof err) != RW_OK)
        return RW_EPARSE;
    for (size_t i = 0; i < m.nparts; i++) {
        const struct rw_part *p = &m.parts[i];
        if (!p->is_html)
            continue;
        rc = p->cte == RW_CTE_QP
                 ? rw_qp_decode(msg + p->body.off, p->body.end - p->body.off, html)
                 : buf_append(html, msg + p->body.off, p->body.end - p->body.off);
        break;
    }
    rw_mime_free(&m);
    return rc;
}

static void sax_start(void *ctx, const xmlChar *name, const xmlChar **attrs)
{
    (void)name;
    (void)attrs;
    ++*(unsigned long *)ctx;
}

static void sax_chars(void *ctx, const xmlChar *ch, int len)
{
    (void)ctx;
    (void)ch;
    (void)len;
}

static unsigned long sax_parse(const struct buf *html)
{
    htmlSAXHandler sax;
    htmlParserCtxtPtr ctx;
    unsigned long elements = 0;

    memset(&sax, 0, sizeof sax);
    sax.startElement = sax_start;
    sax.characters = sax_chars;
    ctx = htmlCreateMemoryParserCtxt(html->data, (int)html->len);
    if (ctx == NULL)
        return 0;
    xmlFree(ctx->sax);
    ctx->sax = g_memdup2(&sax, sizeof sax);
    ctx->userData = &elements;
    htmlCtxtUseOptions(ctx, HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    htmlParseDocument(ctx);
    if (ctx->myDoc)
        xmlFreeDoc(ctx->myDoc);
    g_free(ctx->sax);
    ctx->sax = NULL;
    htmlFreeParserCtxt(ctx);
    return elements;
}

/* The work measured, one call = one message. */
struct job {
    const struct rw_request *req;
    const struct rw_rules *rules;
    const char *msg;
    size_t len;
    const struct buf *html;
    struct rw_limits lim;
    struct rw_sites sites; /* for classify: the sites of the HTML part */
    struct buf out;
    unsigned long elements;
};

typedef void (*job_fn)(struct job *j);

static void job_rewrite(struct job *j)
{
    struct rw_report rep;

    rw_rewrite(j->req, j->msg, j->len, &j->out, &rep);
    rw_report_free(&rep);
}

static void job_sax(struct job *j)
{
    j->elements = sax_parse(j->html);
}

static void job_mime(struct job *j)
{
    struct rw_mime m;
    char err[256];

    rw_mime_parse(j->msg, j->len, &j->lim, &m, err, sizeof err);
    rw_mime_free(&m);
}

static void job_scan(struct job *j)
{
    struct rw_sites s;
    char err[256];

    memset(&s, 0, sizeof s);
    rw_html_scan(j->html->data, j->html->len, &j->lim, &s, err, sizeof err);
    rw_sites_free(&s);
}

static void job_classify(struct job *j)
{
    for (size_t k = 0; k < j->sites.n; k++) {
        struct rw_class c;
        memset(&c, 0, sizeof c);
        rw_classify(j->rules, &j->lim, &j->sites.v[k], "reader@example.org", 1, &c);
        rw_class_clear(&c);
    }
}

/* Seconds per call: the fastest of 10 rounds of n calls, so that a busy
 * machine (other jobs, CI neighbours) disturbs the figures least. */
static double best_of(job_fn fn, struct job *j, int n)
{
    double best = 0, t0, t;

    for (int round = 0; round < 10; round++) {
        t0 = now();
        for (int i = 0; i < n; i++)
            fn(j);
        t = (now() - t0) / n;
        best = round == 0 || t < best ? t : best;
    }
    return best;
}

static int load(const char *rules_path, const char *msg_path, struct rw_rules **rules,
                gchar **msg, gsize *len)
{
    gchar *text;
    gsize tlen;
    char err[256];

    if (!g_file_get_contents(rules_path, &text, &tlen, NULL) ||
        rw_rules_parse(text, tlen, rules, err, sizeof err) != RW_OK) {
        fprintf(stderr, "bench-rewrite: cannot load rules %s\n", rules_path);
        return 1;
    }
    g_free(text);
    if (!g_file_get_contents(msg_path, msg, len, NULL)) {
        fprintf(stderr, "bench-rewrite: cannot read %s\n", msg_path);
        return 1;
    }
    return 0;
}

/* BENCH_ONLY=NAME: run only that stage n times, untimed, for an
 * instruction counter (valgrind --tool=callgrind --toggle-collect=job_NAME);
 * instruction counts do not depend on the machine's load. */
static int run_only(struct job *j, int n, const char *name)
{
    static const struct {
        const char *name;
        job_fn fn;
    } jobs[] = {{"rewrite", job_rewrite}, {"sax", job_sax},         {"mime", job_mime},
                {"scan", job_scan},       {"classify", job_classify}};

    for (size_t k = 0; k < sizeof jobs / sizeof jobs[0]; k++) {
        if (strcmp(name, jobs[k].name) != 0)
            continue;
        for (int i = 0; i < n; i++)
            jobs[k].fn(j);
        return 0;
    }
    fprintf(stderr, "bench-rewrite: BENCH_ONLY: unknown stage %s\n", name);
    return 1;
}

static void measure(struct job *j, int n)
{
    double t_rw, t_sax, t_mime, t_scan, t_cls;

    t_rw = best_of(job_rewrite, j, n);
    t_sax = best_of(job_sax, j, n);
    t_mime = best_of(job_mime, j, n);
    t_scan = best_of(job_scan, j, n);
    t_cls = best_of(job_classify, j, n);
    printf("bench-rewrite: best of 10 rounds of %d: rw_rewrite %.1f us/msg, libxml2 SAX "
           "%.1f "
           "us/msg (%lu elements)\n",
           n, t_rw * 1e6, t_sax * 1e6, j->elements);
    printf("bench-rewrite: ratio rewrite/SAX = %.2f (wall clock; the goal, <= 1.25, is on "
           "instructions)\n",
           t_rw / t_sax);
    printf("bench-rewrite: stages, x SAX: MIME parse %.2f, HTML scan %.2f, classify %zu "
           "sites "
           "%.2f, rest of the engine %.2f\n",
           t_mime / t_sax, t_scan / t_sax, j->sites.n, t_cls / t_sax,
           (t_rw - t_mime - t_scan - t_cls) / t_sax);
}

int main(int argc, char **argv)
{
    struct rw_rules *rules = NULL;
    struct rw_request req;
    struct rw_report rep;
    struct buf html = BUF_INIT(0);
    struct job j;
    gchar *msg = NULL;
    gsize len = 0;
    int n = argc > 3 ? atoi(argv[3]) : 30, rc = 0;
    char err[256];

    if (argc < 3 || n <= 0) {
        fprintf(stderr, "usage: bench-rewrite RULES MESSAGE [N per round]\n");
        return 1;
    }
    rw_init();
    if (load(argv[1], argv[2], &rules, &msg, &len) != 0 ||
        html_of(msg, len, &html) != RW_OK)
        return 1;
    memset(&req, 0, sizeof req);
    req.rules = rules;
    req.decide = decide;
    req.recipient = "reader@example.org";
    req.footer_html_untracked =
        "<p>No tracking. <a href=\"https://gate.test/p/x\">Preferences</a></p>\n";
    req.footer_text_untracked = "\n--\nNo tracking. Preferences: https://gate.test/p/x\n";
    memset(&j, 0, sizeof j);
    j = (struct job){.req = &req, .rules = rules, .msg = msg, .len = len, .html = &html};
    rw_limits_default(&j.lim);
    buf_init(&j.out, 0);
    if (rw_rewrite(&req, msg, len, &j.out, &rep) != RW_OK ||
        rw_html_scan(html.data, html.len, &j.lim, &j.sites, err, sizeof err) != RW_OK) {
        fprintf(stderr, "bench-rewrite: rewrite failed: %s\n", rep.error);
        return 1;
    }
    printf(
        "bench-rewrite: %zu bytes, %zu items, pixels stripped %u, links unwrapped %u\n",
        len, rep.nitems, rep.acted[RW_T_PIXEL][RW_A_STRIP],
        rep.acted[RW_T_LINK][RW_A_UNWRAP]);
    rw_report_free(&rep);
    if (getenv("BENCH_ONLY") != NULL)
        rc = run_only(&j, n, getenv("BENCH_ONLY"));
    else
        measure(&j, n);
    rw_sites_free(&j.sites);
    buf_free(&j.out);
    buf_free(&html);
    g_free(msg);
    rw_rules_free(rules);
    return rc;
}
