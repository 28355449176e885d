/* tpl - the gate's tiny page template module.
 *
 * A template is text with placeholders: {{name}} inserts the value HTML-
 * escaped (& < > " '), {{{name}}} inserts it raw and is reserved for
 * fragments the gate built itself from escaped parts. A placeholder naming
 * no variable is an error, so a typo in a page never ships silently.
 *
 * A template set is read once from a directory (conf/pages/): per language
 * (en/, fr/) the files layout.html, withdraw.html, withdraw-done.html,
 * consent.html, consent-done.html, notice.html, interstitial.html and
 * purposes.txt; shared: notfound.html and gate.css. In a page file the first
 * line is the page title, the rest the body placed into layout.html.
 *
 * A loaded set is immutable and may be shared by threads. */
#ifndef GATE_TPL_H
#define GATE_TPL_H

#include <stddef.h>

#include "common/buf.h"

enum gate_tpl_id {
    GATE_TPL_LAYOUT = 0,
    GATE_TPL_WITHDRAW,
    GATE_TPL_WITHDRAW_DONE,
    GATE_TPL_CONSENT,
    GATE_TPL_CONSENT_DONE,
    GATE_TPL_NOTICE,
    GATE_TPL_INTERSTITIAL,
    GATE_TPL_PURPOSES,
    GATE_TPL__N
};
enum gate_tpl_lang { GATE_TPL_EN = 0, GATE_TPL_FR, GATE_TPL_NLANG };

struct gate_tpl_var {
    const char *name;
    const char *value; /* NULL renders as empty */
};

struct gate_tpl_set;

/* gate_tpl_set_load - read every file of dir. Returns 0, or -1 with a reason
 * naming the file in err. */
int gate_tpl_set_load(const char *dir, struct gate_tpl_set **out, char *err,
                      size_t errlen);
void gate_tpl_set_free(struct gate_tpl_set *s); /* accepts NULL */

/* gate_tpl_lang_index - "en" -> GATE_TPL_EN, "fr" -> GATE_TPL_FR, else -1. */
int gate_tpl_lang_index(const char *lang);
/* gate_tpl_body / gate_tpl_title - borrowed text of one template (title: first line
 * of a page file, "" for others). */
const char *gate_tpl_body(const struct gate_tpl_set *s, int lang, int id);
const char *gate_tpl_title(const struct gate_tpl_set *s, int lang, int id);
const char *gate_tpl_css(const struct gate_tpl_set *s, size_t *len);
const char *gate_tpl_notfound(const struct gate_tpl_set *s, size_t *len);

/* gate_tpl_render - append text with placeholders replaced. Returns 0, ENOENT
 * (unknown placeholder), EINVAL (unterminated placeholder), or a buf error
 * (ENOMEM, EFBIG). */
int gate_tpl_render(const char *text, const struct gate_tpl_var *vars, size_t nvars,
                    struct buf *out);
/* gate_tpl_escape - append s HTML-escaped. Returns as buf_append. */
int gate_tpl_escape(struct buf *out, const char *s);
/* gate_tpl_page - render page id in lang into layout.html (vars apply to both;
 * lang and title are added). Returns as gate_tpl_render. */
int gate_tpl_page(const struct gate_tpl_set *s, int lang, int id,
                  const struct gate_tpl_var *vars, size_t nvars, struct buf *out);

#endif
