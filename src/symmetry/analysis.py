"""One photo in, one `Measurement` out: image loading, landmarks, frame, measures."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import __version__
from .frame import face_frame
from .imageio import ImageLoadError, LoadedImage, as_rgb_array, load_image
from .landmarks import Face, Landmarker, default_landmarker
from .measures import (
    EYES_CLOSED_MM,
    MIN_INTERPUPIL_PX,
    Measurement,
    measure_points,
    pose_problem,
)

#: Landmark methods: name -> what it does (see docs/measurements.md).
METHODS = {
    "canonical": "MediaPipe landmarks refined on a level, fixed-size view and its mirror, averaged",
    "landmarks": "one raw MediaPipe pass",
}

#: A second face this large (relative inter-pupil distance) makes the photo ambiguous.
SECOND_FACE_RATIO = 0.5


def analyze(
    image: str | os.PathLike | np.ndarray,
    *,
    model: str | os.PathLike | None = None,
    landmarker: Landmarker | None = None,
    interpupil_mm: float | None = None,
    reduce: bool = True,
    method: str = "canonical",
) -> Measurement:
    """Measure facial asymmetry in one photo.

    Args:
        image: a file path, or an RGB uint8 array (HxWx3).
        model: a .task model path; default: $SYMMETRY_MODEL or the bundled model.
        landmarker: an IMAGE-mode `Landmarker` to use; default: one per process,
            created on first use and reused by later calls.
        interpupil_mm: the person's calibrated inter-pupil distance (from a
            resting, eyes-open photo); sets the mm scale instead of the iris.
        reduce: decode large photos at reduced size (see `imageio.decode_scale_for`).
        method: "canonical" (default): landmarks refined on a level, fixed-size,
            mirror-averaged view of the face (see `Landmarker.detect_canonical`);
            "landmarks": one raw MediaPipe pass, for comparison.

    Returns:
        A `Measurement`; `status` is "ok" or says why the photo was not measured
        ("unreadable", "too_small", "no_face", "multiple_faces", "pose_out_of_range").
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    path = "" if isinstance(image, np.ndarray) else str(image)
    lm = landmarker or default_landmarker(model)
    base = Measurement(path=path, model=lm.model_path.name, version=__version__, method=method)
    try:
        loaded = _load(image, reduce)
    except ImageLoadError as exc:
        return replace(base, status=exc.status, message=str(exc))
    base = replace(base, width=loaded.width, height=loaded.height, decode_scale=loaded.decode_scale)
    detect = lm.detect_canonical if method == "canonical" else lm.detect
    faces = detect(loaded.rgb, scale=loaded.decode_scale, original_size=(loaded.width, loaded.height))
    return measure_face(faces, base, interpupil_mm)


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
