"""What the report's words, tables and figures share: how numbers, dates and sessions are
written, a person's rows, and the order of the sessions (from `vocabulary.PHASE_RANK`)."""

from __future__ import annotations

import datetime as _dt
import math

import pandas as pd

from symmetry.trends.compute import Trends
from symmetry.vocabulary import PHASE_RANK


def person_rows(t: Trends, person: str) -> pd.DataFrame:
    """The photo rows of `person` (all rows when the table has no person column)."""
    return t.rows[t.rows["person"] == person] if "person" in t.rows else t.rows


def in_session_order(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """`frame` sorted by the columns `by`; a "phase" column sorts before, none, after massage."""
    return frame.sort_values(by, key=lambda c: c.map(PHASE_RANK) if c.name == "phase" else c)


def num(value, spec: str = ".1f", unit: str = "") -> str:
    """A number as the report prints it: "–" when missing, no sign on zero, then the unit."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    text = format(v, spec)
    if float(text.rstrip("%")) == 0:  # no "-0.00" or "+0.00": zero has no sign
        text = format(0.0, spec.lstrip("+"))
    return f"{text} {unit}".strip() if unit and unit not in ("", "%") else (text + "%" if unit == "%" else text)


def expression_words(expr: str) -> str:
    """"eyes_closed_tight" -> "eyes closed tight"."""
    return expr.replace("_", " ")


def long_date(date: str) -> str:
    """"2026-03-02" -> "2 March 2026" (anything else as it is)."""
    try:
        d = _dt.date.fromisoformat(date[:10])
    except ValueError:
        return date
    return f"{d.day} {d.strftime('%B %Y')}"


def session_words(session: str) -> str:
    """"2026-03-02 pre" -> "2 March 2026, before massage"."""
    date, _, phase = session.partition(" ")
    when = long_date(date)
    return f"{when}, {'before' if phase == 'pre' else 'after'} massage" if phase else when
