-- reload.lua - SIGUSR1 under traffic: a connection in flight keeps its
-- snapshot; new connections see the new configuration; a bad file is
-- refused and mail keeps flowing.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")
local SIGUSR1 = 10

local function write(path, text)
	local f = assert(io.open(path, "w"))
	f:write(text)
	f:close()
end
local function read(path)
	local f = assert(io.open(path, "r"))
	local s = f:read("a")
	f:close()
	return s
end

local good = read(t.conf)
local conn = t.start()
t.conninfo(conn)

-- A message in flight when the configuration changes.
t.envelope(conn, "RL1", "news@brand.example", {"no@example.org"})
t.headers(conn, t.newsletter_headers("news@brand.example"))
local off = good:gsub("%[domain brand%.example%]\n", "[domain brand.example]\nmode = off\n")
assert(off ~= good, "cannot make the mode = off variant")
write(t.conf, off)
mt.signal(SIGUSR1)
mt.sleep(0.5)
assert(mt.bodystring(conn, t.html) == nil)
assert(mt.eom(conn) == nil)
t.check(mt.eom_check(conn, MT_BODYCHANGE), "in flight: keeps the snapshot it started with")

-- A new connection sees mode = off for brand.example.
local c2 = t.connect()
t.message(c2, "RL2", "news@brand.example", {"no@example.org"})
t.check(not mt.eom_check(c2, MT_BODYCHANGE), "new connection: new configuration")
mt.disconnect(c2)

-- A bad configuration is refused: the last good one keeps running.
write(t.conf, off .. "\nthis is not ini\n")
mt.signal(SIGUSR1)
mt.sleep(0.5)
local c3 = t.connect()
t.message(c3, "RL3", "news@brand.example", {"no@example.org"})
t.check(not mt.eom_check(c3, MT_BODYCHANGE), "bad file refused: previous configuration (off) still active")
mt.disconnect(c3)

-- Traffic with reloads in between: every message gets an answer.
write(t.conf, good)
mt.signal(SIGUSR1)
mt.sleep(0.5)
local answered = 0
for i = 1, 30 do
	if i % 5 == 0 then mt.signal(SIGUSR1) end
	local c = t.connect()
	local r = t.message(c, "RT" .. i, "news@brand.example", {"no@example.org"})
	if r == SMFIR_CONTINUE and mt.eom_check(c, MT_BODYCHANGE) then
		answered = answered + 1
	end
	mt.disconnect(c)
end
t.check(answered == 30, "30 messages under 6 reloads all rewritten (" .. answered .. ")")
mt.disconnect(conn)
t.done()
