/* esp - ESP no-track headers (SPEC §4.7).
 *
 * When consent-milter sits in front of an ESP relay, the ESP inserts its
 * own trackers after us. For a non-consenting recipient we set each
 * provider's per-message switches: SendGrid X-SMTPAPI, Mailgun
 * X-Mailgun-Track*, Postmark X-PM-Track*, Mailjet X-MJ-Track*, SparkPost
 * X-MSYS-API. Existing values are merged, not clobbered: JSON headers keep
 * every other key (jansson) and are written back folded; a flag header is
 * changed in place only when it would turn tracking on. Every occurrence
 * counts, whatever the case of its name: a second header beside the one we
 * switched off, or a duplicate JSON key, is what the ESP may read. An
 * existing JSON header that does not parse cannot be switched off without
 * losing what it says (a "to" list, substitutions): the message fails
 * (a permanent error: the same header fails for ever), it never goes out
 * with tracking left on.
 *
 * Output: a list of add/change edits applied by the caller in eom. */
#include "milter/milter.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct edits {
    struct mlt_hedit *e;
    int n;
    int failed; /* out of memory */
    int bad;    /* a JSON header that does not parse: err says which */
    char *err;
    size_t errlen;
};

const char *const mlt_esp_headers[] = {
    "X-SMTPAPI",       "X-MSYS-API",     "X-Mailgun-Track", "X-Mailgun-Track-Opens",
    "X-Mailgun-Track-Clicks", "X-PM-TrackOpens", "X-PM-TrackLinks", "X-MJ-TrackOpen",
    "X-MJ-TrackClick", NULL,
};

/* One edit: index 0 adds the field, k > 0 changes its k-th occurrence. */
static void push(struct edits *ed, const char *name, int index, char *value)
{
    if (!value) {
        ed->failed = 1;
        return;
    }
    struct mlt_hedit *e = realloc(ed->e, (size_t)(ed->n + 1) * sizeof *e);
    if (!e) {
        free(value);
        ed->failed = 1;
        return;
    }
    ed->e = e;
    e = &ed->e[ed->n++];
    e->op = index > 0 ? MLT_HDR_CHANGE : MLT_HDR_ADD;
    e->index = index > 0 ? index : 1;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->value = value;
}

static char *trim_dup(const char *v)
{
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    size_t n = strlen(v);
    while (n > 0 && strchr(" \t\r\n", v[n - 1]))
        n--;
    return strndup(v, n);
}

/* A flag header: every occurrence that does not already say off is set to
 * off (a second "yes" beside our "no" would switch tracking back on);
 * added when there is none. */
static void flag(struct edits *ed, const struct mlt_msg *m, const char *name, const char *off)
{
    int k = 0;
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (strcasecmp(m->hdrs[i].name, name) != 0)
            continue;
        k++;
        char *t = trim_dup(m->hdrs[i].value);
        int same = t && strcasecmp(t, off) == 0;
        free(t);
        if (!same)
            push(ed, name, k, strdup(off));
    }
    if (k == 0)
        push(ed, name, 0, strdup(off));
}

/* Set obj.path[0].path[1]... = val, creating objects on the way. */
static int json_set_path(json_t *root, const char *const *path, json_t *val)
{
    json_t *o = root;
    for (; path[1]; path++) {
        json_t *next = json_object_get(o, path[0]);
        if (!json_is_object(next)) {
            next = json_object();
            if (!next || json_object_set_new(o, path[0], next) != 0)
                goto fail;
        }
        o = next;
    }
    if (json_object_set_new(o, path[0], val) == 0)
        return 0;
    return -1;
fail:
    json_decref(val);
    return -1;
}

/* Fold compact JSON that does not fit one 998-octet header line: a line
 * break and a blank after a ',' ':' '{' or '[' outside strings once the
 * line passes 72 columns. JSON allows blanks between tokens, so the
 * unfolded value is the same JSON; left on one line, a relay would break it
 * at 998 octets wherever it falls, maybe inside a token. col: where the
 * value starts ("Name: "). Takes s; returns the result or NULL. */
