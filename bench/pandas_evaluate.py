#!/usr/bin/env python3
"""The default per-mu evaluation of ../shared/EVALUATION.md, written in pandas (vectorised).

It is the reference the Swift evaluator is cross-checked against (bench/compare_results.py)
and the baseline of the speed comparison in `make bench`.

    python3 bench/pandas_evaluate.py INPUT.csv OUTPUT.csv [--year 2025] [--encoding auto|gb18030|utf-8]

Input: the enterprise import template of FORMATS.md (Chinese headers or English keys,
matched case-insensitively with surrounding spaces ignored and full-width brackets read as
ASCII ones; unknown columns are ignored). `--encoding auto` (the default) reads a UTF-8 BOM
as UTF-8, else UTF-8 when the start of the file decodes as UTF-8, else GB18030.

Output (UTF-8 CSV, one row per input enterprise, in input order):
    credit_code, name, town, group (规上/规下), total_score (unrounded), rank,
    class_before_veto, class (final, after vetoes), exempt_reason

The method, with the default rules:
- not evaluated (exempt_reason): the `exempt` text when non-empty; else land_mu missing or
  <= 0 -> "无用地面积"; else 规下 with land_mu < 3 -> "用地面积不足3亩".
- indicator value = numerator / denominator; missing when either is absent or the
  denominator is 0.
- benchmark (aggregate) = sum(numerator) / sum(denominator) over the evaluated enterprises
  of the group that have the indicator; a benchmark that is absent or not > 0 makes every
  item of that indicator missing (and the missing score 0, nobody having a score).
- item score = weight * value / benchmark, floored at 0, no cap; missing -> the mean item
  score of the group's enterprises that have it.
- total = sum of item scores in the indicator order tax_per_mu, va_per_mu, va_per_energy,
  va_per_emission, labour_productivity, rnd_ratio, tax_per_kwh (sums are taken sequentially,
  in input order, as the Swift evaluator does, so totals agree to the last bit).
- rank = competition rank ("1224") by total, descending, within the group.
- class (quota): position p is A if p <= round(0.20 n), B if p <= round(0.70 n),
  C if p <= round(0.95 n), else D (round half up); ties never split: an enterprise takes
  the class of the best position its total shares (= the class of its rank).
- vetoes (`;` or `；` separated): 重大安全生产事故 / 重大环境违法 / 违法用地 force D (the
  worst forced class wins), then 欠缴税款 caps at C. An unknown kind is an input error.
"""
from __future__ import annotations

import argparse
import codecs
import sys
from fractions import Fraction

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ the default rules
MIN_LAND_MU = 3.0
MIN_LAND_REASON = "用地面积不足3亩"
NO_LAND_REASON = "无用地面积"
FLOOR = 0.0
CAP = None  # x weight; None = no cap
QUOTA = {"A": Fraction("0.20"), "B": Fraction("0.70"), "C": Fraction("0.95")}
CLASSES = ["A", "B", "C", "D"]
VETO_FORCE = {"重大安全生产事故": "D", "重大环境违法": "D", "违法用地": "D"}
VETO_AT_BEST = {"欠缴税款": "C"}

# indicator -> (numerator, denominator), in the canonical order
INDICATORS = {
    "tax_per_mu": ("tax", "land_mu"),
    "va_per_mu": ("value_added", "land_mu"),
    "va_per_energy": ("value_added", "energy_tce"),
    "va_per_emission": ("value_added", "emissions"),
    "labour_productivity": ("value_added", "employees"),
    "rnd_ratio": ("rnd", "revenue"),
    "tax_per_kwh": ("tax", "electricity"),
}
WEIGHTS = {
    "above": {"tax_per_mu": 30, "va_per_mu": 20, "va_per_energy": 20, "va_per_emission": 10,
              "labour_productivity": 10, "rnd_ratio": 10},
    "below": {"tax_per_mu": 50, "tax_per_kwh": 50},
}
GROUP_ZH = {"above": "规上", "below": "规下"}
SCALE_ALIASES = {"规上": "above", "above": "above", "规模以上": "above",
                 "规下": "below", "below": "below", "规模以下": "below"}

