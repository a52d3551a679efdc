"""A saved session's calibration, and its comparison with the person's previous session.

Each session is calibrated to its own inter-pupil distance (given, else the median
of its rest photos' iris-based values, else the previous session's), and every mm
value is rescaled to it with `symmetry.face.measures.rescaled` before the medians
per expression are compared.
"""

from __future__ import annotations

import math

import numpy as np

from symmetry.face.measures import HEALTHY_SYMMETRY_INDEX, MM_FIELDS, rescaled
from symmetry.vocabulary import PROTOCOL_EXPRESSIONS

#: Measures shown in the comparison with the previous session (column, label, format).
COMPARE = (
    ("symmetry_index", "symmetry index", "{:.0f}"),
    ("mouth_droop_mm", "mouth droop mm", "{:+.1f}"),
    ("brow_asymmetry_mm", "brow asym mm", "{:+.1f}"),
    ("eye_opening_ratio", "eye ratio", "{:.2f}"),
)


def session_calibration(rows: list[dict], interpupil_mm: float | None = None, fallback: float | None = None,
                        fallback_source: str = "") -> dict:
    """The session's inter-pupil distance: given, else the median of the iris-based values of
    its measured rest photos, else `fallback` (e.g. the previous session's). A calibrated
    distance keeps the mm sound on photos with closed or squinting eyes (docs/measurements.md,
    "The face frame")."""
    if interpupil_mm:
        return {"interpupil_mm": float(interpupil_mm), "source": "given"}
    rest = [float(r["interpupil_mm"]) for r in rows if r.get("expression") == "rest" and r.get("status") == "ok"
            and _finite(r.get("interpupil_mm"))]
    if rest:
        return {"interpupil_mm": float(np.median(rest)), "source": f"median of {len(rest)} rest photo(s), iris scale"}
    if fallback:
        return {"interpupil_mm": float(fallback), "source": fallback_source or "previous session"}
    return {"interpupil_mm": None, "source": "iris of each photo (no rest photo to calibrate from)"}


def calibrated(rows: list[dict], interpupil_mm: float | None) -> list[dict]:
    """Copies of `rows` with every mm value rescaled to `interpupil_mm` (see `rescaled`)."""
    if not interpupil_mm:
        return [dict(r) for r in rows]
    out = []
    for r in rows:
        values = rescaled({f: float(r[f]) for f in MM_FIELDS if _finite(r.get(f))}, interpupil_mm)
        out.append({**r, **values, "scale_source": "calibration"} if values else dict(r))
    return out


def compare_sessions(current: list[dict], previous: list[dict] | None):
    """Per expression, the median of each COMPARE measure over ok photos: previous and today.

    Returns a DataFrame indexed by expression with columns like
    "symmetry_index_previous", "symmetry_index_today", "symmetry_index_change".
    """
    import pandas as pd

    def medians(rows):
        df = pd.DataFrame(rows or [], columns=["expression", "status"] + [c for c, _, _ in COMPARE])
        df = df[df["status"] == "ok"]
        return df.groupby("expression")[[c for c, _, _ in COMPARE]].median()

    today = medians(current)
    before = medians(previous) if previous else None
    order = [e for e in PROTOCOL_EXPRESSIONS if e in today.index or (before is not None and e in before.index)]
    out = pd.DataFrame(index=pd.Index(order, name="expression"))
    for col, _, _ in COMPARE:
        out[f"{col}_previous"] = before[col].reindex(order) if before is not None else math.nan
        out[f"{col}_today"] = today[col].reindex(order)
        out[f"{col}_change"] = out[f"{col}_today"] - out[f"{col}_previous"]
    return out


def comparison_cells(table, previous_name: str | None) -> tuple[list[list[str]], list[str]]:
    """The comparison as rows of cells (header first) and notes, for any renderer."""
    header = ["expression"] + [label for _, label, _ in COMPARE]
    rows = [header]
    for expr, row in table.iterrows():
        cells = [str(expr)]
        for col, _, fmt in COMPARE:
            now, before = row[f"{col}_today"], row[f"{col}_previous"]
            now_s = "-" if not np.isfinite(now) else fmt.format(now)
            if previous_name:
                before_s = "-" if not np.isfinite(before) else fmt.format(before)
                cells.append(f"{before_s} -> {now_s}")
            else:
                cells.append(now_s)
        rows.append(cells)
    notes = [
        f"before = previous session {previous_name}; -> today" if previous_name else "no previous session of this person in OUT",
        f"mm in the face frame; + = patient's RIGHT side lower; healthy symmetry index >= {HEALTHY_SYMMETRY_INDEX:.0f}",
    ]
    return rows, notes


def format_comparison(table, previous_name: str | None) -> list[str]:
    """Plain-text lines of the comparison (for the terminal)."""
    rows, notes = comparison_cells(table, previous_name)
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    lines = ["".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) for r in rows]
    return lines + notes


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
