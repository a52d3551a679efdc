"""Single-photo asymmetry without the landmark model's pull towards symmetry.

The landmark model reads only part of a one-sided displacement (about half of a
mouth corner's, a quarter of a brow's; see `lab/validation.py`), but it reads a
symmetric face as symmetric, and more asymmetry as more. So instead of taking
its reading at face value, ask it a question it answers well: *which
counter-displacement makes this face read as symmetric?*

For each feature (mouth corners, brows) the photo is warped with a smooth
local displacement that lowers one side and raises the other by half of `d`
each (in the face frame), the warped photo is measured again, and `d` is
found where the measured asymmetry is zero (see `balance`). The face's own
asymmetry is then `-d`: found from the image, with the model used only as a
detector of symmetry. The features are far enough apart to be solved together,
one detection per step.

The eyes are left to the landmarks: the model barely responds to a lid
displacement (a tenth to a third of it), so balancing them multiplies the
landmark noise several times (measured repeatability 0.35 mm, against 0.06 mm
for the landmarks' eye-opening difference).

It costs three more passes of the canonical detector, so `symmetry score` uses
it for each person's reference photo only (once per person); later photos are
tracked from it (`tracking.py`). Measured accuracy: README "How accurate it is".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symmetry.face.frame import FaceFrame, face_frame
from symmetry.face.measures import BROW_LEFT, BROW_RIGHT, MOUTH_CORNER_LEFT, MOUTH_CORNER_RIGHT

#: feature -> (measure it balances, right points, left points, fall-off mm, sign):
#: a counter-displacement d moves the right points down by sign*d/2 and the left up by sign*d/2,
#: which changes the measure by about d.
FEATURES = {
    "mouth": ("mouth_droop_mm", (MOUTH_CORNER_RIGHT,), (MOUTH_CORNER_LEFT,), 7.0, +1),
    "brow": ("brow_asymmetry_mm", BROW_RIGHT, BROW_LEFT, 6.0, +1),
}
#: The model's rough response to a displacement (measured / true), for the first step only.
FIRST_SLOPE = {"mouth": 0.5, "brow": 0.3}
#: The two probes sit this far (mm) either side of the first guess: a wide base for the slope.
PROBE_MM = 4.0
#: A feature whose reading moves less than this per mm of counter-displacement is not balanced:
#: the model does not follow it (noise would be multiplied by more than 1 / MIN_SLOPE).
MIN_SLOPE = 0.12
#: The warp field is computed every sigma / FIELD_STEP_PER_SIGMA pixels and interpolated.
FIELD_STEP_PER_SIGMA = 6.0
#: A counter-displacement is kept within this (mm): beyond it the warp would fold.
MAX_SHIFT_MM = 10.0


@dataclass
class Balanced:
    """Result of `balance`: the face's asymmetries, read as minus the counter-displacement."""

    asymmetry_mm: dict  # measure -> mm, for the features the model follows
    residual_mm: dict  # measure -> what the model still read at the root
    slope: dict  # feature -> the model's measured response (reading per mm of displacement)
    passes: int  # detections used


