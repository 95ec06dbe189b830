"""The pandas reference implementation (bench/pandas_evaluate.py) against a small case computed
by hand (bench/testdata/README.md), so that it can be trusted to cross-check the Swift
evaluator (bench/compare_results.py, tests/cli/test_cli.py::test_evaluate_matches_hand_computed)."""
from __future__ import annotations

import csv
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
SMALL = BENCH / "testdata" / "small.csv"
EXPECTED = BENCH / "testdata" / "small.expected.csv"

sys.path.insert(0, str(BENCH))
import pandas  # noqa: E402,F401  (scripts/install-deps.sh installs it: the reference needs it)
import pandas_evaluate  # noqa: E402


def expected_rows() -> dict[str, dict[str, str]]:
    with open(EXPECTED, encoding="utf-8", newline="") as f:
        return {r["credit_code"]: r for r in csv.DictReader(f)}


def run_reference(src: Path, out: Path, *extra: str) -> list[dict[str, str]]:
    proc = subprocess.run([sys.executable, str(BENCH / "pandas_evaluate.py"), str(src), str(out), *extra],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    with open(out, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def check_against_expected(rows: list[dict[str, str]]) -> None:
    exp = expected_rows()
    assert exp, f"{EXPECTED} has no rows"
    assert [r["credit_code"] for r in rows] == list(exp), "one row per input enterprise, in input order"
    wrong = []  # every difference at once, not only the first
    for r in rows:
        e = exp[r["credit_code"]]
        where = f"{e['tag']} {r['credit_code']}"
        for key in ("group", "exempt_reason", "class_before_veto", "class", "rank"):
            if r[key] != e[key]:
                wrong.append(f"{where}: {key} {r[key]!r}, expected {e[key]!r}")
        if e["total_score_exact"]:
            want = float(Fraction(e["total_score_exact"]))
            if not r["total_score"] or abs(float(r["total_score"]) - want) > 1e-9:
                wrong.append(f"{where}: total_score {r['total_score']!r}, expected {want!r}")
        elif r["total_score"] != "":
            wrong.append(f"{where}: total_score {r['total_score']!r}, expected none")
    assert not wrong, "\n".join(wrong)


def test_small_case_matches_hand_computation(tmp_path: Path) -> None:
    check_against_expected(run_reference(SMALL, tmp_path / "out.csv"))


@pytest.mark.parametrize("encoding,bom,newline", [("gb18030", b"", "\r\n"), ("utf-8", b"\xef\xbb\xbf", "\r\n")],
                         ids=["gb18030-crlf", "utf8-bom-crlf"])
def test_encodings_give_the_same_result(tmp_path: Path, encoding: str, bom: bytes, newline: str) -> None:
    text = SMALL.read_text(encoding="utf-8").replace("\n", newline)
    src = tmp_path / "in.csv"
    src.write_bytes(bom + text.encode(encoding))
    check_against_expected(run_reference(src, tmp_path / "out.csv"))


def test_english_keys_give_the_same_result(tmp_path: Path) -> None:
    with open(SMALL, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[0] = [pandas_evaluate.HEADERS[h].upper() if i % 2 else " " + pandas_evaluate.HEADERS[h] + " "
               for i, h in enumerate(rows[0])]
    src = tmp_path / "en.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    check_against_expected(run_reference(src, tmp_path / "out.csv"))


def test_tie_takes_the_better_class_and_shares_the_rank(tmp_path: Path) -> None:
    rows = {r["credit_code"]: r for r in run_reference(SMALL, tmp_path / "out.csv")}
    exp = {e["tag"]: e["credit_code"] for e in expected_rows().values()}
    # A1/A2 tie at positions 1-2 of 6 (quota A = round(1.2) = 1): both A, both rank 1
    assert (rows[exp["A1"]]["class"], rows[exp["A2"]]["class"]) == ("A", "A")
    assert (rows[exp["A1"]]["rank"], rows[exp["A2"]]["rank"]) == ("1", "1")
    assert rows[exp["A6"]]["rank"] == "3"  # competition rank: 1, 1, 3


def test_quota_rounds_half_up() -> None:
    # n = 15: B up to round(10.5) = 11 (half up; half-even would give 10)
    assert pandas_evaluate.quota_limits(15) == [3, 11, 14]
    assert pandas_evaluate.quota_limits(10) == [2, 7, 10]
    assert pandas_evaluate.quota_limits(6) == [1, 4, 6]
    assert pandas_evaluate.quota_limits(1) == [0, 1, 1]
    assert pandas_evaluate.quota_limits(0) == [0, 0, 0]


@pytest.mark.parametrize("old,new,needle", [(",100,500,", ",abc,500,", "not a number"),
                                             ("欠缴税款", "不存在的否决", "unknown veto")],
                         ids=["bad-number", "unknown-veto"])
def test_bad_numbers_and_unknown_veto_are_refused(tmp_path: Path, old: str, new: str, needle: str) -> None:
    text = SMALL.read_text(encoding="utf-8").splitlines()
    assert old in text[3], f"line 4 of {SMALL.name} no longer holds {old!r}: {text[3]!r}"
    bad_line = text[3].replace(old, new)
    src = tmp_path / "bad.csv"
    src.write_text("\n".join([text[0], text[1], text[2], bad_line]) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(BENCH / "pandas_evaluate.py"), str(src), str(tmp_path / "o.csv")],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert needle in proc.stderr and "4" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_results_accepts_itself_and_catches_a_class_change(tmp_path: Path) -> None:
    out = tmp_path / "ref.csv"
    rows = run_reference(SMALL, out)
    compare = [sys.executable, str(BENCH / "compare_results.py")]
    ok = subprocess.run([*compare, str(out), str(out)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "class differs: 0 rows" in ok.stdout

    # the same results under Chinese headers, one class changed
    changed = tmp_path / "changed.csv"
    zh = {"credit_code": "统一社会信用代码", "group": "规模", "total_score": "总分", "rank": "排名",
          "class": "最终类别", "exempt_reason": "不参评原因"}
    with open(changed, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[zh.get(k, k) for k in rows[0]])
        w.writeheader()
        for i, r in enumerate(rows):
            r = dict(r)
            if i == 0:
                r["class"] = "B"
            w.writerow({zh.get(k, k): v for k, v in r.items()})
    bad = subprocess.run([*compare, str(out), str(changed)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "class differs: 1 rows" in bad.stdout
