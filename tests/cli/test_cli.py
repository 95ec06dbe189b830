"""End-to-end tests of the `mujun` command line on small files written into tmp_path.

The binary is `.build/debug/mujun` (build it with `swift build`), or env MUJUN_BIN.
Covers FORMATS.md's input encodings and formats, the output formats of
`mujun evaluate FILE --out …`, bad input (every bad row named, nothing written) and
files that are not spreadsheets at all (one clear message, never a crash).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import openpyxl  # scripts/install-deps.sh installs it; the XLSX cases need it
import pytest

from mujun_seed import ENV as SEED_ENV, SEED, rng

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))

# ------------------------------------------------------------------ GB 32100-2015 credit codes
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def check_char(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def credit_code(seq: int, prefix: str = "91330784") -> str:
    """A valid 18-character code: registration authority 9, type 1, Yongkang 330784,
    a 9-character organisation code, then the check character."""
    org = "MA" + format(seq, "07d")
    body = prefix + org
    assert len(body) == 17
    return body + check_char(body)


def wrong_check(code: str) -> str:
    good = code[-1]
    return code[:-1] + next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != good)


def test_credit_code_helper_matches_published_examples() -> None:
    # examples published with GB 32100-2015 style codes
    assert check_char("91350100M000100Y4") == "3"      # 91350100M000100Y43
    assert check_char("91110000600037341") == "L"      # 91110000600037341L
    assert check_char(credit_code(1)[:17]) == credit_code(1)[-1]
    assert wrong_check(credit_code(1)) != credit_code(1)


# ------------------------------------------------------------------ the import template
HEADERS_ZH = ["年度", "统一社会信用代码", "企业名称", "所属镇街", "规模", "行业代码", "用地面积(亩)",
              "评价税收(万元)", "工业增加值(万元)", "营业收入(万元)", "研发经费(万元)", "综合能耗(吨标煤)",
              "排放当量(吨)", "用电量(万千瓦时)", "年平均职工人数", "一票否决", "不参评原因"]
KEYS = ["year", "credit_code", "name", "town", "scale", "industry", "land_mu", "tax", "value_added",
        "revenue", "rnd", "energy_tce", "emissions", "electricity", "employees", "veto", "exempt"]
NUMERIC = {"year", "land_mu", "tax", "value_added", "revenue", "rnd", "energy_tce", "emissions",
           "electricity", "employees"}

# one enterprise per row: (scale, town, land, tax, va, revenue, rnd, energy, emissions, electricity, employees, veto, exempt)
ENTERPRISES = [
    ("规上", "古山镇", 52.5, 1234.5, 5200, 31000, 950, 2100, 310, 820, 260, "", ""),
    ("规上", "东城街道", 30, 640, 2600, 15800, 420, 900, 120, 400, 180, "", ""),
    ("规上", "江南街道", 18.2, 310.8, 1500, 9800, 160, 620, None, 260, 95, "欠缴税款", ""),
    ("规上", "经济开发区", 75, -35.2, 2900, 21000, 0, 0, 260, 1020, 310, "", ""),
    ("规上", "芝英街道", 41, 980, 4100, 26000, 880, 1500, 200, 610, 240, "重大安全生产事故", ""),
    ("规上", "古山镇", 22, 505, 2050, 12500, 300, 700, 90, 300, 140, "", ""),
    ("规上", "西城街道", 12, 260, 900, 0, 0, 330, 60, 150, 70, "", ""),
    ("规上", "东城街道", 9.5, 99, 500, 3000, 20, 180, 40, 95, 40, "", "新办企业"),
    ("规下", "古山镇", 8, 96, None, None, None, None, None, 40, 25, "", ""),
    ("规下", "东城街道", 5.5, 71.5, None, None, None, None, None, 30, 18, "", ""),
    ("规下", "芝英街道", 12, 130, None, None, None, None, None, None, 30, "", ""),
    ("规下", "经济开发区", 3.5, 20, None, None, None, None, None, 12, 8, "欠缴税款", ""),
    ("规下", "江南街道", 2, 40, None, None, None, None, None, 9, 6, "", ""),
    ("规下", "古山镇", 6, 55, None, None, None, None, None, 21, 14, "", ""),
]
NAMES = ["永康市金鼎五金制品有限公司", "永康市银河电动工具有限公司", "永康市华晟杯业有限公司",
         "永康市铭扬门业有限公司", "永康市恒锐车业有限公司", "永康市鼎力厨具有限公司",
         "永康市飞鹰休闲用品有限公司", "永康市新创智能科技有限公司", "永康市百顺五金厂", "永康市利达工具厂",
         "永康市宏发锁具厂", "永康市佳美杯业厂", "永康市巧手缝纫店", "永康市顺达模具厂"]


def records() -> list[dict]:
    out = []
    for i, (scale, town, land, tax, va, rev, rnd, energy, emis, elec, emp, veto, exempt) in enumerate(ENTERPRISES):
        out.append({"year": 2025, "credit_code": credit_code(1000 + i), "name": NAMES[i], "town": town,
                    "scale": scale, "industry": "3311" if scale == "规下" else "3484", "land_mu": land, "tax": tax,
                    "value_added": va, "revenue": rev, "rnd": rnd, "energy_tce": energy, "emissions": emis,
                    "electricity": elec, "employees": emp, "veto": veto, "exempt": exempt})
    return out


def cell(value, thousands: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and thousands and abs(value) >= 1000:
        return f"{value:,}"          # "1,234.5": FORMATS.md allows thousands separators
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def csv_text(rows: list[dict], headers: list[str], newline: str = "\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(headers)
    for r in rows:
        w.writerow([cell(r[k], thousands=True) for k in KEYS])
    return buf.getvalue()


def write_xlsx(path: Path, rows: list[dict], headers: list[str]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业亩均数据"
    ws.append(headers)
    for r in rows:
        ws.append([r[k] if k in NUMERIC or r[k] not in ("",) else None for k in KEYS])
    # a second sheet that must be ignored (only the first sheet is read)
    wb.create_sheet("说明").append(["本表仅供说明"])
    wb.save(path)


# ------------------------------------------------------------------ running the binary
@pytest.fixture(scope="session")
def mujun() -> Path:
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        pytest.fail(f"mujun binary not found at {BIN}: run `swift build` first (or set MUJUN_BIN)")
    return BIN


def run(binary: Path, *args: str, cwd: Path | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite://{cwd or Path.cwd()}/unused-by-standalone-evaluate.sqlite")
    return subprocess.run([str(binary), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=env)


def read_csv_rows(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def code_column(header: list[str]) -> int:
    for name in ("credit_code", "统一社会信用代码"):
        if name in header:
            return header.index(name)
    raise AssertionError(f"no credit_code / 统一社会信用代码 column in output header {header}")


def assert_clean_failure(proc: subprocess.CompletedProcess, note: str = "") -> str:
    """Non-zero exit that is not a crash (no signal, no Swift fatal error, no traceback)."""
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"expected failure, got exit 0 {note}:\n{out}"
    assert 0 < proc.returncode < 128, f"exit code {proc.returncode} looks like a crash/signal {note}:\n{out}"
    for crash in ("Fatal error", "Stack dump", "Traceback", "Segmentation fault", "Illegal instruction",
                  "Current stack trace", "💣"):
        assert crash not in out, f"crash output ({crash}) {note}:\n{out}"
    assert out.strip(), f"a failure must say why {note}"
    return out


# ------------------------------------------------------------------ inputs in every form
@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    rows = records()
    files = {}
    files["utf8"] = tmp_path / "企业数据-utf8.csv"
    files["utf8"].write_bytes(csv_text(rows, HEADERS_ZH).encode("utf-8"))
    files["gb18030"] = tmp_path / "企业数据-gbk.csv"          # as Excel on Chinese Windows writes it
    files["gb18030"].write_bytes(csv_text(rows, HEADERS_ZH, newline="\r\n").encode("gb18030"))
    files["utf8bom"] = tmp_path / "企业数据-bom.csv"
    files["utf8bom"].write_bytes(b"\xef\xbb\xbf" + csv_text(rows, HEADERS_ZH, newline="\r\n").encode("utf-8"))
    files["xlsx"] = tmp_path / "enterprises.xlsx"
    write_xlsx(files["xlsx"], rows, KEYS)
    return files


def evaluate_to_rows(mujun: Path, src: Path, tmp_path: Path, kind: str) -> list[list[str]]:
    out = tmp_path / f"out-{kind}.csv"
    proc = run(mujun, "evaluate", str(src), "--year", "2025", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, f"{kind}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert out.is_file(), f"{kind}: no output written"
    return read_csv_rows(out)


def test_utf8_csv_gives_one_row_per_enterprise(mujun: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    reference = evaluate_to_rows(mujun, inputs["utf8"], tmp_path, "utf8")
    header, body = reference[0], [r for r in reference[1:] if any(c.strip() for c in r)]
    i = code_column(header)
    assert len(body) == len(ENTERPRISES), "one output row per input enterprise"
    assert sorted(r[i] for r in body) == sorted(r["credit_code"] for r in records())


@pytest.mark.parametrize("kind", ["gb18030", "utf8bom", "xlsx"])
def test_every_input_form_gives_the_utf8_csv_result(mujun: Path, inputs: dict[str, Path], tmp_path: Path,
                                                    kind: str) -> None:
    reference = evaluate_to_rows(mujun, inputs["utf8"], tmp_path, "utf8")
    rows = evaluate_to_rows(mujun, inputs[kind], tmp_path, kind)
    assert rows == reference, f"{kind} output differs from the UTF-8 CSV's"


def test_output_is_utf8_csv_with_the_result_columns(mujun: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    proc = run(mujun, "evaluate", str(inputs["gb18030"]), "--year", "2025", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out.read_bytes().decode("utf-8")  # must be UTF-8
    header = read_csv_rows(out)[0]
    code_column(header)
    for alternatives in (("total_score", "总分"), ("rank", "排名"), ("class", "最终类别"),
                         ("exempt_reason", "不参评原因"), ("group", "规模")):
        assert any(a in header for a in alternatives), f"none of {alternatives} in output header {header}"


def test_out_xlsx_opens_in_openpyxl(mujun: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    proc = run(mujun, "evaluate", str(inputs["utf8"]), "--year", "2025", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_bytes()[:2] == b"PK"
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = [[("" if v is None else str(v)) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
    header_at = next((n for n, r in enumerate(rows) if "credit_code" in r or "统一社会信用代码" in r), None)
    assert header_at is not None, f"no header row with credit_code / 统一社会信用代码 in {out.name}: {rows[:3]}"
    i = code_column(rows[header_at])
    codes = [r[i] for r in rows[header_at + 1:] if len(r) > i and r[i]]
    assert sorted(codes) == sorted(r["credit_code"] for r in records())


def test_out_json_parses(mujun: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = run(mujun, "evaluate", str(inputs["xlsx"]), "--year", "2025", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    text = json.dumps(data, ensure_ascii=False)
    missing = [r["credit_code"] for r in records() if r["credit_code"] not in text]
    assert not missing, f"credit codes missing from {out.name}: {missing}"


def _find_col(header: list[str], *names: str) -> int:
    for n in names:
        if n in header:
            return header.index(n)
    raise AssertionError(f"none of {names} in output header {header}")


def test_evaluate_matches_hand_computed(mujun: Path, tmp_path: Path) -> None:
    """The case worked out by hand in bench/testdata/README.md (also the pandas reference's)."""
    src = REPO / "bench" / "testdata" / "small.csv"
    out = tmp_path / "small-results.csv"
    proc = run(mujun, "evaluate", str(src), "--year", "2025", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = read_csv_rows(out)
    header, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    ci = code_column(header)
    si = _find_col(header, "total_score", "总分")
    ri = _find_col(header, "rank", "排名")
    ki = _find_col(header, "class", "final_class", "最终类别")
    ei = _find_col(header, "exempt_reason", "不参评原因")
    got = {r[ci]: r for r in body}
    with open(REPO / "bench" / "testdata" / "small.expected.csv", encoding="utf-8", newline="") as f:
        expected = list(csv.DictReader(f))
    assert expected, "bench/testdata/small.expected.csv has no rows"
    assert sorted(got) == sorted(e["credit_code"] for e in expected), "one output row per expected enterprise"
    # every difference at once, not only the first
    wrong = []
    for e in expected:
        r = got[e["credit_code"]]
        where = f"{e['tag']} {e['credit_code']}"
        for what, col, want in (("class", ki, e["class"]), ("rank", ri, e["rank"]),
                                ("exempt reason", ei, e["exempt_reason"])):
            if r[col] != want:
                wrong.append(f"{where}: {what} {r[col]!r}, expected {want!r}")
        if e["total_score_exact"]:
            want_score = float(Fraction(e["total_score_exact"]))
            if not r[si] or abs(float(r[si]) - want_score) > 1e-6:
                wrong.append(f"{where}: total score {r[si]!r}, expected {want_score!r}")
        elif r[si] != "":
            wrong.append(f"{where}: total score {r[si]!r}, expected none")
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ bad input
def bad_records() -> tuple[list[dict], dict[int, str]]:
    rows = [dict(r) for r in records()[:9]]
    bad: dict[int, str] = {}  # spreadsheet row number (header = 1) -> what is wrong
    # row 2 is good; row 3: invalid check character
    rows[1]["credit_code"] = wrong_check(rows[1]["credit_code"]); bad[3] = "credit code check character"
    # row 4 is good; row 5: duplicate of row 2's code
    rows[3]["credit_code"] = rows[0]["credit_code"]; bad[5] = "duplicate credit code"
    rows[4]["tax"] = "九百八十"; bad[6] = "text in a number column"
    rows[5]["land_mu"] = -22.0; bad[7] = "negative land area"
    rows[6]["town"] = "火星镇"; bad[8] = "unknown town"
    rows[7]["veto"] = "随地吐痰"; rows[7]["exempt"] = ""; bad[9] = "unknown veto kind"
    rows[8]["scale"] = "中型"; bad[10] = "unknown scale"
    return rows, bad


def names_row(output: str, row: int) -> bool:
    return re.search(rf"(第\s*{row}\s*行)|(\brow\s*{row}\b)", output, re.IGNORECASE) is not None


def check_bad_rows_report(proc: subprocess.CompletedProcess, bad: dict[int, str]) -> None:
    output = assert_clean_failure(proc)
    missing = [f"row {n} ({why})" for n, why in bad.items() if not names_row(output, n)]
    assert not missing, f"error report does not name {missing}:\n{output}"
    assert not names_row(output, 4), f"row 4 is valid but was named:\n{output}"


@pytest.mark.parametrize("out_name", ["out.csv", "out.xlsx", "out.json"])
def test_bad_rows_are_all_named_and_nothing_is_written(mujun: Path, tmp_path: Path, out_name: str) -> None:
    rows, bad = bad_records()
    src = tmp_path / "bad.csv"
    src.write_bytes(csv_text(rows, HEADERS_ZH).encode("utf-8"))
    out = tmp_path / out_name
    proc = run(mujun, "evaluate", str(src), "--year", "2025", "--out", str(out), cwd=tmp_path)
    check_bad_rows_report(proc, bad)
    assert not out.exists(), "no output file may be written on bad input"


def test_bad_rows_in_xlsx_are_named_by_sheet_row(mujun: Path, tmp_path: Path) -> None:
    rows, bad = bad_records()
    src = tmp_path / "bad.xlsx"
    write_xlsx(src, rows, HEADERS_ZH)
    out = tmp_path / "out.csv"
    proc = run(mujun, "evaluate", str(src), "--year", "2025", "--out", str(out), cwd=tmp_path)
    check_bad_rows_report(proc, bad)
    assert not out.exists()


def test_existing_output_is_left_alone_on_bad_input(mujun: Path, tmp_path: Path) -> None:
    rows, _ = bad_records()
    src = tmp_path / "bad.csv"
    src.write_text(csv_text(rows, HEADERS_ZH), encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("earlier results\n", encoding="utf-8")
    proc = run(mujun, "evaluate", str(src), "--year", "2025", "--out", str(out), cwd=tmp_path)
    assert_clean_failure(proc)
    assert out.read_text(encoding="utf-8") == "earlier results\n"


# random bytes from the run's seed (printed at the end of the run; MUJUN_TEST_SEED repeats it)
@pytest.mark.parametrize("name,content", [
    ("broken.xlsx", rng("random-bytes-xlsx").randbytes(4096)),
    ("truncated.xlsx", b"PK\x03\x04" + rng("truncated-zip-xlsx").randbytes(2000)),
    ("garbage.csv", bytes(range(256)) * 8 + rng("binary-garbage-csv").randbytes(4096)),
    ("empty.csv", b""),
], ids=["random-bytes-xlsx", "truncated-zip-xlsx", "binary-garbage-csv", "empty-csv"])
def test_unreadable_files_give_one_clear_message(mujun: Path, tmp_path: Path, name: str, content: bytes) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.csv"
    proc = run(mujun, "evaluate", str(src), "--year", "2025", "--out", str(out), cwd=tmp_path)
    seed = f"(input from {SEED_ENV}={SEED})"
    output = assert_clean_failure(proc, seed)
    lines = [l for l in output.splitlines() if l.strip()]
    assert len(lines) <= 6, f"expected one clear message, got {len(lines)} lines {seed}:\n{output}"
    assert not out.exists(), f"{out.name} was written for an unreadable input {seed}"


def test_missing_input_file_is_a_clear_error(mujun: Path, tmp_path: Path) -> None:
    proc = run(mujun, "evaluate", str(tmp_path / "no-such-file.csv"), "--year", "2025",
               "--out", str(tmp_path / "out.csv"), cwd=tmp_path)
    assert_clean_failure(proc)
    assert not (tmp_path / "out.csv").exists()


def test_rules_show_prints_the_default_weights(mujun: Path, tmp_path: Path) -> None:
    proc = run(mujun, "rules", "show", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "tax_per_mu" in proc.stdout
    assert re.search(r"\b30\b", proc.stdout) and re.search(r"\b50\b", proc.stdout)

