#!/usr/bin/env bash
# run.sh - consent-milter end to end, through a real Postfix on loopback.
#
# Each case sends a message with swaks (or a raw SMTP session) to a private
# Postfix that runs consent-milter, then reads what smtp-sink received and
# asserts precise facts: tracker hosts gone, gate URLs present, footer
# present or absent, withdrawal links unique per recipient, SMTP replies.
# Prints one "ok"/"not ok" line per assertion and "N passed, N failed".
#
# Environment: B (build dir, default build), MILTER, CONSENTCTL, RULES,
# E2E_KEEP=1 keeps the work directory. Needs root (Postfix); without root
# or Postfix it says so and exits 0 with nothing run... unless E2E_REQUIRE=1.
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
MILTER=${MILTER:-$SRCDIR/$B/consent-milter}
# Seeding the store is set-up, not the subject: prefer the plain build.
CONSENTCTL=${CONSENTCTL:-$SRCDIR/build/consentctl}
[ -x "$CONSENTCTL" ] || CONSENTCTL=$SRCDIR/$B/consentctl
RULES=${RULES:-$SRCDIR/conf/trackers.rules}
GATE=${GATE:-$SRCDIR/$B/consent-gate}
GATE_PID=
export PATH=$PATH:/usr/sbin:/sbin
. "$SRCDIR/tests/e2e/lib.sh"

# deliver CASE PORT FROM TO MSG N - send, wait for N deliveries, save the
# first one to $P/out.CASE (all of them to $P/out.CASE.K).
deliver() {
	local c=$1 marker
	marker=$(marker_of "$5")
	send "$2" "$3" "$4" "$5" || { nok "$c: swaks failed: $(tail -3 "$P/swaks.out")"; return 1; }
	wait_delivered "$marker" "$6" || { nok "$c: not delivered"; return 1; }
	save_copies "$c" "$marker" >/dev/null
	return 0
}

# ---------------------------------------------------------------- cases

case_config_check() {
	check "config: -n accepts the test configuration" "$MILTER" -n -c "$P/milter.conf"
	sed 's/^mode = enforce$/mode = sometimes/' "$P/milter.conf" >"$P/bad.conf"
	local line out
	line=$(grep -n '^mode = sometimes' "$P/bad.conf" | cut -d: -f1)
	out=$("$MILTER" -n -c "$P/bad.conf" 2>&1)
	check "config: -n rejects a bad value with exit 1" test $? -eq 1
	check "config: the error names line $line" grep -q ":$line:" <<<"$out"
	# A relative -c is made absolute at start (reloads run after the
	# daemon's chdir("/")), and anchors the relative paths inside it.
	mkdir -p "$P/rel"
	cp "$RULES" "$P/rel/trackers.rules"
	sed 's#^rules = .*#rules = trackers.rules#' "$P/milter.conf" >"$P/rel/milter.conf"
	out=$(cd "$P" && "$MILTER" -n -v -c rel/milter.conf 2>&1)
	check "config: a relative -c is held by its absolute path" grep -qx "$P/rel/milter.conf: configuration ok" <<<"$out"
	check "config: relative paths inside it anchored there" grep -qx "rules = $P/rel/trackers.rules" <<<"$out"
	check "daemon: privileges dropped to [milter] user" \
		test "$(awk '/^Uid:/ { print $2 $3 }' "/proc/$MILTER_PID/status")" = "$(id -u postfix)$(id -u postfix)"
	check "daemon: socket handed to the user, mode 0660" \
		test "$(stat -c '%U %a' "$P/milter.sock")" = "postfix 660"
	check "daemon: pid file written" test "$(cat "$P/milter.pid" 2>/dev/null)" = "$MILTER_PID"
}

case_no_consent() {
	mkmsg "$P/in.nc" brand.example no@example.org e2e-noconsent
	deliver nc $PORT_MTA news@brand.example no@example.org "$P/in.nc" 1 || return
	local o=$P/out.nc
	check "no-consent: open pixel removed" hasnt "$o" "track/open.php"
	check "no-consent: pixel replaced by a data: GIF" has "$o" 'src="data:image/gif'
	check "no-consent: decodable SES link unwrapped" hasnt "$o" "awstrack.me"
	check "no-consent: unwrapped destination present" has "$o" "https://shop.brand.example/sale?id=7"
	check "no-consent: personal parameter mc_eid removed" hasnt "$o" "mc_eid"
	check "no-consent: utm_ parameters kept" has "$o" "utm_source=news"
	check "no-consent: unsubscribe link untouched" has "$o" "list-manage.com/unsubscribe?u=abc"
	check "no-consent: no gate URL" hasnt "$o" "$GATE_URL/"
	check "no-consent: no footer" hasnt "$o" "$GATE_URL/w/"
	check "no-consent: trace header says no-consent" grep -q '^X-Consent-Milter: 2; decision=no-consent' "$o"
	check "no-consent: trace header carries a MAC" grep -Eq '^X-Consent-Milter: .*mac=[0-9a-f]{64}$' "$o"
	check "no-consent: other headers kept" has "$o" "List-Id: Brand news <news.brand.example>"
}