# ------------------------------------------------------------------ the import template
HEADERS = {  # Chinese header -> key
    "年度": "year", "统一社会信用代码": "credit_code", "企业名称": "name", "所属镇街": "town",
    "规模": "scale", "行业代码": "industry", "用地面积(亩)": "land_mu", "评价税收(万元)": "tax",
    "工业增加值(万元)": "value_added", "营业收入(万元)": "revenue", "研发经费(万元)": "rnd",
    "综合能耗(吨标煤)": "energy_tce", "排放当量(吨)": "emissions", "用电量(万千瓦时)": "electricity",
    "年平均职工人数": "employees", "一票否决": "veto", "不参评原因": "exempt",
}
TEXT_KEYS = ["year", "credit_code", "name", "town", "scale", "industry", "veto", "exempt"]
NUMBER_KEYS = ["land_mu", "tax", "value_added", "revenue", "rnd", "energy_tce", "emissions",
               "electricity", "employees"]


class InputError(Exception):
    pass


def normalise_header(h: str) -> str:
    return (h.strip().lstrip("\ufeff").strip().lower()
            .replace("（", "(").replace("）", ")").replace(" ", ""))


KEY_OF = {normalise_header(zh): key for zh, key in HEADERS.items()}
KEY_OF.update({key: key for key in HEADERS.values()})


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


def read_input(path: str, encoding: str, year: int | None) -> pd.DataFrame:
    enc = detect_encoding(path) if encoding == "auto" else encoding
    if enc.lower().replace("-", "") in ("utf8",):
        with open(path, "rb") as f:
            if f.read(3) == codecs.BOM_UTF8:
                enc = "utf-8-sig"
    try:
        header = pd.read_csv(path, encoding=enc, nrows=0, dtype=str).columns
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"cannot read {path} as a {enc} CSV: {e}") from None
    usecols, rename = [], {}
    for col in header:
        key = KEY_OF.get(normalise_header(str(col)))
        if key and key not in rename.values():
            usecols.append(col)
            rename[col] = key
    for required in ("credit_code", "scale", "land_mu"):
        if required not in rename.values():
            raise InputError(f"missing column {required}")
    def read(number_dtype):
        dtype = {col: (str if rename[col] in TEXT_KEYS else number_dtype) for col in usecols}
        return pd.read_csv(path, encoding=enc, usecols=usecols, dtype=dtype, keep_default_na=False,
                           na_values=[""], thousands=",")
    try:
        try:
            df = read("float64")          # fast path: pandas parses the numbers itself
        except ValueError:
            df = read(object)             # some cell is not a number: find which, below
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as e:
        raise InputError(f"cannot read {path}: {e}") from None
    df = df.rename(columns=rename)
    for key in NUMBER_KEYS + TEXT_KEYS:
        if key not in df.columns:
            df[key] = np.nan
    # numbers: thousands separators, blanks = missing, text = error
    for key in NUMBER_KEYS:
        col = df[key]
        if col.dtype == object:
            s = col.astype("string").str.strip().str.replace(",", "", regex=False)
            s = s.mask(s == "")
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            if bad.any():
                rows = (np.flatnonzero(bad.to_numpy()) + 2)[:20]
                raise InputError(f"column {key}: not a number in rows {', '.join(map(str, rows))}")
            df[key] = num.astype("float64")
        else:
            df[key] = col.astype("float64")
    if year is not None and df["year"].notna().any():
        y = pd.to_numeric(df["year"], errors="coerce")
        df = df[y.isna() | (y == year)].reset_index(drop=True)
    return df


def quota_limits(n: int) -> list[int]:
    # round half up, exactly
    return [int(QUOTA[c] * n + Fraction(1, 2)) for c in ("A", "B", "C")]


