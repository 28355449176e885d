/* report - the rewrite report: items, freeing, and the JSON form printed by
 * consent-rewrite --report json (jansson builds and escapes it).
 *
 * Every string in a report is a private copy, so a report outlives the
 * message and the callback's buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "rewriter/rw_engine.h"

static size_t str_cost(const char *s)
{
    return s ? (strlen(s) + 1 + 8 + 15) & ~(size_t)15 : 0;
}

int rw_report_add_item(struct rw_report *rep, const struct rw_request *req,
                       const struct rw_finding *f, enum rw_action act, const char *result,
                       size_t *mem)
{
    struct rw_item it = {f->type, f->place, act, (char *)f->rule, (char *)f->url,
                         (char *)result};
    struct rw_item *v;

    if (req->items == RW_ITEMS_NONE)
        return RW_OK;
    if (req->items == RW_ITEMS_STREAM) {
        if (req->item == NULL || req->item(req->item_ctx, &it) == 0)
            return RW_OK;
        g_strlcpy(rep->error, "report item callback failed", sizeof rep->error);
        return RW_ECALLBACK;
    }
    if ((v = g_try_renew(struct rw_item, rep->items, rep->nitems + 1)) == NULL)
        return RW_ENOMEM;
    rep->items = v;
    v += rep->nitems++;
    *v = it;
    v->rule = g_strdup(f->rule);
    v->url = g_strdup(f->url);
    v->result = g_strdup(result);
    *mem += sizeof *v + str_cost(v->rule) + str_cost(v->url) + str_cost(v->result);
    return RW_OK;
}

void rw_report_free(struct rw_report *rep)
{
    size_t i;

    if (rep == NULL)
        return;
    for (i = 0; i < rep->nitems; i++) {
        g_free(rep->items[i].rule);
        g_free(rep->items[i].url);
        g_free(rep->items[i].result);
    }
    g_free(rep->items);
    for (i = 0; i < rep->nhdr_changes; i++) {
        g_free(rep->hdr_changes[i].name);
        g_free(rep->hdr_changes[i].value);
    }
    g_free(rep->hdr_changes);
    rep->items = NULL;
    rep->hdr_changes = NULL;
    rep->nitems = rep->nhdr_changes = 0;
}

/* json_string() refuses invalid UTF-8; URLs from hostile input may carry
 * some, so such strings are repaired first. */
static json_t *jstr(const char *s)
{
    json_t *j;
    gchar *fixed;

    if (s == NULL)
        return json_null();
    if (g_utf8_validate(s, -1, NULL))
        return json_string(s);
    fixed = g_utf8_make_valid(s, -1);
    j = json_string(fixed);
    g_free(fixed);
    return j;
}

static json_t *counts_json(const struct rw_report *rep)
{
    json_t *o = json_object(), *t;
    int i, a;

    for (i = 0; i < RW_T_MAX; i++) {
        t = json_object();
        json_object_set_new(t, "found", json_integer(rep->found[i]));
        for (a = 0; a < RW_A_MAX; a++)
            if (rep->acted[i][a])
                json_object_set_new(t, rw_action_name((enum rw_action)a),
                                    json_integer(rep->acted[i][a]));
        json_object_set_new(o, rw_ttype_name((enum rw_ttype)i), t);
    }
    return o;
}

static json_t *item_obj(const struct rw_item *it)
{
    json_t *o = json_object();

    json_object_set_new(o, "type", json_string(rw_ttype_name(it->type)));
    json_object_set_new(o, "place", json_string(rw_place_name(it->place)));
    json_object_set_new(o, "action", json_string(rw_action_name(it->action)));
    json_object_set_new(o, "rule", jstr(it->rule));
    json_object_set_new(o, "url", jstr(it->url));
    json_object_set_new(o, "result", jstr(it->result));
    return o;
}

static json_t *items_json(const struct rw_report *rep)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < rep->nitems; i++)
        json_array_append_new(arr, item_obj(&rep->items[i]));
    return arr;
}

static int dump_to(json_t *o, struct buf *out)
{
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    int rc = RW_ENOMEM;

    if (s != NULL) {
        int e = buf_puts(out, s);
        rc = rw_buf_status(e);
    }
    free(s);
    json_decref(o);
    return rc;
}

int rw_item_json(const struct rw_item *it, struct buf *out)
{
    return dump_to(item_obj(it), out);
}

static json_t *report_obj(const struct rw_report *rep)
{
    json_t *o = json_object(), *h = json_array(), *c;
    size_t i;

    json_object_set_new(o, "changed", json_boolean(rep->changed));
    json_object_set_new(o, "counts", counts_json(rep));
    json_object_set_new(o, "kept_trackers", json_integer(rep->kept_trackers));
    json_object_set_new(o, "residual_opaque", json_integer(rep->residual_opaque));
    json_object_set_new(o, "residual_unknown", json_integer(rep->residual_unknown));
    json_object_set_new(o, "parts_total", json_integer(rep->parts_total));
    json_object_set_new(o, "parts_rewritten", json_integer(rep->parts_rewritten));
    json_object_set_new(o, "parts_untouchable", json_integer(rep->parts_untouchable));
    json_object_set_new(o, "footer_html_added", json_integer(rep->footer_html_added));
    json_object_set_new(o, "footer_text_added", json_integer(rep->footer_text_added));
    json_object_set_new(o, "footer_tracked", json_boolean(rep->footer_tracked));
    json_object_set_new(o, "body_offset", json_integer((json_int_t)rep->body_offset));
    for (i = 0; i < rep->nhdr_changes; i++) {
        c = json_object();
        json_object_set_new(c, "name", jstr(rep->hdr_changes[i].name));
        json_object_set_new(c, "value", jstr(rep->hdr_changes[i].value));
        json_array_append_new(h, c);
    }
    json_object_set_new(o, "header_changes", h);
    json_object_set_new(o, "items", items_json(rep));
    if (rep->error[0])
        json_object_set_new(o, "error", jstr(rep->error));
    return o;
}

int rw_report_json(const struct rw_report *rep, struct buf *out)
{
    return dump_to(report_obj(rep), out);
}
