#!/bin/sh
# tests/store/cli.sh BUILD_DIR - consentctl end to end: every command, text
# and --json output, import (CSV, JSONL, bad rows, dry run, idempotence),
# erase + verify, and bad input for every command (one line, non-zero).
set -u
B=$1
C="$B/consentctl"
T=$(mktemp -d /tmp/consentctl-test.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$(dirname "$0")/lib.sh"
D="$T/db"
export CONSENT_DB="$D"
unset POSIXLY_CORRECT
echo "notice v1 text" >"$T/notice.txt"

# --- missing database: every reading command says so
for cmd in "show brand a@b.org" "proof brand a@b.org" "export" "inactive brand --before 2026-01-01" \
           "stats" "verify" "erase brand a@b.org" "scrub"; do
    # shellcheck disable=SC2086
    expect_err 1 "no database in" "missing db: $cmd" "$C" $cmd
done
[ ! -e "$D" ] && ok "reading commands do not create the database" || bad "reading created $D"

# --- grant / show, address normalisation
expect_rc 0 "grant" "$C" grant Brand 'Alice@Example.ORG' opens,clicks --notice "n1:$T/notice.txt" --method signup-form
[ -f "$D/data.mdb" ] && ok "grant creates the database" || bad "no data.mdb"
expect_rc 0 "show normalised" "$C" show brand '<alice@example.org>'
expect_grep "opens: granted" "$T/out" "show: opens granted"
expect_grep "profiling: unknown" "$T/out" "show: profiling unknown"
expect_rc 0 "show --json" "$C" --json show brand alice@example.org
expect_grep '"clicks": "granted"' "$T/out" "json show clicks granted"
expect_rc 0 "--db option wins" "$C" --db "$D" show brand alice@example.org

# --- refuse, withdraw, inform
expect_rc 0 "refuse" "$C" refuse brand alice@example.org profiling --notice n1
expect_rc 0 "withdraw clicks" "$C" withdraw brand alice@example.org clicks
"$C" show brand alice@example.org >"$T/s"
expect_grep "clicks: withdrawn" "$T/s" "clicks withdrawn"
expect_grep "profiling: refused" "$T/s" "profiling refused"
expect_rc 0 "withdraw all" "$C" withdraw brand alice@example.org --method withdraw-link
"$C" show brand alice@example.org >"$T/s"
expect_grep "opens: withdrawn" "$T/s" "withdraw all: opens withdrawn"
expect_grep "profiling: refused" "$T/s" "withdraw all keeps refusal"
expect_rc 0 "inform" "$C" inform brand bob@example.org --at 2026-07-01
"$C" --json show brand bob@example.org >"$T/s"
expect_grep '"legacy_informed": 1782864000' "$T/s" "legacy_informed date"

# --- proof: Kantara receipt fields + full history
cat >"$T/info.json" <<'EOF'
{"name": "Brand SA", "contact": "DPO", "address": "1 rue X, Paris", "email": "dpo@brand.example",
 "phone": "+33 1 00 00 00 00", "policyUrl": "https://brand.example/privacy"}
EOF
expect_rc 0 "proof" "$C" proof brand alice@example.org --controller-info "$T/info.json"
for f in '"version": "KI-CR-v1.1.0"' '"jurisdiction"' '"consentTimestamp": [0-9]' \
         '"collectionMethod"' '"consentReceiptID"' '"piiPrincipalId": "alice@example.org"' \
         '"piiController": "Brand SA"' '"policyUrl": "https://brand.example/privacy"' \
         '"purposeCategory"' '"consentType": "EXPLICIT"' '"termination"' \
         '"thirdPartyDisclosure"' '"sensitive": false' '"spiCat"' '"history"' \
         '"action": "refuse"' '"notice_sha256": "' '"prev_hash"'; do
    expect_grep "$f" "$T/out" "proof has $f"
done
n=$(grep -c '"seq"' "$T/out")
expect_eq "$n" 4 "proof lists the 4 events of alice"
expect_err 1 "no consent events" "proof of unknown recipient" "$C" proof brand nobody@example.org --controller-info "$T/info.json"

# --- notice versions (issue 12): kept content-addressed, exact bytes back
sha1=$(sha256sum "$T/notice.txt" | cut -c1-64)
expect_rc 0 "notice list" "$C" notice list
expect_grep "^$sha1 20[0-9-]*T[0-9:]*Z 15 consentctl $T/notice.txt\$" "$T/out" "grant --notice ID:FILE kept the version"
expect_eq "$(wc -l <"$T/out")" 1 "one version so far (refuse --notice n1 adds none)"
expect_rc 0 "notice show" "$C" notice show "$sha1"
cmp -s "$T/out" "$T/notice.txt" && ok "notice show prints the exact bytes" || bad "notice show: bytes differ"
printf 'notice v2 text\r\nwith\ttabs \xc3\xa9\n' >"$T/notice2.txt"
sha2=$(sha256sum "$T/notice2.txt" | cut -c1-64)
expect_rc 0 "grant --notice :FILE" "$C" grant brand dan@example.org opens --notice ":$T/notice2.txt"
expect_rc 0 "proof --with-notices" "$C" proof brand dan@example.org --with-notices
expect_grep "\"notice_id\": \"notice-$(echo "$sha2" | cut -c1-12)\"" "$T/out" ":FILE derives the id from the hash"
jq -e --arg s "$sha2" --rawfile t "$T/notice2.txt" \
    '.notices | length == 1 and .[0].sha256 == $s and .[0].text == $t' "$T/out" >/dev/null &&
    ok "proof --with-notices carries the exact text" || bad "proof notices wrong"
jq -e '.receipt["x-notice"].id | startswith("notice-")' "$T/out" >/dev/null &&
    ok "receipt names the notice version" || bad "receipt x-notice"
expect_rc 0 "proof without --with-notices" "$C" proof brand dan@example.org
jq -e '.notices[0] | has("text") | not' "$T/out" >/dev/null && ok "proof: text only when asked" || bad "text without --with-notices"
expect_rc 0 "notice show v1 still there" "$C" notice show "$sha1"
cmp -s "$T/out" "$T/notice.txt" && ok "old version unchanged after a new one" || bad "v1 changed"
expect_rc 0 "notice list --json" "$C" --json notice list
expect_eq "$(grep -c '"sha256"' "$T/out")" 2 "two versions listed"
printf 'Hello dan@EXAMPLE.org, here is our notice\n' >"$T/rendered.txt"
expect_err 2 "not a copy naming the recipient" "a rendered notice with the address is refused" \
    "$C" grant brand dan@example.org clicks --notice "x:$T/rendered.txt"
expect_err 2 "bad hash" "notice show bad hash" "$C" notice show 1234
expect_err 1 "no notice version" "notice show unknown" "$C" notice show "$(printf 0%.0s $(seq 64))"
expect_err 2 "needs 'list' or 'show HASH'" "notice no subcommand" "$C" notice
expect_err 2 "notice file" "empty notice file" "$C" grant brand dan@example.org opens --notice "x:/dev/null"
expect_rc 0 "erase dan" "$C" erase brand dan@example.org
expect_rc 0 "notice show after erase" "$C" notice show "$sha2"
cmp -s "$T/out" "$T/notice2.txt" && ok "erase keeps notice versions" || bad "erase lost a notice version"

# --- access: everything held on one person (events, state, notices)
expect_rc 0 "access" "$C" access brand alice@example.org
jq -e --arg s "$sha1" '(.history | length) == 4 and .consent.purposes.opens != null and
    has("lastopen") and (.notices | map(.sha256) | index($s)) != null and
    (.notices[0] | has("text"))' "$T/out" >/dev/null &&
    ok "access has history, consent, lastopen and notice texts" || bad "access incomplete"
expect_err 1 "no consent events" "access of unknown recipient" "$C" access brand nobody@example.org
expect_err 2 "bad address" "access bad address" "$C" access brand nope

# --- import CSV with a bad row, idempotence, dry run
cat >"$T/in.csv" <<'EOF'
controller,recipient,time,action,purposes,method,notice_id,source_ip,user_agent
brand,carol@example.org,2026-07-02,grant,opens;clicks,signup-form,n1,192.0.2.7,Mozilla
brand,not-an-address,2026-07-02,grant,opens,signup-form,n1,,
brand,dave@example.org,2026-13-02,grant,opens,signup-form,n1,,
brand,erin@example.org,2026-07-03T10:00:00Z,grant,opnes,signup-form,n1,,
brand,"Frank@Example.org",2026-07-04,refuse,clicks,consent-page,n1,,
EOF
expect_rc 3 "import with bad rows exits 3" "$C" import "$T/in.csv"
expect_grep "in.csv:3: bad address 'not-an-address'" "$T/err" "bad address row line 3"
expect_grep "in.csv:4: bad or missing date" "$T/err" "bad date row line 4"
expect_grep "in.csv:5: unknown purpose" "$T/err" "bad purpose row line 5"
expect_grep "2 event(s) added" "$T/out" "two good rows imported"
expect_rc 3 "re-import" "$C" import "$T/in.csv"
expect_grep "0 event(s) added, 2 duplicate" "$T/out" "re-import adds nothing"
"$C" show brand frank@example.org >"$T/s"
expect_grep "clicks: refused" "$T/s" "imported refusal"
# the epoch is no proof date: time 0 would have been recorded as "now"
# (tests/fuzz/import/regressions/time-zero-became-now)
cat >"$T/epoch.csv" <<'EOF'
controller,recipient,time,action,purposes,legacy_informed
brand,hal@example.org,0,grant,opens,
brand,hal@example.org,1970-01-01T00:00:00Z,grant,opens,
brand,hal@example.org,2026-07-02,grant,opens,0
EOF
expect_rc 3 "import of epoch dates exits 3" "$C" import "$T/epoch.csv"
expect_grep "epoch.csv:2: bad or missing date '0'" "$T/err" "time 0 refused"
expect_grep "epoch.csv:3: bad or missing date" "$T/err" "1970-01-01T00:00:00Z refused"
expect_grep "epoch.csv:4: bad legacy_informed date '0'" "$T/err" "legacy_informed 0 refused"
expect_grep "0 event(s) added" "$T/out" "no epoch row imported"
cat >"$T/new.csv" <<'EOF'
controller,recipient,time,states
brand,gus@example.org,1782950400,opens=granted;clicks=refused
EOF
expect_rc 0 "dry run" "$C" import --dry-run "$T/new.csv"
expect_grep "dry run" "$T/out" "dry run says so"
expect_rc 0 "dry run left nothing" "$C" show brand gus@example.org
expect_grep "opens: unknown" "$T/out" "dry run committed nothing"
expect_rc 0 "import states" "$C" --json import "$T/new.csv"
expect_grep '"added": 1' "$T/out" "json import report"
"$C" show brand gus@example.org >"$T/s"
expect_grep "clicks: refused" "$T/s" "states column applied"

printf '\357\273\277controller,recipient,time,action,purposes\r\nbrand,bom@example.org,2026-07-01,grant,opens\r\n' >"$T/bom.csv"
expect_rc 0 "CSV with a UTF-8 BOM and CRLF" "$C" import "$T/bom.csv"
expect_grep "1 event(s) added" "$T/out" "BOM/CRLF row imported"
expect_rc 0 "proof of an inform-only recipient" "$C" proof brand bob@example.org --controller-info "$T/info.json"
expect_grep '"collectionMethod": "admin"' "$T/out" "inform-only receipt names its event"

cat >"$T/multi.csv" <<'EOF'
controller,recipient,time,action,purposes
ctl-b,same@example.org,2026-07-01,grant,opens
ctl-a,same@example.org,2026-07-01,refuse,opens
ctl-b,same@example.org,2026-07-02,withdraw,opens
ctl-a,same@example.org,2026-07-03,grant,opens
EOF
expect_rc 0 "import two controllers interleaved" "$C" import "$T/multi.csv"
"$C" show ctl-a same@example.org >"$T/s"
expect_grep "opens: granted" "$T/s" "ctl-a: last event wins (file order kept per recipient)"
"$C" show ctl-b same@example.org >"$T/s"
expect_grep "opens: withdrawn" "$T/s" "ctl-b: separate state"

# --- JSONL
cat >"$T/in.jsonl" <<'EOF'
{"controller": "brand", "recipient": "hana@example.org", "time": 1782950400, "action": "grant", "purposes": ["opens"], "method": "api", "notice_id": "n2"}
{"controller": "brand", "recipient": "ivan@example.org", "time": "2026-07-05", "states": {"opens": "withdrawn"}}
not json
{"controller": "brand", "recipient": "jo@example.org", "time": "2026-07-05", "action": "grant", "purposes": "opens", "colour": "red"}

EOF
expect_rc 3 "jsonl import" "$C" import "$T/in.jsonl"
expect_grep "in.jsonl:3: not a JSON object" "$T/err" "jsonl bad line 3"
expect_grep "in.jsonl:4: unknown key 'colour'" "$T/err" "jsonl unknown key line 4"
expect_grep "2 event(s) added" "$T/out" "jsonl two rows"
expect_rc 3 "jsonl re-import" "$C" import "$T/in.jsonl"
expect_grep "0 event(s) added, 2 duplicate" "$T/out" "jsonl re-import adds nothing"
awk 'BEGIN { printf "{\"controller\": \"brand\", \"recipient\": \""; for (i = 0; i < 1100000; i++) printf "a"; print "@x.org\"}" }' >"$T/long.jsonl"
printf 'x\000y\n' >>"$T/long.jsonl"
expect_rc 3 "jsonl hostile lines" "$C" import "$T/long.jsonl"
expect_grep "long.jsonl:1: line longer than 1 MiB" "$T/err" "over-long line reported"
expect_grep "long.jsonl:2: NUL byte" "$T/err" "NUL byte reported"
printf 'controller,recipient,colour\nbrand,a@b.org,red\n' >"$T/badcol.csv"
expect_err 2 "unknown column 'colour'" "import unknown column" "$C" import "$T/badcol.csv"
printf 'controller,recipient,time,action,purposes\nbrand,"a@b.org,2026-07-01,grant,opens\n' >"$T/badq.csv"
expect_rc 3 "import broken CSV quoting: a bad row, not a dead file" "$C" import "$T/badq.csv"
expect_grep "badq.csv:2: unterminated quote" "$T/err" "broken quoting names its line"

# --- export, stats, inactive
expect_rc 0 "export" "$C" export
expect_grep "^brand,carol@example.org,granted,granted" "$T/out" "export csv row"
expect_rc 0 "export --json" "$C" --json export brand
n=$(grep -c '"recipient"' "$T/out")
expect_eq "$n" "$(($(wc -l <"$T/out")))" "export --json is one object per line"
expect_rc 0 "stats" "$C" stats brand
expect_grep "controller brand: 8 recipients" "$T/out" "stats counts recipients"
expect_rc 0 "stats --json" "$C" --json stats
expect_grep '"events":' "$T/out" "stats json events"
expect_rc 0 "inactive (none)" "$C" inactive brand --before 2026-07-01

# --- verify, erase
expect_rc 0 "verify" "$C" verify
expect_grep "^ok: " "$T/out" "verify ok"
HEAD=$(sed -n 's/^ok: .*, head \([0-9]*:[0-9a-f]\{64\}\)$/\1/p' "$T/out")
expect_grep "head [0-9]*:[0-9a-f]\{64\}$" "$T/out" "verify prints the head as SEQ:HASH"
expect_rc 0 "verify --expect the head just printed" "$C" verify --expect "$HEAD"
expect_rc 0 "verify --expect an earlier event of the chain" "$C" verify --expect \
    "1:$("$C" --json proof brand alice@example.org 2>/dev/null | sed -n '0,/"hash"/s/.*"hash": "\([0-9a-f]*\)".*/\1/p')"
expect_err 1 "recorded head is not in the ledger" "verify --expect a seq past the end (tail deleted)" \
    "$C" verify --expect "$((${HEAD%%:*} + 3)):${HEAD#*:}"
expect_err 1 "FAILED at event 1 .*another hash" "verify --expect a wrong hash" \
    "$C" verify --expect "1:${HEAD#*:}"
expect_rc 1 "verify --json --expect failing" "$C" --json verify --expect "$((${HEAD%%:*} + 3)):${HEAD#*:}"
expect_grep '"ok": false' "$T/out" "json: not ok"
expect_err 2 "bad --expect 'x:y'" "verify --expect malformed" "$C" verify --expect x:y
expect_rc 0 "erase" "$C" erase brand alice@example.org
expect_grep "4 ledger event" "$T/out" "erase tombstones 4 events"
expect_rc 0 "verify after erase" "$C" --json verify
expect_grep '"ok": true' "$T/out" "chain still verifies after erase"
"$C" show brand alice@example.org >"$T/s"
expect_grep "opens: unknown" "$T/s" "erased recipient is unknown"
if "$C" --json export | grep -q alice; then bad "export still lists erased"; else ok "export no longer lists erased"; fi
# the raw file, free pages and unused space of pages in use included
if grep -aqi 'alice@example' "$D/data.mdb"; then bad "erased address still in data.mdb"; else ok "erased address gone from data.mdb"; fi

# --- scrub: the erase's page scrub on demand; changes no data
expect_rc 0 "scrub" "$C" scrub
expect_grep "^scrubbed: " "$T/out" "scrub says what it did"
expect_rc 0 "scrub --json" "$C" --json scrub
expect_grep '"scrubbed": true' "$T/out" "json scrub"
expect_rc 0 "verify after scrub" "$C" verify
"$C" show brand bob@example.org >"$T/s"
expect_grep "legacy_informed: 2026-07-01" "$T/s" "scrub keeps the other recipients"

# --- bad input for every command: one line naming the problem
expect_err 2 "bad address 'nope'" "grant bad address" "$C" grant brand nope opens --notice n1
expect_err 2 "unknown purpose 'opnes'" "grant unknown purpose" "$C" grant brand a@b.org opnes --notice n1
expect_err 2 "needs --notice" "grant without notice" "$C" grant brand a@b.org opens
expect_err 2 "wrong number of arguments" "grant without purposes" "$C" grant brand a@b.org --notice n1
expect_err 2 "rejected: check --method" "grant bad method" "$C" grant brand a@b.org opens --notice n1 --method fax
expect_err 2 "bad controller" "grant bad controller" "$C" grant 'br and' a@b.org opens --notice n1
expect_err 2 "notice file" "grant missing notice file" "$C" grant brand a@b.org opens --notice "n1:$T/none.txt"
expect_err 2 "bad date 'soon'" "grant bad --at" "$C" grant brand a@b.org opens --notice n1 --at soon
expect_err 2 "bad address" "refuse bad address" "$C" refuse brand '<>' opens --notice n1
expect_err 2 "unknown purpose" "withdraw unknown purpose" "$C" withdraw brand a@b.org everything
expect_err 2 "bad address" "withdraw bad address" "$C" withdraw brand 'a@' opens
expect_err 2 "wrong number" "inform with purposes" "$C" inform brand a@b.org opens
expect_err 2 "bad address" "show bad address" "$C" show brand 'x y@z'
expect_err 2 "wrong number" "show missing recipient" "$C" show brand
expect_err 2 "bad address" "proof bad address" "$C" proof brand nope
expect_err 2 "controller info" "proof bad info file" "$C" proof brand carol@example.org --controller-info "$T/none.json"
expect_err 2 "cannot open" "import missing file" "$C" import "$T/none.csv"
expect_err 2 "exactly one FILE" "import no file" "$C" import
expect_err 2 "bad controller" "export bad controller" "$C" export 'a/b'
expect_err 2 "bad date '2026-02-30'" "inactive bad date" "$C" inactive brand --before 2026-02-30
expect_err 2 "needs --before" "inactive no date" "$C" inactive brand
expect_err 2 "bad controller" "stats bad controller" "$C" stats '!'
expect_err 2 "wrong number" "verify extra args" "$C" verify extra
expect_err 2 "wrong number" "scrub extra args" "$C" scrub now
expect_err 2 "bad address" "erase bad address" "$C" erase brand nope
expect_err 1 "nothing stored" "erase unknown" "$C" erase brand zed@example.org
expect_err 2 "unknown command 'frobnicate'" "unknown command" "$C" frobnicate
expect_err 2 "unknown option" "unknown option" "$C" show brand a@b.org --colour
expect_err 2 "needs a value" "option without value" "$C" show brand a@b.org --db
expect_err 2 "bad --batch" "bad batch" "$C" import "$T/in.csv" --batch 0
expect_rc 0 "--help" "$C" --help
expect_grep "inactive CONTROLLER --before DATE" "$T/out" "help lists commands"

# --- corrupt file and not-a-directory
mkdir -p "$T/corrupt"
head -c 100000 /dev/urandom >"$T/corrupt/data.mdb"
expect_err 1 "corrupt" "corrupt database" "$C" --db "$T/corrupt" verify
echo x >"$T/plainfile"
expect_err 1 "no database" "db is a file" "$C" --db "$T/plainfile" show brand a@b.org

finish
