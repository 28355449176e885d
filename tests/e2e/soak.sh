#!/usr/bin/env bash
# soak.sh - sustained load with faults (issue 13), `make soak`.
#
# One private Postfix on loopback (tests/e2e/lib.sh) in front of
# consent-milter, whose consent store is the LMDB replica of a relay host
# fed by consent-sync from a private PostgreSQL (tests/pg/lib.sh); a gate
# host with its own replica, consent-sync and consent-gate
# (tests/sync/lib.sh). SOAK_SESSIONS loops, each one SMTP session at a time
# with smtp-source, send for SOAK_SECONDS a mix of tests/fixtures messages
# (and /work/shared/corpus ones when ../shared exists beside the tree), each
# with its own Message-ID, to a pool of recipients whose consent the gate's
# API keeps granting and withdrawing. A message answered 4xx is sent again
# (same Message-ID) until it is accepted.
#
# Faults, at fixed fractions of the run: SIGUSR1 to the milter every 30 s;
# SIGKILL to the milter then a restart, twice (30 % and 60 %); consent-sync
# of the relay killed at 45 % and restarted 3 s later; PostgreSQL stopped
# at once (a crash) at 75 % and restarted 3 s later.
#
# Checks at the end (tests/e2e/soak_check.py says them in full):
#   - every injected Message-ID is in exactly one sink file;
#   - each delivered message's decision (trace header) is the recipient's
#     consent, as the relay's replica records it, when the milter read it.
#     The ledger time of a change is in whole seconds and the replica sees
#     it after consent-sync copied it, so a change recorded at second C is
#     "in flight" over [C, C + 1 + LAG], LAG = 2 s, or, for a change
#     recorded during an outage of consent-sync or PostgreSQL, until 5 s
#     after that outage ended. A message whose own flight [sent, accepted]
#     meets the flight of a change of its recipient may carry either
#     state; every other message must carry exactly the recorded state.
#   - the ledger verifies on the primary and on both replicas, and both
#     replicas hold the primary's head.
# Prints injected/delivered/duplicated/lost, tempfails, peak and final RSS
# and open fds of each daemon, withdrawals made and honoured; exits 1 on any
# failure. Needs root, Postfix, postgresql-15, curl, python3; skips loudly
# without them, or fails when E2E_REQUIRE=1.
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRCDIR=$ROOT
SECS=${SOAK_SECONDS:-600}
SESSIONS=${SOAK_SESSIONS:-20}
NRCPT=${SOAK_RECIPIENTS:-24}
MILTER=$ROOT/$B/consent-milter
CONSENTCTL=$ROOT/$B/consentctl
RULES=$ROOT/conf/trackers.rules
export PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin

. "$ROOT/tests/e2e/lib.sh"
cannot() { e2e_cannot_run soak "$1"; }
why=$(e2e_requirements) || cannot "$why"
for c in smtp-source curl python3; do command -v $c >/dev/null || cannot "missing $c"; done
[ -x /usr/lib/postgresql/15/bin/initdb ] || cannot "postgresql-15 is not installed"
[ "$SECS" -ge 30 ] || die "SOAK_SECONDS must be at least 30"

. "$ROOT/tests/pg/lib.sh"
T=$(mktemp -d /tmp/cm-soak.XXXXXX)
chmod 755 "$T"
P=$T
. "$ROOT/tests/sync/lib.sh"
SAMPLER=
BURST=
SESS_PIDS=()

soak_cleanup() {
    local pid
    # a run cut short: the session loops and the burst stop first
    for pid in "${SESS_PIDS[@]}" $BURST; do kill "$pid" 2>/dev/null; done
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
    [ -d "$P/etc" ] && postfix -c "$P/etc" stop >/dev/null 2>&1
    [ -n "$MILTER_PID" ] && kill -9 "$MILTER_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    hosts_cleanup
    pg_stop
    if [ "${SOAK_KEEP:-0}" = 1 ]; then echo "soak: kept $T"; else rm -rf "$T"; fi
}
trap soak_cleanup EXIT
trap 'exit 1' INT TERM

phase() { echo "soak: [+${SECONDS}s] $*"; }
pg_need soak
phase "PostgreSQL up"
CONN=$(pg_conninfo)
host_conf 1 "$CONN" 60
host_conf 3 "$CONN" 60
"$CTL" pg-init --conninfo "$CONN" >"$T/pg-init.log" 2>&1 ||
    { cat "$T/pg-init.log"; die "consentctl pg-init failed"; }
