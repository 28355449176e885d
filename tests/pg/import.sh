# tests/pg/import.sh - consentctl import/export/proof/stats against the
# primary (sourced by tests/pg/run.sh: check, check_has, ctl, CTL, T, ROOT,
# B, PG_DIR, PG_DATA, PGBIN). Every figure is compared with the LMDB
# store fed the same input, so the primary keeps the LMDB semantics.
ISYNC=$ROOT/$B/consent-sync
I=$T/imp
mkdir -p "$I"
isql() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$PG_DIR" -U consent -d "$1" -c "$2"; }
idb() { # NAME: a fresh database with the schema; echoes its conninfo
    isql postgres "create database $1" >/dev/null &&
        ctl --conninfo "host=$PG_DIR dbname=$1 user=consent" pg-init >/dev/null
    echo "host=$PG_DIR dbname=$1 user=consent"
}
# proof without the chain fields (seq, hashes: a store numbers and salts
# its own) and, with a second argument, without event ids either
iproof() { # ARGS...: consentctl ARGS, normalised JSON
    timeout 30 "$CTL" "$@" 2>/dev/null |
        jq -S 'del(.history[].seq, .history[].prev_hash, .history[].hash)'
}
noid() { jq -S 'del(.history[].id, .receipt.consentReceiptID)'; }
isync_conf() { # DIR CONNINFO
    printf '[milter]\ndatabase = %s\nrules = %s/conf/trackers.rules\n' "$1" "$ROOT"
    printf '[store]\nbackend = postgresql\nconninfo = %s\nreplica = %s\n' "$2" "$1"
    printf '[domain *]\n'
    for k in footer_html footer_text request_html request_text; do
        case $k in *html) e=html ;; *) e=txt ;; esac
        printf '%s = %s/conf/%s-{language}.%s\n' "$k" "$ROOT" "${k%_*}" "$e"
    done
}

# ---- 10,000 records: recipients with one to three events each, some
# back-dated (history only), withdrawals, import states, proof fields
awk -v n=10000 'BEGIN {
    print "controller,recipient,time,action,purposes,states,method,notice_id,source_ip,user_agent,actor"
    m = split("grant grant grant withdraw refuse inform grant", act, " ")
    for (i = 0; i < n; i++) {
        r = int(i * 0.7); a = act[i % m + 1]; t = 1600000000 + (i % 97) * 86400 + i
        if (i % 11 == 0) t -= 50000000             # back-dated: history only
        p = (a == "inform") ? "" : (i % 3 ? "opens clicks" : "opens")
        s = ""; if (i % 13 == 0) { a = ""; p = ""; s = "opens=granted;clicks=refused" }
        c = (i % 5 == 0) ? "other" : "brand"
        printf "%s,user%d@example.org,%d,%s,%s,%s,%s,notice-%d,192.0.2.%d,UA %d,crm:%d\n",
            c, r, t, a, p, s, (i % 2 ? "signup-form" : "api"), i % 4, i % 250, i % 7, i % 3
    }
}' >"$I/10k.csv"
IP=$(idb imp10k)
# one notification for the whole import, with the head as payload
printf 'listen consent_ledger;\n\\! %s --conninfo "%s" import %s > %s 2>&1\nselect 1;\n' \
    "$CTL" "$IP" "$I/10k.csv" "$I/10k.out" >"$I/listen.sql"
s=$(date +%s.%N)
notes=$(timeout 120 psql -X -h "$PG_DIR" -U consent -d imp10k -f "$I/listen.sql" 2>&1 |
        grep -c 'notification "consent_ledger" with payload "10000"')
e=$(date +%s.%N)
echo "import: 10,000 records into the primary in $(awk "BEGIN{printf \"%.2f\", $e - $s}") s"
check "import 10k into the primary: all added" "$(cat "$I/10k.out")" \
    "$I/10k.csv: 10000 event(s) added, 0 duplicate(s) skipped, 0 bad row(s) skipped, 1 batch(es)"
