/* ctl_notice - `consentctl notice list` and `consentctl notice show HASH`:
 * the notice versions the store keeps (store_notice.c), so that a privacy
 * officer can show the exact text a person saw.
 *
 * list prints one line per version: SHA-256, first-seen time (UTC),
 * length, source; --json one object per line. show prints the exact bytes
 * and nothing else (redirect it to a file and sha256sum gives HASH back);
 * --json wraps them in an object. A version whose bytes no longer match
 * their hash is reported as corrupt, never printed as proof. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ctl/ctl.h"

json_t *ctl_notice_json(const struct store_notice *n, int with_text)
{
    char hex[65], iso[32];
    json_t *j;

    ctl_hex(n->sha256, 32, hex);
    store_time_format(n->first_seen, iso, sizeof iso);
    j = json_pack("{s:s,s:I,s:s,s:s,s:I}", "sha256", hex, "first_seen",
                  (json_int_t)n->first_seen, "first_seen_utc", iso, "source", n->source,
                  "length", (json_int_t)n->len);
    if (j == NULL || !with_text)
        return j;
    json_t *t = json_stringn(n->text, n->len); /* NULL unless valid UTF-8 */
    if (t != NULL) {
        json_object_set_new(j, "text", t);
        return j;
    }
    size_t blen = sodium_base64_encoded_len(n->len, sodium_base64_VARIANT_ORIGINAL);
    struct buf b = BUF_INIT(blen + 1);
    if (buf_reserve(&b, blen) == 0) {
        sodium_bin2base64(b.data, blen, n->text, n->len, sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new(j, "text_base64", json_string(b.data));
    }
    buf_free(&b);
    return j;
}

static int list_one(const struct store_notice *n, void *arg)
{
    const struct ctl *c = arg;
    char hex[65], iso[32];

    if (c->json) {
        ctl_print_json(ctl_notice_json(n, 0), 1);
        return 0;
    }
    ctl_hex(n->sha256, 32, hex);
    store_time_format(n->first_seen, iso, sizeof iso);
    printf("%s %s %zu %s\n", hex, iso, n->len, n->source);
    return 0;
}

static int show_one(const struct store_notice *n, void *arg)
{
    const struct ctl *c = arg;

    if (c->json)
        ctl_print_json(ctl_notice_json(n, 1), 0);
    else if (fwrite(n->text, 1, n->len, stdout) != n->len)
        return STORE_EIO;
    return 0;
}

static int show(struct ctl *c, struct store *st, const char *hash)
{
    uint8_t sha[32];
    int rc;

    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdefABCDEF") != 64 ||
        sodium_hex2bin(sha, sizeof sha, hash, 64, NULL, NULL, NULL) != 0) {
        ctl_err(c, "bad hash '%s' (want the 64 hex digits of a SHA-256)", hash);
        return CTL_USAGE;
    }
    rc = store_notice_get(st, sha, show_one, c);
    if (rc == STORE_NOTFOUND) {
        ctl_err(c, "no notice version %s in the store", hash);
        return CTL_FAIL;
    }
    if (rc == STORE_ECORRUPT) {
        ctl_err(c, "notice version %s is corrupt: its bytes no longer match the hash",
                hash);
        return CTL_FAIL;
    }
    return rc == STORE_OK ? CTL_OK : ctl_store_err(c, rc, c->db);
}

int ctl_notice_cmd(struct ctl *c, int argc, char **argv)
{
    struct store *st;
    int rc, list = argc == 1 && strcmp(argv[0], "list") == 0;

    if (!list && !(argc == 2 && strcmp(argv[0], "show") == 0)) {
        ctl_err(c, "needs 'list' or 'show HASH'");
        return CTL_USAGE;
    }
    if ((rc = ctl_open(c, 0, &st)) != CTL_OK)
        return rc;
    if (list) {
        rc = store_notice_walk(st, list_one, c);
        rc = rc == STORE_OK ? CTL_OK : ctl_store_err(c, rc, c->db);
    } else {
        rc = show(c, st, argv[1]);
    }
    store_close(st);
    fflush(stdout);
    return rc;
}
