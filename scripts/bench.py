#!/usr/bin/env python3
"""Benchmarks: every figure is measured side by side in one run, so ratios hold on a busy machine.

    python scripts/bench.py            # all sections
    python scripts/bench.py core batch # some sections

Each section lives in scripts/bench_<name>.py and defines run(args) -> None,
printing its own table. Sections: core (issue 3), batch (4), live (6), refine (8),
default (18: the lone-photo default against one raw pass), massage (16: drawing the points).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sections() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def main() -> int:
    found = sections()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help=f"sections to run, from {sorted(found)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke test")
    args = parser.parse_args()
    unknown = set(args.sections) - set(found)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {sorted(found)}")
    for name in args.sections or sorted(found):
        spec = importlib.util.spec_from_file_location(f"bench_{name}", found[name])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\n=== {name} ===", flush=True)
        module.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
