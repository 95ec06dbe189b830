# Helpers shared by the bench/land/*.sh scripts (sourced, not run). The caller has cd'ed to
# the repository root and set: BIN (mujun binary, absolute), PYTHON, RUNS, LAND_DIR (cached
# inputs), OUT (logs and outputs).

say()  { printf 'bench-land: %s\n' "$*"; }
skip() { printf 'bench-land: SKIPPED %s\n' "$*"; }

# measure NAME CMD… : runs CMD once (output to $OUT/NAME.log); prints its wall-clock seconds
# and writes its CPU seconds (user + system, children included) to $OUT/NAME.cpu.
# Fails (non-zero) when CMD does.
measure() {
    local name="$1"; shift
    "$PYTHON" - "$OUT/$name.log" "$@" <<'EOF'
import os, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
with open(log, "wb") as f:
    c0 = os.times()
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    c1 = os.times()
with open(log[:-4] + ".cpu", "w") as f:
    f.write(f"{(c1.children_user - c0.children_user) + (c1.children_system - c0.children_system):.3f}\n")
if rc != 0:
    sys.stderr.write(f"bench-land: {' '.join(cmd)} exited {rc}; see {log}\n")
    sys.exit(1)
print(f"{dt:.3f}")
EOF
}

# min_of VALUES… : the smallest number
min_of() { printf '%s\n' "$@" | sort -g | head -n 1; }
# max_of VALUES… : the largest number
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }
# ratio A B : A / B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
# at_least X T : true when X ≥ T
at_least() { awk -v x="$1" -v t="$2" 'BEGIN { exit !(x >= t) }'; }

# free_port START : the first port from START up that nothing on 127.0.0.1 accepts
free_port() {
    local p="$1"
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") >/dev/null 2>&1; do p=$((p + 1)); done
    echo "$p"
}

# wait_http URL SECONDS PID : waits until URL answers (any HTTP status) while PID lives
wait_http() {
    local url="$1" secs="$2" pid="$3" i
    for i in $(seq 1 $((secs * 4))); do
        kill -0 "$pid" 2>/dev/null || return 1
        if curl -s -o /dev/null -m 2 "$url"; then return 0; fi
        sleep 0.25
    done
    return 1
}

# stop_pid PID : ends a server this script started (TERM, then KILL after 5 s), by its pid only
stop_pid() {
    local pid="$1" i
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

# The demo city the server-side parts (OGC API, map) look at: 8,000 enterprises, seed 1
# (what `make run` loads: about 8,500 parcels), in a SQLite file of its own, re-made when
# the binary is newer than it.
DEMO_ENTERPRISES="${BENCH_LAND_DEMO_ENTERPRISES:-8000}"
DEMO_SEED="${BENCH_LAND_DEMO_SEED:-1}"
DEMO_DB="$LAND_DIR/demo-$DEMO_ENTERPRISES.sqlite"
export MUJUN_SECRET_FILE="$LAND_DIR/secret.key"

ensure_demo_db() {
    if [ -s "$DEMO_DB" ] && [ "$DEMO_DB" -nt "$BIN" ]; then return 0; fi
    rm -f "$DEMO_DB" "$DEMO_DB-wal" "$DEMO_DB-shm"
    say "loading the demo city ($DEMO_ENTERPRISES enterprises, seed $DEMO_SEED) into $DEMO_DB"
    if ! "$BIN" demo --enterprises "$DEMO_ENTERPRISES" --seed "$DEMO_SEED" --database "sqlite://$DEMO_DB" \
            >"$OUT/demo.log" 2>&1; then
        tail -n 20 "$OUT/demo.log" >&2
        rm -f "$DEMO_DB" "$DEMO_DB-wal" "$DEMO_DB-shm"
        return 1
    fi
}

# start_mujun : serves the demo DB on a free loopback port; sets MUJUN_PID and MUJUN_URL
start_mujun() {
    local port
    port="$(free_port "${BENCH_LAND_PORT:-18431}")"
    MUJUN_URL="http://127.0.0.1:$port"
    "$BIN" serve --database "sqlite://$DEMO_DB" --hostname 127.0.0.1 --port "$port" >"$OUT/serve.log" 2>&1 &
    MUJUN_PID=$!
    if ! wait_http "$MUJUN_URL/healthz" 60 "$MUJUN_PID"; then
        tail -n 20 "$OUT/serve.log" >&2
        stop_pid "$MUJUN_PID"; MUJUN_PID=""
        return 1
    fi
}