case_consent() {
	mkmsg "$P/in.c1" brand.example yes@example.org e2e-consent1
	mkmsg "$P/in.c2" brand.example yes2@example.org e2e-consent2
	deliver c1 $PORT_MTA news@brand.example yes@example.org "$P/in.c1" 1 || return
	deliver c2 $PORT_MTA news@brand.example yes2@example.org "$P/in.c2" 1 || return
	local o=$P/out.c1
	check "consent: pixel gated" has "$o" "$GATE_URL/o/"
	check "consent: click wrapper gated" has "$o" "$GATE_URL/c/"
	check "consent: no raw tracker left" hasnt "$o" "track/open.php"
	check "consent: footer with a withdrawal link" has "$o" "$GATE_URL/w/"
	check "consent: trace header says consent" grep -q '^X-Consent-Milter: 2; decision=consent' "$o"
	local w1 w2
	w1=$(grep -o "$GATE_URL/w/[A-Za-z0-9_-]*" "$P/out.c1" | sort -u)
	w2=$(grep -o "$GATE_URL/w/[A-Za-z0-9_-]*" "$P/out.c2" | sort -u)
	check "consent: one withdrawal link per message" test "$(wc -l <<<"$w1")" -eq 1
	check "consent: withdrawal links differ per recipient" test -n "$w1" -a -n "$w2" -a "$w1" != "$w2"
	check "consent: no address in clear in the link" bash -c "! grep -q 'yes@example.org' <<<'$w1'"
}

case_prefs() {
	mkmsg "$P/in.pr" prefs.example no@example.org e2e-prefs
	deliver pr $PORT_MTA news@prefs.example no@example.org "$P/in.pr" 1 || return
	check "preferences: tracker-free mail gets the preferences link" has "$P/out.pr" "$GATE_URL/p/"
	check "preferences: no withdrawal link" hasnt "$P/out.pr" "$GATE_URL/w/"
	check "preferences: pixel stripped" hasnt "$P/out.pr" "track/open.php"
}

case_transactional() {
	mkmsg "$P/in.tx" brand.example no@example.org e2e-transactional $'X-Mail-Class: transactional\n'
	deliver tx $PORT_MTA billing@brand.example no@example.org "$P/in.tx" 1 || return
	check "transactional: deliverability pixel" has "$P/out.tx" "$GATE_URL/d/"
	check "transactional: original pixel gone" hasnt "$P/out.tx" "track/open.php"
	check "transactional: class in trace header" grep -q '^X-Consent-Milter: .*class=transactional' "$P/out.tx"
}

case_never_track() {
	mkmsg "$P/in.nt" never.example yes@example.org e2e-nevertrack
	deliver nt $PORT_MTA news@never.example yes@example.org "$P/in.nt" 1 || return
	check "never-track: pixel stripped despite consent" hasnt "$P/out.nt" "track/open.php"
	check "never-track: links unwrapped" hasnt "$P/out.nt" "awstrack.me"
	check "never-track: nothing gated" hasnt "$P/out.nt" "$GATE_URL/"
	check "never-track: decision in trace header" grep -q '^X-Consent-Milter: 2; decision=never-track' "$P/out.nt"
}

case_monitor() {
	mkmsg "$P/in.mo" monitor.example no@example.org e2e-monitor
	deliver mo $PORT_MTA news@monitor.example no@example.org "$P/in.mo" 1 || return
	body_file "$P/in.mo" "$P/in.mo.body"
	body_of "$P/out.mo" >"$P/out.mo.body"
	check "monitor: body delivered unchanged" cmp -s "$P/in.mo.body" "$P/out.mo.body"
	check "monitor: trace header says monitor" grep -q '^X-Consent-Milter: 2; decision=monitor' "$P/out.mo"
	check "monitor: the would-be actions are counted" grep -Eq '^X-Consent-Milter: .*strip=1' "$P/out.mo"
	check "monitor: logged" grep -q ' monitor controller=brand.example' "$P/milter.log"
}

case_off() {
	mkmsg "$P/in.of" off.example no@example.org e2e-off
	deliver of $PORT_MTA news@off.example no@example.org "$P/in.of" 1 || return
	body_file "$P/in.of" "$P/in.of.body"
	body_of "$P/out.of" >"$P/out.of.body"
	check "off: body delivered unchanged" cmp -s "$P/in.of.body" "$P/out.of.body"
	check "off: no trace header" hasnt "$P/out.of" "X-Consent-Milter"
}

case_two_recipients() {
	mkmsg "$P/in.tr" brand.example yes@example.org e2e-tworcpt
	deliver tr $PORT_MTA news@brand.example yes@example.org,no@example.org "$P/in.tr" 1 || return
	local f
	f=$(sink_files e2e-tworcpt | head -1)
	check "two recipients: one transaction for both" test "$(grep -c '^X-Rcpt-Args:' "$f")" -eq 2
	check "two recipients: strictest, pixel stripped" hasnt "$P/out.tr" "track/open.php"
	check "two recipients: strictest, nothing gated" hasnt "$P/out.tr" "$GATE_URL/"
	check "two recipients: strictest, no footer" hasnt "$P/out.tr" "/w/"
	check "two recipients: trace header says strictest" grep -q '^X-Consent-Milter: 2; decision=strictest.*rcpts=2' "$P/out.tr"
}

