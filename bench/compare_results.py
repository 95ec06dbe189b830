#!/usr/bin/env python3
"""Compares two evaluation results CSVs (e.g. the Swift `mujun evaluate` output and
bench/pandas_evaluate.py's), joined on the credit code.

    python3 bench/compare_results.py A.csv B.csv [--tol 1e-6] [--show 10]

Columns are found by English key or Chinese name (first match wins):
    credit_code   统一社会信用代码
    group         规模 / 分组 / 组别            (规上/规下/above/below, compared normalised)
    total_score   总分 / 综合得分 / 总得分
    rank          排名 / 组内排名 / 名次
    class         final_class / 最终类别 / 最终分类 / 评价类别 / 类别 / 分类   (the final class, after vetoes)
    exempt_reason 不参评原因
Prints how many rows, classes, ranks, groups and exemption reasons differ, and the largest
|total_score| difference. Exits 1 when a class differs, a score differs by more than --tol,
an enterprise is evaluated on one side only or present on one side only; rank differences are
reported (and shown) but do not fail on their own. Exit 2 on unreadable input.
"""
from __future__ import annotations

import argparse
import math
import sys

import pandas as pd

ALIASES = {
    "credit_code": ["credit_code", "统一社会信用代码"],
    "group": ["group", "规模", "分组", "组别", "scale"],
    "total_score": ["total_score", "总分", "综合得分", "总得分"],
    "rank": ["rank", "排名", "组内排名", "名次"],
    "class": ["class", "final_class", "最终类别", "最终分类", "评价类别", "类别", "分类"],
    "exempt_reason": ["exempt_reason", "不参评原因"],
}
GROUPS = {"规上": "above", "above": "above", "规模以上": "above",
          "规下": "below", "below": "below", "规模以下": "below"}


def norm(h: str) -> str:
    return str(h).strip().lstrip("\ufeff").strip().lower().replace("（", "(").replace("）", ")")


def load(path: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as e:  # noqa: BLE001 - any unreadable file is one clear message
        raise SystemExit(f"compare_results: cannot read {path}: {e}") from None
    by_norm = {norm(c): c for c in df.columns}
    out = {}
    for key, names in ALIASES.items():
        col = next((by_norm[norm(n)] for n in names if norm(n) in by_norm), None)
        if col is None:
            if key in ("credit_code", "total_score", "class"):
                raise SystemExit(f"compare_results: {path} has no {key} column (columns: {list(df.columns)})")
            out[key] = pd.Series([""] * len(df), dtype=str)
        else:
            out[key] = df[col].astype(str).str.strip()
    res = pd.DataFrame(out)
    res["group"] = res["group"].str.lower().map(lambda g: GROUPS.get(g, g))
    res["score"] = pd.to_numeric(res["total_score"].where(res["total_score"] != ""), errors="coerce")
    res["rank_n"] = pd.to_numeric(res["rank"].where(res["rank"] != ""), errors="coerce")
    dups = res["credit_code"].duplicated()
    if dups.any():
        raise SystemExit(f"compare_results: {path} has duplicate credit codes, e.g. {res.loc[dups, 'credit_code'].iloc[0]}")
    return res.set_index("credit_code")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="compare two evaluation results CSVs")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-6, help="largest allowed |total_score| difference")
    ap.add_argument("--show", type=int, default=10, help="differing rows to print per kind")
    args = ap.parse_args(argv)
    try:
        a, b = load(args.a), load(args.b)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2

    only_a = a.index.difference(b.index)
    only_b = b.index.difference(a.index)
    j = a.merge(b, left_index=True, right_index=True, how="inner", suffixes=("_a", "_b"))
    class_diff = j[j["class_a"] != j["class_b"]]
    group_diff = j[(j["group_a"] != j["group_b"]) & (j["group_a"] != "") & (j["group_b"] != "")]
    reason_diff = j[j["exempt_reason_a"] != j["exempt_reason_b"]]
    eval_a, eval_b = j["score_a"].notna(), j["score_b"].notna()
    eval_diff = j[eval_a != eval_b]
    both = j[eval_a & eval_b]
    score_d = (both["score_a"] - both["score_b"]).abs()
    max_d = float(score_d.max()) if len(score_d) else 0.0
    if len(score_d) and score_d.isna().any():
        max_d = math.inf
    rank_diff = both[both["rank_n_a"] != both["rank_n_b"]]

    print(f"compare: {args.a}: {len(a)} rows; {args.b}: {len(b)} rows; joined on credit_code: {len(j)} rows")
    print(f"compare: only in A: {len(only_a)} rows; only in B: {len(only_b)} rows")
    print(f"compare: evaluated on one side only: {len(eval_diff)} rows")
    print(f"compare: exempt_reason differs: {len(reason_diff)} rows")
    print(f"compare: group differs: {len(group_diff)} rows")
    print(f"compare: class differs: {len(class_diff)} rows")
    print(f"compare: rank differs: {len(rank_diff)} rows")
    print(f"compare: max |total_score| difference: {max_d:.3g} points (tolerance {args.tol:g})")

    def show(title: str, frame: pd.DataFrame, cols: list[str]) -> None:
        if len(frame) and args.show > 0:
            print(f"compare: first {min(args.show, len(frame))} rows where {title}:")
            print(frame[cols].head(args.show).to_string())

    show("class differs", class_diff, ["class_a", "class_b", "score_a", "score_b", "rank_a", "rank_b"])
    show("rank differs", rank_diff, ["rank_a", "rank_b", "score_a", "score_b"])
    show("exempt_reason differs", reason_diff, ["exempt_reason_a", "exempt_reason_b"])
    if len(score_d) and max_d > args.tol:
        worst = both.assign(d=score_d).sort_values("d", ascending=False)
        worst = worst[~(worst["d"] <= args.tol)]
        show("score differs most", worst, ["score_a", "score_b", "d"])
    for name, idx in (("only in A", only_a), ("only in B", only_b)):
        if len(idx) and args.show > 0:
            print(f"compare: {name}, e.g.: {', '.join(list(idx[: args.show]))}")

    failed = (len(class_diff) or len(only_a) or len(only_b) or len(eval_diff)
              or len(group_diff) or max_d > args.tol)
    print("compare: FAILED" if failed else "compare: OK (same classes, scores within tolerance)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
