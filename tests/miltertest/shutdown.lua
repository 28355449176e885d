-- shutdown.lua - SIGTERM with a message in progress. libmilter stops
-- serving and returns from smfi_main without waiting for open sessions;
-- consent-milter then waits only for an end of message still running (it
-- reads the consent store), not for idle connections.
-- The MTA temp-fails the abandoned message (milter_default_action).
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

-- anchored on the binary's path: the shell running pgrep has the same
-- words in its own command line
local pattern = "'^" .. t.milter .. " -f -c " .. t.conf .. "$'"
local function running()
	local r = os.execute("pgrep -f " .. pattern .. " >/dev/null")
	return r == true or r == 0
end

local conn = t.start()
t.conninfo(conn)
t.envelope(conn, "SD1", "news@brand.example", {"no@example.org"})
t.headers(conn, t.newsletter_headers("news@brand.example"))
assert(mt.bodystring(conn, t.html) == nil)
t.check(running(), "milter running before SIGTERM")
os.execute("pkill -TERM -f " .. pattern)
local gone = false
for i = 1, 90 do
	mt.sleep(0.1)
	if not running() then gone = true; break end
end
t.check(gone, "SIGTERM with a connection open: exits within 9 s (libmilter itself takes up to about 5 s to notice)")
local lf = io.open(os.getenv("MT_DIR") .. "/shutdown.err")
local logtext = lf and lf:read("*a") or ""
if lf then lf:close() end
t.check(logtext:find("info: stop", 1, true) ~= nil, "SIGTERM: stop logged")
t.check(logtext:find("still being processed", 1, true) == nil, "SIGTERM: no end of message cut off")
mt.disconnect(conn, false)
t.done()
