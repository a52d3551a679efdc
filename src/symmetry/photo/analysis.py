"""One photo in, one `Measurement` out: image loading, landmarks, frame, measures."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from symmetry._version import __version__
from symmetry.face.frame import face_frame
from symmetry.photo.imageio import ImageLoadError, LoadedImage, as_rgb_array, decode_scale_for, load_image
from symmetry.face.landmarks import Face, Landmarker, default_landmarker
from symmetry.photo.evidence.counterwarp import balance, rebalance
from symmetry.photo.evidence.refine import Reference, make_reference, mirror_asymmetry, track
from symmetry.face.measures import (
    EYES_CLOSED_MM,
    MIN_INTERPUPIL_PX,
    Measurement,
    implausible,
    measure_points,
    pose_problem,
)
from symmetry.face.uncertainty import ASYMMETRIES, ci95

#: Landmark methods: name -> what it does (see docs/measurements.md).
METHODS = {
    "balanced": "canonical landmarks, with mouth and brow asymmetry read as the counter-displacement "
                "that makes the face look symmetric to the model (image evidence, see counterwarp.py)",
    "canonical": "MediaPipe landmarks refined on a level, fixed-size view and its mirror, averaged",
    "landmarks": "one raw MediaPipe pass",
    "mirrored": "one raw MediaPipe pass, with each side's features tracked into the other side's mirror "
                "image (image evidence, see refine.mirror_asymmetry)",
    "tracked": "change tracked from a reference photo of the same person (image evidence, see refine.py)",
}
#: `method="auto"`: "tracked" when a reference photo is given, else this: the single-photo
#: reading least moved by rotation, scale and re-encoding (six landmark passes), and on real
#: photos of real people the one with the least false asymmetry from light and expression and
#: the closest agreement with hand-placed points on palsy photos (README, "Real faces").
SINGLE_PHOTO_DEFAULT = "canonical"
#: How a reference photo for tracking is measured on its own (and a photo that cannot be tracked
#: from it): a tracked photo reads the reference's level plus its tracked change, so the level
#: must see a displacement the way tracking sees a change. "mirrored" reads mouth and brow from
#: the image (slope 0.95-0.99 on warps); a canonical level sees about half, and added to a whole
#: tracked change it crossed even (a synthetic droop going 4.0 -> 1.0 mm read 2.0 -> -0.9 mm).
REFERENCE_METHOD = "mirrored"

#: A photo whose stable points still miss the reference's by more than this after registration
#: (RMS, work-frame px; 240 px between the pupils) is not the reference's face: a different
#: person, or a very different pose. Same-person photos stay under about 4 px, closed eyes included.
MISMATCH_RESIDUAL_PX = 10.0
#: Internal status of `measure_tracked` for such a photo (`analyze` then measures it on its own).
MISMATCH = "not_the_reference_face"
#: A tracked change from the reference is taken for a tracking failure (and the photo measured
#: on its own) unless the same photo's landmark change, taken along the tracked direction, lies
#: between this fraction of the tracked change and the whole of it, give or take
#: `TRACKING_AGREEMENT_MM`. The landmark model sees about half of a mouth corner's displacement
#: and a quarter of a brow's (a tenth to a third of a lid's) on warps of still photos, never more
#: than the whole; real tracking failures read tens of mm where the landmarks saw none.
TRACKING_AGREEMENT_FRACTION = 0.2
#: The give-or-take of that test, mm: about twice the SD of a raw landmark asymmetry's
#: difference between two real repeat photos of one person (0.7-1.1 mm).
TRACKING_AGREEMENT_MM = 2.0
#: Darker/brighter cheek brightness below which light is too one-sided to measure. On the
#: tuning half of Extended Yale B (one face, 64 lights) the false droop of `canonical` is
#: 0.19-0.30 mm (median) at every balance above 0.4 and doubles below it (0.59-0.61 mm).
MIN_LIGHT_BALANCE = 0.4
#: A second face this large (relative inter-pupil distance) makes the photo ambiguous.
SECOND_FACE_RATIO = 0.5
#: In a large photo measured at the working size, a face whose pupils are closer than
#: this (px, at that size) is detected again in the full-resolution image: working at a
#: reduced size must never cost a small face its detail.
FULL_RESOLUTION_BELOW_IPD_PX = 60.0


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
        method: "mirrored": one raw landmark pass, then the mouth corners and brows of
            the photo's mirror image are found in the photo, which reads their
            asymmetry from the image rather than from the landmark model (see
            `refine.mirror_asymmetry`; the eyes are the landmarks');
            "canonical": landmarks refined on a level, fixed-size, mirror-averaged
            view of the face (see `Landmarker.detect_canonical`; six passes);
            "balanced": canonical landmarks, mouth and brow asymmetry read as the
            counter-displacement that makes the model see a symmetric face
            (`counterwarp.py`; about 25 passes);
            "landmarks": one raw MediaPipe pass, for comparison;
            "tracked": registers the photo to `reference` and tracks each feature
            from it with image evidence (see `refine.py`): measure = the
            reference's measure + the tracked change, in the reference's
            millimetres; "auto" (default): "tracked" when a reference is given,
            else "canonical".
        reference: a photo of the same person (ideally the same expression) to
            measure change against: a path, an RGB array, a `Measurement` of it
            with its `path`, or a `refine.Reference` from `prepare_reference`
            (prepare once and reuse it for all of that person's photos).

    Returns:
        A `Measurement`; `status` is "ok" or says why the photo was not measured, or why
        its numbers cannot be stood behind ("unreadable", "too_small", "no_face",
        "multiple_faces", "pose_out_of_range", "implausible", "uneven_light"). Its `method`
        column says which method produced it, `reference` which reference photo was used;
        `expression_seen` what the face shows; the `*_ci95_mm` columns the 95% interval of
        each asymmetry. With a reference, a photo that shows another expression, does not line
        up, or whose tracked change its own landmarks do not bear out is measured on its own
        (`REFERENCE_METHOD`) and its message says why.

    Raises:
        ValueError: an unknown method, "tracked" without a reference, or a
            reference photo that cannot be measured.
    """
    method = _resolve_method(method, reference)
    path = "" if isinstance(image, np.ndarray) else str(image)
    lm = landmarker or default_landmarker(model)
    ref = None
    if method == "tracked":
        ref = prepare_reference(reference, landmarker=lm, interpupil_mm=interpupil_mm, reduce=reduce)
    base = Measurement(path=path, model=lm.model_path.name, version=__version__, method=method,
                       reference=ref.label if ref is not None else "")
    try:
        loaded = _load(image, reduce)
    except ImageLoadError as exc:
        return replace(base, status=exc.status, message=str(exc))
    if ref is not None:
        loaded, faces = _detect(lm.detect, image, loaded)
        m = measure_tracked(faces, _sized(base, loaded), loaded.rgb, ref)
        if m.status == MISMATCH:
            # Measured on its own instead, the way the reference was; `reference` still names the
            # photo tried, so that a rerun of a batch knows this row is done.
            alone, loaded, _ = _measure_single(image, loaded, replace(base, method=REFERENCE_METHOD), lm,
                                               interpupil_mm)
            m = replace(alone, message="; ".join(filter(None, [m.message + ": measured on its own", alone.message])))
        return checked(m, loaded.rgb)
    m, loaded, _ = _measure_single(image, loaded, base, lm, interpupil_mm)
    return checked(m, loaded.rgb)


