"""The face frame: pupil line level, midline at the origin, millimetres from the iris.

Pure numpy. Coordinates in the frame are millimetres with
x along the pupil line towards the patient's LEFT and y perpendicular to it,
pointing DOWN the face. The origin is the midpoint of the two iris centres, so
in-plane head roll is removed by construction and a mirrored photo gives the
same frame with the sides swapped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: Horizontal visible iris diameter of adults, mm (Emotrics uses 11.77; the
#: between-person spread is about +-0.5 mm).
IRIS_DIAMETER_MM = 11.7

IRIS_CENTER_RIGHT, IRIS_CENTER_LEFT = 468, 473
# Horizontal ends of each iris ring (469/471 patient's right eye, 474/476 left eye).
IRIS_HORIZONTAL_RIGHT = (469, 471)
IRIS_HORIZONTAL_LEFT = (474, 476)
CHIN = 152
#: Left-right pairs (patient's right, patient's left) that palsy does not move and that lie
#: at about the same depth: the iris centres, the inner and outer eye corners, and the
#: sides of the face beside the eyes. Their mean direction levels the frame.
LEVEL_PAIRS = ((468, 473), (133, 362), (33, 263), (127, 356))


@dataclass(frozen=True)
class FaceFrame:
    """A similarity transform from image pixels to face-frame millimetres."""

    origin: np.ndarray  # (2,) px, midpoint of the iris centres
    x_axis: np.ndarray  # (2,) unit vector towards the patient's left, along the level pairs
    y_axis: np.ndarray  # (2,) unit vector in the image down the face
    mm_per_px: float
    iris_diameter_px: float
    interpupil_px: float
    scale_source: str  # "iris" or "calibration"

    @property
    def interpupil_mm(self) -> float:
        return self.interpupil_px * self.mm_per_px

    def to_mm(self, points_px: np.ndarray) -> np.ndarray:
        """(N, 2) image pixels -> (N, 2) face-frame millimetres."""
        d = np.asarray(points_px, dtype=float) - self.origin
        return np.stack([d @ self.x_axis, d @ self.y_axis], axis=-1) * self.mm_per_px

    def to_px(self, points_mm: np.ndarray) -> np.ndarray:
        """(N, 2) face-frame millimetres -> (N, 2) image pixels."""
        p = np.asarray(points_mm, dtype=float) / self.mm_per_px
        return self.origin + p[..., :1] * self.x_axis + p[..., 1:2] * self.y_axis

    def upright(self, interpupil_px: float, origin) -> "FaceFrame":
        """The same face frame drawn in an upright image (x right, y down), `interpupil_px` between
        the pupils and their midpoint at `origin`: the work images of image evidence
        (`photo/evidence/tracking.py`). Same millimetres, other pixels."""
        mm_per_px = self.interpupil_mm / interpupil_px
        return FaceFrame(np.asarray(origin, dtype=float), np.array([1.0, 0.0]), np.array([0.0, 1.0]), mm_per_px,
                         self.iris_diameter_px * self.mm_per_px / mm_per_px, float(interpupil_px), self.scale_source)

    def turned(self, radians: float) -> "FaceFrame":
        """The same frame with its axes turned by `radians` (from x towards y, i.e. the patient's
        left side down for a positive angle)."""
        c, s = np.cos(radians), np.sin(radians)
        return replace(self, x_axis=c * self.x_axis + s * self.y_axis, y_axis=-s * self.x_axis + c * self.y_axis)


def iris_diameter_px(points: np.ndarray) -> float:
    """Mean horizontal iris diameter of both eyes, px."""
    right = np.linalg.norm(points[IRIS_HORIZONTAL_RIGHT[0]] - points[IRIS_HORIZONTAL_RIGHT[1]])
    left = np.linalg.norm(points[IRIS_HORIZONTAL_LEFT[0]] - points[IRIS_HORIZONTAL_LEFT[1]])
    return float((right + left) / 2.0)


def level_axis(points: np.ndarray) -> np.ndarray:
    """Unit vector towards the patient's left: the mean direction of `LEVEL_PAIRS`.

    The pupil line alone is short (about 62 mm), so a little landmark noise tilts it;
    adding the eye corners and the sides of the face (about 130 mm apart) steadies it.
    Each pair lies at one depth, so a turned head does not tilt the line. A facial
    midline through the forehead and the nose tip would: the nose stands out, and
    a 12 degree turn tilted that midline enough to fake 8 mm of brow asymmetry.
    """
    points = np.asarray(points, dtype=float)
    v = sum(points[left] - points[right] for right, left in LEVEL_PAIRS)
    return v / np.linalg.norm(v)


def face_frame(points: np.ndarray, interpupil_mm: float | None = None) -> FaceFrame:
    """Build the face frame from 478 landmarks in pixels.

    Args:
        points: (478, 2) landmark pixels.
        interpupil_mm: the person's calibrated inter-pupil distance. When given it
            sets the scale (use it for photos with closed or squinting eyes, where
            the iris is unreliable); otherwise the scale comes from the iris
            diameter of this photo (`IRIS_DIAMETER_MM`).
    """
    points = np.asarray(points, dtype=float)
    right, left = points[IRIS_CENTER_RIGHT], points[IRIS_CENTER_LEFT]
    origin = (right + left) / 2.0
    span = left - right
    interpupil_px = float(np.linalg.norm(span))
    if interpupil_px <= 0:
        raise ValueError("the two iris centres coincide; these are not face landmarks")
    x_axis = level_axis(points)
    y_axis = np.array([-x_axis[1], x_axis[0]])
    if (points[CHIN] - origin) @ y_axis < 0:  # mirrored photo: keep y pointing down the face
        y_axis = -y_axis
    iris_px = iris_diameter_px(points)
    if interpupil_mm is not None:
        mm_per_px, source = float(interpupil_mm) / interpupil_px, "calibration"
    else:
        mm_per_px, source = IRIS_DIAMETER_MM / iris_px, "iris"
    return FaceFrame(origin, x_axis, y_axis, mm_per_px, iris_px, interpupil_px, source)