case_split() {
	mkmsg "$P/in.sp" brand.example list@example.org e2e-split
	deliver sp $PORT_SPLIT news@brand.example yes@example.org,no@example.org,yes2@example.org \
		"$P/in.sp" 3 || return
	local fy= fn= fy2=
	for f in $(sink_files e2e-split); do
		case "$(grep '^X-Rcpt-Args:' "$f")" in
		*yes2@example.org*) fy2=$f ;;
		*yes@example.org*) fy=$f ;;
		*no@example.org*) fn=$f ;;
		esac
		check "split: one recipient per delivered transaction" test "$(grep -c '^X-Rcpt-Args:' "$f")" -eq 1
	done
	check "split: each of the three recipients got a message" test -n "$fy" -a -n "$fn" -a -n "$fy2"
	[ -n "$fy" ] && [ -n "$fn" ] && [ -n "$fy2" ] || return
	check "split: consenting recipient gets gated trackers" has "$fy" "$GATE_URL/o/"
	check "split: consenting recipient gets a footer" has "$fy" "$GATE_URL/w/"
	check "split: non-consenting recipient gets no tracker" hasnt "$fn" "track/open.php"
	check "split: non-consenting recipient gets no footer" hasnt "$fn" "$GATE_URL/w/"
	local w1 w2
	w1=$(grep -o "$GATE_URL/w/[A-Za-z0-9_-]*" "$fy" | sort -u)
	w2=$(grep -o "$GATE_URL/w/[A-Za-z0-9_-]*" "$fy2" | sort -u)
	check "split: withdrawal links differ between the two consenting recipients" test -n "$w1" -a "$w1" != "$w2"
}

# pickup_deliver CASE DIR FROM TO[,TO...] MSG N - submit with the private
# instance's sendmail(1) (postdrop, pickup), wait for N copies; saved like
# deliver does.
pickup_deliver() {
	local c=$1 marker
	marker=$(marker_of "$5")
	# shellcheck disable=SC2046
	sendmail -C "$2/etc" -f "$3" $(tr , ' ' <<<"$4") <"$5" >"$P/sendmail.out" 2>&1 ||
		{ nok "$c: sendmail(1) failed: $(tail -2 "$P/sendmail.out")"; return 1; }
	wait_delivered "$marker" "$6" || { nok "$c: not delivered"; return 1; }
	check "$c: $6 copies delivered" test "$(save_copies "$c" "$marker")" -eq "$6"
}

# Inline layout: mail from sendmail(1) passes the milter too
# (non_smtpd_milters in main.cf.inline), one body for all recipients.
case_pickup_inline() {
	mkmsg "$P/in.pi" brand.example no@example.org e2e-pickup-inline
	pickup_deliver pi "$P" news@brand.example no@example.org "$P/in.pi" 1 || return
	check "pickup inline: pixel stripped" hasnt "$P/out.pi" "track/open.php"
	check "pickup inline: SES link unwrapped" hasnt "$P/out.pi" "awstrack.me"
	check "pickup inline: trace header says no-consent" grep -q '^X-Consent-Milter: 2; decision=no-consent' "$P/out.pi"
	mkmsg "$P/in.p2" brand.example yes@example.org e2e-pickup-inline2
	pickup_deliver p2 "$P" news@brand.example yes@example.org,no@example.org "$P/in.p2" 1 || return
	check "pickup inline, two recipients: strictest, nothing gated" hasnt "$P/out.p2" "$GATE_URL/"
	check "pickup inline, two recipients: strictest, pixel stripped" hasnt "$P/out.p2" "track/open.php"
	check "pickup inline, two recipients: trace header says strictest" \
		grep -q '^X-Consent-Milter: 2; decision=strictest.*rcpts=2' "$P/out.p2"
}

# Split layout: mail from sendmail(1) takes the split route like SMTP
# mail: one filtered transaction, one result per recipient.
case_pickup_split() {
	mkmsg "$P/in.ps" brand.example list@example.org e2e-pickup-split
	pickup_deliver ps "$P/split" news@brand.example yes@example.org,no@example.org "$P/in.ps" 2 || return
	local fy= fn= f
	for f in $(sink_files e2e-pickup-split); do
		case "$(grep '^X-Rcpt-Args:' "$f")" in
		*yes@example.org*) fy=$f ;;
		*no@example.org*) fn=$f ;;
		esac
		check "pickup split: one recipient per delivered transaction" test "$(grep -c '^X-Rcpt-Args:' "$f")" -eq 1
		check "pickup split: the copy passed the milter (trace header)" grep -q '^X-Consent-Milter: 2; ' "$f"
	done
	check "pickup split: each recipient got a copy" test -n "$fy" -a -n "$fn"
	[ -n "$fy" ] && [ -n "$fn" ] || return
	check "pickup split: consenting recipient gets gated trackers" has "$fy" "$GATE_URL/o/"
	check "pickup split: consenting recipient gets a footer" has "$fy" "$GATE_URL/w/"
	check "pickup split: non-consenting recipient gets no tracker" hasnt "$fn" "track/open.php"
	check "pickup split: non-consenting recipient gets no footer" hasnt "$fn" "$GATE_URL/w/"
}

