"""Rows of scores.csv -> per-session tables, movement against rest, recovery, massage effect, noise.

Pure pandas: no images, no model. The input is the output contract (GUIDE section
5), one row per photo, as written by `symmetry score`; only rows with
`status == "ok"` feed the measures, the others are counted and explained.

Definitions (every number has a unit):

* Session: one person on one date, in one phase (`pre` or `post` massage, or no
  phase). Repeated photos of one expression in a session are summarised by
  their median; their standard deviation is the spread.
* Scale: every millimetre value in a row is pixels x mm_per_px, and a photo's
  iris-based scale varies by 1-5 % (and is unreliable with closed eyes). So each
  person is calibrated once: their inter-pupil distance is the median
  `interpupil_mm` of their measured, eyes-open resting photos, and every mm
  column of every row is multiplied by calibrated / row `interpupil_mm`.
* Signs: a signed asymmetry is positive when the patient's RIGHT side is lower
  (mouth, brow), opens wider (eye), or moves / closes less (movement measures).
* Movement against the same session's resting photo: mouth-corner excursion
  (how far each corner rose towards the pupil line in a smile, mm), brow-raise
  excursion (how far each brow rose, mm), eye closure (percent of the resting
  opening that closed, per side).
* Affected side: the side that is lower / moves less in the first session.
* Recovery: 0 % = as in the first session, 100 % = symmetric (can go below 0
  or above 100).
* Noise: SEM = pooled within-session standard deviation of repeated photos;
  MDC95 = 1.96 x sqrt(2) x SEM. A change is called real only above MDC95.
  Without enough repeats the project's validation figures (`VALIDATION_SEM`)
  are used, and the tables say so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from symmetry.face.measures import EYES_CLOSED_MM, HEALTHY_SYMMETRY_INDEX, SI_SCALE_MM
from symmetry.face.uncertainty import CI_COLUMNS

REST = "rest"
SMILE_EXPRESSIONS = ("smile", "smile_open", "eee")
BROW_EXPRESSIONS = ("brow_raise",)
CLOSURE_EXPRESSIONS = ("eyes_closed_gentle", "eyes_closed_tight")
EXPRESSIONS = (
    "rest", "brow_raise", "eyes_closed_gentle", "eyes_closed_tight",
    "smile", "smile_open", "pucker", "eee", "snarl",
)
PHASES = ("pre", "", "post")
#: Order of the phases within one date.
PHASE_RANK = {"pre": 0, "": 1, "post": 2}
UNNAMED = "(unnamed)"

#: Documented healthy bands (provisional) for mouth and brow asymmetry, mm (|asymmetry| at or
#: below it): the six healthy validation faces read mouth droops of 0-2.4 mm and brow
#: asymmetries of 0-3.3 mm (one face 4.8 mm) with the default methods (docs/measurements.md).
HEALTHY_ASYMMETRY_MM = 2.5
HEALTHY_BROW_ASYMMETRY_MM = 3.5
#: Provisional healthy band for the resting eye-opening difference, mm.
HEALTHY_EYE_DIFFERENCE_MM = 1.0
#: Movement smaller than this (mm, on the stronger side) gives no excursion ratio.
MIN_EXCURSION_MM = 1.0
#: Repeats needed (degrees of freedom, summed over sessions) to trust a person's own SEM.
MIN_REPEAT_DF = 5
#: A person's own SEM is never taken below this fraction of the validation figure:
#: identical copies of a photo would otherwise claim zero noise.
MIN_SEM_FRACTION = 0.5

#: Standard error of measurement of one photo, per measure, in the measure's unit, used when a
#: person's photos have too few repeats to measure their own. The validation (scripts/validate.py,
#: repeated synthetic photos of one sitting) measures 0.03 mm or less for every tracked measure and
#: 0.15-0.21 mm for the asymmetries of a reference photo ("mirrored"; its one-side heights 0.3-0.5 mm,
#: an offset shared by all of the person's tracked photos, so not part of their changes); real
#: repeats also differ in expression and light, so these fallbacks are set above the tracked figures.
VALIDATION_SEM = {
    "symmetry_index": 1.5,
    "mouth_droop_mm": 0.3,
    "brow_asymmetry_mm": 0.3,
    "eye_opening_difference_mm": 0.2,
    "eye_opening_ratio": 0.03,
    "mouth_corner_height_right_mm": 0.3,
    "mouth_corner_height_left_mm": 0.3,
    "brow_height_right_mm": 0.3,
    "brow_height_left_mm": 0.3,
    "eye_opening_right_mm": 0.2,
    "eye_opening_left_mm": 0.2,
    "mouth_excursion_right_mm": 0.4,
    "mouth_excursion_left_mm": 0.4,
    "mouth_excursion_difference_mm": 0.4,
    "mouth_excursion_ratio": 0.05,
    "brow_excursion_right_mm": 0.4,
    "brow_excursion_left_mm": 0.4,
    "brow_excursion_difference_mm": 0.4,
    "brow_excursion_ratio": 0.05,
    "eye_closure_right_pct": 5.0,
    "eye_closure_left_pct": 5.0,
    "eye_closure_difference_pct": 5.0,
}

MDC_FACTOR = 1.96 * math.sqrt(2.0)


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
    _m("mouth_corner_height_right_mm", "mouth corner below pupils, right", "mm", "side",
       "right mouth corner's distance below the pupil line"),
    _m("mouth_corner_height_left_mm", "mouth corner below pupils, left", "mm", "side",
       "left mouth corner's distance below the pupil line"),
    _m("brow_height_right_mm", "brow above pupils, right", "mm", "side",
       "mean height of the right brow's lower edge above the pupil line"),
    _m("brow_height_left_mm", "brow above pupils, left", "mm", "side",
       "mean height of the left brow's lower edge above the pupil line"),
    _m("eye_opening_right_mm", "eye opening, right", "mm", "side", "right lid-to-lid distance at the pupil"),
    _m("eye_opening_left_mm", "eye opening, left", "mm", "side", "left lid-to-lid distance at the pupil"),
    _m("mouth_excursion_right_mm", "mouth-corner movement, right", "mm", "side",
       "how far the right corner rose towards the pupil line from the session's resting photo"),
    _m("mouth_excursion_left_mm", "mouth-corner movement, left", "mm", "side",
       "how far the left corner rose towards the pupil line from the session's resting photo"),
    _m("mouth_excursion_difference_mm", "mouth-corner movement difference", "mm", "asymmetry",
       "left minus right corner movement; + = right corner moves less"),
    _m("mouth_excursion_ratio", "mouth-corner movement ratio", "", "ratio",
       f"weaker / stronger corner movement (needs >= {MIN_EXCURSION_MM:g} mm on the stronger side)"),
    _m("brow_excursion_right_mm", "brow-raise movement, right", "mm", "side",
       "how far the right brow rose from the session's resting photo"),
    _m("brow_excursion_left_mm", "brow-raise movement, left", "mm", "side",
       "how far the left brow rose from the session's resting photo"),
    _m("brow_excursion_difference_mm", "brow-raise movement difference", "mm", "asymmetry",
       "left minus right brow movement; + = right brow moves less"),
    _m("brow_excursion_ratio", "brow-raise movement ratio", "", "ratio",
       f"weaker / stronger brow movement (needs >= {MIN_EXCURSION_MM:g} mm on the stronger side)"),
    _m("eye_closure_right_pct", "eye closure, right", "%", "side",
       "100 x (1 - opening with eyes closed / resting opening), right eye; 100 = lids together"),
    _m("eye_closure_left_pct", "eye closure, left", "%", "side",
       "100 x (1 - opening with eyes closed / resting opening), left eye; 100 = lids together"),
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

REQUIRED_COLUMNS = ("person", "date", "phase", "expression", "status")
_TEXT_COLUMNS = ("path", "person", "date", "phase", "expression", "status", "message",
                 "model", "version", "method", "scale_source", "reference")
SESSION_KEYS = ["person", "date", "phase"]
#: `expression_seen` of a face that shows no clear expression (analysis.checked).
UNCLEAR = "unclear"
GROUP_KEYS = ["person", "date", "phase", "expression"]


@dataclass(frozen=True)
class Note:
    """A message for the reader. level: "info", "warning" (results affected) or "error"."""

    person: str
    level: str
    message: str


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
        return w[order].reset_index().sort_values(["person", "date", "phase"], key=_sort_key).reset_index(drop=True)

    def _repr_html_(self) -> str:
        parts = [self.summary.to_html(index=False, float_format=lambda v: f"{v:.2f}")]
        if self.notes:
            import html

            items = "".join(f"<li>{html.escape(n.person or 'all')}: {html.escape(n.message)}</li>" for n in self.notes)
            parts.append(f"<ul>{items}</ul>")
        return "".join(parts)


# ------------------------------------------------------------------ input
def read_scores(path: str | os.PathLike) -> pd.DataFrame:
    """Read scores.csv keeping text columns as text (a person called "NA" stays "NA").

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a scores table.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no scores table at {path}: run `symmetry score PHOTOS --out DIR` first")
    header = pd.read_csv(path, nrows=0).columns
    text = {c: str for c in header if c in _TEXT_COLUMNS}
    df = pd.read_csv(path, dtype=text, keep_default_na=False, na_values={c: ["", "nan", "NaN"] for c in header if c not in text})
    return df