"$GATE" --new-key "$T/keys" >/dev/null || die "no keys"

# The milter: relay host 1's configuration, its socket in a set-group-id
# directory of group postfix (the socket keeps that group, mode 0660: the
# postfix user connects), every From: domain under controller brand.example.
mkdir -p "$T/ms" "$T/mspool" "$T/sink"
chgrp postfix "$T/ms" && chmod 2750 "$T/ms"
chown postfix "$T/sink"
sed -e "s#^socket = .*#socket = unix:$T/ms/milter.sock\nuser = root\non_error = tempfail\npid_file = $T/milter.pid\nmax_message_size = 20M\nspool_dir = $T/mspool\nspool_threshold = 64K#" \
    -e '/^spool_dir = /d' -e "s#^workers = .*#workers = 16#" \
    -e "s#^\[domain \*\]#[domain *]\ncontroller = brand.example\ndkim_signed = rewrite#" \
    -e "s#^url = .*#url = http://127.0.0.1:9#" "$T/h1/conf" >"$T/milter.conf"
start_soak_milter() {
    rm -f "$T/ms/milter.sock"
    setsid "$MILTER" -f -c "$T/milter.conf" 2>>"$T/milter.log" &
    MILTER_PID=$!
    echo "$MILTER_PID" >"$T/milter.pidnow"
    wait_for 10 test -S "$T/ms/milter.sock" && kill -0 "$MILTER_PID" 2>/dev/null ||
        { tail "$T/milter.log" >&2; die "milter did not start"; }
}

# Postfix: the e2e instance (main.cf.inline), the socket moved.
mkdir -p "$P/etc" "$P/spool" "$P/data"
chown postfix "$P/data"
write_master_cf
write_main_cf
postconf -c "$P/etc" -e "smtpd_milters = unix:$T/ms/milter.sock" \
    "default_process_limit = $((SESSIONS + 10))" || die "postconf"

for n in 1 3; do sync_start "$n"; done
gate_start 3 || die "gate did not start"
start_sink
start_soak_milter
pf_start "$P"
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT_MTA" || die "postfix did not listen"

# ---- the gate's API: grant or withdraw, recorded with the time
NH=$(printf 'soak notice' | sha256sum | cut -c1-64)
api() { # api RCPT ACTION -> prints the HTTP status
    local p='"opens","clicks"'
    [ "$2" = withdraw ] && p=
    curl -s -m 10 -o /dev/null -w '%{http_code}' \
        -H 'Authorization: Bearer test-key-brand-0123456789' -H 'Content-Type: application/json' \
        -d '{"controller":"brand.example","recipient":"'"$1"'","action":"'"$2"'","purposes":['"$p"'],"notice_id":"soak","notice_sha256":"'"$NH"'"}' \
        "${GATE_BASE[3]}/api/v1/consent"
}
rcpt_of() { echo "r$1@example.org"; }
declare -A STATE
for i in $(seq 0 $((NRCPT - 1))); do
    a=grant
    [ $((i % 2)) = 1 ] && a=withdraw
    c=$(api "$(rcpt_of "$i")" $a)
    [ "$c" = 201 ] || die "seeding $(rcpt_of "$i"): $a -> $c"
    STATE[$i]=$a
done
wait_until 10 granted 1 "$(rcpt_of 0)" opens || die "the relay's replica did not follow the seed"
phase "daemons up, $NRCPT recipients seeded"

