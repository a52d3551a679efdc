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
   the residual misregistration, removed by a robust affine fit) and every
   point the measures use, starting from where the later photo's landmarks
   put it. A track that fails the forward-backward check, or strays from the
   other points of its lid or brow, is replaced by their median.
4. The lid points are then snapped to the lid edge: the strongest vertical
   intensity edge next to the reference landmark, found again (same polarity)
   next to the tracked position, sub-pixel.
5. measure(later) = measure(reference) + tracked change, in the reference's
   millimetres.

Where an eye cannot be tracked (it closed, or its lid patches no longer match
the reference while the landmarks see a large change), that eye falls back to
the later photo's landmarks, and the row's message says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .frame import FaceFrame
from .measures import (
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

#: Points that move as one piece (a lid, a brow), per feature group.
COHERENT_PARTS = {
    "mouth_right": ((MOUTH_CORNER_RIGHT,),),
    "mouth_left": ((MOUTH_CORNER_LEFT,),),
    "brow_right": (BROW_RIGHT,),
    "brow_left": (BROW_LEFT,),
    "eye_right": tuple(tuple(pair[k] for pair in EYE_LID_PAIRS_RIGHT) for k in (0, 1)),
    "eye_left": tuple(tuple(pair[k] for pair in EYE_LID_PAIRS_LEFT) for k in (0, 1)),
}

#: Work frame resolution: pupils this many pixels apart.
WORK_INTERPUPIL_PX = 240.0
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
    lid_edges: dict = field(default_factory=dict, repr=False)  # lid point -> its edge (see _reference_edge)


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
    edges = {i: _reference_edge(image, points_work[i]) for i in EDGE_POINTS}
    return Reference(points_mm, frame, work, image, points_work, label, measure_points(points_mm), edges)


@dataclass
class Tracked:
    """Result of tracking one photo into its reference."""

    values: dict  # the measures (same keys as measures.measure_points)
    points_mm: np.ndarray  # (478, 2) landmarks in the reference's face frame, tracked where possible
    fell_back: tuple[str, ...]  # feature groups measured from landmarks instead of the image
    residual_px: float  # RMS residual of the stable points after registration, work px
    mm_per_px: float  # millimetres per pixel of the tracked photo, from the registration
    quality: dict = field(default_factory=dict)  # feature group -> mean patch NCC after tracking
    #: (478, 2) the photo's landmarks in its own pixels, the tracked points where they were tracked to
    points_px: np.ndarray | None = field(default=None, repr=False)


#: Lucas-Kanade window per point group, in inter-pupil distances, and pyramid levels.
LK_WINDOWS = {"stable": 0.1, "mouth": 0.06, "brow": 0.06, "eye": 0.045}
LK_LEVELS = 3
#: A track whose forward-backward round trip misses its start by more than this (mm) is not trusted.
FB_MAX_MM = 0.3
#: A lid or brow point whose displacement differs from its neighbours' median by more than this (mm)
#: is replaced by that median: a lid or brow moves as one piece.
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
    max_px = FB_MAX_MM * WORK_INTERPUPIL_PX / 63.0
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb <= max_px)
    return (p1 - p0).reshape(-1, 2).astype(float), ok


LID_EDGES = True
#: Lid tracking window offset from the margin, towards the lid, in half-windows (0 = centred).
#: Not used (0): it helps an occluding lid but costs more on a lid that drags the eye with it;
#: see the validation notes.
LID_SIDE = 0.0
UPPER_LID_POINTS = frozenset(pair[0] for pair in EYE_LID_PAIRS_RIGHT + EYE_LID_PAIRS_LEFT)
NCC_HALF_IPD = 0.05
#: An eye falls back to its landmarks when its lid patches match the reference worse than
#: this (NCC) while the landmarks see its opening change by at least this much (mm).
EYE_FALLBACK_NCC, EYE_FALLBACK_CHANGE_MM = 0.6, 1.5
EDGE_POINTS = tuple(i for pair in EYE_LID_PAIRS_RIGHT + EYE_LID_PAIRS_LEFT for i in pair)
#: Lid edge search: half-width of the column band, and how far (mm) from the landmark / the flow's guess.
EDGE_BAND_MM, EDGE_NEAR_MM, EDGE_SEARCH_MM = 1.0, 1.0, 1.2


