#!/bin/sh
# bench/import.sh - N records through `consentctl import` into a private
# PostgreSQL 15 (see bench/import.mk). The server gets memory for the
# indexes (shared_buffers) and room for the WAL of one big transaction;
# fsync is off as in every test server (tests/pg/lib.sh), so the figure
# is CPU and memory, not the disk. Prints one line of figures.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
N=${N:-10000000}
CTL=$ROOT/$B/consentctl
. "$ROOT/tests/pg/lib.sh"
T=$(mktemp -d)
trap 'pg_stop; rm -rf "$T"' EXIT
PG_OPTS="-c shared_buffers=1GB -c max_wal_size=32GB -c checkpoint_timeout=1h \
-c wal_level=minimal -c max_wal_senders=0 -c full_page_writes=off -c wal_buffers=64MB \
-c maintenance_work_mem=256MB"
pg_need bench-import
C=$(pg_conninfo)
"$CTL" --conninfo "$C" pg-init >/dev/null || { echo "bench-import: pg-init failed"; exit 1; }
# the server's own CPU time, per statement, summed from its log
pg_sql "alter database consent set log_statement_stats = on" >/dev/null
# recipients with one to three events each; a fifth of them later withdraw
awk -v n="$N" 'BEGIN {
    print "controller,recipient,time,action,purposes,method,notice_id,source_ip,user_agent"
    for (i = 0; i < n; i++) {
        if (i % 5 == 4)
            printf "brand,user%d@example.org,%d,withdraw,opens,withdraw-link,,,\n",
                i - 1, 1600000000 + i
        else
            printf "brand,user%d@example.org,%d,grant,opens clicks,signup-form,notice-v3,192.0.2.%d,Mozilla/5.0 (X11; Linux x86_64)\n",
                i, 1600000000 + i, i % 250
    }
}' >"$T/in.csv"
s=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$T/cpu" "$CTL" --conninfo "$C" import "$T/in.csv" \
    >"$T/out" 2>"$T/err"
rc=$?
e=$(date +%s.%N)
if [ "$rc" != 0 ]; then
    echo "bench-import: import failed (exit $rc):"; tail -3 "$T/err"; exit 1
fi
got=$(pg_sql "select seq from ledger_head")
[ "$got" = "$N" ] || { echo "bench-import: head is $got, want $N"; cat "$T/out"; exit 1; }
srv=$(awk '/ s user, / && !/total/ { u += $2; s += $5 } END { printf "%.1f", u + s }' "$PG_DIR/log")
awk -v n="$N" -v s="$s" -v e="$e" -v cpu="$(cat "$T/cpu")" -v srv="$srv" \
    -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
    split(cpu, c, " "); t = e - s
    printf "bench-import: %d records into PostgreSQL in %.1f s, %d records/s " \
           "(goal: 10M in < 180 s); CPU: consentctl %.1f s, server %.1f s; load %s\n",
           n, t, n / t, c[1] + c[2], srv, load }'
