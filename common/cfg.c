/* cfg - INI configuration (SPEC §4.1) parsed with inih into an immutable,
 * refcounted snapshot; see cfg.h.
 *
 * Data flow: text -> inih (our line reader counts lines and refuses over-long
 * ones) -> handler -> key table lookup -> typed setter into struct cfg or a
 * raw per-domain key list. Domain sections are resolved after the whole file
 * is read: every [domain NAME] starts as a copy of [domain *] (which starts
 * from the table defaults) and applies its own keys, so a key set once in
 * [domain *] holds everywhere unless overridden.
 *
 * Failure: the first error wins and is reported as "PATH:LINE: reason"; the
 * partial snapshot is freed. Nothing here exits or logs. */
#include "common/cfg.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/log.h"
#include "store/store.h"

#define CFG_MAX_LINE 4096
#define CFG_MAX_DOMAINS 4096
#define CFG_MAX_TEMPLATE (64 * 1024)

/* A key as written in a [domain] section, applied after parsing. */
struct raw_kv {
    char *section; /* domain name */
    char *key, *value;
    int line;
};

struct parse_state {
    struct cfg *c;
    const char *path; /* for messages */
    const char *base_dir;
    struct raw_kv *kv;
    size_t nkv, capkv;
    char **sections; /* domain names in order of appearance */
    int *section_lines;
    size_t nsections;
    int line;        /* current line, from our reader */
    int err_line;
    char err[256];
};

