/* cfg - the INI configuration (SPEC §4.1), parsed with inih into an
 * immutable, refcounted snapshot.
 *
 * One table lists every key with its type, default and limits; the parser
 * fills a struct cfg from it and validates cross-key rules. A reload builds
 * a new snapshot off the mail path and swaps it in only if valid; holders of
 * the old snapshot keep it until they cfg_release() it.
 *
 * Errors name the file and line: "FILE:LINE: unknown key 'x' in [milter]".
 * Thread-safe: a snapshot is read-only; retain/release are atomic.
 *
 * Memory: allocations are checked; loading fails with "out of memory" in
 * the error text and no partial snapshot. A reload that fails keeps the
 * running snapshot. */
#ifndef CM_CFG_H
#define CM_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"

enum cfg_on_error { CFG_ONERR_TEMPFAIL = 0, CFG_ONERR_ACCEPT, CFG_ONERR_REJECT };
enum cfg_mode { CFG_MODE_ENFORCE = 0, CFG_MODE_MONITOR, CFG_MODE_NEVER_TRACK, CFG_MODE_OFF };
enum cfg_clicks { CFG_CLICKS_CONSENT = 0, CFG_CLICKS_FREE };
enum cfg_nopix { CFG_NOPIX_STRIP = 0, CFG_NOPIX_ANONYMOUS };
enum cfg_opaque { CFG_OPAQUE_KEEP = 0, CFG_OPAQUE_INTERSTITIAL };
enum cfg_dkim { CFG_DKIM_REWRITE = 0, CFG_DKIM_SKIP, CFG_DKIM_TEMPFAIL };
enum cfg_class { CFG_CLASS_MARKETING = 0, CFG_CLASS_TRANSACTIONAL, CFG_CLASS_AUTH };
enum cfg_store_backend { CFG_STORE_LMDB = 0, CFG_STORE_PG };

/* One mail-class rule: "header:NAME: VALUE" (case-insensitive header
 * match, value compared case-insensitively, '*' glob allowed) or
 * "sender:GLOB" (envelope sender). Several rules separated by ';'. */
struct cfg_class_rule {
    int is_header;   /* 1: header rule, 0: sender rule */
    char *header;    /* header name (is_header) */
    char *pattern;   /* glob for the header value or the sender */
    char *text;      /* the rule as written, for trace/log */
};

struct cfg_domain {
    char *name;                 /* "*" for the default */
    char *controller;           /* default: the domain name; NULL in [domain *]
                                   means "the sending domain itself" */
    int mode;                   /* enum cfg_mode */
    uint32_t pixel_purposes;    /* store purpose mask; default opens */
    int clicks;                 /* enum cfg_clicks */
    int no_consent_pixels;      /* enum cfg_nopix */
    int opaque_links;           /* enum cfg_opaque */
    int gate_kept;              /* yes */
    struct cfg_class_rule *transactional; size_t ntransactional;
    struct cfg_class_rule *auth; size_t nauth;
    char *footer_html;          /* withdrawal footer template path ("{language}" expanded) */
    char *footer_text;
    char *request_html;         /* preferences-link template for tracker-free mail */
    char *request_text;
    char *footer_html_tpl;      /* template contents, loaded at parse time */
    char *footer_text_tpl;
    char *request_html_tpl;
    char *request_text_tpl;
    char *language;             /* "en", "fr", ...: one whose footers exist; default en */
    int language_line;          /* the line that set it (its key, [domain *]'s, else line) */
    char *jurisdiction;         /* controller's country, ISO 3166-1 alpha-2; default FR */
    int consent_request_link;   /* no */
    int esp_headers;            /* no */
    int dkim_signed;            /* enum cfg_dkim; default rewrite */
    int store_source;           /* store IP/UA with consent events; default no */
    char *api_key;              /* bearer key for POST /api/v1/consent; NULL: API off */
    int line;                   /* line of the section header */
};

