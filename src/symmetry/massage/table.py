"""The point table: code, name, standard location, how it is built here, uncertainty radius
(the rows are in points.toml beside this module).

Location texts follow the WHO Standard Acupuncture Point Locations in the Western Pacific
Region (WHO 2008) for meridian points; the three extra points (EX-HN) follow the WHO
nomenclature of 1991 and China's national standard GB/T 12346-2006. "B-cun" is the face's own
proportional unit (`acupoints.face_cun_mm`). The radius says how far the true point may lie
from the drawn one: the spread between standard texts and teaching, the frontal view's
foreshortening at the side of the face, and landmark noise; press the whole circle.
"""

from __future__ import annotations

from dataclasses import dataclass

MIDLINE = "midline"


@dataclass(frozen=True)
class PointSpec:
    """One row of the point table.

    kind: "bilateral" (one point per side), "midline", or "hidden" (not visible in a frontal
    photo: listed with where to find it, never drawn). anchor: what places it ("bone": structures
    palsy does not move; "soft tissue": follows the face's skin, as its definition says).
    """

    code: str
    name: str
    kind: str
    location: str
    construction: str
    radius_mm: float
    anchor: str = "bone"
    source: str = "WHO 2008"
    find: str = ""  # plain words for finding it by touch


KINDS = ("bilateral", "midline", "hidden")
ANCHORS = ("bone", "soft tissue")


def _load() -> tuple[str, tuple[PointSpec, ...]]:
    """The table from points.toml beside this module (data, so that 21 rows of the same shape
    are not code), checked as it is read."""
    import tomllib
    from importlib import resources

    doc = tomllib.loads((resources.files("symmetry.massage") / "points.toml").read_text(encoding="utf-8"))
    rows = tuple(PointSpec(**row) for row in doc["point"])
    for row in rows:  # a typo in the data must fail at once, not draw a wrong picture
        if row.kind not in KINDS or row.anchor not in ANCHORS or (row.radius_mm > 0) == (row.kind == "hidden"):
            raise ValueError(f"points.toml: bad row for {row.code}: kind {row.kind!r}, anchor {row.anchor!r}, "
                             f"radius {row.radius_mm}")
    return doc["cun"], rows


CUN_TEXT, POINTS = _load()
BY_CODE = {spec.code: spec for spec in POINTS}
#: Points placed on the face (drawn); the rest are listed only.
DRAWN = tuple(spec for spec in POINTS if spec.kind != "hidden")
HIDDEN = tuple(spec for spec in POINTS if spec.kind == "hidden")


def spec(code: str) -> PointSpec:
    """The table row of `code` (case-insensitive).

    Raises:
        KeyError: no such point in the table.
    """
    found = BY_CODE.get(code.strip().upper())
    if found is None:
        raise KeyError(code)
    return found
