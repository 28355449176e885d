/* input - the one builder of the policy input (struct policy_input) and
 * the consent lookup behind it, shared by consent-milter and
 * consent-rewrite so that both decide from the same inputs the same way
 * (SPEC §4.4, §4.5).
 *
 * Data flow: snapshot (configuration, rules, limits, keys) + message info
 * (policy/msginfo) + the recipients -> struct policy_input, ready for
 * policy_prepare(). One recipient is decided on its own consent; several
 * get the strictest outcome, no purpose granted (no per-recipient footer
 * can be made for several, and a tracker stays only if all consented).
 *
 * Failure: only the store lookup fails (a store error other than "not
 * found"), with a reason; an unknown recipient has no consent. */
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "store/store.h"

int policy_granted(struct store *st, const char *controller, const char *rcpt,
                   uint32_t *granted, int *found, char *err, size_t errlen)
{
    struct store_consent c;
    int rc;

    *granted = 0;
    *found = 0;
    if (st == NULL)
        return 0;
    rc = store_consent_get(st, controller, rcpt, &c);
    if (rc == STORE_NOTFOUND || rc == STORE_EINVAL)
        return 0; /* no consent recorded = no consent */
    if (rc != STORE_OK) {
        snprintf(err, errlen, "consent store: %s", store_strerror(rc));
        return rc;
    }
    *found = 1;
    for (int i = 0; i < STORE_P_MAX; i++)
        if (c.state[i] == STORE_GRANTED)
            *granted |= 1u << i;
    return 0;
}

void policy_input_build(struct policy_input *in, const struct snap *s,
                        const struct msginfo *info, const char *rcpt, uint32_t granted,
                        int64_t now)
{
    memset(in, 0, sizeof *in);
    in->cfg = s->cfg;
    in->dom = info->dom;
    in->controller = info->controller;
    in->mail_class = info->mail_class;
    in->rules = s->rules;
    in->limits = &s->limits;
    in->keys = s->keys;
    in->recipient = rcpt;
    in->granted = rcpt ? granted : 0; /* several recipients: strictest */
    in->campaign = info->campaign;
    in->now = now;
}
