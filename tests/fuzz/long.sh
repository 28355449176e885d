#!/bin/sh
# long.sh BUILD SECONDS NAME... - run each libFuzzer harness BUILD/fuzz-NAME
# for SECONDS, one after the other (one fuzzing process at a time, under
# nice -n 10), on a corpus kept in BUILD/corpus/NAME plus the seeds and
# regressions of tests/fuzz/NAME; then print, per target, the executions
# and the coverage (cov: edges, ft: features) of libFuzzer's final
# statistics. A crash leaves its input in BUILD/crashes/NAME/ (copy it to
# tests/fuzz/NAME/regressions/ once fixed) and fails the run, after the
# other targets have had their turn.
set -u
export LC_ALL=C # the last status line may quote binary dictionary entries
B=$1 SECS=$2
shift 2
cd "$(dirname "$0")/../.."
fail=0
report=$B/fuzz-long.txt
printf '%-8s %8s %12s %10s %8s %8s %7s  %s\n' target seconds executions exec/s cov ft corpus \
    result >"$report"
for n in "$@"; do
    mkdir -p "$B/corpus/$n" "$B/crashes/$n"
    log=$B/fuzz-$n.log
    dirs="$B/corpus/$n tests/fuzz/$n/seeds"
    [ -d "tests/fuzz/$n/regressions" ] && dirs="$dirs tests/fuzz/$n/regressions"
    case $n in
    rewrite) max=65536 ;;
    tok) max=8192 ;;
    *) max=16384 ;;
    esac
    echo "== fuzz $n for ${SECS}s (log: $log)"
    # -close_fd_mask=2: the parsers report bad input on stderr; libFuzzer
    # keeps its own report and the sanitizers' on a copy of it.
    # shellcheck disable=SC2086
    CM_RULES=conf/trackers.rules nice -n 10 "$B/fuzz-$n" -max_total_time="$SECS" \
        -timeout=10 -rss_limit_mb=2048 -max_len=$max -print_final_stats=1 \
        -close_fd_mask=2 -artifact_prefix="$B/crashes/$n/" $dirs >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -aE '^#[0-9]+' "$log" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    if [ "$rc" -eq 0 ]; then result=ok; else result="FAILED rc=$rc"; fail=1; fi
    printf '%-8s %8s %12s %10s %8s %8s %7s  %s\n' "$n" "$SECS" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result" >>"$report"
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -n 20
    fi
done
cat "$report"
exit $fail
