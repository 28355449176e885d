/* ctl_util - consentctl helpers: error lines, opening the store, JSON
 * renderings of events and consent, notice hashing.
 *
 * Errors are one line on stderr naming the command and the problem; the
 * exit code follows ctl.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ctl/ctl.h"

void ctl_err(const struct ctl *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "consentctl: %s%s", c->cmd ? c->cmd : "", c->cmd ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ctl_store_err(const struct ctl *c, int rc, const char *what)
{
    switch (rc) {
    case STORE_ENODB:
        ctl_err(c,
                "no database in %s (a write command creates it; use --db or CONSENT_DB)",
                c->db);
        return CTL_FAIL;
    case STORE_ECORRUPT:
        ctl_err(c, "%s: database is corrupt or not a consent store", what ? what : c->db);
        return CTL_FAIL;
    case STORE_EINVAL:
        ctl_err(c, "invalid %s", what ? what : "argument");
        return CTL_USAGE;
    default:
        ctl_err(c, "%s: %s", what ? what : c->db, store_strerror(rc));
        return CTL_FAIL;
    }
}

int ctl_open(const struct ctl *c, int mode, struct store **st)
{
    int rc = store_open(c->db, mode == CTL_OPEN_CREATE ? STORE_CREATE : 0, 0, st);
    /* LMDB opens its lock file for writing even to read: a reader on a
     * read-only directory opens the store read-only instead */
    if (rc == STORE_EIO && mode == CTL_OPEN_READ && (errno == EROFS || errno == EACCES))
        rc = store_open(c->db, STORE_RDONLY, 0, st);
    if (rc == STORE_EINVAL) {
        ctl_err(c, "bad database directory '%s'", c->db);
        return CTL_USAGE;
    }
    if (rc == STORE_EIO)
        ctl_err(c, "%s: cannot open: %s", c->db, errno ? strerror(errno) : "I/O error");
    else if (rc != STORE_OK)
        return ctl_store_err(c, rc, c->db);
    return rc == STORE_OK ? CTL_OK : CTL_FAIL;
}

