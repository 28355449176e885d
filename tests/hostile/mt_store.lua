-- mt_store.lua - the milter on a broken store (tests/hostile/milter.sh
-- prepares it): MT_EXPECT is the decision for the consenting recipient
-- (consent: the store is read; no-consent: it is damaged, and mail flows
-- as if nobody consented). MT_BREAK, if set, is a shell command run after a
-- first message (damage under a running milter); MT_AFTER the decision
-- expected then. MT_SPOOL_FULL=1: the spool directory is full. Every
-- message must get an answer and the milter must stay up.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. os.getenv("MT_HOSTILE") .. "/?.lua;" .. package.path
local t = require("common")
local h = require("mt_lib")
local case = os.getenv("MT_CASE") or "store"

local conn = t.start()
t.conninfo(conn)
h.pid_of()

local function expect(qid, rcpt, want, what)
	local r, v = h.decide(conn, qid, rcpt)
	t.check(r == SMFIR_CONTINUE and v:find("decision=" .. want:gsub("%-", "%%-") .. ";") ~= nil,
		case .. ": " .. what .. ": accepted, decision=" .. want .. " (" .. v:sub(1, 50) .. ")")
	if want == "no-consent" then
		t.check(v:find("strip=1;") ~= nil and mt.eom_check(conn, MT_BODYCHANGE),
			case .. ": " .. what .. ": pixel stripped")
	end
end

expect("S1", "yes@example.org", os.getenv("MT_EXPECT"), "consenting recipient")
expect("S2", "no@example.org", "no-consent", "refusing recipient")
if os.getenv("MT_BREAK") then
	assert(os.execute(os.getenv("MT_BREAK")), "cannot break the store")
	expect("S3", "yes@example.org", os.getenv("MT_AFTER"), "after the damage, consenting recipient")
	expect("S4", "yes2@example.org", os.getenv("MT_AFTER"), "after the damage, another one")
end
if os.getenv("MT_SPOOL_FULL") == "1" then
	local body = "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" ..
		string.rep("x", 300000) .. "</p>\r\n--b1--\r\n"
	t.envelope(conn, "F1", "news@brand.example", {"no@example.org"})
	t.headers(conn, t.newsletter_headers("news@brand.example"))
	h.body(conn, body)
	assert(mt.eom(conn) == nil, "eom failed")
	local r = mt.getreply(conn)
	t.check(r == SMFIR_REPLYCODE and mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
			"consent-milter: cannot write spool file"),
		case .. ": a message past spool_threshold on a full spool disk: temporary failure, the MTA keeps it")
	expect("F2", "no@example.org", "no-consent", "a small message after it")
end
t.check(h.alive(), case .. ": the milter is still running")
mt.disconnect(conn)
-- libmilter takes 4 s to stop on SIGTERM (mt_input.lua waits for it once)
os.execute("kill -KILL " .. h.pid)
t.done()
