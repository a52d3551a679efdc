"""Synthetic one-sided palsy: smooth local image warps with known displacements.

Used by the tests, the validation harness and `scripts/make_samples.py` to
make faces whose true asymmetry is known. A warp moves one feature (a mouth
corner, a whole brow, an upper-lid margin) by a given number of millimetres
in the face frame, with a Gaussian fall-off so that the rest of the face stays
put. The displacement that a perfect tracker would see is returned with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symmetry.face.frame import FaceFrame
from symmetry.face.measures import BROW_LEFT, BROW_RIGHT, MOUTH_CORNER_LEFT, MOUTH_CORNER_RIGHT

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
    #: Where every given landmark went (px), for the warps of `warp_feature_shaped`;
    #: lets a harness compute the true change of any measure, not only the feature's.
    moved_points: np.ndarray | None = field(default=None, repr=False, compare=False)


def _weight(xy: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth 0..1 weight: the largest Gaussian of the distances to the centres."""
    d2 = ((xy[..., None, :] - centres) ** 2).sum(-1)
    return np.exp(-d2.min(-1) / (2.0 * sigma**2))


def _box_grid(shape, lo: np.ndarray, hi: np.ndarray, dtype=np.float64):
    """The pixel box from lo to hi (x, y), clipped to an image of `shape`, and its pixel
    coordinates (rows, columns, 2): a warp works only where it moves something."""
    h, w = shape[:2]
    x0, y0 = np.maximum(np.floor(lo), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(hi), [w, h]).astype(int)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(dtype)
    return (x0, y0, x1, y1), np.stack([xs, ys], -1)


def _remap_box(rgb: np.ndarray, box, src: np.ndarray) -> np.ndarray:
    """A copy of rgb whose box is resampled from rgb at `src` (a backward map, px), bicubic."""
    import cv2

    x0, y0, x1, y1 = box
    out = rgb.copy()
    out[y0:y1, x0:x1] = cv2.remap(
        rgb, src[..., 0].astype(np.float32), src[..., 1].astype(np.float32),
        interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT,
    )
    return out


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
    indices, sigma_mm = FEATURES[feature]
    centres = np.asarray(points, float)[list(indices)]
    sigma = sigma_mm / frame.mm_per_px
    shift = frame.y_axis * (shift_mm / frame.mm_per_px)
    # Backward map: out(p) = in(p - shift * w(p)). Work only in the box the warp touches.
    reach = 4 * sigma + abs(shift_mm / frame.mm_per_px)
    box, xy = _box_grid(rgb.shape, centres.min(0) - reach, centres.max(0) + reach, np.float32)
    wgt = _weight(xy, centres + shift, sigma)[..., None]
    out = _remap_box(rgb, box, xy - shift * wgt)
    # Where did each feature point go? Solve p - shift * w(p) = c by fixed-point iteration.
    moved = centres.copy()
    for _ in range(50):
        moved = centres + shift * _weight(moved, centres + shift, sigma)[:, None]
    true_mm = float(np.mean((moved - centres) @ frame.y_axis) * frame.mm_per_px)
    return out, Warp(feature, shift_mm, true_mm)


# --------------------------------------------------------------------------
# More warp shapes, for held-out validation (issue 8). `warp_feature` above is
# unchanged; these are separate families so that a method tuned on the
# Gaussian shape can be checked on shapes it never saw.

#: Warp shape families accepted by `warp_feature_shaped`.
SHAPES = ("gaussian", "elongated", "sliding_lid", "occluding_lid")

#: Elongated fall-off: this many times wider along the pupil line, narrower down the face.
ELONGATED_X, ELONGATED_Y = 2.0, 0.7

# Lid margins from the outer to the inner corner (corners included).
UPPER_MARGIN_RIGHT = (33, 246, 161, 160, 159, 158, 157, 173, 133)
LOWER_MARGIN_RIGHT = (33, 7, 163, 144, 145, 153, 154, 155, 133)
UPPER_MARGIN_LEFT = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LOWER_MARGIN_LEFT = (263, 249, 390, 373, 374, 380, 381, 382, 362)


def _frame_coords(xy: np.ndarray, frame: FaceFrame) -> tuple[np.ndarray, np.ndarray]:
    d = xy - frame.origin
    return d @ frame.x_axis, d @ frame.y_axis


def _elongated_weight(xy: np.ndarray, centres: np.ndarray, sigma: float, frame: FaceFrame) -> np.ndarray:
    """Largest anisotropic Gaussian: wide along the pupil line, narrow down the face."""
    d = xy[..., None, :] - centres
    du = d @ frame.x_axis / (ELONGATED_X * sigma)
    dv = d @ frame.y_axis / (ELONGATED_Y * sigma)
    return np.exp(-(du**2 + dv**2).min(-1) / 2.0)


