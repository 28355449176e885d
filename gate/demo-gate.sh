#!/usr/bin/env bash
# demo-gate.sh - start consent-gate for "make demo" and print links to try.
#
#   gate/demo-gate.sh CONF RECIPIENT [DOMAIN]
#
# Starts $B/consent-gate in the background with CONF (its [gate] listen,
# keys and [milter] database) and the page templates of this checkout,
# waits until it listens (bounded), writes its pid to DIR/gate.pid (DIR =
# the directory of CONF; the caller stops it with: kill "$(cat DIR/gate.pid)"),
# its log to DIR/gate.log, and prints a withdrawal link and a consent-page
# link for RECIPIENT, both as they appear in mail ([gate] url) and as they
# work right now on this machine (the address the gate listens on).
# Creates the keys file with --new-key if it does not exist yet.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
GATE=${GATE:-$SRCDIR/$B/consent-gate}
CONF=${1:?usage: demo-gate.sh CONF RECIPIENT [DOMAIN]}
RCPT=${2:?usage: demo-gate.sh CONF RECIPIENT [DOMAIN]}
DOM=${3:-brand.example}
DIR=$(cd "$(dirname "$CONF")" && pwd)

keys=$(sed -n 's/^keys *= *//p' "$CONF" | tail -1)
case "$keys" in /*) ;; ?*) keys=$DIR/$keys ;; esac
if [ -n "$keys" ] && [ ! -s "$keys" ]; then
    "$GATE" --new-key "$keys" >/dev/null || exit 1
fi
"$GATE" -n -c "$CONF" -P "$SRCDIR/conf/pages" >/dev/null || exit 1
rm -f "$DIR/gate.port"
"$GATE" -f -c "$CONF" -P "$SRCDIR/conf/pages" --ready-file "$DIR/gate.port" \
    >"$DIR/gate.log" 2>&1 &
echo $! >"$DIR/gate.pid"
for _ in $(seq 1 100); do [ -s "$DIR/gate.port" ] && break; sleep 0.05; done
if [ ! -s "$DIR/gate.port" ]; then
    echo "consent-gate did not start:"; cat "$DIR/gate.log"
    kill "$(cat "$DIR/gate.pid")" 2>/dev/null
    exit 1
fi
port=$(cat "$DIR/gate.port")
host=$(sed -n 's/^listen *= *//p' "$CONF" | tail -1)
host=${host%:*}
[ -n "$host" ] && [ "$host" != 0.0.0.0 ] || host=127.0.0.1
w=$("$GATE" -c "$CONF" --make-link w "$DOM" "$RCPT") || exit 1
p=$("$GATE" -c "$CONF" --make-link p "$DOM" "$RCPT") || exit 1
echo "consent-gate listening on $host:$port (pid $(cat "$DIR/gate.pid"), log $DIR/gate.log)"
echo "withdrawal link for $RCPT (as in mail): $w"
echo "  try it now:   http://$host:$port/w/${w##*/w/}"
echo "consent page for $RCPT:   http://$host:$port/p/${p##*/p/}"
