"""The guided capture protocol as a pure state machine, plus the per-frame checks it uses.

Nothing here opens a camera or a window: `symmetry.live` feeds frames in and
draws what `CaptureProtocol.update` returns; `symmetry.video` uses the same
checks to pick frames from a recording. Everything is numpy on one frame's
landmarks, blendshapes and pixels, so it is unit-testable with plain arrays.

Per frame:
    faces --observe()--> FrameObservation(quality gates, expression evidence, measurement)
Per expression:
    observations --CaptureProtocol (live) or choose_frames (recording)--> ExpressionResult

Quality gates (all must pass for a frame to be chosen automatically):
    face size   inter-pupil distance >= MIN_INTERPUPIL_PX, whole face inside the picture
    pose        |yaw| <= MAX_YAW_DEG, |pitch| <= MAX_PITCH_DEG (stricter than the
                scoring limits in `measures`, because here the person can correct it)
    stillness   landmark jitter <= MAX_JITTER (RMS frame-to-frame movement of stable
                points, as a fraction of the inter-pupil distance, largest of the last frames)
    lighting    face brightness in [MIN_BRIGHTNESS, MAX_BRIGHTNESS], clipped share
                <= MAX_CLIPPED_FRACTION, and the darker cheek at least
                MIN_SIDE_LIGHT_RATIO as bright as the other (one-sided light fakes asymmetry)

Expression evidence comes from MediaPipe's blendshapes (0..1 coefficients,
evidence not millimetres) and, for eye closure, from the measured lid opening
relative to the same person's rest frames. The strongest SIDE counts for each
movement, because in a palsy the weak side may not move at all.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from symmetry.photo.analysis import measure_face
from symmetry.face.landmarks import Face
from symmetry.face.measures import Measurement

#: The protocol, in the order it is performed (GUIDE section 4 names).
EXPRESSIONS = ("rest", "brow_raise", "eyes_closed_gentle", "eyes_closed_tight", "smile", "pucker")

INSTRUCTIONS = {
    "rest": "Relax your face, lips together, look into the camera",
    "brow_raise": "Raise your eyebrows as high as you can",
    "eyes_closed_gentle": "Close your eyes gently, as if asleep",
    "eyes_closed_tight": "Squeeze your eyes shut as tight as you can",
    "smile": "Give a big smile, showing your teeth",
    "pucker": "Pucker your lips, as if to kiss or whistle",
}

#: What to say when the frame is fine but the expression is not (yet) visible.
EXPRESSION_HINTS = {
    "rest": "Relax your face completely, eyes open",
    "brow_raise": "Raise your eyebrows higher",
    "eyes_closed_gentle": "Close your eyes",
    "eyes_closed_tight": "Close your eyes and squeeze",
    "smile": "Smile wider",
    "pucker": "Push your lips forward more",
}

# --------------------------------------------------------------- quality gates
#: Smallest inter-pupil distance for a saved frame, px (about 0.5 mm per px).
MIN_INTERPUPIL_PX = 60.0
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
#: Cheek patches (patient's right, patient's left): beside the nose wing and mid-cheek.
CHEEK_POINTS_RIGHT = (50, 205)
CHEEK_POINTS_LEFT = (280, 425)
FOREHEAD_POINT = 151
#: Half-size of a brightness patch, as a fraction of the inter-pupil distance.
PATCH_HALF_FRACTION = 0.08

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

# --------------------------------------------------------------- expression evidence
#: Thresholds on blendshape evidence (0..1). Documented heuristics, tuned on the
#: sample faces and MediaPipe's documented ranges; see docs and tests.
BROW_RAISE_MIN = 0.4
SMILE_MIN = 0.5
PUCKER_MIN = 0.4
#: Eyes count as closed when the stronger eyeBlink is at least this...
BLINK_MIN = 0.3
#: ...and, when rest frames are known, the better-closing eye has lost at least this
#: fraction of its resting opening (GUIDE section 3: closure = 1 - opening/rest).
CLOSURE_MIN = 0.4
#: A closure this complete is eye closure even during a smile (tight closure lifts the cheeks).
CLOSURE_OVER_SMILE = 0.7
#: Tight closure: squeeze evidence (cheekSquint, browDown, noseSneer) this much above rest.
TIGHT_SQUEEZE_RISE = 0.25
#: Rest: every movement's evidence below this, and the eyes open.
REST_MAX_ACTIVITY = 0.3
#: A frame whose eyes have lost this fraction of the resting opening is not "rest".
REST_MAX_CLOSURE = 0.3


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
        d = asdict(self)
        d["problems"] = list(self.problems)
        d["ok"] = self.ok
        return {k: _round(v) for k, v in d.items()}


@dataclass(frozen=True)
class Evidence:
    """Expression evidence for one frame: blendshape maxima over the two sides (0..1),
    and the eye openings as fractions of the inter-pupil distance."""

    brow_raise: float = 0.0
    blink: float = 0.0
    squeeze: float = 0.0
    smile: float = 0.0
    pucker: float = 0.0
    jaw_open: float = 0.0
    eye_open_right: float = math.nan
    eye_open_left: float = math.nan

    @property
    def activity(self) -> float:
        """The strongest movement of any kind; low at rest."""
        return max(self.brow_raise, self.blink, self.squeeze, self.smile, self.pucker, self.jaw_open)

    def to_dict(self) -> dict:
        d = {k: _round(v) for k, v in asdict(self).items()}
        d["activity"] = _round(self.activity)
        return d


@dataclass(frozen=True)
class RestReference:
    """The person's resting values in this session, from the chosen rest frames."""

    eye_open_right: float
    eye_open_left: float
    squeeze: float = 0.0
    interpupil_mm: float = math.nan

    @classmethod
    def from_observations(cls, observations: list["FrameObservation"]) -> "RestReference | None":
        ev = [o.evidence for o in observations if o.evidence is not None]
        if not ev:
            return None
        ipd = [o.measurement.interpupil_mm for o in observations if o.measurement is not None and o.measurement.ok]
        return cls(
            float(np.nanmedian([e.eye_open_right for e in ev])),
            float(np.nanmedian([e.eye_open_left for e in ev])),
            float(np.median([e.squeeze for e in ev])),
            float(np.median(ipd)) if ipd else math.nan,
        )


