#!/bin/sh
# symcheck.sh B - every symbol a production object exports carries its
# module's prefix (STYLE.md, "Names"), so a name tells its folder and no
# name can clash with libmilter (smfi_, mi_), gmime (g_), libxml2 (xml,
# html), LMDB (mdb_) or libmicrohttpd (MHD_). Programs may also export main.
# Prints each offender; exits 1 if there is one.
set -eu
B=${1:-build}
cd "$(dirname "$0")/.."

# Prefixes by folder. store's st_ names are the library's private API
# (store/store_int.h), shared between its files.
prefixes() {
    case $1 in
    common) echo "buf_ log_ tok_ cidr_ prom_ cm_" ;;
    rewriter) echo "rw_ RW_" ;;
    store) echo "store_ st_" ;;
    policy) echo "cfg_ msginfo_ policy_ ledger_ snap_" ;;
    gate) echo "gate_" ;;
    milter) echo "mlt_" ;;
    ctl) echo "ctl_" ;;
    sync) echo "sync_" ;;
    tools) echo "" ;;
    esac
}

[ -d "$B/obj" ] || { echo "symcheck: $B/obj missing: build first" >&2; exit 1; }
bad=0 n=0
for d in common rewriter store policy gate milter ctl tools sync; do
    [ -d "$B/obj/$d" ] || continue
    p=$(prefixes "$d")
    for o in "$B/obj/$d"/*.o; do
        [ -e "$o" ] || continue
        # an object left over from a moved or deleted source is no part of the tree
        src=${o#"$B"/obj/}
        [ -e "${src%.o}.c" ] || continue
        for s in $(nm -g --defined-only "$o" | awk 'NF == 3 { print $3 }'); do
            # symbols the sanitizers add beside ours (an ASan build): the
            # symbol they name is checked on its own
            case $s in __odr_asan.* | __asan_* | __ubsan_* | __sancov*) continue ;; esac
            n=$((n + 1))
            ok=0
            [ "$s" = main ] && ok=1
            for x in $p; do
                case $s in "$x"*) ok=1 ;; esac
            done
            if [ $ok -eq 0 ]; then
                echo "symcheck: ${o#"$B"/obj/}: $s lacks a prefix of $d/ (${p:-none})"
                bad=1
            fi
        done
    done
done
[ $bad -eq 0 ] && echo "symcheck: $n exported symbols, each with its module's prefix"
exit $bad
