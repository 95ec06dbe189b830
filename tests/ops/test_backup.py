"""Backups you can restore (issue 12, part 4): `mujun backup` of the demo city while `mujun
import enterprises` keeps writing to it, each backup restored into a fresh database and
compared with the source — on SQLite and on PostgreSQL.

What a restored backup must show:
- the integrity check passes (`mujun verify`: SQLite's integrity and foreign-key checks;
  PostgreSQL's amcheck on every index and every constraint validated);
- every table the writer does not touch has the source's rows and checksum, the results
  (`evaluation_results`) and the journals (`loop_events`, `quota_entries`) among them;
- the tables it writes hold whole imports only (every batch with all its rows), and the audit
  log is exactly the source's up to its last entry: one moment of the source, not a mix.
"""
from __future__ import annotations

import csv
import os
import random
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("MUJUN_BIN", str(ROOT / ".build/debug/mujun"))
WRITTEN = {"import_batches", "enterprise_years", "audit_log", "sign_in_failures"}
WRITER_YEARS = range(2001, 2100)


def mujun(url: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], env=dict(os.environ, DATABASE_URL=url), capture_output=True, text=True, timeout=timeout)


def verify(url: str) -> dict[str, tuple[int, str]]:
    r = mujun(url, "verify")
    assert r.returncode == 0, f"mujun verify failed on {url}:\n{r.stdout[:2000]}\n{r.stderr[:2000]}"
    lines = [l.split("\t") for l in r.stdout.splitlines()]
    assert lines[0] == ["integrity", "ok"], lines[0]
    return {t: (int(n), s) for t, n, s in lines[1:]}


def query(url: str, sql: str) -> list[tuple[str, ...]]:
    """Rows as text, from either engine."""
    if url.startswith("sqlite:"):
        path = url[len("sqlite://"):]
        with sqlite3.connect(path) as c:
            return [tuple("" if v is None else str(v) for v in row) for row in c.execute(sql)]
    out = subprocess.run(["psql", url, "-At", "-F", "\t", "-c", sql], capture_output=True, text=True, check=True).stdout
    return [tuple(l.split("\t")) for l in out.splitlines() if l]


