"""The quota ledger's replay (../shared/LEDGER.md, bench/quota/README.md).

First the straightforward Python reference (bench/quota/replay_reference.py): against the small
journal worked out by hand (bench/quota/testdata/small-worked.md), byte for byte; the unreadable
rows of bad-journal.csv; `--as-of`; and journals from the benchmark's generator
(bench/quota/gen_journal.py, seeded from the run's seed) where every decision and every balance is
recomputed here independently (Decimal and Fraction, not the reference's code) and the ledger's
invariants are checked after every accepted posting — so that the reference can be trusted to
cross-check the Swift side.

Then `mujun quota replay` (`.build/debug/mujun` or MUJUN_BIN) on the same files, compared with the
reference the way bench/quota/compare.py compares them: balances.csv byte for byte, refused.csv
on (row, seq, rule). These fail — they do not skip — while the binary lacks the command.
"""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import pytest

import mujun_seed

REPO = Path(__file__).resolve().parents[2]
QUOTA = REPO / "bench" / "quota"
DATA = QUOTA / "testdata"
SMALL = DATA / "small-journal.csv"
PROJECT = DATA / "small-project.yaml"
BAD = DATA / "bad-journal.csv"
AS_OF = "2025-01-11"          # small-expected-balances-2025-01-11.csv

sys.path.insert(0, str(QUOTA))
import compare  # noqa: E402
import gen_journal  # noqa: E402
import replay_reference  # noqa: E402


# ------------------------------------------------------------------ helpers
def run_reference(journal: Path, out_dir: Path, *extra: str, project: Path = PROJECT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(QUOTA / "replay_reference.py"), str(journal), "--project", str(project),
                           "--out", str(out_dir / "balances.csv"), "--refused", str(out_dir / "refused.csv"), *extra],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def reference_in_process(journal: Path, out_dir: Path, *extra: str, project: Path = PROJECT) -> int:
    return replay_reference.main([str(journal), "--project", str(project), "--out", str(out_dir / "balances.csv"),
                                  "--refused", str(out_dir / "refused.csv"), *extra])


def same_bytes(got: Path, want: Path) -> None:
    g, w = got.read_bytes(), want.read_bytes()
    if g != w:
        gl, wl = g.decode("utf-8").splitlines(), w.decode("utf-8").splitlines()
        diff = [f"line {i + 1}: got      {a!r}\n         expected {b!r}" for i, (a, b) in enumerate(zip(gl, wl)) if a != b]
        if len(gl) != len(wl):
            diff.append(f"{len(gl)} lines, expected {len(wl)}")
        if not diff:
            diff.append("the same lines, different bytes (BOM? CRLF? final newline?)")
        pytest.fail(f"{got.name} differs from {want.name}:\n" + "\n".join(diff[:20]))


def read_rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8", newline: str = "\n") -> None:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator=newline).writerows(rows)


def named_rows(stderr: str) -> list[int]:
    """The rows an unreadable journal's message names (`row N [col]: …`; `file …` is row 0)."""
    rows = [int(m) for m in re.findall(r"\brow (\d+) \[", stderr)]
    rows += [0] * len(re.findall(r"(?m)^\s*文件.*/ file\b", stderr))
    return sorted(set(rows))


def bad_expected() -> list[int]:
    return [int(x) for x in (DATA / "bad-expected.txt").read_text(encoding="utf-8").split()]


