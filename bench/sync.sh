#!/usr/bin/env bash
# sync.sh - replication figures (bench/sync.mk), against a private
# PostgreSQL 15 (tests/pg/lib.sh) on loopback:
#   propagation  gate A's API POST -> the change visible on relay 1's
#                replica (fed by its consent-sync through NOTIFY), over
#                SYNC_BENCH_CHANGES changes: p50, p99 (goal p99 < 500 ms)
#   import       SYNC_BENCH_N records through PostgreSQL (consentctl import)
#   apply rate   consent-sync --once filling an empty replica with those
#                events: events/s (goal >= 50,000/s)
#   lookup       store_consent_get on that replica against a bare mdb_get
#                (bench/store_bench.c; goal <= 2x)
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${SYNC_BENCH_N:-1000000}
CHANGES=${SYNC_BENCH_CHANGES:-1000}
SAMPLES=${SYNC_BENCH_SAMPLES:-1000000}
. "$ROOT/tests/pg/lib.sh"
T=$(mktemp -d /tmp/cm-sync-bench.XXXXXX)
chmod 755 "$T"
. "$ROOT/tests/sync/lib.sh"
trap 'hosts_cleanup; pg_stop; rm -rf "$T"' EXIT
now() { date +%s.%N; }

echo "== sync bench: $CHANGES changes, $N records (in $T)"
pg_start || exit 1
for n in 1 3 5; do SYNC_LOG_LEVEL=warn host_conf "$n" "$(pg_conninfo)" 60; done
"$CTL" pg-init --conninfo "$(pg_conninfo)" >/dev/null || { echo "pg-init failed"; exit 1; }
"$GATE" --new-key "$T/keys" >/dev/null
sync_start 1
sync_start 3
gate_start 3 || exit 1

# ---- propagation
NH=$(printf 'bench notice' | sha256sum | cut -c1-64)
H0=$(pg_sql "select seq from ledger_head")
"$ROOT/$B/sync_watch" "$T/h1/db" $((H0 + CHANGES)) "$T/seen" &
W=$!
sleep 0.2
for i in $(seq 1 "$CHANGES"); do
    a=grant
    [ $((i % 2)) = 0 ] && a=withdraw
    printf '%s %s\n' "$i" "$(date +%s%N)" >>"$T/sent"
    curl -s -o /dev/null -H 'Authorization: Bearer test-key-brand-0123456789' \
        -H 'Content-Type: application/json' \
        -d '{"controller":"brand.example","recipient":"p'$((i % 100))'@example.org","action":"'$a'","purposes":["opens"],"notice_id":"bench","notice_sha256":"'$NH'"}' \
        "${GATE_BASE[3]}/api/v1/consent"
done
wait $W || echo "sync_watch did not see every change"
awk -v h0="$H0" 'NR == FNR { sent[$1] = $2; next }
    ($1 - h0) in sent { print ($2 - sent[$1 - h0]) / 1e6 }' "$T/sent" "$T/seen" | sort -n >"$T/lat"
cnt=$(wc -l <"$T/lat")
if [ "$cnt" -gt 0 ]; then
    p50=$(sed -n "$(( (cnt + 1) / 2 ))p" "$T/lat")
    p99=$(sed -n "$(( (cnt * 99 + 99) / 100 ))p" "$T/lat")
    echo "propagation_changes: $cnt"
    echo "propagation_p50_ms: $p50"
    echo "propagation_p99_ms: $p99 (goal < 500)"
fi

# ---- import through PostgreSQL, then the apply rate into an empty replica
"$ROOT/$B/store_bench" gen 0 "$N" "$T/a.csv"
t0=$(now)
"$CTL" -c "$T/h3/conf" import "$T/a.csv" >"$T/import.log" 2>&1 || { echo "import failed:"; tail -3 "$T/import.log"; }
t1=$(now)
rm -f "$T/a.csv"
echo "import_pg_${N}_seconds: $(awk "BEGIN{print $t1 - $t0}")"
echo "import_pg_rows_per_second: $(awk "BEGIN{printf \"%d\", $N / ($t1 - $t0)}")"
E=$(pg_sql "select seq from ledger_head")
[ "${E:-0}" -ge "$N" ] || echo "sync bench: the import left $E events in PostgreSQL, not $N" \
    "(consentctl import did not write to the primary): the apply rate below is over $E events" \
    "and the replica lookup has no $N recipients to find"
t0=$(now)
"$CS" -f -c "$T/h5/conf" --once --batch 5000 >"$T/h5/sync.log" 2>&1 || { echo "consent-sync --once failed:"; tail -3 "$T/h5/sync.log"; }
t1=$(now)
echo "apply_events: $E"
echo "apply_seconds: $(awk "BEGIN{print $t1 - $t0}")"
echo "apply_events_per_second: $(awk "BEGIN{printf \"%d\", $E / ($t1 - $t0)}") (goal >= 50000)"
"$ROOT/$B/store_bench" lookup "$T/h5/db" "$N" "$SAMPLES"
echo "== sync bench done"
