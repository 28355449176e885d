# rewriter.sh - hostile messages through consent-rewrite (sourced by run.sh).
#
# Every case is one message for a recipient without consent, with open
# pixels (list-manage.com/track/open.php) where a reader would load them.
# A case that must be rewritten checks: exit 0, the output parses as MIME
# (hostile-tool mime: leaf count, no parser complaint unless the input
# itself had one), no pixel survives in the decoded output (and the
# report keeps none), what must stay byte for byte stays. A case that must
# be refused checks the exit code, the one-line reason and an empty
# output: a limit of SPEC §3.1 or MIME that readers disagree on.

RW_CONF=$HERE/hostile.conf
PIXEL_HOST=list-manage.com/track/open
pixel() { # N - an open pixel, numbered
	printf '<img src="https://brand.us1.list-manage.com/track/open.php?u=ab12&id=%s&e=cd34" width="1" height="1">' "$1"
}
HDRS='From: News <news@brand.example>\r\nTo: r@example.org\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n'
html_head() { # [CHARSET [CTE]]
	printf "$HDRS"'Content-Type: text/html; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n' \
		"${1:-utf-8}" "${2:-8bit}"
}
many() { # N TEXT - TEXT N times, fast
	head -c "$1" /dev/zero | tr '\0' "$2"
}

rw_run() { # NAME EML: consent-rewrite --report json; sets RC, OUT, ERR, PEAK
	OUT=$W/$1.out
	ERR=$W/$1.err
	"$TOOL" rss "$W/$1.rss" "$REWRITE" -c "$RW_CONF" --keys "$W/keys" --now 1790000000 \
		--from news@brand.example --rcpt r@example.org --consent none --report json "$2" \
		>"$OUT" 2>"$ERR"
	RC=$?
	PEAK=$(cat "$W/$1.rss" 2>/dev/null || echo 0)
}

# rw NAME EML RC [TEXT | MIME-ARGS...]: one case. RC 0: the rest are
# hostile-tool mime arguments (--absent $ABSENT is always added: any pixel
# unless the case says which). Else TEXT
# must be in the error line and nothing may be written.
rw() {
	local name=$1 eml=$2 want=$3 size
	shift 3
	size=$(stat -c %s "$eml")
	rw_run "$name" "$eml"
	if grep -q 'Sanitizer\|runtime error' "$ERR"; then
		nok "$name: sanitizer report: $(grep -m1 'Sanitizer\|runtime error' "$ERR")"
	fi
	if [ "$RC" != "$want" ]; then
		nok "$name: exit $RC, expected $want: $(head -c 300 "$ERR" | head -3)"
	elif [ "$want" = 0 ]; then
		if "$TOOL" mime "$OUT" --absent "${ABSENT:-$PIXEL_HOST}" "$@" >"$W/$name.mime" &&
			grep -q '"kept_trackers": 0' "$ERR"; then
			ok "$name: rewritten, $(tail -1 "$W/$name.mime" | sed "s/^mime: //"), no pixel left"
		else
			nok "$name: $(tr '\n' ' ' <"$W/$name.mime"); report: $(grep -m1 kept_trackers "$ERR")"
		fi
	elif [ -s "$OUT" ] || ! grep -q -F -- "$1" "$ERR"; then
		nok "$name: exit $RC but output written or reason not \"$1\": $(head -c 300 "$ERR")"
	else
		ok "$name: refused (exit $RC): $(head -1 "$ERR" | sed 's/^consent-rewrite: [^:]*: //')"
	fi
	rss_ok "$name" "$PEAK" "$size" "$RW_BASE"
	rm -f "$OUT"
}

printf "$HDRS"'Content-Type: text/html\r\n\r\n<p>hi</p>\r\n' >"$W/tiny.eml"
rw_run tiny "$W/tiny.eml"
RW_BASE=$PEAK
[ "$RC" = 0 ] || nok "consent-rewrite fails on a tiny message: $(cat "$ERR")"

# ---- HTML

