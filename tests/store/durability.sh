#!/bin/sh
# tests/store/durability.sh BUILD_DIR - kill -9 a large import mid-way:
# afterwards the chain verifies, every committed batch is complete (the
# event count is a whole number of batches, at least what was seen before
# the kill), and importing the file again completes it without duplicates.
set -u
B=$1
C="$B/consentctl"
T=$(mktemp -d /tmp/consentctl-dur.XXXXXX)
trap '[ "$pid" -gt 0 ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
. "$(dirname "$0")/lib.sh"
ROWS=200000 BATCH=10000
pid=0
"$B/store_bench" gen 0 $ROWS "$T/big.csv" || { bad "generate"; finish; exit 1; }
events() { "$C" --db "$T/db" --json stats 2>/dev/null | sed -n 's/^  "events": \([0-9]*\),*/\1/p'; }

"$C" --db "$T/db" import "$T/big.csv" --batch $BATCH >"$T/imp.out" 2>&1 &
pid=$!
seen=0 i=0
while [ "$i" -lt 1200 ]; do # up to 240 s (slow under sanitizers)
    seen=$(events)
    [ -n "$seen" ] && [ "$seen" -ge $((3 * BATCH)) ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.2
    i=$((i + 1))
done
if kill -9 $pid 2>/dev/null; then ok "import killed mid-way (seen $seen events)"; else bad "import finished before the kill; raise ROWS"; fi
wait $pid 2>/dev/null
pid=0

expect_rc 0 "verify after kill -9" "$C" --db "$T/db" verify
after=$(events)
[ "$after" -ge "$seen" ] && ok "no committed batch lost ($after >= $seen)" || bad "lost events: $after < $seen"
[ $((after % BATCH)) -eq 0 ] && ok "only whole batches committed ($after)" || bad "partial batch: $after"
[ "$after" -lt $ROWS ] && ok "import was really interrupted" || bad "nothing interrupted"
expect_rc 0 "re-import completes" "$C" --db "$T/db" import "$T/big.csv" --batch 50000
expect_grep "$((ROWS - after)) event(s) added, $after duplicate(s)" "$T/out" "re-import adds exactly the missing rows"
expect_eq "$(events)" "$ROWS" "every row present once"
expect_rc 0 "verify after completion" "$C" --db "$T/db" verify
finish
