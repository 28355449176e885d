# lib.sh - several hosts on loopback around one private PostgreSQL (sourced
# by tests/sync/run.sh, bench/sync.sh and contrib/demo-cluster.sh).
#
# A "host" N is a directory $T/hN with its own replica ($T/hN/db), its
# configuration ($T/hN/conf: [store] backend = postgresql), a consent-sync
# and, for a gate host, a consent-gate on a free port. All gates share one
# keys file ($T/keys): any gate opens any token. Relays are the replica
# plus consent-rewrite, which decides exactly as the milter does.
#
# Needs tests/pg/lib.sh (the private PostgreSQL: pg_start, pg_stop ...),
# B (build directory), ROOT (source tree).
# shellcheck disable=SC2034

CS=$ROOT/$B/consent-sync
GATE=$ROOT/$B/consent-gate
CTL=$ROOT/$B/consentctl
RW=$ROOT/$B/consent-rewrite
PASS=0
FAIL=0
SYNC_PIDS=()
GATE_PIDS=()

. "$ROOT/tests/assert.sh"

# wait_until SECONDS CMD... - poll CMD every 20 ms until it succeeds.
wait_until() {
    local limit=$1 i=0
    shift
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge $((limit * 50)) ] && return 1
        sleep 0.02
    done
}

# host_conf N CONNINFO [MAX_STALENESS] - the configuration of host N.
host_conf() {
    local d=$T/h$1
    mkdir -p "$d"
    cat >"$d/conf" <<EOF
[milter]
socket = unix:$d/milter.sock
database = $d/db
rules = $ROOT/conf/trackers.rules
spool_dir = $d
trace_header = yes
workers = 4
log_level = ${SYNC_LOG_LEVEL:-info}
[gate]
url = http://127.0.0.1:9
keys = $T/keys
listen = 127.0.0.1:0
metrics_listen = 127.0.0.1:0
threads = 4
timeout = 5
language = en
[store]
backend = postgresql
conninfo = $2
replica = $d/db
max_staleness = ${3:-60}
poll_interval = 1
[domain *]
footer_html = $ROOT/conf/footer-{language}.html
footer_text = $ROOT/conf/footer-{language}.txt
request_html = $ROOT/conf/request-{language}.html
request_text = $ROOT/conf/request-{language}.txt
[domain brand.example]
controller = brand.example
api_key = test-key-brand-0123456789
EOF
}

