# tests/pg/migrate.sh - consentctl migrate and verify --replica (sourced by
# tests/pg/run.sh: check, check_has, ctl, T, PG_DIR, ROOT, B are set).
#
# An LMDB store with history (grants, withdrawals, refusals, an erase,
# notice text, 20,000 imported recipients, last-open days, counters) goes
# into an empty primary; every ledger value must arrive byte for byte, both
# sides verify, a consent-sync replica fed from the primary equals the
# source. Then: re-run (idempotent), resume after an interruption (also
# with an erase made in between), refusal of another history, of a foreign
# store and of a broken chain, a tampered consent row, a diverged replica.
FILL=$ROOT/$B/tests/mig_fill
SYNC=$ROOT/$B/consent-sync
M=$T/mig
mkdir -p "$M"
msql() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$PG_DIR" -U consent -d "$1" -c "$2"; }
mdb() { # NAME: a fresh database with the schema; echoes its conninfo
    msql postgres "create database $1" >/dev/null && ctl --conninfo "host=$PG_DIR dbname=$1 user=consent" pg-init >/dev/null
    echo "host=$PG_DIR dbname=$1 user=consent"
}
pdump() { psql -X -tA -F' ' -h "$PG_DIR" -U consent -d "$1" -c "select seq, encode(raw, 'hex') from ledger order by seq"; }
head_of() { ctl --db "$1" --json verify | jq -r '"\(.head_seq):\(.head_hash)"'; }
sync_conf() { # DIR CONNINFO: a consent-sync configuration feeding DIR
    cat <<EOC
[milter]
database = $1
rules = $ROOT/conf/trackers.rules
[store]
backend = postgresql
conninfo = $2
replica = $1
[domain *]
footer_html = $ROOT/conf/footer-{language}.html
footer_text = $ROOT/conf/footer-{language}.txt
request_html = $ROOT/conf/request-{language}.html
request_text = $ROOT/conf/request-{language}.txt
EOC
}

# ---- the source store: history of every kind
S=$M/src
echo "notice text, version 1" >"$M/notice.txt"
ctl --db "$S" grant brand ann@example.org opens clicks --notice ":$M/notice.txt" >/dev/null
ctl --db "$S" withdraw brand ann@example.org opens >/dev/null
ctl --db "$S" refuse brand bob@example.org profiling --notice n1 >/dev/null
ctl --db "$S" grant brand dave@example.org opens --notice n1 >/dev/null
ctl --db "$S" grant other carol@example.org opens clicks --notice n1 >/dev/null
ctl --db "$S" withdraw other carol@example.org >/dev/null
ctl --db "$S" inform brand eve@example.org >/dev/null
{
    echo controller,recipient,action,purposes,time
    i=0
    while [ $i -lt 20000 ]; do
        a=grant; [ $((i % 3)) = 1 ] && a=refuse; [ $((i % 7)) = 2 ] && a=withdraw
        echo "brand,u$i@example.org,$a,opens clicks,2026-01-0$((i % 9 + 1))"
        i=$((i + 1))
    done
    # a second event for some: history kept, state moved
    i=0
    while [ $i -lt 2000 ]; do
        echo "brand,u$i@example.org,withdraw,clicks,2026-02-01"; i=$((i + 7))
    done
} >"$M/many.csv"
out=$(ctl --db "$S" import "$M/many.csv"); rc=$?
check "migrate: source import of 20,286 events" "$rc:$out" "0:$M/many.csv: 20286 event(s) added, 0 duplicate(s) skipped, 0 bad row(s) skipped, 1 batch(es)"
out=$(ctl --db "$S" erase other carol@example.org); rc=$?
check_has "migrate: source erase of carol (tombstones)" "$out" "2 ledger event(s) replaced by tombstones"
"$FILL" "$S" brand 60 || echo "FAIL: mig_fill"
out=$(ctl --db "$S" verify); rc=$?
check_has "migrate: source verifies" "$out" "ok: 20294 events (3 erased)"
SHEAD=$(head_of "$S")

