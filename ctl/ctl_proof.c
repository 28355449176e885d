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
 * email, phone, url, policyUrl, language); missing ones are empty strings
 * and a warning is printed. The jurisdiction is the controller's as
 * configured ([domain] jurisdiction, --config; see ctl_juris.c).
 *
 * Both this and `consentctl access` read the person through store_access,
 * so they hold everything the store keeps on them: the current consent,
 * the last-open day (deliverability exemption), every event and the
 * notice versions those events name (with --with-notices, or always for
 * access, their exact text). access answers a data-access request: it
 * needs no event (someone known only by a last open) and prints no
 * receipt. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ctl/ctl.h"
#include "pgstore/pg_query.h"
#include "store/store_repl.h"

struct proof {
    json_t *events, *notices, *consent, *lastopen;
    int with_text;
    char last_id[37];
    char last_method[80];
    int64_t last_time;
    char notice_id[260];
    char notice_sha[65];
    unsigned long n;
    int level; /* of the event the receipt describes */
    char jurisdiction[3]; /* the controller's, as configured (ctl_juris.c) */
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
        "KI-CR-v1.1.0", "jurisdiction", p->jurisdiction,
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

/* Attach to a notice version the ids the events gave it. */
static void notice_ids(const struct proof *p, json_t *nj)
{
    const char *sha = json_string_value(json_object_get(nj, "sha256"));
    json_t *ids = json_array(), *e;
    size_t i;

    json_array_foreach(p->events, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "notice_sha256"));
        json_t *id = json_object_get(e, "notice_id");
        int dup = 0;
        size_t k;
        json_t *x;
        if (s == NULL || sha == NULL || strcmp(s, sha) != 0 || !json_is_string(id))
            continue;
        json_array_foreach(ids, k, x) dup |= json_equal(x, id);
        if (!dup)
            json_array_append(ids, id);
    }
    json_object_set_new(nj, "ids", ids);
}

static int access_item(const struct store_access_item *it, void *arg)
{
    struct proof *p = arg;
    char iso[32];

    if (strcmp(it->db, "ledger") == 0)
        return proof_event(it->event, p);
    if (strcmp(it->db, "notices") == 0) {
        json_t *nj = ctl_notice_json(it->notice, p->with_text);
        notice_ids(p, nj);
        return json_array_append_new(p->notices, nj);
    }
    if (strcmp(it->db, "lastopen") == 0) {
        store_time_format(it->lastopen_day * 86400, iso, sizeof iso);
        iso[10] = '\0';
        p->lastopen = json_pack("{s:I,s:s}", "day", (json_int_t)it->lastopen_day, "date",
                                iso);
        return 0;
    }
    if (strcmp(it->db, "consent") == 0) {
        p->consent = json_object(); /* filled by the caller, which has the names */
        return 0;
    }
    return -1; /* a database this program does not know how to show: say so */
}

static void proof_free(struct proof *p)
{
    json_decref(p->events);
    json_decref(p->notices);
    json_decref(p->consent);
    json_decref(p->lastopen);
}

/* The primary's side of store_access: the same items in the same order
 * (consent, lastopen, every event, then each notice version they name),
 * every event decoded with its hash and personal digest checked. */
struct pg_person {
    struct proof *p;
    char *strs;
    uint8_t shas[64][32];
    unsigned nshas;
    int rc;
};

static int pg_event(uint64_t seq, const void *raw, size_t len, void *arg)
{
    struct pg_person *pp = arg;
    struct store_ledger_event e;
    struct store_access_item it = {.db = "ledger", .event = &e};
    int rc = store_wire_decode(raw, len, &e, pp->strs, STORE_WIRE_STRS);
    unsigned i;

    if (rc != STORE_OK || e.seq != seq)
        return rc != STORE_OK ? rc : STORE_ECORRUPT;
    for (i = 0; i < pp->nshas && memcmp(pp->shas[i], e.ev.notice_sha256, 32) != 0; i++)
        continue;
    if (i == pp->nshas && pp->nshas < 64 && sodium_is_zero(e.ev.notice_sha256, 32) == 0)
        memcpy(pp->shas[pp->nshas++], e.ev.notice_sha256, 32);
    return access_item(&it, pp->p);
}

static int pg_notice(const struct store_notice *n, void *arg)
{
    struct store_access_item it = {.db = "notices", .notice = n};
    return access_item(&it, arg);
}

static int pg_access(struct pgstore *pg, const char *cn, const char *rn, struct proof *p,
                     struct store_consent *s)
{
    static char strs[STORE_WIRE_STRS];
    struct pg_person pp = {.p = p, .strs = strs};
    struct store_access_item it = {.db = "consent", .consent = s};
    int64_t day;
    int rc, any = 0;

    if ((rc = pgstore_consent_get(pg, cn, rn, s)) == STORE_OK)
        any = 1, rc = access_item(&it, p);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc;
    if ((rc = pgstore_lastopen_get(pg, cn, rn, &day)) == STORE_OK) {
        struct store_access_item lo = {.db = "lastopen", .lastopen_day = day};
        any = 1, rc = access_item(&lo, p);
    }
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc;
    if ((rc = pgstore_person_history(pg, cn, rn, pg_event, &pp)) != STORE_OK)
        return rc;
    any |= p->n > 0;
    for (unsigned i = 0; i < pp.nshas; i++)
        if ((rc = pgstore_notice_get(pg, pp.shas[i], pg_notice, p)) != STORE_OK &&
            rc != STORE_NOTFOUND)
            return rc;
    return any ? STORE_OK : STORE_NOTFOUND;
}

