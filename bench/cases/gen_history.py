#!/usr/bin/env python3
"""A seeded generator of a valid handling history (办理记录, CASES.md §5) for the case benchmark.

    python3 bench/cases/gen_history.py --cases 100000 --seed 42 --out bench-data/cases-100k.csv \\
        [--as-of 2026-12-31]

Writes a UTF-8 CSV with the English header row
    ref,title,type,event,date,unit,co_units,due,category,rating,head,passed,note
about 10 events per case. The seed is printed to stderr; the same seed and arguments give the
same bytes. Cases are registered over 2025-01-01 .. 2026-11-30 (not after --as-of), over the 7
default types and 43 lead units (three of them with only one or two cases, so that ranking's
min_cases matters), and no event is dated after --as-of (the history as it stood that day).

Every rule of CASES.md §1–§3 shows: returns with a reason then re-assignment to another unit,
extensions (later than the current due date and within the limit; a petition at most one),
progress with head yes/no, replies with categories A–D for suggestion/proposal, verification
passed / failed (→ re-handling → reply again), evaluations with 不满意 (→ re-handling → reply →
second evaluation), close, cases stopped at every stage, late accepts and replies, open cases
past their due date. The file is not sorted by case: rows are roughly in date order, cases
interleaved, some rows moved a few days away from their place; events of one case on the same
date keep their order (the reader takes a case's rows by date, then row). Values mix the keys
and the Chinese names (suggestion / 人大建议, assign / 交办, 答复 / 办结 / reply, 满意 / satisfied,
是 / yes / 1 / true …), a few dates are written YYYY/M/D, a few titles and notes hold commas,
quotes or a line break.

The deadlines come from bench/cases/pandas_bulletin.py (the same calendar and defaults).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from datetime import date

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pandas_bulletin import CASE_TYPES, EPOCH, WorkCalendar, day_number, parse_date  # noqa: E402

HEADER = ["ref", "title", "type", "event", "date", "unit", "co_units", "due", "category", "rating", "head",
          "passed", "note"]

UNITS = [
    "自然资源和规划局", "经济和信息化局", "生态环境分局", "应急管理局", "住房和城乡建设局", "交通运输局", "水务局",
    "农业农村局", "商务局", "市场监督管理局", "税务局", "发展和改革局", "财政局", "人力资源和社会保障局", "教育局",
    "卫生健康局", "民政局", "公安局", "城市管理局", "文化广电旅游体育局", "综合行政执法局", "供电公司",
    "古山镇", "横店镇", "南马镇", "千祥镇", "湖溪镇", "马宅镇", "佐村镇", "画水镇", "东阳江镇", "巍山镇", "虎鹿镇",
    "歌山镇", "南市街道", "白云街道", "江北街道", "城东街道", "六石街道", "吴宁街道",
]
RARE_UNITS = ["三单乡", "档案馆", "气象局"]      # one or two cases each: never ranked

TYPE_WEIGHTS = {"task": 16, "suggestion": 12, "proposal": 10, "petition": 18, "enterprise_request": 18,
                "rectification": 14, "hazard": 12}
PREFIX = {"task": "RW", "suggestion": "JY", "proposal": "TA", "petition": "XF", "enterprise_request": "QS",
          "rectification": "ZG", "hazard": "YH"}
TOPICS = ["低效工业用地整治", "老旧小区改造", "农村道路硬化", "企业用电扩容", "厂房消防通道", "河道清淤",
          "停车难", "学校周边交通", "工业园区污水管网", "安置房建设", "标准地出让", "企业用工", "噪声扰民",
          "违章搭建", "危化品仓储", "土地证办理", "亩均税收提升", "闲置厂房盘活", "物流园区规划", "燃气管道老化"]
REQUESTERS = ["张建国代表", "李海燕委员", "王明", "陈丽华", "浙江东磁股份有限公司", "横店集团", "赵志强",
              "刘晓东委员", "群众来信", "12345热线", "安全生产督查组", "县纪委督查室"]
RETURN_REASONS = ["不属于本单位职责", "职责交叉，建议改派", "属地不符，应由所在镇街办理", "材料不全，请补充后重新交办"]
NOTES = ["已现场核查", "已召开协调会", "正在制定方案", "已约谈企业负责人", "已完成整改，待验收", "已书面答复"]
EVENT_ZH = {"register": "登记", "assign": "交办", "accept": "签收", "return": "退回", "extend": "延期",
            "progress": "办理", "reply": "答复", "verify": "验收", "evaluate": "评价", "close": "销号"}
RATING_ZH = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
HEAD_TEXT = {True: ["是", "yes", "1", "true", "是", "是"], False: ["否", "no", "0", "false", "否", ""]}
PASSED_TEXT = {True: ["通过", "通过", "yes", "是"], False: ["不通过", "不通过", "no", "否"]}


class Generator:
    def __init__(self, seed: int, as_of: int):
        self.rng = random.Random(seed)
        self.cal = WorkCalendar()
        self.as_of = as_of
        self.counters = {t: 0 for t in CASE_TYPES}
        self.iso_cache: dict[int, str] = {}

    # --------------------------------------------------------- one case's events, in order
    def case_events(self, t: str, unit: str) -> list[tuple[int, str, dict]]:
        rng, cal, ty = self.rng, self.cal, CASE_TYPES[t]
        ev: list[tuple[int, str, dict]] = []
        lo, hi = day_number(date(2025, 1, 1)), min(day_number(date(2026, 11, 30)), self.as_of)
        now = rng.randint(lo, hi)
        ev.append((now, "register", {"unit": rng.choice(REQUESTERS)}))
        if rng.random() < 0.02:
            return ev                                           # registered, never assigned
        now += rng.choice((0, 0, 1, 2, 3, 5))
        returns = 0
        while True:                                             # assign (again after a return)
            given = None
            if ty["reply"] == "given":
                given = now + rng.choice((0, 3, 7, 10, 15, 20, 30, 45, 60, 90))
            elif rng.random() < 0.08:
                given = now + rng.randint(0, 120)               # shortens the computed due, or is ignored
            co = ";".join(rng.sample([u for u in UNITS if u != unit], rng.choice((0, 0, 0, 1, 1, 2))))
            ev.append((now, "assign", {"unit": unit, "co_units": co, "due": given}))
            assigned_on = now
            accept_due = cal.due(ty["accept"], now)
            if returns < 2 and rng.random() < 0.07:
                now += rng.choice((0, 1, 2))
                ev.append((now, "return", {"note": rng.choice(RETURN_REASONS)}))
                returns += 1
                if rng.random() < 0.08:
                    return ev                                   # waits on the assigner
                now += rng.choice((0, 1, 2, 4))
                unit = rng.choice([u for u in UNITS if u != unit])    # never a rare unit
                continue
            break
        if rng.random() < 0.03:
            return ev                                           # never accepted
        if rng.random() < 0.12:
            now = accept_due + rng.randint(1, 10)               # late
        else:
            now = rng.randint(now, max(now, accept_due))
        ev.append((now, "accept", {}))
        start = assigned_on if ty["from"] == "assign" else now
        if ty["reply"] == "given":
            due, limit = given, None
        else:
            due = cal.due(ty["reply"], start)
            if given is not None and given < due:
                due = given
            limit = cal.due(ty["extend"], start)
        # "due": the deadline that counts now; "reply_due": the first reply's (as extended before it)
        state = {"due": due, "reply_due": due, "rehandling": False, "limit": limit, "n_ext": 0,
                 "max": ty["max_extensions"]}

        def handle(now: int, cap_late: int) -> int | None:
            """progress, maybe an extension, then the reply; returns the reply date (None: stopped)."""
            r = rng.random()
            if r < 0.08:
                stop_at = now + rng.randint(0, 60)
                reply_on = None
            elif r < 0.25:
                reply_on = max(now, state["due"] + rng.randint(1, cap_late))  # late
            else:
                reply_on = rng.randint(now, max(now, state["due"]))
            end = reply_on if reply_on is not None else stop_at
            dates = sorted(rng.randint(now, end) for _ in range(rng.choice((1, 2, 3, 3, 4, 4, 5, 6))))
            ext_at = None
            can = state["max"] is None or state["n_ext"] < state["max"]
            if can and rng.random() < 0.14:
                ext_at = rng.randint(now, end)
            items = [(d, "progress") for d in dates]
            if ext_at is not None:
                items.append((ext_at, "extend"))
                items.sort(key=lambda x: x[0])
            for d, kind in items:
                if kind == "progress":
                    ev.append((d, "progress", {"head": rng.random() < 0.3,
                                               "note": rng.choice(NOTES) if rng.random() < 0.5 else ""}))
                else:
                    lo_ = state["due"] + 1
                    hi_ = state["due"] + rng.choice((1, 5, 10, 20, 30, 60))
                    if state["limit"] is not None:
                        hi_ = min(hi_, state["limit"])
                    if hi_ >= lo_:
                        nd = rng.randint(lo_, hi_)
                        ev.append((d, "extend", {"due": nd, "note": "申请延期，已批准"}))
                        state["due"] = nd
                        if not state["rehandling"]:
                            state["reply_due"] = nd
                        state["n_ext"] += 1
            if reply_on is None:
                return None
            f = {"head": rng.random() < 0.35}
            if ty["categories"] and rng.random() < 0.9:
                f["category"] = rng.choices("ABCD", (45, 30, 15, 10))[0]
            ev.append((reply_on, "reply", f))
            state["rehandling"] = False
            return reply_on

        now = handle(now, 40)
        if now is None:
            return ev
        if ty["verify"]:
            for _ in range(3):
                if rng.random() < 0.06:
                    return ev                                   # replied, not yet verified
                now += rng.randint(0, 12)
                passed = rng.random() < 0.78
                ev.append((now, "verify", {"passed": passed}))
                if passed:
                    break
                # failed: re-handling against the reply due date as it stands (an extension of an
                # earlier re-handling moved only that re-handling's deadline)
                state["due"], state["rehandling"] = state["reply_due"], True
                now = handle(now, 20)
                if now is None:
                    return ev
            else:
                return ev
        if ty["evaluate"]:
            unsat = 0
            while True:
                if rng.random() < 0.06:
                    return ev                                   # replied, not yet evaluated
                now += rng.randint(1, 20)
                rating = rng.choices(("satisfied", "basically_satisfied", "unsatisfied"), (60, 25, 15))[0]
                ev.append((now, "evaluate", {"rating": rating}))
                if rating == "unsatisfied" and unsat == 0:
                    unsat = 1
                    state["due"] = cal.due(ty["rehandle"], now)
                    state["rehandling"] = True
                    now = handle(now, 20)
                    if now is None:
                        return ev
                    continue
                break
        if rng.random() < 0.1:
            return ev                                           # verified / evaluated, not closed
        now += rng.randint(0, 10)
        ev.append((now, "close", {}))
        return ev

    # --------------------------------------------------------- the file
    def iso(self, n: int, slash: bool = False) -> str:
        if slash:
            d = date.fromordinal(n + EPOCH)
            return f"{d.year}/{d.month}/{d.day}"
        s = self.iso_cache.get(n)
        if s is None:
            s = self.iso_cache[n] = date.fromordinal(n + EPOCH).isoformat()
        return s

    def title(self, t: str) -> str:
        rng = self.rng
        topic = rng.choice(TOPICS)
        kind = {"suggestion": "建议", "proposal": "提案", "petition": "信访件", "enterprise_request": "诉求",
                "task": "整治任务", "rectification": "整改事项", "hazard": "隐患"}[t]
        r = rng.random()
        if r < 0.005:
            return f"关于{topic}的{kind}\n（续）"
        if r < 0.01:
            return f'关于"{topic}"的{kind}'
        if r < 0.02:
            return f"关于{topic}, 请尽快处理的{kind}"
        return f"关于{topic}的{kind}"

    def generate(self, n: int, out: str) -> int:
        rng = self.rng
        types = list(TYPE_WEIGHTS)
        weights = list(TYPE_WEIGHTS.values())
        rare = {}                                               # case index -> rare unit
        for u in RARE_UNITS:
            for _ in range(rng.choice((1, 2))):
                if n > 0:
                    rare[rng.randrange(n)] = u
        case_of, seq_of, day_of, texts = [], [], [], []
        for i in range(n):
            t = rng.choices(types, weights)[0]
            self.counters[t] += 1
            k = self.counters[t]
            # refs repeat across types (a case is type + ref): 2025-000001 is a suggestion and a proposal
            ref = f"{2025 + (k % 2)}-{k:06d}" if rng.random() < 0.5 else f"{PREFIX[t]}{k:06d}"
            unit = rare.get(i) or rng.choice(UNITS)
            events = [e for e in self.case_events(t, unit) if e[0] <= self.as_of]
            title = self.title(t)
            zh = CASE_TYPES[t]["zh"]
            for s, (d, event, f) in enumerate(events):
                ev_text = EVENT_ZH[event] if rng.random() < 0.5 else event
                if event == "reply" and rng.random() < 0.3:
                    ev_text = "办结"
                due = f.get("due")
                rating = f.get("rating")
                row = [
                    ref,
                    title if event == "register" else "",
                    zh if rng.random() < 0.5 else t,
                    ev_text,
                    self.iso(d, rng.random() < 0.04),
                    f.get("unit", ""),
                    f.get("co_units", ""),
                    "" if due is None else self.iso(due, rng.random() < 0.04),
                    f.get("category", ""),
                    "" if rating is None else (RATING_ZH[rating] if rng.random() < 0.6 else rating),
                    rng.choice(HEAD_TEXT[f["head"]]) if "head" in f else "",
                    rng.choice(PASSED_TEXT[f["passed"]]) if "passed" in f else "",
                    f.get("note", "") if rng.random() < 0.995 else "说明：含逗号, 和\"引号\"",
                ]
                if event == "return":
                    row[12] = f["note"]                         # the reason is required
                case_of.append(i)
                seq_of.append(s)
                day_of.append(d)
                texts.append(row)
        m = len(texts)
        case_a = np.array(case_of, dtype=np.int64)
        seq_a = np.array(seq_of, dtype=np.int64)
        day_a = np.array(day_of, dtype=np.int64)
        # file order: by date with some rows moved up to 3 days away, cases interleaved
        nprng = np.random.default_rng(rng.randrange(2**63))
        jitter = np.where(nprng.random(m) < 0.05, nprng.integers(-3, 4, m), 0)
        pos = np.empty(m, dtype=np.int64)
        pos[np.lexsort((nprng.random(m), day_a + jitter))] = np.arange(m)
        # one case's rows on one date keep their order: the k-th of them by event order takes the
        # k-th smallest of their positions
        by_seq = np.lexsort((seq_a, day_a, case_a))
        by_pos = np.lexsort((pos, day_a, case_a))
        new_pos = np.empty(m, dtype=np.int64)
        new_pos[by_seq] = pos[by_pos]
        order = np.empty(m, dtype=np.int64)
        order[new_pos] = np.arange(m)
        with open(out, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(HEADER)
            w.writerows(texts[j] for j in order.tolist())
        return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, required=True)
    ap.add_argument("--seed", type=int, default=None, help="default: a fresh one (printed)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--as-of", dest="as_of", default="2026-12-31",
                    help="no event after this date (default 2026-12-31)")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    as_of = parse_date(args.as_of)
    if as_of is None:
        print(f"gen_history: error: --as-of {args.as_of!r} is not a date", file=sys.stderr)
        return 2
    if as_of < day_number(date(2025, 1, 1)):
        print("gen_history: error: --as-of must be 2025-01-01 or later", file=sys.stderr)
        return 2
    print(f"gen_history: seed {seed}", file=sys.stderr)
    rows = Generator(seed, as_of).generate(args.cases, args.out)
    print(f"gen_history: {args.cases} cases, {rows} rows -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
