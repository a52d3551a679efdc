#!/usr/bin/env python3
"""Candidates for a fast lone-photo default (issue 18), judged against today's "canonical"
and the raw landmarks on what the default must keep:

    python scripts/eval_default.py invariance      # the tests' perturbations, every candidate
    python scripts/eval_default.py real            # ../shared/real, held-out half (a few minutes)
    python scripts/eval_default.py invariance real --candidates single,pair

invariance: the sample faces enlarged as in tests/conftest.py, each turned +-15 degrees, scaled
    0.7x / 1.5x and re-encoded as JPEG 70 (tests/photo/test_analyze.py::test_invariance), and mirrored
    (test_mirror_swaps_sides_and_flips_droop). Per perturbation: the largest and the median move
    of the three asymmetries (mm; the tests allow 0.3) and the largest relative move of the
    distances (%; the tests allow 3), over both faces.
real: scripts/validate_real.py's sets and figures, with each candidate as a method of its own
    (`analyze(method="canonical")` through a landmarker whose `detect_canonical` is the candidate).

A candidate is a `symmetry.lab.levelled.LevelledLandmarker` setting (see CANDIDATES).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

#: name -> LevelledLandmarker keyword arguments ("landmarks" and "canonical" are today's methods).
CANDIDATES = {
    "single": dict(mirror=False),  # one pass on one levelled crop
    "pair": dict(packing="pair"),  # the crop and its mirror in one image: 1 detector + 2 model runs
    "pair-fast": dict(packing="pair", relevel=False),  # the same, placed by one symmetric detector run
    "mirror2": dict(),  # the crop and its mirror, two passes
    "mirror2-t2": dict(threads=2),  # the same on two threads
    "views4": dict(angles=(-4.0, 4.0)),  # today's four crop views, located by the detector
    "pairs4": dict(angles=(-4.0, 4.0), packing="pair"),  # the same four views in two images
    "pairs4-t2": dict(angles=(-4.0, 4.0), packing="pair", threads=2),
    "single-lm": dict(mirror=False, locate="landmarks"),  # located by a raw pass (one more pass)
    "pair-lm": dict(packing="pair", locate="landmarks"),
    # mirror2 with band-limited crops: is the crops' resampling what moves the landmarks? (Partly:
    # sigma 2.5 holds the tests' limits, by a hair, but blurs real asymmetry away; see levelled.py.)
    "mirror2-b192": dict(band_px=192),  # rendered at 192 px and enlarged back to 320
    "mirror2-g1.5": dict(blur_sigma=1.5),  # Gaussian, sigma in crop px (pupils 83 px apart)
    "mirror2-g2.5": dict(blur_sigma=2.5),
    "mirror2-g4.0": dict(blur_sigma=4.0),
    "mirror2-x": dict(exact=True),  # placement not rounded
    "mirror2-x-g2.5": dict(exact=True, blur_sigma=2.5),
    "pair-fast-g2.5": dict(packing="pair", relevel=False, blur_sigma=2.5),  # the cheapest
    "mirror2-lm-x-g1.5": dict(locate="landmarks", exact=True, blur_sigma=1.5),  # 3 passes: a raw one places it
}
BASELINES = ("landmarks", "canonical")
#: Today's canonical, the same six passes two at a time (the same result, to 1e-12 px).
PARALLEL = "canonical-t2"
ASYMMETRIES = ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm")
DISTANCES = ("eye_opening_right_mm", "eye_opening_left_mm", "brow_height_right_mm", "brow_height_left_mm",
             "mouth_corner_height_right_mm", "mouth_corner_height_left_mm", "interpupil_mm")
SIDE_PAIRS = (("mouth_corner_height_right_mm", "mouth_corner_height_left_mm"),
              ("brow_height_right_mm", "brow_height_left_mm"), ("eye_opening_right_mm", "eye_opening_left_mm"))


class CandidateLandmarker:
    """A `Landmarker` whose `detect_canonical` is a candidate, so that `analyze(method="canonical")`
    measures with it; everything else is the wrapped landmarker's."""

    def __init__(self, landmarker, name: str):
        from symmetry.lab.levelled import LevelledLandmarker

        self._landmarker = landmarker
        from symmetry.lab.levelled import ParallelCanonical

        self.candidate = (ParallelCanonical(landmarker) if name == PARALLEL
                          else LevelledLandmarker(landmarker, **CANDIDATES[name]))
        self.detect_canonical = self.candidate.detect

    def __getattr__(self, name):
        return getattr(self._landmarker, name)


