#!/bin/sh
# layers.sh B - check the architecture of the production code (README,
# "Layers"): every dependency runs down a layer, and no two files depend on
# each other, directly or in a circle.
#
# Two graphs, both taken from the code itself:
# - includes: `#include "DIR/FILE.h"` in every production .c and .h;
# - symbols: object A uses a function or variable that object B defines
#   (nm over $B/obj), which also sees calls declared in a shared private
#   header.
# A folder may use its own files and folders of a lower layer; programs
# (layer 3) use none of each other. The symbol graph between files must have
# no cycle (tsort). Prints each violation; exits 1 if there is one.
set -eu
B=${1:-build}
cd "$(dirname "$0")/.."

# The layers, lowest first. Keep in step with README.md, "Layers".
level() {
    case $1 in
    common) echo 0 ;;
    rewriter | store) echo 1 ;;
    policy | pgstore) echo 2 ;;
    milter | gate | ctl | tools | sync) echo 3 ;;
    *) echo 9 ;;
    esac
}
DIRS="common rewriter store policy pgstore milter gate ctl tools sync"

bad=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Edges "FROM TO" (file paths without extension) from the includes.
for d in $DIRS; do
    [ -d "$d" ] || continue
    for f in "$d"/*.c "$d"/*.h; do
        [ -e "$f" ] || continue
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\/[^"]*\)\.h".*/\1/p' "$f" |
            while read -r to; do echo "${f%.*} $to"; done
    done
done >"$tmp/inc"

# Edges from the symbols of the built objects.
[ -d "$B/obj" ] || { echo "layers: $B/obj missing: build first" >&2; exit 1; }
for d in $DIRS; do
    [ -d "$B/obj/$d" ] || continue
    for o in "$B/obj/$d"/*.o; do
        [ -e "$o" ] || continue
        # an object left over from a moved or deleted source is no part of the tree
        src=${o#"$B"/obj/}
        [ -e "${src%.o}.c" ] || continue
        n=${o#"$B"/obj/}
        nm "$o" | awk -v n="${n%.o}" '$1 == "U" { print "U", n, $2 }
            NF == 3 && $2 ~ /^[TDBRC]$/ { print "D", n, $3 }'
    done
done | awk '$1 == "D" { def[$3] = $2; next } { use[NR] = $2 " " $3 }
    END { for (k in use) { split(use[k], a, " ");
          if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]] } }' |
    sort -u >"$tmp/sym"

# Rule 1: each edge runs within a folder or down a layer.
sort -u "$tmp/inc" "$tmp/sym" | while read -r from to; do
    fd=${from%%/*} td=${to%%/*}
    [ "$fd" = "$td" ] && continue
    fl=$(level "$fd") tl=$(level "$td")
    if [ "$tl" -ge "$fl" ]; then
        echo "layers: $from -> $to runs up or across (layer $fl -> $tl)"
    fi
done >"$tmp/up"
if [ -s "$tmp/up" ]; then cat "$tmp/up"; bad=1; fi

# Rule 2: no cycle between files. A header and its .c are one file here.
if ! tsort "$tmp/sym" >/dev/null 2>"$tmp/loops"; then
    echo "layers: circles between files:"
    grep -v 'input contains a loop' "$tmp/loops" | sed 's/^tsort: /  /'
    bad=1
fi

n_inc=$(wc -l <"$tmp/inc") n_sym=$(wc -l <"$tmp/sym")
if [ $bad -eq 0 ]; then
    echo "layers: $n_inc include and $n_sym symbol edges, all downward, no circle"
fi
exit $bad
