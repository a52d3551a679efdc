"""The report's tables for the clinician: sessions, first and latest, massage effect,
repeatability, photos, definitions, methods and the massage log (rows of formatted cells)."""

from __future__ import annotations

import os

import numpy as np

from symmetry.render.common import expression_words, in_session_order, num, person_rows
from symmetry.trends.compute import Trends
from symmetry.trends.definitions import MEASURES
from symmetry.vocabulary import REST

#: Short verdicts for the tables (the trend tables keep the full wording).
SHORT_VERDICT = {"real change: better": "real, better", "real change: worse": "real, worse",
                 "within measurement noise": "within noise", "real change": "real change"}

#: What each method does, in the report's words (docs/measurements.md, "Methods").
METHOD_WORDS = {
    "canonical": "measured on its own from the face model's landmarks, found on level, fixed-size and mirrored "
                 "views of the face and averaged; its asymmetries lean towards symmetric (it sees about half of "
                 "a mouth corner's displacement and a quarter of a brow's)",
    "landmarks": "measured on its own from one pass of the face model; its asymmetries lean towards symmetric",
    "mirrored": "measured on its own, with mouth and brow read from the photo's mirror image (image evidence)",
    "balanced": "measured on its own, with mouth and brow read as the counter-warp that makes the face look "
                "symmetric to the face model (image evidence)",
    "tracked": "lined up with the person's first photo of the same expression, each feature followed from it "
               "(image evidence): it sees a whole change on warps of one photo, but on real photos, even frames of "
               "one sitting, it spreads more than the single-photo reading",
}

#: The session table's columns: (expression, measure, header, number format).
SESSION_COLUMNS = (
    (REST, "mouth_droop_mm", "mouth droop (mm)", "+.2f"),
    (REST, "eye_opening_difference_mm", "eye-opening diff. (mm)", "+.2f"),
    (REST, "brow_asymmetry_mm", "brow asym. (mm)", "+.2f"),
    (REST, "symmetry_index", "symmetry index", ".1f"),
    ("smile", "mouth_excursion_ratio", "smile ratio", ".2f"),
    ("brow_raise", "brow_excursion_ratio", "brow-raise ratio", ".2f"),
    ("eyes_closed_tight", "eye_closure_right_pct", "tight closure R (%)", ".0f"),
    ("eyes_closed_tight", "eye_closure_left_pct", "tight closure L (%)", ".0f"),
)

#: Measures listed date by date in the massage table (the CSV beside the report has all of them).
MASSAGE_DETAIL = ((REST, "mouth_droop_mm"), (REST, "eye_opening_difference_mm"), (REST, "brow_asymmetry_mm"),
                  (REST, "symmetry_index"), ("smile", "mouth_excursion_ratio"))


def _spec(info) -> str:
    """How a measure's values are written: ratios to 2 decimals, points and % to 1, mm signed to 2."""
    return ".2f" if info.kind == "ratio" else (".1f" if info.unit in ("points", "%") else "+.2f")


def _signed(spec: str) -> str:
    return "+" + spec.lstrip("+")


def _verdict_css(verdict: str) -> str:
    return "better" if verdict.endswith("better") else ("worse" if verdict.endswith("worse") else "")


def _label(info, expr: str) -> str:
    """A measure's label, with its expression unless it is rest."""
    return info.label + ("" if expr == REST else f" ({expression_words(expr)})")


def method_lines(t: Trends, person: str) -> list[str]:
    """One sentence per method used for `person`'s photos, with how many photos it measured."""
    rows = person_rows(t, person)
    if "method" not in rows:
        return []
    counts = rows.loc[rows["status"] == "ok", "method"].value_counts()
    return [f"{n} photo{'s' if n != 1 else ''} ({method}): each {METHOD_WORDS.get(method, 'see the method column')}."
            for method, n in counts.items()]


