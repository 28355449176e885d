/* test_oom - the allocation policy of rewriter.h ("Memory"), tested: every
 * allocation our own code makes during one whole rewrite (policy callback,
 * token sealing, footers, the rewriter) is failed in turn, the Nth one on
 * the Nth run, and each run must end in RW_OK (the allocation had a
 * fallback) or RW_ENOMEM with no output, never a crash; under make
 * check-asan LeakSanitizer also checks that nothing leaks on the way out.
 *
 * The hook: this binary is linked with -Wl,--wrap for malloc, calloc,
 * realloc, strdup and strndup (tests/module.mk), which reroutes those calls
 * in the statically linked project libraries and in this file, but not
 * inside the shared libraries (GLib, GMime, libxml2, libsodium), whose
 * out-of-memory behaviour rewriter.h states separately. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/tok.h"
#include "policy/msginfo.h"
#include "policy/policy.h"
#include "policy/snap.h"
#include "rewriter/rewriter.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static unsigned long oom_calls, oom_fail_at; /* 0: never fail */
static int oom_failed;

static int oom_now(void)
{
    if (oom_fail_at == 0)
        return 0;
    if (++oom_calls != oom_fail_at)
        return 0;
    oom_failed = 1;
    return 1;
}

void *__wrap_malloc(size_t n)
{
    return oom_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m)
{
    return oom_now() ? NULL : __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n)
{
    return oom_now() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return oom_now() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
    return oom_now() ? NULL : __real_strndup(s, n);
}

static char *slurp(const char *rel, size_t *len)
{
    const char *src = getenv("CM_SRCDIR");
    char path[4096];
    struct buf b = BUF_INIT(1 << 24);

    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    cr_assert_eq(buf_read_file(&b, path), 0, "cannot read %s", path);
    return buf_steal(&b, len);
}

#define KEY "1 0001020304050607080910111213141516171819202122232425262728293031\n"

/* One rewrite of fixture rel for a recipient who granted `granted`, under
 * the fixtures' configuration; returns the rw_rewrite status (policy
 * failures count as RW_ENOMEM: the callback's seal or a footer ran out). */
static int rewrite_once(struct snap *s, const char *msg, size_t len, const char *from,
                        uint32_t granted, size_t *outlen)
{
    struct msginfo_hdr *h = NULL;
    struct msginfo info;
    struct policy_input in;
    struct policy pol;
    struct rw_request req;
    struct rw_report rep;
    struct buf out = BUF_INIT(0);
    size_t n = 0;
    int rc;

    *outlen = 0;
    if (msginfo_parse_headers(msg, len, 10000, &h, &n) != 0)
        return RW_ENOMEM; /* documented: -1 is out of memory or too many fields */
    msginfo_derive(s->cfg, h, n, from, &info);
    msginfo_headers_free(h, n);
    policy_input_build(&in, s, &info, "reader@example.org", granted, 1790000000);
    if (policy_prepare(&in, &pol, &req) != 0) {
        policy_free(&pol);
        return RW_ENOMEM;
    }
    rc = rw_rewrite(&req, msg, len, &out, &rep);
    if (rc == RW_ECALLBACK) /* the decide callback's token sealing ran out */
        rc = RW_ENOMEM;
    *outlen = out.len; /* must be 0 on error: no half-rewritten mail */
    rw_report_free(&rep);
    buf_free(&out);
    policy_free(&pol);
    return rc;
}

static void sweep(const char *fixture, const char *from, uint32_t granted)
{
    const char *src = getenv("CM_SRCDIR");
    char conf[4096], err[512] = "";
    struct tok_keys *k = NULL;
    size_t len, outlen, goodlen;
    char *msg = slurp(fixture, &len);
    unsigned long n, nomem = 0;

    rw_init();
    snprintf(conf, sizeof conf, "%s/tests/fixtures/test.conf", src ? src : ".");
    struct snap *s = snap_load(conf, SNAP_RULES | SNAP_NO_KEYS, NULL, err, sizeof err);
    cr_assert_not_null(s, "snap_load: %s", err);
    cr_assert_eq(tok_keys_parse(KEY, strlen(KEY), &k, err, sizeof err), TOK_OK, "%s", err);
    s->keys = k;

    cr_assert_eq(rewrite_once(s, msg, len, from, granted, &goodlen), RW_OK,
                 "%s: the rewrite fails with no allocation failed", fixture);
    for (n = 1;; n++) {
        oom_calls = 0;
        oom_failed = 0;
        oom_fail_at = n;
        int rc = rewrite_once(s, msg, len, from, granted, &outlen);
        oom_fail_at = 0;
        if (!oom_failed) { /* fewer than n allocations: the sweep is complete */
            cr_assert_eq(rc, RW_OK, "%s: unfailed run %lu gave %s", fixture, n,
                         rw_strerror(rc));
            break;
        }
        cr_assert(rc == RW_OK || rc == RW_ENOMEM,
                  "%s: allocation %lu failed, rewrite gave %s (want ok or out of memory)",
                  fixture, n, rw_strerror(rc));
        if (rc == RW_ENOMEM) {
            nomem++;
            cr_assert_eq(outlen, 0, "%s: allocation %lu failed and output was left", fixture,
                         n);
        } else {
            cr_assert_eq(outlen, goodlen, "%s: allocation %lu failed, output changed size",
                         fixture, n);
        }
        cr_assert_lt(n, 200000, "%s: more allocations than expected", fixture);
    }
    cr_assert_gt(n, 10, "%s: only %lu allocations seen: is the hook linked?", fixture, n);
    cr_assert_gt(nomem, 0, "%s: no failed allocation was reported as out of memory",
                 fixture);
    cr_log_info("%s: %lu allocations failed in turn, %lu reported ENOMEM", fixture, n - 1,
                nomem);
    snap_release(s);
    free(msg);
}

/* Consent: gated trackers (tokens sealed), the withdrawal footer, QP. */
Test(oom, qp_newsletter_with_consent)
{
    sweep("tests/fixtures/mailchimp-qp.eml", "news@brand.example", 3u /* opens,clicks */);
}

/* No consent: stripped pixels, unwrapped links, base64 re-encoded. */
Test(oom, base64_newsletter_without_consent)
{
    sweep("tests/fixtures/sendgrid-base64.eml", "digest@brand.example", 0);
}

/* Charset switch for a footer (Latin-1 to UTF-8), multipart. */
Test(oom, latin1_consent_footer)
{
    sweep("tests/fixtures/ses-latin1-consent.eml", "news@brand.example", 3u);
}