static void set_err(struct parse_state *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(struct parse_state *ps, int line, const char *fmt, ...)
{
    va_list ap;

    if (ps->err[0])
        return; /* the first error wins */
    va_start(ap, fmt);
    vsnprintf(ps->err, sizeof ps->err, fmt, ap);
    va_end(ap);
    ps->err_line = line;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- typed setters -------------------------------------------------- */

static int parse_bool(const char *v, int *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"};
    static const char *no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* "50M", "512k", "1g", "1000" -> bytes. */
static int parse_size(const char *v, size_t *out)
{
    char *end;
    unsigned long long n;
    unsigned long long mul = 1;

    errno = 0;
    if (*v == '-' || *v == '\0')
        return -1;
    n = strtoull(v, &end, 10);
    if (errno || end == v)
        return -1;
    switch (*end) {
    case 'k': case 'K': mul = 1024ULL; end++; break;
    case 'm': case 'M': mul = 1024ULL * 1024; end++; break;
    case 'g': case 'G': mul = 1024ULL * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || n > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(n * mul);
    return 0;
}

static int parse_uint(const char *v, unsigned *out, unsigned min, unsigned max)
{
    char *end;
    unsigned long n;

    errno = 0;
    if (*v == '-' || *v == '\0')
        return -1;
    n = strtoul(v, &end, 10);
    if (errno || *end != '\0' || n < min || n > max)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int parse_enum(const char *v, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++)
        if (strcasecmp(v, names[i]) == 0)
            return *out = i, 0;
    return -1;
}

static const char *const onerr_names[] = {"tempfail", "accept", "reject", NULL};
static const char *const mode_names[] = {"enforce", "monitor", "never-track", "off", NULL};
static const char *const clicks_names[] = {"consent", "free", NULL};
static const char *const nopix_names[] = {"strip", "anonymous", NULL};
static const char *const opaque_names[] = {"keep", "interstitial", NULL};
static const char *const dkim_names[] = {"rewrite", "skip", "tempfail", NULL};
static const char *const multi_names[] = {"strictest", NULL};
static const char *const lang_names[] = {"en", "fr", NULL};
static const char *const class_names[] = {"marketing", "transactional", "auth", NULL};

const char *cfg_mode_name(int mode)
{
    return mode >= 0 && mode < 4 ? mode_names[mode] : "?";
}

const char *cfg_class_name(int cls)
{
    return cls >= 0 && cls < 3 ? class_names[cls] : "?";
}

/* ---- the key table --------------------------------------------------- */

enum ktype { K_STR, K_PATH, K_BOOL, K_ENUM, K_SIZE, K_UINT, K_LEVEL, K_PURPOSES, K_RULES,
             K_URL, K_SOCKET, K_LANG };

struct keydef {
    const char *section; /* "milter", "gate", "domain" */
    const char *name;
    enum ktype type;
    size_t off;          /* into struct cfg or struct cfg_domain */
    const char *def;     /* default as text; NULL: none */
    const char *const *names;
    unsigned min, max;
    const char *doc;     /* one line, for -n -v dumps */
};

#define CO(f) offsetof(struct cfg, f)
#define DO(f) offsetof(struct cfg_domain, f)

static const struct keydef keys[] = {
    {"milter", "socket", K_SOCKET, CO(socket), "unix:/run/consent-milter/milter.sock", NULL, 0, 0,
     "listening socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST"},
    {"milter", "database", K_PATH, CO(database), "/var/lib/consent-milter", NULL, 0, 0,
     "LMDB consent store directory"},
    {"milter", "user", K_STR, CO(user), NULL, NULL, 0, 0, "drop privileges to this user"},
    {"milter", "on_error", K_ENUM, CO(on_error), "tempfail", onerr_names, 0, 0,
     "what an internal error does to the message"},
    {"milter", "max_message_size", K_SIZE, CO(max_message_size), "50M", NULL, 0, 0,
     "larger messages get on_error"},
    {"milter", "spool_threshold", K_SIZE, CO(spool_threshold), "1M", NULL, 0, 0,
     "bodies above this are spooled to a private temp file"},
    {"milter", "spool_dir", K_PATH, CO(spool_dir), "/tmp", NULL, 0, 0, "spool directory"},
    {"milter", "multi_recipient", K_ENUM, CO(multi_recipient), "strictest", multi_names, 0, 0,
     "several recipients in one transaction"},
    {"milter", "trace_header", K_BOOL, CO(trace_header), "yes", NULL, 0, 0,
     "add X-Consent-Milter"},
    {"milter", "log_level", K_LEVEL, CO(log_level), "info", NULL, 0, 0,
     "err, warn, info or debug (addresses only at debug)"},
    {"milter", "pid_file", K_PATH, CO(pid_file), NULL, NULL, 0, 0, "write the pid here"},
    {"milter", "rules", K_PATH, CO(rules), "trackers.rules", NULL, 0, 0,
     "tracker rules file (relative to this file's directory)"},
    {"milter", "workers", K_UINT, CO(workers_hint), "64", NULL, 1, 4096,
     "expected worker threads (sizes LMDB readers)"},
    {"milter", "timeout", K_UINT, CO(timeout), "30", NULL, 1, 3600,
     "libmilter socket timeout, seconds"},
    {"gate", "url", K_URL, CO(gate_url), "https://consent.invalid", NULL, 0, 0,
     "public base URL of consent-gate (https)"},
    {"gate", "keys", K_PATH, CO(gate_keys), "/etc/consent-milter/keys", NULL, 0, 0,
     "token keys file"},
    {"gate", "listen", K_STR, CO(gate_listen), "127.0.0.1:8025", NULL, 0, 0,
     "HOST:PORT the gate listens on"},
    {"gate", "threads", K_UINT, CO(gate_threads), "4", NULL, 1, 256, "worker threads"},
    {"gate", "timeout", K_UINT, CO(gate_timeout), "10", NULL, 1, 300,
     "seconds a connection may stay idle"},
    {"gate", "language", K_LANG, CO(gate_language), "en", lang_names, 0, 0,
     "page language when none fits"},
    {"domain", "controller", K_STR, DO(controller), NULL, NULL, 0, 0,
     "consent owner; default: the domain itself"},
    {"domain", "mode", K_ENUM, DO(mode), "enforce", mode_names, 0, 0,
     "enforce, monitor, never-track or off"},
    {"domain", "pixel_purposes", K_PURPOSES, DO(pixel_purposes), "opens", NULL, 0, 0,
     "purposes a kept pixel serves"},
    {"domain", "clicks", K_ENUM, DO(clicks), "consent", clicks_names, 0, 0,
     "consent or free"},
    {"domain", "no_consent_pixels", K_ENUM, DO(no_consent_pixels), "strip", nopix_names, 0, 0,
     "strip or anonymous"},
    {"domain", "opaque_links", K_ENUM, DO(opaque_links), "keep", opaque_names, 0, 0,
     "keep or interstitial"},
    {"domain", "gate_kept", K_BOOL, DO(gate_kept), "yes", NULL, 0, 0,
     "route kept trackers through the gate"},
    {"domain", "transactional", K_RULES, DO(transactional), NULL, NULL, 0, 0,
     "rules: header:NAME: GLOB or sender:GLOB, separated by ';'"},
    {"domain", "auth", K_RULES, DO(auth), NULL, NULL, 0, 0, "rules, as transactional"},
    {"domain", "footer_html", K_PATH, DO(footer_html), "footer-{language}.html", NULL, 0, 0,
     "withdrawal footer template (HTML)"},
    {"domain", "footer_text", K_PATH, DO(footer_text), "footer-{language}.txt", NULL, 0, 0,
     "withdrawal footer template (text)"},
    {"domain", "request_html", K_PATH, DO(request_html), "request-{language}.html", NULL, 0, 0,
     "preferences-link template for tracker-free mail (HTML)"},
    {"domain", "request_text", K_PATH, DO(request_text), "request-{language}.txt", NULL, 0, 0,
     "preferences-link template (text)"},
    {"domain", "language", K_LANG, DO(language), "en", lang_names, 0, 0, "fr or en"},
    {"domain", "consent_request_link", K_BOOL, DO(consent_request_link), "no", NULL, 0, 0,
     "add the preferences link to tracker-free mail"},
    {"domain", "esp_headers", K_BOOL, DO(esp_headers), "no", NULL, 0, 0,
     "add ESP no-track headers for non-consenting recipients"},
    {"domain", "dkim_signed", K_ENUM, DO(dkim_signed), "rewrite", dkim_names, 0, 0,
     "already DKIM-signed input: rewrite, skip or tempfail"},
    {"domain", "store_source", K_BOOL, DO(store_source), "no", NULL, 0, 0,
     "store IP and user agent with consent events"},
    {"domain", "api_key", K_STR, DO(api_key), NULL, NULL, 0, 0,
     "bearer key for POST /api/v1/consent"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const struct keydef *key_find(const char *section, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcasecmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* ---- class rules ------------------------------------------------------ */

static void rules_free(struct cfg_class_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].header);
        free(r[i].pattern);
        free(r[i].text);
    }
    free(r);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* One rule: "header:NAME: GLOB" or "sender:GLOB". */
static int rule_parse(char *text, struct cfg_class_rule *r, const char **why)
{
    char *colon;

    memset(r, 0, sizeof *r);
    if (strncasecmp(text, "sender:", 7) == 0) {
        char *pat = trim(text + 7);
        if (*pat == '\0')
            return *why = "empty sender pattern", -1;
        r->pattern = strdup(pat);
    } else if (strncasecmp(text, "header:", 7) == 0) {
        char *name = text + 7;
        colon = strchr(name, ':');
        if (colon == NULL)
            return *why = "header rule needs 'header:NAME: VALUE'", -1;
        *colon = '\0';
        name = trim(name);
        if (*name == '\0' || strpbrk(name, " \t"))
            return *why = "bad header name in rule", -1;
        r->is_header = 1;
        r->header = strdup(name);
        r->pattern = strdup(trim(colon + 1));
        *colon = ':';
    } else {
        return *why = "rule must start with 'header:' or 'sender:'", -1;
    }
    r->text = strdup(text);
    if (!r->pattern || !r->text || (r->is_header && !r->header))
        return *why = "out of memory", -1;
    return 0;
}

static int rules_add(const char *value, struct cfg_class_rule **rv, size_t *rn,
                     const char **why)
{
    char *copy = strdup(value), *save = NULL, *tok;
    int rc = 0;

    if (copy == NULL)
        return *why = "out of memory", -1;
    for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        struct cfg_class_rule *nv;
        char *t = trim(tok);
        if (*t == '\0')
            continue;
        nv = realloc(*rv, (*rn + 1) * sizeof **rv);
        if (nv == NULL) {
            *why = "out of memory";
            rc = -1;
            break;
        }
        *rv = nv;
        if (rule_parse(t, &nv[*rn], why) != 0) {
            free(nv[*rn].header);
            free(nv[*rn].pattern);
            free(nv[*rn].text);
            rc = -1;
            break;
        }
        (*rn)++;
    }
    free(copy);
    return rc;
}

/* ---- applying one value ------------------------------------------------ */

static int valid_socket(const char *v)
{
    if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
        const char *p = strchr(v, ':') + 1;
        return *p == '/' && strlen(p) < 108;
    }
    if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
        const char *p = strchr(v, ':') + 1;
        unsigned port;
        char *end;
        unsigned long n = strtoul(p, &end, 10);
        port = (unsigned)n;
        return end != p && port > 0 && n < 65536 && (*end == '\0' || *end == '@');
    }
    return 0;
}

/* https, or http on a loopback host (tests, demos). No query or fragment. */
static int valid_gate_url(const char *v)
{
    static const char *const loop[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};

    if (strpbrk(v, "?# \t\"'<>\\"))
        return 0;
    if (strncmp(v, "https://", 8) == 0)
        return v[8] != '\0' && v[8] != '/';
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(loop[i]);
        if (strncmp(v, loop[i], n) == 0 && (v[n] == '\0' || v[n] == ':' || v[n] == '/'))
            return 1;
    }
    return 0;
}

static int set_str(char **slot, const char *v)
{
    char *n = strdup(v);

    if (n == NULL)
        return -1;
    free(*slot);
    *slot = n;
    return 0;
}

/* Apply value to the field at base+k->off. Returns 0 or -1 with *why. */
static int key_apply(const struct keydef *k, void *base, const char *v, const char **why)
{
    char *field = (char *)base + k->off;
    int iv;

    switch (k->type) {
    case K_SOCKET:
        if (!valid_socket(v))
            return *why = "expected unix:/ABSOLUTE/PATH or inet:PORT@HOST", -1;
        return set_str((char **)field, v);
    case K_URL:
        if (!valid_gate_url(v))
            return *why = "expected an https:// base URL without query (http only on loopback)", -1;
        if (set_str((char **)field, v) != 0)
            return *why = "out of memory", -1;
        { /* no trailing slash: links are built as url + "/w/" + token */
            char *s = *(char **)field;
            size_t n = strlen(s);
            while (n > 8 && s[n - 1] == '/')
                s[--n] = '\0';
        }
        return 0;
    case K_STR:
    case K_PATH:
        if (*v == '\0')
            return *why = "empty value", -1;
        return set_str((char **)field, v) ? (*why = "out of memory", -1) : 0;
    case K_LANG:
        if (parse_enum(v, k->names, &iv) != 0)
            return *why = "expected fr or en", -1;
        return set_str((char **)field, k->names[iv]) ? (*why = "out of memory", -1) : 0;
    case K_BOOL:
        if (parse_bool(v, (int *)field) != 0)
            return *why = "expected yes or no", -1;
        return 0;
    case K_ENUM:
        if (parse_enum(v, k->names, (int *)field) != 0)
            return *why = "value not allowed here (see consent-milter.conf(5))", -1;
        return 0;
    case K_SIZE:
        if (parse_size(v, (size_t *)field) != 0 || *(size_t *)field == 0)
            return *why = "expected a size such as 512k, 50M or 1G", -1;
        return 0;
    case K_UINT:
        if (parse_uint(v, (unsigned *)field, k->min, k->max) != 0)
            return *why = "expected a whole number in range", -1;
        return 0;
    case K_LEVEL:
        if ((iv = log_level_parse(v)) < 0)
            return *why = "expected err, warn, info or debug", -1;
        *(int *)field = iv;
        return 0;
    case K_PURPOSES: {
        const char *bad = NULL;
        if (store_purposes_parse(v, (uint32_t *)field, &bad) != 0 || *(uint32_t *)field == 0)
            return *why = "unknown or empty purpose list (opens, clicks, profiling, fraud)", -1;
        return 0;
    }
    case K_RULES: {
        struct cfg_class_rule **rv = (struct cfg_class_rule **)field;
        size_t *rn = (size_t *)(field + sizeof(struct cfg_class_rule *));
        return rules_add(v, rv, rn, why);
    }
    }
    return *why = "internal: bad key type", -1;
}

_Static_assert(offsetof(struct cfg_domain, ntransactional) ==
                   offsetof(struct cfg_domain, transactional) + sizeof(void *),
               "K_RULES expects the count right after the vector");
_Static_assert(offsetof(struct cfg_domain, nauth) ==
                   offsetof(struct cfg_domain, auth) + sizeof(void *),
               "K_RULES expects the count right after the vector");

/* ---- inih plumbing ---------------------------------------------------- */

struct reader {
    const char *p, *end;
    struct parse_state *ps;
};

/* Hands inih one line at a time so we know the line number, and refuses
 * lines longer than inih's buffer instead of letting it split them. */
static char *line_reader(char *str, int num, void *stream)
{
    struct reader *r = stream;
    const char *nl;
    size_t n;

    if (r->p >= r->end)
        return NULL;
    nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    n = nl ? (size_t)(nl - r->p) + 1 : (size_t)(r->end - r->p);
    r->ps->line++;
    if (n + 1 > (size_t)num) {
        set_err(r->ps, r->ps->line, "line too long (at most %d characters)", num - 3);
        n = 0; /* feed an empty line; the error is already recorded */
        r->p += nl ? (size_t)(nl - r->p) + 1 : (size_t)(r->end - r->p);
        str[0] = '\n';
        str[1] = '\0';
        return str;
    }
    if (memchr(r->p, '\0', n)) {
        set_err(r->ps, r->ps->line, "NUL byte in configuration");
        str[0] = '\n';
        str[1] = '\0';
        r->p += n;
        return str;
    }
    memcpy(str, r->p, n);
    str[n] = '\0';
    r->p += n;
    return str;
}

static int section_seen(struct parse_state *ps, const char *name)
{
    char **nv;
    int *nl;

    for (size_t i = 0; i < ps->nsections; i++)
        if (strcasecmp(ps->sections[i], name) == 0)
            return 0;
    if (ps->nsections >= CFG_MAX_DOMAINS)
        return -1;
    nv = realloc(ps->sections, (ps->nsections + 1) * sizeof *nv);
    if (nv == NULL)
        return -1;
    ps->sections = nv;
    nl = realloc(ps->section_lines, (ps->nsections + 1) * sizeof *nl);
    if (nl == NULL)
        return -1;
    ps->section_lines = nl;
    if ((nv[ps->nsections] = strdup(name)) == NULL)
        return -1;
    nl[ps->nsections++] = ps->line;
    return 0;
}

static int valid_domain_name(const char *d)
{
    if (strcmp(d, "*") == 0)
        return 1;
    if (*d == '\0' || *d == '.' || strlen(d) > 253)
        return 0;
    for (const char *p = d; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

static int handle_domain_kv(struct parse_state *ps, const char *dom, const char *name,
                            const char *value)
{
    struct raw_kv *nv;

    if (!valid_domain_name(dom)) {
        set_err(ps, ps->line, "bad domain name in section [domain %s]", dom);
        return 0;
    }
    if (key_find("domain", name) == NULL) {
        set_err(ps, ps->line, "unknown key '%s' in [domain %s]", name, dom);
        return 0;
    }
    if (section_seen(ps, dom) != 0) {
        set_err(ps, ps->line, "too many domain sections or out of memory");
        return 0;
    }
    if (ps->nkv == ps->capkv) {
        size_t cap = ps->capkv ? ps->capkv * 2 : 32;
        nv = realloc(ps->kv, cap * sizeof *nv);
        if (nv == NULL)
            return set_err(ps, ps->line, "out of memory"), 0;
        ps->kv = nv;
        ps->capkv = cap;
    }
    nv = &ps->kv[ps->nkv];
    nv->section = strdup(dom);
    nv->key = strdup(name);
    nv->value = strdup(value);
    nv->line = ps->line;
    ps->nkv++;
    if (!nv->section || !nv->key || !nv->value)
        return set_err(ps, ps->line, "out of memory"), 0;
    return 1;
}

static int cfg_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *ps = user;
    const struct keydef *k;
    const char *why = NULL;

    if (ps->err[0])
        return 0;
    if (strncasecmp(section, "domain", 6) == 0 && (section[6] == ' ' || section[6] == '\t')) {
        char dom[256];
        snprintf(dom, sizeof dom, "%s", section + 7);
        return handle_domain_kv(ps, trim(dom), name, value);
    }
    if (strcasecmp(section, "milter") != 0 && strcasecmp(section, "gate") != 0) {
        set_err(ps, ps->line, "unknown section [%s] (expected [milter], [gate] or [domain NAME])",
                section);
        return 0;
    }
    k = key_find(strcasecmp(section, "milter") == 0 ? "milter" : "gate", name);
    if (k == NULL) {
        set_err(ps, ps->line, "unknown key '%s' in [%s]", name, section);
        return 0;
    }
    if (key_apply(k, ps->c, value, &why) != 0) {
        set_err(ps, ps->line, "%s: %s", name, why);
        return 0;
    }
    return 1;
}

/* ---- defaults, domains, templates ---------------------------------------- */

static int apply_defaults(const char *section, void *base, struct parse_state *ps)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const char *why = NULL;
        if (strcmp(keys[i].section, section) != 0 || keys[i].def == NULL)
            continue;
        if (key_apply(&keys[i], base, keys[i].def, &why) != 0) {
            set_err(ps, 0, "internal default for %s: %s", keys[i].name, why);
            return -1;
        }
    }
    return 0;
}

