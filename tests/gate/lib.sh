# Shared helpers for the consent-gate HTTP and browser tests: a real gate on
# loopback with a temporary store, keys and config; always stopped on exit.
# Usage: . tests/gate/lib.sh; gate_start; ...; gate_summary
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GATE=$ROOT/$B/consent-gate
CTL=$ROOT/$B/consentctl
T=$(mktemp -d /tmp/gate-test.XXXXXX)
GATE_PID=
PASS=0
FAIL=0

gate_cleanup() {
    if [ -n "$GATE_PID" ]; then
        kill "$GATE_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$GATE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$GATE_PID" 2>/dev/null
        wait "$GATE_PID" 2>/dev/null
    fi
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap gate_cleanup EXIT

. "$ROOT/tests/assert.sh"

write_conf() {
    cat > "$T/gate.conf" <<EOC
[milter]
database = $T/db
log_level = info
[gate]
url = http://127.0.0.1:${1:-9}
keys = $T/keys
listen = 127.0.0.1:${1:-0}
metrics_listen = 127.0.0.1:0
threads = 2
timeout = ${GATE_TIMEOUT:-2}
language = en
[domain *]
footer_html = $ROOT/conf/footer-{language}.html
footer_text = $ROOT/conf/footer-{language}.txt
request_html = $ROOT/conf/request-{language}.html
request_text = $ROOT/conf/request-{language}.txt
[domain brand.example]
controller = brand.example
language = fr
api_key = test-key-brand-0123456789
[domain other.example]
controller = other.example
language = en
opaque_links = interstitial
store_source = yes
api_key = test-key-other-0123456789
EOC
}

# gate_start: keys, config, start on a free port, rewrite url, reload.
gate_start() {
    "$GATE" --new-key "$T/keys" >/dev/null || { echo "cannot create keys"; exit 1; }
    write_conf 0
    "$GATE" -f -c "$T/gate.conf" -P "${GATE_PAGES:-$ROOT/conf/pages}" --ready-file "$T/port" \
        ${GATE_ARGS:-} >"$T/gate.log" 2>&1 &
    GATE_PID=$!
    for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    [ -s "$T/port" ] || { echo "gate did not start:"; cat "$T/gate.log"; exit 1; }
    PORT=$(cat "$T/port")
    BASE=http://127.0.0.1:$PORT
    MPORT=$(sed -n 's/.*listening .* metrics_port=\([0-9]*\).*/\1/p' "$T/gate.log" | head -1)
    MBASE=http://127.0.0.1:$MPORT
    # Public URL = where it listens (for --make-link and the Origin check).
    write_conf "$PORT"
    sed -i "s/^listen = .*/listen = 127.0.0.1:0/" "$T/gate.conf"
    gate_reload
}

gate_reload() {
    local n
    n=$(grep -c 'reload done' "$T/gate.log")
    kill -USR1 "$GATE_PID"
    for _ in $(seq 1 100); do
        [ "$(grep -c 'reload done' "$T/gate.log")" -gt "$n" ] && return 0
        grep -q 'reload refused' "$T/gate.log" && break
        sleep 0.05
    done
    echo "reload failed:"; tail -3 "$T/gate.log"; return 1
}

# link KIND CONTROLLER RECIPIENT [URL [DEST]]
link() { "$GATE" -c "$T/gate.conf" --make-link "$@"; }

# status URL [curl args]: HTTP status only
status() { local u=$1; shift; curl -s -o /dev/null -w '%{http_code}' "$@" "$u"; }

gate_summary() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
