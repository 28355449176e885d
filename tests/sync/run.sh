#!/usr/bin/env bash
# run.sh - replication across hosts against a real PostgreSQL 15 (issue 11).
#
# Four hosts on loopback, each with its own replica and consent-sync:
# relays 1 and 2 (the replica + consent-rewrite, which decides as the
# milter does) and gates A (host 3) and B (host 4). Cases:
#   propagation   a grant on gate A's consent page reaches both relays; a
#                 withdrawal on gate B reaches both relays and stops gate
#                 A's pixel for the old mail
#   catch-up      consent-sync of relay 2 killed, 10,000 changes, restarted:
#                 its replica equals the primary (every recipient, the event
#                 count) and verify passes
#   primary down  withdrawals on a gate count at once, and each is in
#                 PostgreSQL exactly once after the restart; grants get 503
#   tamper        one ledger row changed in PostgreSQL: consent-sync stops
#                 at that seq and says so, the replica keeps its state
#   erase         reaches both relays' replicas
#   bad input     wrong password, unreachable host, wrong schema version,
#                 read-only replica directory: clear errors, no hang
# Needs root (the server runs as postgres) and postgresql-15; without them
# it skips loudly, or fails when E2E_REQUIRE=1.
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cannot_run() {
    if [ "${E2E_REQUIRE:-0}" = 1 ]; then echo "sync: cannot run: $1"; exit 1; fi
    echo "sync: SKIPPED: $1 (E2E_REQUIRE=1 makes this a failure)"
    exit 0
}
[ "$(id -u)" = 0 ] || cannot_run "needs root (PostgreSQL runs as postgres)"
[ -x /usr/lib/postgresql/15/bin/initdb ] || cannot_run "postgresql-15 is not installed"
command -v jq >/dev/null || cannot_run "jq is not installed"
. "$ROOT/tests/pg/lib.sh"
T=$(mktemp -d /tmp/cm-sync.XXXXXX)
chmod 755 "$T"
. "$ROOT/tests/sync/lib.sh"

