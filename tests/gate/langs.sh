#!/bin/bash
# HTTP tests of consent-gate's languages (issue 12): every shipped language
# is served from Accept-Language (q-values, region subtags, wildcard, q=0,
# malformed headers), its consent page records a choice and answers with a
# receipt in that language, and receipts name each domain's own
# jurisdiction (the page and `consentctl proof`). A language without pages
# or footers is refused at load, naming file:line and the languages there
# are. Run by "make check-gate-http". Prints "N passed, N failed".
. "$(dirname "$0")/lib.sh"

AL() { curl -s -H "Accept-Language: $1" "$2"; }
lang_of() { AL "$1" "$2" | grep -o '<html lang="[a-z]*">' | cut -d'"' -f2; }
field() { grep -o "name=\"$1\" value=\"[0-9a-f]*\"" | cut -d'"' -f4; }

gate_start
echo "# gate on $BASE (tmp $T)"
# brand.example: fr, jurisdiction FR (the default); it.example: it, IT.
cat >> "$T/gate.conf" <<'EOC'
[domain it.example]
controller = it.example
language = it
jurisdiction = IT
EOC
gate_reload

A=anna@example.org
W=$(link w other.example $A)   # other.example: language en
WB=$(link w brand.example $A)  # brand.example: language fr

# --- each shipped language from Accept-Language ------------------------------------
for spec in "de:Tracking beenden" "en:Stop tracking" "es:Detener el seguimiento" \
    "fr:Arrêter le suivi" "it:Interrompi il tracciamento"; do
    l=${spec%%:*} word=${spec#*:}
    PG=$(AL "$l" "$W")
    check_has "Accept-Language $l: <html lang=\"$l\">" "$PG" "<html lang=\"$l\">"
    check_has "Accept-Language $l: page in $l ($word)" "$PG" "$word"
done
check "region subtag falls back: de-AT -> de" "$(lang_of 'de-AT' "$W")" de
check "region subtag falls back: es-419 -> es" "$(lang_of 'es-419,es;q=0.9' "$W")" es
check "q-values honoured: it;q=0.4, es;q=0.6 -> es" "$(lang_of 'it;q=0.4, es;q=0.6' "$W")" es
check "q=0 never chosen, not even as the domain default (fr)" "$(lang_of 'fr;q=0' "$WB")" en
check "wildcard: the domain default (fr)" "$(lang_of '*' "$WB")" fr
check "wildcard after a refusal: not the refused language" "$(lang_of 'fr;q=0, *' "$WB")" en
check "malformed q ignored: the domain default" "$(lang_of 'de;q=abc' "$WB")" fr
check "malformed header ignored: the domain default" "$(lang_of ';;;=,,\"x' "$WB")" fr
check "unavailable language: the domain default" "$(lang_of 'pt-BR' "$WB")" fr
BIG=$(head -c 6000 /dev/zero | tr '\0' 'x' | sed 's/x/xx;q=0.5, /g' | head -c 7000)
check "a long header: still answered" "$(status "$WB" -H "Accept-Language: ${BIG}de")" 200

# --- the consent page in each language: choice recorded, receipt in it --------------------
for spec in "de:Akzeptieren:Ihre Auswahl wurde gespeichert" "en:Accept:Your choice is recorded" \
    "es:Aceptar:Su elección ha quedado registrada" "fr:Accepter:Votre choix est enregistré" \
    "it:Accetta:La Sua scelta è stata registrata"; do
    IFS=: read -r l button done <<<"$spec"
    P=$(link p brand.example "p-$l@example.org")
    PG=$(AL "$l" "$P")
    check_has "consent page in $l: its Accept button" "$PG" "value=\"accept\">$button<"
    CS=$(printf '%s' "$PG" | field csrf)
    NH=$(printf '%s' "$PG" | field notice)
    R=$(curl -s -d "csrf=$CS&lang=$l&notice=$NH&action=accept&purpose=opens" "$P")
    check_has "consent in $l: receipt in $l" "$R" "$done"
    check_has "consent in $l: receipt names the jurisdiction" "$R" "<dd>FR</dd>"
    check_has "consent in $l: recorded with a $l notice" \
        "$("$CTL" --db "$T/db" --json proof brand.example "p-$l@example.org" 2>/dev/null)" \
        "\"notice_id\": \"page-consent-$l-"
done

# --- two domains, two jurisdictions ----------------------------------------------------
P=$(link p it.example $A)
PG=$(curl -s "$P")
check "it.example page in its language (no header)" \
    "$(printf '%s' "$PG" | grep -o '<html lang="[a-z]*">')" '<html lang="it">'
R=$(curl -s -d "csrf=$(printf '%s' "$PG" | field csrf)&lang=it&notice=$(printf '%s' "$PG" | field notice)&action=accept&purpose=opens" "$P")
check_has "it.example receipt page: jurisdiction IT" "$R" "<dt>Legge applicabile</dt><dd>IT</dd>"
PR() { "$CTL" --db "$T/db" --json proof "$@" --config "$T/gate.conf" 2>"$T/proof.err"; }
check_has "proof it.example: receipt jurisdiction IT" "$(PR it.example $A)" '"jurisdiction": "IT"'
check_has "proof brand.example: receipt jurisdiction FR" "$(PR brand.example p-de@example.org)" \
    '"jurisdiction": "FR"'
CONSENT_CONF=$T/gate.conf check_has "proof reads \$CONSENT_CONF" \
    "$(CONSENT_CONF=$T/gate.conf "$CTL" --db "$T/db" --json proof it.example $A 2>/dev/null)" \
    '"jurisdiction": "IT"'
echo '{"jurisdiction": "FR"}' > "$T/info.json"
check "proof: controller info contradicting the configuration -> 2" \
    "$(PR it.example $A --controller-info "$T/info.json" >/dev/null; echo $?)" 2
check_has "proof: the contradiction explained" "$(cat "$T/proof.err")" \
    "controller info says jurisdiction FR, the configuration IT"
cp "$T/gate.conf" "$T/two.conf"
printf '[domain it2.example]\ncontroller = it.example\njurisdiction = ES\n' >> "$T/two.conf"
check "proof: one controller, two jurisdictions -> 2" \
    "$("$CTL" --db "$T/db" proof it.example $A --config "$T/two.conf" >/dev/null 2>"$T/proof.err"; echo $?)" 2
check_has "proof: both sections named" "$(cat "$T/proof.err")" "[domain it.example] IT"

# --- a language without pages or footers is refused, by file:line ----------------------------
cp "$T/gate.conf" "$T/pt.conf"
printf '[domain pt.example]\nlanguage = pt\n' >> "$T/pt.conf"
LINE=$(grep -n '^language = pt' "$T/pt.conf" | cut -d: -f1)
ERR=$("$GATE" -n -c "$T/pt.conf" -P "$ROOT/conf/pages" 2>&1)
check_has "language = pt without footers: refused at its line" "$ERR" "$T/pt.conf:$LINE:"
check_has "language = pt without footers: the languages there are" "$ERR" \
    "languages with templates: de, en, es, fr, it"
if [ -x "$ROOT/$B/consent-milter" ]; then
    check_has "the milter refuses it too" "$("$ROOT/$B/consent-milter" -n -c "$T/pt.conf" 2>&1)" \
        "$T/pt.conf:$LINE:"
fi
mkdir -p "$T/ft" && cp "$ROOT"/conf/footer-*.* "$ROOT"/conf/request-*.* "$T/ft/"
for f in footer request; do for x in html txt; do cp "$ROOT/conf/$f-en.$x" "$T/ft/$f-pt.$x"; done; done
sed -i "s#$ROOT/conf/footer-#$T/ft/footer-#; s#$ROOT/conf/request-#$T/ft/request-#" "$T/pt.conf"
ERR=$("$GATE" -n -c "$T/pt.conf" -P "$ROOT/conf/pages" 2>&1)
check_has "language = pt with footers but no pages: refused at its line" "$ERR" \
    "$T/pt.conf:$LINE: [domain pt.example]: language = pt: no pages"
check_has "no pages: the languages there are" "$ERR" "(have: de, en, es, fr, it)"
cp -r "$ROOT/conf/pages" "$T/pages" && cp -r "$T/pages/en" "$T/pages/pt"
check "with pages and footers, pt is accepted" \
    "$("$GATE" -n -c "$T/pt.conf" -P "$T/pages" >/dev/null 2>&1; echo $?)" 0
# a reload to a configuration naming a language without pages is refused, the old one kept
sed -i 's/^language = it$/language = pt/' "$T/gate.conf"
n=$(grep -c 'reload refused' "$T/gate.log")
kill -USR1 "$GATE_PID"
for _ in $(seq 1 100); do [ "$(grep -c 'reload refused' "$T/gate.log")" -gt "$n" ] && break; sleep 0.05; done
check_has "reload to language = pt refused, named" "$(tail -3 "$T/gate.log")" "language = pt"
check "the gate still serves the old pages" "$(lang_of 'it' "$W")" it

gate_summary
