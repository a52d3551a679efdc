"""The massage log: a CSV of massage dates (and duration, technique, acupoints, notes), shown
beside the measures."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from symmetry.trends.definitions import Note


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


def log_notes(log: pd.DataFrame, rows: pd.DataFrame, notes: list[Note]) -> None:
    """Warn of log rows without a readable date, and of log dates outside the photo sessions'."""
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


#: The file name `symmetry massage` writes a person's log to, beside their session folders.
LOG_NAME = "massage_log.csv"


def find_massage_logs(rows: pd.DataFrame, base_dir: str | os.PathLike) -> tuple[pd.DataFrame | None, list[str]]:
    """The massage logs that sit with the scored photos, as one log, and their paths.

    `symmetry massage` writes OUT/PERSON/massage_log.csv beside the session folders
    OUT/PERSON/DATE_PHASE/, so each photo's grandparent folder is looked in (paths relative
    to `base_dir`, the scores table's folder). A log row without a person is that folder's
    person. None when there is no log.
    """
    found: dict[str, str] = {}
    for path in rows.get("path", pd.Series(dtype=str)).dropna().astype(str).unique():
        p = Path(path) if Path(path).is_absolute() else Path(base_dir) / path
        log = p.parent.parent / LOG_NAME
        if str(log) not in found and log.is_file():
            found[str(log)] = p.parent.parent.name
    logs = []
    for log, person in found.items():
        one = read_massage_log(log)
        one["person"] = one["person"].where(one["person"] != "", person)
        logs.append(one)
    if not logs:
        return None, []
    return normalise_log(pd.concat(logs, ignore_index=True).drop(columns="valid_date")), list(found)
