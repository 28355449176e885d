/* decide - who sends, what class, which consent (SPEC §4.2-§4.5).
 *
 * Sending domain and class come from policy/msginfo (shared with
 * consent-rewrite). Sending domain: the domain of the From: header (the brand the recipient
 * sees), else the envelope sender's; cfg_domain_for maps it (and its
 * parents) to a [domain] section. Class: the section's auth rules, then its
 * transactional rules (header globs and envelope-sender globs), else
 * marketing. Consent (policy_granted, policy/input.c, shared with
 * consent-rewrite): one recipient is one short store read; several
 * recipients get the strictest outcome, i.e. no purpose granted (a tracker
 * stays only if every recipient consented, and no per-recipient footer can
 * be made, so none stays). An unknown recipient has no consent.
 *
 * Failure: a store error other than "not found" is returned to the caller,
 * which applies on_error. */
#include "milter/milter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"

int mlt_decide(const struct snap *rt, const struct mlt_msg *m, struct mlt_decision *d,
               char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    msginfo_derive(rt->cfg, m->hdrs, m->nhdrs, m->sender, &d->info);
    if (m->nrcpts != 1)
        return 0;
    return policy_granted(mlt_store, d->info.controller, m->rcpts[0], &d->granted,
                          &d->found, err, errlen);
}
