-- relay.lua - one newsletter through a real consent-milter reading a host's
-- replica (tests/sync/run.sh): prints "DECISION <decision>" as its trace
-- header says. Environment: MT_MILTER, MT_CONF, MT_SOCK, MT_SRC (the
-- miltertest helpers), MT_RCPT.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")
local rcpt = os.getenv("MT_RCPT")

local conn = t.start()
t.conninfo(conn)
t.envelope(conn, "S1", "news@brand.example", {rcpt})
t.headers(conn, {{"From", "Brand <news@brand.example>"}, {"To", rcpt}, {"Subject", "x"},
	{"MIME-Version", "1.0"}, {"Content-Type", "multipart/alternative; boundary=\"b1\""}})
assert(mt.bodystring(conn, t.html) == nil)
assert(mt.eom(conn) == nil)
local v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
mt.echo("DECISION " .. (v:match("decision=([%w-]+);") or "none"))
mt.disconnect(conn)
