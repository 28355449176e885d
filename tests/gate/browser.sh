#!/bin/bash
# Browser tests of consent-gate: a real gate on loopback (temporary store,
# keys, config), driven by browser.mjs (playwright-core, Debian chromium).
# Screenshots land in $B/artefacts/. Prints "N passed, N failed".
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || { echo "node missing (apt-get install nodejs)"; exit 1; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "$CHROMIUM missing (apt-get install chromium)"; exit 1; }

gate_start
A=alice@example.org
export BASE CTL CHROMIUM RCPT=$A DB=$T/db ARTEFACTS=$ROOT/$B/artefacts
export LINK_P_EN=$(link p brand.example $A) LINK_P_FR=$(link p brand.example $A)
export LINK_W_EN=$(link w brand.example $A) LINK_W_FR=$(link w brand.example $A)
export RCPT_DE=bernd@example.org LINK_P_DE=$(link p brand.example bernd@example.org)
export LINK_O=$(link o brand.example $A https://t.example/open.gif)
export LINK_C_OPAQUE=$(link c other.example $A 'https://opaque.example/ls/click?upn=abc')
timeout 180 node "$ROOT/tests/gate/browser.mjs"
rc=$?
echo "# screenshots: $ARTEFACTS"
exit $rc
