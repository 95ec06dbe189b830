#!/usr/bin/env bash
# OGC API - Features, requests/s of /collections/parcels/items?limit=1000 with wrk on loopback:
#   - `mujun serve` on the demo city (8,000 enterprises ≈ 8,500 parcels), a bearer token of hq;
#     then the same without the serialized-snapshot cache (MUJUN_OGC_CACHE_MB=0, reported
#     beside it), and the first and second request after a start (cold snapshot, then warm);
#   - pygeoapi serving the same parcels (pulled from that server with `ogr2ogr OAPIF:…`, every
#     property, CRS84, 9 decimals like mujun's answer) under gunicorn, configured by
#     bench/land/pygeoapi-config.yml: its GeoJSON provider, and its PostgreSQL provider (the
#     same parcels loaded into PostGIS with ogr2ogr) when LAND_PG_PORT is set.
# wrk -t2 -c8 -d${BENCH_LAND_WRK_SECONDS:-10}s, --timeout 30s (so slow answers count instead
# of being dropped), Accept: application/geo+json (what GDAL asks for); $RUNS rounds, the
# servers interleaved, best round of each. Every server started here is stopped here.
# Called by bench/land/run.sh, which sets BIN, PYTHON, RUNS, LAND_DIR, OUT.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/land/lib.sh

SECS="${BENCH_LAND_WRK_SECONDS:-10}"
VENV="$LAND_DIR/pygeoapi-venv"
# gunicorn sync workers: one per core by default (on the 2-core bench machine 5 workers, gunicorn's
# "2 × cores + 1" starting point, gave pygeoapi no more requests/s, only more context switches)
PYG_WORKERS="${BENCH_LAND_PYGEOAPI_WORKERS:-$(nproc)}"
MUJUN_PID=""; PYG_PID=""
cleanup() { stop_pid "$MUJUN_PID"; stop_pid "$PYG_PID"; }
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing wrk (apt-get install -y wrk)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >"$OUT/apt-wrk.log" 2>&1 || true
    fi
    command -v wrk >/dev/null 2>&1 || { skip "ogc_items_1000_rps: wrk is not installed and could not be (apt-get install wrk)"; exit 0; }
fi

# wrk_rps NAME URL [HEADER…] : one wrk run; prints requests/s, fails when any answer is not 2xx
wrk_rps() {
    local name="$1" url="$2"; shift 2
    local args=() h
    for h in "$@"; do args+=(-H "$h"); done
    timeout $((SECS + 60)) wrk -t2 -c8 -d"${SECS}s" --timeout 30s -H "Accept: application/geo+json" "${args[@]}" "$url" \
        >"$OUT/wrk-$name.log" 2>&1 || { say "wrk $name failed" >&2; cat "$OUT/wrk-$name.log" >&2; return 1; }
    if grep -q -E 'Non-2xx|Socket errors' "$OUT/wrk-$name.log"; then
        say "wrk $name: errors:" >&2; grep -E 'Non-2xx|Socket errors' "$OUT/wrk-$name.log" >&2; return 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' "$OUT/wrk-$name.log"
}

# check_items NAME URL [HEADER…] : one GET; must be 200 with 1000 features (prints numberMatched)
check_items() {
    local name="$1" url="$2"; shift 2
    local args=() h
    for h in "$@"; do args+=(-H "$h"); done
    local code
    code=$(curl -s -o "$OUT/items-$name.json" -w '%{http_code}' -H "Accept: application/geo+json" "${args[@]}" "$url")
    [ "$code" = 200 ] || { say "$name: GET $url answered $code: $(head -c 300 "$OUT/items-$name.json")" >&2; return 1; }
    "$PYTHON" - "$OUT/items-$name.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
n = len(d.get("features", []))
if n != 1000:
    sys.exit(f"{n} features instead of 1000")
print(d.get("numberMatched", "?"), len(open(sys.argv[1], "rb").read()))
EOF
}

