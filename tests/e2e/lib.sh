# lib.sh - a private Postfix on loopback around consent-milter (sourced).
#
# Recipe: /work/shared/notes/postfix-e2e.md. Everything lives in one
# mktemp directory $P: Postfix config/queue/log, smtp-sink's dump files,
# the consent store, the token keys, the milter config, socket and log.
# e2e_cleanup (installed as an EXIT trap by e2e_setup) stops Postfix and
# kills smtp-sink and the milter even when a test fails.
#
# Two Postfix instances, both built from the shipped contrib/postfix
# snippets (contrib_snippet): the main one in $P/etc with main.cf.inline,
# the split one in $P/split/etc with main.cf.split + master.cf.split. Each
# has its own queue and pickup, so "sendmail -C DIR/etc" tests the layout.
#
# Ports (override with E2E_PORT_BASE): BASE+0 smtpd with the milter,
# BASE+1 smtp-sink, BASE+2 split front (no milter), BASE+3 split
# re-injection smtpd with the milter, BASE+10 consent-gate.
#
# Needs: root, postfix, smtp-sink, swaks; MILTER (binary), CONSENTCTL,
# RULES (tracker rules file).

E2E_PORT_BASE=${E2E_PORT_BASE:-2625}
PORT_MTA=$E2E_PORT_BASE
PORT_SINK=$((E2E_PORT_BASE + 1))
PORT_SPLIT=$((E2E_PORT_BASE + 2))
PORT_REINJ=$((E2E_PORT_BASE + 3))
PORT_GATE=$((E2E_PORT_BASE + 10))
GATE_URL=${GATE_URL:-http://127.0.0.1:$PORT_GATE}
SINK_PID=
MILTER_PID=
P=

MSGDIR=$SRCDIR/tests/e2e/msgs

# ---- assertions: one "ok"/"not ok" line each, counted in PASS/FAIL

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
has() { grep -q -F -- "$2" "$1"; }
hasnt() { ! grep -q -F -- "$2" "$1"; }
count_of() { grep -c -F -- "$2" "$1"; }

# mkmsg OUT DOMAIN RCPT MARKER [EXTRA-HEADERS] - the reference newsletter.
mkmsg() {
	local t
	t=$(<"$MSGDIR/newsletter.eml")
	t=${t//@DOMAIN@/$2}
	t=${t//@RCPT@/$3}
	t=${t//@MARKER@/$4}
	t=${t//@EXTRA@/${5:-}}
	printf '%s\n' "$t" >"$1"
}

log() { printf '%s\n' "$*" >&2; }
die() { log "e2e: $*"; exit 1; }

# wait_for SECONDS CMD... - poll CMD every 50 ms until it succeeds.
wait_for() {
	local limit=$1 i=0
	shift
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge $((limit * 20)) ] && return 1
		sleep 0.05
	done
}

# e2e_cannot_run SUITE WHY - a missing requirement: a skip (exit 0) said
# out loud, or a failure when E2E_REQUIRE=1 (CI, where a skip would hide
# that the suite never ran).
e2e_cannot_run() {
	if [ "${E2E_REQUIRE:-0}" = 1 ]; then
		echo "$1: cannot run: $2"
		exit 1
	fi
	echo "$1: SKIPPED, nothing tested: $2"
	exit 0
}

e2e_requirements() {
	[ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
	for c in postfix smtp-sink swaks postqueue sendmail; do
		command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
		command -v "$c" >/dev/null 2>&1 || { echo "missing $c"; return 1; }
	done
	[ -x "$MILTER" ] || { echo "missing $MILTER"; return 1; }
	return 0
}

# master.cf: Debian's, without the port-25 listener, no chroot, plus ours.
write_master_cf() {
	local src=/etc/postfix/master.cf
	[ -f "$src" ] || src=/usr/share/postfix/master.cf.dist
	awk '/^#/ || /^[ \t]/ || NF < 5 { print; next }
	     $1 == "smtp" && $2 == "inet" { next }
	     $1 == "postlog" { next }
	     { $5 = "n"; print }' "$src" >"$P/etc/master.cf"
	cat >>"$P/etc/master.cf" <<EOF
127.0.0.1:$PORT_MTA inet n - n - - smtpd
postlog unix-dgram n - n - 1 postlogd
EOF
}

# contrib_snippet FILE - a shipped contrib/postfix snippet made private:
# comments dropped, the socket moved to $P, no DKIM signer (none runs
# here), the re-injection port 10026 moved to PORT_REINJ, the front door
# "smtp inet" on 127.0.0.1:PORT_SPLIT, chroot off. The layouts under test
# are the shipped files, not a copy kept in the harness.
contrib_snippet() {
	sed -e '/^#/d' -e '/^$/d' \
	    -e "s#unix:/consent-milter/milter.sock#unix:$P/milter.sock#g" \
	    -e 's#, *inet:127\.0\.0\.1:8891##g' \
	    -e "s#:10026\\b#:$PORT_REINJ#g" "$SRCDIR/contrib/postfix/$1" |
	awk -v front="127.0.0.1:$PORT_SPLIT" '
	    /^[ \t]/ || NF < 5 || $2 == "=" { print; next }
	    $1 == "smtp" && $2 == "inet" { $1 = front }
	    { $5 = "n"; print }'
}

# write_main_cf [DIR] - main.cf of a private instance in DIR (default $P):
# loopback, relay everything to smtp-sink; the main instance adds the
# shipped main.cf.inline (write_split_instance adds main.cf.split).
write_main_cf() {
	local d=${1:-$P}
	cat >"$d/etc/main.cf" <<EOF
compatibility_level = 3.7
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.test.invalid
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
local_recipient_maps =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$PORT_SINK
alias_maps =
alias_database =
maillog_file_prefixes = $d
maillog_file = $d/maillog
message_size_limit = 20480000
smtp_connection_cache_on_demand = no
EOF
	[ "$d" != "$P" ] || contrib_snippet main.cf.inline >>"$d/etc/main.cf"
}

# write_split_instance - a second private Postfix in $P/split built from
# the shipped main.cf.split and master.cf.split (front door PORT_SPLIT,
# re-injection PORT_REINJ). Its own queue, so its pickup (sendmail -C
# $P/split/etc) follows the split layout.
write_split_instance() {
	local d=$P/split
	mkdir -p "$d/etc" "$d/spool" "$d/data"
	chown postfix "$d/data"
	write_main_cf "$d"
	contrib_snippet main.cf.split >>"$d/etc/main.cf"
	grep -v "^127.0.0.1:$PORT_MTA " "$P/etc/master.cf" >"$d/etc/master.cf"
	contrib_snippet master.cf.split >>"$d/etc/master.cf"
}

# pf_start DIR - check and start the private Postfix configured in DIR/etc.
pf_start() {
	postfix -c "$1/etc" check >"$1/postfix-check.log" 2>&1 ||
		{ cat "$1/postfix-check.log" >&2; die "postfix check failed ($1)"; }
	postfix -c "$1/etc" start >/dev/null 2>&1 || die "postfix start failed ($1)"
}

# write_milter_conf EXTRA - the milter configuration for the cases: one
# [domain] section per behaviour under test.
# The templates and rules are copied beside it, readable by everyone: the
# milter drops to E2E_USER and re-reads them on reload, and the source tree
# may sit in a directory only root can enter (a mktemp -d clone in CI).
write_milter_conf() {
	mkdir -p "$P/conf"
	cp "$SRCDIR"/conf/footer-* "$SRCDIR"/conf/request-* "$RULES" "$P/conf/"
	chmod 755 "$P/conf" && chmod 644 "$P"/conf/*
	cat >"$P/milter.conf" <<EOF
[milter]
socket = unix:$P/milter.sock
database = $P/db
user = ${E2E_USER-postfix}
on_error = tempfail
max_message_size = ${E2E_MAX_SIZE:-1M}
spool_threshold = 64K
spool_dir = $P/mspool
trace_header = yes
log_level = ${E2E_LOG_LEVEL:-info}
pid_file = $P/milter.pid
rules = $P/conf/${RULES##*/}
workers = 16

[gate]
url = $GATE_URL
keys = $P/keys
listen = 127.0.0.1:$PORT_GATE
metrics_listen = 127.0.0.1:0
threads = 2

[domain *]
mode = enforce
pixel_purposes = opens
clicks = consent
transactional = header:X-Mail-Class: transactional
auth = header:X-Mail-Class: auth
footer_html = $P/conf/footer-{language}.html
footer_text = $P/conf/footer-{language}.txt
request_html = $P/conf/request-{language}.html
request_text = $P/conf/request-{language}.txt
language = en

[domain brand.example]
controller = brand.example

[domain prefs.example]
controller = brand.example
consent_request_link = yes

[domain never.example]
controller = brand.example
mode = never-track

[domain monitor.example]
controller = brand.example
mode = monitor

[domain off.example]
controller = brand.example
mode = off

[domain skip.example]
controller = brand.example
dkim_signed = skip

[domain tempfail.example]
controller = brand.example
dkim_signed = tempfail

[domain monitor-tempfail.example]
controller = brand.example
mode = monitor
dkim_signed = tempfail

[domain esp.example]
controller = brand.example
esp_headers = yes
EOF
}

seed_store() {
	mkdir -p "$P/db"
	"$CONSENTCTL" --db "$P/db" grant brand.example yes@example.org opens clicks \
		--method admin --notice e2e >/dev/null || die "consentctl grant failed"
	"$CONSENTCTL" --db "$P/db" grant brand.example yes2@example.org opens clicks \
		--method admin --notice e2e >/dev/null || die "consentctl grant failed"
	"$CONSENTCTL" --db "$P/db" refuse brand.example no@example.org opens clicks \
		--method admin --notice e2e >/dev/null || die "consentctl refuse failed"
	chown -R postfix "$P/db"
}

write_keys() {
	printf '1 %s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$P/keys"
	chmod 600 "$P/keys"
	chown postfix "$P/keys"
}

start_sink() {
	smtp-sink -u postfix -d "$P/sink/%M." 127.0.0.1:$PORT_SINK 100 &
	SINK_PID=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_SINK" || die "smtp-sink did not start"
}

# start_milter - run consent-milter in the foreground, detached (setsid),
# logging to $P/milter.log; wait until its socket accepts.
start_milter() {
	rm -f "$P/milter.sock"
	setsid "$MILTER" -f -c "$P/milter.conf" 2>>"$P/milter.log" &
	MILTER_PID=$!
	wait_for 10 test -S "$P/milter.sock" && sleep 0.2 && kill -0 "$MILTER_PID" 2>/dev/null ||
		{ cat "$P/milter.log" >&2; die "milter did not start"; }
}

stop_milter() {
	[ -n "$MILTER_PID" ] || return 0
	kill "$MILTER_PID" 2>/dev/null
	wait_for 10 bash -c "! kill -0 $MILTER_PID" || kill -9 "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	MILTER_PID=
}

e2e_setup() {
	P=$(mktemp -d /tmp/cm-e2e.XXXXXX)
	trap e2e_cleanup EXIT
	chmod 755 "$P"
	mkdir -p "$P/etc" "$P/spool" "$P/data" "$P/sink" "$P/mspool"
	chown postfix "$P/data" "$P/sink" "$P/mspool"
	write_master_cf
	write_main_cf
	write_split_instance
	write_milter_conf
	write_keys
	seed_store
	start_sink
	start_milter
	pf_start "$P"
	pf_start "$P/split"
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_MTA" || die "postfix did not listen"
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_SPLIT" || die "split postfix did not listen"
}

e2e_cleanup() {
	local rc=$?
	local d
	for d in "$P" "$P/split"; do
		[ -n "$P" ] && [ -d "$d/etc" ] && postfix -c "$d/etc" stop >/dev/null 2>&1
	done
	stop_milter
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	SINK_PID=
	if [ -n "$P" ] && [ "${E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$P"
	elif [ -n "$P" ]; then
		log "e2e: kept $P"
	fi
	P=
	return $rc
}

# ---- sending and receiving

# send PORT FROM TO[,TO...] FILE - one SMTP transaction with swaks; the
# transcript goes to $P/swaks.out. Returns swaks' status.
send() {
	swaks --server 127.0.0.1:"$1" --from "$2" --to "$3" --data "@$4" \
		--timeout 30 >"$P/swaks.out" 2>&1
}

# queue_empty - nothing queued in the private instances (main, split).
queue_empty() {
	local d
	for d in "$P" "$P/split"; do
		[ -d "$d/etc" ] || continue
		postqueue -c "$d/etc" -p 2>/dev/null | grep -q 'Mail queue is empty' || return 1
	done
}

# sink_files MARKER - delivered dump files containing MARKER.
sink_files() {
	grep -l -F -- "$1" "$P"/sink/* 2>/dev/null
}

count_marker() {
	local n
	n=$(sink_files "$1" | wc -l)
	[ "$n" -ge "$2" ]
}

# wait_delivered MARKER N - until N dump files carry MARKER and the queue
# is empty (so nothing more is on its way).
wait_delivered() {
	local d
	for d in "$P" "$P/split"; do
		[ -d "$d/etc" ] && postqueue -c "$d/etc" -f >/dev/null 2>&1
	done
	wait_for 30 count_marker "$1" "$2" && wait_for 30 queue_empty
}

# marker_of MSG - the e2e-... marker at the end of a message's Subject:.
marker_of() { sed -n 's/^Subject: .* \(e2e-[a-z0-9-]*\)$/\1/p' "$1" | head -1; }

# save_copies CASE MARKER - each delivered copy carrying MARKER to
# $P/out.CASE.K, the first also to $P/out.CASE; prints how many.
save_copies() {
	local k=0 f
	for f in $(sink_files "$2"); do
		k=$((k + 1))
		message "$f" >"$P/out.$1.$k"
	done
	[ "$k" -gt 0 ] && cp "$P/out.$1.1" "$P/out.$1"
	echo "$k"
}

# message FILE - the delivered message without smtp-sink's pseudo-headers
# and its own Received: field; CR removed.
message() {
	tr -d '\r' <"$1" | awk '
	BEGIN { hdr = 1; skip = 0; rcvd = 0 }
	hdr && /^$/ { hdr = 0 }
	hdr && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):/ { skip = 1; next }
	hdr && /^Received:/ && !rcvd { rcvd = 1; skip = 1; next }
	hdr && /^[ \t]/ && skip { next }
	{ skip = 0; print }'
}

# strip_tail - drop trailing empty lines (smtp-sink adds one).
strip_tail() { sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
body_of() { message "$1" | sed '1,/^$/d' | strip_tail; }
# body_file MSG OUT - the body of a message we sent, comparable with body_of.
body_file() { sed '1,/^$/d' "$1" | strip_tail >"$2"; }
headers_of() { message "$1" | sed '/^$/,$d'; }
