"""How a face is lit: the brightness of both cheeks and the forehead, and how even the light is.

One-sided light fakes asymmetry (docs/measurements.md, `light_balance`), so photo scoring
records `light_balance` and the capture gates refuse a frame lit from one side.
Brightness is mean 8-bit luma (Rec. 601, gamma-encoded) of small patches at fixed
landmarks, sized by the inter-pupil distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symmetry.face.landmarks import Face

#: Cheek patches (patient's right, patient's left): beside the nose wing and mid-cheek.
CHEEK_POINTS_RIGHT = (50, 205)
CHEEK_POINTS_LEFT = (280, 425)
FOREHEAD_POINT = 151
#: Half-size of a brightness patch, as a fraction of the inter-pupil distance.
PATCH_HALF_FRACTION = 0.08


@dataclass(frozen=True)
class FaceLight:
    """Mean luma (0..255) of the patient's right cheek, left cheek and forehead; NaN off the picture."""

    right: float
    left: float
    forehead: float

    @property
    def brightness(self) -> float:
        """The face's brightness: the mean of the three patches that are in the picture."""
        return _mean_finite([self.right, self.left, self.forehead])

    @property
    def balance(self) -> tuple[float, str]:
        """Darker/brighter cheek luma (1 = even light) and the brighter side (the patient's)."""
        if not max(self.right, self.left) > 0:
            return math.nan, ""
        ratio = min(self.right, self.left) / max(self.right, self.left)
        return ratio, ("right" if self.right > self.left else "left")


def face_light(rgb: np.ndarray, face: Face) -> FaceLight:
    """The brightness patches of `face` in `rgb` (HxWx3 uint8). `face` points are in its
    `image_size` pixels; `rgb` may be that image at another size."""
    w, h = face.image_size if face.image_size[0] else (rgb.shape[1], rgb.shape[0])
    sx, sy = rgb.shape[1] / w, rgb.shape[0] / h
    pts = face.points
    half = max(2, int(PATCH_HALF_FRACTION * face.interpupil_px * sx))

    def patch(i: int) -> float:
        return _patch_luma(rgb, pts[i, 0] * sx, pts[i, 1] * sy, half)

    return FaceLight(_mean_finite([patch(i) for i in CHEEK_POINTS_RIGHT]),
                     _mean_finite([patch(i) for i in CHEEK_POINTS_LEFT]), patch(FOREHEAD_POINT))


def light_balance(rgb: np.ndarray, face: Face) -> tuple[float, str]:
    """Darker/brighter cheek luma (1 = even light) and the brighter side (the patient's)."""
    return face_light(rgb, face).balance


def _patch_luma(rgb: np.ndarray, x: float, y: float, half: int) -> float:
    """Mean 8-bit luma (Rec. 601) of a small square patch; NaN when it falls outside."""
    import cv2

    h, w = rgb.shape[:2]
    x0, x1 = max(int(x) - half, 0), min(int(x) + half + 1, w)
    y0, y1 = max(int(y) - half, 0), min(int(y) + half + 1, h)
    if x1 <= x0 or y1 <= y0:
        return math.nan
    r, g, b, _ = cv2.mean(rgb[y0:y1, x0:x1])
    return 0.299 * r + 0.587 * g + 0.114 * b


def _mean_finite(values) -> float:
    good = [v for v in values if v == v]  # drop NaN
    return sum(good) / len(good) if good else math.nan
