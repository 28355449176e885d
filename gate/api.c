/* api - POST /api/v1/consent (SPEC §6.2): sign-up back ends record a
 * consent event with its proof.
 *
 * Authentication: "Authorization: Bearer KEY", KEY being the api_key of a
 * [domain] section (its own or inherited from [domain *]); the body's
 * controller must be one a section holding the key serves (key_covers). Keys are compared
 * as SHA-256 digests with sodium_memcmp, so neither content nor length leaks through
 * timing.
 *
 * Body (JSON object, at most GATE_API_MAX bytes, unknown fields refused):
 *   controller     string, required
 *   recipient      string, required (normalised as the store does)
 *   action         "grant" | "refuse" | "withdraw", required
 *   purposes       array of purpose names; required for grant/refuse,
 *                  absent or empty for withdraw = every purpose
 *   notice_id      string, required for grant/refuse
 *   notice_sha256  64 hex digits, required for grant/refuse
 *   notice_text    string, optional: the exact notice text shown (UTF-8,
 *                  fits in the body limit). Its SHA-256 must be
 *                  notice_sha256 (422 otherwise), it must not contain the
 *                  recipient's address (a template, not a rendered copy:
 *                  notice versions outlive erasure), and it is kept as a
 *                  notice version with the event (consentctl notice show).
 *                  Send it at least once per version; the 201 answer's
 *                  "notice_stored" says whether the store holds the version.
 *   method         "signup-form" (default) | "api" | "consent-page"
 *   time           UTC seconds of the consent, optional; at most
 *                  STORE_CLOCK_SKEW (300 s) ahead, and then recorded as now
 *   source_ip, user_agent  strings, stored only if the domain's
 *                  store_source = yes
 * Answers: 201 with the event; errors {"error": CODE, "message": TEXT}
 * with 400 401 403 405 413 415 422 503, and 409 "superseded" when the
 * event went into the ledger but changed nothing because the current
 * consent is more recent (a back-dated grant after a withdrawal): the
 * caller must not take it for a success. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "gate/gate.h"

struct api_in {
    const char *controller, *recipient, *action, *notice_id, *notice_hex, *method;
    const char *notice_text;
    size_t notice_len;
    const char *source_ip, *user_agent;
    json_t *purposes;
    json_int_t time;
};

static enum MHD_Result err(struct gate_req *r, unsigned status, int outcome,
                           const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result err(struct gate_req *r, unsigned status, int outcome,
                           const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *o;
    char *text;
    enum MHD_Result ret;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o = json_pack("{s:s, s:s}", "error", code, "message", msg);
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    ret = gate_send_json(r, status, text ? text : "{\"error\":\"internal\"}", outcome);
    free(text);
    json_decref(o);
    return ret;
}

/* Whether a section holding the key may write for controller. A named
 * section: its controller. [domain *] without a controller stands for every
 * sending domain that has no section, each its own controller, so its key
 * holds for a controller no named section claims; the sections that
 * inherit the key match through their own entry. */
static int key_covers(const struct cfg *c, const struct cfg_domain *d, const char *ctl)
{
    if (d->controller != NULL)
        return strcasecmp(d->controller, ctl) == 0;
    for (size_t i = 1; i < c->ndomains; i++)
        if (c->domains[i].controller && strcasecmp(c->domains[i].controller, ctl) == 0)
            return 0;
    return 1;
}

/* The section whose api_key is the bearer key and which covers controller
 * (any holder of the key when controller is NULL), or NULL. A key set in [domain *] is
 * inherited by every section that does not set its own, and one key may be given to
 * several sections: each holder is tried, not only the first. Every key is
 * compared, whatever the outcome. */
static const struct cfg_domain *key_domain(const struct gate_req *r, const char *ctl)
{
    const char *h = gate_header(r, "Authorization");
    unsigned char got[crypto_hash_sha256_BYTES], want[crypto_hash_sha256_BYTES];
    const struct cfg_domain *found = NULL;
    const struct cfg *c = r->snap->cfg;

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
        return NULL;
    crypto_hash_sha256(got, (const unsigned char *)h + 7, strlen(h + 7));
    for (size_t i = 0; i < c->ndomains; i++) {
        const char *k = c->domains[i].api_key;
        if (k == NULL || *k == '\0')
            continue;
        crypto_hash_sha256(want, (const unsigned char *)k, strlen(k));
        if (sodium_memcmp(got, want, sizeof got) != 0)
            continue;
        if (found == NULL && (ctl == NULL || key_covers(c, &c->domains[i], ctl)))
            found = &c->domains[i];
    }
    return found;
}

