/* fuzz_rewrite - libFuzzer harness on rw_rewrite.
 *
 * The first input byte picks a policy (keep, strip/unwrap, gate/
 * interstitial with a replacement URL, dry run) and whether footers (one
 * of them non-Latin-1, to force charset switches) are set; the rest is the
 * message. Rules come from $CM_RULES (default conf/trackers.rules). Every
 * call must end in RW_OK or a clean error; on RW_OK with nothing changed
 * the output must equal the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "rewriter/rewriter.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rw_rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("CM_RULES");
    gchar *text = NULL;
    gsize len = 0;
    char err[256];

    (void)argc;
    (void)argv;
    rw_init();
    if (!g_file_get_contents(path ? path : "conf/trackers.rules", &text, &len, NULL) ||
        rw_rules_parse(text, len, &rules, err, sizeof err) != RW_OK) {
        fprintf(stderr, "fuzz_rewrite: cannot load rules (set CM_RULES)\n");
        abort();
    }
    g_free(text);
    return 0;
}

static int decide(void *ctx, const struct rw_finding *f, enum rw_action *act,
                  struct buf *repl)
{
    unsigned mode = *(const unsigned *)ctx;

    switch (mode % 3) {
    case 0:
        *act = RW_A_KEEP;
        break;
    case 1:
        *act = f->type == RW_T_PIXEL  ? RW_A_STRIP
               : f->type == RW_T_LINK ? RW_A_UNWRAP
                                      : RW_A_CLEAN;
        break;
    default:
        *act = f->type == RW_T_OPAQUE ? RW_A_INTERSTITIAL : RW_A_GATE;
        buf_puts(repl, "https://gate.test/c/AAAA?x=1&y=\"2\"");
        break;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rw_request req;
    struct rw_report rep;
    struct buf out = BUF_INIT(0);
    unsigned mode;
    int rc;

    if (size < 1)
        return 0;
    mode = data[0];
    memset(&req, 0, sizeof req);
    req.rules = rules;
    req.decide = decide;
    req.decide_ctx = &mode;
    req.recipient = "someone@example.org";
    req.dry_run = (mode & 0x80) != 0;
    if (mode & 0x10) {
        req.footer_html =
            "<p>Stop \xe2\x80\x9ctracking\xe2\x80\x9d: <a href=\"x\">here</a></p>\n";
        req.footer_text = "\n--\nStop tracking: https://gate.test/w/x\n";
        req.footer_html_untracked = "<p>caf\xc3\xa9</p>";
        req.footer_text_untracked = "\n-- \nNo tracking\n";
    }
    rc = rw_rewrite(&req, (const char *)data + 1, size - 1, &out, &rep);
    if (rc == RW_OK && !rep.changed &&
        (out.len != size - 1 || (out.len && memcmp(out.data, data + 1, out.len) != 0)))
        abort(); /* "unchanged" output must be the input */
    if (rc == RW_OK && rep.body_offset > out.len)
        abort();
    rw_report_free(&rep);
    buf_free(&out);
    return 0;
}