DKIM_HDR=$'DKIM-Signature: v=1; a=rsa-sha256; d=brand.example; s=s1; h=from:to:subject;\n bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==\n'

case_dkim() {
	mkmsg "$P/in.dr" brand.example no@example.org e2e-dkim-rewrite "$DKIM_HDR"
	deliver dr $PORT_MTA news@brand.example no@example.org "$P/in.dr" 1 &&
		check "dkim_signed=rewrite: signed input is rewritten" hasnt "$P/out.dr" "track/open.php"
	mkmsg "$P/in.ds" skip.example no@example.org e2e-dkim-skip "$DKIM_HDR"
	if deliver ds $PORT_MTA news@skip.example no@example.org "$P/in.ds" 1; then
		body_file "$P/in.ds" "$P/in.ds.body"
		body_of "$P/out.ds" >"$P/out.ds.body"
		check "dkim_signed=skip: body untouched" cmp -s "$P/in.ds.body" "$P/out.ds.body"
		check "dkim_signed=skip: no trace header" hasnt "$P/out.ds" "X-Consent-Milter"
	fi
	mkmsg "$P/in.dt" tempfail.example no@example.org e2e-dkim-tempfail "$DKIM_HDR"
	send $PORT_MTA news@tempfail.example no@example.org "$P/in.dt"
	check "dkim_signed=tempfail: 451 reply" grep -q '<\*\* *451 4.7.0' "$P/swaks.out"
	check "dkim_signed=tempfail: reply names the reason" grep -q 'DKIM-signed' "$P/swaks.out"
	check "dkim_signed=tempfail: nothing delivered" test -z "$(sink_files e2e-dkim-tempfail)"
}

case_already_processed() {
	[ -f "$P/out.c1" ] || { nok "already processed: needs the consent case output"; return; }
	sed '1,/^$/s/e2e-consent1/e2e-again/' "$P/out.c1" >"$P/in.ag"
	deliver ag $PORT_MTA news@brand.example yes@example.org "$P/in.ag" 1 || return
	body_file "$P/in.ag" "$P/in.ag.body"
	body_of "$P/out.ag" >"$P/out.ag.body"
	check "already processed: body passed untouched" cmp -s "$P/in.ag.body" "$P/out.ag.body"
	check "already processed: one trace header" test "$(count_of "$P/out.ag" 'X-Consent-Milter:')" -eq 1
	check "already processed: logged as skipped" grep -q 'skip reason=already-processed' "$P/milter.log"
	# The same processed copy resent to someone else carries yes@'s gated
	# links and withdrawal link: refused with a reason, nothing delivered.
	sed '1,/^$/s/e2e-consent1/e2e-resent/' "$P/out.c1" >"$P/in.rs"
	send $PORT_MTA news@brand.example no@example.org "$P/in.rs"
	check "resent to another recipient: 550 5.7.0" grep -q '<\*\* *550 5.7.0' "$P/swaks.out"
	check "resent to another recipient: reply says why" grep -q 'personalised for other recipients' "$P/swaks.out"
	check "resent to another recipient: nothing delivered" test -z "$(sink_files e2e-resent)"
	check "resent to another recipient: logged without address" \
		grep -q 'refuse reason=personalised-for-other-recipients' "$P/milter.log"
	# A forged trace header does not exempt a message, and is replaced.
	mkmsg "$P/in.fg" brand.example no@example.org e2e-forged \
		"X-Consent-Milter: 2; decision=consent; mac=$(printf '0%.0s' $(seq 64))"$'\n'
	deliver fg $PORT_MTA news@brand.example no@example.org "$P/in.fg" 1 || return
	check "forged trace header: message still rewritten" hasnt "$P/out.fg" "track/open.php"
	check "forged trace header: replaced by ours" test "$(count_of "$P/out.fg" 'X-Consent-Milter:')" -eq 1
}