static const char *const fields[] = {"controller", "recipient",     "action", "purposes",
                                     "notice_id",  "notice_sha256", "method", "time",
                                     "source_ip",  "user_agent",    "notice_text"};

/* Reads and type-checks the fields; on error writes a message. */
static int read_fields(json_t *o, struct api_in *in, char *msg, size_t msglen)
{
    const char *key;
    json_t *v;

    memset(in, 0, sizeof *in);
    json_object_foreach(o, key, v)
    {
        size_t i;
        for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (strcmp(key, fields[i]) == 0)
                break;
        if (i == sizeof fields / sizeof fields[0])
            return snprintf(msg, msglen, "unknown field '%.64s'", key), -1;
        if (strcmp(key, "purposes") == 0) {
            if (!json_is_array(v))
                return snprintf(msg, msglen, "'purposes' must be an array of strings"),
                       -1;
            in->purposes = v;
        } else if (strcmp(key, "time") == 0) {
            if (!json_is_integer(v))
                return snprintf(msg, msglen, "'time' must be an integer (UTC seconds)"),
                       -1;
            in->time = json_integer_value(v);
        } else if (!json_is_string(v)) {
            return snprintf(msg, msglen, "'%s' must be a string", key), -1;
        }
    }
    in->controller = json_string_value(json_object_get(o, "controller"));
    in->recipient = json_string_value(json_object_get(o, "recipient"));
    in->action = json_string_value(json_object_get(o, "action"));
    in->notice_id = json_string_value(json_object_get(o, "notice_id"));
    in->notice_hex = json_string_value(json_object_get(o, "notice_sha256"));
    in->notice_text = json_string_value(json_object_get(o, "notice_text"));
    in->notice_len = json_string_length(json_object_get(o, "notice_text"));
    in->method = json_string_value(json_object_get(o, "method"));
    in->source_ip = json_string_value(json_object_get(o, "source_ip"));
    in->user_agent = json_string_value(json_object_get(o, "user_agent"));
    return 0;
}

static int parse_purposes(json_t *arr, uint32_t *mask, char *msg, size_t msglen)
{
    size_t i;
    json_t *v;

    *mask = 0;
    json_array_foreach(arr, i, v)
    {
        int idx = json_is_string(v) ? store_purpose_parse(json_string_value(v)) : -1;
        if (idx < 0 || idx >= STORE_P_MAX || idx == STORE_P_DELIVERABILITY)
            return snprintf(msg, msglen, "purposes[%zu]: unknown purpose%s%.64s%s", i,
                            json_is_string(v) ? " '" : "",
                            json_is_string(v) ? json_string_value(v) : "",
                            json_is_string(v) ? "'" : ""),
                   -1;
        *mask |= 1u << idx;
    }
    return 0;
}

/* The optional exact text of the notice: checked here so that a wrong
 * one gets its own message (the store would refuse it too). */
static int notice_text(const struct api_in *in, struct store_event *ev, char *msg,
                       size_t msglen)
{
    unsigned char sha[crypto_hash_sha256_BYTES];

    if (in->notice_text == NULL)
        return 0;
    if (in->notice_hex == NULL || in->notice_id == NULL || in->notice_len == 0)
        return snprintf(msg, msglen,
                        "'notice_text' needs 'notice_id' and 'notice_sha256' and must "
                        "not be empty"),
               -1;
    crypto_hash_sha256(sha, (const unsigned char *)in->notice_text, in->notice_len);
    if (sodium_memcmp(sha, ev->notice_sha256, sizeof sha) != 0)
        return snprintf(msg, msglen,
                        "'notice_sha256' is not the SHA-256 of 'notice_text' (UTF-8 bytes)"),
               -1;
    ev->notice_text = in->notice_text;
    ev->notice_len = in->notice_len;
    ev->notice_source = "consent-gate api";
    return 0;
}

