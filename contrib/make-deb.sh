#!/bin/sh
# make-deb.sh - build the Debian packages (debian/) into $B/deb/.
#
# dpkg-buildpackage writes its results next to the source directory, so it
# runs on a copy of the tree (tracked and new files, not the build
# directories) under a temporary directory; only the .deb files, the
# .buildinfo and the .changes come back. Needs Build-Depends installed
# (dpkg-checkbuilddeps says which are missing) and no root.
set -eu
B=${B:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/$B/deb
tmp=$(mktemp -d /tmp/cm-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/consent-milter"
# tracked and untracked-but-not-ignored files, as they are now
(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$top" && xargs -0 cp --parents -d -t "$tmp/consent-milter" 2>/dev/null || true)
[ -f "$tmp/consent-milter/debian/control" ] || { echo "make-deb: no debian/ copied" >&2; exit 1; }
(cd "$tmp/consent-milter" && dpkg-checkbuilddeps && \
	dpkg-buildpackage -b -us -uc -j"${DEB_JOBS:-2}") >"$tmp/build.log" 2>&1 ||
	{ tail -40 "$tmp/build.log" >&2; echo "make-deb: dpkg-buildpackage failed" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
# debug symbols aside, so that apt-get install ./$B/deb/*.deb takes the three
mkdir "$out/dbgsym"
mv "$tmp"/*-dbgsym_*.deb "$out/dbgsym/" 2>/dev/null || true
cp "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$out"/
cp "$tmp/build.log" "$out"/
ls "$out"/*.deb
