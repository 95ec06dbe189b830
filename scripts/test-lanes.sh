#!/usr/bin/env bash
# Runs the legs of `make test` in lanes at once: the legs of one lane one after another, the
# lanes side by side. Much of every leg waits (on PostgreSQL, Chromium, a server, a child
# process), so two lanes on two cores finish well before the legs would one by one.
#
#   scripts/test-lanes.sh "test-swift test-browser" "test-postgres test-cli test-gis test-api"
#
# Each leg's output goes to $MUJUN_TEST_LOGS/<leg>.log (default .ci/out/legs) and is printed
# whole when the leg ends, so the lanes' lines never interleave. Every leg runs even when
# another failed; the exit status is 1 when any did. MAKE and MAKEFLAGS come from make.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

logs="${MUJUN_TEST_LOGS:-.ci/out/legs}"
rm -rf "$logs"; mkdir -p "$logs"
make_cmd="${MAKE:-make}"
lock="$logs/.print.lock"
: >"$lock"

# One lane: its legs in order; each leg's log printed under a lock when it ends.
lane() {
    local leg start rc secs
    for leg in $1; do
        start=$(date +%s)
        "$make_cmd" --no-print-directory "$leg" SKIP_BUILD=1 >"$logs/$leg.log" 2>&1
        rc=$?
        secs=$(( $(date +%s) - start ))
        echo "$rc $secs" >"$logs/$leg.status"
        {
            flock 9
            echo ""
            echo "==== make $leg ($( [ "$rc" = 0 ] && echo passed || echo "FAILED, exit $rc" ) in ${secs} s)"
            cat "$logs/$leg.log"
        } 9>>"$lock"
    done
}

started=$(date +%s)
pids=()
for legs in "$@"; do
    lane "$legs" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

echo ""
echo "==== legs (lanes: $(printf '[%s] ' "$@"); $(( $(date +%s) - started )) s in all)"
failed=""
for legs in "$@"; do
    for leg in $legs; do
        if [ -f "$logs/$leg.status" ]; then
            read -r rc secs <"$logs/$leg.status"
        else
            rc="?"; secs="?"
        fi
        printf '  %-14s %s s  %s\n' "$leg" "$secs" "$( [ "$rc" = 0 ] && echo passed || echo FAILED )"
        [ "$rc" = 0 ] || failed="$failed $leg"
    done
done
if [ -n "$failed" ]; then
    # The failures again, last, so that a reader of the log's tail sees which tests failed
    # without scrolling back through the leg's whole output.
    for leg in $failed; do
        echo "---- $leg: what failed (whole output above and in $logs/$leg.log)"
        grep -E '^(FAILED|ERROR) |✘ .*(recorded an issue|failed)|error: |Error: ' "$logs/$leg.log" \
            | cut -c1-300 | head -n 20
    done
    echo "make test: FAILED:$failed"
    exit 1
fi
exit 0
