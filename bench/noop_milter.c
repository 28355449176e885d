/* noop_milter - the baselines for the consent-milter throughput bench.
 *
 * A libmilter program that receives exactly what consent-milter receives
 * (envelope, headers, body) and changes nothing: the cost of the milter
 * protocol itself on the same socket type.
 *
 * With "replace" it also keeps the body and, at end of message, sends it
 * back unchanged with smfi_replacebody and adds one header: what Postfix
 * itself spends on a milter that rewrites every message, with no work in
 * the milter. The bench reports it to split consent-milter's gap to the
 * no-op milter into Postfix's share and the milter's own.
 *
 * Usage: noop_milter SOCKET [replace] */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct body {
    unsigned char *data;
    size_t len, cap;
};

static int replace;

static sfsistat noop_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx;
    (void)name;
    (void)value;
    return SMFIS_CONTINUE;
}

static sfsistat noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct body *b;

    if (!replace)
        return SMFIS_CONTINUE;
    b = smfi_getpriv(ctx);
    if (b == NULL) {
        if ((b = calloc(1, sizeof *b)) == NULL)
            return SMFIS_TEMPFAIL;
        smfi_setpriv(ctx, b);
    }
    if (b->len + len > b->cap) {
        size_t cap = (b->len + len) * 2;
        unsigned char *p = realloc(b->data, cap);

        if (p == NULL)
            return SMFIS_TEMPFAIL;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, chunk, len);
    b->len += len;
    return SMFIS_CONTINUE;
}

static void body_free(SMFICTX *ctx)
{
    struct body *b = smfi_getpriv(ctx);

    if (b != NULL) {
        free(b->data);
        free(b);
        smfi_setpriv(ctx, NULL);
    }
}

static sfsistat noop_eom(SMFICTX *ctx)
{
    struct body *b = smfi_getpriv(ctx);
    sfsistat rc = SMFIS_ACCEPT;

    if (replace && b != NULL &&
        (smfi_replacebody(ctx, b->data, (int)b->len) != MI_SUCCESS ||
         smfi_addheader(ctx, "X-Bench-Replaced", "1") != MI_SUCCESS))
        rc = SMFIS_TEMPFAIL;
    body_free(ctx);
    return rc;
}

static sfsistat noop_abort(SMFICTX *ctx)
{
    body_free(ctx);
    return SMFIS_CONTINUE;
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
        .xxfi_abort = noop_abort,
        .xxfi_close = noop_abort,
    };
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "replace") != 0)) {
        fprintf(stderr, "usage: noop_milter SOCKET [replace]\n");
        return 2;
    }
    replace = argc == 3;
    if (strncmp(argv[1], "unix:", 5) == 0)
        unlink(argv[1] + 5);
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS)
        return 1;
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
