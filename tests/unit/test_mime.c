/* test_mime - the engine's MIME walk, byte ranges, header patches and the
 * QP/base64/charset codec (rewriter/mime.c, rewriter/codec.c). */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "rewriter/rw_engine.h"

static struct rw_limits lim;
static struct rw_mime m;
static char err[256];

static void setup(void)
{
    rw_init();
    rw_limits_default(&lim);
    memset(&m, 0, sizeof m);
    err[0] = '\0';
}

static void teardown(void)
{
    rw_mime_free(&m);
}

TestSuite(mime, .init = setup, .fini = teardown);

static const char ALT[] =
    "From: a@example.com\n"
    "Subject: x\n"
    "List-Unsubscribe: <https://u.example/unsub?id=1>, <mailto:u@example.com>\n"
    "Content-Type: multipart/alternative; boundary=\"B\"\n"
    "\n"
    "preamble\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "hello\n"
    "--B\n"
    "Content-Type: text/html; charset=ISO-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "<p>caf=E9</p>\n"
    "--B--\n";

static const char *range(const char *msg, struct rw_range r, char *tmp, size_t n)
{
    size_t len = r.end - r.off < n - 1 ? r.end - r.off : n - 1;

    memcpy(tmp, msg + r.off, len);
    tmp[len] = '\0';
    return tmp;
}

Test(mime, alternative_ranges)
{
    char tmp[128];

    cr_assert_eq(rw_mime_parse(ALT, strlen(ALT), &lim, &m, err, sizeof err), RW_OK, "%s",
                 err);
    cr_assert_eq(m.nparts, 2);
    cr_assert_eq(m.total, 3);
    cr_assert_str_eq(range(ALT, m.parts[0].body, tmp, sizeof tmp), "hello");
    cr_assert_str_eq(range(ALT, m.parts[1].body, tmp, sizeof tmp), "<p>caf=E9</p>");
    cr_assert_eq(m.parts[0].is_html, 0);
    cr_assert_eq(m.parts[1].is_html, 1);
    cr_assert_null(m.parts[0].charset);
    cr_assert_str_eq(m.parts[1].charset, "iso-8859-1");
    cr_assert_eq(m.parts[1].cte, RW_CTE_QP);
    cr_assert_str_eq(range(ALT, m.parts[1].ct, tmp, sizeof tmp),
                     "Content-Type: text/html; charset=ISO-8859-1\n");
    cr_assert_eq(m.parts[0].crlf, 0);
    cr_assert_eq(m.nunsub, 2);
    cr_assert_str_eq(m.unsub[0], "https://u.example/unsub?id=1");
    cr_assert_str_eq(m.unsub[1], "mailto:u@example.com");
    cr_assert_eq(m.body_offset, strstr(ALT, "preamble") - ALT);
}

Test(mime, single_part_crlf)
{
    static const char msg[] =
        "From: a@b.c\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n";
    char tmp[64];

    cr_assert_eq(rw_mime_parse(msg, strlen(msg), &lim, &m, err, sizeof err), RW_OK);
    cr_assert_eq(m.nparts, 1);
    cr_assert(m.parts[0].top);
    cr_assert(m.parts[0].crlf);
    cr_assert(m.crlf);
    cr_assert_str_eq(range(msg, m.parts[0].body, tmp, sizeof tmp), "<p>x</p>\r\n");
    cr_assert_eq(m.body_offset, strlen(msg) - strlen("<p>x</p>\r\n"));
}

Test(mime, untouchables_are_counted_not_listed)
{
    static const char msg[] =
        "From: a@b.c\nContent-Type: multipart/mixed; boundary=M\n\n"
        "--M\nContent-Type: multipart/signed; boundary=S; "
        "protocol=\"application/pgp-signature\"\n\n"
        "--S\nContent-Type: text/html\n\n<a href=\"http://x\">x</a>\n"
        "--S\nContent-Type: application/pgp-signature\n\nsig\n--S--\n"
        "--M\nContent-Type: text/html\nContent-Disposition: attachment; "
        "filename=a.html\n\n<p>a</p>\n"
        "--M\nContent-Type: message/rfc822\n\nFrom: x@y\nContent-Type: "
        "text/html\n\n<p>in</p>\n"
        "--M\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n"
        "--M\nContent-Type: application/pkcs7-mime\n\nxx\n"
        "--M\nContent-Type: image/png\n\npng\n"
        "--M\nContent-Type: text/plain\n\nplain text\n--M--\n";

    cr_assert_eq(rw_mime_parse(msg, strlen(msg), &lim, &m, err, sizeof err), RW_OK, "%s",
                 err);
    cr_assert_eq(m.nparts, 1, "only the last text/plain is rewritable, got %zu",
                 m.nparts);
    cr_assert_eq(m.parts[0].is_html, 0);
    cr_assert_eq(m.untouchable, 5, "signed, attachment, rfc822, calendar, pkcs7: got %u",
                 m.untouchable);
}

