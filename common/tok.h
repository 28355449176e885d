/* tok - gate tokens (SPEC §6.1): self-contained, authenticated, encrypted.
 *
 * A token is base64url (no padding) of: key id, nonce, and the XChaCha20-
 * Poly1305 (libsodium) ciphertext of the claims, with the kind as associated
 * data so a token made for one endpoint is refused by every other. Nothing
 * is readable from the link; nothing is stored server-side per message.
 * Keys rotate by id: the newest key seals, every key in the file opens.
 *
 * Keys file: one key per line "ID HEX64" (ID a decimal 1..2^31, 64 hex chars
 * = 32 bytes); '#' comments; the highest id seals. Mode must not be group/
 * world readable.
 *
 * Every token names the [domain] section of the mail's sending domain (a
 * short id, see tok_domain_id), so the gate applies that section's policy
 * and not that of another domain of the same controller. Tokens made before
 * (claims format 1, no domain) still open, with has_domain = 0; the gate
 * gives them the strictest policy of the controller's domains.
 *
 * Thread-safe once loaded (keys are immutable).
 *
 * Memory: every allocation is checked (TOK_ENOMEM); a failed seal leaves
 * the output buffer as it was. (tests/unit/test_oom.c covers sealing
 * through the policy callback.)
 *
 * NOTE TO IMPLEMENTERS: contract used by the milter and the gate. Add
 * freely; change existing signatures only with a strong reason. */
#ifndef CM_TOK_H
#define CM_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum tok_kind {
    TOK_OPEN = 'o',     /* gated pixel: url = original pixel */
    TOK_CLICK = 'c',    /* gated link: url = original tracked URL, dest = unwrapped
                           destination or NULL for opaque (interstitial) */
    TOK_DELIV = 'd',    /* deliverability pixel */
    TOK_WITHDRAW = 'w', /* withdrawal page */
    TOK_PREFS = 'p',    /* preferences / consent page */
    TOK_ANON = 'a',     /* anonymous campaign pixel: recipient NULL, url = campaign id */
};

enum tok_status {
    TOK_OK = 0,
    TOK_EINVAL,  /* malformed text, bad base64, truncated */
    TOK_EFORGED, /* authentication failed */
    TOK_EKIND,   /* valid token for another endpoint */
    TOK_EKEY,    /* unknown (e.g. retired) key id */
    TOK_ENOMEM,
    TOK_EKEYS, /* keys file unreadable or malformed */
};
const char *tok_strerror(int rc);

struct tok_keys;

/* Limits: a token text longer than TOK_TEXT_MAX (or shorter than
 * TOK_TEXT_MIN) is refused before any decoding; one claim field (controller,
 * recipient, url, dest) holds at most TOK_FIELD_MAX bytes (the rewriter's
 * default URL limit), and a token whose text would pass TOK_TEXT_MAX is not
 * made (tok_seal: TOK_EINVAL). */
#define TOK_TEXT_MAX 49152
#define TOK_TEXT_MIN 80
#define TOK_FIELD_MAX 16384

/* tok_keys_load - read a keys file. On error returns TOK_EKEYS with a reason
 * naming the line in err. */
int tok_keys_load(const char *path, struct tok_keys **out, char *err, size_t errlen);
/* tok_keys_parse - the same from text in memory (tests). */
int tok_keys_parse(const char *text, size_t len, struct tok_keys **out, char *err,
                   size_t errlen);
void tok_keys_free(struct tok_keys *k);
/* tok_keys_generate - append a new random key line with id = max+1 to buf
 * (used by "consent-gate --new-key"). */
int tok_keys_generate(const struct tok_keys *k, struct buf *line);
/* tok_keys_newest - id of the sealing key (0 if k is NULL or empty). */
uint32_t tok_keys_newest(const struct tok_keys *k);
/* tok_keys_count - number of keys loaded. */
size_t tok_keys_count(const struct tok_keys *k);

/* Bytes of a domain id: 64 bits, so two sections of one configuration
 * never share one in practice, yet a link grows by only 11 characters. */
#define TOK_DOMAIN_ID 8

struct tok {
    int kind;        /* enum tok_kind */
    uint32_t key_id; /* filled by tok_open */
    int64_t issued;  /* UTC seconds */
    char *controller;
    char *recipient; /* normalised address; NULL for TOK_ANON */
    char *url;       /* see enum tok_kind */
    char *dest;      /* see enum tok_kind */
    /* The sending domain's [domain] section: domain = tok_domain_id(its
     * name). Required by tok_seal (has_domain = 1); after tok_open,
     * has_domain = 0 means a format-1 token, made before tokens carried
     * it (domain is then all zero). */
    int has_domain;
    unsigned char domain[TOK_DOMAIN_ID];
};

/* tok_domain_id - the id of the [domain] section named name ("*" for the
 * default): the first TOK_DOMAIN_ID bytes of BLAKE2b (libsodium
 * crypto_generichash) of the name in ASCII lower case, so the milter and
 * the gate agree whatever the case in the file. Stable across releases:
 * it is in every link ever sent. */
void tok_domain_id(const char *name, unsigned char out[TOK_DOMAIN_ID]);

/* tok_seal - append the base64url token for t to out (t->issued 0 = now).
 * Tokens are random (a fresh nonce each), except TOK_ANON: the same claims
 * under the same key give the same text, so one campaign pixel is one URL
 * for every recipient (the nonce is a keyed hash of the claims).
 * Returns TOK_OK, TOK_EINVAL (also: t->has_domain is 0), TOK_ENOMEM. */
int tok_seal(const struct tok_keys *k, const struct tok *t, struct buf *out);
/* tok_test_seed - test seam, beside the clock one (struct tok's issued):
 * with a 32-byte seed, the nonces of later tokens come from libsodium's
 * deterministic stream (randombytes_buf_deterministic) under that seed, so
 * the same input gives the same tokens and golden files can hold them;
 * NULL goes back to the system RNG. Process-wide, not thread-safe: call it
 * before any token is made. Tests and `consent-rewrite --test-seed` only:
 * a daemon never calls it (a known seed makes nonces predictable). */
void tok_test_seed(const unsigned char seed[32]);
/* tok_open - verify and decrypt text (len bytes) expecting kind. Constant-
 * time authentication. On success fills out (free with tok_clear). */
int tok_open(const struct tok_keys *k, int kind, const char *text, size_t len,
             struct tok *out);
void tok_clear(struct tok *t);

/* tok_mac - keyed MAC (libsodium crypto_auth, newest key) of data as hex
 * into out (TOK_MAC_HEX bytes incl. NUL); tok_mac_verify checks against
 * every key, constant time. Used by the trace header. */
#define TOK_MAC_HEX 65
int tok_mac(const struct tok_keys *k, const void *data, size_t len,
            char out[TOK_MAC_HEX]);
int tok_mac_verify(const struct tok_keys *k, const void *data, size_t len,
                   const char *hex);

#endif