check "import 10k: one pg_notify, payload = the new head" "$notes" 1
check "import 10k: gapless seq 1..10000, head row agrees" \
    "$(isql imp10k "select count(*), min(seq), max(seq), count(distinct seq), (select seq from ledger_head) from ledger")" \
    "10000|1|10000|10000|10000"
out=$(ctl --db "$I/l10k" import "$I/10k.csv"); rc=$?
check "import 10k into LMDB: all added" "$rc" 0
check "import 10k: same consent as LMDB (states, updated, informed)" \
    "$(ctl --conninfo "$IP" export | sort | md5sum)" "$(ctl --db "$I/l10k" export | sort | md5sum)"
check "import 10k: consent rows point at each recipient's latest event" \
    "$(isql imp10k "select count(*) from consent c where last_seq <> (select max(seq) from ledger l where l.controller = c.controller and l.recipient = c.recipient)")" 0
pv=$(ctl --conninfo "$IP" verify); rc=$?
check "import 10k: verify on the primary" "$rc:$pv" "0:ok: 10000 events (0 erased), head 10000:$(isql imp10k "select encode(hash, 'hex') from ledger_head")"
# the same events in the same order: LMDB sorts each batch by key, so
# compare per recipient
check "import 10k: every recipient has the same events as in LMDB (no ids given)" \
    "$(ctl --conninfo "$IP" export --events | cut -d, -f2- | sort | md5sum)" \
    "$(ctl --db "$I/l10k" export --events | cut -d, -f2- | sort | md5sum)"

# ---- a replica fed by consent-sync equals the primary, verify on both
isync_conf "$I/rep" "$IP" >"$I/sync.conf"
out=$(timeout 120 "$ISYNC" -f -c "$I/sync.conf" --once 2>&1); rc=$?
check "consent-sync --once after the import" "$rc" 0
rv=$(ctl --db "$I/rep" verify); rc=$?
check "replica verify: the primary's chain, same head" "$rc:$rv" "0:$pv"
check "replica: same events as the primary" \
    "$(ctl --db "$I/rep" export --events | md5sum)" "$(ctl --conninfo "$IP" export --events | md5sum)"
check "replica: same consent as the primary" \
    "$(ctl --db "$I/rep" export | sort | md5sum)" "$(ctl --conninfo "$IP" export | sort | md5sum)"

# ---- stats and proof equal the LMDB ones for the same data
nosize() { grep -v '^size:' | sed 's/, schema [0-9]*$//'; }
check "stats: primary = LMDB (counts per controller and purpose)" \
    "$(ctl --conninfo "$IP" stats | nosize)" "$(ctl --db "$I/l10k" stats | nosize)"
check "stats other: primary = LMDB" \
    "$(ctl --conninfo "$IP" stats other | nosize)" "$(ctl --db "$I/l10k" stats other | nosize)"
check "stats --json: primary = LMDB (controllers)" \
    "$(ctl --conninfo "$IP" --json stats | jq -S '.controllers, .events, .recipients_total')" \
    "$(ctl --db "$I/l10k" --json stats | jq -S '.controllers, .events, .recipients_total')"
same=0
for r in user0 user7 user8 user70 user4001 user6999; do
    a=$(iproof --conninfo "$IP" proof brand "$r@example.org" | noid)
    b=$(iproof --db "$I/l10k" proof brand "$r@example.org" | noid)
    [ -n "$a" ] && [ "$a" = "$b" ] && same=$((same + 1))
done
check "proof: primary = LMDB for 6 recipients (every field but seq, hashes, ids)" "$same" 6

# ---- a second import: duplicates skipped, the probe path (primary not empty)
head -n 5001 "$I/10k.csv" >"$I/5k.csv"
awk -F, 'NR > 1 && NR % 2 == 0 { $3 = $3 + 7; print; next } NR == 1 { print }' OFS=, \
    "$I/10k.csv" >"$I/more.csv"
out=$(ctl --conninfo "$IP" import "$I/5k.csv")
check "re-import of 5,000 rows: all duplicates" "$out" \
    "$I/5k.csv: 0 event(s) added, 5000 duplicate(s) skipped, 0 bad row(s) skipped, 1 batch(es)"
