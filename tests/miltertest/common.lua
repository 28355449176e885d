-- common.lua - helpers shared by the consent-milter miltertest scripts.
--
-- Environment (set by run.sh): MT_MILTER (binary), MT_CONF (config file),
-- MT_SOCK (the milter's socket: unix:/path or inet:PORT@HOST), MT_DIR
-- (work directory).

local M = {}

M.milter = os.getenv("MT_MILTER")
M.conf = os.getenv("MT_CONF")
M.sock = os.getenv("MT_SOCK")
M.dir = os.getenv("MT_DIR")

local failures = 0

function M.check(cond, what)
	if cond then
		mt.echo("ok - " .. what)
	else
		mt.echo("not ok - " .. what)
		failures = failures + 1
	end
end

function M.done()
	mt.echo("FAILURES " .. failures)
	if failures > 0 then
		error(failures .. " check(s) failed")
	end
end

-- start the filter in the foreground and connect to it
function M.start()
	if string.sub(M.sock, 1, 5) == "unix:" then
		os.remove(string.sub(M.sock, 6))
	end
	mt.startfilter(M.milter, "-f", "-c", M.conf)
	local conn = mt.connect(M.sock, 50, 0.1)
	assert(conn, "cannot connect to " .. M.sock)
	return conn
end

-- connection details, unless the filter asked the MTA not to send them
-- (SMFIP_NOCONNECT; mt.conninfo refuses then)
function M.conninfo(conn)
	if not mt.test_option(conn, SMFIP_NOCONNECT) then
		assert(mt.conninfo(conn, "localhost", "127.0.0.1") == nil, "conninfo failed")
	end
end

function M.connect()
	local conn = mt.connect(M.sock, 50, 0.1)
	assert(conn, "cannot connect to " .. M.sock)
	M.conninfo(conn)
	return conn
end

-- envelope: sender and a list of recipients; qid becomes macro "i"
function M.envelope(conn, qid, from, rcpts)
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	assert(mt.mailfrom(conn, "<" .. from .. ">") == nil, "mailfrom failed")
	for _, r in ipairs(rcpts) do
		assert(mt.rcptto(conn, "<" .. r .. ">") == nil, "rcptto failed")
	end
end

-- headers: list of {name, value}; then eoh
function M.headers(conn, hdrs)
	for _, h in ipairs(hdrs) do
		assert(mt.header(conn, h[1], h[2]) == nil, "header failed")
	end
	assert(mt.eoh(conn) == nil, "eoh failed")
end

M.html = "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" ..
	"<html><body><p>Hello</p>" ..
	"<img src=\"https://brand.us1.list-manage.com/track/open.php?u=abc&amp;id=def&amp;e=1a2b\" width=\"1\" height=\"1\">" ..
	"</body></html>\r\n--b1--\r\n"

function M.newsletter_headers(from, extra)
	local h = {
		{"From", "Brand <" .. from .. ">"},
		{"To", "someone@example.org"},
		{"Subject", "news"},
		{"Message-ID", "<mt-1@brand.example>"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=\"b1\""},
	}
	for _, x in ipairs(extra or {}) do
		table.insert(h, x)
	end
	return h
end

-- one whole message; returns the eom reply
function M.message(conn, qid, from, rcpts, extra, body)
	M.envelope(conn, qid, from, rcpts)
	M.headers(conn, M.newsletter_headers(from, extra))
	assert(mt.bodystring(conn, body or M.html) == nil, "body failed")
	assert(mt.eom(conn) == nil, "eom failed")
	return mt.getreply(conn)
end

return M
