#!/usr/bin/env bash
# make bench: the speed figures of Mujun, each printed with its unit.
#
#  1. Standalone evaluation of 1,000,000 enterprises (a GB18030 CSV made by `mujun demo`),
#     end to end, the release `mujun evaluate` against the same method in pandas
#     (bench/pandas_evaluate.py): wall clock, best of 3, and the speed-up. The two results
#     are cross-checked with bench/compare_results.py (same classes, scores within 1e-6).
#  2. `mujun bench`: the Swift side's own import / page / API benchmarks.
#
# Environment: MUJUN_BIN (default .build/release/mujun), BENCH_ENTERPRISES (1000000),
# BENCH_RUNS (3), BENCH_SEED (42), BENCH_YEAR (2025), BENCH_SKIP_SWIFT_BENCH=1; each later
# section has its BENCH_SKIP_<NAME>=1 (LAND, CASES, QUOTA, PROJECTS).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${MUJUN_BIN:-.build/release/mujun}"
N="${BENCH_ENTERPRISES:-1000000}"
RUNS="${BENCH_RUNS:-3}"
SEED="${BENCH_SEED:-42}"
YEAR="${BENCH_YEAR:-2025}"
PYTHON="${PYTHON:-python3}"

if [ "$N" = "1000000" ]; then LABEL=1m; else LABEL="$N"; fi
DATA_DIR=bench-data
DATA="$DATA_DIR/ent-$LABEL.csv"
OUT="$DATA_DIR/out"
status=0

say()  { printf 'bench: %s\n' "$*"; }
fail() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

[ -x "$BIN" ] || fail "$BIN not found: build it with \`swift build -c release\` (or run \`make bench\`)"
if ! "$PYTHON" -c 'import pandas' 2>/dev/null; then
    say "installing pandas for $(command -v "$PYTHON")"
    "$PYTHON" -m pip install -q --disable-pip-version-check pandas >/dev/null || fail "pip install pandas failed"
fi
mkdir -p "$DATA_DIR" "$OUT"

# Runs a command once; prints "<wall seconds> <max RSS in MB>" (its output goes to $OUT/<name>.log).
measure() {
    local name="$1"; shift
    "$PYTHON" - "$OUT/$name.log" "$@" <<'EOF'
import resource, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
with open(log, "wb") as f:
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if rc != 0:
    sys.stderr.write(f"bench: {' '.join(cmd)} exited {rc}; see {log}\n")
    sys.exit(1)
print(f"{dt:.3f} {rss_mb:.0f}")
EOF
}

# best_of NAME CMD… : runs CMD $RUNS times; sets BEST (seconds) and RSS (MB of the best run)
best_of() {
    local name="$1"; shift
    local times=() r t m
    BEST=""; RSS=""
    for r in $(seq 1 "$RUNS"); do
        read -r t m < <(measure "$name" "$@") || { tail -n 20 "$OUT/$name.log" >&2; fail "$name failed"; }
        [ -n "${t:-}" ] || { tail -n 20 "$OUT/$name.log" >&2; fail "$name failed"; }
        times+=("$t")
        if [ -z "$BEST" ] || awk -v a="$t" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then BEST="$t"; RSS="$m"; fi
    done
    say "$name runs: ${times[*]} s"
}

# ------------------------------------------------------------------ the input
if [ ! -s "$DATA" ]; then
    say "generating $DATA ($N enterprises, seed $SEED, GB18030) with mujun demo"
    read -r t m < <(measure generate "$BIN" demo --enterprises "$N" --seed "$SEED" --year "$YEAR" \
                        --out "$DATA.tmp" --encoding gb18030) || { tail -n 20 "$OUT/generate.log" >&2; fail "mujun demo --out failed"; }
    mv "$DATA.tmp" "$DATA"
    echo "demo_generate_${LABEL}_seconds $t s"