/* Semantic checks; fills ev. Returns 0, or -1 with msg. */
static int to_event(const struct api_in *in, struct store_event *ev, char *msg,
                    size_t msglen)
{
    static const char *const methods[] = {"signup-form", "api", "consent-page"};
    size_t got = 0, m;

    if (in->controller == NULL || in->recipient == NULL || in->action == NULL)
        return snprintf(msg, msglen,
                        "'controller', 'recipient' and 'action' are required"),
               -1;
    if (strcmp(in->action, "grant") == 0)
        ev->action = STORE_A_GRANT;
    else if (strcmp(in->action, "refuse") == 0)
        ev->action = STORE_A_REFUSE;
    else if (strcmp(in->action, "withdraw") == 0)
        ev->action = STORE_A_WITHDRAW;
    else
        return snprintf(msg, msglen, "'action' must be grant, refuse or withdraw"), -1;
    if (in->purposes && parse_purposes(in->purposes, &ev->purposes, msg, msglen) != 0)
        return -1;
    if (ev->action != STORE_A_WITHDRAW) {
        if (ev->purposes == 0)
            return snprintf(msg, msglen, "'purposes' must name at least one purpose"), -1;
        if (in->notice_id == NULL || *in->notice_id == '\0' || in->notice_hex == NULL)
            return snprintf(msg, msglen,
                            "'notice_id' and 'notice_sha256' are required "
                            "(proof of the notice shown)"),
                   -1;
    }
    if (in->notice_hex && (strlen(in->notice_hex) != 64 ||
                           sodium_hex2bin(ev->notice_sha256, 32, in->notice_hex, 64, NULL,
                                          &got, NULL) != 0 ||
                           got != 32))
        return snprintf(msg, msglen, "'notice_sha256' must be 64 hex digits"), -1;
    for (m = 0; in->method && m < sizeof methods / sizeof methods[0]; m++)
        if (strcmp(in->method, methods[m]) == 0)
            break;
    if (in->method && m == sizeof methods / sizeof methods[0])
        return snprintf(msg, msglen, "'method' must be signup-form, api or consent-page"),
               -1;
    if (in->time < 0 || in->time > (json_int_t)time(NULL) + STORE_CLOCK_SKEW)
        return snprintf(msg, msglen,
                        "'time' must be UTC seconds, not in the future (clock skew "
                        "allowed: %d s)",
                        STORE_CLOCK_SKEW),
               -1;
    ev->controller = in->controller;
    ev->recipient = in->recipient;
    ev->method = in->method ? in->method : "signup-form";
    ev->notice_id = in->notice_id;
    ev->time = in->time;
    return notice_text(in, ev, msg, msglen);
}

/* queued: the primary is down; the withdrawal counts here and is sent
 * when it is back (202). With a primary the notice goes there with the
 * event, not to this host's replica. */
static enum MHD_Result created(struct gate_req *r, const struct store_event *ev, int queued)
{
    static const uint8_t zero[32];
    int known = memcmp(ev->notice_sha256, zero, 32) != 0 &&
                (r->g->primary ? ev->notice_text != NULL && !queued
                               : store_notice_get(r->g->store, ev->notice_sha256, NULL,
                                                  NULL) == STORE_OK);
    json_t *o =
        json_pack("{s:s, s:I, s:s, s:s}", "id", ev->id, "time", (json_int_t)ev->time,
                  "controller", ev->controller, "action", store_action_name(ev->action));
    json_t *p = json_array();
    char *text;
    enum MHD_Result ret;

    for (int i = 0; i < STORE_P_MAX; i++)
        if (ev->purposes >> i & 1 && store_purpose_name(i))
            json_array_append_new(p, json_string(store_purpose_name(i)));
    json_object_set_new(o, "purposes", p);
    json_object_set_new(o, "notice_stored", json_boolean(known));
    if (queued)
        json_object_set_new(o, "queued", json_true());
    text = json_dumps(o, JSON_COMPACT);
    ret = gate_send_json(r, queued ? MHD_HTTP_ACCEPTED : MHD_HTTP_CREATED, text ? text : "{}",
                         GATE_OUT_RECORDED);
    free(text);
    json_decref(o);
    return ret;
}