ctl --db "$I/l10k" import "$I/more.csv" >"$I/more.lmdb"
out=$(ctl --conninfo "$IP" --batch 700 import "$I/more.csv")
check "import into a primary that holds data: counts as LMDB's" \
    "$(echo "$out" | sed 's/, [0-9]* batch(es)//')" "$(sed 's/, [0-9]* batch(es)//' "$I/more.lmdb")"
check "import into a primary that holds data: consent as LMDB's" \
    "$(ctl --conninfo "$IP" export | sort | md5sum)" "$(ctl --db "$I/l10k" export | sort | md5sum)"
out=$(ctl --conninfo "$IP" verify); rc=$?
check_has "verify after the second import" "$rc:$out" "0:ok: 15000 events (0 erased), head 15000:"
out=$(timeout 120 "$ISYNC" -f -c "$I/sync.conf" --once 2>&1); rc=$?
check "replica catches up with the second import" "$rc:$(ctl --db "$I/rep" verify)" "0:$(ctl --conninfo "$IP" verify)"

# ---- round trip: export --events -> import elsewhere -> the same proof
L=$I/rt-src
printf 'Our notice, version 1.\n' >"$I/n1.txt"
ctl --db "$L" grant brand ann@example.org opens clicks --notice "n1:$I/n1.txt" --method signup-form \
    --source-ip 192.0.2.7 --user-agent 'Moz "x", y;z' --actor 'api:key-1' --at 2024-03-01T10:00:00Z >/dev/null
ctl --db "$L" withdraw brand ann@example.org clicks --method withdraw-link --at 2024-04-01 >/dev/null
ctl --db "$L" refuse brand ann@example.org profiling --notice n1 --at 2024-04-02 >/dev/null
ctl --db "$L" withdraw brand bob@example.org --method consent-page --at 2024-04-03 >/dev/null
ctl --db "$L" inform other bob@example.org --at 2024-01-01 >/dev/null
printf 'controller,recipient,time,states,actor,user_agent\nbrand,cy@example.org,2024-05-05,opens=granted;clicks=refused,=cmd,"a,b"\n' >"$I/st.csv"
ctl --db "$L" import "$I/st.csv" >/dev/null
ctl --db "$L" export --events >"$I/rt.csv"
ctl --db "$L" --json export --events >"$I/rt.jsonl"
RP=$(idb rt1)
RJ=$(idb rt2)
out=$(ctl --conninfo "$RP" import "$I/rt.csv"); rc=$?
check "round trip: CSV events into a fresh primary" "$rc:$out" \
    "0:$I/rt.csv: 6 event(s) added, 0 duplicate(s) skipped, 0 bad row(s) skipped, 1 batch(es)"
out=$(ctl --conninfo "$RJ" import "$I/rt.jsonl"); rc=$?
check "round trip: JSON events into a fresh primary" "$rc" 0
ctl --conninfo "$RP" export --events >"$I/rt-pg.csv"
check "round trip: the primary exports the same events (ids, times, every field)" \
    "$(cmp "$I/rt.csv" "$I/rt-pg.csv" && echo same)" same
out=$(ctl --db "$I/rt-back" import "$I/rt-pg.csv"); rc=$?
check "round trip: the primary's export into a fresh LMDB store" "$rc" 0
same=0 total=0
for p in "brand ann@example.org" "brand bob@example.org" "other bob@example.org" "brand cy@example.org"; do
    total=$((total + 1))
    # the notice text is a notice version, not a ledger field (notice show)
    a=$(iproof --db "$L" proof $p | jq -S 'del(.notices)')
    b=$(iproof --conninfo "$RP" proof $p | jq -S 'del(.notices)')
    j=$(iproof --conninfo "$RJ" proof $p | jq -S 'del(.notices)')
    c=$(iproof --db "$I/rt-back" proof $p | jq -S 'del(.notices)')
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$j" ] && [ "$a" = "$c" ] && same=$((same + 1))
done
check "round trip: proof identical field by field (LMDB, primary via CSV and JSON, back to LMDB)" \
    "$same" "$total"
