/* cfg_keys - the table of configuration keys (name, type, default, limits)
 * and the typed setters that apply one value; also the effective-config
 * dump. Used by cfg.c's parser (see cfg.h for the contract). Every setter
 * validates fully and reports a short reason; nothing here allocates beyond
 * the field it sets. */
#include "policy/cfg_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/log.h"
#include "store/store.h"

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
    case 'k':
    case 'K':
        mul = 1024ULL;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1024ULL * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1024ULL * 1024 * 1024;
        end++;
        break;
    default:
        break;
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
static const char *const mode_names[] = {"enforce", "monitor", "never-track", "off",
                                         NULL};
static const char *const clicks_names[] = {"consent", "free", NULL};
static const char *const nopix_names[] = {"strip", "anonymous", NULL};
static const char *const opaque_names[] = {"keep", "interstitial", NULL};
static const char *const dkim_names[] = {"rewrite", "skip", "tempfail", NULL};
static const char *const multi_names[] = {"strictest", NULL};
static const char *const class_names[] = {"marketing", "transactional", "auth", NULL};
static const char *const backend_names[] = {"lmdb", "postgresql", NULL};

const char *cfg_mode_name(int mode)
{
    return mode >= 0 && mode < 4 ? mode_names[mode] : "?";
}

const char *cfg_class_name(int cls)
{
    return cls >= 0 && cls < 3 ? class_names[cls] : "?";
}

/* ---- the key table --------------------------------------------------- */

#define CO(f) offsetof(struct cfg, f)
#define DO(f) offsetof(struct cfg_domain, f)

