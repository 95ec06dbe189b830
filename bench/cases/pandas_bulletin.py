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
passed 通过/不通过 or the values of head, level (督办级别) 一般/重点/挂牌督办. Dates YYYY-MM-DD or
YYYY/M/D (also YYYY-M-D, YYYY.M.D and Excel serial days, as the Swift reader).

Every row is checked (rows after --as-of too), as docs/CASES.md says: first every value of every
row (each unreadable one named; its case's order is then not checked), then each case's events in
(date, row) order against the loop of §1 (its first refused event named). Any error: each is
printed to stderr as `row N: 中文原因 / English reason` (header = row 1, a record that spans lines
is one row), the exit status is 1 and nothing is written. Otherwise:

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
Pandas reads and maps the file and adds up the bulletin; the state machine is a plain loop over
the rows of each case in (date, row) order, which is what CASES.md describes.
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
           "一把手参与": "head", "验收结果": "passed", "说明": "note", "督办级别": "level"}
KEYS = list(dict.fromkeys(HEADERS.values()))
REQUIRED = ("ref", "type", "event", "date")

EVENTS_ZH = {"登记": "register", "交办": "assign", "签收": "accept", "退回": "return", "延期": "extend",
             "办理": "progress", "答复": "reply", "办结": "reply", "答复/办结": "reply", "验收": "verify",
             "评价": "evaluate", "销号": "close"}
EVENT_KEYS = ("register", "assign", "accept", "return", "extend", "progress", "reply", "verify", "evaluate", "close")
RATINGS = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "unsatisfied",
           "satisfied": "satisfied", "basically_satisfied": "basically_satisfied", "unsatisfied": "unsatisfied"}
# head and passed: the same words (docs/CASES.md; the Swift reader also takes y/n, pass/fail)
YES_WORDS = {"是", "yes", "y", "1", "true", "通过", "pass", "passed"}
NO_WORDS = {"否", "no", "n", "0", "false", "不通过", "fail", "failed"}
LEVELS = {"": "normal", "normal": "normal", "key": "key", "listed": "listed", "一般": "normal", "重点": "key",
          "重点督办": "key", "挂牌": "listed", "挂牌督办": "listed"}
STATE_ZH = {"registered": "已登记", "assigned": "待签收", "handling": "办理中", "replied": "已答复",
            "verified": "已验收", "evaluated": "已评价", "closed": "已销号", "returned": "已退回"}
EVENT_ZH = {"register": "登记", "assign": "交办", "accept": "签收", "return": "退回", "extend": "延期",
            "progress": "办理", "reply": "答复", "verify": "验收", "evaluate": "评价", "close": "销号"}


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


def rating_key(value: str) -> str | None:
    v = value.strip()
    return RATINGS.get(v) or RATINGS.get(v.lower())


_BAD = object()   # a value that cannot be read


def yes_no(value: str):
    """True / False, None when empty, _BAD for anything else."""
    v = value.strip()
    if not v:
        return None
    v = v.lower()
    return True if v in YES_WORDS else False if v in NO_WORDS else _BAD


_DATE_RE = re.compile(r"(\d{1,6})[-/.](\d{1,6})[-/.](\d{1,6})")