def checked(m: Measurement, rgb: np.ndarray) -> Measurement:
    """`m` with what the photo itself says about it: the expression its face shows, how even
    its light is, the 95% interval of each asymmetry, and status "implausible" or
    "uneven_light" where the numbers cannot be stood behind. `rgb` is the image the face was
    found in (any size of the photo)."""
    from symmetry.capture.protocol import light_balance

    if m.face is None:
        return m
    balance, brighter = light_balance(rgb, m.face)
    m = replace(m, expression_seen=_expression_seen(m.face), light_balance=balance)
    m = replace(m, **ci95(m))
    if m.status != "ok":
        return m
    bad = implausible(m.to_dict())
    if bad:
        return replace(m, status="implausible", message="; ".join(filter(None, [
            f"implausible reading ({bad}): the face was not measured reliably. Retake the photo facing "
            "the camera, in even light, with nothing covering the face", m.message])))
    if balance < MIN_LIGHT_BALANCE:
        return replace(m, status="uneven_light", message="; ".join(filter(None, [
            f"light too uneven (the {_other(brighter)} cheek has {balance:.0%} of the {brighter} cheek's "
            "brightness), which fakes asymmetry: face a window or lamp", m.message])))
    return m


def _other(side: str) -> str:
    return {"right": "left", "left": "right"}.get(side, side)


