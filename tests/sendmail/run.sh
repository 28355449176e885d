#!/usr/bin/env bash
# run.sh - consent-milter end to end through a real Sendmail 8.17.
#
# Debian's sendmail-bin conflicts with postfix, so it is never installed:
# the .debs are fetched with "apt-get download" into $B/sendmail/ (kept as
# a cache) and unpacked there; the MTA runs from that tree as root on
# loopback with a private sendmail.cf built with m4 from Debian's
# sendmail-cf and the shipped contrib/sendmail/consent-milter.mc (only its
# socket path is replaced), so the snippet itself is under test. Sendmail
# relays everything to smtp-sink; the cases read what it received.
#
# Ports: SM_PORT_BASE (default E2E_PORT_BASE + 50, else 2675): +0 Sendmail,
# +1 smtp-sink. Needs root, apt-get (or the cache), m4, libwrap0, swaks,
# smtp-sink. A missing piece is a loud skip, or a failure with E2E_REQUIRE=1.
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
MILTER=${MILTER:-$SRCDIR/$B/consent-milter}
CONSENTCTL=${CONSENTCTL:-$SRCDIR/build/consentctl}
[ -x "$CONSENTCTL" ] || CONSENTCTL=$SRCDIR/$B/consentctl
RULES=${RULES:-$SRCDIR/conf/trackers.rules}
SNIPPET=$SRCDIR/contrib/sendmail/consent-milter.mc
SNIPPET_SOCK=unix:/run/consent-milter/milter.sock
SM_CACHE=${SM_CACHE:-$SRCDIR/$B/sendmail}
SM_ROOT=$SM_CACHE/root
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_PID=
export PATH=$PATH:/usr/sbin:/sbin
E2E_PORT_BASE=${SM_PORT_BASE:-$((${E2E_PORT_BASE:-2625} + 50))}
. "$SRCDIR/tests/e2e/lib.sh"

