/* fuzz_gate - libFuzzer harness on consent-gate's request handling: the
 * path, the query and the form or JSON body, through what http.c does once
 * libmicrohttpd has parsed a request (gate/route.c: gate_route,
 * gate_framing, gate_admit, gate_answer), with a real configuration, page
 * set, keys and a scratch LMDB store. No socket: the input is the request.
 *
 * Input: "METHOD TARGET [VERSION]" on the first line, then "Name: value" header
 * lines up to an empty line, then the body. As libmicrohttpd does, the
 * query is cut off the target (the gate reads none: it must not matter)
 * and the path is percent-decoded. So that the fuzzer reaches the handlers
 * behind the token check, "@o@" "@c@" "@C@" (opaque click) "@a@" "@d@"
 * "@w@" "@p@" in the target become valid tokens of that kind (made at
 * start-up with the test key), and "@csrf@" in the body becomes the CSRF
 * field of the page the target names.
 *
 * Every request must get exactly one answer with a status; the handlers'
 * response goes to MHD_queue_response, replaced here to check it. Request
 * headers come from gate_header, replaced here as in tests/unit
 * (test_gate_util.c), with gate_client_ip beside it (req.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"
#include "tests/fuzz/scratch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "5 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
#define MAXHDR 32

static struct gate g;
static struct snap snap;
static struct {
    char name;
    int kind;
    const char *dest;
    struct buf text;
} toks[] = {
    {'o', TOK_OPEN, NULL, BUF_INIT(0)},      {'c', TOK_CLICK, "https://brand.example/p", BUF_INIT(0)},
    {'C', TOK_CLICK, NULL, BUF_INIT(0)},     {'a', TOK_ANON, NULL, BUF_INIT(0)},
    {'d', TOK_DELIV, NULL, BUF_INIT(0)},     {'w', TOK_WITHDRAW, NULL, BUF_INIT(0)},
    {'p', TOK_PREFS, NULL, BUF_INIT(0)},
};
#define NTOKS (sizeof toks / sizeof toks[0])

/* The request being handled. */
static const char *hname[MAXHDR], *hval[MAXHDR];
static int nhdr, answers, verbose; /* verbose: $FUZZ_GATE_VERBOSE, for seeds */

const char *gate_header(const struct gate_req *r, const char *name)
{
    (void)r;
    for (int i = 0; i < nhdr; i++)
        if (strcasecmp(hname[i], name) == 0)
            return hval[i];
    return NULL;
}

void gate_client_ip(const struct gate_req *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", r->client_ip ? r->client_ip : "unknown");
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection,
                                   unsigned int status_code, struct MHD_Response *response)
{
    (void)connection;
    if (response == NULL || status_code < 200 || status_code > 599)
        abort();
    answers++;
    return MHD_YES;
}

static const char CONF[] =
    "[milter]\ndatabase = %s\n"
    "[gate]\nurl = https://consent.brand.example\nlanguage = en\n"
    "trusted_proxies = 127.0.0.1\n"
    "[domain brand.example]\ncontroller = brand\napi_key = fuzz-api-key\n"
    "store_source = yes\n"
    "[domain other.example]\ncontroller = other\nmode = never-track\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512], conf[1024];
    unsigned char dom[TOK_DOMAIN_ID];

    (void)argc;
    (void)argv;
    g.store = scratch_store("fuzz-gate");
    snprintf(conf, sizeof conf, CONF, scratch_dir);
    if ((snap.cfg = cfg_load_string(conf, "conf", err, sizeof err)) == NULL ||
        gate_tpl_set_load("conf/pages", (struct gate_tpl_set **)&snap.extra, err,
                          sizeof err) != 0 ||
        tok_keys_parse(KEY, strlen(KEY), &snap.keys, err, sizeof err) != TOK_OK) {
        fprintf(stderr, "fuzz_gate: set-up failed (run from the source tree): %s\n", err);
        abort();
    }
    snap.refs = 1;
    verbose = getenv("FUZZ_GATE_VERBOSE") != NULL;
    tok_domain_id("brand.example", dom);
    for (size_t i = 0; i < NTOKS; i++) {
        struct tok t = {0};
        t.kind = toks[i].kind;
        static char ctl[] = "brand", rcpt[] = "alice@example.org", camp[] = "campaign-7",
                    url[] = "https://tracker.example/x?u=1";
        t.controller = ctl;
        t.recipient = t.kind == TOK_ANON ? NULL : rcpt;
        t.url = t.kind == TOK_ANON ? camp : url;
        t.dest = (char *)(uintptr_t)toks[i].dest; /* tok_seal only reads it */
        t.has_domain = 1;
        memcpy(t.domain, dom, sizeof dom);
        if (tok_seal(snap.keys, &t, &toks[i].text) != TOK_OK)
            abort();
    }
    return 0;
}

/* s with "@X@" replaced by token X, "@csrf@" by the CSRF field of kind
 * csrf_kind (0: none), into out. */
