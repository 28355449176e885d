#!/bin/sh
# install-deps.sh - install the Debian packages listed in debian-packages.txt.
# As root: installs whatever is missing with apt-get (non-interactive; Postfix
# is preseeded to "No configuration" so it never touches the host's mail).
# Otherwise: prints the exact command to run and fails.
set -eu
here=$(dirname "$0")
pkgs=$(grep -v '^#' "$here/debian-packages.txt" | grep -v '^$')
missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *"ok installed"*) ;; *) missing="$missing $p" ;; esac
done
# node/npm (browser tests): the Debian packages only if no node is present
# (images that ship their own Node.js conflict with Debian's npm).
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "consent-milter: missing Debian packages. Run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "consent-milter: installing:$missing"
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
