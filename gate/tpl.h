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

enum tpl_id {
    TPL_LAYOUT = 0,
    TPL_WITHDRAW,
    TPL_WITHDRAW_DONE,
    TPL_CONSENT,
    TPL_CONSENT_DONE,
    TPL_NOTICE,
    TPL_INTERSTITIAL,
    TPL_PURPOSES,
    TPL__N
};
enum tpl_lang { TPL_EN = 0, TPL_FR, TPL_NLANG };

struct tpl_var {
    const char *name;
    const char *value; /* NULL renders as empty */
};

struct tpl_set;

/* tpl_set_load - read every file of dir. Returns 0, or -1 with a reason
 * naming the file in err. */
int tpl_set_load(const char *dir, struct tpl_set **out, char *err, size_t errlen);
void tpl_set_free(struct tpl_set *s); /* accepts NULL */

/* tpl_lang_index - "en" -> TPL_EN, "fr" -> TPL_FR, else -1. */
int tpl_lang_index(const char *lang);
/* tpl_body / tpl_title - borrowed text of one template (title: first line
 * of a page file, "" for others). */
const char *tpl_body(const struct tpl_set *s, int lang, int id);
const char *tpl_title(const struct tpl_set *s, int lang, int id);
const char *tpl_css(const struct tpl_set *s, size_t *len);
const char *tpl_notfound(const struct tpl_set *s, size_t *len);

/* tpl_render - append text with placeholders replaced. Returns 0, ENOENT
 * (unknown placeholder), EINVAL (unterminated placeholder), or a buf error
 * (ENOMEM, EFBIG). */
int tpl_render(const char *text, const struct tpl_var *vars, size_t nvars,
               struct buf *out);
/* tpl_escape - append s HTML-escaped. Returns as buf_append. */
int tpl_escape(struct buf *out, const char *s);
/* tpl_page - render page id in lang into layout.html (vars apply to both;
 * lang and title are added). Returns as tpl_render. */
int tpl_page(const struct tpl_set *s, int lang, int id, const struct tpl_var *vars,
             size_t nvars, struct buf *out);

#endif
