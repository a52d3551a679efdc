"""One photo in, one `Measurement` out, by one of the `METHODS`; and a person's reference photo
prepared once for tracking their later photos.

    photo --imageio.read_image--> LoadedImage --detect.detect_faces--> faces
          --measures.measure_face--> landmark Measurement --image evidence, by method--> Measurement
          --checks.checked--> Measurement with expression, light, 95% intervals and plausibility
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from symmetry._version import __version__
from symmetry.face.frame import face_frame
from symmetry.face.landmarks import Face, Landmarker, default_landmarker
from symmetry.face.measures import Measurement, joined, measure_face, measure_points
from symmetry.photo.checks import checked, expression_seen, tracked_kind, tracking_disagreement
from symmetry.photo.detect import detect_faces
from symmetry.photo.evidence.counterwarp import balance, rebalance
from symmetry.photo.evidence.mirror import mirror_asymmetry
from symmetry.photo.evidence.tracking import Reference, make_reference, track
from symmetry.photo.imageio import ImageLoadError, LoadedImage, read_image
from symmetry.vocabulary import Method, Status

#: Landmark methods: name -> what it does (see docs/measurements.md, "Methods").
METHODS = {
    Method.BALANCED: "canonical landmarks, with mouth and brow asymmetry read as the counter-displacement "
                     "that makes the face look symmetric to the model (image evidence, see "
                     "evidence/counterwarp.py; about 25 passes)",
    Method.CANONICAL: "MediaPipe landmarks refined on a level, fixed-size view and its mirror, averaged "
                      "(see `Landmarker.detect_canonical`; six passes)",
    Method.LANDMARKS: "one raw MediaPipe pass",
    Method.MIRRORED: "one raw MediaPipe pass, with each side's mouth corner and brow found in the other side's "
                     "mirror image (image evidence, see evidence/mirror.py; the eyes are the landmarks')",
    Method.TRACKED: "change tracked from a reference photo of the same person (image evidence, see "
                    "evidence/tracking.py): the reference's measure + the tracked change, in the "
                    "reference's millimetres",
}
#: `method="auto"`: "tracked" when a reference photo is given, else this: the single-photo
#: reading least moved by rotation, scale and re-encoding (six landmark passes), and on real
#: photos of real people the one with the least false asymmetry from light and expression and
#: the closest agreement with hand-placed points on palsy photos (README, "Real faces").
SINGLE_PHOTO_DEFAULT = Method.CANONICAL
#: How a reference photo for tracking is measured on its own (and a photo that cannot be tracked
#: from it): a tracked photo reads the reference's level plus its tracked change, so the level
#: must see a displacement the way tracking sees a change. "mirrored" reads mouth and brow from
#: the image (slope 0.95-0.99 on warps); a canonical level sees about half, and added to a whole
#: tracked change it crossed even (a synthetic droop going 4.0 -> 1.0 mm read 2.0 -> -0.9 mm).
REFERENCE_METHOD = Method.MIRRORED

#: A photo whose stable points still miss the reference's by more than this after registration
#: (RMS, work-frame px; 240 px between the pupils) is not the reference's face: a different
#: person, or a very different pose. Same-person photos stay under about 4 px, closed eyes included.
MISMATCH_RESIDUAL_PX = 10.0


def analyze(
    image: str | os.PathLike | np.ndarray,
    *,
    model: str | os.PathLike | None = None,
    landmarker: Landmarker | None = None,
    interpupil_mm: float | None = None,
    reduce: bool = True,
    method: str = "auto",
    reference=None,
) -> Measurement:
    """Measure facial asymmetry in one photo.

    Args:
        image: a file path, or an RGB uint8 array (HxWx3).
        model: a .task model path; default: $SYMMETRY_MODEL or the bundled model.
        landmarker: an IMAGE-mode `Landmarker` to use; default: one per process,
            created on first use and reused by later calls.
        interpupil_mm: the person's calibrated inter-pupil distance (from a
            resting, eyes-open photo); sets the mm scale instead of the iris.
        reduce: decode large photos at reduced size (see `imageio.decode_scale_for`), which
            is faster. Either way a large image is measured at that working size (area
            averaged), and a face too small there is found again at full resolution.
        method: one of `METHODS` (docs/measurements.md, "Methods"), or "auto" (default):
            "tracked" when a reference is given, else `SINGLE_PHOTO_DEFAULT`.
        reference: a photo of the same person (ideally the same expression) to
            measure change against: a path, an RGB array, a `Measurement` of it
            with its `path`, or a `Reference` from `prepare_reference`
            (prepare once and reuse it for all of that person's photos).

    Returns:
        A `Measurement`; `status` is "ok" or says why the photo was not measured, or why
        its numbers cannot be stood behind (a `Status`). Its `method` column says which
        method produced it, `reference` which reference photo was used; `expression_seen`
        what the face shows; the `*_ci95_mm` columns the 95% interval of each asymmetry.
        With a reference, a photo that shows another expression, does not line up, or whose
        tracked change its own landmarks do not bear out is measured on its own
        (`REFERENCE_METHOD`) and its message says why.

    Raises:
        ValueError: an unknown method, "tracked" without a reference, or a
            reference photo that cannot be measured.
    """
    method = _resolve_method(method, reference)
    lm = landmarker or default_landmarker(model)
    ref = None
    if method == Method.TRACKED:
        ref = prepare_reference(reference, landmarker=lm, interpupil_mm=interpupil_mm, reduce=reduce)
    base = Measurement(path="" if isinstance(image, np.ndarray) else str(image), model=lm.model_path.name,
                       version=__version__, method=method, reference=ref.label if ref is not None else "")
    try:
        loaded = read_image(image, reduce=reduce)
    except ImageLoadError as exc:
        return replace(base, status=exc.status, message=str(exc))
    if ref is None:
        m, loaded, _ = _measure_single(image, loaded, base, lm, interpupil_mm)
    else:
        m, loaded = _measure_from_reference(image, loaded, base, lm, ref, interpupil_mm)
    return checked(m, loaded.rgb)


def _measure_from_reference(image, loaded: LoadedImage, base: Measurement, lm: Landmarker, ref: Reference,
                            interpupil_mm: float | None) -> tuple[Measurement, LoadedImage]:
    """A photo tracked from `ref`, or measured on its own (`REFERENCE_METHOD`) where it cannot be
    tracked; and the image its face was found in."""
    loaded, faces = detect_faces(lm.detect, image, loaded)
    m = measure_tracked(faces, _sized(base, loaded), loaded.rgb, ref)
    if m.status != Status.NOT_THE_REFERENCE_FACE:
        return m, loaded
    # Measured on its own instead, the way the reference was; `reference` still names the
    # photo tried, so that a rerun of a batch knows this row is done.
    alone, loaded, _ = _measure_single(image, loaded, replace(base, method=REFERENCE_METHOD), lm, interpupil_mm)
    return replace(alone, message=joined(m.message + ": measured on its own", alone.message)), loaded


def _sized(base: Measurement, loaded: LoadedImage) -> Measurement:
    return replace(base, width=loaded.width, height=loaded.height, decode_scale=loaded.decode_scale)


def _resolve_method(method: str, reference) -> Method:
    if method == "auto":
        return Method.TRACKED if reference is not None else SINGLE_PHOTO_DEFAULT
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(m.value for m in METHODS) + ['auto']}, not {method!r}")
    if method == Method.TRACKED and reference is None:
        raise ValueError(
            'method="tracked" measures change against a reference photo of the same person: '
            "pass reference=<path, RGB array, Measurement with a path, or prepare_reference(...)>"
        )
    return Method(method)


def prepare_reference(
    reference,
    *,
    model: str | os.PathLike | None = None,
    landmarker: Landmarker | None = None,
    interpupil_mm: float | None = None,
    reduce: bool = True,
    method: str = REFERENCE_METHOD,
) -> Reference:
    """Load, measure and prepare a person's reference photo once, for `analyze(..., reference=...)`.

    The reference is measured on its own with `method` (default "mirrored": mouth
    and brow asymmetry read from the image); later photos report that measure
    plus their tracked change.

    Args:
        reference: a path, an RGB array, a `Measurement` with a `path`, or an
            already prepared `Reference` (returned unchanged).
        interpupil_mm: the person's calibrated inter-pupil distance; it sets the
            millimetre scale of everything tracked against this reference.
        method: a single-photo method (see `METHODS`) for the reference's own measures.

    Raises:
        ValueError: the reference photo cannot be read or has no measurable face.
    """
    if isinstance(reference, Reference):
        return reference
    if isinstance(reference, Measurement):
        if not reference.path:
            raise ValueError(
                "this reference Measurement has no path to reload its photo from; "
                "pass the photo itself (a path or an RGB array) as reference"
            )
        if interpupil_mm is None and reference.scale_source == "calibration":
            interpupil_mm = reference.interpupil_mm
        reference = reference.path
    m, ref = measure_reference(reference, landmarker or default_landmarker(model),
                               interpupil_mm=interpupil_mm, reduce=reduce, method=method)
    if ref is None:
        label = "<array>" if isinstance(reference, np.ndarray) else str(reference)
        raise ValueError(f"reference photo {label} cannot be used: {m.message}")
    return ref


def measure_reference(image: str | os.PathLike | np.ndarray, landmarker: Landmarker, *,
                      interpupil_mm: float | None = None, reduce: bool = True,
                      method: str = REFERENCE_METHOD) -> tuple[Measurement, Reference | None]:
    """Measure a person's reference photo and prepare it for tracking, in one go.

    Returns its `Measurement` (by `method`, a single-photo method) and the
    `Reference`, which is None unless the photo's status is "ok" (the
    Measurement's message says why).
    """
    if method not in METHODS or method == Method.TRACKED:
        raise ValueError(f"a reference photo is measured on its own: method must be one of "
                         f"{sorted(m.value for m in METHODS if m != Method.TRACKED)}, not {method!r}")
    label = "<array>" if isinstance(image, np.ndarray) else str(image)
    base = Measurement(path="" if isinstance(image, np.ndarray) else label, model=landmarker.model_path.name,
                       version=__version__, method=method)
    try:
        loaded = read_image(image, reduce=reduce)
    except ImageLoadError as exc:
        return replace(base, status=exc.status, message=str(exc)), None
    m, loaded, ref = _measure_single(image, loaded, base, landmarker, interpupil_mm)
    m = checked(m, loaded.rgb)
    if m.face is None or m.status != Status.OK:
        return m, None
    if ref is None:
        ref = _photo_reference(m, loaded.rgb, interpupil_mm)
    return m, replace(ref, label=label, expression=m.expression_seen)


def _measure_alone(image, loaded: LoadedImage, base: Measurement, lm: Landmarker,
                   interpupil_mm: float | None) -> tuple[Measurement, LoadedImage]:
    """One photo measured on its own by landmarks (raw for `base.method` "landmarks" and
    "mirrored", else canonical), before any image evidence; and the image its face was found in."""
    raw = base.method in (Method.LANDMARKS, Method.MIRRORED)
    loaded, faces = detect_faces(lm.detect if raw else lm.detect_canonical, image, loaded, probe=lm.detect)
    return measure_face(faces, _sized(base, loaded), interpupil_mm), loaded


def _measure_single(image, loaded: LoadedImage, base: Measurement, lm: Landmarker, interpupil_mm: float | None
                    ) -> tuple[Measurement, LoadedImage, Reference | None]:
    """One photo measured on its own with `base.method`; the image its face was found in; and,
    for "balanced" and "mirrored", the photo prepared as a reference that reports those measures."""
    m, loaded = _measure_alone(image, loaded, base, lm, interpupil_mm)
    if m.face is None or m.status != Status.OK or base.method not in (Method.BALANCED, Method.MIRRORED):
        return m, loaded, None
    if base.method == Method.MIRRORED:
        ref = _photo_reference(m, loaded.rgb, interpupil_mm)
        mirrored = mirror_asymmetry(ref)
        notes = ["brows from landmarks only (they do not match their mirror images clearly, e.g. faint "
                 "brows): a lower bound"] if mirrored.fell_back else []
        # The measures are in the levelled frame: the face's points are only moved where measured.
        m = _with_points(replace(m, frame=m.frame.turned(mirrored.level_rad)), mirrored.points_mm, notes)
        return m, loaded, replace(ref, points_mm=mirrored.points_mm, values=mirrored.values)
    balanced, points_mm = _balanced(m, loaded.rgb, lm, interpupil_mm)
    return balanced, loaded, _photo_reference(m, loaded.rgb, interpupil_mm, baseline_mm=points_mm)


def _photo_reference(m: Measurement, rgb: np.ndarray, interpupil_mm: float | None,
                     baseline_mm: np.ndarray | None = None) -> Reference:
    """`m`'s photo prepared as a reference, from its landmarks. It lives in the pixels of `rgb`,
    the image the face was found in (tracking resamples from it)."""
    points = m.face.points / max(m.decode_scale, 1)
    return make_reference(rgb, points, face_frame(points, interpupil_mm), baseline_mm=baseline_mm)


def _balanced(m: Measurement, rgb: np.ndarray, landmarker: Landmarker,
              interpupil_mm: float | None = None) -> tuple[Measurement, np.ndarray | None]:
    """`m` (from canonical landmarks) with its mouth and brow asymmetry balanced
    (`counterwarp.balance`), and the face-frame points that give those measures.

    `rgb` is the image the face was detected in (face points / `m.decode_scale`)."""
    if m.face is None:
        return m, None
    scale = max(m.decode_scale, 1)
    result = balance(rgb, m.face.points / scale, landmarker.detect_canonical, interpupil_mm)
    if result is None:
        note = "mouth and brow from landmarks only (the face was lost while balancing)"
        return replace(m, message=joined(m.message, note)), None
    points_mm = rebalance(m.frame.to_mm(m.face.points), result)
    notes = []
    unfollowed = [name for name, measure in (("mouth", "mouth_droop_mm"), ("brow", "brow_asymmetry_mm"))
                  if measure not in result.asymmetry_mm]
    if unfollowed:
        notes.append(f"{' and '.join(unfollowed)} from landmarks only (the face model does not follow "
                     "them in this photo, e.g. faint brows): a lower bound")
    return _with_points(m, points_mm, notes), points_mm


def _with_points(m: Measurement, points_mm: np.ndarray, notes: list[str]) -> Measurement:
    """`m` measured from face-frame `points_mm`, its notes added. The face's points move with
    the measure, so that an overlay draws what was measured."""
    moved = np.flatnonzero(np.any(points_mm != m.frame.to_mm(m.face.points), axis=1))
    face_points = m.face.points.copy()
    face_points[moved] = m.frame.to_px(points_mm[moved])
    return replace(m, message=joined(m.message, *notes), face=replace(m.face, points=face_points),
                   **measure_points(points_mm))


def measure_tracked(faces: list[Face], base: Measurement, rgb: np.ndarray, reference: Reference) -> Measurement:
    """Like `measure_face`, with the measures tracked from `reference` (`tracking.track`). A photo
    that does not line up with the reference comes back with status "not_the_reference_face".

    `rgb` is the image the faces were detected in; face points are in original
    pixels, so they are divided by `base.decode_scale` to match it."""
    m = measure_face(faces, base, reference.frame.interpupil_mm)
    if m.face is None or m.status != Status.OK:
        # Pose and the like are checked before any tracking: the landmarks' reading, with its status.
        return replace(m, method=Method.LANDMARKS)
    mismatch = replace(m, status=Status.NOT_THE_REFERENCE_FACE)
    seen, expected = tracked_kind(expression_seen(m.face)), tracked_kind(reference.expression)
    if seen and expected and seen != expected:
        return replace(mismatch, message=f"the face shows {seen.replace('_', ' ')}, the reference "
                       f"photo {reference.label} {expected.replace('_', ' ')}")
    tracked = track(rgb, m.face.points / max(base.decode_scale, 1), reference)
    if tracked.residual_px > MISMATCH_RESIDUAL_PX:
        return replace(mismatch, message=f"does not line up with the reference photo {reference.label} "
                       "(a different person, or a very different pose)")
    disagree = tracking_disagreement(tracked.values, m, reference)
    if disagree:
        return replace(mismatch, message=f"tracking from the reference photo {reference.label} "
                       f"disagrees with the photo's own landmarks ({disagree})")
    notes = [m.message]
    if tracked.fell_back:
        notes.append("measured from landmarks, not tracked (the image changed too much from the reference): "
                     + ", ".join(tracked.fell_back))
    # The face's points are where the features were tracked to, so that an overlay draws what was measured.
    face = replace(m.face, points=tracked.points_px * max(base.decode_scale, 1))
    return replace(m, message=joined(*notes), face=face, mm_per_px=tracked.mm_per_px / max(base.decode_scale, 1),
                   interpupil_mm=reference.frame.interpupil_mm, scale_source="reference", **tracked.values)
