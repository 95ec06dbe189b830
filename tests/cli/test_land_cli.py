"""End-to-end tests of `mujun land …` (issue 4, the parts without a database).

The binary is `.build/debug/mujun` (build it with `swift build`), or env MUJUN_BIN.
Covers `mujun land clusters FILE.geojson --gap --min-mu --crs --out` on small hand-made
files (cluster ids, areas, candidates, the CSV header), invalid geometry (every bad parcel
named, non-zero exit, no output written), and the demo GeoJSON through a Shapefile and back
with GDAL's ogr2ogr (the README's Shapefile path). PROJ's cs2cs (proj-bin) and GDAL's ogr2ogr
(gdal-bin) are required: scripts/install-deps.sh installs both, and a test that needs a
missing one fails saying so.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))

HEADER = ["parcel_id", "cluster", "area_mu", "town", "block", "cluster_area_mu", "cluster_parcels", "candidate"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        pytest.fail(f"mujun binary not found at {BIN}: run `swift build` first (or set MUJUN_BIN)")
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def run_ok(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    r = run(*args, cwd=cwd)
    assert r.returncode == 0, f"mujun {' '.join(args)} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install {package} (scripts/install-deps.sh does)")
    return path


def rect(x: float, y: float, w: float, h: float) -> list[list[float]]:
    return [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]


def feature(pid: str, rings: list, town: str = "古山镇", kind: str = "Polygon", **props) -> dict:
    return {
        "type": "Feature",
        "properties": {"地块编号": pid, "所属镇街": town, **props},
        "geometry": {"type": kind, "coordinates": rings},
    }


def write_collection(path: Path, features: list[dict], crs: str | None = "urn:ogc:def:crs:EPSG::4549") -> Path:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(fc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


X0, Y0 = 503_000.0, 3_197_000.0


def small_layout() -> list[dict]:
    """A–B 19 m apart and B–C 15 m (one chain); D alone 21 m from C; E a two-part
    MultiPolygon whose second part is 10 m from F; G far away. 100 m squares = 15 mu."""
    return [
        feature("A", [rect(X0, Y0, 100, 100)], 区块="下谢山区块"),
        feature("B", [rect(X0 + 119, Y0, 100, 100)]),
        feature("C", [rect(X0 + 234, Y0, 100, 100)], town="方岩镇"),
        feature("D", [rect(X0 + 355, Y0, 100, 100)]),
        feature("E", [[rect(X0, Y0 + 1000, 100, 100)], [rect(X0 + 500, Y0 + 1000, 100, 100)]], kind="MultiPolygon"),
        feature("F", [rect(X0 + 610, Y0 + 1000, 100, 100)]),
        feature("G", [rect(X0 + 5000, Y0 + 5000, 100, 100)]),
    ]


@pytest.fixture()
def small_file(tmp_path: Path) -> Path:
    return write_collection(tmp_path / "parcels.geojson", small_layout())


def test_clusters_small_file(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    run_ok("land", "clusters", str(small_file), "--gap", "20", "--min-mu", "40", "--out", str(out))
    assert out.read_bytes()[:3] != b"\xef\xbb\xbf"  # plain UTF-8
    header, rows = read_csv(out)
    assert header == HEADER
    by_id = {row["parcel_id"]: row for row in rows}
    assert sorted(by_id) == ["A", "B", "C", "D", "E", "F", "G"]
    cluster = {pid: int(row["cluster"]) for pid, row in by_id.items()}
    # numbered by the smallest parcel id of each cluster
    assert cluster == {"A": 1, "B": 1, "C": 1, "D": 2, "E": 3, "F": 3, "G": 4}
    for pid in "ABCDFG":
        assert float(by_id[pid]["area_mu"]) == pytest.approx(15, abs=1e-3), pid
    assert float(by_id["E"]["area_mu"]) == pytest.approx(30, abs=1e-3)
    assert float(by_id["A"]["cluster_area_mu"]) == pytest.approx(45, abs=1e-3)
    assert by_id["A"]["cluster_parcels"] == "3" and by_id["A"]["block"] == "下谢山区块"
    assert by_id["C"]["town"] == "方岩镇"
    assert [by_id[p]["candidate"] for p in "ADEG"] == ["true", "false", "true", "false"]


def test_clusters_at_gap_zero_keep_every_parcel_apart(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    run_ok("land", "clusters", str(small_file), "--gap", "0", "--out", str(out))
    _, rows = read_csv(out)
    assert len(rows) == 7
    assert len({row["cluster"] for row in rows}) == 8 - 1  # E's parts are one parcel


def test_clusters_at_gap_21_bridge_parcel_d(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    run_ok("land", "clusters", str(small_file), "--gap", "21", "--min-mu", "0", "--out", str(out))
    _, rows = read_csv(out)
    assert len(rows) == 7
    assert {row["parcel_id"]: row["cluster"] for row in rows}["D"] == "1"
    assert [row["parcel_id"] for row in rows if row["candidate"] != "true"] == [], "--min-mu 0: every cluster is a candidate"


def test_clusters_in_geographic_coordinates_with_crs_option(tmp_path: Path) -> None:
    """The same layout in CRS84 via `--crs` (overriding a wrong member) clusters the same.
    Coordinates are converted by PROJ's own cs2cs (EPSG:4549 input is northing, easting)."""
    cs2cs = require_tool("cs2cs", "proj-bin")
    feats = small_layout()
    points: list[list[float]] = []
    for f in feats:
        coords = f["geometry"]["coordinates"]
        polys = coords if f["geometry"]["type"] == "MultiPolygon" else [coords]
        for poly in polys:
            for ring in poly:
                points.extend(ring)
    text = "".join(f"{p[1]} {p[0]}\n" for p in points)
    r = subprocess.run([cs2cs, "-d", "10", "EPSG:4549", "OGC:CRS84"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(points), f"cs2cs converted {len(lines)} of {len(points)} points"
    for p, line in zip(points, lines):
        lon, lat = line.split()[:2]
        p[0], p[1] = float(lon), float(lat)
    src = write_collection(tmp_path / "geo.geojson", feats, crs="urn:ogc:def:crs:EPSG::4549")
    out = tmp_path / "c.csv"
    r = run("land", "clusters", str(src), "--crs", "CRS84", "--min-mu", "40", "--out", str(out))
    assert r.returncode == 0, r.stderr
    _, rows = read_csv(out)
    assert {row["parcel_id"]: int(row["cluster"]) for row in rows} == {"A": 1, "B": 1, "C": 1, "D": 2, "E": 3, "F": 3, "G": 4}


def test_invalid_geometry_names_every_parcel_and_writes_nothing(tmp_path: Path) -> None:
    bow_tie = [[[X0, Y0], [X0 + 100, Y0 + 100], [X0 + 100, Y0], [X0, Y0 + 100], [X0, Y0]]]
    unclosed = [rect(X0 + 300, Y0, 100, 100)[:-1]]
    three = [[[X0 + 600, Y0], [X0 + 700, Y0], [X0 + 600, Y0]]]
    feats = [
        feature("GOOD-1", [rect(X0 - 300, Y0, 100, 100)]),
        feature("BT-7", bow_tie),
        feature("UC-9", unclosed),
        feature("TP-3", three),
    ]
    src = write_collection(tmp_path / "bad.geojson", feats)
    out = tmp_path / "clusters.csv"
    r = run("land", "clusters", str(src), "--out", str(out))
    assert r.returncode != 0
    assert not out.exists()
    err = r.stderr
    assert "BT-7" in err and "自相交" in err and "Self-intersection" in err
    assert "UC-9" in err and "未闭合" in err and "unclosed ring" in err
    assert "TP-3" in err and "too few points" in err
    assert "GOOD-1" not in err
    assert "Traceback" not in err and "Fatal error" not in err


def test_not_geojson_is_one_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    junk = tmp_path / "junk.geojson"
    junk.write_text("地块编号,所属镇街\nA,古山镇\n", encoding="utf-8")
    r = run("land", "clusters", str(junk), "--out", str(out))
    assert r.returncode != 0 and not out.exists(), r.stdout + r.stderr
    assert "JSON" in r.stderr


def test_unknown_crs_is_one_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    src = write_collection(tmp_path / "p.geojson", small_layout(), crs="EPSG:3857")
    r = run("land", "clusters", str(src), "--out", str(out))
    assert r.returncode != 0 and not out.exists(), r.stdout + r.stderr
    assert "EPSG:3857" in r.stderr and "unsupported CRS" in r.stderr


def test_crs_option_overrides_an_unknown_crs_member(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    src = write_collection(tmp_path / "p.geojson", small_layout(), crs="EPSG:3857")
    run_ok("land", "clusters", str(src), "--crs", "EPSG:4549", "--out", str(out))
    assert len(read_csv(out)[1]) == 7


@pytest.fixture(scope="module")
def demo_geojson(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "a.geojson"
    run_ok("land", "demo-geojson", "--enterprises", "800", "--seed", "4", "--out", str(path))
    return path


def test_demo_geojson_is_deterministic(demo_geojson: Path, tmp_path: Path) -> None:
    again = tmp_path / "b.geojson"
    run_ok("land", "demo-geojson", "--enterprises", "800", "--seed", "4", "--out", str(again))
    assert demo_geojson.read_bytes() == again.read_bytes()


def test_demo_geojson_has_the_cgcs2000_crs_and_parcel_fields(demo_geojson: Path) -> None:
    fc = json.loads(demo_geojson.read_text(encoding="utf-8"))
    assert fc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4549"
    assert fc["features"], "the demo GeoJSON has no features"
    props = fc["features"][0]["properties"]
    assert {"地块编号", "所属镇街", "登记面积(亩)", "现状"} <= set(props)


def test_demo_geojson_clusters_with_candidates(demo_geojson: Path, tmp_path: Path) -> None:
    fc = json.loads(demo_geojson.read_text(encoding="utf-8"))
    out = tmp_path / "c.csv"
    run_ok("land", "clusters", str(demo_geojson), "--out", str(out))
    _, rows = read_csv(out)
    assert len(rows) == len(fc["features"])
    assert any(row["candidate"] == "true" for row in rows), "no candidate cluster in the demo land"


def test_demo_geojson_in_crs84_gives_the_same_clusters(demo_geojson: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    run_ok("land", "clusters", str(demo_geojson), "--out", str(out))
    _, rows = read_csv(out)
    geo = tmp_path / "geo.geojson"
    run_ok("land", "demo-geojson", "--enterprises", "800", "--seed", "4", "--crs", "CRS84", "--out", str(geo))
    out2 = tmp_path / "c2.csv"
    run_ok("land", "clusters", str(geo), "--out", str(out2))
    _, rows2 = read_csv(out2)
    assert rows, "no clusters"
    assert [(r["parcel_id"], r["cluster"]) for r in rows] == [(r["parcel_id"], r["cluster"]) for r in rows2]
    off = [(x["parcel_id"], x["area_mu"], y["area_mu"]) for x, y in zip(rows, rows2)
           if float(x["area_mu"]) != pytest.approx(float(y["area_mu"]), rel=1e-4)]
    assert not off, f"areas differ between EPSG:4549 and CRS84 (parcel, 4549, CRS84): {off[:10]}"


@pytest.mark.parametrize("encoding", ["UTF-8", "CP936"])
def test_demo_through_a_shapefile_and_back(tmp_path: Path, encoding: str) -> None:
    """The README's path: a Shapefile converted with `ogr2ogr -f GeoJSON out.geojson in.shp`
    imports, even though DBF cuts field names to 10 bytes (地块编号 → 地块编…)."""
    ogr2ogr = require_tool("ogr2ogr", "gdal-bin")
    demo = tmp_path / "demo.geojson"
    run_ok("land", "demo-geojson", "--enterprises", "600", "--seed", "2", "--out", str(demo))
    shp = tmp_path / "parcels.shp"
    r = subprocess.run([ogr2ogr, "-f", "ESRI Shapefile", "-lco", f"ENCODING={encoding}", str(shp), str(demo)],
                       capture_output=True, text=True, errors="replace")
    assert r.returncode == 0, r.stderr
    back = tmp_path / "back.geojson"
    r = subprocess.run([ogr2ogr, "-f", "GeoJSON", str(back), str(shp)], capture_output=True, text=True, errors="replace")
    assert r.returncode == 0, r.stderr
    out_a, out_b = tmp_path / "a.csv", tmp_path / "b.csv"
    run_ok("land", "clusters", str(demo), "--out", str(out_a))
    run_ok("land", "clusters", str(back), "--out", str(out_b))
    _, rows_a = read_csv(out_a)
    _, rows_b = read_csv(out_b)
    assert len(rows_a) == len(rows_b) > 400
    differ = [(x["parcel_id"], y["parcel_id"]) for x, y in zip(rows_a, rows_b)
              if (x["parcel_id"], x["cluster"], x["town"], x["block"]) != (y["parcel_id"], y["cluster"], y["town"], y["block"])
              or float(x["area_mu"]) != pytest.approx(float(y["area_mu"]), abs=1e-3)]
    assert not differ, f"{len(differ)} parcels differ after the Shapefile round trip, e.g. {differ[:5]}"
