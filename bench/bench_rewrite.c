/* bench_rewrite - SPEC §7 speed bar for the rewriter, measured in one run:
 * N full rw_rewrite calls on the reference newsletter (no-consent policy:
 * pixels stripped, wrappers unwrapped, personal parameters cleaned, footer
 * added) against N bare libxml2 SAX parses of the same decoded HTML.
 * Prints both times and the ratio (goal <= 1.5). No assertion: timing is
 * for humans and CI logs.
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

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int decide(void *ctx, const struct rw_finding *f, enum rw_action *act, struct buf *repl)
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
        rc = p->cte == RW_CTE_QP ? rw_qp_decode(msg + p->body.off, p->body.end - p->body.off, html)
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

/* Where the time goes: the engine's stages timed on their own. */
static void breakdown(const struct rw_rules *rules, const char *msg, size_t len,
                      const struct buf *html, int n, double t_sax)
{
    struct rw_limits lim;
    struct rw_mime m;
    struct rw_sites s;
    char err[256];
    double t0, t_mime, t_scan, t_cls;
    int i;

    rw_limits_default(&lim);
    t0 = now();
    for (i = 0; i < n; i++) {
        rw_mime_parse(msg, len, &lim, &m, err, sizeof err);
        rw_mime_free(&m);
    }
    t_mime = now() - t0;
    memset(&s, 0, sizeof s);
    t0 = now();
    for (i = 0; i < n; i++) {
        rw_sites_free(&s);
        memset(&s, 0, sizeof s);
        rw_html_scan(html->data, html->len, &lim, &s, err, sizeof err);
    }
    t_scan = now() - t0;
    t0 = now();
    for (i = 0; i < n; i++)
        for (size_t j = 0; j < s.n; j++) {
            struct rw_class c;
            memset(&c, 0, sizeof c);
            rw_classify(rules, &lim, &s.v[j], "reader@example.org", 1, &c);
            rw_class_clear(&c);
        }
    t_cls = now() - t0;
    printf("bench-rewrite: stages, x SAX: MIME parse %.2f, HTML scan %.2f, classify %zu sites "
           "%.2f\n",
           t_mime / t_sax, t_scan / t_sax, s.n, t_cls / t_sax);
    rw_sites_free(&s);
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

int main(int argc, char **argv)
{
    struct rw_rules *rules = NULL;
    struct rw_request req;
    struct rw_report rep;
    struct buf out = BUF_INIT(0), html = BUF_INIT(0);
    gchar *msg = NULL;
    gsize len = 0;
    int n = argc > 3 ? atoi(argv[3]) : 300, i;
    double t0, t_rw, t_sax;
    unsigned long elements = 0;

    if (argc < 3 || n <= 0) {
        fprintf(stderr, "usage: bench-rewrite RULES MESSAGE [N]\n");
        return 1;
    }
    rw_init();
    if (load(argv[1], argv[2], &rules, &msg, &len) != 0 || html_of(msg, len, &html) != RW_OK)
        return 1;
    memset(&req, 0, sizeof req);
    req.rules = rules;
    req.decide = decide;
    req.recipient = "reader@example.org";
    req.footer_html_untracked = "<p>No tracking. <a href=\"https://gate.test/p/x\">Preferences</a></p>\n";
    req.footer_text_untracked = "\n--\nNo tracking. Preferences: https://gate.test/p/x\n";
    for (int warm = 0; warm < 2; warm++) { /* warm caches, check it works */
        if (rw_rewrite(&req, msg, len, &out, &rep) != RW_OK) {
            fprintf(stderr, "bench-rewrite: rewrite failed: %s\n", rep.error);
            return 1;
        }
        if (warm == 0)
            printf("bench-rewrite: %zu bytes, %zu items, pixels stripped %u, links unwrapped %u\n",
                   len, rep.nitems, rep.acted[RW_T_PIXEL][RW_A_STRIP],
                   rep.acted[RW_T_LINK][RW_A_UNWRAP]);
        rw_report_free(&rep);
        sax_parse(&html);
    }
    t0 = now();
    for (i = 0; i < n; i++) {
        rw_rewrite(&req, msg, len, &out, &rep);
        rw_report_free(&rep);
    }
    t_rw = now() - t0;
    t0 = now();
    for (i = 0; i < n; i++)
        elements += sax_parse(&html);
    t_sax = now() - t0;
    printf("bench-rewrite: %d iterations: rw_rewrite %.1f us/msg, libxml2 SAX %.1f us/msg "
           "(%lu elements)\n",
           n, t_rw / n * 1e6, t_sax / n * 1e6, elements / (unsigned long)n);
    printf("bench-rewrite: ratio rewrite/SAX = %.2f (goal <= 1.5)\n", t_rw / t_sax);
    breakdown(rules, msg, len, &html, n, t_sax);
    buf_free(&out);
    buf_free(&html);
    g_free(msg);
    rw_rules_free(rules);
    return 0;
}
