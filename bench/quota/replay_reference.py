#!/usr/bin/env python3
"""The quota ledger's standalone replay (../shared/LEDGER.md), written the plain way.

It is the reference `mujun quota replay` is cross-checked against, and the baseline of its
speed comparison (bench/quota/run.sh). It follows bench/quota/README.md — the exact contract —
to the letter; the choices that page leaves open are in its "Clarifications" section.

    python3 bench/quota/replay_reference.py JOURNAL.csv --project project.yaml [--as-of YYYY-MM-DD] \\
        --out balances.csv --refused refused.csv

Standard library only (PyYAML is used for project.yaml when it is installed, a small reader of
the same four keys otherwise). Amounts are integers of ten-thousandths of a mu throughout: no
floating point anywhere.

Exit status: 0 when the journal could be read (refused postings are listed in refused.csv, not
fatal); 2 when the project, the arguments or the journal cannot be read — then every unreadable
row is named on stderr as `第 N 行 [列]：… / row N [col]: …` and nothing is written.
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from datetime import date

UNIT = 10_000                      # amounts are kept in ten-thousandths of a mu
LIMIT_UNITS = 10**12 * UNIT        # an amount must stay under 10^12 mu

# ------------------------------------------------------------------ the vocabulary (README.md)
QUOTAS = ("new_farmland", "reclaimed_construction", "basic_farmland")   # the order of balances.csv
QUOTA_ZH = {"new_farmland": "新增耕地", "reclaimed_construction": "建设用地复垦", "basic_farmland": "永久基本农田"}
QUOTA_CELLS = {                     # Chinese names exact; the keys are matched case-insensitively
    "新增耕地": "new_farmland",
    "建设用地复垦": "reclaimed_construction",
    "增减挂钩节余指标": "reclaimed_construction",
    "建设用地复垦（增减挂钩节余指标）": "reclaimed_construction",
    "建设用地复垦(增减挂钩节余指标)": "reclaimed_construction",
    "永久基本农田": "basic_farmland",
}
ACTION_CELLS = {"入账": "credit", "使用": "use", "调剂": "transfer", "冲正": "reverse"}
ACTIONS = ("credit", "use", "transfer", "reverse")
ACTION_ZH = {"credit": "入账", "use": "使用", "transfer": "调剂", "reverse": "冲正"}

HEADERS_ZH = {"序号": "seq", "日期": "date", "动作": "action", "镇街": "town", "调入镇街": "to_town",
              "指标类型": "quota", "数量(亩)": "amount", "数量（亩）": "amount", "数量": "amount",
              "等别": "grade", "冲正序号": "reverses", "说明": "note"}
KEYS = ("seq", "date", "action", "town", "to_town", "quota", "amount", "grade", "reverses", "note")
REQUIRED = ("seq", "date", "action")

# What "trimmed" means here: spaces and tabs, including the other Unicode space separators
# (category Zs: U+3000 ideographic space, no-break space …) — the same set as Swift's
# CharacterSet.whitespaces. Line breaks inside a quoted cell are kept.
SPACES = "\t\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"

DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")      # the README's plain decimal, ASCII digits
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def trim(cell: str) -> str:
    return cell.strip(SPACES)


def parse_date(text: str) -> date | None:
    """A YYYY-MM-DD date that exists, or None."""
    m = ISO_DATE.fullmatch(text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass(slots=True)
class Decimal4:
    """A plain decimal cell, read exactly. `units` is its value in ten-thousandths (None when it has
    more than 4 decimals once the trailing zeros of its fraction are dropped)."""
    text: str
    negative: bool
    zero: bool
    units: int | None
    whole: int          # the value's integer part (sign not applied)
    fraction: str       # the fraction's digits without trailing zeros


def read_decimal(text: str) -> Decimal4:
    """`text` must already match DECIMAL."""
    negative = text.startswith("-")
    body = text.lstrip("+-")
    whole_digits, _, fraction = body.partition(".")
    fraction = fraction.rstrip("0")
    whole = int(whole_digits or "0")
    zero = whole == 0 and fraction == ""
    units = None
    if len(fraction) <= 4:
        units = whole * UNIT + int(fraction.ljust(4, "0"))
        if negative:
            units = -units
    return Decimal4(text, negative, zero, units, whole, fraction)


def fmt(units: int) -> str:
    """Ten-thousandths of a mu with exactly 4 decimals: `12.5000`, `-3.0000`, `0.0000`."""
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(units), UNIT)
    return f"{sign}{q}.{r:04d}"


def plain(units: int) -> str:
    """Ten-thousandths without trailing zeros: `0.05`, `3`."""
    s = fmt(units).rstrip("0")
    return s[:-1] if s.endswith(".") else s


def ratio(num: int, den: int, places: int = 6) -> str:
    """num / den rounded half up to `places` decimals, for messages only (the rules compare exactly)."""
    scale = 10**places
    q = (2 * num * scale + den) // (2 * den)
    return f"{q // scale}.{q % scale:0{places}d}"


def csv_line(cells: list[str]) -> str:
    """One RFC 4180 record: a cell is quoted (its quotes doubled) when it holds , \" CR or LF."""
    out = []
    for c in cells:
        if any(ch in c for ch in ',"\r\n'):
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return ",".join(out) + "\n"


