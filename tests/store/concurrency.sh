#!/bin/sh
# tests/store/concurrency.sh BUILD_DIR - several consentctl writer
# processes on the same store while a reader process loops on show: no lost
# update (every event is in the ledger, chained) and readers progress; an
# erase in the middle of it leaves none of the erased bytes in data.mdb.
set -u
B=$1
C="$B/consentctl"
T=$(mktemp -d /tmp/consentctl-conc.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$(dirname "$0")/lib.sh"
export CONSENT_DB="$T/db"
W=4 N=25
"$C" inform brand shared@example.org >/dev/null || bad "create"
# the erased recipient: a long history with IP and user agent, among others
V=1000
awk -v n=$V 'BEGIN {
    print "controller,recipient,time,action,purposes,method,notice_id,source_ip,user_agent"
    for (i = 0; i < n; i++) {
        printf "brand,victim.conc@example.org,%d,%s,opens,consent-page,n1,203.0.113.77,UA-CONC-MARK-77\n", \
            1700000000 + i, (i % 2 ? "withdraw" : "grant")
        printf "brand,bystander%d@example.org,%d,grant,opens,import,n1,,\n", i, 1700000000 + i
    }
}' >"$T/victim.csv"
"$C" import "$T/victim.csv" >/dev/null || bad "import the history to erase"
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
sleep 0.3
"$C" erase brand victim.conc@example.org >"$T/erase" 2>&1
erc=$?
# shellcheck disable=SC2086
wait $pids
touch "$T/stop"
wait $rpid
[ ! -e "$T/fail" ] && ok "every writer command succeeded" || bad "writer failures: $(wc -l <"$T/fail")"
reads=$(wc -l <"$T/reads" 2>/dev/null || echo 0)
[ "$reads" -gt 0 ] && ok "reader made progress during writes ($reads reads)" || bad "reader starved"
"$C" --json verify >"$T/v"
expect_grep '"ok": true' "$T/v" "chain verifies"
expect_eq "$erc" 0 "erase during concurrent writes: $(cat "$T/erase")"
if grep -aqE 'victim\.conc|UA-CONC-MARK|203\.0\.113\.77' "$T/db/data.mdb"; then
    bad "erased bytes left in data.mdb after an erase under load"
else
    ok "no erased byte in data.mdb after an erase under load"
fi
expect_grep "\"events\": $((1 + 2 * W * N + 2 * V + 1))," "$T/v" "no lost update: $((1 + 2 * W * N + 2 * V + 1)) events"
n=$("$C" --json proof brand shared@example.org 2>/dev/null | grep -c '"seq"')
expect_eq "$n" "$((1 + W * N))" "shared recipient has every event in its history"
finish
