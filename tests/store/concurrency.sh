#!/bin/sh
# tests/store/concurrency.sh BUILD_DIR - several consentctl writer
# processes on the same store while a reader process loops on show: no lost
# update (every event is in the ledger, chained) and readers progress.
set -u
B=$1
C="$B/consentctl"
T=$(mktemp -d /tmp/consentctl-conc.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$(dirname "$0")/lib.sh"
export CONSENT_DB="$T/db"
W=4 N=25
"$C" inform brand shared@example.org >/dev/null || bad "create"
writer() {
    w=$1 j=0
    while [ $j -lt $N ]; do
        "$C" grant brand shared@example.org opens --notice n1 >/dev/null || echo "fail $w $j" >>"$T/fail"
        "$C" withdraw brand "w$w-$j@example.org" clicks >/dev/null || echo "fail $w $j" >>"$T/fail"
        j=$((j + 1))
    done
}
reader() {
    while [ ! -e "$T/stop" ]; do
        "$C" show brand shared@example.org >/dev/null && echo r >>"$T/reads"
    done
}
reader &
rpid=$!
pids=""
w=0
while [ $w -lt $W ]; do
    writer $w &
    pids="$pids $!"
    w=$((w + 1))
done
# shellcheck disable=SC2086
wait $pids
touch "$T/stop"
wait $rpid
[ ! -e "$T/fail" ] && ok "every writer command succeeded" || bad "writer failures: $(wc -l <"$T/fail")"
reads=$(wc -l <"$T/reads" 2>/dev/null || echo 0)
[ "$reads" -gt 0 ] && ok "reader made progress during writes ($reads reads)" || bad "reader starved"
"$C" --json verify >"$T/v"
expect_grep '"ok": true' "$T/v" "chain verifies"
expect_grep "\"events\": $((1 + 2 * W * N))," "$T/v" "no lost update: $((1 + 2 * W * N)) events"
n=$("$C" --json proof brand shared@example.org 2>/dev/null | grep -c '"seq"')
expect_eq "$n" "$((1 + W * N))" "shared recipient has every event in its history"
finish