@dataclass
class FrameObservation:
    """Everything the protocol needs to know about one frame."""

    index: int
    timestamp_ms: float
    quality: Quality
    evidence: Evidence | None = None
    measurement: Measurement | None = None

    @property
    def face_found(self) -> bool:
        return self.evidence is not None


# --------------------------------------------------------------- per-frame checks
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


def expression_evidence(face: Face, measurement: Measurement | None = None) -> Evidence:
    """Blendshape evidence for each protocol movement (max over the two sides)."""
    b = face.blendshapes

    def g(name: str) -> float:
        return float(b.get(name, 0.0))

    def pair(name: str) -> float:
        return max(g(name + "Left"), g(name + "Right"))

    def mean_pair(name: str) -> float:
        return (g(name + "Left") + g(name + "Right")) / 2.0

    open_r = open_l = math.nan
    if measurement is not None and measurement.face is not None and measurement.interpupil_mm > 0:
        open_r = measurement.eye_opening_right_mm / measurement.interpupil_mm
        open_l = measurement.eye_opening_left_mm / measurement.interpupil_mm
    return Evidence(
        brow_raise=max(g("browInnerUp"), pair("browOuterUp")),
        blink=pair("eyeBlink"),
        # eyeSquint is high on many resting faces, so tight closure is read from the
        # muscles recruited around the eye instead.
        squeeze=max(mean_pair("cheekSquint"), mean_pair("browDown"), mean_pair("noseSneer")),
        smile=pair("mouthSmile"),
        pucker=max(g("mouthPucker"), g("mouthFunnel")),
        jaw_open=g("jawOpen"),
        eye_open_right=open_r,
        eye_open_left=open_l,
    )


def eye_closure(evidence: Evidence, rest: RestReference | None) -> float:
    """1 - opening/rest opening of the better-closing eye (0 open as at rest, 1 shut); NaN without rest."""
    if rest is None or not (rest.eye_open_right > 0 and rest.eye_open_left > 0):
        return math.nan
    ratio = min(evidence.eye_open_right / rest.eye_open_right, evidence.eye_open_left / rest.eye_open_left)
    return float(np.clip(1.0 - ratio, 0.0, 1.0)) if math.isfinite(ratio) else math.nan


def eyes_closed(evidence: Evidence, rest: RestReference | None) -> bool:
    closure = eye_closure(evidence, rest)
    if evidence.blink < BLINK_MIN:
        return False
    return math.isnan(closure) or closure >= CLOSURE_MIN


