"""Face + FaceFrame -> millimetre measures; detected faces -> the `Measurement` row (the output
contract) with its status (`measure_face`). Pure numpy.

Sign convention: every signed asymmetry is positive when the patient's RIGHT
side sits lower (mouth corner, brow) or opens wider (eye). Definitions with
units are in docs/measurements.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

import numpy as np

from symmetry.face.frame import FaceFrame, face_frame
from symmetry.face.landmarks import Face
from symmetry.vocabulary import Method, Status

MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT = 61, 291
# Upper/lower lid pairs at the pupil: the three middle points of each lid.
EYE_LID_PAIRS_RIGHT = ((160, 144), (159, 145), (158, 153))
EYE_LID_PAIRS_LEFT = ((387, 373), (386, 374), (385, 380))
BROW_RIGHT = (70, 63, 105, 66, 107)
BROW_LEFT = (300, 293, 334, 296, 336)

#: Symmetry index scale, mm: SI = 100 * exp(-(|droop| + |brow asym| + 2 |eye diff|) / SI_SCALE_MM).
SI_SCALE_MM = 25.0
#: Healthy range of the symmetry index (provisional), documented in docs/measurements.md: the
#: six healthy validation faces score 75-97 (per-face medians) with the default methods
#: ("balanced" and "tracked"), which read mouth and brow from the image. Raw landmarks,
#: which lean towards symmetry, score the same faces 87-97.
HEALTHY_SYMMETRY_INDEX = 75.0

#: Pose limits beyond which a photo is not scored (status pose_out_of_range).
MAX_ABS_YAW_DEG = 20.0
MAX_ABS_PITCH_DEG = 25.0
#: Smallest inter-pupil distance at which a photo is measured at all (status "too_small" below):
#: it still gives millimetre-level measures.
MIN_INTERPUPIL_PX = 30.0
#: Smallest inter-pupil distance of a frame that live capture saves (its "too_small" gate): twice
#: the detail a photo needs to be measured at all, because the person in front of the camera
#: can simply move closer, while a photo cannot be retaken.
MIN_CAPTURE_INTERPUPIL_PX = 60.0
#: A second face at least this large (relative inter-pupil distance) makes a photo ambiguous
#: (status "multiple_faces"); a smaller one is a face in the background, and ignored.
SECOND_FACE_RATIO = 0.5
#: Below this eye opening (mm, both eyes) the iris scale is unreliable.
EYES_CLOSED_MM = 4.0
#: Eye openings below this count as this in `eye_opening_ratio` (see there). Chosen on the
#: tuning half of real palsy photos with hand-placed points: ratio r 0.31 -> 0.60 against the
#: hand points' ratio (held-out half 0.65 -> 0.76); 1-1.5 mm did best on the held-out half.
EYE_RATIO_FLOOR_MM = 2.0

#: What a human face can show, mm (docs/measurements.md, "Plausible ranges"): a reading
#: outside it is a failed measurement, never a face, and gets status "implausible".
#: Wide on purpose: the most severe palsy, the broadest smile and the highest brow raise
#: of the real sets stay well inside.
PLAUSIBLE_MM = {
    "mouth_corner_height_right_mm": (20.0, 110.0),
    "mouth_corner_height_left_mm": (20.0, 110.0),
    "brow_height_right_mm": (0.0, 60.0),
    "brow_height_left_mm": (0.0, 60.0),
    "eye_opening_right_mm": (0.0, 20.0),
    "eye_opening_left_mm": (0.0, 20.0),
    "mouth_droop_mm": (-20.0, 20.0),
    "brow_asymmetry_mm": (-20.0, 20.0),
    "eye_opening_difference_mm": (-15.0, 15.0),
}

CONTRACT_COLUMNS = (
    "path", "person", "date", "phase", "expression", "status", "message",
    "width", "height", "yaw_deg", "pitch_deg", "roll_deg", "mm_per_px",
    "eye_opening_right_mm", "eye_opening_left_mm", "eye_opening_ratio",
    "brow_height_right_mm", "brow_height_left_mm", "brow_asymmetry_mm",
    "mouth_corner_height_right_mm", "mouth_corner_height_left_mm", "mouth_droop_mm",
    "symmetry_index", "model", "version",
)
#: Columns added after the contract (never renamed, only appended).
EXTRA_COLUMNS = (
    "interpupil_mm", "eye_opening_difference_mm", "scale_source", "decode_scale",
    "method", "reference",
    "mouth_droop_ci95_mm", "brow_asymmetry_ci95_mm", "eye_opening_difference_ci95_mm",
    "light_balance", "expression_seen",
    "pupil_mid_x_px", "pupil_mid_y_px", "pupil_line_deg", "midline_deg",
)
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS

NAN = float("nan")


@dataclass(frozen=True)
class Measurement:
    """One photo's result: the output-contract row, plus the face for drawing.

    Lengths are millimetres in the face frame; angles are degrees; ratios are
    unitless. When `status` is not "ok", the measures may be NaN and `message`
    says why and what to do. `status` and `method` are held as the plain strings
    the CSV has (a `Status` or `Method` member may be given); any other value
    raises ValueError. Frozen: make a changed copy with `dataclasses.replace`.
    """

    status: str = Status.OK.value
    message: str = ""
    path: str = ""
    person: str = ""
    date: str = ""
    phase: str = ""
    expression: str = ""
    width: int = 0
    height: int = 0
    yaw_deg: float = NAN
    pitch_deg: float = NAN
    roll_deg: float = NAN
    mm_per_px: float = NAN
    eye_opening_right_mm: float = NAN
    eye_opening_left_mm: float = NAN
    eye_opening_ratio: float = NAN
    brow_height_right_mm: float = NAN
    brow_height_left_mm: float = NAN
    brow_asymmetry_mm: float = NAN
    mouth_corner_height_right_mm: float = NAN
    mouth_corner_height_left_mm: float = NAN
    mouth_droop_mm: float = NAN
    symmetry_index: float = NAN
    model: str = ""
    version: str = ""
    interpupil_mm: float = NAN
    eye_opening_difference_mm: float = NAN
    scale_source: str = ""
    decode_scale: int = 1  # the photo was measured at 1/decode_scale of its size (1 = full)
    method: str = Method.LANDMARKS.value
    reference: str = ""
    # Half-width of the 95% interval of each asymmetry, mm (see uncertainty.py).
    mouth_droop_ci95_mm: float = NAN
    brow_asymmetry_ci95_mm: float = NAN
    eye_opening_difference_ci95_mm: float = NAN
    light_balance: float = NAN  # darker/brighter cheek brightness, 1 = even light
    expression_seen: str = ""  # what the face shows, from MediaPipe's blendshapes ("unclear"; "" = no face)
    # Where the face frame sits in the photo (original pixels), so that pictures can be drawn
    # later without measuring again: the midpoint of the pupils, and the directions (degrees
    # in the image, clockwise from the x axis) of the pupil line towards the patient's left
    # and of the midline down the face. Set from `frame` whenever it is given.
    pupil_mid_x_px: float = NAN
    pupil_mid_y_px: float = NAN
    pupil_line_deg: float = NAN
    midline_deg: float = NAN
    face: Face | None = field(default=None, repr=False, compare=False)
    frame: FaceFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _word(Status, self.status, "status"))
        object.__setattr__(self, "method", _word(Method, self.method, "method"))
        if self.frame is not None:
            for name, value in frame_placement(self.frame).items():
                object.__setattr__(self, name, value)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def to_dict(self) -> dict:
        """The output-contract row (docs/measurements.md, "Output columns"), then the added columns."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("face", "frame")}
        return {c: _plain(d[c]) for c in COLUMNS}


