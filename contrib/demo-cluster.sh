#!/usr/bin/env bash
# demo-cluster.sh - what "make demo-cluster" runs: several hosts, one
# system of record, on loopback.
#
# A private PostgreSQL 15 (tests/pg/lib.sh: initdb in a temporary
# directory, Unix socket only) is the primary. Four "hosts" share it, each
# with its own LMDB replica fed by its own consent-sync: relays 1 and 2
# (the replica and consent-rewrite, which decides as consent-milter does)
# and gates A and B (consent-gate on a free port, same keys file). The demo
# grants alice's consent on gate A's consent page, shows both relays
# keeping her pixel behind the gate, withdraws on gate B and shows both
# relays stripping it and gate A refusing the old mail's pixel.
#
# Needs root (PostgreSQL runs as postgres) and postgresql-15. DEMO_WAIT=1
# keeps everything running until Enter.
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/pg/lib.sh"
T=$(mktemp -d /tmp/cm-cluster.XXXXXX)
chmod 755 "$T"
. "$ROOT/tests/sync/lib.sh"
trap 'hosts_cleanup; pg_stop; rm -rf "$T"' EXIT

say() { printf '\n== %s\n' "$*"; }
pixel_of() { relay "$1" "$2" | grep -o '<img src="[^"]*"' | head -1; }

say "a private PostgreSQL 15 in $T"
pg_start || exit 1
for n in 1 2 3 4; do host_conf "$n" "$(pg_conninfo)" 60; done
"$CTL" pg-init --conninfo "$(pg_conninfo)" >/dev/null || { echo "pg-init failed"; exit 1; }
"$GATE" --new-key "$T/keys" >/dev/null
for n in 1 2 3 4; do sync_start "$n"; done
gate_start 3 && gate_start 4 || exit 1
echo "relay 1: replica $T/h1/db    relay 2: replica $T/h2/db"
echo "gate A: ${GATE_BASE[3]}    gate B: ${GATE_BASE[4]}    (each with its own replica)"

R=alice@example.org
say "alice accepts opens and clicks on gate A's consent page"
echo "HTTP $(consent_page 3 $R opens clicks)"
wait_until 5 granted 1 $R opens && wait_until 5 granted 2 $R opens
for n in 1 2; do echo "relay $n: $(state $n $R | tr '\n' ' ')"; echo "  pixel: $(pixel_of $n $R)"; done

O=$(link 3 o $R "https://brand.us1.list-manage.com/track/open.php?u=abc")
echo "gate A, alice's pixel in mail already sent: HTTP $(pixel 3 "$O") (302: forwarded)"

say "alice withdraws on gate B"
echo "HTTP $(withdraw_page 4 $R)"
wait_until 5 not_granted 1 $R opens && wait_until 5 not_granted 2 $R opens &&
    wait_until 5 not_granted 3 $R opens
for n in 1 2; do echo "relay $n: $(state $n $R | tr '\n' ' ')"; echo "  pixel: $(pixel_of $n $R)"; done
echo "gate A, the same old pixel: HTTP $(pixel 3 "$O") (200: a blank GIF, nothing forwarded)"
for n in 1 2 3 4; do
    echo "host $n consent-sync: head=$(metric $n consent_sync_replica_head_seq) lag_events=$(metric $n consent_sync_lag_events)"
done

if [ "${DEMO_WAIT:-0}" = 1 ]; then
    echo "running; conninfo: $(pg_conninfo); press Enter to stop"
    read -r _
fi