def _sized(base: Measurement, loaded: LoadedImage) -> Measurement:
    return replace(base, width=loaded.width, height=loaded.height, decode_scale=loaded.decode_scale)


def _measure_alone(image, loaded: LoadedImage, base: Measurement, lm: Landmarker,
                   interpupil_mm: float | None) -> tuple[Measurement, LoadedImage]:
    """One photo measured on its own by landmarks (raw for `base.method` "landmarks" and
    "mirrored", else canonical), before any image evidence; and the image its face was found in."""
    raw = base.method in ("landmarks", "mirrored")
    loaded, faces = _detect(lm.detect if raw else lm.detect_canonical, image, loaded, probe=lm.detect)
    return measure_face(faces, _sized(base, loaded), interpupil_mm), loaded


def _measure_single(image, loaded: LoadedImage, base: Measurement, lm: Landmarker, interpupil_mm: float | None
                    ) -> tuple[Measurement, LoadedImage, Reference | None]:
    """One photo measured on its own with `base.method`; the image its face was found in; and,
    for "balanced" and "mirrored", the photo prepared as a reference that reports those measures."""
    m, loaded = _measure_alone(image, loaded, base, lm, interpupil_mm)
    if m.face is None or m.status != "ok" or base.method not in ("balanced", "mirrored"):
        return m, loaded, None
    if base.method == "mirrored":
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


def _resolve_method(method: str, reference) -> str:
    if method == "auto":
        return "tracked" if reference is not None else SINGLE_PHOTO_DEFAULT
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS) + ['auto']}, not {method!r}")
    if method == "tracked" and reference is None:
        raise ValueError(
            'method="tracked" measures change against a reference photo of the same person: '
            "pass reference=<path, RGB array, Measurement with a path, or prepare_reference(...)>"
        )
    return method


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
    m, ref = measure_reference(reference, landmarker=landmarker or default_landmarker(model),
                               interpupil_mm=interpupil_mm, reduce=reduce, method=method)
    if ref is None:
        label = "<array>" if isinstance(reference, np.ndarray) else str(reference)
        raise ValueError(f"reference photo {label} cannot be used: {m.message}")
    return ref


def measure_reference(
    image: str | os.PathLike | np.ndarray,
    *,
    model: str | os.PathLike | None = None,
    landmarker: Landmarker | None = None,
    interpupil_mm: float | None = None,
    reduce: bool = True,
    method: str = REFERENCE_METHOD,
) -> tuple[Measurement, Reference | None]:
    """Measure a person's reference photo and prepare it for tracking, in one go.

    Returns its `Measurement` (by `method`, a single-photo method) and the
    `Reference`, which is None unless the photo's status is "ok" (the
    Measurement's message says why).
    """
    if method not in METHODS or method == "tracked":
        raise ValueError(f"a reference photo is measured on its own: method must be one of "
                         f"{sorted(set(METHODS) - {'tracked'})}, not {method!r}")
    label = "<array>" if isinstance(image, np.ndarray) else str(image)
    lm = landmarker or default_landmarker(model)
    base = Measurement(path="" if isinstance(image, np.ndarray) else label, model=lm.model_path.name,
                       version=__version__, method=method)
    try:
        loaded = _load(image, reduce)
    except ImageLoadError as exc:
        return replace(base, status=exc.status, message=str(exc)), None
    m, loaded, ref = _measure_single(image, loaded, base, lm, interpupil_mm)
    m = checked(m, loaded.rgb)
    if m.face is None or m.status != "ok":
        return m, None
    if ref is None:
        ref = _photo_reference(m, loaded.rgb, interpupil_mm)
    return m, replace(ref, label=label, expression=m.expression_seen)