def frame_placement(frame: FaceFrame) -> dict[str, float]:
    """The face frame's placement in the photo as the four `pupil_*`/`midline_deg` columns."""
    def degrees(axis: np.ndarray) -> float:
        return float(np.degrees(np.arctan2(axis[1], axis[0])))

    return {"pupil_mid_x_px": float(frame.origin[0]), "pupil_mid_y_px": float(frame.origin[1]),
            "pupil_line_deg": degrees(frame.x_axis), "midline_deg": degrees(frame.y_axis)}


def placed_frame(row: dict, interpupil_mm: float | None = None) -> FaceFrame | None:
    """The face frame stored in a row of scores.csv (see `frame_placement`), scaled to the calibrated
    `interpupil_mm` when given, else to the row's own mm_per_px; None when the row has none."""
    try:
        x, y = float(row["pupil_mid_x_px"]), float(row["pupil_mid_y_px"])
        line, mid = np.radians(float(row["pupil_line_deg"])), np.radians(float(row["midline_deg"]))
        interpupil_px = float(row["interpupil_mm"]) / float(row["mm_per_px"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not np.all(np.isfinite([x, y, line, mid, interpupil_px])) or interpupil_px <= 0:
        return None
    calibrated = interpupil_mm is not None and math.isfinite(interpupil_mm) and interpupil_mm > 0
    mm_per_px = interpupil_mm / interpupil_px if calibrated else float(row["mm_per_px"])
    return FaceFrame(np.array([x, y]), np.array([np.cos(line), np.sin(line)]), np.array([np.cos(mid), np.sin(mid)]),
                     mm_per_px, math.nan, interpupil_px, "calibration" if calibrated else str(row.get("scale_source", "")))


def _word(kind, value, name: str) -> str:
    """`value` as the CSV string of enum `kind`; a ValueError naming the allowed ones otherwise."""
    try:
        return kind(value).value
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}") from None


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def symmetry_index(mouth_droop_mm: float, brow_asymmetry_mm: float, eye_opening_difference_mm: float) -> float:
    """0-100; 100 = perfectly symmetric. Strictly decreasing in each |asymmetry|.

    SI = 100 * exp(-(|droop| + |brow asymmetry| + 2 |eye-opening difference|) / 25 mm).
    The eye counts double because its range is about half that of mouth and brow.
    """
    total = abs(mouth_droop_mm) + abs(brow_asymmetry_mm) + 2.0 * abs(eye_opening_difference_mm)
    return float(100.0 * math.exp(-total / SI_SCALE_MM))


#: Every value in millimetres that scales with the photo's mm-per-pixel.
MM_FIELDS = (
    "eye_opening_right_mm", "eye_opening_left_mm", "brow_height_right_mm", "brow_height_left_mm",
    "brow_asymmetry_mm", "mouth_corner_height_right_mm", "mouth_corner_height_left_mm",
    "mouth_droop_mm", "interpupil_mm", "eye_opening_difference_mm", "mm_per_px",
)


def rescaled(values: dict[str, float], interpupil_mm: float) -> dict[str, float]:
    """The mm values of one photo set to a calibrated inter-pupil distance, with its symmetry index.

    Every mm value is pixel geometry times mm_per_px, so scaling all of them by
    interpupil_mm / (the photo's own inter-pupil mm) is exact. `values` holds the
    `MM_FIELDS` (missing or non-finite ones are left out); the result holds the
    rescaled ones and `symmetry_index`. Unchanged when either distance is unusable.
    """
    own = values.get("interpupil_mm", math.nan)
    if not (math.isfinite(interpupil_mm) and interpupil_mm > 0 and math.isfinite(own) and own > 0):
        return {}
    k = interpupil_mm / own
    out = {f: float(values[f]) * k for f in MM_FIELDS if f in values and math.isfinite(float(values[f]))}
    if all(f in out for f in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm")):
        out["symmetry_index"] = symmetry_index(out["mouth_droop_mm"], out["brow_asymmetry_mm"],
                                               out["eye_opening_difference_mm"])
    return out


def eye_opening_mm(points_mm: np.ndarray, pairs) -> float:
    """Mean lower-minus-upper lid distance along the frame's vertical, mm; 0 when the landmark
    model's lids cross on a shut eye (an eye cannot open less than shut)."""
    return max(0.0, float(np.mean([points_mm[lo, 1] - points_mm[up, 1] for up, lo in pairs])))


def eye_opening_ratio(right_mm: float, left_mm: float) -> float:
    """Smaller/larger eye opening, each taken as at least `EYE_RATIO_FLOOR_MM`.

    Below about 2 mm the landmarks cannot tell a slit from a shut eye (their lids touch or
    cross), and a ratio of two such numbers is noise; with the floor, two shut eyes read 1
    (even) and one shut eye beside a 10 mm one reads 0.2."""
    right, left = max(right_mm, EYE_RATIO_FLOOR_MM), max(left_mm, EYE_RATIO_FLOOR_MM)
    return min(right, left) / max(right, left)


def measure_points(points_mm: np.ndarray) -> dict[str, float]:
    """All single-photo measures from (478, 2) face-frame millimetre points."""
    eye_r = eye_opening_mm(points_mm, EYE_LID_PAIRS_RIGHT)
    eye_l = eye_opening_mm(points_mm, EYE_LID_PAIRS_LEFT)
    brow_r = -float(np.mean(points_mm[list(BROW_RIGHT), 1]))
    brow_l = -float(np.mean(points_mm[list(BROW_LEFT), 1]))
    mouth_r = float(points_mm[MOUTH_CORNER_RIGHT, 1])
    mouth_l = float(points_mm[MOUTH_CORNER_LEFT, 1])
    out = {
        "eye_opening_right_mm": eye_r,
        "eye_opening_left_mm": eye_l,
        "eye_opening_ratio": eye_opening_ratio(eye_r, eye_l),
        "eye_opening_difference_mm": eye_r - eye_l,
        "brow_height_right_mm": brow_r,
        "brow_height_left_mm": brow_l,
        "brow_asymmetry_mm": brow_l - brow_r,
        "mouth_corner_height_right_mm": mouth_r,
        "mouth_corner_height_left_mm": mouth_l,
        "mouth_droop_mm": mouth_r - mouth_l,
    }
    out["symmetry_index"] = symmetry_index(
        out["mouth_droop_mm"], out["brow_asymmetry_mm"], out["eye_opening_difference_mm"]
    )
    return out


def implausible(values: dict) -> str:
    """Empty when every measure in `values` lies in `PLAUSIBLE_MM`, else which ones do not."""
    bad = [f"{name.removesuffix('_mm').replace('_', ' ')} {values[name]:+.1f} mm (possible {lo:g} to {hi:g})"
           for name, (lo, hi) in PLAUSIBLE_MM.items()
           if name in values and math.isfinite(values[name]) and not lo <= values[name] <= hi]
    return ", ".join(bad)


def pose_problem(face: Face) -> str:
    """Empty when the head pose is within limits, else a message saying what to fix."""
    if abs(face.yaw_deg) > MAX_ABS_YAW_DEG:
        side = "left" if face.yaw_deg > 0 else "right"
        return (
            f"head turned {abs(face.yaw_deg):.0f} degrees (limit {MAX_ABS_YAW_DEG:.0f}): yaw fakes "
            f"asymmetry. Face the camera squarely (turn a little to the image's {side})."
        )
    if abs(face.pitch_deg) > MAX_ABS_PITCH_DEG:
        which = "lower your chin" if face.pitch_deg > 0 else "lift your chin"
        return (
            f"head tilted {abs(face.pitch_deg):.0f} degrees up or down (limit {MAX_ABS_PITCH_DEG:.0f}): "
            f"{which} and look straight into the camera."
        )
    return ""


def measure_face(faces: list[Face], base: Measurement, interpupil_mm: float | None = None) -> Measurement:
    """`base` measured from the detected `faces` (largest first), with its status: "no_face",
    "multiple_faces", "too_small", "pose_out_of_range" (measured, not trusted) or "ok". Pure."""
    if not faces:
        return replace(base, status=Status.NO_FACE,
                       message="no face found. Use a well-lit, frontal photo with the whole face visible.")
    face = faces[0]
    notes = []
    if len(faces) > 1:
        if faces[1].interpupil_px >= SECOND_FACE_RATIO * face.interpupil_px:
            return replace(base, status=Status.MULTIPLE_FACES,
                           message=f"{len(faces)} faces of similar size found. Crop the photo to one person.")
        notes.append("a smaller face in the background was ignored")
    if face.interpupil_px < MIN_INTERPUPIL_PX:
        return replace(base, status=Status.TOO_SMALL, message=(
            f"the face is too small: pupils {face.interpupil_px:.0f} px apart (need at least "
            f"{MIN_INTERPUPIL_PX:.0f}). Move closer or use a higher-resolution photo."))
    if face.turned_deg:
        turn = {90: "90 degrees anticlockwise", 180: "upside down", 270: "90 degrees clockwise"}[face.turned_deg]
        notes.append(f"the face was not upright: measured with the photo turned {turn}. Save the photo upright "
                     "(or fix its orientation setting)")
    frame = face_frame(face.points, interpupil_mm)
    values = measure_points(frame.to_mm(face.points))
    problem = pose_problem(face)
    status = Status.POSE_OUT_OF_RANGE if problem else Status.OK
    if max(values["eye_opening_right_mm"], values["eye_opening_left_mm"]) < EYES_CLOSED_MM and frame.scale_source == "iris":
        notes.append(
            "eyes closed: the mm scale from the iris is less reliable; "
            "pass interpupil_mm from a resting photo of the same person"
        )
    return replace(base, status=status, message=joined(problem, *notes), yaw_deg=face.yaw_deg,
                   pitch_deg=face.pitch_deg, roll_deg=face.roll_deg, mm_per_px=frame.mm_per_px,
                   interpupil_mm=frame.interpupil_mm, scale_source=frame.scale_source, face=face, frame=frame,
                   **values)


def joined(*notes: str) -> str:
    """The non-empty notes of a row's message, joined with "; "."""
    return "; ".join(filter(None, notes))
