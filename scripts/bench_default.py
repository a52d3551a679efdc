#!/usr/bin/env python3
"""Issue 18, side by side in one run: the lone-photo default (today's "canonical") against one
raw FaceLandmarker pass and against the fast candidates of scripts/eval_default.py.

    python scripts/bench_default.py                    # every candidate
    python scripts/bench_default.py --candidates pair,pairs4-t2 --reps 15

Figures (medians of interleaved runs, so that a busy machine hits them alike):
  640x480 frame: raw `FaceLandmarker.detect`; the face detector alone; `analyze` by raw
      landmarks, by today's default and by each candidate; each as a ratio to the raw detect
      (issue 18: the default <= 2.0x).
  12 MP JPEG: the naive way (full decode + one raw detect) against `analyze` from the file with
      reduced decoding, today's default and each candidate (issue 18: >= 2.5x faster than naive).
`symmetry score` per photo is about `analyze` plus writing a row (issue 18: <= 1.3x raw).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import eval_default as E  # noqa: E402
from bench_core import interleaved, photo_12mp  # noqa: E402  (one 12 MP photo, one timing loop)

FACE = ROOT / "sample_images" / "grace_hopper.jpg"


def _table(title: str, t: dict[str, float], base_key: str, base_label: str, invert: bool = False) -> None:
    print(f"\n{title}")
    base = t[base_key]
    for k, v in t.items():
        ratio = base / v if invert else v / base
        print(f"  {k:44s} {v:7.1f} ms   {ratio:5.2f} x {base_label}")


def _another_day(rgb: np.ndarray) -> np.ndarray:
    """The same face as a reference photo taken another time: moved 6 px, turned 2 degrees, darker."""
    import cv2

    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 1.0)
    m[:, 2] += (6.0, -4.0)
    moved = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.clip(moved.astype(np.float32) * 0.9, 0, 255).astype(np.uint8)


def measure(names: list[str], reps: int) -> None:
    import cv2
    import mediapipe as mp

    from symmetry.face.landmarks import Landmarker
    from symmetry.lab.levelled import LevelledLandmarker
    from symmetry.photo.analysis import analyze, prepare_reference
    from symmetry.photo.imageio import load_image, read_image

    lm = Landmarker()
    frame = np.ascontiguousarray(cv2.resize(load_image(FACE).rgb, (640, 480)))
    detector = LevelledLandmarker(lm)
    funcs = {
        "raw FaceLandmarker.detect": lambda: lm._task.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)),
        "face detector alone": lambda: detector._detect_keypoints(frame),
    }
    measures = {name: E.analyzer(name, lm) for name in names}
    funcs.update({f"analyze: {name}": (lambda f=f: f(frame)) for name, f in measures.items()})
    reference = prepare_reference(_another_day(frame), landmarker=lm)
    funcs["analyze(reference=...): tracked"] = lambda: analyze(frame, landmarker=lm, reference=reference)
    _table(f"640x480 frame, median of {reps} interleaved runs (issue 18: default <= 2.0x raw, "
           "with a reference <= 1.6x)", interleaved(funcs, reps), "raw FaceLandmarker.detect", "raw")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo_12mp.jpg"
        photo_12mp(path)

        def naive():
            rgb = read_image(path, reduce=False).rgb
            lm._task.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))

        funcs = {"naive: full decode + one raw detect": naive,
                 "reduced decode alone": lambda: read_image(path).rgb}
        funcs.update({f"analyze(file): {name}": (lambda f=f: f(path)) for name, f in measures.items()})
        n = max(3, reps // 2)
        _table(f"12 MP JPEG (4000x3000) from the file, median of {n} interleaved runs "
               "(issue 18: default >= 2.5x faster than naive)", interleaved(funcs, n),
               "naive: full decode + one raw detect", "faster than naive", invert=True)
    # Closed here: MediaPipe tasks left to __del__ at interpreter exit print "Exception ignored".
    for f in measures.values():
        getattr(f, "close", lambda: None)()
    detector.close()
    lm.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", default=",".join(list(E.CANDIDATES) + [E.PARALLEL]))
    p.add_argument("--reps", type=int, default=15)
    args = p.parse_args(argv)
    names = list(E.BASELINES) + [c.strip() for c in args.candidates.split(",") if c.strip()]
    measure(names, args.reps)
    return 0


def run(args) -> None:
    """The section of scripts/bench.py: today's default against raw detect and the candidates."""
    measure(list(E.BASELINES) + list(E.CANDIDATES) + [E.PARALLEL], 5 if args.quick else 15)


if __name__ == "__main__":
    sys.exit(main())