check "round trip: method, actor, notice, ip, user agent kept" \
    "$(iproof --conninfo "$RP" proof brand ann@example.org | jq -c '.history[0] | [.method, .actor, .notice_id, .notice_sha256 != null, .source_ip, .user_agent, .time]')" \
    '["signup-form","api:key-1","n1",true,"192.0.2.7","Moz \"x\", y;z",1709287200]'
check "round trip: an import event keeps its states" \
    "$(iproof --conninfo "$RP" proof brand cy@example.org | jq -c '.history[0].states, .history[0].actor, .history[0].user_agent' | tr '\n' ' ')" \
    '{"clicks":"refused","opens":"granted"} "=cmd" "a,b" '
out=$(ctl --conninfo "$RP" import "$I/rt.csv")
check "round trip: importing it again adds nothing" "$out" \
    "$I/rt.csv: 0 event(s) added, 6 duplicate(s) skipped, 0 bad row(s) skipped, 1 batch(es)"
check "round trip: state export primary = LMDB" \
    "$(ctl --conninfo "$RP" export | sort)" "$(ctl --db "$L" export | sort)"
check "round trip: access on the primary lists the events" \
    "$(ctl --conninfo "$RP" access brand ann@example.org | jq '.history | length')" 3
sed 's/^\([^,]*\),brand,ann@example.org,2024-04-01T00:00:00Z/\1,brand,ann@example.org,2024-04-09T00:00:00Z/' \
    "$I/rt.csv" >"$I/rt-clash.csv"
out=$(ctl --conninfo "$RP" import "$I/rt-clash.csv" 2>&1); rc=$?
check_has "an id already in the ledger with other content: refused" "$rc:$out" \
    "3:consentctl: import: $I/rt-clash.csv:3: id "
check_has "  and says so" "$out" "is already in the primary's ledger for another event"
printf 'id,controller,recipient,time,action,purposes\nAAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE,brand,x@example.org,2024-01-01,grant,opens\naaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee,brand,y@example.org,2024-01-01,grant,opens\n' >"$I/ids.csv"
out=$(ctl --conninfo "$RP" import "$I/ids.csv" 2>&1); rc=$?
check_has "one id twice in one batch (any case): the second refused, no COPY error" "$rc:$out" \
    "3:consentctl: import: $I/ids.csv:3: id aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee is already"

# ---- bad input: the LMDB messages, the same counts, nothing half-imported
cat >"$I/bad.csv" <<'EOF'
controller,recipient,time,action,purposes,method
brand,good1@example.org,2024-01-01,grant,opens,api
brand,not-an-address,2024-01-01,grant,opens,api
brand,good2@example.org,2099-01-01,grant,opens,api
brand,good3@example.org,2024-01-01,grant,bogus,api
brand,good4@example.org,2024-01-01,grant,opens,nomethod
brand,good5@example.org,2024-01-01,fly,opens,api
brand,"good6@example.org,2024-01-01,grant,opens,api
brand,good7@example.org,2024-01-01,grant,opens,api,extra
brand,good8@example.org,yesterday,grant,opens,api
brand,good9@example.org,2024-01-02,withdraw,,api
EOF
BP=$(idb bad1)
pe=$(timeout 30 "$CTL" --conninfo "$BP" import "$I/bad.csv" 2>&1 >"$I/bad.pg"); prc=$?
le=$(timeout 30 "$CTL" --db "$I/lbad" import "$I/bad.csv" 2>&1 >"$I/bad.lmdb"); lrc=$?
check "bad rows: exit 3 on both" "$prc:$lrc" "3:3"
check "bad rows: the same messages as the LMDB import" "$pe" "$le"
check "bad rows: eight of them reported" "$(echo "$pe" | grep -c "^consentctl: import: $I/bad.csv:[0-9]*: ")" 8
check_has "bad rows: the future date is refused (issue 9)" "$pe" "bad.csv:4: date '2099-01-01' is in the future"
check "bad rows: same counts" "$(cat "$I/bad.pg")" "$(cat "$I/bad.lmdb")"
check "bad rows: the good ones are in the primary" \
    "$(isql bad1 "select string_agg(recipient, ' ' order by seq) from ledger")" "good1@example.org good9@example.org"
