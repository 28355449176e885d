/* test_ambig - MIME that gmime reads one way and mail clients another
 * (rewriter/mime.c, issue 9 item 4). Every message of the table must come
 * back RW_EAMBIG with a reason naming the ambiguity; the benign look-alikes
 * (identical duplicates, filename= beside filename*=, a delimiter with
 * trailing blanks) must still parse. rw_strerror(RW_EAMBIG) says
 * "ambiguous", the reason says which ambiguity. */
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

TestSuite(ambig, .init = setup, .fini = teardown);

#define TOP "From: a@example.com\nSubject: x\nMIME-Version: 1.0\n"
#define PIX "<img src=\"https://t.example/open?u=1\" width=1 height=1>\n"

struct acase {
    const char *name;
    const char *msg;
    const char *reason; /* substring of err */
};

static const struct acase bad[] = {
    {"dup content-type top",
     TOP "Content-Type: multipart/mixed; boundary=X\nContent-Type: text/plain\n\n"
         "--X\nContent-Type: text/html\n\n" PIX "--X--\n",
     "duplicate Content-Type"},
    {"dup cte top",
     TOP "Content-Type: text/html\nContent-Transfer-Encoding: base64\n"
         "Content-Transfer-Encoding: 7bit\n\nPGltZyBzcmM9Imh0dHBzOi8vdC5leGFtcGxlL28iPg==\n",
     "duplicate Content-Transfer-Encoding"},
    {"dup mime-version top",
     "From: a@example.com\nMIME-Version: 1.0\nMIME-Version: 2.0\n"
     "Content-Type: text/html\n\n" PIX,
     "duplicate MIME-Version"},
    {"unterminated boundary quote",
     TOP "Content-Type: multipart/mixed; boundary=\"X\n\n--X\nContent-Type: text/html\n\n" PIX
         "--X--\n",
     "unterminated quote"},
    {"dup content-type in part",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n"
         "Content-Type: text/html\n\n" PIX "--X--\n",
     "duplicate Content-Type"},
    {"dup disposition in part",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/html\n"
         "Content-Disposition: inline\nContent-Disposition: attachment\n\n" PIX "--X--\n",
     "duplicate Content-Disposition"},
    {"dup cte in part",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/html\n"
         "Content-Transfer-Encoding: quoted-printable\nContent-Transfer-Encoding: 8bit\n\n" PIX
         "--X--\n",
     "duplicate Content-Transfer-Encoding"},
    {"unterminated quote in part",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\n"
         "Content-Type: text/html; charset=\"utf-8\n\n" PIX "--X--\n",
     "unterminated quote"},
    {"unterminated quote in disposition",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/html\n"
         "Content-Disposition: attachment; filename=\"a.html\n\n" PIX "--X--\n",
     "unterminated quote"},
    {"dup boundary param",
     TOP "Content-Type: multipart/mixed; boundary=X; boundary=Y\n\n--X\n"
         "Content-Type: text/plain\n\nhi\n--Y\nContent-Type: text/html\n\n" PIX "--Y--\n--X--\n",
     "duplicate boundary"},
    {"boundary and boundary*",
     TOP "Content-Type: multipart/mixed; boundary=X; boundary*=''Y\n\n--X\n"
         "Content-Type: text/html\n\n" PIX "--X--\n",
     "duplicate boundary"},
    {"dup charset param",
     TOP "Content-Type: text/html; charset=us-ascii; charset=utf-16\n\n" PIX,
     "duplicate charset"},
    {"multipart without boundary",
     TOP "Content-Type: multipart/mixed\n\n--X\nContent-Type: text/html\n\n" PIX "--X--\n",
     "without a boundary"},
    {"boundary prefix line",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\n"
         "hello\n--Xjunk\nContent-Type: text/html\n\n" PIX "--X--\n",
     "boundary"},
    {"boundary other case",
     TOP "Content-Type: multipart/mixed; boundary=Xb\n\n--Xb\nContent-Type: text/plain\n\n"
         "hello\n--xB\nContent-Type: text/html\n\n" PIX "--Xb--\n",
     "boundary"},
    {"nested boundary with outer as prefix",
     TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\n"
         "Content-Type: multipart/alternative; boundary=XY\n\n--XY\n"
         "Content-Type: text/html\n\n" PIX "--XY--\n--X--\n",
     "boundary"},
};

Test(ambig, refused_with_reason)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rw_mime_free(&m);
        err[0] = '\0';
        int rc = rw_mime_parse(bad[i].msg, strlen(bad[i].msg), &lim, &m, err, sizeof err);
        cr_expect_eq(rc, RW_EAMBIG, "%s: got %d (%s), want RW_EAMBIG", bad[i].name, rc, err);
        cr_expect(strstr(err, bad[i].reason) != NULL, "%s: reason '%s' lacks '%s'",
                  bad[i].name, err, bad[i].reason);
    }
}

static const char *const good[] = {
    /* the same field twice with the same value: one reading only */
    TOP "Content-Type: text/html; charset=utf-8\nContent-Type: text/html;  charset=UTF-8\n\n" PIX,
    TOP "MIME-Version: 1.0 (generated)\nContent-Type: text/html\n\n" PIX,
    /* Outlook's filename= with filename*= fallback is normal */
    TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/html\n\n" PIX
        "--X\nContent-Type: application/pdf; name=\"a.pdf\"; name*=utf-8''a.pdf\n"
        "Content-Disposition: attachment; filename=\"a.pdf\"; filename*=utf-8''a.pdf\n\n"
        "JVBERi0=\n--X--\n",
    /* blanks after a delimiter are allowed by every reader */
    TOP "Content-Type: multipart/mixed; boundary=\"X Y\"\n\n--X Y  \nContent-Type: text/html\n\n"
        PIX "--X Y-- \n",
    /* a quote inside a quoted string, escaped */
    TOP "Content-Type: multipart/mixed; boundary=\"a\\\"b\"\n\n--a\"b\nContent-Type: text/html\n\n"
        PIX "--a\"b--\n",
    /* the same boundary declared twice (nested, or a forwarded copy) */
    TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: multipart/alternative;"
        " boundary=X\n\n--X\nContent-Type: text/html\n\n" PIX "--X--\n--X--\n",
    /* signature separator and rules in a body are not delimiters */
    TOP "Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\n"
        "hi\n-- \nme\n------\n--X--\n",
};

Test(ambig, benign_lookalikes_parse)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        rw_mime_free(&m);
        err[0] = '\0';
        int rc = rw_mime_parse(good[i], strlen(good[i]), &lim, &m, err, sizeof err);
        cr_expect_eq(rc, RW_OK, "good[%zu]: got %d (%s)", i, rc, err);
        cr_expect_geq(m.nparts, 1, "good[%zu]: no text part listed", i);
    }
}

Test(ambig, status_has_a_name)
{
    cr_assert_str_eq(rw_strerror(RW_EAMBIG), "ambiguous MIME structure");
}
