-- replies.lua - negotiation and replies at each protocol stage.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local conn = t.start()
assert(mt.conninfo(conn, "localhost", "127.0.0.1") == nil, "conninfo failed")
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: continue")
t.check(mt.test_action(conn, SMFIF_CHGBODY), "negotiates: replace body")
t.check(mt.test_action(conn, SMFIF_ADDHDRS), "negotiates: add headers")
t.check(mt.test_action(conn, SMFIF_CHGHDRS), "negotiates: change headers")
t.check(not mt.test_action(conn, SMFIF_ADDRCPT), "does not negotiate: add recipients")
t.check(not mt.test_action(conn, SMFIF_DELRCPT), "does not negotiate: delete recipients")
t.check(not mt.test_action(conn, SMFIF_QUARANTINE), "does not negotiate: quarantine")
t.check(mt.test_option(conn, SMFIP_NOHELO), "asks the MTA not to send HELO")

t.envelope(conn, "MT1", "news@brand.example", {"no@example.org"})
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt: continue")
t.headers(conn, t.newsletter_headers("news@brand.example"))
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "eoh: continue")
assert(mt.bodystring(conn, t.html) == nil)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "body: continue")
assert(mt.eom(conn) == nil)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "eom: continue (accept)")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "eom: body replaced for a non-consenting recipient")
t.check(mt.getreply(conn) ~= SMFIR_REPLYCODE, "eom: no SMTP reply set")

-- A second transaction on the same connection starts from clean state.
local r = t.message(conn, "MT2", "news@off.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "mode off: accepted")
t.check(not mt.eom_check(conn, MT_BODYCHANGE), "mode off: body untouched")
t.check(not mt.eom_check(conn, MT_HDRADD), "mode off: no header added")

-- An aborted transaction, then a normal one.
t.envelope(conn, "MT3", "news@brand.example", {"no@example.org"})
t.headers(conn, t.newsletter_headers("news@brand.example"))
assert(mt.abort(conn) == nil)
r = t.message(conn, "MT4", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "after abort: next message accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "after abort: next message rewritten")

-- Headers only, no body at all.
t.envelope(conn, "MT4b", "news@brand.example", {"no@example.org"})
t.headers(conn, {{"From", "news@brand.example"}, {"Subject", "empty"}})
assert(mt.eom(conn) == nil)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "empty body: accepted")
t.check(mt.eom_check(conn, MT_HDRADD, "X-Consent-Milter"), "empty body: trace header added")

-- Garbage MIME: a clear answer, never a crash.
t.envelope(conn, "MT4c", "news@brand.example", {"no@example.org"})
t.headers(conn, {{"From", "news@brand.example"}, {"MIME-Version", "1.0"},
	{"Content-Type", "multipart/mixed; boundary=\"\""}, {"Content-Transfer-Encoding", "base64"}})
assert(mt.bodystring(conn, "--\r\n\0\1\2====\r\n--\r\n<img src=x>\r\n") == nil)
assert(mt.eom(conn) == nil)
local gr = mt.getreply(conn)
t.check(gr == SMFIR_CONTINUE or gr == SMFIR_REPLYCODE, "garbage MIME: accepted or a reply code")

-- Size limit: a body over max_message_size is refused during body.
t.envelope(conn, "MT5", "news@brand.example", {"no@example.org"})
t.headers(conn, t.newsletter_headers("news@brand.example"))
local chunk = string.rep("x", 1000) .. "\r\n"
local big = string.rep(chunk, 64)
local reply = SMFIR_CONTINUE
for i = 1, 40 do
	assert(mt.bodystring(conn, big) == nil)
	reply = mt.getreply(conn)
	if reply ~= SMFIR_CONTINUE then break end
end
t.check(reply == SMFIR_REPLYCODE, "size limit: SMTP reply during body")
mt.disconnect(conn)

-- DKIM tempfail policy: reply code and text
conn = t.connect()
r = t.message(conn, "MT6", "news@tempfail.example", {"no@example.org"},
	{{"DKIM-Signature", "v=1; a=rsa-sha256; d=tempfail.example; s=s; bh=x; b=y"}})
t.check(r == SMFIR_REPLYCODE, "dkim tempfail: SMTP reply")
t.check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.0", "consent-milter: message is already DKIM-signed; sign after consent-milter"), "dkim tempfail: 4.7.0 and the reason")
mt.disconnect(conn)

-- monitor rewrites nothing, so it breaks no signature: dkim_signed =
-- tempfail must not delay signed mail there; the trace header still says
-- what would have been done.
conn = t.connect()
r = t.message(conn, "MT7", "news@monitor-tempfail.example", {"no@example.org"},
	{{"DKIM-Signature", "v=1; a=rsa-sha256; d=monitor-tempfail.example; s=s; bh=x; b=y"}})
t.check(r == SMFIR_CONTINUE, "dkim tempfail in monitor mode: accepted, not delayed")
t.check(not mt.eom_check(conn, MT_BODYCHANGE), "dkim tempfail in monitor mode: body untouched")
local mv = mt.getheader(conn, "X-Consent-Milter", 0) or ""
t.check(mv:find("decision=monitor;") ~= nil, "dkim tempfail in monitor mode: trace header (" .. mv .. ")")
mt.disconnect(conn)
t.done()
