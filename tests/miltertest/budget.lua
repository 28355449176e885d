-- budget.lua - the memory budget all workers share ([milter] max_memory):
-- a message whose share (4x its size + 8 MiB) is larger than the whole
-- budget gets on_error with the reason; with room, mail flows. (Waiting for
-- a share and timing out is tested in milter-unit: budget.)
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")
local SIGUSR1 = 10

local function write(path, text)
	local f = assert(io.open(path, "w"))
	f:write(text)
	f:close()
end
local f = assert(io.open(t.conf, "r"))
local good = f:read("a")
f:close()
local small, n = good:gsub("%[milter%]\n", "[milter]\nmax_memory = 4M\n", 1)
assert(n == 1, "cannot make the max_memory variant")
write(t.conf, small)

local conn = t.start()
local r = t.message(conn, "BG1", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_REPLYCODE, "share larger than max_memory: SMTP reply")
t.check(mt.eom_check(conn, MT_SMTPREPLY, "552", "5.3.4",
	"consent-milter: message needs more memory than max_memory"),
	"share larger than max_memory: permanent 552 5.3.4 and the reason (a retry cannot fit either)")
t.check(not mt.eom_check(conn, MT_BODYCHANGE), "share larger than max_memory: nothing rewritten")
mt.disconnect(conn)

write(t.conf, (good:gsub("%[milter%]\n", "[milter]\nmax_memory = 9M\n", 1)))
mt.signal(SIGUSR1)
mt.sleep(1)
conn = t.connect()
r = t.message(conn, "BG2", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "share within max_memory: accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "share within max_memory: rewritten")
r = t.message(conn, "BG3", "news@brand.example", {"no@example.org"})
t.check(r == SMFIR_CONTINUE, "share given back: the next message fits too")
mt.disconnect(conn)
t.done()
