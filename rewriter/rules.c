/* rules - parse the tracker rules text (conf/trackers.rules) into an
 * immutable struct rw_rules. Matching a URL against it is rules_match.c,
 * the host index built here at the end is rules_index.c.
 *
 * The text is line based: one directive per line, tokens separated by
 * blanks, '#' starts a comment when it begins a token. The grammar is
 * documented at the top of conf/trackers.rules; in short:
 *
 *   format 1                          must come first
 *   version STRING                    exactly once
 *   pixel   NAME HOST PATH [key=K]
 *   wrap    NAME DECODER HOST PATH [key=K] [field=F] [fail=opaque|next]
 *   opaque  NAME HOST PATH [key=K]
 *   protect NAME HOST PATH [key=K]
 *   proxy   NAME DECODER HOST PATH [key=K]
 *   param KEY...  protect-path WORD...  protect-text WORD...
 *   heuristic-word WORD...
 *
 * A token may be a "quoted phrase" (blanks inside, no escapes).
 *
 * The parser takes untrusted bytes (it is fuzzed): every line and token is
 * bounded, NUL bytes and unknown directives are errors, and any error is
 * RW_EINVAL with "line N: reason". The result is immutable and may be
 * shared between threads. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "rewriter/rules_int.h"

#define MAX_LINE 4096
#define MAX_TOKENS 64
#define MAX_NAME 64
#define MAX_RULES 100000
#define MAX_WORDS 100000
/* Format 2 added the "proxy" rule kind and the "fragment" decoder: a
 * parser of format 1 refuses a format 2 file at its first line, not at a
 * rule deep inside it. A format 1 file stays valid. */
#define FORMAT_VERSION 2u

struct pstate {
    struct rw_rules *r;
    unsigned line;
    char *err;
    size_t errlen;
};

static int fail(struct pstate *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct pstate *ps, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ps->err == NULL || ps->errlen == 0)
        return RW_EINVAL;
    n = snprintf(ps->err, ps->errlen, "line %u: ", ps->line);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return RW_EINVAL;
}

static void lower_ascii(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static int words_add(struct rw_wordlist *wl, const char *w)
{
    char *c;

    if (wl->n == wl->cap) {
        size_t ncap = wl->cap ? wl->cap * 2 : 16;
        char **nv = realloc(wl->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return RW_ENOMEM;
        wl->v = nv;
        wl->cap = ncap;
    }
    if ((c = strdup(w)) == NULL)
        return RW_ENOMEM;
    wl->v[wl->n++] = c;
    return RW_OK;
}

static void words_free(struct rw_wordlist *wl)
{
    for (size_t i = 0; i < wl->n; i++)
        free(wl->v[i]);
    free(wl->v);
    free(wl->len);
    memset(wl, 0, sizeof(*wl));
}

void rw_rules_free(struct rw_rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].name);
        free(r->v[i].host);
        free(r->v[i].path);
        free(r->v[i].key);
        free(r->v[i].field);
    }
    free(r->v);
    for (int k = 0; k < RW_RK_N; k++)
        free(r->by_kind[k]);
    rw_rules_index_free(r);
    free(r->version);
    words_free(&r->params);
    words_free(&r->prot_path);
    words_free(&r->prot_text);
    words_free(&r->heur_words);
    free(r);
}

const char *rw_rules_version(const struct rw_rules *r)
{
    return r != NULL && r->version != NULL ? r->version : "";
}

/* Token checks. Everything is printable ASCII unless said otherwise. */
static int is_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MAX_NAME)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && strchr("._:-+", *s) == NULL)
            return 0;
    return 1;
}

static int is_host_glob(const char *s)
{
    if (*s == '\0' || strlen(s) > 255)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && strchr(".-*_", *s) == NULL)
            return 0;
    return 1;
}

static int is_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int is_path_glob(const char *s)
{
    return (s[0] == '/' || s[0] == '*') && is_printable(s) && strchr(s, '?') == NULL &&
           strchr(s, '#') == NULL;
}

static int is_key(const char *s)
{
    return *s != '\0' && is_printable(s) && strpbrk(s, "&=?#") == NULL;
}

