"""MediaPipe Tasks FaceLandmarker with the bundled model -> `Face`.

The model ships inside the package; nothing is downloaded. A landmarker is not
thread-safe: use one per process (see `default_landmarker`).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import threading
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from symmetry.face.frame import level_axis
from symmetry.face.mediapipe_result import PassOutput, run_pass

#: SHA-256 of the bundled face_landmarker.task (float16, version 1).
BUNDLED_MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"


#: MIRROR[i] is the landmark that sits where i would after a left-right mirror of the face
#: (the table and how it was made: mirror.txt beside this file).
MIRROR = np.array([int(v) for line in resources.files("symmetry.face").joinpath("mirror.txt").read_text().splitlines()
                   if not line.startswith("#") for v in line.split()])

#: Canonical crop used by `Landmarker.detect_canonical`: side in px, inter-pupil distance
#: as a fraction of the side, and the height of the pupil line (fraction of the side).
CANONICAL_SIZE = 320
CANONICAL_IPD = 0.26
CANONICAL_EYE_LINE = 0.40
#: In-plane angles (degrees) of the canonical views; each is also detected mirrored.
CANONICAL_ANGLES = (-4.0, 4.0)


#: Below this scale a crop is area averaged before it is warped (see `area_shrunk`).
AREA_SHRINK_BELOW = 0.7


def area_shrunk(rgb: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """`rgb` ready to be warped at scale `k`, and the 3x3 map from its pixels to the result's.

    Below `AREA_SHRINK_BELOW` the photo is first shrunk with area averaging (a bilinear warp
    alone would alias the fine detail). The size is given, not fx=k: with a rounded size,
    INTER_AREA's boxes would not tile the photo, shifting the crop by up to ~0.2 px and
    breaking its mirror symmetry.
    """
    if k >= AREA_SHRINK_BELOW:
        return rgb, np.eye(3)
    import cv2

    source = cv2.resize(rgb, (max(1, round(rgb.shape[1] * k)), max(1, round(rgb.shape[0] * k))),
                        interpolation=cv2.INTER_AREA)
    fx, fy = source.shape[1] / rgb.shape[1], source.shape[0] / rgb.shape[0]
    return source, np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]])


class ModelError(ValueError):
    """The landmark model file exists but cannot be loaded (damaged, or not a face landmarker)."""


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
        turned_deg: how far the photo had to be turned (counter-clockwise) for the face to be
            found upright (0, 90, 180 or 270); the points are still in the photo's own pixels.
    """

    points: np.ndarray
    depth: np.ndarray
    blendshapes: dict[str, float] = field(default_factory=dict)
    yaw_deg: float = float("nan")
    pitch_deg: float = float("nan")
    roll_deg: float = float("nan")
    image_size: tuple[int, int] = (0, 0)
    turned_deg: int = 0

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


