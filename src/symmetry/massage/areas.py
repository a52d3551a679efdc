"""Kneading areas of each side as polygons of the face mesh, and which side is the weak one.

Each area follows one muscle group massaged in facial palsy: the forehead (frontalis), around
the eye (orbicularis oculi: a ring that leaves the eye itself out), the cheek (zygomaticus major
and minor, from the cheekbone down to the mouth corner), around the mouth (orbicularis oris: a
ring that leaves the lips out) and the jaw (masseter). Polygons are mesh indices on the
patient's RIGHT side; the left side's are their mirror twins. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from symmetry.face.landmarks import MIRROR

#: name -> (muscle, outline, hole or ()), right side, outline in drawing order.
AREA_MESH = {
    "forehead": ("frontalis", (9, 107, 66, 105, 63, 70, 71, 21, 54, 103, 67, 109, 10, 151), ()),
    "eye": ("orbicularis oculi",
            (55, 65, 52, 53, 46, 124, 35, 111, 117, 118, 119, 120, 121, 128, 245, 193),
            (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)),
    "cheek": ("zygomaticus major and minor",
              (117, 118, 101, 36, 206, 216, 186, 57, 212, 214, 192, 213, 147, 123, 116, 111), ()),
    "mouth": ("orbicularis oris",
              (164, 167, 165, 92, 186, 57, 43, 106, 182, 83, 18,
               17, 84, 181, 91, 146, 61, 185, 40, 39, 37, 0), ()),
    "jaw": ("masseter", (227, 137, 177, 215, 138, 135, 136, 172, 58, 132, 93, 234), ()),
}
AREAS = tuple(AREA_MESH)
#: (name, side) -> (muscle, outline indices, hole indices or None), both sides, worked out once.
_INDEX = {
    (name, side): (muscle, np.array(outline if side == "right" else MIRROR[list(outline)]),
                   (np.array(hole if side == "right" else MIRROR[list(hole)]) if hole else None))
    for side in ("right", "left") for name, (muscle, outline, hole) in AREA_MESH.items()
}

#: A resting asymmetry of this size (mm) counts as one unit of evidence for the weak side, as
#: the report's affected side does (trends: SIDE_EVIDENCE_MM).
SIDE_EVIDENCE_MM = 1.5


@dataclass(frozen=True)
class KneadingArea:
    """One area on one side (the patient's): pixel polygon, and an optional hole (the eye)."""

    name: str
    muscle: str
    side: str
    polygon: np.ndarray = field(repr=False, compare=False)
    hole: np.ndarray | None = field(default=None, repr=False, compare=False)
    emphasised: bool = False


def kneading_areas(points_px: np.ndarray, weak_side: str | None = None) -> tuple[KneadingArea, ...]:
    """The five areas on both sides from (478, 2) landmark pixels; the weak side's emphasised.

    Raises:
        ValueError: `weak_side` is not "right", "left" or None.
    """
    if weak_side not in (None, "right", "left"):
        raise ValueError(f"weak_side must be 'right', 'left' or None, not {weak_side!r}")
    points = np.asarray(points_px, dtype=float)
    return tuple(KneadingArea(name, muscle, side, points[outline], points[hole] if hole is not None else None,
                              side == weak_side) for (name, side), (muscle, outline, hole) in _INDEX.items())


def weak_side(droop_mm: float, brow_asymmetry_mm: float) -> tuple[str | None, str]:
    """The weaker side from a resting face's mouth droop and brow asymmetry (both + when the
    patient's RIGHT side is lower), and why; None when neither points clearly to one side.

    The lower mouth corner and the lower brow are the palsy's resting signs; each counts in
    units of `SIDE_EVIDENCE_MM`, capped at 3 so one wild reading cannot decide alone.
    """
    score, parts = 0.0, []
    for value, what in ((droop_mm, "mouth corner"), (brow_asymmetry_mm, "brow")):
        if value is not None and math.isfinite(value):
            score += float(np.clip(value / SIDE_EVIDENCE_MM, -3, 3))
            if abs(value) >= SIDE_EVIDENCE_MM:
                parts.append(f"{what} {abs(value):.1f} mm lower on the {'right' if value > 0 else 'left'}")
    if abs(score) < 1.0:
        return None, "no clear one-sided droop at rest"
    return ("right" if score > 0 else "left"), "; ".join(parts) or f"evidence score {score:+.1f}"