# 10,000-deep nesting, a pixel at the bottom and one after it all
{
	html_head
	printf '<html><body>'
	for _ in $(seq 1000); do printf '<div><div><div><div><div><div><div><div><div><div>'; done
	pixel 1
	for _ in $(seq 1000); do printf '</div></div></div></div></div></div></div></div></div></div>'; done
	pixel 2
	printf '</body></html>\r\n'
} >"$W/deep.eml"
rw deep-html-10000 "$W/deep.eml" 0 --clean --leaves 1
# ... left open: libxml2 closes them at the end
{ html_head; for _ in $(seq 10000); do printf '<table><tr><td>'; done; pixel 1; } >"$W/deep-open.eml"
rw deep-html-10000-unclosed "$W/deep-open.eml" 0 --clean --leaves 1

# 1 MB attribute values: title, style, a data: image; the bytes stay
big=$(many 1048576 A)
{
	html_head
	printf '<p title="%sT1">a</p><p style="color:red;%sS1">b</p>' "$big" "$big"
	printf '<img src="data:image/png;base64,%sD1">' "$big"
	pixel 1
	printf '<a href="#" data-x="%s" title="x">c</a>\r\n' "$big"
} >"$W/attr.eml"
rw attr-1mb "$W/attr.eml" 0 --clean --leaves 1 --present "AAAAT1" --present "AAAAS1" \
	--present "AAAAD1"
rw_run attr-1mb-again "$W/attr.eml"
check "attr-1mb: the four 1 MB values are passed whole" \
	[ "$(tr -c A '\n' <"$OUT" | awk 'length($0) == 1048576' | wc -l)" = 4 ]
# a 1 MB URL is over the URL limit (16 KiB): refused, never cut
{ html_head; printf '<a href="https://shop.example/?q=%s">x</a>' "$big"; pixel 1; } >"$W/url.eml"
rw attr-1mb-url "$W/url.eml" 4 "attribute or URL longer than the limit"
unset big

# Unterminated comments. A plain one hides the rest of the part from every
# reader (HTML5: the comment runs to the end), so what is inside it stays
# as it is and nothing before it is missed. An MSO conditional comment
# that never ends is still read by Outlook, so the URLs in it are treated.
{ html_head; pixel 1; printf '<p>a</p><!-- never closed '; pixel 2; printf '\r\n'; } >"$W/c1.eml"
ABSENT="id=1&e=cd34" rw comment-unterminated "$W/c1.eml" 0 --clean --present "id=2&e=cd34"
{ html_head; printf '<p>a</p><!--[if mso]>'; pixel 1; printf '<p>b</p>\r\n'; } >"$W/c2.eml"
rw conditional-unterminated "$W/c2.eml" 0 --clean
{ html_head; printf '<p>a</p><!--[if mso]>'; pixel 1; printf '<![endif] '; pixel 2; printf '\r\n'; } >"$W/c3.eml"
rw conditional-no-close "$W/c3.eml" 0 --clean
{ html_head; printf '<!--[if gte mso 9]><v:rect><v:fill src="https://brand.us1.list-manage.com/track/open.php?u=1&id=2&e=3"/></v:rect>'; } >"$W/c4.eml"
rw conditional-vml-unterminated "$W/c4.eml" 0 --clean
{
	html_head
	printf '<p>a</p><![if !mso]>'; pixel 1; printf '<![endif]> <!-- a -- b -->'; pixel 2
	printf '<!--->'; pixel 3; printf '<!-->'; pixel 4; printf '<!--!>'; pixel 5
	printf '<!--[if mso]><!-->'; pixel 6; printf '<!--<![endif]-->\r\n'
} >"$W/c5.eml"
# HTML5 closes "<!-->" and "<!--->" at once (pixels 3, 4 are shown); "<!--!>"
# does not close (pixel 5 is inside a comment up to the "-->" of pixel 6's
# "<!--[if mso]><!-->")
ABSENT="id=1&e=cd34" rw comments-odd "$W/c5.eml" 0 --clean --absent "id=2&e=cd34" \
	--absent "id=3&e=cd34" --absent "id=4&e=cd34" --absent "id=6&e=cd34" --present "id=5&e=cd34"

# ---- lines, parts, boundaries

