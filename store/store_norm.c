/* store_norm - names, normalisation and parsing for the consent store.
 *
 * Pure functions, no LMDB: status and state names, the purpose table,
 * recipient and controller normalisation (SPEC §5), ISO 8601 dates and
 * UUIDs. Every parser rejects what it does not understand with
 * STORE_EINVAL; nothing here allocates except the NFC step of GLib for
 * non-ASCII addresses (freed before return). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "store/store_int.h"

static const char *const status_names[] = {
    [STORE_OK] = "success",
    [STORE_NOTFOUND] = "not found",
    [STORE_EINVAL] = "invalid argument",
    [STORE_ENOMEM] = "out of memory",
    [STORE_EIO] = "input/output error",
    [STORE_ECORRUPT] = "database is corrupt",
    [STORE_EVERSION] = "database schema is newer than this program",
    [STORE_EFULL] = "no space left for the database (file system, quota or map full): "
                    "nothing was written",
    [STORE_ENODB] = "no database in that directory",
    [STORE_EBUSY] = "a reader holds an older snapshot: old page copies are "
                    "not scrubbed yet",
};

const char *store_strerror(int rc)
{
    if (rc < 0 || (size_t)rc >= sizeof status_names / sizeof status_names[0])
        return "unknown error";
    return status_names[rc];
}

/* The purpose table: the index is the bit and the 2-bit slot on disk, so
 * names may be added at the end (up to STORE_P_MAX) without a migration. */
static const char *const purpose_names[] = {
    "opens", "clicks", "profiling", "fraud", "deliverability",
};
#define NPURPOSES (int)(sizeof purpose_names / sizeof purpose_names[0])

int store_purpose_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < NPURPOSES; i++)
        if (strcasecmp(name, purpose_names[i]) == 0)
            return i;
    return -1;
}

const char *store_purpose_name(int idx)
{
    return idx >= 0 && idx < NPURPOSES ? purpose_names[idx] : NULL;
}

int store_purposes_parse(const char *list, uint32_t *mask, const char **bad)
{
    uint32_t m = 0;
    const char *p = list;

    if (list == NULL || mask == NULL)
        return STORE_EINVAL;
    while (*p != '\0') {
        size_t n = strcspn(p, ", ;|");
        if (n > 0) {
            char name[32];
            int idx = -1;
            if (n < sizeof name) {
                memcpy(name, p, n);
                name[n] = '\0';
                idx = store_purpose_parse(name);
            }
            if (idx < 0) {
                if (bad != NULL)
                    *bad = p;
                return STORE_EINVAL;
            }
            m |= 1u << idx;
        }
        p += n;
        if (*p != '\0')
            p++;
    }
    if (m == 0) {
        if (bad != NULL)
            *bad = list;
        return STORE_EINVAL;
    }
    *mask = m;
    return STORE_OK;
}

const char *store_state_name(int st)
{
    static const char *const n[] = {"unknown", "granted", "refused", "withdrawn"};
    return st >= 0 && st <= 3 ? n[st] : "invalid";
}

const char *store_action_name(int a)
{
    static const char *const n[] = {"grant",  "refuse", "withdraw",
                                    "inform", "import", "erase"};
    return a >= 0 && a <= STORE_A_ERASE ? n[a] : "invalid";
}

int store_covers(const struct store_consent *c, uint32_t mask)
{
    for (int i = 0; i < STORE_P_MAX; i++)
        if ((mask & (1u << i)) != 0 && c->state[i] != STORE_GRANTED)
            return 0;
    return 1;
}

static int is_trim(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Strip surrounding blanks, then one pair of angle brackets, then blanks. */
static void addr_trim(const char **s, size_t *n)
{
    const char *p = *s;
    size_t len = *n;

    while (len > 0 && is_trim((unsigned char)p[0])) {
        p++;
        len--;
    }
    while (len > 0 && is_trim((unsigned char)p[len - 1]))
        len--;
    if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
        p++;
        len -= 2;
        while (len > 0 && is_trim((unsigned char)p[0])) {
            p++;
            len--;
        }
        while (len > 0 && is_trim((unsigned char)p[len - 1]))
            len--;
    }
    *s = p;
    *n = len;
}

/* Syntax check on the trimmed form: one usable '@', no blanks, no control
 * bytes, no brackets, length within RFC 5321 limits. */
static int addr_check(const char *p, size_t n)
{
    const char *at = NULL;

    if (n == 0 || n > 320)
        return STORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || c == ' ' || c == '<' || c == '>' || c == ',')
            return STORE_EINVAL;
        if (c == '@')
            at = p + i;
    }
    if (at == NULL || at == p || at == p + n - 1)
        return STORE_EINVAL;
    if (memchr(p, '@', (size_t)(at - p)) != NULL && p[0] != '"')
        return STORE_EINVAL;
    if (at[1] == '.' || p[n - 1] == '.')
        return STORE_EINVAL;
    return STORE_OK;
}

