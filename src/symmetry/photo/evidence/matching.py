"""Matching one work image against another: affine fits, local contrast normalisation,
Lucas-Kanade, template matching, and bands found by normalised cross-correlation.

Work images are upright crops of a face at `WORK_INTERPUPIL_PX` between the pupils (see
`tracking.work_frame`); the sizes here are given in millimetres or inter-pupil distances and
turned into work pixels. Pure numpy and OpenCV on arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Work frame resolution: pupils this many pixels apart.
WORK_INTERPUPIL_PX = 240.0
#: Work pixels per millimetre, near enough (about 63 mm between the pupils), for sizes given in mm.
WORK_PX_PER_MM = WORK_INTERPUPIL_PX / 63.0


def affine_fit(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares 2x3 affine A with dst ~ A @ [src, 1] (rows fitted independently)."""
    x = np.hstack([src, np.ones((len(src), 1))])
    if weights is not None:
        w = np.sqrt(weights)[:, None]
        x, dst = x * w, dst * w
    a, *_ = np.linalg.lstsq(x, dst, rcond=None)
    return a.T


def robust_affine(src: np.ndarray, dst: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Affine fit that down-weights points that moved on their own (Cauchy weights)."""
    a = affine_fit(src, dst)
    for _ in range(iterations):
        r = np.linalg.norm(dst - apply_affine(a, src), axis=1)
        scale = max(1.4826 * float(np.median(r)), 0.3)
        a = affine_fit(src, dst, 1.0 / (1.0 + (r / (2.0 * scale)) ** 2))
    return a


def apply_affine(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(N, 2) points through the 2x3 affine `a`."""
    return np.asarray(pts, float) @ a[:, :2].T + a[:, 2]


def normalise(grey: np.ndarray, sigma_px: float) -> np.ndarray:
    """Local contrast normalisation to uint8: removes smooth lighting and exposure changes."""
    import cv2

    g = grey.astype(np.float32)
    k = (2 * int(round(sigma_px)) + 1,) * 2

    def smooth(a):  # two box filters ~ a Gaussian, at a cost independent of sigma
        return cv2.blur(cv2.blur(a, k), k)

    d = cv2.subtract(g, smooth(g))
    sd = cv2.sqrt(cv2.max(smooth(cv2.multiply(d, d)), 0.0)) + 2.0
    return np.clip(cv2.divide(d, sd) * 48.0 + 128.0, 0, 255).astype(np.uint8)


#: Lucas-Kanade pyramid levels.
LK_LEVELS = 3
#: A track whose forward-backward round trip misses its start by more than this (mm) is not trusted.
FB_MAX_MM = 0.3


def _window(window_ipd: float) -> int:
    return 2 * int(round(window_ipd * WORK_INTERPUPIL_PX / 2)) + 1


#: Lucas-Kanade runs on a crop around its points with this margin, in inter-pupil distances
#: (OpenCV rebuilds the image pyramids on every call, so a smaller image is a faster call).
LK_MARGIN_IPD = 0.3


def lucas_kanade(a: np.ndarray, b: np.ndarray, pts: np.ndarray, guess: np.ndarray, window_ipd: float) -> tuple[np.ndarray, np.ndarray]:
    """Pyramidal Lucas-Kanade displacements of `pts` from image a to image b, starting
    at `guess`, and whether each passed the forward-backward check."""
    pts = np.asarray(pts, float)
    both = np.vstack([pts, pts + guess])
    margin = LK_MARGIN_IPD * WORK_INTERPUPIL_PX
    h, w = a.shape[:2]
    x0, y0 = np.maximum(np.floor(both.min(0) - margin), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(both.max(0) + margin), [w, h]).astype(int)
    offset = np.array([x0, y0], float)
    return _lk_full(a[y0:y1, x0:x1], b[y0:y1, x0:x1], pts - offset, guess, window_ipd)


def _lk_full(a: np.ndarray, b: np.ndarray, pts: np.ndarray, guess: np.ndarray, window_ipd: float) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    win = _window(window_ipd)
    kw = dict(winSize=(win, win), maxLevel=LK_LEVELS,
              criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01),
              flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
    p0 = np.asarray(pts, np.float32).reshape(-1, 1, 2)
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, p0, (p0 + guess.reshape(-1, 1, 2)).astype(np.float32), **kw)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, p1, p0.copy(), **kw)
    fb = np.linalg.norm((back - p0).reshape(-1, 2), axis=1)
    max_px = FB_MAX_MM * WORK_PX_PER_MM
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb <= max_px)
    return (p1 - p0).reshape(-1, 2).astype(float), ok


def parabola(v: np.ndarray) -> float:
    """Sub-sample offset of the extremum of three samples around the middle one (0 if they are flat)."""
    den = v[0] - 2 * v[1] + v[2]
    return float(0.5 * (v[0] - v[2]) / den) if den != 0 else 0.0


#: Bands (of a lid or a brow): their columns; how far along the vertical they are searched for
#: (mm); row step (work px). Chosen on the tuning faces and the "sliding_lid" shape (see
#: lab/validation.py).
BAND_COLUMNS, BAND_SEARCH_MM, BAND_STEP_PX = 11, 5.0, 1.0


