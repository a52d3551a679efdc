"""The acupoints of facial-palsy massage, placed on a person's own face from its 478 landmarks.

One table (`POINTS`) holds, per point: code, name, the standard location text, how it is
built here, and an uncertainty radius. docs/massage.md renders the same table.

How a point is built: in the face frame (origin between the pupils, x towards the patient's
LEFT, y down the face, mm; `symmetry.face.frame`), from landmarks and the face's own
proportional unit, the B-cun (`face_cun_mm`), then mapped back to pixels. Left and right are
always the patient's. A point whose definition names a bone, the pupil or the outer canthus is
built from those (palsy does not move them); a point defined on soft tissue follows it (Dicang
beside the mouth corner moves with a drooping corner, Yangbai above the brow with a low brow).

Pure numpy: no model, no OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symmetry.face.frame import FaceFrame, face_frame
from symmetry.face.landmarks import MIRROR
from symmetry.massage.table import DRAWN, MIDLINE

_MIRROR = MIRROR.tolist()  # plain ints: indexing with them is faster than with numpy scalars

SIDES = ("right", "left")
#: Lateral direction of each side along the frame's x axis (x points to the patient's left).
SIGN = {"right": -1.0, "left": 1.0}

# Mesh indices on the patient's RIGHT side; the left side's are MIRROR[i].
PUPIL = 468
OUTER_CANTHUS, INNER_CANTHUS = 33, 133
LOWER_LID_AT_PUPIL = 145
BROW_UPPER = (70, 63, 105, 66, 107)  # outer -> inner, upper edge of the brow
BROW_LOWER = (46, 53, 52, 65, 55)  # outer -> inner, lower edge
ALA_LATERAL = (129, 102, 48, 64)  # lateral border of the ala, top -> bottom
ALA_BASE = 98  # lower border of the ala
MOUTH_CORNER = 61
GONION = 172  # the angle of the mandible as the mesh outlines it
#: The face outline from the ear to the chin (jaw line).
JAW_LINE = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152)
TRAGUS_LEVEL = (234, 93)  # outline beside the ear, in front of the tragus
# Midline (no mirror twin).
GLABELLA, SUBNASALE, UPPER_LIP_TOP, MENTOLABIAL = 9, 2, 0, 18

#: The face B-cun is a third of the glabella-to-subnasale height (see `face_cun_mm`).
CUN_PARTS = 3.0


@dataclass(frozen=True)
class Acupoint:
    """One placed point. x/y_mm are face-frame millimetres; x/y_px pixels of the image the
    landmarks are in. side: "right", "left" (the patient's) or "midline"."""

    code: str
    name: str
    side: str
    x_px: float
    y_px: float
    x_mm: float
    y_mm: float
    radius_mm: float

    @property
    def label(self) -> str:
        return self.code if self.side == MIDLINE else f"{self.code} {self.side[0].upper()}"

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "side": self.side, "x_px": round(self.x_px, 1),
                "y_px": round(self.y_px, 1), "x_mm": round(self.x_mm, 2), "y_mm": round(self.y_mm, 2),
                "radius_mm": self.radius_mm}


@dataclass(frozen=True)
class AcupointMap:
    """All points of one face, in table order; `cun_mm` is that face's B-cun."""

    points: tuple[Acupoint, ...]
    cun_mm: float
    frame: FaceFrame = field(repr=False, compare=False)

    def get(self, code: str, side: str = MIDLINE) -> Acupoint | None:
        return next((p for p in self.points if p.code == code and p.side == side), None)

    def of(self, code: str) -> list[Acupoint]:
        """Every point with this code (both sides of a bilateral point)."""
        return [p for p in self.points if p.code == code]

    def px(self) -> np.ndarray:
        """(N, 2) pixel positions, in table order."""
        return np.array([[p.x_px, p.y_px] for p in self.points], dtype=float).reshape(-1, 2)

    def to_dicts(self) -> list[dict]:
        return [p.to_dict() for p in self.points]


class _Geometry:
    """The face in frame millimetres, with side-aware landmark look-up."""

    def __init__(self, mm: np.ndarray, cun: float):
        self.mm, self.cun = mm, cun
        self._brow: dict[str, np.ndarray] = {}  # several points use each brow line

    def p(self, index: int, side: str) -> np.ndarray:
        return self.mm[index if side == "right" else _MIRROR[index]]

    def mean(self, indices, side: str) -> np.ndarray:
        return self.mm[[i if side == "right" else _MIRROR[i] for i in indices]].sum(axis=0) / len(indices)

    def brow_line(self, side: str) -> np.ndarray:
        """(5, 2) the middle of the brow, outer -> inner."""
        if side not in self._brow:
            upper = self.mm[[i if side == "right" else _MIRROR[i] for i in BROW_UPPER]]
            lower = self.mm[[i if side == "right" else _MIRROR[i] for i in BROW_LOWER]]
            self._brow[side] = (upper + lower) / 2
        return self._brow[side]

    def brow_y_at(self, side: str, x: float) -> float:
        line = self.brow_line(side)
        order = np.argsort(line[:, 0])
        return float(np.interp(x, line[order, 0], line[order, 1]))