# a 100 MB single line: a base64 attachment never wrapped, and a header;
# a text part that long is over the part size limit (8 MiB)
line_mb=100
[ -n "$ASAN" ] && line_mb=3
{
	printf "$HDRS"'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
	printf -- '--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>'
	pixel 1
	printf '\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n'
	printf 'Content-Disposition: attachment; filename=big.bin\r\n\r\n'
	many $((line_mb * 1000000)) Q
	printf 'END=\r\n--b--\r\n'
} >"$W/line.eml"
rw "line-${line_mb}mb-attachment" "$W/line.eml" 0 --clean --leaves 2
rm -f "$W/line.eml"
{
	printf 'From: News <news@brand.example>\r\nTo: r@example.org\r\nSubject: hostile\r\nX-Long: '
	many $((line_mb * 1000000)) Q
	printf '\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>'
	pixel 1
	printf '\r\n'
} >"$W/line.eml"
rw "line-${line_mb}mb-header" "$W/line.eml" 0 --clean --leaves 1
rm -f "$W/line.eml"
# (9 MB at least, under the sanitizers too: past the part limit)
html_mb=$((line_mb > 9 ? line_mb : 9))
{ html_head; many $((html_mb * 1000000)) y; pixel 1; printf '\r\n'; } >"$W/line.eml"
rw "line-${html_mb}mb-html" "$W/line.eml" 4 "larger than 8388608 bytes"
rm -f "$W/line.eml"

parts() { # N: multipart/mixed of N HTML parts, a pixel in each
	printf "$HDRS"'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
	for i in $(seq "$1"); do
		printf -- '--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>%d</p>' "$i"
		pixel "$i"
		printf '\r\n'
	done
	printf -- '--b--\r\n'
}
parts 1000 >"$W/parts.eml"
rw parts-1000 "$W/parts.eml" 4 "more than 500 MIME parts"
parts 499 >"$W/parts.eml"
rw parts-499 "$W/parts.eml" 0 --clean --leaves 499

# nested boundaries that are prefixes of each other: readers split on
# different lines (RFC 2046 prefix match against gmime's exact match)
nest() { # OUTER INNER
	printf "$HDRS"'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n--%s\r\n' "$1" "$1"
	printf 'Content-Type: multipart/alternative; boundary="%s"\r\n\r\n--%s\r\n' "$2" "$2"
	printf 'Content-Type: text/html\r\n\r\n'
	pixel 1
	printf '\r\n--%s--\r\n--%s--\r\n' "$2" "$1"
}
nest ab abc >"$W/b1.eml"
rw boundary-inner-longer "$W/b1.eml" 4 "ambiguous MIME structure"
nest abc ab >"$W/b2.eml"
rw boundary-inner-shorter "$W/b2.eml" 4 "ambiguous MIME structure"
# the same boundary twice: every reader splits on the same lines, whichever
# multipart it gives them to, and the pixel is in an HTML part for all
nest ab ab >"$W/b3.eml"
rw boundary-same "$W/b3.eml" 0
{
	printf "$HDRS"'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
	printf 'Content-Type: text/html\r\n\r\n<p>the delimiter is --b, said inline</p>'
	pixel 1
	printf '\r\n--b--\r\n'
} >"$W/b4.eml"
rw boundary-inside-line "$W/b4.eml" 0 --clean --leaves 1 --present "is --b, said"
{
	printf "$HDRS"'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
	printf 'Content-Type: text/html\r\n\r\n<p>x</p>\r\n--b is where it splits\r\n'
	pixel 1
	printf '\r\n--b--\r\n'
} >"$W/b5.eml"
rw boundary-body-line "$W/b5.eml" 4 "starts with a boundary"
{
	printf "$HDRS"'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
	printf 'Content-Type: text/html\r\n\r\n<p>x</p>'
	pixel 1
	printf '\r\n--b\r\nContent-Type: multipart/alternative; boundary="c"\r\n\r\n--c\r\n'
	printf 'Content-Type: text/html\r\n\r\n'
	pixel 2
	printf '\r\n'
} >"$W/b6.eml"
# no close delimiter anywhere: clients show the parts; so does the output
rw boundary-missing-close "$W/b6.eml" 0 --leaves 2

# ---- charsets, transfer encodings, NUL, 8-bit headers

