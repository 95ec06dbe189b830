"""`mujun cases types`, `mujun cases bulletin` (outputs, XLSX, bad arguments) and the imports of the
case engine into a database (`mujun import case-history`, `mujun import cases`): all or nothing,
every bad row named, nothing written. The binary is `.build/debug/mujun` or env MUJUN_BIN."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
from pathlib import Path

import openpyxl  # scripts/install-deps.sh installs it

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))
SMALL = REPO / "bench" / "cases" / "testdata" / "small-history.csv"
BAD = REPO / "bench" / "cases" / "testdata" / "bad-history.csv"


def mujun(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, DATABASE_URL=f"sqlite://{cwd}/mujun.sqlite", MUJUN_SECRET="cli-test-secret")
    e.pop("MUJUN_RULES", None)
    e.pop("MUJUN_CASE_TYPES", None)
    e.update(env or {})
    return subprocess.run([str(BIN), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, env=e)


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_types_lists_the_defaults_and_a_city_file_changes_them(tmp_path: Path) -> None:
    p = mujun("cases", "types", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(l.startswith("suggestion 人大建议 | 5个工作日 | 3个月（自交办） | 6个月（自交办）") for l in lines), p.stdout
    assert any(l.startswith("petition 信访 | 15日 | 60日（自签收） | 90日（自签收），限 1 次") for l in lines), p.stdout
    assert "red_after" not in p.stdout and "超期后 > 5 个工作日" in p.stdout
    # the default file, edited, beside the rules file
    y = mujun("cases", "types", "--yaml", cwd=tmp_path).stdout
    (tmp_path / "rules.yaml").write_text(mujun("rules", "show", cwd=tmp_path).stdout, encoding="utf-8")
    (tmp_path / "cases.yaml").write_text(y.replace("red_after: 5", "red_after: 3").replace("accept: 1 working day,  reply: given",
                                                                                        "accept: 2 working days, reply: given"), encoding="utf-8")
    p = mujun("cases", "types", cwd=tmp_path, env={"MUJUN_RULES": str(tmp_path / "rules.yaml")})
    assert p.returncode == 0, p.stderr
    assert "超期后 > 3 个工作日" in p.stdout
    assert any(l.startswith("hazard 安全隐患 | 2个工作日") for l in p.stdout.splitlines()), p.stdout
    # a bad file is refused naming the type
    (tmp_path / "bad.yaml").write_text(y.replace("accept: 15 days", "accept: 15 fortnights"), encoding="utf-8")
    p = mujun("cases", "types", "--types", str(tmp_path / "bad.yaml"), cwd=tmp_path)
    assert p.returncode == 2 and "petition" in p.stderr and "15 fortnights" in p.stderr, p.stderr


def test_bulletin_as_xlsx_prints_on_a4_with_the_case_list(tmp_path: Path) -> None:
    p = mujun("cases", "bulletin", str(SMALL), "--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2026-03-16",
              "--out", "b.xlsx", "--cases-out", "c.csv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    assert wb.sheetnames == ["督导通报", "案件清单"]
    ws = wb["督导通报"]
    assert [c.value for c in ws[1]][:3] == ["单位", "交办", "按时签收"]
    assert ws.page_setup.paperSize in (9, "9")
    cases_csv = (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()
    assert wb["案件清单"].max_row == len(cases_csv)  # the same cases, with a header each
    # the unit rows of the sheet are those of the CSV, in the same order
    csv_units = [l.split(",")[0] for l in mujun_csv(tmp_path)]
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == csv_units


def mujun_csv(tmp_path: Path) -> list[str]:
    p = mujun("cases", "bulletin", str(SMALL), "--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2026-03-16",
              "--out", "b.csv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return (tmp_path / "b.csv").read_text(encoding="utf-8").splitlines()[1:]


def test_bulletin_refuses_bad_arguments(tmp_path: Path) -> None:
    base = ["cases", "bulletin", str(SMALL), "--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2026-03-16"]
    p = mujun(*base, "--out", "b.txt", cwd=tmp_path)
    assert p.returncode != 0 and ".csv" in p.stderr
    p = mujun(*base, "--type", "letters", "--out", "b.csv", cwd=tmp_path)
    assert p.returncode == 2 and "letters" in p.stderr
    p = mujun("cases", "bulletin", str(SMALL), "--from", "2025-13-01", "--to", "2026-12-31", "--as-of", "2026-03-16",
              "--out", "b.csv", cwd=tmp_path)
    assert p.returncode != 0 and "YYYY-MM-DD" in p.stderr
    p = mujun("cases", "bulletin", str(tmp_path / "missing.csv"), "--from", "2025-01-01", "--to", "2026-12-31",
              "--as-of", "2026-03-16", "--out", "b.csv", cwd=tmp_path)
    assert p.returncode == 1 and "missing.csv" in p.stderr
    assert not (tmp_path / "b.csv").exists()


def test_import_case_history_is_all_or_nothing_and_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "mujun.sqlite"
    p = mujun("import", "case-history", str(BAD), cwd=tmp_path)
    assert p.returncode == 1
    expected = [int(x) for x in (BAD.parent / "bad-expected.txt").read_text(encoding="utf-8").split()]
    assert all(f"row {r} [" in p.stderr or f"第 {r} 行" in p.stderr for r in expected), p.stderr
    if db.exists():
        assert count(db, "cases") == 0 and count(db, "loop_events") == 0
    p = mujun("import", "case-history", str(SMALL), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    n_cases, n_events = count(db, "cases"), count(db, "loop_events")
    rows = sum(1 for r in csv.reader(SMALL.open(encoding="utf-8", newline="")) if any(c.strip() for c in r)) - 1
    assert n_events == rows and n_cases > 10
    p = mujun("import", "case-history", str(SMALL), cwd=tmp_path)
    assert p.returncode == 0 and f"{n_cases} 件已存在且未变" in p.stdout, p.stdout
    assert (count(db, "cases"), count(db, "loop_events")) == (n_cases, n_events)


def test_import_cases_names_every_bad_row_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "mujun.sqlite"
    (tmp_path / "cases.csv").write_text(
        "类型,标题,提出人,主办单位,交办日期,办理期限\n"
        "人大建议,道路,王代表,古山镇,2026-03-02,\n"
        "信件,x,y,古山镇,2026-03-02,\n"
        "安全隐患,隐患,安委办,古山镇,2026-03-02,\n"
        "安全隐患,隐患,安委办,火星镇,2026-03-02,2026-04-01\n", encoding="utf-8")
    p = mujun("import", "cases", "cases.csv", cwd=tmp_path)
    assert p.returncode == 1
    for row in (3, 4, 5):
        assert f"row {row} [" in p.stderr or f"第 {row} 行" in p.stderr, p.stderr
    assert "row 2 [" not in p.stderr and "第 2 行" not in p.stderr
    assert count(db, "cases") == 0
    (tmp_path / "good.csv").write_text("类型,标题,提出人,主办单位,交办日期,办理期限\n人大建议,道路,王代表,古山镇,2026-03-02,\n"
                                       "安全隐患,隐患,安委办,古山镇,2026-03-02,2026-03-20\n", encoding="utf-8")
    p = mujun("import", "cases", "good.csv", cwd=tmp_path)
    assert p.returncode == 0 and "已登记 2 件" in p.stdout, p.stdout + p.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT type, lead_unit, reply_due FROM cases ORDER BY id").fetchall() == [
            ("suggestion", "古山镇", "2026-06-02"), ("hazard", "古山镇", "2026-03-20")]
