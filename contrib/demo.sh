#!/usr/bin/env bash
# demo.sh - what "make demo" runs: the real thing on loopback.
#
# A private Postfix (tests/e2e/lib.sh, recipe of notes/postfix-e2e.md) runs
# consent-milter with conf/example.conf (paths pointed at this checkout and
# a private store); smtp-sink plays the outside world. The store holds one
# consenting recipient (alice@example.org: opens and clicks) and one who
# refused (bob@example.org). Every sample of conf/samples/ is sent to each
# of them, and the mail is shown as delivered.
#
# Needs root (Postfix). DEMO_FULL=1 prints whole messages instead of the
# headers that matter and the lines that changed; DEMO_WAIT=1 keeps
# everything running (with consent-gate for the links) until Enter.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
MILTER=${MILTER:-$SRCDIR/$B/consent-milter}
CONSENTCTL=${CONSENTCTL:-$SRCDIR/$B/consentctl}
RULES=$SRCDIR/conf/trackers.rules
export PATH=$PATH:/usr/sbin:/sbin
. "$SRCDIR/tests/e2e/lib.sh"

CONSENTING=alice@example.org
REFUSING=bob@example.org

if ! why=$(e2e_requirements); then
	echo "make demo: $why (run as root with the packages of contrib/debian-packages.txt)"
	exit 1
fi

# conf/example.conf with this checkout's paths and a private store/socket.
demo_conf() {
	sed -e "s#^socket = .*#socket = unix:$P/milter.sock#" \
		-e "s#^database = .*#database = $P/db#" \
		-e "s#^;user = .*#user = postfix#" \
		-e "s#^spool_dir = .*#spool_dir = $P/mspool#" \
		-e "s#^;pid_file = .*#pid_file = $P/milter.pid#" \
		-e "s#^keys = .*#keys = $P/keys#" \
		-e "s#^\(rules\|footer_html\|footer_text\|request_html\|request_text\) = \([^/].*\)#\1 = $SRCDIR/conf/\2#" \
		"$SRCDIR/conf/example.conf" >"$P/conf/milter.conf"
}

demo_store() {
	"$CONSENTCTL" --db "$P/db" grant brand.example "$CONSENTING" opens clicks \
		--method signup-form --notice demo-notice >/dev/null || die "consentctl grant failed"
	"$CONSENTCTL" --db "$P/db" refuse brand.example "$REFUSING" opens clicks \
		--method consent-page --notice demo-notice >/dev/null || die "consentctl refuse failed"
	chown -R postfix "$P/db"
}

demo_setup() {
	P=$(mktemp -d /tmp/cm-demo.XXXXXX)
	trap e2e_cleanup EXIT
	chmod 755 "$P"
	mkdir -p "$P/etc" "$P/spool" "$P/data" "$P/sink" "$P/mspool" "$P/db" "$P/conf"
	# conf/ belongs to the milter user: consent-gate, once it has dropped
	# privileges, writes its ready file and log beside the configuration.
	chown postfix "$P/data" "$P/sink" "$P/mspool" "$P/conf"
	write_master_cf
	write_main_cf
	demo_conf
	write_keys
	demo_store
	"$MILTER" -n -c "$P/conf/milter.conf" || die "the demo configuration does not check"
	ln -s "$P/conf/milter.conf" "$P/milter.conf"
	start_sink
	start_milter
	postfix -c "$P/etc" check >/dev/null 2>&1 && postfix -c "$P/etc" start >/dev/null 2>&1 ||
		die "postfix did not start"
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_MTA" || die "postfix did not listen"
}

# Show what matters in a delivered message: our headers, then the lines
# that differ from what was sent (long tokens shortened).
show() {
	local sent=$1 got=$2
	echo "    delivered headers:"
	grep -E '^(From|To|Subject|X-Consent-Milter|X-Mail-Class):' "$got" | cut -c1-220 | sed 's/^/      /'
	if [ "${DEMO_FULL:-0}" = 1 ]; then
		echo "    delivered message:"
		sed 's/^/      | /' "$got"
		return
	fi
	echo "    changed lines (- sent, + delivered):"
	diff <(sed '1,/^$/d' "$sent" | tr -d '\r') <(sed '1,/^$/d' "$got") |
		grep -E '^[<>]' | sed -E 's#(/[owcpda]/)[A-Za-z0-9_-]{24,}#\1<token>#g' |
		sed 's/^</      -/; s/^>/      +/' | cut -c1-200 | head -40
}

demo_send() {
	local sample=$1 rcpt=$2 n=$3 marker from
	marker="demo-$n-$(basename "$sample" .eml)"
	from=$(sed -n 's/^From:.*<\(.*\)>.*/\1/p; s/^From: *\([^< ]*@[^> ]*\) *$/\1/p' "$sample" | head -1)
	# A unique Message-ID lets us find the delivered copy; nothing else changes.
	sed "0,/^Message-ID:.*/s//Message-ID: <$marker@demo.invalid>/" "$sample" >"$P/in.$n"
	grep -q "^Message-ID: <$marker@" "$P/in.$n" ||
		sed -i "1i Message-ID: <$marker@demo.invalid>" "$P/in.$n"
	echo
	echo "== $(basename "$sample") -> $rcpt"
	if ! send "$PORT_MTA" "${from:-news@brand.example}" "$rcpt" "$P/in.$n"; then
		echo "    not accepted:"; grep '<\*\*' "$P/swaks.out" | sed 's/^/      /'
		return
	fi
	if ! wait_delivered "$marker" 1; then
		echo "    not delivered (see $P/maillog)"
		return
	fi
	message "$(sink_files "$marker" | head -1)" >"$P/out.$n"
	show "$P/in.$n" "$P/out.$n"
}

# consent-gate for the links in the delivered mail (gate/demo-gate.sh).
demo_gate() {
	local gate=$SRCDIR/$B/consent-gate
	[ -x "$gate" ] && [ -f "$SRCDIR/gate/demo-gate.sh" ] || return 0
	echo
	echo "== consent-gate"
	B=$B bash "$SRCDIR/gate/demo-gate.sh" "$P/conf/milter.conf" "$CONSENTING" brand.example |
		sed 's/^/  /'
}

demo_stop_gate() {
	[ -f "$P/conf/gate.pid" ] && kill "$(cat "$P/conf/gate.pid")" 2>/dev/null
	e2e_cleanup
}

demo_setup
trap demo_stop_gate EXIT
echo "consent-milter demo: Postfix on 127.0.0.1:$PORT_MTA -> consent-milter -> smtp-sink"
echo "store: $CONSENTING consents to opens+clicks for brand.example; $REFUSING refused"
n=0
for s in "$SRCDIR"/conf/samples/*.eml; do
	for r in "$CONSENTING" "$REFUSING"; do
		n=$((n + 1))
		demo_send "$s" "$r" "$n"
	done
done
echo
echo "== milter log (one line per message)"
sed 's/^/  /' "$P/milter.log"
demo_gate
if [ "${DEMO_WAIT:-0}" = 1 ]; then
	echo
	read -r -p "Postfix, consent-milter and consent-gate keep running; press Enter to stop. " _
fi
echo
echo "demo done: $n messages; everything stopped (DEMO_WAIT=1 keeps it running, E2E_KEEP=1 keeps $P)."
