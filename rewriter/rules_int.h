/* rules_int - private interfaces between rules*.c, url*.c and classify.c.
 * Listed bottom up: each file uses only those above it.
 *
 *   url_prim.c       split URLs, query parameters, percent and base64
 *                    decoding, rw_is_http_url
 *   rules_match.c    match one URL against one rule; word lists
 *   rules_index.c    the host index: which rules can match a URL
 *   url_decode.c     the click-wrapper decoder algorithms, selected by name
 *   rules.c          parse conf/trackers.rules into struct rw_rules
 *   url.c            rw_url_clean, the unwrap chain and rw_url_unwrap
 *   url_recipient.c  rw_url_has_recipient
 *   classify.c       rw_classify: what one site is
 *
 * Not installed; unit tests may include it. Nothing here keeps state. */
#ifndef RW_RULES_INT_H
#define RW_RULES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "rewriter/rw_int.h"

/* RW_RK_PROXY: an image proxy (webmail's): images are judged by the URL it
 * fetches, links unwrapped to it; decoded like a wrapper. */
enum rw_rule_kind { RW_RK_PIXEL = 0, RW_RK_WRAP, RW_RK_OPAQUE, RW_RK_PROTECT, RW_RK_PROXY,
                    RW_RK_N };

struct rw_rule {
    enum rw_rule_kind kind;
    char *name;    /* shown in findings and reports */
    char *host;    /* lower-case glob; "*.x.com" also matches "x.com" */
    char *path;    /* glob on the path, case-insensitive */
    char *key;     /* query key that must be present (and, for param
                      decoders, the key to decode); NULL: none */
    char *field;   /* RW_RK_WRAP: JSON member holding the destination
                      (json-segment decoder); NULL: none */
    int decoder;   /* RW_RK_WRAP, RW_RK_PROXY: index returned by rw_decoder_find */
    int fail_next; /* RW_RK_WRAP: when decoding fails, try the next rules
                      instead of calling the URL opaque */
    unsigned line;
    /* Prefilters computed once after parsing (cheap rejects before globs). */
    size_t path_pre;       /* bytes of path before its first '*' */
    const char *host_tail; /* host after its last '*' (all of it if none) */
    size_t host_tail_len;
    size_t host_head_len; /* bytes of host before its first '*' */
    int host_star; /* host holds a '*' */
    int host_any;  /* host is "*": every host */
    int host_lead; /* host is '*' + a literal tail: a suffix test decides */
    int path_pre_only; /* path is a literal prefix + one final '*' */
};

/* Words sorted by first byte; words starting with byte c are
 * v[lo[c]] .. v[hi[c] - 1]. */
struct rw_wordlist {
    char **v;
    size_t *len;
    size_t n, cap;
    unsigned lo[256], hi[256];
};

struct rw_rules {
    char *version;
    unsigned format;
    struct rw_rule *v;
    size_t n, cap;
    struct rw_wordlist params;     /* personal query keys, exact, sorted */
    struct rw_wordlist prot_path;  /* case-folded words for path+query */
    struct rw_wordlist prot_text;  /* case-folded words for link text */
    struct rw_wordlist heur_words; /* case-folded heuristic path words */
    size_t *by_kind[RW_RK_N];      /* rule indices per kind, file order */
    size_t nkind[RW_RK_N];
    /* Host index per kind (rules_index.c): rules filed under a hash of the
     * last two labels every host they match ends with, sorted by (hash,
     * rule index); the others ("generic") in file order. */
    struct rw_host_ent *hidx[RW_RK_N];
    size_t nhidx[RW_RK_N];
    size_t *generic[RW_RK_N];
    size_t ngeneric[RW_RK_N];
};

struct rw_host_ent {
    uint64_t h;
    size_t rule;
};

/* A URL split into its parts; offsets into s (borrowed). */
struct rw_urlp {
    const char *s;
    size_t len;
    size_t scheme_len;         /* 0: none */
    int http;                  /* scheme is http or https */
    size_t host_off, host_len; /* host without userinfo/port; len 0: none */
    size_t path_off, path_len;
    int has_query;
    size_t query_off, query_len; /* after '?', up to '#' */
};

/* rw_url_split - split s[0..len). Never fails; absent parts have length 0. */
void rw_url_split(const char *s, size_t len, struct rw_urlp *u);
/* rw_query_find - value of the first query parameter whose key is exactly
 * key (raw or percent-decoded). Returns 1 and sets *val and *vlen (borrowed,
 * still percent-encoded), or 0. */
int rw_query_find(const struct rw_urlp *u, const char *key, const char **val,
                  size_t *vlen);
/* rw_query_next - walk the query parameters of u: start with *pos =
 * u->query_off; each call gives one parameter as [*b, *e) of u->s with
 * its key length *klen (up to the first '=') and returns 1, then 0 after
 * the last. Inline: rw_url_clean and rw_query_find run it per parameter. */
static inline int rw_query_next(const struct rw_urlp *u, size_t *pos, size_t *b,
                                size_t *e, size_t *klen)
{
    size_t end = u->query_off + u->query_len, i = *pos;

    if (!u->has_query || i > end)
        return 0;
    *b = i;
    while (i < end && u->s[i] != '&')
        i++;
    *e = i;
    *pos = i + 1;
    *klen = *e - *b;
    for (size_t k = *b; k < *e; k++)
        if (u->s[k] == '=') {
            *klen = k - *b;
            break;
        }
    return 1;
}
/* rw_pct_decode - append s[0..n) percent-decoded (any hex case; malformed
 * escapes copied as is). Returns 0 or the buf_append error. */
