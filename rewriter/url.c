/* url - removal of personal query parameters (rw_url_clean) and the
 * unwrapping of nested click wrappers (rw_url_unwrap), on top of the
 * URL primitives of url_prim.c and the wrapper decoders of url_decode.c.
 * An image proxy (a "proxy" rule) counts as one more wrapper for links.
 *
 * Every function works on bounded input (the caller enforces
 * lim->max_url_len) and allocates only through struct buf with a ceiling,
 * so hostile URLs give RW_ELIMIT or "not decodable", never a crash. A
 * decoded destination is only ever returned when it is an absolute http(s)
 * URL (rw_is_http_url): javascript:, data: and friends are refused and the
 * wrapper is reported as opaque instead. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rewriter/rules_int.h"
#include "rewriter/rw_engine.h"

static int personal(const struct rw_rules *r, const char *k, size_t n)
{
    struct buf b = BUF_INIT(256);
    int hit;

    if (rw_is_personal_key(r, k, n))
        return 1;
    if (memchr(k, '%', n) == NULL || rw_pct_decode(k, n, &b) != 0) {
        buf_free(&b);
        return 0;
    }
    hit = rw_is_personal_key(r, b.data, b.len);
    buf_free(&b);
    return hit;
}

/* Rebuild url without the personal parameters; every other byte (order,
 * encoding, empty parameters, fragment) is kept as written. */
static int clean_into(const struct rw_rules *r, const struct rw_urlp *u, struct buf *out,
                      unsigned *removed)
{
    size_t pos = u->query_off, b, e, kl, qend = u->query_off + u->query_len;
    int first = 1, e2 = 0;

    *removed = 0;
    if ((e2 = buf_append(out, u->s, u->query_off - 1)) != 0)
        return rw_buf_status(e2);
    while (rw_query_next(u, &pos, &b, &e, &kl)) {
        if (kl > 0 && personal(r, u->s + b, kl)) {
            (*removed)++;
            continue;
        }
        e2 = buf_puts(out, first ? "?" : "&");
        if (e2 == 0)
            e2 = buf_append(out, u->s + b, e - b);
        if (e2 != 0)
            return rw_buf_status(e2);
        first = 0;
    }
    return rw_buf_status(buf_append(out, u->s + qend, u->len - qend));
}

int rw_url_clean(const struct rw_rules *r, const char *url, char **out, unsigned *removed)
{
    struct rw_urlp u;
    struct buf b = BUF_INIT(0);
    unsigned n = 0;
    int rc;

    if (removed)
        *removed = 0;
    if (r == NULL || url == NULL || out == NULL)
        return RW_EINVAL;
    rw_url_split(url, strlen(url), &u);
    if (!u.has_query) {
        *out = strdup(url);
        return *out ? RW_OK : RW_ENOMEM;
    }
    (void)buf_reserve(&b, u.len + 1); /* the result is not longer: one allocation */
    rc = clean_into(r, &u, &b, &n);
    if (rc == RW_OK && n == 0) {
        buf_free(&b);
        *out = strdup(url);
        rc = *out ? RW_OK : RW_ENOMEM;
    } else if (rc == RW_OK) {
        *out = buf_steal(&b, NULL);
        rc = *out ? RW_OK : RW_ENOMEM;
    }
    buf_free(&b);
    if (rc == RW_OK && removed)
        *removed = n;
    return rc;
}

#define PROXY_FEW 16

int rw_proxy_inner(const struct rw_rules *r, const struct rw_urlp *u, size_t max,
                   const struct rw_rule **rule, char **inner)
{
    struct rw_rule_iter it;
    const struct rw_rule *ru;
    size_t i = 0, n = r->nkind[RW_RK_PROXY];
    int few = n <= PROXY_FEW;

    *inner = NULL;
    /* Asked for every link and image: a handful of rules is tried in file
     * order without the host index, whose set-up costs more than the few
     * literal path tests that reject them. Both give the same rules. */
    if (!few)
        rw_rule_iter_init(r, RW_RK_PROXY, u, &it);
    for (;;) {
        int rc;

        if (few && i < n)
            ru = &r->v[r->by_kind[RW_RK_PROXY][i++]];
        else if (few || (ru = rw_rule_iter_next(r, &it, u, 0)) == NULL)
            break;
        if (few && !rw_rule_matches(ru, u))
            continue;
        rc = rw_decoder_run(ru, u, max, inner);
        if (rc == RW_OK && rw_is_http_url(*inner, strlen(*inner))) {
            *rule = ru;
            return RW_OK;
        }
        free(*inner);
        *inner = NULL;
        if (rc == RW_ENOMEM)
            return rc;
    }
    return RW_OK;
}