def counter_warp(rgb: np.ndarray, points: np.ndarray, frame: FaceFrame, shifts_mm: dict) -> np.ndarray:
    """`rgb` with each feature's right side moved down by sign*d/2 and its left side up by sign*d/2 (mm)."""
    import cv2

    h, w = rgb.shape[:2]
    points = np.asarray(points, float)
    field_vectors, centres_all, sigmas = [], [], []
    for feature, d in shifts_mm.items():
        if not d:
            continue
        _, right, left, sigma_mm, sign = FEATURES[feature]
        for idx, s in ((right, +0.5), (left, -0.5)):
            vec = frame.y_axis * (sign * s * d / frame.mm_per_px)
            centres_all.append(points[list(idx)] + vec)
            field_vectors.append(vec)
            sigmas.append(sigma_mm / frame.mm_per_px)
    if not field_vectors:
        return rgb
    reach = 4 * max(sigmas) + MAX_SHIFT_MM / frame.mm_per_px
    allc = np.vstack(centres_all)
    x0, y0 = np.maximum(np.floor(allc.min(0) - reach), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(allc.max(0) + reach), [w, h]).astype(int)
    # The field is smooth (fall-offs of 6-7 mm): compute it on a coarse grid and interpolate.
    step = max(1, int(min(sigmas) / FIELD_STEP_PER_SIGMA))
    gy, gx = np.mgrid[y0:y1 + step:step, x0:x1 + step:step].astype(np.float32)
    grid = np.stack([gx, gy], -1)
    disp = np.zeros_like(grid)
    for centres, vec, sigma in zip(centres_all, field_vectors, sigmas):
        d2 = ((grid[..., None, :] - centres.astype(np.float32)) ** 2).sum(-1).min(-1)
        disp += np.exp(-d2 / (2.0 * sigma**2))[..., None] * vec.astype(np.float32)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    # Grid node (i, j) sits at pixel (x0 + j step, y0 + i step): sample the grid there.
    u = ((xs - x0) / step).astype(np.float32)
    v = ((ys - y0) / step).astype(np.float32)
    dx = cv2.remap(np.ascontiguousarray(disp[..., 0]), u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    dy = cv2.remap(np.ascontiguousarray(disp[..., 1]), u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = rgb.copy()
    out[y0:y1, x0:x1] = cv2.remap(rgb, xs - dx, ys - dy, interpolation=cv2.INTER_CUBIC,
                                  borderMode=cv2.BORDER_REFLECT)
    return out


def balance(rgb: np.ndarray, points: np.ndarray, detect, interpupil_mm: float | None = None) -> Balanced | None:
    """Find, per feature, the counter-displacement that makes `detect`'s landmarks read symmetric.

    Three detections: two probes `PROBE_MM` either side of a first guess give the
    model's response (slope) over a wide base, the line through them and the
    unwarped reading gives the root, and one more reading at the root refines it.
    A feature the model barely follows (slope below `MIN_SLOPE`, e.g. faint brows)
    is not balanced: it is left out of `asymmetry_mm`.

    Args:
        rgb: the photo (RGB uint8), in the pixels of `points`.
        points: its (478, 2) landmarks, as `detect` found them in `rgb` (its unwarped reading).
        detect: rgb -> list[Face] (e.g. `Landmarker.detect_canonical`).
        interpupil_mm: calibrated inter-pupil distance, if known.

    Returns:
        None when a warped photo loses the face.
    """
    from symmetry.face.measures import measure_points

    frame = face_frame(points, interpupil_mm)

    def reading(pts: np.ndarray) -> dict:
        v = measure_points(face_frame(pts, interpupil_mm).to_mm(pts))
        return {f: v[spec[0]] for f, spec in FEATURES.items()}

    def read(shifts: dict) -> dict | None:
        faces = detect(counter_warp(rgb, points, frame, shifts))
        return reading(faces[0].points) if faces else None

    m0 = reading(points)  # the unwarped photo: `points` are `detect`'s own answer for it
    first = {f: float(np.clip(-m0[f] / FIRST_SLOPE[f], -MAX_SHIFT_MM + PROBE_MM, MAX_SHIFT_MM - PROBE_MM))
             for f in FEATURES}
    low = read({f: first[f] - PROBE_MM for f in FEATURES})
    high = read({f: first[f] + PROBE_MM for f in FEATURES})
    if low is None or high is None:
        return None
    slope = {f: (high[f] - low[f]) / (2 * PROBE_MM) for f in FEATURES}
    followed = [f for f in FEATURES if slope[f] >= MIN_SLOPE]
    root = {}
    for f in followed:
        xs = np.array([0.0, first[f] - PROBE_MM, first[f] + PROBE_MM])
        ys = np.array([m0[f], low[f], high[f]])
        k, c = np.polyfit(xs, ys, 1)
        root[f] = float(np.clip(-c / k, -MAX_SHIFT_MM, MAX_SHIFT_MM))
    at_root = read(root) if root else {}
    if at_root is None:
        return None
    best, residual = {}, {}
    for f in followed:
        d = root[f] - at_root[f] / slope[f]
        best[FEATURES[f][0]] = -float(np.clip(d, -MAX_SHIFT_MM, MAX_SHIFT_MM))
        residual[FEATURES[f][0]] = at_root[f]
    return Balanced(best, residual, slope, 3)


def rebalance(points_mm: np.ndarray, balanced: Balanced) -> np.ndarray:
    """Face-frame points with each balanced feature's sides moved apart (or together) by half the
    correction each, so that `measure_points` reads the balanced asymmetry; each pair's mean height
    is kept (the landmarks' own), the eyes are untouched."""
    from symmetry.face.measures import measure_points

    out = np.array(points_mm, float, copy=True)
    now = measure_points(out)
    for measure, right, left, _, _ in FEATURES.values():
        if measure not in balanced.asymmetry_mm:
            continue
        c = balanced.asymmetry_mm[measure] - now[measure]
        # mouth: droop = y_right - y_left; brow: asymmetry = y_right - y_left too (heights are -y).
        out[list(right), 1] += c / 2.0
        out[list(left), 1] -= c / 2.0
    return out
