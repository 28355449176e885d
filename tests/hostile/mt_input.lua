-- mt_input.lua - hostile input on the milter's wire (tests/hostile/milter.sh):
-- an SMTPUTF8 sender and UTF-8 recipients, NUL bytes, 8-bit headers, 1,000
-- parts, a large message through the body buffer and spool; the milter's
-- peak RSS against SPEC §7; the milter still answers afterwards.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. os.getenv("MT_HOSTILE") .. "/?.lua;" .. package.path
local t = require("common")
local h = require("mt_lib")

local conn = t.start()
t.conninfo(conn)
h.pid_of()

-- SMTPUTF8: MAIL FROM with the SMTPUTF8 parameter, UTF-8 local parts
local function utf8_message(qid, rcpt)
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	assert(mt.mailfrom(conn, "<news@brand.example>", "SMTPUTF8", "BODY=8BITMIME") == nil)
	assert(mt.rcptto(conn, "<" .. rcpt .. ">") == nil)
	t.headers(conn, t.newsletter_headers("news@brand.example", {{"Subject", "caf\195\169 \226\130\172"}}))
	assert(mt.bodystring(conn, t.html) == nil)
	assert(mt.eom(conn) == nil)
	return mt.getreply(conn), mt.getheader(conn, "X-Consent-Milter", 0) or ""
end
local r, v = utf8_message("U1", "j\195\182rg@example.org")
t.check(r == SMFIR_CONTINUE and v:find("decision=consent;") ~= nil,
	"SMTPUTF8: granted UTF-8 local part has consent (" .. v:sub(1, 60) .. ")")
r, v = utf8_message("U2", "jo\204\136rg@example.org")
t.check(r == SMFIR_CONTINUE and v:find("decision=consent;") ~= nil,
	"SMTPUTF8: the same address in NFD is the same recipient")
r, v = utf8_message("U3", "zo\195\171@example.org")
t.check(r == SMFIR_CONTINUE and v:find("decision=no%-consent;") ~= nil and v:find("strip=1;") ~= nil,
	"SMTPUTF8: unknown UTF-8 recipient: pixel stripped")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "SMTPUTF8: body rewritten")
r, v = utf8_message("U4", "\208\191\209\128\208\184\208\178\208\181\209\130@\209\128\209\132.example")
t.check(r == SMFIR_CONTINUE and v:find("decision=no%-consent;") ~= nil,
	"SMTPUTF8: UTF-8 local part and domain: decided, pixel stripped")

-- one message from headers and a body string; returns reply, trace
local function message(qid, hdrs, body)
	t.envelope(conn, qid, "news@brand.example", {"no@example.org"})
	t.headers(conn, hdrs)
	h.body_bytes(conn, body)
	assert(mt.eom(conn) == nil)
	return mt.getreply(conn), mt.getheader(conn, "X-Consent-Milter", 0) or ""
end
local pixel = "<img src=\"https://brand.us1.list-manage.com/track/open.php?u=ab12&amp;id=1&amp;e=cd34\" width=\"1\" height=\"1\">"
local html_hdrs = {{"From", "News <news@brand.example>"}, {"To", "no@example.org"}, {"Subject", "x"},
	{"MIME-Version", "1.0"}, {"Content-Type", "text/html; charset=utf-8"}}

r, v = message("N1", html_hdrs, "<p>nul\0here</p>\0" .. pixel .. "\0\r\n")
t.check(r == SMFIR_CONTINUE and v:find("strip=1;") ~= nil, "NUL bytes in the body: rewritten, pixel stripped")

local eight = {{"From", "Caf\195\169 M\252ller <news@brand.example>"}, {"To", "r\233@example.org"},
	{"Subject", "\226\130\172 \255 8-bit"}, {"X-Raw", "\128\129\0"}, {"MIME-Version", "1.0"},
	{"Content-Type", "text/html; charset=utf-8; name=\"\195\169.html\""}}
r, v = message("H1", eight, "<p>x</p>" .. pixel .. "\r\n")
t.check(r == SMFIR_CONTINUE and v:find("strip=1;") ~= nil, "8-bit and NUL header fields: rewritten, pixel stripped")
t.check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject") and not mt.eom_check(conn, MT_HDRCHANGE, "From"),
	"8-bit header fields: left as they are")

local parts = {}
for i = 1, 1000 do
	parts[#parts + 1] = "--b\r\nContent-Type: text/html\r\n\r\n<p>" .. i .. "</p>" .. pixel .. "\r\n"
end
local mp_hdrs = {{"From", "News <news@brand.example>"}, {"To", "no@example.org"}, {"Subject", "x"},
	{"MIME-Version", "1.0"}, {"Content-Type", "multipart/mixed; boundary=\"b\""}}
r = message("P1", mp_hdrs, table.concat(parts) .. "--b--\r\n")
t.check(r == SMFIR_REPLYCODE and mt.eom_check(conn, MT_SMTPREPLY, "554", "5.6.0",
		"consent-milter: cannot rewrite message: limit exceeded: more than 500 MIME parts"),
	"1,000 parts: refused at once, 554 5.6.0 (a limit: every retry would fail)")

-- the milter's memory: its peak after small messages, then after a large
-- one (spooled to disk past spool_threshold; one HTML part under the 8 MiB
-- part limit, with 1 MB attributes). No tracker in it: miltertest itself
-- crashes on a replacement body of a megabyte (consent-rewrite's cases
-- check the large rewrites).
local base = h.hwm()
local big = h.big_html(os.getenv("MT_BIG_MB") or "7", "")
t.envelope(conn, "B1", "news@brand.example", {"no@example.org"})
t.headers(conn, html_hdrs)
h.body_file(conn, big)
assert(mt.eom(conn) == nil)
r = mt.getreply(conn)
v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(r == SMFIR_CONTINUE and v:find("decision=no%-consent;") ~= nil and not mt.eom_check(conn, MT_BODYCHANGE),
	"large message: decided, nothing to change, body left as it is")
h.rss_check("large message", base, h.size(big))
os.remove(big)

r, v = message("Z1", html_hdrs, "<p>x</p>" .. pixel .. "\r\n")
t.check(r == SMFIR_CONTINUE and v:find("strip=1;") ~= nil, "the milter still answers")
mt.disconnect(conn)
t.done()
