/* cfg - INI configuration (SPEC §4.1) parsed with inih into an immutable,
 * refcounted snapshot; see cfg.h.
 *
 * Data flow: text -> inih (our line reader counts lines and refuses over-long
 * ones) -> handler -> key table lookup -> typed setter into struct cfg or a
 * raw per-domain key list. Domain sections are resolved after the whole file
 * is read: every [domain NAME] starts as a copy of [domain *] (which starts
 * from the table defaults) and applies its own keys, so a key set once in
 * [domain *] holds everywhere unless overridden. A key may appear once per
 * section and a section once per file (a repeat would silently override);
 * [milter] user must name an existing user.
 *
 * Failure: the first error wins and is reported as "PATH:LINE: reason"; the
 * partial snapshot is freed. Nothing here exits or logs. */
#include "policy/cfg.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "policy/cfg_int.h"
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
    int milter_line, gate_line, store_line; /* header lines of [milter], [gate],
                                               [store]; 0: none */
    int *key_lines;             /* per cfg_keys[] entry: line it was set, 0: not */
    int line;                   /* current line, from our reader */
    char section[256];          /* the current section header, whole: inih cuts
                                   its copy at 49 bytes, so a long domain name
                                   would put its keys in another section */
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

/* ---- inih plumbing ---------------------------------------------------- */

struct reader {
    const char *p, *end;
    struct parse_state *ps;
};

static void note_section(struct parse_state *ps, const char *line);

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
    if (n + 1 > (size_t)num || memchr(r->p, '\0', n)) {
        if (n + 1 > (size_t)num)
            set_err(r->ps, r->ps->line, "line too long (at most %d characters)", num - 3);
        else
            set_err(r->ps, r->ps->line, "NUL byte in configuration");
        /* Feed an empty line instead: the error is already recorded. */
        r->p += n;
        str[0] = '\n';
        str[1] = '\0';
        return str;
    }
    memcpy(str, r->p, n);
    str[n] = '\0';
    r->p += n;
    note_section(r->ps, str);
    return str;
}

/* Registers a domain section; 0 when new, 1 when already registered (its
 * header line in *first), -1 on error. */