def _working(loaded: LoadedImage) -> LoadedImage:
    """`loaded` at the working size: an image still larger than the reduced-decoding rule
    allows (a full decode, a PNG, an array) is shrunk with area averaging. MediaPipe would
    otherwise resample a 12-megapixel image itself, with aliasing, and a photo would give
    different landmarks depending on how it was decoded."""
    import cv2

    factor = decode_scale_for(loaded.rgb.shape[1], loaded.rgb.shape[0])
    if factor == 1:
        return loaded
    rgb = cv2.resize(loaded.rgb, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    return replace(loaded, rgb=rgb, decode_scale=loaded.decode_scale * factor)


def _detect(detect, image, loaded: LoadedImage, probe=None) -> tuple[LoadedImage, list[Face]]:
    """Faces (in original pixels) found at the working size; a face too small there is
    found again in the full-resolution image, faces beside each other in a wide photo are
    looked for in windows (`probe`, a raw detector, defaults to `detect`), and a photo turned
    on its side or upside down (no face, or a face rolled past 45 degrees) is looked at
    turned upright. Returns the image they were found in."""
    found_in, faces = _detect_as_is(detect, image, loaded, probe)
    if faces and abs(faces[0].roll_deg) <= MAX_UPRIGHT_ROLL_DEG:
        return found_in, faces
    turns = [(-round(faces[0].roll_deg / 90)) % 4] if faces else [2, 1, 3]
    for k in turns:
        rgb = np.ascontiguousarray(np.rot90(found_in.rgb, k))
        size = (found_in.height, found_in.width) if k % 2 else (found_in.width, found_in.height)
        upright = detect(rgb, scale=found_in.decode_scale, original_size=size)
        if upright and abs(upright[0].roll_deg) <= MAX_UPRIGHT_ROLL_DEG:
            return found_in, [_turned_back(f, k, found_in) for f in upright]
    return found_in, faces


#: A face rolled further than this is looked for again in the photo turned by quarter turns.
MAX_UPRIGHT_ROLL_DEG = 45.0


def _turned_back(face: Face, k: int, image: LoadedImage) -> Face:
    """A face found in the photo turned by `k` quarter turns counter-clockwise (`np.rot90`),
    with its points back in the photo's own pixels."""
    w, h = image.width, image.height
    x, y = face.points[:, 0], face.points[:, 1]
    back = {1: (w - y, x), 2: (w - x, h - y), 3: (y, h - x)}[k]
    return replace(face, points=np.stack(back, axis=1), image_size=(w, h), turned_deg=90 * k)


def _detect_as_is(detect, image, loaded: LoadedImage, probe=None) -> tuple[LoadedImage, list[Face]]:
    work = _working(loaded)
    faces = detect(work.rgb, scale=work.decode_scale, original_size=(work.width, work.height))
    small = not faces or faces[0].interpupil_px / work.decode_scale < FULL_RESOLUTION_BELOW_IPD_PX
    if work.decode_scale > 1 and small:
        full = loaded if loaded.decode_scale == 1 else _load(image, reduce=False)
        full_faces = detect(full.rgb, scale=1.0, original_size=(full.width, full.height))
        if full_faces:
            return full, full_faces
    if len(faces) <= 1 and _room_beside(work.rgb, faces, work.decode_scale):
        found = _faces_in_windows(probe or detect, work)
        if len(found) > 1:
            return work, found  # measure_face says which: one clearly larger face, or several alike
        if found and not faces:
            x0, y0 = _window_of(work.rgb, found[0], work.decode_scale)
            side = min(work.rgb.shape[:2])
            faces = _shifted(detect(work.rgb[y0:y0 + side, x0:x0 + side], scale=work.decode_scale,
                                    original_size=(work.width, work.height)), x0, y0, work.decode_scale)
    return work, faces


#: A photo is looked at in square windows along its long side when it is at least this much
#: longer than wide and its face (if one was found) spans less than `WINDOW_BELOW_FACE_SHARE` of
#: it: MediaPipe's face detector sees the whole photo at 128 px, so faces side by side in a wide
#: photo can be missed (two faces side by side: one found; five: none).
WINDOW_ASPECT = 1.5
WINDOW_BELOW_FACE_SHARE = 0.4


def _room_beside(rgb: np.ndarray, faces: list[Face], scale: float) -> bool:
    h, w = rgb.shape[:2]
    if max(h, w) < WINDOW_ASPECT * min(h, w):
        return False
    if not faces:
        return True
    span = np.ptp(faces[0].points / scale, axis=0)
    return (span[0] / w if w >= h else span[1] / h) < WINDOW_BELOW_FACE_SHARE


def _windows(rgb: np.ndarray) -> list[tuple[int, int]]:
    """Top-left corners of square windows along the long side, overlapping by half."""
    h, w = rgb.shape[:2]
    side, long = min(h, w), max(h, w)
    starts = sorted({min(round(i * side / 2), long - side) for i in range(int(np.ceil(2 * long / side)))})
    return [(x, 0) for x in starts] if w >= h else [(0, y) for y in starts]


def _shifted(faces: list[Face], x0: int, y0: int, scale: float) -> list[Face]:
    return [replace(f, points=f.points + np.array([x0, y0]) * scale) for f in faces]


def _faces_in_windows(detect, work: LoadedImage) -> list[Face]:
    """The distinct faces found in `_windows` of the photo, largest first."""
    side = min(work.rgb.shape[:2])
    found: list[Face] = []
    for x0, y0 in _windows(work.rgb):
        for face in _shifted(detect(work.rgb[y0:y0 + side, x0:x0 + side], scale=work.decode_scale,
                                    original_size=(work.width, work.height)), x0, y0, work.decode_scale):
            centre = face.points[[468, 473]].mean(axis=0)
            if all(np.linalg.norm(centre - f.points[[468, 473]].mean(axis=0)) > f.interpupil_px for f in found):
                found.append(face)
    return sorted(found, key=lambda f: -f.interpupil_px)


def _window_of(rgb: np.ndarray, face: Face, scale: float) -> tuple[int, int]:
    """The window whose centre is nearest the face's (window px)."""
    side = min(rgb.shape[:2])
    centre = face.points[[468, 473]].mean(axis=0) / scale
    return min(_windows(rgb), key=lambda c: np.linalg.norm(np.array(c) + side / 2 - centre))


def _load(image, reduce: bool) -> LoadedImage:
    if isinstance(image, np.ndarray):
        rgb = as_rgb_array(image)
        return LoadedImage(rgb, rgb.shape[1], rgb.shape[0])
    if isinstance(image, (str, os.PathLike)):
        return load_image(Path(image), reduce=reduce)
    raise TypeError(f"analyze() takes a file path or an RGB uint8 array, not {type(image).__name__}")


def measure_face(faces: list[Face], base: Measurement, interpupil_mm: float | None = None) -> Measurement:
    """Turn detected faces into a Measurement with the right status (pure)."""
    if not faces:
        return replace(
            base,
            status="no_face",
            message="no face found. Use a well-lit, frontal photo with the whole face visible.",
        )
    face = faces[0]
    notes = []
    if len(faces) > 1:
        if faces[1].interpupil_px >= SECOND_FACE_RATIO * face.interpupil_px:
            return replace(
                base,
                status="multiple_faces",
                message=f"{len(faces)} faces of similar size found. Crop the photo to one person.",
            )
        notes.append("a smaller face in the background was ignored")
    if face.interpupil_px < MIN_INTERPUPIL_PX:
        return replace(
            base,
            status="too_small",
            message=(
                f"the face is too small: pupils {face.interpupil_px:.0f} px apart (need at least "
                f"{MIN_INTERPUPIL_PX:.0f}). Move closer or use a higher-resolution photo."
            ),
        )
    if face.turned_deg:
        turn = {90: "90 degrees anticlockwise", 180: "upside down", 270: "90 degrees clockwise"}[face.turned_deg]
        notes.append(f"the face was not upright: measured with the photo turned {turn}. Save the photo upright "
                     "(or fix its orientation setting)")
    frame = face_frame(face.points, interpupil_mm)
    values = measure_points(frame.to_mm(face.points))
    status, message = "ok", ""
    problem = pose_problem(face)
    if problem:
        status, message = "pose_out_of_range", problem
    if max(values["eye_opening_right_mm"], values["eye_opening_left_mm"]) < EYES_CLOSED_MM and frame.scale_source == "iris":
        notes.append(
            "eyes closed: the mm scale from the iris is less reliable; "
            "pass interpupil_mm from a resting photo of the same person"
        )
    if notes:
        message = "; ".join(filter(None, [message] + notes))
    return replace(
        base,
        status=status,
        message=message,
        yaw_deg=face.yaw_deg,
        pitch_deg=face.pitch_deg,
        roll_deg=face.roll_deg,
        mm_per_px=frame.mm_per_px,
        interpupil_mm=frame.interpupil_mm,
        scale_source=frame.scale_source,
        face=face,
        frame=frame,
        **values,
    )


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
        return replace(m, message="; ".join(filter(None, [m.message, note]))), None
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
    message = "; ".join(filter(None, [m.message] + notes))
    return replace(m, message=message, face=replace(m.face, points=face_points), **measure_points(points_mm))


def measure_tracked(faces: list[Face], base: Measurement, rgb: np.ndarray, reference: Reference) -> Measurement:
    """Like `measure_face`, with the measures tracked from `reference` (`refine.track`). A photo
    that does not line up with the reference comes back with status `MISMATCH`.

    `rgb` is the image the faces were detected in; face points are in original
    pixels, so they are divided by `base.decode_scale` to match it."""
    m = measure_face(faces, base, reference.frame.interpupil_mm)
    if m.face is None or m.status != "ok":
        # Pose and the like are checked before any tracking: the landmarks' reading, with its status.
        return replace(m, method="landmarks")
    seen, expected = _kind(_expression_seen(m.face)), _kind(reference.expression)
    if seen and expected and seen != expected:
        return replace(m, status=MISMATCH, message=f"the face shows {seen.replace('_', ' ')}, the reference "
                       f"photo {reference.label} {expected.replace('_', ' ')}")
    tracked = track(rgb, m.face.points / max(base.decode_scale, 1), reference)
    if tracked.residual_px > MISMATCH_RESIDUAL_PX:
        return replace(m, status=MISMATCH, message=f"does not line up with the reference photo {reference.label} "
                       "(a different person, or a very different pose)")
    disagree = _disagreement(tracked.values, m, reference)
    if disagree:
        return replace(m, status=MISMATCH, message=f"tracking from the reference photo {reference.label} "
                       f"disagrees with the photo's own landmarks ({disagree})")
    notes = [m.message] if m.message else []
    if tracked.fell_back:
        notes.append(
            "measured from landmarks, not tracked (the image changed too much from the reference): "
            + ", ".join(tracked.fell_back)
        )
    # The face's points are where the features were tracked to, so that an overlay draws what was measured.
    face = replace(m.face, points=tracked.points_px * max(base.decode_scale, 1))
    return replace(
        m,
        message="; ".join(notes),
        face=face,
        mm_per_px=tracked.mm_per_px / max(base.decode_scale, 1),
        interpupil_mm=reference.frame.interpupil_mm,
        scale_source="reference",
        **tracked.values,
    )


def _disagreement(tracked: dict, m: Measurement, reference: Reference) -> str:
    """Where a tracked change from the reference is not borne out by the same photo's own landmark
    change (see `TRACKING_AGREEMENT_FRACTION`): a tracking failure, not a face; else ""."""
    out = []
    for name in ASYMMETRIES:
        by_tracking = tracked[name] - reference.values[name]
        by_landmarks = getattr(m, name) - reference.landmark_values[name]
        along = by_landmarks * (1.0 if by_tracking >= 0 else -1.0)  # the landmark change in the tracked direction
        size = abs(by_tracking)
        if not TRACKING_AGREEMENT_FRACTION * size - TRACKING_AGREEMENT_MM <= along <= size + TRACKING_AGREEMENT_MM:
            out.append(f"{name.removesuffix('_mm').replace('_', ' ')} changed {by_tracking:+.1f} mm tracked, "
                       f"{by_landmarks:+.1f} mm by landmarks")
    return "; ".join(out)


#: Expressions told apart before tracking: eye closure is left out, because a lid that
#: droops in palsy is what tracking must follow, not a reason to stop.
_KINDS = ("rest", "smile", "pucker", "brow_raise")


def _kind(expression: str) -> str:
    return expression if expression in _KINDS else ""


def _expression_seen(face: Face) -> str:
    """The protocol expression the face shows by its blendshapes, "unclear" when in between."""
    from symmetry.capture.protocol import classify_expression, expression_evidence

    return classify_expression(expression_evidence(face)) or "unclear"