@dataclass
class Band:
    """A strip of one lid (or brow) in a work image, to be found again in another one."""

    points: list  # the lid's measured landmark indices
    xs: np.ndarray  # column positions, work px
    margin_y: np.ndarray  # the margin's row at each column, work px
    rows: np.ndarray  # row offsets from the margin that the band covers, work px
    template: np.ndarray  # the band's pixels, zero mean, unit norm


def make_band(image: np.ndarray, idx, xs: np.ndarray, margin_y: np.ndarray, rows: np.ndarray) -> Band:
    """The band of `image` at columns `xs`, rows `margin_y` + `rows`, as a zero-mean unit-norm template."""
    t = _sample(image, xs, margin_y, rows[None, :], None).ravel()
    t -= t.mean()
    return Band(list(idx), xs, margin_y, rows, t / (np.linalg.norm(t) + 1e-9))


def _sample(img: np.ndarray, xs: np.ndarray, margin_y: np.ndarray, rows: np.ndarray, affine) -> np.ndarray:
    """img at columns xs and rows margin_y + rows[k] (rows: (K, R) offsets), through `affine`
    (work -> img, or None), as float32 of shape (K, R, len(xs))."""
    import cv2

    ys = margin_y[None, None, :] + rows[:, :, None]
    xx = np.broadcast_to(xs[None, None, :], ys.shape)
    pts = np.stack([xx, ys], -1).reshape(-1, 2)
    if affine is not None:
        pts = apply_affine(affine, pts)
    pts = pts.reshape(-1, 1, 2).astype(np.float32)
    out = cv2.remap(img, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out.astype(np.float32).reshape(ys.shape)


def find_band(band: Band, image: np.ndarray, work_to_image: np.ndarray | None,
              reach_x_px: int = 0) -> tuple[float, float, float]:
    """(horizontal shift, vertical shift in work px, NCC) at which `band` best matches the later
    `image`; horizontal shifts of up to `reach_x_px` whole pixels are tried too."""
    reach = BAND_SEARCH_MM * WORK_PX_PER_MM
    shifts = np.arange(-reach, reach + 1e-6, BAND_STEP_PX)
    dxs = np.arange(-reach_x_px, reach_x_px + 1, dtype=float)
    # Every (shift, row) offset lies on one grid of step BAND_STEP_PX: sample that grid once per
    # column and gather the band's windows from it.
    offsets = shifts[:, None] + band.rows[None, :]
    low = float(offsets.min())
    grid = low + np.arange(int(round((offsets.max() - low) / BAND_STEP_PX)) + 1) * BAND_STEP_PX
    xs = (band.xs[None, :] + dxs[:, None]).ravel()
    strip = _sample(image, xs, np.tile(band.margin_y, len(dxs)), grid[None, :], work_to_image)
    strip = strip.reshape(len(grid), len(dxs), len(band.xs))
    f = strip[np.rint((offsets - low) / BAND_STEP_PX).astype(int)]  # (shift, row, dx, column)
    f = f.transpose(2, 0, 1, 3).reshape(len(dxs), len(shifts), -1)
    f -= f.mean(2, keepdims=True)
    score = f @ band.template / (np.linalg.norm(f, axis=2) + 1e-9)  # (dx, shift)
    j, k = np.unravel_index(int(np.argmax(score)), score.shape)
    off = parabola(score[j, k - 1: k + 2]) if 0 < k < len(shifts) - 1 else 0.0
    return float(dxs[j]), float(shifts[k] + off * BAND_STEP_PX), float(score[j, k])


#: Template match: patch half-size and search radius, in inter-pupil distances; weakest
#: accepted match (NCC).
MATCH_HALF_IPD, MATCH_SEARCH_IPD, MATCH_MIN_NCC = 0.04, 0.07, 0.8


def match_points(a: np.ndarray, b: np.ndarray, pts: np.ndarray, guess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Displacements of `pts` from image a to b by normalised template matching around `guess`
    (sub-pixel peak), and whether each match is strong enough; weak ones keep their guess."""
    import cv2

    half = int(round(MATCH_HALF_IPD * WORK_INTERPUPIL_PX))
    search = int(round(MATCH_SEARCH_IPD * WORK_INTERPUPIL_PX))
    out, good = np.array(guess, float, copy=True), np.zeros(len(pts), bool)
    for k, (p, g) in enumerate(zip(np.asarray(pts, float), np.asarray(guess, float))):
        centre = np.round(p + g)
        tpl = cv2.getRectSubPix(a, (2 * half + 1,) * 2, (float(p[0]), float(p[1])))
        region = cv2.getRectSubPix(b, (2 * (half + search) + 1,) * 2, (float(centre[0]), float(centre[1])))
        score = cv2.matchTemplate(region, tpl, cv2.TM_CCOEFF_NORMED)
        _, best, _, (x, y) = cv2.minMaxLoc(score)
        if best < MATCH_MIN_NCC:
            continue
        dx = parabola(score[y, x - 1: x + 2]) if 0 < x < score.shape[1] - 1 else 0.0
        dy = parabola(score[y - 1: y + 2, x]) if 0 < y < score.shape[0] - 1 else 0.0
        out[k] = centre + np.array([x - search + dx, y - search + dy]) - p
        good[k] = True
    return out, good