/* Boundaries b0_, b1_ ...: "b1" would be a prefix of "b10", which RFC 2046
 * readers take as its delimiter (RW_EAMBIG, see test_ambig). */
static char *nested(unsigned depth)
{
    GString *s = g_string_new("From: a@b.c\n");
    unsigned i;

    for (i = 0; i < depth; i++)
        g_string_append_printf(
            s, "Content-Type: multipart/mixed; boundary=b%u_\n\n--b%u_\n", i, i);
    g_string_append(s, "Content-Type: text/plain\n\nx\n");
    for (i = depth; i-- > 0;)
        g_string_append_printf(s, "--b%u_--\n", i);
    return g_string_free(s, FALSE);
}

Test(mime, depth_limit)
{
    char *msg = nested(25);

    cr_assert_eq(rw_mime_parse(msg, strlen(msg), &lim, &m, err, sizeof err), RW_ELIMIT);
    cr_assert(strstr(err, "nesting") != NULL, "err: %s", err);
    rw_mime_free(&m);
    lim.mime_depth = 30;
    cr_assert_eq(rw_mime_parse(msg, strlen(msg), &lim, &m, err, sizeof err), RW_OK, "%s",
                 err);
    cr_assert_eq(m.nparts, 1);
    g_free(msg);
}

Test(mime, container_prescan_limit)
{
    char *msg = nested(600);

    lim.mime_depth = 10000;
    cr_assert_eq(rw_mime_parse(msg, strlen(msg), &lim, &m, err, sizeof err), RW_ELIMIT);
    g_free(msg);
}

Test(mime, part_count_limit)
{
    GString *s =
        g_string_new("From: a@b.c\nContent-Type: multipart/mixed; boundary=B\n\n");

    for (int i = 0; i < 20; i++)
        g_string_append(s, "--B\nContent-Type: text/plain\n\nx\n");
    g_string_append(s, "--B--\n");
    lim.max_parts = 10;
    cr_assert_eq(rw_mime_parse(s->str, s->len, &lim, &m, err, sizeof err), RW_ELIMIT);
    g_string_free(s, TRUE);
}

Test(mime, charset_header_patch)
{
    struct rw_range r;
    struct buf f = BUF_INIT(0);
    char *value = NULL;

    cr_assert_eq(rw_mime_parse(ALT, strlen(ALT), &lim, &m, err, sizeof err), RW_OK);
    cr_assert_eq(rw_hdr_set_charset(ALT, strlen(ALT), &m.parts[1], &r, &f, &value),
                 RW_OK);
    cr_assert_eq(r.off, m.parts[1].ct.off);
    cr_assert_str_eq(buf_cstr(&f), "Content-Type: text/html; charset=utf-8\n");
    cr_assert_str_eq(value, "text/html; charset=utf-8");
    g_free(value);
    buf_reset(&f);
    /* No charset parameter: one is added before the line end. */
    cr_assert_eq(rw_hdr_set_charset(ALT, strlen(ALT), &m.parts[0], &r, &f, &value),
                 RW_OK);
    cr_assert_str_eq(buf_cstr(&f), "Content-Type: text/plain; charset=utf-8\n");
    g_free(value);
    buf_free(&f);
}

/* A Content-Type that ends in ';' (with spaces, or folded after it) gets
 * the charset as one clean parameter, never "text/html;; charset=". */
