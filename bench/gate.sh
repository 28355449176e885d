#!/bin/bash
# bench/gate.sh - consent-gate throughput with wrk on loopback (make bench):
# gated pixel hits per second (/o/<token>, store lookup + answer) against
# /healthz on the same server, which is the HTTP floor. Goal: >= 0.7x.
# Bounded: each wrk run lasts GATE_BENCH_SECONDS (default 5); the gate is
# killed on exit.
. "$(dirname "$0")/../tests/gate/lib.sh"
SECS=${GATE_BENCH_SECONDS:-2}
CONNS=${GATE_BENCH_CONNS:-32}
command -v wrk >/dev/null || { echo "wrk missing (apt-get install wrk)"; exit 1; }
GATE_TIMEOUT=10 gate_start
A=alice@example.org
"$CTL" --db "$T/db" grant brand.example $A opens clicks --notice bench-v1 >/dev/null
O_YES=$(link o brand.example $A https://t.example/open.gif)
O_NO=$(link o brand.example nobody@example.org https://t.example/open.gif)
[ "$(status "$O_YES")" = 302 ] && [ "$(status "$O_NO")" = 200 ] || { echo "bench setup failed"; exit 1; }

rps() { wrk -t2 -c"$CONNS" -d"${SECS}s" "$1" | awk '/^Requests\/sec:/ {printf "%d", $2}'; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ROUNDS=${GATE_BENCH_ROUNDS:-5}
echo "== gate bench: wrk -t2 -c$CONNS -d${SECS}s x $ROUNDS rounds (interleaved, median), gate threads 2, access log on"
rps "$BASE/healthz" >/dev/null                  # warm-up
HS=() YS=() NS=()
for _ in $(seq 1 "$ROUNDS"); do
    HS+=("$(rps "$BASE/healthz")")
    YS+=("$(rps "$O_YES")")
    NS+=("$(rps "$O_NO")")
done
H=$(median "${HS[@]}") Y=$(median "${YS[@]}") N=$(median "${NS[@]}")
# The machine may be shared: each round compares runs made seconds apart,
# and the reported ratio is the median of the per-round ratios.
RY=() RN=()
for i in "${!HS[@]}"; do
    RY+=("$(awk "BEGIN{printf \"%.2f\", ${YS[$i]} / ${HS[$i]}}")")
    RN+=("$(awk "BEGIN{printf \"%.2f\", ${NS[$i]} / ${HS[$i]}}")")
done
echo "gate_healthz_rps: $H   (rounds: ${HS[*]})"
echo "gate_pixel_consent_rps (302): $Y   (rounds: ${YS[*]})"
echo "gate_pixel_no_consent_rps (GIF): $N   (rounds: ${NS[*]})"
echo "gate_pixel_vs_healthz_ratio: $(median "${RY[@]}") (rounds: ${RY[*]}; no consent: $(median "${RN[@]}"); goal >= 0.7)"
echo "== gate bench done"
