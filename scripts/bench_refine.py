"""Benchmark section "refine" (issue 8): cost per photo of each measuring method, side by side.

Photos: the two sample faces, enlarged so the pupils are 200 px apart and given
day-to-day nuisances (as in the validation harness), measured as in-memory
arrays (decoding not counted) and as JPEG files (decoding counted, as in a
batch). Each round measures every photo with every method in turn
(interleaved, so a busy machine slows them alike):

  landmarks   analyze(rgb, method="landmarks")     one raw MediaPipe pass
  mirrored    analyze(rgb, method="mirrored")      a single photo read from the image (--method mirrored)
  reference   measure_reference(rgb)               `symmetry score --method tracked`'s reference photos
                                                   (mirrored, and prepared for tracking)
  tracked     analyze(rgb, reference=prepared)     `symmetry score --method tracked`'s other photos
  canonical   analyze(rgb, method="canonical")     the default of `symmetry analyze`, `symmetry score` and
                                                   `symmetry.analyze` (six mirror-averaged passes)
  balanced    analyze(rgb, method="balanced")      counter-warp balancing (optional)

The reference is prepared once per person (`prepare_reference`), as a batch
would. The last lines are the cost per photo of `symmetry score --method tracked` for a
person with N photos: one reference and N - 1 tracked photos (the default costs `canonical`).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def run(args) -> None:
    from symmetry.lab import validation as V
    from symmetry.lab.nuisances import apply_nuisance, day_nuisance
    from symmetry.photo.analysis import analyze, measure_reference, prepare_reference
    from symmetry.photo.imageio import load_image
    from symmetry.face.landmarks import Landmarker

    reps = 2 if getattr(args, "quick", False) else 6
    rng = np.random.default_rng(0)
    with Landmarker() as lm:
        photos, refs = [], {}
        for name in ("astronaut", "grace_hopper"):
            path = next((ROOT / "sample_images").glob(f"{name}.*"))
            base = V.prepare_face(load_image(path).rgb, name, "bench", lm, 200.0)
            ref_rgb = apply_nuisance(base.rgb, base.frame, day_nuisance(rng), 1)
            refs[name] = prepare_reference(ref_rgb, landmarker=lm)
            for k in range(3):
                photos.append((name, apply_nuisance(base.rgb, base.frame, day_nuisance(rng), k + 2)))
        tmp = Path(tempfile.mkdtemp(prefix="bench_refine_"))
        for k, (name, rgb) in enumerate(list(photos)):
            path = tmp / f"{name}_{k}.jpg"
            Image.fromarray(rgb).save(path, quality=92)
            photos.append((name, str(path)))
        methods = {
            "landmarks": lambda name, img: analyze(img, landmarker=lm, method="landmarks"),
            "mirrored": lambda name, img: analyze(img, landmarker=lm, method="mirrored"),
            "reference": lambda name, img: measure_reference(img, lm),
            "tracked": lambda name, img: analyze(img, landmarker=lm, reference=refs[name]),
            "canonical": lambda name, img: analyze(img, landmarker=lm, method="canonical"),
            "balanced": lambda name, img: analyze(img, landmarker=lm, method="balanced"),
        }
        for fn in methods.values():  # warm-up
            fn(*photos[0])
        times = {(m, src): [] for m in methods for src in ("array", "file")}
        for _ in range(reps):
            for name, img in photos:
                src = "file" if isinstance(img, str) else "array"
                for m, fn in methods.items():
                    t0 = time.perf_counter()
                    fn(name, img)
                    times[(m, src)].append(1000 * (time.perf_counter() - t0))
        shutil.rmtree(tmp, ignore_errors=True)
    h, w = photos[0][1].shape[:2]
    print(f"{len(photos) // 2} photos {w}x{h} px (pupils 200 px apart) x {reps} rounds; median ms per photo")
    print(f"{'method':<11} {'array ms':>9} {'x landmarks':>12} {'JPEG ms':>9} {'x landmarks':>12}")
    base = {src: float(np.median(times[("landmarks", src)])) for src in ("array", "file")}
    for m in methods:
        a, f = (float(np.median(times[(m, src)])) for src in ("array", "file"))
        print(f"{m:<11} {a:9.1f} {a / base['array']:12.2f} {f:9.1f} {f / base['file']:12.2f}")
    med = {m: float(np.median(times[(m, "file")])) for m in methods}
    for n in (1, 2, 7, 84):
        per = (med["reference"] + (n - 1) * med["tracked"]) / n
        print(f"symmetry score --method tracked, a person with {n} photo{'s' if n > 1 else ''} (JPEG): {per:.1f} ms per photo = "
              f"{per / med['landmarks']:.2f} x landmarks")