# ---- the messages: fixtures (without the ones the rewriter refuses) and
# the shared corpus, each made a template with a Message-ID placeholder;
# each one goes through once before the run, to keep only what the milter
# accepts (reported).
mkdir -p "$T/tpl" "$T/out"
srcs=()
for f in "$ROOT"/tests/fixtures/*.eml; do
    case $f in *.expected.eml) continue ;; esac
    [ -e "${f%.eml}.expected.err" ] && continue
    srcs+=("$f")
done
srcs+=("$ROOT/bench/newsletter.eml")
corpus=${SOAK_CORPUS:-$ROOT/../shared/corpus}
if [ -d "$corpus" ]; then
    while IFS= read -r f; do srcs+=("$f"); done < <(find "$corpus" -name '*.eml' -size -2M | sort)
fi
TPLS=()
k=0
skipped=0
for f in "${srcs[@]}"; do
    t=$T/tpl/$k.eml
    { printf 'Message-ID: <@ID@>\n'
      awk 'BEGIN { h = 1; skip = 0 }
           h && /^\r?$/ { h = 0 }
           h && tolower($0) ~ /^message-id:/ { skip = 1; next }
           h && skip && /^[ \t]/ { next }
           { skip = 0; print }' "$f"; } >"$t"
    sed "s/@ID@/soak-pre-$k@soak.test/" "$t" >"$T/out/pre.eml"
    if smtp-source -s 1 -m 1 -F "$T/out/pre.eml" -f news@brand.example -t "$(rcpt_of 0)" \
        127.0.0.1:$PORT_MTA >"$T/out/pre.log" 2>&1 && ! grep -q . "$T/out/pre.log"; then
        TPLS+=("$t")
        echo "$k $f" >>"$T/templates"
    else
        skipped=$((skipped + 1))
        echo "soak: left out (refused before the run): ${f#"$ROOT"/} $(head -c 200 "$T/out/pre.log")"
    fi
    k=$((k + 1))
done
[ ${#TPLS[@]} -ge 5 ] || die "only ${#TPLS[@]} messages accepted before the run"
echo "soak: ${#TPLS[@]} messages in the mix ($skipped left out), $SESSIONS sessions, ${SECS}s"

# ---- the run
START=$EPOCHREALTIME
END=$(( ${START%.*} + SECS ))
: >"$T/faults"
fault() { echo "$EPOCHREALTIME $*" >>"$T/faults"; }

# sampler: RSS (kB) and open fds of each daemon, once a second
sample() {
    local name pid
    while :; do
        for name in milter gate sync-relay sync-gate; do
            case $name in
            milter) pid=$(cat "$T/milter.pidnow" 2>/dev/null) ;;
            gate) pid=${GATE_PID[3]} ;;
            sync-relay) pid=$(cat "$T/sync1.pid" 2>/dev/null) ;;
            sync-gate) pid=${SYNC_PID[3]} ;;
            esac
            [ -n "$pid" ] && [ -r "/proc/$pid/status" ] || continue
            printf '%s %s %s %s\n' "$EPOCHREALTIME" "$name" \
                "$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")" \
                "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)" >>"$T/samples"
        done
        sleep 1
    done
}
echo "${SYNC_PID[1]}" >"$T/sync1.pid"
sample &
SAMPLER=$!

# one session loop: SESSION-INDEX ids, a random template and recipient each;
# 4xx (smtp-source's complaint) -> counted, sent again after 0.5 s.
session() {
    local s=$1 i=0 id t r t0 t1 tries
    while [ "${EPOCHREALTIME%.*}" -lt "$END" ]; do
        id=soak-$s-$i@soak.test
        i=$((i + 1))
        t=${TPLS[RANDOM % ${#TPLS[@]}]}
        r=$(rcpt_of $((RANDOM % NRCPT)))
        sed "s/@ID@/$id/" "$t" >"$T/out/s$s.eml"
        echo "$id $r ${t##*/}" >>"$T/out/injected.$s"
        tries=0
        while :; do
            t0=$EPOCHREALTIME
            if smtp-source -s 1 -m 1 -F "$T/out/s$s.eml" -f news@brand.example -t "$r" \
                127.0.0.1:$PORT_MTA >"$T/out/s$s.log" 2>&1 && ! grep -q . "$T/out/s$s.log"; then
                break
            fi
            t1=$EPOCHREALTIME
            echo "$id $t0 $t1 $(tr '\n' ' ' <"$T/out/s$s.log" | head -c 300)" >>"$T/out/tempfail.$s"
            tries=$((tries + 1))
            # no acceptance in 3 minutes: given up (counted as lost)
            [ $tries -lt 360 ] || continue 2
            sleep 0.5
        done
        t1=$EPOCHREALTIME
        echo "$id $r $t0 $t1" >>"$T/out/accepted.$s"
    done
}
for s in $(seq 1 "$SESSIONS"); do
    session "$s" &
    SESS_PIDS+=($!)
done