void ctl_print_json(json_t *j, int compact)
{
    if (j == NULL) {
        fputs("null\n", stdout);
        return;
    }
    json_dumpf(j, stdout, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(j);
}

void ctl_hex(const uint8_t *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

json_t *ctl_purposes_json(uint32_t mask)
{
    json_t *a = json_array();
    for (int i = 0; i < STORE_P_MAX; i++)
        if ((mask & (1u << i)) && store_purpose_name(i) != NULL)
            json_array_append_new(a, json_string(store_purpose_name(i)));
    return a;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

json_t *ctl_event_json(const struct store_ledger_event *e)
{
    const struct store_event *ev = &e->ev;
    char iso[32], hex[65];
    json_t *j = json_object();

    store_time_format(ev->time, iso, sizeof iso);
    json_object_set_new(j, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(j, "id", json_string(ev->id));
    json_object_set_new(j, "time", json_integer(ev->time));
    json_object_set_new(j, "time_utc", json_string(iso));
    json_object_set_new(j, "controller", str_or_null(ev->controller));
    json_object_set_new(j, "recipient", str_or_null(ev->recipient));
    json_object_set_new(j, "action", json_string(store_action_name(ev->action)));
    if (ev->action == STORE_A_ERASE) {
        json_object_set_new(j, "erased_events", json_integer(ev->states));
    } else if (ev->action == STORE_A_WITHDRAW && ev->purposes == 0) {
        json_object_set_new(j, "purposes", json_string("all"));
    } else {
        json_object_set_new(j, "purposes", ctl_purposes_json(ev->purposes));
    }
    if (ev->action == STORE_A_IMPORT) {
        json_t *s = json_object();
        for (int i = 0; i < STORE_P_MAX; i++)
            if ((ev->purposes & (1u << i)) && store_purpose_name(i) != NULL)
                json_object_set_new(
                    s, store_purpose_name(i),
                    json_string(store_state_name(STORE_STATES_GET(ev->states, i))));
        json_object_set_new(j, "states", s);
    }
    json_object_set_new(j, "method", str_or_null(ev->method));
    json_object_set_new(j, "notice_id", str_or_null(ev->notice_id));
    ctl_hex(ev->notice_sha256, 32, hex);
    json_object_set_new(j, "notice_sha256",
                        is_zero(ev->notice_sha256, 32) ? json_null() : json_string(hex));
    json_object_set_new(j, "source_ip", str_or_null(ev->source_ip));
    json_object_set_new(j, "user_agent", str_or_null(ev->user_agent));
    json_object_set_new(j, "actor", str_or_null(ev->actor));
    json_object_set_new(j, "erased", json_boolean(e->tombstone));
    ctl_hex(e->prev, 32, hex);
    json_object_set_new(j, "prev_hash", json_string(hex));
    ctl_hex(e->hash, 32, hex);
    json_object_set_new(j, "hash", json_string(hex));
    return j;
}

json_t *ctl_consent_json(const char *controller, const char *rcpt,
                         const struct store_consent *s)
{
    json_t *j = json_object(), *p = json_object();
    char iso[32];

    json_object_set_new(j, "controller", json_string(controller));
    json_object_set_new(j, "recipient", json_string(rcpt));
    for (int i = 0; i < STORE_P_MAX; i++)
        if (store_purpose_name(i) != NULL)
            json_object_set_new(p, store_purpose_name(i),
                                json_string(store_state_name(s->state[i])));
    json_object_set_new(j, "purposes", p);
    json_object_set_new(j, "updated",
                        s->updated ? json_integer(s->updated) : json_null());
    store_time_format(s->updated, iso, sizeof iso);
    json_object_set_new(j, "updated_utc", s->updated ? json_string(iso) : json_null());
    json_object_set_new(j, "legacy_informed",
                        s->legacy_informed ? json_integer(s->legacy_informed)
                                           : json_null());
    return j;
}

int ctl_notice(const struct ctl *c, const char *arg, char *idbuf, size_t idlen,
               uint8_t sha[32], struct buf *text)
{
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
    int rc;

    memset(sha, 0, 32);
    if ((n == 0 && colon == NULL) || n >= idlen) {
        ctl_err(c, "bad notice '%s' (want ID, ID:FILE or :FILE)", arg);
        return CTL_USAGE;
    }
    memcpy(idbuf, arg, n);
    idbuf[n] = '\0';
    if (colon == NULL)
        return CTL_OK;
    if ((rc = buf_read_file(text, colon + 1)) != 0 || text->len == 0) {
        ctl_err(c, "notice file '%s': %s", colon + 1,
                rc == EFBIG ? "larger than 1 MiB" : rc ? strerror(rc) : "empty");
        return CTL_USAGE;
    }
    crypto_hash_sha256(sha, (const unsigned char *)text->data, text->len);
    /* ":FILE": the id is derived from the text, like the gate's */
    if (n == 0)
        store_notice_id("notice", sha, idbuf, idlen);
    return CTL_OK;
}

int ctl_csv_escaped(const char *s, size_t quotes)
{
    size_t q = strspn(s, "'");

    return q >= quotes && s[q] != '\0' && strchr("=+-@\t\r", s[q]) != NULL;
}

/* CSV field, quoted when needed (RFC 4180); a cell a spreadsheet would
 * run as a formula (=cmd|...) gets a leading ', which import takes off
 * again (ctl_csv_escaped). */
void ctl_csv_field(const char *s)
{
    int esc = ctl_csv_escaped(s, 0);

    if (strpbrk(s, ",\"\r\n") == NULL) {
        if (esc)
            putchar('\'');
        fputs(s, stdout);
        return;
    }
    putchar('"');
    if (esc)
        putchar('\'');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}