def session_rows(t: Trends, person: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows): one row per session, its photo count and the key measures (± SD)."""
    tab = t.table[t.table["person"] == person]
    # one pass over the rows into dicts: a mask of the table per session and column took 0.1 s a person
    values = {}
    for date, phase, expr, measure, value, n, sd in zip(tab["date"], tab["phase"], tab["expression"], tab["measure"],
                                                        tab["value"], tab["n"], tab["sd"]):
        values.setdefault((date, phase, expr, measure), (value, n, sd))
    have = {(expr, measure) for _, _, expr, measure in values}
    cols = [c for c in SESSION_COLUMNS if c[:2] in have]
    header = ["session", "photos"] + [c[2] for c in cols]
    photos = t.rows[(t.rows["person"] == person) & t.rows["valid_date"]]
    counts = {}
    for date, phase, used in zip(photos["date"], photos["phase"], photos["used"]):
        count = counts.setdefault((date, phase), [0, 0])
        count[0] += int(used)
        count[1] += 1
    rows = []
    for (date, phase), _ in tab.groupby(["date", "phase"], sort=False):
        used, n_photos = counts.get((date, phase), (0, 0))
        cells = [f"{date} {phase}".strip(), f"{used}/{n_photos}"]
        for expr, measure, _, spec in cols:
            if (date, phase, expr, measure) not in values:
                cells.append("–")
                continue
            value, n, sd = values[date, phase, expr, measure]
            text = num(value, spec)
            if n > 1 and np.isfinite(sd):
                text += f" ± {num(sd, spec.lstrip('+'))}"
            cells.append(text)
        rows.append(cells)
    return header, rows


def summary_rows(t: Trends, person: str) -> list[dict]:
    """First and latest session of every measure, the change, its noise and verdict."""
    out = []
    for _, r in t.summary[t.summary["person"] == person].iterrows():
        info = MEASURES[r["measure"]]
        spec = _spec(info)
        one = r["first_session"] == r["latest_session"]
        out.append({
            "measure": f"{info.label} ({expression_words(r['expression'])})",
            "unit": info.unit, "first": num(r["first_value"], spec), "first_session": r["first_session"],
            "latest": num(r["latest_value"], spec), "latest_session": r["latest_session"],
            "change": num(r["change"], _signed(spec)) if not one else "–",
            "mdc": num(r["mdc95"], spec.lstrip("+")), "noise_source": r["noise_source"],
            "verdict": SHORT_VERDICT.get(r["verdict"], r["verdict"]) or ("one session only" if one else ""),
            "recovery": num(r["recovery_pct"], ".0f", "%"),
            "css": _verdict_css(r["verdict"]),
        })
    return out


def massage_rows(t: Trends, person: str) -> list[dict]:
    """Before and after each massage, date by date, for the `MASSAGE_DETAIL` measures."""
    m = t.massage[t.massage["person"] == person]
    m = m[[(e, k) in MASSAGE_DETAIL for e, k in zip(m["expression"], m["measure"])]]
    out = []
    for _, r in m.iterrows():
        info = MEASURES[r["measure"]]
        spec = _spec(info)
        out.append({"date": r["date"], "measure": _label(info, r["expression"]),
                    "unit": info.unit, "pre": num(r["pre"], spec), "post": num(r["post"], spec),
                    "change": num(r["change"], _signed(spec)), "improvement": num(r["improvement"], _signed(spec)),
                    "mdc": num(r["mdc95"], spec.lstrip("+")), "verdict": SHORT_VERDICT.get(r["verdict"], r["verdict"]),
                    "css": _verdict_css(r["verdict"])})
    return out


def massage_stats(t: Trends, person: str) -> list[dict]:
    """Per measure: the median, smallest and largest change after massage, and how many were real."""
    m = t.massage[t.massage["person"] == person]
    out = []
    for (expr, measure), g in m.groupby(["expression", "measure"], sort=False):
        info = MEASURES[measure]
        spec = _signed(_spec(info))
        out.append({"measure": _label(info, expr), "unit": info.unit, "n": len(g),
                    "median": num(g["improvement"].median(), spec), "min": num(g["improvement"].min(), spec),
                    "max": num(g["improvement"].max(), spec),
                    "real": int((g["verdict"] == "real change: better").sum()),
                    "worse": int((g["verdict"] == "real change: worse").sum())})
    return out


def repeat_rows(t: Trends, person: str) -> list[dict]:
    """The measurement noise (SEM, MDC95) of each measure the person has, and where it came from."""
    used = set(t.table.loc[t.table["person"] == person, "measure"])
    rep = t.repeatability[(t.repeatability["person"] == person) & t.repeatability["measure"].isin(used)]
    out = []
    for _, r in rep.iterrows():
        info = MEASURES[r["measure"]]
        spec = ".3f" if info.kind == "ratio" else ".2f"
        out.append({"measure": info.label, "unit": info.unit, "sem": num(r["sem"], spec), "mdc": num(r["mdc95"], spec),
                    "own": num(r["sem_own"], spec), "df": int(r["df"]), "source": r["source"]})
    return out


def photo_rows(t: Trends, person: str) -> tuple[str, list[dict]]:
    """(common folder, rows): file names are shown relative to the folder all of them share."""
    rows = in_session_order(t.rows[t.rows["person"] == person], ["date", "phase", "expression", "path"])
    paths = [p for p in rows["path"] if p]
    folder = ""
    if len(paths) > 1:
        try:
            folder = os.path.commonpath(paths)
        except ValueError:  # mixed absolute and relative paths
            folder = ""
    elif len(paths) == 1:
        folder = os.path.dirname(paths[0])
    cut = len(folder.rstrip("/\\")) + 1 if folder else 0
    return folder, [{"session": r["session"], "expression": r["expression"] or "–", "file": r["path"][cut:] or r["path"],
                     "status": r["status"], "message": r["message"], "used": bool(r["used"]),
                     "droop": num(r["mouth_droop_mm"], "+.2f")} for _, r in rows.iterrows()]


def definitions(t: Trends, person: str) -> list[dict]:
    """How each measure the person has is defined."""
    used = set(t.table.loc[t.table["person"] == person, "measure"])
    return [{"label": i.label, "unit": i.unit or "ratio", "definition": i.definition}
            for m, i in MEASURES.items() if m in used]


def log_rows(t: Trends, person: str) -> list[dict] | None:
    """The massage log's entries for `person` (and those for everyone); None without a log."""
    if t.log is None or not len(t.log):
        return None
    lg = t.log[t.log["person"].isin(["", person])]
    return [{"date": r["date"], "duration": r["duration"], "technique": r["technique"], "acupoints": r["acupoints"],
             "notes": r["notes"], "valid": bool(r["valid_date"])} for _, r in lg.iterrows()]
