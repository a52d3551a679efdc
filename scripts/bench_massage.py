"""Cost of the massage drawing per 640x480 frame, on top of the landmarks (issue 16, done-when 4:
<= 2 ms). The landmarks are found once; then each figure is the median of many runs of:

  points        acupoints() from the 478 landmarks (face frame, B-cun, 33 points)
  draw          draw_acupoints(): points + kneading areas + labels on a copy of the frame
  draw, no areas the same without the areas (the lighter overlay)
  live overlay  one frame of the guided-massage window (mirror, current point, arrow, banners)

    python scripts/bench_massage.py [--runs 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 2.0


def frame_640x480() -> np.ndarray:
    """The sample portrait in a 640x480 RGB frame (pupils about 120 px apart)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import cv2
    from video_samples import face_canvas

    return cv2.cvtColor(face_canvas((640, 480)), cv2.COLOR_BGR2RGB)


def median_ms(fn, runs: int) -> float:
    for _ in range(10):  # warm caches and lazy imports
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    return measure(ap.parse_args().runs)


def run(args) -> None:
    """The section of scripts/bench.py."""
    measure(60 if args.quick else 300)


def measure(runs: int) -> int:
    """Print the table; 0 when the drawing is within budget."""
    from symmetry.face.landmarks import Landmarker
    from symmetry.massage.acupoints import acupoints
    from symmetry.massage.draw import draw_acupoints
    from symmetry.massage.live import GuideOverlay
    from symmetry.massage.sequence import DEFAULT
    from symmetry.massage.session import MassageSession, plan

    rgb = frame_640x480()
    with Landmarker() as lm:
        face = lm.detect(rgb)[0]
    session = MassageSession(plan(DEFAULT, "left"))
    session.index = next(i for i, t in enumerate(session.tasks) if t.step.point == "ST4")
    overlay = GuideOverlay(mirror=True, weak_side="left")
    rows = {
        "points": lambda: acupoints(face),
        "draw": lambda: draw_acupoints(rgb, face, weak_side="left"),
        "draw, no areas": lambda: draw_acupoints(rgb, face, areas=False),
        "live overlay": lambda: overlay.draw(rgb, face.points, session),
    }
    print(f"640x480 frame, median of {runs} runs (ms):")
    worst = 0.0
    for name, fn in rows.items():
        ms = median_ms(fn, runs)
        worst = max(worst, ms) if name != "points" else worst
        print(f"  {name:<15} {ms:6.3f}")
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    print(f"drawing costs at most {worst:.2f} ms per frame: {verdict} the {BUDGET_MS:g} ms budget")
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
