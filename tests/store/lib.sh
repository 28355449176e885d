# tests/store/lib.sh - tiny assertion helpers for the consentctl process
# tests (sourced). Each check prints "ok"/"FAIL" with its name; finish
# prints "N passed, N failed" and sets the exit status.
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; return 0; }

# expect_rc WANT NAME CMD... : run CMD, compare its exit code.
expect_rc() {
    want=$1 name=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else bad "$name" "exit $got, want $want: $(head -c 300 "$T/err")"; fi
}

# expect_err WANT_RC PATTERN NAME CMD... : non-zero exit and exactly one
# stderr line matching PATTERN.
expect_err() {
    want=$1 pat=$2 name=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    lines=$(wc -l <"$T/err")
    if [ "$got" -ne "$want" ]; then
        bad "$name" "exit $got, want $want; stderr: $(head -c 300 "$T/err")"
    elif [ "$lines" -ne 1 ]; then
        bad "$name" "want one stderr line, got $lines: $(head -c 300 "$T/err")"
    elif ! grep -q -- "$pat" "$T/err"; then
        bad "$name" "stderr lacks '$pat': $(cat "$T/err")"
    else
        ok "$name"
    fi
}

# expect_grep PATTERN FILE NAME
expect_grep() {
    if grep -q -- "$1" "$2"; then ok "$3"; else bad "$3" "'$1' not in: $(head -c 400 "$2")"; fi
}

expect_eq() {
    if [ "$1" = "$2" ]; then ok "$3"; else bad "$3" "got '$1', want '$2'"; fi
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