static void domain_clear(struct cfg_domain *d)
{
    free(d->name);
    free(d->controller);
    rules_free(d->transactional, d->ntransactional);
    rules_free(d->auth, d->nauth);
    free(d->footer_html);
    free(d->footer_text);
    free(d->request_html);
    free(d->request_text);
    free(d->footer_html_tpl);
    free(d->footer_text_tpl);
    free(d->request_html_tpl);
    free(d->request_text_tpl);
    free(d->language);
    free(d->api_key);
    memset(d, 0, sizeof *d);
}

static struct cfg_class_rule *rules_copy(const struct cfg_class_rule *r, size_t n)
{
    struct cfg_class_rule *c;

    if (n == 0)
        return NULL;
    if ((c = calloc(n, sizeof *c)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].is_header = r[i].is_header;
        c[i].header = xstrdup(r[i].header);
        c[i].pattern = xstrdup(r[i].pattern);
        c[i].text = xstrdup(r[i].text);
    }
    return c;
}

/* Deep copy of the default domain as the starting point of another. */
static int domain_copy(struct cfg_domain *dst, const struct cfg_domain *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->controller = xstrdup(src->controller);
    dst->transactional = rules_copy(src->transactional, src->ntransactional);
    dst->auth = rules_copy(src->auth, src->nauth);
    dst->footer_html = xstrdup(src->footer_html);
    dst->footer_text = xstrdup(src->footer_text);
    dst->request_html = xstrdup(src->request_html);
    dst->request_text = xstrdup(src->request_text);
    dst->footer_html_tpl = dst->footer_text_tpl = NULL;
    dst->request_html_tpl = dst->request_text_tpl = NULL;
    dst->language = xstrdup(src->language);
    dst->api_key = xstrdup(src->api_key);
    return 0;
}