# A processed copy relabelled and sent again is not "already processed":
# the trace MAC covers every input of the decision (From:, the MIME
# labels, the class and ESP headers), and only an enforcing decision
# exempts a later pass (monitor rewrote nothing).
case_trace_replay() {
	local f=$P/in.rp1 n0 n1
	{
		printf 'From: news@brand.example\nTo: no@example.org\nSubject: relabel e2e-relabel1\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
		printf '<html><body><p>hi</p><img src="https://brand.us1.list-manage.com/track/open.php?u=abc&amp;id=def&amp;e=123abc" width="1" height="1"></body></html>\n'
	} >"$f"
	deliver rp1 $PORT_MTA news@brand.example no@example.org "$f" 1 || return
	check "relabel: the text/plain copy still holds the pixel URL (precondition)" has "$P/out.rp1" "track/open.php"
	sed '1,/^$/{s/e2e-relabel1/e2e-relabel2/;s#^Content-Type: text/plain#Content-Type: text/html#}' \
		"$P/out.rp1" >"$P/in.rp2"
	deliver rp2 $PORT_MTA news@brand.example no@example.org "$P/in.rp2" 1 || return
	check "relabel: text/plain relabelled text/html is processed again, pixel stripped" \
		hasnt "$P/out.rp2" "track/open.php"
	check "relabel: one fresh trace header" test "$(count_of "$P/out.rp2" 'X-Consent-Milter:')" -eq 1
	# monitor, then From: changed to an enforcing domain
	mkmsg "$P/in.rm1" monitor.example no@example.org e2e-refrom1
	deliver rm1 $PORT_MTA news@monitor.example no@example.org "$P/in.rm1" 1 || return
	check "refrom: the monitor copy keeps its pixel (precondition)" has "$P/out.rm1" "track/open.php"
	sed '1,/^$/{s/e2e-refrom1/e2e-refrom2/;s/^From: \(.*\)@monitor.example>/From: \1@brand.example>/}' \
		"$P/out.rm1" >"$P/in.rm2"
	check "refrom: From: changed (precondition)" grep -q '^From: .*@brand.example>' "$P/in.rm2"
	deliver rm2 $PORT_MTA news@brand.example no@example.org "$P/in.rm2" 1 || return
	check "refrom: monitor copy with another From: is enforced, pixel stripped" \
		hasnt "$P/out.rm2" "track/open.php"
	check "refrom: trace header says no-consent" grep -q '^X-Consent-Milter: 2; decision=no-consent' "$P/out.rm2"
	# a monitor copy, unchanged, is looked at again (never "already processed")
	n0=$(grep -c 'skip reason=already-processed' "$P/milter.log")
	sed '1,/^$/s/e2e-refrom1/e2e-remon/' "$P/out.rm1" >"$P/in.rm3"
	deliver rm3 $PORT_MTA news@monitor.example no@example.org "$P/in.rm3" 1 || return
	n1=$(grep -c 'skip reason=already-processed' "$P/milter.log")
	check "monitor copy resent: not skipped as already processed" test "$n0" -eq "$n1"
	check "monitor copy resent: one trace header, monitor again" \
		grep -q '^X-Consent-Milter: 2; decision=monitor' "$P/out.rm3"
	# a personalised copy relabelled and sent to someone else: no longer
	# exempt, but still carrying yes@'s gated links: refused as before
	if [ -f "$P/out.c1" ]; then
		sed '1,/^$/{s/e2e-consent1/e2e-relabel-other/;s#^Content-Type: multipart/alternative#Content-Type: multipart/mixed#}' \
			"$P/out.c1" >"$P/in.ro"
		send $PORT_MTA news@brand.example no@example.org "$P/in.ro"
		check "relabelled copy for another recipient: 550 5.7.0" grep -q '<\*\* *550 5.7.0' "$P/swaks.out"
		check "relabelled copy for another recipient: nothing delivered" \
			test -z "$(sink_files e2e-relabel-other)"
		# a junk trace header put before ours does not hide it
		{ echo "X-Consent-Milter: 2; decision=monitor; mac=none"; sed '1,/^$/s/e2e-consent1/e2e-junk-first/' "$P/out.c1"; } >"$P/in.jf"
		send $PORT_MTA news@brand.example no@example.org "$P/in.jf"
		check "copy with a junk trace header first, for another recipient: 550 5.7.0" \
			grep -q '<\*\* *550 5.7.0' "$P/swaks.out"
	else
		nok "relabelled copy for another recipient: needs the consent case output"
	fi
	# ESP switches turned back on after processing: processed again
	[ -f "$P/out.es" ] || { nok "esp replay: needs the esp case output"; return; }
	sed '1,/^$/{s/e2e-esp$/e2e-esp-again/;s/^X-Mailgun-Track: no/X-Mailgun-Track: yes/}' \
		"$P/out.es" >"$P/in.er"
	deliver er $PORT_MTA news@esp.example no@example.org "$P/in.er" 1 || return
	check "esp replay: X-Mailgun-Track switched off again" grep -q '^X-Mailgun-Track: no' "$P/out.er"
	check "esp replay: no X-Mailgun-Track: yes left" hasnt "$P/out.er" "X-Mailgun-Track: yes"
}