# ------------------------------------------------------------------ failures of the whole run (exit 2)
class Unreadable(Exception):
    """The journal, the project or the arguments cannot be read: exit 2, nothing written."""

    def __init__(self, errors: list[tuple[int, str, str, str]]):
        super().__init__()
        self.errors = errors   # (row, column, 中文, English); row 0 = the whole file

    def report(self) -> str:
        lines = [f"日记账无法读取，未写入任何文件 / the journal cannot be read, nothing was written "
                 f"({len(self.errors)} 处错误 / errors):"]
        for row, column, zh, en in self.errors:
            place, place_en = (f"第 {row} 行", f"row {row}") if row > 0 else ("文件", "file")
            col = f" [{column}]" if column else ""
            lines.append(f"  {place}{col}：{zh} / {place_en}{col}: {en}")
        return "\n".join(lines) + "\n"


class BadProject(Exception):
    pass


# ------------------------------------------------------------------ project.yaml
@dataclass
class Project:
    name: str
    towns: list[str]
    start: date
    margin_units: int            # margin = margin_units / UNIT (at most 4 decimals)


def yaml_scalars(text: str):
    """project.yaml as plain Python values with every scalar left as the text written (so that
    `margin: 0.05` is the text "0.05", never a float, and `start: 2025-01-01` a string)."""
    try:
        import yaml
    except ImportError:
        return tiny_yaml(text)
    try:
        return yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as e:
        raise BadProject(f"project.yaml 不是有效的 YAML / project.yaml is not valid YAML: {e}") from None


def tiny_yaml(text: str) -> dict:
    """Without PyYAML: `key: value` lines, `key: [a, b]` and `key:` followed by `- item` lines."""
    def scalar(s: str) -> str:
        s = s.strip()
        if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
            return s[1:-1]
        return s.split(" #")[0].strip()
    out: dict = {}
    key = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.lstrip().startswith("- ") or line.strip() == "-":
            if key is None or not isinstance(out.get(key), list):
                raise BadProject("project.yaml 无法读取 / project.yaml cannot be read")
            out[key].append(scalar(line.strip()[1:]))
            continue
        k, sep, v = line.partition(":")
        if not sep or line[0].isspace():
            raise BadProject("project.yaml 无法读取 / project.yaml cannot be read")
        key, v = k.strip(), v.strip()
        if v.startswith("[") and v.endswith("]"):
            out[key] = [scalar(x) for x in v[1:-1].split(",") if x.strip()]
        elif v == "":
            out[key] = []
        else:
            out[key] = scalar(v)
    return out


