/* mime_ambig - MIME that gmime reads one way and mail clients another.
 *
 * The engine rewrites what gmime parsed. Where readers disagree on what
 * the message is, a rewrite right for gmime's reading can leave the
 * trackers of another reading in place (issue 9 §4: a second Content-Type
 * makes gmime see text/plain while a client sees a multipart with an HTML
 * pixel). Such a message is refused with RW_EAMBIG and a reason naming the
 * ambiguity; the caller maps it to on_error.
 *
 * Checked, in the header block of every entity the walk visits (and the
 * message's own):
 *   - MIME-Version, Content-Type, Content-Transfer-Encoding,
 *     Content-Disposition present more than once with different values
 *     (gmime takes the last, many clients the first). The same value twice
 *     (blanks, comments and case outside quotes aside) is one reading only
 *     and passes;
 *   - an unterminated quoted string or comment in Content-Type or
 *     Content-Disposition (where the value ends is up to the reader);
 *   - boundary= or charset= given twice with different values, or both
 *     plainly and in RFC 2231 form (boundary*=). filename=/name= beside
 *     filename*= is the usual fallback and is not looked at: no reader
 *     changes what it displays over a file name.
 * Boundary lines that only some readers take as delimiters are found by
 * the pre-scan in mime.c (rw_ambig_delimiter).
 *
 * Why refuse rather than rewrite under every reading: each reading gives
 * a different part tree with different byte ranges, and one output must
 * be right for all of them; that cannot be had by patching bytes. The
 * cases are rare in legitimate mail (no mainstream composer writes them)
 * and common in filter evasion. */
#include <string.h>

#include "rewriter/mime_int.h"

static const char *const watched[] = {"MIME-Version", "Content-Type",
                                      "Content-Transfer-Encoding", "Content-Disposition"};
#define NWATCHED (sizeof watched / sizeof watched[0])

/* The value as one reading sees it: comments and blanks outside quotes
 * dropped, lower case outside quotes. NULL if a quote or comment does not
 * end. g_free. */
static char *normalise(const char *v)
{
    GString *s = g_string_sized_new(strlen(v));
    int q = 0, depth = 0;

    for (; *v; v++) {
        if (q) {
            if (*v == '\\' && v[1] != '\0')
                g_string_append_c(s, *v++);
            else if (*v == '"')
                q = 0;
            if (*v != '\r' && *v != '\n')
                g_string_append_c(s, *v);
        } else if (depth > 0) {
            if (*v == '\\' && v[1] != '\0')
                v++;
            else if (*v == '(')
                depth++;
            else if (*v == ')')
                depth--;
        } else if (*v == '(') {
            depth = 1;
        } else if (*v == '"') {
            q = 1;
            g_string_append_c(s, '"');
        } else if (!g_ascii_isspace(*v)) {
            g_string_append_c(s, g_ascii_tolower(*v));
        }
    }
    if (q || depth > 0) {
        g_string_free(s, TRUE);
        return NULL;
    }
    return g_string_free(s, FALSE);
}

/* Parameter occurrences of one name in a normalised value. */
struct pcount {
    const char *name;
    size_t nl;
    unsigned plain, ext;
    const char *first; /* value of the first plain one, in norm */
    size_t flen;
    int differ;
};

/* Length of the parameter token at p (up to the next ';' outside quotes). */
static size_t token_len(const char *p)
{
    size_t i = 0;
    int q = 0;

    for (; p[i] && (q || p[i] != ';'); i++) {
        if (q && p[i] == '\\' && p[i + 1])
            i++;
        else if (p[i] == '"')
            q = !q;
    }
    return i;
}

static void count_param(struct pcount *c, const char *t, size_t n)
{
    const char *eq = memchr(t, '=', n);
    size_t vl;

    if (eq == NULL || (size_t)(eq - t) < c->nl || memcmp(t, c->name, c->nl) != 0)
        return;
    if (t + c->nl == eq) {
        vl = n - (size_t)(eq + 1 - t);
        if (c->plain++ == 0) {
            c->first = eq + 1;
            c->flen = vl;
        } else if (vl != c->flen || memcmp(eq + 1, c->first, vl) != 0) {
            c->differ = 1;
        }
    } else if (t[c->nl] == '*') {
        c->ext++;
    }
}

/* boundary= and charset= each with one meaning. */
static int check_params(const char *norm, const char *field, char *err, size_t errlen,
                        const char *where)
{
    struct pcount pc[] = {{"boundary", 8, 0, 0, NULL, 0, 0}, {"charset", 7, 0, 0, NULL, 0, 0}};
    const char *p = norm + token_len(norm);

    while (*p == ';') {
        size_t n = token_len(++p);

        for (size_t k = 0; k < 2; k++)
            count_param(&pc[k], p, n);
        p += n;
    }
    for (size_t k = 0; k < 2; k++)
        if (pc[k].differ || (pc[k].plain > 0 && pc[k].ext > 0)) {
            g_snprintf(err, errlen, "duplicate %s parameter in %s %s", pc[k].name, field,
                       where);
            return RW_EAMBIG;
        }
    return RW_OK;
}

/* One watched field: its normalised value kept in *seen (first one) or
 * compared with it. */
static int check_field(size_t k, const char *raw, char **seen, char *err, size_t errlen,
                       const char *where)
{
    char *norm = normalise(raw ? raw : "");
    int rc = RW_OK;

    if (norm == NULL) {
        g_snprintf(err, errlen, "unterminated quote or comment in %s %s", watched[k], where);
        return RW_EAMBIG;
    }
    if (k == 1 || k == 3)
        rc = check_params(norm, watched[k], err, errlen, where);
    if (rc == RW_OK && *seen != NULL && strcmp(*seen, norm) != 0) {
        g_snprintf(err, errlen, "duplicate %s fields with different values %s", watched[k],
                   where);
        rc = RW_EAMBIG;
    }
    if (*seen == NULL) {
        *seen = norm;
        norm = NULL;
    }
    g_free(norm);
    return rc;
}

int rw_ambig_headers(GMimeObject *o, const char *where, char *err, size_t errlen)
{
    GMimeHeaderList *hl = o ? g_mime_object_get_header_list(o) : NULL;
    int i, n = hl ? g_mime_header_list_get_count(hl) : 0, rc = RW_OK;
    char *seen[NWATCHED] = {NULL};

    for (i = 0; i < n && rc == RW_OK; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);

        for (size_t k = 0; k < NWATCHED && rc == RW_OK; k++)
            if (g_ascii_strcasecmp(name, watched[k]) == 0)
                rc = check_field(k, g_mime_header_get_raw_value(h), &seen[k], err, errlen,
                                 where);
    }
    for (size_t k = 0; k < NWATCHED; k++)
        g_free(seen[k]);
    return rc;
}

int rw_ambig_delimiter(const char *line, size_t n, GPtrArray *bounds)
{
    while (n > 0 && g_ascii_isspace(line[n - 1]))
        n--;
    for (guint i = 0; i < bounds->len; i++) {
        const char *b = g_ptr_array_index(bounds, i);
        size_t bl = strlen(b);

        if (bl > n || g_ascii_tolower(b[0]) != g_ascii_tolower(line[0]) ||
            g_ascii_strncasecmp(line, b, bl) != 0)
            continue;
        /* every reader agrees on "--B" and "--B--" (blanks after them) */
        if (memcmp(line, b, bl) == 0 &&
            (bl == n || (n == bl + 2 && line[bl] == '-' && line[bl + 1] == '-')))
            continue;
        return 1;
    }
    return 0;
}
