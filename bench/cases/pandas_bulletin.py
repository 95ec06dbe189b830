#!/usr/bin/env python3
"""The supervision bulletin (督导通报) of ../shared/CASES.md from a handling history, in pandas.

It is the reference the Swift case engine (`mujun cases bulletin`) is cross-checked against,
and the baseline of its speed comparison. It follows CASES.md and docs/CASES.md to the letter.

    python3 bench/cases/pandas_bulletin.py HISTORY.csv --from 2025-01-01 --to 2026-12-31 \\
        --as-of 2026-03-16 [--type suggestion] --out bulletin.csv [--cases-out cases.csv]

Input (§5): one row per event, CSV (UTF-8, UTF-8 with BOM or GB18030, detected) or XLSX (first
sheet, via openpyxl); Chinese headers or English keys, matched with case and spaces ignored and
full-width brackets read as ASCII ones; unknown columns ignored; required: ref, type, event,
date. Values: type key or Chinese name, event key or Chinese name, rating 满意/基本满意/不满意 or
satisfied/basically_satisfied/unsatisfied, head 是/否 yes/no 1/0 true/false (empty = no),
passed 通过/不通过 or the values of head. Dates YYYY-MM-DD or YYYY/M/D.

Every row is checked against the state machine of §1 (rows after --as-of too). Any bad row:
each is printed to stderr as `row N: 中文原因 / English reason` (header = row 1, a record that
spans lines is one row), the exit status is 1 and nothing is written. Otherwise:

- `--out`: one row per lead unit, header
  unit,assigned,accepted_on_time,accept_late,replied,reply_due,replied_on_time,on_time_rate,
  overdue_now,yellow,red,evaluated,satisfaction_rate,resolution_rate,head_rate,rank,bottom
  (rates = the nearest double of the exact fraction in shortest round-trip form, empty when
  the denominator is 0; rank empty when unranked; bottom 1 for 末位); ranked units in rank order
  (ties by name), then the unranked ones by name (code points).
- `--cases-out`: one row per counted case, header
  ref,type,unit,assigned_on,accept_due,accepted_on,reply_due,replied_on,state,flag,rating,category
  ordered by type key, then ref.

How this script reads what the two pages leave open is listed in bench/cases/README.md.
"""
from __future__ import annotations

import argparse
import bisect
import codecs
import csv
import io
import re
import sys
from datetime import date, datetime
from fractions import Fraction

import numpy as np
import pandas as pd

if "mode.max_threads" in pd.options.mode.__dir__():
    pd.set_option("mode.max_threads", 1)   # one thread: the single-core baseline (pandas >= 3.1 reads CSV in threads)

# ------------------------------------------------------------------ the defaults of CASES.md §2
# a period is ("workdays" | "days" | "months", n); "given" = the assigner sets the reply due date
CASE_TYPES: dict[str, dict] = {
    "task":               {"zh": "整治任务", "accept": ("workdays", 2), "reply": "given", "from": "assign",
                           "extend": None, "max_extensions": None, "verify": True, "evaluate": False,
                           "categories": None, "rehandle": ("months", 1)},
    "suggestion":         {"zh": "人大建议", "accept": ("workdays", 5), "reply": ("months", 3), "from": "assign",
                           "extend": ("months", 6), "max_extensions": None, "verify": False, "evaluate": True,
                           "categories": ("A", "B", "C", "D"), "rehandle": ("months", 1)},
    "proposal":           {"zh": "政协提案", "accept": ("workdays", 5), "reply": ("months", 3), "from": "assign",
                           "extend": ("months", 6), "max_extensions": None, "verify": False, "evaluate": True,
                           "categories": ("A", "B", "C", "D"), "rehandle": ("months", 1)},
    "petition":           {"zh": "信访", "accept": ("days", 15), "reply": ("days", 60), "from": "accept",
                           "extend": ("days", 90), "max_extensions": 1, "verify": False, "evaluate": True,
                           "categories": None, "rehandle": ("months", 1)},
    "enterprise_request": {"zh": "企业诉求", "accept": ("workdays", 1), "reply": ("workdays", 10), "from": "assign",
                           "extend": ("workdays", 20), "max_extensions": None, "verify": False, "evaluate": True,
                           "categories": None, "rehandle": ("months", 1)},
    "rectification":      {"zh": "整改事项", "accept": ("workdays", 2), "reply": "given", "from": "assign",
                           "extend": None, "max_extensions": None, "verify": True, "evaluate": False,
                           "categories": None, "rehandle": ("months", 1)},
    "hazard":             {"zh": "安全隐患", "accept": ("workdays", 1), "reply": "given", "from": "assign",
                           "extend": None, "max_extensions": None, "verify": True, "evaluate": False,
                           "categories": None, "rehandle": ("months", 1)},
}
RESOLVED = {"A", "B"}          # 解决 = A 已解决或基本解决, B 正在解决或列入计划解决
RED_AFTER = 5                  # working days after the earliest missed deadline
MIN_CASES = 3                  # in reply_due, to be ranked
BOTTOM = 3                     # 末位 positions

