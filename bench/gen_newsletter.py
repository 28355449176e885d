#!/usr/bin/env python3
"""Generate bench/newsletter.eml: the reference newsletter of `make bench`.

About 60 KB of quoted-printable HTML in a multipart/alternative message,
with 30 links (10 Mailchimp-style opaque click wrappers, 10 SES /L0/
wrappers, 10 plain links carrying utm_ and mc_eid parameters) and 2 open
pixels (Mailchimp open.php, SendGrid /wf/open). Deterministic: the same
file every run. Usage: python3 bench/gen_newsletter.py > bench/newsletter.eml
"""
import quopri
import sys

LOREM = ("Le march\u00e9 des id\u00e9es avance vite : cette semaine, nous avons "
         "rassembl\u00e9 les lectures qui comptent, des analyses approfondies et "
         "quelques surprises pour bien commencer la saison. ")


def link(i):
    if i % 3 == 0:
        return ("https://brand.us14.list-manage.com/track/click?u=3f21937f0f636c8cec1db30bf"
                "&id=%010x&e=042ea43672" % (i * 7919))
    if i % 3 == 1:
        return ("https://abc123.r.eu-west-1.awstrack.me/L0/https:%%2F%%2Fshop.example%%2F"
                "article%%2F%d%%3Futm_source%%3Dnews%%26mc_eid%%3D042ea43672/1/"
                "0102018f-aaaa-bbbb-cccc-%012d-000000/abcDEF%d=" % (i, i, i))
    return "https://www.example.com/blog/post-%d?utm_source=newsletter&utm_medium=email&mc_eid=042ea43672" % i


def article(i):
    css = ("font-family:Georgia,'Times New Roman',serif;font-size:16px;line-height:24px;"
           "color:#333333;padding:0 24px 16px 24px")
    body = LOREM * 6
    return (
        '<tr><td class="article" style="%s">\n'
        '<h2 style="font-size:22px;margin:0 0 8px 0;color:#111111">Article %d \u2014 les '
        'nouveaut\u00e9s</h2>\n'
        '<p style="margin:0 0 12px 0">%s</p>\n'
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>'
        '<td style="background:#0b5fff;border-radius:4px;padding:10px 18px">'
        '<a href="%s" style="color:#ffffff;text-decoration:none;font-weight:bold">'
        'Lire la suite</a></td></tr></table>\n'
        '</td></tr>\n' % (css, i + 1, body, link(i).replace("&", "&amp;")))


def html():
    parts = [
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<title>La lettre</title>\n<style type="text/css">\n'
        'body{margin:0;padding:0}table{border-collapse:collapse}'
        '.article h2{font-weight:normal}@media only screen and (max-width:480px)'
        '{.article{padding:0 12px 12px 12px !important}}\n</style>\n'
        '<!--[if mso]><style>td{font-family:Arial,sans-serif}</style><![endif]-->\n'
        '</head>\n<body style="margin:0;padding:0;background:#f4f4f4">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'border="0" bgcolor="#f4f4f4"><tr><td align="center">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" '
        'border="0" style="background:#ffffff">\n'
        '<tr><td style="padding:24px"><img src="https://cdn.example.com/logo.png" '
        'width="180" height="48" alt="La lettre" style="display:block"></td></tr>\n']
    for i in range(30):
        parts.append(article(i))
    parts.append(
        '<tr><td style="padding:24px;font-size:12px;color:#777777">Vous recevez ce '
        'message car vous \u00eates inscrit. <a href="https://brand.us14.list-manage.com/'
        'unsubscribe?u=3f21937f0f636c8cec1db30bf&amp;id=9bc9573bd6">Se d\u00e9sinscrire</a>'
        '</td></tr>\n</table>\n</td></tr></table>\n'
        '<img src="https://brand.us14.list-manage.com/track/open.php?u=3f21937f0f636c8cec1db30bf'
        '&amp;id=199bb58d0b&amp;e=042ea43672" height="1" width="1" alt="">\n'
        '<img src="https://u123456.ct.sendgrid.net/wf/open?upn=ABCdef123456789ghiJKL" '
        'alt="" width="1" height="1" border="0" style="height:1px !important;width:1px '
        '!important;border-width:0 !important">\n'
        '</body>\n</html>\n')
    return "".join(parts)


def main():
    body = quopri.encodestring(html().encode("utf-8")).decode("ascii")
    text = "La lettre de la semaine.\n\nLire en ligne : https://www.example.com/blog\n"
    msg = (
        "From: La lettre <news@brand.example>\n"
        "To: reader@example.org\n"
        "Subject: La lettre de la semaine\n"
        "Date: Sun, 22 Nov 2026 08:00:00 +0000\n"
        "Message-ID: <bench-newsletter@brand.example>\n"
        "List-Unsubscribe: <https://brand.us14.list-manage.com/unsubscribe?u=3f21937f0f636c8cec1db30bf&id=9bc9573bd6>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/alternative; boundary=\"=_bench_boundary\"\n"
        "\n"
        "--=_bench_boundary\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n" + text +
        "--=_bench_boundary\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n" + body +
        "--=_bench_boundary--\n")
    sys.stdout.write(msg)


if __name__ == "__main__":
    main()
