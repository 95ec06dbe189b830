#!/usr/bin/env python3
"""Compares two replays of one journal (bench/quota/README.md): balances.csv byte for byte, and
refused.csv on (row, seq, rule number N of the `规则N：` prefix) — the words may differ.

    python3 bench/quota/compare.py SWIFT_DIR PY_DIR          (each holding balances.csv, refused.csv)
    python3 bench/quota/compare.py A_BALANCES A_REFUSED B_BALANCES B_REFUSED

Prints the first differences and exits 1 when there are any, 0 when the two agree (2: a file is
missing or unreadable).
"""
from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections import Counter

RULE = re.compile(r"规则([1-8])：")
SHOWN = 20


def refusals(data: bytes, name: str) -> list[tuple[str, str, str]]:
    """(row, seq, N) of every row of a refused.csv; N is '?' when the reason has no 规则N： prefix."""
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or [c.strip() for c in rows[0]] != ["row", "seq", "reason"]:
        raise ValueError(f"{name}: the header is not row,seq,reason")
    out = []
    for r in rows[1:]:
        if not r:
            continue
        m = RULE.match(r[2]) if len(r) >= 3 else None
        out.append((r[0], r[1] if len(r) > 1 else "", m.group(1) if m else "?"))
    return out


def rule_counts(refused: list[tuple[str, str, str]]) -> str:
    c = Counter(n for _, _, n in refused)
    return ", ".join(f"rule {k}: {c[k]}" for k in sorted(c)) or "none"


def compare(a_bal: bytes, a_ref: bytes, b_bal: bytes, b_ref: bytes, a: str = "A", b: str = "B") -> list[str]:
    """The differences between two replays, as lines to print (empty: they agree)."""
    out: list[str] = []
    if a_bal != b_bal:
        al, bl = a_bal.decode("utf-8", "replace").split("\n"), b_bal.decode("utf-8", "replace").split("\n")
        out.append(f"balances.csv differs ({len(a_bal)} bytes in {a}, {len(b_bal)} in {b}):")
        shown = 0
        for i in range(max(len(al), len(bl))):
            x = al[i] if i < len(al) else "<no line>"
            y = bl[i] if i < len(bl) else "<no line>"
            if x != y:
                out.append(f"  line {i + 1}: {a}: {x!r}")
                out.append(f"  {' ' * len(str(i + 1))}       {b}: {y!r}")
                shown += 1
                if shown >= SHOWN:
                    out.append("  …")
                    break
        if a_bal.startswith(b"\xef\xbb\xbf") or b_bal.startswith(b"\xef\xbb\xbf"):
            out.append("  (a BOM: balances.csv is UTF-8 without one)")
        if b"\r\n" in a_bal or b"\r\n" in b_bal:
            out.append("  (CRLF line ends: balances.csv ends its lines with \\n)")
    try:
        ar, br = refusals(a_ref, f"{a} refused.csv"), refusals(b_ref, f"{b} refused.csv")
    except (ValueError, UnicodeDecodeError) as e:
        out.append(f"refused.csv cannot be compared: {e}")
        return out
    if ar != br:
        out.append(f"refused.csv differs on (row, seq, rule): {len(ar)} refused in {a} ({rule_counts(ar)}), "
                   f"{len(br)} in {b} ({rule_counts(br)})")
        bad = [r for r in ar if r[2] == "?"] + [r for r in br if r[2] == "?"]
        if bad:
            out.append(f"  {len(bad)} reason(s) without the 规则N： prefix, e.g. row {bad[0][0]}")
        by_row_a = {r[0]: r for r in ar}
        by_row_b = {r[0]: r for r in br}
        shown = 0
        rows = sorted(set(by_row_a) | set(by_row_b), key=lambda x: (int(x) if x.isdigit() else 10**12, x))
        for row in rows:
            x, y = by_row_a.get(row), by_row_b.get(row)
            if x == y:
                continue
            fx = f"seq {x[1]} rule {x[2]}" if x else "accepted"
            fy = f"seq {y[1]} rule {y[2]}" if y else "accepted"
            out.append(f"  row {row}: {a}: {fx:<28} {b}: {fy}")
            shown += 1
            if shown >= SHOWN:
                out.append("  …")
                break
        if shown == 0:
            out.append("  the same rows, in a different order (refused.csv lists them in row order)")
    return out


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2:
        a, b = args
        files = [os.path.join(a, "balances.csv"), os.path.join(a, "refused.csv"),
                 os.path.join(b, "balances.csv"), os.path.join(b, "refused.csv")]
        names = (a, b)
    elif len(args) == 4:
        files = args
        names = (os.path.dirname(args[0]) or args[0], os.path.dirname(args[2]) or args[2])
        if names[0] == names[1]:
            names = ("A", "B")
    else:
        sys.stderr.write(__doc__)
        return 2
    try:
        data = [read(p) for p in files]
    except OSError as e:
        sys.stderr.write(f"compare.py: {e.filename}: {e.strerror}\n")
        return 2
    diffs = compare(*data, a=names[0], b=names[1])
    if diffs:
        print("\n".join(diffs))
        return 1
    n = len(refusals(data[1], "refused.csv"))
    print(f"compare.py: the same balances ({len(data[0])} bytes) and the same {n} refused rows "
          f"({rule_counts(refusals(data[1], 'refused.csv'))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
