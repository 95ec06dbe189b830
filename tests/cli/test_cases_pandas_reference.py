"""The pandas reference of the case engine (bench/cases/pandas_bulletin.py) against a small history
worked out by hand (bench/cases/testdata/small-worked.md), the bad rows of bench/cases/testdata/
bad-history.csv, and the history generator of the benchmark (bench/cases/gen_history.py), so that
the reference can be trusted to cross-check `mujun cases bulletin`; and the binary
(`.build/debug/mujun` or MUJUN_BIN) against both."""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import mujun_seed

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "bench" / "cases"
DATA = CASES / "testdata"
SMALL = DATA / "small-history.csv"
BAD = DATA / "bad-history.csv"
# the command of bench/cases/testdata/README.md
WINDOW = ["--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2026-03-16"]

sys.path.insert(0, str(CASES))
import pandas  # noqa: E402,F401  (scripts/install-deps.sh installs it: the reference needs it)
import pandas_bulletin  # noqa: E402


def run_bulletin(src: Path, out_dir: Path, *extra: str, window: list[str] = WINDOW) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CASES / "pandas_bulletin.py"), str(src), *window,
                           "--out", str(out_dir / "bulletin.csv"), "--cases-out", str(out_dir / "cases.csv"), *extra],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def check_small(out_dir: Path) -> None:
    """Byte for byte: header, row order, rate format, `\\n` line ends, no BOM."""
    for name, expected in (("bulletin.csv", "small-expected-bulletin.csv"), ("cases.csv", "small-expected-cases.csv")):
        got = (out_dir / name).read_bytes()
        want = (DATA / expected).read_bytes()
        if got != want:
            g, w = got.decode("utf-8").splitlines(), want.decode("utf-8").splitlines()
            diff = [f"line {i + 1}: got {a!r}\n        expected {b!r}" for i, (a, b) in enumerate(zip(g, w)) if a != b]
            if len(g) != len(w):
                diff.append(f"{len(g)} lines, expected {len(w)}")
            pytest.fail(f"{name} differs from {expected}:\n" + "\n".join(diff))


def test_small_history_matches_hand_computation(tmp_path: Path) -> None:
    proc = run_bulletin(SMALL, tmp_path)
    assert proc.returncode == 0, proc.stderr
    check_small(tmp_path)


def small_rows() -> list[list[str]]:
    with open(SMALL, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8", newline: str = "\n") -> None:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator=newline).writerows(rows)


@pytest.mark.parametrize("encoding,newline", [("gb18030", "\r\n"), ("utf-8-sig", "\r\n")], ids=["gb18030-crlf", "utf8-bom-crlf"])
def test_encodings_give_the_same_result(tmp_path: Path, encoding: str, newline: str) -> None:
    write_rows(tmp_path / "in.csv", small_rows(), encoding, newline)
    proc = run_bulletin(tmp_path / "in.csv", tmp_path)
    assert proc.returncode == 0, proc.stderr
    check_small(tmp_path)


def test_english_keys_and_extra_columns_give_the_same_result(tmp_path: Path) -> None:
    rows = small_rows()
    keys = [pandas_bulletin.HEADERS[h] for h in rows[0]]
    header = [k.upper() if i % 2 else f" {k} " for i, k in enumerate(keys)]
    rows = [[*r, "x"] for r in rows]                      # an unknown column is ignored
    rows[0] = [*header, "备注"]
    write_rows(tmp_path / "en.csv", rows)
    proc = run_bulletin(tmp_path / "en.csv", tmp_path)
    assert proc.returncode == 0, proc.stderr
    check_small(tmp_path)


def test_row_order_does_not_matter_within_a_date(tmp_path: Path) -> None:
    """Rows in any order give the same result as long as one case's rows on one date keep their order
    (the reader takes a case's rows by date, then row number)."""
    rng = mujun_seed.rng("cases-small-shuffle")
    rows = small_rows()
    body = rows[1:]
    rng.shuffle(body)
    # restore the written order of each (case, date) group inside the positions it now holds
    def case_key(r: list[str]) -> tuple:
        return (pandas_bulletin.type_key(r[2]), r[0], pandas_bulletin.parse_date(r[4]))
    written = {}
    for r in rows[1:]:
        written.setdefault(case_key(r), []).append(r)
    slots: dict[tuple, list[int]] = {}
    for i, r in enumerate(body):
        slots.setdefault(case_key(r), []).append(i)
    for k, pos in slots.items():
        for i, r in zip(pos, written[k]):
            body[i] = r
    write_rows(tmp_path / "shuffled.csv", [rows[0], *body])
    proc = run_bulletin(tmp_path / "shuffled.csv", tmp_path)
    assert proc.returncode == 0, f"{mujun_seed.summary_line()}\n{proc.stderr}"
    check_small(tmp_path)


def test_xlsx_gives_the_same_result(tmp_path: Path) -> None:
    import openpyxl  # scripts/install-deps.sh installs it
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, r in enumerate(small_rows()):
        # dates as real date cells (number format yyyy-mm-dd) where Excel would make them
        ws.append([date.fromisoformat(v) if i and j == 4 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) else v
                   for j, v in enumerate(r)])
    wb.save(tmp_path / "small.xlsx")
    proc = run_bulletin(tmp_path / "small.xlsx", tmp_path)
    assert proc.returncode == 0, proc.stderr
    check_small(tmp_path)


