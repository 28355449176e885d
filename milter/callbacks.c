/* callbacks - the libmilter callbacks of consent-milter, kept thin.
 *
 * connect retains the live configuration snapshot for the whole
 * connection; envfrom starts a message; envrcpt collects recipients;
 * header/eoh/body buffer the message (message.c); eom does all the work
 * (eom.c); abort and close call the one idempotent cleanup. Nothing is
 * modified before eom.
 *
 * Negotiation: only the actions used (add/change headers, replace body);
 * CONNECT (the connection's data is made at negotiation), HELO, DATA and
 * unknown commands are not sent. MAIL, headers, end of headers and body
 * chunks need no reply: each is a round trip saved, and a context switch
 * on both sides, for every message. An error in one of them (out of
 * memory, size limit) is kept and reported at end of message with the
 * same reply text, and nothing more is buffered; the MTA sends the rest of
 * the message either way. RCPT keeps its reply: a recipient over the
 * limit is refused on its own. libmilter offers the no-reply steps even
 * to an MTA that lacks them (it then answers "continue" itself), so in
 * practice these errors always come at end of message; step_done still
 * answers at once if a step was not negotiated without reply. */
#include "milter/milter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define MLT_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY)
#define MLT_NR_STEPS (SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static struct mlt_conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* The MTA's queue id, for log lines, as soon as the MTA tells it. */
static void queue_id(SMFICTX *ctx, struct mlt_msg *m)
{
    const char *qid;
    if (m->qid[0] == '-' && (qid = smfi_getsymval(ctx, "i")) && *qid)
        snprintf(m->qid, sizeof m->qid, "%s", qid);
}

/* Map a buffering errno to on_error with a reason. */
static sfsistat buffer_error(SMFICTX *ctx, struct mlt_conn *c, int err)
{
    if (err == EFBIG)
        return mlt_fail(ctx, c, MLT_E_SIZE, "message exceeds max_message_size", 0);
    if (err == E2BIG)
        return mlt_fail(ctx, c, MLT_E_PARSE, "too many header fields", 0);
    if (err == EIO)
        return mlt_fail(ctx, c, MLT_E_INTERNAL, "cannot write spool file", 0);
    return mlt_fail(ctx, c, MLT_E_INTERNAL, "out of memory", 0);
}

/* The connection's private data, made at negotiation (or at connect when
 * the MTA does not negotiate). NULL on ENOMEM. */
static struct mlt_conn *conn_make(SMFICTX *ctx)
{
    struct mlt_conn *c = conn_of(ctx);
    if (c)
        return c;
    if (!(c = calloc(1, sizeof *c)))
        return NULL;
    if (!(c->rt = snap_current(&mlt_live)) || smfi_setpriv(ctx, c) != MI_SUCCESS) {
        snap_release(c->rt);
        free(c);
        return NULL;
    }
    return c;
}

static sfsistat mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                               unsigned long f2, unsigned long f3, unsigned long *pf0,
                               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void)f2;
    (void)f3;
    struct mlt_conn *c = conn_make(ctx);
    if (!c)
        return SMFIS_TEMPFAIL;
    if ((f0 & MLT_ACTIONS) != MLT_ACTIONS) {
        log_err("MTA does not offer the header and body actions consent-milter needs");
        return SMFIS_REJECT;
    }
    *pf0 = MLT_ACTIONS;
    *pf1 = f1 & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
                 MLT_NR_STEPS);
    c->noreply = *pf1 & MLT_NR_STEPS;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)host;
    (void)addr;
    if (!conn_make(ctx)) {
        log_err("connect: out of memory or no configuration");
        return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

/* The reply to a callback whose MTA step was negotiated without a reply
 * (`step`, an SMFIP_NR_* flag): the first error is kept for eom. */
static sfsistat step_done(SMFICTX *ctx, struct mlt_conn *c, unsigned long step, int rc)
{
    if (!(c->noreply & step))
        return rc ? buffer_error(ctx, c, rc) : SMFIS_CONTINUE;
    if (rc && !c->err)
        c->err = rc;
    return SMFIS_NOREPLY;
}

static sfsistat mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    struct mlt_conn *c = conn_of(ctx);
    /* After SMFIC_QUIT_NC libmilter has called close (our data is gone)
     * and goes on with a new SMTP session on the same milter connection,
     * without negotiating again or, as asked, sending CONNECT: the steps
     * negotiated at the start still hold (libmilter offers the no-reply
     * steps to every MTA). Without data, eom refuses the message. */
    if (!c && (c = conn_make(ctx)) != NULL)
        c->noreply = MLT_NR_STEPS;
    if (!c)
        return SMFIS_TEMPFAIL;
    c->msg = mlt_msg_free(c->msg);
    c->err = 0;
    c->msg = mlt_msg_new(c->rt->cfg);
    if (!c->msg || mlt_msg_set_sender(c->msg, argv && argv[0] ? argv[0] : "") != 0) {
        c->msg = mlt_msg_free(c->msg);
        return step_done(ctx, c, SMFIP_NR_MAIL, ENOMEM);
    }
    queue_id(ctx, c->msg);
    return step_done(ctx, c, SMFIP_NR_MAIL, 0);
}

