/* html_find - locate the bytes of a start tag libxml2 reported (the
 * helper html.c and html_tag.c share).
 *
 * Data flow: the scanner state of html.c (document bytes, the mark before
 * which no real start tag begins) and the tag name and end position from
 * libxml2's start event in; the offset of the tag's '<' out. A candidate
 * is confirmed by re-reading its attributes with libxml2's rules
 * (rw_tag_lex, html_attr.c): they must end exactly where libxml2 stands.
 *
 * Limits: only the first and last 16 look-alike "<name" candidates are
 * tried, so a hostile gap full of them stays linear. Failure: SIZE_MAX
 * (no such bytes: an implied element, or beyond the tries); reads only,
 * allocates nothing. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "rewriter/html_int.h"

/* Whether a start tag `name` at doc[i] ends exactly at pos. */
static int tag_at(const struct rw_hscan *h, size_t i, const char *name, size_t nlen,
                  size_t pos)
{
    const char *q = h->doc + i;

    if (i + 1 + nlen > pos || g_ascii_strncasecmp(q + 1, name, nlen) != 0)
        return 0;
    if (nlen < RW_HTML_NAME_MAX && i + 1 + nlen < h->len &&
        rw_html_name_char((unsigned char)q[1 + nlen]))
        return 0;
    return rw_tag_lex(h->doc, h->len, i + 1 + nlen, pos, NULL, NULL) == pos;
}

/* The earliest candidate wins (a later one may sit inside one of the
 * tag's own quoted values); only a few are tried from each side so that
 * a hostile gap full of "<a" without parser events cannot make this
 * quadratic, the last ones from the end for the same reason. */
size_t rw_html_find_tag(const struct rw_hscan *h, const char *name, size_t pos)
{
    size_t nlen = strlen(name), i = h->mark, tries = 0;
    const char *q;

    while (i < pos && tries < 16 && (q = memchr(h->doc + i, '<', pos - i)) != NULL) {
        i = (size_t)(q - h->doc);
        if (i + 1 + nlen > pos)
            return SIZE_MAX;
        if (g_ascii_strncasecmp(q + 1, name, nlen) == 0) {
            tries++;
            if (tag_at(h, i, name, nlen, pos))
                return i;
        }
        i++;
    }
    if (tries < 16)
        return SIZE_MAX; /* every candidate was tried */
    for (i = pos, tries = 0; i > h->mark && tries < 16 &&
                             (q = memrchr(h->doc + h->mark, '<', i - h->mark)) != NULL;) {
        i = (size_t)(q - h->doc);
        if (g_ascii_strncasecmp(q + 1, name, nlen) == 0) {
            tries++;
            if (tag_at(h, i, name, nlen, pos))
                return i;
        }
    }
    return SIZE_MAX;
}
