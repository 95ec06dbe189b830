"""GDAL reads Mujun's OGC API - Features (issue 4, item 6) from a running server.

The test starts its own server: it loads a small demo city into a temporary SQLite database
(`mujun demo --enterprises 400 --seed 5`), issues API tokens for the demo users `hq`
(headquarters, sees everything) and `gushan` (古山镇), serves on a free port of 127.0.0.1
and runs the real GDAL client (Debian gdal-bin) against it:

* `ogrinfo -so OAPIF:…/ogc parcels`: the feature count is the API's numberMatched and the
  attribute fields are those of the API;
* `ogr2ogr -f GeoJSON … OAPIF:…/ogc parcels` (and `clusters`) pulls every feature through the
  `next` links; one known feature's attributes and coordinates equal the API's;
* a town user's token gets only 古山镇 parcels; without a token ogrinfo fails (401).

Run:   python3 -m pytest -q tests/ogc
Needs: the binary (`swift build`; env MUJUN_BIN overrides .build/debug/mujun) and gdal-bin
(`apt-get install gdal-bin`, which scripts/install-deps.sh does; without ogrinfo/ogr2ogr the
tests fail saying so, rather than skip: a leg of skipped tests would pass having checked nothing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from mujun_seed import rng

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun")).resolve()
HOME_TOWN = "古山镇"

# urllib without any proxy from the environment: the server is on loopback
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir: Path, env: dict[str, str], port: int, tokens: dict[str, str], proc: subprocess.Popen):
        self.workdir = workdir
        self.env = env
        self.port = port
        self.tokens = tokens
        self.proc = proc
        self.root = f"http://127.0.0.1:{port}/ogc"

    def api(self, path: str, token: str | None = None) -> tuple[int, dict]:
        """GET root+path as JSON: (status, body)."""
        req = urllib.request.Request(self.root + path, headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with OPENER.open(req, timeout=60) as r:
                return r.status, json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, {"body": body}

    def gdal(self, tool: str, *args: str, token: str | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        """Runs ogrinfo/ogr2ogr with the token in GDAL_HTTP_HEADERS (as a user would)."""
        cmd = [tool]
        if token:
            cmd += ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}"]
        cmd += list(args)
        env = dict(os.environ)
        for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "GDAL_HTTP_HEADERS", "GDAL_HTTP_HEADER_FILE"):
            env.pop(k, None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=self.workdir)

    def log(self) -> str:
        try:
            return (self.workdir / "serve.log").read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


def run_mujun(env: dict[str, str], cwd: Path, *args: str, timeout: int = 900) -> str:
    r = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert r.returncode == 0, f"mujun {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def server():
    missing = [tool for tool in ("ogrinfo", "ogr2ogr") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"GDAL's {' and '.join(missing)} not installed: apt-get install gdal-bin (scripts/install-deps.sh does)")
    assert BIN.exists(), f"{BIN} is not built: run `swift build` first (or set MUJUN_BIN)"
    workdir = Path(tempfile.mkdtemp(prefix="mujun-ogc-"))
    proc: subprocess.Popen | None = None
    try:
        env = dict(os.environ)
        env.update({
            # the same database and secret for demo, token and serve: tokens are kept as keyed hashes
            "DATABASE_URL": f"sqlite://{workdir / 'mujun.sqlite'}",
            # the key tokens are hashed with, from the run's seed like every random input
            "MUJUN_SECRET": rng("ogc-server-secret").randbytes(24).hex(),
            "MUJUN_SECRET_FILE": str(workdir / "secret.key"),
        })
        env.pop("MUJUN_RULES", None)
        run_mujun(env, workdir, "demo", "--enterprises", "400", "--seed", "5")
        tokens = {}
        for login in ("hq", "gushan"):
            out = run_mujun(env, workdir, "user", "token", login, "--name", "gdal")
            token = out.strip().splitlines()[-1].strip()
            assert token and " " not in token, f"no token in: {out!r}"
            tokens[login] = token
        port = free_port()
        log = open(workdir / "serve.log", "w", encoding="utf-8")
        proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, cwd=workdir,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        srv = Server(workdir, env, port, tokens, proc)
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mujun serve exited with {proc.returncode}:\n{srv.log()}")
            try:
                with OPENER.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.time() > deadline:
                pytest.fail(f"mujun serve did not answer /healthz within 90 s:\n{srv.log()}")
            time.sleep(0.3)
        yield srv
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)


def feature_count(ogrinfo_stdout: str) -> int:
    m = re.search(r"^Feature Count: (\d+)$", ogrinfo_stdout, re.M)
    assert m, f"no Feature Count in ogrinfo's output:\n{ogrinfo_stdout[-3000:]}"
    return int(m.group(1))


def field_names(ogrinfo_stdout: str) -> list[str]:
    return re.findall(r"^(\w+): (?:String|Real|Integer|Integer64|Date|DateTime|StringList)", ogrinfo_stdout, re.M)


def ogr2ogr_geojson(server: Server, layer: str, token: str, name: str) -> dict:
    out = server.workdir / name
    out.unlink(missing_ok=True)
    r = server.gdal("ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{server.root}", layer, token=token)
    assert r.returncode == 0, f"ogr2ogr failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}\n{server.log()}"
    return json.loads(out.read_text(encoding="utf-8"))


def coordinates(geometry: dict) -> list[tuple[float, float]]:
    """Every vertex of a Polygon / MultiPolygon."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [(x, y) for poly in polys for ring in poly for x, y, *_ in ring]