# ------------------------------------------------------------------ mujun serve
ensure_demo_db || { say "mujun demo failed"; exit 1; }
TOKEN=$("$BIN" user token hq --name bench-ogc --database "sqlite://$DEMO_DB" 2>"$OUT/token.log" | tail -n 1)
[ -n "$TOKEN" ] || { cat "$OUT/token.log" >&2; say "mujun user token hq failed"; exit 1; }
start_mujun || { say "mujun serve did not start"; exit 1; }
MUJUN_ITEMS="$MUJUN_URL/ogc/collections/parcels/items?limit=1000"
AUTH="Authorization: Bearer $TOKEN"
if ! read -r mujun_matched mujun_bytes < <(check_items mujun "$MUJUN_ITEMS" "$AUTH"); then
    skip "ogc_items_1000_rps: $MUJUN_ITEMS does not answer 1000 features (is the OGC API built into $BIN?)"
    exit 0
fi
say "mujun: $MUJUN_ITEMS → 1000 of $mujun_matched parcels, $mujun_bytes bytes"

# ------------------------------------------------------------------ pygeoapi
pyg=1
PYG_DATA="$OUT/ogc-parcels-crs84.geojson"
if [ ! -x "$VENV/bin/gunicorn" ] || ! "$VENV/bin/python" -c 'import pygeoapi' 2>/dev/null; then
    say "installing pygeoapi and gunicorn into $VENV"
    { "$PYTHON" -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check pygeoapi gunicorn; } \
        >"$OUT/pip-pygeoapi.log" 2>&1 || pyg=0
fi
if [ "$pyg" = 1 ] && [ -n "${LAND_PG_PORT:-}" ] && ! "$VENV/bin/python" -c 'import psycopg2, geoalchemy2' 2>/dev/null; then
    "$VENV/bin/pip" install -q --disable-pip-version-check psycopg2-binary geoalchemy2 >>"$OUT/pip-pygeoapi.log" 2>&1 || true
fi
if [ "$pyg" = 0 ]; then
    skip "ogc_items_1000_pygeoapi_rps: pygeoapi could not be installed (see $OUT/pip-pygeoapi.log)"
elif ! command -v ogr2ogr >/dev/null 2>&1; then
    skip "ogc_items_1000_pygeoapi_rps: ogr2ogr not found (Debian gdal-bin)"; pyg=0
fi
if [ "$pyg" = 1 ]; then
    # the parcels exactly as mujun serves them (all properties, CRS84), pulled with GDAL's OAPIF driver
    rm -f "$PYG_DATA"
    if ogr2ogr -f GeoJSON "$PYG_DATA" "OAPIF:$MUJUN_URL/ogc" parcels --config GDAL_HTTP_HEADERS "$AUTH" \
           -lco RFC7946=YES -lco COORDINATE_PRECISION=9 >"$OUT/ogr2ogr-ogc.log" 2>&1 && [ -s "$PYG_DATA" ]; then
        say "pygeoapi's data: $(grep -c '"type": "Feature"' "$PYG_DATA") parcels pulled from mujun with ogr2ogr OAPIF:$MUJUN_URL/ogc"
    else
        # fallback: the same demo city written by mujun, FORMATS.md's property names
        say "ogr2ogr OAPIF failed (see $OUT/ogr2ogr-ogc.log); exporting the demo city's parcels with demo-geojson instead"
        "$BIN" land demo-geojson --enterprises "$DEMO_ENTERPRISES" --seed "$DEMO_SEED" --crs CRS84 --out "$OUT/ogc-src.geojson" \
            >"$OUT/ogc-src.log" 2>&1 \
        && ogr2ogr -f GeoJSON "$PYG_DATA" "$OUT/ogc-src.geojson" -dialect OGRSQL -sql \
            'SELECT "地块编号" AS parcel_id, "所属镇街" AS town, "区块" AS block, "权利人信用代码" AS owner_credit_code, "登记面积(亩)" AS registered_mu, "用途" AS land_use, "容积率" AS far, "现状" AS status FROM mujun_demo_parcels' \
            -lco RFC7946=YES -lco COORDINATE_PRECISION=9 >>"$OUT/ogr2ogr-ogc.log" 2>&1 \
        || { cat "$OUT/ogc-src.log" "$OUT/ogr2ogr-ogc.log" >&2; say "export for pygeoapi failed"; pyg=0; }
    fi
