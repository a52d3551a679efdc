"""Day-to-day photographic differences applied to a face photo, for the validation harness.

Each `Nuisance` is built so that a perfect tracker would see no change of any measure:
geometry is a similarity plus a squeeze along the pupil line only, which leaves every
vertical distance in the face frame unchanged; the rest is exposure, gamma, a light from one
side, blur, noise and JPEG re-encoding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symmetry.face.frame import FaceFrame


@dataclass(frozen=True)
class Nuisance:
    """One day's photographic differences. Neutral values change nothing."""

    roll_deg: float = 0.0
    scale: float = 1.0
    shift_px: tuple[float, float] = (0.0, 0.0)
    squeeze: float = 0.0  # + narrows the patient's left half along the pupil line by this fraction
    gain: float = 1.0
    gamma: float = 1.0
    side_light: float = 0.0  # + darkens the patient's right half by this fraction (- the left)
    blur_px: float = 0.0
    noise: float = 0.0  # Gaussian noise SD, grey levels
    jpeg_quality: int = 0  # 0 = no re-encoding


def day_nuisance(rng: np.random.Generator) -> Nuisance:
    """Differences between two sessions' photos taken with the same protocol."""
    return Nuisance(
        roll_deg=rng.uniform(-4, 4),
        scale=math.exp(rng.uniform(-0.1, 0.1)),
        shift_px=tuple(rng.uniform(-12, 12, 2)),
        squeeze=rng.uniform(-0.03, 0.03),
        gain=math.exp(rng.uniform(-0.25, 0.25)),
        gamma=math.exp(rng.uniform(-0.2, 0.2)),
        side_light=rng.choice([-1, 1]) * rng.uniform(0.0, 0.3),
        blur_px=rng.uniform(0.0, 1.0),
        noise=rng.uniform(0.0, 3.0),
        jpeg_quality=int(rng.integers(70, 96)),
    )


def repeat_nuisance(rng: np.random.Generator) -> Nuisance:
    """Small differences between repeated photos of one sitting (repeatability)."""
    return Nuisance(
        roll_deg=rng.uniform(-1.5, 1.5),
        scale=math.exp(rng.uniform(-0.04, 0.04)),
        shift_px=tuple(rng.uniform(-6, 6, 2)),
        gain=math.exp(rng.uniform(-0.15, 0.15)),
        noise=rng.uniform(0.0, 2.0),
        jpeg_quality=int(rng.integers(80, 96)),
    )


def apply_nuisance(rgb: np.ndarray, frame: FaceFrame, n: Nuisance, seed: int = 0) -> np.ndarray:
    """Apply `n` to a face photo whose face frame is `frame` (pixels of `rgb`)."""
    import cv2

    h, w = rgb.shape[:2]
    out = rgb
    if n.roll_deg or n.scale != 1.0 or any(n.shift_px) or n.squeeze:
        # Backward map: output pixel -> inverse similarity -> inverse squeeze -> source pixel.
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        c = frame.origin
        a = math.radians(n.roll_deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        q = np.stack([xs - c[0] - n.shift_px[0], ys - c[1] - n.shift_px[1]], -1) @ rot / n.scale
        u, v = q @ frame.x_axis, q @ frame.y_axis
        if n.squeeze:
            side = u > 0 if n.squeeze > 0 else u < 0
            u = np.where(side, u / (1.0 - abs(n.squeeze)), u)
        src = c + u[..., None] * frame.x_axis + v[..., None] * frame.y_axis
        out = cv2.remap(
            rgb, src[..., 0].astype(np.float32), src[..., 1].astype(np.float32),
            interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT,
        )
    f = out.astype(np.float32) / 255.0
    if n.gamma != 1.0:
        f = f ** n.gamma
    if n.gain != 1.0:
        f = f * n.gain
    if n.side_light:
        f = f * side_light_map(frame, (h, w), abs(n.side_light), "right" if n.side_light > 0 else "left", n)[..., None]
    if n.blur_px > 0.05:
        f = cv2.GaussianBlur(f, (0, 0), n.blur_px)
    if n.noise:
        f = f + np.random.default_rng(seed).normal(0, n.noise / 255.0, f.shape).astype(np.float32)
    out = np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if n.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, n.jpeg_quality])
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return out


def side_light_map(frame: FaceFrame, shape, darken: float, side: str, n: Nuisance | None = None,
                   width_mm: float = 4.0) -> np.ndarray:
    """Multiplicative light: the patient's `side` half darkened by `darken`, a smooth step at the midline.

    The midline position follows the same similarity as the geometry nuisance `n`."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    origin, x_axis = frame.origin, frame.x_axis
    if n is not None:
        a = math.radians(n.roll_deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        origin = origin + np.asarray(n.shift_px)
        x_axis = rot @ x_axis
    u = ((xs - origin[0]) * x_axis[0] + (ys - origin[1]) * x_axis[1]) * frame.mm_per_px
    sign = -1.0 if side == "right" else 1.0  # patient's right is at negative u
    step = 1.0 / (1.0 + np.exp(-sign * u / (width_mm / 4.0)))
    return (1.0 - darken * step).astype(np.float32)

