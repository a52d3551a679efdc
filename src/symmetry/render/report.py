"""One self-contained HTML recovery report per person (Jinja2, autoescaped, plots embedded).

The page opens offline (no scripts, no external files: figures are embedded as
data URIs, SVG for the plots so that they print sharply) and prints on A4/Letter.
The text at the top is written for the patient; the tables below are for the
clinician. It measures; it does not diagnose and gives no clinical grade.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from symmetry._version import __version__
from symmetry.face.measures import HEALTHY_SYMMETRY_INDEX
from symmetry.trends.table import (
    MEASURES,
    REST,
    Note,
    Trends,
    read_massage_log,
    compute_trends,
)

DISCLAIMER = (
    "This report measures photos. It does not diagnose anything and it gives no clinical grade. "
    "Small differences between photos are normal: a change is only called real when it is larger "
    "than the measurement noise. Talk to your doctor or therapist about what the numbers mean for you."
)
#: Shown when every photo was measured against the person's reference photo (or on its own with
#: image evidence): mouth and brow are read from the image; the eyes still partly from the landmark model.
EYE_NOTE = (
    "Mouth and brow millimetres are read from the photos themselves and are close to the true sizes. "
    "The eyes are not yet measured as well: the first session's difference in eye opening comes from the "
    "face model, which leans towards symmetry, so it can be too small; later sessions add the measured "
    "change to it. Read the eye curve's changes and whether they are real, not its exact level, which "
    "can be off by up to about a millimetre."
)
#: Methods whose mouth and brow asymmetry are read from the image, not the landmark model alone.
IMAGE_EVIDENCE_METHODS = ("tracked", "mirrored", "balanced")
#: Shown when some photos were measured with the raw or canonical landmarks alone.
SINGLE_PHOTO_NOTE = (
    "Measured from single photos, the millimetres are smaller than the true difference between the "
    "two sides: the face model leans towards symmetry and sees only about a third to two thirds of a "
    "drooping mouth corner or brow. Read the direction of the change and whether it is real; the "
    "true sizes are larger."
)


@dataclass
class PersonReport:
    person: str
    html: Path
    figures: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)


@dataclass
class ReportResult:
    """What `build_reports` wrote: one `PersonReport` per person, and an index page."""

    out: Path
    reports: list[PersonReport]
    index: Path | None
    trends: Trends


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
               "(image evidence): changes to about 0.1-0.2 mm in a fixed set-up of camera and light",
}


def _method_lines(t: Trends, person: str) -> list[str]:
    """One sentence per method used for `person`'s photos, with how many photos it measured."""
    rows = _person_rows(t, person)
    if "method" not in rows:
        return []
    counts = rows.loc[rows["status"] == "ok", "method"].value_counts()
    return [f"{n} photo{'s' if n != 1 else ''} ({method}): each {METHOD_WORDS.get(method, 'see the method column')}."
            for method, n in counts.items()]


# ------------------------------------------------------------------ helpers
def _person_rows(t: Trends, person: str) -> pd.DataFrame:
    return t.rows[t.rows["person"] == person] if "person" in t.rows else t.rows


def _image_evidence(t: Trends, person: str) -> bool:
    """Whether every photo of `person` was measured with image evidence (`IMAGE_EVIDENCE_METHODS`)."""
    rows = _person_rows(t, person)
    return "method" in rows and len(rows) > 0 and bool(rows["method"].isin(IMAGE_EVIDENCE_METHODS).all())