# fetch_sendmail - the unpacked Sendmail in $SM_ROOT; prints why not.
fetch_sendmail() {
	[ -x "$SM_BIN" ] && return 0
	mkdir -p "$SM_CACHE"
	# apt-get download drops privileges to _apt, who cannot write a 0700
	# build tree: download in a world-readable temporary directory.
	local d
	d=$(mktemp -d /tmp/cm-sm-debs.XXXXXX) && chmod 755 "$d" || { echo "mktemp failed"; return 1; }
	if ! (cd "$d" && apt-get download sendmail-bin sendmail-base sendmail-cf) >"$SM_CACHE/download.log" 2>&1; then
		rm -rf "$d"
		echo "apt-get download sendmail-bin sendmail-base sendmail-cf failed (no network or no apt sources?): $(tail -1 "$SM_CACHE/download.log")"
		return 1
	fi
	local f
	for f in "$d"/*.deb; do
		dpkg-deb -x "$f" "$SM_ROOT" || { rm -rf "$d"; echo "dpkg-deb -x $f failed"; return 1; }
	done
	rm -rf "$d"
	[ -x "$SM_BIN" ] || { echo "no $SM_BIN in the unpacked packages"; return 1; }
}

sm_requirements() {
	[ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
	local c
	for c in m4 swaks smtp-sink apt-get dpkg-deb; do
		command -v "$c" >/dev/null 2>&1 || { echo "missing $c (contrib/install-deps.sh)"; return 1; }
	done
	[ -x "$MILTER" ] || { echo "missing $MILTER"; return 1; }
	unshare --uts true 2>/dev/null || { echo "unshare --uts fails (Sendmail needs a qualified host name)"; return 1; }
	fetch_sendmail || return 1
	if ldd "$SM_BIN" | grep -q 'not found'; then
		echo "sendmail's libraries missing: $(ldd "$SM_BIN" | grep 'not found' | tr -s ' \t' ' ') (contrib/install-deps.sh installs libwrap0)"
		return 1
	fi
}

# write_sendmail_mc - our private .mc: everything under $P, relay to the
# sink, then the shipped snippet with the socket moved into $P.
write_sendmail_mc() {
	local cf=$SM_ROOT/usr/share/sendmail/cf
	grep -q -F "S=$SNIPPET_SOCK," "$SNIPPET" || die "$SNIPPET no longer names $SNIPPET_SOCK"
	sed "s#S=$SNIPPET_SOCK,#S=unix:$P/milter.sock,#" "$SNIPPET" >"$P/consent-milter.mc"
	printf 'hosts files\naliases files\n' >"$P/service.switch"
	cat >"$P/sm.mc" <<EOF
divert(-1)
include(\`$cf/m4/cf.m4')dnl
divert(0)dnl
VERSIONID(\`consent-milter test')dnl
OSTYPE(\`linux')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDOMAIN_NAME', \`mta.test.invalid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$P/service.switch')dnl
define(\`QUEUE_DIR', \`$P/queue')dnl
define(\`STATUS_FILE', \`$P/statistics')dnl
define(\`ALIAS_FILE', \`$P/aliases')dnl
define(\`confPID_FILE', \`$P/sm.pid')dnl
define(\`confCW_FILE', \`-o $P/local-host-names')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $PORT_SINK')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $PORT_SINK')dnl
DAEMON_OPTIONS(\`Port=$PORT_MTA, Addr=127.0.0.1, Name=MTA')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
MAILER(\`smtp')dnl
EOF
	cat "$P/consent-milter.mc" >>"$P/sm.mc"
}

start_sendmail() {
	mkdir -p "$P/queue"
	chmod 700 "$P/queue"
	: >"$P/aliases"
	: >"$P/statistics"
	write_sendmail_mc
	m4 "$P/sm.mc" >"$P/sm.cf" 2>"$P/m4.log" || { cat "$P/m4.log" >&2; die "m4 failed"; }
	grep -q "^Xconsent-milter, S=unix:$P/milter.sock," "$P/sm.cf" ||
		die "the snippet's filter is not in sm.cf: $(grep '^X' "$P/sm.cf")"
	# Sendmail sleeps 60 s at start when it cannot qualify the host name
	# ("vm" with no domain, as in many containers): give it a qualified
	# one in a private UTS namespace.
	setsid unshare --uts sh -c 'hostname mta.test.invalid && exec "$0" "$@"' \
		"$SM_BIN" -C "$P/sm.cf" -bD -q30m >>"$P/sm.log" 2>&1 &
	SM_PID=$!
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_MTA" ||
		{ cat "$P/sm.log" >&2; die "sendmail did not listen on $PORT_MTA"; }
}

sm_cleanup() {
	local rc=$?
	if [ -n "$SM_PID" ]; then
		kill "$SM_PID" 2>/dev/null
		wait "$SM_PID" 2>/dev/null
	fi
	SM_PID=
	stop_milter
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	SINK_PID=
	if [ -n "$P" ] && [ "${E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$P"
	elif [ -n "$P" ]; then
		log "sendmail: kept $P"
	fi
	P=
	return $rc
}

sm_setup() {
	# Sendmail refuses a milter socket below a world-writable directory
	# (/tmp): the work directory lives in /run, root's and 0755.
	P=$(mktemp -d /run/cm-sm.XXXXXX) || die "mktemp failed"
	trap sm_cleanup EXIT
	chmod 755 "$P"
	mkdir -p "$P/sink" "$P/mspool"
	chown postfix "$P/sink" "$P/mspool"
	write_milter_conf
	write_keys
	seed_store
	start_sink
	start_milter
	start_sendmail
}

# sm_deliver CASE FROM TO MSG N - send through Sendmail, wait for N copies
# at the sink, save them to $P/out.CASE.K (the first also to out.CASE).
sm_deliver() {
	local c=$1 marker
	marker=$(marker_of "$4")
	send "$PORT_MTA" "$2" "$3" "$4" || { nok "$c: swaks failed: $(tail -3 "$P/swaks.out")"; return 1; }
	wait_for 30 count_marker "$marker" "$5" || { nok "$c: not delivered"; return 1; }
	sleep 0.3
	check "$c: exactly $5 delivered" test "$(save_copies "$c" "$marker")" -eq "$5"
}

case_consent() {
	mkmsg "$P/in.c" brand.example yes@example.org e2e-sm-consent
	sm_deliver consent news@brand.example yes@example.org "$P/in.c" 1 || return
	local o=$P/out.consent
	check "sendmail consent: pixel gated" has "$o" "$GATE_URL/o/"
	check "sendmail consent: click wrapper gated" has "$o" "$GATE_URL/c/"
	check "sendmail consent: no raw tracker left" hasnt "$o" "track/open.php"
	check "sendmail consent: footer with a withdrawal link" has "$o" "$GATE_URL/w/"
	check "sendmail consent: trace header says consent" grep -q '^X-Consent-Milter: 2; decision=consent' "$o"
	check "sendmail consent: log line carries Sendmail's queue id" \
		grep -Eq '^consent-milter: info: [0-9A-Za-z]{8,}: rewrite controller=brand.example decision=consent' "$P/milter.log"
}

case_no_consent() {
	mkmsg "$P/in.n" brand.example no@example.org e2e-sm-noconsent
	sm_deliver noconsent news@brand.example no@example.org "$P/in.n" 1 || return
	local o=$P/out.noconsent
	check "sendmail no-consent: open pixel removed" hasnt "$o" "track/open.php"
	check "sendmail no-consent: SES link unwrapped" hasnt "$o" "awstrack.me"
	check "sendmail no-consent: unwrapped destination present" has "$o" "https://shop.brand.example/sale?id=7"
	check "sendmail no-consent: nothing gated" hasnt "$o" "$GATE_URL/"
	check "sendmail no-consent: trace header says no-consent" grep -q '^X-Consent-Milter: 2; decision=no-consent' "$o"
}

# SPEC §4.5: one transaction, one body; the strictest result for all.
case_two_recipients() {
	mkmsg "$P/in.t" brand.example yes@example.org e2e-sm-tworcpt
	sm_deliver two news@brand.example yes@example.org,no@example.org "$P/in.t" 1 || return
	local f
	f=$(sink_files e2e-sm-tworcpt | head -1)
	check "sendmail two recipients: one transaction for both" test "$(grep -c '^X-Rcpt-Args:' "$f")" -eq 2
	check "sendmail two recipients: strictest, pixel stripped" hasnt "$P/out.two" "track/open.php"
	check "sendmail two recipients: strictest, nothing gated" hasnt "$P/out.two" "$GATE_URL/"
	check "sendmail two recipients: strictest, no footer" hasnt "$P/out.two" "/w/"
	check "sendmail two recipients: trace header says strictest" \
		grep -q '^X-Consent-Milter: 2; decision=strictest.*rcpts=2' "$P/out.two"
}

# The snippet's F=T: with the milter down Sendmail must delay the mail
# (4xx), never pass it unfiltered.
case_milter_down() {
	stop_milter
	mkmsg "$P/in.d" brand.example no@example.org e2e-sm-down
	send "$PORT_MTA" news@brand.example no@example.org "$P/in.d"
	check "sendmail milter down: tempfail 4xx (F=T)" grep -Eq '<\*\* +4[0-9][0-9] ' "$P/swaks.out"
	check "sendmail milter down: no 2xx to the message" bash -c "! grep -Eq '<- +250 .*(queued|Message accepted)' '$P/swaks.out'"
	sleep 1
	check "sendmail milter down: nothing delivered" test -z "$(sink_files e2e-sm-down)"
	start_milter
	sm_deliver down news@brand.example no@example.org "$P/in.d" 1 || return
	check "sendmail milter back: the retried message is rewritten" hasnt "$P/out.down" "track/open.php"
}

main() {
	local why
	why=$(sm_requirements) || e2e_cannot_run sendmail "$why"
	[ -f "$RULES" ] || die "no rules file $RULES"
	sm_setup
	local c
	for c in ${SM_CASES:-consent no_consent two_recipients milter_down}; do
		"case_$c"
	done
	check "sendmail: no sanitizer report in the milter log" bash -c "! grep -q 'Sanitizer' '$P/milter.log'"
	echo "sendmail: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

main "$@"