Test(mime, charset_added_after_trailing_semicolon)
{
    static const struct {
        const char *ct, *want;
    } tc[] = {
        {"Content-Type: text/html;\n", "Content-Type: text/html; charset=utf-8\n"},
        {"Content-Type: text/html ; \n", "Content-Type: text/html; charset=utf-8\n"},
        {"Content-Type: text/html;\r\n", "Content-Type: text/html; charset=utf-8\r\n"},
        {"Content-Type: text/html;\n\t\n", "Content-Type: text/html; charset=utf-8\n"},
        {"Content-Type: text/html;\n format=flowed;\n",
         "Content-Type: text/html;\n format=flowed; charset=utf-8\n"},
        {"Content-Type: text/html;;\n", "Content-Type: text/html; charset=utf-8\n"},
        {"Content-Type: text/html\n", "Content-Type: text/html; charset=utf-8\n"},
    };

    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        int crlf = strstr(tc[i].ct, "\r\n") != NULL;
        char *msg = g_strdup_printf("From: a@b.c%s%s%sx%s", crlf ? "\r\n" : "\n", tc[i].ct,
                                    crlf ? "\r\n" : "\n", crlf ? "\r\n" : "\n");
        struct rw_range r;
        struct buf f = BUF_INIT(0);
        char *value = NULL;

        cr_assert_eq(rw_mime_parse(msg, strlen(msg), &lim, &m, err, sizeof err), RW_OK,
                     "%s", err);
        cr_assert_eq(rw_hdr_set_charset(msg, strlen(msg), &m.parts[0], &r, &f, &value), RW_OK);
        cr_assert_str_eq(buf_cstr(&f), tc[i].want, "case %zu: got [%s] want [%s]", i,
                         buf_cstr(&f), tc[i].want);
        cr_assert(strstr(value, ";;") == NULL && strstr(value, "; ;") == NULL, "value %s",
                  value);
        g_free(value);
        buf_free(&f);
        rw_mime_free(&m);
        g_free(msg);
    }
}

Test(mime, cte_header_inserted_when_absent)
{
    struct rw_range r;
    struct buf f = BUF_INIT(0);
    char *value = NULL;

    cr_assert_eq(rw_mime_parse(ALT, strlen(ALT), &lim, &m, err, sizeof err), RW_OK);
    cr_assert_eq(rw_hdr_set_cte_qp(ALT, strlen(ALT), &m.parts[0], &r, &f, &value), RW_OK);
    cr_assert_eq(r.off, r.end);
    cr_assert_eq(r.off, (size_t)(strstr(ALT, "\n\nhello") - ALT) + 1);
    cr_assert_str_eq(buf_cstr(&f), "Content-Transfer-Encoding: quoted-printable\n");
    g_free(value);
    buf_free(&f);
}

/* --- codec ------------------------------------------------------------- */

static void codec_setup(void)
{
    rw_init();
}

TestSuite(codec, .init = codec_setup);

Test(codec, qp_decode_soft_breaks_and_escapes)
{
    static const char in[] =
        "<a href=3D\"http://ex.com/tr=\r\nack?a=3Db\">x</a>=\n\nend= \nz=4";
    struct buf out = BUF_INIT(0);

    cr_assert_eq(rw_qp_decode(in, strlen(in), &out), RW_OK);
    cr_assert_str_eq(buf_cstr(&out), "<a href=\"http://ex.com/track?a=b\">x</a>\nendz=4");
    buf_free(&out);
}

Test(codec, qp_roundtrip_and_line_length)
{
    GString *s = g_string_new(NULL);
    struct buf enc = BUF_INIT(0), dec = BUF_INIT(0);
    const char *p, *nl;

    for (int i = 0; i < 40; i++)
        g_string_append(s, "caf\xc3\xa9 = long line of text with trailing space ");
    g_string_append(s, "\r\nshort line \r\n.\r\n");
    cr_assert_eq(rw_qp_encode(s->str, s->len, 1, &enc), RW_OK);
    for (p = enc.data; (nl = strstr(p, "\r\n")) != NULL; p = nl + 2)
        cr_assert_leq(nl - p, 76, "line of %td chars", nl - p);
    cr_assert(strstr(enc.data, "short line=20\r\n") != NULL, "trailing space encoded");
    cr_assert_null(strchr(enc.data, '\n') == NULL ? NULL : strstr(enc.data, "\n\n"));
    cr_assert_eq(rw_qp_decode(enc.data, enc.len, &dec), RW_OK);
    cr_assert_eq(dec.len, s->len);
    cr_assert_eq(memcmp(dec.data, s->str, s->len), 0);
    buf_free(&enc);
    buf_free(&dec);
    g_string_free(s, TRUE);
}

