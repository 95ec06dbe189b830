#!/usr/bin/env bash
# The load test (issue 12, part 7): 200 signed-in officials for 60 s over a realistic mix
# (bench/load/locustfile.py), first against one instance on SQLite, then against nginx + two
# instances on PostgreSQL (scripts/multi-instance.sh). Prints, per setup and route, the requests,
# the errors and the 50th/95th/99th percentiles, as `name value unit` lines.
#
# Environment: MUJUN_BIN (default .build/release/mujun), LOAD_USERS (200), LOAD_SECONDS (60),
# LOAD_ENTERPRISES (2000: the demo city's size), LOAD_SETUPS ("sqlite postgres").
# Locust runs on the same machine as the servers (2 cores here): its own CPU is part of the figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN="${MUJUN_BIN:-.build/release/mujun}"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
USERS="${LOAD_USERS:-200}"
SECONDS_="${LOAD_SECONDS:-60}"
ENTERPRISES="${LOAD_ENTERPRISES:-2000}"
OUT=bench-data/load
mkdir -p "$OUT"
say()  { printf 'bench-load: %s\n' "$*"; }
fail() { printf 'bench-load: ERROR: %s\n' "$*" >&2; exit 1; }
python3 -c 'import locust' 2>/dev/null || fail "locust is missing: python3 -m pip install locust"
[ -x "$BIN" ] || fail "$BIN not found: swift build -c release"

report() {  # report SETUP: the stats CSV as figures; fails on any error
    python3 - "$OUT/$1_stats.csv" "$1" <<'PY'
import csv, sys
path, setup = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(path, encoding="utf-8")))
bad = 0
for r in rows:
    name = "all" if r["Name"] == "Aggregated" else r["Name"].replace(" ", "_")
    print(f"load_{setup}_{name}_requests {r['Request Count']} requests")
    print(f"load_{setup}_{name}_errors {r['Failure Count']} errors")
    for p in ("50%", "95%", "99%"):
        print(f"load_{setup}_{name}_p{p[:-1]} {r[p]} ms")
    if r["Name"] == "Aggregated":
        print(f"load_{setup}_throughput {float(r['Requests/s']):.1f} requests/s")
        bad = int(r["Failure Count"])
sys.exit(1 if bad else 0)
PY
}

run_locust() {  # run_locust SETUP URL
    say "$1: signing in $USERS officials at $2"
    python3 bench/load/sessions.py "$2" "$USERS" "$OUT/$1-sessions.json" >&2
    say "$1: $USERS users for ${SECONDS_} s"
    MUJUN_LOAD_SESSIONS="$OUT/$1-sessions.json" python3 -m locust -f bench/load/locustfile.py --headless -u "$USERS" -r "$USERS" \
        -t "${SECONDS_}s" --host "$2" --csv "$OUT/$1" --only-summary >"$OUT/$1-locust.log" 2>&1 || true
    [ -s "$OUT/$1_stats.csv" ] || { tail -n 30 "$OUT/$1-locust.log" >&2; fail "locust wrote no statistics"; }
    report "$1"
}

status=0
for setup in ${LOAD_SETUPS:-sqlite postgres}; do
    case "$setup" in
    sqlite)
        tmp="$(mktemp -d /tmp/mujun-load.XXXXXX)"
        db="sqlite://$tmp/load.sqlite"
        say "sqlite: the demo city ($ENTERPRISES enterprises)"
        DATABASE_URL="$db" "$BIN" demo --enterprises "$ENTERPRISES" --seed 7 >"$OUT/sqlite-demo.log" 2>&1 || fail "mujun demo failed"
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        DATABASE_URL="$db" MUJUN_JOBS=off MUJUN_OUTBOX=off "$BIN" serve --hostname 127.0.0.1 --port "$port" >"$OUT/sqlite-serve.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
        run_locust sqlite "http://127.0.0.1:$port" || status=1
        kill "$pid"; wait "$pid" 2>/dev/null || true
        rm -rf "$tmp"
        ;;
    postgres)
        dir=/tmp/mujun-load-multi
        env_out="$(MUJUN_BIN="$BIN" MUJUN_MI_DIR="$dir" MUJUN_MI_INSTANCES=2 MUJUN_MI_ENTERPRISES="$ENTERPRISES" MUJUN_JOBS=off MUJUN_OUTBOX=off \
                   bash scripts/multi-instance.sh start)" || fail "scripts/multi-instance.sh failed"
        url="$(printf '%s\n' "$env_out" | sed -n 's/^NGINX_URL=//p')"
        run_locust postgres "$url" || status=1
        MUJUN_MI_DIR="$dir" bash scripts/multi-instance.sh stop
        ;;
    esac
done
exit "$status"
