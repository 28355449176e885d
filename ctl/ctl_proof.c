/* ctl_proof - `consentctl proof CONTROLLER RECIPIENT`: a Kantara Consent
 * Receipt v1.1 for the recipient's current consent plus the complete,
 * hash-checked event history, in one JSON document.
 *
 * Receipt fields (Kantara CR v1.1): version, jurisdiction,
 * consentTimestamp (epoch seconds of the latest event that granted a
 * purpose, else of the latest that set one),
 * collectionMethod, consentReceiptID (that event's UUID), language,
 * piiPrincipalId, piiControllers[], policyUrl, services[].purposes[],
 * sensitive, spiCat. The controller's contact details are not in the store:
 * --controller-info FILE gives them (JSON object with contact, address,
 * email, phone, url, policyUrl, jurisdiction, language); missing ones are
 * empty strings and a warning is printed. */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

struct proof {
    json_t *events;
    char last_id[37];
    char last_method[80];
    int64_t last_time;
    char notice_id[260];
    char notice_sha[65];
    unsigned long n;
    int level; /* of the event the receipt describes */
};

static int proof_event(const struct store_ledger_event *e, void *arg)
{
    struct proof *p = arg;

    json_array_append_new(p->events, ctl_event_json(e));
    p->n++;
    /* the receipt describes the latest event that gave consent; without
     * one, the latest that set a purpose; without one, the latest notice
     * (inform) */
    int level = e->ev.action == STORE_A_INFORM ? 1 : 2;
    if (e->ev.action == STORE_A_GRANT)
        level = 3;
    for (int i = 0; e->ev.action == STORE_A_IMPORT && i < STORE_P_MAX; i++)
        if (STORE_STATES_GET(e->ev.states, i) == STORE_GRANTED)
            level = 3;
    if (e->ev.action != STORE_A_ERASE && level >= p->level) {
        p->level = level;
        snprintf(p->last_id, sizeof p->last_id, "%s", e->ev.id);
        snprintf(p->last_method, sizeof p->last_method, "%s",
                 e->ev.method ? e->ev.method : "");
        p->last_time = e->ev.time;
        if (e->ev.notice_id != NULL) {
            snprintf(p->notice_id, sizeof p->notice_id, "%s", e->ev.notice_id);
            ctl_hex(e->ev.notice_sha256, 32, p->notice_sha);
        }
    }
    return 0;
}

static const char *info_str(json_t *info, const char *key, const char *def)
{
    json_t *v = info != NULL ? json_object_get(info, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : def;
}

/* Kantara purpose category and PII category per purpose. */
static json_t *purpose_json(int i, const struct store_consent *s)
{
    static const char *const cat[] = {"6 - Marketing", "6 - Marketing",
                                      "5 - Personalized Experience", "1 - Core Function",
                                      "3 - Delivery"};
    static const char *const pii[] = {
        "email open events (time, device)", "link click events (time, URL)",
        "behavioural profile from opens and clicks",
        "fraud signals from opens and clicks", "day of the last open"};
    return json_pack(
        "{s:s,s:[s],s:s,s:[s],s:b,s:s,s:b,s:s}", "purpose", store_purpose_name(i),
        "purposeCategory", i < 5 ? cat[i] : "14 - Other", "consentType", "EXPLICIT",
        "piiCategory", i < 5 ? pii[i] : "tracking", "primaryPurpose", 0, "termination",
        "until withdrawn (one-click link in every tracked mail)", "thirdPartyDisclosure",
        0, "x-state", store_state_name(s->state[i]));
}

static json_t *receipt(const char *ctl, const char *rcpt, const struct store_consent *s,
                       const struct proof *p, json_t *info)
{
    json_t *purposes = json_array();
    for (int i = 0; i < STORE_P_MAX; i++)
        if (store_purpose_name(i) != NULL && s->state[i] != STORE_UNKNOWN)
            json_array_append_new(purposes, purpose_json(i, s));
    json_t *ctlj = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s}", "piiController", info_str(info, "name", ctl),
        "contact", info_str(info, "contact", ""), "address",
        info_str(info, "address", ""), "email", info_str(info, "email", ""), "phone",
        info_str(info, "phone", ""), "piiControllerUrl", info_str(info, "url", ""));
    json_t *r = json_pack(
        "{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:[o],s:s,s:[{s:s,s:o}],s:b,s:[]}", "version",
        "KI-CR-v1.1.0", "jurisdiction", info_str(info, "jurisdiction", "FR"),
        "consentTimestamp", (json_int_t)p->last_time, "collectionMethod", p->last_method,
        "consentReceiptID", p->last_id, "language", info_str(info, "language", "en"),
        "piiPrincipalId", rcpt, "piiControllers", ctlj, "policyUrl",
        info_str(info, "policyUrl", ""), "services", "service",
        "email tracking (consent-milter)", "purposes", purposes, "sensitive", 0,
        "spiCat");
    if (r != NULL && p->notice_id[0] != '\0')
        json_object_set_new(
            r, "x-notice",
            json_pack("{s:s,s:s}", "id", p->notice_id, "sha256", p->notice_sha));
    return r;
}