fi
providers=()
if [ "$pyg" = 1 ]; then
    providers=(geojson)
    # pygeoapi's config without the PostgreSQL collection when there is no PostGIS
    export PYGEOAPI_BENCH_DATA="$(realpath "$PYG_DATA")"
    if [ -n "${LAND_PG_PORT:-}" ] && "$VENV/bin/python" -c 'import psycopg2, geoalchemy2' 2>/dev/null \
        && ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$LAND_PG_PORT user=mujun dbname=landbench" "$PYG_DATA" \
               -nln ogc_parcels -lco GEOMETRY_NAME=geom -lco FID=fid -nlt MULTIPOLYGON -overwrite >"$OUT/ogr2ogr-ogc-pg.log" 2>&1 \
        && psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LAND_PG_PORT" -U mujun -d landbench \
               -c "ALTER TABLE ogc_parcels DROP COLUMN fid; ALTER TABLE ogc_parcels ADD PRIMARY KEY (parcel_id); ANALYZE ogc_parcels" \
               >>"$OUT/ogr2ogr-ogc-pg.log" 2>&1; then
        providers+=(postgres)
        export PYGEOAPI_BENCH_PG_PORT="$LAND_PG_PORT" PYGEOAPI_BENCH_PG_DB=landbench
        cp bench/land/pygeoapi-config.yml "$OUT/pygeoapi-config.yml"
    else
        [ -n "${LAND_PG_PORT:-}" ] && say "pygeoapi PostgreSQL provider not used (see $OUT/ogr2ogr-ogc-pg.log)"
        [ -z "${LAND_PG_PORT:-}" ] && skip "ogc_items_1000_pygeoapi_postgres_rps: ${LAND_PG_REASON:-no PostgreSQL with PostGIS}"
        "$VENV/bin/python" - bench/land/pygeoapi-config.yml "$OUT/pygeoapi-config.yml" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
c["resources"].pop("parcels_pg", None)
yaml.safe_dump(c, open(sys.argv[2], "w", encoding="utf-8"), allow_unicode=True, sort_keys=False)
EOF
    fi
    PYG_PORT="$(free_port "${BENCH_LAND_PYGEOAPI_PORT:-18531}")"
    export PYGEOAPI_BENCH_PORT="$PYG_PORT" PYGEOAPI_CONFIG="$OUT/pygeoapi-config.yml" PYGEOAPI_OPENAPI="$OUT/pygeoapi-openapi.yml"
    if ! "$VENV/bin/pygeoapi" openapi generate "$PYGEOAPI_CONFIG" --output-file "$PYGEOAPI_OPENAPI" >"$OUT/pygeoapi-openapi.log" 2>&1; then
        cat "$OUT/pygeoapi-openapi.log" >&2; say "pygeoapi openapi generate failed"; providers=()
    else
        "$VENV/bin/gunicorn" -w "$PYG_WORKERS" -b "127.0.0.1:$PYG_PORT" --log-level warning pygeoapi.flask_app:APP \
            >"$OUT/pygeoapi.log" 2>&1 &
        PYG_PID=$!
        if ! wait_http "http://127.0.0.1:$PYG_PORT/" 60 "$PYG_PID"; then
            tail -n 20 "$OUT/pygeoapi.log" >&2; say "pygeoapi did not start"; providers=()
        fi
    fi
    say "pygeoapi $("$VENV/bin/python" -c 'import pygeoapi; print(pygeoapi.__version__)') under gunicorn ($PYG_WORKERS sync workers) at http://127.0.0.1:$PYG_PORT"
fi
declare -A PYG_URL=([geojson]="http://127.0.0.1:${PYG_PORT:-0}/collections/parcels/items?limit=1000"
                    [postgres]="http://127.0.0.1:${PYG_PORT:-0}/collections/parcels_pg/items?limit=1000")