static sfsistat mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
    struct mlt_conn *c = conn_of(ctx);
    if (!c || !c->msg)
        return SMFIS_CONTINUE;
    queue_id(ctx, c->msg);
    /* A recipient that cannot be kept is refused alone (the client sends
     * it again later); the message goes on for the others. Accepting it
     * unrecorded would deliver to it without its decision. */
    int rc = mlt_msg_add_rcpt(c->msg, argv && argv[0] ? argv[0] : "");
    if (rc == ENOMEM) {
        smfi_setreply(ctx, "451", "4.3.0", "consent-milter: out of memory");
        return SMFIS_TEMPFAIL;
    }
    if (rc == E2BIG) {
        smfi_setreply(ctx, "452", "4.5.3", "consent-milter: too many recipients");
        return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_header(SMFICTX *ctx, char *name, char *value)
{
    struct mlt_conn *c = conn_of(ctx);
    if (!c)
        return SMFIS_CONTINUE;
    if (c->msg && !c->err)
        c->err = mlt_msg_add_header(c->msg, name, value ? value : "");
    /* without NR_HDR the error waits for eoh, which has a reply */
    return c->noreply & SMFIP_NR_HDR ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat mlfi_eoh(SMFICTX *ctx)
{
    struct mlt_conn *c = conn_of(ctx);
    if (!c)
        return SMFIS_CONTINUE;
    if (!c->msg || c->err) /* a kept header error: answered now or at eom */
        return step_done(ctx, c, SMFIP_NR_EOH, c->err);
    queue_id(ctx, c->msg);
    return step_done(ctx, c, SMFIP_NR_EOH, mlt_msg_end_headers(c->msg));
}

static sfsistat mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct mlt_conn *c = conn_of(ctx);
    if (!c)
        return SMFIS_CONTINUE;
    if (!c->msg || c->err)
        return step_done(ctx, c, SMFIP_NR_BODY, 0);
    return step_done(ctx, c, SMFIP_NR_BODY, mlt_msg_add_body(c->msg, chunk, len));
}

/* The end of message work within the workers' shared memory budget: a
 * share that cannot be had in time temp-fails (whatever on_error says: it
 * is load, not the message); one larger than the budget gets on_error. */
static sfsistat eom_in_budget(SMFICTX *ctx, struct mlt_conn *c)
{
    size_t held;
    sfsistat r;

    switch (mlt_budget_take(c->rt->cfg->max_memory, mlt_budget_need(c->msg->size),
                            MLT_BUDGET_WAIT_MS, &held)) {
    case 0:
        break;
    case EFBIG:
        return mlt_fail(ctx, c, MLT_E_SIZE, "message needs more memory than max_memory", 0);
    default:
        return mlt_fail(ctx, c, MLT_E_SIZE, "memory budget max_memory in use, try later", 1);
    }
    r = mlt_eom(ctx, c);
    mlt_budget_give(held);
    return r;
}

static sfsistat mlfi_eom(SMFICTX *ctx)
{
    struct mlt_conn *c = conn_of(ctx);
    /* Fail closed: a message we hold nothing for was never looked at. */
    if (!c) {
        log_err("end of message without connection data: temp-failed");
        smfi_setreply(ctx, "451", "4.3.0", "consent-milter: internal error");
        return SMFIS_TEMPFAIL;
    }
    if (c->err)
        return buffer_error(ctx, c, c->err);
    if (!c->msg)
        return mlt_fail(ctx, c, MLT_E_INTERNAL, "no message data", 0);
    return eom_in_budget(ctx, c);
}

static sfsistat mlfi_abort(SMFICTX *ctx)
{
    struct mlt_conn *c = conn_of(ctx);
    if (c)
        c->msg = mlt_msg_free(c->msg);
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_close(SMFICTX *ctx)
{
    struct mlt_conn *c = conn_of(ctx);
    if (!c)
        return SMFIS_CONTINUE;
    c->msg = mlt_msg_free(c->msg);
    snap_release(c->rt);
    free(c);
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "consent-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = MLT_ACTIONS,
    .xxfi_connect = mlfi_connect,
    .xxfi_envfrom = mlfi_envfrom,
    .xxfi_envrcpt = mlfi_envrcpt,
    .xxfi_header = mlfi_header,
    .xxfi_eoh = mlfi_eoh,
    .xxfi_body = mlfi_body,
    .xxfi_eom = mlfi_eom,
    .xxfi_abort = mlfi_abort,
    .xxfi_close = mlfi_close,
    .xxfi_negotiate = mlfi_negotiate,
};

struct smfiDesc *mlt_filter_desc(void)
{
    return &desc;
}