def expression_strength(expression: str, evidence: Evidence, rest: RestReference | None = None) -> float:
    """How strongly this frame shows `expression` (higher is better; rest: 1 - activity)."""
    if expression == "rest":
        return 1.0 - evidence.activity
    if expression == "brow_raise":
        return evidence.brow_raise
    if expression.startswith("eyes_closed"):
        closure = eye_closure(evidence, rest)
        shut = evidence.blink if math.isnan(closure) else (closure + evidence.blink) / 2.0
        # Tight closure: the harder the squeeze, the better the frame.
        return shut + evidence.squeeze if expression == "eyes_closed_tight" else shut
    if expression == "smile":
        return evidence.smile
    if expression == "pucker":
        return evidence.pucker
    raise ValueError(f"unknown expression {expression!r}; choose from {EXPRESSIONS}")


def shows_expression(expression: str, evidence: Evidence, rest: RestReference | None = None) -> bool:
    """Is `expression` visible in this frame? Used when the person has been told what to do,
    so gentle and tight closure are not told apart here (the instruction says which)."""
    if expression == "rest":
        closure = eye_closure(evidence, rest)
        eyes_open = evidence.blink < BLINK_MIN and not (closure >= REST_MAX_CLOSURE)
        moving = max(evidence.brow_raise, evidence.squeeze, evidence.smile, evidence.pucker, evidence.jaw_open)
        return eyes_open and moving < REST_MAX_ACTIVITY
    if expression == "brow_raise":
        return evidence.brow_raise >= BROW_RAISE_MIN
    if expression.startswith("eyes_closed"):
        return eyes_closed(evidence, rest)
    if expression == "smile":
        return evidence.smile >= SMILE_MIN
    if expression == "pucker":
        return evidence.pucker >= PUCKER_MIN
    raise ValueError(f"unknown expression {expression!r}; choose from {EXPRESSIONS}")


def classify_expression(evidence: Evidence, rest: RestReference | None = None) -> str:
    """Which protocol expression a frame shows with no instruction to go by ("" = none/in between).

    Order matters: eye closure first (unless a smile narrows the eyes only
    partly), then smile, pucker, brow raise, rest. Gentle and tight closure
    differ by the squeeze evidence rising TIGHT_SQUEEZE_RISE above rest.
    """
    closure = eye_closure(evidence, rest)
    if eyes_closed(evidence, rest) and not (
        evidence.smile >= SMILE_MIN and not (closure >= CLOSURE_OVER_SMILE)
    ):
        base = rest.squeeze if rest is not None else 0.0
        return "eyes_closed_tight" if evidence.squeeze - base >= TIGHT_SQUEEZE_RISE else "eyes_closed_gentle"
    if evidence.smile >= SMILE_MIN and evidence.smile >= evidence.pucker:
        return "smile"
    if evidence.pucker >= PUCKER_MIN:
        return "pucker"
    if evidence.brow_raise >= BROW_RAISE_MIN:
        return "brow_raise"
    if shows_expression("rest", evidence, rest):
        return "rest"
    return ""


def _patch_luma(rgb: np.ndarray, x: float, y: float, half: int) -> float:
    """Mean 8-bit luma (Rec. 601) of a small square patch; NaN when it falls outside."""
    import cv2

    h, w = rgb.shape[:2]
    x0, x1 = max(int(x) - half, 0), min(int(x) + half + 1, w)
    y0, y1 = max(int(y) - half, 0), min(int(y) + half + 1, h)
    if x1 <= x0 or y1 <= y0:
        return math.nan
    r, g, b, _ = cv2.mean(rgb[y0:y1, x0:x1])
    return 0.299 * r + 0.587 * g + 0.114 * b