# the gate's burst: a change every ~0.3 s, each with the time around it
burst() {
    local n r a c t0
    declare -A st
    for n in "${!STATE[@]}"; do st[$n]=${STATE[$n]}; done
    while [ "${EPOCHREALTIME%.*}" -lt "$END" ]; do
        n=$((RANDOM % NRCPT))
        a=grant
        [ "${st[$n]}" = grant ] && a=withdraw
        t0=$EPOCHREALTIME
        c=$(api "$(rcpt_of "$n")" $a)
        echo "$t0 $EPOCHREALTIME $(rcpt_of "$n") $a $c" >>"$T/changes"
        [ "$c" = 201 ] && st[$n]=$a
        sleep 0.3
    done
}
burst &
BURST=$!

at() { awk -v s="$START" -v f="$1" -v n="$SECS" 'BEGIN { printf "%.3f", s + f * n }'; }
sleep_until() {
    local d
    d=$(awk -v t="$1" -v now="$EPOCHREALTIME" 'BEGIN { d = t - now; printf "%.3f", (d > 0 ? d : 0) }')
    sleep "$d"
}
# the faults, in time order
EV=()
for k in $(seq 30 30 $((SECS - 1))); do EV+=("$(awk -v s="$START" -v k="$k" 'BEGIN { printf "%.3f", s + k }') usr1"); done
EV+=("$(at 0.30) kill-milter" "$(at 0.45) kill-sync" "$(at 0.60) kill-milter" "$(at 0.75) pg-crash")
while read -r when what; do
    sleep_until "$when"
    case $what in
    usr1)
        kill -USR1 "$MILTER_PID" && fault usr1 ;;
    kill-milter)
        kill -9 "$MILTER_PID" && fault milter-killed
        wait "$MILTER_PID" 2>/dev/null
        sleep 1
        start_soak_milter
        fault milter-restarted ;;
    kill-sync)
        sync_stop 1 KILL
        fault sync-down
        sleep 3
        sync_start 1
        echo "${SYNC_PID[1]}" >"$T/sync1.pid"
        fault sync-up ;;
    pg-crash)
        pg_kill
        fault pg-down
        sleep 3
        pg_restart || die "PostgreSQL did not restart"
        fault pg-up ;;
    esac
done < <(printf '%s\n' "${EV[@]}" | sort -n)

for pid in "${SESS_PIDS[@]}"; do wait "$pid"; done
wait "$BURST"
SESS_PIDS=()
BURST=
phase "sending done"
echo "soak: sending done at +$(awk -v s="$START" -v t="$EPOCHREALTIME" 'BEGIN { printf "%d", t - s }')s, draining the queue"

# ---- drain: queue empty, the sink quiet, the replicas at the primary's head
postqueue -c "$P/etc" -f >/dev/null 2>&1
wait_for 120 queue_empty || echo "soak: the queue is not empty after 120 s"
sleep 2
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
SAMPLER=
HEAD=$(pg_sql "select seq from ledger_head")
heads_equal() {
    [ "$(metric 1 consent_sync_replica_head_seq)" = "$HEAD" ] &&
        [ "$(metric 3 consent_sync_replica_head_seq)" = "$HEAD" ]
}
wait_until 30 heads_equal || echo "soak: a replica is not at the primary's head $HEAD"
phase "drained"

# ---- what the store records, the ledger's verification
for i in $(seq 0 $((NRCPT - 1))); do
    "$CTL" --db "$T/h1/db" --json proof brand.example "$(rcpt_of "$i")" >"$T/proof.$i.json" 2>>"$T/proof.err"
done
VERIFY=""
"$CTL" --conninfo "$CONN" verify >"$T/verify.primary" 2>&1 && VERIFY="$VERIFY primary=ok" ||
    VERIFY="$VERIFY primary=FAILED"
for n in 1 3; do
    "$CTL" --db "$T/h$n/db" verify >"$T/verify.h$n" 2>&1 && VERIFY="$VERIFY replica$n=ok" ||
        VERIFY="$VERIFY replica$n=FAILED"
done
H1=$(metric 1 consent_sync_replica_head_seq)
H3=$(metric 3 consent_sync_replica_head_seq)
cat "$T"/out/injected.* >"$T/injected"
cat "$T"/out/accepted.* >"$T/accepted"
cat "$T"/out/tempfail.* >"$T/tempfails" 2>/dev/null || : >"$T/tempfails"
python3 "$ROOT/tests/e2e/soak_check.py" --dir "$T" --seconds "$SECS" --start "$START" \
    --verify "$VERIFY" --heads "primary=$HEAD replica1=${H1:-none} replica3=${H3:-none}"
rc=$?
[ $rc = 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit $rc