def evaluate(df: pd.DataFrame, full: bool = False) -> pd.DataFrame:
    n = len(df)
    # with full=True, every indicator's value, benchmark, score and missing flag, as mujun writes
    detail: dict[str, np.ndarray] = {}
    scale = df["scale"].fillna("").astype(str).str.strip().str.lower()
    group = scale.map(SCALE_ALIASES)
    if group.isna().any():
        rows = (np.flatnonzero(group.isna().to_numpy()) + 2)[:20]
        raise InputError(f"unknown scale in rows {', '.join(map(str, rows))}")
    codes = df["credit_code"].fillna("").astype(str).str.strip()
    dup = codes.duplicated(keep="first")
    if dup.any():
        rows = (np.flatnonzero(dup.to_numpy()) + 2)[:20]
        raise InputError(f"duplicate credit code in rows {', '.join(map(str, rows))}")
    group = group.to_numpy()

    # exemptions
    land = df["land_mu"].to_numpy(dtype="float64")
    exempt = df["exempt"].fillna("").astype(str).str.strip().to_numpy()
    reason = np.where(exempt != "", exempt,
             np.where(np.isnan(land) | ~(land > 0), NO_LAND_REASON,
             np.where((group == "below") & (land < MIN_LAND_MU), MIN_LAND_REASON, "")))
    evaluated = reason == ""

    total = np.full(n, np.nan)
    rank = np.full(n, np.nan)
    cls_before = np.full(n, "", dtype=object)
    cols = {k: df[k].to_numpy(dtype="float64") for k in NUMBER_KEYS}

    for g, weights in WEIGHTS.items():
        idx = np.flatnonzero(evaluated & (group == g))
        m = len(idx)
        if m == 0:
            continue
        tot = np.zeros(m)
        for ind, (num_key, den_key) in INDICATORS.items():
            w = weights.get(ind, 0)
            if not w:
                continue
            num = cols[num_key][idx]
            den = cols[den_key][idx]
            has = ~np.isnan(num) & ~np.isnan(den) & (den != 0)
            count = int(has.sum())
            bench = None
            if count:
                # sequential sums in input order (np.cumsum), as the Swift evaluator adds
                s_num = np.cumsum(num[has])[-1]
                s_den = np.cumsum(den[has])[-1]
                if s_den != 0:
                    b = s_num / s_den
                    if b > 0 and np.isfinite(b):
                        bench = b
            item = np.zeros(m)
            if full:
                for suffix in ("value", "benchmark", "score"):
                    detail.setdefault(f"{ind}_{suffix}", np.full(n, np.nan))
                detail.setdefault(f"{ind}_missing", np.full(n, "", dtype=object))
                v = np.full(m, np.nan)
                v[has] = num[has] / den[has]
                detail[f"{ind}_value"][idx] = v
                if bench is not None:
                    detail[f"{ind}_benchmark"][idx] = bench
                detail[f"{ind}_missing"][idx] = np.where(has, "0", "1")
            if bench is not None:
                s = w * (num[has] / den[has]) / bench
                s = np.maximum(s, FLOOR)
                if CAP is not None:
                    s = np.minimum(s, CAP * w)
                fill = np.cumsum(s)[-1] / count
                item[:] = fill
                item[has] = s
            tot = tot + item
            if full:
                detail[f"{ind}_score"][idx] = item
        total[idx] = tot
        # competition rank, descending; class of a tie group = class of its best position
        r = pd.Series(tot).rank(method="min", ascending=False).to_numpy().astype(np.int64)
        rank[idx] = r
        a, b_, c = quota_limits(m)
        cls = np.where(r <= a, "A", np.where(r <= b_, "B", np.where(r <= c, "C", "D")))
        cls_before[idx] = cls

    # vetoes
    final = cls_before.copy()
    veto = df["veto"].fillna("").astype(str).to_numpy()
    order = {c: i for i, c in enumerate(CLASSES)}
    bad_rows = []
    for i in np.flatnonzero(veto != ""):
        kinds = [k.strip() for k in veto[i].replace("；", ";").split(";") if k.strip()]
        for k in kinds:
            if k not in VETO_FORCE and k not in VETO_AT_BEST:
                bad_rows.append(i + 2)
        if not evaluated[i] or not kinds:
            continue
        c = cls_before[i]
        forced = [VETO_FORCE[k] for k in kinds if k in VETO_FORCE]
        if forced:
            c = max(forced, key=order.get)
        for k in kinds:
            cap = VETO_AT_BEST.get(k)
            if cap and order[c] < order[cap]:
                c = cap
        final[i] = c
    if bad_rows:
        raise InputError(f"unknown veto kind in rows {', '.join(map(str, bad_rows[:20]))}")

    out = pd.DataFrame({
        "credit_code": codes,
        "name": df["name"].fillna("").astype(str),
        "town": df["town"].fillna("").astype(str),
        "group": pd.Series(group).map(GROUP_ZH),
        "total_score": total,
        "rank": pd.Series(rank).astype("Int64"),
        "class_before_veto": cls_before,
        "class": final,
        "exempt_reason": reason,
    })
    if full:
        out.insert(4, "land_mu", land)
        for k in sorted(detail):
            out[k] = detail[k]
        out["vetoes"] = veto
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--year", type=int, default=None,
                    help="keep only rows of this year when the file has a year column")
    ap.add_argument("--encoding", default="auto", help="auto (default), gb18030, utf-8, …")
    ap.add_argument("--full", action="store_true",
                    help="also write each indicator's value, benchmark, score and missing flag (the columns mujun writes)")
    args = ap.parse_args(argv)
    try:
        df = read_input(args.input, args.encoding, args.year)
        out = evaluate(df, full=args.full)
    except InputError as e:
        print(f"pandas_evaluate: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"pandas_evaluate: error: {e}", file=sys.stderr)
        return 1
    out.to_csv(args.output, index=False, encoding="utf-8", float_format=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