def generate(path: Path, n: int, seed: int, *extra: str) -> Path:
    """A journal of the benchmark's generator, with its project.yaml beside it."""
    project = path.with_suffix(".yaml")
    p = subprocess.run([sys.executable, str(QUOTA / "gen_journal.py"), str(n), str(seed), str(path),
                        "--project-out", str(project), *extra], capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    return project


def seed_for(label: str) -> int:
    seed = mujun_seed.rng(label).randrange(1, 2**31)
    print(f"{label}: generator seed {seed} ({mujun_seed.summary_line()})")
    return seed


# ------------------------------------------------------------------ an independent replay (for the checks)
UNIT = 10_000
QUOTA_OF = {"new_farmland": "nf", "新增耕地": "nf", "reclaimed_construction": "rc", "建设用地复垦": "rc",
            "增减挂钩节余指标": "rc", "建设用地复垦（增减挂钩节余指标）": "rc", "basic_farmland": "bf", "永久基本农田": "bf"}
ACTION_OF = {"入账": "credit", "使用": "use", "调剂": "transfer", "冲正": "reverse"}
KEY_OF = {"序号": "seq", "日期": "date", "动作": "action", "镇街": "town", "调入镇街": "to_town", "指标类型": "quota",
          "数量(亩)": "amount", "等别": "grade", "冲正序号": "reverses", "说明": "note"}
QUOTA_KEY = {"nf": "new_farmland", "rc": "reclaimed_construction", "bf": "basic_farmland"}


@dataclass
class Book:
    """The ledger as this test keeps it: figures per (town, quota) and the project-wide sums."""
    towns: list[str]
    margin: Fraction

    def __post_init__(self):
        self.fig = {(t, q): [0, 0, 0, 0] for t in self.towns for q in ("nf", "rc", "bf")}  # credited, used, in, out
        self.a = self.m = self.c = self.cg = self.u = self.ug = 0

    def apply(self, eff: tuple, s: int) -> None:
        kind, town, to, q, units, grade = eff
        x = units * s
        if kind == "credit":
            self.fig[(town, q)][0] += x
            self.a += x if q == "bf" else 0
            if q == "nf":
                self.c += x
                self.cg += x * grade
        elif kind == "use":
            self.fig[(town, q)][1] += x
            self.m += x if q == "bf" else 0
            if q == "nf":
                self.u += x
                self.ug += x * grade
        else:
            self.fig[(town, q)][3] += x
            self.fig[(to, q)][2] += x

    def balance(self, town: str, q: str) -> int:
        cr, used, tin, tout = self.fig[(town, q)]
        return cr - used + tin - tout

    def broken(self) -> int | None:
        """The first of rules 5, 6, 7 the state breaks."""
        if any(self.balance(t, q) < 0 for t in self.towns for q in ("nf", "rc")):
            return 5
        if Fraction(self.a) < (1 + self.margin) * self.m:
            return 6
        if self.u > 0 and (self.c <= 0 or Fraction(self.cg, self.c) > Fraction(self.ug, self.u)):
            return 7
        return None


def exact_units(text: str) -> int | None:
    """A positive amount under 10^12 mu with at most 4 decimals, in ten-thousandths; else None."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if not d.is_finite() or d <= 0 or d >= Decimal(10) ** 12 or (d * UNIT) != (d * UNIT).to_integral_value():
        return None
    return int(d * UNIT)


def whole_grade(text: str) -> int | None:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if d != d.to_integral_value() or not 1 <= d <= 15:
        return None
    return int(d)


def independent_replay(journal: Path, towns: list[str], start: date, margin: Fraction):
    """Every row's decision (None = accepted, else the rule) and the accepted effects with their dates,
    derived from LEDGER.md / README.md without the reference's code; the ledger's invariants are
    asserted after every accepted posting."""
    rows = read_rows(journal)
    keys = [KEY_OF.get(h.strip(), h.strip().lower()) for h in rows[0]]
    book = Book(towns, margin)
    accepted: dict[str, tuple] = {}    # seq -> effect, for reversals
    reversed_: set[str] = set()
    decisions: dict[int, int | None] = {}
    journal_effects: list[tuple[date, tuple]] = []
    latest = None
    for number, cells in enumerate(rows[1:], start=2):
        r = {k: v.strip() for k, v in zip(keys, cells)}
        action = ACTION_OF.get(r["action"], r["action"].lower())
        day = date.fromisoformat(r["date"])
        rule: int | None = None
        eff = None
        if action == "reverse":
            t = r["reverses"]
            if t not in accepted or t in reversed_ or r["note"] == "":
                rule = 8
            elif day < start or (latest and day < latest):
                rule = 4
            else:
                k, town, to, q, units, grade = accepted[t]
                eff = (k, town, to, q, -units, grade)
        else:
            q = QUOTA_OF.get(r["quota"]) or QUOTA_OF.get(r["quota"].lower())
            units = exact_units(r["amount"]) if r["amount"] else None
            if r["town"] not in towns or (action == "transfer" and r["to_town"] not in towns) or q is None:
                rule = 1
            elif units is None:
                rule = 2
            elif action == "transfer" and (r["to_town"] == r["town"] or q == "bf"):
                rule = 3
            elif day < start or (latest and day < latest):
                rule = 4
            elif q == "nf" and action != "transfer" and whole_grade(r["grade"]) is None:
                rule = 7
            else:
                grade = whole_grade(r["grade"]) if q == "nf" and action != "transfer" else 0
                eff = (action, r["town"], r["to_town"] if action == "transfer" else "", q, units, grade)
        if eff is not None:
            book.apply(eff, +1)
            broken = book.broken()
            if broken is not None:
                book.apply(eff, -1)
                rule = 8 if action == "reverse" else broken
            else:
                # accepted: the invariants hold on this prefix
                assert all(book.balance(t, q) >= 0 for t in towns for q in ("nf", "rc")), number
                assert Fraction(book.a) >= (1 + margin) * book.m, number
                assert book.u == 0 or Fraction(book.cg, book.c) <= Fraction(book.ug, book.u), number
                assert latest is None or day >= latest, number
                latest = day
                accepted[r["seq"]] = eff
                if action == "reverse":
                    reversed_.add(r["reverses"])
                journal_effects.append((day, eff))
        decisions[number] = rule
    return decisions, journal_effects, book


def balances_csv(towns: list[str], effects: list[tuple[date, tuple]], margin: Fraction, as_of: date | None = None) -> str:
    """balances.csv from the accepted effects dated on or before as_of, written here."""
    book = Book(towns, margin)
    for day, eff in effects:
        if as_of is None or day <= as_of:
            book.apply(eff, +1)

    def f(units: int) -> str:
        return ("-" if units < 0 else "") + f"{abs(units) // UNIT}.{abs(units) % UNIT:04d}"
    lines = ["town,quota,credited,used,transferred_in,transferred_out,balance"]
    for t in towns:
        for q in ("nf", "rc", "bf"):
            cr, used, tin, tout = book.fig[(t, q)]
            lines.append(",".join([t, QUOTA_KEY[q], f(cr), f(used), f(tin), f(tout), f(book.balance(t, q))]))
    return "\n".join(lines) + "\n"


def refused_of(path: Path) -> dict[int, tuple[str, int]]:
    out = {}
    for row in read_rows(path)[1:]:
        m = re.match(r"规则([1-8])：", row[2])
        assert m, f"{path.name}: reason without 规则N： {row}"
        out[int(row[0])] = (row[1], int(m.group(1)))
    return out


TOWNS = ["古山镇", "方岩镇", "舟山镇"]
START = date(2025, 1, 1)
MARGIN = Fraction(5, 100)


# ------------------------------------------------------------------ the reference, on the hand-worked files
def test_small_journal_matches_the_hand_computation(tmp_path: Path) -> None:
    p = run_reference(SMALL, tmp_path)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    same_bytes(tmp_path / "refused.csv", DATA / "small-expected-refused.csv")


def test_as_of_counts_only_postings_dated_on_or_before_it(tmp_path: Path) -> None:
    """small-worked.md: at 2025-01-11 the reversal of seq 1 (dated 01-12) changes nothing; the refused
    rows are those of the whole file."""
    p = run_reference(SMALL, tmp_path, "--as-of", AS_OF)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / f"small-expected-balances-{AS_OF}.csv")
    same_bytes(tmp_path / "refused.csv", DATA / "small-expected-refused.csv")
    # seq 1's credit of 10 counts at 01-11 and not at the end
    at = {(r[0], r[1]): r for r in read_rows(tmp_path / "balances.csv")}
    end = {(r[0], r[1]): r for r in read_rows(DATA / "small-expected-balances.csv")}
    assert at[("古山镇", "new_farmland")][2] == end[("古山镇", "new_farmland")][2] == "20.0000"   # 1 + 2 vs 2 + 41


def test_as_of_equals_the_journal_cut_before_the_first_later_accepted_row(tmp_path: Path, capsys) -> None:
    """For every date D of the small journal (and before and after it): the balances at D are those of
    the file cut just before its first accepted row dated after D, replayed whole."""
    assert reference_in_process(SMALL, tmp_path) == 0
    refused = refused_of(tmp_path / "refused.csv")
    rows = read_rows(SMALL)
    days = sorted({r[1] for r in rows[1:]} | {"2024-12-01", "2025-12-31"})
    for d in days:
        cut = next((i for i, r in enumerate(rows) if i and i + 1 not in refused and r[1] > d), len(rows))
        write_rows(tmp_path / "cut.csv", rows[:cut])
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "b").mkdir(exist_ok=True)
        assert reference_in_process(SMALL, tmp_path / "a", "--as-of", d) == 0
        assert reference_in_process(tmp_path / "cut.csv", tmp_path / "b") == 0
        assert (tmp_path / "a" / "balances.csv").read_bytes() == (tmp_path / "b" / "balances.csv").read_bytes(), d
    capsys.readouterr()


@pytest.mark.parametrize("encoding,newline", [("gb18030", "\r\n"), ("utf-8-sig", "\r\n"), ("utf-8", "\r")],
                         ids=["gb18030-crlf", "utf8-bom-crlf", "utf8-cr"])
def test_encodings_and_line_ends_give_the_same_result(tmp_path: Path, encoding: str, newline: str) -> None:
    write_rows(tmp_path / "in.csv", read_rows(SMALL), encoding, newline)
    p = run_reference(tmp_path / "in.csv", tmp_path)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    same_bytes(tmp_path / "refused.csv", DATA / "small-expected-refused.csv")


def english_variant(rows: list[list[str]]) -> list[list[str]]:
    """English keys in mixed case with spaces around them, the columns in another order, an unknown
    column 备注, and the amount column spelt 数量（亩） (full-width brackets): the same journal."""
    keys = [KEY_OF[h] for h in rows[0]]
    order = [9, 0, 2, 1, 3, 5, 4, 6, 7, 8]

    def head(n: int, key: str) -> str:
        if key == "amount":
            return " 数量（亩） "
        return f" {key.upper()} " if n % 2 else key.capitalize()
    out = [[head(n, keys[j]) for n, j in enumerate(order)] + ["备注"]]
    out += [[r[j] for j in order] + ["x"] for r in rows[1:]]
    return out


def test_english_keys_other_column_order_and_extra_columns_give_the_same_result(tmp_path: Path) -> None:
    write_rows(tmp_path / "en.csv", english_variant(read_rows(SMALL)))
    p = run_reference(tmp_path / "en.csv", tmp_path)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    same_bytes(tmp_path / "refused.csv", DATA / "small-expected-refused.csv")


def test_blank_rows_and_missing_optional_columns(tmp_path: Path) -> None:
    """Blank rows are skipped but counted; a journal without the 等别 column has every grade empty."""
    rows = read_rows(SMALL)
    write_rows(tmp_path / "blank.csv", [rows[0], ["", "", ""], *rows[1:3], [], *rows[3:]])
    assert run_reference(tmp_path / "blank.csv", tmp_path).returncode == 0
    moved = {int(r[0]) for r in read_rows(tmp_path / "refused.csv")[1:]}
    want = {int(r[0]) for r in read_rows(DATA / "small-expected-refused.csv")[1:]}
    assert moved == {n + (1 if n < 4 else 2) for n in want}      # blank rows 2 and 5 are still counted
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    g = rows[0].index("等别")
    write_rows(tmp_path / "nograde.csv", [[c for j, c in enumerate(r) if j != g] for r in rows])
    assert run_reference(tmp_path / "nograde.csv", tmp_path).returncode == 0
    refused = refused_of(tmp_path / "refused.csv")
    # every new_farmland credit or use is now rule 7 (no grade), unless an earlier rule refused it
    for i, r in enumerate(rows[1:], start=2):
        if r[2] in ("入账", "使用") and r[5] in ("新增耕地", "new_farmland") and r[1] >= "2025-01-01" and r[3] in TOWNS:
            assert refused.get(i, ("", 0))[1] in (4, 7), (i, refused.get(i))


def test_bad_rows_are_all_named_and_nothing_is_written(tmp_path: Path) -> None:
    p = run_reference(BAD, tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert named_rows(p.stderr) == bad_expected(), p.stderr
    assert "Traceback" not in p.stderr
    assert re.search(r"第 22 行 \[日期\]：.*/ row 22 \[日期\]: ", p.stderr), p.stderr
    assert re.search(r"第 22 行 \[数量\(亩\)\]：.*/ row 22 \[数量\(亩\)\]: ", p.stderr), p.stderr
    assert not (tmp_path / "balances.csv").exists() and not (tmp_path / "refused.csv").exists()


def test_each_bad_row_alone_is_named(tmp_path: Path, capsys) -> None:
    """Each bad row of bad-journal.csv with the good rows only is named on its own; the good rows alone
    read (small-worked.md: seq 9 and 10 refused, four postings accepted)."""
    rows = read_rows(BAD)
    bad = bad_expected()
    # csv records, not lines: record k is spreadsheet row k + 1 (the blank row 6 is a record too)
    good = [r for i, r in enumerate(rows[1:], start=2) if i not in bad]
    write_rows(tmp_path / "good.csv", [rows[0], *good])
    assert reference_in_process(tmp_path / "good.csv", tmp_path) == 0
    assert {v for v in refused_of(tmp_path / "refused.csv").values()} == {("9", 1), ("10", 2)}
    for n in bad:
        (tmp_path / "one").mkdir(exist_ok=True)
        write_rows(tmp_path / "one.csv", [rows[0], *good, rows[n - 1]])
        capsys.readouterr()
        assert reference_in_process(tmp_path / "one.csv", tmp_path / "one") == 2, f"row {n} of {BAD.name} read"
        assert named_rows(capsys.readouterr().err) == [len(good) + 2], n
        assert not (tmp_path / "one" / "balances.csv").exists()


def test_a_missing_required_column_refuses_the_file(tmp_path: Path) -> None:
    rows = read_rows(SMALL)
    for col in ("序号", "日期", "动作"):
        j = rows[0].index(col)
        write_rows(tmp_path / "x.csv", [[c for k, c in enumerate(r) if k != j] for r in rows])
        p = run_reference(tmp_path / "x.csv", tmp_path)
        assert p.returncode == 2 and named_rows(p.stderr) == [0] and col in p.stderr, p.stderr
        assert not (tmp_path / "balances.csv").exists()


@pytest.mark.parametrize("text", [
    "towns: [古山镇, 方岩镇]\nstart: 2025-02-30\n",
    "towns: []\nstart: 2025-01-01\n",
    "towns: [古山镇, 古山镇]\nstart: 2025-01-01\n",
    "towns: [古山镇]\nstart: 2025-01-01\nmargin: 0.00001\n",
    "towns: [古山镇]\nstart: 2025-01-01\nmargin: -0.05\n",
    "towns: [古山镇]\nstart: 2025-01-01\nmargin: 5%\n",
    "towns: 古山镇\nstart: 2025-01-01\n",
    "- 古山镇\n",
    "towns: [古山镇\n",
], ids=["bad-start", "no-towns", "town-twice", "margin-5-decimals", "margin-negative", "margin-percent",
        "towns-not-a-list", "not-a-mapping", "not-yaml"])
def test_a_bad_project_is_refused_and_nothing_is_written(tmp_path: Path, text: str) -> None:
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    p = run_reference(SMALL, tmp_path, project=tmp_path / "p.yaml")
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "balances.csv").exists()


def test_the_margin_defaults_to_0_05_and_decides_rule_6(tmp_path: Path) -> None:
    text = PROJECT.read_text(encoding="utf-8")
    (tmp_path / "default.yaml").write_text(text.replace("margin: 0.05\n", ""), encoding="utf-8")
    assert run_reference(SMALL, tmp_path, project=tmp_path / "default.yaml").returncode == 0
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    # margin 0.0500 is 0.05; with margin 0 the moves out of rows 27 and 28 are both accepted (A = 21 ≥ M);
    # with 0.0501 the 20 mu of row 27 are refused (21 < 1.0501 × 20 = 21.002) and then the 0.0001 of
    # row 28 passes
    for margin, rule6 in (("0.0500", [28]), ("0", []), ("0.0501", [27])):
        (tmp_path / "m.yaml").write_text(text.replace("margin: 0.05", f"margin: {margin}"), encoding="utf-8")
        assert run_reference(SMALL, tmp_path, project=tmp_path / "m.yaml").returncode == 0
        refused = refused_of(tmp_path / "refused.csv")
        assert sorted(r for r, (_, n) in refused.items() if n == 6) == rule6, (margin, refused)


# ------------------------------------------------------------------ the reference, on generated journals
@pytest.mark.parametrize("label,n,extra", [("quota-gen-a", 3000, ()), ("quota-gen-b", 3000, ("--english",)),
                                           ("quota-gen-c", 6000, ())])
def test_generated_journals_agree_with_an_independent_replay(tmp_path: Path, label: str, n: int, extra: tuple) -> None:
    seed = seed_for(label)
    journal = tmp_path / "j.csv"
    project = generate(journal, n, seed, *extra)
    p = run_reference(journal, tmp_path, project=project)
    assert p.returncode == 0, p.stderr
    where = f"(generator seed {seed}, {n} rows; {mujun_seed.summary_line()})"
    decisions, effects, _ = independent_replay(journal, TOWNS, START, MARGIN)
    refused = refused_of(tmp_path / "refused.csv")
    want = {row: rule for row, rule in decisions.items() if rule is not None}
    got = {row: rule for row, (_, rule) in refused.items()}
    diff = sorted(set(want.items()) ^ set(got.items()))
    assert not diff, f"decisions differ {where}: first (row, rule) {diff[:10]}"
    # the balances are the sums of the accepted rows
    assert (tmp_path / "balances.csv").read_text(encoding="utf-8") == balances_csv(TOWNS, effects, MARGIN), where
    # the generator's own book-keeping (it aims its amounts with it) agrees with the reference
    g = gen_journal.Generator(n, seed, bool(extra))
    for _ in g.rows():
        pass
    assert sorted(g.refused) == sorted(int(s) for s, _ in refused.values()), where
    # --as-of a date inside the journal: only the accepted rows dated on or before it
    days = sorted({e[0] for e in effects})
    d = days[len(days) // 3]
    (tmp_path / "asof").mkdir()
    assert run_reference(journal, tmp_path / "asof", "--as-of", d.isoformat(), project=project).returncode == 0
    assert (tmp_path / "asof" / "balances.csv").read_text(encoding="utf-8") == balances_csv(TOWNS, effects, MARGIN, d), where
    assert (tmp_path / "asof" / "refused.csv").read_bytes() == (tmp_path / "refused.csv").read_bytes()


def test_hand_worked_journal_agrees_with_the_independent_replay() -> None:
    decisions, effects, _ = independent_replay(SMALL, TOWNS, START, MARGIN)
    want = {int(r[0]): int(re.match(r"规则(\d)", r[2]).group(1)) for r in read_rows(DATA / "small-expected-refused.csv")[1:]}
    assert {r: n for r, n in decisions.items() if n is not None} == want
    assert balances_csv(TOWNS, effects, MARGIN) == (DATA / "small-expected-balances.csv").read_text(encoding="utf-8")
    assert balances_csv(TOWNS, effects, MARGIN, date.fromisoformat(AS_OF)) == \
        (DATA / f"small-expected-balances-{AS_OF}.csv").read_text(encoding="utf-8")


def test_generator_is_deterministic_and_has_the_mix_of_the_benchmark(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((a, 42), (b, 42), (c, 43)):
        generate(path, 20000, seed)
    assert a.read_bytes() == b.read_bytes(), "the same seed gives the same file"
    assert a.read_bytes() != c.read_bytes()
    rows = read_rows(a)
    assert rows[0] == "序号,日期,动作,镇街,调入镇街,指标类型,数量(亩),等别,冲正序号,说明".split(",")
    descents = sum(x[1] > y[1] for x, y in zip(rows[1:], rows[2:]))
    assert 0 < descents < len(rows) / 50, "dates in order, but for the back-dated rows"
    per_day = (len(rows) - 1) / len({r[1] for r in rows[1:]})
    assert per_day >= 3, f"several postings a day ({per_day:.1f})"
    reversals = [r for r in rows[1:] if r[2] in ("冲正", "reverse")]
    assert 0.01 < len(reversals) / (len(rows) - 1) < 0.03
    assert sum(r[2] in ("入账", "使用", "调剂", "冲正") for r in rows[1:]) > 0.9 * (len(rows) - 1), "actions mostly in Chinese"
    grades = {r[7] for r in rows[1:] if r[2] in ("入账", "credit") and r[5] in ("新增耕地", "new_farmland")}
    assert {str(g) for g in range(1, 16)} <= grades
    assert run_reference(a, tmp_path, project=a.with_suffix(".yaml")).returncode == 0
    refused = read_rows(tmp_path / "refused.csv")[1:]
    rules = {int(re.match(r"规则(\d)", r[2]).group(1)) for r in refused}
    assert rules == set(range(1, 9)), rules
    assert 0.05 < len(refused) / (len(rows) - 1) < 0.2
    # reversals of transfers and of reversals, accepted ones among them; refused ones of each kind
    action = {r[0]: r[2] for r in rows[1:]}
    refused_seqs = {r[1] for r in refused}
    accepted_rev = [r for r in reversals if r[0] not in refused_seqs]
    assert any(action.get(r[8]) in ("调剂", "transfer") for r in accepted_rev)
    assert any(action.get(r[8]) in ("冲正", "reverse") for r in accepted_rev)
    words = " ".join(r[2] for r in refused if r[2].startswith("规则8"))
    for why in ("已被第", "已被拒绝", "在本行之后", "不存在", "冲正须填写说明", "将违反规则"):
        assert why in words, why
    english, chinese = tmp_path / "e.csv", tmp_path / "z.csv"
    generate(english, 500, 42, "--english")
    generate(chinese, 500, 42)
    assert read_rows(english)[0] == "seq,date,action,town,to_town,quota,amount,grade,reverses,note".split(",")
    assert read_rows(english)[1:] == read_rows(chinese)[1:], "--english changes the header only"


def test_compare_finds_differences(tmp_path: Path) -> None:
    bal = (DATA / "small-expected-balances.csv").read_bytes()
    ref = (DATA / "small-expected-refused.csv").read_bytes()
    assert compare.compare(bal, ref, bal, ref) == []
    # other words, same (row, seq, rule): the same
    reworded = re.sub(r"：[^\n]*", "：别的说法 / other words", ref.decode("utf-8")).encode("utf-8")
    assert compare.compare(bal, ref, bal, reworded) == []
    assert compare.compare(bal, ref, bal.replace(b"10.0000", b"10.0001", 1), ref)
    assert compare.compare(bal, ref, bal.replace(b"\n", b"\r\n"), ref)
    assert compare.compare(bal, ref, bal, ref.replace("规则4：日期 2024".encode(), "规则2：日期 2024".encode()))
    assert compare.compare(bal, ref, bal, b"\n".join(ref.split(b"\n")[:-2]) + b"\n")


# ------------------------------------------------------------------ `mujun quota replay`
MUJUN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))


def run_mujun(journal: Path, out_dir: Path, *extra: str, project: Path = PROJECT) -> subprocess.CompletedProcess:
    assert MUJUN.exists(), f"mujun binary not found at {MUJUN}: run `swift build` first (or set MUJUN_BIN)"
    help_ = subprocess.run([str(MUJUN), "quota", "replay", "--help"], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    assert "--refused" in help_.stdout + help_.stderr, f"{MUJUN} has no `quota replay` (bench/quota/README.md) yet"
    return subprocess.run([str(MUJUN), "quota", "replay", str(journal), "--project", str(project),
                           "--out", str(out_dir / "balances.csv"), "--refused", str(out_dir / "refused.csv"), *extra],
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def agree(swift_dir: Path, py_dir: Path, where: str = "") -> None:
    diffs = compare.compare((swift_dir / "balances.csv").read_bytes(), (swift_dir / "refused.csv").read_bytes(),
                            (py_dir / "balances.csv").read_bytes(), (py_dir / "refused.csv").read_bytes(),
                            a="mujun", b="reference")
    assert not diffs, where + "\n" + "\n".join(diffs)


def test_mujun_gives_the_hand_worked_balances_and_refusals(tmp_path: Path) -> None:
    p = run_mujun(SMALL, tmp_path)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    diffs = compare.compare((tmp_path / "balances.csv").read_bytes(), (tmp_path / "refused.csv").read_bytes(),
                            (DATA / "small-expected-balances.csv").read_bytes(),
                            (DATA / "small-expected-refused.csv").read_bytes(), a="mujun", b="hand-worked")
    assert not diffs, "\n".join(diffs)


def test_mujun_as_of(tmp_path: Path) -> None:
    p = run_mujun(SMALL, tmp_path, "--as-of", AS_OF)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / f"small-expected-balances-{AS_OF}.csv")
    diffs = compare.compare(b"", (tmp_path / "refused.csv").read_bytes(), b"",
                            (DATA / "small-expected-refused.csv").read_bytes(), a="mujun", b="hand-worked")
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("encoding,newline", [("gb18030", "\r\n"), ("utf-8-sig", "\n")], ids=["gb18030-crlf", "utf8-bom"])
def test_mujun_reads_the_encodings_and_english_keys(tmp_path: Path, encoding: str, newline: str) -> None:
    write_rows(tmp_path / "in.csv", english_variant(read_rows(SMALL)), encoding, newline)
    p = run_mujun(tmp_path / "in.csv", tmp_path)
    assert p.returncode == 0, p.stderr
    same_bytes(tmp_path / "balances.csv", DATA / "small-expected-balances.csv")
    assert refused_of(tmp_path / "refused.csv") == refused_of(DATA / "small-expected-refused.csv")


def test_mujun_names_the_same_bad_rows_and_writes_nothing(tmp_path: Path) -> None:
    p = run_mujun(BAD, tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert named_rows(p.stderr) == bad_expected(), p.stderr
    assert not (tmp_path / "balances.csv").exists() and not (tmp_path / "refused.csv").exists()


@pytest.mark.parametrize("label,n,extra", [("quota-mujun-a", 3000, ()), ("quota-mujun-b", 4000, ("--english",)),
                                           ("quota-mujun-c", 5000, ())])
def test_mujun_and_the_reference_agree_on_generated_journals(tmp_path: Path, label: str, n: int, extra: tuple) -> None:
    seed = seed_for(label)
    journal = tmp_path / "j.csv"
    project = generate(journal, n, seed, *extra)
    where = f"generator seed {seed}, {n} rows ({mujun_seed.summary_line()})"
    days = sorted({r[1] for r in read_rows(journal)[1:]})
    as_of = days[mujun_seed.rng(label + "-as-of").randrange(len(days))]
    for args in ((), ("--as-of", as_of)):
        py, sw = tmp_path / f"py{len(args)}", tmp_path / f"sw{len(args)}"
        py.mkdir()
        sw.mkdir()
        p = run_reference(journal, py, *args, project=project)
        assert p.returncode == 0, p.stderr
        m = run_mujun(journal, sw, *args, project=project)
        assert m.returncode == 0, f"{where}\n{m.stderr}"
        agree(sw, py, f"{where} {' '.join(args)}")
