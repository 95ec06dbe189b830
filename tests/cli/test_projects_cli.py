"""`mujun projects check`: the project and milestone templates (FORMATS.md) from files, without a
database: every project's progress and state (滞后) on a day, the roll-up by town, and a refusal
that names every bad row. The binary is `.build/debug/mujun`, or env MUJUN_BIN."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))

PROJECTS = """项目编号,项目名称,项目类型,整治方式,责任镇街,牵头部门,目标面积(亩),地块编号,户数,开始日期
ZZ-1,下谢山区块整治,整治项目,兼并重组,古山镇,自然资源和规划局,100,,,2025-01-10
ZZ-2,落英山区块整治,整治项目,腾退,古山镇,经信局,300,,,2025-01-10
"""
MILESTONES = """项目编号,节点名称,权重,计划完成日期,实际完成日期
ZZ-1,排查确认,10,2025-03-31,2025-03-20
ZZ-1,方案制定,15,2025-05-31,2025-05-30
ZZ-1,签约,20,2025-07-31,2025-07-15
ZZ-1,腾退/拆除,20,2025-12-31,
ZZ-1,供地/开工,15,2026-03-31,
ZZ-1,竣工投产,20,2026-06-30,
ZZ-2,排查确认,10,2025-03-31,2025-03-01
ZZ-2,方案制定,15,2025-05-31,
ZZ-2,签约,20,2025-07-31,
ZZ-2,腾退/拆除,20,2025-12-31,
ZZ-2,供地/开工,15,2026-03-31,
ZZ-2,竣工投产,20,2026-06-30,
"""


def check(tmp: Path, *extra: str, projects: str = PROJECTS, milestones: str = MILESTONES) -> subprocess.CompletedProcess:
    (tmp / "p.csv").write_text(projects, encoding="utf-8")
    (tmp / "m.csv").write_text(milestones, encoding="utf-8")
    env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/never-opened.sqlite")
    return subprocess.run([str(BIN), "projects", "check", "p.csv", "m.csv", *extra], cwd=tmp, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)


def lines(p: subprocess.CompletedProcess) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t") for line in p.stdout.splitlines() if "\t" in line}


def test_progress_state_and_roll_up_on_a_day(tmp_path: Path) -> None:
    p = check(tmp_path, "--as-of", "2025-10-15")
    assert p.returncode == 0, p.stderr
    rows = lines(p)
    # ZZ-1: 10 + 15 + 20 done = 45 %, nothing overdue; ZZ-2: 10 %, 方案制定 and 签约 overdue
    assert rows["ZZ-1"][2:4] == ["45.0%", "按期推进"], rows["ZZ-1"]
    assert rows["ZZ-2"][2:4] == ["10.0%", "滞后"], rows["ZZ-2"]
    assert "方案制定" in rows["ZZ-2"][4] and "签约" in rows["ZZ-2"][4]
    # by target area: (45 + 30) / 400 = 18.75 %
    assert rows["古山镇"][1:4] == ["2", "400", "18.8%"], rows["古山镇"]
    assert rows["全市"][5] == "1"
    assert "不判断月报滞后" in p.stdout
    assert not (tmp_path / "never-opened.sqlite").exists(), "no database is needed"


def test_a_missing_monthly_report_makes_a_project_late_after_its_due_day(tmp_path: Path) -> None:
    months = "\n".join(f"ZZ-1,2025-{m:02d}" for m in range(1, 9)) + "\n"
    (tmp_path / "r.csv").write_text("项目编号,月份\n" + months, encoding="utf-8")
    on_due_day = lines(check(tmp_path, "--as-of", "2025-10-14", "--reports", "r.csv"))
    assert on_due_day["ZZ-1"][3] == "按期推进", on_due_day["ZZ-1"]
    after = lines(check(tmp_path, "--as-of", "2025-10-15", "--reports", "r.csv"))
    assert after["ZZ-1"][3] == "滞后" and "2025年9月进展未在 2025-10-14 前报送" in after["ZZ-1"][4], after["ZZ-1"]


def test_bad_rows_are_named_and_nothing_is_printed(tmp_path: Path) -> None:
    bad = MILESTONES.replace("ZZ-2,竣工投产,20,", "ZZ-2,竣工投产,10,").replace("ZZ-1,签约,20,2025-07-31,2025-07-15",
                                                                            "ZZ-1,签约,20,2025-04-30,2025-07-15")
    p = check(tmp_path, "--as-of", "2025-10-15", milestones=bad)
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stdout == "", "nothing is printed for refused files"
    assert "第 3 行" in p.stderr and "节点权重合计 90，应为 100" in p.stderr, p.stderr
    assert "第 2 行" in p.stderr and "签约」计划完成日期 2025-04-30 早于前一节点「方案制定」" in p.stderr, p.stderr


# ---------------------------------------------------------------------------- into the database
def mujun_db(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/mujun.sqlite", MUJUN_SECRET="cli-test-secret")
    for k in ("MUJUN_RULES", "MUJUN_CASE_TYPES", "MUJUN_PROJECT_TYPES"):
        env.pop(k, None)
    return subprocess.run([str(BIN), *args], cwd=tmp, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, env=env)


def count(db: Path, sql: str) -> int:
    import sqlite3
    with sqlite3.connect(db) as c:
        return c.execute(sql).fetchone()[0]


def test_import_projects_names_every_bad_row_writes_nothing_then_opens_督办_for_the_late(tmp_path: Path) -> None:
    db = tmp_path / "mujun.sqlite"
    # ZZ-2's weights sum to 95, and ZZ-1's 签约 is planned before its 方案制定
    bad_m = (MILESTONES.replace("ZZ-2,方案制定,15,", "ZZ-2,方案制定,10,")
             .replace("ZZ-1,签约,20,2025-07-31", "ZZ-1,签约,20,2025-04-30"))
    (tmp_path / "p.csv").write_text(PROJECTS, encoding="utf-8")
    (tmp_path / "bad-m.csv").write_text(bad_m, encoding="utf-8")
    p = mujun_db(tmp_path, "import", "projects", "p.csv", "bad-m.csv")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "95" in p.stderr and "ZZ-2" in p.stderr, p.stderr
    assert "签约" in p.stderr and "ZZ-1" in p.stderr, p.stderr
    assert count(db, "SELECT COUNT(*) FROM projects") == 0
    assert count(db, "SELECT COUNT(*) FROM project_milestones") == 0

    (tmp_path / "m.csv").write_text(MILESTONES, encoding="utf-8")
    p = mujun_db(tmp_path, "import", "projects", "p.csv", "m.csv")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "已导入 2 个项目、12 个节点" in p.stdout, p.stdout
    # both have milestones long past their planned dates (2025) and no reports: both late, each with one 督办 case for 古山镇
    assert count(db, "SELECT COUNT(*) FROM projects WHERE state = 'late'") == 2
    assert count(db, "SELECT COUNT(*) FROM cases WHERE type = 'project' AND lead_unit = '古山镇' AND state = 'assigned'") == 2
    # the same files again: refused by row, nothing added
    p = mujun_db(tmp_path, "import", "projects", "p.csv", "m.csv")
    assert p.returncode == 1 and "已存在" in p.stderr, p.stderr
    assert count(db, "SELECT COUNT(*) FROM projects") == 2
    # the check run again opens nothing twice
    p = mujun_db(tmp_path, "projects", "supervise")
    assert p.returncode == 0 and "新交办督办 0 件" in p.stdout, p.stdout + p.stderr
    assert count(db, "SELECT COUNT(*) FROM cases WHERE type = 'project'") == 2
    p = mujun_db(tmp_path, "projects", "supervise", "--town", "火星镇")
    assert p.returncode != 0 and "火星镇" in p.stderr, p.stdout + p.stderr