def assert_near_yongkang(features: list[dict]) -> None:
    for f in features:
        for lon, lat in coordinates(f["geometry"]):
            assert 119.5 < lon < 120.6 and 28.5 < lat < 29.4, f"{f['properties']}: ({lon}, {lat}) is not near 120.0°E, 28.9°N"


def same_value(gdal_value, api_value) -> bool:
    if isinstance(api_value, float) or isinstance(gdal_value, float):
        return gdal_value is not None and api_value is not None and abs(float(gdal_value) - float(api_value)) < 1e-6
    return gdal_value == api_value


def api_ok(server: Server, path: str, token: str | None) -> dict:
    status, body = server.api(path, token)
    assert status == 200, f"GET /ogc{path} -> {status}: {str(body)[:500]}"
    return body


def properties_agree(what: str, api_props: dict, gdal_props: dict) -> None:
    """Every attribute of the API's feature is in GDAL's copy with the same value (all listed at once)."""
    assert api_props, f"{what}: the API's feature has no properties"
    missing = sorted(set(api_props) - set(gdal_props))
    assert not missing, f"{what}: attributes missing from ogr2ogr's output: {missing}"
    differ = [f"{k}: GDAL {gdal_props[k]!r} vs API {v!r}" for k, v in api_props.items() if not same_value(gdal_props[k], v)]
    assert not differ, f"{what}:\n" + "\n".join(differ)


@pytest.fixture(scope="module")
def parcels_matched(server: Server) -> int:
    matched = api_ok(server, "/collections/parcels/items?limit=1", server.tokens["hq"])["numberMatched"]
    assert matched > 100, f"the demo city has only {matched} parcels"
    return matched


@pytest.fixture(scope="module")
def parcels_summary(server: Server) -> str:
    """`ogrinfo -so` of the parcels layer, as the headquarters."""
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels", token=server.tokens["hq"])
    assert r.returncode == 0, f"ogrinfo failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}\n{server.log()}"
    return r.stdout


@pytest.fixture(scope="module")
def parcels_via_gdal(server: Server) -> list[dict]:
    """Every parcel as ogr2ogr pulled it, as the headquarters."""
    return ogr2ogr_geojson(server, "parcels", server.tokens["hq"], "parcels.geojson")["features"]


@pytest.fixture(scope="module")
def known_parcel(server: Server, parcels_matched: int) -> dict:
    """A low-efficiency parcel in a block (with reasons), as GET …/items/{id} answers it."""
    everything = api_ok(server, "/collections/parcels/items?limit=10000", server.tokens["hq"])
    assert everything["numberReturned"] == parcels_matched
    known = next((f for f in everything["features"]
                  if f["properties"]["low_efficiency"] and f["properties"]["block"]), None)
    assert known is not None, "the demo city has no low-efficiency parcel in a block"
    pid = known["properties"]["parcel_id"]
    return api_ok(server, f"/collections/parcels/items/{urllib.parse.quote(pid, safe='')}", server.tokens["hq"])


def test_ogrinfo_counts_every_parcel(parcels_summary: str, parcels_matched: int):
    assert feature_count(parcels_summary) == parcels_matched


def test_ogrinfo_lists_the_parcel_fields(parcels_summary: str):
    fields = field_names(parcels_summary)
    missing = [name for name in ("parcel_id", "town", "area_mu", "low_efficiency", "tax_per_mu", "cluster")
               if name not in fields]
    assert not missing, f"{missing} not among ogrinfo's fields {fields}"
    assert "Polygon" in parcels_summary


def test_ogrinfo_lists_both_layers(server: Server):
    r = server.gdal("ogrinfo", "-ro", "-q", f"OAPIF:{server.root}", token=server.tokens["hq"])
    assert r.returncode == 0, r.stderr
    assert "parcels" in r.stdout and "clusters" in r.stdout, r.stdout


def test_ogr2ogr_pulls_every_parcel_once(parcels_via_gdal: list[dict], parcels_matched: int):
    assert len(parcels_via_gdal) == parcels_matched, "ogr2ogr followed the next links to the end"
    ids = [f["properties"]["parcel_id"] for f in parcels_via_gdal]
    assert len(set(ids)) == parcels_matched, "every parcel once"
    assert_near_yongkang(parcels_via_gdal)


def gdal_copy(features: list[dict], pid: str) -> dict:
    got = next((f for f in features if f["properties"]["parcel_id"] == pid), None)
    assert got is not None, f"parcel {pid} is missing from ogr2ogr's output"
    return got