# sync_start N [ARGS] - consent-sync of host N (pid in SYNC_PID[N]).
declare -A SYNC_PID GATE_PID GATE_BASE
sync_start() {
    local n=$1
    shift
    "$CS" -f -c "$T/h$n/conf" --metrics "$T/h$n/sync.prom" "$@" >>"$T/h$n/sync.log" 2>&1 &
    SYNC_PID[$n]=$!
}
sync_stop() {
    local pid=${SYNC_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    SYNC_PID[$1]=
}

# gate_start N - consent-gate of host N on a free port (GATE_BASE[N]).
gate_start() {
    local n=$1
    rm -f "$T/h$n/port"
    "$GATE" -f -c "$T/h$n/conf" -P "$ROOT/conf/pages" --ready-file "$T/h$n/port" \
        >>"$T/h$n/gate.log" 2>&1 &
    GATE_PID[$n]=$!
    wait_until 10 test -s "$T/h$n/port" || { echo "gate $n did not start:"; tail "$T/h$n/gate.log"; return 1; }
    GATE_BASE[$n]=http://127.0.0.1:$(cat "$T/h$n/port")
    # the metrics listener (its own port, off the public one): the newest
    # start line of this gate's log names it
    GATE_MBASE[$n]=http://127.0.0.1:$(sed -n 's/.*listening .* metrics_port=\([0-9]*\).*/\1/p' \
        "$T/h$n/gate.log" | tail -1)
}
gate_stop() {
    local pid=${GATE_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    GATE_PID[$1]=
}

hosts_cleanup() {
    local n
    for n in "${!SYNC_PID[@]}"; do sync_stop "$n"; done
    for n in "${!GATE_PID[@]}"; do gate_stop "$n"; done
}

# link N KIND RCPT [URL [DEST]] - the path of a gate link (/KIND/TOKEN).
link() {
    local n=$1 u
    shift
    u=$("$GATE" -c "$T/h$n/conf" --make-link "$1" brand.example "${@:2}") || return 1
    printf '/%s\n' "${u#http://127.0.0.1:9/}"
}

# state N RCPT - "opens: granted" ... lines as the replica of host N holds them.
state() { "$CTL" --db "$T/h$1/db" show brand.example "$2" 2>&1; }
# granted N RCPT PURPOSE - the replica of host N says PURPOSE is granted.
granted() { state "$1" "$2" | grep -qx "$3: granted"; }
not_granted() { ! granted "$@"; }

# consent_page N RCPT PURPOSE... - accept PURPOSEs on gate N's consent page; prints
# the HTTP status.
consent_page() {
    local n=$1 rcpt=$2 p page csrf notice data
    shift 2
    p=$(link "$n" p "$rcpt") || return 1
    page=$(curl -s "${GATE_BASE[$n]}$p")
    csrf=$(printf '%s' "$page" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
    notice=$(printf '%s' "$page" | grep -o 'name="notice" value="[0-9a-f]*"' | cut -d'"' -f4)
    data="csrf=$csrf&lang=en&notice=$notice&action=accept"
    for pp in "$@"; do data="$data&purpose=$pp"; done
    curl -s -o "$T/page.out" -w '%{http_code}' -d "$data" "${GATE_BASE[$n]}$p"
}

# withdraw_page N RCPT - withdraw everything on gate N's page; prints the status.
withdraw_page() {
    local n=$1 w csrf
    w=$(link "$n" w "$2") || return 1
    csrf=$(curl -s "${GATE_BASE[$n]}$w" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
    curl -s -o "$T/page.out" -w '%{http_code}' -d "csrf=$csrf" "${GATE_BASE[$n]}$w"
}

# pixel N PATH - the status of GET PATH on gate N (302 forwarded, 200 blank GIF).
pixel() { curl -s -o /dev/null -w '%{http_code}' "${GATE_BASE[$1]}$2"; }

# relay N RCPT - the message a relay with host N's replica sends RCPT (stdout).
relay() {
    local t
    t=$(<"$ROOT/tests/e2e/msgs/newsletter.eml")
    t=${t//@DOMAIN@/brand.example}
    t=${t//@RCPT@/$2}
    t=${t//@MARKER@/m$RANDOM}
    t=${t//@EXTRA@/}
    printf "%s\n" "$t" | "$RW" -c "$T/h$1/conf" --from news@brand.example --rcpt "$2" 2>>"$T/h$1/rewrite.log"
}
# relay_gates N RCPT - the relay of host N gates RCPT's pixel (keeps it, via the gate).
relay_gates() { relay "$1" "$2" | grep -q '127.0.0.1:9/o/'; }
relay_strips() { ! relay_gates "$@" && relay "$1" "$2" | grep -q 'Autumn sale'; }

# milter_decision N RCPT - the decision of a real consent-milter on host N
# for a newsletter to RCPT (miltertest): consent, no-consent ...
milter_decision() {
    MT_MILTER=$ROOT/$B/consent-milter MT_CONF=$T/h$1/conf MT_SOCK=unix:$T/h$1/milter.sock \
        MT_SRC=$ROOT/tests/miltertest MT_RCPT=$2 timeout 60 miltertest -s "$ROOT/tests/sync/relay.lua" \
        2>>"$T/h$1/milter.log" | sed -n 's/^DECISION //p'
}

# metric N NAME - a value from host N's consent-sync metrics file.
metric() { awk -v m="$2" '$1 == m { print $2 }' "$T/h$1/sync.prom" 2>/dev/null; }

# ---- PostgreSQL cases on top of tests/pg/lib.sh
# On tests/pg/lib.sh: pg_sql, pg_conninfo, as_pg, PG_DATA, PGBIN.
pg_ctl_() { as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" "$@" >/dev/null; }
# pg_kill / pg_restart - the primary goes away at once (no shutdown
# checkpoint, as a crash), then comes back on the same data directory.
pg_kill() { pg_ctl_ -m immediate -w stop; }
pg_restart() {
    pg_ctl_ -w -t 60 -l "$PG_DIR/log" start -o "-k $PG_DIR -c listen_addresses='' -c fsync=off"
}
# pg_action NAME - the action column's value (enum store_action).
pg_action() { case $1 in grant) echo 0 ;; refuse) echo 1 ;; withdraw) echo 2 ;; *) echo -1 ;; esac; }
# pg_tamper SEQ / pg_untamper SEQ - change one byte of a ledger row's raw
# value (append-only triggers set aside as the superuser may), and put it back.
pg_tamper() {
    pg_sql "create table if not exists tamper_saved (seq bigint primary key, raw bytea);
        insert into tamper_saved select seq, raw from ledger where seq = $1 on conflict do nothing;
        alter table ledger disable trigger all;
        update ledger set raw = set_byte(raw, 48, (get_byte(raw, 48) + 1) % 256) where seq = $1;
        alter table ledger enable trigger all;" >/dev/null
}
pg_untamper() {
    pg_sql "alter table ledger disable trigger all;
        update ledger l set raw = s.raw from tamper_saved s where l.seq = s.seq and l.seq = $1;
        alter table ledger enable trigger all;" >/dev/null
}
# pg_password_case T CS - a role with a password, a passfile with the wrong
# one: consent-sync --once says so and exits 1, within 20 s.
pg_password_case() {
    local sock out rc
    sock=$(pg_conninfo | sed -n 's/.*host=\([^ ]*\).*/\1/p')
    pg_sql "drop role if exists pwuser; create role pwuser login password 'right-pw';
        grant consent_relay to pwuser" >/dev/null 2>&1 ||
        pg_sql "create role pwuser login password 'right-pw'" >/dev/null
    sed -i '1i local all pwuser scram-sha-256' "$PG_DATA/pg_hba.conf"
    pg_ctl_ reload
    printf '*:*:*:pwuser:wrong-pw\n' >"$1/pgpass"
    chmod 600 "$1/pgpass"
    sed -e "s#^conninfo = .*#conninfo = host=$sock dbname=consent user=pwuser#" \
        -e "s#^passfile = .*##" -e "s#^\[store\]#[store]\npassfile = $1/pgpass#" \
        "$1/h1/conf" >"$1/pw.conf"
    out=$(timeout 20 "$2" -f -c "$1/pw.conf" --once 2>&1)
    rc=$?
    check "wrong password: exit 1, no hang" "$rc" 1
    check_has "wrong password: says so" "$out" "password"
}
