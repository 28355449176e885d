# tests/pg/lib.sh - a private PostgreSQL 15 for the tests (sourced).
#
# initdb in a temporary directory as the postgres user (the server refuses
# to run as root), listening only on a Unix socket inside that directory,
# fsync off (tests only; PG_OPTS adds server options, e.g. a bench's
# memory settings). Gives:
#   pg_start      start it (returns 1 if it cannot; the caller decides
#                 between skip and fail, see pg_need)
#   pg_stop       stop it and remove the directory
#   pg_conninfo   libpq string of the superuser "consent" on db "consent"
#   pg_sql SQL    run SQL as that superuser, one value per line (psql -tA)
#   PG_DIR, PG_DATA, PG_SOCK (= PG_DIR), PGBIN
# pg_need: with E2E_REQUIRE=1 a server that cannot start fails the suite;
# otherwise it says SKIP loudly and exits 0.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_DATA=

# as_pg CMD... - run as the postgres user when root, else directly.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
    [ -x "$PGBIN/initdb" ] || { echo "pg: $PGBIN/initdb missing (postgresql-15)" >&2; return 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "pg: no postgres user" >&2
        return 1
    fi
    PG_DIR=$(mktemp -d -t pgtest.XXXXXX) || return 1
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    chmod 700 "$PG_DIR"
    PG_DATA=$PG_DIR/data
    PG_SOCK=$PG_DIR
    as_pg "$PGBIN/initdb" -D "$PG_DATA" -A trust -U consent --no-locale -E UTF8 \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/log" -w -t 60 start \
        -o "-k $PG_DIR -c listen_addresses='' -c fsync=off ${PG_OPTS:-}" >/dev/null 2>&1 ||
        { cat "$PG_DIR/log" >&2; return 1; }
    psql -X -q -h "$PG_DIR" -U consent -d postgres -c 'create database consent' >/dev/null ||
        return 1
}

pg_stop() {
    [ -n "$PG_DATA" ] && [ -d "$PG_DATA" ] &&
        as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    PG_DIR= PG_DATA=
}

pg_conninfo() { echo "host=$PG_DIR dbname=consent user=consent"; }

pg_sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$PG_DIR" -U consent -d consent -c "$1"; }

pg_need() {
    if pg_start; then return 0; fi
    pg_stop
    if [ "${E2E_REQUIRE:-0}" = 1 ]; then
        echo "FAIL: $1: cannot start a private PostgreSQL 15 (E2E_REQUIRE=1)"
        exit 1
    fi
    echo "SKIP: $1: cannot start a private PostgreSQL 15 (postgresql-15, root or a"
    echo "SKIP: postgres user needed); NOT TESTED"
    exit 0
}
