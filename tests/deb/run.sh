#!/usr/bin/env bash
# run.sh - the Debian packages, from build to purge, on this machine.
#
# Takes the packages make deb left in $B/deb/ and: lints them (lintian:
# no error or warning); installs them with apt-get; checks what postinst
# made (system user, conffiles, keys, state and socket directories);
# verifies the installed units (systemd-analyze verify); starts both
# daemons exactly as their units' ExecStartPre/ExecStart lines say (no
# systemd as PID 1 here), the milter in a private mount namespace whose
# /dev/log is a test listener, so the syslog lines and their facility are
# seen; sends a message through a private Postfix on loopback
# (tests/e2e/lib.sh) to the installed socket; reloads (ExecReload);
# then purges and checks nothing is left. The EXIT trap purges even when
# a check fails: the packages never stay installed.
#
# Needs root, apt-get, lintian, postfix, swaks. Without them it says so and
# exits 0, unless DEB_REQUIRE=1. Ports: E2E_PORT_BASE+20.. (+20 smtpd,
# +21 smtp-sink, +30 the packaged gate).
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
DEBDIR=$SRCDIR/$B/deb
PKGS="consent-milter consent-gate consent-sync consent-milter-common"
UNITS="/lib/systemd/system/consent-milter.service /lib/systemd/system/consent-gate.service"
CONF=/etc/consent-milter/consent-milter.conf
SOCK=/var/spool/postfix/consent-milter/milter.sock
export PATH=$PATH:/usr/sbin:/sbin
E2E_PORT_BASE=$(( ${E2E_PORT_BASE:-2625} + 20 ))
PORT_PKG_GATE=$((E2E_PORT_BASE + 10))
. "$SRCDIR/tests/e2e/lib.sh"

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; return 1; fi
}

skip() {
	echo "deb: skipped: $*"
	[ "${DEB_REQUIRE:-0}" = 1 ] && exit 1
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (installs packages)"
for c in apt-get lintian postfix swaks smtp-sink unshare python3 systemd-analyze; do
	command -v "$c" >/dev/null 2>&1 || skip "missing $c"
done
ls "$DEBDIR"/consent-milter_*.deb >/dev/null 2>&1 || { echo "deb: no packages in $DEBDIR (make deb)"; exit 1; }
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		echo "deb: $p is already installed here; not touching it"
		exit 1
	fi
done

T=$(mktemp -d /tmp/cm-deb-test.XXXXXX)
LISTENER_PID=
GATE_PID=
INSTALLED=0

# ---- clean-up: daemons, Postfix, packages, always

stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait_for 10 bash -c "! kill -0 $1" || kill -9 "$1" 2>/dev/null
}

purge() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $PKGS >"$T/purge.log" 2>&1
}

cleanup() {
	local rc=$?
	[ -n "$P" ] && [ -d "$P/etc" ] && postfix -c "$P/etc" stop >/dev/null 2>&1
	stop_pid "$MILTER_PID"
	stop_pid "$GATE_PID"
	stop_pid "$SINK_PID"
	stop_pid "$LISTENER_PID"
	[ "$INSTALLED" = 1 ] && { purge || cat "$T/purge.log" >&2; }
	[ -n "$P" ] && rm -rf "$P"
	rm -rf "$T"
	return $rc
}
trap cleanup EXIT

# ---- build products