def test_ogr2ogr_parcel_attributes_equal_the_api(parcels_via_gdal: list[dict], known_parcel: dict):
    pid = known_parcel["properties"]["parcel_id"]
    got = gdal_copy(parcels_via_gdal, pid)
    properties_agree(f"parcel {pid}", known_parcel["properties"], got["properties"])
    assert got["properties"]["low_efficiency_reasons"], "the reasons came through"


def test_ogr2ogr_parcel_coordinates_equal_the_api(parcels_via_gdal: list[dict], known_parcel: dict):
    pid = known_parcel["properties"]["parcel_id"]
    got = gdal_copy(parcels_via_gdal, pid)
    api_xy = coordinates(known_parcel["geometry"])
    gdal_xy = coordinates(got["geometry"])
    assert api_xy and len(api_xy) == len(gdal_xy), f"{len(api_xy)} vertices in the API, {len(gdal_xy)} via GDAL"
    off = [(i, a, c) for i, (a, c) in enumerate(zip(api_xy, gdal_xy))
           if abs(a[0] - c[0]) >= 1e-7 or abs(a[1] - c[1]) >= 1e-7]
    assert not off, f"parcel {pid}: vertices differ (index, API, GDAL): {off[:5]}"
    lon, lat = gdal_xy[0]
    assert abs(lon - 120.0) < 0.3 and abs(lat - 28.9) < 0.3


@pytest.fixture(scope="module")
def clusters_page(server: Server) -> dict:
    page = api_ok(server, "/collections/clusters/items?limit=10000", server.tokens["hq"])
    assert page["numberMatched"] > 10, f"the demo city has only {page['numberMatched']} clusters"
    return page


@pytest.fixture(scope="module")
def clusters_via_gdal(server: Server) -> list[dict]:
    return ogr2ogr_geojson(server, "clusters", server.tokens["hq"], "clusters.geojson")["features"]


def test_ogrinfo_reads_the_clusters_layer(server: Server, clusters_page: dict):
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "clusters", token=server.tokens["hq"])
    assert r.returncode == 0, r.stderr
    assert feature_count(r.stdout) == clusters_page["numberMatched"]
    fields = field_names(r.stdout)
    missing = [name for name in ("number", "area_mu", "parcels", "towns", "low_efficiency_share", "candidate")
               if name not in fields]
    assert not missing, f"{missing} not among ogrinfo's fields {fields}"


def test_ogr2ogr_pulls_every_cluster(clusters_via_gdal: list[dict], clusters_page: dict):
    assert len(clusters_via_gdal) == clusters_page["numberMatched"]
    assert_near_yongkang(clusters_via_gdal)


def test_ogr2ogr_cluster_attributes_equal_the_api(clusters_via_gdal: list[dict], clusters_page: dict):
    biggest = max(clusters_page["features"], key=lambda f: f["properties"]["parcels"])
    number = biggest["properties"]["number"]
    got = next((f for f in clusters_via_gdal if f["properties"]["number"] == number), None)
    assert got is not None, f"cluster {number} is missing from ogr2ogr's output"
    properties_agree(f"cluster {number}", biggest["properties"], got["properties"])


@pytest.fixture(scope="module")
def home_town_count(server: Server) -> int:
    hq = server.tokens["hq"]
    mine = api_ok(server, "/collections/parcels/items?limit=1&town=" + urllib.parse.quote(HOME_TOWN), hq)["numberMatched"]
    everything = api_ok(server, "/collections/parcels/items?limit=1", hq)["numberMatched"]
    assert 0 < mine < everything, f"{HOME_TOWN} holds {mine} of {everything} parcels: pick a town with part of them"
    return mine


def test_a_town_token_sees_only_its_parcel_count(server: Server, home_town_count: int):
    seen = api_ok(server, "/collections/parcels/items?limit=1", server.tokens["gushan"])
    assert seen["numberMatched"] == home_town_count


def test_ogr2ogr_with_a_town_token_pulls_only_its_parcels(server: Server, home_town_count: int):
    data = ogr2ogr_geojson(server, "parcels", server.tokens["gushan"], "gushan.geojson")
    towns = {f["properties"]["town"] for f in data["features"]}
    assert towns == {HOME_TOWN}
    assert len(data["features"]) == home_town_count


def test_ogrinfo_with_a_town_token_counts_only_its_parcels(server: Server, home_town_count: int):
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels", token=server.tokens["gushan"])
    assert r.returncode == 0, r.stderr
    assert feature_count(r.stdout) == home_town_count


def test_without_a_token_the_api_answers_401(server: Server):
    status, body = server.api("/collections")
    assert status == 401, body


def test_without_a_token_ogrinfo_is_refused(server: Server):
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels")
    assert r.returncode != 0, r.stdout
    assert "401" in r.stderr, r.stderr


def test_with_a_wrong_token_ogrinfo_is_refused(server: Server):
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels", token="mj_not-a-valid-token")
    assert r.returncode != 0, r.stdout
    assert "401" in r.stderr, r.stderr
