#!/usr/bin/env bash
# replica.sh - consent-sync against a real PostgreSQL 15, without gates:
# the daemon follows grants and withdrawals made with consentctl on the
# primary (NOTIFY), --once catches up and the replica verifies, a tampered
# ledger row stops it at that seq (exit 3, log, metrics) with the replica
# kept, and once repaired it goes on. The gates' cases are in run.sh.
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/pg/lib.sh"
T=$(mktemp -d /tmp/cm-replica.XXXXXX)
chmod 755 "$T"
. "$ROOT/tests/sync/lib.sh"
trap 'hosts_cleanup; pg_stop; rm -rf "$T"' EXIT
command -v jq >/dev/null || { [ "${E2E_REQUIRE:-0}" = 1 ] && exit 1; echo "sync-replica: SKIPPED: no jq"; exit 0; }
pg_need sync-replica
CONN=$(pg_conninfo)
"$CTL" pg-init --conninfo "$CONN" >/dev/null || { echo "pg-init failed"; exit 1; }
host_conf 1 "$CONN" 60; host_conf 2 "$CONN" 60

$CTL --conninfo "$CONN" grant brand.example alice@example.org opens clicks --notice n1 >/dev/null || echo grant failed
sync_start 1
wait_until 5 granted 1 alice@example.org opens; check "replica 1: alice granted (daemon)" "$(state 1 alice@example.org | grep -c '^opens: granted$')" 1
$CTL --conninfo "$CONN" withdraw brand.example alice@example.org >/dev/null
t0=$(date +%s%N); wait_until 5 not_granted 1 alice@example.org opens; t1=$(date +%s%N)
check "replica 1: withdrawal arrives (NOTIFY)" "$(state 1 alice@example.org | grep -c ': granted$')" 0
echo "# withdrawal visible after $(( (t1 - t0) / 1000000 )) ms"
for i in $(seq 1 200); do $CTL --conninfo "$CONN" grant brand.example u$i@example.org opens --notice n1 >/dev/null; done
H=$(pg_sql "select seq from ledger_head")
timeout 60 $CS -f -c $T/h2/conf --once --metrics $T/h2/sync.prom >>$T/h2/sync.log 2>&1; check "--once catch-up exit 0" "$?" 0
check "replica 2 events = primary head" "$($CTL --db $T/h2/db --json stats | jq -r .events)" "$H"
check "verify replica 2" "$($CTL --db $T/h2/db verify >/dev/null 2>&1; echo $?)" 0
check "metrics lag 0" "$(metric 2 consent_sync_lag_events)" 0
sync_stop 1
$CTL --conninfo "$CONN" grant brand.example frank@example.org opens --notice n1 >/dev/null
BAD=$(pg_sql "select max(seq) from ledger")
$CTL --conninfo "$CONN" grant brand.example gina@example.org opens --notice n1 >/dev/null
H1=$($CTL --db $T/h1/db --json stats | jq -r .events)
pg_tamper "$BAD"
OUT=$(timeout 30 $CS -f -c $T/h1/conf --once --metrics $T/h1/sync.prom 2>&1); RC=$?
check "tamper: exit 3" "$RC" 3
check_has "tamper: names the seq" "$OUT" "chain break at seq=$BAD"
check "tamper: replica keeps its last good state" "$($CTL --db $T/h1/db --json stats | jq -r .events)" "$H1"
check "tamper: metric" "$(metric 1 consent_sync_chain_bad_seq)" "$BAD"
pg_untamper "$BAD"
timeout 30 $CS -f -c $T/h1/conf --once >/dev/null 2>&1; check "after repair: catches up" "$?" 0
check "after repair: frank" "$(state 1 frank@example.org | grep -c '^opens: granted$')" 1
echo "sync-replica: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
