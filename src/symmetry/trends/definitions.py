"""What each measure of a trend means, and the words the trend tables share.

Signs: a signed asymmetry is positive when the patient's RIGHT side is lower (mouth,
brow), opens wider (eye), or moves / closes less (movement measures).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from symmetry.face.measures import HEALTHY_SYMMETRY_INDEX, SI_SCALE_MM
from symmetry.vocabulary import PHASE_RANK, REST

#: Documented healthy bands (provisional) for mouth and brow asymmetry, mm (|asymmetry| at or
#: below it): the six healthy validation faces read mouth droops of 0-2.4 mm and brow
#: asymmetries of 0-3.3 mm (one face 4.8 mm) with the default methods (docs/measurements.md).
HEALTHY_ASYMMETRY_MM = 2.5
HEALTHY_BROW_ASYMMETRY_MM = 3.5
#: Provisional healthy band for the resting eye-opening difference, mm.
HEALTHY_EYE_DIFFERENCE_MM = 1.0
#: Movement smaller than this (mm, on the stronger side) gives no excursion ratio.
MIN_EXCURSION_MM = 1.0


@dataclass(frozen=True)
class MeasureInfo:
    """What a measure means. `kind`: asymmetry (0 = symmetric, signed), index
    (100 = symmetric), ratio (1 = symmetric) or side (one side's value)."""

    name: str
    label: str
    unit: str
    kind: str
    definition: str
    healthy: tuple[float, float] | None = None


def _m(name, label, unit, kind, definition, healthy=None):
    return name, MeasureInfo(name, label, unit, kind, definition, healthy)


def _sided(stem: str, label: str, unit: str, definition: str) -> list[tuple[str, MeasureInfo]]:
    """The right and left entries of a one-side measure; `definition` names the side as {side}."""
    suffix = "pct" if unit == "%" else unit
    return [_m(f"{stem}_{side}_{suffix}", f"{label}, {side}", unit, "side", definition.format(side=side))
            for side in ("right", "left")]


MEASURES: dict[str, MeasureInfo] = dict([
    _m("symmetry_index", "symmetry index", "points", "index",
       "0-100, 100 = symmetric; 100 x exp(-(|mouth droop| + |brow asymmetry| + 2 |eye-opening "
       f"difference|) / {SI_SCALE_MM:g} mm)", (HEALTHY_SYMMETRY_INDEX, 100.0)),
    _m("mouth_droop_mm", "mouth-corner droop", "mm", "asymmetry",
       "right minus left mouth-corner height below the pupil line; + = right corner lower",
       (-HEALTHY_ASYMMETRY_MM, HEALTHY_ASYMMETRY_MM)),
    _m("brow_asymmetry_mm", "brow asymmetry", "mm", "asymmetry",
       "left minus right brow height above the pupil line; + = right brow lower",
       (-HEALTHY_BROW_ASYMMETRY_MM, HEALTHY_BROW_ASYMMETRY_MM)),
    _m("eye_opening_difference_mm", "eye-opening difference", "mm", "asymmetry",
       "right minus left eye opening at the pupil; + = right eye opens wider",
       (-HEALTHY_EYE_DIFFERENCE_MM, HEALTHY_EYE_DIFFERENCE_MM)),
    _m("eye_opening_ratio", "eye-opening ratio", "", "ratio", "smaller / larger eye opening"),
    *_sided("mouth_corner_height", "mouth corner below pupils", "mm",
            "{side} mouth corner's distance below the pupil line"),
    *_sided("brow_height", "brow above pupils", "mm",
            "mean height of the {side} brow's lower edge above the pupil line"),
    *_sided("eye_opening", "eye opening", "mm", "{side} lid-to-lid distance at the pupil"),
    *_sided("mouth_excursion", "mouth-corner movement", "mm",
            "how far the {side} corner rose towards the pupil line from the session's resting photo"),
    _m("mouth_excursion_difference_mm", "mouth-corner movement difference", "mm", "asymmetry",
       "left minus right corner movement; + = right corner moves less"),
    _m("mouth_excursion_ratio", "mouth-corner movement ratio", "", "ratio",
       f"weaker / stronger corner movement (needs >= {MIN_EXCURSION_MM:g} mm on the stronger side)"),
    *_sided("brow_excursion", "brow-raise movement", "mm",
            "how far the {side} brow rose from the session's resting photo"),
    _m("brow_excursion_difference_mm", "brow-raise movement difference", "mm", "asymmetry",
       "left minus right brow movement; + = right brow moves less"),
    _m("brow_excursion_ratio", "brow-raise movement ratio", "", "ratio",
       f"weaker / stronger brow movement (needs >= {MIN_EXCURSION_MM:g} mm on the stronger side)"),
    *_sided("eye_closure", "eye closure", "%",
            "100 x (1 - opening with eyes closed / resting opening), {side} eye; 100 = lids together"),
    _m("eye_closure_difference_pct", "eye-closure difference", "points", "asymmetry",
       "left minus right eye closure; + = right eye closes less"),
])

#: Single-photo measures taken from the rows, for every expression.
STATIC_MEASURES = (
    "symmetry_index", "mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm",
    "eye_opening_ratio", "mouth_corner_height_right_mm", "mouth_corner_height_left_mm",
    "brow_height_right_mm", "brow_height_left_mm", "eye_opening_right_mm", "eye_opening_left_mm",
)
#: The measures a patient and clinician follow, as (expression, measure), in report order.
KEY_MEASURES = (
    (REST, "mouth_droop_mm"),
    (REST, "eye_opening_difference_mm"),
    (REST, "brow_asymmetry_mm"),
    (REST, "symmetry_index"),
    ("smile", "mouth_excursion_ratio"),
    ("smile_open", "mouth_excursion_ratio"),
    ("eee", "mouth_excursion_ratio"),
    ("brow_raise", "brow_excursion_ratio"),
    ("eyes_closed_gentle", "eye_closure_difference_pct"),
    ("eyes_closed_tight", "eye_closure_difference_pct"),
)
#: A first-session asymmetry of this size (mm) counts as one unit of evidence for the affected side.
SIDE_EVIDENCE_MM = 1.5
#: First-session evidence for the affected side: measure -> scale (a "clearly abnormal" amount).
SIDE_EVIDENCE = {
    (REST, "mouth_droop_mm"): SIDE_EVIDENCE_MM,
    (REST, "brow_asymmetry_mm"): SIDE_EVIDENCE_MM,
    ("smile", "mouth_excursion_difference_mm"): SIDE_EVIDENCE_MM,
    ("smile_open", "mouth_excursion_difference_mm"): SIDE_EVIDENCE_MM,
    ("eee", "mouth_excursion_difference_mm"): SIDE_EVIDENCE_MM,
    ("brow_raise", "brow_excursion_difference_mm"): SIDE_EVIDENCE_MM,
    ("eyes_closed_gentle", "eye_closure_difference_pct"): 10.0,
    ("eyes_closed_tight", "eye_closure_difference_pct"): 10.0,
}

#: A session: one person on one date, in one phase; a group: one expression in a session.
SESSION_KEYS = ["person", "date", "phase"]
GROUP_KEYS = ["person", "date", "phase", "expression"]


@dataclass(frozen=True)
class Note:
    """A message for the reader. level: "info", "warning" (results affected) or "error"."""

    person: str
    level: str
    message: str


def session_sort_key(col: pd.Series) -> pd.Series:
    """A `sort_values` key that puts the phases of one date in order (pre, none, post)."""
    if col.name == "phase":
        return col.map(PHASE_RANK).fillna(1)
    return col


def session_label(date: str, phase: str) -> str:
    """"2024-03-01 pre" / "2024-03-01" / "2024-03-01 post"."""
    return f"{date} {phase}".strip()