# ------------------------------------------------------------------ the work calendar (WorkCalendar.shippedYAML)
CALENDAR = {
    2025: {"holidays": ["2025-01-01", "2025-01-28..2025-02-04", "2025-04-04..2025-04-06", "2025-05-01..2025-05-05",
                        "2025-05-31..2025-06-02", "2025-10-01..2025-10-08"],
           "workdays": ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]},
    2026: {"holidays": ["2026-01-01..2026-01-03", "2026-02-15..2026-02-23", "2026-04-04..2026-04-06",
                        "2026-05-01..2026-05-05", "2026-06-19..2026-06-21", "2026-09-25..2026-09-27",
                        "2026-10-01..2026-10-07"],
           "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]},
}

EPOCH = date(1970, 1, 1).toordinal()


def day_number(d: date) -> int:
    """Days since 1970-01-01, as CalendarDate.dayNumber."""
    return d.toordinal() - EPOCH


def iso(n: int | None) -> str:
    return "" if n is None else date.fromordinal(n + EPOCH).isoformat()


def add_months(n: int, months: int) -> int:
    """The same day of the month `months` later, or that month's last day."""
    d = date.fromordinal(n + EPOCH)
    total = d.year * 12 + d.month - 1 + months
    y, m = divmod(total, 12)
    m += 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
    return day_number(date(y, m, min(d.day, last)))


class WorkCalendar:
    """Working day = (Mon–Fri and not a holiday) or a make-up day; a year not configured: weekends only."""

    LO = day_number(date(1990, 1, 1))
    HI = day_number(date(2200, 12, 31))

    def __init__(self, years: dict = CALENDAR):
        self.holidays: set[int] = set()
        self.makeup: set[int] = set()
        for entry in years.values():
            for item in entry.get("holidays", []):
                a, _, b = item.partition("..")
                first = day_number(date.fromisoformat(a))
                last = day_number(date.fromisoformat(b or a))
                self.holidays.update(range(first, last + 1))
            for item in entry.get("workdays", []):
                self.makeup.add(day_number(date.fromisoformat(item)))
        # cw[i] = working days in [LO, LO + i]
        cw, c = [], 0
        for n in range(self.LO, self.HI + 1):
            c += self._is_workday(n)
            cw.append(c)
        self.cw = cw

    def _is_workday(self, n: int) -> bool:
        if n in self.makeup:
            return True
        if n in self.holidays:
            return False
        return (n + 3) % 7 < 5          # 1970-01-01 was a Thursday (Monday = 0)

    def is_workday(self, n: int) -> bool:
        return self._is_workday(n)

    def add_workdays(self, k: int, s: int) -> int:
        """The k-th working day after s (s itself not counted)."""
        if k <= 0:
            return s
        if self.LO <= s and s + 3 * k + 60 <= self.HI:
            i = s - self.LO
            return self.LO + bisect.bisect_left(self.cw, self.cw[i] + k, i + 1)
        d = s
        while k > 0:
            d += 1
            k -= self._is_workday(d)
        return d

    def on_or_after(self, n: int) -> int:
        return n if self._is_workday(n) else self.add_workdays(1, n)

    def workdays_after_through(self, a: int, b: int) -> int:
        """Working days in (a, b]."""
        if b <= a:
            return 0
        if self.LO <= a and b <= self.HI:
            return self.cw[b - self.LO] - self.cw[a - self.LO]
        return sum(self._is_workday(n) for n in range(a + 1, b + 1))

    def due(self, period, s: int) -> int:
        kind, k = period
        if kind == "workdays":
            return self.add_workdays(k, s)
        if kind == "days":
            return self.on_or_after(s + k)
        if kind == "months":
            return self.on_or_after(add_months(s, k))
        raise ValueError(period)