{ html_head x-no-such-charset; printf '<p>caf\xe9 \xff\xfe</p>'; pixel 1; } >"$W/cs1.eml"
rw charset-unknown "$W/cs1.eml" 0 --clean --leaves 1
{ html_head utf-8; printf '<p>\xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80 \xc0\xaf</p>'; pixel 1; } >"$W/cs2.eml"
rw charset-utf8-invalid "$W/cs2.eml" 0 --clean --leaves 1
{ html_head '""'; pixel 1; } >"$W/cs3.eml"
rw charset-empty "$W/cs3.eml" 0 --clean --leaves 1
{ html_head "$(many 5000 x)"; pixel 1; } >"$W/cs4.eml"
rw charset-5000-chars "$W/cs4.eml" 0 --clean --leaves 1
{ html_head iso-2022-jp 7bit; printf '<p>\033$B$3\033(B \033$Bbroken</p>'; pixel 1; } >"$W/cs5.eml"
rw charset-iso2022-broken "$W/cs5.eml" 4 "charset conversion failed"

b64=$({ printf '<p>x</p>'; pixel 1; } | base64 -w 76)
{ html_head utf-8 base64; printf '%s\r\n!!!@@@###\r\n' "$b64"; } >"$W/e1.eml"
rw base64-garbage-after "$W/e1.eml" 0 --clean --leaves 1
{ html_head utf-8 base64; printf '%s\r\n' "${b64%???}"; } >"$W/e2.eml"
rw base64-truncated "$W/e2.eml" 0 --clean --leaves 1
{ html_head utf-8 base64; printf '%s====\r\nAAAA=BBB=\r\n' "$b64"; } >"$W/e3.eml"
rw base64-bad-padding "$W/e3.eml" 0 --clean --leaves 1
{ html_head utf-8 base64; printf '%s' "$b64" | tr -d '\n' | sed 's/\(.\{13\}\)/\1*/g'; printf '\r\n'; } >"$W/e4.eml"
rw base64-stray-chars "$W/e4.eml" 0 --clean --leaves 1
{
	html_head utf-8 quoted-printable
	printf '<p>=ZZ =4 =\r\n=C3=A9=\r\n</p><img src=3D"https://brand.us1.list-manage.com/track/op=\r\n'
	printf 'en.php?u=3Dab12&id=3D1&e=3Dcd34" width=3D"1" height=3D"1">=\r\n='
} >"$W/q1.eml"
rw qp-broken-escapes "$W/q1.eml" 0 --clean --leaves 1
{ html_head utf-8 quoted-printable; printf '<p>%s</p>' "$(many 300000 y)"; pixel 1; printf '=\r\n'; } >"$W/q2.eml"
rw qp-300k-line "$W/q2.eml" 0 --clean --leaves 1

{ html_head; printf '<p>nul\0here</p>\0'; pixel 1; printf '\0<a href="#">\0x</a>\r\n'; } >"$W/n1.eml"
rw nul-html "$W/n1.eml" 0 --clean --leaves 1
{ printf "$HDRS"'Content-Type: text/plain; charset=utf-8\r\n\r\nnul\0 in text\0\r\n'; } >"$W/n2.eml"
rw nul-text "$W/n2.eml" 0 --clean --leaves 1
{
	printf 'From: News <news@brand.example>\r\nTo: r@example.org\r\nSubject: nul\0inside\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>'
	pixel 1
} >"$W/n3.eml"
rw nul-header "$W/n3.eml" 0 --leaves 1

eight='From: Caf\xc3\xa9 M\xfcller <news@brand.example>\r\nTo: r\xe9@example.org\r\nSubject: \xe2\x82\xac \xff\r\nX-Raw: \x80\x81\r\n'
{
	printf "$eight"'MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8; name="\xc3\xa9.html"\r\n\r\n<p>x</p>'
	pixel 1
} >"$W/h1.eml"
rw header-8bit "$W/h1.eml" 0 --leaves 1
rw_run header-8bit-again "$W/h1.eml"
heads=$(printf "$eight" | wc -c)
check "header-8bit: the 8-bit header fields are passed byte for byte" \
	cmp -s <(head -c "$heads" "$W/h1.eml") <(head -c "$heads" "$OUT")
