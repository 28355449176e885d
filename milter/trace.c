/* trace - the X-Consent-Milter trace header (SPEC §4.8).
 *
 * Value: "1.0; decision=...; class=...; ...; mac=HEX". The MAC (tok_mac,
 * libsodium crypto_auth under the newest gate key) covers the fields and
 * a BLAKE2b-256 digest of the body as we sent it (trailing line ends ignored), so
 * a header copied onto another message, or edited, does not verify. A message whose trace
 * header verifies under any key was processed by us already. Its "for=" field is a MAC of
 * the sorted recipients it was personalised for: the same recipients pass untouched (no
 * double footer, no double gating); other recipients must not receive someone else's
 * gated links and withdrawal link, so the caller refuses the message (mlt_trace_for).
 *
 * Without keys there is no MAC ("mac=none") and nothing ever verifies. */
#include "milter/milter.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int mac_input(const char *fields, size_t flen, const char *body, size_t bodylen,
                     struct buf *in)
{
    unsigned char h[32];
    char hex[65];

    /* Trailing empty lines do not count (as in DKIM's simple body
     * canonicalisation): relays add or drop them. BLAKE2b (libsodium) is
     * about three times cheaper than SHA-256 on a newsletter-sized body,
     * and this runs for every message. */
    while (bodylen > 0 && (body[bodylen - 1] == '\n' || body[bodylen - 1] == '\r'))
        bodylen--;
    crypto_generichash(h, sizeof h, (const unsigned char *)body, bodylen, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    if (buf_append(in, fields, flen) != 0 ||
        buf_printf(in, "\nbody-blake2b=%s", hex) != 0)
        return -1;
    return 0;
}

int mlt_trace_make(const struct tok_keys *k, const char *fields, const char *body,
                   size_t bodylen, struct buf *out)
{
    struct buf pre = BUF_INIT(8192), in = BUF_INIT(8192);
    char mac[TOK_MAC_HEX];
    int rc = -1;

    if (buf_printf(&pre, "%s; %s", MLT_VERSION, fields) != 0)
        goto out;
    if (!k) {
        rc = buf_printf(out, "%s; mac=none", buf_cstr(&pre)) == 0 ? 0 : -1;
        goto out;
    }
    if (mac_input(pre.data, pre.len, body, bodylen, &in) != 0 ||
        tok_mac(k, in.data, in.len, mac) != TOK_OK)
        goto out;
    rc = buf_printf(out, "%s; mac=%s", buf_cstr(&pre), mac) == 0 ? 0 : -1;
out:
    buf_free(&pre);
    buf_free(&in);
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

int mlt_trace_verify(const struct tok_keys *k, const char *value, const char *body,
                     size_t bodylen)
{
    struct buf flat = BUF_INIT(8192), in = BUF_INIT(8192);
    int ok = 0;

    if (!k || !value || unfold(value, &flat) != 0)
        goto out;
    const char *s = buf_cstr(&flat);
    while (*s == ' ' || *s == '\t')
        s++;
    /* Folding may have turned "; " into ";\t": accept only our own shape. */
    const char *m = strstr(s, "; mac=");
    if (!m || strncmp(s, MLT_VERSION ";", strlen(MLT_VERSION) + 1) != 0)
        goto out;
    char hex[TOK_MAC_HEX];
    size_t hl = strspn(m + 6, "0123456789abcdef");
    if (hl != TOK_MAC_HEX - 1)
        goto out;
    memcpy(hex, m + 6, hl);
    hex[hl] = '\0';
    if (mac_input(s, (size_t)(m - s), body, bodylen, &in) != 0)
        goto out;
    ok = tok_mac_verify(k, in.data, in.len, hex) == TOK_OK;
out:
    buf_free(&flat);
    buf_free(&in);
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
