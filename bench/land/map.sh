#!/usr/bin/env bash
# First paint of the battle map with every parcel of the demo city (8,000 enterprises ≈ 8,500
# parcels), in headless Chromium, signed in as hq: bench/land/map_first_paint.py against a
# `mujun serve` started (and stopped) here. Target ≤ 2 s.
# Called by bench/land/run.sh, which sets BIN, PYTHON, RUNS, LAND_DIR, OUT.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/land/lib.sh

MUJUN_PID=""
trap 'stop_pid "$MUJUN_PID"' EXIT

CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"; DRIVER="${CHROMEDRIVER_BIN:-/usr/bin/chromedriver}"
if [ ! -x "$CHROMIUM" ] || [ ! -x "$DRIVER" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing chromium and chromium-driver"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >"$OUT/apt-chromium.log" 2>&1 || true
    fi
    if [ ! -x "$CHROMIUM" ] || [ ! -x "$DRIVER" ]; then
        skip "map_first_paint_seconds: headless Chromium not available ($CHROMIUM, $DRIVER; Debian chromium chromium-driver)"
        exit 0
    fi
fi
if ! "$PYTHON" -c 'import selenium' 2>/dev/null; then
    "$PYTHON" -m pip install -q --disable-pip-version-check 'selenium>=4' >"$OUT/pip-selenium.log" 2>&1 || true
    "$PYTHON" -c 'import selenium' 2>/dev/null || { skip "map_first_paint_seconds: selenium could not be installed"; exit 0; }
fi

ensure_demo_db || { say "mujun demo failed"; exit 1; }
start_mujun || { say "mujun serve did not start"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$MUJUN_URL/static/map.js")
if [ "$code" != 200 ]; then
    skip "map_first_paint_seconds: $MUJUN_URL/static/map.js answered $code (no map page in $BIN)"
    exit 0
fi
"$PYTHON" bench/land/map_first_paint.py "$MUJUN_URL" --runs "$RUNS" --screenshot "$OUT/map.png" \
    >"$OUT/map-paint.out" 2>"$OUT/map-paint.log"
rc=$?
sed 's/^/bench-land: map /' "$OUT/map-paint.log"
cat "$OUT/map-paint.out"
[ "$rc" = 0 ] || { say "map first paint could not be measured"; exit 1; }
s=$(awk '/^map_first_paint_seconds/ { print $2 }' "$OUT/map-paint.out")
if awk -v x="$s" 'BEGIN { exit !(x <= 2) }'; then say "target (first paint ≤ 2 s): met"; else say "target (first paint ≤ 2 s): NOT met"; exit 1; fi
