/* decide - who sends, what class, which consent (SPEC §4.2-§4.5).
 *
 * Sending domain: the domain of the From: header (the brand the recipient
 * sees), else the envelope sender's; cfg_domain_for maps it (and its
 * parents) to a [domain] section. Class: the section's auth rules, then its
 * transactional rules (header globs and envelope-sender globs), else
 * marketing. Consent: one recipient is one short store read; several
 * recipients get the strictest outcome, i.e. no purpose granted (a tracker
 * stays only if every recipient consented, and no per-recipient footer can
 * be made, so none stays). An unknown recipient has no consent.
 *
 * Failure: a store error other than "not found" is returned to the caller,
 * which applies on_error. */
#include "milter/milter.h"

#include <ctype.h>
#include <fnmatch.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/store.h"

/* Skip a quoted string or comment starting at *p; returns the end. */
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

int mlt_addr_domain(const char *value, char *out, size_t outlen)
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

static char *trimmed(const char *v)
{
    char *s = g_strdup(v);
    for (char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    return g_strstrip(s);
}

static int rule_matches(const struct cfg_class_rule *r, const struct mlt_msg *m)
{
    if (!r->is_header)
        return m->sender && fnmatch(r->pattern, m->sender, FNM_CASEFOLD) == 0;
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (strcasecmp(m->hdrs[i].name, r->header) != 0)
            continue;
        char *v = trimmed(m->hdrs[i].value);
        int ok = fnmatch(r->pattern, v, FNM_CASEFOLD) == 0;
        g_free(v);
        if (ok)
            return 1;
    }
    return 0;
}

static const struct cfg_class_rule *first_match(const struct cfg_class_rule *r, size_t n,
                                                const struct mlt_msg *m)
{
    for (size_t i = 0; i < n; i++)
        if (rule_matches(&r[i], m))
            return &r[i];
    return NULL;
}

static void classify(const struct cfg_domain *dom, const struct mlt_msg *m,
                     struct mlt_decision *d)
{
    const struct cfg_class_rule *r;
    d->mail_class = CFG_CLASS_MARKETING;
    d->class_rule = "default";
    if ((r = first_match(dom->auth, dom->nauth, m))) {
        d->mail_class = CFG_CLASS_AUTH;
        d->class_rule = r->text;
    } else if ((r = first_match(dom->transactional, dom->ntransactional, m))) {
        d->mail_class = CFG_CLASS_TRANSACTIONAL;
        d->class_rule = r->text;
    }
}

/* Campaign id for anonymous pixels: List-Id, else Message-ID, else Subject,
 * hashed so that nothing personal can leak into the pixel URL. */
static void campaign_id(const struct mlt_msg *m, const char *domain, char out[33])
{
    const char *src = mlt_msg_header(m, "List-Id");
    if (!src)
        src = mlt_msg_header(m, "Message-ID");
    if (!src)
        src = mlt_msg_header(m, "Subject");
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(ck, (const guchar *)domain, (gssize)strlen(domain));
    if (src)
        g_checksum_update(ck, (const guchar *)src, (gssize)strlen(src));
    snprintf(out, 33, "%s", g_checksum_get_string(ck));
    g_checksum_free(ck);
}

/* Purposes granted to the one recipient of m. */
static int lookup(const char *rcpt, struct mlt_decision *d, char *err, size_t errlen)
{
    struct store_consent c;
    if (!mlt_store)
        return 0;
    int rc = store_consent_get(mlt_store, d->controller, rcpt, &c);
    if (rc == STORE_NOTFOUND || rc == STORE_EINVAL)
        return 0;
    if (rc != STORE_OK) {
        snprintf(err, errlen, "consent store: %s", store_strerror(rc));
        return -1;
    }
    d->found = 1;
    for (int i = 0; i < STORE_P_MAX; i++)
        if (c.state[i] == STORE_GRANTED)
            d->granted |= 1u << i;
    return 0;
}

int mlt_decide(const struct mlt_rt *rt, const struct mlt_msg *m, struct mlt_decision *d,
               char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (mlt_addr_domain(mlt_msg_header(m, "From"), d->domain, sizeof d->domain) != 0) {
        const char *s = m->sender ? strrchr(m->sender, '@') : NULL;
        if (!s || copy_domain(s, d->domain, sizeof d->domain) != 0)
            snprintf(d->domain, sizeof d->domain, "*");
    }
    d->dom = cfg_domain_for(rt->cfg, d->domain);
    snprintf(d->controller, sizeof d->controller, "%s",
             d->dom->controller && strcmp(d->dom->controller, "*") != 0 ? d->dom->controller
                                                                       : d->domain);
    classify(d->dom, m, d);
    campaign_id(m, d->domain, d->campaign);
    if (m->nrcpts != 1)
        return 0;
    return lookup(m->rcpts[0], d, err, errlen);
}