def _mean_finite(values) -> float:
    good = [v for v in values if v == v]  # drop NaN
    return sum(good) / len(good) if good else math.nan


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
    problems = []
    if len(faces) > 1 and faces[1].interpupil_px >= 0.5 * face.interpupil_px:
        problems.append("multiple_faces")
    w, h = face.image_size if face.image_size[0] else (rgb.shape[1], rgb.shape[0])
    ipd = face.interpupil_px
    if ipd < MIN_INTERPUPIL_PX:
        problems.append("too_small")
    lo, hi = face.points.min(axis=0), face.points.max(axis=0)
    margin_x, margin_y = EDGE_MARGIN_FRACTION * w, EDGE_MARGIN_FRACTION * h
    lo_x, lo_y, hi_x, hi_y = float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])
    if (hi_y - lo_y) > MAX_FACE_HEIGHT_FRACTION * h:
        problems.append("too_close")
    elif lo_x < margin_x or lo_y < margin_y or hi_x > w - margin_x or hi_y > h - margin_y:
        problems.append("cut_off")
    if abs(face.yaw_deg) > MAX_YAW_DEG:
        problems.append("yaw")
    if abs(face.pitch_deg) > MAX_PITCH_DEG:
        problems.append("pitch")
    if not (jitter <= MAX_JITTER):
        problems.append("moving")
    brightness = clipped = ratio = math.nan
    brighter = ""
    if rgb is not None:
        sx, sy = rgb.shape[1] / w, rgb.shape[0] / h
        x0, y0 = max(int(lo_x * sx), 0), max(int(lo_y * sy), 0)
        x1, y1 = int(math.ceil(hi_x * sx)), int(math.ceil(hi_y * sy))
        # Every fourth pixel is plenty for the clipped share and keeps this cheap
        # (integer luma: (77 R + 150 G + 29 B) / 256).
        crop = rgb[y0:y1:4, x0:x1:4].astype(np.uint16)
        if crop.size:
            luma = (77 * crop[..., 0] + 150 * crop[..., 1] + 29 * crop[..., 2]) >> 8
            clipped = float(np.count_nonzero(luma >= 250)) / luma.size

        right, left, forehead = _face_luma(rgb, face)
        brightness = _mean_finite([right, left, forehead])
        ratio, brighter = _balance(right, left)
        if brightness < MIN_BRIGHTNESS:
            problems.append("dark")
        elif brightness > MAX_BRIGHTNESS:
            problems.append("bright")
        if clipped > MAX_CLIPPED_FRACTION:
            problems.append("clipped")
        if ratio < MIN_SIDE_LIGHT_RATIO:
            problems.append("side_light")
    problems.sort(key=PROBLEM_ORDER.index)
    return Quality(
        tuple(problems),
        guidance_for(problems[0], face, brighter) if problems else "",
        interpupil_px=ipd,
        yaw_deg=face.yaw_deg,
        pitch_deg=face.pitch_deg,
        roll_deg=face.roll_deg,
        jitter=jitter,
        brightness=brightness,
        clipped_fraction=clipped,
        side_light_ratio=ratio,
        brighter_side=brighter,
    )


def _face_luma(rgb: np.ndarray, face: Face) -> tuple[float, float, float]:
    """Mean luma of the right cheek, the left cheek (the patient's) and the forehead.
    `face` points are in its `image_size` pixels; `rgb` may be that image at another size."""
    w, h = face.image_size if face.image_size[0] else (rgb.shape[1], rgb.shape[0])
    sx, sy = rgb.shape[1] / w, rgb.shape[0] / h
    pts = face.points
    half = max(2, int(PATCH_HALF_FRACTION * face.interpupil_px * sx))

    def patch(i: int) -> float:
        return _patch_luma(rgb, pts[i, 0] * sx, pts[i, 1] * sy, half)

    return (_mean_finite([patch(i) for i in CHEEK_POINTS_RIGHT]),
            _mean_finite([patch(i) for i in CHEEK_POINTS_LEFT]), patch(FOREHEAD_POINT))


def _balance(right: float, left: float) -> tuple[float, str]:
    if not max(right, left) > 0:
        return math.nan, ""
    return min(right, left) / max(right, left), ("right" if right > left else "left")


def light_balance(rgb: np.ndarray, face: Face) -> tuple[float, str]:
    """Darker/brighter cheek luma (1 = even light) and the brighter side (the patient's)."""
    right, left, _ = _face_luma(rgb, face)
    return _balance(right, left)


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
    return {
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
    }.get(problem, problem)


def observe(
    faces: list[Face],
    rgb: np.ndarray | None,
    index: int,
    timestamp_ms: float,
    jitter: JitterTracker,
    interpupil_mm: float | None = None,
) -> FrameObservation:
    """One frame's quality gates, expression evidence and measurement (pure; no I/O)."""
    m = measure_face(faces, Measurement(), interpupil_mm)
    face = m.face or (faces[0] if faces else None)
    j = jitter.update(face.points if face is not None else None)
    quality = assess_quality(faces, rgb, j, chosen=face)
    if face is None:
        return FrameObservation(index, timestamp_ms, quality, None, m)
    # Several faces or a small face still give evidence; the quality gates keep them out.
    return FrameObservation(index, timestamp_ms, quality, expression_evidence(face, m), m)


