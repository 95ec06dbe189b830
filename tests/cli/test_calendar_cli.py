"""`mujun calendar`: the work calendar of deadlines (CASES.md §3) from the command line, without a
database. The binary is `.build/debug/mujun` (build it with `swift build`), or env MUJUN_BIN."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))


def cal(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=f"sqlite://{cwd}/never-opened.sqlite")
    return subprocess.run([str(BIN), "calendar", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, env=env)


def test_add_workdays_skips_the_october_holidays(tmp_path: Path) -> None:
    p = cal("add-workdays", "2025-09-30", "1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "2025-10-09"
    assert p.stderr == ""
    assert not (tmp_path / "never-opened.sqlite").exists(), "the calendar needs no database"


def test_is_workday_knows_make_up_days_and_holidays(tmp_path: Path) -> None:
    for date, answer in [("2025-09-28", "yes"), ("2025-10-01", "no"), ("2026-02-14", "yes"),
                         ("2026-02-23", "no"), ("2025-11-06", "yes"), ("2025-11-08", "no")]:
        p = cal("is-workday", date, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == answer, f"{date}: {p.stdout!r}"


def test_a_year_without_an_arrangement_warns_and_counts_weekends(tmp_path: Path) -> None:
    p = cal("is-workday", "2027-01-01", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == "yes"
    assert "2027" in p.stderr and "weekends only" in p.stderr


def test_more_years_from_a_file_and_bad_files_named(tmp_path: Path) -> None:
    good = tmp_path / "cal.yaml"
    good.write_text("years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: [2027-01-02]\n", encoding="utf-8")
    p = cal("is-workday", "2027-01-01", "--calendar", str(good), cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == "no" and p.stderr == "", p.stderr
    shown = cal("show", "2027", "--calendar", str(good), cwd=tmp_path)
    assert "holidays: [2027-01-01]" in shown.stdout and "workdays: [2027-01-02]" in shown.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("years:\n  2027:\n    workdays: [2027-01-04]\n", encoding="utf-8")
    p = cal("is-workday", "2027-01-04", "--calendar", str(bad), cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert "2027-01-04" in p.stderr and "not a Saturday or Sunday" in p.stderr


def test_bad_dates_are_refused(tmp_path: Path) -> None:
    for args in [("is-workday", "2025-02-29"), ("add-workdays", "2025/09/30", "1"), ("add-workdays", "2025-09-30", "100000")]:
        p = cal(*args, cwd=tmp_path)
        assert p.returncode != 0 and p.stdout == "", args
        assert "YYYY-MM-DD" in p.stderr or "0…10000" in p.stderr, p.stderr