@pytest.fixture(params=["sqlite", "postgres"])
def source(request, tmp_path):
    """The demo city (120 enterprises) in a fresh database, and a maker of empty databases to restore into."""
    tmp_path.chmod(0o755)
    made = []
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path}/source.sqlite"

        def fresh(name: str) -> str:
            return f"sqlite://{tmp_path}/{name}.sqlite"
        stop = None
    else:
        pg_dir = tempfile.mkdtemp(prefix="mujun-backup-pg-")
        os.chmod(pg_dir, 0o755)
        env = dict(os.environ, MUJUN_PG_DIR=pg_dir + "/pg", MUJUN_PG_PORT=str(random.Random().randint(54900, 55400)))
        started = subprocess.run(["bash", str(ROOT / "scripts/pg-test-cluster.sh"), "start"], env=env, capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()

        def fresh(name: str) -> str:
            subprocess.run(["psql", url, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
            return url.rsplit("/", 1)[0] + "/" + name

        def stop():
            subprocess.run(["bash", str(ROOT / "scripts/pg-test-cluster.sh"), "stop"], env=env, capture_output=True)
    demo = mujun(url, "demo", "--enterprises", "120", "--seed", "5", "--years", "2024,2025")
    assert demo.returncode == 0, demo.stderr[-2000:]
    try:
        yield request.param, url, fresh, tmp_path
    finally:
        if stop:
            stop()


class Writer(threading.Thread):
    """`mujun import enterprises` of a new year, one after another, until stopped."""

    def __init__(self, url: str, files: list[Path]) -> None:
        super().__init__(daemon=True)
        self.url, self.files = url, files
        self.done = 0
        self.halt = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        for f in self.files:
            if self.halt.is_set():
                return
            r = mujun(self.url, "import", "enterprises", str(f))
            if r.returncode != 0:
                self.error = r.stderr[-2000:]
                return
            self.done += 1


def year_files(tmp: Path, count: int) -> list[Path]:
    """The demo's 2025 table, once per writer year (年度 rewritten): each import adds fresh rows."""
    base = tmp / "base.csv"
    r = subprocess.run([BIN, "demo", "--out", str(base), "--year", "2025", "--enterprises", "1500", "--seed", "9"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(base.open(encoding="utf-8-sig", newline="")))
    assert rows[0][0] == "年度"
    files = []
    for year in list(WRITER_YEARS)[:count]:
        f = tmp / f"year-{year}.csv"
        with f.open("w", encoding="utf-8", newline="") as out:
            w = csv.writer(out)
            w.writerow(rows[0])
            for row in rows[1:]:
                w.writerow([str(year), *row[1:]])
        files.append(f)
    return files


def test_backups_taken_while_imports_write_restore_to_one_whole_moment(source):
    engine, url, fresh, tmp = source
    files = year_files(tmp, 20)
    writer = Writer(url, files)
    writer.start()
    backups = []
    try:
        # a backup whenever another import has landed, while the writer goes on
        deadline = time.time() + 240
        while len(backups) < 4 and time.time() < deadline and writer.is_alive():
            if writer.done >= 1 + 2 * len(backups):
                path = tmp / f"backup-{len(backups)}.{'sqlite' if engine == 'sqlite' else 'dump'}"
                r = mujun(url, "backup", "--out", str(path))
                assert r.returncode == 0, r.stderr
                assert "已备份" in r.stdout
                backups.append((path, writer.done))
            time.sleep(0.05)
    finally:
        writer.halt.set()
        writer.join(timeout=300)
    assert writer.error is None, writer.error
    assert len(backups) >= 3, f"only {len(backups)} backups were taken while the writer ran ({writer.done} imports)"
    source_sums = verify(url)
    source_audit = query(url, "SELECT * FROM audit_log ORDER BY id")
    source_batches = query(url, "SELECT id, kind, year, rows FROM import_batches ORDER BY id")
    for table in ("evaluation_results", "loop_events", "quota_entries", "enterprise_years", "audit_log"):
        assert source_sums[table][0] > 0, f"the demo has no {table}: nothing to compare"

    counts = []
    for k, (path, done_before) in enumerate(backups):
        target = fresh(f"restored_{k}")
        r = mujun(target, "restore", str(path))
        assert r.returncode == 0, r.stderr
        assert "完整性 / integrity ok" in r.stdout
        sums = verify(target)
        assert set(sums) == set(source_sums), "the restored database has other tables"
        for table, (rows, digest) in source_sums.items():
            if table not in WRITTEN:
                assert sums[table] == (rows, digest), f"backup {k}: {table} differs from the source"
        # whole imports only, each exactly as in the source
        batches = query(target, "SELECT id, kind, year, rows FROM import_batches ORDER BY id")
        assert batches == source_batches[:len(batches)], f"backup {k}: the import batches are not a prefix of the source's"
        writer_batches = [b for b in batches if int(b[2] or 0) in WRITER_YEARS]
        assert len(writer_batches) >= done_before, f"backup {k} misses imports that had finished before it began"
        per_batch = dict(query(target, "SELECT import_id, COUNT(*) FROM enterprise_years GROUP BY import_id"))
        for b in (b for b in batches if b[1] == "enterprises"):
            assert int(per_batch.get(b[0], "0")) == int(b[3]), f"backup {k}: import {b[0]} holds {per_batch.get(b[0])} of its {b[3]} rows"
        # the audit log: the source's, up to the restored one's last entry
        audit = query(target, "SELECT * FROM audit_log ORDER BY id")
        assert audit == source_audit[:len(audit)], f"backup {k}: the audit log is not the source's up to its end"
        counts.append(len(writer_batches))
    # the backups saw the database at different moments of the writing
    assert len(set(counts)) >= 2, counts
    print(f"{engine}: {len(backups)} backups during {writer.done} imports restored whole; writer imports seen: {counts}")


def test_restore_refuses_a_target_that_holds_data_and_another_engine(source):
    engine, url, fresh, tmp = source
    path = tmp / f"b.{'sqlite' if engine == 'sqlite' else 'dump'}"
    assert mujun(url, "backup", "--out", str(path)).returncode == 0
    # a second backup to the same file is refused, the first left whole
    again = mujun(url, "backup", "--out", str(path))
    assert again.returncode == 1 and "已存在" in again.stderr
    # restoring over the source itself, which holds data: refused without --replace, nothing changed
    before = verify(url)
    r = mujun(url, "restore", str(path))
    assert r.returncode == 1 and "不是空的" in r.stderr
    assert verify(url) == before
    # a file that is no backup, and a backup of the other engine
    junk = tmp / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    r = mujun(fresh("junk_target"), "restore", str(junk))
    assert r.returncode == 1 and "不是亩均的备份文件" in r.stderr
    other = f"sqlite://{tmp}/other.sqlite" if engine == "postgres" else None
    if other:
        r = mujun(other, "restore", str(path))
        assert r.returncode == 1 and "cannot be restored into sqlite" in r.stderr
    # --replace puts the backup's moment back
    r = mujun(url, "import", "enterprises", str(year_files(tmp, 1)[0]))
    assert r.returncode == 0, r.stderr
    assert verify(url)["enterprise_years"] != before["enterprise_years"]
    r = mujun(url, "restore", str(path), "--replace")
    assert r.returncode == 0, r.stderr
    after = verify(url)
    assert after == before


def test_backup_dir_keeps_the_newest(tmp_path):
    url = f"sqlite://{tmp_path}/db.sqlite"
    assert mujun(url, "migrate").returncode == 0
    backups = tmp_path / "backups"
    for _ in range(4):
        r = mujun(url, "backup", "--dir", str(backups), "--keep", "2")
        assert r.returncode == 0, r.stderr
        time.sleep(1.1)  # the names carry the second
    names = sorted(p.name for p in backups.iterdir())
    assert len(names) == 2 and all(n.startswith("mujun-") and n.endswith(".sqlite") for n in names), names