const struct keydef cfg_keys[] = {
    {"milter", "socket", K_SOCKET, CO(socket), "unix:/run/consent-milter/milter.sock",
     NULL, 0, 0, "listening socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST"},
    {"milter", "database", K_PATH, CO(database), "/var/lib/consent-milter", NULL, 0, 0,
     "LMDB consent store directory"},
    {"milter", "user", K_STR, CO(user), NULL, NULL, 0, 0, "drop privileges to this user"},
    {"milter", "on_error", K_ENUM, CO(on_error), "tempfail", onerr_names, 0, 0,
     "what an internal error does to the message"},
    {"milter", "max_message_size", K_SIZE, CO(max_message_size), "50M", NULL, 0, 0,
     "larger messages get on_error"},
    {"milter", "spool_threshold", K_SIZE, CO(spool_threshold), "1M", NULL, 0, 0,
     "bodies above this are spooled to a private temp file"},
    {"milter", "max_memory", K_SIZE, CO(max_memory), "1G", NULL, 0, 0,
     "memory the messages being rewritten share; 0: no limit"},
    {"milter", "spool_dir", K_PATH, CO(spool_dir), "/tmp", NULL, 0, 0, "spool directory"},
    {"milter", "multi_recipient", K_ENUM, CO(multi_recipient), "strictest", multi_names,
     0, 0, "several recipients in one transaction"},
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
    {"milter", "metrics_textfile", K_PATH, CO(metrics_textfile), NULL, NULL, 0, 0,
     "Prometheus textfile for node_exporter (absolute .prom path); none by default"},
    {"milter", "metrics_interval", K_UINT, CO(metrics_interval), "15", NULL, 1, 3600,
     "seconds between metrics_textfile writes"},
    {"gate", "url", K_URL, CO(gate_url), "https://consent.invalid", NULL, 0, 0,
     "public base URL of consent-gate (https)"},
    {"gate", "keys", K_PATH, CO(gate_keys), "/etc/consent-milter/keys", NULL, 0, 0,
     "token keys file"},
    {"gate", "listen", K_STR, CO(gate_listen), "127.0.0.1:8025", NULL, 0, 0,
     "HOST:PORT the gate listens on"},
    {"gate", "threads", K_UINT, CO(gate_threads), "4", NULL, 1, 256, "worker threads"},
    {"gate", "timeout", K_UINT, CO(gate_timeout), "10", NULL, 1, 300,
     "seconds a connection may stay idle"},
    {"gate", "trusted_proxies", K_CIDRS, CO(gate_trusted), NULL, NULL, 0, 0,
     "addresses/ranges whose X-Forwarded-For names the client"},
    {"gate", "per_ip_limit", K_UINT, CO(gate_per_ip_limit), "128", NULL, 0, 100000,
     "connections per client address (0: no limit; trusted proxies exempt)"},
    {"gate", "metrics_listen", K_STR, CO(gate_metrics_listen), "127.0.0.1:9025", NULL, 0,
     0, "HOST:PORT of the /metrics listener, apart from the public one; off: none"},
    {"gate", "metrics_allow", K_CIDRS, CO(gate_metrics_allow), NULL, NULL, 0, 0,
     "addresses/ranges allowed on metrics_listen (none: every peer that reaches it)"},
    {"gate", "language", K_LANG, CO(gate_language), "en", NULL, 0, 0,
     "page language when none fits (its pages must exist)"},
    {"store", "backend", K_ENUM, CO(store_backend), "lmdb", backend_names, 0, 0,
     "lmdb (one host) or postgresql (system of record, local replicas)"},
    {"store", "conninfo", K_CONNINFO, CO(store_conninfo), NULL, NULL, 0, 0,
     "libpq connection string of the primary (no password: use passfile)"},
    {"store", "passfile", K_PATH, CO(store_passfile), NULL, NULL, 0, 0,
     "libpq password file, mode 0600 (relative to this file's directory)"},
    {"store", "replica", K_PATH, CO(store_replica), NULL, NULL, 0, 0,
     "local LMDB replica directory; default: [milter] database"},
    {"store", "max_staleness", K_UINT, CO(store_max_staleness), "60", NULL, 1, 86400,
     "seconds without a sync before the milter decides as if nobody consented"},
    {"store", "poll_interval", K_UINT, CO(store_poll_interval), "5", NULL, 1, 3600,
     "seconds between consent-sync polls of the primary"},
    {"domain", "controller", K_STR, DO(controller), NULL, NULL, 0, 0,
     "consent owner; default: the domain itself"},
    {"domain", "mode", K_ENUM, DO(mode), "enforce", mode_names, 0, 0,
     "enforce, monitor, never-track or off"},
    {"domain", "pixel_purposes", K_PURPOSES, DO(pixel_purposes), "opens", NULL, 0, 0,
     "purposes a kept pixel serves"},
    {"domain", "clicks", K_ENUM, DO(clicks), "consent", clicks_names, 0, 0,
     "consent or free"},
    {"domain", "no_consent_pixels", K_ENUM, DO(no_consent_pixels), "strip", nopix_names,
     0, 0, "strip or anonymous"},
    {"domain", "opaque_links", K_ENUM, DO(opaque_links), "keep", opaque_names, 0, 0,
     "keep or interstitial"},
    {"domain", "gate_kept", K_BOOL, DO(gate_kept), "yes", NULL, 0, 0,
     "route kept trackers through the gate"},
    {"domain", "transactional", K_RULES, DO(transactional), NULL, NULL, 0, 0,
     "rules: header:NAME: GLOB or sender:GLOB, separated by ';'"},
    {"domain", "auth", K_RULES, DO(auth), NULL, NULL, 0, 0, "rules, as transactional"},
    {"domain", "footer_html", K_PATH, DO(footer_html), "footer-{language}.html", NULL, 0,
     0, "withdrawal footer template (HTML)"},
    {"domain", "footer_text", K_PATH, DO(footer_text), "footer-{language}.txt", NULL, 0,
     0, "withdrawal footer template (text)"},
    {"domain", "request_html", K_PATH, DO(request_html), "request-{language}.html", NULL,
     0, 0, "preferences-link template for tracker-free mail (HTML)"},
    {"domain", "request_text", K_PATH, DO(request_text), "request-{language}.txt", NULL,
     0, 0, "preferences-link template (text)"},
    {"domain", "language", K_LANG, DO(language), "en", NULL, 0, 0,
     "language of footers and pages: one whose templates exist (en, fr, de, it, es)"},
    {"domain", "jurisdiction", K_COUNTRY, DO(jurisdiction), "FR", NULL, 0, 0,
     "the controller's country (ISO 3166-1 alpha-2), named in consent receipts"},
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
const size_t cfg_nkeys = sizeof cfg_keys / sizeof cfg_keys[0];

const struct keydef *cfg_key_find(const char *section, const char *name)
{
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (strcmp(cfg_keys[i].section, section) == 0 &&
            strcasecmp(cfg_keys[i].name, name) == 0)
            return &cfg_keys[i];
    return NULL;
}

/* ---- class rules ------------------------------------------------------ */

void cfg_rules_free(struct cfg_class_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].header);
        free(r[i].pattern);
        free(r[i].text);
    }
    free(r);
}

