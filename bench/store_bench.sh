#!/bin/sh
# store_bench.sh BUILD_DIR N SAMPLES - see bench/store.mk.
set -eu
B=$1 N=$2 S=$3
T=$(mktemp -d /tmp/store-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
first=1000000
[ "$N" -lt "$first" ] && first=$N
now() { date +%s.%N; }
# CPU seconds (user+sys) of finished children, from the shell's `times`
cpu() { times | tail -1 | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } print s }'; }
echo "== store bench: $N recipients, $S lookups (in $T)"
"$B/store_bench" gen 0 "$first" "$T/a.csv"
t0=$(now); c0=$(cpu)
"$B/consentctl" --db "$T/db" import "$T/a.csv" --batch 100000 >/dev/null
t1=$(now); c1=$(cpu)
echo "import_1M_seconds: $(awk "BEGIN{print $t1 - $t0}")"
echo "import_1M_cpu_seconds: $(awk "BEGIN{print $c1 - $c0}")"
echo "import_1M_rows_per_second: $(awk "BEGIN{printf \"%d\", $first / ($t1 - $t0)}")"
rm -f "$T/a.csv"
if [ "$N" -gt "$first" ]; then
    "$B/store_bench" gen "$first" $((N - first)) "$T/b.csv"
    t2=$(now); c2=$(cpu)
    "$B/consentctl" --db "$T/db" import "$T/b.csv" --batch 100000 >/dev/null
    t3=$(now); c3=$(cpu)
    rm -f "$T/b.csv"
    echo "import_total_seconds_for_$N: $(awk "BEGIN{print ($t1 - $t0) + ($t3 - $t2)}")"
    echo "import_total_cpu_seconds_for_$N: $(awk "BEGIN{print ($c1 - $c0) + ($c3 - $c2)}")"
fi
"$B/store_bench" lookup "$T/db" "$N" "$S"
echo "data_mdb_file_bytes: $(stat -c %s "$T/db/data.mdb")"
echo "== store bench done"