def analyzer(name: str, landmarker):
    """rgb-or-path -> Measurement by the method or candidate `name`."""
    from symmetry.photo.analysis import analyze

    if name in BASELINES:
        return lambda image, **kw: analyze(image, method=name, landmarker=landmarker, **kw)
    wrapped = CandidateLandmarker(landmarker, name)

    def measure(image, **kw):
        return analyze(image, method="canonical", landmarker=wrapped, **kw)

    measure.close = wrapped.candidate.close  # its own MediaPipe tasks (closed before exit, not by __del__)
    return measure


# ================================================================ invariance
def _rotate(rgb, degrees):
    import cv2

    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _jpeg(rgb, quality):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def transforms(extra: bool = False) -> dict:
    """The perturbations of tests/photo/test_analyze.py::test_invariance; `extra`: eight more of
    the same kinds, so that a candidate that passes by luck on the tests' five is seen as such."""
    import cv2

    def scaled(f):
        return lambda a: cv2.resize(a, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)

    out = {"rotate +15": lambda a: _rotate(a, 15), "rotate -15": lambda a: _rotate(a, -15),
           "scale 0.7": scaled(0.7), "scale 1.5": scaled(1.5), "jpeg q70": lambda a: _jpeg(a, 70)}
    if extra:
        out.update({f"rotate {d:+d}": (lambda a, d=d: _rotate(a, d)) for d in (-10, -5, 5, 10)})
        out.update({f"scale {f}": scaled(f) for f in (0.85, 1.2, 1.3)})
        out["jpeg q50"] = lambda a: _jpeg(a, 50)
    return out


