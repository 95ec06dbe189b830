"""Crash safety (issue 12, part 5): `kill -9` in the middle of an enterprise import, an evaluation
run, a parcel import, a quota posting and a case step (the server killed while it takes a
2 MB attachment), at several points of each, on SQLite and on PostgreSQL. After every kill the
database passes `mujun verify` (integrity) and the operation is wholly there or wholly absent;
then the operation runs again to its end, as an operator would.

The points: fractions of the operation's own duration, measured by running it once whole first,
with a seeded jitter (the seed is printed).
"""
from __future__ import annotations

import csv
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import mujun_seed
from opsclient import Client

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("MUJUN_BIN", str(ROOT / ".build/debug/mujun"))
# the last ones land in the write and the commit, or just after it
FRACTIONS = (0.5, 0.9, 1.0)


def mujun(url: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], env=dict(os.environ, DATABASE_URL=url), capture_output=True, text=True, timeout=timeout)


def query(url: str, sql: str) -> list[tuple[str, ...]]:
    if url.startswith("sqlite:"):
        import sqlite3
        with sqlite3.connect(url[len("sqlite://"):]) as c:
            return [tuple("" if v is None else str(v) for v in row) for row in c.execute(sql)]
    out = subprocess.run(["psql", url, "-At", "-F", "\t", "-c", sql], capture_output=True, text=True, check=True).stdout
    return [tuple(l.split("\t")) for l in out.splitlines() if l]


def one(url: str, sql: str) -> str:
    rows = query(url, sql)
    return rows[0][0] if rows else ""


def integrity_ok(url: str) -> None:
    r = mujun(url, "verify", "--tables", "_fluent_migrations")
    assert r.returncode == 0 and r.stdout.startswith("integrity\tok"), f"integrity check failed:\n{r.stdout[:3000]}\n{r.stderr[:3000]}"


