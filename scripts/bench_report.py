"""`symmetry report` on the sample scores (issue 18, criterion 4: <= 1 s per person after scoring).

    python scripts/bench.py report            # 7 runs of each command, interleaved
    python scripts/bench.py report --quick    # 3 runs of each

The sample photos (sample_images/) are scored once into a temporary folder with `symmetry score`;
that is not timed. Then two commands run in turn (report, import, report, import, ...), so that
load from other processes hits both alike:
- report: the whole `symmetry report SCORES --out DIR -q` process (start-up, imports, trends,
  figures, pages and exit), into a fresh output folder each run;
- import: `python -c "import symmetry.render.report"`, a process that only loads the report's
  code and pandas (matplotlib is loaded with the first figure), as a yardstick.
Printed: the median wall and CPU seconds of each, the report's seconds per person (people = the
report folders written), and report / import.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"
BUDGET_S_PER_PERSON = 1.0


def _env() -> dict:
    """The environment of the commands: this checkout's package first."""
    path = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one run of `cmd`, which must succeed."""
    cpu0 = os.times()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    return wall, (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)


def measure(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "symmetry.cli", "score", str(SAMPLES), "--out", str(tmp / "scores"),
                        "-q"], check=True, env=_env(), stdout=subprocess.DEVNULL)
        print(f"sample photos scored in {time.perf_counter() - t0:.1f} s (not timed below)")
        commands = {
            "symmetry report": lambda i: [sys.executable, "-m", "symmetry.cli", "report",
                                          str(tmp / "scores" / "scores.csv"), "--out", str(tmp / f"report_{i}"), "-q"],
            "import symmetry.render.report": lambda i: [sys.executable, "-c", "import symmetry.render.report"],
        }
        for make in commands.values():  # warm-up: the disk cache, and the report's folder for `people`
            _timed(make("warm"))
        people = len(list((tmp / "report_warm").glob("*/report.html")))
        times = {name: [] for name in commands}
        for i in range(runs):
            for name, make in commands.items():
                times[name].append(_timed(make(i)))
    med = {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for name, t in times.items()}
    print(f"\n{people} people, {runs} runs of each command, interleaved; medians")
    print(f"{'':32}{'wall s':>9}{'CPU s':>9}{'wall s/person':>15}")
    for name, (wall, cpu) in med.items():
        per = f"{wall / people:>15.2f}" if name == "symmetry report" else ""
        print(f"{name:32}{wall:>9.2f}{cpu:>9.2f}{per}")
    report, imports = med["symmetry report"][0], med["import symmetry.render.report"][0]
    print(f"report / import: {report / imports:.1f}x wall")
    print(f"report: {report / people:.2f} s per person (issue 18: <= {BUDGET_S_PER_PERSON:g} s)")


def run(args) -> None:
    """The section of scripts/bench.py."""
    measure(3 if args.quick else 7)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    run(p.parse_args())