def large_faces(landmarker) -> dict[str, np.ndarray]:
    """The sample faces enlarged as tests/conftest.py does (pupils about 200 px apart)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import SAMPLE_FACES, enlarge_face

    from symmetry.photo.analysis import analyze
    from symmetry.photo.imageio import load_image

    out = {}
    for name, path in SAMPLE_FACES.items():
        rgb = load_image(path).rgb
        out[name] = enlarge_face(rgb, analyze(rgb, method="landmarks", landmarker=landmarker).face.interpupil_px)
    return out


def invariance(name: str, faces: dict, landmarker, extra: bool = False) -> dict[str, dict]:
    """{perturbation: {max_mm, median_mm, max_pct, ok}} for one method or candidate."""
    measure = analyzer(name, landmarker)
    base = {face: measure(rgb) for face, rgb in faces.items()}
    out = {}
    for label, transform in transforms(extra).items():
        moves, rel = [], []
        for face, rgb in faces.items():
            m = measure(transform(rgb))
            if m.status != "ok":
                moves.append(np.inf)
                continue
            moves += [abs(getattr(m, k) - getattr(base[face], k)) for k in ASYMMETRIES]
            rel += [abs(getattr(m, k) / getattr(base[face], k) - 1) for k in DISTANCES]
        out[label] = dict(max_mm=max(moves), median_mm=float(np.median(moves)), max_pct=100 * max(rel or [np.inf]))
    moves, flips = [], []
    for face, rgb in faces.items():
        m = measure(np.ascontiguousarray(rgb[:, ::-1]))
        b = base[face]
        moves += [abs(getattr(m, r) - getattr(b, l)) for r, l in SIDE_PAIRS]
        moves += [abs(getattr(m, l) - getattr(b, r)) for r, l in SIDE_PAIRS]
        flips.append(np.sign(m.mouth_droop_mm) == -np.sign(b.mouth_droop_mm))
    out["mirror"] = dict(max_mm=max(moves), median_mm=float(np.median(moves)), max_pct=np.nan, flips=all(flips))
    for v in out.values():
        v["ok"] = v["max_mm"] <= 0.3 and not v["max_pct"] > 3 and v.get("flips", True)
    getattr(measure, "close", lambda: None)()
    return out


def print_invariance(results: dict[str, dict]) -> None:
    labels = list(next(iter(results.values())))
    print("\n## Invariance (sample faces, pupils ~200 px): asymmetry move max / median (mm, limit 0.3), "
          "distance move max (%, limit 3)\n")
    print("| method | " + " | ".join(labels) + " | worst | fails |")
    print("|---" * (len(labels) + 3) + "|")
    for name, r in results.items():
        cells = []
        for label in labels:
            v = r[label]
            pct = "" if np.isnan(v["max_pct"]) else f", {v['max_pct']:.1f}%"
            cells.append(f"{v['max_mm']:.2f} / {v['median_mm']:.2f}{pct}{'' if v['ok'] else ' FAIL'}")
        worst = f"{max(v['max_mm'] for v in r.values()):.2f} mm, {np.nanmax([v['max_pct'] for v in r.values()]):.1f}%"
        print(f"| {name} | " + " | ".join(cells) + f" | {worst} | {sum(not v['ok'] for v in r.values())} |")


# ================================================================ real data (scripts/validate_real.py)
_worker: dict = {}


def _init_worker() -> None:
    import validate_real as V

    V._init_worker()
    _worker["landmarker"] = V._landmarker


def _measure_task(task):
    import validate_real as V
    from symmetry.lab import realdata as R

    photo, method = task
    if method in BASELINES or method not in list(CANDIDATES) + [PARALLEL]:
        return V._measure_task(task)
    key = f"cand:{method}"
    if key not in _worker:
        _worker[key] = CandidateLandmarker(_worker["landmarker"], method)
    from symmetry.photo.analysis import analyze

    try:
        m = analyze(photo.path, method="canonical", landmarker=_worker[key])
    except Exception as exc:  # noqa: BLE001 - every failure is a finding to count
        return R.Reading(photo.key, method, "error", f"{type(exc).__name__}: {exc}")
    return R.reading_from(photo.key, method, m)


def real(methods: list[str], half: str, quick: bool, jobs: int) -> dict:
    """validate_real's figures for `methods` (today's and candidates) on `half` of ../shared/real."""
    import multiprocessing
    import shutil
    import tempfile

    from tqdm import tqdm

    import validate_real as V
    from symmetry.lab.realfigures import all_figures, report, summary

    root = ROOT.parent / "shared" / "real"
    tmp = Path(tempfile.mkdtemp(prefix="eval-default-"))
    try:
        sets, points = V.select_photos(root, half, quick)
        with multiprocessing.get_context("spawn").Pool(jobs, initializer=_init_worker) as pool:
            sets["videos"], _ = V.video_photos(pool, root, half, quick, tmp)
            sets["cross"] = []
            tasks = V.tasks_for(sets, methods)
            readings = {}
            for r in tqdm(pool.imap_unordered(_measure_task, tasks, chunksize=4), total=len(tasks),
                          desc="measuring", file=sys.stderr):
                readings[(r.key, r.method)] = r
        fig = all_figures(sets, points, readings, methods)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if "--full" in sys.argv:
        print(report(fig, half))
    print(summary(fig, methods, half))
    return fig


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("parts", nargs="*", default=["invariance", "real"], help="invariance and/or real")
    p.add_argument("--candidates", default=",".join(CANDIDATES),
                   help=f"from {', '.join(CANDIDATES)}, {PARALLEL} (default: all but {PARALLEL})")
    p.add_argument("--half", choices=("heldout", "tuning", "all"), default="heldout")
    p.add_argument("--quick", action="store_true", help="real: validate_real's small subsample")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--full", action="store_true", help="real: every table, not only the summary")
    p.add_argument("--extra", action="store_true", help="invariance: eight more perturbations")
    args = p.parse_args(argv)
    names = list(BASELINES) + [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = set(names) - set(BASELINES) - set(CANDIDATES) - {PARALLEL}
    if unknown:
        p.error(f"unknown candidate(s) {sorted(unknown)}")
    if "invariance" in args.parts:
        from symmetry.face.landmarks import Landmarker

        with Landmarker() as lm:
            faces = large_faces(lm)
            results = {}
            for name in names:
                results[name] = invariance(name, faces, lm, args.extra)
                print(f"  {name} done", file=sys.stderr, flush=True)
        print_invariance(results)
    if "real" in args.parts:
        real(names, args.half, args.quick, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
