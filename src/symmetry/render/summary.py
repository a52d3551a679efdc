"""The report's "In short": plain-language findings for the patient, one per key measure.

Every number and verdict comes from `Trends` (its summary, session and massage tables),
the same source as the figures and the clinician's tables, so the words and the pictures
cannot disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from symmetry.face.measures import HEALTHY_SYMMETRY_INDEX
from symmetry.render.common import num, session_words
from symmetry.trends.compute import Trends
from symmetry.vocabulary import REST

#: Resting asymmetries: (measure, title, feature, verb, comparative): "the right eye opened 0.8 mm wider than".
RESTING = (
    ("mouth_droop_mm", "Mouth corners at rest", "mouth corner", "sat", "lower"),
    ("eye_opening_difference_mm", "Eyes at rest", "eye", "opened", "wider"),
    ("brow_asymmetry_mm", "Eyebrows at rest", "eyebrow", "sat", "lower"),
)
#: Movements, in the order they are looked for: (expression, measure stem, title, feature);
#: the summary tells the first mouth movement with data, and the brow raise.
MOUTH_MOVEMENTS = (
    ("smile", "mouth_excursion", "Smile", "mouth corner"),
    ("smile_open", "mouth_excursion", "Open smile", "mouth corner"),
    ("eee", "mouth_excursion", "Saying \u201ceee\u201d", "mouth corner"),
)
BROW_MOVEMENT = ("brow_raise", "brow_excursion", "Raising the eyebrows", "eyebrow")
#: Eye closures, in the order they are looked for: (expression, how).
CLOSURES = (("eyes_closed_tight", "tightly"), ("eyes_closed_gentle", "gently"))


def patient_summary(t: Trends, person: str) -> list[dict]:
    """Plain-language findings, one per key measure with data: [{"title", "text"}]."""
    s = t.summary[t.summary["person"] == person].set_index(["expression", "measure"])
    tab = t.table[t.table["person"] == person]
    items = [_resting_asymmetry(s, *resting) for resting in RESTING]
    items.append(_symmetry_index(s))
    # one mouth movement, the brow raise and one eye closure: the tables have every expression
    items.append(next(filter(None, (_movement(s, tab, *m) for m in MOUTH_MOVEMENTS)), None))
    items.append(_movement(s, tab, *BROW_MOVEMENT))
    items.append(next(filter(None, (_eye_closure(s, tab, *c) for c in CLOSURES)), None))
    items.append(_after_massage(t.massage[t.massage["person"] == person]))
    return [item for item in items if item is not None]


def _row(s: pd.DataFrame, expr: str, measure: str) -> pd.Series | None:
    return s.loc[(expr, measure)] if (expr, measure) in s.index else None


def _first_latest(r: pd.Series) -> tuple[bool, str, str]:
    """(one session only, the first session in words, the latest in words)."""
    one = r["first_session"] == r["latest_session"]
    return one, session_words(r["first_session"]), session_words(r["latest_session"])


def _resting_asymmetry(s: pd.DataFrame, measure: str, title: str, feature: str, verb: str,
                       comparative: str) -> dict | None:
    r = _row(s, REST, measure)
    if r is None:
        return None
    one, first, latest = _first_latest(r)

    def say(v: float) -> str:
        if abs(v) < 0.05:
            return f"the two {feature}s were level"
        side, other = ("right", "left") if v > 0 else ("left", "right")
        return f"the {side} {feature} {verb} {abs(v):.1f} mm {comparative} than the {other}"

    if one:
        text = f"On {first}, {say(r['first_value'])}."
        if abs(r["first_value"]) <= r["mdc95"]:
            text += f" A difference this small is within measurement noise ({r['mdc95']:.1f} mm)."
    else:
        crossed = r["first_value"] * r["latest_value"] < 0 and abs(r["latest_value"]) >= 0.05
        text = (f"At the first session ({first}), {say(r['first_value'])}. "
                f"At the latest session ({latest}), {say(r['latest_value'])}."
                + (" The difference has crossed to the other side." if crossed else "")
                + f"{recovery_words(r['recovery_pct'])} {_change_sentence(r)}")
    return {"title": title, "text": text.strip()}


def _symmetry_index(s: pd.DataFrame) -> dict | None:
    r = _row(s, REST, "symmetry_index")
    if r is None:
        return None
    one, first, latest = _first_latest(r)
    if one:
        text = f"On {first} the symmetry index was {r['first_value']:.0f} out of 100."
    else:
        text = (f"The symmetry index went from {r['first_value']:.0f} ({first}) to {r['latest_value']:.0f} "
                f"out of 100 ({latest}).{recovery_words(r['recovery_pct'])} {_change_sentence(r)}")
    return {"title": "Symmetry index (0–100, 100 = perfectly even)",
            "text": text + " It combines the three resting measures above; healthy faces score about "
            f"{HEALTHY_SYMMETRY_INDEX:.0f} or more on it."}


def _movement(s: pd.DataFrame, tab: pd.DataFrame, expr: str, stem: str, title: str, feature: str) -> dict | None:
    r = _row(s, expr, f"{stem}_ratio")
    if r is None:
        return None
    weaker = _weaker_side(tab, expr, f"{stem}_difference_mm", r["first_session"])
    one, first, latest = _first_latest(r)
    lead = f"the {weaker} {feature} moved" if weaker else f"the weaker {feature} moved"
    if one:
        text = f"On {first}, {lead} {100 * r['first_value']:.0f}% as far as the other."
    else:
        text = (f"At the first session {lead} {100 * r['first_value']:.0f}% as far as the other; at the latest "
                f"session {100 * r['latest_value']:.0f}%.{recovery_words(r['recovery_pct'])} {_change_sentence(r)}")
    return {"title": title, "text": text}


def _weaker_side(tab: pd.DataFrame, expr: str, measure: str, session: str) -> str:
    v = tab[(tab["expression"] == expr) & (tab["measure"] == measure) & (tab["session"] == session)]["value"]
    if not len(v) or not np.isfinite(v.iloc[0]) or abs(v.iloc[0]) < 0.2:
        return ""
    return "right" if v.iloc[0] > 0 else "left"  # + = right side moves less


def _eye_closure(s: pd.DataFrame, tab: pd.DataFrame, expr: str, how: str) -> dict | None:
    rr = tab[(tab["expression"] == expr) & (tab["measure"].isin(["eye_closure_right_pct", "eye_closure_left_pct"]))]
    d = _row(s, expr, "eye_closure_difference_pct")
    if rr.empty or d is None:
        return None

    def closure(session):
        v = rr[rr["session"] == session].set_index("measure")["value"]
        return v.get("eye_closure_right_pct", np.nan), v.get("eye_closure_left_pct", np.nan)

    fr, fl = closure(d["first_session"])
    one, _, _ = _first_latest(d)
    text = (f"With the eyes closed {how}, the right eye closed {fr:.0f}% and the left {fl:.0f}% of its resting "
            f"opening at the first session")
    if not one:
        lr, ll = closure(d["latest_session"])
        text += f"; at the latest session {lr:.0f}% and {ll:.0f}%. {_change_sentence(d)}"
    else:
        text += "."
    return {"title": f"Closing the eyes {how}", "text": text.strip()}


def _after_massage(m: pd.DataFrame) -> dict | None:
    """The mouth corners straight after massage: the median change and how many were real."""
    mm = m[(m["expression"] == REST) & (m["measure"] == "mouth_droop_mm")]
    if not len(mm):
        return None
    better = int((mm["verdict"] == "real change: better").sum())
    worse = int((mm["verdict"] == "real change: worse").sum())
    med = float(mm["improvement"].median())
    direction = "more even" if med > 0 else "less even"
    text = (f"Right after massage, the mouth corners were on average (median) {abs(med):.1f} mm {direction} than "
            f"just before it, over {len(mm)} session{'s' if len(mm) > 1 else ''}. ")
    if better or worse:
        parts = [f"{better} more even" if better else "", f"{worse} less even" if worse else ""]
        text += (f"In {better + worse} of them the immediate change was larger than the measurement noise "
                 f"({' and '.join(filter(None, parts))}).")
    else:
        text += "None of these immediate changes was larger than the measurement noise."
    return {"title": "Straight after massage", "text": text}


def _change_sentence(row: pd.Series) -> str:
    """Whether a first-to-latest change is larger than the measurement noise, in words."""
    verdict = row["verdict"]
    mdc = num(row["mdc95"], ".1f" if row["unit"] != "" else ".2f", row["unit"])
    if verdict.startswith("real change"):
        better = verdict.endswith("better")
        return (f"This change is larger than the measurement noise ({mdc}), so it is a real change in the photos"
                f"{'' if better else ', towards less symmetry'}.")
    if verdict == "within measurement noise":
        return f"This change is within measurement noise ({mdc}): the photos cannot tell it apart from no change."
    return ""


def recovery_words(rec: float) -> str:
    """" That is 45% of the way from the start back to even." (or all the way, or none)."""
    if not np.isfinite(rec):
        return ""
    if rec >= 100:
        return " That is all the way to even."
    if rec <= 0:
        return " That is no closer to even than at the start."
    return f" That is {rec:.0f}% of the way from the start back to even."

