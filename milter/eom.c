/* eom - the end-of-message work of consent-milter.
 *
 * mlt_eom reads like a table of contents: load the buffered message, pass
 * already-processed mail untouched, decide (controller, class, consent),
 * apply the mode and DKIM policy, rewrite through the shared policy
 * (policy/policy.c, the same decisions as consent-rewrite), then apply
 * the result in one go: the new body in one smfi_replacebody run, header
 * changes from the rewriter, ESP no-track headers, the trace header. Then
 * one log line.
 *
 * Failure: any error before the first modification maps to on_error with
 * an SMTP reply naming the reason. An error while modifications are being
 * sent always tempfails, whatever on_error says, so that nothing is ever
 * delivered half-rewritten. */
#include "milter/milter.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "policy/policy.h"

struct eom {
    SMFICTX *ctx;
    struct mlt_conn *c;
    struct mlt_msg *m;
    const struct snap *rt;
    const char *data;
    size_t len;
    struct mlt_decision d;
    struct policy pol;
    int pol_ok;
    struct rw_request req;
    struct rw_report rep;
    int rep_ok;
    struct buf out;
    struct buf fields;
    double t0; /* start of end-of-message work */
    struct mlt_hedit *esp; /* ESP edits, worked out before any modification */
    int nesp;
    int ekind; /* enum mlt_ekind of the failure in err */
    int mdec;  /* enum mlt_mdecision, for the metrics */
    char err[600];
};

/* Control bytes, non-ASCII and the characters in `also` become `with`:
 * text that can quote the message (a charset name, a rule name) must stay
 * one field of a reply, a log line or a header. */
static void scrub(char *s, const char *also, char with)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || strchr(also, *s))
            *s = with;
}

/* A reply text may carry neither CR/LF nor '%' (libmilter formats it). */
static void reply_text(char *dst, size_t n, const char *why)
{
    snprintf(dst, n, "consent-milter: %s", why);
    scrub(dst, "%", ' ');
}

int mlt_ekind_permanent(int kind)
{
    return kind == MLT_E_PARSE || kind == MLT_E_SIZE || kind == MLT_E_POLICY;
}

int mlt_rw_ekind(int rw_status)
{
    switch (rw_status) {
    case RW_EPARSE:   /* the same bytes never parse */
    case RW_ELIMIT:   /* depth, parts, sizes: fixed limits */
    case RW_ECHARSET: /* the charset stays unknown */
    case RW_EAMBIG:   /* MIME that readers split differently stays so */
        return MLT_E_PARSE;
    case RW_ENOMEM:
    case RW_EINVAL:    /* bad rules text: fixed by the administrator */
    case RW_ECALLBACK: /* a gate token not sealed */
    default:           /* a status added later: retrying is the safe guess */
        return MLT_E_INTERNAL;
    }
}

sfsistat mlt_fail(SMFICTX *ctx, struct mlt_conn *c, int kind, const char *why,
                  int force_tempfail)
{
    static const char *const xcode[][2] = {
        [MLT_E_INTERNAL] = {"4.3.0", "5.3.0"},
        [MLT_E_PARSE] = {"4.6.0", "5.6.0"},
        [MLT_E_SIZE] = {"4.3.4", "5.3.4"},
        [MLT_E_POLICY] = {"4.7.0", "5.7.0"},
    };
    int act = force_tempfail ? CFG_ONERR_TEMPFAIL : c->rt->cfg->on_error;
    /* What can never succeed is not deferred: the sender would retry for
     * days, then bounce anyway, and the reason would reach nobody. */
    if (act == CFG_ONERR_TEMPFAIL && !force_tempfail && mlt_ekind_permanent(kind))
        act = CFG_ONERR_REJECT;
    const char *qid = c->msg ? c->msg->qid : "-";
    const char *word = act == CFG_ONERR_ACCEPT   ? "accept"
                       : act == CFG_ONERR_REJECT ? "reject"
                                                 : "tempfail";
    char text[300], logwhy[256];

    snprintf(logwhy, sizeof logwhy, "%s", why);
    scrub(logwhy, "\"\\", ' '); /* one key=value field, whatever the reason quotes */
    log_warn("%s: error reason=\"%s\" action=%s", qid, logwhy, word);
    mlt_metrics_error(kind, act);
    c->msg = mlt_msg_free(c->msg);
    if (act == CFG_ONERR_ACCEPT)
        return SMFIS_ACCEPT;
    reply_text(text, sizeof text, why);
    if (act == CFG_ONERR_REJECT) {
        smfi_setreply(ctx, kind == MLT_E_SIZE ? "552" : "554", (char *)xcode[kind][1], text);
        return SMFIS_REJECT;
    }
    smfi_setreply(ctx, "451", (char *)xcode[kind][0], text);
    return SMFIS_TEMPFAIL;
}