def face_cun_mm(points_mm: np.ndarray) -> float:
    """The face's B-cun, mm: a third of the glabella-to-subnasale height along the frame's y.

    WHO 2008 takes the glabella-to-anterior-hairline distance as 3 B-cun. The hairline is
    hidden by hair or receded in many adults, and the mesh does not see it; by the canon of
    facial thirds the forehead is as high as the nose (glabella to subnasale), which the mesh
    sees well and palsy does not move. Adults: about 17-23 mm.
    """
    return float(points_mm[SUBNASALE, 1] - points_mm[GLABELLA, 1]) / CUN_PARTS


# ------------------------------------------------------------------ constructions (mm, one side)
def _cuanzhu(g: _Geometry, side: str) -> np.ndarray:
    return g.mean((BROW_UPPER[-1], BROW_LOWER[-1]), side)


def _sizhukong(g: _Geometry, side: str) -> np.ndarray:
    return g.mean((BROW_UPPER[0], BROW_LOWER[0]), side)


def _yuyao(g: _Geometry, side: str) -> np.ndarray:
    x = g.p(PUPIL, side)[0]
    return np.array([x, g.brow_y_at(side, x)])


def _yangbai(g: _Geometry, side: str) -> np.ndarray:
    return _yuyao(g, side) - np.array([0.0, g.cun])


def _taiyang(g: _Geometry, side: str) -> np.ndarray:
    middle = (_sizhukong(g, side) + g.p(OUTER_CANTHUS, side)) / 2
    # 1 B-cun posterior, on a temple that faces about 60 degrees away from the camera:
    # seen from the front it lies about half a B-cun lateral.
    return middle + np.array([SIGN[side] * 0.5 * g.cun, 0.0])


def _tongziliao(g: _Geometry, side: str) -> np.ndarray:
    return g.p(OUTER_CANTHUS, side) + np.array([SIGN[side] * 0.5 * g.cun, 0.0])


def _below_pupil(cun: float):
    def build(g: _Geometry, side: str) -> np.ndarray:
        return g.p(PUPIL, side) + np.array([0.0, cun * g.cun])
    return build


def _chengqi(g: _Geometry, side: str) -> np.ndarray:
    point = _below_pupil(0.7)(g, side)
    # Never on the eyeball: at least 0.15 B-cun below the lower lid (a sagging lid takes it along).
    point[1] = max(point[1], g.p(LOWER_LID_AT_PUPIL, side)[1] + 0.15 * g.cun)
    return point


def _juliao(g: _Geometry, side: str) -> np.ndarray:
    return np.array([g.p(PUPIL, side)[0], g.p(ALA_BASE, side)[1]])


def _quanliao(g: _Geometry, side: str) -> np.ndarray:
    return np.array([g.p(OUTER_CANTHUS, side)[0], g.p(ALA_BASE, side)[1]])


def _yingxiang(g: _Geometry, side: str) -> np.ndarray:
    border = np.array([g.p(i, side) for i in ALA_LATERAL])
    lateral = border[np.argmax(SIGN[side] * border[:, 0])]
    middle_y = (border[0, 1] + border[-1, 1]) / 2
    return np.array([lateral[0] + SIGN[side] * 0.15 * g.cun, middle_y])


def _dicang(g: _Geometry, side: str) -> np.ndarray:
    return g.p(MOUTH_CORNER, side) + np.array([SIGN[side] * 0.4 * g.cun, 0.0])


def _along(line: np.ndarray, distance: float) -> np.ndarray:
    """The point `distance` along the polyline `line` (its end if shorter)."""
    d = np.diff(line, axis=0)
    steps = np.hypot(d[:, 0], d[:, 1])
    cumulative = np.concatenate([[0.0], np.cumsum(steps)])
    if distance >= cumulative[-1]:
        return line[-1].copy()
    i = int(np.searchsorted(cumulative, distance, side="right")) - 1
    t = (distance - cumulative[i]) / max(steps[i], 1e-9)
    return line[i] + t * (line[i + 1] - line[i])


def _daying(g: _Geometry, side: str) -> np.ndarray:
    start = JAW_LINE.index(GONION)
    line = np.array([g.p(i, side) for i in JAW_LINE[start:]])
    return _along(line, 1.3 * g.cun)


def _jiache(g: _Geometry, side: str) -> np.ndarray:
    # One finger-breadth (about 0.75 B-cun) anterosuperior to the angle: seen from the front,
    # mostly up, a little towards the midline.
    direction = np.array([-SIGN[side] * np.sin(np.radians(30)), -np.cos(np.radians(30))])
    return g.p(GONION, side) + 0.75 * g.cun * direction


