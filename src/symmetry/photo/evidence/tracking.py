"""Image evidence that sees past the landmark model's symmetric prior.

The landmark model pulls every face towards symmetry: on faces with a known
one-sided displacement, raw landmarks follow about half of a mouth-corner
change, a quarter of a brow change and less of an eyelid change (see
`lab/validation.py` and scripts/validate.py). Change across sessions is the
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

A single photo is read the same way against its own mirror image (`mirror.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symmetry.face.frame import FaceFrame
from symmetry.face.measures import (
    BROW_LEFT, BROW_RIGHT, EYE_LID_PAIRS_LEFT, EYE_LID_PAIRS_RIGHT, MOUTH_CORNER_LEFT, MOUTH_CORNER_RIGHT, measure_points,
)
from symmetry.photo.evidence.matching import (
    BAND_COLUMNS, BAND_STEP_PX, WORK_INTERPUPIL_PX, WORK_PX_PER_MM, Band, affine_fit, apply_affine, find_band,
    lucas_kanade, make_band, match_points, normalise, robust_affine,
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

#: Work frame extent around the pupil midpoint, in inter-pupil distances (x half-width, y up, y down).
WORK_EXTENT = (1.05, 0.7, 1.35)
#: Local contrast normalisation scale, in inter-pupil distances.
NORMALISE_SIGMA_IPD = 0.06


@dataclass
class Reference:
    """A person's reference photo, prepared for tracking later photos into it.

    Make one with `make_reference` (or let `analyze(..., reference=...)` do it)
    and reuse it for all of that person's later photos.
    """

    points_mm: np.ndarray  # (478, 2) the points whose measures it reports, face-frame mm (see make_reference)
    frame: FaceFrame
    work: FaceFrame  # the reference's face frame drawn upright in the work image (`work_frame`)
    image: np.ndarray  # normalised grey work image, uint8
    points_work: np.ndarray  # (478, 2) reference landmarks in work px
    label: str = ""  # what the output's `reference` column says (the photo's path)
    values: dict = field(default_factory=dict)  # the reference's own measures
    lid_bands: dict = field(default_factory=dict, repr=False)  # (eye group, "upper"/"lower") -> Band
    # The reference's measures from its landmarks alone: a tracked change is checked against
    # the later photo's landmark change (checks.TRACKING_AGREEMENT_MM).
    landmark_values: dict = field(default_factory=dict)
    expression: str = ""  # what the reference photo's face shows (blendshapes), "" when unclear


def work_size() -> tuple[int, int]:
    """(width, height) of a work image, px."""
    ex, up, down = WORK_EXTENT
    return int(round(2 * ex * WORK_INTERPUPIL_PX)), int(round((up + down) * WORK_INTERPUPIL_PX))


def work_frame(frame: FaceFrame) -> FaceFrame:
    """The work frame of a photo whose face frame is `frame`: the same face frame drawn upright in
    a work image (`work_size`), `WORK_INTERPUPIL_PX` between the pupils, midline in the middle."""
    width, _ = work_size()
    return frame.upright(WORK_INTERPUPIL_PX, (width / 2.0, WORK_EXTENT[1] * WORK_INTERPUPIL_PX))


def _resample(rgb: np.ndarray, px_to_work: np.ndarray) -> np.ndarray:
    """The grey image in work-frame pixels, contrast-normalised."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    out = cv2.warpAffine(grey, px_to_work, work_size(), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return normalise(out, NORMALISE_SIGMA_IPD * WORK_INTERPUPIL_PX)


def make_reference(rgb: np.ndarray, points: np.ndarray, frame: FaceFrame, label: str = "",
                   baseline_mm: np.ndarray | None = None) -> Reference:
    """Prepare a reference photo: its RGB array, its (478, 2) landmarks in those pixels, its face frame.

    `baseline_mm` (478, 2), if given, are the face-frame points whose measures the reference
    reports (e.g. `counterwarp.rebalance`d); tracking still starts from `points`."""
    points = np.asarray(points, float)
    work = work_frame(frame)
    points_work = work.to_px(frame.to_mm(points))
    points_mm = frame.to_mm(points) if baseline_mm is None else np.asarray(baseline_mm, float)
    # px -> work: the affine that sends the reference landmarks to their work positions.
    px_to_work = affine_fit(points[list(STABLE_POINTS) + [468, 473]], points_work[list(STABLE_POINTS) + [468, 473]])
    image = _resample(rgb, px_to_work)
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