case_esp() {
	mkmsg "$P/in.es" esp.example no@example.org e2e-esp \
		$'X-SMTPAPI: {"category":"news"}\nX-Mailgun-Track: yes\n'
	deliver es $PORT_MTA news@esp.example no@example.org "$P/in.es" 1 || return
	local o=$P/out.es
	check "esp: X-SMTPAPI merged (category kept)" grep -q '^X-SMTPAPI: .*"category": *"news"' "$o"
	check "esp: X-SMTPAPI opentrack off" grep -q '^X-SMTPAPI: .*"opentrack": *{"settings": *{"enable": *0}}' "$o"
	check "esp: X-Mailgun-Track changed to no" grep -q '^X-Mailgun-Track: no' "$o"
	check "esp: one X-Mailgun-Track" test "$(grep -c '^X-Mailgun-Track:' "$o")" -eq 1
	check "esp: Postmark opens off" grep -q '^X-PM-TrackOpens: false' "$o"
	check "esp: Mailjet clicks off" grep -q '^X-MJ-TrackClick: 0' "$o"
	check "esp: SparkPost options" grep -q '^X-MSYS-API: {"options": *{"open_tracking": *false' "$o"
	# A long X-SMTPAPI (a "to" list, folded by the sender) stays folded: a
	# line over 998 octets would be broken by a relay, maybe inside a token.
	local to i
	to='{"to": ["r000@example.org"'
	for i in $(seq 1 299); do to+=$',\n "r'$(printf %03d "$i")'@example.org"'; done
	to+=$'],\n "category": "news"}'
	mkmsg "$P/in.el" esp.example no@example.org e2e-esp-long "X-SMTPAPI: $to"$'\n'
	deliver el $PORT_MTA news@esp.example no@example.org "$P/in.el" 1 || return
	awk '/^\r?$/ { exit } /^X-SMTPAPI:/ { h = 1; print; next }
	    h && /^[ \t]/ { print; next } { h = 0 }' "$P/out.el" >"$P/out.el.hdr"
	# folded by us between tokens (short lines), not cut at 998 by Postfix
	check "esp: long X-SMTPAPI folded between JSON tokens" \
		awk 'length($0) > 120 { bad = 1 } END { exit bad + (NR < 10) }' "$P/out.el.hdr"
	check "esp: long X-SMTPAPI opentrack off" bash -c \
		"tr -d ' \t\r\n' <'$P/out.el.hdr' | grep -q '\"opentrack\":{\"settings\":{\"enable\":0}}'"
	check "esp: long X-SMTPAPI keeps every recipient" \
		test "$(grep -o 'r[0-9]\{3\}@example.org' "$P/out.el.hdr" | sort -u | wc -l)" -eq 300
}

# Every occurrence of an ESP switch is normalised (a second header, a
# duplicate JSON key that SendGrid reads last, a lower-case name), and a
# JSON value that cannot be parsed is refused for good, never passed on.
case_esp_duplicates() {
	local dup='{"filters":{"opentrack":{"settings":{"enable":0}}},"filters":{"opentrack":{"settings":{"enable":1}}}}'
	mkmsg "$P/in.ed" esp.example no@example.org e2e-esp-dup \
		"X-SMTPAPI: {\"category\":\"news\"}"$'\n'"X-SMTPAPI: $dup"$'\n'$'X-Mailgun-Track: no\nX-Mailgun-Track: yes\nx-mj-trackopen: 1\n'
	deliver ed $PORT_MTA news@esp.example no@example.org "$P/in.ed" 1 || return
	local o=$P/out.ed
	check "esp duplicates: no X-Mailgun-Track: yes left" hasnt "$o" "X-Mailgun-Track: yes"
	check "esp duplicates: both X-SMTPAPI kept, merged" test "$(grep -c '^X-SMTPAPI: ' "$o")" -eq 2
	check "esp duplicates: the duplicate key is gone (one filters each)" \
		test "$(grep -c '^X-SMTPAPI: .*"filters".*"filters"' "$o")" -eq 0
	check "esp duplicates: no X-SMTPAPI turns opentrack on" hasnt "$o" '"enable":1'
	check "esp duplicates: lower-case x-mj-trackopen switched off" grep -iq '^x-mj-trackopen: 0' "$o"
	check "esp duplicates: no Mailjet opens on left" bash -c "! grep -iq '^x-mj-trackopen: 1' '$o'"
	mkmsg "$P/in.eb" esp.example no@example.org e2e-esp-badjson $'X-SMTPAPI: {"filters": {oops\n'
	send $PORT_MTA news@esp.example no@example.org "$P/in.eb"
	check "esp bad JSON: permanent refusal 554 5.6.0" grep -q '<\*\* *554 5.6.0' "$P/swaks.out"
	check "esp bad JSON: reply names the header" grep -q '<\*\*.*consent-milter: .*X-SMTPAPI' "$P/swaks.out"
	check "esp bad JSON: nothing delivered" test -z "$(sink_files e2e-esp-badjson)"
}

# A message of about N KiB: the newsletter with a long text part.
bigmsg() {
	local out=$1 kib=$2 marker=$3
	head -c $((kib * 1024)) /dev/zero | tr '\0' 'x' | fold -w 76 >"$out.pad"
	mkmsg "$out" brand.example no@example.org "$marker"
	awk -v pf="$out.pad" '{ print }
	    /^Content-Transfer-Encoding: 7bit$/ && !done {
		getline; print; while ((getline l < pf) > 0) print l; done = 1 }' \
		"$out" >"$out.tmp" && mv "$out.tmp" "$out"
}

case_spool() {
	bigmsg "$P/in.sp2" 400 e2e-spooled
	deliver sp2 $PORT_MTA news@brand.example no@example.org "$P/in.sp2" 1 || return
	check "spool: a message above spool_threshold is rewritten" hasnt "$P/out.sp2" "track/open.php"
	check "spool: its body is complete" test "$(grep -c '^xxxxxxxx' "$P/out.sp2")" -ge 5300
}

