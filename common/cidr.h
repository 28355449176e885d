/* cidr - IP addresses and address ranges (CIDR) for the gate's trusted
 * proxy list and its per-address connection table.
 *
 * Every address is held as 16 bytes: IPv4 as its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d), so one comparison serves both families and an IPv4
 * client seen on a dual-stack socket matches an IPv4 range. Only numeric
 * literals are parsed (no names, no ports, no zone ids). Pure functions,
 * no I/O, thread-safe. */
#ifndef CM_CIDR_H
#define CM_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CIDR_ADDR_LEN 16
#define CIDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

struct cidr {
    uint8_t addr[CIDR_ADDR_LEN]; /* host bits cleared */
    unsigned bits;               /* 0..128, in the 16-byte form */
};

/* cidr_addr_parse - the IP literal s[0..len) into out. Returns 0, or -1 if
 * it is not exactly one IPv4 or IPv6 address. */
int cidr_addr_parse(const char *s, size_t len, uint8_t out[CIDR_ADDR_LEN]);
/* cidr_addr_from_sockaddr - the address of an AF_INET/AF_INET6 sockaddr.
 * Returns 0, or -1 for any other family (or NULL). */
int cidr_addr_from_sockaddr(const struct sockaddr *sa, uint8_t out[CIDR_ADDR_LEN]);
/* cidr_addr_format - text form into out (IPv4-mapped addresses as dotted
 * IPv4); "unknown" if outlen is too small. */
void cidr_addr_format(const uint8_t a[CIDR_ADDR_LEN], char *out, size_t outlen);
/* cidr_addr_is_v4 - 1 if a is an IPv4 address (IPv4-mapped form). */
int cidr_addr_is_v4(const uint8_t a[CIDR_ADDR_LEN]);
/* cidr_list_parse - "10.0.0.0/8, 2001:db8::/32 192.0.2.7" (commas and/or
 * blanks; a bare address is a single host) into a new vector *v of *n
 * entries, owned by the caller (free()). An empty text gives NULL, 0.
 * Returns 0, or -1 with a short reason in *why (and *v untouched). */
int cidr_list_parse(const char *text, struct cidr **v, size_t *n, const char **why);
/* cidr_match - 1 if a lies in one of the n ranges of v, else 0. */
int cidr_match(const struct cidr *v, size_t n, const uint8_t a[CIDR_ADDR_LEN]);
/* cidr_format - "ADDR/BITS" as written (IPv4 ranges with IPv4 bits). */
void cidr_format(const struct cidr *c, char *out, size_t outlen);

#endif
