/* trace - the X-Consent-Milter trace header (SPEC §4.8).
 *
 * Value: "2; decision=...; class=...; ...; mac=HEX". The MAC (tok_mac,
 * libsodium crypto_auth under the newest gate key) covers the fields, a
 * BLAKE2b-256 digest of the decision inputs as we sent them (the headers
 * that choose the section, class, campaign, MIME structure and ESP
 * switches, and the envelope sender where it counts: mlt_trace_inputs) and
 * one of the body as we sent it (trailing line ends ignored; the part
 * headers inside it are covered there). So a header copied onto another
 * message, or a processed copy relabelled (another From:, text/plain made
 * text/html, an ESP switch turned back on) does not verify. Version 1.0
 * headers bound only fields and body: they exempt nothing any more. A
 * message whose trace header verifies under any key, with an enforcing
 * decision (not monitor), was processed by us already. Its "for=" field is a MAC of
 * the sorted recipients it was personalised for: the same recipients pass untouched (no
 * double footer, no double gating); other recipients must not receive someone else's
 * gated links and withdrawal link, so the caller refuses the message (mlt_trace_for).
 * That refusal must hold for a relabelled copy too, whose "mac" no longer
 * verifies: "bmac" covers the fields (for= among them) and the body only
 * (mlt_trace_personalised; a 1.0 header's MAC is of that shape).
 *
 * Without keys there is no MAC ("mac=none") and nothing ever verifies. */
#include "milter/milter.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void digest_hex(const char *p, size_t n, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)p, n, NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

static int mac_input(const char *fields, size_t flen, const char *inputs, const char *body,
                     size_t bodylen, struct buf *in)
{
    char hex[65], ihex[65];

    /* Trailing empty lines do not count (as in DKIM's simple body
     * canonicalisation): relays add or drop them. BLAKE2b (libsodium) is
     * about three times cheaper than SHA-256 on a newsletter-sized body,
     * and this runs for every message. */
    while (bodylen > 0 && (body[bodylen - 1] == '\n' || body[bodylen - 1] == '\r'))
        bodylen--;
    digest_hex(body, bodylen, hex);
    if (buf_append(in, fields, flen) != 0)
        return -1;
    if (!inputs) /* the body MAC (and format 1.0's only MAC) */
        return buf_printf(in, "\nbody-blake2b=%s", hex) == 0 ? 0 : -1;
    digest_hex(inputs, strlen(inputs), ihex);
    return buf_printf(in, "\ninputs-blake2b=%s\nbody-blake2b=%s", ihex, hex) == 0 ? 0 : -1;
}

/* Append "; NAME=" and the MAC of what out holds so far (with inputs, or
 * the body alone when inputs is NULL). */
static int append_mac(const struct tok_keys *k, struct buf *out, const char *name,
                      const char *inputs, const char *body, size_t bodylen)
{
    struct buf in = BUF_INIT(8192);
    char mac[TOK_MAC_HEX];
    int rc = mac_input(out->data, out->len, inputs, body, bodylen, &in) == 0 &&
                     tok_mac(k, in.data, in.len, mac) == TOK_OK
                 ? buf_printf(out, "; %s=%s", name, mac)
                 : -1;
    buf_free(&in);
    return rc == 0 ? 0 : -1;
}

int mlt_trace_make(const struct tok_keys *k, const char *fields, const char *inputs,
                   const char *body, size_t bodylen, struct buf *out)
{
    struct buf pre = BUF_INIT(8192);
    int rc = -1;

    if (buf_printf(&pre, "%s; %s", MLT_TRACE_VERSION, fields) != 0)
        goto out;
    if (!k) {
        rc = buf_printf(out, "%s; mac=none", buf_cstr(&pre)) == 0 ? 0 : -1;
        goto out;
    }
    /* bmac: fields and body only, for the refusal of copies made for
     * other recipients, which must hold even when the copy was relabelled;
     * mac: everything, for the exemption. */
    if (append_mac(k, &pre, "bmac", NULL, body, bodylen) != 0 ||
        append_mac(k, &pre, "mac", inputs ? inputs : "", body, bodylen) != 0)
        goto out;
    rc = buf_puts(out, buf_cstr(&pre)) == 0 ? 0 : -1;
out:
    buf_free(&pre);
    return rc;
}

/* The value with folding undone: relays fold a long header by putting
 * CRLF before existing white space, so removing CR and LF restores it. */
static int unfold(const char *value, struct buf *flat)
{
    for (const char *p = value; *p; p++)
        if (*p != '\r' && *p != '\n' && buf_putc(flat, *p) != 0)
            return -1;
    return 0;
}

/* 1 if the MAC after "; name=" in s verifies over s up to there (and the
 * inputs, unless NULL, and the body). */