def read_massage_log(path: str | os.PathLike) -> pd.DataFrame:
    """Read a massage log CSV: date (YYYY-MM-DD), and optionally person, duration,
    technique, acupoints, notes. Rows with an unreadable date are dropped.

    Raises:
        ValueError: no `date` column.
    """
    log = pd.read_csv(os.fspath(path), dtype=str, keep_default_na=False)
    return normalise_log(log)


def normalise_log(log: pd.DataFrame) -> pd.DataFrame:
    log = log.copy()
    log.columns = [str(c).strip().lower() for c in log.columns]
    if "date" not in log.columns:
        raise ValueError(f"the massage log needs a 'date' column (YYYY-MM-DD); it has: {', '.join(log.columns)}")
    for c in ("person", "duration", "technique", "acupoints", "notes"):
        if c not in log.columns:
            log[c] = ""
        log[c] = log[c].fillna("").astype(str).str.strip()
    parsed = pd.to_datetime(log["date"].astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
    log["valid_date"] = parsed.notna()
    log["date"] = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), log["date"].astype(str))
    return log.sort_values("date").reset_index(drop=True)


def _sort_key(col: pd.Series) -> pd.Series:
    if col.name == "phase":
        return col.map(PHASE_RANK).fillna(1)
    return col


def session_label(date: str, phase: str) -> str:
    """"2024-03-01 pre" / "2024-03-01" / "2024-03-01 post"."""
    return f"{date} {phase}".strip()


