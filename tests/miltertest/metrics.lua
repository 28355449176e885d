-- metrics.lua - [milter] metrics_textfile after real messages: two
-- no-consent newsletters (pixel stripped), one with consent (pixel kept);
-- the counts in the node_exporter textfile are exact, the histogram counts
-- every message, and no recipient address appears. run.sh sets
-- metrics_textfile = MT_DIR/mspool/metrics.prom, metrics_interval = 1.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. package.path
local t = require("common")

local path = t.dir .. "/mspool/metrics.prom"
local function read()
	local f = io.open(path)
	if not f then return "" end
	local s = f:read("*a")
	f:close()
	return s
end
local function value(text, series)
	local i, j = text:find("\n" .. series .. " ", 1, true)
	if not i then return nil end
	return tonumber(text:match("^(%S+)", j + 1))
end

local conn = t.start()
t.conninfo(conn)
mt.sleep(0.2)
t.check(value("\n" .. read(), "consent_milter_rewrite_seconds_count") == 0,
	"textfile written at start, histogram empty")
t.message(conn, "MX1", "news@brand.example", {"no@example.org"})
t.message(conn, "MX2", "news@brand.example", {"no@example.org"})
t.message(conn, "MX3", "news@brand.example", {"yes@example.org"})
mt.sleep(2.5)
local m = "\n" .. read()
local function is(series, want)
	local got = value(m, series)
	t.check(got == want, series .. " = " .. tostring(want) .. " (got " .. tostring(got) .. ")")
end
is('consent_milter_messages_total{decision="no-consent",class="marketing"}', 2)
is('consent_milter_messages_total{decision="consent",class="marketing"}', 1)
is('consent_milter_messages_total{decision="error",class="unknown"}', 0)
is('consent_milter_trackers_total{action="stripped"}', 2)
is('consent_milter_trackers_total{action="gated"}', 1)
is('consent_milter_rewrite_seconds_count', 3)
is('consent_milter_rewrite_seconds_bucket{le="+Inf"}', 3)
is('consent_milter_errors_total{kind="internal",action="tempfail"}', 0)
t.check(m:find("# TYPE consent_milter_rewrite_seconds histogram", 1, true) ~= nil,
	"histogram typed")
t.check(m:find("@", 1, true) == nil, "no address in the metrics")
mt.disconnect(conn)
t.done()
