#!/usr/bin/env python3
"""A realistic quota-ledger journal for the three-town pilot (古山镇, 方岩镇, 舟山镇; start
2025-01-01; margin 0.05), for the replay benchmark (bench/quota/run.sh) and the seeded tests.

    python3 bench/quota/gen_journal.py N SEED OUT.csv [--project-out project.yaml] [--english]

N postings in date order, several a day (the span grows with N up to four years), the same file
for the same N and seed. The mix, roughly:

- credits of the three quota types (new farmland with grades 1–15), uses and transfers whose
  amounts often run close to the balance they draw on (0.0001 mu over it now and then: rule 5),
  basic-farmland moves out close to what (1 + margin) × allows (rule 6: exactly at it sometimes,
  just over it sometimes), and new-farmland grades steered so that the credited grade stays just
  better than the used one (rule 7 refuses some credits and uses);
- about 2 % reversals — of credits, uses, transfers and reversals; some refused: the target already
  reversed, unknown, refused or later in the file, the reason empty, or the inverse breaking 5–7;
- a few % other refusals: unknown town or to_town, unknown quota type, 5-decimal, zero or negative
  amounts, a transfer to its own town, a basic-farmland transfer, a missing or fractional grade,
  back-dated rows, and a few rows dated before the start.

Chinese headers (序号,日期,动作,镇街,调入镇街,指标类型,数量(亩),等别,冲正序号,说明) unless
--english; actions mostly in Chinese. The generator follows the ledger's rules itself (exactly,
in integer ten-thousandths) only to aim its amounts and to know which rows it may reverse; the
reference and `mujun quota replay` decide what is refused.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta

TOWNS = ["古山镇", "方岩镇", "舟山镇"]
START = date(2025, 1, 1)
MARGIN_UNITS = 500                     # 0.05 in ten-thousandths
UNIT = 10_000
HEADER_ZH = "序号,日期,动作,镇街,调入镇街,指标类型,数量(亩),等别,冲正序号,说明"
HEADER_EN = "seq,date,action,town,to_town,quota,amount,grade,reverses,note"

NF, RC, BF = 0, 1, 2
QUOTA_CELLS = {
    NF: ["新增耕地"] * 8 + ["new_farmland"],
    RC: ["建设用地复垦"] * 6 + ["增减挂钩节余指标"] * 2 + ["reclaimed_construction"],
    BF: ["永久基本农田"] * 8 + ["basic_farmland"],
}
ACTION_CELLS = {
    "credit": ["入账"] * 19 + ["credit"],
    "use": ["使用"] * 19 + ["use"],
    "transfer": ["调剂"] * 19 + ["transfer"],
    "reverse": ["冲正"] * 19 + ["reverse"],
}
CREDIT_NOTES = {NF: ["垦造耕地项目验收", "旱地改水田验收", "耕地质量提升验收", ""],
                RC: ["农村建设用地复垦验收", "工矿废弃地复垦验收", ""],
                BF: ["永久基本农田补划", "补划（整治区）", ""]}
USE_NOTES = {NF: ["工业项目占用耕地", "道路工程占补平衡", "安置房建设占用", ""],
             RC: ["供地：工业用地", "供地：安置小区", "供地：物流园", ""],
             BF: ["永久基本农田调出（重大项目）", "调出：交通工程", ""]}
TRANSFER_NOTES = ["镇街之间调剂", "县级统筹调剂", ""]
REVERSE_NOTES = ["录入错误", "验收面积核减", "项目撤销", "调剂有误", "重复入账", "撤销冲正"]
UNKNOWN_TOWNS = ["横店镇", "南马镇", "古山", "东阳市", ""]
UNKNOWN_QUOTAS = ["林地指标", "耕地", "", "新增耕地指标"]


def amount_text(units: int, r: float) -> str:
    """Ten-thousandths as a cell: mostly the shortest form, sometimes with all 4 decimals."""
    q, rem = divmod(units, UNIT)
    if r < 0.15:
        return f"{q}.{rem:04d}"
    if rem == 0:
        return str(q)
    return f"{q}.{rem:04d}".rstrip("0")


class Generator:
    def __init__(self, n: int, seed: int, english: bool):
        self.n, self.english = n, english
        self.rng = random.Random(seed)
        # the span: several postings a day for small files, up to four years for large ones
        self.span = max(20, min(1461, n // 4))
        self.dates = [(START + timedelta(days=i)).isoformat() for i in range(self.span + 400)]
        self.day = 0                              # today's index in self.dates
        self.latest = -1                          # the latest accepted posting's date index
        # the ledger as far as the generator follows it (exact, ten-thousandths)
        self.balance = {(t, q): 0 for t in range(3) for q in (NF, RC, BF)}
        self.added = self.moved = 0               # basic farmland A, M
        self.c = self.cg = self.u = self.ug = 0   # new farmland C, CG, U, UG
        # reversible entries: seq -> (kind, town, to, quota, units, grade, sign); the recent ones listed
        self.effects: dict[int, tuple] = {}
        self.recent: list[int] = []
        self.reversed: list[int] = []
        self.refused: list[int] = []

    # --------------------------------------------------------- the generator's own book-keeping
    def apply(self, e: tuple, s: int) -> None:
        kind, town, to, quota, units, grade, sign = e
        a = units * sign * s
        b = self.balance
        if kind == "credit":
            b[(town, quota)] += a
            if quota == BF:
                self.added += a
            elif quota == NF:
                self.c += a
                self.cg += a * grade
        elif kind == "use":
            b[(town, quota)] -= a
            if quota == BF:
                self.moved += a
            elif quota == NF:
                self.u += a
                self.ug += a * grade
        else:
            b[(town, quota)] -= a
            b[(to, quota)] += a

    def fine(self, e: tuple) -> bool:
        """Rules 5, 6, 7 on the state (after `e` was applied)."""
        kind, town, to, quota, *_ = e
        if quota == BF:
            return self.added * UNIT >= (UNIT + MARGIN_UNITS) * self.moved
        if self.balance[(town, quota)] < 0 or (kind == "transfer" and self.balance[(to, quota)] < 0):
            return False
        if quota == NF and self.u > 0:
            return self.c > 0 and self.cg * self.u <= self.ug * self.c
        return True

    def post(self, seq: int, e: tuple, day: int) -> bool:
        if day < self.latest:
            self.refused.append(seq)
            return False
        self.apply(e, 1)
        if not self.fine(e):
            self.apply(e, -1)
            self.refused.append(seq)
            return False
        self.latest = day
        self.effects[seq] = e
        self.recent.append(seq)
        if len(self.recent) > 4000:           # reversals look back over the last few thousand entries
            for old in self.recent[:2000]:
                self.effects.pop(old, None)
            del self.recent[:2000]
        return True

    # --------------------------------------------------------- amounts
    def near(self, room: int) -> int:
        """An amount drawing on `room` units: often a good part of it, now and then all of it or
        0.0001 mu more (refused), sometimes well over."""
        r = self.rng.random()
        if room <= 0:
            return self.rng.randint(1, 50) * UNIT // 10 if r < 0.5 else self.rng.randint(1, 20_000)
        if r < 0.55:
            return max(1, int(room * self.rng.uniform(0.05, 0.6)))
        if r < 0.85:
            return max(1, int(room * self.rng.uniform(0.6, 1.0)))
        if r < 0.92:
            return room                           # exactly all of it
        if r < 0.97:
            return room + 1                       # 0.0001 mu over
        return int(room * self.rng.uniform(1.0, 1.3)) + 1

    def credit_units(self, quota: int) -> int:
        r = self.rng.random()
        hi = {NF: 60, RC: 50, BF: 30}[quota]
        if r < 0.3:
            return self.rng.randint(1, hi) * UNIT                         # whole mu
        if r < 0.6:
            return self.rng.randint(1, hi * 10) * UNIT // 10              # one decimal
        return self.rng.randint(1, hi * UNIT)                             # four decimals

    def grade_for(self, credit: bool) -> int:
        """New-farmland grades steered so that the credited grade stays just better than the used
        one: the planner's slack S = C × (used grade − credited grade), in mu × grade."""
        rng = self.rng
        if self.u == 0 or self.c == 0 or rng.random() < 0.08:
            return rng.randint(1, 15)                   # a project of any grade
        ug = self.ug / self.u
        slack = (self.ug * self.c - self.cg * self.u) / self.u / UNIT
        if credit:
            bias = 2.0 if slack > 150 else -0.5
            g = round(ug + rng.gauss(bias, 2.0))
        else:
            bias = -1.5 if slack > 150 else 0.8
            g = round(ug + rng.gauss(bias, 2.0))
        return min(15, max(1, g))

    # --------------------------------------------------------- rows
    def rows(self):
        rng = self.rng
        rnd = rng.random
        n = self.n
        p_day = self.span / n
        cells = ACTION_CELLS
        for seq in range(1, n + 1):
            if rnd() < p_day and self.day < self.span:
                self.day += 1
            day = self.day
            x = rnd()
            if x < 0.02:
                yield self.reversal(seq, day)
            elif x < 0.058:
                yield self.bad(seq, day)
            else:
                yield self.normal(seq, day, cells)

    def normal(self, seq: int, day: int, cells: dict) -> list[str]:
        rng = self.rng
        x = rng.random()
        town = rng.randrange(3)
        grade = ""
        g = 0
        to = -1
        if x < 0.45:                                          # credits
            quota = NF if x < 0.17 else (RC if x < 0.33 else BF)
            kind = "credit"
            units = self.credit_units(quota)
            if quota == NF:
                g = self.grade_for(True)
                grade = str(g) if rng.random() < 0.97 else f"{g}.0"
            note = rng.choice(CREDIT_NOTES[quota])
        elif x < 0.85:                                        # uses
            quota = NF if x < 0.60 else (RC if x < 0.75 else BF)
            kind = "use"
            if quota == BF:
                room = self.added * UNIT // (UNIT + MARGIN_UNITS) - self.moved
            else:
                town = max(range(3), key=lambda t: self.balance[(t, quota)] * rng.random())
                room = self.balance[(town, quota)]
            units = self.near(room)
            if quota == NF:
                g = self.grade_for(False)
                grade = str(g)
            note = rng.choice(USE_NOTES[quota])
        else:                                                 # transfers
            quota = NF if x < 0.92 else RC
            kind = "transfer"
            town = max(range(3), key=lambda t: self.balance[(t, quota)] * rng.random())
            to = (town + rng.randrange(1, 3)) % 3
            units = self.near(self.balance[(town, quota)])
            note = rng.choice(TRANSFER_NOTES)
        if units >= 10**12 * UNIT:
            units = 10**12 * UNIT - 1
        self.post(seq, (kind, town, to, quota, units, g, 1), day)
        return [str(seq), self.dates[day], rng.choice(cells[kind]), TOWNS[town], TOWNS[to] if to >= 0 else "",
                rng.choice(QUOTA_CELLS[quota]), amount_text(units, rng.random()), grade, "", note]

    def bad(self, seq: int, day: int) -> list[str]:
        """A row refused for something other than the balances (or back-dated)."""
        rng = self.rng
        x = rng.random()
        town, to, quota, kind = rng.randrange(3), "", rng.choice((NF, RC, BF)), rng.choice(("credit", "use"))
        units = self.credit_units(quota)
        amount = amount_text(units, 1.0)
        town_cell = TOWNS[town]
        quota_cell = rng.choice(QUOTA_CELLS[quota])
        grade = str(rng.randint(1, 15)) if quota == NF else ""
        date_cell = self.dates[day]
        if x < 0.14:
            town_cell = rng.choice(UNKNOWN_TOWNS)                          # rule 1
        elif x < 0.20:
            kind, to = "transfer", rng.choice(UNKNOWN_TOWNS)               # rule 1 (to_town)
            grade = ""
        elif x < 0.26:
            quota_cell = rng.choice(UNKNOWN_QUOTAS)                        # rule 1 (quota)
        elif x < 0.40:
            amount = f"{units // UNIT}.{rng.randint(0, 9999):04d}{rng.randint(1, 9)}"  # rule 2: 5 decimals
        elif x < 0.46:
            amount = rng.choice(("0", "0.0000", "-" + amount, ""))         # rule 2
        elif x < 0.58:
            kind, to, grade = "transfer", TOWNS[town], ""                  # rule 3: its own town
            quota_cell = rng.choice(QUOTA_CELLS[rng.choice((NF, RC))])
        elif x < 0.66:
            kind, to, grade = "transfer", TOWNS[(town + 1) % 3], ""        # rule 3: basic farmland
            quota_cell = rng.choice(QUOTA_CELLS[BF])
        elif x < 0.70:
            date_cell = (START - timedelta(days=rng.randint(1, 60))).isoformat()   # rule 4: before the start
        elif x < 0.88:
            # back-dated: rule 4 when before the latest accepted date, else an ordinary posting
            back = max(0, day - rng.randint(1, 6))
            date_cell = self.dates[back]
            if kind == "credit" and back >= self.latest:
                g = int(grade) if grade else 0
                self.post(seq, ("credit", town, -1, quota, units, g, 1), back)
                return [str(seq), date_cell, rng.choice(ACTION_CELLS[kind]), town_cell, "", quota_cell,
                        amount, grade, "", "补录"]
            kind = "use"
            if back >= self.latest:
                date_cell = (START - timedelta(days=1)).isoformat()
        else:
            quota_cell = rng.choice(QUOTA_CELLS[NF])                       # rule 7: the grade
            grade = rng.choice(("", "", "0", "16", "2.5", "7.5", "-3"))
        self.refused.append(seq)
        return [str(seq), date_cell, rng.choice(ACTION_CELLS[kind]), town_cell, to, quota_cell, amount, grade, "",
                "有误的行"]

    def reversal(self, seq: int, day: int) -> list[str]:
        rng = self.rng
        x = rng.random()
        note = rng.choice(REVERSE_NOTES)
        target = ""
        live = None
        if x < 0.78 and self.recent:
            # a recent accepted entry (credits, uses, transfers and reversals alike)
            for _ in range(6):
                t = self.recent[-1 - min(len(self.recent) - 1, int(rng.expovariate(1 / 40)))]
                if t in self.effects:
                    live = t
                    break
            if live is not None:
                target = str(live)
                if x < 0.04:
                    note = ""                                   # rule 8: no reason
                    live = None
        elif x < 0.86 and self.reversed:
            target = str(rng.choice(self.reversed[-200:]))      # rule 8: already reversed
        elif x < 0.91 and self.refused:
            target = str(rng.choice(self.refused[-200:]))       # rule 8: a refused row
        elif x < 0.95 and seq < self.n:
            target = str(rng.randint(seq + 1, min(self.n, seq + 50)))   # rule 8: a later row
        elif x < 0.98:
            target = rng.choice((f"{self.n + rng.randint(1, 999)}", "Q-17", "0"))  # rule 8: unknown
        # else: 冲正序号 left empty (rule 8)
        if live is not None:
            kind, town, to, quota, units, grade, sign = self.effects[live]
            inverse = (kind, town, to, quota, units, grade, -sign)
            if self.post(seq, inverse, day):
                del self.effects[live]
                self.reversed.append(live)
        else:
            self.refused.append(seq)
        return [str(seq), self.dates[day], rng.choice(ACTION_CELLS["reverse"]), "", "", "", "", "", target, note]


