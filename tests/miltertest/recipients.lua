-- recipients.lua - recipients collected in envrcpt; strictest rule for
-- several; consent looked up for one.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local conn = t.start()
t.conninfo(conn)

local r = t.message(conn, "MR1", "news@brand.example", {"yes@example.org"})
local v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(string.find(v, "decision=consent;") ~= nil, "one consenting recipient: consent (" .. v .. ")")
t.check(string.find(v, "gate=1;") ~= nil, "one consenting recipient: pixel gated")

r = t.message(conn, "MR2", "news@brand.example", {"yes@example.org", "no@example.org"})
v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(string.find(v, "decision=strictest;") ~= nil, "two recipients: strictest")
t.check(string.find(v, "rcpts=2;") ~= nil, "two recipients: both counted")
t.check(string.find(v, "strip=1;") ~= nil, "two recipients: pixel stripped")

r = t.message(conn, "MR3", "news@brand.example", {"yes@example.org", "yes2@example.org"})
v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(string.find(v, "decision=strictest;") ~= nil and string.find(v, "gate=0;") ~= nil,
	"two consenting recipients: still strictest, nothing gated (no per-recipient footer)")

r = t.message(conn, "MR4", "news@brand.example", {"Yes@Example.ORG"})
v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(string.find(v, "decision=consent;") ~= nil, "recipient normalised before lookup")

r = t.message(conn, "MR5", "news@brand.example", {"unknown@example.org"})
v = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(string.find(v, "decision=no%-consent;") ~= nil, "unknown recipient: no consent")
mt.disconnect(conn)
t.done()