char *cfg_trim(char *s)
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
    /* the rule as written, before cfg_trim cuts the header name in place
     * (a blank before its colon ended the text there) */
    if ((r->text = strdup(text)) == NULL)
        return *why = "out of memory", -1;
    if (strncasecmp(text, "sender:", 7) == 0) {
        char *pat = cfg_trim(text + 7);
        if (*pat == '\0')
            return *why = "empty sender pattern", -1;
        r->pattern = strdup(pat);
    } else if (strncasecmp(text, "header:", 7) == 0) {
        char *name = text + 7;
        colon = strchr(name, ':');
        if (colon == NULL)
            return *why = "header rule needs 'header:NAME: VALUE'", -1;
        *colon = '\0';
        name = cfg_trim(name);
        if (*name == '\0' || strpbrk(name, " \t"))
            return *why = "bad header name in rule", -1;
        r->is_header = 1;
        r->header = strdup(name);
        r->pattern = strdup(cfg_trim(colon + 1));
        *colon = ':';
    } else {
        return *why = "rule must start with 'header:' or 'sender:'", -1;
    }
    if (!r->pattern || (r->is_header && !r->header))
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
        char *t = cfg_trim(tok);
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
    static const char *const loop[] = {"http://127.0.0.1", "http://localhost",
                                       "http://[::1]"};

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

/* v is min..max ASCII letters: lowercased into out (max + 1 bytes). */
static int letters(const char *v, size_t min, size_t max, char *out)
{
    size_t n = strlen(v);

    if (n < min || n > max)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (i < n && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return -1;
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    return 0;
}

/* ---- libpq connection strings ------------------------------------------ */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int conninfo_check(const char *v, int depth, const char **why);

/* "postgresql://[user[:password]@]host.../db?key=value&...": no password
 * in the user part nor as a parameter. */
static int conninfo_uri(const char *v, const char **why)
{
    const char *auth = strstr(v, "://") + 3, *end = auth + strcspn(auth, "/?");
    const char *at = NULL, *q = strchr(auth, '?');

    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL)
        return *why = "a password in the connection string (use passfile)", -1;
    for (const char *p = q; p != NULL && *p; p = strchr(p, '&')) {
        p++;
        if (strncasecmp(p, "password=", 9) == 0)
            return *why = "a password in the connection string (use passfile)", -1;
    }
    return 0;
}

/* "key = value ..." (values bare or single-quoted with backslash escapes);
 * no key may be password, and a dbname that is itself a connection string
 * is checked too (libpq expands it). */