# --------------------------------------------------------------- choosing frames
@dataclass
class Candidate:
    """A frame that may be saved for an expression. `payload` is the caller's (e.g. the image)."""

    observation: FrameObservation
    score: float
    manual: bool = False
    payload: Any = field(default=None, repr=False)

    @property
    def timestamp_ms(self) -> float:
        return self.observation.timestamp_ms


@dataclass
class ExpressionResult:
    """What happened to one expression: status "captured", "not_found", "skipped",
    "not_reached" (the protocol stopped first) or "pending"; `reason` says why in words."""

    expression: str
    status: str = "pending"
    frames: list[Candidate] = field(default_factory=list)
    reason: str = ""


def frame_score(expression: str, obs: FrameObservation, rest: RestReference | None) -> float:
    """Rank frames: expression strength, minus a little for residual yaw and movement."""
    q = obs.quality
    return (
        expression_strength(expression, obs.evidence, rest)
        - abs(q.yaw_deg) / 100.0
        - 5.0 * (q.jitter if math.isfinite(q.jitter) else MAX_JITTER)
    )


def select_spread(candidates: list[Candidate], k: int, min_gap_ms: float) -> list[Candidate]:
    """The best `k` candidates at least `min_gap_ms` apart, in time order.

    Manual captures (space key) are always kept. The automatic ones are chosen
    to give as many frames as possible (up to k) and, among those, the highest
    total score (weighted interval scheduling, O(n k)). Frames apart in time
    are independent repeats, so their spread measures repeatability rather
    than sensor noise.
    """
    manual = sorted((c for c in candidates if c.manual), key=lambda c: c.timestamp_ms)[:k]
    want = k - len(manual)
    auto = sorted(
        (c for c in candidates if not c.manual and all(abs(c.timestamp_ms - m.timestamp_ms) >= min_gap_ms for m in manual)),
        key=lambda c: c.timestamp_ms,
    )
    if want <= 0 or not auto:
        return manual
    n = len(auto)
    times = [c.timestamp_ms for c in auto]
    # prev[i]: how many candidates (a prefix) end at least min_gap before candidate i.
    prev = [bisect.bisect_right(times, t - min_gap_ms) for t in times]
    neg = (-1, -math.inf)
    # best[i][j] = (count, total score) using j slots among the first i candidates.
    best = [[(0, 0.0)] + [neg] * want for _ in range(n + 1)]
    for i in range(1, n + 1):
        c = auto[i - 1]
        for j in range(1, want + 1):
            skip = best[i - 1][j]
            base = best[prev[i - 1]][j - 1]
            take = (base[0] + 1, base[1] + c.score) if base[0] >= 0 else neg
            best[i][j] = max(skip, take)
    # Trace back the optimum for the largest reachable j.
    j = max(range(want + 1), key=lambda jj: best[n][jj])
    chosen, i = [], n
    while i > 0 and j > 0:
        if best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            chosen.append(auto[i - 1])
            i, j = prev[i - 1], j - 1
    return sorted(manual + chosen, key=lambda c: c.timestamp_ms)


def _describe_failures(expression: str, counts: Counter, seen: int, best: float) -> str:
    if seen == 0:
        return "no frames"
    if counts.get("no_face", 0) == seen:
        return f"no face in any of the {seen} frames"
    shown = counts.get("shown", 0)
    if shown == 0:
        what = {
            "brow_raise": f"no brow raise seen (strongest brow evidence {best:.2f}, needs {BROW_RAISE_MIN:.2f})",
            "smile": f"no smile seen (strongest smile evidence {best:.2f}, needs {SMILE_MIN:.2f})",
            "pucker": f"no pucker seen (strongest pucker evidence {best:.2f}, needs {PUCKER_MIN:.2f})",
            "rest": "the face was never at rest with the eyes open",
            "eyes_closed_gentle": "the eyes were never seen closed",
        }.get(expression, "")
        if expression == "eyes_closed_tight":
            what = (
                f"the eyes were closed but never squeezed tight (squeeze evidence rose at most {best:.2f} "
                f"above rest, needs {TIGHT_SQUEEZE_RISE:.2f})"
                if counts.get("closed") else "the eyes were never seen closed"
            )
        return what
    problems = Counter({k: v for k, v in counts.items() if k not in ("shown", "no_face", "closed")})
    top = ", ".join(f"{PROBLEM_NAMES.get(p, p)} ({n})" for p, n in problems.most_common(2))
    which = "1 frame showed it but it did not pass" if shown == 1 else f"{shown} frames showed it but none passed"
    return f"{which} the quality gates; most common: {top}"


