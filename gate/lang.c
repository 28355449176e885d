/* lang - the language of a gate page: Accept-Language (RFC 9110 §12.5.4,
 * RFC 4647 lookup) among the languages whose pages exist, then the
 * configured defaults.
 *
 * The header comes from anyone on the internet, so it is read in one pass,
 * in place, with no allocation and no strtod (which takes "1e0", "inf",
 * "0x1" and depends on the locale): time is linear in its length whatever
 * it holds. An element that does not follow the grammar
 *     range OWS [ ";" OWS "q=" qvalue ] OWS
 *     range  = "*" / 1*8ALPHA *( "-" 1*8alphanum )
 *     qvalue = "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3"0" ]
 * is skipped, the others still count; a header with no usable element is no
 * header. Matching is on the primary subtag (pages exist per language, not
 * per region): de-AT and de-CH weigh for de, an explicit "de" overrides them.
 * "*" weighs for every language the header does not name. q=0 refuses a
 * language: it is never chosen, not even as a default, unless every
 * language is refused (a page must be shown; RFC 9110 allows it). */
#include <string.h>
#include <strings.h>

#include "gate/gate.h"

enum how { W_NONE = 0, W_ANY, W_SUBTAG, W_EXACT };

struct weight {
    int q;      /* 0..1000 */
    size_t pos; /* element number, for ties: the first listed wins */
    enum how how;
};

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static const char *ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* qvalue in [p, end) exactly; 0..1000 or -1. */
static int qvalue(const char *p, const char *end)
{
    int q, scale = 100;

    if (p == end || (*p != '0' && *p != '1'))
        return -1;
    q = (*p++ - '0') * 1000;
    if (p == end)
        return q;
    if (*p++ != '.' || end - p > 3)
        return -1;
    for (; p < end; p++, scale /= 10) {
        if (!is_digit(*p) || (q == 1000 && *p != '0'))
            return -1;
        q += (*p - '0') * scale;
    }
    return q;
}

/* The range of [p, end): its primary subtag length in *plen (0 for "*")
 * and where it ends; NULL if it is no range. */
static const char *range(const char *p, const char *end, size_t *plen)
{
    const char *s = p;
    size_t n;

    if (p < end && *p == '*')
        return *plen = 0, p + 1;
    while (p < end && is_alpha(*p) && p - s < 9)
        p++;
    if ((n = (size_t)(p - s)) == 0 || n > 8)
        return NULL;
    *plen = n;
    while (p < end && *p == '-') {
        const char *t = ++p;
        while (p < end && (is_alpha(*p) || is_digit(*p)) && p - t < 9)
            p++;
        if (p == t || p - t > 8)
            return NULL;
    }
    return p;
}

/* One element [p, end): the primary subtag in *tag, its length in *taglen (0 for
 * "*"), whether it had subtags, and its q. Returns 0, or -1 if malformed. */
static int element(const char *p, const char *end, const char **tag, size_t *taglen,
                   int *sub, int *q)
{
    const char *r;

    p = ows(p, end);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *tag = p;
    if ((r = range(p, end, taglen)) == NULL)
        return -1;
    *sub = *taglen > 0 && p[*taglen] == '-';
    *q = 1000;
    if ((r = ows(r, end)) == end)
        return 0;
    if (*r != ';')
        return -1;
    r = ows(r + 1, end);
    if (end - r < 2 || (r[0] != 'q' && r[0] != 'Q') || r[1] != '=')
        return -1;
    return (*q = qvalue(r + 2, end)) < 0 ? -1 : 0;
}

static void weigh_one(struct weight *w, enum how how, int q, size_t pos)
{
    if (how > w->how || (how == w->how && how == W_SUBTAG && q > w->q))
        *w = (struct weight){q, pos, how};
}

/* Weights of the n codes from header h; *any gets the wildcard's weight. */
static void weigh(const char *h, const char *const *codes, size_t n, struct weight *w,
                  struct weight *any)
{
    size_t pos = 0;

    for (const char *p = h; p && *p; pos++) {
        const char *end = p + strcspn(p, ","), *tag;
        size_t taglen;
        int sub, q;
        if (element(p, end, &tag, &taglen, &sub, &q) == 0) {
            if (taglen == 0)
                weigh_one(any, W_SUBTAG, q, pos); /* the highest "*" */
            for (size_t i = 0; taglen && i < n; i++)
                if (strlen(codes[i]) == taglen && strncasecmp(codes[i], tag, taglen) == 0)
                    weigh_one(&w[i], sub ? W_SUBTAG : W_EXACT, q, pos);
        }
        p = *end ? end + 1 : end;
    }
    for (size_t i = 0; any->how != W_NONE && i < n; i++)
        if (w[i].how == W_NONE)
            w[i] = (struct weight){any->q, any->pos, W_ANY};
}

/* Rank of index i in prefer (its position, else after all of them). */
static size_t rank(int i, const int *prefer, size_t nprefer)
{
    for (size_t k = 0; k < nprefer; k++)
        if (prefer[k] == i)
            return k;
    return nprefer + (size_t)i;
}

static int refused(const struct weight *w)
{
    return w->how != W_NONE && w->q == 0;
}

int gate_lang_choose(const char *h, const char *const *codes, size_t n, const int *prefer,
                     size_t nprefer)
{
    struct weight w[GATE_TPL_LANG_MAX] = {{0}}, any = {0};
    int best = -1;

    if (n == 0)
        return -1;
    if (n > GATE_TPL_LANG_MAX)
        n = GATE_TPL_LANG_MAX;
    weigh(h, codes, n, w, &any);
    for (size_t i = 0; i < n; i++) {
        const struct weight *b = best >= 0 ? &w[best] : NULL;
        if (w[i].q == 0)
            continue;
        if (b == NULL || w[i].q > b->q || (w[i].q == b->q && w[i].pos < b->pos) ||
            (w[i].q == b->q && w[i].pos == b->pos &&
             rank((int)i, prefer, nprefer) < rank(best, prefer, nprefer)))
            best = (int)i;
    }
    if (best >= 0)
        return best;
    /* nothing the header asks for: the defaults, unless refused; if all are
     * refused, the first default all the same */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < nprefer; k++)
            if (prefer[k] >= 0 && (size_t)prefer[k] < n && (pass || !refused(&w[prefer[k]])))
                return prefer[k];
        for (size_t i = 0; pass == 0 && i < n; i++)
            if (!refused(&w[i]))
                return (int)i;
    }
    return 0;
}

const char *gate_pick_lang(const struct gate_req *r, const struct cfg_domain *dom)
{
    const struct gate_tpl_set *s = gate_pages(r);
    const char *codes[GATE_TPL_LANG_MAX];
    int prefer[3];
    size_t n = s ? gate_tpl_nlang(s) : 0;
    int l;

    if (n == 0)
        return "en";
    for (size_t i = 0; i < n && i < GATE_TPL_LANG_MAX; i++)
        codes[i] = gate_tpl_lang_code(s, (int)i);
    prefer[0] = dom ? gate_tpl_lang_index(s, dom->language) : -1;
    prefer[1] = gate_tpl_lang_index(s, r->snap->cfg->gate_language);
    prefer[2] = gate_tpl_lang_index(s, "en");
    l = gate_lang_choose(gate_header(r, "Accept-Language"), codes, n, prefer, 3);
    return gate_tpl_lang_code(s, l);
}
