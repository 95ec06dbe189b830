#!/usr/bin/env python3
"""Checks that CSV files of `parcel_id,cluster` describe the same partition of the same parcels.

Cluster numbers are not compared, only memberships: each cluster is reduced to its set of
parcel ids, and the two files must have the same parcels and the same sets. The first file is
the reference; every other file is compared with it. Exit 0 when all agree, 1 otherwise
(with the first differences printed).

usage: compare_partitions.py REF.csv OTHER.csv [MORE.csv …]
"""
import csv
import sys


def partition(path):
    clusters = {}
    seen = set()
    with open(path, encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        header = next(r)
        try:
            pi, ci = header.index("parcel_id"), header.index("cluster")
        except ValueError:
            sys.exit(f"{path}: needs the columns parcel_id and cluster (has {header})")
        for row in r:
            pid = row[pi]
            if pid in seen:
                sys.exit(f"{path}: parcel {pid} listed twice")
            seen.add(pid)
            clusters.setdefault(row[ci], []).append(pid)
    return seen, {frozenset(v) for v in clusters.values()}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ref_path = sys.argv[1]
    ref_ids, ref = partition(ref_path)
    status = 0
    for other_path in sys.argv[2:]:
        ids, other = partition(other_path)
        if ids != ref_ids:
            print(f"partition: {other_path} has {len(ids)} parcels, {ref_path} {len(ref_ids)}; "
                  f"{len(ids - ref_ids)} only in the first, {len(ref_ids - ids)} only in the second")
            status = 1
            continue
        if other == ref:
            print(f"partition: {other_path} = {ref_path}: {len(ref_ids)} parcels in {len(ref)} clusters, identical memberships")
            continue
        only_ref = sorted((sorted(c) for c in ref - other), key=lambda c: c[0])
        only_other = sorted((sorted(c) for c in other - ref), key=lambda c: c[0])
        print(f"partition: {other_path} differs from {ref_path}: {len(ref)} vs {len(other)} clusters; "
              f"{len(only_ref)} clusters only in {ref_path}, {len(only_other)} only in {other_path}")
        for c in only_ref[:5]:
            print(f"  only in {ref_path}: {len(c)} parcels {c[:6]}{' …' if len(c) > 6 else ''}")
        for c in only_other[:5]:
            print(f"  only in {other_path}: {len(c)} parcels {c[:6]}{' …' if len(c) > 6 else ''}")
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
