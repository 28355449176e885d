-- headers.lua - header changes: trace header, ESP no-track headers, forged
-- trace headers removed.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local conn = t.start()
t.conninfo(conn)

local r = t.message(conn, "MH1", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "accepted")
t.check(mt.eom_check(conn, MT_HDRADD, "X-Consent-Milter"), "trace header added")
local v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(string.find(v, "^2; decision=no%-consent;") ~= nil, "trace: version and decision (" .. v .. ")")
t.check(string.find(v, "strip=1;") ~= nil, "trace: one pixel stripped")
t.check(string.find(v, "; mac=%x+$") ~= nil, "trace: MAC at the end")

-- ESP headers: merged into existing ones, flags changed in place.
r = t.message(conn, "MH2", "news@esp.example", {"no@example.org"},
	{{"X-SMTPAPI", "{\"category\":\"news\"}"}, {"X-Mailgun-Track", "yes"}})
t.check(r == SMFIR_CONTINUE, "esp: accepted")
t.check(mt.eom_check(conn, MT_HDRCHANGE, "X-Mailgun-Track", "no"), "esp: X-Mailgun-Track changed to no")
t.check(mt.eom_check(conn, MT_HDRCHANGE, "X-SMTPAPI"), "esp: X-SMTPAPI changed, not added")
t.check(not mt.eom_check(conn, MT_HDRADD, "X-SMTPAPI"), "esp: no second X-SMTPAPI")
t.check(mt.eom_check(conn, MT_HDRADD, "X-PM-TrackOpens", "false"), "esp: Postmark opens off")
t.check(mt.eom_check(conn, MT_HDRADD, "X-MJ-TrackOpen", "0"), "esp: Mailjet opens off")
t.check(mt.eom_check(conn, MT_HDRADD, "X-Mailgun-Track-Clicks", "no"), "esp: Mailgun clicks off")

-- Every occurrence: a second X-Mailgun-Track saying yes beside one saying
-- no is switched off too; a lower-case name is found.
r = t.message(conn, "MH2b", "news@esp.example", {"no@example.org"},
	{{"X-Mailgun-Track", "no"}, {"X-Mailgun-Track", "yes"}, {"x-pm-tracklinks", "HtmlAndText"}})
t.check(r == SMFIR_CONTINUE, "esp duplicates: accepted")
t.check(mt.eom_check(conn, MT_HDRCHANGE, "X-Mailgun-Track", "no"), "esp duplicates: the second X-Mailgun-Track changed to no")
t.check(not mt.eom_check(conn, MT_HDRADD, "X-Mailgun-Track"), "esp duplicates: none added")
t.check(mt.eom_check(conn, MT_HDRCHANGE, "X-PM-TrackLinks", "None"), "esp: lower-case x-pm-tracklinks changed")

-- An X-SMTPAPI that does not parse cannot be switched off without losing
-- what it says: refused for good with a reason, never passed with tracking on.
r = t.message(conn, "MH2c", "news@esp.example", {"no@example.org"},
	{{"X-SMTPAPI", "{\"filters\": {oops"}})
t.check(r == SMFIR_REPLYCODE, "esp bad JSON: SMTP reply")
t.check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.6.0", "consent-milter: X-SMTPAPI header is not a JSON object"),
	"esp bad JSON: permanent 554 5.6.0 naming the header")
t.check(not mt.eom_check(conn, MT_BODYCHANGE), "esp bad JSON: nothing modified")

-- No ESP headers where the domain does not ask for them.
r = t.message(conn, "MH3", "news@brand.example", {"no@example.org"})
t.check(not mt.eom_check(conn, MT_HDRADD, "X-PM-TrackOpens"), "no esp headers by default")

-- A forged trace header is removed and ours added; the message is rewritten.
r = t.message(conn, "MH4", "news@brand.example", {"no@example.org"},
	{{"X-Consent-Milter", "2; decision=consent; mac=" .. string.rep("0", 64)}})
t.check(mt.eom_check(conn, MT_HDRCHANGE, "X-Consent-Milter", ""), "forged trace header deleted")
t.check(mt.eom_check(conn, MT_HDRADD, "X-Consent-Milter"), "our trace header added")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "forged: body still rewritten")
mt.disconnect(conn)
t.done()