cleanup() {
    hosts_cleanup
    pg_stop
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

pg_need sync
CONN=$(pg_conninfo)
# relay 2 goes stale after 3 s without a sync, the others after 60 s
for n in 1 2 3 4; do host_conf "$n" "$CONN" "$([ $n = 2 ] && echo 3 || echo 60)"; done
"$CTL" pg-init --conninfo "$CONN" >"$T/pg-init.log" 2>&1 ||
    { echo "consentctl pg-init failed:"; cat "$T/pg-init.log"; exit 1; }
"$GATE" --new-key "$T/keys" >/dev/null
for n in 1 2 3 4; do sync_start "$n"; done
gate_start 3 && gate_start 4 || exit 1

echo "# propagation"
RC=alice@example.org
check "grant on gate A's consent page" "$(consent_page 3 "$RC" opens clicks)" 200
for n in 1 2; do
    wait_until 5 granted $n "$RC" opens
    check "relay $n replica: opens granted" "$(state $n "$RC" | grep -c '^opens: granted$')" 1
    if relay_gates $n "$RC"; then ok "relay $n gates the pixel (via the gate)"; else bad "relay $n gates the pixel"; fi
    check "relay $n: the milter decides consent" "$(milter_decision $n "$RC")" consent
done
check "gate A's own replica shows it at once" "$(state 3 "$RC" | grep -c '^opens: granted$')" 1
O=$(link 3 o "$RC" "https://brand.us1.list-manage.com/track/open.php?u=abc")
check "gate A forwards alice's pixel" "$(pixel 3 "$O")" 302
wait_until 5 granted 4 "$RC" opens
check "withdrawal on gate B" "$(withdraw_page 4 "$RC")" 200
check "gate B's replica at once" "$(state 4 "$RC" | grep -c ': granted$')" 0
for n in 1 2; do
    wait_until 5 not_granted $n "$RC" opens
    check "relay $n replica: nothing granted" "$(state $n "$RC" | grep -c ': granted$')" 0
    if relay_strips $n "$RC"; then ok "relay $n strips"; else bad "relay $n strips"; fi
    check "relay $n: the milter decides no-consent" "$(milter_decision $n "$RC")" no-consent
done
wait_until 5 not_granted 3 "$RC" opens
check "gate A refuses the old mail's pixel" "$(pixel 3 "$O")" 200

echo "# catch-up"
sync_stop 2 KILL
H2=$(metric 2 consent_sync_replica_head_seq)
# 10,000 changes through gate A's API, in one curl process (keep-alive)
NS=$(printf 'n' | sha256sum | cut -c1-64)
for i in $(seq 1 10000); do
    a=grant
    [ $((i % 3)) = 0 ] && a=withdraw
    printf 'url = "%s/api/v1/consent"\nheader = "Authorization: Bearer test-key-brand-0123456789"\n' "${GATE_BASE[3]}"
    printf 'header = "Content-Type: application/json"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\n'
    printf 'data = "{\\"controller\\":\\"brand.example\\",\\"recipient\\":\\"u%d@example.org\\",\\"action\\":\\"%s\\",\\"purposes\\":[\\"opens\\"],\\"notice_id\\":\\"catchup\\",\\"notice_sha256\\":\\"%s\\"}"\n' $((i % 4000)) "$a" "$NS"
    [ "$i" -lt 10000 ] && echo next
done >"$T/changes.curl"
curl -s -K "$T/changes.curl" >"$T/changes.codes" 2>&1
check "10,000 changes through the API: none refused" \
    "$(grep -cvE '^(201|409)$' "$T/changes.codes")" 0
PH=$(pg_sql "select seq from ledger_head")
check "the primary grew by 10,000" "$((PH - ${H2:-0} >= 10000))" 1
S0=$(date +%s.%N)
"$CS" -f -c "$T/h2/conf" --once >>"$T/h2/sync.log" 2>&1
check "consent-sync --once after 10,000: exit 0" "$?" 0
S1=$(date +%s.%N)
echo "# catch-up of $((PH - ${H2:-0})) events: $(awk "BEGIN{print $S1 - $S0}") s"
check "relay 2 head = primary head" "$("$CTL" --db "$T/h2/db" --json stats | jq -r .events)" "$PH"
wait_until 10 sh -c "[ \"\$('$CTL' --db '$T/h1/db' --json stats | jq -r .events)\" = $PH ]"
"$CTL" --db "$T/h2/db" export brand.example | sort >"$T/r2.csv"
"$CTL" --db "$T/h1/db" export brand.example | sort >"$T/r1.csv"
check "relay 2: the same state for every recipient as relay 1, which followed live" \
    "$(cmp -s "$T/r2.csv" "$T/r1.csv" && echo same || diff "$T/r2.csv" "$T/r1.csv" | head -3)" same
check "relay 2: the same consent rows as the primary" \
    "$(grep -c '^brand.example,' "$T/r2.csv")" "$(pg_sql "select count(*) from consent where controller = 'brand.example'")"
check "verify on relay 2's replica" "$("$CTL" --db "$T/h2/db" verify >/dev/null 2>&1; echo $?)" 0
check "verify on the primary, with relay 2's replica" \
    "$("$CTL" --conninfo "$CONN" verify >/dev/null 2>&1; echo $?)" 0
sync_start 2

echo "# primary down"
pg_sql "select 1" >/dev/null
for i in 1 2 3; do
    check "grant bob$i before the outage" "$(consent_page 3 "bob$i@example.org" opens)" 200
done
EVE=eve@example.org
check "grant eve" "$(consent_page 4 "$EVE" opens clicks)" 200
wait_until 5 granted 1 "$EVE" opens && wait_until 5 granted 2 "$EVE" opens
OB=$(link 3 o "bob1@example.org" "https://brand.us1.list-manage.com/track/open.php?u=b")
check "bob1's pixel forwarded before" "$(pixel 3 "$OB")" 302
pg_kill
for i in 1 2 3; do
    check "withdrawal of bob$i with the primary down: answered" "$(withdraw_page 3 "bob$i@example.org")" 200
done
check "... and counts at once on gate A" "$(pixel 3 "$OB")" 200
check "grant with the primary down: 503" "$(consent_page 3 "carol@example.org" opens)" 503
check_has "... with a clear page" "$(cat "$T/page.out")" "NOT recorded"
check "gate metrics: 3 pending" \
    "$(curl -s "${GATE_MBASE[3]}/metrics" | awk '$1 == "consent_gate_outbox_pending" { print $2 }')" 3
check "primary down: relay 1 (max_staleness 60) keeps deciding from its replica" \
    "$(milter_decision 1 "$EVE")" consent
sleep 4
check "relay 2 (max_staleness 3) after 4 s without a sync: as if nobody consented" \
    "$(milter_decision 2 "$EVE")" no-consent
pg_restart
wait_until 20 sh -c "curl -s '${GATE_MBASE[3]}/metrics' | grep -qx 'consent_gate_outbox_pending 0'"
check "outbox empty after the restart" \
    "$(curl -s "${GATE_MBASE[3]}/metrics" | awk '$1 == "consent_gate_outbox_pending" { print $2 }')" 0
for i in 1 2 3; do
    check "bob$i's withdrawal in PostgreSQL exactly once" \
        "$(pg_sql "select count(*) from ledger where recipient = 'bob$i@example.org' and action = $(pg_action withdraw)")" 1
    wait_until 10 not_granted 1 "bob$i@example.org" opens
    check "relay 1: bob$i withdrawn" "$(state 1 "bob$i@example.org" | grep -c ': granted$')" 0
done
check "bob1's pixel still blank" "$(pixel 3 "$OB")" 200

echo "# erase"
check "grant dave" "$(consent_page 4 dave@example.org opens)" 200
wait_until 5 granted 1 dave@example.org opens && wait_until 5 granted 2 dave@example.org opens
"$CTL" --conninfo "$CONN" erase brand.example dave@example.org >"$T/erase.log" 2>&1
check "erase on the primary" "$?" 0
for n in 1 2; do
    wait_until 10 sh -c "! '$CTL' --db '$T/h$n/db' export brand.example | grep -q dave@"
    # the scrub of the freed pages follows the commit that removed dave
    wait_until 15 sh -c "! grep -q -a 'dave@example.org' '$T/h$n/db/data.mdb'"
    check "relay $n: dave gone from the export" "$("$CTL" --db "$T/h$n/db" export brand.example | grep -c dave@)" 0
    check "relay $n: no byte of dave's address left" \
        "$(grep -c -a 'dave@example.org' "$T/h$n/db/data.mdb")" 0
    # consent-sync writes on: a "synced" touch every poll and new events
    s0=$(metric $n consent_sync_synced_timestamp_seconds)
    check "relay $n: a later grant" "$(consent_page 3 "dave$n.later@example.org" opens)" 200
    wait_until 10 granted $n "dave$n.later@example.org" opens
    wait_until 10 sh -c "[ \"\$(awk '\$1 == \"consent_sync_synced_timestamp_seconds\" { print \$2 }' '$T/h$n/sync.prom')\" -ge $((${s0:-0} + 3)) ]"
    check "relay $n: later writes bring no byte of it back" \
        "$(grep -c -a 'dave@example.org' "$T/h$n/db/data.mdb")" 0
    wait_until 10 sh -c "grep -qx 'consent_sync_scrub_pending 0' '$T/h$n/sync.prom'"
    check "relay $n: metrics: no scrub pending" "$(metric $n consent_sync_scrub_pending)" 0
    check "relay $n: verify after the erase" "$("$CTL" --db "$T/h$n/db" verify >/dev/null 2>&1; echo $?)" 0
done

echo "# tamper"
check "grant erin" "$(consent_page 3 erin@example.org opens)" 200
wait_until 5 granted 1 erin@example.org opens
sync_stop 1
check "grant frank" "$(consent_page 3 frank@example.org opens)" 200
H1=$("$CTL" --db "$T/h1/db" --json stats | jq -r .events)
# the first event relay 1 has not applied (a consent-page grant may write
# more than one event, so not simply the newest)
BADSEQ=$((H1 + 1))
pg_tamper "$BADSEQ"
check "grant gina (after the tampered row)" "$(consent_page 3 gina@example.org opens)" 200
"$CS" -f -c "$T/h1/conf" --once --metrics "$T/h1/sync.prom" >"$T/h1/tamper.log" 2>&1
check "consent-sync --once stops on the tampered row: exit 3" "$?" 3
check_has "it says which row" "$(cat "$T/h1/tamper.log")" "chain break at seq=$BADSEQ"
check "relay 1 keeps its last good state" "$("$CTL" --db "$T/h1/db" --json stats | jq -r .events)" "$H1"
check "relay 1: erin still granted" "$(state 1 erin@example.org | grep -c '^opens: granted$')" 1
check "relay 1: frank not applied" "$(state 1 frank@example.org | grep -c ': granted$')" 0
check "metrics: chain broken" "$(metric 1 consent_sync_chain_broken)" 1
check "metrics: bad seq" "$(metric 1 consent_sync_chain_bad_seq)" "$BADSEQ"
check "verify on the primary finds it" "$("$CTL" --conninfo "$CONN" verify >/dev/null 2>&1; echo $?)" 1
pg_untamper "$BADSEQ"

echo "# bad input"
BAD=$T/bad.conf
badconf() { sed "s#^conninfo = .*#conninfo = $1#" "$T/h1/conf" >"$BAD"; }
# timeout: a hang fails the case instead of the suite
badconf "host=127.0.0.1 port=1 dbname=consent user=consent"
OUT=$(timeout 20 "$CS" -f -c "$BAD" --once 2>&1); RC=$?
check "unreachable host: exit 1, no hang" "$RC" 1
check_has "unreachable host: says so" "$OUT" "primary: cannot connect"
badconf "host=192.0.2.1 connect_timeout=2 dbname=consent user=consent"
OUT=$(timeout 20 "$CS" -f -c "$BAD" --once 2>&1); RC=$?
check "black-holed host with connect_timeout: exit 1" "$RC" 1
pg_password_case "$T" "$CS"
pg_sql "update schema_version set version = 99" >/dev/null
OUT=$(timeout 20 "$CS" -f -c "$T/h1/conf" --once 2>&1); RC=$?
check "wrong schema version: exit 1" "$RC" 1
check_has "wrong schema version: says so" "$OUT" "schema"
pg_sql "update schema_version set version = 1" >/dev/null
mkdir -p "$T/ro"
chown nobody "$T/ro" 2>/dev/null && chmod 0555 "$T/ro"
mkdir -p "$T/tpl" && cp "$ROOT"/conf/footer-* "$ROOT"/conf/request-* "$T/tpl/" && chmod -R a+rX "$T/tpl"
sed "s#^replica = .*#replica = $T/ro/db#; s#^database = .*#database = $T/ro/db#; s#$ROOT/conf/#$T/tpl/#" \
    "$T/h1/conf" >"$BAD"
chmod 644 "$BAD"
# a copy nobody can run: the source tree may sit in a directory only root
# can enter (CI's mktemp -d clone)
cp "$CS" "$T/consent-sync.nobody" && chmod 755 "$T/consent-sync.nobody"
OUT=$(timeout 20 runuser -u nobody -- "$T/consent-sync.nobody" -f -c "$BAD" --once 2>&1); RC=$?
check "read-only replica directory: exit 1" "$RC" 1
check_has "read-only replica directory: says so" "$OUT" "$T/ro"

echo "sync: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
