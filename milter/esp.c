/* esp - ESP no-track headers (SPEC §4.7).
 *
 * When consent-milter sits in front of an ESP relay, the ESP inserts its
 * own trackers after us. For a non-consenting recipient we set each
 * provider's per-message switches: SendGrid X-SMTPAPI, Mailgun
 * X-Mailgun-Track*, Postmark X-PM-Track*, Mailjet X-MJ-Track*, SparkPost
 * X-MSYS-API. Existing values are merged, not clobbered: JSON headers keep
 * every other key (jansson) and are written back folded; a flag header is changed in place only when it
 * would turn tracking on. An existing JSON header that does not parse is
 * left alone (the ESP rejects it anyway; rewriting it would lose data).
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
    int failed;
};

static void push(struct edits *ed, const struct mlt_msg *m, const char *name, char *value)
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
    e->op = mlt_msg_header(m, name) ? MLT_HDR_CHANGE : MLT_HDR_ADD;
    e->index = 1;
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

/* A flag header: set it to off unless it already says off. */
static void flag(struct edits *ed, const struct mlt_msg *m, const char *name, const char *off)
{
    const char *cur = mlt_msg_header(m, name);
    if (cur) {
        char *t = trim_dup(cur);
        int same = t && strcasecmp(t, off) == 0;
        free(t);
        if (same)
            return;
    }
    push(ed, m, name, strdup(off));
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

/* Merge settings into the JSON header name (created if absent). */
static void json_header(struct edits *ed, const struct mlt_msg *m, const char *name,
                        const char *const *p1, json_t *v1, const char *const *p2, json_t *v2)
{
    const char *cur = mlt_msg_header(m, name);
    json_t *root = cur ? json_loads(cur, JSON_REJECT_DUPLICATES, NULL) : json_object();
    if (!json_is_object(root)) {
        json_decref(root);
        json_decref(v1);
        json_decref(v2);
        return;
    }
    int rc = 0;
    if (p1)
        rc |= json_set_path(root, p1, v1);
    else
        json_decref(v1);
    if (p2)
        rc |= json_set_path(root, p2, v2);
    else
        json_decref(v2);
    char *s = rc == 0 ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    push(ed, m, name, fold_json(s, strlen(name) + 2));
}

int mlt_esp_edits(const struct mlt_msg *m, int opens_off, int clicks_off,
                  struct mlt_hedit **out)
{
    static const char *const sg_open[] = {"filters", "opentrack", "settings", "enable", NULL};
    static const char *const sg_click[] = {"filters", "clicktrack", "settings", "enable", NULL};
    static const char *const sp_open[] = {"options", "open_tracking", NULL};
    static const char *const sp_click[] = {"options", "click_tracking", NULL};
    struct edits ed = {NULL, 0, 0};

    *out = NULL;
    if (!opens_off && !clicks_off)
        return 0;
    json_header(&ed, m, "X-SMTPAPI", opens_off ? sg_open : NULL, json_integer(0),
                clicks_off ? sg_click : NULL, json_integer(0));
    json_header(&ed, m, "X-MSYS-API", opens_off ? sp_open : NULL, json_false(),
                clicks_off ? sp_click : NULL, json_false());
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
    if (ed.failed) {
        mlt_esp_free(ed.e, ed.n);
        return -1;
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
