/* tpl - the gate's tiny page template module.
 *
 * A template is text with placeholders: {{name}} inserts the value HTML-
 * escaped (& < > " '), {{{name}}} inserts it raw and is reserved for
 * fragments the gate built itself from escaped parts. A placeholder naming
 * no variable is an error, so a typo in a page never ships silently.
 *
 * A template set is read once from a directory (conf/pages/): one
 * subdirectory per language, named by its code (en/, fr/, de/, ...), each
 * with the files layout.html, withdraw.html, withdraw-done.html,
 * consent.html, consent-done.html, notice.html, interstitial.html and
 * purposes.txt; shared: notfound.html and gate.css. The languages are the
 * subdirectories found at load (a code is 2 or 3 lowercase letters; other
 * names are ignored); each must hold every file, and en must exist (the
 * last fallback). In a page file the first line is the page title, the
 * rest the body placed into layout.html.
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
#define GATE_TPL_LANG_MAX 32 /* language directories one set may hold */

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

/* gate_tpl_lang_index - the index in s of language code lang (exact, lowercase),
 * else -1. Indexes run 0..gate_tpl_nlang(s)-1, codes in alphabetical order. */
int gate_tpl_lang_index(const struct gate_tpl_set *s, const char *lang);
size_t gate_tpl_nlang(const struct gate_tpl_set *s);
/* gate_tpl_lang_code - the code of language index lang ("en"). */
const char *gate_tpl_lang_code(const struct gate_tpl_set *s, int lang);
/* gate_tpl_lang_list - the codes, ", "-separated, into out (for messages). */
void gate_tpl_lang_list(const struct gate_tpl_set *s, char *out, size_t outlen);
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
