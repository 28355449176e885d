#!/bin/sh
# store_bench.sh BUILD_DIR N SAMPLES - see bench/store.mk.
set -eu
B=$1 N=$2 S=$3 BATCH=${4:-100000}
T=$(mktemp -d /tmp/store-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
first=1000000
[ "$N" -lt "$first" ] && first=$N
now() { date +%s.%N; }
# run_timed NAME CMD...: run CMD, print NAME_cpu_seconds (user+sys) when
# /usr/bin/time exists (the wall clock is distorted on a shared VM).
run_timed() {
    n=$1
    shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%U %S" -o "$T/time" "$@" >/dev/null
        echo "${n}_cpu_seconds: $(awk '{print $1 + $2}' "$T/time")"
    else
        "$@" >/dev/null
    fi
}
echo "== store bench: $N recipients, $S lookups, import batches of $BATCH (in $T)"
"$B/store_bench" gen 0 "$first" "$T/a.csv"
t0=$(now)
run_timed "import_first_$first" "$B/consentctl" --db "$T/db" import "$T/a.csv" --batch "$BATCH"
t1=$(now)
echo "import_first_${first}_seconds: $(awk "BEGIN{print $t1 - $t0}")"
echo "import_first_${first}_rows_per_second: $(awk "BEGIN{printf \"%d\", $first / ($t1 - $t0)}")"
rm -f "$T/a.csv"
if [ "$N" -gt "$first" ]; then
    "$B/store_bench" gen "$first" $((N - first)) "$T/b.csv"
    t2=$(now)
    run_timed "import_next_$((N - first))" "$B/consentctl" --db "$T/db" import "$T/b.csv" --batch "$BATCH"
    t3=$(now)
    rm -f "$T/b.csv"
    echo "import_total_seconds_for_$N: $(awk "BEGIN{print ($t1 - $t0) + ($t3 - $t2)}")"
fi
"$B/store_bench" lookup "$T/db" "$N" "$S"
echo "data_mdb_file_bytes: $(stat -c %s "$T/db/data.mdb")"
echo "== store bench done"
