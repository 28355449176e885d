/* util - small helpers shared by the gate's endpoints: domain lookup by
 * controller, token opening with rejection counting, redirect URL checks,
 * address masking, page language choice, the client address behind
 * trusted proxies. No I/O. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gate/gate.h"

const struct cfg_domain *gate_domain_of(const struct cfg *c, const char *controller)
{
    const struct cfg_domain *star = NULL;

    for (size_t i = 0; i < c->ndomains; i++) {
        const struct cfg_domain *d = &c->domains[i];
        if (strcmp(d->name, "*") == 0) {
            star = d;
            continue;
        }
        if (controller && d->controller && strcasecmp(d->controller, controller) == 0)
            return d;
    }
    return star ? star : cfg_domain_for(c, "*");
}

int gate_open_token(struct gate_req *r, int kind, struct tok *t)
{
    int rc = tok_open(r->snap->keys, kind, r->arg, r->arglen, t);

    if (rc != TOK_OK)
        gate_count_token(r->g, rc);
    return rc;
}

int gate_safe_url(const char *url)
{
    const char *p;

    if (url == NULL)
        return 0;
    if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return 0;
    /* A host must follow; "http:///x" or "http://\evil" are refused. */
    if (*p == '\0' || *p == '/' || *p == '\\' || *p == '?' || *p == '#')
        return 0;
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return strlen(url) <= TOK_FIELD_MAX;
}

void gate_mask_address(const char *addr, char *out, size_t outlen)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    size_t first;

    if (at == NULL || at == addr) {
        snprintf(out, outlen, "***");
        return;
    }
    /* Keep the first character whole even if it is multi-byte UTF-8. */
    first = 1;
    while (addr + first < at && ((unsigned char)addr[first] & 0xC0) == 0x80)
        first++;
    snprintf(out, outlen, "%.*s***%s", (int)first, addr, at);
}

/* One Accept-Language element: "fr-CA;q=0.8". Returns the language index
 * and its quality (0..1000), or -1. */
static int lang_item(const char *s, size_t n, int *q)
{
    char tag[3] = "";
    const char *semi = memchr(s, ';', n), *qp;

    *q = 1000;
    if (n >= 2 && (n == 2 || s[2] == '-' || s[2] == ';' || s[2] == ' ')) {
        tag[0] = (char)tolower((unsigned char)s[0]);
        tag[1] = (char)tolower((unsigned char)s[1]);
    }
    if (semi && (qp = strstr(semi, "q=")) != NULL && qp < s + n) {
        double v = strtod(qp + 2, NULL);
        *q = v <= 0 ? 0 : v >= 1 ? 1000 : (int)(v * 1000);
    }
    return tpl_lang_index(tag);
}

static int accept_language(const char *h)
{
    int best = -1, bestq = 0;

    while (h && *h) {
        size_t n;
        int q, l;
        h += strspn(h, " \t,");
        n = strcspn(h, ",");
        if (n == 0)
            break;
        l = lang_item(h, n, &q);
        if (l >= 0 && q > bestq)
            best = l, bestq = q;
        h += n;
    }
    return best;
}

const char *gate_pick_lang(const struct gate_req *r, const struct cfg_domain *dom)
{
    int l = accept_language(gate_header(r, "Accept-Language"));

    if (l >= 0)
        return l == TPL_FR ? "fr" : "en";
    if (dom && tpl_lang_index(dom->language) >= 0)
        return dom->language;
    if (tpl_lang_index(r->snap->cfg->gate_language) >= 0)
        return r->snap->cfg->gate_language;
    return "en";
}

int64_t gate_today(void)
{
    return (int64_t)time(NULL) / 86400;
}

/* Right to left: each hop appends the address it received the request
 * from, so entries are believable only as long as they were written by a
 * trusted hop; the first untrusted one is the client. Anything left of it
 * may have been written by the client and is never read. */
int gate_forwarded_client(const char *xff, const struct cidr *trusted, size_t ntrusted,
                          uint8_t client[CIDR_ADDR_LEN])
{
    const char *end = xff ? xff + strlen(xff) : NULL;
    int found = 0;

    while (end && end > xff) {
        const char *start = end, *s, *e;
        uint8_t a[CIDR_ADDR_LEN];
        while (start > xff && start[-1] != ',')
            start--;
        for (s = start; s < end && (*s == ' ' || *s == '\t'); s++)
            ;
        for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
            ;
        /* A hop we trust wrote garbage: stop at the last address it gave. */
        if (cidr_addr_parse(s, (size_t)(e - s), a) != 0)
            break;
        memcpy(client, a, CIDR_ADDR_LEN);
        found = 1;
        if (!cidr_match(trusted, ntrusted, a))
            break;
        end = start > xff ? start - 1 : xff;
    }
    return found;
}
