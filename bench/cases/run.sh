#!/usr/bin/env bash
# The case bulletin (CASES.md §4–§6) on a generated handling history: the pandas reference
# (bench/cases/pandas_bulletin.py) and, when the binary has it, `mujun cases bulletin`, end to
# end from the same CSV to the same two CSVs, best of $BENCH_RUNS, outputs compared byte for byte.
# Figures printed as `name value unit`; progress as `bench-cases: …`.
#
# Environment: MUJUN_BIN (default .build/release/mujun), BENCH_CASES (100000), BENCH_SEED (42),
# BENCH_RUNS (3), BENCH_CASES_AS_OF (2026-06-30: rows after it are checked, not counted),
# PYTHON (python3). The history is cached in bench-data/cases-<N>.csv, outputs in bench-data/cases-out/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

BIN="${MUJUN_BIN:-.build/release/mujun}"
N="${BENCH_CASES:-100000}"
SEED="${BENCH_SEED:-42}"
RUNS="${BENCH_RUNS:-3}"
AS_OF="${BENCH_CASES_AS_OF:-2026-06-30}"
PYTHON="${PYTHON:-python3}"
if [ "$N" = "100000" ]; then LABEL=100k; else LABEL="$N"; fi
DATA="bench-data/cases-$LABEL.csv"
OUT=bench-data/cases-out
WINDOW=(--from 2025-01-01 --to 2026-12-31 --as-of "$AS_OF")
mkdir -p "$OUT"
say()  { printf 'bench-cases: %s\n' "$*"; }
fail() { printf 'bench-cases: ERROR: %s\n' "$*" >&2; exit 1; }

"$PYTHON" -c 'import pandas' 2>/dev/null || fail "pandas is missing: $PYTHON -m pip install pandas openpyxl"

# Runs a command once; prints "<wall seconds> <max RSS in MB>".
measure() {
    local log="$1"; shift
    "$PYTHON" - "$log" "$@" <<'EOF'
import resource, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
with open(log, "wb") as f:
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
if rc != 0:
    sys.stderr.write(f"bench-cases: {' '.join(cmd)} exited {rc}; see {log}\n")
    sys.exit(1)
print(f"{dt:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}")
EOF
}

best_of() {  # best_of NAME CMD… : sets BEST (s) and RSS (MB)
    local name="$1"; shift
    local times=() t m
    BEST=""; RSS=""
    for _ in $(seq 1 "$RUNS"); do
        read -r t m < <(measure "$OUT/$name.log" "$@") || { tail -n 20 "$OUT/$name.log" >&2; fail "$name failed"; }
        [ -n "${t:-}" ] || { tail -n 20 "$OUT/$name.log" >&2; fail "$name failed"; }
        times+=("$t")
        if [ -z "$BEST" ] || awk -v a="$t" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then BEST="$t"; RSS="$m"; fi
    done
    say "$name runs: ${times[*]} s"
}

if [ ! -s "$DATA" ]; then
    say "generating $DATA ($N cases, seed $SEED)"
    read -r t m < <(measure "$OUT/generate.log" "$PYTHON" bench/cases/gen_history.py --cases "$N" --seed "$SEED" \
                        --out "$DATA.tmp") || fail "gen_history.py failed"
    mv "$DATA.tmp" "$DATA"
    echo "cases_generate_${LABEL}_seconds $t s"
fi
echo "cases_${LABEL}_input_rows $("$PYTHON" -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8", newline=""))) - 1)' "$DATA") rows"

best_of pandas "$PYTHON" bench/cases/pandas_bulletin.py "$DATA" "${WINDOW[@]}" \
    --out "$OUT/pandas-bulletin.csv" --cases-out "$OUT/pandas-cases.csv"
echo "cases_bulletin_${LABEL}_pandas_seconds $BEST s"
echo "cases_bulletin_${LABEL}_pandas_max_rss $RSS MB"
pandas_s="$BEST"

[ -x "$BIN" ] || fail "$BIN not found: build it with \`swift build -c release\`"
if "$BIN" cases bulletin --help 2>&1 | grep -q -- "--as-of"; then
    best_of swift "$BIN" cases bulletin "$DATA" "${WINDOW[@]}" \
        --out "$OUT/swift-bulletin.csv" --cases-out "$OUT/swift-cases.csv"
    echo "cases_bulletin_${LABEL}_swift_seconds $BEST s"
    echo "cases_bulletin_${LABEL}_swift_max_rss $RSS MB"
    speedup="$(awk -v p="$pandas_s" -v s="$BEST" 'BEGIN { printf "%.2f", p / s }')"
    echo "cases_bulletin_${LABEL}_speedup $speedup x (target ≥ 10 x)"
    status=0
    if ! awk -v x="$speedup" 'BEGIN { exit !(x >= 10) }'; then say "the speed-up $speedup x is under the 10 x of issue 9"; status=1; fi
    for f in bulletin cases; do
        if cmp -s "$OUT/pandas-$f.csv" "$OUT/swift-$f.csv"; then
            say "$f.csv: Swift and pandas give the same bytes"
        else
            say "$f.csv: Swift and pandas differ:"; diff "$OUT/pandas-$f.csv" "$OUT/swift-$f.csv" | head -20
            status=1
        fi
    done
    # the database side (issue 9's speed): import, the bulletin over every case, a unit's inbox of
    # 5,000 open cases and the case page, on SQLite and on a throw-away PostgreSQL cluster
    PG_DIR="${BENCH_CASES_PG_DIR:-/tmp/mujun-casesbench-pg}"
    pg_url=""
    if [ "${BENCH_CASES_NO_POSTGRES:-0}" != 1 ] && \
       pg_url=$(MUJUN_PG_DIR="$PG_DIR" MUJUN_PG_PORT="${BENCH_CASES_PG_PORT:-54372}" bash scripts/pg-test-cluster.sh start 2>"$OUT/pg.log"); then
        trap 'MUJUN_PG_DIR="$PG_DIR" bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true' EXIT
        say "PostgreSQL on $pg_url"
    else
        say "PostgreSQL not started (BENCH_CASES_NO_POSTGRES=1, or see $OUT/pg.log): SQLite only"
        pg_url=""
    fi
    MUJUN_BENCH_POSTGRES_URL="$pg_url" "$BIN" bench-cases --history "$DATA" --as-of "$AS_OF" --work-dir bench-data \
        | tee "$OUT/bench-cases.log" || { say "mujun bench-cases failed"; status=1; }
    grep -q "FAIL" "$OUT/bench-cases.log" && { say "a database figure missed its target"; status=1; }
    exit "$status"
else
    fail "$BIN has no 'cases bulletin': rebuild it"
fi
