#!/bin/sh
# tests/store/run.sh BUILD_DIR - the consentctl process-level suites
# (check-store): CLI behaviour and bad input, kill -9 durability,
# multi-process concurrency. Exits non-zero if any check failed.
set -u
dir=$(dirname "$0")
rc=0
for t in cli import order durability concurrency; do
    echo "== tests/store/$t.sh"
    sh "$dir/$t.sh" "$1" || rc=1
done
exit $rc
