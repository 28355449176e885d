#!/bin/sh
# tests/store/import.sh BUILD_DIR - consentctl import and export against
# hostile files: repeated columns, broken quoting, over-long lines (bad rows
# are skipped and reported with their line, the rest committed), spreadsheet
# formulas in export, and an export that imports back to the same state.
set -u
B=$1
C="$B/consentctl"
T=$(mktemp -d /tmp/consentctl-import.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$(dirname "$0")/lib.sh"
export CONSENT_DB="$T/db"
unset POSIXLY_CORRECT
H=controller,recipient,time,action,purposes

# --- a repeated column (also through an alias) would let the last one win
printf '%s,email\nbrand,a@example.org,2026-07-01,grant,opens,b@example.org\n' "$H" >"$T/dup.csv"
expect_err 2 "dup.csv:1: column 6 'email' repeats column 2 (recipient)" "CSV repeated column refused" \
    "$C" import "$T/dup.csv"
expect_err 2 "repeats column 3" "CSV repeated column, same name" "$C" import /dev/stdin <<EOF
controller,recipient,time,time,action,purposes
EOF
cat >"$T/dup.jsonl" <<'EOF'
{"controller": "brand", "recipient": "a@example.org", "email": "b@example.org", "time": "2026-07-01", "action": "grant", "purposes": "opens"}
{"controller": "brand", "recipient": "c@example.org", "time": "2026-07-01", "action": "grant", "purposes": "opens"}
EOF
expect_rc 3 "JSONL key and its alias: bad row" "$C" import "$T/dup.jsonl"
expect_grep "dup.jsonl:1: key 'email' repeats another key for 'recipient'" "$T/err" "JSONL alias repeat named with its line"
expect_grep "1 event(s) added" "$T/out" "JSONL: the other row committed"
for r in a b; do
    "$C" show brand $r@example.org >"$T/s"
    expect_grep "opens: unknown" "$T/s" "JSONL: the bad row stored nothing ($r)"
done

# --- broken quoting and over-long lines: that row only, with its line
{
    echo "$H"
    echo 'brand,q1@example.org,2026-07-01,grant,opens'
    echo 'brand,"q2@example.org,2026-07-01,grant,opens'
    echo 'brand,q3@example.org,2026-07-01,grant,opens'
    echo 'brand,"q4"x@example.org,2026-07-01,grant,opens'
    awk 'BEGIN { printf "brand,"; for (i = 0; i < 1100000; i++) printf "a"; print "@x.org,2026-07-01,grant,opens" }'
    echo 'brand,q5@example.org,2026-07-01,grant,opens'
    printf 'brand,"q6@example.org,2026-07-01,grant,opens'
} >"$T/bad.csv"
expect_rc 3 "CSV with broken rows exits 3 (partial)" "$C" import "$T/bad.csv"
expect_grep "bad.csv:3: unterminated quote" "$T/err" "unterminated quote: its line"
expect_grep "bad.csv:5: CSV syntax error" "$T/err" "quote inside a field: its line"
expect_grep "bad.csv:6: line longer than 1 MiB" "$T/err" "over-long CSV line: its line"
expect_grep "bad.csv:8: unterminated quote" "$T/err" "unterminated quote on the last line"
expect_grep "3 event(s) added, 0 duplicate(s) skipped, 4 bad row(s)" "$T/out" "the good rows around them committed"
for r in q1 q3 q5; do
    "$C" show brand $r@example.org >"$T/s" 2>&1
    expect_grep "opens: granted" "$T/s" "row $r after a broken one imported"
done
printf 'controller,"recipient\nbrand,a@example.org\n' >"$T/badhead.csv"
expect_err 2 "badhead.csv:1: unterminated quote" "broken header line: the file is refused" \
    "$C" import "$T/badhead.csv"

# --- export: no spreadsheet formula; import of an export gives it back
D1="$T/db1" D2="$T/db2"
for a in '=1+2@example.org' '+sum@example.org' "'=q@example.org" "''x@example.org" 'plain@example.org'; do
    "$C" --db "$D1" grant brand "$a" opens,clicks --notice n1 --at 2026-07-01T10:00:00Z >/dev/null
done
"$C" --db "$D1" refuse brand 'plain@example.org' clicks --notice n1 --at 2026-07-02 >/dev/null
"$C" --db "$D1" inform brand 'inf@example.org' --at 2026-07-03 >/dev/null
"$C" --db "$D1" inform brand 'plain@example.org' --at 2026-06-01 >/dev/null
expect_rc 0 "export" "$C" --db "$D1" export
cp "$T/out" "$T/exp1.csv"
if cut -d, -f2- "$T/exp1.csv" | tr ',' '\n' | grep -q '^[=+@-]'; then
    bad "export: a cell starts with = + - @" "$(cat "$T/exp1.csv")"
else ok "export: no cell starts with = + - @"; fi
expect_grep "^brand,'=1+2@example.org," "$T/exp1.csv" "formula cell escaped with a leading '"
expect_grep "^brand,''=q@example.org," "$T/exp1.csv" "a value already starting with '= gets one more '"
expect_grep "^brand,''x@example.org," "$T/exp1.csv" "a value with quotes but no formula left as is"
expect_rc 0 "import of the export" "$C" --db "$D2" import "$T/exp1.csv"
expect_rc 0 "re-export" "$C" --db "$D2" export
# (the walk's order follows the store's keys, not the file's)
sort "$T/exp1.csv" >"$T/s1"
sort "$T/out" >"$T/s2"
if cmp -s "$T/s1" "$T/s2"; then ok "export -> import -> export is the same"; else
    bad "export -> import -> export is the same" "$(diff "$T/s1" "$T/s2")"; fi
expect_rc 0 "import of the export again" "$C" --db "$D2" import "$T/exp1.csv"
expect_grep "0 event(s) added" "$T/out" "a second import of the export adds nothing"
expect_rc 0 "export --json" "$C" --db "$D1" --json export
cp "$T/out" "$T/exp1.jsonl"
expect_rc 0 "import of the JSON export" "$C" --db "$T/db3" import "$T/exp1.jsonl"
"$C" --db "$T/db3" export | sort >"$T/s3"
if cmp -s "$T/s1" "$T/s3"; then ok "export --json -> import -> export is the same"; else
    bad "export --json -> import -> export is the same" "$(diff "$T/s1" "$T/s3")"; fi
"$C" --db "$D2" show brand '=1+2@example.org' >"$T/s" 2>&1
expect_grep "opens: granted" "$T/s" "escaped cell imported as the original value"
"$C" --db "$D2" show brand "'=q@example.org" >"$T/s" 2>&1
expect_grep "opens: granted" "$T/s" "value starting with '= kept exactly"

finish
