/* form - urlencoded form fields and the CSRF checks of the gate's POSTs.
 *
 * CSRF scheme (documented in consent-gate(8)):
 *  1. the page that shows a form puts csrf = HMAC(newest key, "csrf" NUL
 *     kind NUL token) in a hidden field (tok_mac: keyed, not forgeable
 *     without the gate's keys, bound to one token and one endpoint);
 *  2. the POST must carry that field (verified against every current key,
 *     constant time);
 *  3. a browser's Sec-Fetch-Site, if sent, must be same-origin or none;
 *  4. Origin, if sent (else Referer, if sent), must be the gate's origin:
 *     the scheme://host[:port] of [gate] url, or the Host header the
 *     request was addressed to. "Origin: null" (what browsers send for a
 *     form on a no-referrer page) passes only together with step 3's
 *     Sec-Fetch-Site: same-origin; alone it is refused.
 * GET never writes, so link prefetchers and scanners change nothing. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"

static int csrf_input(const struct gate_req *r, int kind, struct buf *b)
{
    return buf_append(b, "csrf", 5) || buf_putc(b, kind) || buf_putc(b, '\0') ||
           buf_append(b, r->arg, r->arglen);
}

int gate_csrf_make(const struct gate_req *r, int kind, char out[TOK_MAC_HEX])
{
    struct buf b = BUF_INIT(TOK_TEXT_MAX + 16);
    int rc =
        csrf_input(r, kind, &b) ? TOK_ENOMEM : tok_mac(r->snap->keys, b.data, b.len, out);

    buf_free(&b);
    return rc;
}

/* scheme://authority of an absolute URL: its length, or 0. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");

    if (p == NULL)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

static int same_origin(const struct gate_req *r, const char *o, size_t olen)
{
    const char *gurl = r->snap->cfg->gate_url, *host = gate_header(r, "Host"), *a;
    size_t glen = gurl ? origin_len(gurl) : 0;

    if (glen && glen == olen && strncasecmp(o, gurl, olen) == 0)
        return 1;
    a = memchr(o, ':', olen);
    if (host == NULL || a == NULL || olen < (size_t)(a - o) + 3 || a[1] != '/' ||
        a[2] != '/')
        return 0;
    a += 3;
    return strlen(host) == olen - (size_t)(a - o) &&
           strncasecmp(a, host, strlen(host)) == 0;
}

static int browser_origin_ok(const struct gate_req *r)
{
    const char *sfs = gate_header(r, "Sec-Fetch-Site");
    const char *origin = gate_header(r, "Origin");
    const char *ref = gate_header(r, "Referer");

    if (sfs && strcasecmp(sfs, "same-origin") != 0 && strcasecmp(sfs, "none") != 0)
        return 0;
    /* Our pages send Referrer-Policy: no-referrer, so browsers post their
     * forms with "Origin: null"; that is accepted only when the browser
     * also vouches with Sec-Fetch-Site (sandboxed cross-site frames say
     * cross-site there). */
    if (origin && strcmp(origin, "null") == 0)
        return sfs != NULL;
    if (origin)
        return same_origin(r, origin, strlen(origin));
    if (ref) {
        size_t n = origin_len(ref);
        return n > 0 && same_origin(r, ref, n);
    }
    return 1;
}

int gate_csrf_ok(const struct gate_req *r, int kind, const char *field)
{
    struct buf b = BUF_INIT(TOK_TEXT_MAX + 16);
    int ok;

    if (field == NULL || !browser_origin_ok(r))
        return 0;
    ok = !csrf_input(r, kind, &b) &&
         tok_mac_verify(r->snap->keys, b.data, b.len, field) == TOK_OK;
    buf_free(&b);
    return ok;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode [p, e) into out; -1 on a bad escape, a NUL, or overflow. */
static int url_decode(const char *p, const char *e, char *out, size_t outlen)
{
    size_t n = 0;

    for (; p < e; p++) {
        int c = (unsigned char)*p;
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (e - p < 3 || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
                return -1;
            c = hi << 4 | lo;
            p += 2;
        }
        if (c == 0 || n + 1 >= outlen)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return (int)n;
}

int gate_form_get(const struct gate_req *r, const char *name, int n, char *out,
                  size_t outlen)
{
    const char *p = r->body, *end;
    size_t nlen = strlen(name);

    if (p == NULL || outlen == 0)
        return -1;
    end = p + r->bodylen;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0 && n-- == 0)
            return url_decode(eq + 1, e, out, outlen);
        p = e + 1;
    }
    return -1;
}