# ------------------------------------------------------------------ main entry
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
    rows = _normalise(data, notes)
    if calibrate:
        rows = _calibrate(rows, notes)
    else:
        rows["scale_factor"] = 1.0
        rows["calibrated_interpupil_mm"] = np.nan
    _provenance_notes(rows, notes)
    rows = _label_unlabelled(rows, notes)
    _session_notes(rows, notes)

    used = rows[rows["used"]]
    photos = _per_photo_values(used, notes)
    table = _session_table(photos)
    repeat = _repeatability(photos, defaults, sorted(rows["person"].unique()))
    people = _people(rows, table, affected_side, notes)
    table = _attach_noise_and_recovery(table, repeat, people, notes)
    summary = _summary(table, people)
    massage = _massage_effect(table)
    log_df = None
    if log is not None:
        log_df = read_massage_log(log) if isinstance(log, (str, os.PathLike)) else normalise_log(log)
        _log_notes(log_df, rows, notes)
    return Trends(table, summary, massage, repeat, people, rows, notes, log_df)


# ------------------------------------------------------------------ steps
def _normalise(data: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"compute_trends() takes the rows of scores.csv as a DataFrame or a CSV path, not {type(data).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(
            f"the scores table lacks the column(s) {', '.join(missing)}; pass the scores.csv written by "
            "`symmetry score` (or symmetry.score_folder(...)), which has person, date, phase, expression and status"
        )
    rows = data.copy().reset_index(drop=True)
    for c in _TEXT_COLUMNS:
        if c not in rows.columns:
            rows[c] = ""
        rows[c] = rows[c].astype("string").fillna("").astype(str).str.strip()
    for c in STATIC_MEASURES + ("interpupil_mm", "mm_per_px"):
        if c not in rows.columns:
            rows[c] = np.nan
        rows[c] = pd.to_numeric(rows[c], errors="coerce")
    if rows["eye_opening_difference_mm"].isna().all():
        rows["eye_opening_difference_mm"] = rows["eye_opening_right_mm"] - rows["eye_opening_left_mm"]
    rows["input_order"] = np.arange(len(rows))
    # No person: grouping such photos together could mix faces, so each one stands alone, named after its file.
    nameless = rows["person"] == ""
    if nameless.any():
        stems = rows.loc[nameless, "path"].map(lambda p: os.path.splitext(os.path.basename(p))[0])
        rows.loc[nameless, "person"] = stems.where(stems != "", UNNAMED)
        for person in rows.loc[nameless, "person"].unique():
            notes.append(Note(person, "info", "no person was given for this photo, so it is reported on its own, "
                              "named after its file. Use the folder layout PERSON/YYYY-MM-DD/EXPRESSION.jpg or a "
                              "manifest to group a person's photos."))
    rows["phase"] = rows["phase"].str.lower()
    odd = ~rows["phase"].isin(PHASES)
    if odd.any():
        bad = ", ".join(sorted(rows.loc[odd, "phase"].unique()))
        notes.append(Note("", "warning", f"unknown phase(s) {bad} (expected pre or post): treated as no phase"))
        rows.loc[odd, "phase"] = ""
    rows["expression"] = rows["expression"].str.lower()
    rows["status"] = rows["status"].str.lower()
    parsed = pd.to_datetime(rows["date"], format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna()
    for person, group in rows[bad].groupby("person"):
        shown = ", ".join(repr(d) for d in sorted(group["date"].unique())[:5])
        notes.append(Note(person, "warning", f"{len(group)} photo(s) have no readable date ({shown}; expected "
                          "YYYY-MM-DD): they are left out of the timeline. Put them in a YYYY-MM-DD folder "
                          "or give the date in a manifest."))
    rows["date"] = parsed.dt.strftime("%Y-%m-%d").where(~bad, rows["date"])
    rows["valid_date"] = ~bad
    today = pd.Timestamp.now().normalize()
    future = parsed > today
    for person, group in rows[future].groupby("person"):
        notes.append(Note(person, "warning", f"{group['date'].nunique()} session date(s) lie in the future "
                          f"({', '.join(sorted(group['date'].unique()))}): check the camera's clock or the folder names"))
    for person, group in rows[~bad].groupby("person"):
        d = pd.to_datetime(group["date"])
        if not d.is_monotonic_increasing:
            notes.append(Note(person, "info", "the photos were not listed in date order; sessions are sorted "
                              "by date (and pre before post) here"))
    dup = rows["path"].ne("") & rows.duplicated("path", keep="last")
    if dup.any():
        notes.append(Note("", "warning", f"{int(dup.sum())} photo path(s) appear more than once; the last row of each is used"))
    rows["used"] = (rows["status"] == "ok") & rows["valid_date"] & ~dup
    rows["session"] = [session_label(d, p) for d, p in zip(rows["date"], rows["phase"])]
    return rows


def _mm_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c.endswith("_mm") and c != "calibrated_interpupil_mm"
            and pd.api.types.is_numeric_dtype(rows[c])]