def _profile_gradient(img: np.ndarray, x: float, y0: float, y1: float, band: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertical derivative of the column band around x between rows y0..y1 (sub-pixel rows)."""
    import cv2

    ys = np.arange(y0 - 2.5, y1 + 3.0, 0.5, dtype=np.float32)  # 5 samples of margin each side
    xs = np.arange(-band, band + 1, dtype=np.float32) + np.float32(x)
    # Sample from a small float crop: converting the whole image per profile costs more than the rest.
    h, w = img.shape[:2]
    cx0, cy0 = max(int(xs[0]) - 2, 0), max(int(ys[0]) - 2, 0)
    cx1, cy1 = min(int(xs[-1]) + 3, w), min(int(ys[-1]) + 3, h)
    crop = img[cy0:cy1, cx0:cx1].astype(np.float32)
    mx, my = np.meshgrid(xs - cx0, ys - cy0)
    prof = cv2.remap(crop, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).mean(1)
    prof = np.convolve(prof, np.array([1, 2, 3, 2, 1], np.float32) / 9.0, mode="same")
    return ys[5:-5], np.gradient(prof, 0.5)[5:-5]


def _parabola(v: np.ndarray) -> float:
    """Sub-sample offset of the extremum of three samples around the middle one (0 if they are flat)."""
    den = v[0] - 2 * v[1] + v[2]
    return float(0.5 * (v[0] - v[2]) / den) if den != 0 else 0.0


def _peak(ys: np.ndarray, g: np.ndarray, i: int) -> float:
    """Sub-sample row of the extremum of the profile g (sampled every half row) at index i."""
    if 0 < i < len(g) - 1:
        return float(ys[i] + 0.5 * _parabola(g[i - 1: i + 2]))
    return float(ys[i])


def _reference_edge(ref_img, p_ref) -> tuple[float, float, float]:
    """(row, polarity, strength) of the strongest vertical edge next to a reference lid landmark."""
    px_mm = WORK_INTERPUPIL_PX / 63.0  # work pixels per mm (about 63 mm between the pupils)
    band = max(1, int(round(EDGE_BAND_MM * px_mm)))
    near = EDGE_NEAR_MM * px_mm
    ys, g = _profile_gradient(ref_img, p_ref[0], p_ref[1] - near, p_ref[1] + near, band)
    i = int(np.argmax(np.abs(g)))
    return _peak(ys, g, i), float(np.sign(g[i])), float(abs(g[i]))


def _edge_shift(ref_edge, img, p_ref, p_guess):
    """New row of a lid point: the reference's lid edge (`_reference_edge`), found again
    near the tracked guess (same polarity), moved by the edge's own displacement."""
    px_mm = WORK_INTERPUPIL_PX / 63.0
    band = max(1, int(round(EDGE_BAND_MM * px_mm)))
    search = EDGE_SEARCH_MM * px_mm
    e_ref, sign, strength = ref_edge
    x_new = p_ref[0] + (p_guess[0] - p_ref[0])
    centre = p_guess[1] + (e_ref - p_ref[1])
    ys2, g2 = _profile_gradient(img, x_new, centre - search, centre + search, band)
    # The same edge again: of the same-polarity edge peaks at least half as strong as the
    # reference's, the one nearest the tracked guess (not simply the strongest, which may be
    # the next edge over: a crease or the lash line).
    v = sign * g2
    peaks = np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] > v[2:]) & (v[1:-1] >= 0.5 * strength)) + 1
    if not len(peaks):
        return None
    j = int(peaks[np.argmin(np.abs(ys2[peaks] - centre))])
    return p_ref[1] + (_peak(ys2, g2, j) - e_ref)


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




