"""Per-photo values and per-session tables: the single-photo measures, and movement against
the same session's resting photo.

* Mouth-corner excursion: how far each corner rose towards the pupil line in a smile, mm.
* Brow-raise excursion: how far each brow rose, mm.
* Eye closure: percent of the resting opening that closed, per side.

Repeated photos of one expression in a session are summarised by their median; their
standard deviation is the spread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from symmetry.face.uncertainty import CI_COLUMNS
from symmetry.trends.definitions import (
    GROUP_KEYS, MEASURES, MIN_EXCURSION_MM, SESSION_KEYS, STATIC_MEASURES, session_label, session_sort_key,
)
from symmetry.vocabulary import BROW_EXPRESSIONS, CLOSURE_EXPRESSIONS, EXPRESSIONS, REST, SMILE_EXPRESSIONS


def per_photo_values(used: pd.DataFrame) -> pd.DataFrame:
    """Long table, one row per photo and measure: static measures plus movement against rest."""
    base = GROUP_KEYS + ["path"]
    static = used.melt(id_vars=base, value_vars=list(STATIC_MEASURES), var_name="measure", value_name="value")
    # Each photo's own 95% interval (from its method and quality), where the scores have one.
    ci_cols = {c: m for m, c in CI_COLUMNS.items() if c in used.columns}
    if ci_cols:
        ci = used[base + list(ci_cols)].melt(id_vars=base, var_name="measure", value_name="ci95")
        ci["measure"] = ci["measure"].map(ci_cols)
        ci["ci95"] = pd.to_numeric(ci["ci95"], errors="coerce")
        static = static.merge(ci, on=base + ["measure"], how="left")
    parts = [static]
    rest = used[used["expression"] == REST]
    side_cols = ["mouth_corner_height_right_mm", "mouth_corner_height_left_mm", "brow_height_right_mm",
                 "brow_height_left_mm", "eye_opening_right_mm", "eye_opening_left_mm"]
    rest_med = rest.groupby(SESSION_KEYS)[side_cols].median().add_prefix("rest_")
    moving = used[used["expression"].isin(SMILE_EXPRESSIONS + BROW_EXPRESSIONS + CLOSURE_EXPRESSIONS)]
    if not moving.empty and not rest_med.empty:
        m = moving.join(rest_med, on=SESSION_KEYS, how="inner")
        out = []
        smile = m[m["expression"].isin(SMILE_EXPRESSIONS)]
        if not smile.empty:
            r = smile["rest_mouth_corner_height_right_mm"] - smile["mouth_corner_height_right_mm"]
            l = smile["rest_mouth_corner_height_left_mm"] - smile["mouth_corner_height_left_mm"]
            out.append(_movement(smile, "mouth", r, l, "mm"))
        brow = m[m["expression"].isin(BROW_EXPRESSIONS)]
        if not brow.empty:
            r = brow["brow_height_right_mm"] - brow["rest_brow_height_right_mm"]
            l = brow["brow_height_left_mm"] - brow["rest_brow_height_left_mm"]
            out.append(_movement(brow, "brow", r, l, "mm"))
        closed = m[m["expression"].isin(CLOSURE_EXPRESSIONS)]
        if not closed.empty:
            r = _closure(closed["eye_opening_right_mm"], closed["rest_eye_opening_right_mm"])
            l = _closure(closed["eye_opening_left_mm"], closed["rest_eye_opening_left_mm"])
            frame = closed[base].copy()
            frame["eye_closure_right_pct"] = r
            frame["eye_closure_left_pct"] = l
            frame["eye_closure_difference_pct"] = l - r
            out.append(frame.melt(id_vars=base, var_name="measure", value_name="value"))
        parts.extend(out)
    photos = pd.concat(parts, ignore_index=True)
    return photos.dropna(subset=["value"])


def _closure(closed_mm: pd.Series, rest_mm: pd.Series) -> pd.Series:
    """Percent of the resting opening that closed, clipped to 0..100 (landmark noise can overshoot)."""
    pct = 100.0 * (1.0 - closed_mm / rest_mm.where(rest_mm > 0))
    return pct.clip(0.0, 100.0)


def _movement(photos: pd.DataFrame, feature: str, right: pd.Series, left: pd.Series, unit: str) -> pd.DataFrame:
    base = GROUP_KEYS + ["path"]
    frame = photos[base].copy()
    frame[f"{feature}_excursion_right_mm"] = right
    frame[f"{feature}_excursion_left_mm"] = left
    frame[f"{feature}_excursion_difference_mm"] = left - right
    stronger = np.maximum(right, left)
    ratio = (np.minimum(right, left).clip(lower=0) / stronger).where(stronger >= MIN_EXCURSION_MM)
    frame[f"{feature}_excursion_ratio"] = ratio
    return frame.melt(id_vars=base, var_name="measure", value_name="value")


def session_table(photos: pd.DataFrame) -> pd.DataFrame:
    keys = GROUP_KEYS + ["measure"]
    if photos.empty:
        return pd.DataFrame(columns=keys + ["session", "value", "sd", "n", "ci95"])
    g = photos.groupby(keys, sort=False)["value"]
    table = pd.DataFrame({"value": g.median(), "sd": g.std(ddof=1), "n": g.size()})
    # A session's value is the median of its photos: its interval narrows as 1/sqrt(n).
    ci = photos["ci95"] if "ci95" in photos.columns else pd.Series(np.nan, index=photos.index)
    table["ci95"] = ci.groupby([photos[k] for k in keys], sort=False).median() / np.sqrt(table["n"])
    table = table.reset_index()
    table["session"] = [session_label(d, p) for d, p in zip(table["date"], table["phase"])]
    table["expr_rank"] = table["expression"].map({e: i for i, e in enumerate(EXPRESSIONS)}).fillna(len(EXPRESSIONS))
    table["measure_rank"] = table["measure"].map({m: i for i, m in enumerate(MEASURES)})
    table = table.sort_values(["person", "date", "phase", "expr_rank", "measure_rank"], key=session_sort_key)
    cols = ["person", "date", "phase", "session", "expression", "measure", "value", "sd", "n", "ci95"]
    return table[cols].reset_index(drop=True)
