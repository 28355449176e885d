/* msginfo - what consent-milter and consent-rewrite both work out from a
 * message's headers and envelope before deciding (SPEC §4.2, §4.3): the
 * sending domain and its [domain] section, the controller, the mail class
 * and the rule that matched, and the anonymous-pixel campaign id. One
 * implementation, so that the milter and the CLI can never disagree.
 *
 * Pure functions; thread-safe. */
#ifndef CM_MSGINFO_H
#define CM_MSGINFO_H

#include <stddef.h>

#include "policy/cfg.h"

struct msginfo_hdr {
    char *name;
    char *value; /* as received, folding kept, leading blank removed */
};

struct msginfo {
    char domain[256];             /* sending domain ("*" if none could be found) */
    const struct cfg_domain *dom; /* borrowed from the configuration */
    char controller[256];         /* dom->controller, or the domain for [domain *] */
    int mail_class;               /* enum cfg_class */
    const char *class_rule;       /* rule text that matched (borrowed), or "default" */
    char campaign[33];            /* first 128 bits, hex, of sha256(domain + List-Id);
                                     sha256(domain) without List-Id (never a
                                     per-copy header: Message-ID, Subject) */
};

/* msginfo_addr_domain - lower-cased domain of the first address in a From:-
 * style value; quoted strings and comments are skipped, so a display name
 * that looks like an address cannot choose the domain. Returns 0, or -1 if
 * there is no address. Truncates to outlen - 1 bytes. */
int msginfo_addr_domain(const char *value, char *out, size_t outlen);

/* msginfo_derive - fill out from the headers h[0..n) and the envelope
 * sender (may be NULL): domain from From:, else the sender; section via
 * cfg_domain_for; class from the section's auth rules, then transactional
 * rules, else marketing. */
void msginfo_derive(const struct cfg *c, const struct msginfo_hdr *h, size_t n,
                    const char *sender, struct msginfo *out);

/* msginfo_header - value of the first field called name, or NULL. */
const char *msginfo_header(const struct msginfo_hdr *h, size_t n, const char *name);

/* msginfo_parse_headers - split the header block at the start of msg into
 * fields (at most max). Returns 0 with *out and *n set (free with
 * msginfo_headers_free), or -1 (out of memory or more than max fields). */
int msginfo_parse_headers(const char *msg, size_t len, size_t max,
                          struct msginfo_hdr **out, size_t *n);
void msginfo_headers_free(struct msginfo_hdr *h, size_t n);

#endif