def test_type_filter_gives_the_cases_of_that_type(tmp_path: Path) -> None:
    full = tmp_path / "all"
    full.mkdir()
    assert run_bulletin(SMALL, full).returncode == 0
    with open(full / "cases.csv", encoding="utf-8", newline="") as f:
        every = list(csv.DictReader(f))
    for key, zh in (("petition", "信访"), ("suggestion", "人大建议")):
        d = tmp_path / key
        d.mkdir()
        proc = run_bulletin(SMALL, d, "--type", zh)
        assert proc.returncode == 0, proc.stderr
        with open(d / "cases.csv", encoding="utf-8", newline="") as f:
            assert list(csv.DictReader(f)) == [r for r in every if r["type"] == key]
        with open(d / "bulletin.csv", encoding="utf-8", newline="") as f:
            assert sum(int(r["assigned"]) for r in csv.DictReader(f)) == sum(r["type"] == key for r in every)


def test_bad_rows_are_all_named_and_nothing_is_written(tmp_path: Path) -> None:
    expected = [int(x) for x in (DATA / "bad-expected.txt").read_text(encoding="utf-8").split()]
    # as of a date before the last bad row: rows after the as-of date are checked too
    proc = run_bulletin(BAD, tmp_path, window=["--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2025-12-31"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    named = sorted({int(m) for m in re.findall(r"^row (\d+): ", proc.stderr, flags=re.M)})
    assert named == expected, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "bulletin.csv").exists() and not (tmp_path / "cases.csv").exists()


def test_each_bad_row_alone_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each bad row of bad-history.csv, with the good rows, is refused on its own (no bad row hides
    behind another), and the good rows alone are accepted. (In-process: 13 runs.)"""
    with open(BAD, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    bad = [int(x) for x in (DATA / "bad-expected.txt").read_text(encoding="utf-8").split()]
    good = [r for i, r in enumerate(rows[1:], start=2) if i not in bad]
    args = [*WINDOW, "--out", str(tmp_path / "bulletin.csv")]
    write_rows(tmp_path / "good.csv", [rows[0], *good])
    assert pandas_bulletin.main([str(tmp_path / "good.csv"), *args]) == 0, capsys.readouterr().err
    (tmp_path / "bulletin.csv").unlink()
    for n in bad:
        write_rows(tmp_path / "one.csv", [rows[0], *good, rows[n - 1]])
        capsys.readouterr()
        assert pandas_bulletin.main([str(tmp_path / "one.csv"), *args]) == 1, f"row {n} of {BAD.name} accepted"
        err = capsys.readouterr().err
        assert re.findall(r"^row (\d+): ", err, flags=re.M) == [str(len(good) + 2)], err
        assert not (tmp_path / "bulletin.csv").exists()


def test_an_unreadable_row_stops_the_order_check_of_its_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/CASES.md: a row whose values cannot be read is named and its case's order is not checked;
    in the order check only a case's first refused event is named."""
    rows = small_rows()
    args = [*WINDOW, "--out", str(tmp_path / "bulletin.csv")]
    # 1. the register row of XF-002 with a bad date: only that row (its later rows are not checked)
    bad = [list(r) for r in rows]
    i = next(k for k, r in enumerate(bad) if r[0] == "XF-002" and r[3] == "登记")
    bad[i][4] = "2025-02-29"
    write_rows(tmp_path / "a.csv", bad)
    assert pandas_bulletin.main([str(tmp_path / "a.csv"), *args]) == 1
    err = capsys.readouterr().err
    assert re.findall(r"^row (\d+): ", err, flags=re.M) == [str(i + 1)], err
    # 2. the register row of XF-002 left out: only its first event (the assignment) is named
    gone = [r for k, r in enumerate(rows) if k != i]
    write_rows(tmp_path / "b.csv", gone)
    assert pandas_bulletin.main([str(tmp_path / "b.csv"), *args]) == 1
    err = capsys.readouterr().err
    first = min((k for k, r in enumerate(gone) if r[0] == "XF-002"), key=lambda k: (gone[k][4], k))
    assert gone[first][3] in ("assign", "交办")
    assert re.findall(r"^row (\d+): ", err, flags=re.M) == [str(first + 1)], err
    # 3. two unreadable values in one row: both named, the row counted once
    two = [list(r) for r in rows]
    two[i][9], two[i][10] = "很好", "也许"
    write_rows(tmp_path / "c.csv", two)
    assert pandas_bulletin.main([str(tmp_path / "c.csv"), *args]) == 1
    err = capsys.readouterr().err
    assert re.findall(r"^row (\d+): ", err, flags=re.M) == [str(i + 1)] * 2, err
    assert "2 error(s) in 1 row(s)" in err


# ------------------------------------------------------------------ against `mujun cases bulletin`
MUJUN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))



