#!/usr/bin/env bash
# The quota ledger's replay (LEDGER.md, bench/quota/README.md) on a generated journal of
# 1,000,000 postings for the three-town pilot: the straightforward Python reference
# (bench/quota/replay_reference.py) and `mujun quota replay`, end to end from the same CSV to the
# same two CSVs, compared with bench/quota/compare.py (balances byte for byte, refusals on row,
# seq and rule). Figures printed as `name value unit`; progress as `bench-quota: …`.
# Target (issue 11, item 5): the Swift replay at least 10 × the Python reference.
#
# Environment: MUJUN_BIN (default .build/release/mujun), BENCH_QUOTA (1000000 postings),
# BENCH_SEED (42), BENCH_RUNS (3: the Swift replay, best of), BENCH_QUOTA_PYTHON_RUNS (1: the
# reference takes ~35–40 s a run on 1,000,000 rows; one run is enough against a 10 × target),
# PYTHON (python3). The journal and its project.yaml are cached in bench-data/quota-<N>.csv /
# .yaml (generated once), outputs in bench-data/quota-out/{python,swift}/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

BIN="${MUJUN_BIN:-.build/release/mujun}"
N="${BENCH_QUOTA:-1000000}"
SEED="${BENCH_SEED:-42}"
RUNS="${BENCH_RUNS:-3}"
PY_RUNS="${BENCH_QUOTA_PYTHON_RUNS:-1}"
PYTHON="${PYTHON:-python3}"
case "$N" in
    1000000) LABEL=1m ;;
    100000) LABEL=100k ;;
    *) LABEL="$N" ;;
esac
STEM="bench-data/quota-$LABEL"
[ "$SEED" = 42 ] || STEM="$STEM-s$SEED"
DATA="$STEM.csv"
PROJECT="$STEM.yaml"
OUT=bench-data/quota-out
mkdir -p "$OUT/python" "$OUT/swift"
say()  { printf 'bench-quota: %s\n' "$*"; }
fail() { printf 'bench-quota: ERROR: %s\n' "$*" >&2; exit 1; }

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
    sys.stderr.write(f"bench-quota: {' '.join(cmd)} exited {rc}; see {log}\n")
    sys.exit(1)
print(f"{dt:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}")
EOF
}

best_of() {  # best_of NAME RUNS CMD… : sets BEST (s) and RSS (MB)
    local name="$1" runs="$2"; shift 2
    local times=() t m
    BEST=""; RSS=""
    for _ in $(seq 1 "$runs"); do
        read -r t m < <(measure "$OUT/$name.log" "$@") || { tail -n 20 "$OUT/$name.log" >&2; fail "$name failed"; }
        [ -n "${t:-}" ] || { tail -n 20 "$OUT/$name.log" >&2; fail "$name failed"; }
        times+=("$t")
        if [ -z "$BEST" ] || awk -v a="$t" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then BEST="$t"; RSS="$m"; fi
    done
    say "$name runs: ${times[*]} s"
}

# ------------------------------------------------------------------ the journal (once)
if [ ! -s "$DATA" ] || [ ! -s "$PROJECT" ]; then
    say "generating $DATA ($N postings, seed $SEED)"
    read -r t m < <(measure "$OUT/generate.log" "$PYTHON" bench/quota/gen_journal.py "$N" "$SEED" "$DATA.tmp" \
                        --project-out "$PROJECT") || fail "gen_journal.py failed"
    mv "$DATA.tmp" "$DATA"
    echo "quota_generate_${LABEL}_seconds $t s"
fi
rows="$("$PYTHON" -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8", newline=""))) - 1)' "$DATA")"
echo "quota_replay_${LABEL}_input_rows $rows rows"

# ------------------------------------------------------------------ the Python reference
best_of python "$PY_RUNS" "$PYTHON" bench/quota/replay_reference.py "$DATA" --project "$PROJECT" \
    --out "$OUT/python/balances.csv" --refused "$OUT/python/refused.csv"
