#!/usr/bin/env python3
"""The shapely 2 counterpart of `mujun land clusters FILE --gap G --out OUT` (bench/land/run.sh).

End to end, from the same GeoJSON file (coordinates in EPSG:4549 metres, as `mujun land
demo-geojson --crs EPSG:4549` writes them) to a UTF-8 CSV `parcel_id,cluster,area_mu`:

  1. read the file (json), build every geometry at once (shapely.from_ragged_array: Polygons
     and MultiPolygons as MultiPolygons, which changes no distance);
  2. check every geometry is valid (shapely.is_valid, as the Swift side refuses invalid
     parcels) and compute the area in mu (the Swift CSV has area_mu);
  3. STRtree.query(geoms, predicate="dwithin", distance=G): every pair of parcels at most G
     metres apart; connected components of that graph with
     scipy.sparse.csgraph.connected_components = the clusters (what PostGIS
     ST_ClusterDBSCAN(geom, eps := G, minpoints := 1) gives);
  4. write the CSV, clusters numbered by their smallest parcel id, like the Swift side.

Phase times go to standard error; nothing but errors otherwise.
usage: shapely_clusters.py FILE.geojson OUT.csv [--gap 20] [--property 地块编号]
"""
import argparse
import json
import sys
import time

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ID_KEYS = ("地块编号", "parcel_id")
SQM_PER_MU = 10000.0 / 15.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("out")
    ap.add_argument("--gap", type=float, default=20.0)
    args = ap.parse_args()
    t0 = time.perf_counter()

    with open(args.file, "rb") as f:
        fc = json.load(f)
    features = fc["features"]
    n = len(features)
    ids = []
    coords = []          # flat list of [x, y] pairs
    ring_off = [0]       # ragged offsets: coordinates per ring,
    poly_off = [0]       # rings per polygon,
    multi_off = [0]      # polygons per parcel
    nc = nr = npoly = 0
    for f in features:
        props = f["properties"]
        pid = None
        for k in ID_KEYS:
            if k in props and props[k] not in (None, ""):
                pid = str(props[k]).strip()
                break
        if pid is None:
            sys.exit(f"feature {len(ids) + 1}: no parcel id")
        ids.append(pid)
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            for ring in poly:
                coords.extend(ring)
                nc += len(ring)
                ring_off.append(nc)
            nr += len(poly)
            poly_off.append(nr)
        npoly += len(polys)
        multi_off.append(npoly)
    if len(set(ids)) != n:
        sys.exit("duplicate parcel ids")
    xy = np.asarray(coords, dtype=np.float64)
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, xy,
        (np.asarray(ring_off, dtype=np.int64), np.asarray(poly_off, dtype=np.int64),
         np.asarray(multi_off, dtype=np.int64)))
    del fc, features, coords
    t1 = time.perf_counter()

    valid = shapely.is_valid(geoms)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        for i in bad[:20]:
            print(f"parcel {ids[i]}: invalid geometry: {shapely.is_valid_reason(geoms[i])}", file=sys.stderr)
        sys.exit(f"{len(bad)} invalid geometries; nothing written")
    area_mu = shapely.area(geoms) / SQM_PER_MU
    t2 = time.perf_counter()

    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms, predicate="dwithin", distance=args.gap)
    t3 = time.perf_counter()
    graph = coo_matrix((np.ones(pairs.shape[1], dtype=np.int8), (pairs[0], pairs[1])), shape=(n, n))
    ncomp, labels = connected_components(graph, directed=False)
    t4 = time.perf_counter()

    # Number the clusters by their smallest parcel id, members by id (as mujun does).
    order = sorted(range(n), key=ids.__getitem__)
    number = np.zeros(ncomp, dtype=np.int64)
    k = 0
    for i in order:
        c = labels[i]
        if number[c] == 0:
            k += 1
            number[c] = k
    cl = number[labels]
    rows = sorted(range(n), key=lambda i: (cl[i], ids[i]))
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        out.write("parcel_id,cluster,area_mu\n")
        out.write("".join(f"{ids[i]},{cl[i]},{area_mu[i]:.4f}\n" for i in rows))
    t5 = time.perf_counter()
    print(f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}): {n} parcels, {ncomp} clusters, "
          f"{pairs.shape[1]} pairs; read+build {t1 - t0:.3f} s, valid+area {t2 - t1:.3f} s, "
          f"STRtree dwithin {t3 - t2:.3f} s, components {t4 - t3:.3f} s, write {t5 - t4:.3f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