int rw_pct_decode(const char *s, size_t n, struct buf *out);
/* rw_b64_any_decode - decode standard or URL-safe base64, padding optional,
 * into out. Returns 0, or -1 on a character outside both alphabets, a bad
 * length, or a buffer error. */
int rw_b64_any_decode(const char *s, size_t n, struct buf *out);
/* rw_is_http_url - 1 if s is an absolute http(s) URL with a host and no
 * control characters or spaces: the only destinations we ever write. */
int rw_is_http_url(const char *s, size_t n);

/* rw_rule_match - first rule of kind that matches u, or NULL. */
const struct rw_rule *rw_rule_match(const struct rw_rules *r, enum rw_rule_kind kind,
                                    const struct rw_urlp *u, size_t from);
/* rw_rule_matches - 1 if rule r matches u. */
int rw_rule_matches(const struct rw_rule *r, const struct rw_urlp *u);
/* rw_rules_index - build the host index of r (after by_kind). RW_OK or
 * RW_ENOMEM; rw_rules_index_free releases it (also when partial). */
int rw_rules_index(struct rw_rules *r);
void rw_rules_index_free(struct rw_rules *r);
/* Walking the rules of one kind that match a URL, in file order: init, then
 * rw_rule_iter_next until NULL (rules with an index below from are
 * skipped). The same sequence as testing every rule of the kind. */
struct rw_rule_iter {
    enum rw_rule_kind kind;
    size_t g, ng; /* position in generic[kind] */
    size_t b, nb; /* position in hidx[kind]: the URL's bucket */
};
void rw_rule_iter_init(const struct rw_rules *r, enum rw_rule_kind kind,
                       const struct rw_urlp *u, struct rw_rule_iter *it);
const struct rw_rule *rw_rule_iter_next(const struct rw_rules *r, struct rw_rule_iter *it,
                                        const struct rw_urlp *u, size_t from);
/* rw_words_in - 1 if any word of wl occurs in s[0..n) after ASCII case
 * folding (the words are folded at parse time). */
int rw_words_in(const struct rw_wordlist *wl, const char *s, size_t n);
/* rw_is_personal_key - 1 if key[0..n) is a personal query key. */
int rw_is_personal_key(const struct rw_rules *r, const char *key, size_t n);

/* The recipient prepared once per message (url_recipient.c): normalised
 * address, its base64 needles (for alignment k 0..2 and alphabet std/url,
 * the characters of base64(k zero bytes + addr) that depend on addr only)
 * and its md5/sha1/sha256 hex digests. */
#define RW_RECIP_ADDR_MAX 512
struct rw_recip_needles {
    char s[6][RW_RECIP_ADDR_MAX * 2];
    size_t n[6], first[6];
    unsigned k[6];
    size_t min; /* shortest non-empty needle */
};
struct rw_recip {
    int ok; /* 0: no usable address, nothing is ever found */
    char addr[RW_RECIP_ADDR_MAX];
    size_t an;
    struct rw_recip_needles nd;
    char digest[3][65];
};
/* rw_recip_prepare - fill p from recipient (NULL or unusable: p->ok = 0).
 * RW_OK or RW_ENOMEM. rw_recip_in_url - rw_url_has_recipient with p. */
int rw_recip_prepare(const char *recipient, struct rw_recip *p);
int rw_recip_in_url(const struct rw_recip *p, const char *url);
/* rw_classify_recip - rw_classify with the recipient already prepared
 * (NULL: none). */
int rw_classify_recip(const struct rw_rules *r, const struct rw_limits *lim,
                      const struct rw_site *s, const struct rw_recip *recip,
                      unsigned repeat, struct rw_class *out);

/* Decoders (url_decode.c). rw_decoder_find returns an index >= 0 or -1;
 * rw_decoder_needs tells which option a rule must give: 0 none, 'k' key=,
 * 'f' field=. */
int rw_decoder_find(const char *name);
int rw_decoder_needs(int idx);
/* rw_decoder_run - decode the destination of u with the decoder of wrap
 * rule ru. *out is a malloc'd string NOT yet checked for being http(s)
 * (the caller refuses anything else). Returns RW_OK, RW_EINVAL (not
 * decodable), RW_ENOMEM, RW_ELIMIT (result longer than max). */
int rw_decoder_run(const struct rw_rule *ru, const struct rw_urlp *u, size_t max,
                   char **out);

/* The result of unwrapping nested click wrappers (url.c). */
struct rw_unwrap {
    const struct rw_rule *outer;  /* first wrapper decoded; NULL: none */
    const struct rw_rule *opaque; /* set: the chain ends in an opaque wrapper,
                                     a refused destination or an undecodable
                                     wrapper */
    char *dest;                   /* malloc'd final destination when outer &&
                                     !opaque; not cleaned */
    unsigned depth;
};
/* rw_proxy_inner - the http(s) URL an image proxy fetches for u: RW_OK with
 * *inner malloc'd and *rule the proxy rule, or *inner NULL when no proxy
 * rule decodes u; RW_ENOMEM. */
int rw_proxy_inner(const struct rw_rules *r, const struct rw_urlp *u, size_t max,
                   const struct rw_rule **rule, char **inner);
/* rw_unwrap_chain - follow wrappers (and image proxies) from url. Returns RW_OK (see res),
 * RW_ELIMIT (deeper than lim->unwrap_depth, or an URL longer than
 * lim->max_url_len), RW_ENOMEM. res->dest is freed by the caller. */
int rw_unwrap_chain(const struct rw_rules *r, const struct rw_limits *lim,
                    const char *url, struct rw_unwrap *res);

#endif
