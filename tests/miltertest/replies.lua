-- replies.lua - negotiation and replies at each protocol stage.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local conn = t.start()
t.conninfo(conn)
t.check(mt.test_action(conn, SMFIF_CHGBODY), "negotiates: replace body")
t.check(mt.test_action(conn, SMFIF_ADDHDRS), "negotiates: add headers")
t.check(mt.test_action(conn, SMFIF_CHGHDRS), "negotiates: change headers")
t.check(not mt.test_action(conn, SMFIF_ADDRCPT), "does not negotiate: add recipients")
t.check(not mt.test_action(conn, SMFIF_DELRCPT), "does not negotiate: delete recipients")
t.check(not mt.test_action(conn, SMFIF_QUARANTINE), "does not negotiate: quarantine")
t.check(mt.test_option(conn, SMFIP_NOHELO), "asks the MTA not to send HELO")
t.check(mt.test_option(conn, SMFIP_NOCONNECT), "asks the MTA not to send CONNECT")
t.check(mt.test_option(conn, SMFIP_NODATA), "asks the MTA not to send DATA")
t.check(mt.test_option(conn, SMFIP_NR_MAIL), "MAIL needs no reply")
t.check(mt.test_option(conn, SMFIP_NR_HDR), "headers need no reply")
t.check(mt.test_option(conn, SMFIP_NR_EOH), "end of headers needs no reply")
t.check(mt.test_option(conn, SMFIP_NR_BODY), "body chunks need no reply")
t.check(not mt.test_option(conn, SMFIP_NR_RCPT), "RCPT keeps its reply (per-recipient refusal)")

t.envelope(conn, "MT1", "news@brand.example", {"no@example.org"})
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt: continue")
t.headers(conn, t.newsletter_headers("news@brand.example"))
assert(mt.bodystring(conn, t.html) == nil)
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

-- Size limit: body chunks need no reply, so the error is kept, nothing
-- more is buffered, and end of message answers with the reason. With an
-- MTA that does not know the no-reply steps libmilter answers "continue"
-- for the filter, so the answer comes at the same point there too.
local chunk = string.rep("x", 1000) .. "\r\n"
local big = string.rep(chunk, 64)
local function size_limit(conn, qid, label)
	t.envelope(conn, qid, "news@brand.example", {"no@example.org"})
	t.headers(conn, t.newsletter_headers("news@brand.example"))
	local early = false
	for i = 1, 40 do
		assert(mt.bodystring(conn, big) == nil)
		early = early or mt.getreply(conn) ~= SMFIR_CONTINUE
	end
	t.check(not early, label .. ": no refusal before end of message")
	assert(mt.eom(conn) == nil)
	t.check(mt.getreply(conn) == SMFIR_REPLYCODE, label .. ": SMTP reply at end of message")
	t.check(mt.eom_check(conn, MT_SMTPREPLY, "552", "5.3.4", "consent-milter: message exceeds max_message_size"),
		label .. ": permanent 552 5.3.4 and the reason (on_error = tempfail: a retry cannot help)")
	-- the same connection takes the next message as usual
	local r = t.message(conn, qid .. "b", "news@brand.example", {"no@example.org"})
	t.check(r == SMFIR_CONTINUE, label .. ": next message accepted")
	t.check(mt.eom_check(conn, MT_BODYCHANGE), label .. ": next message rewritten")
end
size_limit(conn, "MT5", "size limit")
mt.disconnect(conn)

-- An MTA that offers neither NOCONNECT nor the no-reply steps: CONNECT is
-- sent and answered, every step is answered.
conn = mt.connect(t.sock, 50, 0.1)
assert(conn, "cannot connect")
assert(mt.negotiate(conn, 6, SMFIP_NOHELO + SMFIP_NOUNKNOWN + SMFIP_NODATA,
	SMFIF_ADDHDRS + SMFIF_CHGHDRS + SMFIF_CHGBODY) == nil)
t.check(not mt.test_option(conn, SMFIP_NOCONNECT), "classic MTA: CONNECT is sent")
assert(mt.conninfo(conn, "localhost", "127.0.0.1") == nil)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "classic MTA: connect: continue")
size_limit(conn, "MT5c", "classic MTA, size limit")
-- Too many header fields (the limit is 2000): the error found while the
-- headers arrive without replies is answered at end of message.
conn = t.connect()
t.envelope(conn, "MT5e", "news@brand.example", {"no@example.org"})
local hdrs = t.newsletter_headers("news@brand.example")
for i = 1, 2001 do
	table.insert(hdrs, {"X-Filler-" .. i, "x"})
end
t.headers(conn, hdrs)
assert(mt.bodystring(conn, t.html) == nil)
assert(mt.eom(conn) == nil)
t.check(mt.getreply(conn) == SMFIR_REPLYCODE, "too many header fields: SMTP reply at end of message")
t.check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.6.0", "consent-milter: too many header fields"),
	"too many header fields: permanent 554 5.6.0 and the reason")
t.check(not mt.eom_check(conn, MT_BODYCHANGE), "too many header fields: nothing rewritten")
r = t.message(conn, "MT5f", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "after too many header fields: next message accepted")
mt.disconnect(conn)

-- A reason that quotes the message (an undecodable charset, of a family
-- that is not ASCII-compatible, whose name holds a quote and a fake field)
-- is one clean field in the log and in the reply.
conn = t.connect()
r = t.message(conn, "MT5g", "news@brand.example", {"no@example.org"}, nil,
	"--b1\r\nContent-Type: text/html; charset=\"utf-16x\\\"y action=accept\"\r\n" ..
	"Content-Transfer-Encoding: 8bit\r\n\r\n<p>\xe9</p>\r\n--b1--\r\n")
t.check(r == SMFIR_REPLYCODE, "hostile charset name: SMTP reply")
mt.disconnect(conn)
local lf = io.open(os.getenv("MT_DIR") .. "/replies.err")
local logtext = lf and lf:read("*a") or ""
if lf then lf:close() end
local line = logtext:match("MT5g: error reason=[^\n]*") or ""
t.check(line:find("charset utf-16x y action=accept cannot be decoded", 1, true) ~= nil,
	"hostile charset name: quote scrubbed in the log line (" .. line .. ")")
t.check(select(2, line:gsub('"', "")) == 2, "hostile charset name: one quoted field in the log line")

-- MIME read one way by gmime and another by mail clients (a second
-- Content-Type): on_error with a reason naming the ambiguity, and a log line.
conn = t.connect()
r = t.message(conn, "MT5h", "news@brand.example", {"no@example.org"},
	{{"Content-Type", "text/plain"}})
t.check(r == SMFIR_REPLYCODE, "duplicate Content-Type: SMTP reply")
t.check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.6.0",
	"consent-milter: cannot rewrite message: ambiguous MIME structure: duplicate Content-Type fields with different values in the message header"),
	"duplicate Content-Type: permanent 554 5.6.0 and the reason (the same bytes stay ambiguous)")
t.check(not mt.eom_check(conn, MT_BODYCHANGE), "duplicate Content-Type: nothing rewritten")
mt.disconnect(conn)
lf = io.open(os.getenv("MT_DIR") .. "/replies.err")
logtext = lf and lf:read("*a") or ""
if lf then lf:close() end
t.check(logtext:find("MT5h: error reason=\"cannot rewrite message: ambiguous MIME structure: duplicate Content%-Type") ~= nil,
	"duplicate Content-Type: logged with its reason")

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
