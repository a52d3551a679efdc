"""The quality gates for one frame, and what to tell the person when one fails.

All must pass for a frame to be chosen automatically:

    face size   inter-pupil distance >= MIN_CAPTURE_INTERPUPIL_PX (in `symmetry.face.measures`:
                twice what a photo needs), no second face half as large or more, whole face inside the picture
    pose        |yaw| <= MAX_YAW_DEG, |pitch| <= MAX_PITCH_DEG (stricter than the
                scoring limits in `symmetry.face.measures`, because here the person can correct it)
    stillness   landmark jitter <= MAX_JITTER (RMS frame-to-frame movement of stable
                points, as a fraction of the inter-pupil distance, largest of the last frames)
    lighting    face brightness in [MIN_BRIGHTNESS, MAX_BRIGHTNESS], clipped share
                <= MAX_CLIPPED_FRACTION, and the darker cheek at least
                MIN_SIDE_LIGHT_RATIO as bright as the other (one-sided light fakes asymmetry)

Pure numpy on one frame's landmarks and pixels; no camera, no window.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np

from symmetry.face.landmarks import Face
from symmetry.face.measures import MIN_CAPTURE_INTERPUPIL_PX, SECOND_FACE_RATIO
from symmetry.photo.light import face_light

#: The landmarks must stay this fraction of the picture away from its edges.
EDGE_MARGIN_FRACTION = 0.02
#: The face (forehead to chin landmarks) may fill at most this fraction of the height.
MAX_FACE_HEIGHT_FRACTION = 0.9
#: Pose limits for capture, degrees (scoring accepts up to 20 / 25, see measures).
MAX_YAW_DEG = 10.0
MAX_PITCH_DEG = 15.0
#: Stillness limit: the largest RMS frame-to-frame movement of stable landmarks over
#: the last JITTER_WINDOW frames, in units of the inter-pupil distance (0.02 = 1.2 mm
#: for a 62 mm inter-pupil distance).
MAX_JITTER = 0.02
#: Frames averaged for the jitter figure.
JITTER_WINDOW = 5
#: Stable landmarks for jitter: eye corners and the nose bridge/tip (not lips, brows or lids).
STABLE_POINTS = (33, 133, 263, 362, 168, 6, 197, 1)
#: Face brightness limits: mean 8-bit luma (Rec. 601, gamma-encoded) of cheek and forehead patches.
MIN_BRIGHTNESS = 60.0
MAX_BRIGHTNESS = 220.0
#: At most this share of face pixels may be clipped white (luma >= 250).
MAX_CLIPPED_FRACTION = 0.05
#: The darker cheek must be at least this fraction of the brighter one's luma.
MIN_SIDE_LIGHT_RATIO = 0.75

#: Guidance per problem, most important first (a person can fix one thing at a time).
PROBLEM_ORDER = (
    "no_face", "multiple_faces", "too_small", "cut_off", "too_close", "yaw", "pitch",
    "dark", "bright", "clipped", "side_light", "moving",
)

#: Short names of the problems, for reports.
PROBLEM_NAMES = {
    "no_face": "no face", "multiple_faces": "several faces", "too_small": "face too small",
    "cut_off": "face cut off", "too_close": "too close", "yaw": "head turned", "pitch": "head tilted",
    "dark": "too dark", "bright": "too bright", "clipped": "clipped highlights",
    "side_light": "one-sided light", "moving": "moving",
}

#: What to say for each problem that needs no face to explain it.
GUIDANCE = {
    "no_face": "No face found: sit in front of the camera, face it, and make sure your face is lit",
    "multiple_faces": "Only one face in the picture, please",
    "too_small": "Move closer to the camera",
    "too_close": "Move back a little: your whole face must fit in the picture",
    "cut_off": "Move to the middle of the picture: part of your face is cut off",
    "yaw": "Face the camera squarely",
    "pitch": "Keep your head level",
    "dark": "More light on your face, please",
    "bright": "Too bright: move away from the lamp or window a little",
    "clipped": "Too bright: part of your face is pure white",
    "moving": "Hold still",
}


@dataclass(frozen=True)
class Quality:
    """The quality gates for one frame. `problems` are codes from PROBLEM_ORDER.

    Units: interpupil_px px; yaw/pitch degrees; jitter fraction of the inter-pupil
    distance per frame; brightness 8-bit luma; clipped_fraction 0..1;
    side_light_ratio darker/brighter cheek luma (1 = even light).
    """

    problems: tuple[str, ...] = ()
    guidance: str = ""
    interpupil_px: float = math.nan
    yaw_deg: float = math.nan
    pitch_deg: float = math.nan
    roll_deg: float = math.nan
    jitter: float = math.nan
    brightness: float = math.nan
    clipped_fraction: float = math.nan
    side_light_ratio: float = math.nan
    brighter_side: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "problems": list(self.problems), "ok": self.ok}


class JitterTracker:
    """Landmark jitter over the last few frames (see MAX_JITTER). Reset when the face is lost."""

    def __init__(self, window: int = JITTER_WINDOW):
        self._previous: np.ndarray | None = None
        self._recent: deque[float] = deque(maxlen=window)

    def update(self, points: np.ndarray | None) -> float:
        """Feed this frame's (478, 2) points (None: no face); returns the jitter, NaN when unknown."""
        if points is None:
            self._previous = None
            self._recent.clear()
            return math.nan
        stable = np.asarray(points, float)[list(STABLE_POINTS)]
        ipd = float(np.linalg.norm(points[473] - points[468])) or 1.0
        if self._previous is not None:
            moved = np.sqrt(np.mean(np.sum((stable - self._previous) ** 2, axis=1)))
            self._recent.append(float(moved) / ipd)
        self._previous = stable
        # The largest recent movement: one jump spoils the next few frames, as it should.
        return float(max(self._recent)) if self._recent else math.nan