static int domain_apply_kvs(struct parse_state *ps, struct cfg_domain *d, const char *name)
{
    const struct keydef *cleared[4] = {NULL};
    size_t ncleared = 0;

    for (size_t i = 0; i < ps->nkv; i++) {
        const struct keydef *k;
        const char *why = NULL;
        int seen = 0;
        if (strcasecmp(ps->kv[i].section, name) != 0)
            continue;
        k = key_find("domain", ps->kv[i].key);
        for (size_t j = 0; j < ncleared; j++)
            seen |= cleared[j] == k;
        if (k->type == K_RULES && !seen && ncleared < 4) {
            /* a section's own rules replace the inherited ones; repeats add */
            struct cfg_class_rule **rv = (struct cfg_class_rule **)((char *)d + k->off);
            size_t *rn = (size_t *)((char *)d + k->off + sizeof(void *));
            rules_free(*rv, *rn);
            *rv = NULL;
            *rn = 0;
            cleared[ncleared++] = k;
        }
        if (key_apply(k, d, ps->kv[i].value, &why) != 0) {
            set_err(ps, ps->kv[i].line, "%s: %s", ps->kv[i].key, why);
            return -1;
        }
    }
    return 0;
}

/* Expand "{language}" in a template path and resolve it against base_dir. */
static char *template_path(const char *base_dir, const char *pattern, const char *lang)
{
    struct buf b = BUF_INIT(PATH_MAX);
    const char *p = pattern, *q;

    if (pattern[0] != '/' && base_dir && base_dir[0]) {
        if (buf_puts(&b, base_dir) || buf_putc(&b, '/'))
            goto fail;
    }
    while ((q = strstr(p, "{language}")) != NULL) {
        if (buf_append(&b, p, (size_t)(q - p)) || buf_puts(&b, lang))
            goto fail;
        p = q + 10;
    }
    if (buf_puts(&b, p) == 0)
        return buf_steal(&b, NULL);
fail:
    buf_free(&b);
    return NULL;
}

