#!/usr/bin/env bash
# Several `mujun serve` instances on one PostgreSQL behind nginx, on this machine, for the
# multi-instance tests (tests/ops) and the load benchmark (bench/load):
#
#   scripts/multi-instance.sh start     # PostgreSQL (throw-away) + demo city + instances + nginx
#   scripts/multi-instance.sh stop      # stops all of it and removes its directory
#
# `start` prints `KEY=value` lines (also kept in $DIR/env): NGINX_URL, INSTANCE_URLS (space-
# separated), DATABASE_URL, DIR. nginx runs scripts/deploy/nginx-mujun.conf, the example for a
# real installation, with its ports and listen address replaced, and connects to the instances
# from 127.0.0.3 (`proxy_bind`), the only trusted proxy, so that a client on 127.0.0.1 is not
# taken for one.
#
# Environment: MUJUN_BIN (default .build/debug/mujun), MUJUN_MI_DIR (/tmp/mujun-multi),
# MUJUN_MI_INSTANCES (3), MUJUN_MI_ENTERPRISES (200, the demo city; 0 = no demo),
# MUJUN_MI_SEED (7), MUJUN_MI_PG_PORT (54380, or the next free one),
# MUJUN_METRICS_ALLOW (127.0.0.12: the scraper of tests/ops), DATABASE_URL (a PostgreSQL to use
# instead of a throw-away one; the demo is loaded into it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

BIN="${MUJUN_BIN:-.build/debug/mujun}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
DIR="${MUJUN_MI_DIR:-/tmp/mujun-multi}"
N="${MUJUN_MI_INSTANCES:-3}"
ENTERPRISES="${MUJUN_MI_ENTERPRISES:-200}"
SEED="${MUJUN_MI_SEED:-7}"
PROXY_ADDR=127.0.0.3

say()  { printf 'multi-instance: %s\n' "$*" >&2; }
fail() { printf 'multi-instance: ERROR: %s\n' "$*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http() {  # wait_http URL PID LOG
    for _ in $(seq 1 240); do
        kill -0 "$2" 2>/dev/null || { tail -n 30 "$3" >&2; fail "the process for $1 exited"; }
        if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; then return 0; fi
        sleep 0.25
    done
    tail -n 30 "$3" >&2; fail "$1 did not answer"
}

stop() {
    [ -d "$DIR" ] || return 0
    if [ -f "$DIR/nginx.pid" ]; then
        local pid; pid="$(cat "$DIR/nginx.pid" 2>/dev/null || true)"
        [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    fi
    for f in "$DIR"/instance-*.pid; do
        [ -f "$f" ] || continue
        local pid; pid="$(cat "$f")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -d "$DIR/pg" ]; then MUJUN_PG_DIR="$DIR/pg" bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; fi
    rm -rf "$DIR"
}

start() {
    [ -x "$BIN" ] || fail "$BIN not found: run \`swift build\` first"
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || fail "nginx is missing: scripts/install-deps.sh installs it"
    local NGINX; NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
    stop
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    local url="${DATABASE_URL:-}"
    if [ -z "$url" ] || [[ "$url" != postgres* ]]; then
        url="$(MUJUN_PG_DIR="$DIR/pg" MUJUN_PG_PORT="${MUJUN_MI_PG_PORT:-54380}" bash scripts/pg-test-cluster.sh start)" \
            || fail "PostgreSQL did not start (see $DIR/pg/server.log)"
    fi
    # one key for every instance (they would agree on a generated one too; this is what
    # /etc/mujun/mujun.env does with MUJUN_SECRET)
    local secret; secret="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    export DATABASE_URL="$url" MUJUN_SECRET="$secret" MUJUN_TRUSTED_PROXIES="$PROXY_ADDR"
    if [ "$ENTERPRISES" != 0 ]; then
        say "loading the demo city ($ENTERPRISES enterprises, seed $SEED) into $url"
        "$BIN" demo --enterprises "$ENTERPRISES" --seed "$SEED" >"$DIR/demo.log" 2>&1 || { tail -n 30 "$DIR/demo.log" >&2; fail "mujun demo failed"; }
    else
        "$BIN" migrate >"$DIR/migrate.log" 2>&1 || { tail -n 30 "$DIR/migrate.log" >&2; fail "mujun migrate failed"; }
    fi
    local ports=() urls=()
    for i in $(seq 1 "$N"); do
        local port; port="$(free_port)"
        MUJUN_INSTANCE="i$i" MUJUN_METRICS_ALLOW="${MUJUN_METRICS_ALLOW:-127.0.0.12}" "$BIN" serve --hostname 127.0.0.1 --port "$port" >"$DIR/instance-$i.log" 2>&1 &
        echo $! >"$DIR/instance-$i.pid"
        ports+=("$port"); urls+=("http://127.0.0.1:$port")
    done
    for i in $(seq 1 "$N"); do wait_http "${urls[$((i - 1))]}/healthz" "$(cat "$DIR/instance-$i.pid")" "$DIR/instance-$i.log"; done

    # nginx: the example site, its upstream servers and listen address replaced
    local nport; nport="$(free_port)"
    mkdir -p "$DIR/nginx/logs" "$DIR/nginx/tmp"
    chmod -R 777 "$DIR/nginx/tmp"
    local servers=""
    for p in "${ports[@]}"; do servers+="    server 127.0.0.1:$p max_fails=3 fail_timeout=10s;\n"; done
    awk -v servers="$servers" -v listen="    listen 127.0.0.1:$nport;" -v bind="        proxy_bind $PROXY_ADDR;" '
        /^    server 127\.0\.0\.1:[0-9]+ / { if (!done) { printf "%s", servers; done = 1 } next }
        /^    listen 80;/ { print listen; next }
        /^        proxy_pass http:\/\/mujun;/ { print; print bind; next }
        { print }' scripts/deploy/nginx-mujun.conf >"$DIR/nginx/site.conf"
    grep -q "proxy_bind $PROXY_ADDR" "$DIR/nginx/site.conf" || fail "scripts/deploy/nginx-mujun.conf has no 'proxy_pass http://mujun;' line"
    cat >"$DIR/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $DIR/nginx.pid;
error_log $DIR/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $DIR/nginx/logs/access.log;
    client_body_temp_path $DIR/nginx/tmp/body;
    proxy_temp_path $DIR/nginx/tmp/proxy;
    fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
    scgi_temp_path $DIR/nginx/tmp/scgi;
    include $DIR/nginx/site.conf;
}
EOF
    "$NGINX" -t -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log" >"$DIR/nginx-test.log" 2>&1 \
        || { cat "$DIR/nginx-test.log" >&2; fail "nginx -t refused the configuration"; }
    "$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log" || fail "nginx did not start"
    for _ in $(seq 1 50); do [ -s "$DIR/nginx.pid" ] && break; sleep 0.1; done
    wait_http "http://127.0.0.1:$nport/healthz" "$(cat "$DIR/nginx.pid")" "$DIR/nginx/logs/error.log"
    {
        echo "NGINX_URL=http://127.0.0.1:$nport"
        echo "INSTANCE_URLS=${urls[*]}"
        echo "DATABASE_URL=$url"
        echo "DIR=$DIR"
    } | tee "$DIR/env"
    say "nginx on http://127.0.0.1:$nport in front of $N instances (${urls[*]}); logs in $DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