def killed_at(url: str, args: list[str], delay: float) -> bool:
    """Runs `mujun ARGS`, kill -9 after `delay` seconds; True when it was still running then."""
    p = subprocess.Popen([BIN, *args], env=dict(os.environ, DATABASE_URL=url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def timed(url: str, args: list[str]) -> float:
    t = time.perf_counter()
    r = mujun(url, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    return time.perf_counter() - t


def points(label: str, duration: float) -> list[float]:
    rng = mujun_seed.rng(label)
    return [duration * f * rng.uniform(0.9, 1.1) for f in FRACTIONS]


@pytest.fixture(params=["sqlite", "postgres"])
def city(request, tmp_path):
    """The demo city (120 enterprises) in a fresh database of the engine."""
    tmp_path.chmod(0o755)
    stop = None
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path}/city.sqlite"
    else:
        pg_dir = tempfile.mkdtemp(prefix="mujun-crash-pg-")
        os.chmod(pg_dir, 0o755)
        env = dict(os.environ, MUJUN_PG_DIR=pg_dir + "/pg", MUJUN_PG_PORT=str(random.Random().randint(55400, 55900)))
        started = subprocess.run(["bash", str(ROOT / "scripts/pg-test-cluster.sh"), "start"], env=env, capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()

        def stop():
            subprocess.run(["bash", str(ROOT / "scripts/pg-test-cluster.sh"), "stop"], env=env, capture_output=True)
    r = mujun(url, "demo", "--enterprises", "120", "--seed", "5", "--years", "2025")
    assert r.returncode == 0, r.stderr[-2000:]
    try:
        yield request.param, url, tmp_path
    finally:
        if stop:
            stop()


def enterprise_file(tmp: Path, year: int, n: int) -> Path:
    base = tmp / f"base-{n}.csv"
    if not base.exists():
        r = subprocess.run([BIN, "demo", "--out", str(base), "--year", "2025", "--enterprises", str(n), "--seed", "9"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    rows = list(csv.reader(base.open(encoding="utf-8-sig", newline="")))
    f = tmp / f"enterprises-{year}.csv"
    with f.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(rows[0])
        for row in rows[1:]:
            w.writerow([str(year), *row[1:]])
    return f


def batch_whole_or_absent(url: str, kind: str, table: str, before: int, n: int, where: str) -> bool:
    """After a killed import: True when it is wholly there (one new batch, all n rows carry it),
    False when wholly absent (no new batch, the rows as before); fails on anything between."""
    new = query(url, f"SELECT id, rows FROM import_batches WHERE kind = '{kind}' AND id > {before}")
    carried = int(one(url, f"SELECT COUNT(*) FROM {table} WHERE {where} AND import_id > {before}"))
    if new:
        assert len(new) == 1 and int(new[0][1]) == n, new
        assert int(one(url, f"SELECT COUNT(*) FROM {table} WHERE import_id = {new[0][0]}")) == n
        return True
    assert carried == 0, f"{carried} rows of {table} name an import that is not there"
    return False


def test_kill_9_during_imports_and_an_evaluation(city):
    engine, url, tmp = city
    outcomes = []
    # --- an enterprise import of a new year (2,500 rows), then the same file again over it
    year = 2001
    f = enterprise_file(tmp, year, 2500)
    where = f"year = {year}"
    last = lambda: int(one(url, "SELECT COALESCE(MAX(id), 0) FROM import_batches WHERE kind = 'enterprises'"))
    before = last()
    duration = timed(url, ["import", "enterprises", str(f)])
    assert batch_whole_or_absent(url, "enterprises", "enterprise_years", before, 2500, where)
    for delay in points("crash enterprises", duration):
        before = last()
        killed = killed_at(url, ["import", "enterprises", str(f)], delay)
        integrity_ok(url)
        there = batch_whole_or_absent(url, "enterprises", "enterprise_years", before, 2500, where)
        assert int(one(url, f"SELECT COUNT(*) FROM enterprise_years WHERE {where}")) == 2500
        if not there:  # the earlier import's rows, every one still carrying it
            assert int(one(url, f"SELECT COUNT(*) FROM enterprise_years WHERE import_id = {before}")) == 2500
        outcomes.append(("enterprises", round(delay, 2), killed, there))

    # --- an evaluation run of that year: a run with all its results and the only current one, or none
    runs = lambda: int(one(url, f"SELECT COUNT(*) FROM evaluation_runs WHERE year = {year}"))
    duration = timed(url, ["evaluate", "--year", str(year)])
    for delay in points("crash evaluation", duration):
        before = runs()
        killed = killed_at(url, ["evaluate", "--year", str(year)], delay)
        integrity_ok(url)
        after = runs()
        assert after in (before, before + 1)
        assert int(one(url, f"SELECT COUNT(*) FROM evaluation_runs WHERE year = {year} AND is_current = {'true' if engine == 'postgres' else 1}")) == 1
        current, evaluated = query(url, f"SELECT id, enterprises FROM evaluation_runs WHERE year = {year} AND is_current = {'true' if engine == 'postgres' else 1}")[0]
        assert int(one(url, f"SELECT COUNT(*) FROM evaluation_results WHERE run_id = {current}")) == int(evaluated) == 2500
        orphans = int(one(url, "SELECT COUNT(*) FROM evaluation_results r WHERE NOT EXISTS (SELECT 1 FROM evaluation_runs u WHERE u.id = r.run_id)"))
        assert orphans == 0
        outcomes.append(("evaluation", round(delay, 2), killed, after == before + 1))

    # --- a parcel import (3,000 parcels, upserted by parcel id)
    geo = tmp / "parcels.geojson"
    r = subprocess.run([BIN, "land", "demo-geojson", "--out", str(geo), "--enterprises", "1000", "--seed", "11"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    before = int(one(url, "SELECT COALESCE(MAX(id), 0) FROM import_batches WHERE kind = 'parcels'"))
    duration = timed(url, ["import", "parcels", str(geo)])
    n = int(one(url, f"SELECT rows FROM import_batches WHERE kind = 'parcels' AND id > {before}"))
    assert n > 500
    for delay in points("crash parcels", duration):
        before = int(one(url, "SELECT COALESCE(MAX(id), 0) FROM import_batches WHERE kind = 'parcels'"))
        killed = killed_at(url, ["import", "parcels", str(geo)], delay)
        integrity_ok(url)
        there = batch_whole_or_absent(url, "parcels", "parcels", before, n, "1 = 1")
        if not there:  # the earlier import's parcels, every one still carrying it
            assert int(one(url, f"SELECT COUNT(*) FROM parcels WHERE import_id = {before}")) == n
        outcomes.append(("parcels", round(delay, 2), killed, there))

    killed_any = [o for o in outcomes if o[2]]
    print(f"{engine}: kill -9 outcomes (operation, delay s, killed, wholly there): {outcomes}")
    assert len(killed_any) >= 4, f"too few kills landed inside an operation: {outcomes}"
    assert any(not o[3] for o in killed_any), "no kill left an operation absent: the points are all after the commit"


def test_kill_9_during_a_quota_posting(city):
    engine, url, tmp = city
    seed = mujun_seed.rng("crash quota").randrange(1, 2**31)
    print(f"crash quota: journal seed {seed}")
    sys.path.insert(0, str(ROOT / "bench/quota"))
    journal, project = tmp / "journal.csv", tmp / "project.yaml"
    r = subprocess.run([sys.executable, str(ROOT / "bench/quota/gen_journal.py"), "6000", str(seed), str(journal), "--project-out", str(project)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ref = tmp / "ref"
    ref.mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "bench/quota/replay_reference.py"), str(journal), "--project", str(project),
                        "--out", str(ref / "balances.csv"), "--refused", str(ref / "refused.csv")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    refused = {int(row[0]) for row in list(csv.reader((ref / "refused.csv").open(encoding="utf-8")))[1:]}
    table = list(csv.reader(journal.open(encoding="utf-8-sig", newline="")))
    clean = tmp / "clean.csv"
    with clean.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([table[0]] + [row for i, row in enumerate(table[1:], start=2) if i not in refused])
    start = [l.split(":", 1)[1].strip() for l in project.read_text(encoding="utf-8").splitlines() if l.startswith("start:")][0]
    text = project.read_text(encoding="utf-8")
    flow = [l for l in text.splitlines() if l.startswith("towns: [")]
    towns = flow[0].split("[", 1)[1].rstrip("]").replace(" ", "") if flow else \
        ",".join(l.strip()[2:].strip() for l in text.split("towns:", 1)[1].splitlines()[1:] if l.strip().startswith("- "))

    def new_project(name: str) -> str:
        r = mujun(url, "quota", "project", "--name", name, "--start", start, "--margin", "0.05", "--towns", towns)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    # the whole posting once, to time it and to know the balances it leaves
    pid = new_project("整治试点 0")
    duration = timed(url, ["quota", "post", str(clean), "--project-id", pid])
    whole = mujun(url, "quota", "balances", "--project-id", pid).stdout
    assert whole == (ref / "balances.csv").read_text(encoding="utf-8")
    entries = int(one(url, f"SELECT COUNT(*) FROM quota_entries WHERE project_id = {pid}"))
    outcomes = []
    for k, delay in enumerate(points("crash quota points", duration)):
        pid = new_project(f"整治试点 {k + 1}")
        fresh = query(url, f"SELECT next_seq, version FROM quota_projects WHERE id = {pid}")[0]
        killed = killed_at(url, ["quota", "post", str(clean), "--project-id", pid], delay)
        integrity_ok(url)
        got = int(one(url, f"SELECT COUNT(*) FROM quota_entries WHERE project_id = {pid}"))
        assert got in (0, entries), f"{got} of {entries} entries"
        balances = mujun(url, "quota", "balances", "--project-id", pid).stdout
        state = query(url, f"SELECT next_seq, version FROM quota_projects WHERE id = {pid}")[0]
        if got == 0:
            assert all(c == "0.0000" for line in balances.splitlines()[1:] for c in line.split(",")[2:])
            assert state == fresh, (state, fresh)
        else:
            assert balances == whole
            assert int(state[0]) == int(one(url, f"SELECT MAX(seq) FROM quota_entries WHERE project_id = {pid}")) + 1
        # running it again completes it (or finds it already there)
        again = mujun(url, "quota", "post", str(clean), "--project-id", pid)
        assert (again.returncode == 0) == (got == 0), again.stderr[-500:]
        assert mujun(url, "quota", "balances", "--project-id", pid).stdout == whole
        outcomes.append((round(delay, 2), killed, got == entries))
    print(f"{engine}: quota posting kill -9 outcomes (delay s, killed, wholly there): {outcomes}")
    assert sum(1 for o in outcomes if o[1]) >= 1, outcomes


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve(url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    p = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(port)], env=dict(os.environ, DATABASE_URL=url),
                         stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        assert p.poll() is None, log.read_text()[-2000:]
        try:
            if Client(base).get("/healthz", timeout=2).status == 200:
                return p, base
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError("mujun serve did not start")


def test_kill_9_of_the_server_during_a_case_step_with_an_attachment(city):
    engine, url, tmp = city
    log = tmp / "serve.log"
    server, base = serve(url, log)
    try:
        c = Client(base)
        assert c.sign_in("tax", "Tax#2025demo").status == 303
        inbox = c.get("/api/v1/cases/inbox").json()
        case = next(x for g in ("in_progress", "overdue") for x in inbox.get(g, []) if x["state"] in ("accepted", "handling"))
        cid = case["id"]
        data = b"%PDF-1.4\n" + mujun_seed.rng("crash case attachment").randbytes(2 * 1024 * 1024)

        def state():
            events = int(one(url, f"SELECT COUNT(*) FROM loop_events WHERE case_id = {cid}"))
            version = int(one(url, f"SELECT version FROM cases WHERE id = {cid}"))
            files = int(one(url, f"SELECT COUNT(*) FROM case_attachments WHERE case_id = {cid}"))
            return events, version, files

        def step(client: Client):
            token = client.csrf()
            return client.post(f"/api/v1/cases/{cid}/progress", form={"note": "现场推进，附照片"},
                               files={"attachment": ("进展.pdf", data)}, headers={"X-CSRF-Token": token}, timeout=120)

        t = time.perf_counter()
        r = step(c)
        duration = time.perf_counter() - t
        assert r.status == 200, r.text[:500]
        outcomes = []
        for delay in points("crash case step", duration):
            before = state()
            token = c.csrf()
            result = {}

            def send():
                try:
                    result["r"] = c.post(f"/api/v1/cases/{cid}/progress", form={"note": "现场推进，附照片"},
                                         files={"attachment": ("进展.pdf", data)}, headers={"X-CSRF-Token": token}, timeout=120)
                except OSError as e:
                    result["e"] = e
            th = threading.Thread(target=send)
            th.start()
            time.sleep(delay)
            killed = server.poll() is None
            server.send_signal(signal.SIGKILL)
            server.wait()
            th.join(timeout=60)
            integrity_ok(url)
            after = state()
            assert after in (before, (before[0] + 1, before[1] + 1, before[2] + 1)), (before, after)
            if "r" in result and result["r"].status == 200:
                assert after != before, "the server answered 200 but the step is not there"
            server, base = serve(url, log)
            c = Client(base)
            assert c.sign_in("tax", "Tax#2025demo").status == 303
            # the step goes through after the restart: the case was left in a state that allows it
            r = step(c)
            assert r.status == 200, r.text[:500]
            assert state() == (after[0] + 1, after[1] + 1, after[2] + 1)
            outcomes.append((round(delay, 3), killed, after != before))
        print(f"{engine}: case step kill -9 outcomes (delay s, killed, wholly there): {outcomes}")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGKILL)
            server.wait()