def read_project(path: str) -> Project:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise BadProject(f"无法打开 {path} / cannot open {path}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadProject("project.yaml 应为 UTF-8 / project.yaml must be UTF-8") from None
    doc = yaml_scalars(text)
    if not isinstance(doc, dict):
        raise BadProject("project.yaml 应为 name/towns/start/margin 映射 / project.yaml must be a mapping")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise BadProject("name 应为文字 / name must be text")
    towns = doc.get("towns")
    if not isinstance(towns, list) or not towns or not all(isinstance(t, str) for t in towns):
        raise BadProject("towns 应为镇街名称的列表 / towns must be a non-empty list of names")
    towns = [trim(t) for t in towns]
    if any(t == "" for t in towns):
        raise BadProject("镇街名称为空 / a town name is empty")
    if len(set(towns)) != len(towns):
        raise BadProject("镇街重复 / a town is listed twice")
    start = parse_date(trim(doc["start"])) if isinstance(doc.get("start"), str) else None
    if start is None:
        raise BadProject("start 应为 YYYY-MM-DD 日期 / start must be a YYYY-MM-DD date")
    margin_text = doc.get("margin", "0.05")
    if not isinstance(margin_text, str) or not DECIMAL.fullmatch(trim(margin_text)):
        raise BadProject("margin 应为数 / margin must be a number")
    m = read_decimal(trim(margin_text))
    if m.units is None or m.units < 0:
        raise BadProject(f"margin「{margin_text}」应 ≥ 0、至多 4 位小数 / margin must be ≥ 0 with at most 4 decimals")
    return Project(name.strip(), towns, start, m.units)


# ------------------------------------------------------------------ reading the journal
@dataclass(slots=True)
class Row:
    row: int                     # spreadsheet numbering: header = 1
    seq: str
    date: date
    action: str                  # credit | use | transfer | reverse
    town: str
    to_town: str
    quota: str                   # the cell as written (trimmed)
    amount: str                  # the cell as written (trimmed), a plain decimal or empty
    grade: str
    reverses: str
    note: str


def decode(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise Unreadable([(0, "", "文件既不是 UTF-8 也不是 GB18030 编码", "the file is neither UTF-8 nor GB18030")]) from None


def header_key(cell: str) -> str | None:
    return HEADERS_ZH.get(cell) or (cell.lower() if cell.lower() in KEYS else None)


def read_journal(path: str) -> list[Row]:
    """Every row of the journal, or Unreadable naming every row that cannot be read."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Unreadable([(0, "", f"无法打开 {path}：{e.strerror}", f"cannot open {path}: {e.strerror}")]) from None
    records = csv.reader(io.StringIO(decode(raw), newline=""))
    try:
        header = [trim(c) for c in next(records, [])]
    except csv.Error as e:
        raise Unreadable([(0, "", f"CSV 无法读取：{e}", f"the CSV cannot be read: {e}")]) from None

    # the header: which column holds which key (unknown columns are ignored)
    column: dict[str, int] = {}
    errors: list[tuple[int, str, str, str]] = []
    for i, h in enumerate(header):
        key = header_key(h)
        if key is None:
            continue
        if key in column:
            errors.append((0, h, f"列“{h}”与“{header[column[key]]}”重复", f"column {h!r} repeats {header[column[key]]!r}"))
        else:
            column[key] = i
    for key in REQUIRED:
        if key not in column:
            zh = {"seq": "序号", "date": "日期", "action": "动作"}[key]
            errors.append((0, zh, f"缺少必需的列“{zh}”（{key}）", f"the required column {key} ({zh}) is missing"))
    if errors:
        raise Unreadable(errors)
    name = {key: header[i] for key, i in column.items()}   # a column as the file's header writes it
    # every key's cell index; a key without a column reads the empty cell just past the header's end
    width = len(header) + 1
    where = {key: column.get(key, len(header)) for key in KEYS}

    rows: list[Row] = []
    seen: dict[str, int] = {}     # seq -> the row that used it first
    number = 1
    try:
        for record in records:
            number += 1
            cells = [c.strip(SPACES) for c in record]
            if not any(cells):
                continue          # a blank row: skipped, still counted
            cells += [""] * (width - len(cells))          # a short record: its missing cells are empty
            get = {key: cells[i] for key, i in where.items()}
            bad = len(errors)

            seq = get["seq"]
            if seq == "":
                errors.append((number, name["seq"], "序号为空", "the seq is empty"))
            elif seq in seen:
                errors.append((number, name["seq"], f"序号 {seq} 与第 {seen[seq]} 行重复",
                               f"seq {seq} was used by row {seen[seq]}"))
            else:
                seen[seq] = number
            day = parse_date(get["date"])
            if day is None:
                errors.append((number, name["date"], f"日期“{get['date']}”不是 YYYY-MM-DD 日期",
                               f"date {get['date']!r} is not a YYYY-MM-DD date"))
            cell = get["action"]
            action = ACTION_CELLS.get(cell) or (cell.lower() if cell.lower() in ACTIONS else None)
            if action is None:
                errors.append((number, name["action"], f"动作“{cell}”未知（入账、使用、调剂、冲正）",
                               f"unknown action {cell!r} (credit, use, transfer, reverse)"))
            for key, zh in (("amount", "数量"), ("grade", "等别")):
                if get[key] and not DECIMAL.fullmatch(get[key]):
                    errors.append((number, name[key], f"{zh}“{get[key]}”不是数字", f"{key} {get[key]!r} is not a number"))
            if len(errors) == bad:
                rows.append(Row(number, seq, day, action, get["town"], get["to_town"], get["quota"],
                                get["amount"], get["grade"], get["reverses"], get["note"]))
    except csv.Error as e:
        errors.append((number, "", f"CSV 无法读取：{e}", f"the CSV cannot be read: {e}"))
    if errors:
        raise Unreadable(errors)
    return rows


# ------------------------------------------------------------------ the ledger
@dataclass(slots=True)
class Effect:
    """What an accepted entry did, as a credit, use or transfer of `units`, times `sign` (a reversal
    has the effect of its target with the opposite sign)."""
    kind: str           # credit | use | transfer
    town: str
    to_town: str        # transfer only
    quota: str
    units: int
    grade: int          # new_farmland credit/use only, else 0
    sign: int = 1

    def inverse(self) -> "Effect":
        return Effect(self.kind, self.town, self.to_town, self.quota, self.units, self.grade, -self.sign)


@dataclass(slots=True)
class Entry:
    row: int
    seq: str
    date: date
    effect: Effect
    reversed_by: str | None = None


class Refusal(Exception):
    def __init__(self, rule: int, zh: str, en: str):
        super().__init__(rule)
        self.rule, self.zh, self.en = rule, zh, en

    def reason(self) -> str:
        return f"规则{self.rule}：{self.zh} / rule {self.rule}: {self.en}"


@dataclass(slots=True)
class Figures:
    """The four columns of one (town, quota), net of reversals."""
    credited: int = 0
    used: int = 0
    transferred_in: int = 0
    transferred_out: int = 0

    @property
    def balance(self) -> int:
        return self.credited - self.used + self.transferred_in - self.transferred_out


@dataclass
class State:
    towns: list[str]
    figures: dict = field(default_factory=dict)     # (town, quota) -> Figures
    added_back: int = 0      # project-wide basic_farmland credited (A)
    moved_out: int = 0       # project-wide basic_farmland used (M)
    nf_credited: int = 0     # C: new_farmland credited
    nf_credited_grade: int = 0   # CG: Σ amount × grade of the credits
    nf_used: int = 0         # U
    nf_used_grade: int = 0   # UG

    def __post_init__(self):
        for t in self.towns:
            for q in QUOTAS:
                self.figures[(t, q)] = Figures()

    def apply(self, e: Effect, sign: int) -> None:
        a = e.units * e.sign * sign
        if e.kind == "credit":
            self.figures[(e.town, e.quota)].credited += a
            if e.quota == "basic_farmland":
                self.added_back += a
            elif e.quota == "new_farmland":
                self.nf_credited += a
                self.nf_credited_grade += a * e.grade
        elif e.kind == "use":
            self.figures[(e.town, e.quota)].used += a
            if e.quota == "basic_farmland":
                self.moved_out += a
            elif e.quota == "new_farmland":
                self.nf_used += a
                self.nf_used_grade += a * e.grade
        else:   # transfer: out of town, into to_town (transfers never count for rules 6 and 7)
            self.figures[(e.town, e.quota)].transferred_out += a
            self.figures[(e.to_town, e.quota)].transferred_in += a


class Ledger:
    def __init__(self, project: Project):
        self.project = project
        self.state = State(project.towns)
        self.latest: date | None = None
        self.accepted: dict[str, Entry] = {}   # seq -> accepted entry
        self.journal: list[Entry] = []         # accepted entries in order (their dates never go down)
        self.rows_by_seq: dict[str, int] = {}  # seq -> row, for every row read (for the words of rule 8)

    # --------------------------------------------------------- one row
    def post(self, r: Row) -> Refusal | None:
        try:
            entry = self.reverse(r) if r.action == "reverse" else self.posting(r)
        except Refusal as refusal:
            return refusal
        self.accepted[entry.seq] = entry
        self.journal.append(entry)
        self.latest = entry.date
        return None

    def posting(self, r: Row) -> Entry:
        """credit, use, transfer: the checks in the README's order; the first failing one refuses."""
        towns = self.project.towns
        listed = "、".join(towns)
        # rule 1: town, then to_town (transfer), then the quota type
        if r.town not in towns:
            raise Refusal(1, f"镇街“{r.town}”不是本项目的镇街（{listed}）", f"town '{r.town}' is not one of the project's towns")
        if r.action == "transfer" and r.to_town not in towns:
            raise Refusal(1, f"调入镇街“{r.to_town}”不是本项目的镇街（{listed}）",
                          f"to_town '{r.to_town}' is not one of the project's towns")
        quota = QUOTA_CELLS.get(r.quota) or (r.quota.lower() if r.quota.lower() in QUOTAS else None)
        if quota is None:
            raise Refusal(1, f"指标类型“{r.quota}”未知", f"unknown quota type '{r.quota}'")
        # rule 2: a positive amount with at most 4 decimals, under 10^12 mu
        if r.amount == "":
            raise Refusal(2, "数量为空", "the amount is empty")
        amount = read_decimal(r.amount)
        if amount.negative or amount.zero:
            raise Refusal(2, f"数量“{r.amount}”不是正数", f"amount '{r.amount}' is not positive")
        if amount.units is None:
            raise Refusal(2, f"数量“{r.amount}”超过 4 位小数", f"amount '{r.amount}' has more than 4 decimals")
        if amount.units >= LIMIT_UNITS:
            raise Refusal(2, f"数量“{r.amount}”不小于 10^12 亩", f"amount '{r.amount}' is 10^12 mu or more")
        # rule 3: a transfer goes to another town, and never moves basic_farmland
        if r.action == "transfer":
            if r.to_town == r.town:
                raise Refusal(3, f"调剂的调出、调入镇街相同（{r.town}）", f"a transfer to its own town ({r.town})")
            if quota == "basic_farmland":
                raise Refusal(3, "永久基本农田不能在镇街之间调剂", "basic_farmland does not move between towns")
        # rule 4: the journal is chronological
        self.check_date(r.date)
        # rule 7 (grade): a new_farmland credit or use carries a whole grade 1–15
        grade = 0
        if quota == "new_farmland" and r.action in ("credit", "use"):
            if r.grade == "":
                raise Refusal(7, f"新增耕地{ACTION_ZH[r.action]}缺少等别", f"a new_farmland {r.action} needs its grade")
            g = read_decimal(r.grade)
            value = -g.whole if g.negative else g.whole
            if g.fraction != "" or not 1 <= value <= 15:
                raise Refusal(7, f"等别“{r.grade}”不是 1–15 的整数", f"grade '{r.grade}' is not a whole number 1–15")
            grade = value
        effect = Effect(r.action, r.town, r.to_town if r.action == "transfer" else "", quota, amount.units, grade)
        broken = self.try_apply(effect)          # rules 5, 6, 7 on the state after it
        if broken:
            raise broken
        return Entry(r.row, r.seq, r.date, effect)

    def reverse(self, r: Row) -> Entry:
        """reverse: rule 8 (target, then reason), rule 4, then the inverse checked against 5–7 as rule 8."""
        target = r.reverses
        if target == "":
            raise Refusal(8, "冲正序号为空", "the reversal names no entry (冲正序号 is empty)")
        entry = self.accepted.get(target)
        if entry is None:
            where = self.rows_by_seq.get(target)
            if where is None:
                zh, en = "不存在", "does not exist"
            elif where == r.row:
                zh, en = "就是本行", "is this row itself"
            elif where > r.row:
                zh, en = f"在本行之后（第 {where} 行）", f"comes later (row {where})"
            else:
                zh, en = f"已被拒绝（第 {where} 行）", f"was refused (row {where})"
            raise Refusal(8, f"冲正序号 {target} 不是此前已接受的记录：{zh}",
                          f"{target} is not an accepted earlier entry: it {en}")
        if entry.reversed_by is not None:
            raise Refusal(8, f"第 {target} 号已被第 {entry.reversed_by} 号冲正", f"{target} is already reversed by {entry.reversed_by}")
        if r.note == "":
            raise Refusal(8, "冲正须填写说明", "a reversal needs a reason (说明)")
        self.check_date(r.date)
        effect = entry.effect.inverse()
        broken = self.try_apply(effect)
        if broken:
            raise Refusal(8, f"冲正第 {target} 号将违反规则{broken.rule}：{broken.zh}",
                          f"reversing {target} would break rule {broken.rule}: {broken.en}")
        entry.reversed_by = r.seq
        return Entry(r.row, r.seq, r.date, effect)

    def check_date(self, d: date) -> None:
        if d < self.project.start:
            raise Refusal(4, f"日期 {d} 早于项目开始日期 {self.project.start}", f"date {d} is before the project's start {self.project.start}")
        if self.latest is not None and d < self.latest:
            raise Refusal(4, f"日期 {d} 早于最近一笔已接受记录的日期 {self.latest}",
                          f"date {d} is before the latest accepted posting's {self.latest}")

    # --------------------------------------------------------- rules 5, 6, 7
    def try_apply(self, e: Effect) -> Refusal | None:
        """Applies `e`; when the state after it breaks rule 5, 6 or 7 (checked in that order), takes
        it back and returns why."""
        s = self.state
        s.apply(e, +1)
        broken = self.broken_rule(e)
        if broken:
            s.apply(e, -1)
        return broken

    def broken_rule(self, e: Effect) -> Refusal | None:
        s = self.state
        delta = e.units * e.sign
        # rule 5: no (town, new_farmland / reclaimed_construction) balance below 0
        if e.quota != "basic_farmland":
            for town in ([e.town, e.to_town] if e.kind == "transfer" else [e.town]):
                after = s.figures[(town, e.quota)].balance
                if after < 0:
                    # the amount this posting took off the town's balance
                    lowered = delta if e.kind == "use" or (e.kind == "transfer" and town == e.town) else -delta
                    return Refusal(5, f"{town} {QUOTA_ZH[e.quota]} 余额 {fmt(after + lowered)} 亩，减少 {fmt(lowered)} 亩后为 {fmt(after)} 亩",
                                   f"{town} {e.quota} balance {fmt(after + lowered)} mu would be {fmt(after)} mu after taking {fmt(lowered)} mu")
        # rule 6: basic_farmland added back A ≥ (1 + margin) × moved out M, i.e. A × D ≥ (D + N) × M
        if e.quota == "basic_farmland":
            a, m, n = s.added_back, s.moved_out, self.project.margin_units
            if a * UNIT < (UNIT + n) * m:
                return Refusal(6, f"永久基本农田 补划 {fmt(a)} 亩，少于 (1 + {plain(n)}) × 调出 {fmt(m)} 亩",
                               f"basic_farmland added back {fmt(a)} mu < (1 + {plain(n)}) × moved out {fmt(m)} mu")
        # rule 7: the area-weighted grade credited is not worse (larger) than the grade used
        if s.nf_used > 0:
            c, cg, u, ug = s.nf_credited, s.nf_credited_grade, s.nf_used, s.nf_used_grade
            if c <= 0 or cg * u > ug * c:
                credited = ratio(cg, c) if c > 0 else "—"
                return Refusal(7, f"新增耕地 入账加权等别 {credited} 劣于 使用加权等别 {ratio(ug, u)}（质量不降低）",
                               f"new_farmland credited grade {credited} is worse than used grade {ratio(ug, u)}")
        return None


# ------------------------------------------------------------------ the run
def balances_as_of(project: Project, journal: list[Entry], as_of: date) -> State:
    """The figures of the accepted entries dated on or before `as_of`: a prefix of the accepted
    journal, whose dates never go down (acceptance itself was decided on the whole file)."""
    state = State(project.towns)
    for entry in journal:
        if entry.date <= as_of:
            state.apply(entry.effect, +1)
    return state


def replay(project: Project, rows: list[Row]) -> tuple[Ledger, list[tuple[int, str, str]]]:
    ledger = Ledger(project)
    ledger.rows_by_seq = {r.seq: r.row for r in rows}
    refused = []
    for r in rows:
        refusal = ledger.post(r)
        if refusal is not None:
            refused.append((r.row, r.seq, refusal.reason()))
    return ledger, refused


def write_outputs(project: Project, state: State, refused: list, out: str, refused_out: str) -> None:
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(csv_line(["town", "quota", "credited", "used", "transferred_in", "transferred_out", "balance"]))
        for town in project.towns:
            for quota in QUOTAS:
                x = state.figures[(town, quota)]
                f.write(csv_line([town, quota, fmt(x.credited), fmt(x.used), fmt(x.transferred_in),
                                  fmt(x.transferred_out), fmt(x.balance)]))
    with open(refused_out, "w", encoding="utf-8", newline="") as f:
        f.write(csv_line(["row", "seq", "reason"]))
        for row, seq, reason in refused:
            f.write(csv_line([str(row), seq, reason]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Replay a quota-ledger journal (bench/quota/README.md).")
    ap.add_argument("journal", help="the journal CSV (UTF-8 or GB18030)")
    ap.add_argument("--project", required=True, help="project.yaml: name, towns, start, margin")
    ap.add_argument("--as-of", help="balances of the accepted postings dated on or before this date")
    ap.add_argument("--out", required=True, help="balances.csv")
    ap.add_argument("--refused", required=True, help="refused.csv")
    args = ap.parse_args(argv)

    as_of = None
    if args.as_of is not None:
        as_of = parse_date(args.as_of.strip())
        if as_of is None:
            sys.stderr.write(f"--as-of “{args.as_of}”不是 YYYY-MM-DD 日期 / --as-of {args.as_of!r} is not a YYYY-MM-DD date\n")
            return 2
    try:
        project = read_project(args.project)
    except BadProject as e:
        sys.stderr.write(f"{args.project}: {e}\n")
        return 2
    try:
        rows = read_journal(args.journal)
    except Unreadable as e:
        sys.stderr.write(e.report())
        return 2

    ledger, refused = replay(project, rows)
    state = ledger.state if as_of is None else balances_as_of(project, ledger.journal, as_of)
    write_outputs(project, state, refused, args.out, args.refused)
    print(f"{len(rows)} 行，接受 {len(ledger.journal)}，拒绝 {len(refused)} / "
          f"{len(rows)} rows, {len(ledger.journal)} accepted, {len(refused)} refused", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
