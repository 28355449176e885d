/* ctl_pg_none - consentctl built without the primary's writer (the tree
 * has no store/store_repl.h yet): the PostgreSQL commands say so. */
#include "ctl/ctl.h"

static int none(struct ctl *c)
{
    ctl_err(c, "this consentctl was built without the PostgreSQL writer "
               "(store/store_repl.h missing)");
    return CTL_FAIL;
}

int ctl_pg_record(struct ctl *c, struct store_event *ev)
{
    (void)ev;
    return none(c);
}

int ctl_pg_verify(struct ctl *c)
{
    return none(c);
}

int ctl_pg_erase(struct ctl *c, const char *ctl, const char *rcpt, const char *actor)
{
    (void)ctl, (void)rcpt, (void)actor;
    return none(c);
}
