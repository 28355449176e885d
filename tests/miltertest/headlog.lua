-- headlog.lua - the milter logs the ledger head ("ledger head seq=N
-- hash=H" at info) at start and then once per interval, so that a record
-- of it exists outside the store for `consentctl verify --expect`. run.sh
-- sets the interval to 1 s for this script (CM_LEDGER_HEAD_INTERVAL).
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local conn = t.start()
t.conninfo(conn)
mt.sleep(2.5)
local lf = io.open(t.dir .. "/headlog.err")
local logtext = lf and lf:read("*a") or ""
if lf then lf:close() end
local n, last = 0, nil
for seq, hash in logtext:gmatch("info: ledger head seq=(%d+) hash=(%x+)\n") do
	if #hash == 64 then
		n = n + 1
		last = seq
	end
end
t.check(n >= 2, "ledger head logged at start and again after the interval (" .. n .. " lines)")
t.check(last ~= nil and tonumber(last) > 0, "the logged head is the seeded store's (seq " .. tostring(last) .. ")")
mt.disconnect(conn, false)
t.done()