/* The body as it is in the message we hold. */
static void input_body(const struct eom *e, const char **b, size_t *n)
{
    *b = e->data + e->m->body_off;
    *n = e->len - e->m->body_off;
}

/* Ceiling for the canonical decision inputs: never longer than the header
 * block plus a few bytes of tags per field (and our own ESP values), so a
 * huge X-SMTPAPI is not an "out of memory" retried for ever. */
static size_t inputs_max(const struct eom *e)
{
    return e->len + 16 * MLT_MAX_HEADERS + (1u << 20);
}

/* Ours, for these decision inputs and this body, and enforced: a monitor
 * pass changed nothing, so it exempts nothing. -1 on ENOMEM. */
static int already_processed(const struct eom *e)
{
    const char *b;
    size_t n;
    const char *v = mlt_msg_header(e->m, MLT_TRACE_HEADER);
    if (!v || !e->rt->keys)
        return 0;
    struct buf in = BUF_INIT(inputs_max(e));
    if (mlt_trace_inputs(e->rt->cfg, e->m->hdrs, e->m->nhdrs, e->m->sender, &in) != 0) {
        buf_free(&in);
        return -1;
    }
    input_body(e, &b, &n);
    int ok = mlt_trace_verify(e->rt->keys, v, buf_cstr(&in), b, n) &&
             mlt_trace_enforced(v);
    buf_free(&in);
    return ok;
}

/* Made by us for other recipients, then relabelled (or a 1.0 copy): not
 * exempt, but still carrying someone else's links. Every trace header
 * counts: a junk one put before ours must not hide it. */
static int personalised_for_others(const struct eom *e)
{
    const char *b;
    size_t n;
    if (!e->rt->keys)
        return 0;
    input_body(e, &b, &n);
    for (size_t i = 0; i < e->m->nhdrs; i++) {
        const char *v = e->m->hdrs[i].value;
        if (strcasecmp(e->m->hdrs[i].name, MLT_TRACE_HEADER) == 0 && mlt_trace_enforced(v) &&
            mlt_trace_personalised(e->rt->keys, v, b, n) &&
            !mlt_trace_for(e->rt->keys, v, e->m->rcpts, e->m->nrcpts))
            return 1;
    }
    return 0;
}

/* The message passes untouched; one log line says why. */
static sfsistat pass(struct eom *e, const char *why)
{
    e->mdec = e->d.info.dom && e->d.info.dom->mode == CFG_MODE_OFF ? MLT_MD_OFF : MLT_MD_SKIP;
    log_info("%s: skip reason=%s controller=%s ms=%.2f", e->m->qid, why,
             e->d.info.controller[0] ? e->d.info.controller : "-",
             (mlt_now() - e->t0) * 1000.0);
    return SMFIS_CONTINUE;
}

/* Processed by us for other recipients (a resent or redirected copy): it
 * carries someone else's gated links and withdrawal link, which must not
 * reach these recipients, and cannot be personalised again. A permanent
 * refusal that says why, whatever on_error says (this is policy, not an
 * internal error); the sender can send a fresh copy. */
static sfsistat refuse_foreign(struct eom *e)
{
    e->mdec = MLT_MD_REFUSED;
    log_warn("%s: refuse reason=personalised-for-other-recipients controller=%s",
             e->m->qid, e->d.info.controller[0] ? e->d.info.controller : "-");
    smfi_setreply(e->ctx, "550", "5.7.0",
                  "consent-milter: message was already personalised for other recipients;"
                  " send a fresh copy");
    return SMFIS_REJECT;
}

static int rewrite(struct eom *e)
{
    struct policy_input in;

    policy_input_build(&in, e->rt, &e->d.info, e->m->nrcpts == 1 ? e->m->rcpts[0] : NULL,
                       e->d.granted, 0);
    if (policy_prepare(&in, &e->pol, &e->req) != 0) {
        snprintf(e->err, sizeof e->err, "policy: %s", e->pol.err);
        policy_free(&e->pol);
        e->ekind = MLT_E_INTERNAL;
        return -1;
    }
    e->pol_ok = 1;
    /* SPEC §7: memory bounded per message, <= 4x its size. */
    buf_init(&e->out, e->len * 3 + (1u << 20));
    int rc = rw_rewrite(&e->req, e->data, e->len, &e->out, &e->rep);
    e->rep_ok = 1;
    if (rc == RW_OK)
        return 0;
    snprintf(e->err, sizeof e->err, "cannot rewrite message: %s%s%s", rw_strerror(rc),
             e->rep.error[0] ? ": " : "", e->rep.error);
    e->ekind = mlt_rw_ekind(rc);
    return -1;
}

