#!/usr/bin/env bash
# run.sh - protocol-level checks of consent-milter with miltertest.
#
# Each *.lua script starts the milter itself (mt.startfilter) on a private
# unix socket with a configuration made here (the same one as the e2e
# cases: see tests/e2e/lib.sh), and checks replies, header changes,
# recipients and reload under traffic. Prints "N passed, N failed".
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
MILTER=${MILTER:-$SRCDIR/$B/consent-milter}
# Seeding the store is set-up, not the subject: prefer the plain build.
CONSENTCTL=${CONSENTCTL:-$SRCDIR/build/consentctl}
[ -x "$CONSENTCTL" ] || CONSENTCTL=$SRCDIR/$B/consentctl
RULES=${RULES:-$SRCDIR/conf/trackers.rules}
. "$SRCDIR/tests/e2e/lib.sh"

if ! command -v miltertest >/dev/null 2>&1; then
	[ "${E2E_REQUIRE:-0}" = 1 ] && { echo "miltertest: not installed"; exit 1; }
	echo "miltertest: skipped: not installed"
	exit 0
fi
[ "$(id -u)" = 0 ] || E2E_USER=
P=$(mktemp -d /tmp/cm-mt.XXXXXX)
cleanup() { [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$P"; }
trap cleanup EXIT
chmod 755 "$P"
mkdir -p "$P/mspool"
[ -n "${E2E_USER-postfix}" ] && chown postfix "$P/mspool"
write_milter_conf
sed -i "s#^socket = .*#socket = unix:$P/mt.sock#" "$P/milter.conf"
write_keys
seed_store
[ -n "${E2E_USER-postfix}" ] || chown -R "$(id -u)" "$P/db" "$P/keys"

pass=0
fail=0
for s in "$SRCDIR"/tests/miltertest/*.lua; do
	name=$(basename "$s" .lua)
	[ "$name" = common ] && continue
	cp "$P/milter.conf" "$P/milter.conf.orig"
	sock=unix:$P/mt.sock
	if [ "$name" = inet ]; then
		sock=inet:${MT_INET_PORT:-2699}@127.0.0.1
		sed -i "s#^socket = .*#socket = $sock#" "$P/milter.conf"
	fi
	if [ "$name" = metrics ]; then
		sed -i "/^socket = /a metrics_textfile = $P/mspool/metrics.prom\nmetrics_interval = 1" \
			"$P/milter.conf"
	fi
	# headlog.lua: the hourly ledger head line every second (test hook)
	interval=
	[ "$name" = headlog ] && interval=1
	CM_LEDGER_HEAD_INTERVAL=$interval \
	MT_MILTER=$MILTER MT_CONF=$P/milter.conf MT_SOCK=$sock MT_DIR=$P \
		MT_SRC=$SRCDIR/tests/miltertest \
		timeout 120 miltertest -s "$s" >"$P/$name.out" 2>"$P/$name.err"
	rc=$?
	cp "$P/milter.conf.orig" "$P/milter.conf"
	# the Grafana dashboard queries only series the milter really writes
	if [ "$name" = metrics ] && ! python3 "$SRCDIR/tests/grafana_check.py" \
		"$SRCDIR/contrib/grafana/consent-milter.json" consent_milter_ \
		"$P/mspool/metrics.prom"; then
		fail=$((fail + 1))
	fi
	grep -E '^(ok|not ok) - ' "$P/$name.out" | sed "s/^/$name: /"
	if [ $rc -eq 0 ] && grep -q '^FAILURES 0$' "$P/$name.out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "$name: FAILED (exit $rc)"
		tail -5 "$P/$name.err"
	fi
	if grep -q 'Sanitizer' "$P/$name.err"; then
		echo "$name: sanitizer report"; grep -A20 'Sanitizer' "$P/$name.err" | head -30
		fail=$((fail + 1))
	fi
done
echo "miltertest: $pass passed, $fail failed"
[ $fail -eq 0 ]
