"""Image evidence that sees past the landmark model's symmetric prior.

The landmark model pulls every face towards symmetry: on faces with a known
one-sided displacement, raw landmarks follow about half of a mouth-corner
change, a quarter of a brow change and less of an eyelid change (see
`validation.py` and scripts/validate.py). Change across sessions is the
product's core job, and the same person's photos share one face, so a later
photo is measured against that person's reference photo:

1. Both photos are resampled into one upright "work" frame built from the
   reference's face frame (pupil line level, 240 px between the pupils). The
   later photo is placed there by an affine fit of stable landmarks (eye
   corners, nose bridge, nose), which removes roll, scale, shift and the
   horizontal foreshortening of a small head turn.
2. Both are contrast-normalised locally, so that exposure, gamma and a light
   from one side do not look like motion.
3. Pyramidal Lucas-Kanade tracks the stable points (what they still move is
   the residual misregistration, removed by a robust affine fit) and the mouth
   corners and brows, starting from where the later photo's landmarks put them
   (mouth corners template-matched first). A track that fails the
   forward-backward check, or strays from the other points of its brow, is
   replaced by their median.
4. Each lid is matched as a whole: a band of the lid itself, from 2 mm on the
   lid's side of the margin to 0.3 mm across it, the full width between the
   lid's outer and inner measured points, is searched for along the face's
   vertical in the later photo (normalised cross-correlation, sub-pixel). A
   drooping upper lid slides over an eyeball that stays put, so the lid is
   matched, not the eye under it (tracking the eye region saw a third to three
   quarters of a lid change).
5. measure(later) = measure(reference) + tracked change, in the reference's
   millimetres.

Where an eye cannot be tracked (it closed, or its lid bands no longer match
the reference while the landmarks see a large change), that eye falls back to
the later photo's landmarks, and the row's message says so.

A single photo is read the same way against its own mirror image
(`mirror_asymmetry`, the "mirrored" method): each side's mouth corner and brow
are found on the other side, which gives their asymmetry from the image. It
measures every reference photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symmetry.face.frame import FaceFrame
from symmetry.face.landmarks import MIRROR
from symmetry.face.measures import (
    BROW_LEFT,
    BROW_RIGHT,
    EYE_LID_PAIRS_LEFT,
    EYE_LID_PAIRS_RIGHT,
    MOUTH_CORNER_LEFT,
    MOUTH_CORNER_RIGHT,
    measure_points,
)

#: Points that palsy and expressions barely move: inner eye corners, nose bridge, nose. Not the
#: outer eye corners: a drooping brow or lid on the weak side drags them along.
STABLE_POINTS = (133, 362, 168, 6, 197, 195, 5, 4, 1, 2, 98, 327)

#: Feature groups: the landmark indices whose vertical position the measures use.
FEATURE_POINTS = {
    "mouth_right": (MOUTH_CORNER_RIGHT,),
    "mouth_left": (MOUTH_CORNER_LEFT,),
    "brow_right": BROW_RIGHT,
    "brow_left": BROW_LEFT,
    "eye_right": tuple(p for pair in EYE_LID_PAIRS_RIGHT for p in pair),
    "eye_left": tuple(p for pair in EYE_LID_PAIRS_LEFT for p in pair),
}

#: Points that move as one piece (a brow), per Lucas-Kanade-tracked feature group.
COHERENT_PARTS = {
    "mouth_right": ((MOUTH_CORNER_RIGHT,),),
    "mouth_left": ((MOUTH_CORNER_LEFT,),),
    "brow_right": (BROW_RIGHT,),
    "brow_left": (BROW_LEFT,),
}

#: Work frame resolution: pupils this many pixels apart.
WORK_INTERPUPIL_PX = 240.0
#: Work pixels per millimetre, near enough (about 63 mm between the pupils), for sizes given in mm.
WORK_PX_PER_MM = WORK_INTERPUPIL_PX / 63.0
#: Work frame extent around the pupil midpoint, in inter-pupil distances (x half-width, y up, y down).
WORK_EXTENT = (1.05, 0.7, 1.35)
#: Local contrast normalisation scale, in inter-pupil distances.
NORMALISE_SIGMA_IPD = 0.06


@dataclass
class WorkFrame:
    """An upright crop in the reference's face frame: work px = centre + (mm / mm_per_px)."""

    centre: np.ndarray  # work px of the pupil midpoint
    mm_per_px: float
    size: tuple[int, int]  # (width, height)

    def from_mm(self, mm: np.ndarray) -> np.ndarray:
        return self.centre + np.asarray(mm, float) / self.mm_per_px

    def to_mm(self, px: np.ndarray) -> np.ndarray:
        return (np.asarray(px, float) - self.centre) * self.mm_per_px