static enum MHD_Result record(struct gate_req *r, const struct api_in *in)
{
    const struct cfg_domain *dom;
    struct store_event ev;
    char msg[300], actor[300], norm[STORE_ADDR_MAX];
    int rc;

    memset(&ev, 0, sizeof ev);
    if (to_event(in, &ev, msg, sizeof msg) != 0)
        return err(r, 422, GATE_OUT_BAD_REQUEST, "invalid", "%s", msg);
    if ((dom = key_domain(r, in->controller)) == NULL)
        return err(r, MHD_HTTP_FORBIDDEN, GATE_OUT_FORBIDDEN, "forbidden",
                   "this key is not valid for controller '%.64s'", in->controller);
    if (store_addr_normalise(in->recipient, norm, sizeof norm) != STORE_OK)
        return err(r, 422, GATE_OUT_BAD_REQUEST, "invalid",
                   "'recipient' is not an email address");
    if (dom->store_source) {
        ev.source_ip = in->source_ip;
        ev.user_agent = in->user_agent;
    }
    snprintf(actor, sizeof actor, "api:%s", dom->name);
    ev.actor = actor;
    ev.recipient = norm;
    rc = gate_record(r->g, &ev);
    if (rc == GATE_REC_DOWN)
        return err(r, MHD_HTTP_SERVICE_UNAVAILABLE, GATE_OUT_ERROR, "primary_down",
                   "the consent database is unreachable: a %s must be recorded there; "
                   "nothing was recorded, retry later",
                   store_action_name(ev.action));
    if (rc == STORE_EINVAL)
        return err(r, 422, GATE_OUT_BAD_REQUEST, "invalid", "the store refused the event: %s%s",
                   store_strerror(rc),
                   ev.notice_text ? " (is 'notice_text' a template, without the "
                                    "recipient's address?)"
                                  : "");
    if (rc != STORE_OK && rc != GATE_REC_QUEUED) {
        log_err("api: event not recorded: %s", store_strerror(rc));
        return err(r, MHD_HTTP_SERVICE_UNAVAILABLE, GATE_OUT_ERROR, "unavailable",
                   "the event could not be recorded, retry later");
    }
    if (!ev.applied)
        return err(r, MHD_HTTP_CONFLICT, GATE_OUT_RECORDED, "superseded",
                   "event %s recorded as history only: the current consent is more "
                   "recent and was not changed",
                   ev.id);
    gate_count_consent(
        r->g,
        ev.action == STORE_A_GRANT    ? GATE_CTR_GRANTED
        : ev.action == STORE_A_REFUSE ? GATE_CTR_REFUSED
                                      : GATE_CTR_WITHDRAWN,
        ev.action == STORE_A_WITHDRAW ? 1u : (unsigned)__builtin_popcount(ev.purposes));
    return created(r, &ev, rc == GATE_REC_QUEUED);
}

enum MHD_Result gate_api(struct gate_req *r)
{
    const char *ct = gate_header(r, "Content-Type");
    json_error_t jerr;
    json_t *o;
    struct api_in in;
    char msg[300];
    enum MHD_Result ret;

    if (r->body == NULL)
        return err(r, MHD_HTTP_METHOD_NOT_ALLOWED, GATE_OUT_METHOD, "method",
                   "use POST with a JSON body");
    if (key_domain(r, NULL) == NULL)
        return err(r, MHD_HTTP_UNAUTHORIZED, GATE_OUT_UNAUTHORIZED, "unauthorized",
                   "missing or unknown bearer key (Authorization: Bearer KEY)");
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
        return err(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, GATE_OUT_BAD_REQUEST,
                   "content_type", "Content-Type must be application/json");
    o = json_loadb(r->body, r->bodylen, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return err(r, MHD_HTTP_BAD_REQUEST, GATE_OUT_BAD_REQUEST, "bad_json",
                   "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(o))
        ret = err(r, MHD_HTTP_BAD_REQUEST, GATE_OUT_BAD_REQUEST, "bad_json",
                  "the body must be a JSON object");
    else if (read_fields(o, &in, msg, sizeof msg) != 0)
        ret = err(r, 422, GATE_OUT_BAD_REQUEST, "invalid", "%s", msg);
    else
        ret = record(r, &in);
    json_decref(o);
    return ret;
}