/* Options after the positional arguments of a URL rule. */
static int rule_options(struct pstate *ps, struct rw_rule *ru, char **tok, int ntok)
{
    for (int i = 0; i < ntok; i++) {
        if (strncmp(tok[i], "key=", 4) == 0 && ru->key == NULL) {
            if (!is_key(tok[i] + 4))
                return fail(ps, "bad query key \"%.40s\"", tok[i] + 4);
            if ((ru->key = strdup(tok[i] + 4)) == NULL)
                return RW_ENOMEM;
        } else if (strncmp(tok[i], "field=", 6) == 0 && ru->decoder >= 0 &&
                   ru->field == NULL) {
            if (!is_key(tok[i] + 6))
                return fail(ps, "bad field \"%.40s\"", tok[i] + 6);
            if ((ru->field = strdup(tok[i] + 6)) == NULL)
                return RW_ENOMEM;
        } else if (strcmp(tok[i], "fail=next") == 0 && ru->kind == RW_RK_WRAP) {
            ru->fail_next = 1;
        } else if (strcmp(tok[i], "fail=opaque") == 0 && ru->kind == RW_RK_WRAP) {
            ru->fail_next = 0;
        } else {
            return fail(ps, "unknown or repeated option \"%.40s\"", tok[i]);
        }
    }
    if (ru->decoder >= 0 && ru->key == NULL && rw_decoder_needs(ru->decoder) == 'k')
        return fail(ps, "decoder needs key=");
    if (ru->decoder >= 0 && ru->field == NULL &&
        rw_decoder_needs(ru->decoder) == 'f')
        return fail(ps, "decoder needs field=");
    return RW_OK;
}

static int rules_grow(struct rw_rules *r)
{
    struct rw_rule *nv;
    size_t ncap;

    if (r->n < r->cap)
        return RW_OK;
    ncap = r->cap ? r->cap * 2 : 64;
    if ((nv = realloc(r->v, ncap * sizeof(*nv))) == NULL)
        return RW_ENOMEM;
    r->v = nv;
    r->cap = ncap;
    return RW_OK;
}

/* pixel/opaque/protect NAME HOST PATH [opts]; wrap/proxy NAME DECODER HOST PATH [opts] */
static int parse_url_rule(struct pstate *ps, enum rw_rule_kind kind, char **tok, int ntok)
{
    struct rw_rule ru = {.kind = kind, .line = ps->line, .decoder = -1};
    int pos = 1, rc, dec = kind == RW_RK_WRAP || kind == RW_RK_PROXY;

    if (ntok < (dec ? 5 : 4))
        return fail(ps, "%s needs NAME%s HOST PATH", tok[0], dec ? " DECODER" : "");
    if (!is_name(tok[pos]))
        return fail(ps, "bad rule name \"%.40s\"", tok[pos]);
    pos++;
    if (kind == RW_RK_PROXY && ps->r->format < 2)
        return fail(ps, "\"proxy\" needs \"format 2\"");
    if (dec && (ru.decoder = rw_decoder_find(tok[pos++])) < 0)
        return fail(ps, "unknown decoder \"%.40s\"", tok[pos - 1]);
    if (dec && ps->r->format < 2 && strcmp(tok[pos - 1], "fragment") == 0)
        return fail(ps, "decoder \"fragment\" needs \"format 2\"");
    lower_ascii(tok[pos]);
    if (!is_host_glob(tok[pos]))
        return fail(ps, "bad host pattern \"%.40s\"", tok[pos]);
    if (!is_path_glob(tok[pos + 1]))
        return fail(ps, "bad path pattern \"%.40s\" (must start with /)", tok[pos + 1]);
    if (ps->r->n >= MAX_RULES)
        return fail(ps, "too many rules");
    ru.name = strdup(tok[1]);
    ru.host = strdup(tok[pos]);
    ru.path = strdup(tok[pos + 1]);
    rc = (ru.name && ru.host && ru.path)
             ? rule_options(ps, &ru, tok + pos + 2, ntok - pos - 2)
             : RW_ENOMEM;
    if (rc == RW_OK)
        rc = rules_grow(ps->r);
    if (rc != RW_OK) {
        free(ru.name);
        free(ru.host);
        free(ru.path);
        free(ru.key);
        free(ru.field);
        return rc;
    }
    ps->r->v[ps->r->n++] = ru;
    return RW_OK;
}

