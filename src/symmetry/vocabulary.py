"""The words every layer shares: statuses, methods, expressions, phases and the colours.

One place for each, so that the CSV, the report, the plots and the live window say the
same thing. The enums' values are the strings written to scores.csv; an enum member
compares equal to its string, and prints as it.
"""

from enum import Enum


class _Word(str, Enum):
    """A str-valued enum that prints as its value (as it is written in the CSV)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Status(_Word):
    """Why a photo was or was not measured (the `status` column)."""

    OK = "ok"
    POSE_OUT_OF_RANGE = "pose_out_of_range"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    TOO_SMALL = "too_small"
    UNREADABLE = "unreadable"
    UNEVEN_LIGHT = "uneven_light"
    IMPLAUSIBLE = "implausible"
    #: the photo could not be processed at all (batch: a crash or a damaged file)
    ERROR = "error"
    #: internal to tracking: the photo does not line up with its reference photo, so it is
    #: measured on its own instead; never written to a table
    NOT_THE_REFERENCE_FACE = "not_the_reference_face"


#: Statuses whose rows still carry a face (landmarks, a frame): drawn in overlays.
FACE_STATUSES = (Status.OK, Status.POSE_OUT_OF_RANGE)


class Method(_Word):
    """How the landmarks were read (the `method` column; docs/measurements.md)."""

    LANDMARKS = "landmarks"
    CANONICAL = "canonical"
    MIRRORED = "mirrored"
    BALANCED = "balanced"
    TRACKED = "tracked"


#: Expressions in protocol order (docs/measurements.md, "Expressions").
EXPRESSIONS = (
    "rest", "brow_raise", "eyes_closed_gentle", "eyes_closed_tight",
    "smile", "smile_open", "pucker", "eee", "snarl",
)
#: The short protocol that `symmetry capture` guides a person through.
PROTOCOL_EXPRESSIONS = ("rest", "brow_raise", "eyes_closed_gentle", "eyes_closed_tight", "smile", "pucker")
REST = "rest"
SMILE_EXPRESSIONS = ("smile", "smile_open", "eee")
BROW_EXPRESSIONS = ("brow_raise",)
CLOSURE_EXPRESSIONS = ("eyes_closed_gentle", "eyes_closed_tight")
#: What a face shows when its blendshapes sit between two expressions (`expression_seen`).
UNCLEAR = "unclear"

#: Massage phases: photos before and after a massage; "" is a session with no massage.
PHASES = ("pre", "", "post")
#: Order of the phases within one date.
PHASE_RANK = {"pre": 0, "": 1, "post": 2}

#: Okabe-Ito colours (readable with colour-blindness), as hex for plots and HTML.
ORANGE = "#E69F00"  # patient's right
SKY_BLUE = "#56B4E9"  # patient's left
GREEN = "#009E73"  # healthy range
YELLOW = "#F0E442"  # face frame: pupil line and midline
BLUE = "#0072B2"  # before massage
VERMILLION = "#D55E00"  # after massage
PURPLE = "#CC79A7"  # massage log
GREY = "#999999"

RIGHT_COLOUR, LEFT_COLOUR, FRAME_COLOUR = ORANGE, SKY_BLUE, YELLOW

#: Each expression's colour in time plots.
EXPRESSION_COLOURS = {
    "rest": GREY,
    "brow_raise": PURPLE,
    "eyes_closed_gentle": SKY_BLUE,
    "eyes_closed_tight": BLUE,
    "smile": ORANGE,
    "pucker": GREEN,
}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """"#E69F00" -> (230, 159, 0), for drawing on RGB arrays."""
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def bgr(hex_colour: str) -> tuple[int, int, int]:
    """"#E69F00" -> (0, 159, 230), for OpenCV windows."""
    r, g, b = rgb(hex_colour)
    return b, g, r