# ------------------------------------------------------------------ the history file (§5)
HEADERS = {"编号": "ref", "标题": "title", "类型": "type", "事件": "event", "日期": "date", "单位": "unit",
           "协办单位": "co_units", "办理期限": "due", "类别": "category", "评价": "rating",
           "一把手参与": "head", "验收结果": "passed", "说明": "note"}
KEYS = list(dict.fromkeys(HEADERS.values()))
REQUIRED = ("ref", "type", "event", "date")

EVENTS_ZH = {"登记": "register", "交办": "assign", "签收": "accept", "退回": "return", "延期": "extend",
             "办理": "progress", "答复": "reply", "办结": "reply", "验收": "verify", "评价": "evaluate",
             "销号": "close"}
EVENT_KEYS = ("register", "assign", "accept", "return", "extend", "progress", "reply", "verify", "evaluate", "close")
RATINGS = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "unsatisfied",
           "satisfied": "satisfied", "basically_satisfied": "basically_satisfied", "unsatisfied": "unsatisfied"}
YES_NO = {"是": True, "否": False, "yes": True, "no": False, "1": True, "0": False, "true": True, "false": False}
PASSED = {"通过": True, "不通过": False, **YES_NO}
STATE_ZH = {None: "未登记", "registered": "登记", "assigned": "已交办", "handling": "办理中", "replied": "已答复",
            "verified": "已验收", "evaluated": "已评价", "closed": "已销号", "returned": "已退回"}
EVENT_ZH = {v: k for k, v in EVENTS_ZH.items()}
EVENT_ZH["reply"] = "答复"


class InputError(Exception):
    pass


def normalise_header(h: str) -> str:
    return (str(h).strip().lstrip("\ufeff").strip().lower()
            .replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", ""))


KEY_OF = {normalise_header(zh): key for zh, key in HEADERS.items()}
KEY_OF.update({key: key for key in KEYS})

TYPE_OF = {}
for _k, _t in CASE_TYPES.items():
    TYPE_OF[_k] = _k
    TYPE_OF[_t["zh"]] = _k


def type_key(value: str) -> str | None:
    v = value.strip()
    return TYPE_OF.get(v) or TYPE_OF.get(v.lower())


def event_key(value: str) -> str | None:
    v = value.strip()
    if v in EVENTS_ZH:
        return EVENTS_ZH[v]
    v = v.lower()
    return v if v in EVENT_KEYS else None


_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{4})/(\d{1,2})/(\d{1,2})")


def parse_date(value: str) -> int | None:
    """YYYY-MM-DD or YYYY/M/D (surrounding spaces ignored) to a day number; None when not a date."""
    m = _DATE_RE.fullmatch(value.strip())
    if not m:
        return None
    g = m.groups()
    y, mo, d = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5])
    try:
        return day_number(date(int(y), int(mo), int(d)))
    except ValueError:
        return None