/* Sum of a report row over the actions that changed something. */
static unsigned acted(const struct rw_report *r, int action)
{
    unsigned n = 0;
    for (int t = 0; t < RW_T_MAX; t++)
        n += r->acted[t][action];
    return n;
}

static const char *footer_word(const struct rw_report *r)
{
    if (!r->footer_html_added && !r->footer_text_added)
        return "none";
    return r->footer_tracked ? "withdraw" : "preferences";
}

/* Rule text made safe for a header field and a log line. */
static void safe_rule(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in ? in : "default");
    scrub(out, ";\"", '_');
}

static int describe(struct eom *e)
{
    const struct rw_report *r = &e->rep;
    char rule[128];
    safe_rule(e->d.info.class_rule, rule, sizeof rule);
    buf_init(&e->fields, 4096);
    return buf_printf(
        &e->fields,
        "decision=%s; mode=%s; class=%s; rule=\"%s\"; rcpts=%zu; pixels=%u; "
        "links=%u; opaque=%u; strip=%u; anon=%u; gate=%u; deliv=%u; "
        "unwrap=%u; clean=%u; footer=%s",
        e->pol.sum.decision, cfg_mode_name(e->d.info.dom->mode),
        cfg_class_name(e->d.info.mail_class), rule, e->m->nrcpts, r->found[RW_T_PIXEL],
        r->found[RW_T_LINK], r->found[RW_T_OPAQUE], acted(r, RW_A_STRIP),
        acted(r, RW_A_ANON), acted(r, RW_A_GATE), acted(r, RW_A_DELIV),
        acted(r, RW_A_UNWRAP), acted(r, RW_A_CLEAN), footer_word(r));
}

static int apply_body(struct eom *e, const char **body, size_t *blen)
{
    if (!e->rep.changed || e->req.dry_run) {
        input_body(e, body, blen);
        return 0;
    }
    /* A rewrite whose body cannot be found must not go out half applied
     * (header changes without the body): the caller tempfails. */
    if (e->rep.body_offset > e->out.len)
        return -1;
    *body = e->out.data + e->rep.body_offset;
    *blen = e->out.len - e->rep.body_offset;
    if (*blen > INT_MAX) /* smfi_replacebody takes an int */
        return -1;
    return smfi_replacebody(e->ctx, (unsigned char *)*body, (int)*blen) == MI_SUCCESS
               ? 0
               : -1;
}

/* The ESP no-track edits, worked out before anything is modified: a
 * header that cannot be switched off fails the message cleanly. */
static int esp_prepare(struct eom *e)
{
    int mode = e->d.info.dom->mode;
    if (!e->d.info.dom->esp_headers ||
        (mode != CFG_MODE_ENFORCE && mode != CFG_MODE_NEVER_TRACK))
        return 0;
    int never = mode == CFG_MODE_NEVER_TRACK;
    int n = mlt_esp_edits(e->m, never || !e->pol.sum.pixels_ok,
                          never || !e->pol.sum.clicks_ok, &e->esp, e->err, sizeof e->err);
    if (n == -1) {
        snprintf(e->err, sizeof e->err, "out of memory");
        e->ekind = MLT_E_INTERNAL;
    } else if (n < 0) {
        e->ekind = MLT_E_PARSE;
    }
    e->nesp = n < 0 ? 0 : n;
    return n < 0 ? -1 : 0;
}

static int apply_headers(struct eom *e)
{
    if (e->req.dry_run)
        return 0;
    for (size_t i = 0; i < e->rep.nhdr_changes; i++)
        if (smfi_chgheader(e->ctx, e->rep.hdr_changes[i].name, 1,
                           e->rep.hdr_changes[i].value) != MI_SUCCESS)
            return -1;
    for (int i = 0; i < e->nesp; i++) {
        const struct mlt_hedit *ed = &e->esp[i];
        if ((ed->op == MLT_HDR_CHANGE
                 ? smfi_chgheader(e->ctx, (char *)ed->name, ed->index, ed->value)
                 : smfi_addheader(e->ctx, (char *)ed->name, ed->value)) != MI_SUCCESS)
            return -1;
    }
    return 0;
}

