"""Which expression a face shows, from MediaPipe's blendshapes and the measured lid opening.

Blendshapes are 0..1 coefficients: evidence, not millimetres. For eye closure the
measured lid opening counts too, relative to the same person's resting opening
(`RestReference`). The strongest SIDE counts for each movement, because in a palsy
the weak side may not move at all.

    face (+ its Measurement) --expression_evidence--> Evidence
    Evidence (+ RestReference) --classify_expression--> "smile", "rest", ... or ""

Used by photo scoring (`expression_seen`) and by capture (choosing frames, the live
protocol). Pure functions on numbers: no image, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from symmetry.face.landmarks import Face
from symmetry.face.measures import Measurement
from symmetry.vocabulary import CLOSURE_EXPRESSIONS, PROTOCOL_EXPRESSIONS

#: Thresholds on blendshape evidence (0..1). Documented heuristics, tuned on the
#: sample faces and MediaPipe's documented ranges; see tests/capture/test_capture.py.
BROW_RAISE_MIN = 0.4
SMILE_MIN = 0.5
PUCKER_MIN = 0.4
#: Eyes count as closed when the stronger eyeBlink is at least this...
BLINK_MIN = 0.3
#: ...and, when rest frames are known, the better-closing eye has lost at least this
#: fraction of its resting opening (closure = 1 - opening / resting opening).
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
class Evidence:
    """Expression evidence for one face: blendshape maxima over the two sides (0..1),
    and the eye openings as fractions of the inter-pupil distance."""

    brow_raise: float
    blink: float
    squeeze: float
    smile: float
    pucker: float
    jaw_open: float
    eye_open_right: float = math.nan
    eye_open_left: float = math.nan

    @property
    def activity(self) -> float:
        """The strongest movement of any kind; low at rest."""
        return max(self.brow_raise, self.blink, self.squeeze, self.smile, self.pucker, self.jaw_open)

    def to_dict(self) -> dict:
        return {**asdict(self), "activity": self.activity}


@dataclass(frozen=True)
class RestReference:
    """The person's resting values in this session, from their rest frames."""

    eye_open_right: float
    eye_open_left: float
    squeeze: float = 0.0
    interpupil_mm: float = math.nan

    @classmethod
    def from_evidence(cls, evidence: list[Evidence], interpupil_mm: list[float]) -> RestReference | None:
        """Medians over the rest frames' evidence and their measured inter-pupil distances."""
        if not evidence:
            return None
        return cls(
            float(np.nanmedian([e.eye_open_right for e in evidence])),
            float(np.nanmedian([e.eye_open_left for e in evidence])),
            float(np.median([e.squeeze for e in evidence])),
            float(np.median(interpupil_mm)) if interpupil_mm else math.nan,
        )


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
    """Blink evidence, and (when rest is known) the lids really lower than at rest."""
    closure = eye_closure(evidence, rest)
    if evidence.blink < BLINK_MIN:
        return False
    return math.isnan(closure) or closure >= CLOSURE_MIN


def expression_strength(expression: str, evidence: Evidence, rest: RestReference | None = None) -> float:
    """How strongly this face shows `expression` (higher is better; rest: 1 - activity)."""
    if expression == "rest":
        return 1.0 - evidence.activity
    if expression == "brow_raise":
        return evidence.brow_raise
    if expression in CLOSURE_EXPRESSIONS:
        closure = eye_closure(evidence, rest)
        shut = evidence.blink if math.isnan(closure) else (closure + evidence.blink) / 2.0
        # Tight closure: the harder the squeeze, the better the frame.
        return shut + evidence.squeeze if expression == "eyes_closed_tight" else shut
    if expression == "smile":
        return evidence.smile
    if expression == "pucker":
        return evidence.pucker
    raise ValueError(f"unknown expression {expression!r}; choose from {PROTOCOL_EXPRESSIONS}")


def shows_expression(expression: str, evidence: Evidence, rest: RestReference | None = None) -> bool:
    """Is `expression` visible? Used when the person has been told what to do, so gentle
    and tight closure are not told apart here (the instruction says which)."""
    if expression == "rest":
        closure = eye_closure(evidence, rest)
        eyes_open = evidence.blink < BLINK_MIN and not (closure >= REST_MAX_CLOSURE)
        moving = max(evidence.brow_raise, evidence.squeeze, evidence.smile, evidence.pucker, evidence.jaw_open)
        return eyes_open and moving < REST_MAX_ACTIVITY
    if expression == "brow_raise":
        return evidence.brow_raise >= BROW_RAISE_MIN
    if expression in CLOSURE_EXPRESSIONS:
        return eyes_closed(evidence, rest)
    if expression == "smile":
        return evidence.smile >= SMILE_MIN
    if expression == "pucker":
        return evidence.pucker >= PUCKER_MIN
    raise ValueError(f"unknown expression {expression!r}; choose from {PROTOCOL_EXPRESSIONS}")


def classify_expression(evidence: Evidence, rest: RestReference | None = None) -> str:
    """Which protocol expression a face shows with no instruction to go by ("" = none/in between).

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
