# store.sh - consentctl on broken stores (sourced by run.sh).
#
# Corrupted on disk: meta pages zeroed, the file cut in half, a file that is
# not LMDB, data pages overwritten with 0xff (pages that point past the end
# of the file: SIGBUS in LMDB). Every command must exit 1 with a line that
# says the database is corrupt or damaged, never die of a signal.
# Full disk: grants into a store on a small tmpfs (root) or under a file
# size limit (ulimit -f, anyone) until one fails: it must say there is no
# space, the ledger must verify, every earlier grant must be there, and
# with room again a grant must work. Read-only directory (a read-only bind
# mount, root): the reading commands work, the writing ones say why not.

HOSTILE_CTL=$CONSENTCTL
ctl() { "$HOSTILE_CTL" --db "$@"; }

store_seed() { # DIR N: N consenting recipients of brand.example
	mkdir -p "$1"
	for i in $(seq "$2"); do
		ctl "$1" grant brand.example "r$i@example.org" opens clicks --notice hostile >/dev/null ||
			return 1
	done
}

S=$W/store
store_seed "$S/good" 20 || nok "store: cannot seed a store"

for kind in meta truncated not-lmdb pages; do
	rm -rf "$S/$kind" && cp -a "$S/good" "$S/$kind" && corrupt "$kind" "$S/$kind"
	for cmd in "show brand.example r3@example.org" verify stats \
		"grant brand.example new@example.org opens --notice hostile"; do
		ctl "$S/$kind" $cmd >/dev/null 2>"$S/err"
		rc=$?
		if [ $rc = 1 ] && grep -q 'corrupt\|damaged' "$S/err"; then
			ok "store-corrupt-$kind: consentctl ${cmd%% *}: exit 1: $(head -1 "$S/err")"
		else
			nok "store-corrupt-$kind: consentctl ${cmd%% *}: exit $rc: $(head -c 200 "$S/err")"
		fi
	done
done

# fill STORE: grants until one fails; prints the number that worked
fill() {
	local i=0
	while [ $i -lt 2000 ]; do
		ctl "$1" grant brand.example "f$i@example.org" opens clicks --notice hostile \
			>/dev/null 2>"$S/err" || break
		i=$((i + 1))
	done
	echo $i
}
# full_checks NAME STORE N: the grant that failed, and what is left
full_checks() {
	local name=$1 st=$2 n=$3
	check "$name: the grant that does not fit fails with a clear reason ($(head -1 "$S/err"))" \
		grep -q 'no space left' "$S/err"
	check "$name: the ledger verifies after it" eval "ctl '$st' verify >/dev/null"
	check "$name: all $n earlier grants are there" \
		eval "ctl '$st' stats brand.example | grep -q 'brand.example: $((n + 20)) recipients'"
	check "$name: the store still reads" eval "ctl '$st' show brand.example r3@example.org | grep -q 'opens: granted'"
}

# a file size limit: LMDB's write gets EFBIG (SIGXFSZ ignored, as a daemon would)
rm -rf "$S/fsize" && cp -a "$S/good" "$S/fsize"
limit_kb=$(($(stat -c %s "$S/good/data.mdb") / 1024 + 24))
n=$( (trap "" XFSZ; ulimit -f $limit_kb; fill "$S/fsize"))
if [ "$n" -gt 0 ] && [ "$n" -lt 2000 ]; then
	full_checks store-file-size-limit "$S/fsize" "$n"
	check "store-file-size-limit: with room again a grant works" \
		eval "ctl '$S/fsize' grant brand.example again@example.org opens --notice hostile >/dev/null"
else
	nok "store-file-size-limit: $n grants before the limit: $(cat "$S/err")"
fi

if root_case store-full-disk; then
	mkdir -p "$S/full"
	if mount -t tmpfs -o size=1m tmpfs "$S/full"; then
		HOSTILE_MOUNTS="$S/full ${HOSTILE_MOUNTS:-}"
		mkdir "$S/full/db"
		cp -a "$S/good/." "$S/full/db/"
		# leave 24 KiB free
		free=$(($(stat -f -c '%a * %S' "$S/full") - 24576))
		head -c "$free" /dev/zero >"$S/full/filler" 2>/dev/null
		n=$(fill "$S/full/db")
		if [ "$n" -gt 0 ] && [ "$n" -lt 2000 ]; then
			full_checks store-full-disk "$S/full/db" "$n"
			check "store-full-disk: the data file is whole (size a multiple of the page)" \
				[ $(($(stat -c %s "$S/full/db/data.mdb") % 4096)) = 0 ]
			rm -f "$S/full/filler"
			check "store-full-disk: with room again a grant works" \
				eval "ctl '$S/full/db' grant brand.example again@example.org opens --notice hostile >/dev/null"
		else
			nok "store-full-disk: $n grants before the disk was full: $(cat "$S/err")"
		fi
		umount "$S/full"
	else
		nok "store-full-disk: cannot mount a tmpfs"
	fi
fi

if root_case store-read-only; then
	mkdir -p "$S/ro"
	if mount --bind "$S/good" "$S/ro" && mount -o remount,ro,bind "$S/ro"; then
		HOSTILE_MOUNTS="$S/ro ${HOSTILE_MOUNTS:-}"
		for cmd in "show brand.example r3@example.org" verify stats export; do
			check "store-read-only: consentctl ${cmd%% *} reads" \
				eval "ctl '$S/ro' $cmd >/dev/null 2>'$S/err'"
		done
		for cmd in "grant brand.example new@example.org opens --notice hostile" \
			"erase brand.example r3@example.org" scrub; do
			ctl "$S/ro" $cmd >/dev/null 2>"$S/err"
			rc=$?
			check "store-read-only: consentctl ${cmd%% *}: exit $rc, $(head -1 "$S/err")" \
				eval "[ $rc = 1 ] && grep -q 'Read-only file system' '$S/err'"
		done
		umount "$S/ro"
	else
		nok "store-read-only: cannot make a read-only bind mount"
	fi
fi

# consent-rewrite reads the consent from the store when not given --consent:
# a damaged store is exit 5 with a reason, no bus error
sed -e "s#^database = .*#database = $S/pages#" -e "s#= \.\./#= $HERE/../#" "$HERE/hostile.conf" >"$S/rw.conf"
printf 'From: a@brand.example\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n' >"$S/tiny.eml"
for kind in meta pages; do
	sed -i "s#^database = .*#database = $S/$kind#" "$S/rw.conf"
	"$REWRITE" -c "$S/rw.conf" --keys "$W/keys" --from a@brand.example --rcpt r3@example.org \
		"$S/tiny.eml" >"$S/out" 2>"$S/err"
	rc=$?
	check "store-corrupt-$kind: consent-rewrite without --consent: exit $rc, $(head -1 "$S/err")" \
		eval "[ $rc = 5 ] && grep -q 'corrupt\|damaged' '$S/err' && [ ! -s '$S/out' ]"
done