def warp_feature_shaped(
    rgb: np.ndarray,
    points: np.ndarray,
    frame: FaceFrame,
    feature: str,
    shift_mm: float,
    shape: str = "gaussian",
) -> tuple[np.ndarray, Warp]:
    """Like `warp_feature`, with a choice of displacement shape.

    Shapes:
        "gaussian": exactly `warp_feature`.
        "elongated": anisotropic fall-off, 2x wider along the pupil line and
            0.7x as tall (a whole lip segment or brow moving as a band).
        "occluding_lid" (upper lids only, shift >= 0): the upper lid slides down
            over a stationary eye, covering the iris, like a real ptosis. Each
            margin column moves by min(shift, local eye opening), so a large
            shift closes the eye completely.
    """
    if shape == "gaussian":
        out, warp = warp_feature(rgb, points, frame, feature, shift_mm)
        indices, sigma_mm = FEATURES[feature]
        pts = np.asarray(points, float)
        centres = pts[list(indices)]
        shift = frame.y_axis * (shift_mm / frame.mm_per_px)
        sigma = sigma_mm / frame.mm_per_px
        moved = pts.copy()
        for _ in range(50):
            moved = pts + shift * _weight(moved, centres + shift, sigma)[:, None]
        return out, Warp(warp.feature, warp.shift_mm, warp.true_shift_mm, moved)
    if shape == "elongated":
        return _warp_elongated(rgb, points, frame, feature, shift_mm)
    if shape == "occluding_lid":
        return _warp_occluding_lid(rgb, points, frame, feature, shift_mm)
    if shape == "sliding_lid":
        return warp_sliding_lid(rgb, points, frame, feature, shift_mm)
    raise ValueError(f"unknown warp shape {shape!r}; choose from {SHAPES}")


def _warp_elongated(rgb, points, frame, feature, shift_mm):
    indices, sigma_mm = FEATURES[feature]
    centres = np.asarray(points, float)[list(indices)]
    sigma = sigma_mm / frame.mm_per_px
    shift = frame.y_axis * (shift_mm / frame.mm_per_px)
    reach = 4 * ELONGATED_X * sigma + abs(shift_mm / frame.mm_per_px)
    box, xy = _box_grid(rgb.shape, centres.min(0) - reach, centres.max(0) + reach)
    wgt = _elongated_weight(xy, centres + shift, sigma, frame)[..., None]
    out = _remap_box(rgb, box, xy - shift * wgt)
    pts = np.asarray(points, float)
    moved = pts.copy()
    for _ in range(50):
        moved = pts + shift * _elongated_weight(moved, centres + shift, sigma, frame)[:, None]
    true_mm = float(np.mean((moved[list(indices)] - centres) @ frame.y_axis) * frame.mm_per_px)
    return out, Warp(feature, shift_mm, true_mm, moved)


def _lid_margins(points, frame: FaceFrame, feature: str, shift_mm: float, shape: str):
    """The points, the upper and lower margin of the feature's eye (px), and both margins in
    frame coordinates sorted along the pupil line (uu, vu, ul, vl), for the lid shapes."""
    if feature not in ("upper_lid_right", "upper_lid_left"):
        raise ValueError(f"the {shape} shape applies to upper_lid_right/left only")
    if shift_mm < 0:
        raise ValueError(f"the {shape} shape moves a lid down only (shift_mm >= 0)")
    right = feature.endswith("right")
    pts = np.asarray(points, float)
    upper = pts[list(UPPER_MARGIN_RIGHT if right else UPPER_MARGIN_LEFT)]
    lower = pts[list(LOWER_MARGIN_RIGHT if right else LOWER_MARGIN_LEFT)]
    uu, vu = _frame_coords(upper, frame)
    ul, vl = _frame_coords(lower, frame)
    ou, ol = np.argsort(uu), np.argsort(ul)
    return pts, upper, lower, (uu[ou], vu[ou], ul[ol], vl[ol])