# ---- into an empty primary
CI=$(mdb mig)
out=$(ctl --conninfo "$CI" --db "$S" --batch 5000 migrate); rc=$?
check "migrate: exit 0" "$rc" 0
check_has "migrate: every event copied, in 5 transactions" "$out" "migrated: 20294 events (0 already on the primary, 20294 copied in 5 transaction(s)"
check_has "migrate: consents, last-open days, counters, notice" "$out" "20004 consent record(s), 60 last-open day(s), 6 counter(s), 1 new notice version(s)"
check_has "migrate: verifies the primary at the store's head" "$out" "ok: primary verified: 20294 events (3 erased), head $SHEAD, the store's"
"$FILL" --dump "$S" >"$M/src.dump"
pdump mig >"$M/pg.dump"
check "migrate: every seq and raw ledger value byte for byte" "$(cmp "$M/src.dump" "$M/pg.dump" && wc -l <"$M/pg.dump")" 20294
check "migrate: the dedup key is the store's" "$(msql mig "select encode(value, 'hex') from meta where key = 'hashkey'")" "$("$FILL" --key "$S")"
check "migrate: ledger_head is the store's head" "$(msql mig "select seq || ':' || encode(hash, 'hex') from ledger_head")" "$SHEAD"
check "migrate: erased rows are tombstones without recipient or dedup" \
    "$(msql mig "select count(*) from ledger where tombstone and recipient is null and dedup is null")" 2
check "migrate: no byte of carol's address on the primary" \
    "$(msql mig "select count(*) from ledger where position(convert_to('carol@example.org', 'UTF8') in raw) > 0")" 0
check "migrate: the ERASE event keeps no recipient" "$(msql mig "select count(*) from ledger where action = 5 and recipient is null and not tombstone")" 1
check "migrate: live rows carry recipient and dedup" "$(msql mig "select count(*) from ledger where not tombstone and action <> 5 and recipient is not null and length(dedup) = 16")" 20291
check "migrate: ann's consent row (opens withdrawn, clicks granted)" "$(msql mig "select states from consent where controller = 'brand' and recipient = 'ann@example.org'")" 7
check "migrate: no consent row for erased carol" "$(msql mig "select count(*) from consent where recipient = 'carol@example.org'")" 0
check "migrate: last-open day of u7" "$(msql mig "select day from lastopen where controller = 'brand' and recipient = 'u7@example.org'")" 20007
check "migrate: counters (6 rows, 180 opens)" "$(msql mig "select count(*) || ':' || sum(count) from anon")" "6:180"
check "migrate: the notice text" "$(msql mig "select convert_from(text, 'UTF8') from notices")" "notice text, version 1"
out=$(ctl --conninfo "$CI" verify); rc=$?
check_has "migrate: verify on the primary passes (chain and consent replay)" "$rc:$out" "0:ok: 20294 events (3 erased), head $SHEAD"
out=$(ctl --db "$S" verify); rc=$?
check_has "migrate: verify on the source still passes" "$rc:$out" "0:ok: 20294 events (3 erased), head $SHEAD"

# ---- a consent-sync replica fed from the migrated primary
sync_conf "$M/rep" "$CI" >"$M/sync.conf"
out=$(timeout 60 "$SYNC" -f -c "$M/sync.conf" --once 2>&1); rc=$?
check "migrate: consent-sync fills a replica from the primary" "$rc" 0
check "migrate: the replica's ledger is the source's byte for byte" "$("$FILL" --dump "$M/rep" | cmp - "$M/src.dump" && echo same)" same
check "migrate: the replica's current state equals the source's" \
    "$(ctl --db "$M/rep" export | sort | md5sum)" "$(ctl --db "$S" export | sort | md5sum)"
check "migrate: and for the other controller" \
    "$(ctl --db "$M/rep" export other | sort | md5sum)" "$(ctl --db "$S" export other | sort | md5sum)"
out=$(ctl --conninfo "$CI" verify --replica "$M/rep"); rc=$?
check "verify --replica: exit 0" "$rc" 0
check_has "verify --replica: the replica's chain, a prefix of the primary" "$out" "ok: replica $M/rep: 20294 events (3 erased), head $SHEAD, a prefix of the primary"
check_has "verify --replica: lag 0" "$out" "lag: 0 event(s), last sync"
out=$(ctl --conninfo "$CI" verify --replica "$S"); rc=$?
check_has "verify --replica: the migrated store itself is the primary's prefix" "$rc:$out" "0:ok: primary"