/* Read everything on (cn, rn); *s gets the consent (zero if none). */
static int gather(struct ctl *c, const char *cn, const char *rn, struct proof *p,
                  struct store_consent *s)
{
    struct store *st;
    int rc;

    p->events = json_array();
    p->notices = json_array();
    if (ctl_pg_wanted(c)) {
        struct pgstore *pg;
        if ((rc = ctl_pg_connect(c, 0, &pg)) != CTL_OK)
            return rc;
        memset(s, 0, sizeof *s);
        rc = pg_access(pg, cn, rn, p, s);
        if (rc != STORE_OK && rc != STORE_NOTFOUND && rc != -1)
            ctl_err(c, "primary: %s (%s)", store_strerror(rc), pgstore_error(pg));
        pgstore_close(pg);
        if (rc == STORE_NOTFOUND) {
            ctl_err(c, "no consent events (nor anything else) stored for %s at controller %s",
                    rn, cn);
            return CTL_FAIL;
        }
        return rc == STORE_OK ? CTL_OK : CTL_FAIL;
    }
    if ((rc = ctl_open(c, 0, &st)) != CTL_OK)
        return rc;
    rc = store_access(st, cn, rn, access_item, p);
    if (rc == STORE_OK || rc == STORE_NOTFOUND) {
        int rc2 = store_consent_get(st, cn, rn, s);
        if (rc2 != STORE_OK && rc2 != STORE_NOTFOUND)
            rc = rc2;
    }
    store_close(st);
    if (rc == -1) {
        ctl_err(c, "the store holds data this consentctl cannot export");
        return CTL_FAIL;
    }
    if (rc == STORE_NOTFOUND) {
        ctl_err(c, "no consent events (nor anything else) stored for %s at controller %s", rn,
                cn);
        return CTL_FAIL;
    }
    return rc == STORE_OK ? CTL_OK : ctl_store_err(c, rc, c->db);
}

static int names(struct ctl *c, int argc, char **argv, char *cn, char *rn)
{
    if (argc != 2) {
        ctl_err(c, "needs CONTROLLER RECIPIENT");
        return CTL_USAGE;
    }
    if (store_controller_normalise(argv[0], cn, 72) != 0) {
        ctl_err(c, "bad controller '%s'", argv[0]);
        return CTL_USAGE;
    }
    if (store_addr_normalise(argv[1], rn, STORE_ADDR_MAX) != 0) {
        ctl_err(c, "bad address '%s'", argv[1]);
        return CTL_USAGE;
    }
    return CTL_OK;
}

static json_t *ledger_json(const struct proof *p)
{
    return json_pack("{s:I,s:b,s:s}", "events", (json_int_t)p->n, "hashes_verified", 1,
                     "note",
                     "each event's hash and personal digest were recomputed; "
                     "run 'consentctl verify' to check the whole chain");
}

int ctl_proof(struct ctl *c, int argc, char **argv)
{
    struct proof p = {.with_text = c->with_notices};
    struct store_consent s;
    char cn[72], rn[STORE_ADDR_MAX];
    json_t *info;
    int rc;

    if ((rc = names(c, argc, argv, cn, rn)) != CTL_OK)
        return rc;
    info = NULL;
    if ((rc = gather(c, cn, rn, &p, &s)) == CTL_OK && p.n == 0) {
        ctl_err(c, "no consent events for %s at controller %s (see 'consentctl access')",
                rn, cn);
        rc = CTL_FAIL;
    }
    if (rc == CTL_OK)
        rc = load_info(c, &info);
    if (rc == CTL_OK)
        rc = ctl_jurisdiction(c, cn, info_str(info, "jurisdiction", NULL), p.jurisdiction);
    if (rc != CTL_OK) {
        json_decref(info);
        proof_free(&p);
        return rc;
    }
    json_t *doc = json_pack("{s:o,s:o,s:O,s:O,s:o,s:O}", "receipt",
                            receipt(cn, rn, &s, &p, info), "consent",
                            ctl_consent_json(cn, rn, &s), "lastopen",
                            p.lastopen ? p.lastopen : json_null(), "history", p.events,
                            "ledger", ledger_json(&p), "notices", p.notices);
    json_decref(info);
    ctl_print_json(doc, 0);
    proof_free(&p);
    return CTL_OK;
}

int ctl_access(struct ctl *c, int argc, char **argv)
{
    struct proof p = {.with_text = 1};
    struct store_consent s;
    char cn[72], rn[STORE_ADDR_MAX];
    int rc;

    if ((rc = names(c, argc, argv, cn, rn)) != CTL_OK)
        return rc;
    if ((rc = gather(c, cn, rn, &p, &s)) != CTL_OK) {
        proof_free(&p);
        return rc;
    }
    json_t *doc = json_pack(
        "{s:s,s:s,s:o,s:O,s:O,s:o,s:O}", "controller", cn, "recipient", rn, "consent",
        p.consent ? ctl_consent_json(cn, rn, &s) : json_null(), "lastopen",
        p.lastopen ? p.lastopen : json_null(), "history", p.events, "ledger",
        ledger_json(&p), "notices", p.notices);
    ctl_print_json(doc, 0);
    proof_free(&p);
    return CTL_OK;
}