def run_mujun(src: Path, out_dir: Path, window: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(MUJUN), "cases", "bulletin", str(src), *window, "--out", str(out_dir / "bulletin.csv"),
                           "--cases-out", str(out_dir / "cases.csv")], capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_mujun_gives_the_hand_worked_bytes(tmp_path: Path) -> None:
    proc = run_mujun(SMALL, tmp_path, WINDOW)
    assert proc.returncode == 0, proc.stderr
    check_small(tmp_path)


def test_mujun_names_the_same_bad_rows(tmp_path: Path) -> None:
    expected = [int(x) for x in (DATA / "bad-expected.txt").read_text(encoding="utf-8").split()]
    proc = run_mujun(BAD, tmp_path, ["--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2025-12-31"])
    assert proc.returncode != 0
    assert sorted({int(m) for m in re.findall(r"row (\d+) \[", proc.stderr)}) == expected, proc.stderr
    assert not (tmp_path / "bulletin.csv").exists()


def test_mujun_and_pandas_agree_on_a_generated_history(tmp_path: Path) -> None:
    seed = mujun_seed.rng("cases-mujun-vs-pandas").randrange(1, 2**31)
    assert run_generator(tmp_path / "g.csv", seed, 2000).returncode == 0
    window = ["--from", "2025-07-01", "--to", "2026-12-31", "--as-of", "2026-05-15"]
    (tmp_path / "p").mkdir()
    (tmp_path / "m").mkdir()
    p = run_bulletin(tmp_path / "g.csv", tmp_path / "p", window=window)
    m = run_mujun(tmp_path / "g.csv", tmp_path / "m", window)
    assert p.returncode == 0 and m.returncode == 0, p.stderr + m.stderr
    for name in ("bulletin.csv", "cases.csv"):
        assert (tmp_path / "p" / name).read_bytes() == (tmp_path / "m" / name).read_bytes(), \
            f"{name} differs ({mujun_seed.summary_line()}, generator seed {seed})"