static int conninfo_check(const char *v, int depth, const char **why)
{
    char key[64], val[1024];

    if (strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0)
        return conninfo_uri(v, why);
    for (const char *p = v;;) {
        size_t kn = 0, vn = 0;
        while (is_space(*p))
            p++;
        if (*p == '\0')
            return 0;
        while (*p && *p != '=' && !is_space(*p))
            if (kn + 1 < sizeof key)
                key[kn++] = *p++;
            else
                return *why = "connection string key too long", -1;
        key[kn] = '\0';
        while (is_space(*p))
            p++;
        if (*p++ != '=' || kn == 0)
            return *why = "expected key=value pairs or a postgresql:// URI", -1;
        while (is_space(*p))
            p++;
        int quoted = *p == '\'';
        p += quoted;
        for (; *p && (quoted ? *p != '\'' : !is_space(*p)); p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (vn + 1 >= sizeof val)
                return *why = "connection string value too long", -1;
            val[vn++] = *p;
        }
        val[vn] = '\0';
        if (quoted && *p++ != '\'')
            return *why = "unterminated quote in connection string", -1;
        if (strcasecmp(key, "password") == 0)
            return *why = "a password in the connection string (use passfile)", -1;
        if (strcasecmp(key, "dbname") == 0 && depth == 0 &&
            (strchr(val, '=') != NULL || strstr(val, "://") != NULL) &&
            conninfo_check(val, 1, why) != 0)
            return -1;
    }
}

/* Apply value to the field at base+k->off. Returns 0 or -1 with *why. */
int cfg_key_apply(const struct keydef *k, void *base, const char *v, const char **why)
{
    char *field = (char *)base + k->off;
    char lang[4];
    int iv;

    switch (k->type) {
    case K_SOCKET:
        if (!valid_socket(v))
            return *why = "expected unix:/ABSOLUTE/PATH or inet:PORT@HOST", -1;
        return set_str((char **)field, v);
    case K_URL:
        if (!valid_gate_url(v))
            return *why = "expected an https:// base URL without query (http only on "
                          "loopback)",
                   -1;
        if (set_str((char **)field, v) != 0)
            return *why = "out of memory", -1;
        { /* no trailing slash: links are built as url + "/w/" + token */
            char *s = *(char **)field;
            size_t n = strlen(s);
            while (n > 8 && s[n - 1] == '/')
                s[--n] = '\0';
        }
        return 0;
    case K_CONNINFO:
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t')
                return *why = "control character in connection string", -1;
        if (*v == '\0')
            return *why = "empty value", -1;
        if (conninfo_check(v, 0, why) != 0)
            return -1;
        return set_str((char **)field, v) ? (*why = "out of memory", -1) : 0;
    case K_STR:
    case K_PATH:
        if (*v == '\0')
            return *why = "empty value", -1;
        /* read by node_exporter from its own directory: no relative path */
        if (strcmp(k->name, "metrics_textfile") == 0 && *v != '/')
            return *why = "expected an absolute path (node_exporter's textfile directory)",
                   -1;
        return set_str((char **)field, v) ? (*why = "out of memory", -1) : 0;
    case K_LANG: /* which languages exist is the templates' business (cfg.c) */
        if (letters(v, 2, 3, lang) != 0)
            return *why = "expected a language code of 2 or 3 letters (ISO 639-1: "
                          "en, fr, de, it, es)",
                   -1;
        return set_str((char **)field, lang) ? (*why = "out of memory", -1) : 0;
    case K_COUNTRY:
        if (letters(v, 2, 2, lang) != 0)
            return *why = "expected a two-letter country code (ISO 3166-1 alpha-2: "
                          "FR, IT, DE, ...)",
                   -1;
        for (char *p = lang; *p; p++)
            *p = (char)(*p - 'a' + 'A');
        return set_str((char **)field, lang) ? (*why = "out of memory", -1) : 0;
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
        if (store_purposes_parse(v, (uint32_t *)field, &bad) != 0 ||
            *(uint32_t *)field == 0)
            return *why =
                       "unknown or empty purpose list (opens, clicks, profiling, fraud)",
                   -1;
        return 0;
    }
    case K_RULES: {
        struct cfg_class_rule **rv = (struct cfg_class_rule **)field;
        size_t *rn = (size_t *)(field + sizeof(struct cfg_class_rule *));
        return rules_add(v, rv, rn, why);
    }
    case K_CIDRS: { /* the key's value is the whole list: a repeat replaces it */
        struct cidr **cv = (struct cidr **)field, *nv;
        size_t nn;
        if (cidr_list_parse(v, &nv, &nn, why) != 0)
            return -1;
        free(*cv);
        *cv = nv;
        *(size_t *)(field + sizeof(struct cidr *)) = nn;
        return 0;
    }
    }
    return *why = "internal: bad key type", -1;
}

