#!/bin/sh
# The vendor-table generator can fail: on a copy of the README and the
# rules, a new vendor's rule makes --check fail, --update puts it in the
# table (in its column, the rest of the README unchanged), and --check then
# passes; a README without the markers is refused. Run by make check-readme.
set -eu
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
no() { echo "not ok - $*"; fails=$((fails + 1)); }
yes() { echo "ok - $*"; }

cp README.md "$T/README.md"
cp conf/trackers.rules "$T/rules"
sh tools/vendor-table.sh --check "$T/rules" "$T/README.md" >/dev/null && yes "copy is current" ||
    no "copy is current"
printf 'pixel zz-newvendor  t.zz.example  /open*  # a comment\nwrap zz-newvendor-c param *.zz.example /c* key=u\n' >>"$T/rules"
if sh tools/vendor-table.sh --check "$T/rules" "$T/README.md" 2>"$T/err"; then
    no "a new rule makes the table stale"
else
    grep -q 'stale' "$T/err" && yes "a new rule makes the table stale" || no "stale message"
fi
sh tools/vendor-table.sh --update "$T/rules" "$T/README.md"
grep -q '^| `zz` | 1 rule | `param` | – |$' "$T/README.md" && yes "new vendor row" ||
    no "new vendor row: $(grep zz "$T/README.md")"
sh tools/vendor-table.sh --check "$T/rules" "$T/README.md" >/dev/null && yes "current after --update" ||
    no "current after --update"
# outside the markers nothing moved
sed '/vendor-table: begin/,/vendor-table: end/d' README.md >"$T/a"
sed '/vendor-table: begin/,/vendor-table: end/d' "$T/README.md" >"$T/b"
cmp -s "$T/a" "$T/b" && yes "rest of the README unchanged" || no "rest of the README changed"
grep -v 'vendor-table: end' README.md >"$T/nomark.md"
sh tools/vendor-table.sh --check conf/trackers.rules "$T/nomark.md" 2>/dev/null &&
    no "README without markers accepted" || yes "README without markers refused"
[ "$fails" -eq 0 ]