fi
rows=$(($(wc -l <"$DATA") - 1))
size_mb=$(awk -v b="$(stat -c %s "$DATA")" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "evaluate_${LABEL}_input_rows $rows rows"
echo "evaluate_${LABEL}_input_size $size_mb MB"

# ------------------------------------------------------------------ Swift vs pandas
best_of swift "$BIN" evaluate "$DATA" --year "$YEAR" --out "$OUT/swift.csv"
swift_s="$BEST"; swift_rss="$RSS"
# pandas writing the same columns mujun writes (each indicator's value, benchmark, score,
# missing flag; classes before and after vetoes): the like-for-like comparison
best_of pandas "$PYTHON" bench/pandas_evaluate.py "$DATA" "$OUT/pandas.csv" --year "$YEAR" --full
pandas_s="$BEST"; pandas_rss="$RSS"
speedup=$(awk -v p="$pandas_s" -v s="$swift_s" 'BEGIN { printf "%.2f", p / s }')
# and a leaner pandas that writes only the 9 summary columns (no per-indicator detail)
best_of pandas_lean "$PYTHON" bench/pandas_evaluate.py "$DATA" "$OUT/pandas-lean.csv" --year "$YEAR"
lean_s="$BEST"

echo "evaluate_${LABEL}_swift_seconds $swift_s s"
echo "evaluate_${LABEL}_pandas_seconds $pandas_s s  (same output columns)"
echo "evaluate_${LABEL}_speedup $speedup x"
echo "evaluate_${LABEL}_pandas_lean_seconds $lean_s s  (9 summary columns only)"
echo "evaluate_${LABEL}_speedup_vs_lean $(awk -v p="$lean_s" -v s="$swift_s" 'BEGIN { printf "%.2f", p / s }') x"
echo "evaluate_${LABEL}_swift_max_rss $swift_rss MB"
echo "evaluate_${LABEL}_pandas_max_rss $pandas_rss MB"
echo "evaluate_${LABEL}_swift_throughput $(awk -v n="$rows" -v s="$swift_s" 'BEGIN { printf "%.0f", n / s }') rows/s"
if awk -v x="$speedup" 'BEGIN { exit !(x >= 2) }'; then
    say "target (at least 2x pandas): met"
else
    say "target (at least 2x pandas): NOT met"
    status=1
fi

say "cross-check of the two results:"
if ! "$PYTHON" bench/compare_results.py "$OUT/swift.csv" "$OUT/pandas.csv"; then
    say "the Swift and pandas results differ (see above)"
    status=1
fi

# ------------------------------------------------------------------ the Swift side's own benchmarks
if [ "${BENCH_SKIP_SWIFT_BENCH:-0}" != "1" ]; then
    say "mujun bench:"
    "$BIN" bench || { say "mujun bench failed"; status=1; }
fi

# ================================================================== land (issue 4)
# bench/land/run.sh: `mujun land clusters` on ~200,000 parcels vs shapely 2 (and PostGIS
# ST_ClusterDBSCAN when PostgreSQL + PostGIS is there), `mujun bench-land` (import of 50,000
# parcels, area + low-efficiency pass), OGC API requests/s vs pygeoapi with wrk, and the map's
# first paint in headless Chromium. Each part says why when it is skipped.
# BENCH_SKIP_LAND=1 leaves it out; BENCH_LAND_PARTS picks parts (see bench/land/run.sh).
if [ "${BENCH_SKIP_LAND:-0}" != "1" ]; then
    say "land benchmarks (bench/land/run.sh):"
    MUJUN_BIN="$BIN" BENCH_RUNS="$RUNS" PYTHON="$PYTHON" bash bench/land/run.sh || { say "land benchmarks: a target was missed or a check failed"; status=1; }
fi

# ================================================================== cases (issue 9)
# bench/cases/run.sh: `mujun cases bulletin` on a generated history of 100,000 cases (~1,000,000
# events) against the pandas reference bench/cases/pandas_bulletin.py, outputs compared byte for byte.
# BENCH_SKIP_CASES=1 leaves it out.
if [ "${BENCH_SKIP_CASES:-0}" != "1" ]; then
    say "case bulletin benchmark (bench/cases/run.sh):"
    MUJUN_BIN="$BIN" BENCH_RUNS="$RUNS" PYTHON="$PYTHON" bash bench/cases/run.sh || { say "case bulletin: a target was missed or a check failed"; status=1; }
fi
# ================================================================== quota ledger (issue 11)
# bench/quota/run.sh: `mujun quota replay` on a generated journal of 1,000,000 postings of the
# three-town pilot against the straightforward Python reference bench/quota/replay_reference.py
# (target ≥ 10 ×), balances compared byte for byte and refusals on row, seq and rule.
# BENCH_SKIP_QUOTA=1 leaves it out.
if [ "${BENCH_SKIP_QUOTA:-0}" != "1" ]; then
    say "quota ledger replay benchmark (bench/quota/run.sh):"
    MUJUN_BIN="$BIN" BENCH_RUNS="$RUNS" BENCH_SEED="$SEED" PYTHON="$PYTHON" bash bench/quota/run.sh || { say "quota replay: a target was missed or a check failed"; status=1; }
fi
# ================================================================== projects (issue 10)
# bench/projects/run.sh: `mujun bench-projects` — the roll-up of 10,000 projects (100,000
# milestones, 120,000 reports) to town and city on SQLite and PostgreSQL (≤ 200 ms), and the
# 滞后 check over all of them. BENCH_SKIP_PROJECTS=1 leaves it out.
if [ "${BENCH_SKIP_PROJECTS:-0}" != "1" ]; then
    say "project roll-up benchmark (bench/projects/run.sh):"
    MUJUN_BIN="$BIN" bash bench/projects/run.sh || { say "project roll-up: a target was missed"; status=1; }
    # the 项目状态 layer's first paint on ~200,000 parcels (the city is built once, ≈ 7 min, then cached)
    say "project map layer, first paint on ~200,000 parcels (bench/projects/map.sh):"
    MUJUN_BIN="$BIN" PYTHON="$PYTHON" RUNS="$RUNS" bash bench/projects/map.sh || { say "project map layer: the target was missed"; status=1; }
fi
# ================================================================== load (issue 12)
# bench/load/run.sh: 200 signed-in officials for 60 s (locust) over ranking, enterprise pages, the
# map's JSON, inboxes, case pages, case steps and the bulletin — one instance on SQLite, then
# nginx + two instances on PostgreSQL; p50/p95/p99 per route, 0 errors. BENCH_SKIP_LOAD=1 leaves it out.
if [ "${BENCH_SKIP_LOAD:-0}" != "1" ]; then
    say "load test (bench/load/run.sh):"
    MUJUN_BIN="$BIN" bash bench/load/run.sh || { say "load test: errors under load"; status=1; }
fi
exit "$status"
