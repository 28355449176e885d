/* rules_match - does one URL match one rule, and the word-list tests
 * (protected words, heuristic words, personal query keys).
 *
 * Data flow: a parsed, immutable struct rw_rules (rules.c) and a URL
 * already split by rw_url_split (url_prim.c) in, a yes/no out. The rule
 * index (rules_index.c) picks the candidate rules; rw_rule_matches stays
 * the only judge of each. Nothing is kept between calls, so every
 * function here is thread-safe on shared rules.
 *
 * Limits: globs are matched iteratively (O(pattern * subject) at worst,
 * no recursion); the caller bounds the URL (lim->max_url_len).
 * Failure: none is reported; an allocation failure while folding
 * non-ASCII text counts as "no word found". */
#include <ctype.h>
#include <string.h>

#include <glib.h>

#include "rewriter/rules_int.h"

/* glob - '*' matches any run of bytes; other bytes compare after ASCII
 * folding. Iterative, remembering only the last star: O(n*m) at worst,
 * no recursion. A final star matches the rest at once, and a retry after
 * a star jumps to the next byte equal to the literal that follows it. */
static int lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int glob(const char *pat, const char *s, size_t n)
{
    const char *star = NULL;
    size_t i = 0, si = 0;

    while (i < n) {
        if (*pat == '*') {
            star = pat++;
            si = i;
            if (*pat == '\0')
                return 1;
        } else if (*pat && lc((unsigned char)*pat) == lc((unsigned char)s[i])) {
            pat++;
            i++;
        } else if (star) {
            pat = star + 1;
            si++;
            if (*pat != '*') {
                int c = lc((unsigned char)*pat);
                const char *q;

                if (c < 'a' || c > 'z') { /* no case: memchr finds it */
                    q = si < n ? memchr(s + si, c, n - si) : NULL;
                    si = q ? (size_t)(q - s) : n;
                } else {
                    while (si < n && lc((unsigned char)s[si]) != c)
                        si++;
                }
            }
            i = si;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* ASCII case-insensitive equality of n bytes (strncasecmp without the
 * call and the locale). */
static int eq_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x != y &&
            ((x | 0x20) != (y | 0x20) || (unsigned char)((x | 0x20) - 'a') > 25))
            return 0;
    }
    return 1;
}

static int host_match(const struct rw_rule *r, const char *h, size_t n)
{
    size_t tl = r->host_tail_len;

    if (r->host_any)
        return 1;
    if (!r->host_star)
        return tl == n && eq_ci(r->host, h, n);
    /* Cheap reject on the literal head and tail before the glob proper
     * (a host that starts with a literal, "t.signaux*", never matches the
     * bare domain: no leading "*."); a single leading star needs nothing
     * more. */
    if (r->host_head_len > 0 &&
        (n < r->host_head_len || !eq_ci(h, r->host, r->host_head_len)))
        return 0;
    if (n >= tl && eq_ci(h + n - tl, r->host_tail, tl) &&
        (r->host_lead || glob(r->host, h, n)))
        return 1;
    /* "*.example.com" also covers the bare "example.com". */
    return r->host[0] == '*' && r->host[1] == '.' && r->host_tail == r->host + 1 &&
           tl - 1 == n && eq_ci(r->host + 2, h, n);
}

int rw_rule_matches(const struct rw_rule *r, const struct rw_urlp *u)
{
    const char *v, *path = u->path_len ? u->s + u->path_off : "/";
    size_t vlen, hl = u->host_len, pl = u->path_len ? u->path_len : 1;

    if (!u->http || hl == 0)
        return 0;
    /* Most rules fail on the literal start of their path: test it first. */
    if (r->path_pre > pl || !eq_ci(r->path, path, r->path_pre))
        return 0;
    /* "example.com." is the same host as "example.com". */
    if (hl > 1 && u->s[u->host_off + hl - 1] == '.')
        hl--;
    if (!host_match(r, u->s + u->host_off, hl) ||
        (!r->path_pre_only && !glob(r->path, path, pl)))
        return 0;
    return r->key == NULL || rw_query_find(u, r->key, &v, &vlen);
}

/* Any word of wl at any position of the folded text t[0..n). */
static int words_scan(const struct rw_wordlist *wl, const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)t[i];

        /* the first byte matched by the index; test the second inline */
        for (unsigned w = wl->lo[c]; w < wl->hi[c]; w++) {
            size_t l = wl->len[w];

            if (l <= n - i && (l < 2 || (t[i + 1] == wl->v[w][1] &&
                                         memcmp(t + i + 2, wl->v[w] + 2, l - 2) == 0)))
                return 1;
        }
    }
    return 0;
}

int rw_words_in(const struct rw_wordlist *wl, const char *s, size_t n)
{
    char stackbuf[512], *folded = NULL;
    size_t i = 0;
    int hit;

    if (wl->n == 0 || n == 0)
        return 0;
    /* Non-ASCII text (DÉSINSCRIPTION) needs real case folding; ASCII is
     * lowered byte by byte. The words were folded at parse time. */
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i < n && g_utf8_validate(s, (gssize)n, NULL)) {
        if ((folded = g_utf8_casefold(s, (gssize)n)) == NULL)
            return 0;
        hit = words_scan(wl, folded, strlen(folded));
        g_free(folded);
        return hit;
    }
    if (n >= sizeof(stackbuf) && (folded = g_try_malloc(n)) == NULL)
        return 0;
    for (i = 0; i < n; i++)
        (folded ? folded : stackbuf)[i] = (char)tolower((unsigned char)s[i]);
    hit = words_scan(wl, folded ? folded : stackbuf, n);
    g_free(folded);
    return hit;
}

int rw_is_personal_key(const struct rw_rules *r, const char *key, size_t n)
{
    const struct rw_wordlist *wl = &r->params;

    if (n == 0)
        return 0;
    for (unsigned w = wl->lo[(unsigned char)key[0]]; w < wl->hi[(unsigned char)key[0]];
         w++)
        if (wl->len[w] == n && memcmp(wl->v[w], key, n) == 0)
            return 1;
    return 0;
}