# ---- re-run: idempotent
out=$(ctl --conninfo "$CI" --db "$S" migrate); rc=$?
check_has "migrate again: exit 0, nothing copied" "$rc:$out" "0:migrated: 20294 events (20294 already on the primary, 0 copied in 0 transaction(s), 0 turned into tombstones)"
check "migrate again: the ledger unchanged" "$(pdump mig | cmp - "$M/src.dump" && echo same)" same
check "migrate again: consent rows unchanged in number" "$(msql mig "select count(*) from consent")" 20004
out=$(ctl --conninfo "$CI" verify); rc=$?
check "migrate again: verify passes" "$rc" 0
out=$(ctl --conninfo "$CI" --db "$S" --json migrate); rc=$?
check "migrate --json: one document, counts and the primary's head" \
    "$rc:$(echo "$out" | jq -c '[.ok, .store_events, .already_on_primary, .copied, .consents, .primary.head_seq]')" \
    "0:[true,20294,20294,0,20004,20294]"
check "migrate --json: the head hash" "$(echo "$out" | jq -r '"\(.primary.head_seq):\(.primary.head_hash)"')" "$SHEAD"
out=$(ctl --conninfo "$CI" --json verify --replica "$M/rep"); rc=$?
check "verify --replica --json: lag and heads" \
    "$rc:$(echo "$out" | jq -c '[.ok, .replica.lag_events, .replica.is_replica, .replica.head_seq == .primary.head_seq]')" \
    "0:[true,0,true,true]"

# ---- the primary moves on: verify --replica reports the lag
ctl --conninfo "$CI" grant brand frank@example.org opens --notice n1 >/dev/null
out=$(ctl --conninfo "$CI" verify --replica "$M/rep"); rc=$?
check_has "verify --replica: a replica behind by one event is a prefix, lag 1" "$rc:$out" "lag: 1 event(s)"
check_has "verify --replica: exit 0 when behind" "$rc" 0
out=$(ctl --conninfo "$CI" --db "$S" migrate); rc=$?
check "migrate into a primary that moved on: refused" "$rc" 1
check_has "migrate into a primary that moved on: says more events" "$out" "the primary holds more events than the store"

# ---- resume: an interrupted run left a prefix; meanwhile dave was erased
CI2=$(mdb mig2)
ctl --conninfo "$CI2" --db "$S" migrate >/dev/null
# what an interruption after the first 3000-event transaction leaves
# (the hash of event 3000 is the prev of event 3001: bytes 112-143 of its value)
H3000=$(msql mig2 "select encode(substring(raw from 112 for 32), 'hex') from ledger where seq = 3001")
msql mig2 "alter table ledger disable trigger all; delete from consent; delete from lastopen;
    delete from anon; delete from ledger where seq > 3000;
    update ledger_head set seq = 3000, hash = decode('$H3000', 'hex');
    alter table ledger enable trigger all" >/dev/null
cp -a "$S" "$M/src2"
out=$(ctl --db "$M/src2" erase brand dave@example.org); rc=$?
check_has "resume: dave erased in the store after the interruption" "$out" "1 ledger event(s)"
out=$(ctl --conninfo "$CI2" --db "$M/src2" migrate); rc=$?
check "resume: exit 0" "$rc" 0
check_has "resume: from the prefix, dave's row turned into the store's tombstone" "$out" "migrated: 20295 events (3000 already on the primary, 17295 copied in 1 transaction(s), 1 turned into tombstones)"
"$FILL" --dump "$M/src2" >"$M/src2.dump"
check "resume: the primary equals the store byte for byte" "$(pdump mig2 | cmp - "$M/src2.dump" && echo same)" same
check "resume: no byte of dave's address on the primary" \
    "$(msql mig2 "select count(*) from ledger where position(convert_to('dave@example.org', 'UTF8') in raw) > 0")" 0