def choose_frames(
    observations: list[FrameObservation],
    k: int = 3,
    min_gap_ms: float = 300.0,
    expressions: tuple[str, ...] = EXPRESSIONS,
) -> tuple[dict[str, ExpressionResult], RestReference | None]:
    """Pick the best frames of each expression from a recording with no instructions.

    Rest frames are found first (lowest activity, eyes open); they give the
    resting eye opening and squeeze that eye closure is judged against. An
    expression that never appears is reported "not_found" with the reason,
    never filled with the nearest thing.
    """
    good = [o for o in observations if o.evidence is not None and o.quality.ok]
    rest_candidates = [
        Candidate(o, frame_score("rest", o, None)) for o in good if classify_expression(o.evidence, None) == "rest"
    ]
    rest_frames = select_spread(rest_candidates, k, min_gap_ms)
    rest = RestReference.from_observations([c.observation for c in rest_frames])
    labels = [classify_expression(o.evidence, rest) if o.evidence is not None else "" for o in observations]
    results: dict[str, ExpressionResult] = {}
    for expr in expressions:
        counts: Counter = Counter()
        best = 0.0
        cands = []
        for o, label in zip(observations, labels):
            if o.evidence is None:
                counts["no_face"] += 1
                continue
            if expr == "eyes_closed_tight":
                if label.startswith("eyes_closed"):  # closed, but how hard?
                    best = max(best, o.evidence.squeeze - (rest.squeeze if rest is not None else 0.0))
            elif expr != "rest":
                best = max(best, expression_strength(expr, o.evidence, rest))
            if label.startswith("eyes_closed"):
                counts["closed"] += 1
            if label != expr:
                continue
            counts["shown"] += 1
            if not o.quality.ok:
                counts.update(o.quality.problems)
                continue
            cands.append(Candidate(o, frame_score(expr, o, rest)))
        chosen = rest_frames if expr == "rest" else select_spread(cands, k, min_gap_ms)
        if chosen:
            note = "" if len(chosen) >= k else f"only {len(chosen)} of {k} frames found"
            results[expr] = ExpressionResult(expr, "captured", chosen, note)
        else:
            results[expr] = ExpressionResult(expr, "not_found", [], _describe_failures(expr, counts, len(observations), best))
    return results, rest


def frame_labels(observations: list[FrameObservation], rest: RestReference | None) -> list[str]:
    """The expression each frame shows ("" for none or no face)."""
    return [classify_expression(o.evidence, rest) if o.evidence is not None else "" for o in observations]


# --------------------------------------------------------------- the live protocol
@dataclass(frozen=True)
class ProtocolSettings:
    """Timing and counts for the live protocol (seconds of the source's clock)."""

    frames_per_expression: int = 3
    countdown_s: float = 3.0
    min_hold_s: float = 1.5
    max_hold_s: float = 12.0
    min_gap_s: float = 0.3
    review_s: float = 1.5
    no_face_warning_s: float = 2.0
    no_face_timeout_s: float = 30.0
    #: Candidates kept in memory per expression (each holds a frame).
    keep_candidates: int = 15


@dataclass(frozen=True)
class Prompt:
    """What the window should show now."""

    expression: str
    instruction: str
    phase: str  # "countdown", "hold", "review", "done"
    step: int  # 1-based position in the protocol
    steps: int
    seconds_left: float = 0.0
    guidance: str = ""
    frames_taken: int = 0
    frames_wanted: int = 0
    good_frame: bool = False
    message: str = ""


