#!/usr/bin/env python3
"""Build the SYNTHETIC demo data set in sample_images/demo_patient/ (reproducible).

One made-up patient, six massage sessions over five weeks, photographed before
(`pre`) and after (`post`) each massage in the standard expressions, with a
repeated resting photo. The face is the real public-domain NASA portrait of astronaut Eileen Collins
(sample_images/astronaut.png); a one-sided palsy of the patient's RIGHT side
is simulated with smooth local image warps:

- at rest: the right mouth corner, right brow and right upper lid sit lower;
- in expressions: the right side moves less (smile, brow raise, eye closure,
  pucker);
- both shrink over the weeks (recovery), with a small immediate improvement
  after each massage;
- day-to-day nuisances: small roll, scale, exposure, sensor noise, JPEG.

Every image says SYNTHETIC in its EXIF ImageDescription, and the applied
displacements are written to ground_truth.csv beside the images.

    python scripts/make_samples.py            # writes sample_images/demo_patient/
    python scripts/make_samples.py --out DIR  # elsewhere
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "sample_images" / "astronaut.png"
PERSON = "demo_patient"
FIRST_DAY = date(2026, 3, 2)
SESSION_DAYS = (0, 7, 14, 21, 28, 35)  # six sessions over five weeks
#: Fraction of the palsy recovered at each session (0 = as at the start).
RECOVERY = (0.0, 0.25, 0.45, 0.62, 0.75, 0.85)
#: Immediate effect of a massage: this much more of the remaining palsy is gone in `post`.
MASSAGE_EFFECT = 0.12
#: Resting displacements of the patient's right side at the first session, mm (+ = down).
REST_DROP_MM = {"mouth": 3.5, "brow": 3.0, "upper_lid": 1.5}
#: Healthy movement in each expression, mm in the face frame (dx towards the patient's
#: own side outwards, dy down), per feature.
EXPRESSIONS = {
    "rest": {},
    "brow_raise": {"brow": (0.0, -5.0)},
    "eyes_closed_gentle": {"upper_lid": (0.0, 0.85)},  # fraction of the eye opening
    "eyes_closed_tight": {"upper_lid": (0.0, 1.0)},
    "smile": {"mouth": (3.0, -5.0)},
    "pucker": {"mouth": (-5.0, -0.5)},
}
REST_REPEATS = 2
WIDTH_MM_PER_PX_TARGET = 0.45  # the demo photos have pupils about 130 px apart

LANDMARKS = {
    "mouth": {"right": (61,), "left": (291,)},
    "brow": {"right": (70, 63, 105, 66, 107), "left": (300, 293, 334, 296, 336)},
    "upper_lid": {"right": (161, 160, 159, 158, 157), "left": (388, 387, 386, 385, 384)},
}
#: Fall-off of each feature's warp, mm: (along the face, above the feature, below it).
FALLOFF_MM = {"mouth": (7.0, 7.0, 7.0), "brow": (6.0, 6.0, 6.0), "upper_lid": (5.0, 9.0, 1.2)}


@dataclass
class Shift:
    feature: str
    side: str
    dx_mm: float  # towards the patient's own side, outwards
    dy_mm: float  # down the face


def displacement_at(xy: np.ndarray, frame, points, shifts: list[Shift]) -> np.ndarray:
    """Backward displacement D(p) in px at the positions `xy` (..., 2), so that out(p) = in(p - D(p))."""
    field = np.zeros(np.shape(xy))
    for s in shifts:
        centres = points[list(LANDMARKS[s.feature][s.side])]
        outwards = -frame.x_axis if s.side == "right" else frame.x_axis
        vec = (outwards * s.dx_mm + frame.y_axis * s.dy_mm) / frame.mm_per_px
        moved = centres + vec
        along, above, below = (v / frame.mm_per_px for v in FALLOFF_MM[s.feature])
        # Distance to the nearest moved centre, split into along-face and vertical parts.
        rel = xy[..., None, :] - moved
        u = rel @ frame.x_axis
        v = rel @ frame.y_axis
        sigma_v = np.where(v < 0, above, below)
        d2 = (u / along) ** 2 + (v / sigma_v) ** 2
        weight = np.exp(-0.5 * d2.min(-1))
        field += weight[..., None] * vec
    return field


def displacement_field(shape, frame, points, shifts: list[Shift]) -> np.ndarray:
    """`displacement_at` every pixel of an image of this shape."""
    h, w = shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    return displacement_at(np.stack([xs, ys], -1), frame, points, shifts)


def perceived_truth(frame, points, shifts: list[Shift]) -> dict:
    """What a perfect tracker would see: each measure recomputed on the base landmarks moved as the
    warp moved the image under them, minus the unwarped face's own value, mm. Warps of nearby
    features overlap (a lowered brow also lowers the upper lid a little), so this differs slightly
    from the requested displacements."""
    from symmetry.face.measures import measure_points

    # Where the warp takes each landmark c: solve p = c + D(p) by fixed-point iteration.
    moved = np.asarray(points, float).copy()
    for _ in range(60):
        moved = points + displacement_at(moved, frame, points, shifts)
    before = measure_points(frame.to_mm(points))
    after = measure_points(frame.to_mm(moved))
    return {f"true_{k}_change": round(after[k] - before[k], 3)
            for k in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm")}


def warp(rgb, field):
    import cv2

    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(rgb, xs - field[..., 0].astype(np.float32), ys - field[..., 1].astype(np.float32),
                     interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def nuisance(rgb, rng):
    """Day-to-day differences: roll, scale, exposure, noise. Returns the image and the values."""
    import cv2

    h, w = rgb.shape[:2]
    roll = rng.uniform(-3, 3)
    scale = rng.uniform(0.95, 1.05)
    gain = rng.uniform(0.9, 1.1)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), roll, scale)
    out = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    out = np.clip(out.astype(np.float64) * gain + rng.normal(0, 2.0, out.shape), 0, 255).astype(np.uint8)
    return out, {"roll_deg": round(roll, 2), "scale": round(scale, 3), "exposure_gain": round(gain, 3)}


def save_jpeg(rgb, path: Path, when: str, quality: int, note: str) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = note  # ImageDescription
    exif[0x0131] = "symmetry scripts/make_samples.py (synthetic)"  # Software
    exif[0x0132] = when  # DateTime
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    Image.fromarray(rgb).save(path, quality=quality, exif=exif, optimize=True)


def main(argv=None) -> int:
    import cv2

    import symmetry
    from symmetry.photo.imageio import load_image

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "sample_images" / PERSON, help="output folder")
    parser.add_argument("--seed", type=int, default=20260302)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    source = load_image(SOURCE).rgb
    first = symmetry.analyze(source)
    k = first.mm_per_px / WIDTH_MM_PER_PX_TARGET
    big = cv2.resize(source, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    # Crop to head and shoulders: the demo set stays small.
    m = symmetry.analyze(big)
    top, bottom = m.frame.to_px(np.array([[0, -95]]))[0], m.frame.to_px(np.array([[0, 150]]))[0]
    cx = int(m.frame.origin[0])
    half = int(0.42 * (bottom[1] - top[1]))
    y0, y1 = max(0, int(top[1])), min(big.shape[0], int(bottom[1]))
    face = np.ascontiguousarray(big[y0:y1, max(0, cx - half): cx + half])
    base = symmetry.analyze(face)
    if base.status != "ok":
        print(f"make_samples: the base face could not be measured: {base.message}", file=sys.stderr)
        return 1
    points, frame = base.face.points, base.frame
    rest_opening = {"right": base.eye_opening_right_mm, "left": base.eye_opening_left_mm}

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    rows = []
    for session, (day, recovered) in enumerate(zip(SESSION_DAYS, RECOVERY)):
        when = FIRST_DAY + timedelta(days=day)
        for phase_index, phase in enumerate(("pre", "post")):
            remaining = (1 - recovered) * (1 - MASSAGE_EFFECT * phase_index)
            folder = args.out / f"{when.isoformat()}_{phase}"
            folder.mkdir()
            for expression, moves in EXPRESSIONS.items():
                for repeat in range(1, (REST_REPEATS if expression == "rest" else 1) + 1):
                    shifts = [Shift(f, "right", 0.0, REST_DROP_MM[f] * remaining) for f in REST_DROP_MM]
                    truth = {f"rest_drop_right_{f}_mm": round(REST_DROP_MM[f] * remaining, 3) for f in REST_DROP_MM}
                    for feature, (dx, dy) in moves.items():
                        for side in ("right", "left"):
                            strength = 1.0 if side == "left" else 1.0 - 0.7 * remaining
                            if feature == "upper_lid":  # closing: a fraction of that side's opening
                                opening = rest_opening[side] - (REST_DROP_MM["upper_lid"] * remaining if side == "right" else 0)
                                dy_mm, dx_mm = dy * opening * strength, 0.0
                            else:
                                dx_mm, dy_mm = dx * strength, dy * strength
                            shifts.append(Shift(feature, side, dx_mm, dy_mm))
                            truth[f"{expression}_{feature}_{side}_dx_mm"] = round(dx_mm, 3)
                            truth[f"{expression}_{feature}_{side}_dy_mm"] = round(dy_mm, 3)
                    truth.update(perceived_truth(frame, points, shifts))
                    img = warp(face, displacement_field(face.shape, frame, points, shifts))
                    img, noise = nuisance(img, rng)
                    name = f"{expression}_{repeat}.jpg"
                    quality = int(rng.integers(85, 93))
                    stamp = f"{when:%Y:%m:%d} {9 + phase_index:02d}:{15 + repeat:02d}:00"
                    save_jpeg(img, folder / name, stamp, quality,
                              "SYNTHETIC demo image made by symmetry's scripts/make_samples.py from a public-domain "
                              "NASA portrait of astronaut Eileen Collins; simulated palsy, not a real patient")
                    rows.append({"path": f"{folder.name}/{name}", "person": PERSON, "date": when.isoformat(),
                                 "phase": phase, "expression": expression, "session": session + 1,
                                 "recovered_fraction": round(1 - remaining, 3), "jpeg_quality": quality,
                                 **noise, **truth})
    columns = sorted({c for r in rows for c in r}, key=lambda c: (c not in rows[0], list(rows[0]).index(c) if c in rows[0] else 0, c))
    with open(args.out / "ground_truth.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "README.md").write_text(README.format(n=len(rows)))
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {len(rows)} synthetic images ({size / 1e6:.1f} MB) and ground_truth.csv to {args.out}")
    return 0


README = """# demo_patient: SYNTHETIC recovery series

**Not a real patient.** {n} images made by `scripts/make_samples.py` from the
public-domain NASA portrait of astronaut Eileen Collins (`../astronaut.png`). A palsy of the
patient's RIGHT side is simulated with smooth local warps: the right mouth corner,
brow and upper lid sit lower at rest and move less in expressions; the palsy
shrinks over six sessions in five weeks, with a small immediate improvement after
each massage (`post`). Day-to-day nuisances: roll within 3 degrees, scale within 5%,
exposure within 10%, sensor noise, JPEG quality 85-92.

Layout: `YYYY-MM-DD_pre|post/EXPRESSION_N.jpg`. The applied displacements (mm, in
the face frame; + = down the face, dx = outwards on that side) and the nuisances are
in `ground_truth.csv`, with `true_*_change` columns: the change of mouth droop, brow
asymmetry and eye-opening difference that a perfect measurement would see, relative
to the unwarped face (neighbouring warps overlap a little: a lowered brow also lowers
the upper lid). The face's own natural asymmetry is not part of the truth. Every image says SYNTHETIC in its EXIF ImageDescription.
Rebuild with `python scripts/make_samples.py`.
"""


if __name__ == "__main__":
    sys.exit(main())
