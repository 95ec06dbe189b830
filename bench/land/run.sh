#!/usr/bin/env bash
# The land speed figures of issue 4 ("Speed (in `make bench`)"), each printed as
# `name value unit`; progress and reasons for skipped parts as `bench-land: …`.
#
#  clusters  `mujun land clusters` on ~200,000 parcels (gap 20 m) against shapely 2 (STRtree
#            dwithin + connected components), end to end from the same GeoJSON (EPSG:4549)
#            to a CSV, side by side, best of $BENCH_RUNS; same partition checked.   target ≥ 5×
#            With PostgreSQL + PostGIS: ST_ClusterDBSCAN(geom, eps := 20, minpoints := 1)
#            on the same parcels (loaded with ogr2ogr), partition checked too.       (report)
#  swift     `mujun bench-land`: import of 50,000 parcels GeoJSON → SQLite (and PostgreSQL)
#            ≤ 5 s; area + low-efficiency pass over 50,000 parcels ≤ 1 s.
#  ogc       /ogc/collections/parcels/items?limit=1000 requests/s with wrk on loopback, and
#            pygeoapi serving the same parcels (bench/land/pygeoapi-config.yml).    goal ≥ 10×
#  map       first paint of /map with every parcel, headless Chromium.              ≤ 2 s
#
# A throw-away PostgreSQL 15 cluster (scripts/pg-test-cluster.sh, its own directory and
# port) is started for the PostGIS figures, the PostgreSQL import and pygeoapi's PostgreSQL
# provider, and stopped at the end; without postgresql-15-postgis-3 those are skipped.
#
# Environment: MUJUN_BIN (default .build/release/mujun), BENCH_RUNS (3), PYTHON (python3),
# BENCH_LAND_PARTS ("clusters swift ogc map"), BENCH_LAND_NO_POSTGRES=1,
# BENCH_LAND_PG_DIR (/tmp/mujun-landbench-pg), BENCH_LAND_PG_PORT (54371, or the next free),
# BENCH_LAND_CLUSTER_ENTERPRISES (187350 → 200,032 parcels), BENCH_LAND_WRK_SECONDS (10).
# Inputs are cached in bench-data/land/; logs and outputs go to bench-data/land/out/.
# Exit status 1 when a target is missed or a check fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

BIN="${MUJUN_BIN:-.build/release/mujun}"
[ -x "$BIN" ] || { echo "bench-land: ERROR: $BIN not found: build it with \`swift build -c release\`" >&2; exit 1; }
BIN="$(realpath "$BIN")"
PYTHON="${PYTHON:-python3}"
RUNS="${BENCH_RUNS:-3}"
LAND_DIR=bench-data/land
OUT="$LAND_DIR/out"
PARTS="${BENCH_LAND_PARTS:-clusters swift ogc map}"
mkdir -p "$LAND_DIR" "$OUT"
export BIN PYTHON RUNS LAND_DIR OUT
. bench/land/lib.sh
status=0

if "$BIN" --help 2>/dev/null | grep -q "bench-land"; then :; else
    say "warning: $BIN has no bench-land command (an older build?)"
fi

# ------------------------------------------------------------------ PostgreSQL + PostGIS
PG_DIR="${BENCH_LAND_PG_DIR:-/tmp/mujun-landbench-pg}"
pg_started=0
stop_pg() {
    if [ "$pg_started" = 1 ]; then
        MUJUN_PG_DIR="$PG_DIR" bash scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true
        pg_started=0
    fi
}
trap stop_pg EXIT
export LAND_PG_PORT="" LAND_PG_REASON=""
postgis_control="/usr/share/postgresql/15/extension/postgis.control"
if [ "${BENCH_LAND_NO_POSTGRES:-0}" = 1 ]; then
    LAND_PG_REASON="BENCH_LAND_NO_POSTGRES=1"
elif [ ! -x /usr/lib/postgresql/15/bin/initdb ] && [ -z "${MUJUN_PG_BIN:-}" ]; then
    LAND_PG_REASON="PostgreSQL 15 is not installed (Debian postgresql-15)"
else
    if [ ! -f "$postgis_control" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing PostGIS (apt-get install -y postgresql-15-postgis-3)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15-postgis-3 >"$OUT/apt-postgis.log" 2>&1 || true
    fi
    if [ ! -f "$postgis_control" ]; then
        LAND_PG_REASON="PostGIS is not installed and could not be (apt-get install postgresql-15-postgis-3; see $OUT/apt-postgis.log)"
    elif url=$(MUJUN_PG_DIR="$PG_DIR" MUJUN_PG_PORT="${BENCH_LAND_PG_PORT:-54371}" bash scripts/pg-test-cluster.sh start 2>"$OUT/pg.log"); then
        pg_started=1
        LAND_PG_PORT="$(cat "$PG_DIR/port")"
        if psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LAND_PG_PORT" -U mujun -d postgres -c "CREATE DATABASE landbench" >>"$OUT/pg.log" 2>&1 \
           && psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LAND_PG_PORT" -U mujun -d landbench -c "CREATE EXTENSION postgis" >>"$OUT/pg.log" 2>&1; then
            export MUJUN_BENCH_POSTGRES_URL="$url"
            say "PostgreSQL with PostGIS on 127.0.0.1:$LAND_PG_PORT ($PG_DIR); bench-land imports into $url"
        else
            LAND_PG_REASON="CREATE EXTENSION postgis failed (see $OUT/pg.log)"; LAND_PG_PORT=""
        fi
    else
        LAND_PG_REASON="the throw-away PostgreSQL cluster did not start (see $OUT/pg.log)"
    fi
fi
[ -n "$LAND_PG_PORT" ] || say "no PostgreSQL with PostGIS: $LAND_PG_REASON (PostGIS figures and PostgreSQL import skipped)"

# ------------------------------------------------------------------ the parts
for part in $PARTS; do
    case "$part" in
        clusters) say "== clusters: mujun land clusters vs shapely 2 (and PostGIS)"
                  bash bench/land/clusters.sh || status=1 ;;
        swift)    say "== mujun bench-land: import and area + low-efficiency pass"
                  if "$BIN" bench-land --work-dir "$LAND_DIR" --repeats "$RUNS" >"$OUT/bench-land.log" 2>&1; then
                      cat "$OUT/bench-land.log"
                      grep -q 'FAIL)' "$OUT/bench-land.log" && status=1
                  else
                      cat "$OUT/bench-land.log"; say "mujun bench-land failed"; status=1
                  fi ;;
        ogc)      say "== OGC API requests/s: mujun vs pygeoapi"
                  bash bench/land/ogc.sh || status=1 ;;
        map)      say "== map first paint in headless Chromium"
                  bash bench/land/map.sh || status=1 ;;
        *)        say "unknown part $part (clusters, swift, ogc, map)"; status=1 ;;
    esac
done
exit "$status"
