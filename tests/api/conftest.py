"""The OpenAPI leg's server: `mujun serve` on a fresh demo database, with an admin API token.

    make test-api SKIP_BUILD=1                 runs this leg (tests/api/README.md)
    MUJUN_BIN            the binary (default .build/debug/mujun)
    MUJUN_API_WORKDIR    where the databases, logs and pid file go (make test-api sets it; by
                         default a temporary directory, removed at the end)
    MUJUN_TEST_SEED      the seed of the run's random inputs (schemathesis's --seed); printed
    MUJUN_API_REPORT_DIR where the schemathesis reports and findings.md go (default
                         $MUJUN_API_WORKDIR/report when make test-api runs it; printed)

The city is the browser leg's: `mujun demo --enterprises 600 --seed 7` into a SQLite database.
Before the tests the town user `gushan` files a few land surveys through the API, so that the
survey operations have submitted surveys to work on; that database is then kept as the pristine
copy. The server is started on a copy of it, on a free port of 127.0.0.1, and its pid is written
to $MUJUN_API_WORKDIR/serve.pid (make test-api kills it even when pytest dies).

A crash of the server must not hide what the later operations do: `ensure_up()` notices a
server that has exited, keeps its log as serve-N.log, records the crash, and starts a new server
on a fresh copy of the pristine database. The operations are found in the live /openapi.json at
collection time (pytest_generate_tests), so the server is started then.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mujun_seed  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun")).resolve()
ENTERPRISES = int(os.environ.get("MUJUN_API_ENTERPRISES", "600"))
DEMO_SEED = int(os.environ.get("MUJUN_API_DEMO_SEED", "7"))
# the key the API tokens are hashed with: the same for `mujun user token` and `mujun serve`
SECRET = "mujun-api-leg-test-secret-not-for-production"
TOWN_USER = "gushan"
# demo users (besides the admin) that get an API token: the operations the admin may not call are
# also fuzzed as the user whose role may (test_schemathesis.ROLE_RUNS)
TOKEN_USERS = ("gushan", "qiye")
SURVEYS = 3  # land surveys gushan files before the tests (state submitted, ready for review)

# urllib without any proxy from the environment: the server is on loopback
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def text(self, limit: int = 400) -> str:
        return self.body[:limit].decode("utf-8", "replace")


@dataclass
class Crash:
    during: str
    returncode: int | None
    log: Path

    def describe(self) -> str:
        return (f"mujun serve exited (code {self.returncode}) during {self.during}; its log is {self.log}:\n    "
                + "\n    ".join(crash_summary(self.log)))


def crash_summary(log: Path, frames: int = 14) -> list[str]:
    """The reason of a Swift crash and the first frames of the crashed thread, from the
    runtime's backtrace in the server log (else the log's last lines)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    reasons = [line.strip() for line in lines
               if (line.startswith("***") and "Backtracing from" not in line) or "Fatal error" in line]
    at = next((n for n, line in enumerate(lines) if line.rstrip().endswith("crashed:")), None)
    if at is None:
        return reasons + lines[-25:]
    stack = [line.rstrip()[:220] for line in lines[at:at + 1 + frames * 2] if line.strip()][:frames + 1]
    return reasons + stack


