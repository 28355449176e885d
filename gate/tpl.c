/* tpl - page templates for consent-gate; see tpl.h.
 *
 * Files are read whole at load (each at most GATE_TPL_FILE_MAX bytes) and never
 * touched again; rendering is a single left-to-right scan with no
 * recursion, so a value can never inject a placeholder. */
#include "gate/tpl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATE_TPL_FILE_MAX (256 * 1024)
#define NAME_MAX_LEN 64

static const char *const file_names[GATE_TPL__N] = {
    "layout.html",       "withdraw.html", "withdraw-done.html", "consent.html",
    "consent-done.html", "notice.html",   "interstitial.html",  "purposes.txt",
};

/* Which files are pages (title on the first line). */
static int is_page(int id)
{
    return id != GATE_TPL_LAYOUT && id != GATE_TPL_NOTICE && id != GATE_TPL_PURPOSES;
}

struct tpl_lang {
    char code[4];
    char *text[GATE_TPL__N];
    char *title[GATE_TPL__N];
};

struct gate_tpl_set {
    struct tpl_lang lang[GATE_TPL_LANG_MAX];
    size_t nlang;
    char *css, *notfound;
    size_t csslen, notfoundlen;
};

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    struct buf b = BUF_INIT(GATE_TPL_FILE_MAX);
    char chunk[8192];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(&b, chunk, n) != 0) {
            snprintf(err, errlen, "%s: larger than %d bytes", path, GATE_TPL_FILE_MAX);
            fclose(f);
            buf_free(&b);
            return -1;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        fclose(f);
        buf_free(&b);
        return -1;
    }
    fclose(f);
    if (b.data == NULL && buf_puts(&b, "") != 0)
        return snprintf(err, errlen, "out of memory"), -1;
    *out = buf_steal(&b, len);
    return *out ? 0 : (snprintf(err, errlen, "out of memory"), -1);
}

/* Split "title\nbody" in place: title gets its own copy, text keeps body. */
static int split_title(char **text, char **title)
{
    char *nl = strchr(*text, '\n');
    size_t tlen = nl ? (size_t)(nl - *text) : strlen(*text);

    *title = strndup(*text, tlen);
    if (*title == NULL)
        return -1;
    if (tlen && (*title)[tlen - 1] == '\r')
        (*title)[tlen - 1] = '\0';
    memmove(*text, *text + tlen + (nl != NULL), strlen(*text + tlen + (nl != NULL)) + 1);
    return 0;
}

static int load_lang(struct tpl_lang *l, const char *dir, char *err, size_t errlen)
{
    char path[4096];

    for (int id = 0; id < GATE_TPL__N; id++) {
        size_t len;
        snprintf(path, sizeof path, "%s/%s/%s", dir, l->code, file_names[id]);
        if (read_file(path, &l->text[id], &len, err, errlen) != 0)
            return -1;
        if (strlen(l->text[id]) != len) {
            snprintf(err, errlen, "%s: contains a NUL byte", path);
            return -1;
        }
        if (is_page(id) ? split_title(&l->text[id], &l->title[id])
                        : (l->title[id] = strdup("")) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* A language directory's name: 2 or 3 lowercase letters (ISO 639). */
static int is_lang_code(const char *name)
{
    size_t n = strlen(name);

    if (n < 2 || n > 3)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 'a' || name[i] > 'z')
            return 0;
    return 1;
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const struct tpl_lang *)a)->code, ((const struct tpl_lang *)b)->code);
}

/* The language codes: subdirectories of dir, sorted so that indexes do not
 * depend on readdir order. en is required (the fallback of every choice). */
static int find_langs(struct gate_tpl_set *s, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return snprintf(err, errlen, "%s/en/layout.html: %s", dir, strerror(errno)), -1;
    while ((e = readdir(d)) != NULL) {
        char sub[4096];
        DIR *probe;
        if (!is_lang_code(e->d_name))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if ((probe = opendir(sub)) == NULL)
            continue; /* a file, not a language */
        closedir(probe);
        if (s->nlang == GATE_TPL_LANG_MAX) {
            closedir(d);
            return snprintf(err, errlen, "%s: more than %d languages", dir,
                            GATE_TPL_LANG_MAX),
                   -1;
        }
        snprintf(s->lang[s->nlang++].code, sizeof s->lang[0].code, "%s", e->d_name);
    }
    closedir(d);
    qsort(s->lang, s->nlang, sizeof s->lang[0], by_code);
    if (gate_tpl_lang_index(s, "en") < 0)
        return snprintf(err, errlen, "%s/en/layout.html: %s", dir, strerror(ENOENT)), -1;
    return 0;
}

