#!/usr/bin/env bash
# make bench-compare: every figure of `make bench` for two builds, in one run, side by side.
#
#   bench/compare.sh BASE_BIN NEW_BIN
#
# Runs bench/run.sh (the whole `make bench`) with MUJUN_BIN=BASE_BIN, then NEW_BIN, then — when
# COMPARE_ROUNDS=2 (the default) — NEW_BIN and BASE_BIN again, and keeps each figure's better
# value per build (machines are shared and noisy: one slow run should not decide). Then prints
#
#   figure                          base        new   unit        change   verdict
#
# where the verdict is "worse" when the new build is more than COMPARE_TOLERANCE percent (5)
# worse in the figure's own direction: seconds and MB lower is better; rows/s, requests/s and
# × higher is better; other units (rows, parcels) are information. Figures of the peers
# (pandas, shapely, pygeoapi, PostGIS, the Python quota reference) are run for both builds but
# are the same program; they are printed so a drift of the machine between the rounds shows.
# Exit status 1 when a figure of ours is worse past the tolerance.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ $# -eq 2 ] || { echo "usage: bench/compare.sh BASE_BIN NEW_BIN" >&2; exit 2; }
BASE="$(realpath "$1")"; NEW="$(realpath "$2")"
for b in "$BASE" "$NEW"; do [ -x "$b" ] || { echo "bench-compare: $b is not an executable" >&2; exit 2; }; done
ROUNDS="${COMPARE_ROUNDS:-2}"
TOL="${COMPARE_TOLERANCE:-5}"
PYTHON="${PYTHON:-python3}"
OUT=bench-data/compare
mkdir -p "$OUT"
rm -f "$OUT"/base-*.txt "$OUT"/new-*.txt

run_one() { # label binary round
    local label="$1" bin="$2" round="$3"
    echo "bench-compare: round $round, $label ($bin)"
    MUJUN_BIN="$bin" bash bench/run.sh > "$OUT/$label-$round.txt" 2>&1
    echo "bench-compare: round $round, $label: exit $? (log $OUT/$label-$round.txt)"
}

run_one base "$BASE" 1
run_one new "$NEW" 1
if [ "$ROUNDS" -ge 2 ]; then
    run_one new "$NEW" 2
    run_one base "$BASE" 2
fi

"$PYTHON" - "$OUT" "$TOL" <<'EOF'
import glob, os, re, sys
out, tol = sys.argv[1], float(sys.argv[2])
line = re.compile(r"^([a-z][a-z0-9_]*)\s+(-?[0-9]+(?:\.[0-9]+)?)\s+([A-Za-z/%×]+)")
lower = {"s", "ms", "MB"}
higher = {"rows/s", "requests/s", "x", "parcels/s"}
peers = ("pandas", "shapely", "pygeoapi", "postgis", "python")

def read(label):
    best = {}
    for path in sorted(glob.glob(os.path.join(out, f"{label}-*.txt"))):
        for text in open(path, encoding="utf-8", errors="replace"):
            m = line.match(text.strip())
            if not m:
                continue
            name, value, unit = m.group(1), float(m.group(2)), m.group(3)
            if name not in best:
                best[name] = (value, unit)
            elif unit in lower:
                best[name] = (min(best[name][0], value), unit)
            elif unit in higher:
                best[name] = (max(best[name][0], value), unit)
    return best

base, new = read("base"), read("new")
worse = []
print(f"{'figure':<48} {'base':>12} {'new':>12}  {'unit':<11} {'change':>8}  verdict")
for name in sorted(set(base) | set(new)):
    b, n = base.get(name), new.get(name)
    unit = (b or n)[1]
    bs = f"{b[0]:.3f}" if b else "—"
    ns = f"{n[0]:.3f}" if n else "—"
    change, verdict = "", ""
    if b and n and b[0] != 0:
        pct = (n[0] - b[0]) / abs(b[0]) * 100
        change = f"{pct:+.1f}%"
        ours = not any(p in name for p in peers)
        if unit in lower or unit in higher:
            bad = pct > tol if unit in lower else pct < -tol
            verdict = ("worse" if bad else "ok") if ours else "peer"
            if bad and ours:
                worse.append(name)
    elif b and not n:
        verdict = "missing in new"
        worse.append(name)
    print(f"{name:<48} {bs:>12} {ns:>12}  {unit:<11} {change:>8}  {verdict}")
print()
if worse:
    print(f"bench-compare: {len(worse)} figure(s) worse by more than {tol:g}%: {', '.join(worse)}")
    sys.exit(1)
print(f"bench-compare: no figure of ours worse by more than {tol:g}%")
EOF
