/* req - what the handlers read of the request besides what http.c put in
 * struct gate_req: its header fields and its client address as text.
 *
 * A file of its own, below the handlers (and not in reply.c) so that a
 * unit test of util.c and form.c can stand in for the headers without
 * replacing any part of how the gate answers. */
#include <stdio.h>

#include "gate/gate.h"

const char *gate_header(const struct gate_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void gate_client_ip(const struct gate_req *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", r->client_ip ? r->client_ip : "unknown");
}