# as the README installs them: every .deb in build/deb (debug symbols are
# in build/deb/dbgsym)
debs=$(ls "$DEBDIR"/*.deb)
[ "$(echo $debs | wc -w)" = 4 ] || { echo "deb: expected 4 packages (milter, gate, sync, common) in $DEBDIR: $debs"; exit 1; }
check "lintian: no error or warning (overrides in debian/*.lintian-overrides)" \
	lintian --fail-on error,warning $debs

# ---- install

install_pkgs() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debs \
		>"$T/install.log" 2>&1
}
if install_pkgs; then
	INSTALLED=1
	ok "apt-get install ./consent-*.deb"
else
	INSTALLED=1
	tail -20 "$T/install.log"
	nok "apt-get install ./consent-*.deb"
	exit 1
fi

uid=$(id -u consent-milter 2>/dev/null || echo none)
check "postinst: a system user consent-milter" test "$uid" != none -a "${uid:-1000}" -lt 1000
check "postinst: keys made, 0600, owned by the user" \
	test "$(stat -c '%a %U' /etc/consent-milter/keys 2>/dev/null)" = "600 consent-milter"
check "postinst: one key" test "$(grep -c . /etc/consent-milter/keys 2>/dev/null)" = 1
check "state directory /var/lib/consent-milter owned by the user" \
	test "$(stat -c '%U %a' /var/lib/consent-milter 2>/dev/null)" = "consent-milter 750"
check "tmpfiles: socket directory setgid, group postfix" \
	test "$(stat -c '%a %U %G' /var/spool/postfix/consent-milter 2>/dev/null)" = \
	"2750 consent-milter postfix"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' consent-milter-common | awk '{print $1}')
check "the configuration is a conffile" grep -qx "$CONF" <<<"$conffiles"
check "trackers.rules is a conffile" grep -qx /etc/consent-milter/trackers.rules <<<"$conffiles"
check "daemons in /usr/sbin" test -x /usr/sbin/consent-milter -a -x /usr/sbin/consent-gate \
	-a -x /usr/sbin/consent-sync
for m in consent-milter.8 consent-gate.8 consent-sync.8 consentctl.8 consent-milter.conf.5 \
	consent-rewrite.1; do
	check "man page $m" test -n "$(find /usr/share/man -name "$m.gz")"
done
check "the Grafana dashboard is shipped" \
	cmp -s "$SRCDIR/contrib/grafana/consent-milter.json" /usr/share/consent-milter/grafana/consent-milter.json
check "packaged socket is inside Postfix's chroot" grep -qx "socket = unix:$SOCK" "$CONF"

# ---- units

for u in $UNITS; do
	check "systemd-analyze verify ${u##*/}" systemd-analyze verify "$u"
	check "${u##*/}: ExecReload sends SIGUSR1" grep -qx 'ExecReload=/bin/kill -USR1 $MAINPID' "$u"
done
su=/lib/systemd/system/consent-sync.service
check "systemd-analyze verify consent-sync.service" systemd-analyze verify "$su"
# it needs a [store] section naming a primary: installed, not enabled
check "consent-sync.service installed disabled" \
	test ! -e /etc/systemd/system/multi-user.target.wants/consent-sync.service
check "consent-milter.service logs to syslog (-s)" \
	grep -q '^ExecStart=/usr/sbin/consent-milter -f -s ' /lib/systemd/system/consent-milter.service

# unit_cmd UNIT KEY - the command line of KEY= in the installed unit.
unit_cmd() { sed -n "s/^$2=//p" "$1"; }

# ---- the gate, as its unit starts it (an admin edit: its own port)

sed -i "s/^listen = .*/listen = 127.0.0.1:$PORT_PKG_GATE/" "$CONF"
gu=/lib/systemd/system/consent-gate.service
check "gate: ExecStartPre (configuration check) passes" \
	bash -c "$(unit_cmd $gu ExecStartPre) >$T/gate-pre.log 2>&1"
setsid $(unit_cmd $gu ExecStart) >"$T/gate.out" 2>&1 &
GATE_PID=$!
gate_up() { curl -fsS "http://127.0.0.1:$PORT_PKG_GATE/healthz" >/dev/null; }
check "gate: /healthz answers" wait_for 10 gate_up
check "gate: runs as consent-milter (dropped from root)" \
	test "$(ps -o uid= -p "$GATE_PID" 2>/dev/null | tr -d " ")" = "$uid"

# ---- the milter, as its unit starts it, /dev/log a test listener

# A private /dev: the real devices the daemon uses, and log, a datagram
# socket written to $T/syslog by a small listener.
mkdir -p "$T/dev"
for d in null zero random urandom; do : >"$T/dev/$d"; done
python3 - "$T/dev/log" "$T/syslog" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\n") + b"\n")
EOF
LISTENER_PID=$!
wait_for 5 test -S "$T/dev/log" || nok "syslog listener did not start"
chmod 666 "$T/dev/log"
mu=/lib/systemd/system/consent-milter.service
check "milter: ExecStartPre (configuration check) passes" \
	bash -c "$(unit_cmd $mu ExecStartPre) >$T/milter-pre.log 2>&1"
binds=""
for d in null zero random urandom; do binds="$binds mount --bind /dev/$d $T/dev/$d &&"; done
setsid unshare --mount --propagation private sh -c \
	"$binds mount --bind $T/dev /dev && exec $(unit_cmd $mu ExecStart)" >"$T/milter.out" 2>&1 &