out=$(ctl --conninfo "$CI2" verify); rc=$?
check_has "resume: verify passes" "$rc:$out" "0:ok: 20295 events (5 erased)"
out=$(ctl --conninfo "$CI" verify --replica "$M/src2"); rc=$?
check "verify --replica: another event at the primary's seq fails" "$rc" 1
check_has "verify --replica: another event at the primary's seq: says diverged" "$out" "differs from the primary's (diverged)"

# ---- another history with the same key: refused, nothing written
cp -a "$S" "$M/fork"
ctl --db "$M/fork" grant brand zed@example.org opens --notice n1 >/dev/null
B0=$(msql mig "select seq from ledger_head")
out=$(ctl --conninfo "$CI" --db "$M/fork" migrate); rc=$?
check "migrate another history: refused, exit 1" "$rc" 1
check_has "migrate another history: names the first differing event" "$out" "another history (its event differs from the store's) at event $((20294 + 1))"
check "migrate another history: nothing written" "$(msql mig "select seq from ledger_head")" "$B0"
out=$(ctl --conninfo "$CI" verify --replica "$M/fork"); rc=$?
check "verify --replica: a diverged replica fails" "$rc" 1
check_has "verify --replica: a diverged replica: says so" "$out" "FAILED at its head event 20295: the replica's head event differs from the primary's (diverged)"
for p in clicks fraud; do ctl --db "$M/fork" grant brand zed@example.org $p --notice n1 >/dev/null; done
out=$(ctl --conninfo "$CI" verify --replica "$M/fork"); rc=$?
check_has "verify --replica: a replica ahead of the primary fails" "$rc:$out" "1:"
check_has "verify --replica: a replica ahead: says so" "$out" "the replica holds events the primary does not"

# ---- a foreign store (its own key): refused
ctl --db "$M/foreign" grant brand ann@example.org opens --notice n1 >/dev/null
out=$(ctl --conninfo "$CI" --db "$M/foreign" migrate); rc=$?
check_has "migrate a foreign store into a filled primary: refused" "$rc:$out" "1:"
check_has "migrate a foreign store: says not filled from this store" "$out" "not filled from this store"

# ---- a broken chain: refused before anything is copied
cp -a "$S" "$M/bad"
ctl --db "$M/bad" grant brand tamper@example.org opens --notice n1 --actor tamper-me-actor >/dev/null
out=$(python3 - "$M/bad/data.mdb" <<'EOP'
import sys
p = sys.argv[1]
b = open(p, 'rb').read()
print(b.count(b'tamper-me-actor'))
open(p, 'wb').write(b.replace(b'tamper-me-actor', b'tamper-me-actoR'))
EOP
)
check "broken chain: one event's actor changed in data.mdb" "$out" 1
CI3=$(mdb mig3)
out=$(ctl --conninfo "$CI3" --db "$M/bad" migrate); rc=$?
check "migrate a broken chain: refused, exit 1" "$rc" 1
check_has "migrate a broken chain: names the event" "$out" "store ledger FAILED at event 20295"
check_has "migrate a broken chain: nothing copied" "$out" "nothing copied"
check "migrate a broken chain: the primary stays empty" "$(msql mig3 "select count(*) from ledger")" 0

# ---- verify replays the consent table: a tampered row is found (on mig2,
# which a re-run of migrate from src2 restores between the cases)
LS=$(msql mig2 "select last_seq from consent where controller = 'brand' and recipient = 'u5@example.org'")
msql mig2 "update consent set states = states # 3 where controller = 'brand' and recipient = 'u5@example.org'" >/dev/null
out=$(ctl --conninfo "$CI2" verify); rc=$?
check "tampered consent row: verify exit 1" "$rc" 1
check_has "tampered consent row: names the recipient's latest event" "$out" "FAILED at event $LS"
check_has "tampered consent row: says consent modified" "$out" "consent database modified"
restore() { ctl --conninfo "$CI2" --db "$M/src2" migrate >/dev/null && ctl --conninfo "$CI2" verify >/dev/null && echo restored; }
check "migrate again restores the consent table" "$(restore)" restored
tampered() { # NAME SQL: verify must find it; then migrate restores the tables
    msql mig2 "$2" >/dev/null
    out=$(ctl --conninfo "$CI2" verify); rc=$?
    check_has "$1: verify fails, says consent modified" "$rc:$out" "1:consentctl: verify: primary ledger FAILED at event"
    check_has "$1: says consent modified" "$out" "consent database modified"
    check "$1: restored by migrate" "$(restore)" restored
}
tampered "consent row with another date" \
    "update consent set updated = updated + 1 where controller = 'brand' and recipient = 'ann@example.org'"