/* The decision inputs of the message as it leaves: the headers received,
 * with the changes apply_headers made. */
static int sent_inputs(const struct eom *e, struct buf *in)
{
    size_t n = e->m->nhdrs;
    struct msginfo_hdr *v = malloc((n + 1) * sizeof *v);
    int rc = v ? 0 : -1;

    if (v)
        memcpy(v, e->m->hdrs, n * sizeof *v);
    for (size_t i = 0; rc == 0 && !e->req.dry_run && i < e->rep.nhdr_changes; i++)
        rc = mlt_trace_hdrs_edit(&v, &n, e->rep.hdr_changes[i].name, 1,
                                 e->rep.hdr_changes[i].value);
    for (int i = 0; rc == 0 && !e->req.dry_run && i < e->nesp; i++)
        rc = mlt_trace_hdrs_edit(&v, &n, e->esp[i].name,
                                 e->esp[i].op == MLT_HDR_CHANGE ? e->esp[i].index : 0,
                                 e->esp[i].value);
    if (rc == 0)
        rc = mlt_trace_inputs(e->rt->cfg, v, n, e->m->sender, in);
    free(v);
    return rc;
}

/* Remove stale or forged trace headers, then add ours. */
static int apply_trace(struct eom *e, const char *body, size_t blen)
{
    if (!e->rt->cfg->trace_header)
        return 0;
    for (size_t i = mlt_msg_header_count(e->m, MLT_TRACE_HEADER); i > 0; i--)
        if (smfi_chgheader(e->ctx, MLT_TRACE_HEADER, (int)i, NULL) != MI_SUCCESS)
            return -1;
    struct buf v = BUF_INIT(8192), f = BUF_INIT(8192), in = BUF_INIT(inputs_max(e));
    char rmac[TOK_MAC_HEX];
    int rc = buf_puts(&f, buf_cstr(&e->fields));
    if (rc == 0)
        rc = sent_inputs(e, &in);
    /* Bind the personalisation to its recipients (not logged: it is a
     * keyed digest of addresses). */
    if (rc == 0 && e->rt->keys &&
        mlt_trace_rcpts(e->rt->keys, e->m->rcpts, e->m->nrcpts, rmac) == 0)
        rc = buf_printf(&f, "; for=%s", rmac);
    if (rc == 0)
        rc = mlt_trace_make(e->rt->keys, buf_cstr(&f), buf_cstr(&in), body, blen, &v);
    buf_free(&f);
    buf_free(&in);
    if (rc == 0)
        rc = smfi_addheader(e->ctx, MLT_TRACE_HEADER, v.data) == MI_SUCCESS ? 0 : -1;
    buf_free(&v);
    return rc;
}

/* One line per message: queue id, event word, key=value fields (the trace
 * header's fields, space-separated). */
static void log_result(const struct eom *e)
{
    const char *event = e->req.dry_run ? "monitor" : e->rep.changed ? "rewrite" : "clean";
    char *kv = strdup(buf_cstr(&e->fields));
    for (char *p = kv; p && (p = strstr(p, "; ")) != NULL;)
        memmove(p, p + 1, strlen(p + 1) + 1);
    log_info("%s: %s controller=%s %s esp=%d size=%zu ms=%.2f", e->m->qid, event,
             e->d.info.controller, kv ? kv : buf_cstr(&e->fields), e->nesp, e->len,
             (mlt_now() - e->t0) * 1000.0);
    free(kv);
    if (log_enabled(LOG_LVL_DEBUG))
        for (size_t i = 0; i < e->m->nrcpts; i++)
            log_debug("%s: rcpt=<%s> granted=0x%x", e->m->qid, e->m->rcpts[i],
                      e->m->nrcpts == 1 ? e->d.granted : 0);
}

/* dkim_signed protects signatures from our rewriting; monitor rewrites
 * nothing, so it neither skips nor delays signed mail. */
static sfsistat dkim_policy(struct eom *e, int *go_on)
{
    *go_on = 1;
    if (!mlt_msg_header(e->m, "DKIM-Signature") ||
        e->d.info.dom->dkim_signed == CFG_DKIM_REWRITE ||
        e->d.info.dom->mode == CFG_MODE_MONITOR)
        return SMFIS_CONTINUE;
    *go_on = 0;
    if (e->d.info.dom->dkim_signed == CFG_DKIM_SKIP)
        return pass(e, "dkim-signed");
    return mlt_fail(e->ctx, e->c, MLT_E_POLICY,
                    "message is already DKIM-signed; sign after consent-milter", 1);
}