def parse_date(value: str) -> int | None:
    """A day number, or None when not a date. YYYY-MM-DD as CASES.md §5 says, also YYYY/M/D; like
    the Swift reader also YYYY-M-D, YYYY.M.D (any of - / . between the parts, year 1900–9999) and a
    five-digit Excel serial day number (25569 = 1970-01-01)."""
    s = value.strip()
    m = _DATE_RE.fullmatch(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        if not 1900 <= y <= 9999:
            return None
        try:
            return day_number(date(y, mo, d))
        except ValueError:
            return None
    if len(s) == 5 and s.isascii() and s.isdigit() and int(s) > 0:
        return int(s) - 25569
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
            header = [str(h) for h in raw.columns]
        except pd.errors.EmptyDataError:
            raise InputError(f"{path} is empty") from None
        except pd.errors.ParserError:
            # a record with more cells than the header: the cells past the header are ignored
            # (as the Swift reader does); the csv module reads such a file
            try:
                with open(path, encoding=enc, newline="") as f:
                    records = list(csv.reader(f))
            except (UnicodeDecodeError, csv.Error) as e:
                raise InputError(f"cannot read {path} as a {enc} CSV: {e}") from None
            header = records[0]
            width = len(header)
            raw = pd.DataFrame([(r + [""] * width)[:width] for r in records[1:]], columns=range(width))
        except (UnicodeDecodeError, ValueError) as e:
            raise InputError(f"cannot read {path} as a {enc} CSV: {e}") from None
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
    # an empty record (a blank line, or only separators: every cell "") is no event; it keeps its
    # row number. (A cell of spaces is not empty: such a row is read, and named for its ref.)
    blank = np.ones(len(raw), dtype=bool)
    for c in raw.columns:
        blank &= (raw[c].fillna("") == "").to_numpy()
    return df[~blank].reset_index(drop=True)


def mapped(series: pd.Series, fn) -> list:
    """fn applied to every distinct value once (a history has few distinct values per column)."""
    codes, uniques = pd.factorize(series, sort=False)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = [fn(u) for u in uniques]
    return values[codes].tolist()


# ------------------------------------------------------------------ the closed loop (§1) and the deadlines (§3)
class Case:
    """One case as the loop leaves it; `assigned_on is None` = no current assignment (never
    assigned, or returned)."""
    __slots__ = ("type", "ref", "state", "unit", "assigned_on", "accept_due", "accepted_on", "given",
                 "reply_due", "limit", "n_ext", "replied_on", "rehandle_due", "had_unsatisfied", "rating",
                 "category", "head")

    def __init__(self, type_: str, ref: str):
        self.type, self.ref = type_, ref
        self.state = None                # None = not registered yet
        self.unit = ""
        self.assigned_on = self.accept_due = self.accepted_on = self.given = None
        self.reply_due = None            # the first reply's due date, as extended (None: from accept, not accepted)
        self.limit = None                # the latest date an extension may reach (None: no limit)
        self.n_ext = 0                   # extensions of the current assignment
        self.replied_on = None           # the first reply of the current assignment
        self.rehandle_due = None         # while re-handling: its due date
        self.had_unsatisfied = False
        self.rating = self.category = None
        self.head = False

    def copy(self) -> "Case":
        c = Case.__new__(Case)
        for s in Case.__slots__:
            setattr(c, s, getattr(self, s))
        return c


class Event:
    """One row's values, read (the row's values are all readable when it gets here)."""
    __slots__ = ("kind", "day", "unit", "due", "category", "rating", "head", "passed", "note")


def _err(zh: str, en: str) -> tuple[str, str]:
    return zh, en


def _set_reply_due(case: Case, t: dict, start: int, cal: WorkCalendar) -> None:
    """The reply due date and the extension limit from `start` (the assignment or its acceptance)."""
    if t["reply"] == "given":
        case.reply_due = case.given
    else:
        computed = cal.due(t["reply"], start)
        case.reply_due = computed if case.given is None else min(case.given, computed)  # a given date only shortens
    case.limit = cal.due(t["extend"], start) if t["extend"] else None


def refusal(case: Case, kind: str) -> tuple[str, str] | None:
    """Why `kind` is not allowed in the case's state (§1), or None."""
    t = CASE_TYPES[case.type]
    st = case.state
    if kind == "register":
        return _err("案件已登记", "the case is already registered") if st is not None else None
    if st is None:
        return _err("案件尚未登记（第一个事件应为登记）", "the case is not registered (its first event must be register)")
    if kind == "assign":
        ok = st in ("registered", "returned")
    elif kind in ("accept", "return"):
        ok = st == "assigned"
    elif kind in ("extend", "progress", "reply"):
        ok = st == "handling"
    elif kind == "verify":
        ok = t["verify"] and st == "replied"
    elif kind == "evaluate":
        ok = t["evaluate"] and st == ("verified" if t["verify"] else "replied")
    else:  # close
        ok = (st == "evaluated" or (st == "verified" and not t["evaluate"])
              or (st == "replied" and not t["verify"] and not t["evaluate"]))
    if ok:
        return None
    if kind == "verify" and not t["verify"]:
        return _err(f"{t['zh']}不需要验收", f"a {case.type} is not verified")
    if kind == "evaluate" and not t["evaluate"]:
        return _err(f"{t['zh']}不需要评价", f"a {case.type} is not evaluated")
    return _err(f"案件当前状态为「{STATE_ZH[st]}」，不能{EVENT_ZH[kind]}",
                f"the case is {st}; it cannot be given {kind}")


def apply(case: Case, e: Event, cal: WorkCalendar) -> tuple[str, str] | None:
    """Applies one event; returns why it is refused (the case is then unchanged)."""
    why = refusal(case, e.kind)
    if why:
        return why
    t = CASE_TYPES[case.type]
    kind, day = e.kind, e.day
    if kind == "register":
        case.state = "registered"
    elif kind == "assign":
        if not e.unit:
            return _err("交办须指定主办单位", "an assignment needs a lead unit (unit)")
        if e.due is not None and e.due < day:
            return _err(f"办理期限 {iso(e.due)} 早于交办日期 {iso(day)}",
                        f"the due date {iso(e.due)} is before the assignment date {iso(day)}")
        if t["reply"] == "given" and e.due is None:
            return _err(f"{t['zh']}须在交办时确定办理期限", f"a {case.type} needs a due date on assignment")
        case.state = "assigned"
        case.unit, case.assigned_on, case.given = e.unit, day, e.due
        case.accept_due = cal.due(t["accept"], day)
        case.accepted_on = case.reply_due = case.limit = case.replied_on = case.rehandle_due = None
        case.n_ext = 0
        if t["from"] == "assign":
            _set_reply_due(case, t, day, cal)
    elif kind == "accept":
        case.accepted_on = day
        if t["from"] == "accept":
            _set_reply_due(case, t, day, cal)
        case.state = "handling"
    elif kind == "return":
        if not e.note:
            return _err("退回须说明理由", "a return needs a reason (note)")
        case.state = "returned"
        case.unit, case.assigned_on = "", None          # waits on the assigner
    elif kind == "extend":
        if e.due is None:
            return _err("延期须给出新的办理期限", "an extension needs the new due date (due)")
        current = case.rehandle_due if case.rehandle_due is not None else case.reply_due
        if current is not None and e.due <= current:
            return _err(f"延期后的期限 {iso(e.due)} 不晚于当前期限 {iso(current)}",
                        f"the extended due date {iso(e.due)} is not later than the current one ({iso(current)})")
        if case.limit is not None and e.due > case.limit:
            return _err(f"延期后的期限 {iso(e.due)} 超过最长期限 {iso(case.limit)}",
                        f"the extended due date {iso(e.due)} is beyond the limit {iso(case.limit)}")
        if t["max_extensions"] is not None and case.n_ext >= t["max_extensions"]:
            return _err(f"{t['zh']}只能延期 {t['max_extensions']} 次",
                        f"a {case.type} can be extended {t['max_extensions']} time(s) only")
        case.n_ext += 1
        if case.rehandle_due is not None:
            case.rehandle_due = e.due                 # moves the re-handling deadline
        else:
            case.reply_due = e.due                    # moves the first reply's deadline
    elif kind == "progress":
        if e.head:
            case.head = True
    elif kind == "reply":
        if e.category is not None:
            if not t["categories"]:
                return _err(f"{t['zh']}的答复没有类别", f"a {case.type} reply has no category")
            if e.category not in t["categories"]:
                return _err(f"答复类别应为 {'/'.join(t['categories'])}",
                            f"the category must be one of {', '.join(t['categories'])}")
            case.category = e.category                # a reply without one keeps the earlier
        if e.head:
            case.head = True
        if case.replied_on is None:
            case.replied_on = day
        case.rehandle_due = None
        case.state = "replied"
    elif kind == "verify":
        if e.passed is None:
            return _err("验收须注明通过或不通过", "a verification needs passed (通过/不通过)")
        if e.passed:
            case.state = "verified"
        else:
            # re-handling against the reply due date as it stands (as extended before the first reply)
            case.rehandle_due = case.reply_due if case.reply_due is not None else day
            case.state = "handling"
    elif kind == "evaluate":
        if e.rating is None:
            return _err("评价须为 满意/基本满意/不满意", "an evaluation needs a rating")
        case.rating = e.rating
        if e.rating == "unsatisfied" and not case.had_unsatisfied:   # 不满意 sends it back once
            case.had_unsatisfied = True
            case.rehandle_due = cal.due(t["rehandle"], day)
            case.state = "handling"
        else:
            case.state = "evaluated"
    elif kind == "close":
        case.state = "closed"
    return None


def check_and_replay(df: pd.DataFrame, as_of: int, cal: WorkCalendar) -> tuple[list[tuple[int, tuple[str, str]]], list[Case]]:
    """Checks every row (docs/CASES.md): first the values of each row, every unreadable value named;
    then, for each case whose rows are all readable, its events in order of (date, row) against the
    loop, the first refused one named. Returns the errors (row, reason), in row order, and every case
    as it stood at `as_of`."""
    n = len(df)
    rows = df["row"].to_numpy()
    refs = df["ref"].str.strip().tolist()
    types = mapped(df["type"], type_key)
    events = mapped(df["event"], event_key)
    days = mapped(df["date"], parse_date)
    dues = mapped(df["due"], lambda v: parse_date(v) if v.strip() else None)
    cats = mapped(df["category"], lambda v: v.strip().upper() or None)
    ratings = mapped(df["rating"], lambda v: rating_key(v) if v.strip() else None)
    heads = mapped(df["head"], yes_no)
    passed = mapped(df["passed"], yes_no)
    levels = mapped(df["level"], lambda v: LEVELS.get(v.strip()) or LEVELS.get(v.strip().lower()))
    due_bad = mapped(df["due"], lambda v: bool(v.strip()) and parse_date(v) is None)
    rating_bad = mapped(df["rating"], lambda v: bool(v.strip()) and rating_key(v) is None)

    errors: list[tuple[int, tuple[str, str]]] = []
    ok = np.ones(n, dtype=bool)
    cat_set = np.array([c is not None for c in cats], dtype=bool)
    ev_arr = np.array(events, dtype=object)
    suspect = (np.array([not r for r in refs], dtype=bool) | pd.isna(np.array(types, dtype=object))
               | pd.isna(ev_arr) | pd.isna(np.array(days, dtype=object)) | np.array(due_bad, dtype=bool)
               | (cat_set & (ev_arr != "reply")) | np.array(rating_bad, dtype=bool)
               | np.array([h is _BAD for h in heads], dtype=bool) | np.array([p is _BAD for p in passed], dtype=bool)
               | pd.isna(np.array(levels, dtype=object)))
    for i in np.flatnonzero(suspect).tolist():     # only the rows with something to name
        bad = []
        if not refs[i]:
            bad.append(_err("缺少编号", "the ref is missing"))
        if types[i] is None:
            v = df.at[i, "type"]
            bad.append(_err(f"未知的类型「{v}」", f"unknown case type \"{v}\""))
        if events[i] is None:
            v = df.at[i, "event"]
            bad.append(_err(f"未知的事件「{v}」", f"unknown event \"{v}\""))
        if days[i] is None:
            v = df.at[i, "date"]
            bad.append(_err(f"日期「{v}」不是日期", f"the date \"{v}\" is not a date"))
        if due_bad[i]:
            v = df.at[i, "due"]
            bad.append(_err(f"办理期限「{v}」不是日期", f"the due date \"{v}\" is not a date"))
        if cats[i] is not None and events[i] is not None and events[i] != "reply":
            bad.append(_err("只有答复可以填写类别", "only a reply has a category"))
        if rating_bad[i]:
            v = df.at[i, "rating"]
            bad.append(_err(f"评价「{v}」应为 满意/基本满意/不满意", f"the rating \"{v}\" must be 满意, 基本满意 or 不满意"))
        if heads[i] is _BAD:
            v = df.at[i, "head"]
            bad.append(_err(f"一把手参与「{v}」应为 是/否", f"head \"{v}\" must be yes or no"))
        if passed[i] is _BAD:
            v = df.at[i, "passed"]
            bad.append(_err(f"验收结果「{v}」应为 通过/不通过", f"passed \"{v}\" must be 通过 or 不通过"))
        if levels[i] is None:
            v = df.at[i, "level"]
            bad.append(_err(f"督办级别「{v}」应为 一般/重点/挂牌督办", f"the level \"{v}\" must be 一般, 重点 or 挂牌督办"))
        if bad:
            ok[i] = False
            errors.extend((int(rows[i]), b) for b in bad)

    # cases: (type, ref) of the rows that name both; a case with an unreadable row is not replayed
    has_case = np.array([bool(refs[i]) and types[i] is not None for i in range(n)], dtype=bool)
    idx = np.flatnonzero(has_case)
    key = pd.Series([types[i] + "\x1f" + refs[i] for i in idx], dtype=object)
    case_id_of = np.full(n, -1, dtype=np.int64)
    case_id_of[idx], _ = pd.factorize(key, sort=False)
    broken = set(case_id_of[has_case & ~ok].tolist())
    good = np.flatnonzero(has_case & ok)
    good = good[~np.isin(case_id_of[good], list(broken))] if broken else good
    day_arr = np.array([days[i] for i in good], dtype=np.int64)
    order = good[np.lexsort((rows[good], day_arr, case_id_of[good]))].tolist()

    units = df["unit"].str.strip().tolist()
    notes = df["note"].str.strip().tolist()
    cases: list[Case] = []
    prev = -1
    case = snapshot = None
    stopped = False
    for i in order:
        c = case_id_of[i]
        if c != prev:
            if case is not None:
                cases.append(snapshot or case)
            case = Case(types[i], refs[i])
            snapshot, stopped, prev = None, False, c
        if stopped:
            continue                      # the rest of a case after its first refused event is not checked
        if snapshot is None and days[i] > as_of:
            snapshot = case.copy()
        e = Event()
        e.kind, e.day, e.unit, e.due, e.note = events[i], days[i], units[i], dues[i], notes[i]
        e.category, e.rating, e.head, e.passed = cats[i], ratings[i], heads[i] is True, passed[i]
        why = apply(case, e, cal)
        if why:
            zh, en = why
            errors.append((int(rows[i]), (
                f"{CASE_TYPES[case.type]['zh']} {case.ref}：{EVENT_ZH[e.kind]}（{iso(e.day)}）——{zh}",
                f"{case.type} {case.ref}: {e.kind} on {iso(e.day)}: {en}")))
            stopped = True
    if case is not None:
        cases.append(snapshot or case)
    errors.sort(key=lambda e: e[0])     # stable: a row's several errors keep their order
    return errors, cases


# ------------------------------------------------------------------ the bulletin (§4) and the case list (§6)
def flag_at(case: Case, d: int, cal: WorkCalendar) -> str:
    """'' / 'yellow' / 'red' (§3): the missed deadlines of a case with a current assignment at d."""
    if case.assigned_on is None:
        return ""
    missed = []
    if case.state == "assigned":
        if case.accept_due < d:
            missed.append(case.accept_due)
        if case.reply_due is not None and case.reply_due < d:
            missed.append(case.reply_due)
    elif case.state == "handling":
        current = case.rehandle_due if case.rehandle_due is not None else case.reply_due
        if current is not None and current < d:
            missed.append(current)
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
        recs.append((c.ref, c.type, c.unit, c.assigned_on, c.accept_due, c.accepted_on, c.reply_due,
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


def case_rows(t: pd.DataFrame) -> list[list[str]]:
    def d(v) -> str:
        return "" if pd.isna(v) else iso(int(v))
    rows = [[r.ref, r.type, r.unit, d(r.assigned_on), d(r.accept_due), d(r.accepted_on), d(r.reply_due),
             d(r.replied_on), r.state, r.flag, r.rating, r.category] for r in t.itertuples(index=False)]
    rows.sort(key=lambda r: (r[1], r[0]))        # type key, then ref; Python compares code points
    return rows


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
        for row, (zh, en) in errors:
            print(f"row {row}: {zh} / {en}", file=sys.stderr)
        print(f"pandas_bulletin: {len(errors)} error(s) in {len({r for r, _ in errors})} row(s); nothing written",
              file=sys.stderr)
        return 1
    t = case_table(cases, bounds["start"], bounds["end"], bounds["as_of"], type_filter, cal)
    units = bulletin(t, bounds["as_of"])
    write_csv(args.out, BULLETIN_COLUMNS, ([u[k] for k in BULLETIN_COLUMNS] for u in units))
    if args.cases_out:
        write_csv(args.cases_out, CASES_COLUMNS, case_rows(t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