tampered "deleted consent row" "delete from consent where controller = 'brand' and recipient = 'u6@example.org'"
tampered "a consent row with no events" "insert into consent values ('brand', 'ghost@example.org', 1, 0, 0, 5)"
tampered "a consent row naming another last event" \
    "update consent set last_seq = 3 where controller = 'brand' and recipient = 'ann@example.org'"
msql mig2 "alter table ledger disable trigger all; update ledger set recipient = 'u9@example.org' where seq = 1; alter table ledger enable trigger all" >/dev/null
out=$(ctl --conninfo "$CI2" verify); rc=$?
check_has "a ledger row whose recipient column lies: verify fails" "$rc:$out" "1:"
check_has "a ledger row whose recipient column lies: at ann's next event" "$out" "FAILED at event 2:"

# ---- bad input: clear errors
out=$(ctl --conninfo "$CI3" --db "$M/none" migrate); rc=$?
check_has "migrate from no store: exit 1, says so" "$rc:$out" "1:consentctl: migrate: no database in $M/none"
out=$(ctl --db "$S" verify --replica "$M/rep"); rc=$?
check_has "verify --replica without a primary: usage error" "$rc:$out" "2:consentctl: verify: --replica needs the primary"
out=$(ctl --conninfo "$CI" verify --replica "$M/none"); rc=$?
check_has "verify --replica of no replica: exit 1, says so" "$rc:$out" "1:"
check_has "verify --replica of no replica: names it" "$out" "no database in $M/none"
# a writer role may not set the dedup key of an empty primary
mdb mig4 >/dev/null
msql mig4 "do \$\$ begin if not exists (select 1 from pg_roles where rolname = 'mwriter') then create role mwriter login in role consent_writer; end if; end \$\$" >/dev/null
out=$(ctl --conninfo "host=$PG_DIR dbname=mig4 user=mwriter" --db "$S" migrate); rc=$?
check "migrate as a writer role: exit 1" "$rc" 1
check_has "migrate as a writer role: says permission denied" "$out" "permission denied for table meta"
check "migrate as a writer role: nothing written" "$(msql mig4 "select count(*) from ledger")" 0

# ---- a real interruption: a COPY that fails mid-way (a constraint the
# primary gained) stops with a clear error and leaves the batches before it;
# once fixed, the same command resumes from there
CI5=$(mdb mig5)
msql mig5 "alter table ledger add constraint stop_here check (seq < 12000)" >/dev/null
out=$(ctl --conninfo "$CI5" --db "$S" --batch 5000 migrate); rc=$?
check "interrupted copy: exit 1" "$rc" 1
check_has "interrupted copy: says stopped, and why" "$out" "violates check constraint \"stop_here\""
check_has "interrupted copy: says stopped, run again" "$out" "migration stopped: input/output error (primary: ERROR:"
check_has "interrupted copy: says run again" "$out" "run migrate again to resume"
check "interrupted copy: the error quotes no failing row (no address)" "$(echo "$out" | grep -c '@example.org')" 0
check "interrupted copy: the two batches before it stay, head with them" \
    "$(msql mig5 "select count(*) || ':' || (select seq from ledger_head) from ledger")" "10000:10000"
msql mig5 "alter table ledger drop constraint stop_here" >/dev/null
out=$(ctl --conninfo "$CI5" --db "$S" --batch 5000 migrate); rc=$?
check_has "interrupted copy: the re-run resumes" "$rc:$out" "0:migrated: 20294 events (10000 already on the primary, 10294 copied in 3 transaction(s)"
check "interrupted copy: then the primary equals the store byte for byte" "$(pdump mig5 | cmp - "$M/src.dump" && echo same)" same