static void expand(const char *s, size_t n, struct buf *out, const struct gate_req *r,
                   int csrf_kind)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '@' && i + 2 < n && s[i + 2] == '@') {
            size_t k;
            for (k = 0; k < NTOKS && toks[k].name != s[i + 1]; k++)
                ;
            if (k < NTOKS) {
                buf_append(out, toks[k].text.data, toks[k].text.len);
                i += 2;
                continue;
            }
        }
        if (csrf_kind && s[i] == '@' && n - i >= 6 && memcmp(s + i, "@csrf@", 6) == 0) {
            char mac[TOK_MAC_HEX];
            if (gate_csrf_make(r, csrf_kind, mac) == TOK_OK)
                buf_puts(out, mac);
            i += 5;
            continue;
        }
        buf_putc(out, s[i]);
    }
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* libmicrohttpd's unescaping of the path: %XX, in place. */
static void unescape(char *s)
{
    char *w = s;

    for (char *p = s; *p; p++) {
        if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *w++ = (char)(hexval(p[1]) << 4 | hexval(p[2]));
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *end = in + size, *nl, *sp, *arg, *refusal = NULL;
    char *copy = NULL, *hdrs = NULL, method[16];
    struct buf target = BUF_INIT(0), body = BUF_INIT(0);
    struct gate_req r = {0};
    int ncl = 0, nte = 0, csrf = 0;
    const char *te = NULL;
    unsigned st;
    size_t cap;

    if (size > 200000 || memchr(data, '\0', size) != NULL)
        return 0; /* libmicrohttpd hands over neither */
    nl = memchr(in, '\n', size);
    if (nl == NULL)
        nl = end;
    sp = memchr(in, ' ', (size_t)(nl - in));
    if (sp == NULL || sp == in || (size_t)(sp - in) >= sizeof method)
        return 0;
    memcpy(method, in, (size_t)(sp - in));
    method[sp - in] = '\0';

    /* headers: "Name: value" lines up to an empty one */
    const char *p = nl < end ? nl + 1 : end, *hend = p;
    while (hend < end && *hend != '\n') {
        const char *e = memchr(hend, '\n', (size_t)(end - hend));
        hend = e ? e + 1 : end;
    }
    hdrs = strndup(p, (size_t)(hend - p));
    if (hdrs == NULL)
        abort();
    nhdr = 0;
    for (char *save = NULL, *l = strtok_r(hdrs, "\n", &save); l && nhdr < MAXHDR;
         l = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(l, ':');
        if (colon == NULL || colon == l)
            continue;
        *colon = '\0';
        for (colon++; *colon == ' '; colon++)
            ;
        l[strcspn(l, "\r")] = '\0';
        colon[strcspn(colon, "\r")] = '\0';
        hname[nhdr] = l, hval[nhdr] = colon;
        ncl += strcasecmp(l, "Content-Length") == 0;
        if (strcasecmp(l, "Transfer-Encoding") == 0)
            nte++, te = colon;
        nhdr++;
    }

    /* the target (up to the version, if any): tokens in, query off, path
     * unescaped */
    const char *tend = memchr(sp + 1, ' ', (size_t)(nl - sp - 1));
    expand(sp + 1, (size_t)((tend ? tend : nl) - sp - 1), &target, &r, 0);
    if ((copy = strdup(buf_cstr(&target))) == NULL)
        abort();
    copy[strcspn(copy, "?\r")] = '\0';
    unescape(copy);

    r.g = &g;
    r.snap = &snap;
    r.method = method;
    r.client_ip = "192.0.2.7";
    r.ep = gate_route(copy, &arg);
    r.arg = arg;
    r.arglen = strlen(arg);
    csrf = r.ep == GATE_EP_WITHDRAW ? TOK_WITHDRAW : r.ep == GATE_EP_PREFS ? TOK_PREFS : 0;
    if (hend < end)
        expand(hend + 1, (size_t)(end - hend - 1), &body, &r, csrf);

    /* what http.c's begin() and on_request() decide, in their order */
    st = gate_framing(ncl, nte, te, &refusal);
    if (st == 0)
        st = gate_admit(r.ep, method, gate_header(&r, "Content-Length"), &cap);
    else
        cap = 0;
    if (st == 0 && body.len && strcmp(method, "POST") != 0)
        st = MHD_HTTP_BAD_REQUEST;
    else if (st == 0 && cap && body.len > cap)
        st = MHD_HTTP_CONTENT_TOO_LARGE;
    r.body = strcmp(method, "POST") != 0 ? NULL : body.data ? body.data : "";
    r.bodylen = body.len;
    answers = 0;
    if (gate_answer(&r, st, refusal, refusal != NULL) == MHD_YES &&
        (answers != 1 || r.status < 200 || r.status > 599 || r.outcome < 0 ||
         r.outcome >= GATE_OUT__N))
        abort(); /* no answer, two answers, or one without a status */
    if (st != 0 && r.status != (int)st)
        abort(); /* a refusal decided before the body became something else */
    gate_count(&g, r.ep, r.outcome);
    if (verbose)
        fprintf(stderr, "fuzz_gate: %s %s -> %d %s\n", method, gate_ep_name(r.ep), r.status,
                gate_outcome_name(r.outcome));
    free(copy);
    free(hdrs);
    buf_free(&target);
    buf_free(&body);
    return 0;
}