static char *read_small_file(const char *path, const char **why)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT(CFG_MAX_TEMPLATE);
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return *why = strerror(errno), NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(&b, chunk, n) != 0) {
            fclose(f);
            buf_free(&b);
            return *why = "file too large (64 KiB max)", NULL;
        }
    }
    fclose(f);
    if (b.data == NULL && buf_append(&b, "", 0) != 0)
        return *why = "out of memory", NULL;
    return buf_steal(&b, NULL);
}

/* Placeholders a footer template may use. */
static int template_check(const char *t, const char **bad)
{
    static const char *const ok[] = {"{withdraw_url}", "{preferences_url}", "{controller}"};
    const char *p = t;

    while ((p = strchr(p, '{')) != NULL) {
        int found = 0;
        for (size_t i = 0; i < 3; i++)
            if (strncmp(p, ok[i], strlen(ok[i])) == 0)
                found = 1;
        if (!found && p[1] >= 'a' && p[1] <= 'z') {
            *bad = p;
            return -1;
        }
        p++;
    }
    return 0;
}

static int load_template(struct parse_state *ps, struct cfg_domain *d, const char *pattern,
                         char **out)
{
    const char *why = NULL, *bad = NULL;
    char *path = template_path(ps->base_dir, pattern, d->language);

    if (path == NULL)
        return set_err(ps, d->line, "out of memory"), -1;
    *out = read_small_file(path, &why);
    if (*out == NULL) {
        set_err(ps, d->line, "[domain %s]: cannot read template %s: %s", d->name, path, why);
        free(path);
        return -1;
    }
    if (template_check(*out, &bad) != 0) {
        char ph[32];
        size_t n = strcspn(bad, "}") + 1;
        snprintf(ph, sizeof ph, "%.*s", (int)(n < 31 ? n : 31), bad);
        set_err(ps, d->line, "[domain %s]: template %s: unknown placeholder %s", d->name, path,
                ph);
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

static int domain_templates(struct parse_state *ps, struct cfg_domain *d)
{
    if (load_template(ps, d, d->footer_html, &d->footer_html_tpl) ||
        load_template(ps, d, d->footer_text, &d->footer_text_tpl) ||
        load_template(ps, d, d->request_html, &d->request_html_tpl) ||
        load_template(ps, d, d->request_text, &d->request_text_tpl))
        return -1;
    return 0;
}

static int build_domains(struct parse_state *ps)
{
    struct cfg *c = ps->c;
    struct cfg_domain *def;
    size_t n = 1;

    for (size_t i = 0; i < ps->nsections; i++)
        if (strcmp(ps->sections[i], "*") != 0)
            n++;
    if ((c->domains = calloc(n, sizeof *c->domains)) == NULL)
        return set_err(ps, 0, "out of memory"), -1;
    def = &c->domains[0];
    c->ndomains = 1;
    def->line = 0;
    if (apply_defaults("domain", def, ps) || (def->name = strdup("*")) == NULL)
        return -1;
    for (size_t i = 0; i < ps->nsections; i++)
        if (strcmp(ps->sections[i], "*") == 0)
            def->line = ps->section_lines[i];
    if (domain_apply_kvs(ps, def, "*") != 0)
        return -1;
    for (size_t i = 0; i < ps->nsections; i++) {
        struct cfg_domain *d = &c->domains[c->ndomains];
        if (strcmp(ps->sections[i], "*") == 0)
            continue;
        domain_copy(d, def);
        c->ndomains++;
        d->line = ps->section_lines[i];
        if ((d->name = strdup(ps->sections[i])) == NULL)
            return set_err(ps, d->line, "out of memory"), -1;
        for (char *p = d->name; *p; p++)
            *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        if (domain_apply_kvs(ps, d, ps->sections[i]) != 0)
            return -1;
        if (d->controller == NULL && (d->controller = strdup(d->name)) == NULL)
            return set_err(ps, d->line, "out of memory"), -1;
    }
    for (size_t i = 0; i < c->ndomains; i++) {
        struct cfg_domain *d = &c->domains[i];
        char norm[256];
        if (d->controller) {
            if (store_controller_normalise(d->controller, norm, sizeof norm) != 0)
                return set_err(ps, d->line, "[domain %s]: bad controller name '%s'", d->name,
                               d->controller), -1;
            free(d->controller);
            d->controller = strdup(norm);
        }
        if (domain_templates(ps, d) != 0)
            return -1;
    }
    return 0;
}

/* ---- public entry points ------------------------------------------------ */

static pthread_once_t ini_once = PTHREAD_ONCE_INIT;

static void ini_setup(void)
{
    /* ';' after a value is part of it (class rules use it); comments are
     * whole lines starting with '#' or ';'. */
    ini_allow_inline_comments = 0;
    ini_allow_multiline = 0;
}

static void state_free(struct parse_state *ps)
{
    for (size_t i = 0; i < ps->nkv; i++) {
        free(ps->kv[i].section);
        free(ps->kv[i].key);
        free(ps->kv[i].value);
    }
    free(ps->kv);
    for (size_t i = 0; i < ps->nsections; i++)
        free(ps->sections[i]);
    free(ps->sections);
    free(ps->section_lines);
}

static void cfg_free(struct cfg *c)
{
    char **strs[] = {&c->socket, &c->database, &c->user, &c->spool_dir, &c->pid_file,
                     &c->rules, &c->gate_url, &c->gate_keys, &c->gate_listen,
                     &c->gate_language, &c->path};

    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < c->ndomains; i++)
        domain_clear(&c->domains[i]);
    free(c->domains);
    free(c);
}

/* Resolve a relative path key against the configuration's directory. */
static int resolve_rel(struct parse_state *ps, char **slot)
{
    char *p;

    if (*slot == NULL || (*slot)[0] == '/' || ps->base_dir == NULL || !ps->base_dir[0])
        return 0;
    if (asprintf(&p, "%s/%s", ps->base_dir, *slot) < 0)
        return -1;
    free(*slot);
    *slot = p;
    return 0;
}

static struct cfg *parse_text(const char *text, size_t len, const char *path,
                              const char *base_dir, char *err, size_t errlen)
{
    struct parse_state ps;
    struct reader rd;
    int rc;

    pthread_once(&ini_once, ini_setup);
    memset(&ps, 0, sizeof ps);
    ps.path = path;
    ps.base_dir = base_dir;
    if ((ps.c = calloc(1, sizeof *ps.c)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    ps.c->refs = 1;
    ps.c->path = strdup(path);
    if (apply_defaults("milter", ps.c, &ps) || apply_defaults("gate", ps.c, &ps))
        goto fail;
    rd.p = text;
    rd.end = text + len;
    rd.ps = &ps;
    rc = ini_parse_stream(line_reader, &rd, cfg_ini_handler, &ps);
    if (rc > 0 && !ps.err[0])
        set_err(&ps, rc, "syntax error (expected [section] or key = value)");
    if (rc < 0 && !ps.err[0])
        set_err(&ps, 0, "out of memory");
    if (ps.err[0] || build_domains(&ps) != 0)
        goto fail;
    if (resolve_rel(&ps, &ps.c->rules) || resolve_rel(&ps, &ps.c->gate_keys))
        goto fail;
    if (ps.c->spool_threshold > ps.c->max_message_size)
        ps.c->spool_threshold = ps.c->max_message_size;
    state_free(&ps);
    return ps.c;
fail:
    if (ps.err_line > 0)
        snprintf(err, errlen, "%s:%d: %s", path, ps.err_line, ps.err[0] ? ps.err : "error");
    else
        snprintf(err, errlen, "%s: %s", path, ps.err[0] ? ps.err : "out of memory");
    state_free(&ps);
    cfg_free(ps.c);
    return NULL;
}

struct cfg *cfg_load_string(const char *text, const char *base_dir, char *err, size_t errlen)
{
    return parse_text(text, strlen(text), "<string>", base_dir, err, errlen);
}

struct cfg *cfg_load(const char *path, char *err, size_t errlen)
{
    const char *why = NULL;
    char *text, *dir, *slash;
    struct cfg *c;
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT(4 * 1024 * 1024);
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != 0) {
            why = "file too large (4 MiB max)";
            break;
        }
    if (ferror(f))
        why = "read error";
    fclose(f);
    if (why) {
        snprintf(err, errlen, "%s: %s", path, why);
        buf_free(&b);
        return NULL;
    }
    buf_append(&b, "", 0);
    dir = strdup(path);
    if (dir == NULL || b.data == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(dir);
        buf_free(&b);
        return NULL;
    }
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    text = b.data;
    c = parse_text(text, b.len, path, dir, err, errlen);
    free(dir);
    buf_free(&b);
    return c;
}

struct cfg *cfg_retain(struct cfg *c)
{
    if (c)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
    return c;
}

void cfg_release(struct cfg *c)
{
    if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
        cfg_free(c);
}

const struct cfg_domain *cfg_domain_for(const struct cfg *c, const char *domain)
{
    const char *d = domain;

    while (d && *d) {
        for (size_t i = 1; i < c->ndomains; i++)
            if (strcasecmp(c->domains[i].name, d) == 0)
                return &c->domains[i];
        d = strchr(d, '.');
        if (d)
            d++;
    }
    return &c->domains[0];
}

static void dump_value(struct buf *b, const struct keydef *k, const void *base)
{
    const char *field = (const char *)base + k->off;

    switch (k->type) {
    case K_STR: case K_PATH: case K_URL: case K_SOCKET: case K_LANG: {
        const char *s = *(char *const *)field;
        buf_printf(b, "%s = %s\n", k->name, s ? s : "");
        break;
    }
    case K_BOOL:
        buf_printf(b, "%s = %s\n", k->name, *(const int *)field ? "yes" : "no");
        break;
    case K_ENUM:
        buf_printf(b, "%s = %s\n", k->name, k->names[*(const int *)field]);
        break;
    case K_SIZE:
        buf_printf(b, "%s = %zu\n", k->name, *(const size_t *)field);
        break;
    case K_UINT:
        buf_printf(b, "%s = %u\n", k->name, *(const unsigned *)field);
        break;
    case K_LEVEL: {
        static const char *lv[] = {"err", "warn", "info", "debug"};
        buf_printf(b, "%s = %s\n", k->name, lv[*(const int *)field & 3]);
        break;
    }
    case K_PURPOSES: {
        uint32_t m = *(const uint32_t *)field;
        const char *sep = "";
        buf_printf(b, "%s = ", k->name);
        for (int i = 0; i < STORE_P_MAX; i++)
            if (m & (1u << i)) {
                buf_printf(b, "%s%s", sep, store_purpose_name(i));
                sep = ",";
            }
        buf_putc(b, '\n');
        break;
    }
    case K_RULES: {
        const struct cfg_class_rule *r = *(struct cfg_class_rule *const *)field;
        size_t n = *(const size_t *)(field + sizeof(void *));
        buf_printf(b, "%s = ", k->name);
        for (size_t i = 0; i < n; i++)
            buf_printf(b, "%s%s", i ? ";" : "", r[i].text);
        buf_putc(b, '\n');
        break;
    }
    }
}

char *cfg_dump(const struct cfg *c)
{
    struct buf b = BUF_INIT(0);
    const char *sections[] = {"milter", "gate"};

    for (size_t s = 0; s < 2; s++) {
        buf_printf(&b, "[%s]\n", sections[s]);
        for (size_t i = 0; i < NKEYS; i++)
            if (strcmp(keys[i].section, sections[s]) == 0)
                dump_value(&b, &keys[i], c);
        buf_putc(&b, '\n');
    }
    for (size_t d = 0; d < c->ndomains; d++) {
        buf_printf(&b, "[domain %s]\n", c->domains[d].name);
        for (size_t i = 0; i < NKEYS; i++)
            if (strcmp(keys[i].section, "domain") == 0)
                dump_value(&b, &keys[i], &c->domains[d]);
        buf_putc(&b, '\n');
    }
    return buf_steal(&b, NULL);
}
