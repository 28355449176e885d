-- inet.lua - the same milter on a TCP socket (inet:PORT@127.0.0.1):
-- run.sh points [milter] socket at it for this script.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

t.check(string.sub(t.sock, 1, 5) == "inet:", "socket is inet: (" .. t.sock .. ")")
local conn = t.start()
t.conninfo(conn)
local r = t.message(conn, "IN1", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "inet: accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "inet: body rewritten")
t.check(mt.eom_check(conn, MT_HDRADD, "X-Consent-Milter"), "inet: trace header added")
mt.disconnect(conn)
t.done()
