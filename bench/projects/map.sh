#!/usr/bin/env bash
# bench/projects/map.sh: issue 10's map figure — first paint of the battle map's 项目状态 layer
# (/map?layer=project) on a demo city of ~200,000 parcels (187,350 enterprises) with 2,000 more
# projects on its parcels, in headless Chromium, signed in as hq. Target ≤ 2 s (the map's budget).
# With that many parcels the map loads the current view (bbox mode, at most 20,000 parcels).
#
# Environment: MUJUN_BIN (.build/release/mujun), BENCH_PROJECTS_MAP_ENTERPRISES (187350),
# BENCH_PROJECTS_MAP_PROJECTS (2000), RUNS (3). The database is cached in bench-data/land.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin="${MUJUN_BIN:-.build/release/mujun}"
[ -x "$bin" ] || { echo "bench-projects: $bin not found: build it with \`swift build -c release\`"; exit 1; }
BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
PYTHON="${PYTHON:-python3}"; RUNS="${RUNS:-3}"; LAND_DIR="${LAND_DIR:-bench-data/land}"; OUT="${OUT:-bench-data/out}"
export BENCH_LAND_DEMO_ENTERPRISES="${BENCH_PROJECTS_MAP_ENTERPRISES:-187350}" BENCH_LAND_DEMO_SEED=42
mkdir -p "$LAND_DIR" "$OUT"
. bench/land/lib.sh
MUJUN_PID=""
trap 'stop_pid "$MUJUN_PID"' EXIT

for tool in "${CHROMIUM_BIN:-/usr/bin/chromium}" "${CHROMEDRIVER_BIN:-/usr/bin/chromedriver}"; do
    [ -x "$tool" ] || { skip "map_project_layer_first_paint_seconds: $tool not available (Debian chromium chromium-driver)"; exit 0; }
done
t0=$(date +%s)
ensure_demo_db || { say "mujun demo failed"; exit 1; }
marker="$DEMO_DB.projects"
if [ ! -f "$marker" ] || [ "$DEMO_DB" -nt "$marker" ]; then
    "$PYTHON" bench/projects/many_projects.py "$DEMO_DB" "$OUT/map-projects.csv" "$OUT/map-milestones.csv" \
        "${BENCH_PROJECTS_MAP_PROJECTS:-2000}" || exit 1
    "$BIN" import projects "$OUT/map-projects.csv" "$OUT/map-milestones.csv" --database "sqlite://$DEMO_DB" >"$OUT/map-import.log" 2>&1 \
        || { tail -n 20 "$OUT/map-import.log"; exit 1; }
    touch "$marker"
fi
parcels=$(sqlite3 "$DEMO_DB" "SELECT COUNT(*) FROM parcels" 2>/dev/null || echo "?")
projects=$(sqlite3 "$DEMO_DB" "SELECT COUNT(*) FROM projects" 2>/dev/null || echo "?")
say "database ready in $(( $(date +%s) - t0 )) s: $parcels parcels, $projects projects ($DEMO_DB)"
start_mujun || { say "mujun serve did not start"; exit 1; }
"$PYTHON" bench/land/map_first_paint.py "$MUJUN_URL" --runs "$RUNS" --path "/map?layer=project" --screenshot "$OUT/map-projects.png" \
    >"$OUT/map-projects-paint.out" 2>"$OUT/map-projects-paint.log"
rc=$?
sed 's/^/bench-projects: map /' "$OUT/map-projects-paint.log"
[ "$rc" = 0 ] || { say "the project layer's first paint could not be measured"; exit 1; }
s=$(awk '/^map_first_paint_seconds/ { print $2 }' "$OUT/map-projects-paint.out")
echo "map_project_layer_first_paint_${parcels}_parcels $s s"
if awk -v x="$s" 'BEGIN { exit !(x <= 2) }'; then say "target (first paint ≤ 2 s): met"; else say "target (first paint ≤ 2 s): NOT met (FAIL)"; exit 1; fi