def _warp_occluding_lid(rgb, points, frame, feature, shift_mm):
    pts, upper, lower, (uu, vu, ul, vl) = _lid_margins(points, frame, feature, shift_mm, "occluding_lid")
    px_shift = shift_mm / frame.mm_per_px
    # Skin above the margin is pulled down with a fall-off wide enough not to fold
    # (for the largest shift actually applied: a closing lid stops at the lower lid).
    widest = float(np.max(np.interp(uu, ul, vl) - vu))
    sigma = max(4.0 / frame.mm_per_px, 0.8 * min(px_shift, widest))

    def margin(u):
        vm = np.interp(u, uu, vu)
        opening = np.clip(np.interp(u, ul, vl) - vm, 0.0, None)
        inside = (u >= max(uu[0], ul[0])) & (u <= min(uu[-1], ul[-1]))
        return vm, np.where(inside, np.minimum(px_shift, opening), 0.0)

    lo = np.minimum(upper.min(0), lower.min(0)) - (4 * sigma + px_shift)
    hi = np.maximum(upper.max(0), lower.max(0)) + (px_shift + 2)
    box, xy = _box_grid(rgb.shape, lo, hi)
    u, v = _frame_coords(xy, frame)
    vm, s = margin(u)
    d = vm + s - v  # height above the new margin, px
    wgt = np.where(d >= 0, np.exp(-(d**2) / (2 * sigma**2)), 0.0)
    out = _remap_box(rgb, box, xy - (s * wgt)[..., None] * frame.y_axis)
    indices, _ = FEATURES[feature]
    fu, _fv = _frame_coords(pts[list(indices)], frame)
    _, fs = margin(fu)
    # Every landmark: solve p - s(u) w(p) y = c by fixed-point iteration (no fold, so it converges
    # for every point that stays visible; points under the lowered lid end on its edge).
    pu, pv = _frame_coords(pts, frame)
    pvm, ps = margin(pu)
    v = pv.copy()
    for _ in range(100):
        d = pvm + ps - v
        v = pv + ps * np.where(d >= 0, np.exp(-(d**2) / (2 * sigma**2)), 0.0)
    moved = pts + (v - pv)[:, None] * frame.y_axis
    return out, Warp(feature, shift_mm, float(np.mean(fs) * frame.mm_per_px), moved)


def warp_sliding_lid(rgb: np.ndarray, points: np.ndarray, frame: FaceFrame, feature: str, shift_mm: float,
                     decay_mm: float = 3.0, tarsus_mm: float = 1.0) -> tuple[np.ndarray, Warp]:
    """The "sliding_lid" shape of `warp_feature_shaped` (see there); `decay_mm` is the skin's
    exponential fall-off above the lid's rigid `tarsus_mm`."""
    pts, upper, lower, (uu, vu, ul, vl) = _lid_margins(points, frame, feature, shift_mm, "sliding_lid")
    px = shift_mm / frame.mm_per_px
    lam = max(decay_mm / frame.mm_per_px, 1.3 * px)  # no fold: the skin's slope stays below 1
    tarsus, gap = tarsus_mm / frame.mm_per_px, 0.3 / frame.mm_per_px
    u_lo, u_hi = max(uu[0], ul[0]), min(uu[-1], ul[-1])
    centre, half = (u_lo + u_hi) / 2, (u_hi - u_lo) / 2

    def margin(u):
        vm = np.interp(u, uu, vu)
        room = np.clip(np.interp(u, ul, vl) - vm - gap, 0.0, None)
        taper = np.sqrt(np.clip(1 - ((u - centre) / half) ** 2, 0, 1))
        return vm, np.minimum(px * taper, room)

    def moved_row(v0, vm, s):  # where a row at or above the old margin goes
        return v0 + s * np.exp(-np.clip(vm - v0 - tarsus, 0, None) / lam)

    lo = np.minimum(upper.min(0), lower.min(0)) - (6 * lam + tarsus + px)
    hi = np.maximum(upper.max(0), lower.max(0)) + (px + 2)
    box, xy = _box_grid(rgb.shape, lo, hi)
    u, v = _frame_coords(xy, frame)
    vm, s = margin(u)
    # Backward map: above the new margin, the row whose moved position is v (fixed point;
    # the map's slope is below 1); below it, the eyeball, unchanged.
    q = v - s
    for _ in range(60):
        q = v - (moved_row(q, vm, s) - q)
    src_v = np.where(v <= vm + s, q, v)
    out = _remap_box(rgb, box, xy + (src_v - v)[..., None] * frame.y_axis)
    pu, pv = _frame_coords(pts, frame)
    pvm, ps = margin(pu)
    new_v = np.where(pv <= pvm + 1e-6, moved_row(pv, pvm, ps), pv)
    moved = pts + (new_v - pv)[:, None] * frame.y_axis
    indices, _ = FEATURES[feature]
    _, fs = margin(_frame_coords(pts[list(indices)], frame)[0])
    return out, Warp(feature, shift_mm, float(np.mean(fs) * frame.mm_per_px), moved)