#: Lucas-Kanade window per point group, in inter-pupil distances.
LK_WINDOWS = {"stable": 0.1, "mouth": 0.06, "brow": 0.06}
#: A brow point whose displacement differs from its neighbours' median by more than this (mm)
#: is replaced by that median: a brow moves as one piece.
COHERENCE_MM = 1.0
#: How far (mm) Lucas-Kanade may end from a mouth corner's template match.
MATCH_AGREE_MM = 1.0
#: An eye falls back to its landmarks when its lid bands match the reference worse than
#: this (NCC) while the landmarks see its opening change by at least this much (mm).
EYE_FALLBACK_NCC, EYE_FALLBACK_CHANGE_MM = 0.7, 1.5
#: Lid band: how far it reaches on the lid's side of the margin and across it (mm). Chosen on
#: the tuning faces and the "sliding_lid" shape (see lab/validation.py).
LID_BAND_LID_MM, LID_BAND_ACROSS_MM = 2.0, 0.3
#: (eye group, lid) -> the lid's measured points, and on which side of its margin the lid lies (-1 = above).
LID_BANDS = {
    ("eye_right", "upper"): ([p for p, _ in EYE_LID_PAIRS_RIGHT], -1),
    ("eye_right", "lower"): ([q for _, q in EYE_LID_PAIRS_RIGHT], +1),
    ("eye_left", "upper"): ([p for p, _ in EYE_LID_PAIRS_LEFT], -1),
    ("eye_left", "lower"): ([q for _, q in EYE_LID_PAIRS_LEFT], +1),
}


def _lid_band(image: np.ndarray, points_work: np.ndarray, key) -> Band:
    idx, side = LID_BANDS[key]
    other = LID_BANDS[(key[0], "lower" if key[1] == "upper" else "upper")][0]
    p = points_work[idx]
    p = p[np.argsort(p[:, 0])]
    # The columns both lids span: the eye opening is measured there.
    xq = points_work[other, 0]
    xs = np.linspace(max(p[0, 0], xq.min()), min(p[-1, 0], xq.max()), BAND_COLUMNS)
    margin_y = np.interp(xs, p[:, 0], p[:, 1])
    lid, across = LID_BAND_LID_MM * WORK_PX_PER_MM, LID_BAND_ACROSS_MM * WORK_PX_PER_MM
    rows = -side * np.arange(-lid, across + 1e-6, BAND_STEP_PX)  # from the lid towards the eye
    return make_band(image, idx, xs, margin_y, rows)


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
    px_to_work = affine_fit(points[stable], ref.points_work[stable])
    image = _resample(rgb, px_to_work)
    landmarks_work = apply_affine(px_to_work, points)
    # 2. Lucas-Kanade at the stable points: the residual misregistration (robust affine).
    d_stable, ok_stable = lucas_kanade(ref.image, image, ref.points_work[stable], np.zeros((len(stable), 2)),
                                       LK_WINDOWS["stable"])
    if ok_stable.sum() < 4:  # too few checked tracks for an affine: use them all
        ok_stable[:] = True
    src = ref.points_work[stable][ok_stable]
    residual = robust_affine(src, src + d_stable[ok_stable])
    res_rms = float(np.sqrt(np.mean(np.sum((apply_affine(residual, src) - src - d_stable[ok_stable]) ** 2, 1))))
    # 3. Mouth corners and brows, then the lids.
    new_work = track_points(ref, image, landmarks_work, residual)
    fell_back, quality = _track_lids(ref, image, landmarks_work, residual, new_work)
    points_mm = ref.points_mm.copy()
    tracked_idx = [i for idx in FEATURE_POINTS.values() for i in idx]
    points_mm[tracked_idx] += (new_work[tracked_idx] - ref.points_work[tracked_idx]) * ref.work.mm_per_px
    scale = ref.work.mm_per_px * float(np.sqrt(abs(np.linalg.det(px_to_work[:, :2]))))
    # Back into the photo's own pixels (for drawing): work -> registered image -> photo.
    work_to_px = np.linalg.inv(np.vstack([px_to_work, [0, 0, 1]]))[:2]
    points_px = points.copy()
    points_px[tracked_idx] = apply_affine(work_to_px, apply_affine(residual, new_work[tracked_idx]))
    return Tracked(measure_points(points_mm), points_mm, tuple(fell_back), res_rms, scale, quality, points_px)


def track_points(ref: Reference, image: np.ndarray, landmarks_work: np.ndarray, residual: np.ndarray,
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
            guess, matched = match_points(ref.image, image, at, guess)
        d, ok = lucas_kanade(ref.image, image, at, guess, LK_WINDOWS[kind])
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
            new_work[idx] = apply_affine(inv, p + d)
    return new_work


def _track_lids(ref: Reference, image: np.ndarray, landmarks_work: np.ndarray, residual: np.ndarray,
                new_work: np.ndarray) -> tuple[list, dict]:
    """Moves the lid points of `new_work` to where each lid band is found in `image` (sampled
    through the residual, so the shift is in work px of the reference). Returns the eye groups
    that fell back to `landmarks_work`, and each eye group's worse lid match (NCC)."""
    quality, fell_back = {}, []
    for (group, _lid), band in ref.lid_bands.items():
        _, shift, score = find_band(band, image, residual)
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
