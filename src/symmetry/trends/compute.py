"""Rows of scores.csv -> per-session tables, movement against rest, recovery, massage effect, noise.

    >>> t = symmetry.compute_trends("results/scores.csv")
    >>> t.summary          # first and latest session of each key measure, change, verdict

Pure pandas: no images, no model. The steps, each in its own module:

* `table`: the input rows made uniform, and each person's mm values calibrated to one
  inter-pupil distance;
* `movement`: per-photo values, movement against the same session's resting photo, and the
  per-session medians;
* `stats`: noise (SEM, MDC95), the affected side, recovery, verdicts, massage effect;
* `log`: the massage log;
* `definitions`: what each measure means (units, kinds, healthy bands).

Every number has a unit; a signed asymmetry is positive when the patient's RIGHT side is
lower (mouth, brow), opens wider (eye), or moves / closes less (movement measures).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from symmetry.batch.sinks import read_scores
from symmetry.trends.definitions import MEASURES, Note, session_sort_key
from symmetry.trends.log import log_notes, normalise_log, read_massage_log
from symmetry.trends.movement import per_photo_values, session_table
from symmetry.trends.stats import (
    VALIDATION_SEM, massage_effect, noise_and_recovery, people_table, repeatability, summary_table,
)
from symmetry.trends.table import calibrated, label_unlabelled, normalise, provenance_notes, session_notes
from symmetry.vocabulary import REST


@dataclass
class Trends:
    """Everything `compute_trends()` computes; each table is a pandas DataFrame.

    Attributes:
        table: one row per person, session, expression and measure: value
            (median of repeats), sd, n, ci95 (the session's 95% interval from its photos'
            own), sem, mdc95 (the smallest change since the first session called real:
            the repeatability's MDC95 or the two sessions' intervals combined, whichever is
            larger), mdc95_sitting (the repeatability's alone, for pre against post of one
            sitting), change_from_first, recovery_pct, verdict.
        summary: per person and key measure: first and latest session values,
            change, MDC95, verdict, recovery %.
        massage: per person, date and key measure with both pre and post photos:
            pre, post, change (post - pre), improvement, verdict.
        repeatability: per person and measure: SEM, MDC95, degrees of freedom and
            source ("repeats" or "validation").
        people: per person: affected side and its evidence, calibrated inter-pupil
            distance, sessions, photo counts, software versions.
        rows: the input rows, normalised, with calibrated mm values, `scale_factor`
            and `used` (True when the row fed the measures).
        notes: messages for the reader (edge cases, fallbacks, warnings).
        log: the massage log, if one was given.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    massage: pd.DataFrame
    repeatability: pd.DataFrame
    people: pd.DataFrame
    rows: pd.DataFrame
    notes: list[Note] = field(default_factory=list)
    log: pd.DataFrame | None = None

    @property
    def persons(self) -> list[str]:
        return list(self.people["person"]) if len(self.people) else []

    def notes_for(self, person: str | None = None) -> list[Note]:
        """Notes about `person` plus the notes about the whole table."""
        return [n for n in self.notes if person is None or n.person in (person, "")]

    def wide(self, person: str | None = None, expression: str = REST) -> pd.DataFrame:
        """One row per session, one column per measure of `expression` (median values)."""
        t = self.table[self.table["expression"] == expression]
        if person is not None:
            t = t[t["person"] == person]
        if t.empty:
            return pd.DataFrame()
        w = t.pivot_table(index=["person", "date", "phase"], columns="measure", values="value", sort=False)
        order = [m for m in MEASURES if m in w.columns]
        return w[order].reset_index().sort_values(["person", "date", "phase"], key=session_sort_key).reset_index(drop=True)

    def _repr_html_(self) -> str:
        parts = [self.summary.to_html(index=False, float_format=lambda v: f"{v:.2f}")]
        if self.notes:
            import html

            items = "".join(f"<li>{html.escape(n.person or 'all')}: {html.escape(n.message)}</li>" for n in self.notes)
            parts.append(f"<ul>{items}</ul>")
        return "".join(parts)



def compute_trends(
    data: pd.DataFrame | str | os.PathLike,
    *,
    affected_side: str | None = None,
    log: pd.DataFrame | str | os.PathLike | None = None,
    sem: dict[str, float] | None = None,
    calibrate: bool = True,
) -> Trends:
    """Per-person, per-session measures, movement against rest, recovery and massage effect.

    Args:
        data: the rows of scores.csv (a DataFrame, or the CSV's path).
        affected_side: "right" or "left" to override the side found from the first
            session (applies to every person); None = find it.
        log: optional massage log (DataFrame or CSV path): date, duration, technique,
            acupoints, notes, and optionally person.
        sem: per-measure SEM to use instead of `VALIDATION_SEM` when a person has
            too few repeats (e.g. figures from your own validation).
        calibrate: rescale every mm value to the person's calibrated inter-pupil
            distance (recommended; False keeps each photo's own iris scale).

    Returns:
        A `Trends` with the tables and the notes.

    Raises:
        ValueError: required columns are missing, or `affected_side` is not right/left.
    """
    if isinstance(data, (str, os.PathLike)):
        data = read_scores(data)
    if affected_side not in (None, "right", "left"):
        raise ValueError(f"affected_side must be 'right', 'left' or None, not {affected_side!r}")
    defaults = {**VALIDATION_SEM, **(sem or {})}
    notes: list[Note] = []
    rows = normalise(data, notes)
    if calibrate:
        rows = calibrated(rows, notes)
    else:
        rows["scale_factor"] = 1.0
        rows["calibrated_interpupil_mm"] = np.nan
    provenance_notes(rows, notes)
    rows = label_unlabelled(rows, notes)
    session_notes(rows, notes)

    photos = per_photo_values(rows[rows["used"]])
    table = session_table(photos)
    repeat = repeatability(photos, defaults, sorted(rows["person"].unique()))
    people = people_table(rows, table, affected_side, notes)
    table = noise_and_recovery(table, repeat, people, notes)
    summary = summary_table(table, people)
    massage = massage_effect(table)
    log_df = None
    if log is not None:
        log_df = read_massage_log(log) if isinstance(log, (str, os.PathLike)) else normalise_log(log)
        log_notes(log_df, rows, notes)
    return Trends(table, summary, massage, repeat, people, rows, notes, log_df)
