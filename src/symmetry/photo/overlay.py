"""Annotated overlay: the face frame and every measured distance, labelled in mm.

Arrays in, arrays out: `draw` takes the photo's RGB pixels and its `Measurement` and
returns a new RGB picture; reading and writing files is `overlay_files`' job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symmetry.face.frame import FaceFrame
from symmetry.face.measures import (BROW_LEFT, BROW_RIGHT, EYE_LID_PAIRS_LEFT, EYE_LID_PAIRS_RIGHT,
                                    MOUTH_CORNER_LEFT, MOUTH_CORNER_RIGHT, Measurement)
from symmetry.photo.imageio import as_rgb_array
from symmetry.vocabulary import FRAME_COLOUR, LEFT_COLOUR, RIGHT_COLOUR, rgb

TEXT_COLOUR = (255, 255, 255)  # white on the banner's dark band
#: Overlays are drawn at least this large (long side, px) so labels stay legible.
MIN_CANVAS_LONG_SIDE = 1200
#: The face-frame window a cropped overlay shows, mm: (x, y) corners around the pupils' midpoint.
CROP_MM = np.array([[-100, -75], [100, -75], [-100, 125], [100, 125]])


@dataclass(frozen=True)
class _Side:
    """One side of the face as the overlay draws it."""

    name: str  # "R" or "L"
    colour: tuple[int, int, int]
    mouth_corner: int
    brow: tuple[int, ...]
    lids: tuple[tuple[int, int], ...]

    @property
    def outward(self) -> int:
        """-1 on the patient's right, +1 on the left: labels go outside the face on each side."""
        return -1 if self.name == "R" else 1


_SIDES = (
    _Side("R", rgb(RIGHT_COLOUR), MOUTH_CORNER_RIGHT, BROW_RIGHT, EYE_LID_PAIRS_RIGHT),
    _Side("L", rgb(LEFT_COLOUR), MOUTH_CORNER_LEFT, BROW_LEFT, EYE_LID_PAIRS_LEFT),
)


