/* fuzz_tok - libFuzzer harness on the token decoder (common/tok.h) with a
 * fixed test key. The first input byte picks what the rest is:
 *   0: token text, opened as every kind (forged tokens: base64url, key id,
 *      truncation, authentication);
 *   1: claims bytes, sealed here under the test key as the gate's key
 *      would (the same derivation and associated data as common/tok.c), so
 *      that the claims decoder behind the authentication is reached with
 *      any bytes at all; opened as the kind the second byte names and as
 *      the other kinds;
 *   2: fields (NUL-separated controller, recipient, url, dest), sealed
 *      with tok_seal and opened again: a token that seals must open to the
 *      same claims, and no other kind may open it;
 *   3: a keys file (tok_keys_parse), then a MAC over it and back;
 *   else: a hex MAC checked against the input (tok_mac_verify).
 * Every call must end in a status, never a crash; a wrong answer aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/tok.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY_ID 7u
#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct tok_keys *keys;
static unsigned char aead_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static const int kinds[] = {TOK_OPEN,     TOK_CLICK, TOK_DELIV,
                            TOK_WITHDRAW, TOK_PREFS, TOK_ANON};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char text[] = "# fuzz key\n7 " KEY_HEX "\n3 " KEY_HEX "\n";
    unsigned char master[32];
    char err[256];

    (void)argc;
    (void)argv;
    if (sodium_init() < 0 ||
        tok_keys_parse(text, sizeof text - 1, &keys, err, sizeof err) != TOK_OK ||
        sodium_hex2bin(master, sizeof master, KEY_HEX, 64, NULL, NULL, NULL) != 0 ||
        crypto_kdf_derive_from_key(aead_key, sizeof aead_key, 1, "cmtokenk", master) != 0)
        abort();
    return 0;
}

static void open_all(const char *text, size_t len)
{
    for (size_t i = 0; i < NKINDS; i++) {
        struct tok t;
        int rc = tok_open(keys, kinds[i], text, len, &t);
        if (rc == TOK_OK && (t.kind != kinds[i] || t.key_id != KEY_ID))
            abort();
        tok_clear(&t);
    }
}

/* Mode 1: seal raw claims as common/tok.c does (id, nonce, AEAD with
 * "cmtok1" | kind | id as associated data), base64url, open. */
static void forge(const uint8_t *claims, size_t len)
{
    unsigned char ad[11], *bin;
    unsigned long long clen = 0;
    size_t n;
    char *text;
    int kind;

    if (len < 1)
        return;
    kind = kinds[claims[0] % NKINDS];
    claims++, len--;
    if (len > TOK_TEXT_MAX)
        return;
    n = 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len +
        crypto_aead_xchacha20poly1305_ietf_ABYTES;
    bin = malloc(n);
    text = malloc(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
    if (bin == NULL || text == NULL)
        abort();
    bin[0] = bin[1] = bin[2] = 0, bin[3] = KEY_ID;
    memcpy(ad, "cmtok1", 6);
    ad[6] = (unsigned char)kind;
    memcpy(ad + 7, bin, 4);
    memset(bin + 4, 0x5a, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bin + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen, claims, len, ad,
        sizeof ad, NULL, bin + 4, aead_key);
    sodium_bin2base64(text, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    for (size_t i = 0; i < NKINDS; i++) {
        struct tok t;
        int rc = tok_open(keys, kinds[i], text, strlen(text), &t);
        if (rc == TOK_OK && kinds[i] != kind)
            abort(); /* opened as a kind it was not made for */
        if (rc == TOK_EKIND && kinds[i] == kind)
            abort();
        tok_clear(&t);
    }
    free(bin);
    free(text);
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Mode 2: fields -> tok_seal -> tok_open round trip. */
static void roundtrip(const uint8_t *data, size_t len)
{
    char *copy, *f[4] = {NULL, NULL, NULL, NULL};
    struct buf out = BUF_INIT(0);
    struct tok t = {0}, back;
    size_t pos = 0;
    int rc;

    if (len < 1)
        return;
    t.kind = kinds[data[0] % NKINDS];
    t.issued = 1700000000 + data[0];
    data++, len--;
    if ((copy = malloc(len + 1)) == NULL)
        abort();
    memcpy(copy, data, len);
    copy[len] = '\0';
    for (int i = 0; i < 4 && pos <= len; i++) {
        f[i] = copy + pos;
        pos += strlen(copy + pos) + 1;
    }
    t.controller = f[0], t.recipient = f[1], t.url = f[2], t.dest = f[3];
    t.has_domain = 1;
    tok_domain_id(f[0] ? f[0] : "*", t.domain);
    rc = tok_seal(keys, &t, &out);
    if (rc == TOK_OK) {
        for (size_t i = 0; i < NKINDS; i++) {
            int orc = tok_open(keys, kinds[i], out.data, out.len, &back);
            if (kinds[i] == t.kind) {
                if (orc != TOK_OK || back.issued != t.issued || !back.has_domain ||
                    memcmp(back.domain, t.domain, TOK_DOMAIN_ID) != 0 ||
                    !same(back.controller, t.controller) ||
                    !same(back.recipient, t.recipient) || !same(back.url, t.url) ||
                    !same(back.dest, t.dest))
                    abort(); /* sealed but does not open to the same claims */
            } else if (orc != TOK_EKIND) {
                abort();
            }
            tok_clear(&back);
        }
    }
    buf_free(&out);
    free(copy);
}

static void keyfile(const uint8_t *data, size_t len)
{
    struct tok_keys *k = NULL;
    char err[256], mac[TOK_MAC_HEX];
    struct buf line = BUF_INIT(0);

    if (tok_keys_parse((const char *)data, len, &k, err, sizeof err) != TOK_OK)
        return;
    if (tok_keys_count(k) == 0 || tok_keys_newest(k) == 0)
        abort(); /* a keys file that loads has a key to seal with */
    if (tok_mac(k, data, len, mac) != TOK_OK || tok_mac_verify(k, data, len, mac) != TOK_OK)
        abort();
    if (tok_keys_generate(k, &line) != TOK_OK)
        abort();
    buf_free(&line);
    tok_keys_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0]) {
    case 0:
        open_all((const char *)data + 1, size - 1);
        break;
    case 1:
        forge(data + 1, size - 1);
        break;
    case 2:
        roundtrip(data + 1, size - 1);
        break;
    case 3:
        keyfile(data + 1, size - 1);
        break;
    default: {
        char hex[TOK_MAC_HEX];
        size_t n = size - 1 < TOK_MAC_HEX - 1 ? size - 1 : TOK_MAC_HEX - 1;
        memcpy(hex, data + 1, n);
        hex[n] = '\0';
        if (tok_mac_verify(keys, data, size, hex) == TOK_OK)
            abort(); /* a MAC guessed from the input itself */
        break;
    }
    }
    return 0;
}
