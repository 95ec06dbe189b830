#!/usr/bin/env bash
# Contiguous clusters on ~200,000 parcels (gap 20 m), end to end from one GeoJSON file
# (EPSG:4549) to a CSV of parcel_id,cluster:
#   - `mujun land clusters FILE --gap 20 --min-mu 0 --out …`
#   - shapely 2: bench/land/shapely_clusters.py (STRtree dwithin + connected components)
#   - PostGIS, when LAND_PG_PORT is set (bench/land/run.sh starts the cluster): the same file
#     loaded with ogr2ogr, then ST_ClusterDBSCAN(geom, eps := 20, minpoints := 1) OVER ()
# Swift and shapely run side by side (interleaved), best of $RUNS each; the partitions are
# checked to be the same (bench/land/compare_partitions.py). Twice: on the demo layout
# (axis-aligned rectangles) and on the same parcels made irregular by bench/land/irregular.py
# (13 positions a ring), where no rectangle shortcut applies on either side.
# Called by bench/land/run.sh, which sets BIN, PYTHON, RUNS, LAND_DIR, OUT.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/land/lib.sh

ENTERPRISES="${BENCH_LAND_CLUSTER_ENTERPRISES:-187350}"   # → 200,032 parcels with seed 42
SEED="${BENCH_LAND_SEED:-42}"
GAP="${BENCH_LAND_GAP:-20}"
DATA="$LAND_DIR/parcels-e$ENTERPRISES-s$SEED-4549.geojson"
status=0

if [ ! -s "$DATA" ]; then
    say "generating $DATA (mujun land demo-geojson --enterprises $ENTERPRISES --seed $SEED --crs EPSG:4549)"
    "$BIN" land demo-geojson --enterprises "$ENTERPRISES" --seed "$SEED" --crs EPSG:4549 --out "$DATA.tmp" \
        >"$OUT/generate.log" 2>&1 || { cat "$OUT/generate.log" >&2; say "demo-geojson failed"; exit 1; }
    mv "$DATA.tmp" "$DATA"
fi
n=$(grep -c '"type":"Feature"' "$DATA")
LABEL="$(( (n + 500) / 1000 ))k"   # 200,032 parcels → 200k
echo "land_clusters_${LABEL}_input_parcels $n parcels"
echo "land_clusters_${LABEL}_input_size $(awk -v b="$(stat -c %s "$DATA")" 'BEGIN { printf "%.1f", b / 1048576 }') MB"

# ------------------------------------------------------------------ Swift vs shapely
have_shapely=1
if ! "$PYTHON" -c 'import shapely, scipy, numpy; assert int(shapely.__version__.split(".")[0]) >= 2' 2>/dev/null; then
    say "installing shapely 2, scipy, numpy for $(command -v "$PYTHON")"
    "$PYTHON" -m pip install -q --disable-pip-version-check 'shapely>=2' scipy numpy >"$OUT/pip-shapely.log" 2>&1 \
        || have_shapely=0
    "$PYTHON" -c 'import shapely, scipy, numpy' 2>/dev/null || have_shapely=0
fi
[ "$have_shapely" = 1 ] || skip "land_clusters_${LABEL}_shapely: shapely 2 / scipy could not be installed (see $OUT/pip-shapely.log)"

# compare DATA NAME : Swift and shapely interleaved on DATA, best of $RUNS each; prints the
# land_clusters_${NAME}_* figures, checks the partitions and the 5x target; sets swift_s.
compare() {
    local data="$1" name="$2" r t
    local swift_times=() shapely_times=() swift_cpu=() shapely_cpu=()
    for r in $(seq 1 "$RUNS"); do
        t=$(measure clusters-swift "$BIN" land clusters "$data" --gap "$GAP" --min-mu 0 --out "$OUT/clusters-swift.csv") \
            || { tail -n 20 "$OUT/clusters-swift.log" >&2; say "mujun land clusters failed"; exit 1; }
        swift_times+=("$t"); swift_cpu+=("$(cat "$OUT/clusters-swift.cpu")")
        say "$name swift run $r: $t s wall, $(cat "$OUT/clusters-swift.cpu") s CPU ($(grep -o '读取 [0-9.]* 秒，聚类 [0-9.]* 秒' "$OUT/clusters-swift.log" | sed 's/读取 \([0-9.]*\) 秒，聚类 \([0-9.]*\) 秒/read+check \1 s, cluster \2 s/'))"
        if [ "$have_shapely" = 1 ]; then
            t=$(measure clusters-shapely "$PYTHON" bench/land/shapely_clusters.py "$data" "$OUT/clusters-shapely.csv" --gap "$GAP") \
                || { tail -n 20 "$OUT/clusters-shapely.log" >&2; say "shapely_clusters.py failed"; exit 1; }
            shapely_times+=("$t"); shapely_cpu+=("$(cat "$OUT/clusters-shapely.cpu")")
            say "$name shapely run $r: $t s wall, $(cat "$OUT/clusters-shapely.cpu") s CPU ($(sed -n 's/.*parcels, \(.*\)$/\1/p' "$OUT/clusters-shapely.log" | tail -n 1))"
        fi
    done
    swift_s=$(min_of "${swift_times[@]}")
    echo "land_clusters_${name}_swift_seconds $swift_s s"
    echo "land_clusters_${name}_swift_cpu_seconds $(min_of "${swift_cpu[@]}") s"
    if [ "$have_shapely" = 1 ]; then
        local shapely_s speedup
        shapely_s=$(min_of "${shapely_times[@]}")
        speedup=$(ratio "$shapely_s" "$swift_s")
        echo "land_clusters_${name}_shapely_seconds $shapely_s s"
        echo "land_clusters_${name}_speedup $speedup x"
        echo "land_clusters_${name}_shapely_cpu_seconds $(min_of "${shapely_cpu[@]}") s"
        echo "land_clusters_${name}_cpu_speedup $(ratio "$(min_of "${shapely_cpu[@]}")" "$(min_of "${swift_cpu[@]}")") x"
        if at_least "$speedup" 5; then say "$name: target (at least 5x shapely): met"; else say "$name: target (at least 5x shapely): NOT met"; status=1; fi
        if ! "$PYTHON" bench/land/compare_partitions.py "$OUT/clusters-swift.csv" "$OUT/clusters-shapely.csv"; then
            say "$name: the Swift and shapely clusters differ"; status=1
        fi
    fi
}

