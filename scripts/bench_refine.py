"""Benchmark section "refine" (issue 8): cost per photo of each measuring method, side by side.

Photos: the two sample faces, enlarged so the pupils are 200 px apart and given
day-to-day nuisances (as in the validation harness), as in-memory arrays so
that decoding is not part of the figure. Each round measures every photo with
every method in turn (interleaved, so a busy machine slows them alike):

  landmarks   analyze(rgb, method="landmarks")     one raw MediaPipe pass
  canonical   analyze(rgb, method="canonical")     single-photo default (issue 3)
  tracked     analyze(rgb, reference=prepared)     default when a reference is given

The reference is prepared once per person (`prepare_reference`), as a batch
would; its one-off cost is printed separately.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def run(args) -> None:
    from symmetry import validation as V
    from symmetry.analysis import analyze, prepare_reference
    from symmetry.imageio import load_image
    from symmetry.landmarks import Landmarker

    reps = 2 if getattr(args, "quick", False) else 6
    rng = np.random.default_rng(0)
    with Landmarker() as lm:
        photos, refs = [], {}
        for name in ("astronaut", "grace_hopper"):
            path = next((ROOT / "sample_images").glob(f"{name}.*"))
            base = V.prepare_face(load_image(path).rgb, name, "bench", lm, 200.0)
            t0 = time.perf_counter()
            ref_rgb = V.apply_nuisance(base.rgb, base.frame, V.day_nuisance(rng), 1)
            refs[name] = prepare_reference(ref_rgb, landmarker=lm)
            prep_ms = 1000 * (time.perf_counter() - t0)
            for k in range(3):
                photos.append((name, V.apply_nuisance(base.rgb, base.frame, V.day_nuisance(rng), k + 2)))
        methods = {
            "landmarks": lambda name, rgb: analyze(rgb, landmarker=lm, method="landmarks"),
            "canonical": lambda name, rgb: analyze(rgb, landmarker=lm, method="canonical"),
            "tracked": lambda name, rgb: analyze(rgb, landmarker=lm, reference=refs[name]),
        }
        for fn in methods.values():  # warm-up
            fn(*photos[0])
        times = {m: [] for m in methods}
        for _ in range(reps):
            for name, rgb in photos:
                for m, fn in methods.items():
                    t0 = time.perf_counter()
                    fn(name, rgb)
                    times[m].append(1000 * (time.perf_counter() - t0))
    h, w = photos[0][1].shape[:2]
    base_ms = float(np.median(times["landmarks"]))
    print(f"{len(photos)} photos {w}x{h} px (pupils 200 px apart) x {reps} rounds; median ms per photo")
    print(f"{'method':<11} {'ms/photo':>9} {'x landmarks':>12}")
    for m, t in times.items():
        med = float(np.median(t))
        print(f"{m:<11} {med:9.1f} {med / base_ms:12.2f}")
    print(f"(preparing one reference, once per person: about {prep_ms:.0f} ms)")
