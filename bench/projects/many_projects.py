#!/usr/bin/env python3
"""Writes a project and a milestone table (FORMATS.md) of N remediation projects on the parcels of
a demo database, for the map bench: each project covers up to 5 parcels of one town (in parcel
order), started a year ago, with milestones a quarter apart — some done, some overdue.

usage: many_projects.py DB.sqlite PROJECTS.csv MILESTONES.csv N [--seed 7]
"""
import argparse
import csv
import datetime
import random
import sqlite3

NAMES = ["排查确认", "方案制定", "签约", "腾退/拆除", "供地/开工", "竣工投产"]
WEIGHTS = [10, 15, 20, 20, 15, 20]
MODES = ["自主改造", "兼并重组", "政府收储", "关停淘汰", "腾退", "退二进三"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("projects")
    ap.add_argument("milestones")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    con = sqlite3.connect(a.db)
    rows = con.execute("SELECT parcel_id, town, area_mu FROM parcels ORDER BY parcel_id").fetchall()
    used = {r[0] for r in con.execute("SELECT parcel_id FROM project_parcels")}
    by_town: dict[str, list] = {}
    for pid, town, area in rows:
        if pid not in used:
            by_town.setdefault(town, []).append((pid, area))
    today = datetime.date.today()
    start = today - datetime.timedelta(days=365)
    towns = sorted(by_town)
    with open(a.projects, "w", newline="", encoding="utf-8") as pf, open(a.milestones, "w", newline="", encoding="utf-8") as mf:
        p = csv.writer(pf)
        m = csv.writer(mf)
        p.writerow(["项目编号", "项目名称", "项目类型", "整治方式", "责任镇街", "牵头部门", "目标面积(亩)", "地块编号", "户数", "开始日期"])
        m.writerow(["项目编号", "节点名称", "权重", "计划完成日期", "实际完成日期"])
        for k in range(a.n):
            town = towns[k % len(towns)]
            pool = by_town[town]
            if not pool:
                continue
            take, by_town[town] = pool[:rng.randint(1, 5)], pool[5:]
            ref = f"MAP-{k + 1:05d}"
            area = round(sum(x[1] for x in take), 2) or 1
            p.writerow([ref, f"{town}地图基准整治项目{k + 1}", "整治项目", MODES[k % len(MODES)], town, "经信局", area,
                        ";".join(x[0] for x in take), "", start.isoformat()])
            done_upto = rng.randint(0, 6)
            for i, (name, w) in enumerate(zip(NAMES, WEIGHTS)):
                planned = start + datetime.timedelta(days=75 * (i + 1))
                done = planned if i < done_upto and planned <= today else None
                m.writerow([ref, name, w, planned.isoformat(), done.isoformat() if done else ""])


if __name__ == "__main__":
    main()