/* Words are case-folded (UTF-8 aware) so link text matches in any case. */
static int parse_words(struct pstate *ps, struct rw_wordlist *wl, char **tok, int ntok,
                       int fold)
{
    if (ntok < 2)
        return fail(ps, "%s needs at least one word", tok[0]);
    for (int i = 1; i < ntok; i++) {
        char *w;
        int rc;

        if (!g_utf8_validate(tok[i], -1, NULL))
            return fail(ps, "word is not UTF-8");
        if (wl->n >= MAX_WORDS)
            return fail(ps, "too many words");
        if (!fold && !is_key(tok[i]))
            return fail(ps, "bad query key \"%.40s\"", tok[i]);
        w = fold ? g_utf8_casefold(tok[i], -1) : g_strdup(tok[i]);
        if (w == NULL)
            return RW_ENOMEM;
        rc = words_add(wl, w);
        g_free(w);
        if (rc != RW_OK)
            return rc;
    }
    return RW_OK;
}

static int parse_header(struct pstate *ps, char **tok, int ntok)
{
    struct rw_rules *r = ps->r;

    if (strcmp(tok[0], "format") == 0) {
        if (ntok != 2 || r->format != 0 || r->n || r->version)
            return fail(ps,
                        "\"format\" must be the first directive, once, with one value");
        if (strcmp(tok[1], "1") != 0 && strcmp(tok[1], "2") != 0)
            return fail(ps, "unsupported format \"%.20s\" (this parser reads 1 to %u)",
                        tok[1], FORMAT_VERSION);
        r->format = (unsigned)(tok[1][0] - '0');
        return RW_OK;
    }
    if (r->format == 0)
        return fail(ps, "the first directive must be \"format %u\"", FORMAT_VERSION);
    if (ntok != 2 || r->version != NULL)
        return fail(ps, "\"version\" takes one value and appears once");
    if (!is_printable(tok[1]) || strlen(tok[1]) > 64)
        return fail(ps, "bad version string");
    return (r->version = strdup(tok[1])) != NULL ? RW_OK : RW_ENOMEM;
}

static int parse_directive(struct pstate *ps, char **tok, int ntok)
{
    static const struct {
        const char *name;
        enum rw_rule_kind kind;
    } url_kinds[] = {{"pixel", RW_RK_PIXEL},
                     {"wrap", RW_RK_WRAP},
                     {"opaque", RW_RK_OPAQUE},
                     {"protect", RW_RK_PROTECT},
                     {"proxy", RW_RK_PROXY}};
    struct rw_rules *r = ps->r;

    if (strcmp(tok[0], "format") == 0 || strcmp(tok[0], "version") == 0)
        return parse_header(ps, tok, ntok);
    if (r->format == 0)
        return fail(ps, "the first directive must be \"format %u\"", FORMAT_VERSION);
    for (size_t i = 0; i < sizeof(url_kinds) / sizeof(url_kinds[0]); i++)
        if (strcmp(tok[0], url_kinds[i].name) == 0)
            return parse_url_rule(ps, url_kinds[i].kind, tok, ntok);
    if (strcmp(tok[0], "param") == 0)
        return parse_words(ps, &r->params, tok, ntok, 0);
    if (strcmp(tok[0], "protect-path") == 0)
        return parse_words(ps, &r->prot_path, tok, ntok, 1);
    if (strcmp(tok[0], "protect-text") == 0)
        return parse_words(ps, &r->prot_text, tok, ntok, 1);
    if (strcmp(tok[0], "heuristic-word") == 0)
        return parse_words(ps, &r->heur_words, tok, ntok, 1);
    return fail(ps, "unknown directive \"%.40s\"", tok[0]);
}

