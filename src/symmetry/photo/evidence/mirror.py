"""One photo's mouth-corner and brow asymmetry read against its own mirror image (the
"mirrored" method): each side's feature is found on the other side, which gives their
asymmetry from the image rather than from the landmark model's symmetric prior. It measures
every reference photo of tracking (`tracking.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symmetry.face.landmarks import MIRROR
from symmetry.face.measures import measure_points
from symmetry.photo.evidence.matching import (
    BAND_COLUMNS, BAND_STEP_PX, WORK_PX_PER_MM, Band, find_band, make_band, match_points,
)
from symmetry.photo.evidence.tracking import FEATURE_POINTS, Reference, track_points

#: Mirror matching of the brows: a band from this far above the brow's landmarks to this far
#: below (mm), searched for up to this many work px sideways too (a small head turn shifts
#: one side against the other). Chosen on the tuning faces (see lab/validation.py).
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
    xs = np.linspace(p[0, 0], p[-1, 0], BAND_COLUMNS)
    margin_y = np.interp(xs, p[:, 0], p[:, 1])
    above, below = (mm * WORK_PX_PER_MM for mm in BROW_BAND_MM)
    return make_band(image, idx, xs, margin_y, np.arange(-above, below + 1e-6, BAND_STEP_PX))


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
    width = ref.image.shape[1]  # the work frame's midline is x = width / 2
    mirrored_work = np.column_stack([width - ref.points_work[:, 0], ref.points_work[:, 1]])[MIRROR]
    image = np.ascontiguousarray(ref.image[:, ::-1])
    mirror = Reference(ref.points_mm, ref.frame, ref.work, image, mirrored_work)
    found = track_points(mirror, ref.image, ref.points_work, np.eye(2, 3), kinds=("mouth",))
    brow_match = 1.0
    for group in ("brow_right", "brow_left"):
        band = _brow_band(image, mirrored_work, FEATURE_POINTS[group])
        _, shift, score = find_band(band, ref.image, None, MIRROR_REACH_X_PX)
        found[band.points, 1] = mirrored_work[band.points, 1] + shift
        brow_match = min(brow_match, score)
    groups = ["mouth_right", "mouth_left"]
    fell_back = ()
    if brow_match >= MIRROR_BROW_MIN_NCC:
        groups += ["brow_right", "brow_left"]
    else:
        fell_back = ("brows",)
    level = [p for pair in MIRROR_LEVEL_PAIRS for p in pair]
    d, _ = match_points(image, ref.image, mirrored_work[level], ref.points_work[level] - mirrored_work[level])
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