@dataclass
class Reference:
    """A person's reference photo, prepared for tracking later photos into it.

    Make one with `make_reference` (or let `analyze(..., reference=...)` do it)
    and reuse it for all of that person's later photos.
    """

    points_mm: np.ndarray  # (478, 2) the points whose measures it reports, face-frame mm (see make_reference)
    frame: FaceFrame
    work: WorkFrame
    image: np.ndarray  # normalised grey work image, uint8
    points_work: np.ndarray  # (478, 2) reference landmarks in work px
    label: str = ""  # what the output's `reference` column says (the photo's path)
    values: dict = field(default_factory=dict)  # the reference's own measures
    lid_bands: dict = field(default_factory=dict, repr=False)  # (eye group, "upper"/"lower") -> Band
    # The reference's measures from its landmarks alone: a tracked change is checked against
    # the later photo's landmark change (analysis.TRACKING_AGREEMENT_MM).
    landmark_values: dict = field(default_factory=dict)
    expression: str = ""  # what the reference photo's face shows (blendshapes), "" when unclear


def _affine_fit(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares 2x3 affine A with dst ~ A @ [src, 1] (rows fitted independently)."""
    x = np.hstack([src, np.ones((len(src), 1))])
    if weights is not None:
        w = np.sqrt(weights)[:, None]
        x, dst = x * w, dst * w
    a, *_ = np.linalg.lstsq(x, dst, rcond=None)
    return a.T


def _robust_affine(src: np.ndarray, dst: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Affine fit that down-weights points that moved on their own (Cauchy weights)."""
    a = _affine_fit(src, dst)
    for _ in range(iterations):
        r = np.linalg.norm(dst - _apply(a, src), axis=1)
        scale = max(1.4826 * float(np.median(r)), 0.3)
        a = _affine_fit(src, dst, 1.0 / (1.0 + (r / (2.0 * scale)) ** 2))
    return a


def _apply(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
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


def _work_frame(frame: FaceFrame) -> WorkFrame:
    mm_per_px = frame.interpupil_mm / WORK_INTERPUPIL_PX
    ex, up, down = WORK_EXTENT
    w = int(round(2 * ex * WORK_INTERPUPIL_PX))
    h = int(round((up + down) * WORK_INTERPUPIL_PX))
    centre = np.array([w / 2.0, up * WORK_INTERPUPIL_PX])
    return WorkFrame(centre, mm_per_px, (w, h))


def _resample(rgb: np.ndarray, px_to_work: np.ndarray, work: WorkFrame) -> np.ndarray:
    """The grey image in work-frame pixels, contrast-normalised."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    out = cv2.warpAffine(grey, px_to_work, work.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return normalise(out, NORMALISE_SIGMA_IPD * WORK_INTERPUPIL_PX)


def make_reference(rgb: np.ndarray, points: np.ndarray, frame: FaceFrame, label: str = "",
                   baseline_mm: np.ndarray | None = None) -> Reference:
    """Prepare a reference photo: its RGB array, its (478, 2) landmarks in those pixels, its face frame.

    `baseline_mm` (478, 2), if given, are the face-frame points whose measures the reference
    reports (e.g. `counterwarp.rebalance`d); tracking still starts from `points`."""
    points = np.asarray(points, float)
    work = _work_frame(frame)
    points_work = work.from_mm(frame.to_mm(points))
    points_mm = frame.to_mm(points) if baseline_mm is None else np.asarray(baseline_mm, float)
    # px -> work: the affine that sends the reference landmarks to their work positions.
    px_to_work = _affine_fit(points[list(STABLE_POINTS) + [468, 473]], points_work[list(STABLE_POINTS) + [468, 473]])
    image = _resample(rgb, px_to_work, work)
    bands = {key: _lid_band(image, points_work, key) for key in LID_BANDS}
    return Reference(points_mm, frame, work, image, points_work, label, measure_points(points_mm), bands,
                     measure_points(frame.to_mm(points)))


@dataclass
class Tracked:
    """Result of tracking one photo into its reference."""

    values: dict  # the measures (same keys as measures.measure_points)
    points_mm: np.ndarray  # (478, 2) landmarks in the reference's face frame, tracked where possible
    fell_back: tuple[str, ...]  # feature groups measured from landmarks instead of the image
    residual_px: float  # RMS residual of the stable points after registration, work px
    mm_per_px: float  # millimetres per pixel of the tracked photo, from the registration
    quality: dict = field(default_factory=dict)  # eye group -> NCC of its worse lid match
    #: (478, 2) the photo's landmarks in its own pixels, the tracked points where they were tracked to
    points_px: np.ndarray | None = field(default=None, repr=False)


#: Lucas-Kanade window per point group, in inter-pupil distances, and pyramid levels.
LK_WINDOWS = {"stable": 0.1, "mouth": 0.06, "brow": 0.06}
LK_LEVELS = 3
#: A track whose forward-backward round trip misses its start by more than this (mm) is not trusted.
FB_MAX_MM = 0.3
#: A brow point whose displacement differs from its neighbours' median by more than this (mm)
#: is replaced by that median: a brow moves as one piece.
COHERENCE_MM = 1.0


def _window(window_ipd: float) -> int:
    return 2 * int(round(window_ipd * WORK_INTERPUPIL_PX / 2)) + 1


#: Lucas-Kanade runs on a crop around its points with this margin, in inter-pupil distances
#: (OpenCV rebuilds the image pyramids on every call, so a smaller image is a faster call).
LK_MARGIN_IPD = 0.3


def _lk(a: np.ndarray, b: np.ndarray, pts: np.ndarray, guess: np.ndarray, window_ipd: float) -> tuple[np.ndarray, np.ndarray]:
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


def _parabola(v: np.ndarray) -> float:
    """Sub-sample offset of the extremum of three samples around the middle one (0 if they are flat)."""
    den = v[0] - 2 * v[1] + v[2]
    return float(0.5 * (v[0] - v[2]) / den) if den != 0 else 0.0


#: An eye falls back to its landmarks when its lid bands match the reference worse than
#: this (NCC) while the landmarks see its opening change by at least this much (mm).
EYE_FALLBACK_NCC, EYE_FALLBACK_CHANGE_MM = 0.7, 1.5
#: Lid band: how far it reaches on the lid's side of the margin and across it (mm); its
#: columns; how far along the vertical it is searched for (mm); row step (work px).
#: Chosen on the tuning faces and the "sliding_lid" shape (see validation.py).
LID_BAND_LID_MM, LID_BAND_ACROSS_MM, LID_BAND_COLUMNS, LID_SEARCH_MM, LID_STEP_PX = 2.0, 0.3, 11, 5.0, 1.0
#: (eye group, lid) -> the lid's measured points, and on which side of its margin the lid lies (-1 = above).
LID_BANDS = {
    ("eye_right", "upper"): ([p for p, _ in EYE_LID_PAIRS_RIGHT], -1),
    ("eye_right", "lower"): ([q for _, q in EYE_LID_PAIRS_RIGHT], +1),
    ("eye_left", "upper"): ([p for p, _ in EYE_LID_PAIRS_LEFT], -1),
    ("eye_left", "lower"): ([q for _, q in EYE_LID_PAIRS_LEFT], +1),
}


@dataclass
class Band:
    """A strip of one lid (or brow) in a work image, to be found again in another one."""

    points: list  # the lid's measured landmark indices
    xs: np.ndarray  # column positions, work px
    margin_y: np.ndarray  # the margin's row at each column, work px
    rows: np.ndarray  # row offsets from the margin that the band covers, work px
    template: np.ndarray  # the band's pixels, zero mean, unit norm


def _lid_band(image: np.ndarray, points_work: np.ndarray, key) -> Band:
    idx, side = LID_BANDS[key]
    other = LID_BANDS[(key[0], "lower" if key[1] == "upper" else "upper")][0]
    p = points_work[idx]
    p = p[np.argsort(p[:, 0])]
    # The columns both lids span: the eye opening is measured there.
    xq = points_work[other, 0]
    xs = np.linspace(max(p[0, 0], xq.min()), min(p[-1, 0], xq.max()), LID_BAND_COLUMNS)
    margin_y = np.interp(xs, p[:, 0], p[:, 1])
    lid, across = LID_BAND_LID_MM * WORK_PX_PER_MM, LID_BAND_ACROSS_MM * WORK_PX_PER_MM
    rows = -side * np.arange(-lid, across + 1e-6, LID_STEP_PX)  # from the lid towards the eye
    return _band(image, idx, xs, margin_y, rows)


def _band(image: np.ndarray, idx, xs: np.ndarray, margin_y: np.ndarray, rows: np.ndarray) -> Band:
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
        pts = _apply(affine, pts)
    pts = pts.reshape(-1, 1, 2).astype(np.float32)
    out = cv2.remap(img, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out.astype(np.float32).reshape(ys.shape)


def _find_band(band: Band, image: np.ndarray, work_to_image: np.ndarray | None,
               reach_x_px: int = 0) -> tuple[float, float, float]:
    """(horizontal shift, vertical shift in work px, NCC) at which `band` best matches the later
    `image`; horizontal shifts of up to `reach_x_px` whole pixels are tried too."""
    reach = LID_SEARCH_MM * WORK_PX_PER_MM
    shifts = np.arange(-reach, reach + 1e-6, LID_STEP_PX)
    dxs = np.arange(-reach_x_px, reach_x_px + 1, dtype=float)
    # Every (shift, row) offset lies on one grid of step LID_STEP_PX: sample that grid once per
    # column and gather the band's windows from it.
    offsets = shifts[:, None] + band.rows[None, :]
    low = float(offsets.min())
    grid = low + np.arange(int(round((offsets.max() - low) / LID_STEP_PX)) + 1) * LID_STEP_PX
    xs = (band.xs[None, :] + dxs[:, None]).ravel()
    strip = _sample(image, xs, np.tile(band.margin_y, len(dxs)), grid[None, :], work_to_image)
    strip = strip.reshape(len(grid), len(dxs), len(band.xs))
    f = strip[np.rint((offsets - low) / LID_STEP_PX).astype(int)]  # (shift, row, dx, column)
    f = f.transpose(2, 0, 1, 3).reshape(len(dxs), len(shifts), -1)
    f -= f.mean(2, keepdims=True)
    score = f @ band.template / (np.linalg.norm(f, axis=2) + 1e-9)  # (dx, shift)
    j, k = np.unravel_index(int(np.argmax(score)), score.shape)
    off = _parabola(score[j, k - 1: k + 2]) if 0 < k < len(shifts) - 1 else 0.0
    return float(dxs[j]), float(shifts[k] + off * LID_STEP_PX), float(score[j, k])


#: Mouth-corner template match: patch half-size and search radius, in inter-pupil distances;
#: weakest accepted match (NCC); how far (mm) Lucas-Kanade may end from the match.
MATCH_HALF_IPD, MATCH_SEARCH_IPD, MATCH_MIN_NCC, MATCH_AGREE_MM = 0.04, 0.07, 0.8, 1.0


def _match_points(a: np.ndarray, b: np.ndarray, pts: np.ndarray, guess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        dx = _parabola(score[y, x - 1: x + 2]) if 0 < x < score.shape[1] - 1 else 0.0
        dy = _parabola(score[y - 1: y + 2, x]) if 0 < y < score.shape[0] - 1 else 0.0
        out[k] = centre + np.array([x - search + dx, y - search + dy]) - p
        good[k] = True
    return out, good


def track(rgb: np.ndarray, points: np.ndarray, reference: Reference) -> Tracked:
    """Measure a later photo of the reference's person by tracking its features.

    Args:
        rgb: the later photo, RGB uint8.
        points: its (478, 2) landmarks in `rgb` pixels.
        reference: from `make_reference`.
    """
    points = np.asarray(points, float)
    ref = reference
    stable = list(STABLE_POINTS)
    # 1. Landmark registration of the later photo into the work frame.
    px_to_work = _affine_fit(points[stable], ref.points_work[stable])
    image = _resample(rgb, px_to_work, ref.work)
    landmarks_work = _apply(px_to_work, points)
    # 2. Lucas-Kanade at the stable points: the residual misregistration (robust affine).
    d_stable, ok_stable = _lk(ref.image, image, ref.points_work[stable], np.zeros((len(stable), 2)), LK_WINDOWS["stable"])
    if ok_stable.sum() < 4:  # too few checked tracks for an affine: use them all
        ok_stable[:] = True
    src = ref.points_work[stable][ok_stable]
    residual = _robust_affine(src, src + d_stable[ok_stable])
    res_rms = float(np.sqrt(np.mean(np.sum((_apply(residual, src) - src - d_stable[ok_stable]) ** 2, 1))))
    # 3. Mouth corners and brows, then the lids.
    new_work = _track_points(ref, image, landmarks_work, residual)
    fell_back, quality = _track_lids(ref, image, landmarks_work, residual, new_work)
    points_mm = ref.points_mm.copy()
    tracked_idx = [i for idx in FEATURE_POINTS.values() for i in idx]
    points_mm[tracked_idx] += (new_work[tracked_idx] - ref.points_work[tracked_idx]) * ref.work.mm_per_px
    scale = ref.work.mm_per_px * float(np.sqrt(abs(np.linalg.det(px_to_work[:, :2]))))
    # Back into the photo's own pixels (for drawing): work -> registered image -> photo.
    work_to_px = np.linalg.inv(np.vstack([px_to_work, [0, 0, 1]]))[:2]
    points_px = points.copy()
    points_px[tracked_idx] = _apply(work_to_px, _apply(residual, new_work[tracked_idx]))
    return Tracked(measure_points(points_mm), points_mm, tuple(fell_back), res_rms, scale, quality, points_px)


def _track_points(ref: Reference, image: np.ndarray, landmarks_work: np.ndarray, residual: np.ndarray,
                  kinds=("mouth", "brow")) -> np.ndarray:
    """The reference's work points with the mouth corners and/or brows (`kinds`) moved to where
    Lucas-Kanade finds them in `image`, starting from `landmarks_work`; checked, made coherent,
    and with the residual misregistration removed."""
    inv = np.linalg.inv(np.vstack([residual, [0, 0, 1]]))[:2]
    new_work = ref.points_work.copy()
    coherence_px = COHERENCE_MM / ref.work.mm_per_px
    tracks = {}  # point -> (displacement, passed the forward-backward check)
    for kind in kinds:  # one Lucas-Kanade call per window size
        idx = [i for group, pts in FEATURE_POINTS.items() if group.startswith(kind) for i in pts]
        at = ref.points_work[idx]
        guess = landmarks_work[idx] - at
        if kind == "mouth":
            guess, matched = _match_points(ref.image, image, at, guess)
        d, ok = _lk(ref.image, image, at, guess, LK_WINDOWS[kind])
        if kind == "mouth":
            # In a big smile Lucas-Kanade can slide along the lip line; the template match does not.
            strays = np.linalg.norm(d - guess, axis=1) * ref.work.mm_per_px > MATCH_AGREE_MM
            use = matched & (~ok | strays)
            d[use], ok[use] = guess[use], True
        tracks.update(zip(idx, zip(d, ok)))
    for group, parts in COHERENT_PARTS.items():
        if not group.startswith(kinds):
            continue
        for idx in parts:
            idx = list(idx)
            p = ref.points_work[idx]
            d = np.array([tracks[i][0] for i in idx])
            ok = np.array([tracks[i][1] for i in idx])
            if ok.any():
                med = np.median(d[ok], axis=0)
                bad = ~ok | (np.linalg.norm(d - med, axis=1) > coherence_px)
                d[bad] = med
            else:  # nothing tracked: the landmarks' own change
                d = landmarks_work[idx] - p
            new_work[idx] = _apply(inv, p + d)
    return new_work


def _track_lids(ref: Reference, image: np.ndarray, landmarks_work: np.ndarray, residual: np.ndarray,
                new_work: np.ndarray) -> tuple[list, dict]:
    """Moves the lid points of `new_work` to where each lid band is found in `image` (sampled
    through the residual, so the shift is in work px of the reference). Returns the eye groups
    that fell back to `landmarks_work`, and each eye group's worse lid match (NCC)."""
    quality, fell_back = {}, []
    for (group, _lid), band in ref.lid_bands.items():
        _, shift, score = _find_band(band, image, residual)
        new_work[band.points, 1] = ref.points_work[band.points, 1] + shift
        quality[group] = min(score, quality.get(group, 1.0))
    for side, pairs in (("eye_right", EYE_LID_PAIRS_RIGHT), ("eye_left", EYE_LID_PAIRS_LEFT)):
        up, lo = [p for p, _ in pairs], [q for _, q in pairs]
        tracked_opening = float(np.mean(new_work[lo, 1] - new_work[up, 1]))
        ref_opening = float(np.mean(ref.points_work[lo, 1] - ref.points_work[up, 1]))
        landmark_change = float(np.mean(landmarks_work[lo, 1] - landmarks_work[up, 1])) - ref_opening
        big = abs(landmark_change) * ref.work.mm_per_px >= EYE_FALLBACK_CHANGE_MM
        # The landmarks see only part of a lid change but get the direction of a large one
        # right: a match that reads the other way has found some other edge.
        against = big and (tracked_opening - ref_opening) * landmark_change < 0
        if tracked_opening <= 0 or against or (quality[side] < EYE_FALLBACK_NCC and big):
            # The eye changed too much to be tracked (e.g. it closed): trust the landmarks.
            new_work[up + lo] = landmarks_work[up + lo]
            fell_back.append(side.replace("_", " "))
    return fell_back, quality


#: Mirror matching of the brows: a band from this far above the brow's landmarks to this far
#: below (mm), searched for up to this many work px sideways too (a small head turn shifts
#: one side against the other). Chosen on the tuning faces (see validation.py).
BROW_BAND_MM, MIRROR_REACH_X_PX = (4.0, 4.0), 6
#: (right, left) points matched with their mirror images to level the frame: pupils, inner eye
#: corners (the outer corners and the face's sides, also in `frame.LEVEL_PAIRS`, move with a
#: drooping lid or lack texture).
MIRROR_LEVEL_PAIRS = ((468, 473), (133, 362))
#: Brows whose bands match their mirror images worse than this (NCC) keep their landmarks: faint
#: or thin brows give no clear match (the tuning faces' brows match at 0.6-0.75).
MIRROR_BROW_MIN_NCC = 0.35


def _brow_band(image: np.ndarray, points_work: np.ndarray, idx) -> Band:
    """A band of a whole brow, along its landmarks, in a work image."""
    p = points_work[list(idx)]
    p = p[np.argsort(p[:, 0])]
    xs = np.linspace(p[0, 0], p[-1, 0], LID_BAND_COLUMNS)
    margin_y = np.interp(xs, p[:, 0], p[:, 1])
    above, below = (mm * WORK_PX_PER_MM for mm in BROW_BAND_MM)
    return _band(image, idx, xs, margin_y, np.arange(-above, below + 1e-6, LID_STEP_PX))


@dataclass
class Mirrored:
    """Result of `mirror_asymmetry`: one photo's mouth and brows, each side read against the other."""

    values: dict  # the measures (same keys as measures.measure_points)
    points_mm: np.ndarray  # (478, 2) face-frame mm: the landmarks, mouth corner and brow heights from the image
    fell_back: tuple[str, ...] = ()  # ("brows",) when the brows kept their landmarks
    level_rad: float = 0.0  # how far the face frame was turned to level it (`FaceFrame.turned`)


def mirror_asymmetry(ref: Reference) -> Mirrored:
    """One photo's mouth-corner and brow asymmetry from image evidence, in its own face frame.

    The photo's work image (`ref`, from `make_reference` of that photo) is mirrored about
    the face's midline, and the mouth corners and brows of the mirror image are found in the
    photo: the corners by Lucas-Kanade as in `track` (no registration step: the frame is the
    photo's own), each brow as a whole band (normalised cross-correlation). Where the right
    corner's mirror image is found on the left says how much higher or lower the left corner
    sits than the right one, whatever the landmark model's prior says. Each pair's asymmetry
    is the mean of the two ways round, and each pair keeps the landmarks' mean height.
    The frame is then levelled the same way: the pupils and inner eye corners are matched
    with their mirror images (normalised cross-correlation, which a light from one side does
    not bias), and the points are turned so that these pairs sit level on average. The
    landmarks' own level tilts by a few tenths of a degree, enough for a quarter of a
    millimetre of false droop.

    Brows whose mirror images match poorly (`MIRROR_BROW_MIN_NCC`) keep their landmarks.
    The eyes keep their landmarks: mirrored lids do not match well enough (two eyes differ in
    gaze, highlights and lashes; measured repeatability of the eye-opening difference 1.0 mm).
    """
    width = ref.work.size[0]  # the work frame's midline is x = width / 2
    mirrored_work = np.column_stack([width - ref.points_work[:, 0], ref.points_work[:, 1]])[MIRROR]
    image = np.ascontiguousarray(ref.image[:, ::-1])
    mirror = Reference(ref.points_mm, ref.frame, ref.work, image, mirrored_work)
    found = _track_points(mirror, ref.image, ref.points_work, np.eye(2, 3), kinds=("mouth",))
    brow_match = 1.0
    for group in ("brow_right", "brow_left"):
        band = _brow_band(image, mirrored_work, FEATURE_POINTS[group])
        _, shift, score = _find_band(band, ref.image, None, MIRROR_REACH_X_PX)
        found[band.points, 1] = mirrored_work[band.points, 1] + shift
        brow_match = min(brow_match, score)
    groups = ["mouth_right", "mouth_left"]
    fell_back = ()
    if brow_match >= MIRROR_BROW_MIN_NCC:
        groups += ["brow_right", "brow_left"]
    else:
        fell_back = ("brows",)
    level = [p for pair in MIRROR_LEVEL_PAIRS for p in pair]
    d, _ = _match_points(image, ref.image, mirrored_work[level], ref.points_work[level] - mirrored_work[level])
    found[level] = mirrored_work[level] + d
    y = ref.points_work[:, 1]

    def below(i, twin):
        """How far each i sits below its mirror twin (work px): where the twin's mirror image was
        found on i's side, and where i's mirror image was found on the twin's, averaged."""
        return ((found[i, 1] - y[twin]) + (y[i] - found[twin, 1])) / 2.0

    idx = np.array([i for g in groups for i in FEATURE_POINTS[g]])
    height = (y[idx] + y[MIRROR[idx]]) / 2.0 + below(idx, MIRROR[idx]) / 2.0
    points_mm = np.array(ref.points_mm, float, copy=True)
    points_mm[idx, 1] += (height - y[idx]) * ref.work.mm_per_px
    # Level the frame by the same evidence: turn it until the level pairs' left points sit level.
    r, l = np.array(MIRROR_LEVEL_PAIRS).T
    theta = float(np.arctan2(below(l, r).sum(), (ref.points_work[l, 0] - ref.points_work[r, 0]).sum()))
    points_mm = ref.frame.turned(theta).to_mm(ref.frame.to_px(points_mm))
    return Mirrored(measure_points(points_mm), points_mm, fell_back, theta)