# 1. the demo city's layout: axis-aligned rectangles
compare "$DATA" "$LABEL"
rect_swift_s="$swift_s"
cp "$OUT/clusters-swift.csv" "$OUT/clusters-swift-rect.csv"

# 2. the same parcels made irregular (13 positions a ring, no rectangle shortcuts on either side)
IRREGULAR="${DATA%.geojson}-irregular.geojson"
if [ ! -s "$IRREGULAR" ] && [ "$have_shapely" = 1 ]; then
    say "making $IRREGULAR (bench/land/irregular.py)"
    "$PYTHON" bench/land/irregular.py "$DATA" "$IRREGULAR.tmp" >"$OUT/irregular.log" 2>&1 \
        && mv "$IRREGULAR.tmp" "$IRREGULAR" || { cat "$OUT/irregular.log" >&2; say "irregular.py failed"; }
fi
if [ -s "$IRREGULAR" ]; then
    compare "$IRREGULAR" "${LABEL}_irregular"
else
    skip "land_clusters_${LABEL}_irregular: no irregular file (needs shapely)"
fi
swift_s="$rect_swift_s"
cp "$OUT/clusters-swift-rect.csv" "$OUT/clusters-swift.csv"

# ------------------------------------------------------------------ PostGIS
if [ -z "${LAND_PG_PORT:-}" ]; then
    skip "land_clusters_${LABEL}_postgis: ${LAND_PG_REASON:-no PostgreSQL with PostGIS}"
    exit "$status"
fi
if ! command -v ogr2ogr >/dev/null 2>&1; then
    skip "land_clusters_${LABEL}_postgis: ogr2ogr not found (Debian gdal-bin)"
    exit "$status"
fi
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LAND_PG_PORT" -U mujun -d landbench)
t=$(measure postgis-load ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$LAND_PG_PORT user=mujun dbname=landbench" "$DATA" \
        -nln parcels -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=GIST -nlt MULTIPOLYGON -a_srs EPSG:4549 \
        -overwrite --config PG_USE_COPY YES) \
    || { tail -n 20 "$OUT/postgis-load.log" >&2; say "ogr2ogr into PostGIS failed"; exit 1; }
"${PSQL[@]}" -c "ANALYZE parcels" || exit 1
loaded=$("${PSQL[@]}" -At -c "SELECT count(*) FROM parcels")
load_s="$t"
echo "land_clusters_${LABEL}_postgis_load_seconds $load_s s"
say "PostGIS: $loaded parcels loaded with ogr2ogr ($("${PSQL[@]}" -At -c 'SELECT postgis_lib_version()') / GEOS $("${PSQL[@]}" -At -c 'SELECT postgis_geos_version()'))"
query="COPY (SELECT \"地块编号\" AS parcel_id, ST_ClusterDBSCAN(geom, eps := $GAP, minpoints := 1) OVER () AS cluster FROM parcels) TO STDOUT WITH (FORMAT csv, HEADER)"
pg_times=()
for r in $(seq 1 "$RUNS"); do
    t=$(measure postgis-cluster bash -c '"$@" > "'"$OUT"'/clusters-postgis.csv"' _ "${PSQL[@]}" -c "$query") \
        || { tail -n 20 "$OUT/postgis-cluster.log" >&2; say "ST_ClusterDBSCAN failed"; exit 1; }
    pg_times+=("$t")
done
say "PostGIS runs: ${pg_times[*]} s"
pg_s=$(min_of "${pg_times[@]}")
echo "land_clusters_${LABEL}_postgis_seconds $pg_s s"
echo "land_clusters_${LABEL}_postgis_with_load_seconds $(awk -v a="$load_s" -v b="$pg_s" 'BEGIN { printf "%.3f", a + b }') s"
# Swift end to end (file → CSV) against the PostGIS query alone (data already loaded); < 1: PostGIS faster
echo "land_clusters_${LABEL}_speedup_vs_postgis_query $(ratio "$pg_s" "$swift_s") x"
if ! "$PYTHON" bench/land/compare_partitions.py "$OUT/clusters-swift.csv" "$OUT/clusters-postgis.csv"; then
    say "the Swift and PostGIS clusters differ"; status=1
fi
exit "$status"