static int check_mac(const struct tok_keys *k, const char *s, const char *name,
                     const char *inputs, const char *body, size_t bodylen)
{
    char tag[16], hex[TOK_MAC_HEX];
    snprintf(tag, sizeof tag, "; %s=", name);
    const char *m = strstr(s, tag);
    if (!m)
        return 0;
    size_t hl = strspn(m + strlen(tag), "0123456789abcdef");
    if (hl != TOK_MAC_HEX - 1)
        return 0;
    memcpy(hex, m + strlen(tag), hl);
    hex[hl] = '\0';
    struct buf in = BUF_INIT(8192);
    int ok = mac_input(s, (size_t)(m - s), inputs, body, bodylen, &in) == 0 &&
             tok_mac_verify(k, in.data, in.len, hex) == TOK_OK;
    buf_free(&in);
    return ok;
}

/* The value unfolded and without leading blanks, in flat; NULL if none. */
static const char *flat_value(const char *value, struct buf *flat)
{
    if (!value || unfold(value, flat) != 0)
        return NULL;
    const char *s = buf_cstr(flat);
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static int has_version(const char *s, const char *v)
{
    return strncmp(s, v, strlen(v)) == 0 && s[strlen(v)] == ';';
}

int mlt_trace_verify(const struct tok_keys *k, const char *value, const char *inputs,
                     const char *body, size_t bodylen)
{
    struct buf flat = BUF_INIT(8192);
    const char *s = k ? flat_value(value, &flat) : NULL;
    /* Folding may have turned "; " into ";\t": accept only our own shape. */
    int ok = s && has_version(s, MLT_TRACE_VERSION) &&
             check_mac(k, s, "mac", inputs ? inputs : "", body, bodylen);
    buf_free(&flat);
    return ok;
}

int mlt_trace_personalised(const struct tok_keys *k, const char *value, const char *body,
                           size_t bodylen)
{
    struct buf flat = BUF_INIT(8192);
    const char *s = k ? flat_value(value, &flat) : NULL;
    int ok = s && ((has_version(s, MLT_TRACE_VERSION) &&
                    check_mac(k, s, "bmac", NULL, body, bodylen)) ||
                   (has_version(s, "1.0") && check_mac(k, s, "mac", NULL, body, bodylen)));
    buf_free(&flat);
    return ok;
}

/* MAC input for a recipient set: "for\n" + sorted addresses, one a line. */
static int rcpts_input(char *const *rcpts, size_t n, struct buf *in)
{
    char **v = n ? malloc(n * sizeof *v) : NULL;
    int rc = buf_puts(in, "for\n");

    if (n && v == NULL)
        return -1;
    if (n)
        memcpy(v, rcpts, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = buf_printf(in, "%s\n", v[i]);
    free(v);
    return rc == 0 ? 0 : -1;
}

int mlt_trace_rcpts(const struct tok_keys *k, char *const *rcpts, size_t n,
                    char out[TOK_MAC_HEX])
{
    struct buf in = BUF_INIT(1024 * 1024);
    int rc = -1;

    if (k && rcpts_input(rcpts, n, &in) == 0)
        rc = tok_mac(k, in.data, in.len, out) == TOK_OK ? 0 : -1;
    buf_free(&in);
    return rc;
}

int mlt_trace_for(const struct tok_keys *k, const char *value, char *const *rcpts,
                  size_t n)
{
    struct buf in = BUF_INIT(1024 * 1024), flat = BUF_INIT(8192);
    const char *f = NULL;
    char hex[TOK_MAC_HEX];
    int ok = 0;

    if (k && value && unfold(value, &flat) == 0)
        f = strstr(buf_cstr(&flat), "; for=");
    if (f && strspn(f + 6, "0123456789abcdef") == TOK_MAC_HEX - 1) {
        memcpy(hex, f + 6, TOK_MAC_HEX - 1);
        hex[TOK_MAC_HEX - 1] = '\0';
        if (rcpts_input(rcpts, n, &in) == 0)
            ok = tok_mac_verify(k, in.data, in.len, hex) == TOK_OK;
    }
    buf_free(&flat);
    buf_free(&in);
    return ok;
}

int mlt_trace_enforced(const char *value)
{
    static const char *const enforcing[] = {"consent", "no-consent", "never-track",
                                            "strictest", NULL};
    struct buf flat = BUF_INIT(8192);
    int ok = 0;

    /* decision is the first field, and no field before it can hold "; " */
    const char *d = value && unfold(value, &flat) == 0
                        ? strstr(buf_cstr(&flat), "; decision=")
                        : NULL;
    if (d) {
        d += strlen("; decision=");
        size_t n = strcspn(d, "; \t");
        for (int i = 0; enforcing[i] && !ok; i++)
            ok = strlen(enforcing[i]) == n && strncmp(d, enforcing[i], n) == 0;
    }
    buf_free(&flat);
    return ok;
}

int mlt_trace_hdrs_edit(struct msginfo_hdr **v, size_t *n, const char *name, int index,
                        const char *value)
{
    size_t i, k = 0;

    for (i = 0; index > 0 && i < *n; i++)
        if (strcasecmp((*v)[i].name, name) == 0 && ++k == (size_t)index)
            break;
    if (index > 0 && i < *n) {
        if (value) {
            (*v)[i].value = (char *)value;
        } else {
            memmove(&(*v)[i], &(*v)[i + 1], (*n - i - 1) * sizeof **v);
            (*n)--;
        }
        return 0;
    }
    if (!value)
        return 0;
    struct msginfo_hdr *nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return -1;
    nv[*n].name = (char *)name;
    nv[*n].value = (char *)value;
    *v = nv;
    (*n)++;
    return 0;
}

/* The headers the decision and the rewrite read (msginfo.c: From, List-Id;
 * rewriter/mime.c: the top-level MIME labels and List-Unsubscribe; esp.c:
 * every ESP switch). DKIM-Signature is left out on purpose: the signer
 * after us adds it, and it never loosens enforcement of processed mail. */
static const char *const fixed_names[] = {
    "From",         "List-Id",      "List-Unsubscribe",          "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", NULL,
};

static int add_name(const char ***names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*names)[i], name) == 0)
            return 0;
    const char **nv = realloc(*names, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[(*n)++] = name;
    *names = nv;
    return 0;
}

