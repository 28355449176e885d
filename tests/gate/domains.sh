#!/bin/bash
# HTTP tests of consent-gate: several sending domains under one controller.
# Each token names its sending domain's [domain] section, and the gate
# applies that section's rules (pixel_purposes, clicks, mode, the purposes
# the consent page offers, its language), not those of the first section of
# the same controller. Tokens from mail sent before (format 1, no domain)
# get the strictest rules of the controller's domains. A domain switched to
# never-track, or removed, stops tracking for its old mail.
# Run by "make check-gate-http" after http.sh. Prints "N passed, N failed".
. "$(dirname "$0")/lib.sh"

C() { curl -s "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
to() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$1"; }
boxes() { C "$1" | grep -o 'name="purpose" value="[a-z]*"' | cut -d'"' -f4 | sort | tr '\n' ' '; }

N=nina@example.org
ctl() { "$CTL" --db "$T/db" "$@" >/dev/null || bad "consentctl $*"; }
# conf_with: the base configuration of lib.sh plus stdin, then reload.
conf_with() {
    write_conf "$PORT"
    sed -i "s/^listen = .*/listen = 127.0.0.1:0/" "$T/gate.conf"
    cat >> "$T/gate.conf"
    gate_reload
}

# Tokens made by the previous release (claims format 1, no domain), key 1
# below: --make-link {o,c,w,p,a} brand.example nina@example.org ...
K1="1 0001020304050607080910111213141516171819202122232425262728293031"
L_O=AAAAAa3A-7psI806357yKNXzNIIbLtqK0KOhPmfA1ONTsNqx9abbeR0Nx4AIYfSjpbEDC_RdCMGMeZ6zhARJ8pqaS10_L0dYeZPaj6OZNGbwWbNrJNi3_EHTzcYLjsUzlyGyOqs0GEExzZjvyBSIO9F9ZGruaBaN3dgm98s
L_C=AAAAAals7n0yHKnlGJegLR-_gIRFi56ZMNGtHK-UUBCFtGLJO9Gpq7SwKAUIwO8SIGAuMPSqEm7HRgGN2VZDqQsDjlGX2ubsbXb-C3Qt10lDpNfVgq1iEDfepwMfOPxPpsnbWWBvPl2tilIg0Vd2VXd29fAakQZNKBQsJd4-HMdY0qnmZg_s3Y4R9k69eZqrdmVa
L_W=AAAAAedrSS1c0U9ojOoFLBvpe5sP1f_L1YiET4F_zPWJWzRsYEyXeH61u9ztRvC03SDQsR6hl79beTYPQM1NuCwP73temVsp0_lOtkffcflWy0i762OJFEGi
L_P=AAAAAX6AJYImW2So7QA2sHtRZMkr2gDO1_KJZznhzQEA5mFM2chSfuwzDiboSrlxO_a_gQHsoToQnL_5_ZVh-btr00Z-otuAFhxIwMuYrNgxPFe0VGuhXgU9
L_A=AAAAAd234wGUFIwiw8z2z4rTNos3DixmlEPerPxLob4TdVDByeRZ8hQeol-NzFCqTTWEwYeU2UZaffmfgFKNOqGXTbzYVWEDAiBIrR9-B0xSr_RUHOK_WcU

(umask 077; echo "$K1" > "$T/keys")   # gate_start appends key 2, which seals
gate_start
echo "# gate on $BASE (tmp $T)"
# brand.example (first in the file): opens, clicks need consent, French.
# news.example, same controller: opens + profiling, clicks free, English.
NEWS='[domain news.example]
controller = brand.example
pixel_purposes = opens,profiling
clicks = free
language = en'
conf_with <<<"$NEWS"

OA=$(link o brand.example $N https://t.example/a.gif)
OB=$(link o news.example $N https://t.example/b.gif)
CA=$(link c brand.example $N https://t.example/ca https://shop.example/a)
CB=$(link c news.example $N https://t.example/cb https://shop.example/b)
PA=$(link p brand.example $N)
PB=$(link p news.example $N)
WB=$(link w news.example $N)
AB=$(link a news.example camp-news)
AA=$(link a brand.example camp-brand)
LO=$BASE/o/$L_O LC=$BASE/c/$L_C LP=$BASE/p/$L_P LW=$BASE/w/$L_W LA=$BASE/a/$L_A.gif

# --- the token names its domain, in a few bytes ----------------------------
T2=$(link o brand.example $N https://t.example/open.gif?u=legacy)
T2=${T2##*/o/}
check "the domain costs a link at most 11 characters (same claims as an old token)" \
    "$([ $(( ${#T2} - ${#L_O} )) -le 11 ] && echo yes || echo "no: ${#T2} vs ${#L_O}")" yes
check "old tokens (format 1) still open: /w page" "$(code "$LW")" 200

# --- clicks: each domain's own rule --------------------------------------------
check "news.example (clicks = free): /c tracked without consent" "$(to "$CB")" \
    "302 https://t.example/cb"
check "brand.example (clicks = consent): /c unwrapped without consent" "$(to "$CA")" \
    "302 https://shop.example/a"
check "old /c: strictest (clicks need consent): unwrapped" "$(to "$LC")" \
    "302 https://shop.example/legacy"

# --- pixels: each domain's own pixel_purposes ----------------------------------
ctl grant brand.example $N opens --notice test-v1
check "opens granted: brand.example /o forwards" "$(to "$OA")" "302 https://t.example/a.gif"
check "opens granted: news.example /o (needs profiling too) blank" "$(code "$OB")" 200
check "opens granted: old /o gets the strictest (opens+profiling): blank" "$(code "$LO")" 200
ctl grant brand.example $N profiling --notice test-v1
check "opens+profiling: news.example /o forwards" "$(to "$OB")" "302 https://t.example/b.gif"
check "opens+profiling: old /o forwards" "$(to "$LO")" "302 https://t.example/open.gif?u=legacy"
ctl withdraw brand.example $N profiling
check "profiling withdrawn: news.example /o blank" "$(code "$OB")" 200
check "profiling withdrawn: brand.example /o still forwards" "$(code "$OA")" 302
check "profiling withdrawn: old /o blank" "$(code "$LO")" 200

# --- pages: each domain's purposes and language ----------------------------------
check "news.example consent page offers its purposes" "$(boxes "$PB")" "opens profiling "
check "brand.example consent page offers its purposes" "$(boxes "$PA")" "clicks opens "
check "old consent page offers every purpose of the controller" "$(boxes "$LP")" \
    "clicks opens profiling "
check_has "news.example page in its language (en)" "$(C "$PB")" '<html lang="en">'
check_has "brand.example page in its language (fr)" "$(C "$PA")" '<html lang="fr">'

# --- news.example switched to never-track ----------------------------------------
ctl grant brand.example $N profiling --notice test-v1
conf_with <<<"$NEWS
mode = never-track"
check "never-track: news.example /o blank despite consent" "$(code "$OB")" 200
check "never-track: news.example /c unwrapped" "$(to "$CB")" "302 https://shop.example/b"
check "never-track elsewhere: brand.example /o still forwards" "$(code "$OA")" 302
check "never-track in one domain: old /o blank" "$(code "$LO")" 200
check "never-track in one domain: old /c unwrapped" "$(to "$LC")" \
    "302 https://shop.example/legacy"
check "never-track: the withdrawal page still works" "$(code "$WB")" 200
for u in "$AB" "$AA" "$LA"; do C -o /dev/null "$u"; done
if command -v mdb_dump >/dev/null; then
    ANON=$(mdb_dump -s anon -p "$T/db" 2>/dev/null)
    check_lacks "never-track: news.example anonymous pixel counts nothing" "$ANON" "camp-news"
    check_lacks "never-track in one domain: old anonymous pixel counts nothing" "$ANON" \
        "legacy-campaign"
    check_has "brand.example anonymous pixel still counted" "$ANON" "camp-brand"
else
    bad "mdb_dump (lmdb-utils) missing"
fi

# --- news.example removed from the configuration --------------------------------------
conf_with </dev/null
check "removed: news.example /o blank despite consent" "$(code "$OB")" 200
check "removed: news.example /c unwrapped" "$(to "$CB")" "302 https://shop.example/b"
check "removed: brand.example /o forwards" "$(code "$OA")" 302
check "removed: old /o follows the domain left (brand.example)" "$(code "$LO")" 302
check "removed: the withdrawal page still works" "$(code "$WB")" 200
# ... and back under another controller: its old mail does not track.
conf_with <<<'[domain news.example]
controller = news.example'
ctl grant news.example $N opens profiling --notice test-v1
check "news.example now another controller's: its old /o blank" "$(code "$OB")" 200

# --- mail under [domain *] (controller = the sending domain) ----------------
conf_with </dev/null
OM=$(link o misc.example $N https://t.example/m.gif)
ctl grant misc.example $N opens --notice test-v1
check "[domain *] mail: /o forwards with consent" "$(code "$OM")" 302
conf_with <<<'[domain misc.example]
mode = never-track'
check "misc.example given its own never-track section: its old /o blank" "$(code "$OM")" 200

gate_summary
