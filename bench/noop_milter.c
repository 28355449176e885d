/* noop_milter - the baseline for the consent-milter throughput bench.
 *
 * A libmilter program that receives exactly what consent-milter receives
 * (envelope, headers, body) and changes nothing: the cost of the milter
 * protocol itself on the same socket type. Usage: noop_milter SOCKET. */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sfsistat noop_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx;
    (void)name;
    (void)value;
    return SMFIS_CONTINUE;
}

static sfsistat noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    (void)ctx;
    (void)chunk;
    (void)len;
    return SMFIS_CONTINUE;
}

static sfsistat noop_eom(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_ACCEPT;
}

int main(int argc, char **argv)
{
    static struct smfiDesc desc = {
        .xxfi_name = "noop-milter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
        .xxfi_header = noop_header,
        .xxfi_body = noop_body,
        .xxfi_eom = noop_eom,
    };
    if (argc != 2) {
        fprintf(stderr, "usage: noop_milter SOCKET\n");
        return 2;
    }
    if (strncmp(argv[1], "unix:", 5) == 0)
        unlink(argv[1] + 5);
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS)
        return 1;
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
