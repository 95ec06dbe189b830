#!/usr/bin/env python3
"""Turns the benchmark's rectangle parcels into irregular ones, for a second clusters figure.

`mujun land demo-geojson` lays parcels out as axis-aligned rectangles, and both sides of the
clusters benchmark have shortcuts that only such rectangles take (Mujun's exact box distance,
GEOS's own rectangle paths). Cadastral parcels are not like that, so the benchmark is run again
on this file: every corner moved by up to 0.5 m and two more vertices on every edge, moved
across it by up to 0.8 m (13 positions a ring instead of 5; parcel sides are 40 m or more, so
the polygons stay simple). A parcel whose new geometry GEOS would not accept (two parts of a
MultiPolygon brought to overlap) keeps its rectangles; how many is printed.

usage: irregular.py IN.geojson OUT.geojson [--seed 7]
"""
import argparse
import json
import random

import shapely


def jitter_ring(ring, rnd):
    pts = ring[:-1]
    corners = [(x + rnd.uniform(-0.5, 0.5), y + rnd.uniform(-0.5, 0.5)) for x, y in pts]
    out = []
    n = len(corners)
    for i in range(n):
        (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % n]
        dx, dy = x1 - x0, y1 - y0
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        nx, ny = -dy / length, dx / length          # unit normal of the edge
        out.append([round(x0, 3), round(y0, 3)])
        for t in (1 / 3, 2 / 3):
            s = rnd.uniform(-0.8, 0.8)
            out.append([round(x0 + t * dx + s * nx, 3), round(y0 + t * dy + s * ny, 3)])
    out.append(out[0])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    with open(args.src, encoding="utf-8") as f:
        fc = json.load(f)
    kept = 0
    for feat in fc["features"]:
        g = feat["geometry"]
        if g["type"] == "Polygon":
            new = {"type": "Polygon", "coordinates": [jitter_ring(r, rnd) for r in g["coordinates"]]}
        else:
            new = {"type": "MultiPolygon", "coordinates": [[jitter_ring(r, rnd) for r in p] for p in g["coordinates"]]}
        if shapely.is_valid(shapely.geometry.shape(new)):
            feat["geometry"] = new
        else:
            kept += 1
    with open(args.dst, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","crs":' + json.dumps(fc.get("crs"), ensure_ascii=False) + ',"features":[\n')
        for i, feat in enumerate(fc["features"]):
            f.write((",\n" if i else "") + json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
        f.write("\n]}\n")
    print(f"{len(fc['features'])} parcels, {kept} kept as rectangles (the jittered parts would overlap)")


if __name__ == "__main__":
    main()
