/* ctl_juris - the jurisdiction a consent receipt names: the controller's
 * country as configured ([domain X] jurisdiction, ISO 3166-1 alpha-2), not
 * a constant.
 *
 * The configuration is --config FILE, else $CONSENT_CONF, else the
 * daemons' default file if it exists. The sections whose controller is the
 * receipt's decide; if none names it, [domain *] does (mail of an unlisted
 * domain has that domain as controller and [domain *]'s settings). Sections
 * of one controller that disagree are an error: a receipt names one
 * jurisdiction, and guessing which would put a wrong one on a legal record.
 * A "jurisdiction" in --controller-info must agree with the configuration;
 * with no configuration it is used, else FR (the product's origin, and the
 * configuration's own default) with a warning. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "policy/cfg.h"

#define DEFAULT_CONF "/etc/consent-milter/consent-milter.conf"

/* The configured jurisdiction of controller cn into out, or "" if conf has
 * none for it. Returns CTL_OK or CTL_USAGE (sections disagree). */
static int configured(const struct ctl *c, const struct cfg *conf, const char *cn,
                      char out[3])
{
    const struct cfg_domain *first = NULL, *star = NULL;

    for (size_t i = 0; i < conf->ndomains; i++) {
        const struct cfg_domain *d = &conf->domains[i];
        if (strcmp(d->name, "*") == 0) {
            star = d;
            continue;
        }
        if (d->controller == NULL || strcasecmp(d->controller, cn) != 0)
            continue;
        if (first != NULL && strcmp(first->jurisdiction, d->jurisdiction) != 0) {
            ctl_err(c,
                    "%s: controller %s has two jurisdictions: [domain %s] %s (line %d), "
                    "[domain %s] %s (line %d); make them agree",
                    conf->path, cn, first->name, first->jurisdiction, first->line, d->name,
                    d->jurisdiction, d->line);
            return CTL_USAGE;
        }
        if (first == NULL)
            first = d;
    }
    if (first == NULL)
        first = star;
    snprintf(out, 3, "%s", first && first->jurisdiction ? first->jurisdiction : "");
    return CTL_OK;
}

/* The configuration to read: NULL (none, not an error) or loaded. */
static int load_conf(const struct ctl *c, struct cfg **conf)
{
    const char *env = getenv("CONSENT_CONF");
    const char *path = c->config ? c->config : env && *env ? env : DEFAULT_CONF;
    char err[1024] = "";

    *conf = NULL;
    if (c->config == NULL && !(env && *env) && access(path, F_OK) != 0)
        return CTL_OK;
    if ((*conf = cfg_load(path, err, sizeof err)) == NULL) {
        ctl_err(c, "configuration: %s", err);
        return CTL_USAGE;
    }
    return CTL_OK;
}

int ctl_jurisdiction(const struct ctl *c, const char *cn, const char *from_info,
                     char out[3])
{
    struct cfg *conf;
    int rc;

    out[0] = '\0';
    if ((rc = load_conf(c, &conf)) != CTL_OK)
        return rc;
    if (conf != NULL)
        rc = configured(c, conf, cn, out);
    cfg_release(conf);
    if (rc != CTL_OK)
        return rc;
    if (from_info != NULL && out[0] != '\0' && strcasecmp(from_info, out) != 0) {
        ctl_err(c, "controller info says jurisdiction %s, the configuration %s: make them "
                   "agree (or drop it from the info file)",
                from_info, out);
        return CTL_USAGE;
    }
    if (out[0] == '\0' && from_info != NULL) {
        /* the info file speaks for itself; only its form is checked */
        if (strlen(from_info) != 2 || from_info[0] < 'A' || from_info[0] > 'Z' ||
            from_info[1] < 'A' || from_info[1] > 'Z') {
            ctl_err(c, "controller info: jurisdiction '%s' is not an ISO 3166-1 alpha-2 code",
                    from_info);
            return CTL_USAGE;
        }
        snprintf(out, 3, "%s", from_info);
    }
    if (out[0] == '\0') {
        ctl_err(c, "warning: no configuration (--config FILE); jurisdiction FR");
        snprintf(out, 3, "FR");
    }
    return CTL_OK;
}