python_s="$BEST"
echo "quota_replay_${LABEL}_python_seconds $python_s s"
echo "quota_replay_${LABEL}_python_max_rss $RSS MB"
# the refusals, per rule (of the reference: the Swift ones are compared with them below)
"$PYTHON" - "$OUT/python/refused.csv" "$LABEL" <<'EOF'
import collections, csv, re, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))[1:]
count = collections.Counter(re.match(r"规则(\d)：", r[2]).group(1) for r in rows)
print(f"quota_replay_{sys.argv[2]}_refused {len(rows)} rows")
for rule in "12345678":
    print(f"quota_replay_{sys.argv[2]}_refused_rule{rule} {count[rule]} rows")
EOF

# ------------------------------------------------------------------ `mujun quota replay`
[ -x "$BIN" ] || fail "$BIN not found: build it with \`swift build -c release\` (the Swift half is skipped)"
# (an unknown subcommand makes mujun print its overall help: look for the command's own option)
if ! "$BIN" quota replay --help 2>&1 | grep -q -- "--refused"; then
    say "$BIN has no 'quota replay' yet: the Swift half is skipped (rebuild it once the command exists)"
    say "FAIL: no Swift figure to compare"
    exit 1
fi
best_of swift "$RUNS" "$BIN" quota replay "$DATA" --project "$PROJECT" \
    --out "$OUT/swift/balances.csv" --refused "$OUT/swift/refused.csv"
echo "quota_replay_${LABEL}_swift_seconds $BEST s"
echo "quota_replay_${LABEL}_swift_max_rss $RSS MB"
speedup="$(awk -v p="$python_s" -v s="$BEST" 'BEGIN { printf "%.2f", p / s }')"
echo "quota_replay_${LABEL}_speedup $speedup x (target ≥ 10 x)"
status=0
if awk -v x="$speedup" 'BEGIN { exit !(x >= 10) }'; then
    say "PASS: the Swift replay is $speedup x the Python reference (target ≥ 10 x)"
else
    say "FAIL: the speed-up $speedup x is under the 10 x of issue 11"
    status=1
fi
if "$PYTHON" bench/quota/compare.py "$OUT/swift" "$OUT/python"; then
    say "PASS: Swift and Python give the same balances.csv bytes and the same refusals (row, seq, rule)"
else
    say "FAIL: Swift and Python differ (above)"
    status=1
fi

# ------------------------------------------------------------------ balances in the database
# `mujun bench-quota`: 1,000,000 entries posted through the ledger, then the balances of every town
# and type at a date (≤ 200 ms), on SQLite and on a throw-away PostgreSQL cluster.
# BENCH_QUOTA_DB=0 leaves it out; BENCH_QUOTA_ENTRIES (1000000); BENCH_QUOTA_NO_POSTGRES=1.
if [ "${BENCH_QUOTA_DB:-1}" = 1 ]; then
    PG_DIR="${BENCH_QUOTA_PG_DIR:-/tmp/mujun-quotabench-pg}"
    pg_url=""
    if [ "${BENCH_QUOTA_NO_POSTGRES:-0}" != 1 ] && \
       pg_url=$(MUJUN_PG_DIR="$PG_DIR" MUJUN_PG_PORT="${BENCH_QUOTA_PG_PORT:-54374}" bash scripts/pg-test-cluster.sh start 2>"$OUT/quota-pg.log"); then
        trap 'MUJUN_PG_DIR="$PG_DIR" bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true' EXIT
        say "PostgreSQL on $pg_url"
    else
        say "PostgreSQL not started (BENCH_QUOTA_NO_POSTGRES=1, or see $OUT/quota-pg.log): SQLite only"
        pg_url=""
    fi
    MUJUN_BENCH_POSTGRES_URL="$pg_url" "$BIN" bench-quota --entries "${BENCH_QUOTA_ENTRIES:-1000000}" --work-dir bench-data \
        | tee "$OUT/bench-quota.log" || { say "mujun bench-quota failed"; status=1; }
    grep -q "FAIL" "$OUT/bench-quota.log" && { say "a balances figure missed its target"; status=1; }
fi
exit "$status"
