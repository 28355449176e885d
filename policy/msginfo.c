/* msginfo - sending domain, controller, mail class and campaign id from a
 * message's headers (see msginfo.h). Matching is fnmatch(3) with
 * FNM_CASEFOLD on the unfolded, trimmed header value or envelope sender. */
#include "policy/msginfo.h"

#include <ctype.h>
#include <fnmatch.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Skip a quoted string or (nested) comment starting at p; returns its last
 * character (or the last character of the string when unterminated). */
static const char *skip_special(const char *p)
{
    char close = *p == '"' ? '"' : ')';
    int depth = 0;

    for (const char *q = p; *q; q++) {
        if (*q == '\\' && q[1]) {
            q++;
            continue;
        }
        if (*p == '(' && *q == '(')
            depth++;
        else if (*q == close && (close == '"' ? q != p : --depth == 0))
            return q;
    }
    return p + strlen(p) - 1;
}

static int copy_domain(const char *at, char *out, size_t outlen)
{
    size_t n = 0;

    for (const char *p = at + 1; *p && n + 1 < outlen; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || c == '.' || c == '-' || c == '_')
            out[n++] = (char)tolower(c);
        else if (c >= 0x80)
            out[n++] = (char)c;
        else
            break;
    }
    while (n > 0 && out[n - 1] == '.')
        n--;
    out[n] = '\0';
    return n > 0 ? 0 : -1;
}

int msginfo_addr_domain(const char *value, char *out, size_t outlen)
{
    const char *angle = NULL, *at = NULL;

    if (!value || outlen == 0)
        return -1;
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '(') {
            p = skip_special(p);
            continue;
        }
        if (*p == '<' && !angle)
            angle = p;
        else if (*p == '@' && !at && !angle)
            at = p;
        else if (*p == '@' && angle && (!at || at < angle))
            at = p;
        else if (*p == ',' && (at || angle))
            break;
    }
    return at ? copy_domain(at, out, outlen) : -1;
}

const char *msginfo_header(const struct msginfo_hdr *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static int rule_matches(const struct cfg_class_rule *r, const struct msginfo_hdr *h,
                        size_t n, const char *sender)
{
    if (!r->is_header)
        return sender && fnmatch(r->pattern, sender, FNM_CASEFOLD) == 0;
    for (size_t i = 0; i < n; i++) {
        char *v;
        int ok;
        if (strcasecmp(h[i].name, r->header) != 0)
            continue;
        v = g_strdup(h[i].value);
        for (char *p = v; *p; p++)
            if (*p == '\r' || *p == '\n' || *p == '\t')
                *p = ' ';
        ok = fnmatch(r->pattern, g_strstrip(v), FNM_CASEFOLD) == 0;
        g_free(v);
        if (ok)
            return 1;
    }
    return 0;
}

static const struct cfg_class_rule *first_match(const struct cfg_class_rule *r, size_t nr,
                                                const struct msginfo_hdr *h, size_t n,
                                                const char *sender)
{
    for (size_t i = 0; i < nr; i++)
        if (rule_matches(&r[i], h, n, sender))
            return &r[i];
    return NULL;
}

/* Campaign id for anonymous pixels: the domain and its List-Id, hashed so
 * that nothing readable leaks into the URL. Without a List-Id, the domain
 * alone: Message-ID is unique per copy and Subject is often personalised,
 * and either would turn the per-campaign counter into one per recipient. */
static void campaign_id(const struct msginfo_hdr *h, size_t n, struct msginfo *out)
{
    const char *src = msginfo_header(h, n, "List-Id");
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);

    g_checksum_update(ck, (const guchar *)out->domain, (gssize)strlen(out->domain));
    if (src)
        g_checksum_update(ck, (const guchar *)src, (gssize)strlen(src));
    snprintf(out->campaign, sizeof out->campaign, "%s", g_checksum_get_string(ck));
    g_checksum_free(ck);
}

void msginfo_derive(const struct cfg *c, const struct msginfo_hdr *h, size_t n,
                    const char *sender, struct msginfo *out)
{
    const struct cfg_class_rule *r;
    const char *at;

    memset(out, 0, sizeof *out);
    if (msginfo_addr_domain(msginfo_header(h, n, "From"), out->domain,
                            sizeof out->domain)) {
        at = sender ? strrchr(sender, '@') : NULL;
        if (!at || copy_domain(at, out->domain, sizeof out->domain) != 0)
            snprintf(out->domain, sizeof out->domain, "*");
    }
    out->dom = cfg_domain_for(c, out->domain);
    snprintf(out->controller, sizeof out->controller, "%s",
             out->dom->controller ? out->dom->controller : out->domain);
    out->mail_class = CFG_CLASS_MARKETING;
    out->class_rule = "default";
    if ((r = first_match(out->dom->auth, out->dom->nauth, h, n, sender)) != NULL) {
        out->mail_class = CFG_CLASS_AUTH;
        out->class_rule = r->text;
    } else if ((r = first_match(out->dom->transactional, out->dom->ntransactional, h, n,
                                sender)) != NULL) {
        out->mail_class = CFG_CLASS_TRANSACTIONAL;
        out->class_rule = r->text;
    }
    campaign_id(h, n, out);
}

/* End of the field starting at i: after its last continuation line. */
static size_t field_end(const char *m, size_t len, size_t i)
{
    const char *nl = memchr(m + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - m) + 1 : len;

    while (end < len && (m[end] == ' ' || m[end] == '\t')) {
        nl = memchr(m + end, '\n', len - end);
        end = nl ? (size_t)(nl - m) + 1 : len;
    }
    return end;
}

static int add_field(struct msginfo_hdr **v, size_t *n, const char *p, size_t len)
{
    const char *colon = memchr(p, ':', len);
    struct msginfo_hdr *nv;
    size_t vstart, vend = len;

    if (colon == NULL)
        return 0; /* not a field (mbox From_ line, garbage): ignored */
    nv = realloc(*v, (*n + 1) * sizeof **v);
    if (nv == NULL)
        return -1;
    *v = nv;
    vstart = (size_t)(colon - p) + 1;
    if (vstart < len && (p[vstart] == ' ' || p[vstart] == '\t'))
        vstart++;
    while (vend > vstart && (p[vend - 1] == '\n' || p[vend - 1] == '\r'))
        vend--;
    nv[*n].name = g_strndup(p, (size_t)(colon - p));
    nv[*n].value = g_strndup(p + vstart, vend - vstart);
    g_strstrip(nv[*n].name);
    (*n)++;
    return 0;
}

int msginfo_parse_headers(const char *msg, size_t len, size_t max,
                          struct msginfo_hdr **out, size_t *n)
{
    size_t i = 0;

    *out = NULL;
    *n = 0;
    while (i < len && msg[i] != '\n' &&
           !(msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')) {
        size_t end = field_end(msg, len, i);
        if (*n >= max || add_field(out, n, msg + i, end - i) != 0) {
            msginfo_headers_free(*out, *n);
            *out = NULL;
            *n = 0;
            return -1;
        }
        i = end;
    }
    return 0;
}

void msginfo_headers_free(struct msginfo_hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_free(h[i].name);
        g_free(h[i].value);
    }
    free(h);
}