static char *fold_json(char *s, size_t col)
{
    size_t len = s ? strlen(s) : 0;
    if (!s || col + len <= 998)
        return s;
    char *out = malloc(len + len / 8 + 16);
    size_t n = 0;
    int in_str = 0;

    for (size_t i = 0; out && i < len; i++) {
        char ch = s[i];
        out[n++] = ch;
        col++;
        if (in_str) {
            if (ch == '\\' && i + 1 < len) {
                out[n++] = s[++i];
                col++;
            } else if (ch == '"') {
                in_str = 0;
            }
        } else if (ch == '"') {
            in_str = 1;
        } else if (strchr(",:{[", ch) && col > 72 && i + 1 < len) {
            out[n++] = '\n';
            out[n++] = ' ';
            col = 1;
        }
    }
    if (out)
        out[n] = '\0';
    free(s);
    return out;
}

struct jset {
    const char *const *p1, *const *p2; /* paths to set, or NULL */
    json_t *(*val)(void);              /* the "off" value at each */
};

/* Merge the settings of js into one JSON header value (an empty object
 * when cur is NULL). Duplicate keys are accepted, the last one winning as
 * in SendGrid's parser; our merged value has each key once, so it reads
 * the same under first-wins parsers too. */
static char *json_merge(struct edits *ed, const char *name, const char *cur,
                        const struct jset *js)
{
    json_t *root = cur ? json_loads(cur, 0, NULL) : json_object();
    if (!json_is_object(root)) {
        json_decref(root);
        ed->bad = 1;
        snprintf(ed->err, ed->errlen, "%s header is not a JSON object", name);
        return NULL;
    }
    int rc = 0;
    if (js->p1)
        rc |= json_set_path(root, js->p1, js->val());
    if (js->p2)
        rc |= json_set_path(root, js->p2, js->val());
    char *s = rc == 0 ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!s)
        ed->failed = 1;
    return fold_json(s, strlen(name) + 2);
}

/* Every occurrence of the JSON header name merged; one added if none. */
static void json_header(struct edits *ed, const struct mlt_msg *m, const char *name,
                        const struct jset *js)
{
    int k = 0;
    for (size_t i = 0; i < m->nhdrs && !ed->bad && !ed->failed; i++) {
        if (strcasecmp(m->hdrs[i].name, name) != 0)
            continue;
        char *v = json_merge(ed, name, m->hdrs[i].value, js);
        if (v)
            push(ed, name, ++k, v);
        else
            k++;
    }
    if (k == 0 && !ed->bad && !ed->failed) {
        char *v = json_merge(ed, name, NULL, js);
        if (v)
            push(ed, name, 0, v);
    }
}

static json_t *zero(void)
{
    return json_integer(0);
}

static json_t *no(void)
{
    return json_false();
}

int mlt_esp_edits(const struct mlt_msg *m, int opens_off, int clicks_off,
                  struct mlt_hedit **out, char *err, size_t errlen)
{
    static const char *const sg_open[] = {"filters", "opentrack", "settings", "enable", NULL};
    static const char *const sg_click[] = {"filters", "clicktrack", "settings", "enable", NULL};
    static const char *const sp_open[] = {"options", "open_tracking", NULL};
    static const char *const sp_click[] = {"options", "click_tracking", NULL};
    struct edits ed = {NULL, 0, 0, 0, err, errlen};

    *out = NULL;
    if (!opens_off && !clicks_off)
        return 0;
    const struct jset sg = {opens_off ? sg_open : NULL, clicks_off ? sg_click : NULL, zero};
    const struct jset sp = {opens_off ? sp_open : NULL, clicks_off ? sp_click : NULL, no};
    json_header(&ed, m, "X-SMTPAPI", &sg);
    json_header(&ed, m, "X-MSYS-API", &sp);
    if (opens_off && clicks_off)
        flag(&ed, m, "X-Mailgun-Track", "no");
    if (opens_off) {
        flag(&ed, m, "X-Mailgun-Track-Opens", "no");
        flag(&ed, m, "X-PM-TrackOpens", "false");
        flag(&ed, m, "X-MJ-TrackOpen", "0");
    }
    if (clicks_off) {
        flag(&ed, m, "X-Mailgun-Track-Clicks", "no");
        flag(&ed, m, "X-PM-TrackLinks", "None");
        flag(&ed, m, "X-MJ-TrackClick", "0");
    }
    if (ed.failed || ed.bad) {
        mlt_esp_free(ed.e, ed.n);
        return ed.failed ? -1 : -2;
    }
    *out = ed.e;
    return ed.n;
}

void mlt_esp_free(struct mlt_hedit *e, int n)
{
    for (int i = 0; i < n; i++)
        free(e[i].value);
    free(e);
}