/* Header names covered, and whether a class rule matches senders. */
static int covered_names(const struct cfg *cfg, const char ***names, size_t *n,
                         int *sender_rules)
{
    int rc = 0;
    *names = NULL;
    *n = 0;
    *sender_rules = 0;
    for (int i = 0; fixed_names[i] && rc == 0; i++)
        rc = add_name(names, n, fixed_names[i]);
    for (int i = 0; mlt_esp_headers[i] && rc == 0; i++)
        rc = add_name(names, n, mlt_esp_headers[i]);
    for (size_t d = 0; cfg && d < cfg->ndomains && rc == 0; d++) {
        const struct cfg_domain *dom = &cfg->domains[d];
        const struct cfg_class_rule *sets[] = {dom->transactional, dom->auth};
        size_t counts[] = {dom->ntransactional, dom->nauth};
        for (int s = 0; s < 2; s++)
            for (size_t r = 0; r < counts[s] && rc == 0; r++) {
                if (!sets[s][r].is_header)
                    *sender_rules = 1;
                else
                    rc = add_name(names, n, sets[s][r].header);
            }
    }
    return rc;
}

/* A value unfolded, runs of blanks made one space, trimmed: relays refold. */
static int put_canon(struct buf *out, const char *v)
{
    int blank = 0, any = 0, rc = 0;
    for (const char *p = v; *p && rc == 0; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        if (*p == ' ' || *p == '\t') {
            blank = 1;
            continue;
        }
        if (blank && any)
            rc = buf_putc(out, ' ');
        if (rc == 0)
            rc = buf_putc(out, *p);
        blank = 0;
        any = 1;
    }
    return rc;
}

/* tag, then s lower-cased (names and addresses compare without case). */
static int put_tagged(struct buf *out, const char *tag, const char *s)
{
    int rc = buf_puts(out, tag);
    for (; *s && rc == 0; s++)
        rc = buf_putc(out, (char)tolower((unsigned char)*s));
    return rc;
}

int mlt_trace_inputs(const struct cfg *cfg, const struct msginfo_hdr *h, size_t n,
                     const char *sender, struct buf *out)
{
    const char **names;
    size_t nn;
    int sender_rules, rc = covered_names(cfg, &names, &nn, &sender_rules);
    char dom[256];

    for (size_t i = 0; i < nn && rc == 0; i++)
        for (size_t j = 0; j < n && rc == 0; j++) {
            if (strcasecmp(h[j].name, names[i]) != 0)
                continue;
            rc = put_tagged(out, "h:", names[i]);
            if (rc == 0)
                rc = buf_putc(out, ':');
            if (rc == 0)
                rc = put_canon(out, h[j].value);
            if (rc == 0)
                rc = buf_putc(out, '\n');
        }
    int from_ok = msginfo_addr_domain(msginfo_header(h, n, "From"), dom, sizeof dom) == 0;
    if (rc == 0 && (sender_rules || !from_ok)) {
        rc = put_tagged(out, "s:", sender ? sender : "");
        if (rc == 0)
            rc = buf_putc(out, '\n');
    }
    free(names);
    return rc == 0 ? 0 : -1;
}
