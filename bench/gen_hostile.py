#!/usr/bin/env python3
"""Generate the hostile-memory inputs of issue 9 item 6 (make bench-memory,
tests/unit/test_memory.c uses smaller sizes of the same shapes).

  gen_hostile.py html MB   one text/html part, a tracked link and an open
                           pixel in every paragraph (the most findings per byte)
  gen_hostile.py parts MB  seven 8bit text/plain parts, a tracked link per line

Deterministic; writes the message to stdout with CRLF line ends.
"""
import sys


def para(i):
    return ('<p>Paragraph %d, read <a href="https://brand.us1.list-manage.com/track/click'
            '?u=ab12&id=%08x&e=cd34">the article</a>.<img src="https://brand.us1.'
            'list-manage.com/track/open.php?u=ab12&id=%08x&e=cd34" width="1" height="1"></p>'
            % (i, i, i))


def html(size):
    out = ["From: News <news@brand.example>", "To: r@example.org", "Subject: hostile html",
           "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8",
           "Content-Transfer-Encoding: 8bit", "", "<html><body>"]
    n, i = 0, 0
    while n < size:
        p = para(i)
        out.append(p)
        n += len(p) + 2
        i += 1
    out.append("</body></html>")
    return "\r\n".join(out) + "\r\n"


def parts(size):
    out = ["From: News <news@brand.example>", "To: r@example.org", "Subject: seven parts",
           "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="hostile-b"', ""]
    per = size // 7
    for k in range(7):
        out += ["--hostile-b", "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit", ""]
        n, i = 0, 0
        while n < per:
            line = ("Line %d of part %d: https://brand.us1.list-manage.com/track/click"
                    "?u=ab12&id=%08x&e=cd34 read it" % (i, k, i))
            out.append(line)
            n += len(line) + 2
            i += 1
    out.append("--hostile-b--")
    return "\r\n".join(out) + "\r\n"


if __name__ == "__main__":
    kind, mb = sys.argv[1], float(sys.argv[2])
    sys.stdout.write({"html": html, "parts": parts}[kind](int(mb * 1024 * 1024)))