printf 'controller,recipient,tme,action\nbrand,a@example.org,2024-01-01,grant\n' >"$I/badcol.csv"
out=$(ctl --conninfo "$BP" import "$I/badcol.csv" 2>&1); rc=$?
check_has "unknown column: usage error, named" "$rc:$out" "2:consentctl: import: $I/badcol.csv:1: unknown column 'tme'"
check_has "unknown column: says nothing was imported" "$out" "nothing was imported"
# a batch the primary refuses half-way: the whole import is rolled back
awk -v n=3000 'BEGIN { print "controller,recipient,time,action,purposes"
    for (i = 0; i < n; i++) printf "brand,h%d@example.org,%d,grant,opens\n", i, 1600000000 + i }' >"$I/3k.csv"
before=$(isql bad1 "select seq || ':' || encode(hash, 'hex') from ledger_head")
isql bad1 "alter table ledger add constraint no_2500 check (seq <> 2500)" >/dev/null
out=$(ctl --conninfo "$BP" --batch 1000 import "$I/3k.csv" 2>&1); rc=$?
check "primary refuses batch 3: exit 1" "$rc" 1
check_has "primary refuses batch 3: says nothing was imported" "$out" "stopped at $I/3k.csv:"
check_has "  (one transaction)" "$out" "nothing was imported (the import is one transaction on the primary)"
check "primary refuses batch 3: head, ledger and consent unchanged" \
    "$(isql bad1 "select seq || ':' || encode(hash, 'hex') || ':' || (select count(*) from ledger) || ':' || (select count(*) from consent) from ledger_head")" \
    "$before:2:2"
isql bad1 "alter table ledger drop constraint no_2500" >/dev/null
out=$(ctl --conninfo "$BP" --dry-run import "$I/3k.csv" 2>&1); rc=$?
check "dry run on the primary: counts, nothing kept" \
    "$rc:$out:$(isql bad1 "select count(*) from ledger")" \
    "0:dry run: $I/3k.csv: 3000 event(s) would be added, 0 duplicate(s) skipped, 0 bad row(s) skipped, 1 batch(es):2"

# ---- the primary goes down during an import: clear error, exit 1, no hang
awk -v n=400000 'BEGIN { print "controller,recipient,time,action,purposes"
    for (i = 0; i < n; i++) printf "brand,d%d@example.org,%d,grant,opens\n", i, 1600000000 + i }' >"$I/400k.csv"
DP=$(idb down1)
timeout 120 "$CTL" --conninfo "$DP" --batch 2000 import "$I/400k.csv" >"$I/down.out" 2>&1 &
ipid=$!
k=0
while [ "$k" -lt 200 ] &&
      [ "$(isql postgres "select count(*) from pg_stat_activity where datname = 'down1' and query like 'copy%'")" = 0 ]; do
    sleep 0.05; k=$((k + 1))
done
sleep 0.3
as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
s=$(date +%s)
wait "$ipid"; rc=$?
e=$(( $(date +%s) - s ))
check "primary down mid-import: exit 1" "$rc" 1
check_has "primary down mid-import: a clear error" "$(cat "$I/down.out")" "consentctl: import: primary: "
check "primary down mid-import: no hang (ends within 30 s)" "$([ "$e" -le 30 ] && echo yes)" yes
out=$(ctl --conninfo "$DP" import "$I/5k.csv"); rc=$?
check_has "primary down: import says cannot connect" "$rc:$out" "1:consentctl: import: cannot connect to the primary"
for cmd in "export" "export --events" "stats" "proof brand a@example.org"; do
    out=$(ctl --conninfo "$DP" $cmd); rc=$?
    check_has "primary down: $cmd says cannot connect, exit 1" "$rc:$out" "1:consentctl: ${cmd%% *}: cannot connect to the primary"
done
as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/log" -w -t 60 start \
    -o "-k $PG_DIR -c listen_addresses='' -c fsync=off" >/dev/null 2>&1
check "after the restart: nothing of the interrupted import is in the primary" \
    "$(isql down1 "select (select seq from ledger_head) || ':' || (select count(*) from ledger) || ':' || (select count(*) from consent)")" "0:0:0"