PROJECT_YAML = """# the three-town pilot (LEDGER.md), written by bench/quota/gen_journal.py
name: 古山镇、方岩镇、舟山镇全域土地综合整治试点
towns: [古山镇, 方岩镇, 舟山镇]
start: 2025-01-01
margin: 0.05
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate a quota-ledger journal (bench/quota/README.md).")
    ap.add_argument("n", type=int, help="number of postings")
    ap.add_argument("seed", type=int)
    ap.add_argument("out", help="the journal CSV (UTF-8)")
    ap.add_argument("--project-out", help="also write the project's project.yaml here")
    ap.add_argument("--english", action="store_true", help="English header keys")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be at least 1")
    t0 = time.perf_counter()
    g = Generator(args.n, args.seed, args.english)
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write((HEADER_EN if args.english else HEADER_ZH) + "\n")
        batch = []
        for row in g.rows():
            batch.append(",".join(row))
            if len(batch) >= 10_000:
                f.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            f.write("\n".join(batch) + "\n")
    if args.project_out:
        with open(args.project_out, "w", encoding="utf-8", newline="") as f:
            f.write(PROJECT_YAML)
    print(f"gen_journal: {args.n} postings, seed {args.seed}, {g.span + 1} days from {START} "
          f"({time.perf_counter() - t0:.1f} s) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