/* Split one line (NUL-terminated copy, modified in place) into tokens. */
static int tokenize(struct pstate *ps, char *line, char **tok, int *ntok)
{
    char *p = line;

    *ntok = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
            p++;
        if (*p == '\0' || *p == '#')
            return RW_OK;
        if (*ntok == MAX_TOKENS)
            return fail(ps, "too many tokens");
        if (*p == '"') { /* a quoted phrase: blanks inside, no escapes */
            char *q = strchr(p + 1, '"');

            if (q == NULL || q == p + 1)
                return fail(ps, "unterminated or empty quoted phrase");
            tok[(*ntok)++] = p + 1;
            *q = '\0';
            p = q + 1;
            continue;
        }
        tok[(*ntok)++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\f' && *p != '\v')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static int parse_line(struct pstate *ps, const char *s, size_t n)
{
    char line[MAX_LINE + 1];
    char *tok[MAX_TOKENS];
    int ntok, rc;

    if (n > MAX_LINE)
        return fail(ps, "line longer than %d bytes", MAX_LINE);
    if (memchr(s, '\0', n) != NULL)
        return fail(ps, "NUL byte");
    memcpy(line, s, n);
    line[n] = '\0';
    if ((rc = tokenize(ps, line, tok, &ntok)) != RW_OK || ntok == 0)
        return rc;
    return parse_directive(ps, tok, ntok);
}

static int cmp_word(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort a word list and index it by first byte. */
static int words_index(struct rw_wordlist *wl)
{
    if (wl->n == 0)
        return RW_OK;
    qsort(wl->v, wl->n, sizeof(*wl->v), cmp_word);
    if ((wl->len = calloc(wl->n, sizeof(*wl->len))) == NULL)
        return RW_ENOMEM;
    for (size_t i = wl->n; i-- > 0;) {
        unsigned c = (unsigned char)wl->v[i][0];

        wl->len[i] = strlen(wl->v[i]);
        wl->lo[c] = (unsigned)i;
        if (wl->hi[c] == 0)
            wl->hi[c] = (unsigned)i + 1;
    }
    return RW_OK;
}

static void rule_prefilter(struct rw_rule *ru)
{
    const char *star = strrchr(ru->host, '*');

    ru->path_pre = strcspn(ru->path, "*");
    ru->host_star = star != NULL;
    ru->host_tail = star ? star + 1 : ru->host;
    ru->host_tail_len = strlen(ru->host_tail);
    ru->host_head_len = strcspn(ru->host, "*");
    ru->host_any = strcmp(ru->host, "*") == 0;
    ru->host_lead = star == ru->host;
    ru->path_pre_only = ru->path[ru->path_pre] == '*' && ru->path[ru->path_pre + 1] == '\0';
}

/* After a successful parse: prefilters, per-kind indices, sorted words. */
static int finalize(struct rw_rules *r)
{
    int rc = RW_OK;

    for (int k = 0; k < RW_RK_N && rc == RW_OK; k++)
        if ((r->by_kind[k] = calloc(r->n + 1, sizeof(size_t))) == NULL)
            rc = RW_ENOMEM;
    for (size_t i = 0; i < r->n && rc == RW_OK; i++) {
        rule_prefilter(&r->v[i]);
        r->by_kind[r->v[i].kind][r->nkind[r->v[i].kind]++] = i;
    }
    if (rc == RW_OK)
        rc = rw_rules_index(r);
    if (rc == RW_OK)
        rc = words_index(&r->params);
    if (rc == RW_OK)
        rc = words_index(&r->prot_path);
    if (rc == RW_OK)
        rc = words_index(&r->prot_text);
    if (rc == RW_OK)
        rc = words_index(&r->heur_words);
    return rc;
}

int rw_rules_parse(const char *text, size_t len, struct rw_rules **out, char *err,
                   size_t errlen)
{
    struct pstate ps = {.err = err, .errlen = errlen};
    size_t off = 0;
    int rc = RW_OK;

    if (err && errlen)
        err[0] = '\0';
    if (out == NULL || (text == NULL && len > 0))
        return RW_EINVAL;
    *out = NULL;
    if ((ps.r = calloc(1, sizeof(*ps.r))) == NULL)
        return RW_ENOMEM;
    if (len >= 3 &&
        memcmp(text, "\xef\xbb\xbf", 3) == 0) /* UTF-8 BOM from some editors */
        off = 3;
    while (off < len && rc == RW_OK) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

        ps.line++;
        rc = parse_line(&ps, text + off, n);
        off += n + (nl != NULL);
    }
    if (rc == RW_OK && (ps.r->format == 0 || ps.r->version == NULL)) {
        ps.line++;
        rc = fail(&ps, "missing \"format\" or \"version\" directive");
    }
    if (rc == RW_OK)
        rc = finalize(ps.r);
    if (rc == RW_ENOMEM && err && errlen)
        snprintf(err, errlen, "line %u: out of memory", ps.line);
    if (rc != RW_OK) {
        rw_rules_free(ps.r);
        return rc;
    }
    *out = ps.r;
    return RW_OK;
}