MILTER_PID=$!
milter_up() { test -S "$SOCK" && grep -q 'consent-milter.*start version' "$T/syslog"; }
if ! check "milter: started, socket made" wait_for 10 milter_up; then
	cat "$T/milter.out" "$T/syslog" >&2
fi
check "milter: socket group postfix, mode 0660 (from the setgid directory)" \
	test "$(stat -c '%a %U %G' "$SOCK" 2>/dev/null)" = "660 consent-milter postfix"
check "milter: nothing on stderr with -s" test ! -s "$T/milter.out"
# <22>: facility mail (2) * 8 + info (6)
check "milter: start line to syslog, facility mail" \
	grep -q '^<22>.*consent-milter\[[0-9]*\]: start version=' "$T/syslog"

# ---- a message through a private Postfix, to the installed socket

P=$(mktemp -d /tmp/cm-deb-pf.XXXXXX)
chmod 755 "$P"
mkdir -p "$P/etc" "$P/spool" "$P/data" "$P/sink"
chown postfix "$P/data" "$P/sink"
write_master_cf
write_main_cf
sed -i "s,^smtpd_milters = .*,smtpd_milters = unix:$SOCK," "$P/etc/main.cf"
start_sink
postfix -c "$P/etc" check >"$T/pf.log" 2>&1 && postfix -c "$P/etc" start >>"$T/pf.log" 2>&1 ||
	{ cat "$T/pf.log"; nok "private postfix did not start"; exit 1; }
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_MTA" || { nok "postfix did not listen"; exit 1; }
sed 's/^Subject: .*/Subject: deb-test-marker/' "$SRCDIR/conf/samples/newsletter.eml" >"$T/msg.eml"
check "swaks: message accepted" send "$PORT_MTA" gazette@brand.example lecteur@example.org "$T/msg.eml"
check "message delivered" wait_delivered deb-test-marker 1
out=$(sink_files deb-test-marker | head -1)
check "delivered message passed the installed milter (trace header)" \
	grep -q '^X-Consent-Milter:' "${out:-/dev/null}"
qid=$(sed -n 's/.* postfix[^:]*smtpd\[[0-9]*\]: \([0-9A-F]\{6,\}\): client=.*/\1/p' "$P/maillog" | tail -1)
if ! check "milter: a syslog line, facility mail, with the queue id ($qid)" \
	grep -q "^<2[0-3]>.*consent-milter\[[0-9]*\]: ${qid:-no-queue-id}[: ]" "$T/syslog"; then
	tail -5 "$T/syslog"
	grep -F "${qid:-no-queue-id}" "$P/maillog" | head -3
fi

# ---- reload as the unit's ExecReload does

MAINPID=$(pgrep -P "$MILTER_PID" -x consent-milter || echo "$MILTER_PID")
bash -c "$(unit_cmd $mu ExecReload | sed "s/\$MAINPID/$MAINPID/")"
check "milter: ExecReload reloads (logged)" wait_for 10 grep -q 'reload ok' "$T/syslog"
check "milter: still running after reload" kill -0 "$MAINPID"

# ---- remove, purge, nothing left

postfix -c "$P/etc" stop >/dev/null 2>&1
stop_pid "$MILTER_PID"
MILTER_PID=
stop_pid "$GATE_PID"
GATE_PID=
files=$(dpkg -L $PKGS 2>/dev/null | grep consent | sort -u)
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q $PKGS >"$T/remove.log" 2>&1
check "apt-get remove" test $? = 0
check "remove keeps the configuration and keys" test -f "$CONF" -a -f /etc/consent-milter/keys
purge
check "apt-get purge" test $? = 0
INSTALLED=0
left=""
for f in $files /etc/consent-milter /var/lib/consent-milter /var/spool/postfix/consent-milter; do
	[ -e "$f" ] && left="$left $f"
done
check "purge: no file left (${left:-none})" test -z "$left"
check "purge: no user consent-milter" bash -c '! getent passwd consent-milter'
check "purge: no group consent-milter" bash -c '! getent group consent-milter'
check "purge: no unit enablement left in /etc" \
	test -z "$(find /etc/systemd /var/lib/systemd -name '*consent*' 2>/dev/null)"
check "purge: dpkg knows nothing of the packages" \
	bash -c "! dpkg-query -W $PKGS 2>/dev/null | grep -q ."

echo "deb: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
