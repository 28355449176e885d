-- mt_lib.lua - helpers of the hostile-input miltertest scripts: the
-- milter's pid (pid_file), its peak RSS (VmHWM), a large HTML file, the
-- trace header of one message for one recipient.
package.path = os.getenv("MT_SRC") .. "/?.lua;" .. os.getenv("MT_HOSTILE") .. "/?.lua;" .. package.path
local t = require("common")
local M = {}

function M.pid_of()
	for _ = 1, 50 do
		local f = io.open(t.dir .. "/milter.pid", "r")
		if f then
			M.pid = f:read("n")
			f:close()
			if M.pid then return M.pid end
		end
		mt.sleep(0.1)
	end
	error("no pid file")
end

-- peak resident set of the milter, KiB
function M.hwm()
	local f = assert(io.open("/proc/" .. M.pid .. "/status", "r"))
	local s = f:read("a")
	f:close()
	return tonumber(s:match("VmHWM:%s*(%d+)"))
end

function M.alive()
	local f = io.open("/proc/" .. M.pid .. "/status", "r")
	if f then f:close() end
	return f ~= nil
end

function M.size(path)
	local f = assert(io.open(path, "rb"))
	local n = f:seek("end")
	f:close()
	return n
end

-- MB of HTML paragraphs with a 1 MB attribute each, the pixel at the end
function M.big_html(mb, pixel)
	local path = t.dir .. "/big.html"
	local f = assert(io.open(path, "wb"))
	local attr = string.rep("A", 1048576)
	for i = 1, tonumber(mb) do
		f:write("<p title=\"", attr, "\">", i, "</p>\r\n")
	end
	f:write("<p>end</p>", pixel, "\r\n")
	f:close()
	return path
end

-- SPEC §7: the peak over the base at most 4x the message plus 8 MiB
function M.rss_check(what, base, bytes)
	local peak, limit = M.hwm(), base + 8192 + 4 * bytes // 1024
	if os.getenv("MT_ASAN") == "1" then return end
	t.check(peak <= limit, string.format("%s: milter peak RSS %d KB for %d KB (base %d KB, limit %d KB)",
		what, peak, bytes // 1024, base, limit))
end

-- body text in chunks libmilter takes (65535 bytes at most)
function M.body(conn, s)
	for i = 1, #s, 65535 do
		assert(mt.bodystring(conn, s:sub(i, i + 65534)) == nil, "body failed")
	end
end

-- body bytes through files: mt.bodystring stops at a NUL byte, and
-- mt.bodyfile sends a file as one chunk
function M.body_bytes(conn, s)
	local path = t.dir .. "/body.bin"
	for i = 1, #s, 65535 do
		local f = assert(io.open(path, "wb"))
		f:write(s:sub(i, i + 65534))
		f:close()
		assert(mt.bodyfile(conn, path) == nil, "bodyfile failed")
	end
	os.remove(path)
end

-- a file's bytes as body, in chunks
function M.body_file(conn, path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	M.body_bytes(conn, s)
end

-- one newsletter for one recipient; returns reply and trace header
function M.decide(conn, qid, rcpt)
	local r = t.message(conn, qid, "news@brand.example", {rcpt})
	return r, mt.getheader(conn, "X-Consent-Milter", 0) or ""
end

return M