class CaptureProtocol:
    """The guided protocol: one expression at a time, countdown, automatic best frames.

    Feed every processed frame to `update` (timestamps must increase) and every
    key press to `key`; read `results` when `finished`. Keys: " " captures the
    current frame now, "r" redoes the current (or just finished) expression,
    "s" skips it, "q" stops (what was captured is kept).
    """

    def __init__(self, expressions: tuple[str, ...] = EXPRESSIONS, settings: ProtocolSettings = ProtocolSettings()):
        unknown = [e for e in expressions if e not in INSTRUCTIONS]
        if unknown:
            raise ValueError(f"unknown expression(s) {unknown}; choose from {EXPRESSIONS}")
        self.expressions = tuple(expressions)
        self.settings = settings
        self.results = {e: ExpressionResult(e) for e in self.expressions}
        self.rest: RestReference | None = None
        self.stop_reason = ""
        self._step = 0
        self._phase = "countdown"
        self._phase_start: float | None = None
        self._now = 0.0
        self._candidates: list[Candidate] = []
        self._failures: Counter = Counter()
        self._seen = 0
        self._best = 0.0
        self._last_face_ms: float | None = None
        self._last: tuple[FrameObservation, Any] | None = None
        self._message = ""
        self._selection: list[Candidate] = []
        self._selection_key: tuple | None = None

    # ---- state
    @property
    def finished(self) -> bool:
        return self._phase == "done"

    @property
    def current(self) -> str:
        return self.expressions[min(self._step, len(self.expressions) - 1)]

    def captured_frames(self) -> dict[str, list[Candidate]]:
        return {e: r.frames for e, r in self.results.items() if r.frames}

    # ---- input
    def update(self, obs: FrameObservation, payload: Any = None) -> Prompt:
        """Advance the protocol with one frame; returns what to show."""
        s = self.settings
        self._now = obs.timestamp_ms
        if self._phase_start is None:
            self._phase_start = self._now
        self._last = (obs, payload)
        if self.finished:
            return self.prompt()
        if obs.face_found:
            self._last_face_ms = self._now
        elif self._last_face_ms is None:
            self._last_face_ms = self._now
        if (self._now - self._last_face_ms) / 1000.0 >= s.no_face_timeout_s:
            self.stop(f"no face seen for {s.no_face_timeout_s:.0f} s")
            return self.prompt()
        elapsed = (self._now - self._phase_start) / 1000.0
        if self._phase == "countdown" and elapsed >= s.countdown_s:
            self._enter("hold")
        elif self._phase == "review" and elapsed >= s.review_s:
            self._next()
        if self._phase == "hold":
            self._consider(obs, payload)
        return self.prompt()

    def key(self, key: str) -> None:
        """Handle a key press: " ", "r", "s" or "q" (others are ignored)."""
        if self.finished:
            return
        if key == "q":
            self.stop("stopped by the user (q)")
        elif key == "s":
            if self._phase == "review":  # the shown expression is already done: skip the next one
                self._next()
            self.results[self.current] = ExpressionResult(self.current, "skipped", [], "skipped by the user (s)")
            self._message = f"skipped {self.current}"
            self._next()
        elif key == "r":
            self._message = f"again: {self.current}"
            self.results[self.current] = ExpressionResult(self.current)
            if self.current == "rest":
                self.rest = None
            self._candidates = []
            self._enter("countdown")
        elif key == " " and self._last is not None and self._phase in ("countdown", "hold"):
            obs, payload = self._last
            if obs.evidence is None:
                self._message = "no face in this frame: not captured"
                return
            self._candidates.append(Candidate(obs, frame_score(self.current, obs, self.rest), True, payload))
            self._message = "captured (space)"
            manual = sum(c.manual for c in self._candidates)
            if manual >= self.settings.frames_per_expression:
                self._finish_expression()

    def stop(self, reason: str) -> None:
        """End the protocol now (quit, camera lost, end of video), keeping what was captured."""
        if self.finished:
            return
        if self._phase in ("countdown", "hold") and self._candidates:
            self._finish_expression(advance=False)
        for r in self.results.values():
            if r.status == "pending":
                r.status, r.reason = "not_reached", f"not reached: {reason}"
        self.stop_reason = reason
        self._phase = "done"

    # ---- output
    def prompt(self) -> Prompt:
        s = self.settings
        expr = self.current
        elapsed = (self._now - (self._phase_start or self._now)) / 1000.0
        guidance, good = "", False
        if self._last is not None and self._phase in ("countdown", "hold"):
            obs = self._last[0]
            if not obs.face_found and self._last_face_ms is not None:
                missing = (self._now - self._last_face_ms) / 1000.0
                if missing >= s.no_face_warning_s:
                    guidance = (
                        f"{guidance_for('no_face')} (stopping in "
                        f"{max(0.0, s.no_face_timeout_s - missing):.0f} s)"
                    )
                else:
                    guidance = guidance_for(obs.quality.problems[0] if obs.quality.problems else "no_face")
            elif not obs.quality.ok:
                guidance = obs.quality.guidance
            elif self._phase == "hold":
                good = shows_expression(expr, obs.evidence, self.rest)
                guidance = "Hold it..." if good else EXPRESSION_HINTS[expr]
        if self._phase == "countdown":
            left = max(0.0, s.countdown_s - elapsed)
        elif self._phase == "hold":
            left = max(0.0, s.max_hold_s - elapsed)
        else:
            left = 0.0
        message = self._message
        if self._phase == "countdown" and not message:
            message = "Get ready"
        if self._phase == "review":
            r = self.results[expr]
            message = (
                f"Got it: {len(r.frames)} frame(s)   (r = redo)" if r.status == "captured" else f"{expr}: {r.reason}"
            )
        elif self._phase == "done":
            message = f"Finished: {self.stop_reason}" if self.stop_reason else "Finished"
        return Prompt(
            expression=expr,
            instruction=INSTRUCTIONS[expr],
            phase=self._phase,
            step=min(self._step + 1, len(self.expressions)),
            steps=len(self.expressions),
            seconds_left=left,
            guidance=guidance,
            frames_taken=len(self._selected()) if self._phase == "hold" else len(self.results[expr].frames),
            frames_wanted=s.frames_per_expression,
            good_frame=good,
            message=message,
        )

    # ---- internals
    def _enter(self, phase: str) -> None:
        self._phase = phase
        self._phase_start = self._now
        if phase == "countdown":
            self._candidates = []
            self._failures = Counter()
            self._seen = 0
            self._best = 0.0

    def _selected(self) -> list[Candidate]:
        # Recomputed only when the candidates change (update() asks on every frame).
        key = (id(self._candidates), len(self._candidates), sum(id(c) for c in self._candidates))
        if self._selection_key != key:
            s = self.settings
            self._selection = select_spread(self._candidates, s.frames_per_expression, s.min_gap_s * 1000.0)
            self._selection_key = key
        return self._selection

    def _consider(self, obs: FrameObservation, payload: Any) -> None:
        s = self.settings
        expr = self.current
        self._seen += 1
        if obs.evidence is None:
            self._failures["no_face"] += 1
        else:
            if expr != "rest":
                self._best = max(self._best, expression_strength(expr, obs.evidence, self.rest))
            if shows_expression(expr, obs.evidence, self.rest):
                self._failures["shown"] += 1
                if obs.quality.ok:
                    self._candidates.append(Candidate(obs, frame_score(expr, obs, self.rest), False, payload))
                    if len(self._candidates) > s.keep_candidates:
                        # Drop the weakest automatic candidate that is not in the current selection.
                        keep = {id(c) for c in self._selected()}
                        spare = [c for c in self._candidates if id(c) not in keep and not c.manual]
                        if spare:
                            self._candidates.remove(min(spare, key=lambda c: c.score))
                else:
                    self._failures.update(obs.quality.problems)
        elapsed = (self._now - self._phase_start) / 1000.0
        if elapsed >= s.min_hold_s and len(self._selected()) >= s.frames_per_expression:
            self._finish_expression()
        elif elapsed >= s.max_hold_s:
            self._finish_expression()

    def _finish_expression(self, advance: bool = True) -> None:
        expr = self.current
        chosen = self._selected()
        if chosen:
            k = self.settings.frames_per_expression
            note = "" if len(chosen) >= k else f"only {len(chosen)} of {k} frames passed the checks in time"
            self.results[expr] = ExpressionResult(expr, "captured", chosen, note)
            if expr == "rest":
                self.rest = RestReference.from_observations([c.observation for c in chosen])
        else:
            reason = _describe_failures(expr, self._failures, self._seen, self._best)
            self.results[expr] = ExpressionResult(expr, "not_found", [], reason + " (press space to capture by hand)")
        self._candidates = []
        self._message = ""
        if advance:
            self._enter("review")

    def _next(self) -> None:
        self._message = ""
        self._step += 1
        if self._step >= len(self.expressions):
            self._step = len(self.expressions) - 1
            self.stop_reason = self.stop_reason or "completed"
            self._phase = "done"
        else:
            self._enter("countdown")


def _round(v):
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 4)
    return v