int store_addr_normalise(const char *in, char *out, size_t outlen)
{
    const char *p = in;
    size_t n;
    int ascii = 1;

    if (in == NULL || out == NULL)
        return STORE_EINVAL;
    n = strlen(in);
    addr_trim(&p, &n);
    if (addr_check(p, n) != STORE_OK)
        return STORE_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            ascii = 0;
    if (ascii) {
        if (n + 1 > outlen)
            return STORE_EINVAL;
        for (size_t i = 0; i < n; i++)
            out[i] = (char)tolower((unsigned char)p[i]);
        out[n] = '\0';
        return STORE_OK;
    }
    if (!g_utf8_validate(p, (gssize)n, NULL))
        return STORE_EINVAL;
    gchar *nfc = g_utf8_normalize(p, (gssize)n, G_NORMALIZE_NFC);
    if (nfc == NULL)
        return STORE_EINVAL;
    size_t m = strlen(nfc);
    int rc = STORE_OK;
    if (m + 1 > outlen || m > 320) {
        rc = STORE_EINVAL;
    } else {
        for (size_t i = 0; i <= m; i++) {
            unsigned char c = (unsigned char)nfc[i];
            out[i] = c < 0x80 ? (char)tolower(c) : (char)c;
        }
    }
    g_free(nfc);
    return rc;
}

int store_controller_normalise(const char *in, char *out, size_t outlen)
{
    size_t n;

    if (in == NULL || out == NULL)
        return STORE_EINVAL;
    n = strlen(in);
    if (n == 0 || n > 64 || n + 1 > outlen)
        return STORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int c = tolower((unsigned char)in[i]);
        if (!(isalnum(c) && c < 0x80) && c != '.' && c != '-' && c != '_')
            return STORE_EINVAL;
        out[i] = (char)c;
    }
    out[n] = '\0';
    return STORE_OK;
}

/* Parse exactly `n` digits. */
static int digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return -1;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

static int time_epoch(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!isdigit((unsigned char)s[0]) || strlen(s) > 10)
        return STORE_EINVAL;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < 0 || v > 0xffffffffLL)
        return STORE_EINVAL;
    *out = v;
    return STORE_OK;
}

/* Optional "Z", "+HH:MM", "-HH:MM" or "+HHMM"; returns seconds east. */
static int time_zone(const char *p, long *off)
{
    int sign, hh, mm;

    *off = 0;
    if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0') || (p[0] == 'z' && p[1] == '\0'))
        return STORE_OK;
    if (*p != '+' && *p != '-')
        return STORE_EINVAL;
    sign = *p == '-' ? -1 : 1;
    p++;
    if (digits(&p, 2, &hh) < 0)
        return STORE_EINVAL;
    if (*p == ':')
        p++;
    if (digits(&p, 2, &mm) < 0 || *p != '\0' || hh > 23 || mm > 59)
        return STORE_EINVAL;
    *off = sign * (hh * 3600L + mm * 60L);
    return STORE_OK;
}

int store_time_parse(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, se = 0;
    long off = 0;
    const char *p = s;

    if (s == NULL || out == NULL)
        return STORE_EINVAL;
    if (strchr(s, '-') == NULL)
        return time_epoch(s, out);
    if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
        digits(&p, 2, &d) < 0)
        return STORE_EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
            return STORE_EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se) < 0)
                return STORE_EINVAL;
            if (*p == '.')
                for (p++; isdigit((unsigned char)*p); p++)
                    continue;
        }
        if (time_zone(p, &off) != STORE_OK)
            return STORE_EINVAL;
    } else if (*p != '\0') {
        return STORE_EINVAL;
    }
    if (y < 1970 || y > 2105 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || se > 60)
        return STORE_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* 2026-02-30 rolled over */
        return STORE_EINVAL;
    int64_t v = (int64_t)t - off;
    if (v < 0 || v > 0xffffffffLL)
        return STORE_EINVAL;
    *out = v;
    return STORE_OK;
}

void store_time_format(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (outlen == 0)
        return;
    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

void st_uuid_make(const uint8_t rnd[16], uint8_t u[16])
{
    memcpy(u, rnd, 16);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

void store_uuid_format(const uint8_t u[16], char out[37])
{
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[u[i] >> 4];
        out[o++] = hx[u[i] & 15];
    }
    out[o] = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int store_uuid_parse(const char *s, uint8_t u[16])
{
    size_t o = 0;

    if (s == NULL || strlen(s) != 36)
        return STORE_EINVAL;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i++] != '-')
                return STORE_EINVAL;
            continue;
        }
        int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return STORE_EINVAL;
        u[o++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return STORE_OK;
}
