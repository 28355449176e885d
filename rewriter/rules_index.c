/* rules_index - which rules can match a URL, without trying every glob.
 *
 * A rule's host pattern ends in a literal tail (after its last '*', or the
 * whole pattern). When the complete labels of that tail (all of it
 * without a star; after its first '.' with one) hold at least two labels,
 * every host the rule matches ends with those labels, so its last two
 * labels are known: the rule is filed under a hash of them. Rules whose
 * tail gives fewer than two complete labels ("*", "view.*", "*.com") are
 * "generic" and tried for every URL. For a URL, the candidates are the
 * generic rules plus those filed under the hash of its host's last two
 * labels, merged back into file order; rw_rule_matches stays the only
 * judge, so a hash collision only adds a candidate and results are
 * exactly those of trying every rule in file order. */
#include <stdlib.h>
#include <string.h>


#include "rewriter/rules_int.h"

static uint64_t fnv_lower(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 1099511628211ull;
    }
    return h;
}

/* The last two labels of s[0..n): 1 and *off set, or 0 if s has fewer
 * than two non-empty labels at its end. */
static int last_two(const char *s, size_t n, size_t *off)
{
    const char *d1, *d2;

    if (n < 3 || s[n - 1] == '.' || (d1 = memrchr(s, '.', n)) == NULL || d1 == s)
        return 0;
    d2 = memrchr(s, '.', (size_t)(d1 - s));
    if (d2 != NULL && d2 + 1 == d1)
        return 0;
    *off = d2 ? (size_t)(d2 + 1 - s) : 0;
    return 1;
}

/* The key of rule ru: 1 and *h set, or 0 for a generic rule. */
static int rule_key(const struct rw_rule *ru, uint64_t *h)
{
    const char *c = ru->host_tail;
    size_t n, off;

    if (ru->host_star) {
        if ((c = strchr(c, '.')) == NULL)
            return 0;
        c++;
    }
    n = strlen(c);
    if (!last_two(c, n, &off))
        return 0;
    *h = fnv_lower(c + off, n - off);
    return 1;
}

static int cmp_ent(const void *a, const void *b)
{
    const struct rw_host_ent *x = a, *y = b;

    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

int rw_rules_index(struct rw_rules *r)
{
    for (int k = 0; k < RW_RK_N; k++) {
        size_t n = r->nkind[k];

        r->hidx[k] = calloc(n + 1, sizeof(*r->hidx[k]));
        r->generic[k] = calloc(n + 1, sizeof(*r->generic[k]));
        if (r->hidx[k] == NULL || r->generic[k] == NULL)
            return RW_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            size_t ri = r->by_kind[k][i];
            uint64_t h;

            if (rule_key(&r->v[ri], &h))
                r->hidx[k][r->nhidx[k]++] = (struct rw_host_ent){h, ri};
            else
                r->generic[k][r->ngeneric[k]++] = ri;
        }
        qsort(r->hidx[k], r->nhidx[k], sizeof(*r->hidx[k]), cmp_ent);
    }
    return RW_OK;
}

void rw_rules_index_free(struct rw_rules *r)
{
    for (int k = 0; k < RW_RK_N; k++) {
        free(r->hidx[k]);
        free(r->generic[k]);
        r->hidx[k] = NULL;
        r->generic[k] = NULL;
    }
}

void rw_rule_iter_init(const struct rw_rules *r, enum rw_rule_kind kind,
                       const struct rw_urlp *u, struct rw_rule_iter *it)
{
    const struct rw_host_ent *e = r->hidx[kind];
    size_t hl = u->host_len, off, lo = 0, hi = r->nhidx[kind];
    const char *host = u->s + u->host_off;
    uint64_t h;

    memset(it, 0, sizeof(*it));
    it->kind = kind;
    if (!u->http || hl == 0)
        return; /* rw_rule_matches accepts nothing */
    it->ng = r->ngeneric[kind];
    /* "example.com." is the same host as "example.com" (rw_rule_matches) */
    if (hl > 1 && host[hl - 1] == '.')
        hl--;
    if (!last_two(host, hl, &off))
        return;
    h = fnv_lower(host + off, hl - off);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (e[mid].h < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    it->b = lo;
    for (it->nb = lo; it->nb < r->nhidx[kind] && e[it->nb].h == h; it->nb++)
        ;
}

/* A cheap reject before rw_rule_matches: the rule's literal path start
 * must fit and agree on its first bytes after the leading '/' (up to
 * three, ASCII folding): many rules share a first letter. */
static int path_may_match(const struct rw_rule *ru, const struct rw_urlp *u)
{
    const char *path = u->path_len ? u->s + u->path_off : "/";
    size_t pl = u->path_len ? u->path_len : 1, n = ru->path_pre < 4 ? ru->path_pre : 4;

    if (ru->path_pre > pl)
        return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char a = (unsigned char)ru->path[i], b = (unsigned char)path[i];

        if (a != b &&
            ((a | 0x20) != (b | 0x20) || (unsigned char)((a | 0x20) - 'a') >= 26))
            return 0;
    }
    return 1;
}

const struct rw_rule *rw_rule_iter_next(const struct rw_rules *r, struct rw_rule_iter *it,
                                        const struct rw_urlp *u, size_t from)
{
    const struct rw_host_ent *e = r->hidx[it->kind];
    const size_t *g = r->generic[it->kind];

    while (it->g < it->ng || it->b < it->nb) {
        size_t ri;

        if (it->b >= it->nb || (it->g < it->ng && g[it->g] < e[it->b].rule))
            ri = g[it->g++];
        else
            ri = e[it->b++].rule;
        if (ri >= from && path_may_match(&r->v[ri], u) && rw_rule_matches(&r->v[ri], u))
            return &r->v[ri];
    }
    return NULL;
}

const struct rw_rule *rw_rule_match(const struct rw_rules *r, enum rw_rule_kind kind,
                                    const struct rw_urlp *u, size_t from)
{
    struct rw_rule_iter it;

    rw_rule_iter_init(r, kind, u, &it);
    return rw_rule_iter_next(r, &it, u, from);
}