@dataclass(frozen=True)
class _Canvas:
    """The picture being drawn on and how face-frame mm map to its pixels."""

    pixels: np.ndarray
    frame: FaceFrame | None
    offset: np.ndarray  # where the crop starts in the photo, px
    scale: float  # canvas px per photo px

    @property
    def unit(self) -> float:
        """Drawing unit: line widths and fonts scale with the canvas."""
        return max(self.pixels.shape[:2]) / 1200.0

    def px(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        return tuple(np.round((self.frame.to_px(np.array([[x_mm, y_mm]]))[0] - self.offset) * self.scale).astype(int))


def draw(image: np.ndarray, measurement: Measurement, crop: bool = True) -> np.ndarray:
    """Return an RGB uint8 overlay of `measurement` on `image` (an RGB array).

    Shows the pupil line, the midline, eye openings, brow heights and mouth-corner
    heights with their mm values, and which side is the patient's right and left.
    With `crop` the picture is cut to the face; it is upscaled (long side >= 1200 px)
    so that the labels stay legible. To draw on a photo file, use `symmetry.draw`.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"draw takes an RGB array, not {type(image).__name__}; for a photo file use symmetry.draw")
    m = measurement
    canvas = _canvas(as_rgb_array(image), m.frame, crop)
    u = canvas.unit
    if m.face is None or m.frame is None:
        _banner(canvas.pixels, [f"{m.status}: {m.message}"], u)
        return canvas.pixels
    _draw_frame(canvas)
    for side in _SIDES:
        _draw_side(canvas, side, m)
    _banner(
        canvas.pixels,
        [
            f"symmetry index {m.symmetry_index:.0f}/100   status {m.status}",
            f"mouth droop {m.mouth_droop_mm:+.1f} mm   brow asym {m.brow_asymmetry_mm:+.1f} mm   "
            f"eye ratio {m.eye_opening_ratio:.2f}",
            "(+ = patient's right side lower)",
        ],
        u,
    )
    return canvas.pixels


def _canvas(rgb_image: np.ndarray, frame: FaceFrame | None, crop: bool) -> _Canvas:
    """Crop to the face (when asked and found) and upscale to `MIN_CANVAS_LONG_SIDE`."""
    import cv2

    offset = np.zeros(2)
    if crop and frame is not None:
        corners = frame.to_px(CROP_MM)
        x0, y0 = np.clip(np.floor(corners.min(axis=0)), 0, None).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        rgb_image = rgb_image[y0:y1, x0:x1]
        offset = np.array([x0, y0], dtype=float)
    k = max(1.0, MIN_CANVAS_LONG_SIDE / max(rgb_image.shape[:2]))
    pixels = cv2.resize(rgb_image, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC) if k > 1 else rgb_image.copy()
    return _Canvas(np.ascontiguousarray(pixels), frame, offset, k)


def _draw_frame(c: _Canvas) -> None:
    """The face frame: the pupil line and the perpendicular midline through its centre."""
    import cv2

    thick = max(1, round(2 * c.unit))
    cv2.line(c.pixels, c.px(-75, 0), c.px(75, 0), rgb(FRAME_COLOUR), thick, cv2.LINE_AA)
    cv2.line(c.pixels, c.px(0, -55), c.px(0, 95), rgb(FRAME_COLOUR), thick, cv2.LINE_AA)


def _draw_side(c: _Canvas, side: _Side, m: Measurement) -> None:
    """Mouth corner, brow and eye opening of one side, each with its mm label."""
    import cv2

    right = side.name == "R"
    mouth_mm, brow_mm, eye_mm = ((m.mouth_corner_height_right_mm, m.brow_height_right_mm, m.eye_opening_right_mm)
                                 if right else
                                 (m.mouth_corner_height_left_mm, m.brow_height_left_mm, m.eye_opening_left_mm))
    canvas, u, colour, out = c.pixels, c.unit, side.colour, side.outward
    pts = (m.face.points - c.offset) * c.scale
    mm = c.frame.to_mm(m.face.points)
    thick = max(1, round(2 * u))

    def dot(i: int, radius: float) -> None:
        cv2.circle(canvas, tuple(np.round(pts[i]).astype(int)), max(2, round(radius * u)), colour, -1, cv2.LINE_AA)

    # Mouth corner: its drop below the pupil line.
    cx = mm[side.mouth_corner, 0]
    cv2.line(canvas, c.px(cx, 0), c.px(cx, mm[side.mouth_corner, 1]), colour, thick, cv2.LINE_AA)
    dot(side.mouth_corner, 5)
    _label(canvas, f"{mouth_mm:.1f} mm", c.px(cx + out * 3, mm[side.mouth_corner, 1] * 0.6), colour, u, right_align=right)
    # Brow: its points and mean height above the pupil line.
    for i in side.brow:
        dot(i, 3)
    bx = float(np.mean(mm[list(side.brow), 0]))
    cv2.line(canvas, c.px(bx, 0), c.px(bx, -brow_mm), colour, thick, cv2.LINE_AA)
    _label(canvas, f"{brow_mm:.1f} mm", c.px(bx, -brow_mm - 9), colour, u, right_align=right)
    # Eye opening: the three lid pairs at the pupil.
    for up, lo in side.lids:
        cv2.line(canvas, tuple(np.round(pts[up]).astype(int)), tuple(np.round(pts[lo]).astype(int)), colour,
                 max(1, round(u)), cv2.LINE_AA)
    ex = float(np.max(np.abs(mm[[lo for _, lo in side.lids] + [up for up, _ in side.lids], 0]))) * out
    _label(canvas, f"eye {eye_mm:.1f} mm", c.px(ex + out * 12, 10), colour, u, right_align=right)
    name = "patient's RIGHT" if right else "patient's LEFT"
    _label(canvas, name, c.px(out * 8, 108), colour, u, right_align=right, scale=1.2)


def _label(canvas, text, org, colour, u, right_align=False, scale=1.0):
    import cv2

    font, fs = cv2.FONT_HERSHEY_SIMPLEX, 0.7 * u * scale
    t = max(1, round(2 * u * scale))
    (w, h), _ = cv2.getTextSize(text, font, fs, t)
    x, y = org
    if right_align:
        x -= w
    x = int(np.clip(x, 2, canvas.shape[1] - w - 2))
    y = int(np.clip(y + h // 2, h + 2, canvas.shape[0] - 4))
    cv2.putText(canvas, text, (x, y), font, fs, (0, 0, 0), t + max(2, round(3 * u)), cv2.LINE_AA)
    cv2.putText(canvas, text, (x, y), font, fs, colour, t, cv2.LINE_AA)


def _banner(canvas, lines, u):
    import cv2

    font, fs, t = cv2.FONT_HERSHEY_SIMPLEX, 0.75 * u, max(1, round(2 * u))
    line_h = int(34 * u)
    h = line_h * len(lines) + int(14 * u)
    overlay = canvas.copy()
    cv2.rectangle(overlay, (0, 0), (canvas.shape[1], h), (0, 0, 0), -1)
    canvas[:h] = (0.35 * canvas[:h] + 0.65 * overlay[:h]).astype(np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(canvas, text[:110], (int(10 * u), int((i + 1) * line_h)), font, fs, TEXT_COLOUR, t, cv2.LINE_AA)
