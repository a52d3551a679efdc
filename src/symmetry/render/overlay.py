"""Annotated overlay: the face frame and every measured distance, labelled in mm."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from symmetry.photo.imageio import as_rgb_array, load_image
from symmetry.face.measures import (
    BROW_LEFT,
    BROW_RIGHT,
    EYE_LID_PAIRS_LEFT,
    EYE_LID_PAIRS_RIGHT,
    MOUTH_CORNER_LEFT,
    MOUTH_CORNER_RIGHT,
    Measurement,
)

# Okabe-Ito colour-blind-safe palette (RGB).
RIGHT_COLOUR = (230, 159, 0)  # orange: patient's right
LEFT_COLOUR = (86, 180, 233)  # sky blue: patient's left
FRAME_COLOUR = (240, 228, 66)  # yellow: pupil line and midline
TEXT_COLOUR = (255, 255, 255)
#: Overlays are drawn at least this large (long side, px) so labels stay legible.
MIN_CANVAS_LONG_SIDE = 1200


def draw(image: str | os.PathLike | np.ndarray, measurement: Measurement, crop: bool = True) -> np.ndarray:
    """Return an RGB uint8 overlay of `measurement` on `image`.

    Shows the pupil line, the midline, eye openings, brow heights and mouth-corner
    heights with their mm values, and which side is the patient's right and left.
    With `crop` the picture is cut to the face; it is upscaled (long side >= 1200 px)
    so that the labels stay legible.
    """
    import cv2

    if isinstance(image, np.ndarray):
        rgb = as_rgb_array(image)
    else:
        rgb = load_image(image, reduce=False).rgb
    frame = measurement.frame
    offset = np.zeros(2)
    if crop and frame is not None:
        corners = frame.to_px(np.array([[-100, -75], [100, -75], [-100, 125], [100, 125]]))
        x0, y0 = np.clip(np.floor(corners.min(axis=0)), 0, None).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        rgb = rgb[y0:y1, x0:x1]
        offset = np.array([x0, y0], dtype=float)
    k = max(1.0, MIN_CANVAS_LONG_SIDE / max(rgb.shape[:2]))
    canvas = cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC) if k > 1 else rgb.copy()
    canvas = np.ascontiguousarray(canvas)
    u = max(canvas.shape[:2]) / 1200.0  # drawing unit: line widths and fonts scale with the canvas
    if measurement.face is None or frame is None:
        _banner(canvas, [f"{measurement.status}: {measurement.message}"], u)
        return canvas
    pts = (measurement.face.points - offset) * k
    mm = frame.to_mm(measurement.face.points)

    def px(x_mm: float, y_mm: float) -> tuple[int, int]:
        return tuple(np.round((frame.to_px(np.array([[x_mm, y_mm]]))[0] - offset) * k).astype(int))

    thick = max(1, round(2 * u))
    # Face frame: pupil line and the perpendicular midline through its centre.
    cv2.line(canvas, px(-75, 0), px(75, 0), FRAME_COLOUR, thick, cv2.LINE_AA)
    cv2.line(canvas, px(0, -55), px(0, 95), FRAME_COLOUR, thick, cv2.LINE_AA)
    m = measurement
    for side, colour, corner, brow, lids, mouth_mm, brow_mm, eye_mm in (
        ("R", RIGHT_COLOUR, MOUTH_CORNER_RIGHT, BROW_RIGHT, EYE_LID_PAIRS_RIGHT,
         m.mouth_corner_height_right_mm, m.brow_height_right_mm, m.eye_opening_right_mm),
        ("L", LEFT_COLOUR, MOUTH_CORNER_LEFT, BROW_LEFT, EYE_LID_PAIRS_LEFT,
         m.mouth_corner_height_left_mm, m.brow_height_left_mm, m.eye_opening_left_mm),
    ):
        outward = -1 if side == "R" else 1  # labels go outside the face on each side
        # Mouth corner: its drop below the pupil line.
        cx = mm[corner, 0]
        cv2.line(canvas, px(cx, 0), px(cx, mm[corner, 1]), colour, thick, cv2.LINE_AA)
        cv2.circle(canvas, tuple(np.round(pts[corner]).astype(int)), max(2, round(5 * u)), colour, -1, cv2.LINE_AA)
        _label(canvas, f"{mouth_mm:.1f} mm", px(cx + outward * 3, mm[corner, 1] * 0.6), colour, u, right_align=side == "R")
        # Brow: its points and mean height above the pupil line.
        for i in brow:
            cv2.circle(canvas, tuple(np.round(pts[i]).astype(int)), max(2, round(3 * u)), colour, -1, cv2.LINE_AA)
        bx = float(np.mean(mm[list(brow), 0]))
        cv2.line(canvas, px(bx, 0), px(bx, -brow_mm), colour, thick, cv2.LINE_AA)
        _label(canvas, f"{brow_mm:.1f} mm", px(bx, -brow_mm - 9), colour, u, right_align=side == "R")
        # Eye opening: the three lid pairs at the pupil.
        for up, lo in lids:
            cv2.line(canvas, tuple(np.round(pts[up]).astype(int)), tuple(np.round(pts[lo]).astype(int)), colour, max(1, round(u)), cv2.LINE_AA)
        ex = float(np.max(np.abs(mm[[lo for _, lo in lids] + [up for up, _ in lids], 0]))) * outward
        _label(canvas, f"eye {eye_mm:.1f} mm", px(ex + outward * 12, 10), colour, u, right_align=side == "R")
        name = "patient's RIGHT" if side == "R" else "patient's LEFT"
        _label(canvas, name, px(outward * 8, 108), colour, u, right_align=side == "R", scale=1.2)
    _banner(
        canvas,
        [
            f"symmetry index {m.symmetry_index:.0f}/100   status {m.status}",
            f"mouth droop {m.mouth_droop_mm:+.1f} mm   brow asym {m.brow_asymmetry_mm:+.1f} mm   "
            f"eye ratio {m.eye_opening_ratio:.2f}",
            "(+ = patient's right side lower)",
        ],
        u,
    )
    return canvas


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


#: Overlays are JPEG files named after their photo: ``rest_1.jpg`` -> ``rest_1_overlay.jpg``.
OVERLAY_SUFFIX = "_overlay.jpg"


def overlay_name(photo: str | os.PathLike) -> str:
    """The overlay file name of a photo (the same in `symmetry analyze` and `symmetry score`)."""
    return Path(photo).stem + OVERLAY_SUFFIX


def save_overlay(rgb: np.ndarray, target: str | os.PathLike) -> None:
    """Write an overlay picture as JPEG, atomically (a reader never sees half a file)."""
    from PIL import Image

    tmp = f"{target}.{os.getpid()}.tmp"
    Image.fromarray(rgb).save(tmp, format="JPEG", quality=90)
    os.replace(tmp, target)