Test(codec, base64_roundtrip_line_ends)
{
    static const char text[] =
        "<html><body><img src=\"https://t.example/o.gif\"></body></html>\r\n"
        "<!-- padding to pass one line of base64 output -->\r\n";
    struct buf enc = BUF_INIT(0), dec = BUF_INIT(0);

    cr_assert_eq(rw_b64_encode(text, strlen(text), 1, 0, &enc), RW_OK);
    cr_assert(strstr(enc.data, "\r\n") != NULL);
    cr_assert_neq(enc.data[enc.len - 1], '\n', "no final line end requested");
    cr_assert_eq(rw_b64_decode(enc.data, enc.len, &dec), RW_OK);
    cr_assert_str_eq(buf_cstr(&dec), text);
    buf_reset(&enc);
    cr_assert_eq(rw_b64_encode(text, strlen(text), 0, 1, &enc), RW_OK);
    cr_assert_eq(enc.data[enc.len - 1], '\n');
    cr_assert_null(strchr(enc.data, '\r'));
    buf_free(&enc);
    buf_free(&dec);
}

Test(codec, charsets)
{
    struct buf u = BUF_INIT(0), l = BUF_INIT(0);

    cr_assert(rw_charset_passthrough(NULL));
    cr_assert(rw_charset_passthrough("UTF-8"));
    cr_assert(rw_charset_passthrough("us-ascii"));
    cr_assert_not(rw_charset_passthrough("iso-8859-1"));
    cr_assert_eq(rw_charset_decode("latin1", "caf\xe9", 4, &u), RW_OK);
    cr_assert_str_eq(buf_cstr(&u), "caf\xc3\xa9");
    cr_assert_eq(rw_charset_encode("iso-8859-1", u.data, u.len, &l), RW_OK);
    cr_assert_str_eq(buf_cstr(&l), "caf\xe9");
    buf_reset(&l);
    /* U+2019 is not in Latin-1 */
    cr_assert_eq(rw_charset_encode("iso-8859-1", "it\xe2\x80\x99s", 5, &l), RW_ECHARSET);
    buf_reset(&u);
    cr_assert_eq(rw_charset_decode("x-no-such-charset", "a", 1, &u), RW_ECHARSET);
    buf_free(&u);
    buf_free(&l);
}

Test(codec, qp_patch_reencodes_only_touched_lines)
{
    static const char raw[] = "<p>caf=C3=A9 =09 tab</p>\n"
                              "<img src=3D\"https://t.example/o=\n"
                              "pen?id=3D1\">\n"
                              "<p>untouched =3D line</p>\n";
    struct buf dec = BUF_INIT(0), out = BUF_INIT(0), back = BUF_INIT(0);
    const char *u;
    struct rw_patch p;

    cr_assert_eq(rw_qp_decode(raw, strlen(raw), &dec), RW_OK);
    u = strstr(dec.data, "https://t.example/open?id=1");
    cr_assert_not_null(u);
    p = (struct rw_patch){(size_t)(u - dec.data), strlen("https://t.example/open?id=1"),
                          "X=Y", 3};
    cr_assert_eq(rw_qp_patch(raw, strlen(raw), dec.data, dec.len, &p, 1, 0, &out), RW_OK);
    cr_assert_str_eq(buf_cstr(&out), "<p>caf=C3=A9 =09 tab</p>\n"
                                     "<img src=3D\"X=3DY\">\n"
                                     "<p>untouched =3D line</p>\n");
    cr_assert_eq(rw_qp_decode(out.data, out.len, &back), RW_OK);
    cr_assert(strstr(back.data, "src=\"X=Y\"") != NULL);
    /* An insertion at the end touches the last line only. */
    buf_reset(&out);
    p = (struct rw_patch){dec.len, 0, "<p>f</p>\n", 9};
    cr_assert_eq(rw_qp_patch(raw, strlen(raw), dec.data, dec.len, &p, 1, 0, &out), RW_OK);
    cr_assert_eq(strncmp(out.data, raw, strlen(raw)), 0);
    cr_assert_str_eq(out.data + strlen(raw), "<p>f</p>\n");
    /* Not the decoding of raw: refused, the caller re-encodes. */
    buf_reset(&out);
    cr_assert_eq(rw_qp_patch(raw, strlen(raw), "short", 5, &p, 0, 0, &out), RW_EINVAL);
    buf_free(&dec);
    buf_free(&out);
    buf_free(&back);
}