struct cfg {
    /* [milter] */
    char *socket;               /* unix:/run/consent-milter/milter.sock */
    char *database;             /* /var/lib/consent-milter */
    char *user;                 /* NULL: stay as started */
    int on_error;               /* tempfail */
    size_t max_message_size;    /* 50 MiB */
    size_t spool_threshold;     /* 1 MiB: body buffered in memory up to this */
    size_t max_memory;          /* 1 GiB: shared by the messages being rewritten; 0: none */
    char *spool_dir;            /* /var/spool/consent-milter or TMPDIR */
    int multi_recipient;        /* only "strictest" */
    int trace_header;           /* yes */
    int log_level;              /* enum log_level; info */
    char *pid_file;             /* NULL: none */
    char *rules;                /* /etc/consent-milter/trackers.rules */
    unsigned workers_hint;      /* LMDB readers sizing; 64 */
    unsigned timeout;           /* libmilter socket timeout, seconds; 30 */
    char *metrics_textfile;     /* NULL: no metrics file */
    unsigned metrics_interval;  /* seconds between writes; 15 */
    /* [gate] */
    char *gate_url;             /* https://gate.example/ (no trailing slash kept) */
    char *gate_keys;            /* keys file */
    char *gate_listen;          /* 127.0.0.1:8025 */
    unsigned gate_threads;      /* 4 */
    unsigned gate_timeout;      /* seconds per connection, 10 */
    char *gate_language;        /* default page language: en (the gate checks its pages) */
    struct cidr *gate_trusted;  /* trusted_proxies: peers whose X-Forwarded-For */
    size_t ngate_trusted;       /*   is believed; none by default */
    unsigned gate_per_ip_limit; /* connections per untrusted address; 128, 0: off */
    char *gate_metrics_listen;  /* 127.0.0.1:9025; "off": no metrics listener */
    struct cidr *gate_metrics_allow; /* metrics_allow: peers allowed; none: all */
    size_t ngate_metrics_allow;
    /* [store] (issue 11; without the section: lmdb, as before) */
    int store_backend;          /* enum cfg_store_backend; lmdb */
    char *store_conninfo;       /* libpq connection string, never a password; NULL */
    char *store_passfile;       /* libpq password file (mode 0600); NULL */
    char *store_replica;        /* local LMDB replica directory; default: database */
    unsigned store_max_staleness; /* seconds without a sync before the milter
                                     treats everyone as unknown; 60 */
    unsigned store_poll_interval; /* consent-sync poll, seconds; 5 */
    /* [domain ...] */
    struct cfg_domain *domains; /* the "*" domain is always present */
    size_t ndomains;
    char *path;                 /* file it was read from */
    int refs;                   /* refcount; use cfg_retain/cfg_release */
};

/* cfg_load - parse and validate path. On error returns NULL and writes
 * "PATH:LINE: reason" into err. Template files named by footer_* keys are
 * read (relative paths resolve against the config file's directory). */
struct cfg *cfg_load(const char *path, char *err, size_t errlen);
/* cfg_load_string - the same from text (tests); base_dir resolves relative
 * paths. */
struct cfg *cfg_load_string(const char *text, const char *base_dir, char *err,
                            size_t errlen);
struct cfg *cfg_retain(struct cfg *c);
void cfg_release(struct cfg *c); /* frees at zero; accepts NULL */

/* cfg_domain_for - the section for a sending domain: exact match, else the
 * nearest parent ("news.brand.example" -> "brand.example"), else "*".
 * Never NULL. */
const struct cfg_domain *cfg_domain_for(const struct cfg *c, const char *domain);

/* cfg_dump - the effective configuration with defaults, as INI text (for
 * "consent-milter -n -v") that cfg_load reads back to the same
 * configuration (keys left unset are commented out); caller frees. */
char *cfg_dump(const struct cfg *c);

const char *cfg_mode_name(int mode);
const char *cfg_class_name(int cls);

#endif