static sfsistat run(struct eom *e)
{
    const char *body;
    size_t blen;
    int go_on;

    if (mlt_msg_data(e->m, &e->data, &e->len) != 0)
        return mlt_fail(e->ctx, e->c, MLT_E_INTERNAL, "cannot read spooled message", 0);
    int done = already_processed(e);
    if (done < 0)
        return mlt_fail(e->ctx, e->c, MLT_E_INTERNAL, "out of memory", 0);
    if (done) {
        if (mlt_trace_for(e->rt->keys, mlt_msg_header(e->m, MLT_TRACE_HEADER),
                          e->m->rcpts, e->m->nrcpts))
            return pass(e, "already-processed");
        return refuse_foreign(e);
    }
    if (personalised_for_others(e))
        return refuse_foreign(e);
    if (mlt_decide(e->rt, e->m, &e->d, e->err, sizeof e->err) != 0)
        return mlt_fail(e->ctx, e->c, MLT_E_INTERNAL, e->err, 0);
    if (e->d.info.dom->mode == CFG_MODE_OFF)
        return pass(e, "mode-off");
    sfsistat r = dkim_policy(e, &go_on);
    if (!go_on)
        return r;
    if (rewrite(e) != 0 || esp_prepare(e) != 0)
        return mlt_fail(e->ctx, e->c, e->ekind, e->err, 0);
    if (describe(e) != 0)
        return mlt_fail(e->ctx, e->c, MLT_E_INTERNAL, "out of memory", 0);
    if (apply_body(e, &body, &blen) != 0 || apply_headers(e) != 0 ||
        apply_trace(e, body, blen) != 0)
        return mlt_fail(e->ctx, e->c, MLT_E_INTERNAL,
                        "cannot send modifications to the MTA", 1);
    log_result(e);
    e->mdec = mlt_decision_index(e->pol.sum.decision);
    mlt_metrics_trackers((const unsigned(*)[RW_A_MAX])e->rep.acted, RW_T_MAX);
    return SMFIS_CONTINUE;
}

/* Shutdown: smfi_main returns on SIGTERM without waiting for the
 * sessions in progress, and the store is closed after it. Every eom
 * counts itself in before it looks at `stopping`, and the main thread sets
 * `stopping` before it waits for the count to reach zero (sequentially
 * consistent atomics), so an eom either finishes before the store is
 * closed or sees `stopping` and temp-fails without touching it. */
static atomic_int in_eom, stopping;

int mlt_eom_drain(unsigned seconds)
{
    atomic_store(&stopping, 1);
    for (unsigned i = 0; atomic_load(&in_eom) > 0 && i < seconds * 20; i++)
        usleep(50000);
    return atomic_load(&in_eom) == 0;
}

static sfsistat eom_work(SMFICTX *ctx, struct mlt_conn *c)
{
    struct eom e;
    memset(&e, 0, sizeof e);
    e.ctx = ctx;
    e.c = c;
    e.m = c->msg;
    e.rt = c->rt;
    e.t0 = mlt_now();
    e.mdec = MLT_MD_ERROR;
    const char *qid = smfi_getsymval(ctx, "i");
    if (qid && *qid && e.m->qid[0] == '-')
        snprintf(e.m->qid, sizeof e.m->qid, "%s", qid);
    sfsistat r = run(&e);
    mlt_metrics_message(e.mdec, e.d.info.dom ? e.d.info.mail_class : -1, mlt_now() - e.t0);
    if (e.rep_ok)
        rw_report_free(&e.rep);
    if (e.pol_ok)
        policy_free(&e.pol);
    buf_free(&e.out);
    buf_free(&e.fields);
    mlt_esp_free(e.esp, e.nesp);
    c->msg = mlt_msg_free(c->msg);
    return r;
}

sfsistat mlt_eom(SMFICTX *ctx, struct mlt_conn *c)
{
    sfsistat r;

    atomic_fetch_add(&in_eom, 1);
    if (atomic_load(&stopping))
        r = mlt_fail(ctx, c, MLT_E_INTERNAL, "shutting down", 1);
    else
        r = eom_work(ctx, c);
    atomic_fetch_sub(&in_eom, 1);
    return r;
}
