#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the Postgres test leg, from Debian's binaries.
#
#   scripts/pg-test-cluster.sh start    # fresh cluster + database mujun_test, prints its URL
#   scripts/pg-test-cluster.sh url      # prints postgres://mujun:mujun@127.0.0.1:PORT/mujun_test
#   scripts/pg-test-cluster.sh status   # exit 0 when running
#   scripts/pg-test-cluster.sh stop     # stops it and removes its directory
#   scripts/pg-test-cluster.sh pause    # stops the server (fast), keeping the cluster
#   scripts/pg-test-cluster.sh resume   # starts it again (a restart under load, tests/ops)
#
# The cluster lives in $MUJUN_PG_DIR (default /tmp/mujun-pgtest: a place the `postgres`
# user can reach whatever the clone's path), listens on 127.0.0.1 only, on port
# $MUJUN_PG_PORT (default 54329, or the next free one), with trust authentication, and keeps
# its Unix socket in its own directory. It never touches the system's default cluster.
# As root, initdb/pg_ctl run as the `postgres` system user (initdb refuses root);
# as any other user they run as that user.
set -euo pipefail

PGBIN="${MUJUN_PG_BIN:-/usr/lib/postgresql/15/bin}"
BASE="${MUJUN_PG_DIR:-/tmp/mujun-pgtest}"
DATA="$BASE/data"
SOCK="$BASE/sock"
LOG="$BASE/server.log"
PORTFILE="$BASE/port"
DB_NAME="mujun_test"
DB_USER="mujun"
DB_PASS="mujun"

say()  { printf 'pg-test-cluster: %s\n' "$*" >&2; }
fail() { printf 'pg-test-cluster: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" = "0" ]; then
    id -u postgres >/dev/null 2>&1 || fail "system user 'postgres' missing: install Debian's postgresql (scripts/install-deps.sh)"
    RUNAS=(runuser -u postgres --)
    OWNER=postgres
else
    RUNAS=()
    OWNER="$(id -un)"
fi

# Runs a PostgreSQL binary as the cluster owner, from a directory that user can enter.
pg() { (cd "$BASE" 2>/dev/null || cd /; "${RUNAS[@]}" "$@"); }

port_in_use() {
    # true when something accepts TCP connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

current_port() { [ -f "$PORTFILE" ] && cat "$PORTFILE"; }

is_running() {
    [ -d "$DATA" ] && [ -f "$DATA/PG_VERSION" ] && pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

print_url() {
    local port
    port="$(current_port)" || fail "no test cluster (run: $0 start)"
    printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$DB_PASS" "$port" "$DB_NAME"
}

do_stop() {
    if is_running; then
        pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 \
            || say "warning: pg_ctl stop failed (see $LOG)"
    elif [ -f "$DATA/postmaster.pid" ]; then
        # a server whose pg_ctl status is unclear: end it by its own pid, nothing broader
        pid="$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid" 2>/dev/null || true; sleep 2; fi
    fi
    case "$BASE" in
        /|"") fail "refusing to remove '$BASE'" ;;
    esac
    rm -rf "$BASE"
}

do_start() {
    [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] \
        || fail "PostgreSQL 15 binaries not found in $PGBIN (run scripts/install-deps.sh)"
    command -v psql >/dev/null 2>&1 || fail "psql not found (Debian postgresql-client-15)"

    # A start is always a fresh cluster: stop and wipe whatever an earlier run left.
    if [ -e "$BASE" ]; then do_stop; fi

    local port="${MUJUN_PG_PORT:-54329}" tries=0
    while port_in_use "$port"; do
        tries=$((tries + 1)); [ "$tries" -lt 100 ] || fail "no free port found from ${MUJUN_PG_PORT:-54329} upwards"
        port=$((port + 1))
    done

    mkdir -p "$BASE" "$SOCK"
    chmod 0755 "$BASE"
    chown "$OWNER" "$BASE" "$SOCK"
    echo "$port" >"$PORTFILE"

    if ! pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
            >"$BASE/initdb.log" 2>&1; then
        cat "$BASE/initdb.log" >&2
        fail "initdb failed"
    fi
    # Local TCP only, trust (the cluster is thrown away; nothing else can reach it).
    cat >"$DATA/pg_hba.conf" <<EOF
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
EOF
    cat >>"$DATA/postgresql.conf" <<EOF
# mujun throw-away test cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
    chown "$OWNER" "$DATA/pg_hba.conf" "$DATA/postgresql.conf"

    if ! pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null 2>&1; then
        [ -f "$LOG" ] && tail -n 30 "$LOG" >&2
        fail "PostgreSQL did not start on 127.0.0.1:$port"
    fi

    local psqlargs=(-X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
    if ! psql "${psqlargs[@]}" >/dev/null 2>"$BASE/psql.err" <<EOF
CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASS';
CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0;
EOF
    then
        cat "$BASE/psql.err" >&2
        do_stop
        fail "could not create role/database"
    fi
    say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') running on 127.0.0.1:$port (dir $BASE)"
    print_url
}

case "${1:-}" in
    start)  do_start ;;
    stop)   do_stop ;;
    pause)  is_running || fail "test cluster not running"; pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null ;;
    resume) [ -f "$DATA/PG_VERSION" ] || fail "no test cluster in $BASE"; pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null ;;
    url)    is_running || fail "test cluster not running (run: $0 start)"; print_url ;;
    status) if is_running; then say "running: $(print_url)"; else say "not running"; exit 1; fi ;;
    *)      echo "usage: $0 start|stop|pause|resume|url|status" >&2; exit 2 ;;
esac
