"""One MediaPipe FaceLandmarker pass, its C result read with numpy.

MediaPipe's Python API turns each result into 478 Python objects per face; reading the C
structures directly gives the same numbers with ~0.5 ms less Python per pass, which in the
live loop would otherwise hold the GIL against the measuring thread. The C API is that of
mediapipe 0.10.30-0.10.33; tests/face/test_model.py checks every number against the public API.
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PassOutput:
    """One face of one pass, as MediaPipe gives it.

    Attributes:
        xyz: (478, 3) x and y as fractions of the image's width and height, z in widths.
        blendshapes: 52 expression coefficients, 0..1, by MediaPipe's names.
        matrix: the 4x4 facial transformation matrix, or None.
    """

    xyz: np.ndarray
    blendshapes: dict[str, float]
    matrix: np.ndarray | None


def run_pass(task, image, timestamp_ms: int | None = None) -> list[PassOutput]:
    """Run a FaceLandmarker `task` on an `mp.Image`: IMAGE mode, or VIDEO mode with a timestamp."""
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarkerResultC

    landmark_dtype, category_dtype = _dtypes()
    result = FaceLandmarkerResultC()
    if timestamp_ms is None:
        task._lib.MpFaceLandmarkerDetectImage(task._handle, image._image_ptr, None, ctypes.byref(result))
    else:
        task._lib.MpFaceLandmarkerDetectForVideo(task._handle, image._image_ptr, None, timestamp_ms,
                                                 ctypes.byref(result))
    try:
        outputs = []
        for i in range(result.face_landmarks_count):
            marks = result.face_landmarks[i]
            xyz = _c_array(marks.landmarks, marks.landmarks_count, landmark_dtype)
            blendshapes = {}
            if i < result.face_blendshapes_count:
                cats = result.face_blendshapes[i]
                names = [cats.categories[j].category_name.decode() for j in range(cats.categories_count)]
                scores = _c_array(cats.categories, cats.categories_count, category_dtype)["score"]
                blendshapes = dict(zip(names, scores.tolist()))
            matrix = None
            if i < result.facial_transformation_matrixes_count:
                matrix = result.facial_transformation_matrixes[i].to_numpy()
            outputs.append(PassOutput(np.column_stack([xyz["x"], xyz["y"], xyz["z"]]).astype(np.float64),
                                      blendshapes, matrix))
        return outputs
    finally:
        task._lib.MpFaceLandmarkerCloseResult(ctypes.byref(result))


def _c_array(pointer, count: int, dtype: np.dtype) -> np.ndarray:
    """A copy of `count` structures at a ctypes pointer."""
    if count == 0:
        return np.zeros(0, dtype)
    return np.frombuffer(ctypes.string_at(pointer, count * dtype.itemsize), dtype)


def _struct_dtype(struct, names: tuple[str, ...]) -> np.dtype:
    """A numpy view of some float fields of a ctypes structure (its layout, padding included)."""
    return np.dtype({"names": list(names), "formats": ["<f4"] * len(names),
                     "offsets": [getattr(struct, n).offset for n in names], "itemsize": ctypes.sizeof(struct)})


@functools.cache
def _dtypes() -> tuple[np.dtype, np.dtype]:
    from mediapipe.tasks.python.components.containers.category_c import CategoryC
    from mediapipe.tasks.python.components.containers.landmark_c import NormalizedLandmarkC

    return _struct_dtype(NormalizedLandmarkC, ("x", "y", "z")), _struct_dtype(CategoryC, ("score",))