def person_slug(person: str) -> str:
    """A safe folder name for a person: letters, digits, - and _ only, plus a short hash
    of the real name whenever characters had to be replaced (so names never collide)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", person).strip("_")[:40] or "person"
    if slug != person:
        slug += "-" + hashlib.sha1(person.encode("utf-8")).hexdigest()[:6]
    return slug


def _num(value, spec: str = ".1f", unit: str = "") -> str:
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


#: Short verdicts for the tables (the trend tables keep the full wording).
SHORT_VERDICT = {"real change: better": "real, better", "real change: worse": "real, worse",
                 "within measurement noise": "within noise", "real change": "real change"}


def _expr_words(expr: str) -> str:
    return expr.replace("_", " ")


def _long_date(date: str) -> str:
    try:
        d = _dt.date.fromisoformat(date[:10])
    except ValueError:
        return date
    return f"{d.day} {d.strftime('%B %Y')}"


def _session_words(session: str) -> str:
    date, _, phase = session.partition(" ")
    when = _long_date(date)
    return f"{when}, {'before' if phase == 'pre' else 'after'} massage" if phase else when


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _jpeg_uri(rgb: np.ndarray, quality: int = 88) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("symmetry.render", "templates"),
        autoescape=True,  # every value is escaped: person names and file names are user input
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    return env


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------ patient text
def _side_words(value: float, kind_words: tuple[str, str]) -> str:
    return kind_words[0] if value > 0 else kind_words[1]


def _change_sentence(row: pd.Series) -> str:
    verdict = row["verdict"]
    mdc = _num(row["mdc95"], ".1f" if row["unit"] != "" else ".2f", row["unit"] if row["unit"] != "points" else "points")
    if verdict.startswith("real change"):
        better = verdict.endswith("better")
        return (f"This change is larger than the measurement noise ({mdc}), so it is a real change in the photos"
                f"{'' if better else ', towards less symmetry'}.")
    if verdict == "within measurement noise":
        return f"This change is within measurement noise ({mdc}): the photos cannot tell it apart from no change."
    return ""


def _recovery_words(rec: float) -> str:
    if not np.isfinite(rec):
        return ""
    if rec >= 100:
        return " That is all the way to even."
    if rec <= 0:
        return " That is no closer to even than at the start."
    return f" That is {rec:.0f}% of the way from the start back to even."


def patient_summary(t: Trends, person: str) -> list[dict]:
    """Plain-language findings, one per key measure with data: [{"title", "text"}]."""
    s = t.summary[t.summary["person"] == person].set_index(["expression", "measure"])
    tab = t.table[t.table["person"] == person]
    items = []

    def row(expr, measure):
        return s.loc[(expr, measure)] if (expr, measure) in s.index else None

    def first_latest(r):
        one = r["first_session"] == r["latest_session"]
        return one, _session_words(r["first_session"]), _session_words(r["latest_session"])

    def asym(measure, title, feature, lower_word):
        r = row(REST, measure)
        if r is None:
            return
        one, first, latest = first_latest(r)

        def say(v):
            if abs(v) < 0.05:
                return f"the two {feature}s were level"
            side, other = ("right", "left") if v > 0 else ("left", "right")
            return f"the {side} {feature} {lower_word} {abs(v):.1f} mm than the {other}"

        if one:
            text = f"On {first}, {say(r['first_value'])}."
            if abs(r["first_value"]) <= r["mdc95"]:
                text += f" A difference this small is within measurement noise ({r['mdc95']:.1f} mm)."
        else:
            crossed = r["first_value"] * r["latest_value"] < 0 and abs(r["latest_value"]) >= 0.05
            text = (f"At the first session ({first}), {say(r['first_value'])}. "
                    f"At the latest session ({latest}), {say(r['latest_value'])}."
                    + (" The difference has crossed to the other side." if crossed else "")
                    + f"{_recovery_words(r['recovery_pct'])} {_change_sentence(r)}")
        items.append({"title": title, "text": text.replace(" was ", " was ").strip()})

    asym("mouth_droop_mm", "Mouth corners at rest", "mouth corner", "sat")
    asym("eye_opening_difference_mm", "Eyes at rest", "eye", "opened")
    asym("brow_asymmetry_mm", "Eyebrows at rest", "eyebrow", "sat")
    # sentence fix-ups: "opened 0.8 mm than" -> "opened 0.8 mm wider than"; "sat 2.4 mm than" -> "sat 2.4 mm lower than"
    for it in items:
        it["text"] = re.sub(r"(sat [0-9.]+ mm) than", r"\1 lower than", it["text"])
        it["text"] = re.sub(r"(opened [0-9.]+ mm) than", r"\1 wider than", it["text"])

    r = row(REST, "symmetry_index")
    if r is not None:
        one, first, latest = first_latest(r)
        if one:
            text = f"On {first} the symmetry index was {r['first_value']:.0f} out of 100."
        else:
            text = (f"The symmetry index went from {r['first_value']:.0f} ({first}) to {r['latest_value']:.0f} "
                    f"out of 100 ({latest}).{_recovery_words(r['recovery_pct'])} {_change_sentence(r)}")
        items.append({"title": "Symmetry index (0–100, 100 = perfectly even)",
                      "text": text + " It combines the three resting measures above; healthy faces score about "
                      f"{HEALTHY_SYMMETRY_INDEX:.0f} or more on it."})

    for expr, stem, title, feature in (("smile", "mouth_excursion", "Smile", "mouth corner"),
                                       ("smile_open", "mouth_excursion", "Open smile", "mouth corner"),
                                       ("eee", "mouth_excursion", "Saying \u201ceee\u201d", "mouth corner"),
                                       ("brow_raise", "brow_excursion", "Raising the eyebrows", "eyebrow")):
        r = row(expr, f"{stem}_ratio")
        if r is None:
            continue
        weaker = _weaker_side(tab, expr, f"{stem}_difference_mm", r["first_session"])
        one, first, latest = first_latest(r)
        lead = f"the {weaker} {feature} moved" if weaker else f"the weaker {feature} moved"
        if one:
            text = f"On {first}, {lead} {100 * r['first_value']:.0f}% as far as the other."
        else:
            text = (f"At the first session {lead} {100 * r['first_value']:.0f}% as far as the other; at the latest "
                    f"session {100 * r['latest_value']:.0f}%.{_recovery_words(r['recovery_pct'])} {_change_sentence(r)}")
        items.append({"title": title, "text": text})
        if expr.startswith("smile") or expr == "eee":
            break  # one smile is enough in the summary; the tables have every expression

    for expr, how in (("eyes_closed_tight", "tightly"), ("eyes_closed_gentle", "gently")):
        rr = tab[(tab["expression"] == expr) & (tab["measure"].isin(["eye_closure_right_pct", "eye_closure_left_pct"]))]
        d = row(expr, "eye_closure_difference_pct")
        if rr.empty or d is None:
            continue
        def closure(session):
            v = rr[rr["session"] == session].set_index("measure")["value"]
            return v.get("eye_closure_right_pct", np.nan), v.get("eye_closure_left_pct", np.nan)

        fr, fl = closure(d["first_session"])
        one, first, latest = first_latest(d)
        text = (f"With the eyes closed {how}, the right eye closed {fr:.0f}% and the left {fl:.0f}% of its resting "
                f"opening at the first session")
        if not one:
            lr, ll = closure(d["latest_session"])
            text += f"; at the latest session {lr:.0f}% and {ll:.0f}%. {_change_sentence(d)}"
        else:
            text += "."
        items.append({"title": f"Closing the eyes {how}", "text": text.strip()})
        break
    m = t.massage[t.massage["person"] == person]
    mm = m[(m["expression"] == REST) & (m["measure"] == "mouth_droop_mm")]
    if len(mm):
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
        items.append({"title": "Straight after massage", "text": text})
    return items


def _weaker_side(tab: pd.DataFrame, expr: str, measure: str, session: str) -> str:
    v = tab[(tab["expression"] == expr) & (tab["measure"] == measure) & (tab["session"] == session)]["value"]
    if not len(v) or not np.isfinite(v.iloc[0]) or abs(v.iloc[0]) < 0.2:
        return ""
    return "right" if v.iloc[0] > 0 else "left"  # + = right side moves less


# ------------------------------------------------------------------ clinician tables
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


def session_rows(t: Trends, person: str) -> tuple[list[str], list[list[str]]]:
    tab = t.table[t.table["person"] == person]
    cols = [c for c in SESSION_COLUMNS if ((tab["expression"] == c[0]) & (tab["measure"] == c[1])).any()]
    header = ["session", "photos"] + [c[2] for c in cols]
    rows = []
    photos = t.rows[(t.rows["person"] == person) & t.rows["valid_date"]]
    for (date, phase), _ in tab.groupby(["date", "phase"], sort=False):
        sel = tab[(tab["date"] == date) & (tab["phase"] == phase)]
        p = photos[(photos["date"] == date) & (photos["phase"] == phase)]
        cells = [f"{date} {phase}".strip(), f"{int(p['used'].sum())}/{len(p)}"]
        for expr, measure, _, spec in cols:
            v = sel[(sel["expression"] == expr) & (sel["measure"] == measure)]
            if v.empty:
                cells.append("–")
                continue
            r = v.iloc[0]
            text = _num(r["value"], spec)
            if r["n"] > 1 and np.isfinite(r["sd"]):
                text += f" ± {_num(r['sd'], spec.lstrip('+'))}"
            cells.append(text)
        rows.append(cells)
    return header, rows


def _summary_rows(t: Trends, person: str) -> list[dict]:
    out = []
    for _, r in t.summary[t.summary["person"] == person].iterrows():
        info = MEASURES[r["measure"]]
        spec = ".2f" if info.kind == "ratio" else (".1f" if info.unit in ("points", "%") else "+.2f")
        unit = info.unit
        out.append({
            "measure": f"{info.label} ({_expr_words(r['expression'])})",
            "unit": unit, "first": _num(r["first_value"], spec), "first_session": r["first_session"],
            "latest": _num(r["latest_value"], spec), "latest_session": r["latest_session"],
            "change": _num(r["change"], "+" + spec.lstrip("+")) if r["first_session"] != r["latest_session"] else "–",
            "mdc": _num(r["mdc95"], spec.lstrip("+")), "noise_source": r["noise_source"],
            "verdict": SHORT_VERDICT.get(r["verdict"], r["verdict"]) or ("one session only" if r["first_session"] == r["latest_session"] else ""),
            "recovery": _num(r["recovery_pct"], ".0f", "%"),
            "css": "better" if r["verdict"].endswith("better") else ("worse" if r["verdict"].endswith("worse") else ""),
        })
    return out


#: Measures listed date by date in the massage table (the CSV beside the report has all of them).
MASSAGE_DETAIL = ((REST, "mouth_droop_mm"), (REST, "eye_opening_difference_mm"), (REST, "brow_asymmetry_mm"),
                  (REST, "symmetry_index"), ("smile", "mouth_excursion_ratio"))


def _massage_rows(t: Trends, person: str) -> list[dict]:
    m = t.massage[t.massage["person"] == person]
    m = m[[(e, k) in MASSAGE_DETAIL for e, k in zip(m["expression"], m["measure"])]]
    out = []
    for _, r in m.iterrows():
        info = MEASURES[r["measure"]]
        spec = ".2f" if info.kind == "ratio" else (".1f" if info.unit in ("points", "%") else "+.2f")
        out.append({"date": r["date"], "measure": info.label + ("" if r["expression"] == REST else f" ({_expr_words(r['expression'])})"),
                    "unit": info.unit, "pre": _num(r["pre"], spec), "post": _num(r["post"], spec),
                    "change": _num(r["change"], "+" + spec.lstrip("+")), "improvement": _num(r["improvement"], "+" + spec.lstrip("+")),
                    "mdc": _num(r["mdc95"], spec.lstrip("+")), "verdict": SHORT_VERDICT.get(r["verdict"], r["verdict"]),
                    "css": "better" if r["verdict"].endswith("better") else ("worse" if r["verdict"].endswith("worse") else "")})
    return out


def _massage_stats(t: Trends, person: str) -> list[dict]:
    m = t.massage[t.massage["person"] == person]
    out = []
    for (expr, measure), g in m.groupby(["expression", "measure"], sort=False):
        info = MEASURES[measure]
        spec = ".2f" if info.kind == "ratio" else ".1f" if info.unit in ("points", "%") else ".2f"
        out.append({"measure": info.label + ("" if expr == REST else f" ({_expr_words(expr)})"), "unit": info.unit, "n": len(g),
                    "median": _num(g["improvement"].median(), "+" + spec), "min": _num(g["improvement"].min(), "+" + spec),
                    "max": _num(g["improvement"].max(), "+" + spec),
                    "real": int((g["verdict"] == "real change: better").sum()),
                    "worse": int((g["verdict"] == "real change: worse").sum())})
    return out


def _repeat_rows(t: Trends, person: str) -> list[dict]:
    used = set(t.table.loc[t.table["person"] == person, "measure"])
    rep = t.repeatability[(t.repeatability["person"] == person) & t.repeatability["measure"].isin(used)]
    out = []
    for _, r in rep.iterrows():
        info = MEASURES[r["measure"]]
        spec = ".3f" if info.kind == "ratio" else ".2f"
        out.append({"measure": info.label, "unit": info.unit, "sem": _num(r["sem"], spec), "mdc": _num(r["mdc95"], spec),
                    "own": _num(r["sem_own"], spec), "df": int(r["df"]), "source": r["source"]})
    return out


def _photo_rows(t: Trends, person: str) -> tuple[str, list[dict]]:
    """(common folder, rows): file names are shown relative to the folder all of them share."""
    rows = t.rows[t.rows["person"] == person].sort_values(["date", "phase", "expression", "path"],
                                                           key=lambda c: c.map({"pre": 0, "": 1, "post": 2}) if c.name == "phase" else c)
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
                     "droop": _num(r["mouth_droop_mm"], "+.2f")} for _, r in rows.iterrows()]


def _definitions(t: Trends, person: str) -> list[dict]:
    used = set(t.table.loc[t.table["person"] == person, "measure"])
    return [{"label": i.label, "unit": i.unit or "ratio", "definition": i.definition}
            for m, i in MEASURES.items() if m in used]


# ------------------------------------------------------------------ face strip
def _resolve(path: str, base_dirs: list[Path]) -> Path | None:
    p = Path(path)
    if p.is_absolute():
        return p if p.is_file() else None
    for base in base_dirs:
        q = base / p
        if q.is_file():
            return q
    return None


def _strip_photos(t: Trends, person: str, base_dirs: list[Path]) -> tuple[pd.Series | None, pd.Series | None, str]:
    """The resting photos of the first and latest sessions (first measured one of each)."""
    p = t.people.set_index("person").loc[person]
    rows = t.rows[(t.rows["person"] == person) & t.rows["used"] & (t.rows["expression"] == REST)]
    first = rows[rows["session"] == p["first_session"]]
    latest = rows[rows["session"] == p["latest_session"]]
    if first.empty or latest.empty:
        return None, None, "the first or the latest session has no measured resting photo, so there is no face strip"
    if p["first_session"] == p["latest_session"]:
        return None, None, "only one session: the face strip needs a first and a latest session"
    return first.iloc[0], latest.iloc[0], ""


def face_strip(t: Trends, person: str, base_dirs: list[Path], model=None):
    """(figure, message): first vs latest resting photos aligned in the face frame; figure None with a reason."""
    from symmetry.photo.analysis import analyze
    from symmetry.photo.imageio import ImageLoadError, load_image
    from symmetry.render.plots import align_face, face_strip_figure

    first, latest, why = _strip_photos(t, person, base_dirs)
    if first is None:
        return None, why
    ipd = t.people.set_index("person").loc[person, "calibrated_interpupil_mm"]
    aligned = []
    for r in (first, latest):
        path = _resolve(r["path"], base_dirs)
        if path is None:
            return None, f"the photo {r['path']} is not where the scores table says, so there is no face strip"
        try:
            rgb = load_image(path, reduce=False).rgb
        except ImageLoadError as exc:
            return None, f"could not read {r['path']} for the face strip: {exc}"
        m = analyze(rgb, model=model, interpupil_mm=float(ipd) if np.isfinite(ipd) else None)
        if m.frame is None:
            return None, f"no face found again in {r['path']} ({m.message}), so there is no face strip"
        aligned.append(align_face(rgb, m.frame))
    fig = face_strip_figure(aligned[0], aligned[1], _session_words(first["session"]), _session_words(latest["session"]))
    return (fig, aligned), ""


# ------------------------------------------------------------------ main entry
def build_reports(
    data: pd.DataFrame | str | os.PathLike | Trends,
    out: str | os.PathLike,
    *,
    log: pd.DataFrame | str | os.PathLike | None = None,
    persons: list[str] | None = None,
    affected_side: str | None = None,
    photos: bool = True,
    base_dir: str | os.PathLike | None = None,
    model=None,
    progress=None,
) -> ReportResult:
    """Write `out/<person>/report.html` (self-contained) with its figures (PNG + SVG) and tables (CSV).

    Args:
        data: the rows of scores.csv (DataFrame or path), or a `Trends`.
        out: output folder (created).
        log: optional massage log CSV / DataFrame (date, duration, technique, acupoints, notes[, person]).
        persons: only these people (default: everyone in the table).
        affected_side: "right"/"left" to override the side found from the first session.
        photos: include the face strip (needs the photos at the paths in the table).
        base_dir: where relative photo paths are found (default: the scores file's folder and the
            current folder).
        model: face landmarker .task file for the face strip.
        progress: optional callable(str) told about each step.

    Returns:
        A `ReportResult`.

    Raises:
        ValueError: unknown person, or not a scores table.
    """
    from symmetry.render.plots import massage_effect_figure, movement_figure, save_figure, timeline_figure

    say = progress or (lambda msg: None)
    base_dirs = [Path(base_dir)] if base_dir else []
    if isinstance(data, (str, os.PathLike)):
        base_dirs.append(Path(data).resolve().parent)
    base_dirs.append(Path.cwd())
    t = data if isinstance(data, Trends) else compute_trends(data, affected_side=affected_side, log=log)
    if isinstance(data, Trends) and log is not None:
        t.log = read_massage_log(log) if isinstance(log, (str, os.PathLike)) else log
    names = t.persons if persons is None else persons
    unknown = [p for p in names if p not in t.persons]
    if unknown:
        raise ValueError(f"no person {', '.join(map(repr, unknown))} in the table; there are: {', '.join(t.persons)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    env = _environment()
    made = []
    for person in names:
        say(f"{person}: tables and figures")
        folder = out / person_slug(person)
        folder.mkdir(parents=True, exist_ok=True)
        made.append(_one_report(t, person, folder, env, base_dirs, photos, model, save_figure, timeline_figure,
                                movement_figure, massage_effect_figure, say))
    index = None
    if len(made) > 1:
        index = out / "index.html"
        people = t.people.set_index("person")
        entries = [{"person": r.person, "href": f"{r.html.parent.name}/{r.html.name}",
                    "sessions": f"{people.loc[r.person, 'first_session']} to {people.loc[r.person, 'latest_session']}",
                    "n": int(people.loc[r.person, "n_dates"])} for r in made]
        _write_atomic(index, env.get_template("index.html.j2").render(entries=entries, version=__version__,
                                                                      made=_dt.date.today().isoformat()))
    return ReportResult(out, made, index, t)


def _one_report(t, person, folder, env, base_dirs, photos, model, save_figure, timeline_figure, movement_figure,
                massage_effect_figure, say) -> PersonReport:
    rep = PersonReport(person, folder / "report.html", notes=t.notes_for(person))
    figures = []
    has_data = bool((t.table["person"] == person).any())
    if has_data:
        for name, make, alt, caption in (
            ("timeline", timeline_figure, "Timeline of mouth, eye, brow and symmetry index at rest",
             "Each dot is a session (the median of its photos). Filled: before massage; open: after massage, "
             "joined to the same day's photo before it. Bars: 95% measurement interval of one photo "
             "(\u00b11.96 \u00d7 SEM). Grey: the first session. Green: the healthy range. Triangles: massages in the log."),
            ("movement", movement_figure, "Movement of each side in a smile, a brow raise and with the eyes closed",
             "How far each side moves, measured against the same session's resting photo. Orange: the patient's "
             "right; blue: the patient's left. When both lines meet, both sides move equally."),
            ("massage_effect", massage_effect_figure, "Change straight after each massage",
             "The change from just before to just after each massage; up = more even. Bars inside the grey band are "
             "within measurement noise."),
        ):
            fig = make(t, person)
            if fig is None:
                continue
            png, svg = save_figure(fig, folder / name)
            rep.figures[name] = png
            rep.figures[name + "_svg"] = svg
            figures.append({"src": _data_uri(svg, "image/svg+xml"), "alt": alt, "caption": caption, "name": name})
    strip = None
    strip_note = ""
    if photos and has_data:
        say(f"{person}: face strip")
        result, strip_note = face_strip(t, person, base_dirs, model=model)
        if result is not None:
            fig, (a, b) = result
            png, svg = save_figure(fig, folder / "face_strip")
            rep.figures["face_strip"] = png
            rep.figures["face_strip_svg"] = svg
            buf = io.BytesIO()
            fig.savefig(buf, format="jpeg", dpi=110, pil_kwargs={"quality": 85}, facecolor="white")
            strip = {"src": "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
                     "alt": "The first and latest resting photos aligned on the pupils, side by side and blended"}
    elif not photos:
        strip_note = "the face strip was turned off (--no-photos)"
    for name, frame in (("sessions", t.table), ("summary", t.summary), ("massage_effect", t.massage),
                        ("repeatability", t.repeatability)):
        path = folder / f"{name}.csv"
        frame[frame["person"] == person].to_csv(path, index=False)
        rep.tables[name] = path
    p = t.people.set_index("person").loc[person]
    rep_rows = _repeat_rows(t, person)
    header, srows = session_rows(t, person)
    log = None
    if t.log is not None and len(t.log):
        lg = t.log[t.log["person"].isin(["", person])]
        log = [{"date": r["date"], "duration": r["duration"], "technique": r["technique"], "acupoints": r["acupoints"],
                "notes": r["notes"], "valid": bool(r["valid_date"])} for _, r in lg.iterrows()]
    notes = [n for n in rep.notes]
    photo_folder, photo_rows = _photo_rows(t, person)
    html = env.get_template("report.html.j2").render(
        person=person,
        version=__version__,
        made=_dt.date.today().isoformat(),
        disclaimer=f"{DISCLAIMER} {EYE_NOTE if _image_evidence(t, person) else SINGLE_PHOTO_NOTE}",
        people=p,
        first_words=_session_words(p["first_session"]) if p["first_session"] else "",
        latest_words=_session_words(p["latest_session"]) if p["latest_session"] else "",
        findings=patient_summary(t, person) if has_data else [],
        warnings=[n.message for n in notes if n.level in ("warning", "error")],
        infos=[n.message for n in notes if n.level == "info"],
        figures=figures,
        strip=strip,
        strip_note=strip_note,
        summary=_summary_rows(t, person),
        session_header=header,
        session_rows=srows,
        massage=_massage_rows(t, person),
        massage_stats=_massage_stats(t, person),
        repeat=rep_rows,
        validation_used=any(r["source"] == "validation" for r in rep_rows),
        repeats_used=any(r["source"] == "repeats" for r in rep_rows),
        photo_folder=photo_folder,
        photos=photo_rows,
        definitions=_definitions(t, person),
        methods=_method_lines(t, person),
        log=log,
        side_words={"right": "your right side", "left": "your left side"}.get(p["affected_side"], ""),
        files=sorted(f.name for f in list(rep.figures.values()) + list(rep.tables.values())),
    )
    _write_atomic(rep.html, html)
    return rep
