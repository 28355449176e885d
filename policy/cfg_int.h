/* cfg_int - internals shared by cfg.c (parser) and cfg_keys.c (key table). */
#ifndef CM_CFG_INT_H
#define CM_CFG_INT_H

#include <stddef.h>

#include "policy/cfg.h"

enum ktype {
    K_STR,
    K_PATH,
    K_BOOL,
    K_ENUM,
    K_SIZE,
    K_UINT,
    K_LEVEL,
    K_PURPOSES,
    K_RULES,
    K_URL,
    K_SOCKET,
    K_LANG,    /* 2-3 letters, lowercased; existence checked by its templates */
    K_COUNTRY, /* ISO 3166-1 alpha-2, uppercased */
    K_CIDRS,   /* struct cidr * followed by its size_t count */
    K_CONNINFO /* libpq connection string without a password */
};

struct keydef {
    const char *section; /* "milter", "gate", "store", "domain" */
    const char *name;
    enum ktype type;
    size_t off;      /* into struct cfg or struct cfg_domain */
    const char *def; /* default as text; NULL: none */
    const char *const *names;
    unsigned min, max;
    const char *doc; /* one line, for -n -v dumps */
};

extern const struct keydef cfg_keys[];
extern const size_t cfg_nkeys;

/* cfg_key_find - the key of section ("milter", "gate", "domain"), or NULL. */
const struct keydef *cfg_key_find(const char *section, const char *name);
/* cfg_key_apply - parse v into the field of base; -1 with *why on error. */
int cfg_key_apply(const struct keydef *k, void *base, const char *v, const char **why);
void cfg_rules_free(struct cfg_class_rule *r, size_t n);
struct cfg_class_rule *cfg_rules_copy(const struct cfg_class_rule *r, size_t n);
char *cfg_trim(char *s);
char *cfg_strdup(const char *s); /* NULL-safe strdup */

#endif