int gate_tpl_set_load(const char *dir, struct gate_tpl_set **out, char *err,
                      size_t errlen)
{
    struct gate_tpl_set *s = calloc(1, sizeof *s);
    char path[4096];

    *out = NULL;
    if (s == NULL)
        return snprintf(err, errlen, "out of memory"), -1;
    if (find_langs(s, dir, err, errlen) != 0)
        goto fail;
    for (size_t l = 0; l < s->nlang; l++)
        if (load_lang(&s->lang[l], dir, err, errlen) != 0)
            goto fail;
    snprintf(path, sizeof path, "%s/gate.css", dir);
    if (read_file(path, &s->css, &s->csslen, err, errlen) != 0)
        goto fail;
    snprintf(path, sizeof path, "%s/notfound.html", dir);
    if (read_file(path, &s->notfound, &s->notfoundlen, err, errlen) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    gate_tpl_set_free(s);
    return -1;
}

void gate_tpl_set_free(struct gate_tpl_set *s)
{
    if (s == NULL)
        return;
    for (size_t l = 0; l < s->nlang; l++)
        for (int i = 0; i < GATE_TPL__N; i++) {
            free(s->lang[l].text[i]);
            free(s->lang[l].title[i]);
        }
    free(s->css);
    free(s->notfound);
    free(s);
}

int gate_tpl_lang_index(const struct gate_tpl_set *s, const char *lang)
{
    for (size_t i = 0; s && lang && i < s->nlang; i++)
        if (strcmp(lang, s->lang[i].code) == 0)
            return (int)i;
    return -1;
}

size_t gate_tpl_nlang(const struct gate_tpl_set *s)
{
    return s->nlang;
}

const char *gate_tpl_lang_code(const struct gate_tpl_set *s, int lang)
{
    return s->lang[lang].code;
}

void gate_tpl_lang_list(const struct gate_tpl_set *s, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < s->nlang && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
                                 s->lang[i].code);
}

const char *gate_tpl_body(const struct gate_tpl_set *s, int lang, int id)
{
    return s->lang[lang].text[id];
}

const char *gate_tpl_title(const struct gate_tpl_set *s, int lang, int id)
{
    return s->lang[lang].title[id];
}

const char *gate_tpl_css(const struct gate_tpl_set *s, size_t *len)
{
    *len = s->csslen;
    return s->css;
}

const char *gate_tpl_notfound(const struct gate_tpl_set *s, size_t *len)
{
    *len = s->notfoundlen;
    return s->notfound;
}

int gate_tpl_escape(struct buf *out, const char *s)
{
    const char *run = s;
    int rc = 0;

    for (; s && *s && rc == 0; s++) {
        const char *ent = NULL;
        switch (*s) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        rc = buf_append(out, run, (size_t)(s - run));
        if (rc == 0)
            rc = buf_puts(out, ent);
        run = s + 1;
    }
    if (rc == 0 && s)
        rc = buf_append(out, run, (size_t)(s - run));
    return rc;
}

static const struct gate_tpl_var *find_var(const struct gate_tpl_var *vars, size_t n,
                                           const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return &vars[i];
    return NULL;
}

int gate_tpl_render(const char *text, const struct gate_tpl_var *vars, size_t nvars,
                    struct buf *out)
{
    const char *p = text;
    int rc = 0;

    while (rc == 0) {
        const char *open = strstr(p, "{{"), *name, *close;
        const struct gate_tpl_var *v;
        int raw;

        if (open == NULL)
            return buf_puts(out, p);
        raw = open[2] == '{';
        name = open + 2 + raw;
        close = strstr(name, raw ? "}}}" : "}}");
        if (close == NULL || close - name > NAME_MAX_LEN)
            return EINVAL;
        v = find_var(vars, nvars, name, (size_t)(close - name));
        if (v == NULL)
            return ENOENT;
        rc = buf_append(out, p, (size_t)(open - p));
        if (rc == 0 && v->value)
            rc = raw ? buf_puts(out, v->value) : gate_tpl_escape(out, v->value);
        p = close + 2 + raw;
    }
    return rc;
}

int gate_tpl_page(const struct gate_tpl_set *s, int lang, int id,
                  const struct gate_tpl_var *vars, size_t nvars, struct buf *out)
{
    struct buf body = BUF_INIT(out->max);
    struct gate_tpl_var *all = calloc(nvars + 3, sizeof *all);
    int rc = ENOMEM;

    if (all == NULL)
        return ENOMEM;
    memcpy(all, vars, nvars * sizeof *vars);
    all[nvars] = (struct gate_tpl_var){"lang", s->lang[lang].code};
    all[nvars + 1] = (struct gate_tpl_var){"title", s->lang[lang].title[id]};
    rc = gate_tpl_render(s->lang[lang].text[id], all, nvars + 2, &body);
    if (rc == 0) {
        all[nvars + 2] = (struct gate_tpl_var){"body", buf_cstr(&body)};
        rc = gate_tpl_render(s->lang[lang].text[GATE_TPL_LAYOUT], all, nvars + 3, out);
    }
    buf_free(&body);
    free(all);
    return rc;
}
