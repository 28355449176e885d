#!/bin/sh
# install.sh - make install's systemd units start what make install installs.
#
# Installs into a temporary PREFIX (no root needed) and runs
# systemd-analyze verify on each installed unit: it fails when an
# ExecStart/ExecStartPre names a program that is not there (the units once
# named /usr/local/bin while make install put the daemons in sbin). Also
# checks that every page language and every footer is installed (the pages
# once installed en/ and fr/ only, by name).
set -eu
B=${B:-build}
d=$(mktemp -d /tmp/cm-install.XXXXXX)
trap 'rm -rf "$d"' EXIT
make --no-print-directory -s B="$B" NO_DEPS=1 PREFIX="$d" install >"$d.log" 2>&1 ||
	{ cat "$d.log"; rm -f "$d.log"; exit 1; }
rm -f "$d.log"
pass=0 fail=0
if diff -r conf/pages "$d/share/consent-milter/pages" >&2; then
	echo "ok - every page language installed"; pass=$((pass + 1))
else
	echo "not ok - installed pages differ from conf/pages"; fail=$((fail + 1))
fi
missing=
for f in conf/footer-* conf/request-*; do
	[ -f "$d/share/consent-milter/conf/${f#conf/}" ] || missing="$missing ${f#conf/}"
done
if [ -z "$missing" ]; then
	echo "ok - every footer installed"; pass=$((pass + 1))
else
	echo "not ok - footers not installed:$missing"; fail=$((fail + 1))
fi
if cmp -s contrib/grafana/consent-milter.json "$d/share/consent-milter/grafana/consent-milter.json"; then
	echo "ok - the Grafana dashboard installed"; pass=$((pass + 1))
else
	echo "not ok - the Grafana dashboard not installed"; fail=$((fail + 1))
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "install: no systemd-analyze, units not verified; $pass passed, $fail failed"
	exit "$fail"
fi
for u in "$d"/lib/systemd/system/*.service; do
	if grep -q "^ExecStart=$d/sbin/" "$u" && systemd-analyze verify --man=no "$u"; then
		echo "ok - ${u##*/}: verify, programs in PREFIX/sbin"; pass=$((pass + 1))
	else
		echo "not ok - ${u##*/}"; fail=$((fail + 1))
	fi
done
echo "install: $pass passed, $fail failed"
[ "$pass" -ge 4 ] && [ "$fail" -eq 0 ]
