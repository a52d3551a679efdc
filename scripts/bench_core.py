"""Core benchmark (issue 3): wrapper overhead, default-method cost, reduced decoding of big photos."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FACE = ROOT / "sample_images" / "grace_hopper.jpg"


def interleaved(funcs: dict, reps: int) -> dict[str, float]:
    """Median ms per call, calling the functions in turn so that load hits them alike."""
    times = {k: [] for k in funcs}
    for f in funcs.values():
        f()  # warm-up
    for _ in range(reps):
        for k, f in funcs.items():
            t = time.perf_counter()
            f()
            times[k].append((time.perf_counter() - t) * 1000)
    return {k: float(np.median(v)) for k, v in times.items()}


def photo_12mp(path: Path) -> None:
    """A 4000x3000 JPEG with the sample face about as large as in a phone portrait."""
    import cv2
    from PIL import Image

    from symmetry.photo.imageio import load_image

    face = load_image(FACE).rgb
    face = cv2.resize(face, None, fx=2400 / face.shape[0], fy=2400 / face.shape[0], interpolation=cv2.INTER_CUBIC)
    canvas = np.full((3000, 4000, 3), 200, np.uint8)
    y0, x0 = 300, (4000 - face.shape[1]) // 2
    canvas[y0 : y0 + face.shape[0], x0 : x0 + face.shape[1]] = face
    rng = np.random.default_rng(0)
    canvas = np.clip(canvas + rng.normal(0, 3, canvas.shape), 0, 255).astype(np.uint8)
    Image.fromarray(canvas).save(path, quality=92)


def run(args) -> None:
    import cv2
    import mediapipe as mp

    import symmetry
    from symmetry.photo.imageio import load_image
    from symmetry.face.landmarks import default_landmarker

    reps = 5 if args.quick else 30
    lm = default_landmarker()
    frame = np.ascontiguousarray(cv2.resize(load_image(FACE).rgb, (640, 480)))
    t = interleaved(
        {
            # Raw: what any caller pays for one decoded RGB frame: wrap it, detect.
            "raw FaceLandmarker.detect": lambda: lm._task.detect(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)
            ),
            "analyze(method='landmarks')": lambda: symmetry.analyze(frame, method="landmarks"),
            "analyze() default (canonical)": lambda: symmetry.analyze(frame),
        },
        reps,
    )
    raw = t["raw FaceLandmarker.detect"]
    print(f"640x480 frame, median of {reps} interleaved runs")
    for k, v in t.items():
        print(f"  {k:32s} {v:7.1f} ms   {v / raw:5.2f} x raw")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo_12mp.jpg"
        photo_12mp(path)
        n = max(3, reps // 3)
        print(f"\n12-megapixel JPEG (4000x3000), end to end from the file, median of {n} interleaved runs")
        for method, label in (("canonical", "default method (canonical)"), ("landmarks", "raw landmark method")):
            t = interleaved(
                {
                    "full decode": lambda: symmetry.analyze(path, reduce=False, method=method),
                    "reduced decode": lambda: symmetry.analyze(path, method=method),
                },
                n,
            )
            full = symmetry.analyze(path, reduce=False, method=method)
            reduced = symmetry.analyze(path, method=method)
            shift = np.linalg.norm(full.face.points - reduced.face.points, axis=1) / full.face.interpupil_px
            print(f"  {label}:")
            print(f"    full decode + analyze      {t['full decode']:7.1f} ms")
            print(f"    reduced decode + analyze   {t['reduced decode']:7.1f} ms   (decode scale 1/{reduced.decode_scale})")
            print(f"    speed-up of reduced decoding  {t['full decode'] / t['reduced decode']:5.2f} x")
            print(f"    landmark shift, mean / max    {100 * shift.mean():5.2f} % / {100 * shift.max():5.2f} % "
                  f"of the inter-pupil distance ({full.face.interpupil_px:.0f} px)")