def assess_quality(faces: list[Face], rgb: np.ndarray | None, jitter: float, chosen: Face | None = None) -> Quality:
    """Run every quality gate on one frame.

    Args:
        faces: the landmarker's faces, largest first.
        rgb: the frame (HxWx3 uint8, RGB), for the lighting gates; None skips them.
        jitter: from `JitterTracker.update` (NaN = not known yet, counts as moving).
        chosen: the face being measured (default faces[0]).
    """
    if not faces:
        return Quality(("no_face",), guidance_for("no_face"))
    face = chosen or faces[0]
    size = face.image_size if face.image_size[0] else (rgb.shape[1], rgb.shape[0])
    problems = _framing_problems(faces, face, size)
    if not (jitter <= MAX_JITTER):
        problems.append("moving")
    brightness = clipped = ratio = math.nan
    brighter = ""
    if rgb is not None:
        light = face_light(rgb, face)
        brightness, (ratio, brighter) = light.brightness, light.balance
        clipped = _clipped_fraction(rgb, face, size)
        problems += _light_problems(brightness, clipped, ratio)
    problems.sort(key=PROBLEM_ORDER.index)
    return Quality(
        tuple(problems),
        guidance_for(problems[0], face, brighter) if problems else "",
        interpupil_px=face.interpupil_px,
        yaw_deg=face.yaw_deg,
        pitch_deg=face.pitch_deg,
        roll_deg=face.roll_deg,
        jitter=jitter,
        brightness=brightness,
        clipped_fraction=clipped,
        side_light_ratio=ratio,
        brighter_side=brighter,
    )


def _framing_problems(faces: list[Face], face: Face, size: tuple[int, int]) -> list[str]:
    """Face size, position in the picture and pose, for a picture of `size` (w, h) px."""
    w, h = size
    problems = []
    if len(faces) > 1 and faces[1].interpupil_px >= SECOND_FACE_RATIO * face.interpupil_px:
        problems.append("multiple_faces")
    if face.interpupil_px < MIN_CAPTURE_INTERPUPIL_PX:
        problems.append("too_small")
    lo_x, lo_y, hi_x, hi_y = _face_box(face)
    margin_x, margin_y = EDGE_MARGIN_FRACTION * w, EDGE_MARGIN_FRACTION * h
    if (hi_y - lo_y) > MAX_FACE_HEIGHT_FRACTION * h:
        problems.append("too_close")
    elif lo_x < margin_x or lo_y < margin_y or hi_x > w - margin_x or hi_y > h - margin_y:
        problems.append("cut_off")
    if abs(face.yaw_deg) > MAX_YAW_DEG:
        problems.append("yaw")
    if abs(face.pitch_deg) > MAX_PITCH_DEG:
        problems.append("pitch")
    return problems


def _face_box(face: Face) -> tuple[float, float, float, float]:
    """The landmarks' bounding box (x0, y0, x1, y1), px of the face's image."""
    lo, hi = face.points.min(axis=0), face.points.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _clipped_fraction(rgb: np.ndarray, face: Face, size: tuple[int, int]) -> float:
    """Share of the face box's pixels that are clipped white; NaN for an empty box."""
    lo_x, lo_y, hi_x, hi_y = _face_box(face)
    sx, sy = rgb.shape[1] / size[0], rgb.shape[0] / size[1]
    x0, y0 = max(int(lo_x * sx), 0), max(int(lo_y * sy), 0)
    x1, y1 = int(math.ceil(hi_x * sx)), int(math.ceil(hi_y * sy))
    # Every fourth pixel is plenty for the clipped share and keeps this cheap
    # (integer luma: (77 R + 150 G + 29 B) / 256).
    crop = rgb[y0:y1:4, x0:x1:4].astype(np.uint16)
    if not crop.size:
        return math.nan
    luma = (77 * crop[..., 0] + 150 * crop[..., 1] + 29 * crop[..., 2]) >> 8
    return float(np.count_nonzero(luma >= 250)) / luma.size


def _light_problems(brightness: float, clipped: float, ratio: float) -> list[str]:
    problems = []
    if brightness < MIN_BRIGHTNESS:
        problems.append("dark")
    elif brightness > MAX_BRIGHTNESS:
        problems.append("bright")
    if clipped > MAX_CLIPPED_FRACTION:
        problems.append("clipped")
    if ratio < MIN_SIDE_LIGHT_RATIO:
        problems.append("side_light")
    return problems


def guidance_for(problem: str, face: Face | None = None, brighter_side: str = "") -> str:
    """What to tell the person, in their own right/left (never the screen's)."""
    if problem == "yaw" and face is not None:
        # yaw > 0: the nose points to the image's right, i.e. the person turned to THEIR left.
        back = "right" if face.yaw_deg > 0 else "left"
        return f"Turn your head a little to your {back} and look straight at the camera"
    if problem == "pitch" and face is not None:
        return "Lower your chin a little" if face.pitch_deg > 0 else "Lift your chin a little"
    if problem == "side_light":
        other = {"right": "left", "left": "right"}.get(brighter_side, "darker")
        return f"The light is much stronger on your {brighter_side} side: face the light, or add light on your {other}"
    return GUIDANCE.get(problem, problem)