# fd 2 is process-wide: two threads silencing it at once could leave it silenced for good.
_stderr_lock = threading.Lock()


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence MediaPipe's C++ start-up log lines, which go straight to fd 2."""
    if os.environ.get("SYMMETRY_DEBUG"):
        yield
        return
    with _stderr_lock:
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
        # MediaPipe sets up an OpenGL context even for CPU inference. On a desktop that
        # context opens its own connection to the X server, beside the capture window's
        # (a hang on some machines); a surfaceless EGL display keeps it off the screen.
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
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
            try:
                self._task = vision.FaceLandmarker.create_from_options(options)
            except RuntimeError as exc:  # a damaged or foreign file: MediaPipe cannot unpack it
                raise ModelError(f"the model file {self.model_path} cannot be used ({exc}). Use the bundled model "
                                 "(leave out --model and $SYMMETRY_MODEL) or copy a face_landmarker.task "
                                 "again.") from None
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
        return self._faces(self._pass(rgb), rgb, scale, original_size)

    def detect_for_video(self, rgb: np.ndarray, timestamp_ms: int, scale: float = 1.0) -> list[Face]:
        """Faces in one video frame (VIDEO mode); timestamps must increase."""
        if self.mode != "video":
            raise RuntimeError("this Landmarker is in image mode; use detect")
        timestamp_ms = max(int(timestamp_ms), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp_ms
        return self._faces(self._pass(rgb, timestamp_ms), rgb, scale, None)

    def detect_canonical(
        self, rgb: np.ndarray, scale: float = 1.0, original_size: tuple[int, int] | None = None
    ) -> list[Face]:
        """Faces whose landmarks are averaged over mirrored and canonical views.

        1. The photo and its mirror image are detected; the two results (mirrored
           indices swapped back) are averaged. This places the face the same way in
           a photo and in its mirror image.
        2. The face is resampled into canonical crops (pupil line at -4 and +4 degrees,
           fixed inter-pupil distance, placement rounded symmetrically), and each crop
           and its mirror are detected again.
        3. The landmarks are the mean of all six results, mapped back to the photo.

        The result depends much less than one raw pass on in-plane rotation, image
        scale and re-encoding, and a mirrored photo gives mirrored landmarks. Pose
        and blendshapes come from the first, unmirrored detection. Costs six passes.
        """
        faces = self.detect(rgb, scale, original_size)
        if not faces:
            return faces
        located = faces[0].points / scale
        mirror_faces = self._faces(self._pass(np.ascontiguousarray(rgb[:, ::-1])), rgb, 1.0, None)
        if mirror_faces:
            width = rgb.shape[1]
            unmirrored = [np.column_stack([width - f.points[:, 0], f.points[:, 1]])[MIRROR] for f in mirror_faces]
            twin = min(unmirrored, key=lambda p: float(np.abs(p[468] - located[468]).sum()))
            located = (located + twin) / 2.0
        views = self._canonical_views(rgb, located)
        if views is not None:
            views += [located, located]  # the two full-image passes count once each
            faces[0] = replace(faces[0], points=np.mean(views, axis=0) * scale)
        return faces

    def _canonical_views(self, rgb: np.ndarray, points: np.ndarray) -> list[np.ndarray] | None:
        import cv2

        # MediaPipe pixel coordinates put pixel centres at i + 0.5; OpenCV's at i.
        right, left = points[468] - 0.5, points[473] - 0.5
        span = left - right
        ipd = float(np.hypot(*span))
        if ipd <= 0:
            return None
        level = level_axis(points)  # the level pairs give the roll more precisely than the pupils alone
        # The crop's placement is rounded symmetrically about the image centre, so that
        # a mirrored photo gets exactly the mirrored crops, and so mirrored results.
        k = float(np.exp(np.round(np.log(CANONICAL_IPD * CANONICAL_SIZE / ipd) / 0.03) * 0.03))
        roll = np.radians(np.round(np.degrees(np.arctan2(level[1], abs(level[0])))))
        if level[0] < 0:  # upside-down face: keep its own orientation
            roll = np.pi - roll
        grid = max(1.0, round(0.02 * ipd))
        middle = (np.array(rgb.shape[1::-1], dtype=float) - 1) / 2
        centre = middle + np.round(((right + left) / 2 - middle) / grid) * grid
        # Pixel (S - 1) / 2 is the crop's mirror axis in OpenCV coordinates.
        target = np.array([(CANONICAL_SIZE - 1) / 2, CANONICAL_EYE_LINE * CANONICAL_SIZE])
        source, to_source = area_shrunk(rgb, k)
        views = []
        for angle in CANONICAL_ANGLES:
            t = roll - np.radians(angle)
            a = k * np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
            affine = np.hstack([a, (target - a @ centre)[:, None]])
            from_source = np.vstack([affine, [0, 0, 1]]) @ np.linalg.inv(to_source)
            crop = cv2.warpAffine(
                source, from_source[:2], (CANONICAL_SIZE, CANONICAL_SIZE), flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            inverse = cv2.invertAffineTransform(affine)
            for mirrored in (False, True):
                view = np.ascontiguousarray(crop[:, ::-1] if mirrored else crop)
                found = self._faces(self._pass(view), view, 1.0, None)
                if not found:
                    return None
                p = found[0].points - 0.5
                if mirrored:
                    p = np.column_stack([CANONICAL_SIZE - 1 - p[:, 0], p[:, 1]])[MIRROR]
                views.append(p @ inverse[:, :2].T + inverse[:, 2] + 0.5)
        return views

    def _pass(self, rgb: np.ndarray, timestamp_ms: int | None = None) -> list[PassOutput]:
        """One landmark pass (IMAGE mode, or VIDEO mode with `timestamp_ms`), faces unsorted."""
        return run_pass(self._task, self._mp_image(rgb), timestamp_ms)

    @staticmethod
    def _mp_image(rgb: np.ndarray):
        import mediapipe as mp

        return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))

    @staticmethod
    def _faces(outputs: list[PassOutput], rgb: np.ndarray, scale: float, original_size) -> list[Face]:
        h, w = rgb.shape[:2]
        size = original_size or (round(w * scale), round(h * scale))
        faces = []
        for out in outputs:
            points = out.xyz[:, :2] * np.array([w, h]) * scale
            yaw = pitch = roll = float("nan")
            if out.matrix is not None:
                yaw, pitch, roll = pose_from_matrix(out.matrix)
            faces.append(Face(points, out.xyz[:, 2].copy(), out.blendshapes, yaw, pitch, roll,
                              (int(size[0]), int(size[1]))))
        faces.sort(key=lambda f: -f.interpupil_px)
        return faces


_default: dict[tuple[str, str], Landmarker] = {}


def default_landmarker(model: str | os.PathLike | None = None) -> Landmarker:
    """The process-wide IMAGE-mode landmarker for `model`, created on first use."""
    # Keyed by what the caller asked for, so that a loop over photos skips the file-system check.
    asked = (str(model or ""), os.environ.get("SYMMETRY_MODEL", ""))
    if asked not in _default:
        key = str(resolve_model_path(model))
        found = next((lm for lm in _default.values() if str(lm.model_path) == key), None)
        if found is None:
            found = Landmarker(key)
            close_at_exit(found)
        _default[asked] = found
    return _default[asked]


def close_at_exit(landmarker: Landmarker) -> None:
    """Close `landmarker` when the interpreter exits, before MediaPipe's threads stop."""
    # MediaPipe runs its C calls on its own thread pool, which Python stops before
    # `atexit` handlers run; closing later fails noisily. threading's exit hooks run
    # first, newest first, so a hook registered now runs before that pool stops.
    register = getattr(threading, "_register_atexit", atexit.register)

    def close() -> None:
        try:
            landmarker.close()
        except Exception:  # at exit there is no one left to tell
            pass

    register(close)
