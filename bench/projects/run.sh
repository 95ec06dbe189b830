#!/usr/bin/env bash
# bench/projects/run.sh: issue 10's speed figure, in `make bench` — the roll-up of 10,000 projects
# with 100,000 milestones and 120,000 monthly reports to town and city, read from the database and
# judged afresh (≤ 200 ms), on SQLite and on a throw-away PostgreSQL cluster; and the 滞后 check
# over all of them. Figures printed as `name value unit`, with PASS/FAIL against the target.
#
# Environment: MUJUN_BIN (default .build/release/mujun), BENCH_PROJECTS (10000),
# BENCH_PROJECTS_NO_POSTGRES=1, BENCH_PROJECTS_PG_DIR, BENCH_PROJECTS_PG_PORT (54373).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

BIN="${MUJUN_BIN:-.build/release/mujun}"
N="${BENCH_PROJECTS:-10000}"
OUT=bench-data/out
say()  { printf 'bench-projects: %s\n' "$*"; }
mkdir -p "$OUT"
[ -x "$BIN" ] || { say "$BIN not found: build it with \`swift build -c release\`"; exit 1; }

status=0
PG_DIR="${BENCH_PROJECTS_PG_DIR:-/tmp/mujun-projectsbench-pg}"
pg_url=""
if [ "${BENCH_PROJECTS_NO_POSTGRES:-0}" != 1 ] && \
   pg_url=$(MUJUN_PG_DIR="$PG_DIR" MUJUN_PG_PORT="${BENCH_PROJECTS_PG_PORT:-54373}" bash scripts/pg-test-cluster.sh start 2>"$OUT/projects-pg.log"); then
    trap 'MUJUN_PG_DIR="$PG_DIR" bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true' EXIT
    say "PostgreSQL on $pg_url"
else
    say "PostgreSQL not started (BENCH_PROJECTS_NO_POSTGRES=1, or see $OUT/projects-pg.log): SQLite only"
    pg_url=""
fi
MUJUN_BENCH_POSTGRES_URL="$pg_url" "$BIN" bench-projects --projects "$N" --work-dir bench-data \
    | tee "$OUT/bench-projects.log" || { say "mujun bench-projects failed"; status=1; }
grep -q "FAIL" "$OUT/bench-projects.log" && { say "a figure missed its target"; status=1; }
exit "$status"