case_size_limit() {
	bigmsg "$P/in.big" 1600 e2e-toobig
	send $PORT_MTA news@brand.example no@example.org "$P/in.big"
	check "size limit: permanent 552 5.3.4 reply (retrying cannot help)" grep -q '<\*\* *552 5.3.4' "$P/swaks.out"
	check "size limit: reply names max_message_size" grep -q 'max_message_size' "$P/swaks.out"
	check "size limit: nothing delivered" test -z "$(sink_files e2e-toobig)"
}

case_malformed() {
	local f=$P/in.bad i
	{
		printf 'From: news@brand.example\nTo: no@example.org\nSubject: deep e2e-malformed\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="d0"\n\n'
		for i in $(seq 0 40); do
			printf -- '--d%d\nContent-Type: multipart/mixed; boundary="d%d"\n\n' "$i" $((i + 1))
		done
		printf -- '--d41\nContent-Type: text/html\n\n<img src="https://x.list-manage.com/track/open.php?u=1&e=2" width=1 height=1>\n'
	} >"$f"
	send $PORT_MTA news@brand.example no@example.org "$f"
	check "malformed: permanent 554 5.6.0 reply (too deep for ever)" grep -q '<\*\* *554 5.6.0' "$P/swaks.out"
	check "malformed: reply says why" grep -q 'consent-milter: cannot rewrite message' "$P/swaks.out"
	check "malformed: nothing delivered" test -z "$(sink_files e2e-malformed)"
}

# Several SMTP sessions at once (libmilter's worker pool): every message is
# delivered with the decision of its own recipient.
case_concurrent() {
	local i j pids=() r ok_all=1
	for i in 1 2 3 4; do
		(
			for j in 1 2 3 4 5; do
				r=$([ $(((i + j) % 2)) = 0 ] && echo yes2 || echo no)
				mkmsg "$P/in.cc.$i.$j" brand.example "$r@example.org" "e2e-cc-$i-$j-$r"
				swaks --server 127.0.0.1:$PORT_MTA --from news@brand.example --to "$r@example.org" \
					--data "@$P/in.cc.$i.$j" --timeout 30 >"$P/swaks.cc.$i.$j" 2>&1
			done
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
	check "concurrent: 20 messages delivered" wait_delivered e2e-cc- 20
	for f in $(sink_files e2e-cc-); do
		case "$(grep -m1 '^Subject:' "$f")" in
		*-yes2) grep -q "$GATE_URL/w/" "$f" && grep -q '^X-Consent-Milter: 2; decision=consent' "$f" || ok_all=0 ;;
		*-no) ! grep -q "$GATE_URL/" "$f" && grep -q '^X-Consent-Milter: 2; decision=no-consent' "$f" || ok_all=0 ;;
		*) ok_all=0 ;;
		esac
	done
	check "concurrent: each message got its own recipient's decision" test $ok_all = 1
}

