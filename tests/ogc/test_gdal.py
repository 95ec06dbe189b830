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
(`apt-get install gdal-bin`; the tests are skipped, with the reason, when ogrinfo is missing).
"""
from __future__ import annotations

import json
import os
import re
import secrets
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

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun")).resolve()
HOME_TOWN = "古山镇"

pytestmark = pytest.mark.skipif(
    shutil.which("ogrinfo") is None or shutil.which("ogr2ogr") is None,
    reason="GDAL command-line tools (ogrinfo, ogr2ogr) are not installed: apt-get install gdal-bin",
)

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
    assert BIN.exists(), f"{BIN} is not built: run `swift build` first (or set MUJUN_BIN)"
    workdir = Path(tempfile.mkdtemp(prefix="mujun-ogc-"))
    proc: subprocess.Popen | None = None
    try:
        env = dict(os.environ)
        env.update({
            # the same database and secret for demo, token and serve: tokens are kept as keyed hashes
            "DATABASE_URL": f"sqlite://{workdir / 'mujun.sqlite'}",
            "MUJUN_SECRET": secrets.token_hex(24),
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


def test_ogrinfo_reads_the_parcels_layer(server: Server):
    token = server.tokens["hq"]
    status, page = server.api("/collections/parcels/items?limit=1", token)
    assert status == 200, page
    matched = page["numberMatched"]
    assert matched > 100
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels", token=token)
    assert r.returncode == 0, f"ogrinfo failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}\n{server.log()}"
    assert feature_count(r.stdout) == matched
    fields = field_names(r.stdout)
    for name in ("parcel_id", "town", "area_mu", "low_efficiency", "tax_per_mu", "cluster"):
        assert name in fields, f"{name} not among ogrinfo's fields {fields}"
    assert "Polygon" in r.stdout
    # the layer list
    r = server.gdal("ogrinfo", "-ro", "-q", f"OAPIF:{server.root}", token=token)
    assert r.returncode == 0, r.stderr
    assert "parcels" in r.stdout and "clusters" in r.stdout


def test_ogr2ogr_pulls_every_parcel(server: Server):
    token = server.tokens["hq"]
    _, page = server.api("/collections/parcels/items?limit=1", token)
    matched = page["numberMatched"]
    data = ogr2ogr_geojson(server, "parcels", token, "parcels.geojson")
    features = data["features"]
    assert len(features) == matched, "ogr2ogr followed the next links to the end"
    ids = [f["properties"]["parcel_id"] for f in features]
    assert len(set(ids)) == matched, "every parcel once"
    assert_near_yongkang(features)

    # one known parcel: a low-efficiency one, with its reasons, compared with the API's answer
    _, all_items = server.api("/collections/parcels/items?limit=10000", token)
    assert all_items["numberReturned"] == matched
    known = next(f for f in all_items["features"] if f["properties"]["low_efficiency"] and f["properties"]["block"])
    pid = known["properties"]["parcel_id"]
    status, one = server.api(f"/collections/parcels/items/{urllib.parse.quote(pid, safe='')}", token)
    assert status == 200, one
    got = next(f for f in features if f["properties"]["parcel_id"] == pid)
    for key, value in one["properties"].items():
        assert key in got["properties"], f"{key} missing from ogr2ogr's output"
        assert same_value(got["properties"][key], value), f"{pid} {key}: GDAL {got['properties'][key]!r} vs API {value!r}"
    assert got["properties"]["low_efficiency_reasons"], "the reasons came through"
    api_xy = coordinates(one["geometry"])
    gdal_xy = coordinates(got["geometry"])
    assert len(api_xy) == len(gdal_xy)
    for (a, b), (c, d) in zip(api_xy, gdal_xy):
        assert abs(a - c) < 1e-7 and abs(b - d) < 1e-7
    lon, lat = gdal_xy[0]
    assert abs(lon - 120.0) < 0.3 and abs(lat - 28.9) < 0.3


def test_ogr2ogr_pulls_every_cluster(server: Server):
    token = server.tokens["hq"]
    status, page = server.api("/collections/clusters/items?limit=10000", token)
    assert status == 200, page
    matched = page["numberMatched"]
    assert matched > 10
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "clusters", token=token)
    assert r.returncode == 0, r.stderr
    assert feature_count(r.stdout) == matched
    for name in ("number", "area_mu", "parcels", "towns", "low_efficiency_share", "candidate"):
        assert name in field_names(r.stdout)
    data = ogr2ogr_geojson(server, "clusters", token, "clusters.geojson")
    assert len(data["features"]) == matched
    assert_near_yongkang(data["features"])
    biggest = max(page["features"], key=lambda f: f["properties"]["parcels"])
    got = next(f for f in data["features"] if f["properties"]["number"] == biggest["properties"]["number"])
    for key, value in biggest["properties"].items():
        assert same_value(got["properties"][key], value), f"cluster {key}: GDAL {got['properties'][key]!r} vs API {value!r}"


def test_a_town_token_sees_only_its_parcels(server: Server):
    hq, town = server.tokens["hq"], server.tokens["gushan"]
    _, mine = server.api("/collections/parcels/items?limit=1&town=" + urllib.parse.quote(HOME_TOWN), hq)
    expected = mine["numberMatched"]
    _, everything = server.api("/collections/parcels/items?limit=1", hq)
    assert 0 < expected < everything["numberMatched"]
    _, seen = server.api("/collections/parcels/items?limit=1", town)
    assert seen["numberMatched"] == expected
    data = ogr2ogr_geojson(server, "parcels", town, "gushan.geojson")
    towns = {f["properties"]["town"] for f in data["features"]}
    assert towns == {HOME_TOWN}
    assert len(data["features"]) == expected
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels", token=town)
    assert r.returncode == 0, r.stderr
    assert feature_count(r.stdout) == expected


def test_without_a_token_gdal_is_refused(server: Server):
    status, _ = server.api("/collections")
    assert status == 401
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels")
    assert r.returncode != 0, r.stdout
    assert "401" in r.stderr
    r = server.gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.root}", "parcels", token="mj_not-a-valid-token")
    assert r.returncode != 0
