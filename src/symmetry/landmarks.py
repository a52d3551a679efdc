"""MediaPipe Tasks FaceLandmarker with the bundled model -> `Face`.

The model ships inside the package; nothing is downloaded. A landmarker is not
thread-safe: use one per process (see `default_landmarker`).
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

N_LANDMARKS = 478
#: SHA-256 of the bundled face_landmarker.task (float16, version 1).
BUNDLED_MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"


def bundled_model_path() -> Path:
    return Path(str(resources.files("symmetry") / "models" / "face_landmarker.task"))


def resolve_model_path(model: str | os.PathLike | None = None) -> Path:
    """The model to use: `model` if given, else $SYMMETRY_MODEL, else the bundled file."""
    chosen = model or os.environ.get("SYMMETRY_MODEL") or bundled_model_path()
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"face landmarker model not found at {path}. Pass an existing .task file "
            "(model=..., --model or SYMMETRY_MODEL), or unset them to use the bundled model."
        )
    return path


def model_name(model: str | os.PathLike | None = None) -> str:
    """The model's file name, as written in the output's `model` column."""
    return resolve_model_path(model).name


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes:
        points: (478, 2) landmark positions in original-image pixels (x right, y down).
        depth: (478,) MediaPipe's relative depth, in units of image width (smaller = nearer).
        blendshapes: 52 expression coefficients, 0..1, keyed by MediaPipe's names.
        yaw_deg, pitch_deg, roll_deg: head pose from the facial transformation matrix.
        image_size: (width, height) of the original image in pixels.
    """

    points: np.ndarray
    depth: np.ndarray
    blendshapes: dict[str, float] = field(default_factory=dict)
    yaw_deg: float = float("nan")
    pitch_deg: float = float("nan")
    roll_deg: float = float("nan")
    image_size: tuple[int, int] = (0, 0)

    @property
    def interpupil_px(self) -> float:
        return float(np.linalg.norm(self.points[473] - self.points[468]))


def pose_from_matrix(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from MediaPipe's 4x4 facial transformation matrix.

    Decomposes R = Rz(roll) Ry(yaw) Rx(pitch) in MediaPipe's canonical face space
    (x towards the image's right, y up, z towards the camera). Signs, for an
    unmirrored photo: yaw > 0 when the nose turns towards the image's right
    (the patient's left); pitch > 0 when the chin lifts; roll > 0 when the head
    tilts towards the image's right shoulder... see docs/measurements.md.
    """
    r = np.asarray(matrix, dtype=float)[:3, :3]
    # Remove the uniform scale the matrix may carry.
    r = r / np.cbrt(max(np.linalg.det(r), 1e-12))
    yaw = math.degrees(math.asin(float(np.clip(-r[2, 0], -1.0, 1.0))))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence MediaPipe's C++ start-up log lines, which go straight to fd 2."""
    if os.environ.get("SYMMETRY_DEBUG"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some notebook kernels)
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class Landmarker:
    """A MediaPipe FaceLandmarker in IMAGE or VIDEO mode.

    Use as a context manager, or call `close()`::

        with Landmarker() as lm:
            faces = lm.detect(rgb)

    Args:
        model: path to a .task model; default: $SYMMETRY_MODEL or the bundled model.
        mode: "image" for photos, "video" for frames with increasing timestamps.
        max_faces: how many faces to look for (2 lets us report "several faces").

    Raises:
        FileNotFoundError: the model file does not exist.
    """

    def __init__(self, model: str | os.PathLike | None = None, mode: str = "image", max_faces: int = 2):
        if mode not in ("image", "video"):
            raise ValueError(f"mode must be 'image' or 'video', not {mode!r}")
        self.model_path = resolve_model_path(model)
        self.mode = mode
        with _quiet_native_stderr():
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(self.model_path)),
                running_mode=vision.RunningMode.IMAGE if mode == "image" else vision.RunningMode.VIDEO,
                num_faces=max_faces,
                min_face_detection_confidence=0.5,
                min_face_presence_confidence=0.5,
                output_face_blendshapes=True,
                output_facial_transformation_matrixes=True,
            )
            self._task = vision.FaceLandmarker.create_from_options(options)
        self._last_timestamp_ms = -1

    def __enter__(self) -> "Landmarker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._task is not None:
            self._task.close()
            self._task = None

    def detect(self, rgb: np.ndarray, scale: float = 1.0, original_size: tuple[int, int] | None = None) -> list[Face]:
        """Faces in an RGB uint8 image (IMAGE mode), largest first.

        `scale` multiplies the returned coordinates (for reduced decoding), and
        `original_size` is the (width, height) reported in each Face.
        """
        if self.mode != "image":
            raise RuntimeError("this Landmarker is in video mode; use detect_for_video")
        result = self._task.detect(self._mp_image(rgb))
        return self._faces(result, rgb, scale, original_size)

    def detect_for_video(self, rgb: np.ndarray, timestamp_ms: int, scale: float = 1.0) -> list[Face]:
        """Faces in one video frame (VIDEO mode); timestamps must increase."""
        if self.mode != "video":
            raise RuntimeError("this Landmarker is in image mode; use detect")
        timestamp_ms = max(int(timestamp_ms), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp_ms
        result = self._task.detect_for_video(self._mp_image(rgb), timestamp_ms)
        return self._faces(result, rgb, scale, None)

    @staticmethod
    def _mp_image(rgb: np.ndarray):
        import mediapipe as mp

        return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))

    @staticmethod
    def _faces(result, rgb: np.ndarray, scale: float, original_size) -> list[Face]:
        h, w = rgb.shape[:2]
        size = original_size or (round(w * scale), round(h * scale))
        faces = []
        for i, marks in enumerate(result.face_landmarks):
            xyz = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float64)
            points = xyz[:, :2] * np.array([w, h]) * scale
            blend = {}
            if result.face_blendshapes:
                blend = {c.category_name: float(c.score) for c in result.face_blendshapes[i]}
            yaw = pitch = roll = float("nan")
            if result.facial_transformation_matrixes:
                yaw, pitch, roll = pose_from_matrix(np.asarray(result.facial_transformation_matrixes[i]))
            faces.append(Face(points, xyz[:, 2], blend, yaw, pitch, roll, (int(size[0]), int(size[1]))))
        faces.sort(key=lambda f: -f.interpupil_px)
        return faces


_default: dict[str, Landmarker] = {}


def default_landmarker(model: str | os.PathLike | None = None) -> Landmarker:
    """The process-wide IMAGE-mode landmarker for `model`, created on first use."""
    key = str(resolve_model_path(model))
    if key not in _default:
        _default[key] = Landmarker(key)
    return _default[key]
