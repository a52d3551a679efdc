"""Compare two scores.csv tables: every numeric column equal to a tolerance, every text column equal.

    python scripts/compare_scores.py OLD/scores.csv NEW/scores.csv [--tol 1e-9] [--ignore version]

Used to check that a change meant to keep behaviour (a refactor) keeps every number.
Exits 1 and lists the differing cells when they differ.
"""

import argparse
import sys

import numpy as np
import pandas as pd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--ignore", nargs="*", default=["version"])
    args = ap.parse_args()
    old = pd.read_csv(args.old, keep_default_na=False).sort_values("path").reset_index(drop=True)
    new = pd.read_csv(args.new, keep_default_na=False).sort_values("path").reset_index(drop=True)
    problems = []
    gone = [c for c in old.columns if c not in new.columns]
    added = [c for c in new.columns if c not in old.columns]
    if gone:
        problems.append(f"columns gone: {gone}")
    if len(old) != len(new) or list(old["path"]) != list(new["path"]):
        problems.append(f"rows differ: {len(old)} vs {len(new)}")
    for c in [c for c in old.columns if c in new.columns and c not in args.ignore]:
        a = pd.to_numeric(old[c].replace("", np.nan), errors="coerce")
        b = pd.to_numeric(new[c].replace("", np.nan), errors="coerce")
        numeric = a.notna().any() or b.notna().any()
        if numeric:
            same = ((a - b).abs() <= args.tol) | (a.isna() & b.isna())
        else:
            same = old[c].astype(str) == new[c].astype(str)
        for i in np.flatnonzero(~same.to_numpy())[:5]:
            problems.append(f"{old.at[i, 'path']}: {c}: {old.at[i, c]!r} -> {new.at[i, c]!r}")
    shared = len([c for c in old.columns if c in new.columns])
    print("\n".join(problems) if problems else f"same: {len(old)} rows, {shared} columns (tol {args.tol:g})"
          + (f"; added columns: {', '.join(added)}" if added else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