def _eyes_open(rows: pd.DataFrame) -> pd.Series:
    return rows[["eye_opening_right_mm", "eye_opening_left_mm"]].max(axis=1) >= EYES_CLOSED_MM


def _calibrate(rows: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """Rescale every mm column to the person's calibrated inter-pupil distance."""
    from symmetry.face.measures import symmetry_index

    rows = rows.copy()
    rows["scale_factor"] = 1.0
    rows["calibrated_interpupil_mm"] = np.nan
    mm_cols = _mm_columns(rows)
    usable = rows["used"] & rows["interpupil_mm"].gt(0)
    for person in rows["person"].unique():
        mine = rows["person"] == person
        open_eyes = usable & mine & _eyes_open(rows)
        rest = open_eyes & (rows["expression"].isin([REST, ""]))
        source = rest if rest.any() else open_eyes
        if not source.any():
            if (mine & rows["used"]).any():
                notes.append(Note(person, "warning", "no measured eyes-open photo to calibrate the scale from: "
                                  "each photo keeps its own iris scale (1-5 % error per photo)"))
            continue
        if not rest.any():
            notes.append(Note(person, "info", "no measured eyes-open resting photo: the scale is calibrated "
                              "from the other eyes-open photos"))
        ipd = float(rows.loc[source, "interpupil_mm"].median())
        k = ipd / rows.loc[mine, "interpupil_mm"]
        k = k.where(k.notna() & np.isfinite(k), 1.0)
        rows.loc[mine, "scale_factor"] = k
        rows.loc[mine, "calibrated_interpupil_mm"] = ipd
        for c in mm_cols:
            rows.loc[mine, c] = rows.loc[mine, c] * k
        if "mm_per_px" in rows:
            rows.loc[mine, "mm_per_px"] = rows.loc[mine, "mm_per_px"] * k
    ok = rows["used"]
    rows.loc[ok, "symmetry_index"] = [
        symmetry_index(a, b, c) if np.isfinite([a, b, c]).all() else np.nan
        for a, b, c in rows.loc[ok, ["mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm"]].to_numpy()
    ]
    return rows


def expression_counts(expressions: pd.Series) -> str:
    """"3 rest, 1 smile": how many photos show each expression, most first."""
    return ", ".join(f"{n} {e.replace('_', ' ')}" for e, n in expressions.value_counts().items())


def _provenance_notes(rows: pd.DataFrame, notes: list[Note]) -> None:
    """Say which photos were dated by their file's time, and whose expression was recognised from
    the face rather than read from a label (`symmetry score`'s source columns)."""
    def sourced(column: str, source: str) -> pd.Series:
        if column not in rows.columns:
            return pd.Series(False, index=rows.index)
        return rows[column].astype("string").fillna("").astype(str) == source

    for person, group in rows[sourced("date_source", "mtime")].groupby("person"):
        names = ", ".join(os.path.basename(p) for p in group["path"].head(5))
        notes.append(Note(person, "warning", f"{len(group)} photo(s) have no date in their folder, name or EXIF and "
                          f"were dated by the file's time ({names}{', ...' if len(group) > 5 else ''}): copying a "
                          "file can change it. Check these dates, or put the photos in YYYY-MM-DD folders."))
    for person, group in rows[sourced("expression_source", "blendshapes")].groupby("person"):
        kinds = expression_counts(group["expression"])
        notes.append(Note(person, "info", f"{len(group)} photo(s) had no expression in their folder or file name; "
                          f"their expression was recognised from the face ({kinds}). Name them rest.jpg, "
                          "smile.jpg, ... to be sure."))


def _label_unlabelled(rows: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """Photos without an expression take the one their face shows (`expression_seen`, written by
    `symmetry score`), and are left out when it is "unclear". Rows with no such reading (scores
    from before version 0.4, or written by hand) count as resting photos when their session has
    no labels at all."""
    rows = rows.copy()
    if "expression_seen" in rows.columns:
        seen = rows["expression_seen"].astype("string").fillna("").astype(str).str.strip().str.lower()
        guessed = (rows["expression"] == "") & (seen != "")
        rows.loc[guessed, "expression"] = seen[guessed]
        unclear = guessed & (seen == UNCLEAR)
        rows.loc[unclear, "used"] = False
        for person, group in rows[unclear].groupby("person"):
            notes.append(Note(person, "warning", f"{len(group)} photo(s) without an expression label show no clear "
                              "expression (between two, or one not in the protocol) and were left out. Name them "
                              "rest.jpg, smile.jpg, ... to use them."))
    unlabelled = rows["expression"] == ""
    if not unlabelled.any():
        return rows
    labelled_sessions = set(map(tuple, rows.loc[~unlabelled, SESSION_KEYS].to_numpy()))
    keys = list(map(tuple, rows[SESSION_KEYS].to_numpy()))
    as_rest = unlabelled & pd.Series([k not in labelled_sessions for k in keys], index=rows.index)
    rows.loc[as_rest, "expression"] = REST
    for person, group in rows[as_rest].groupby("person"):
        notes.append(Note(person, "info", f"{len(group)} photo(s) have no expression label; in sessions without "
                          "any labels they are read as resting photos. Name them rest.jpg, smile.jpg, ... to be sure."))
    ignored = unlabelled & ~as_rest
    rows.loc[ignored, "used"] = False
    for person, group in rows[ignored].groupby("person"):
        notes.append(Note(person, "warning", f"{len(group)} photo(s) without an expression label in sessions that "
                          "have labelled photos were left out (which expression they show is unknown)"))
    return rows


def _session_notes(rows: pd.DataFrame, notes: list[Note]) -> None:
    for person, mine in rows[rows["valid_date"]].groupby("person", sort=True):
        for (date, phase), s in mine.groupby(["date", "phase"], sort=True):
            label = session_label(date, phase)
            ok = s[s["used"]]
            if ok.empty:
                counts = ", ".join(f"{k}: {v}" for k, v in s["status"].value_counts().sort_index().items())
                example = s["message"].replace("", np.nan).dropna()
                why = f" (e.g. {example.iloc[0]})" if len(example) else ""
                notes.append(Note(person, "warning", f"session {label}: none of its {len(s)} photo(s) could be "
                                  f"measured ({counts}){why}; it is left out of the trend"))
            elif not (ok["expression"] == REST).any():
                notes.append(Note(person, "warning", f"session {label} has no measured resting photo: its rest "
                                  "measures are missing, and so is the movement in its expressions (measured "
                                  "against the same session's resting photo)"))
            failed = len(s) - len(ok)
            if failed and not ok.empty:
                notes.append(Note(person, "info", f"session {label}: {failed} of {len(s)} photo(s) could not "
                                  "be measured (see the photo list)"))
        sessions = mine[mine["used"]].groupby(["date"]).ngroups
        if sessions == 1:
            notes.append(Note(person, "warning", "only one session date: a trend and recovery need at least "
                              "two; this report shows that session's measures"))
        elif sessions == 0:
            notes.append(Note(person, "error", "no photo of this person could be measured"))
        used = mine[mine["used"]]
        versions = used[["model", "version"]].drop_duplicates()
        if len(versions) > 1:
            listed = "; ".join(" ".join(filter(None, v)) for v in versions.astype(str).to_numpy())
            notes.append(Note(person, "warning", f"photos were measured with different software versions ({listed}): "
                              "part of a change between sessions may come from the software, not the face. "
                              "Rescore all photos with one version (symmetry score --force)."))
        methods = used["method"].replace("", "unknown").value_counts()
        if len(methods) > 1:
            # e.g. single-photo measures for the first session and changes tracked from it afterwards (by design)
            listed = ", ".join(f"{m} ({n} photos)" for m, n in methods.items())
            notes.append(Note(person, "info", f"photos were measured with more than one method: {listed}"))


def _per_photo_values(used: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
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


def _session_table(photos: pd.DataFrame) -> pd.DataFrame:
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
    table = table.sort_values(["person", "date", "phase", "expr_rank", "measure_rank"], key=_sort_key)
    cols = ["person", "date", "phase", "session", "expression", "measure", "value", "sd", "n", "ci95"]
    return table[cols].reset_index(drop=True)


def _repeatability(photos: pd.DataFrame, defaults: dict[str, float], persons: list[str]) -> pd.DataFrame:
    """SEM per person and measure: pooled within-session SD of repeated photos."""
    cols = ["person", "measure", "sem", "mdc95", "sem_own", "df", "source"]
    grid = pd.MultiIndex.from_product([persons, list(MEASURES)], names=["person", "measure"])
    if photos.empty:
        pooled = pd.DataFrame({"ss": 0.0, "df": 0}, index=grid)
    else:
        g = photos.groupby(GROUP_KEYS + ["measure"])["value"]
        p = photos.assign(dev2=(photos["value"] - g.transform("mean")) ** 2, one=1)
        pooled = p.groupby(["person", "measure"]).agg(ss=("dev2", "sum"), n=("one", "sum"))
        groups = g.size().groupby(level=["person", "measure"]).size()
        pooled["df"] = pooled["n"] - groups
        pooled = pooled.reindex(grid).fillna({"ss": 0.0, "df": 0})
    out = pooled.reset_index()
    out["df"] = out["df"].astype(int)
    out["sem_own"] = np.sqrt(out["ss"] / out["df"].where(out["df"] > 0))
    default = out["measure"].map(defaults).astype(float)
    enough = out["df"] >= MIN_REPEAT_DF
    out["sem"] = np.where(enough, np.fmax(out["sem_own"], MIN_SEM_FRACTION * default), default)
    out["source"] = np.where(enough, "repeats", "validation")
    out["mdc95"] = MDC_FACTOR * out["sem"]
    return out[cols]


def _first_and_latest(table: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """(date, phase) of the first session (before any massage) and the latest one (pre preferred)."""
    if table.empty:
        return None, None
    s = table[["date", "phase"]].drop_duplicates()
    s = s.assign(r=s["phase"].map(PHASE_RANK)).sort_values(["date", "r"])
    first = s.iloc[0]
    last_date = s["date"].max()
    latest = s[s["date"] == last_date].iloc[0]
    return first, latest


def _people(rows: pd.DataFrame, table: pd.DataFrame, override: str | None, notes: list[Note]) -> pd.DataFrame:
    out = []
    for person, mine in rows.groupby("person", sort=True):
        t = table[table["person"] == person]
        first, latest = _first_and_latest(t)
        used = mine[mine["used"]]
        versions = used[["model", "version"]].drop_duplicates()
        row = {
            "person": person,
            "n_photos": len(mine),
            "n_measured": int(mine["used"].sum()),
            "n_sessions": int(used[["date", "phase"]].drop_duplicates().shape[0]),
            "n_dates": int(used["date"].nunique()),
            "first_session": session_label(first["date"], first["phase"]) if first is not None else "",
            "latest_session": session_label(latest["date"], latest["phase"]) if latest is not None else "",
            "calibrated_interpupil_mm": float(mine["calibrated_interpupil_mm"].max()) if mine["calibrated_interpupil_mm"].notna().any() else np.nan,
            "versions": "; ".join(" ".join(filter(None, v)) for v in versions.astype(str).to_numpy())
            + (f" ({', '.join(sorted(set(used['method']) - {''}))})" if (used["method"] != "").any() else ""),
            "mixed_versions": len(versions) > 1,
        }
        side, score, evidence = _affected_side(t, first)
        if override:
            if side not in ("unclear", override) and side:
                notes.append(Note(person, "warning", f"the affected side was set to {override}, but the first "
                                  f"session's photos point to the {side} side"))
            side, row["affected_side_source"] = override, "given"
        else:
            row["affected_side_source"] = "first session"
            if side == "unclear":
                notes.append(Note(person, "info", "the first session shows no clear one-sided asymmetry, so the "
                                  "affected side is not named; recovery is still measured per measure"))
        row.update(affected_side=side, side_score=score, side_evidence=evidence)
        out.append(row)
    cols = ["person", "affected_side", "affected_side_source", "side_score", "side_evidence", "first_session",
            "latest_session", "n_sessions", "n_dates", "n_photos", "n_measured", "calibrated_interpupil_mm",
            "versions", "mixed_versions"]
    return pd.DataFrame(out, columns=cols)


def _affected_side(t: pd.DataFrame, first) -> tuple[str, float, str]:
    """The side that is lower / moves less in the first session, from a scaled vote of the measures."""
    if first is None:
        return "", np.nan, ""
    f = t[(t["date"] == first["date"]) & (t["phase"] == first["phase"])]
    score, parts = 0.0, []
    for (expr, measure), scale in SIDE_EVIDENCE.items():
        v = f.loc[(f["expression"] == expr) & (f["measure"] == measure), "value"]
        if len(v) and np.isfinite(v.iloc[0]):
            z = float(np.clip(v.iloc[0] / scale, -3, 3))  # one wild measure must not decide alone
            score += z
            parts.append(f"{MEASURES[measure].label} ({expr.replace('_', ' ')}) {v.iloc[0]:+.1f} {MEASURES[measure].unit}")
    side = "unclear" if abs(score) < 1.0 else ("right" if score > 0 else "left")
    return side, score, "; ".join(parts)


def _attach_noise_and_recovery(table: pd.DataFrame, repeat: pd.DataFrame, people: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """Add SEM/MDC95, the first-session value, the change from it, recovery % and a verdict (vectorised)."""
    noise = repeat[["person", "measure", "sem", "mdc95", "source"]].rename(columns={"source": "noise_source"})
    table = table.merge(noise, on=["person", "measure"], how="left")
    if table.empty:
        for c in ("first_value", "change_from_first", "recovery_pct"):
            table[c] = pd.Series(dtype=float)
        table["verdict"] = pd.Series(dtype=str)
        return table
    table["phase_rank"] = table["phase"].map(PHASE_RANK)
    table = table.sort_values(["person", "date", "phase_rank"], kind="stable")
    # first session per person: earliest date, pre before no phase before post
    first = table.groupby("person")[["date", "phase_rank"]].first().rename(columns={"date": "f_date", "phase_rank": "f_rank"})
    table = table.join(first, on="person")
    at_first = (table["date"] == table["f_date"]) & (table["phase_rank"] == table["f_rank"])
    key = ["person", "expression", "measure"]
    # reference: the first session's value, else the earliest session that has the measure
    ref = table[at_first].groupby(key)[["value", "session", "ci95"]].first()
    earliest = table.groupby(key)[["value", "session", "ci95"]].first()
    ref = ref.reindex(earliest.index).fillna(earliest).rename(
        columns={"value": "first_value", "session": "first_session", "ci95": "first_ci95"})
    late = earliest.index.difference(table[at_first].set_index(key).index)
    for person, expr, measure in late:
        if (expr, measure) in KEY_MEASURES:
            notes.append(Note(person, "info", f"{MEASURES[measure].label} ({expr}) is missing in the first session; "
                              f"its changes are counted from {ref.loc[(person, expr, measure), 'first_session']}"))
    table = table.join(ref, on=key)
    table["first_value"] = table["first_value"].astype(float)
    table["change_from_first"] = table["value"] - table["first_value"]
    # The smallest change since the first session called real: the repeatability's MDC95, or more
    # where the two sessions' own intervals (method and photo quality, measured on real photos
    # taken on different days) are wider. Pre against post of one sitting keeps the repeatability's.
    table["mdc95_sitting"] = table["mdc95"]
    table["mdc95"] = np.fmax(table["mdc95"], np.hypot(table["ci95"], table["first_ci95"]))
    kinds = table["measure"].map(lambda m: MEASURES[m].kind)
    target = kinds.map({"asymmetry": 0.0, "index": 100.0, "ratio": 1.0})
    gap = target - table["first_value"]
    meaningful = gap.abs() > table["mdc95"].fillna(0.0).clip(lower=1e-9)
    table["recovery_pct"] = _recovery(table["value"], table["first_value"], target, kinds).where(meaningful)
    table["verdict"] = [_verdict(c, m, r, k) for c, m, r, k in
                        zip(table["change_from_first"], table["mdc95"], table["recovery_pct"], kinds)]
    table.loc[table["session"] == table["first_session"], "verdict"] = "first"
    table = table.drop(columns=["phase_rank", "f_date", "f_rank", "first_session", "first_ci95"])
    return table.sort_index().reset_index(drop=True)


def recovery_pct(values, first: float, kind: str, mdc: float = 0.0):
    """Percent of the way from the first value to symmetric (0 = as at first, 100 = symmetric).

    NaN when the first value was already within `mdc` of symmetric, or for
    one-side measures (kind "side"), which have no symmetric value.
    """
    values = pd.Series(values, dtype=float) if not isinstance(values, pd.Series) else values.astype(float)
    target = {"asymmetry": 0.0, "index": 100.0, "ratio": 1.0}.get(kind)
    if target is None or not np.isfinite(first):
        return values * np.nan
    if abs(target - first) <= max(mdc, 1e-9):
        return values * np.nan
    return _recovery(values, first, target, kind)


def _recovery(values, first, target, kind):
    """100 * (the first gap to symmetric - the gap now) / the first gap. For a signed asymmetry
    the gaps are sizes, so one that crosses even to the other side is never more than 100%
    recovered: from 1.1 mm one way to 0.6 mm the other is 45%, not 155%."""
    along = (values - first) / (target - first)  # 1 = at the symmetric value
    by_size = (np.abs(target - first) - np.abs(values - target)) / np.abs(target - first)
    return pd.Series(100.0 * np.where(np.asarray(kind == "asymmetry"), by_size, along), index=values.index)


def _verdict(change: float, mdc: float, recovery: float, kind: str) -> str:
    if not np.isfinite(change):
        return ""
    if not np.isfinite(mdc) or abs(change) <= mdc:
        return "within measurement noise"
    if kind == "side" or not np.isfinite(recovery):
        return "real change"
    return "real change: better" if recovery > 0 else "real change: worse"


def _summary(table: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    out = []
    for person in people["person"]:
        mine = table[table["person"] == person]
        _, latest = _first_and_latest(mine)
        for expr, measure in KEY_MEASURES:
            sub = mine[(mine["expression"] == expr) & (mine["measure"] == measure)]
            if sub.empty:
                continue
            sub = sub.sort_values(["date", "phase"], key=_sort_key)
            first = sub[sub["verdict"] == "first"].iloc[0] if (sub["verdict"] == "first").any() else sub.iloc[0]
            # latest: the last date, before massage when there is a pre photo
            last_date = sub["date"].max()
            lat = sub[sub["date"] == last_date].iloc[0]
            info = MEASURES[measure]
            out.append({
                "person": person, "expression": expr, "measure": measure, "label": info.label, "unit": info.unit,
                "first_session": first["session"], "first_value": first["value"],
                "latest_session": lat["session"], "latest_value": lat["value"],
                "change": lat["value"] - first["value"], "mdc95": lat["mdc95"], "noise_source": lat["noise_source"],
                "verdict": "" if lat["session"] == first["session"] else lat["verdict"],
                "recovery_pct": lat["recovery_pct"], "n_sessions": len(sub),
            })
    cols = ["person", "expression", "measure", "label", "unit", "first_session", "first_value", "latest_session",
            "latest_value", "change", "mdc95", "noise_source", "verdict", "recovery_pct", "n_sessions"]
    return pd.DataFrame(out, columns=cols)


def _massage_effect(table: pd.DataFrame) -> pd.DataFrame:
    cols = ["person", "date", "expression", "measure", "pre", "post", "change", "improvement", "mdc95", "verdict"]
    if table.empty:  # no photo could be used: nothing to compare
        return pd.DataFrame(columns=cols)
    keys = {k for k in KEY_MEASURES} | {(REST, m) for m in ("mouth_droop_mm", "brow_asymmetry_mm")}
    t = table[[(e, m) in keys for e, m in zip(table["expression"], table["measure"])]]
    t = t[t["phase"].isin(["pre", "post"])]
    if t.empty:
        return pd.DataFrame(columns=cols)
    w = t.pivot_table(index=["person", "date", "expression", "measure"], columns="phase",
                      values=["value", "mdc95_sitting", "first_value"], aggfunc="first")
    if ("value", "pre") not in w.columns or ("value", "post") not in w.columns:
        return pd.DataFrame(columns=cols)
    w = w.dropna(subset=[("value", "pre"), ("value", "post")])
    out = pd.DataFrame({"pre": w[("value", "pre")], "post": w[("value", "post")]}).reset_index()
    out["change"] = out["post"] - out["pre"]
    out["mdc95"] = w[("mdc95_sitting", "pre")].to_numpy()
    first = w[("first_value", "pre")].to_numpy()
    kinds = out["measure"].map(lambda m: MEASURES[m].kind)
    # improvement: towards symmetric (for signed asymmetries, towards zero from the first session's side)
    sign = np.sign(np.where(np.isfinite(first) & (first != 0), first, out["pre"]))
    out["improvement"] = np.where(kinds == "asymmetry", -sign * out["change"], out["change"])
    out["verdict"] = [
        "within measurement noise" if abs(c) <= m else ("real change: better" if i > 0 else "real change: worse")
        for c, m, i in zip(out["change"], out["mdc95"], out["improvement"])
    ]
    out["expr_rank"] = [KEY_MEASURES.index((e, m)) if (e, m) in KEY_MEASURES else 99
                        for e, m in zip(out["expression"], out["measure"])]
    return out.sort_values(["person", "expr_rank", "date"])[cols].reset_index(drop=True)


def _log_notes(log: pd.DataFrame, rows: pd.DataFrame, notes: list[Note]) -> None:
    bad = log[~log["valid_date"]]
    if len(bad):
        notes.append(Note("", "warning", f"{len(bad)} massage-log row(s) have no readable date (expected "
                          f"YYYY-MM-DD): {', '.join(repr(d) for d in bad['date'][:5])}; they are not shown"))
    dates = rows.loc[rows["valid_date"], "date"]
    if len(dates) and log["valid_date"].any():
        good = log.loc[log["valid_date"], "date"]
        outside = good[(good < dates.min()) | (good > dates.max())]
        if len(outside):
            notes.append(Note("", "info", f"{len(outside)} massage-log date(s) lie outside the photo sessions' dates"))