def _ncc(a: np.ndarray, b: np.ndarray, pa: np.ndarray, pb: np.ndarray, half: int) -> float:
    """Normalised cross-correlation of the patches of a at pa and b at pb (sub-pixel), -1..1."""
    import cv2

    size = (2 * half + 1, 2 * half + 1)
    ta = cv2.getRectSubPix(a, size, (float(pa[0]), float(pa[1]))).astype(np.float32)
    tb = cv2.getRectSubPix(b, size, (float(pb[0]), float(pb[1]))).astype(np.float32)
    ta -= ta.mean()
    tb -= tb.mean()
    den = float(np.sqrt((ta * ta).sum() * (tb * tb).sum()))
    return float((ta * tb).sum() / den) if den > 0 else 0.0


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
    inv = np.linalg.inv(np.vstack([residual, [0, 0, 1]]))[:2]
    # 3. Features: LK from the landmarks' guess, checked, made coherent, minus the residual.
    new_work = ref.points_work.copy()
    in_image = ref.points_work.copy()  # tracked positions in `image`, before undoing the residual
    fell_back = []
    coherence_px = COHERENCE_MM / ref.work.mm_per_px
    tracks = {}  # point -> (displacement, passed the forward-backward check)
    for kind in ("mouth", "brow", "eye"):  # one Lucas-Kanade call per window size
        idx = [i for group, pts in FEATURE_POINTS.items() if group.startswith(kind) for i in pts]
        at = ref.points_work[idx].copy()
        if kind == "eye" and LID_SIDE:
            # Track the lid itself: a window on the lid's side of the margin (above the upper
            # margin, below the lower one), not on the eyeball that the lid slides over.
            off = LID_SIDE * _window(LK_WINDOWS["eye"]) / 2.0
            at[:, 1] += np.array([-off if i in UPPER_LID_POINTS else off for i in idx])
        guess = landmarks_work[idx] - ref.points_work[idx]
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
        for idx in parts:
            idx = list(idx)
            p = ref.points_work[idx]
            guess = landmarks_work[idx] - p
            d = np.array([tracks[i][0] for i in idx])
            ok = np.array([tracks[i][1] for i in idx])
            if ok.any():
                med = np.median(d[ok], axis=0)
                bad = ~ok | (np.linalg.norm(d - med, axis=1) > coherence_px)
                d[bad] = med
            else:  # nothing tracked: the landmarks' own change
                d = guess
            in_image[idx] = p + d
            new_work[idx] = _apply(inv, p + d)
    if LID_EDGES:
        for i in EDGE_POINTS:
            ref_edge = ref.lid_edges.get(i) or _reference_edge(ref.image, ref.points_work[i])
            e = _edge_shift(ref_edge, image, ref.points_work[i], in_image[i])
            if e is not None:
                new_work[i] = _apply(inv, np.array([[in_image[i, 0], e]]))[0]
    quality = {}
    half = int(round(NCC_HALF_IPD * WORK_INTERPUPIL_PX))
    for group in ("eye_right", "eye_left"):  # only the eyes use it (their fallback)
        idx = FEATURE_POINTS[group]
        quality[group] = float(np.mean([_ncc(ref.image, image, ref.points_work[i], new_work[i], half) for i in idx]))
    for side, pairs in (("eye_right", EYE_LID_PAIRS_RIGHT), ("eye_left", EYE_LID_PAIRS_LEFT)):
        up, lo = [p for p, _ in pairs], [q for _, q in pairs]
        tracked_opening = float(np.mean(new_work[lo, 1] - new_work[up, 1]))
        ref_opening = float(np.mean(ref.points_work[lo, 1] - ref.points_work[up, 1]))
        landmark_change = float(np.mean(landmarks_work[lo, 1] - landmarks_work[up, 1])) - ref_opening
        big = abs(landmark_change) * ref.work.mm_per_px >= EYE_FALLBACK_CHANGE_MM
        if tracked_opening <= 0 or (quality[side] < EYE_FALLBACK_NCC and big):
            # The eye changed too much to be tracked (e.g. it closed): trust the landmarks.
            new_work[up + lo] = landmarks_work[up + lo]
            fell_back.append(side.replace("_", " "))
    points_mm = ref.points_mm.copy()
    tracked_idx = [i for idx in FEATURE_POINTS.values() for i in idx]
    points_mm[tracked_idx] += (new_work[tracked_idx] - ref.points_work[tracked_idx]) * ref.work.mm_per_px
    scale = ref.work.mm_per_px * float(np.sqrt(abs(np.linalg.det(px_to_work[:, :2]))))
    # Back into the photo's own pixels (for drawing): work -> registered image -> photo.
    work_to_px = np.linalg.inv(np.vstack([px_to_work, [0, 0, 1]]))[:2]
    points_px = points.copy()
    points_px[tracked_idx] = _apply(work_to_px, _apply(residual, new_work[tracked_idx]))
    return Tracked(measure_points(points_mm), points_mm, tuple(fell_back), res_rms, scale, quality, points_px)
