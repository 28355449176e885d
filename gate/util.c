/* util - small helpers shared by the gate's endpoints: the policy a token
 * gets (its own domain section's), token opening with rejection counting,
 * address masking, page language choice, the client
 * address behind trusted proxies. No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gate/gate.h"

/* The purposes a section's consent page offers: its pixel purposes (the
 * page can offer opens clicks profiling fraud), plus clicks when links need
 * consent. */
static uint32_t offered(const struct cfg_domain *d)
{
    uint32_t m = d->pixel_purposes & 0xF;

    if (d->clicks == CFG_CLICKS_CONSENT)
        m |= 1u << STORE_P_CLICKS;
    return m ? m : 1u << STORE_P_OPENS;
}

/* Fold section d into p, keeping the stricter of each rule. */
static void merge(struct gate_policy *p, const struct cfg_domain *d)
{
    if (p->n++ == 0) {
        p->dom = d;
        p->tracking = p->clicks_free = p->store_source = 1;
    }
    p->tracking &= d->mode == CFG_MODE_ENFORCE || d->mode == CFG_MODE_MONITOR;
    p->pixel_purposes |= d->pixel_purposes ? d->pixel_purposes : 1u << STORE_P_OPENS;
    p->clicks_free &= d->clicks == CFG_CLICKS_FREE;
    p->offered |= offered(d);
    p->store_source &= d->store_source != 0;
}

/* Could mail sent under d carry controller ctl? A section without a
 * controller gives mail the sending domain's own name, a domain that then
 * resolves to d. */
static int may_carry(const struct cfg *c, const struct cfg_domain *d, const char *ctl)
{
    if (ctl == NULL)
        return 0;
    if (d->controller)
        return strcasecmp(d->controller, ctl) == 0;
    return cfg_domain_for(c, ctl) == d;
}

/* The section a format-2 token names, if it still exists for that
 * controller. */
static void own_section(const struct cfg *c, const struct tok *t, struct gate_policy *p)
{
    unsigned char id[TOK_DOMAIN_ID];

    for (size_t i = 0; i < c->ndomains; i++) {
        const struct cfg_domain *d = &c->domains[i];
        tok_domain_id(d->name, id);
        if (memcmp(id, t->domain, sizeof id) != 0)
            continue;
        /* Mail under a section without controller carries the sending
         * domain as controller: a section of its own since then decides. */
        if (d->controller == NULL && t->controller)
            d = cfg_domain_for(c, t->controller);
        if (may_carry(c, d, t->controller))
            merge(p, d);
    }
    p->exact = p->n > 0;
}

/* Every section mail with controller ctl may have been sent from. The
 * default section without controller only when no section names ctl:
 * otherwise every old link of a controller whose name is no domain
 * ("brand") would take the default's rules too. */
static void controller_sections(const struct cfg *c, const char *ctl,
                                struct gate_policy *p)
{
    const struct cfg_domain *own_name = NULL;

    for (size_t i = 0; i < c->ndomains; i++) {
        const struct cfg_domain *d = &c->domains[i];
        if (!may_carry(c, d, ctl))
            continue;
        if (d->controller == NULL)
            own_name = d;
        else
            merge(p, d);
    }
    if (p->n == 0 && own_name)
        merge(p, own_name);
}

void gate_policy_of(const struct cfg *c, const struct tok *t, struct gate_policy *out)
{
    memset(out, 0, sizeof *out);
    if (t->has_domain)
        own_section(c, t, out);
    /* Format 1, or the section is gone: the controller's sections. The
     * pages need one; tracking only for format 1. */
    if (!out->exact)
        controller_sections(c, t->controller, out);
    if (t->has_domain && !out->exact)
        out->tracking = 0;
    if (out->n == 0) {
        out->dom = cfg_domain_for(c, "*");
        out->pixel_purposes = out->offered = 1u << STORE_P_OPENS;
    }
}

int gate_open_token(struct gate_req *r, int kind, struct tok *t)
{
    int rc = tok_open(r->snap->keys, kind, r->arg, r->arglen, t);

    if (rc != TOK_OK)
        gate_count_token(r->g, rc);
    return rc;
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
