-- decide.lua - sending domain (From:, else envelope sender; parents match),
-- mail class rules, and modes, as seen in the trace header.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local conn = t.start()
t.conninfo(conn)

-- send one message with the given From: (nil: none) and envelope sender
local function decision(qid, from_hdr, env_from, extra, rcpt)
	t.envelope(conn, qid, env_from, {rcpt or "yes@example.org"})
	local h = {{"To", "yes@example.org"}, {"Subject", "x"}, {"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=\"b1\""}}
	if from_hdr then table.insert(h, 1, {"From", from_hdr}) end
	for _, x in ipairs(extra or {}) do table.insert(h, x) end
	t.headers(conn, h)
	assert(mt.bodystring(conn, t.html) == nil)
	assert(mt.eom(conn) == nil)
	return mt.getheader(conn, "X-Consent-Milter", 0) or ""
end

local v = decision("D1", "\"news@brand.example\" <x@never.example>", "bounce@brand.example")
t.check(v:find("decision=never%-track;") ~= nil, "From: the angle address wins over a quoted display name")
v = decision("D2", nil, "news@never.example")
t.check(v:find("decision=never%-track;") ~= nil, "no From: the envelope sender's domain")
v = decision("D3", "Brand <news@mail.never.example>", "x@brand.example")
t.check(v:find("decision=never%-track;") ~= nil, "a subdomain uses its parent's section")
v = decision("D4", "news@NEVER.Example", "x@brand.example")
t.check(v:find("decision=never%-track;") ~= nil, "domain compared case-insensitively")
v = decision("D5", "Brand <news@brand.example>", "x@brand.example")
t.check(v:find("decision=consent;") ~= nil, "consenting recipient at brand.example")
v = decision("D6", "Brand <news@brand.example>", "x@brand.example", {{"X-Mail-Class", "  Transactional "}})
t.check(v:find("class=transactional;") ~= nil and v:find("rule=\"header:X%-Mail%-Class: transactional\"") ~= nil,
	"class rule: header value trimmed, case-insensitive; rule named (" .. v .. ")")
v = decision("D7", "Brand <news@brand.example>", "x@brand.example", {{"X-Mail-Class", "auth"}},
	"no@example.org")
t.check(v:find("class=auth;") ~= nil and v:find("strip=0;") ~= nil and v:find("gate=0;") ~= nil,
	"auth class, no consent: pixel left as it is")
v = decision("D8", "Undisclosed recipients:;", "news@brand.example")
t.check(v:find("decision=consent;") ~= nil, "From: without an address: envelope sender")
v = decision("D9", "news@unknown-brand.example", "x@unknown-brand.example")
t.check(v:find("mode=enforce;") ~= nil and v:find("decision=no%-consent;") ~= nil,
	"unknown domain: [domain *], its own controller (no consent recorded)")
mt.disconnect(conn)
t.done()