Test(mime, prescan_bounds_header_fields)
{
    GString *s = g_string_new("From: a@b.c\n");

    for (int i = 0; i < 1200; i++)
        g_string_append_printf(s, "X-Filler-%d: v\n", i);
    g_string_append(s, "Content-Type: text/plain\n\nx\n");
    cr_assert_eq(rw_mime_parse(s->str, s->len, &lim, &m, err, sizeof err), RW_ELIMIT);
    cr_assert(strstr(err, "header fields") != NULL, "err: %s", err);
    g_string_free(s, TRUE);
}

Test(mime, prescan_counts_embedded_message_headers)
{
    GString *s =
        g_string_new("From: a@b.c\nContent-Type: multipart/mixed; boundary=\"b b\"\n\n"
                     "--b b\nContent-Type: message/rfc822\n\n");

    for (int i = 0; i < 1200; i++)
        g_string_append_printf(s, "X-Inner-%d: v\n", i);
    g_string_append(s, "\nbody\n--b b--\n");
    cr_assert_eq(rw_mime_parse(s->str, s->len, &lim, &m, err, sizeof err), RW_ELIMIT);
    g_string_free(s, TRUE);
}

Test(mime, prescan_bounds_parts_before_gmime)
{
    GString *s = g_string_new(
        "From: a@b.c\nContent-Type: multipart/mixed;\n boundary=\"=_B\"\n\n");

    for (int i = 0; i < 600; i++)
        g_string_append(s, "--=_B\n\nx\n");
    g_string_append(s, "--=_B--\n");
    cr_assert_eq(rw_mime_parse(s->str, s->len, &lim, &m, err, sizeof err), RW_ELIMIT);
    cr_assert(strstr(err, "MIME parts") != NULL, "err: %s", err);
    /* Lines that only look like delimiters of an undeclared boundary are text. */
    g_string_assign(s, "From: a@b.c\nContent-Type: text/plain\n\n");
    for (int i = 0; i < 600; i++)
        g_string_append(s, "--=_B\n");
    rw_mime_free(&m);
    cr_assert_eq(rw_mime_parse(s->str, s->len, &lim, &m, err, sizeof err), RW_OK, "%s",
                 err);
    g_string_free(s, TRUE);
}

/* Which undecodable parts may be scanned as their bytes: the ASCII-
 * compatible ones only, by name and by the look of the bytes. */
Test(codec, ascii_compat_by_name_and_bytes)
{
    static const struct {
        const char *cs, *bytes;
        size_t len;
        int want;
    } tc[] = {
        {"x-vendor-legacy", "caf\xe9 <a href=x>", 15, 1},
        {"shift_jis", "\x82\xb1\x85\x40", 4, 1},
        {NULL, "plain", 5, 1},
        {"utf-16le", "<\0a\0", 4, 0},
        {"UTF-32", "abcd", 4, 0},
        {"utf-7", "+ADw-a", 6, 0},
        {"iso-2022-jp", "abc", 3, 0},
        {"ISO2022KR", "abc", 3, 0},
        {"hz-gb-2312", "~{abc~}", 7, 0},
        {"cp037", "\x4c\x81", 2, 0},
        {"IBM-1047", "\x4c\x81", 2, 0},
        {"csIBM500", "\x4c\x81", 2, 0},
        {"x-ebcdic-foo", "\x4c\x81", 2, 0},
        {"cp1252", "abc", 3, 1},
        {"ibm850", "abc", 3, 1},
        {"x-wide", "a\0b\0", 4, 0},
        {"x-esc", "a\x1b$Bb", 5, 0},
    };
    const char *why = NULL;

    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        cr_assert_eq(rw_charset_ascii_compat(tc[i].cs, tc[i].bytes, tc[i].len, &why),
                     tc[i].want, "%s: got %d want %d", tc[i].cs ? tc[i].cs : "(none)",
                     !tc[i].want, tc[i].want);
        if (!tc[i].want)
            cr_assert(why != NULL && strstr(why, "ASCII-compatible") != NULL);
    }
}
