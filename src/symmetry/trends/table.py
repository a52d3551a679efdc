"""The input of a trend: rows of scores.csv -> one normalised table, calibrated to each person.

Pure pandas: no images, no model. The input is the output contract (one row per photo,
`symmetry.face.measures.COLUMNS` then the batch's provenance columns, as written by
`symmetry score`); only rows with `status == "ok"` and a readable date feed the measures,
the others are counted and explained in notes.

* Session: one person on one date, in one phase (`pre` or `post` massage, or no phase).
* Scale: every millimetre value in a row is pixels x mm_per_px, and a photo's iris-based
  scale varies by 1-5 % (and is unreliable with closed eyes). So each person is calibrated
  once: their inter-pupil distance is the median `interpupil_mm` of their measured,
  eyes-open resting photos, and every mm value of every row is rescaled to it
  (`measures.rescaled`).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from symmetry.batch.sinks import TEXT_COLUMNS
from symmetry.face.measures import EYES_CLOSED_MM, MM_FIELDS, rescaled, symmetry_index
from symmetry.vocabulary import UNCLEAR
from symmetry.trends.definitions import SESSION_KEYS, STATIC_MEASURES, Note, session_label
from symmetry.vocabulary import PHASES, REST

REQUIRED_COLUMNS = ("person", "date", "phase", "expression", "status")
#: The person of a photo with neither a person nor a file name.
UNNAMED = "(unnamed)"


def normalise(data: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """The rows with their text, numbers, names, phases and dates made uniform, plus `input_order`,
    `valid_date`, `used` (the row feeds the measures) and `session`. What was odd goes to `notes`.

    Raises:
        TypeError: `data` is not a DataFrame.
        ValueError: a required column is missing.
    """
    rows = _typed(data)
    _name_the_nameless(rows, notes)
    rows["phase"] = rows["phase"].str.lower()
    odd = ~rows["phase"].isin(PHASES)
    if odd.any():
        bad = ", ".join(sorted(rows.loc[odd, "phase"].unique()))
        notes.append(Note("", "warning", f"unknown phase(s) {bad} (expected pre or post): treated as no phase"))
        rows.loc[odd, "phase"] = ""
    rows["expression"] = rows["expression"].str.lower()
    rows["status"] = rows["status"].str.lower()
    _dates(rows, notes)
    dup = rows["path"].ne("") & rows.duplicated("path", keep="last")
    if dup.any():
        notes.append(Note("", "warning", f"{int(dup.sum())} photo path(s) appear more than once; the last row of each is used"))
    rows["used"] = (rows["status"] == "ok") & rows["valid_date"] & ~dup
    rows["session"] = [session_label(d, p) for d, p in zip(rows["date"], rows["phase"])]
    return rows


def _typed(data: pd.DataFrame) -> pd.DataFrame:
    """A copy of `data` whose text columns are stripped text and whose measures are numbers."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"compute_trends() takes the rows of scores.csv as a DataFrame or a CSV path, not {type(data).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(
            f"the scores table lacks the column(s) {', '.join(missing)}; pass the scores.csv written by "
            "`symmetry score` (or symmetry.score_folder(...)), which has person, date, phase, expression and status"
        )
    rows = data.copy().reset_index(drop=True)
    for c in TEXT_COLUMNS:
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
    return rows


def _name_the_nameless(rows: pd.DataFrame, notes: list[Note]) -> None:
    """No person: grouping such photos together could mix faces, so each one stands alone, named after its file."""
    nameless = rows["person"] == ""
    if not nameless.any():
        return
    stems = rows.loc[nameless, "path"].map(lambda p: os.path.splitext(os.path.basename(p))[0])
    rows.loc[nameless, "person"] = stems.where(stems != "", UNNAMED)
    for person in rows.loc[nameless, "person"].unique():
        notes.append(Note(person, "info", "no person was given for this photo, so it is reported on its own, "
                          "named after its file. Use the folder layout PERSON/YYYY-MM-DD/EXPRESSION.jpg or a "
                          "manifest to group a person's photos."))


def _dates(rows: pd.DataFrame, notes: list[Note]) -> None:
    """Dates as YYYY-MM-DD and `valid_date`; notes on unreadable, future and unordered dates."""
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


def _eyes_open(rows: pd.DataFrame) -> pd.Series:
    return rows[["eye_opening_right_mm", "eye_opening_left_mm"]].max(axis=1) >= EYES_CLOSED_MM


def calibrated(rows: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """Rescale every mm value of each person's rows to their calibrated inter-pupil distance
    (`measures.rescaled`); adds `scale_factor` and `calibrated_interpupil_mm`."""
    rows = rows.copy()
    rows["scale_factor"] = 1.0
    rows["calibrated_interpupil_mm"] = np.nan
    usable = rows["used"] & rows["interpupil_mm"].gt(0)
    for person in rows["person"].unique():
        mine = rows["person"] == person
        ipd = _calibration(rows, mine, usable, person, notes)
        if ipd is None:
            continue
        k = ipd / rows.loc[mine, "interpupil_mm"]
        rows.loc[mine, "scale_factor"] = k.where(k.notna() & np.isfinite(k), 1.0)
        rows.loc[mine, "calibrated_interpupil_mm"] = ipd
        values = rows.loc[mine, list(MM_FIELDS)].to_dict("records")
        rows.update(pd.DataFrame([rescaled(v, ipd) for v in values], index=rows.index[mine]))
        # Other mm columns (the asymmetries' 95% intervals) scale with the same factor.
        for c in _other_mm_columns(rows):
            rows.loc[mine, c] = rows.loc[mine, c] * rows.loc[mine, "scale_factor"]
    # Every used row's symmetry index agrees with its asymmetries, also where they were not
    # rescaled (no calibration) or one is missing (NaN).
    ok = rows["used"]
    rows.loc[ok, "symmetry_index"] = [
        symmetry_index(a, b, c) if np.isfinite([a, b, c]).all() else np.nan
        for a, b, c in rows.loc[ok, ["mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm"]].to_numpy()
    ]
    return rows


def _calibration(rows: pd.DataFrame, mine: pd.Series, usable: pd.Series, person: str, notes: list[Note]) -> float | None:
    """The person's calibrated inter-pupil distance: the median of their measured eyes-open resting
    photos (else of their other eyes-open photos); None when they have none."""
    open_eyes = usable & mine & _eyes_open(rows)
    rest = open_eyes & (rows["expression"].isin([REST, ""]))
    source = rest if rest.any() else open_eyes
    if not source.any():
        if (mine & rows["used"]).any():
            notes.append(Note(person, "warning", "no measured eyes-open photo to calibrate the scale from: "
                              "each photo keeps its own iris scale (1-5 % error per photo)"))
        return None
    if not rest.any():
        notes.append(Note(person, "info", "no measured eyes-open resting photo: the scale is calibrated "
                          "from the other eyes-open photos"))
    return float(rows.loc[source, "interpupil_mm"].median())


def _other_mm_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c.endswith("_mm") and c not in MM_FIELDS and c != "calibrated_interpupil_mm"
            and pd.api.types.is_numeric_dtype(rows[c])]


def expression_counts(expressions: pd.Series) -> str:
    """"3 rest, 1 smile": how many photos show each expression, most first."""
    return ", ".join(f"{n} {e.replace('_', ' ')}" for e, n in expressions.value_counts().items())


def provenance_notes(rows: pd.DataFrame, notes: list[Note]) -> None:
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


def label_unlabelled(rows: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
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


def session_notes(rows: pd.DataFrame, notes: list[Note]) -> None:
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