@dataclass
class LiveServer:
    workdir: Path
    env: dict[str, str]
    pristine: Path
    token: str = ""
    town_token: str = ""
    user_tokens: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen | None = None
    starts: int = 0
    crashes: list[Crash] = field(default_factory=list)
    doc: dict | None = None
    survey_ids: list[int] = field(default_factory=list)  # filed before the tests, in the pristine database

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"serve-{self.starts}.log"

    # -------------------------------------------------------------- running mujun
    def mujun(self, *args: str, db: Path, timeout: int = 900) -> str:
        env = dict(self.env, DATABASE_URL=f"sqlite://{db}", MUJUN_JOBS="off")  # the demo as loaded: no 滞后 check at start
        r = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, f"mujun {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r.stdout

    def start(self, db: Path) -> None:
        """Serves `db` on a free port and waits for /healthz (fails with the log's tail)."""
        self.starts += 1
        self.port = free_port()
        env = dict(self.env, DATABASE_URL=f"sqlite://{db}", MUJUN_JOBS="off")  # the demo as loaded: no 滞后 check at start
        with open(self.log, "w", encoding="utf-8") as log:
            # cwd = the repository: the server serves Public/ from there
            self.proc = subprocess.Popen([str(BIN), "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                                         env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        (self.workdir / "serve.pid").write_text(f"{self.proc.pid}\n")
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"mujun serve exited with {self.proc.returncode} at start:\n{self.log_tail()}")
            try:
                with OPENER.open(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mujun serve did not answer {self.base}/healthz within 120 s:\n{self.log_tail()}")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def fresh_copy(self) -> Path:
        """A copy of the pristine database (with its write-ahead log, should one be left)."""
        live = self.workdir / f"live-{self.starts + 1}.sqlite"
        shutil.copyfile(self.pristine, live)
        wal = Path(str(self.pristine) + "-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(str(live) + "-wal"))
        return live

    def restart_fresh(self) -> None:
        """A new server on a fresh copy of the pristine database (what earlier tests changed is gone)."""
        self.stop()
        self.start(self.fresh_copy())

    def ensure_up(self, during: str) -> Crash | None:
        """When the server has exited since the last call: records the crash and starts a new
        one on a fresh copy of the pristine database. Returns the crash, if there was one."""
        if self.proc is not None and self.proc.poll() is None:
            return None
        crash = Crash(during=during, returncode=None if self.proc is None else self.proc.returncode, log=self.log)
        self.crashes.append(crash)
        self.start(self.fresh_copy())
        return crash

    # -------------------------------------------------------------- HTTP
    def request(self, method: str, path: str, *, token: str | None = "", body: bytes | None = None,
                content_type: str | None = None, timeout: float = 60) -> Answer:
        """`token` "" means the admin token, None no token."""
        headers = {"Accept": "application/json"}
        token = self.token if token == "" else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with OPENER.open(req, timeout=timeout) as r:
                return Answer(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def get_json(self, path: str, token: str | None = "") -> Any:
        a = self.request("GET", path, token=token)
        assert a.status == 200, f"GET {path} -> {a.status}: {a.text()}"
        return a.json()

    def openapi(self) -> dict:
        if self.doc is None:
            self.doc = self.get_json("/openapi.json")
        return self.doc


def _file_surveys(server: LiveServer) -> None:
    """The town user files SURVEYS land surveys on low-efficiency parcels of its town."""
    parcels = server.get_json("/api/v1/map/parcels", token=server.town_token)["features"]
    filed = 0
    for f in parcels:
        if filed == SURVEYS:
            break
        pid = f["properties"]["id"]
        if not f["properties"].get("low"):
            continue
        a = server.request("POST", f"/api/v1/parcels/{urllib.parse.quote(pid, safe='')}/surveys",
                           token=server.town_token, content_type="application/json",
                           body=json.dumps({"actual_use": "工业生产", "idle": False,
                                            "remarks": "接口测试：现场核查"}, ensure_ascii=False).encode())
        assert a.status == 201, f"{TOWN_USER} could not file a survey of {pid}: {a.status} {a.text()}"
        server.survey_ids.append(int(a.json()["id"]))
        filed += 1
    assert filed == SURVEYS, f"{TOWN_USER} found only {filed} low-efficiency parcels to survey"


def _prepare(workdir: Path) -> LiveServer:
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        pytest.fail(f"mujun binary not found at {BIN}: run `swift build` first (or set MUJUN_BIN)")
    env = dict(os.environ)
    env.update({"MUJUN_SECRET": SECRET, "MUJUN_SECRET_FILE": str(workdir / "secret.key"), "MUJUN_NO_PROGRESS": "1"})
    # a crash's backtrace: the crashed thread only, without registers and images (it still takes
    # the runtime 10-30 s to symbolicate, during which the server answers nothing)
    env.setdefault("SWIFT_BACKTRACE", "enable=yes,interactive=no,threads=crashed,registers=none,images=none")
    for k in ("MUJUN_RULES", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env.pop(k, None)
    server = LiveServer(workdir=workdir, env=env, pristine=workdir / "pristine.sqlite")
    print(f"\ntest-api: demo city of {ENTERPRISES} enterprises (seed {DEMO_SEED}) in {server.pristine}", flush=True)
    server.mujun("demo", "--enterprises", str(ENTERPRISES), "--seed", str(DEMO_SEED), db=server.pristine)
    # `mujun user token LOGIN --name N` prints the token on its last line
    server.token = server.mujun("user", "token", "admin", "--name", "schemathesis", db=server.pristine).strip().splitlines()[-1]
    for user in TOKEN_USERS:
        server.user_tokens[user] = server.mujun("user", "token", user, "--name", "api-tests",
                                                db=server.pristine).strip().splitlines()[-1]
    server.town_token = server.user_tokens[TOWN_USER]
    for t in (server.token, *server.user_tokens.values()):
        assert t.startswith("mj_") and " " not in t, f"not a token: {t!r}"
    # the surveys go into the pristine database: every server after this starts with them
    server.start(server.pristine)
    try:
        _file_surveys(server)
    finally:
        server.stop()
    server.start(server.fresh_copy())
    print(f"test-api: mujun serve at {server.base} (log {server.log})", flush=True)
    return server


_SERVER: LiveServer | None = None
_OWN_WORKDIR: Path | None = None


def live_server() -> LiveServer:
    """The leg's one server, started on first use (collection needs /openapi.json)."""
    global _SERVER, _OWN_WORKDIR
    if _SERVER is None:
        wd = os.environ.get("MUJUN_API_WORKDIR")
        if wd:
            workdir = Path(wd).resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = _OWN_WORKDIR = Path(tempfile.mkdtemp(prefix="mujun-api-"))
        _SERVER = _prepare(workdir)
    return _SERVER


def report_dir() -> Path:
    d = os.environ.get("MUJUN_API_REPORT_DIR")
    path = Path(d) if d else live_server().workdir / "report"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def server() -> LiveServer:
    return live_server()


@pytest.fixture(scope="session")
def doc(server: LiveServer) -> dict:
    return server.openapi()


def pytest_unconfigure(config) -> None:
    if _SERVER is not None:
        _SERVER.stop()
    if _OWN_WORKDIR is not None:
        shutil.rmtree(_OWN_WORKDIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus) -> None:
    mujun_seed.report(terminalreporter)
    if _SERVER is None:
        return
    for crash in _SERVER.crashes:
        terminalreporter.write_line("")
        terminalreporter.write_line("SERVER CRASH: " + crash.describe())
    if exitstatus != 0 and _OWN_WORKDIR is not None:  # (make test-api prints it itself)
        terminalreporter.write_line("")
        terminalreporter.write_line(f"---- last lines of the server log {_SERVER.log}")
        terminalreporter.write_line(_SERVER.log_tail())
