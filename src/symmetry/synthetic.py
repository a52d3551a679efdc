"""Synthetic one-sided palsy: smooth local image warps with known displacements.

Used by the tests, the validation harness and `scripts/make_samples.py` to
make faces whose true asymmetry is known. A warp moves one feature (a mouth
corner, a whole brow, an upper-lid margin) by a given number of millimetres
in the face frame, with a Gaussian fall-off so that the rest of the face stays
put. The displacement that a perfect tracker would see is returned with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frame import FaceFrame
from .measures import BROW_LEFT, BROW_RIGHT, MOUTH_CORNER_LEFT, MOUTH_CORNER_RIGHT

UPPER_LID_RIGHT = (161, 160, 159, 158, 157)
UPPER_LID_LEFT = (388, 387, 386, 385, 384)

#: feature -> (landmark indices that move together, Gaussian fall-off sigma in mm)
FEATURES = {
    "mouth_corner_right": ((MOUTH_CORNER_RIGHT,), 7.0),
    "mouth_corner_left": ((MOUTH_CORNER_LEFT,), 7.0),
    "brow_right": (BROW_RIGHT, 6.0),
    "brow_left": (BROW_LEFT, 6.0),
    "upper_lid_right": (UPPER_LID_RIGHT, 2.2),
    "upper_lid_left": (UPPER_LID_LEFT, 2.2),
}


@dataclass(frozen=True)
class Warp:
    feature: str
    shift_mm: float  # requested displacement down the face (+) or up (-), mm
    true_shift_mm: float  # mean displacement of the feature's landmarks, mm


def _weight(xy: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth 0..1 weight: the largest Gaussian of the distances to the centres."""
    d2 = ((xy[..., None, :] - centres) ** 2).sum(-1)
    return np.exp(-d2.min(-1) / (2.0 * sigma**2))


def warp_feature(rgb: np.ndarray, points: np.ndarray, frame: FaceFrame, feature: str, shift_mm: float) -> tuple[np.ndarray, Warp]:
    """Move `feature` by `shift_mm` along the face's vertical (+ = down the face).

    Args:
        rgb: HxWx3 uint8 image.
        points: (478, 2) landmark pixels of the face in `rgb`.
        frame: its face frame (gives direction and mm scale).
        feature: a key of `FEATURES`.
        shift_mm: displacement in millimetres.

    Returns:
        The warped image and a `Warp` with the true displacement of the feature.
    """
    import cv2

    indices, sigma_mm = FEATURES[feature]
    centres = np.asarray(points, float)[list(indices)]
    sigma = sigma_mm / frame.mm_per_px
    shift = frame.y_axis * (shift_mm / frame.mm_per_px)
    h, w = rgb.shape[:2]
    # Backward map: out(p) = in(p - shift * w(p)). Work only in the box the warp touches.
    reach = 4 * sigma + abs(shift_mm / frame.mm_per_px)
    x0, y0 = np.maximum(np.floor(centres.min(0) - reach), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(centres.max(0) + reach), [w, h]).astype(int)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    xy = np.stack([xs, ys], -1)
    wgt = _weight(xy, centres + shift, sigma)[..., None]
    src = xy - shift * wgt
    out = rgb.copy()
    out[y0:y1, x0:x1] = cv2.remap(
        rgb, src[..., 0].astype(np.float32), src[..., 1].astype(np.float32),
        interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT,
    )
    # Where did each feature point go? Solve p - shift * w(p) = c by fixed-point iteration.
    moved = centres.copy()
    for _ in range(50):
        moved = centres + shift * _weight(moved, centres + shift, sigma)[:, None]
    true_mm = float(np.mean((moved - centres) @ frame.y_axis) * frame.mm_per_px)
    return out, Warp(feature, shift_mm, true_mm)