/* One step: the URL an image proxy fetches, or else the first wrap rule
 * that decodes cur. *next is NULL when no rule applies; *stop is set when
 * a matching wrap rule could not decode (and its fail= says opaque) or the
 * destination is refused. A proxy that does not decode is not one. */
static int unwrap_step(const struct rw_rules *r, const char *cur, size_t max,
                       const struct rw_rule **rule, char **next, int *stop,
                       struct rw_urlp *up)
{
    struct rw_urlp u;
    struct rw_rule_iter it;
    const struct rw_rule *ru;
    int prc;

    *next = NULL;
    *stop = 0;
    rw_url_split(cur, strlen(cur), &u);
    *up = u; /* the caller's split of cur */
    if ((prc = rw_proxy_inner(r, &u, max, rule, next)) != RW_OK || *next != NULL)
        return prc;
    rw_rule_iter_init(r, RW_RK_WRAP, &u, &it);
    while ((ru = rw_rule_iter_next(r, &it, &u, 0)) != NULL) {
        int rc;

        *rule = ru;
        rc = rw_decoder_run(ru, &u, max, next);
        if (rc == RW_OK && rw_is_http_url(*next, strlen(*next)))
            return RW_OK;
        free(*next);
        *next = NULL;
        if (rc == RW_ENOMEM)
            return rc;
        if (rc == RW_OK || !ru->fail_next) { /* refused, or known but undecodable */
            *stop = 1;
            return RW_OK;
        }
    }
    *rule = NULL;
    return RW_OK;
}

int rw_unwrap_chain(const struct rw_rules *r, const struct rw_limits *lim,
                    const char *url, struct rw_unwrap *res)
{
    const struct rw_rule *rule;
    struct rw_urlp u;
    char *cur, *next;
    int stop, rc = RW_OK;

    memset(res, 0, sizeof(*res));
    if (strlen(url) > lim->max_url_len)
        return RW_ELIMIT;
    if ((cur = strdup(url)) == NULL)
        return RW_ENOMEM;
    for (;;) {
        if ((rc = unwrap_step(r, cur, lim->max_url_len, &rule, &next, &stop, &u)) != RW_OK)
            break;
        if (stop) {
            res->opaque = rule;
            break;
        }
        if (next == NULL) {
            /* A decodable wrapper around an opaque one is still opaque. */
            if (res->outer != NULL)
                res->opaque = rw_rule_match(r, RW_RK_OPAQUE, &u, 0);
            break;
        }
        if (res->depth >= lim->unwrap_depth) {
            free(next);
            rc = RW_ELIMIT;
            break;
        }
        res->depth++;
        if (res->outer == NULL)
            res->outer = rule;
        free(cur);
        cur = next;
    }
    if (rc == RW_OK && res->outer != NULL && res->opaque == NULL)
        res->dest = cur;
    else
        free(cur);
    return rc;
}

int rw_url_unwrap(const struct rw_rules *r, const struct rw_limits *lim, const char *url,
                  char **dest)
{
    struct rw_limits dl;
    struct rw_unwrap res;
    unsigned n;
    int rc;

    if (r == NULL || url == NULL || dest == NULL)
        return RW_EINVAL;
    *dest = NULL;
    if (lim == NULL) {
        rw_limits_default(&dl);
        lim = &dl;
    }
    if ((rc = rw_unwrap_chain(r, lim, url, &res)) != RW_OK)
        return rc;
    if (res.dest == NULL)
        return RW_EINVAL;
    rc = rw_url_clean(r, res.dest, dest, &n);
    free(res.dest);
    return rc;
}