static int section_seen(struct parse_state *ps, const char *name, int *first)
{
    char **nv;
    int *nl;

    for (size_t i = 0; i < ps->nsections; i++)
        if (strcasecmp(ps->sections[i], name) == 0)
            return *first = ps->section_lines[i], 1;
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

/* A second [milter] or [gate] header: the keys of both would merge. */
static void note_fixed_section(struct parse_state *ps, const char *name, int *slot)
{
    if (*slot)
        set_err(ps, ps->line, "section [%s] repeated (first at line %d)", name, *slot);
    else
        *slot = ps->line;
}

/* inih calls the handler only for keys, so a [domain NAME] section with no
 * key of its own would not exist, and its subdomains would fall to
 * [domain *] with themselves as controller. Every section header is
 * therefore registered here, as the line is read; a repeated one is an
 * error (its keys would silently override the first one's). */
static void note_section(struct parse_state *ps, const char *line)
{
    char dom[256];
    const char *end;
    int first = 0, rc;

    line += strspn(line, " \t");
    if (*line != '[' || (end = strchr(line, ']')) == NULL)
        return;
    if ((size_t)(end - line - 1) >= sizeof ps->section) {
        set_err(ps, ps->line, "section name too long");
        return;
    }
    snprintf(ps->section, sizeof ps->section, "%.*s", (int)(end - line - 1), line + 1);
    snprintf(dom, sizeof dom, "%.*s", (int)(end - line - 1), line + 1);
    if (strcasecmp(cfg_trim(dom), "milter") == 0)
        return note_fixed_section(ps, "milter", &ps->milter_line);
    if (strcasecmp(cfg_trim(dom), "gate") == 0)
        return note_fixed_section(ps, "gate", &ps->gate_line);
    if (strcasecmp(cfg_trim(dom), "store") == 0)
        return note_fixed_section(ps, "store", &ps->store_line);
    if (strncasecmp(line + 1, "domain", 6) != 0 || (line[7] != ' ' && line[7] != '\t'))
        return;
    snprintf(dom, sizeof dom, "%.*s", (int)(end - line - 8), line + 8);
    if (!valid_domain_name(cfg_trim(dom)))
        set_err(ps, ps->line, "bad domain name in section [domain %s]", cfg_trim(dom));
    else if ((rc = section_seen(ps, cfg_trim(dom), &first)) < 0)
        set_err(ps, ps->line, "too many domain sections or out of memory");
    else if (rc == 1)
        set_err(ps, ps->line, "section [domain %s] repeated (first at line %d)",
                cfg_trim(dom), first);
}

/* The line of an earlier name in this section, or 0. A section's keys are
 * contiguous in ps->kv (a section cannot repeat), so the walk back stops at
 * the first key of another section. */
static int domain_key_line(const struct parse_state *ps, const char *dom,
                           const char *name)
{
    for (size_t i = ps->nkv; i-- > 0 && strcasecmp(ps->kv[i].section, dom) == 0;)
        if (strcasecmp(ps->kv[i].key, name) == 0)
            return ps->kv[i].line;
    return 0;
}

static int handle_domain_kv(struct parse_state *ps, const char *dom, const char *name,
                            const char *value)
{
    struct raw_kv *nv;
    int first = 0;

    if (!valid_domain_name(dom)) {
        set_err(ps, ps->line, "bad domain name in section [domain %s]", dom);
        return 0;
    }
    if (cfg_key_find("domain", name) == NULL) {
        set_err(ps, ps->line, "unknown key '%s' in [domain %s]", name, dom);
        return 0;
    }
    if (section_seen(ps, dom, &first) < 0) {
        set_err(ps, ps->line, "too many domain sections or out of memory");
        return 0;
    }
    if ((first = domain_key_line(ps, dom, name)) != 0) {
        set_err(ps, ps->line, "key '%s' repeated in [domain %s] (first at line %d)", name,
                dom, first);
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

/* [milter] user must exist now, not only when a daemon starts, so that -n
 * catches a typo; its primary group too (the store files are shared
 * through it). "" means stay as started. */
static int user_check(const char *user, const char **why)
{
    static __thread char msg[160];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    char buf[4096];

    if (user == NULL || *user == '\0')
        return 0;
    if (getpwnam_r(user, &pw, buf, sizeof buf, &pwp) != 0 || pwp == NULL) {
        snprintf(msg, sizeof msg, "no such user '%.64s'", user);
        return *why = msg, -1;
    }
    if (getgrgid_r(pw.pw_gid, &gr, buf, sizeof buf, &grp) != 0 || grp == NULL) {
        snprintf(msg, sizeof msg, "the group %u of user '%.64s' does not exist",
                 (unsigned)pw.pw_gid, user);
        return *why = msg, -1;
    }
    return 0;
}

static int cfg_ini_handler(void *user, const char *section, const char *name,
                           const char *value)
{
    struct parse_state *ps = user;
    const struct keydef *k;
    const char *why = NULL;

    if (ps->err[0])
        return 0;
    if (ps->section[0])
        section = ps->section; /* inih's copy may be cut short */
    if (strncasecmp(section, "domain", 6) == 0 &&
        (section[6] == ' ' || section[6] == '\t')) {
        char dom[256];
        snprintf(dom, sizeof dom, "%s", section + 7);
        return handle_domain_kv(ps, cfg_trim(dom), name, value);
    }
    static const char *const fixed[] = {"milter", "gate", "store"};
    const char *sec = NULL;
    for (size_t i = 0; i < 3; i++)
        if (strcasecmp(section, fixed[i]) == 0)
            sec = fixed[i];
    if (sec == NULL) {
        set_err(ps, ps->line,
                "unknown section [%s] (expected [milter], [gate], [store] or [domain "
                "NAME])",
                section);
        return 0;
    }
    k = cfg_key_find(sec, name);
    if (k == NULL) {
        set_err(ps, ps->line, "unknown key '%s' in [%s]", name, section);
        return 0;
    }
    if (ps->key_lines[k - cfg_keys]) {
        set_err(ps, ps->line, "key '%s' repeated in [%s] (first at line %d)", name,
                section, ps->key_lines[k - cfg_keys]);
        return 0;
    }
    ps->key_lines[k - cfg_keys] = ps->line;
    if (cfg_key_apply(k, ps->c, value, &why) != 0 ||
        (k->off == offsetof(struct cfg, user) && user_check(ps->c->user, &why) != 0)) {
        set_err(ps, ps->line, "%s: %s", name, why);
        return 0;
    }
    return 1;
}

/* ---- defaults, domains, templates ---------------------------------------- */

static int apply_defaults(const char *section, void *base, struct parse_state *ps)
{
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const char *why = NULL;
        if (strcmp(cfg_keys[i].section, section) != 0 || cfg_keys[i].def == NULL)
            continue;
        if (cfg_key_apply(&cfg_keys[i], base, cfg_keys[i].def, &why) != 0) {
            set_err(ps, 0, "internal default for %s: %s", cfg_keys[i].name, why);
            return -1;
        }
    }
    return 0;
}

static void domain_clear(struct cfg_domain *d)
{
    free(d->name);
    free(d->controller);
    cfg_rules_free(d->transactional, d->ntransactional);
    cfg_rules_free(d->auth, d->nauth);
    free(d->footer_html);
    free(d->footer_text);
    free(d->request_html);
    free(d->request_text);
    free(d->footer_html_tpl);
    free(d->footer_text_tpl);
    free(d->request_html_tpl);
    free(d->request_text_tpl);
    free(d->language);
    free(d->jurisdiction);
    free(d->api_key);
    memset(d, 0, sizeof *d);
}

/* Deep copy of the default domain as the starting point of another. */
static int domain_copy(struct cfg_domain *dst, const struct cfg_domain *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->controller = cfg_strdup(src->controller);
    dst->transactional = cfg_rules_copy(src->transactional, src->ntransactional);
    dst->auth = cfg_rules_copy(src->auth, src->nauth);
    dst->footer_html = cfg_strdup(src->footer_html);
    dst->footer_text = cfg_strdup(src->footer_text);
    dst->request_html = cfg_strdup(src->request_html);
    dst->request_text = cfg_strdup(src->request_text);
    dst->footer_html_tpl = dst->footer_text_tpl = NULL;
    dst->request_html_tpl = dst->request_text_tpl = NULL;
    dst->language = cfg_strdup(src->language);
    dst->jurisdiction = cfg_strdup(src->jurisdiction);
    dst->api_key = cfg_strdup(src->api_key);
    return 0;
}

static int domain_apply_kvs(struct parse_state *ps, struct cfg_domain *d,
                            const char *name)
{
    for (size_t i = 0; i < ps->nkv; i++) {
        const struct keydef *k;
        const char *why = NULL;
        if (strcasecmp(ps->kv[i].section, name) != 0)
            continue;
        k = cfg_key_find("domain", ps->kv[i].key);
        if (k->type == K_RULES) {
            /* a section's own rules replace the inherited ones (a key
             * appears at most once per section) */
            struct cfg_class_rule **rv = (struct cfg_class_rule **)((char *)d + k->off);
            size_t *rn = (size_t *)((char *)d + k->off + sizeof(void *));
            cfg_rules_free(*rv, *rn);
            *rv = NULL;
            *rn = 0;
        }
        if (cfg_key_apply(k, d, ps->kv[i].value, &why) != 0) {
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
    struct buf b = BUF_INIT(CFG_MAX_TEMPLATE);
    int e = buf_read_file(&b, path);

    if (e != 0) {
        buf_free(&b);
        errno = e; /* for the caller's "no such language" message */
        return *why = e == EFBIG ? "file too large (64 KiB max)" : strerror(e), NULL;
    }
    return buf_steal(&b, NULL);
}

/* Placeholders a footer template may use. */
static int template_check(const char *t, const char **bad)
{
    static const char *const ok[] = {"{withdraw_url}", "{preferences_url}",
                                     "{controller}"};
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

/* The codes X for which pattern ("footer-{language}.html") names a file,
 * ", "-separated into out: what the message of a missing language offers. */
static void template_langs(const char *base_dir, const char *pattern, char *out,
                           size_t outlen)
{
    const char *slash = strrchr(pattern, '/'), *name = slash ? slash + 1 : pattern;
    const char *ph = strstr(name, "{language}");
    char *dir = NULL;
    size_t used = 0;
    struct dirent **ents = NULL;
    int n = -1;

    out[0] = '\0';
    if (ph == NULL)
        return;
    if (pattern[0] == '/')
        dir = slash == pattern ? strdup("/") : strndup(pattern, (size_t)(slash - pattern));
    else if (asprintf(&dir, "%s/%.*s", base_dir && base_dir[0] ? base_dir : ".",
                      slash ? (int)(slash - pattern) : 1, slash ? pattern : ".") < 0)
        dir = NULL;
    if (dir != NULL && strchr(dir, '{') == NULL)
        n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *e = ents[i]->d_name, *end;
        size_t pre = (size_t)(ph - name), suf = strlen(ph + 10), len = strlen(e);
        if (len > pre + suf && strncmp(e, name, pre) == 0 &&
            strcmp(e + len - suf, ph + 10) == 0 && used < outlen) {
            end = e + len - suf;
            used += (size_t)snprintf(out + used, outlen - used, "%s%.*s", used ? ", " : "",
                                     (int)(end - e - pre), e + pre);
        }
        free(ents[i]);
    }
    free(ents);
    free(dir);
}

/* The line that set d's language: its own key, else the [domain *] one,
 * else the section header. */
static int language_line(const struct parse_state *ps, const struct cfg_domain *d)
{
    int def = d->line;

    for (size_t i = 0; i < ps->nkv; i++)
        if (strcasecmp(ps->kv[i].key, "language") == 0) {
            if (strcasecmp(ps->kv[i].section, d->name) == 0)
                return ps->kv[i].line;
            if (strcmp(ps->kv[i].section, "*") == 0)
                def = ps->kv[i].line;
        }
    return def;
}

static int load_template(struct parse_state *ps, struct cfg_domain *d,
                         const char *pattern, char **out)
{
    const char *why = NULL, *bad = NULL;
    char *path = template_path(ps->base_dir, pattern, d->language);

    if (path == NULL)
        return set_err(ps, d->line, "out of memory"), -1;
    *out = read_small_file(path, &why);
    if (*out == NULL && errno == ENOENT && strstr(pattern, "{language}") != NULL) {
        char have[256];
        template_langs(ps->base_dir, pattern, have, sizeof have);
        set_err(ps, d->language_line,
                "[domain %s]: language = %s: no template %s (languages with "
                "templates: %s)",
                d->name, d->language, path, have[0] ? have : "none");
        free(path);
        return -1;
    }
    if (*out == NULL) {
        set_err(ps, d->line, "[domain %s]: cannot read template %s: %s", d->name, path,
                why);
        free(path);
        return -1;
    }
    if (template_check(*out, &bad) != 0) {
        char ph[32];
        size_t n = strcspn(bad, "}") + 1;
        snprintf(ph, sizeof ph, "%.*s", (int)(n < 31 ? n : 31), bad);
        set_err(ps, d->line, "[domain %s]: template %s: unknown placeholder %s", d->name,
                path, ph);
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
    def->language_line = language_line(ps, def);
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
        d->language_line = language_line(ps, d);
    }
    for (size_t i = 0; i < c->ndomains; i++) {
        struct cfg_domain *d = &c->domains[i];
        char norm[256];
        if (d->controller) {
            if (store_controller_normalise(d->controller, norm, sizeof norm) != 0)
                return set_err(ps, d->line, "[domain %s]: bad controller name '%s'",
                               d->name, d->controller),
                       -1;
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
    free(ps->key_lines);
}

static void cfg_free(struct cfg *c)
{
    char **strs[] = {&c->socket,         &c->database,       &c->user,
                     &c->spool_dir,      &c->pid_file,       &c->rules,
                     &c->gate_url,       &c->gate_keys,      &c->gate_listen,
                     &c->gate_language,  &c->path,           &c->store_conninfo,
                     &c->store_passfile, &c->store_replica,  &c->metrics_textfile,
                     &c->gate_metrics_listen};

    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < c->ndomains; i++)
        domain_clear(&c->domains[i]);
    free(c->domains);
    free(c->gate_trusted);
    free(c->gate_metrics_allow);
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

/* The line that set key `name` of a fixed section, else the section's. */
static int key_line(const struct parse_state *ps, const char *section, const char *name,
                    int section_line)
{
    const struct keydef *k = cfg_key_find(section, name);
    int line = k != NULL ? ps->key_lines[k - cfg_keys] : 0;

    return line ? line : section_line;
}

/* [store]: cross-key rules, the password file's mode, the replica's
 * default. Without the section this only fills that default. */
static int store_check(struct parse_state *ps)
{
    struct cfg *c = ps->c;
    struct stat sb;

    if (c->store_replica == NULL && (c->store_replica = cfg_strdup(c->database)) == NULL)
        return set_err(ps, 0, "out of memory"), -1;
    if (c->store_backend == CFG_STORE_PG && c->store_conninfo == NULL)
        return set_err(ps, key_line(ps, "store", "backend", ps->store_line),
                       "backend = postgresql needs conninfo in [store]"),
               -1;
    /* libpq ignores a password file others can read; say so now. A file
     * not there yet is the reader's business (only consent-sync, the gate
     * and consentctl connect). */
    if (c->store_passfile != NULL && stat(c->store_passfile, &sb) == 0 &&
        (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0))
        return set_err(ps, key_line(ps, "store", "passfile", ps->store_line),
                       "passfile: %s must be a regular file of mode 0600 (chmod 600)",
                       c->store_passfile),
               -1;
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
    if ((ps.key_lines = calloc(cfg_nkeys, sizeof *ps.key_lines)) == NULL) {
        set_err(&ps, 0, "out of memory");
        goto fail;
    }
    if (apply_defaults("milter", ps.c, &ps) || apply_defaults("gate", ps.c, &ps) ||
        apply_defaults("store", ps.c, &ps))
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
    /* every path key (conf(5): relative to the file's directory); the
     * replica before store_check, which defaults it to the database */
    char **paths[] = {&ps.c->rules,    &ps.c->gate_keys, &ps.c->store_passfile,
                      &ps.c->database, &ps.c->spool_dir, &ps.c->pid_file,
                      &ps.c->store_replica};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (resolve_rel(&ps, paths[i]) != 0)
            goto fail;
    if (store_check(&ps) != 0)
        goto fail;
    if (ps.c->spool_threshold > ps.c->max_message_size)
        ps.c->spool_threshold = ps.c->max_message_size;
    state_free(&ps);
    return ps.c;
fail:
    if (ps.err_line > 0)
        snprintf(err, errlen, "%s:%d: %s", path, ps.err_line,
                 ps.err[0] ? ps.err : "error");
    else
        snprintf(err, errlen, "%s: %s", path, ps.err[0] ? ps.err : "out of memory");
    state_free(&ps);
    cfg_free(ps.c);
    return NULL;
}

struct cfg *cfg_load_string(const char *text, const char *base_dir, char *err,
                            size_t errlen)
{
    return parse_text(text, strlen(text), "<string>", base_dir, err, errlen);
}

struct cfg *cfg_load(const char *path, char *err, size_t errlen)
{
    char *text, *dir, *slash;
    struct cfg *c;
    struct buf b = BUF_INIT(4 * 1024 * 1024);
    int e = buf_read_file(&b, path);

    if (e != 0) {
        if (e == EFBIG)
            snprintf(err, errlen, "%s: file too large (4 MiB max)", path);
        else
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        buf_free(&b);
        return NULL;
    }
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
