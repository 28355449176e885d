#!/usr/bin/env bash
# demo.sh - make demo-cluster shows what its README line promises: a grant
# on gate A reaches both relays (pixel kept behind the gate), a withdrawal
# on gate B reaches both relays (pixel stripped) and gate A (old pixel
# answered with a blank GIF, nothing forwarded).
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$(B=$B bash "$ROOT/contrib/demo-cluster.sh" 2>&1)
rc=$?
pass=0 fail=0
t() { # name, then an extended regex some line of the output must match
    if printf '%s\n' "$out" | grep -Eq -- "$2"; then
        echo "ok - $1"; pass=$((pass + 1))
    else
        echo "not ok - $1"; fail=$((fail + 1))
    fi
}
before=$(printf '%s\n' "$out" | sed -n '/^== alice accepts/,/^== alice withdraws/p')
after=$(printf '%s\n' "$out" | sed -n '/^== alice withdraws/,$p')
[ "$rc" = 0 ] && { echo "ok - demo-cluster exits 0"; pass=$((pass + 1)); } ||
    { echo "not ok - demo-cluster exit $rc"; fail=$((fail + 1)); }
n=$(printf '%s\n' "$before" | grep -c 'pixel: <img src="http[^"]*/o/')
[ "$n" = 2 ] && { echo "ok - after the grant on gate A both relays gate the pixel"; pass=$((pass + 1)); } ||
    { echo "not ok - gated pixels after the grant: $n of 2"; fail=$((fail + 1)); }
t "gate A forwards the pixel while alice consents" 'pixel in mail already sent: HTTP 302'
n=$(printf '%s\n' "$after" | grep -c 'pixel: <img src="data:image/gif')
[ "$n" = 2 ] && { echo "ok - after the withdrawal on gate B both relays strip the pixel"; pass=$((pass + 1)); } ||
    { echo "not ok - stripped pixels after the withdrawal: $n of 2"; fail=$((fail + 1)); }
t "gate A refuses the old pixel after the withdrawal" 'the same old pixel: HTTP 200'
n=$(printf '%s\n' "$after" | grep -c 'consent-sync: head=2 lag_events=0')
[ "$n" = 4 ] && { echo "ok - four replicas at the primary's head"; pass=$((pass + 1)); } ||
    { echo "not ok - replicas at head: $n of 4"; fail=$((fail + 1)); }
[ "$fail" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
echo "demo-cluster: $pass passed, $fail failed"
[ "$fail" = 0 ]