def run_generator(out: Path, seed: int, cases: int = 400, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CASES / "gen_history.py"), "--cases", str(cases), "--seed", str(seed),
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def test_generator_is_deterministic_and_valid(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((a, 42), (b, 42), (c, 43)):
        proc = run_generator(path, seed, 400, "--as-of", "2026-06-30")
        assert proc.returncode == 0, proc.stderr
        assert f"seed {seed}" in proc.stderr
    assert a.read_bytes() == b.read_bytes(), "the same seed gives the same file"
    assert a.read_bytes() != c.read_bytes()
    with open(a, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == "ref,title,type,event,date,unit,co_units,due,category,rating,head,passed,note".split(",")
    assert 7 * 400 < len(rows) - 1 < 13 * 400, "about 10 events per case"
    refs = [r[0] for r in rows[1:]]
    assert sum(x == y for x, y in zip(refs, refs[1:])) < len(refs) / 5, "cases are interleaved, not sorted"
    proc = run_bulletin(a, tmp_path, window=["--from", "2025-01-01", "--to", "2026-12-31", "--as-of", "2026-06-30"])
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "cases.csv", encoding="utf-8", newline="") as f:
        listed = list(csv.DictReader(f))
    assert {r["type"] for r in listed} == set(pandas_bulletin.CASE_TYPES)
    assert {"yellow", "red"} <= {r["flag"] for r in listed}


@pytest.mark.parametrize("as_of", ["2025-04-30", "2026-12-31"])
def test_generator_with_the_runs_seed_passes_the_validator(tmp_path: Path, as_of: str) -> None:
    seed = mujun_seed.rng(f"cases-generator-{as_of}").randrange(1, 2**31)
    proc = run_generator(tmp_path / "g.csv", seed, 1500, "--as-of", as_of)
    assert proc.returncode == 0, proc.stderr
    for window in (["--from", "2025-01-01", "--to", "2026-12-31", "--as-of", as_of],
                   ["--from", "2025-03-01", "--to", "2025-09-30", "--as-of", "2025-10-15"]):
        res = run_bulletin(tmp_path / "g.csv", tmp_path, window=window)
        assert res.returncode == 0, f"{mujun_seed.summary_line()} (generator seed {seed})\n{res.stderr[:3000]}"


def test_rates_are_shortest_round_trip_of_the_exact_fraction() -> None:
    assert pandas_bulletin.rate(2, 3) == "0.6666666666666666"
    assert pandas_bulletin.rate(1, 1) == "1.0"
    assert pandas_bulletin.rate(0, 5) == "0.0"
    assert pandas_bulletin.rate(1, 0) == ""
    assert pandas_bulletin.rate(1, 10) == "0.1"


def test_calendar_agrees_with_the_swift_examples() -> None:
    """The examples of WorkCalendar.swift's documentation and a few more from small-worked.md."""
    cal = pandas_bulletin.WorkCalendar()
    d, iso = pandas_bulletin.parse_date, pandas_bulletin.iso
    assert iso(cal.add_workdays(1, d("2025-09-30"))) == "2025-10-09"
    assert cal.is_workday(d("2025-09-28"))                      # a Sunday worked
    assert iso(cal.due(("months", 3), d("2025-07-01"))) == "2025-10-09"
    assert iso(pandas_bulletin.add_months(d("2025-09-30"), 5)) == "2026-02-28"
    assert iso(cal.due(("months", 3), d("2025-11-30"))) == "2026-02-28"   # a make-up Saturday: stays
    assert iso(cal.due(("days", 60), d("2025-12-22"))) == "2026-02-24"    # 2-20 is in 春节
    assert iso(cal.add_workdays(10, d("2026-02-05"))) == "2026-02-26"
    assert cal.workdays_after_through(d("2026-03-06"), d("2026-03-16")) == 6
    assert cal.workdays_after_through(d("2026-03-09"), d("2026-03-16")) == 5
    assert not cal.is_workday(d("2027-01-02")) and cal.is_workday(d("2027-01-01"))  # 2027: weekends only