checked=()
for p in "${providers[@]}"; do
    if read -r m b < <(check_items "pygeoapi-$p" "${PYG_URL[$p]}"); then
        say "pygeoapi ($p provider): ${PYG_URL[$p]} → 1000 of $m parcels, $b bytes"
        [ "$m" = "$mujun_matched" ] || say "warning: pygeoapi has $m parcels, mujun $mujun_matched"
        checked+=("$p")
    else
        say "pygeoapi ($p provider) does not answer 1000 features; left out"
    fi
done

# ------------------------------------------------------------------ the rounds
mujun_rps=(); declare -A pyg_rps=()
for r in $(seq 1 "$RUNS"); do
    x=$(wrk_rps mujun "$MUJUN_ITEMS" "$AUTH") || exit 1
    mujun_rps+=("$x"); line="mujun $x"
    for p in "${checked[@]}"; do
        y=$(wrk_rps "pygeoapi-$p" "${PYG_URL[$p]}") || exit 1
        pyg_rps[$p]="${pyg_rps[$p]:-} $y"; line+=", pygeoapi/$p $y (mujun $(ratio "$x" "$y")x)"
    done
    say "round $r (requests/s): $line"
done
best=$(max_of "${mujun_rps[@]}")
echo "ogc_items_1000_rps $best requests/s"

# The same server without its serialized-snapshot cache (every page read from SQLite and written
# anew, MUJUN_OGC_CACHE_MB=0), and the first page after a start (the snapshot being built):
# what a reader gets right after the land tables change.
stop_pid "$MUJUN_PID"; MUJUN_PID=""
uncached=""
if MUJUN_OGC_CACHE_MB=0 start_mujun; then
    uncached=$(wrk_rps mujun-uncached "$MUJUN_URL/ogc/collections/parcels/items?limit=1000" "$AUTH") || uncached=""
    stop_pid "$MUJUN_PID"; MUJUN_PID=""
fi
[ -n "$uncached" ] && echo "ogc_items_1000_uncached_rps $uncached requests/s"
if start_mujun; then
    first=$(curl -s -o /dev/null -w '%{time_total}' -H "$AUTH" -H "Accept: application/geo+json" "$MUJUN_URL/ogc/collections/parcels/items?limit=1000")
    second=$(curl -s -o /dev/null -w '%{time_total}' -H "$AUTH" -H "Accept: application/geo+json" "$MUJUN_URL/ogc/collections/parcels/items?limit=1000")
    echo "ogc_items_1000_first_request_ms $(awk -v t="$first" 'BEGIN { printf "%.1f", t * 1000 }') ms"
    echo "ogc_items_1000_next_request_ms $(awk -v t="$second" 'BEGIN { printf "%.1f", t * 1000 }') ms"
    grep -h "serialized in" "$OUT/serve.log" | tail -n 1 | sed 's/.*ogc: /bench-land: snapshot: /'
fi
[ "${#checked[@]}" -gt 0 ] || { skip "ogc_items_1000_pygeoapi_rps: no pygeoapi to compare with"; exit 0; }
pyg_best=0; pyg_best_name=""
for p in "${checked[@]}"; do
    # shellcheck disable=SC2086
    v=$(max_of ${pyg_rps[$p]})
    echo "ogc_items_1000_pygeoapi_${p}_rps $v requests/s"
    echo "ogc_items_1000_vs_pygeoapi_${p} $(ratio "$best" "$v") x"
    if awk -v a="$v" -v b="$pyg_best" 'BEGIN { exit !(a > b) }'; then pyg_best="$v"; pyg_best_name="$p"; fi
done
echo "ogc_items_1000_pygeoapi_rps $pyg_best requests/s"
speedup=$(ratio "$best" "$pyg_best")
echo "ogc_items_1000_vs_pygeoapi $speedup x"
[ -n "$uncached" ] && echo "ogc_items_1000_uncached_vs_pygeoapi $(ratio "$uncached" "$pyg_best") x"
if at_least "$speedup" 10; then
    say "goal (at least 10x pygeoapi's faster provider, $pyg_best_name): met"
else
    say "goal (at least 10x pygeoapi's faster provider, $pyg_best_name): NOT met"
    exit 1
fi
