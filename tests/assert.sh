# assert.sh - the TAP-style checks the bash suites share (sourced).
# Counts in PASS and FAIL, which the sourcing script starts at 0 and
# reports at the end.
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# check NAME GOT WANT
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2' want '$3'"; fi; }
# check_has NAME HAYSTACK NEEDLE / check_lacks NAME HAYSTACK NEEDLE
check_has() { case "$2" in *"$3"*) ok "$1" ;; *) bad "$1: '$3' missing in: ${2:0:300}" ;; esac; }
check_lacks() { case "$2" in *"$3"*) bad "$1: '$3' present" ;; *) ok "$1" ;; esac; }