_Static_assert(offsetof(struct cfg_domain, ntransactional) ==
                   offsetof(struct cfg_domain, transactional) + sizeof(void *),
               "K_RULES expects the count right after the vector");
_Static_assert(offsetof(struct cfg, ngate_trusted) ==
                   offsetof(struct cfg, gate_trusted) + sizeof(void *),
               "K_CIDRS expects the count right after the vector");
_Static_assert(offsetof(struct cfg, ngate_metrics_allow) ==
                   offsetof(struct cfg, gate_metrics_allow) + sizeof(void *),
               "K_CIDRS expects the count right after the vector");
_Static_assert(offsetof(struct cfg_domain, nauth) ==
                   offsetof(struct cfg_domain, auth) + sizeof(void *),
               "K_RULES expects the count right after the vector");

struct cfg_class_rule *cfg_rules_copy(const struct cfg_class_rule *r, size_t n)
{
    struct cfg_class_rule *c;

    if (n == 0)
        return NULL;
    if ((c = calloc(n, sizeof *c)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].is_header = r[i].is_header;
        c[i].header = cfg_strdup(r[i].header);
        c[i].pattern = cfg_strdup(r[i].pattern);
        c[i].text = cfg_strdup(r[i].text);
    }
    return c;
}

static void dump_value(struct buf *b, const struct keydef *k, const void *base)
{
    const char *field = (const char *)base + k->off;

    switch (k->type) {
    case K_STR:
    case K_PATH:
    case K_CONNINFO:
    case K_URL:
    case K_SOCKET:
    case K_LANG:
    case K_COUNTRY: {
        const char *s = *(char *const *)field;
        /* unset: a comment, so that the dump loads again (an empty value
         * is an error) */
        buf_printf(b, "%s%s = %s\n", s ? "" : ";", k->name, s ? s : "");
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
    case K_CIDRS: {
        const struct cidr *v = *(struct cidr *const *)field;
        size_t n = *(const size_t *)(field + sizeof(void *));
        char one[CIDR_TEXT_MAX + 8];
        buf_printf(b, "%s = ", k->name);
        for (size_t i = 0; i < n; i++) {
            cidr_format(&v[i], one, sizeof one);
            buf_printf(b, "%s%s", i ? ", " : "", one);
        }
        buf_putc(b, '\n');
        break;
    }
    }
}

char *cfg_dump(const struct cfg *c)
{
    struct buf b = BUF_INIT(0);
    const char *sections[] = {"milter", "gate", "store"};

    for (size_t s = 0; s < 3; s++) {
        buf_printf(&b, "[%s]\n", sections[s]);
        for (size_t i = 0; i < cfg_nkeys; i++)
            if (strcmp(cfg_keys[i].section, sections[s]) == 0)
                dump_value(&b, &cfg_keys[i], c);
        buf_putc(&b, '\n');
    }
    for (size_t d = 0; d < c->ndomains; d++) {
        buf_printf(&b, "[domain %s]\n", c->domains[d].name);
        for (size_t i = 0; i < cfg_nkeys; i++)
            if (strcmp(cfg_keys[i].section, "domain") == 0)
                dump_value(&b, &cfg_keys[i], &c->domains[d]);
        buf_putc(&b, '\n');
    }
    return buf_steal(&b, NULL);
}

char *cfg_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}
