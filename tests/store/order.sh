#!/bin/sh
# tests/store/order.sh BUILD_DIR - consentctl and the ordering rules of
# SPEC §5: a withdrawal wins over every grant recorded before it whatever
# their dates; future dates (beyond the clock skew) are refused by
# grant --at and import; a no-op event is reported, not taken for success.
set -u
B=$1
C="$B/consentctl"
T=$(mktemp -d /tmp/consentctl-order.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$(dirname "$0")/lib.sh"
export CONSENT_DB="$T/db"
unset POSIXLY_CORRECT

# a grant dated ahead (inside the skew) then a withdrawal now: withdrawn
soon=$(( $(date +%s) + 250 ))
expect_rc 0 "grant dated 250 s ahead accepted" "$C" grant brand a@example.org opens --notice n1 --at "$soon"
expect_rc 0 "withdraw right after" "$C" withdraw brand a@example.org
"$C" show brand a@example.org >"$T/s"
expect_grep "opens: withdrawn" "$T/s" "withdrawal after a skewed grant wins"

# a grant claiming a later date than the withdrawal recorded after it
expect_rc 0 "grant dated 2026-06-02" "$C" grant brand b@example.org opens,clicks --notice n1 --at 2026-06-02
expect_rc 0 "withdraw dated 2026-06-01" "$C" withdraw brand b@example.org --at 2026-06-01
"$C" show brand b@example.org >"$T/s"
expect_grep "opens: withdrawn" "$T/s" "back-dated withdrawal beats the earlier-recorded grant"
expect_grep "clicks: withdrawn" "$T/s" "... for every purpose"
# a back-dated grant afterwards is history: refused as a no-op, one line, exit 1
expect_err 1 "recorded as history only" "back-dated grant reported as no-op" \
    "$C" grant brand b@example.org opens,profiling --notice n1 --at 2026-05-01
"$C" show brand b@example.org >"$T/s"
expect_grep "opens: withdrawn" "$T/s" "back-dated grant did not revive opens"
expect_grep "profiling: unknown" "$T/s" "back-dated grant did not add profiling after a withdrawal"

# future dates refused
expect_err 2 "in the future" "grant --at next year refused" \
    "$C" grant brand c@example.org opens --notice n1 --at "$(( $(date +%s) + 86400 * 365 ))"
expect_err 2 "in the future" "grant --at 2100 refused" "$C" grant brand c@example.org opens --notice n1 --at 2100-01-01
expect_rc 0 "show c" "$C" show brand c@example.org
expect_grep "updated: never" "$T/out" "nothing recorded for c"
cat >"$T/f.csv" <<'EOF'
controller,recipient,time,action,purposes,method
brand,d@example.org,2099-01-01,grant,opens,import
brand,e@example.org,2026-01-01,grant,opens,import
EOF
expect_rc 3 "import with a future row exits 3" "$C" import "$T/f.csv"
expect_grep "in the future" "$T/err" "future row reported"
expect_grep "1 event(s) added" "$T/out" "the other row imported"
expect_rc 0 "verify after all that" "$C" verify
finish
