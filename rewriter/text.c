/* text - bare http(s) URLs in a text/plain part (RW_P_TEXT).
 *
 * A URL starts at "http://" or "https://" (any case) not glued to a
 * preceding letter or digit, and runs to whitespace, a control character,
 * one of < > " or a no-break space. Trailing sentence punctuation
 * (. , ; : ! ? ' *) is not part of it, nor is a closing ) ] } that has no
 * opening partner inside the URL, so "(see https://x.example/a)." gives
 * https://x.example/a. The angle form <https://...> ends at '>'. For link
 * classification each site's text is the text before the URL on its line,
 * or the previous line when the URL starts its line (labels such as
 * "Unsubscribe:"). One linear pass. */
#include "rewriter/html_int.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

static int url_stop(const unsigned char *s, size_t i, size_t len)
{
    unsigned char c = s[i];

    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"')
        return 1;
    return c == 0xC2 && i + 1 < len && s[i + 1] == 0xA0;
}

static size_t count(const char *s, size_t n, char c)
{
    size_t k = 0;

    while (n-- > 0)
        k += *s++ == c;
    return k;
}

/* Length of the URL s[0..n) without trailing punctuation. */
static size_t trim_tail(const char *s, size_t n)
{
    static const char open[] = "([{", close[] = ")]}";
    const char *p;

    while (n > 0) {
        char c = s[n - 1];
        if (strchr(".,;:!?'*", c) != NULL) {
            n--;
            continue;
        }
        p = strchr(close, c);
        if (p != NULL && count(s, n, open[p - close]) < count(s, n, c)) {
            n--;
            continue;
        }
        break;
    }
    return n;
}

/* The label of a URL at off: text before it on its line, else the
 * previous line; whitespace folded, at most RW_LINK_TEXT_MAX bytes. */
static char *label(const char *t, size_t off)
{
    size_t b = off, e, a, n = 0;
    char *out;

    while (b > 0 && t[b - 1] != '\n')
        b--;
    for (e = b; e < off && (t[e] == ' ' || t[e] == '\t' || t[e] == '\r'); e++)
        ;
    if (e == off) { /* the URL starts its line: the previous line is its label */
        e = b > 0 ? b - 1 : 0;
        for (b = e; b > 0 && t[b - 1] != '\n'; b--)
            ;
        if (e - b > 80)
            b = e;
    } else {
        e = off;
    }
    if (e - b > RW_LINK_TEXT_MAX)
        b = e - RW_LINK_TEXT_MAX;
    while (b < e && ((unsigned char)t[b] & 0xC0) == 0x80)
        b++;
    if ((out = malloc(e - b + 1)) == NULL)
        return NULL;
    for (a = b; a < e; a++) {
        if (g_ascii_isspace(t[a])) {
            if (n > 0 && out[n - 1] != ' ')
                out[n++] = ' ';
        } else {
            out[n++] = t[a];
        }
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}

static int add(const char *t, size_t off, size_t n, const struct rw_limits *lim,
               struct rw_sites *out)
{
    struct rw_site s;

    if (n > lim->max_url_len)
        return RW_ELIMIT;
    rw_site_init(&s, RW_P_TEXT);
    s.off = off;
    s.len = n;
    s.url = strndup(t + off, n);
    s.text = label(t, off);
    if (s.url == NULL || s.text == NULL) {
        free(s.url);
        free(s.text);
        return RW_ENOMEM;
    }
    return rw_sites_add(out, &s);
}

int rw_text_scan(const char *text, size_t len, const struct rw_limits *lim,
                 struct rw_sites *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i, e, n, skip;
    int rc;

    lim = rw_limits_or_default(lim);
    for (i = 0; i < len; i++) {
        if ((s[i] | 0x20) != 'h' || (i > 0 && g_ascii_isalnum(s[i - 1])))
            continue;
        if (i + 8 <= len && g_ascii_strncasecmp(text + i, "https://", 8) == 0)
            skip = 8;
        else if (i + 7 <= len && g_ascii_strncasecmp(text + i, "http://", 7) == 0)
            skip = 7;
        else
            continue;
        for (e = i + skip; e < len && !url_stop(s, e, len); e++)
            ;
        n = trim_tail(text + i, e - i);
        if (n > skip && g_ascii_isalnum(s[i + skip])) {
            if ((rc = add(text, i, n, lim, out)) != RW_OK)
                return rc;
        }
        i = e > i ? e - 1 : i;
    }
    return RW_OK;
}
