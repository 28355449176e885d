/* cidr - IP literals and CIDR ranges in one 16-byte form (see cidr.h).
 * Parsing goes through inet_pton on a bounded copy, so nothing here reads
 * past len; anything else than a plain literal is refused. */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t V4MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int is_v4mapped(const uint8_t a[CIDR_ADDR_LEN])
{
    return memcmp(a, V4MAPPED, sizeof V4MAPPED) == 0;
}

int cidr_addr_is_v4(const uint8_t a[CIDR_ADDR_LEN])
{
    return is_v4mapped(a);
}

int cidr_addr_parse(const char *s, size_t len, uint8_t out[CIDR_ADDR_LEN])
{
    char tmp[CIDR_TEXT_MAX + 1];

    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (strchr(tmp, ':') == NULL) {
        memcpy(out, V4MAPPED, sizeof V4MAPPED);
        return inet_pton(AF_INET, tmp, out + 12) == 1 ? 0 : -1;
    }
    return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

int cidr_addr_from_sockaddr(const struct sockaddr *sa, uint8_t out[CIDR_ADDR_LEN])
{
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, V4MAPPED, sizeof V4MAPPED);
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

void cidr_addr_format(const uint8_t a[CIDR_ADDR_LEN], char *out, size_t outlen)
{
    const char *ok = is_v4mapped(a)
                         ? inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen)
                         : inet_ntop(AF_INET6, a, out, (socklen_t)outlen);

    if (ok == NULL && outlen > 0)
        snprintf(out, outlen, "unknown");
}

static void clear_host_bits(struct cidr *c)
{
    for (unsigned i = 0; i < CIDR_ADDR_LEN; i++) {
        unsigned keep = c->bits > i * 8 ? c->bits - i * 8 : 0;
        if (keep < 8)
            c->addr[i] &= (uint8_t)(0xff00u >> keep);
    }
}

/* One "ADDR" or "ADDR/BITS" of len bytes. */
static int parse_one(const char *s, size_t len, struct cidr *c)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned bits = 0, max;

    if (cidr_addr_parse(s, alen, c->addr) != 0)
        return -1;
    max = is_v4mapped(c->addr) && memchr(s, ':', alen) == NULL ? 32 : 128;
    if (slash == NULL) {
        bits = max;
    } else {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3)
            return -1;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max)
            return -1;
    }
    c->bits = max == 32 ? bits + 96 : bits;
    clear_host_bits(c);
    return 0;
}

int cidr_list_parse(const char *text, struct cidr **v, size_t *n, const char **why)
{
    static const char SEP[] = ", \t";
    struct cidr *out = NULL, *nv;
    size_t count = 0;
    const char *p = text;

    while (*(p += strspn(p, SEP)) != '\0') {
        size_t len = strcspn(p, SEP);
        if ((nv = realloc(out, (count + 1) * sizeof *out)) == NULL) {
            *why = "out of memory";
            goto fail;
        }
        out = nv;
        if (parse_one(p, len, &out[count]) != 0) {
            *why = "expected IP addresses or ranges such as 10.0.0.0/8 or ::1/128";
            goto fail;
        }
        count++;
        p += len;
    }
    *v = out;
    *n = count;
    return 0;
fail:
    free(out);
    return -1;
}

int cidr_match(const struct cidr *v, size_t n, const uint8_t a[CIDR_ADDR_LEN])
{
    for (size_t i = 0; i < n; i++) {
        struct cidr t;
        memcpy(t.addr, a, CIDR_ADDR_LEN);
        t.bits = v[i].bits;
        clear_host_bits(&t);
        if (memcmp(t.addr, v[i].addr, CIDR_ADDR_LEN) == 0)
            return 1;
    }
    return 0;
}

void cidr_format(const struct cidr *c, char *out, size_t outlen)
{
    char a[CIDR_TEXT_MAX];
    int v4 = is_v4mapped(c->addr) && c->bits >= 96;

    cidr_addr_format(c->addr, a, sizeof a);
    snprintf(out, outlen, "%s/%u", a, v4 ? c->bits - 96 : c->bits);
}