# The shared corpus of malformed and Outlook-made messages, when it sits
# beside the checkout: each is delivered or refused with a reason, and the
# milter survives them all.
case_corpus() {
	local dir=$SRCDIR/../shared/corpus/malformed f n=0
	[ -d "$dir" ] || { echo "# corpus case skipped: no $dir"; return; }
	for f in "$dir"/*.eml; do
		n=$((n + 1))
		send $PORT_MTA news@brand.example no@example.org "$f"
		check "corpus $(basename "$f"): accepted, or refused with a reason" \
			grep -Eq '<- +250 2.0.0 Ok: queued|<\*\* +([45])[0-9][0-9] \1\.[0-9]\.[0-9] consent-milter: ' "$P/swaks.out"
	done
	check "corpus: the milter survived $n messages" kill -0 "$MILTER_PID"
}

# smtp_read FD - read one (multi-line) SMTP reply; prints the last line.
smtp_read() {
	local line
	while IFS= read -r -t 30 line <&3; do
		line=${line%$'\r'}
		case "$line" in [0-9][0-9][0-9]-*) continue ;; esac
		printf '%s\n' "$line"
		return 0
	done
	return 1
}

case_milter_killed() {
	mkmsg "$P/in.k" brand.example no@example.org e2e-killed
	local r
	exec 3<>/dev/tcp/127.0.0.1/$PORT_MTA || { nok "killed: cannot connect"; return; }
	smtp_read >/dev/null
	printf 'EHLO client.test\r\n' >&3; smtp_read >/dev/null
	printf 'MAIL FROM:<news@brand.example>\r\n' >&3; smtp_read >/dev/null
	printf 'RCPT TO:<no@example.org>\r\n' >&3; smtp_read >/dev/null
	printf 'DATA\r\n' >&3; smtp_read >/dev/null
	head -12 "$P/in.k" | sed 's/$/\r/' >&3
	kill -9 "$MILTER_PID"
	wait "$MILTER_PID" 2>/dev/null
	MILTER_PID=
	tail -n +13 "$P/in.k" | sed 's/^\./../; s/$/\r/' >&3
	printf '.\r\n' >&3
	r=$(smtp_read)
	printf 'QUIT\r\n' >&3
	exec 3>&-
	check "killed: Postfix tempfails the transaction ($r)" grep -q '^4[0-9][0-9] ' <<<"$r"
	start_milter
	deliver k $PORT_MTA news@brand.example no@example.org "$P/in.k" 1 || return
	check "killed: after a restart the message is delivered exactly once" \
		test "$(sink_files e2e-killed | wc -l)" -eq 1
	check "killed: and rewritten" hasnt "$P/out.k" "track/open.php"
}

case_reload() {
	cp "$P/milter.conf" "$P/milter.conf.good"
	echo "bogus_key = 1" >>"$P/milter.conf"
	kill -USR1 "$MILTER_PID"
	check "reload: a bad configuration is refused" wait_for 10 grep -q 'reload refused' "$P/milter.log"
	check "reload: the milter keeps running" kill -0 "$MILTER_PID"
	cp "$P/milter.conf.good" "$P/milter.conf"
	kill -USR1 "$MILTER_PID"
	check "reload: a good configuration is installed" wait_for 10 grep -q 'reload ok' "$P/milter.log"
	mkmsg "$P/in.rl" brand.example no@example.org e2e-reload
	deliver rl $PORT_MTA news@brand.example no@example.org "$P/in.rl" 1 &&
		check "reload: mail still flows" hasnt "$P/out.rl" "track/open.php"
}

# The links the milter made work at the real consent-gate: the gated pixel
# token decodes to the original pixel, the withdrawal page names the
# controller and masks the address, and a withdrawal through it reaches the
# milter's next decision for that recipient (same store).
case_gate() {
	[ -x "$GATE" ] && command -v curl >/dev/null || { echo "# gate case skipped: no consent-gate or curl"; return; }
	[ -f "$P/out.c1" ] || { nok "gate: needs the consent case output"; return; }
	"$GATE" -f -c "$P/milter.conf" -P "$SRCDIR/conf/pages" --ready-file "$P/mspool/gate.ready" \
		>"$P/gate.log" 2>&1 &
	GATE_PID=$!
	wait_for 10 test -s "$P/mspool/gate.ready" || { nok "gate: did not start: $(tail -2 "$P/gate.log")"; return; }
	local o w page csrf r
	o=$(grep -o "$GATE_URL/o/[A-Za-z0-9_-]*" "$P/out.c1" | head -1)
	w=$(grep -o "$GATE_URL/w/[A-Za-z0-9_-]*" "$P/out.c1" | head -1)
	r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$o")
	check "gate: gated pixel decodes to the original pixel ($r)" \
		grep -q '^302 https://brand.us1.list-manage.com/track/open.php' <<<"$r"
	page=$(curl -s -H 'Accept-Language: en' "$w")
	check "gate: withdrawal page names the controller" grep -q 'brand.example' <<<"$page"
	check "gate: withdrawal page masks the address" bash -c "! grep -q 'yes@example.org' <<<\"\$1\"" _ "$page"
	csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' <<<"$page" | cut -d'"' -f4)
	r=$(curl -s -H "Origin: $GATE_URL" -H 'Sec-Fetch-Site: same-origin' -H 'Accept-Language: en' \
		-d "csrf=$csrf" "$w")
	check "gate: withdrawal accepted" grep -q 'Tracking stopped' <<<"$r"
	r=$(curl -s -o /dev/null -w '%{http_code}' "$o")
	check "gate: the old pixel stops tracking ($r)" test "$r" = 200
	mkmsg "$P/in.wd" brand.example yes@example.org e2e-after-withdrawal
	deliver wd $PORT_MTA news@brand.example yes@example.org "$P/in.wd" 1 || return
	check "gate: the milter sees the withdrawal (no-consent)" \
		grep -q '^X-Consent-Milter: 2; decision=no-consent' "$P/out.wd"
	check "gate: no footer after withdrawal" hasnt "$P/out.wd" "$GATE_URL/w/"
	kill "$GATE_PID" 2>/dev/null
	wait "$GATE_PID" 2>/dev/null
	GATE_PID=
}

# Under check-asan: stop the milter and make sure it reported nothing.
case_sanitizer() {
	stop_milter
	check "milter: no sanitizer report in its log" bash -c "! grep -q 'Sanitizer' '$P/milter.log'"
	check "milter: stopped cleanly" grep -q ': stop$' "$P/milter.log"
}

case_log_line() {
	check "log: one line per message with queue id and fields" \
		grep -Eq '^consent-milter: info: [0-9A-Za-z]+: rewrite controller=brand.example decision=no-consent mode=enforce class=marketing .* ms=[0-9.]+$' "$P/milter.log"
	check "log: no recipient address at info level" bash -c "! grep -q 'no@example.org' '$P/milter.log'"
}

main() {
	local why
	why=$(e2e_requirements) || e2e_cannot_run e2e "$why"
	[ -f "$RULES" ] || die "no rules file $RULES"
	e2e_setup
	trap '[ -n "$GATE_PID" ] && kill "$GATE_PID" 2>/dev/null; e2e_cleanup' EXIT
	local cases=${E2E_CASES:-"config_check no_consent consent prefs transactional never_track monitor off two_recipients split pickup_inline pickup_split dkim already_processed gate esp esp_duplicates trace_replay spool size_limit malformed corpus concurrent log_line milter_killed reload sanitizer"}
	for c in $cases; do
		"case_$c"
	done
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

main "$@"
