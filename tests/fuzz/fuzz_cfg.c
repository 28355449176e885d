/* fuzz_cfg - libFuzzer harness on the configuration parser (policy/cfg.h):
 * the input is a configuration file, parsed from memory with relative
 * paths against conf/ (absolute; the example footers, pages and rules are there).
 * Every input must load or be refused with a reason. One that loads must
 * dump (cfg_dump, what "consent-milter -n -v" prints) to text that loads
 * again to the same dump (unless a line of it is too long for libinih), and every [domain] section must be found by its
 * own name and by a subdomain of it.
 *
 * Inputs naming a device, /proc or /sys are skipped: the parser reads the
 * template files a configuration names, and a read from a terminal or a
 * pipe would wait for input that never comes, which is the file's fault,
 * not the parser's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/cfg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* conf/, absolute as the daemons make it (their -c is made absolute). */
static char base_dir[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (realpath("conf", base_dir) == NULL) {
        fprintf(stderr, "fuzz_cfg: run from the source tree (conf/ is not here)\n");
        abort();
    }
    return 0;
}

static void check_domains(const struct cfg *c)
{
    char sub[600];

    if (c->ndomains == 0 || cfg_domain_for(c, "no-such-domain.invalid") == NULL)
        abort();
    for (size_t i = 0; i < c->ndomains; i++) {
        const char *name = c->domains[i].name;
        const struct cfg_domain *d;
        if (name == NULL)
            abort();
        if (strcmp(name, "*") == 0)
            continue;
        d = cfg_domain_for(c, name);
        if (d == NULL || strcasecmp(d->name, name) != 0)
            abort(); /* a section is not found by its own name */
        snprintf(sub, sizeof sub, "news.%s", name);
        if (cfg_domain_for(c, sub) == NULL)
            abort();
    }
}

/* libinih reads lines of at most this many characters (its buffer is
 * fixed when the library is built). A value that fits the file may not fit
 * the dump: the dump writes "key = value" and relative paths made
 * absolute. Such a dump is not loaded again. */
#define INI_LINE_MAX 197

static size_t longest_line(const char *s)
{
    size_t max = 0;

    while (*s) {
        size_t n = strcspn(s, "\n");
        if (n > max)
            max = n;
        s += n + (s[n] != '\0');
    }
    return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512], *text, *dump, *dump2;
    struct cfg *c, *c2;

    if (size > 65536)
        return 0;
    if ((text = malloc(size + 1)) == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    if (strstr(text, "/dev") || strstr(text, "/proc") || strstr(text, "/sys")) {
        free(text);
        return 0;
    }
    err[0] = '\0';
    c = cfg_load_string(text, base_dir, err, sizeof err);
    free(text);
    if (c == NULL) {
        if (err[0] == '\0')
            abort(); /* refused without a reason */
        return 0;
    }
    check_domains(c);
    if ((dump = cfg_dump(c)) == NULL)
        abort();
    if (longest_line(dump) > INI_LINE_MAX) {
        free(dump);
        cfg_release(c);
        return 0;
    }
    c2 = cfg_load_string(dump, base_dir, err, sizeof err);
    if (c2 == NULL) {
        fprintf(stderr, "fuzz_cfg: the dump does not load again: %s\n%s\n", err, dump);
        abort();
    }
    if ((dump2 = cfg_dump(c2)) == NULL || strcmp(dump, dump2) != 0) {
        fprintf(stderr, "fuzz_cfg: the dump changes when loaded again:\n%s\n----\n%s\n",
                dump, dump2 ? dump2 : "(null)");
        abort();
    }
    free(dump2);
    free(dump);
    cfg_release(c2);
    cfg_release(cfg_retain(c));
    cfg_release(c);
    return 0;
}
