"""`mujun quota project | post | balances` on a database (issue 11): a journal file is loaded all or
nothing — every row the ledger would refuse is named and nothing is written — and once loaded,
the stored balances (at the end and at a date) equal the standalone Python reference's for the same
rows; a second load of the same file is refused (its seqs do not continue the journal)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mujun_seed

REPO = Path(__file__).resolve().parents[2]
QUOTA = REPO / "bench" / "quota"
DATA = QUOTA / "testdata"
MUJUN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))
TOWNS = "古山镇,方岩镇,舟山镇"

sys.path.insert(0, str(QUOTA))
import gen_journal  # noqa: E402,F401  (the generator of the benchmark)


def mujun(db: Path, *args: str) -> subprocess.CompletedProcess:
    assert MUJUN.exists(), f"mujun binary not found at {MUJUN}: run `swift build` first (or set MUJUN_BIN)"
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}")
    return subprocess.run([str(MUJUN), *args], capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL)


def reference(journal: Path, out: Path, project: Path, *extra: str) -> None:
    r = subprocess.run([sys.executable, str(QUOTA / "replay_reference.py"), str(journal), "--project", str(project),
                        "--out", str(out / "balances.csv"), "--refused", str(out / "refused.csv"), *extra],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def new_project(db: Path, start: str = "2025-01-01") -> str:
    r = mujun(db, "quota", "project", "--name", "全域整治试点", "--towns", TOWNS, "--start", start, "--margin", "0.05")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def accepted_only(journal: Path, refused_csv: Path, out: Path) -> Path:
    refused = {int(r[0]) for r in rows(refused_csv)[1:]}
    table = rows(journal)
    keep = [table[0]] + [r for i, r in enumerate(table[1:], start=2) if i not in refused]
    with open(out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(keep)
    return out


@pytest.mark.parametrize("source", ["small", "generated"])
def test_a_journal_loads_all_or_nothing_and_then_balances_as_the_reference(tmp_path: Path, source: str) -> None:
    db = tmp_path / "db.sqlite"
    if source == "small":
        journal, project = DATA / "small-journal.csv", DATA / "small-project.yaml"
    else:
        seed = mujun_seed.rng("quota-db-cli").randrange(1, 2**31)
        print(f"quota db cli: generated journal seed {seed}")
        journal, project = tmp_path / "gen.csv", tmp_path / "gen.yaml"
        r = subprocess.run([sys.executable, str(QUOTA / "gen_journal.py"), "3000", str(seed), str(journal), "--project-out", str(project)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    ref = tmp_path / "ref"
    ref.mkdir()
    reference(journal, ref, project)
    refused = [int(r[0]) for r in rows(ref / "refused.csv")[1:]]
    assert refused, "the journal has refused rows"
    pid = new_project(db, start=[l.split(":", 1)[1].strip() for l in project.read_text(encoding="utf-8").splitlines() if l.startswith("start:")][0])
    # all or nothing: every refused row named, nothing written
    r = mujun(db, "quota", "post", str(journal), "--project-id", pid)
    assert r.returncode == 2, r.stdout + r.stderr
    named = [int(line.split("行")[0].split("第")[1]) for line in r.stderr.splitlines() if line.strip().startswith("第 ")]
    assert named[:len(refused)] == refused[:len(named)] and len(named) == min(len(refused), 1000), (named[:10], refused[:10])
    b = mujun(db, "quota", "balances", "--project-id", pid)
    assert b.returncode == 0, b.stderr
    assert all(cell == "0.0000" for line in b.stdout.splitlines()[1:] for cell in line.split(",")[2:]), b.stdout
    # the accepted rows alone load, and the stored balances are the reference's, at the end and at a date
    clean = accepted_only(journal, ref / "refused.csv", tmp_path / "clean.csv")
    r = mujun(db, "quota", "post", str(clean), "--project-id", pid)
    assert r.returncode == 0, r.stderr
    b = mujun(db, "quota", "balances", "--project-id", pid)
    assert b.stdout == (ref / "balances.csv").read_text(encoding="utf-8")
    dates = sorted({row[1] for row in rows(clean)[1:]})
    as_of = dates[len(dates) // 2]
    ref2 = tmp_path / "ref2"
    ref2.mkdir()
    reference(clean, ref2, project, "--as-of", as_of)
    b = mujun(db, "quota", "balances", "--project-id", pid, "--as-of", as_of)
    assert b.stdout == (ref2 / "balances.csv").read_text(encoding="utf-8"), as_of
    # the same file again: its seqs do not continue the journal
    r = mujun(db, "quota", "post", str(clean), "--project-id", pid)
    assert r.returncode == 2 and "接续" in r.stderr, r.stderr
