# milter.sh - consent-milter under miltertest on hostile input and broken
# stores (sourced by run.sh; uses its corrupt and root_case).
#
# The milter runs as in tests/miltertest/run.sh (the e2e configuration,
# its own socket, user postfix when root), with max_message_size 64M.
#   mt_input.lua  SMTPUTF8 sender and UTF-8 recipients, NUL bytes, 8-bit
#                 headers, 1,000 parts, a large message and the milter's
#                 peak RSS (SPEC §7)
#   mt_store.lua  the store damaged before the start (meta zeroed, cut in
#                 half, pages pointing past the end), damaged under the
#                 running milter (cut to its meta pages), on a read-only
#                 mount, on a full disk with a full spool directory.
# Decision (doc/consent-milter.8, ERRORS): a damaged store is logged as an
# error and the mail flows as if nobody consented (stripped, never
# tempfailed: a reader would display it, and only the administrator can
# repair the file); a read-only store is read; a full spool temp-fails the
# message that needs it (the MTA keeps it) and the milter goes on.

if ! command -v miltertest >/dev/null 2>&1; then
	if [ "${E2E_REQUIRE:-0}" = 1 ]; then
		nok "milter cases: miltertest not installed"
	else
		echo "SKIPPED - milter cases: miltertest not installed: nothing tested"
	fi
	return 0 2>/dev/null || exit 0
fi

P=$W/mt
mkdir -p "$P/mspool"
chmod 755 "$P"
[ "$IS_ROOT" ] || E2E_USER=
[ -n "${E2E_USER-postfix}" ] && chown postfix "$P/mspool"
E2E_MAX_SIZE=64M write_milter_conf
sed -i "s#^socket = .*#socket = unix:$P/mt.sock#" "$P/milter.conf"
write_keys
seed_store
"$CONSENTCTL" --db "$P/db" grant brand.example "j$(printf '\303\266')rg@example.org" opens clicks \
	--notice hostile >/dev/null || nok "milter: cannot grant the UTF-8 recipient"
[ -n "${E2E_USER-postfix}" ] && chown -R postfix "$P/db"
[ -n "${E2E_USER-postfix}" ] || chown -R "$(id -u)" "$P/db" "$P/keys"
cp -a "$P/db" "$P/db.good"
big_mb=7
[ -n "$ASAN" ] && big_mb=2

# a milter that miltertest did not stop (it died first): ours, by its pid file
stop_left_milter() {
	local pid
	pid=$(cat "$P/milter.pid" 2>/dev/null) || return 0
	rm -f "$P/milter.pid"
	if [ -n "$pid" ] && grep -q -F -- "$P/milter.conf" "/proc/$pid/cmdline" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		nok "milter: left running after miltertest (pid $pid), killed"
	fi
}

# mt_run NAME SCRIPT [VAR=VALUE...]: one miltertest script; its "ok"/"not
# ok" lines are counted here, with a sanitizer report or a failed run
mt_run() {
	local name=$1 script=$2 rc
	shift 2
	env "$@" MT_MILTER="$MILTER" MT_CONF="$P/milter.conf" MT_SOCK="unix:$P/mt.sock" MT_DIR="$P" \
		MT_SRC="$SRCDIR/tests/miltertest" MT_HOSTILE="$HERE" MT_ASAN="${ASAN:+1}" \
		MT_BIG_MB=$big_mb MT_CASE="$name" \
		timeout 120 miltertest -s "$HERE/$script" >"$P/$name.out" 2>"$P/$name.err"
	rc=$?
	stop_left_milter
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "milter-$name: ${line#ok - }" ;;
		"not ok - "*) nok "milter-$name: ${line#not ok - }" ;;
		esac
	done <"$P/$name.out"
	# mt_store.lua ends its milter with SIGKILL (miltertest: exit 1, "died
	# with signal 9"); any other end is a failure
	[ $rc = 1 ] && grep -q 'filter process died with signal 9$' "$P/$name.err" && rc=0
	if [ $rc -ne 0 ] || ! grep -q '^FAILURES 0$' "$P/$name.out"; then
		nok "milter-$name: miltertest exit $rc: $(tail -3 "$P/$name.err" | tr '\n' ' ')"
	fi
	if grep -q 'Sanitizer\|runtime error' "$P/$name.err"; then
		nok "milter-$name: sanitizer report: $(grep -m1 -A5 'Sanitizer\|runtime error' "$P/$name.err")"
	fi
}
fresh_db() { rm -rf "$P/db" && cp -a "$P/db.good" "$P/db"; }
logged() { # NAME TEXT: the milter's log of the case says TEXT
	check "milter-$1: the milter logs \"$2\"" grep -q -F -- "$2" "$P/$1.err"
}

mt_run input mt_input.lua

for kind in meta truncated pages; do
	fresh_db
	corrupt "$kind" "$P/db"
	mt_run "corrupt-$kind" mt_store.lua MT_EXPECT=no-consent
	logged "corrupt-$kind" "is damaged"
done

fresh_db
mt_run corrupt-while-running mt_store.lua MT_EXPECT=consent \
	MT_BREAK="truncate -s 8192 $P/db/data.mdb" MT_AFTER=no-consent
logged corrupt-while-running "is damaged: deciding as if nobody consented"

if root_case milter-read-only; then
	fresh_db
	mkdir -p "$P/ro"
	if mount --bind "$P/db" "$P/ro" && mount -o remount,ro,bind "$P/ro"; then
		HOSTILE_MOUNTS="$P/ro ${HOSTILE_MOUNTS:-}"
		cp "$P/milter.conf" "$P/milter.conf.orig"
		sed -i "s#^database = .*#database = $P/ro#" "$P/milter.conf"
		mt_run read-only mt_store.lua MT_EXPECT=consent
		logged read-only "is read-only here: opened for reading only"
		cp "$P/milter.conf.orig" "$P/milter.conf"
		umount "$P/ro"
	else
		nok "milter-read-only: cannot make a read-only bind mount"
	fi
fi

if root_case milter-full-disk; then
	fresh_db
	mkdir -p "$P/full"
	if mount -t tmpfs -o size=1m tmpfs "$P/full"; then
		HOSTILE_MOUNTS="$P/full ${HOSTILE_MOUNTS:-}"
		cp -a "$P/db" "$P/full/db" && mkdir "$P/full/spool"
		[ -n "${E2E_USER-postfix}" ] && chown -R postfix "$P/full/db" "$P/full/spool"
		head -c 2M /dev/zero >"$P/full/filler" 2>/dev/null
		cp "$P/milter.conf" "$P/milter.conf.orig"
		sed -i -e "s#^database = .*#database = $P/full/db#" \
			-e "s#^spool_dir = .*#spool_dir = $P/full/spool#" "$P/milter.conf"
		mt_run full-disk mt_store.lua MT_EXPECT=consent MT_SPOOL_FULL=1
		cp "$P/milter.conf.orig" "$P/milter.conf"
		umount "$P/full"
	else
		nok "milter-full-disk: cannot mount a tmpfs"
	fi
fi