def detect_encoding(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_history(path: str) -> pd.DataFrame:
    """The history as strings under the keys of §5 ("" when empty) plus `row` (header = row 1)."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        try:
            import openpyxl
        except ImportError:
            raise InputError("reading XLSX needs openpyxl (pip install openpyxl)") from None
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [[_cell(v) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        if not rows:
            raise InputError(f"{path} is empty")
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        raw = pd.DataFrame(rows[1:], columns=[f"c{i}" for i in range(width)])
        header = rows[0]
    else:
        enc = detect_encoding(path)
        try:
            raw = pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False, na_filter=False,
                              skip_blank_lines=False, index_col=False)
        except pd.errors.EmptyDataError:
            raise InputError(f"{path} is empty") from None
        except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as e:
            raise InputError(f"cannot read {path} as a {enc} CSV: {e}") from None
        header = [str(h) for h in raw.columns]
        raw.columns = [f"c{i}" for i in range(raw.shape[1])]
    df = pd.DataFrame(index=raw.index)
    seen = set()
    for i, h in enumerate(header):
        key = KEY_OF.get(normalise_header(h))
        if key and key not in seen:
            seen.add(key)
            df[key] = raw[f"c{i}"].fillna("").astype(str)
    missing = [k for k in REQUIRED if k not in seen]
    if missing:
        raise InputError("missing column(s): " + ", ".join(missing))
    for k in KEYS:
        if k not in df.columns:
            df[k] = ""
    df["row"] = np.arange(2, len(df) + 2)
    # an empty record (a blank line, or only separators) is no event; it keeps its row number
    blank = np.ones(len(df), dtype=bool)
    for k in KEYS:
        blank &= np.array(mapped(df[k], lambda v: not v.strip()), dtype=bool)
    return df[~blank].reset_index(drop=True)


def mapped(series: pd.Series, fn) -> list:
    """fn applied to every distinct value once (a history has few distinct values per column)."""
    codes, uniques = pd.factorize(series, sort=False)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = [fn(u) for u in uniques]
    return values[codes].tolist()


# ------------------------------------------------------------------ the state machine (§1) and the deadlines (§3)
class Case:
    __slots__ = ("type", "ref", "state", "unit", "assigned_on", "accept_due", "accepted_on", "given_due",
                 "first_due", "cur_due", "limit", "n_ext", "replied_on", "unsatisfied", "rating", "category",
                 "head")

    def __init__(self, type_: str, ref: str):
        self.type, self.ref = type_, ref
        self.state = None
        self.unit = ""
        self.assigned_on = self.accept_due = self.accepted_on = self.given_due = None
        self.first_due = self.cur_due = self.limit = None
        self.n_ext = 0
        self.replied_on = None
        self.unsatisfied = 0
        self.rating = self.category = None
        self.head = False

    def copy(self) -> "Case":
        c = Case.__new__(Case)
        for s in Case.__slots__:
            setattr(c, s, getattr(self, s))
        return c


class Row:
    """One row's cells by key (read when an event needs them)."""
    __slots__ = ("cols", "i")

    def __init__(self, cols: dict[str, list[str]], i: int):
        self.cols, self.i = cols, i

    def __getitem__(self, key: str) -> str:
        return self.cols[key][self.i]


def _err(zh: str, en: str) -> str:
    return f"{zh} / {en}"


def _start_reply_clock(case: Case, t: dict, start: int, cal: WorkCalendar) -> None:
    """The reply due date and the extension limit from `start` (assignment or acceptance)."""
    if t["reply"] == "given":
        due = case.given_due
        case.limit = None
    else:
        due = cal.due(t["reply"], start)
        if case.given_due is not None and case.given_due < due:
            due = case.given_due                   # a given due date may only shorten it
        case.limit = cal.due(t["extend"], start) if t["extend"] else None
    case.first_due = case.cur_due = due


def apply(case: Case, ev: str, day: int, r: dict, cal: WorkCalendar) -> str | None:
    """Applies one event; returns the reason when the row is refused (the case is then unchanged)."""
    t = CASE_TYPES[case.type]
    st = case.state
    cat = r["category"].strip().upper()
    if cat:
        if ev != "reply" or not t["categories"]:
            return _err(f"类别「{r['category']}」只能填在有类别的类型的答复上",
                        f"category \"{r['category']}\" belongs only on a reply of a type with categories")
        if cat not in t["categories"]:
            return _err(f"未知类别「{r['category']}」", f"unknown category \"{r['category']}\"")
    if ev == "register":
        if st is not None:
            return _err("一个事项只能登记一次", "a case is registered once")
        case.state = "registered"
        return None
    if st is None:
        return _err(f"事项的第一个事件应为登记，而不是{EVENT_ZH[ev]}",
                    f"the first event of a case must be register, not {ev}")

    def refused() -> str:
        return _err(f"{STATE_ZH[st]}状态下不能{EVENT_ZH[ev]}", f"{ev} is not allowed in state {st}")

    if ev == "assign":
        if st not in ("registered", "returned"):
            return refused()
        unit = r["unit"].strip()
        if not unit:
            return _err("交办须填写牵头单位", "assign needs the lead unit")
        due_s = r["due"].strip()
        due = None
        if due_s:
            due = parse_date(due_s)
            if due is None:
                return _err(f"办理期限「{due_s}」不是日期", f"due \"{due_s}\" is not a date")
            if due < day:
                return _err(f"办理期限 {iso(due)} 早于交办日期 {iso(day)}",
                            f"due {iso(due)} is before the assignment {iso(day)}")
        elif t["reply"] == "given":
            return _err(f"{t['zh']}交办须填写办理期限", f"{case.type} is assigned with a due date")
        case.state = "assigned"
        case.unit = unit
        case.assigned_on = day
        case.accept_due = cal.due(t["accept"], day)
        case.accepted_on = None
        case.given_due = due
        case.n_ext = 0
        case.first_due = case.cur_due = case.limit = None
        if t["from"] == "assign":
            _start_reply_clock(case, t, day, cal)
        return None
    if ev == "accept":
        if st != "assigned":
            return refused()
        case.state = "handling"
        case.accepted_on = day
        if t["from"] == "accept":
            _start_reply_clock(case, t, day, cal)
        return None
    if ev == "return":
        if st != "assigned":
            return refused()
        if not r["note"].strip():
            return _err("退回须说明理由", "return needs a reason (note)")
        case.state = "returned"
        return None
    if ev == "extend":
        if st != "handling":
            return refused()
        due_s = r["due"].strip()
        if not due_s:
            return _err("延期须填写新的办理期限", "extend needs the new due date")
        due = parse_date(due_s)
        if due is None:
            return _err(f"办理期限「{due_s}」不是日期", f"due \"{due_s}\" is not a date")
        if t["max_extensions"] is not None and case.n_ext >= t["max_extensions"]:
            return _err(f"{t['zh']}只能延期 {t['max_extensions']} 次",
                        f"{case.type} gets {t['max_extensions']} extension(s)")
        if due <= case.cur_due:
            return _err(f"延期后的期限 {iso(due)} 不晚于当前期限 {iso(case.cur_due)}",
                        f"the extension {iso(due)} is not later than the current due date {iso(case.cur_due)}")
        if case.limit is not None and due > case.limit:
            return _err(f"延期后的期限 {iso(due)} 超过上限 {iso(case.limit)}",
                        f"the extension {iso(due)} is beyond the limit {iso(case.limit)}")
        case.n_ext += 1
        case.cur_due = due
        if case.replied_on is None:
            case.first_due = due
        return None
    if ev == "progress" or ev == "reply":
        head_s = r["head"].strip()
        head = False
        if head_s:
            head = YES_NO.get(head_s.lower())
            if head is None:
                return _err(f"一把手参与「{head_s}」应为 是/否", f"head \"{head_s}\" is not yes/no")
        if st != "handling":
            return refused()
        if head:
            case.head = True
        if ev == "reply":
            case.state = "replied"
            if case.replied_on is None:
                case.replied_on = day
            case.category = cat or None
        return None
    if ev == "verify":
        p = r["passed"].strip()
        if not p:
            return _err("验收须填写验收结果", "verify needs passed")
        passed = PASSED.get(p.lower())
        if passed is None:
            return _err(f"验收结果「{p}」应为 通过/不通过", f"passed \"{p}\" is not 通过/不通过")
        if st != "replied" or not t["verify"]:
            return refused()
        # failed: re-handling against the reply due date as it stands (as extended)
        case.state = "verified" if passed else "handling"
        return None
    if ev == "evaluate":
        rv = r["rating"].strip()
        rating = RATINGS.get(rv) or RATINGS.get(rv.lower())
        if rating is None:
            return _err(f"未知评价「{rv}」", f"unknown rating \"{rv}\"")
        if st != "replied" or not t["evaluate"]:
            return refused()
        case.rating = rating
        if rating == "unsatisfied" and case.unsatisfied == 0:
            case.unsatisfied = 1
            case.state = "handling"
            case.cur_due = cal.due(t["rehandle"], day)
        else:
            if rating == "unsatisfied":
                case.unsatisfied += 1
            case.state = "evaluated"
        return None
    if ev == "close":
        if not (st in ("verified", "evaluated") or (st == "replied" and not t["verify"] and not t["evaluate"])):
            return refused()
        case.state = "closed"
        return None
    raise AssertionError(ev)


def check_and_replay(df: pd.DataFrame, as_of: int, cal: WorkCalendar) -> tuple[list[tuple[int, str]], list[Case]]:
    """Checks every row; returns the errors (row, reason) and every case as it stood at `as_of`."""
    errors: list[tuple[int, str]] = []
    rows = df["row"].to_numpy()
    types = mapped(df["type"], type_key)
    events = mapped(df["event"], event_key)
    days = mapped(df["date"], parse_date)
    refs = df["ref"].str.strip().tolist()
    ok = np.ones(len(df), dtype=bool)
    for i in range(len(df)):
        if not refs[i]:
            errors.append((rows[i], _err("缺少编号", "missing ref")))
        elif types[i] is None:
            v = df.at[i, "type"]
            errors.append((rows[i], _err(f"未知类型「{v}」", f"unknown type \"{v}\"")))
        elif events[i] is None:
            v = df.at[i, "event"]
            errors.append((rows[i], _err(f"未知事件「{v}」", f"unknown event \"{v}\"")))
        elif days[i] is None:
            v = df.at[i, "date"]
            errors.append((rows[i], _err(f"日期「{v}」不是日期", f"date \"{v}\" is not a date")))
        else:
            continue
        ok[i] = False
    good = np.flatnonzero(ok)
    key = pd.Series([types[i] + "\x1f" + refs[i] for i in good], dtype=object)
    case_id, _ = pd.factorize(key, sort=False)
    day_arr = np.array([days[i] for i in good], dtype=np.int64)
    order = good[np.lexsort((rows[good], day_arr, case_id))]
    cid_sorted = np.empty(len(df), dtype=np.int64)
    cid_sorted[good] = case_id
    cid_sorted = cid_sorted[order].tolist()

    cols = {k: df[k].tolist() for k in ("unit", "due", "category", "rating", "head", "passed", "note")}
    cases: list[Case] = []
    prev = -1
    case = snapshot = None
    for pos, i in enumerate(order.tolist()):
        c = cid_sorted[pos]
        if c != prev:
            if case is not None:
                cases.append(snapshot or case)
            case = Case(types[i], refs[i])
            snapshot = None
            prev = c
        day = days[i]
        if snapshot is None and day > as_of:
            snapshot = case.copy()
        why = apply(case, events[i], day, Row(cols, i), cal)
        if why:
            errors.append((int(rows[i]), why))
    if case is not None:
        cases.append(snapshot or case)
    errors.sort(key=lambda e: e[0])
    return errors, cases


# ------------------------------------------------------------------ the bulletin (§4) and the case list (§6)
def flag_at(case: Case, d: int, cal: WorkCalendar) -> str:
    """'' / 'yellow' / 'red' (§3): missed deadlines of an open case at d."""
    if case.state not in ("assigned", "handling"):
        return ""
    missed = []
    if case.accepted_on is None and case.accept_due < d:
        missed.append(case.accept_due)
    if case.cur_due is not None and case.cur_due < d:   # reply due, or re-handling due
        missed.append(case.cur_due)
    if not missed:
        return ""
    return "red" if cal.workdays_after_through(min(missed), d) > RED_AFTER else "yellow"


def case_table(cases: list[Case], start: int, end: int, as_of: int, type_filter: str | None,
               cal: WorkCalendar) -> pd.DataFrame:
    recs = []
    for c in cases:
        if c.state in (None, "registered", "returned") or c.assigned_on is None:
            continue                     # never assigned, or returned and waiting on the assigner
        if not (start <= c.assigned_on <= end) or (type_filter and c.type != type_filter):
            continue
        recs.append((c.ref, c.type, c.unit, c.assigned_on, c.accept_due, c.accepted_on, c.first_due,
                     c.replied_on, c.state, flag_at(c, as_of, cal), c.rating or "", c.category or "", c.head))
    cols = ["ref", "type", "unit", "assigned_on", "accept_due", "accepted_on", "reply_due", "replied_on",
            "state", "flag", "rating", "category", "head"]
    t = pd.DataFrame.from_records(recs, columns=cols)
    for k in ("assigned_on", "accept_due", "accepted_on", "reply_due", "replied_on"):
        t[k] = t[k].astype("float64")       # day numbers, NaN = none
    return t


def rate(num: int, den: int) -> str:
    return "" if den == 0 else repr(float(Fraction(int(num), int(den))))


def bulletin(t: pd.DataFrame, as_of: int) -> list[dict]:
    if t.empty:
        return []
    accepted = t["accepted_on"].notna()
    replied = t["replied_on"].notna()
    x = pd.DataFrame({
        "unit": t["unit"],
        "assigned": 1,
        "accepted_on_time": accepted & (t["accepted_on"] <= t["accept_due"]),
        "accept_late": (accepted & (t["accepted_on"] > t["accept_due"])) | (~accepted & (t["accept_due"] < as_of)),
        "replied": replied,
        "reply_due": replied | (t["reply_due"].notna() & (t["reply_due"] < as_of)),
        "replied_on_time": replied & (t["replied_on"] <= t["reply_due"]),
        "overdue_now": t["flag"] != "",
        "yellow": t["flag"] == "yellow",
        "red": t["flag"] == "red",
        "evaluated": t["rating"] != "",
        "satisfied": t["rating"].isin(["satisfied", "basically_satisfied"]),
        "resolved": replied & t["category"].isin(list(RESOLVED)),
        "categorised": replied & (t["category"] != ""),
        "head": replied & t["head"].astype(bool),
    })
    g = x.groupby("unit", sort=False).sum(numeric_only=True).astype(np.int64)
    units = []
    for unit, s in g.iterrows():
        units.append({
            "unit": unit, **{k: int(s[k]) for k in ("assigned", "accepted_on_time", "accept_late", "replied",
                                                    "reply_due", "replied_on_time", "overdue_now", "yellow", "red",
                                                    "evaluated")},
            "_on_time": Fraction(int(s["replied_on_time"]), int(s["reply_due"])) if s["reply_due"] else None,
            "_sat": Fraction(int(s["satisfied"]), int(s["evaluated"])) if s["evaluated"] else Fraction(0),
            "on_time_rate": rate(s["replied_on_time"], s["reply_due"]),
            "satisfaction_rate": rate(s["satisfied"], s["evaluated"]),
            "resolution_rate": rate(s["resolved"], s["categorised"]),
            "head_rate": rate(s["head"], s["replied"]),
            "rank": "", "bottom": 0,
        })
    ranked = [u for u in units if u["reply_due"] >= MIN_CASES]
    others = sorted((u for u in units if u["reply_due"] < MIN_CASES), key=lambda u: u["unit"])
    keyf = lambda u: (-u["_on_time"], -u["_sat"], u["overdue_now"])  # noqa: E731
    ranked.sort(key=lambda u: (keyf(u), u["unit"]))
    for pos, u in enumerate(ranked):
        u["rank"] = 1 if pos == 0 else (ranked[pos - 1]["rank"] if keyf(u) == keyf(ranked[pos - 1]) else pos + 1)
    n = len(ranked)
    if n and BOTTOM > 0:
        threshold = 1 if n <= BOTTOM else ranked[n - BOTTOM]["rank"]
        for u in ranked:
            u["bottom"] = 1 if u["rank"] >= threshold else 0
    return ranked + others


BULLETIN_COLUMNS = ["unit", "assigned", "accepted_on_time", "accept_late", "replied", "reply_due", "replied_on_time",
                    "on_time_rate", "overdue_now", "yellow", "red", "evaluated", "satisfaction_rate",
                    "resolution_rate", "head_rate", "rank", "bottom"]
CASES_COLUMNS = ["ref", "type", "unit", "assigned_on", "accept_due", "accepted_on", "reply_due", "replied_on",
                 "state", "flag", "rating", "category"]


def write_csv(path: str, header: list[str], rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


def case_rows(t: pd.DataFrame):
    if t.empty:
        return []
    t = t.sort_values(["type", "ref"], kind="stable")    # Python str order = code points
    out = []
    for r in t.itertuples(index=False):
        d = lambda v: "" if pd.isna(v) else iso(int(v))  # noqa: E731
        out.append([r.ref, r.type, r.unit, d(r.assigned_on), d(r.accept_due), d(r.accepted_on), d(r.reply_due),
                    d(r.replied_on), r.state, r.flag, r.rating, r.category])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("history")
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--as-of", dest="as_of", required=True)
    ap.add_argument("--type", default=None, help="a case type key or Chinese name (default: all)")
    ap.add_argument("--out", required=True, help="bulletin CSV")
    ap.add_argument("--cases-out", default=None, help="case list CSV (§6)")
    args = ap.parse_args(argv)
    bounds = {}
    for name in ("start", "end", "as_of"):
        v = parse_date(getattr(args, name))
        if v is None:
            print(f"pandas_bulletin: error: --{name.replace('_', '-')} {getattr(args, name)!r} is not a date",
                  file=sys.stderr)
            return 2
        bounds[name] = v
    type_filter = None
    if args.type:
        type_filter = type_key(args.type)
        if type_filter is None:
            print(f"pandas_bulletin: error: unknown case type {args.type!r}", file=sys.stderr)
            return 2
    cal = WorkCalendar()
    try:
        df = read_history(args.history)
    except (InputError, OSError) as e:
        print(f"pandas_bulletin: error: {e}", file=sys.stderr)
        return 1
    errors, cases = check_and_replay(df, bounds["as_of"], cal)
    if errors:
        for row, why in errors:
            print(f"row {row}: {why}", file=sys.stderr)
        print(f"pandas_bulletin: {len(errors)} bad row(s); nothing written", file=sys.stderr)
        return 1
    t = case_table(cases, bounds["start"], bounds["end"], bounds["as_of"], type_filter, cal)
    units = bulletin(t, bounds["as_of"])
    write_csv(args.out, BULLETIN_COLUMNS, ([u[k] for k in BULLETIN_COLUMNS] for u in units))
    if args.cases_out:
        write_csv(args.cases_out, CASES_COLUMNS, case_rows(t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
