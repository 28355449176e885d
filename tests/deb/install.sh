#!/bin/sh
# install.sh - make install's systemd units start what make install installs.
#
# Installs into a temporary PREFIX (no root needed) and runs
# systemd-analyze verify on each installed unit: it fails when an
# ExecStart/ExecStartPre names a program that is not there (the units once
# named /usr/local/bin while make install put the daemons in sbin).
set -eu
B=${B:-build}
command -v systemd-analyze >/dev/null 2>&1 || { echo "install: no systemd-analyze, skipped"; exit 0; }
d=$(mktemp -d /tmp/cm-install.XXXXXX)
trap 'rm -rf "$d"' EXIT
make --no-print-directory -s B="$B" NO_DEPS=1 PREFIX="$d" install >"$d.log" 2>&1 ||
	{ cat "$d.log"; rm -f "$d.log"; exit 1; }
rm -f "$d.log"
pass=0 fail=0
for u in "$d"/lib/systemd/system/*.service; do
	if grep -q "^ExecStart=$d/sbin/" "$u" && systemd-analyze verify --man=no "$u"; then
		echo "ok - ${u##*/}: verify, programs in PREFIX/sbin"; pass=$((pass + 1))
	else
		echo "not ok - ${u##*/}"; fail=$((fail + 1))
	fi
done
echo "install: $pass passed, $fail failed"
[ "$pass" -ge 2 ] && [ "$fail" -eq 0 ]