def _xiaguan(g: _Geometry, side: str) -> np.ndarray:
    # In front of the tragus, below the zygomatic arch; the outline there is the side of the
    # face, so the point is taken a third of a B-cun inside it.
    return g.mean(TRAGUS_LEVEL, side) - np.array([SIGN[side] * g.cun / 3, 0.0])


def _yintang(g: _Geometry) -> np.ndarray:
    return (_cuanzhu(g, "right") + _cuanzhu(g, "left")) / 2


def _shuigou(g: _Geometry) -> np.ndarray:
    return (g.mm[SUBNASALE] + g.mm[UPPER_LIP_TOP]) / 2


def _chengjiang(g: _Geometry) -> np.ndarray:
    return g.mm[MENTOLABIAL].copy()


_BUILD = {
    "EX-HN3": _yintang, "BL2": _cuanzhu, "EX-HN4": _yuyao, "TE23": _sizhukong, "GB14": _yangbai,
    "EX-HN5": _taiyang, "GB1": _tongziliao, "ST1": _chengqi, "ST2": _below_pupil(1.0), "ST3": _juliao,
    "SI18": _quanliao, "LI20": _yingxiang, "GV26": _shuigou, "ST4": _dicang, "CV24": _chengjiang,
    "ST5": _daying, "ST6": _jiache, "ST7": _xiaguan,
}


# ------------------------------------------------------------------ the public function
def acupoints(face, frame: FaceFrame | None = None, *, interpupil_mm: float | None = None) -> AcupointMap:
    """The massage points of one face.

    Args:
        face: a `Face`, a `Measurement` with a face (its frame is used), or (478, 2) landmark pixels.
        frame: the face frame to place the points in; default: built from the landmarks.
        interpupil_mm: the person's calibrated inter-pupil distance (sets the frame's mm scale;
            the pixel positions do not depend on it, only the mm figures do).

    Raises:
        ValueError: no landmarks (a Measurement without a face), or not 478 points.
    """
    points, frame = _points_and_frame(face, frame, interpupil_mm)
    mm = frame.to_mm(points)
    g = _Geometry(mm, face_cun_mm(mm))
    placed = []  # (spec, side, mm)
    for spec in DRAWN:
        if spec.kind == MIDLINE:
            placed.append((spec, MIDLINE, _BUILD[spec.code](g)))
        else:
            placed += [(spec, side, _BUILD[spec.code](g, side)) for side in SIDES]
    at_mm = np.array([m for _, _, m in placed])
    at_px = frame.to_px(at_mm)  # one transform for all points
    out = tuple(Acupoint(spec.code, spec.name, side, px[0], px[1], m[0], m[1], spec.radius_mm)
                for (spec, side, _), m, px in zip(placed, at_mm.tolist(), at_px.tolist()))  # plain floats
    return AcupointMap(out, g.cun, frame)


def _points_and_frame(face, frame, interpupil_mm) -> tuple[np.ndarray, FaceFrame]:
    if hasattr(face, "status") and hasattr(face, "frame"):  # a Measurement
        if face.face is None:
            raise ValueError(f"no face in this measurement (status {face.status}): no points to place")
        frame = frame or face.frame
        face = face.face
    points = np.asarray(getattr(face, "points", face), dtype=float)
    if points.shape != (478, 2):
        raise ValueError(f"expected (478, 2) landmark pixels, got shape {points.shape}")
    return points, frame or face_frame(points, interpupil_mm)


def frontalized(face, frame: FaceFrame | None = None) -> np.ndarray:
    """The face's landmarks (pixels) with its head turn (yaw) taken out, for checking symmetry.

    A head turned by a few degrees shifts deep points (the jaw, the face outline) sideways
    against shallow ones by several mm, so that even a symmetric face's points no longer mirror
    each other in the photo. Each landmark's depth (MediaPipe's z) gives the shift: the turn
    that makes every mirror pair of landmarks (`MIRROR`) most symmetric is fitted by least
    squares (x_i + x_mirror = 2c + t (z_i + z_mirror)) and removed (x - t z - c).
    """
    points, frame = _points_and_frame(face, frame, None)
    face = getattr(face, "face", face)
    mm = frame.to_mm(points)
    z = np.asarray(face.depth, dtype=float) * face.image_size[0] * frame.mm_per_px
    pair_x, pair_z = mm[:, 0] + mm[MIRROR, 0], z + z[MIRROR]
    design = np.column_stack([np.ones_like(pair_z), pair_z])
    twice_c, t = np.linalg.lstsq(design, pair_x, rcond=None)[0]
    mm[:, 0] -= t * z + twice_c / 2
    return frame.to_px(mm)
