/* store_access - the data-access export: everything the store holds on
 * one person (store.h, store_access), database by database.
 *
 * Per recipient the store writes: the consent row and the last-open row
 * (both keyed by controller id + keyed hash of the address) and the
 * ledger events (linked by rprev from the consent row's latest). The
 * notice versions those events name are not personal data but are what
 * the person was shown, so they are part of the answer. meta, ctl and
 * anon hold nothing per person. tests/unit/test_store_access.c scans
 * every named database for the person's key and address bytes and fails
 * if this file leaves one out. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

struct access {
    store_access_cb cb;
    void *arg;
    uint8_t (*shas)[32];
    size_t nshas, cap;
    int found;
};

static int seen_sha(const struct access *a, const uint8_t sha[32])
{
    for (size_t i = 0; i < a->nshas; i++)
        if (memcmp(a->shas[i], sha, 32) == 0)
            return 1;
    return 0;
}

static int add_sha(struct access *a, const uint8_t sha[32])
{
    static const uint8_t zero[32];

    if (memcmp(sha, zero, 32) == 0 || seen_sha(a, sha))
        return STORE_OK;
    if (a->nshas == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 8;
        void *p = realloc(a->shas, cap * 32);
        if (p == NULL)
            return STORE_ENOMEM;
        a->shas = p;
        a->cap = cap;
    }
    memcpy(a->shas[a->nshas++], sha, 32);
    return STORE_OK;
}

static int on_event(const struct store_ledger_event *e, void *arg)
{
    struct access *a = arg;
    struct store_access_item it = {.db = "ledger", .event = e};
    int rc = add_sha(a, e->ev.notice_sha256);

    return rc != STORE_OK ? rc : a->cb(&it, a->arg);
}

static int on_notice(const struct store_notice *n, void *arg)
{
    struct access *a = arg;
    struct store_access_item it = {.db = "notices", .notice = n};

    return a->cb(&it, a->arg);
}

/* The single-row databases: consent and lastopen. */
static int rows(struct store *st, const char *ctl, const char *rcpt, struct access *a)
{
    struct store_consent c;
    int64_t day;
    int rc = store_consent_get(st, ctl, rcpt, &c);

    if (rc == STORE_OK) {
        struct store_access_item it = {.db = "consent", .consent = &c};
        a->found = 1;
        if ((rc = a->cb(&it, a->arg)) != 0)
            return rc;
    } else if (rc != STORE_NOTFOUND) {
        return rc;
    }
    rc = store_lastopen_get(st, ctl, rcpt, &day);
    if (rc == STORE_OK) {
        struct store_access_item it = {.db = "lastopen", .lastopen_day = day};
        a->found = 1;
        return a->cb(&it, a->arg);
    }
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The gate outbox's pending withdrawals of this person (store_outbox.c). */
struct ob_arg {
    struct access *a;
    char cn[ST_CTL_MAX], rn[STORE_ADDR_MAX];
};

static int on_outbox(const struct store_event *ev, void *arg)
{
    struct ob_arg *o = arg;

    if (strcmp(ev->controller, o->cn) != 0 || strcmp(ev->recipient, o->rn) != 0)
        return 0;
    struct store_access_item it = {.db = "outbox", .outbox = ev};
    o->a->found = 1;
    return o->a->cb(&it, o->a->arg);
}

static int outbox_items(struct store *st, const char *controller, const char *rcpt,
                        struct access *a)
{
    struct ob_arg o = {.a = a};

    if (store_controller_normalise(controller, o.cn, sizeof o.cn) != STORE_OK ||
        store_addr_normalise(rcpt, o.rn, sizeof o.rn) != STORE_OK)
        return STORE_EINVAL;
    return store_outbox_walk(st, on_outbox, &o);
}

int store_access(struct store *st, const char *controller, const char *rcpt,
                 store_access_cb cb, void *arg)
{
    struct access a = {.cb = cb, .arg = arg};
    int rc;

    if (st == NULL || cb == NULL)
        return STORE_EINVAL;
    if ((rc = rows(st, controller, rcpt, &a)) != STORE_OK)
        goto out;
    rc = store_history(st, controller, rcpt, on_event, &a);
    if (rc == STORE_OK)
        a.found = 1;
    else if (rc != STORE_NOTFOUND)
        goto out;
    rc = STORE_OK;
    for (size_t i = 0; i < a.nshas && rc == STORE_OK; i++) {
        rc = store_notice_get(st, a.shas[i], on_notice, &a);
        if (rc == STORE_NOTFOUND) /* recorded before versions were kept */
            rc = STORE_OK;
    }
    if (rc == STORE_OK)
        rc = outbox_items(st, controller, rcpt, &a);
    if (rc == STORE_OK && !a.found)
        rc = STORE_NOTFOUND;
out:
    free(a.shas);
    return rc;
}