static int load_info(struct ctl *c, json_t **info)
{
    json_error_t err;

    *info = NULL;
    if (c->info == NULL) {
        ctl_err(
            c, "warning: no --controller-info FILE; controller contact fields are empty");
        return CTL_OK;
    }
    *info = json_load_file(c->info, 0, &err);
    if (!json_is_object(*info)) {
        ctl_err(c, "controller info '%s': %s", c->info,
                *info ? "not a JSON object" : err.text);
        json_decref(*info);
        return CTL_USAGE;
    }
    return CTL_OK;
}

int ctl_proof(struct ctl *c, int argc, char **argv)
{
    struct proof p = {0};
    struct store_consent s;
    struct store *st;
    char cn[72], rn[STORE_ADDR_MAX];
    json_t *info;
    int rc;

    if (argc != 2) {
        ctl_err(c, "needs CONTROLLER RECIPIENT");
        return CTL_USAGE;
    }
    if (store_controller_normalise(argv[0], cn, sizeof cn) != 0 ||
        store_addr_normalise(argv[1], rn, sizeof rn) != 0) {
        ctl_err(c, "bad %s '%s'",
                store_controller_normalise(argv[0], cn, sizeof cn) ? "controller"
                                                                   : "address",
                store_controller_normalise(argv[0], cn, sizeof cn) ? argv[0] : argv[1]);
        return CTL_USAGE;
    }
    if ((rc = ctl_open(c, 0, &st)) != CTL_OK)
        return rc;
    if ((rc = load_info(c, &info)) != CTL_OK) {
        store_close(st);
        return rc;
    }
    p.events = json_array();
    rc = store_consent_get(st, cn, rn, &s);
    if (rc == STORE_OK)
        rc = store_history(st, cn, rn, proof_event, &p);
    store_close(st);
    if (rc != STORE_OK) {
        json_decref(p.events);
        json_decref(info);
        if (rc == STORE_NOTFOUND) {
            ctl_err(c, "no consent events for %s at controller %s", rn, cn);
            return CTL_FAIL;
        }
        return ctl_store_err(c, rc, c->db);
    }
    json_t *doc = json_pack("{s:o,s:o,s:o,s:{s:I,s:b,s:s}}", "receipt",
                            receipt(cn, rn, &s, &p, info), "consent",
                            ctl_consent_json(cn, rn, &s), "history", p.events, "ledger",
                            "events", (json_int_t)p.n, "hashes_verified", 1, "note",
                            "each event's hash and personal digest were recomputed; "
                            "run 'consentctl verify' to check the whole chain");
    json_decref(info);
    ctl_print_json(doc, 0);
    return CTL_OK;
}
