"""One self-contained HTML recovery report per person (Jinja2, autoescaped, plots embedded).

The page opens offline (no scripts, no external files: figures are embedded as
data URIs, SVG for the plots so that they print sharply) and prints on A4/Letter.
The text at the top is written for the patient (`summary`); the tables below are for
the clinician (`tables`). It measures; it does not diagnose and gives no clinical grade.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import gc
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from symmetry._version import __version__
from symmetry.render import plots, tables
from symmetry.render.common import num, person_rows, session_words
from symmetry.render.face_strip import face_strip
from symmetry.render.plot_parts import save_figure, settled
from symmetry.render.plots import MASSAGE_EFFECT_TITLE
from symmetry.render.summary import patient_summary
from symmetry.trends.compute import Trends, compute_trends
from symmetry.trends.definitions import Note
from symmetry.trends.log import read_massage_log
from symmetry.vocabulary import Method

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
IMAGE_EVIDENCE_METHODS = (Method.TRACKED, Method.MIRRORED, Method.BALANCED)
#: Shown when some photos were measured with the raw or canonical landmarks alone.
SINGLE_PHOTO_NOTE = (
    "Measured from single photos, the millimetres are smaller than the true difference between the "
    "two sides: the face model leans towards symmetry and sees only about a third to two thirds of a "
    "drooping mouth corner or brow. Read the direction of the change and whether it is real; the "
    "true sizes are larger."
)

#: The report's figures: (name, function in `plots`, alt text, caption). The captions describe
#: how each figure is drawn (its colours and marks), so they live beside the list of figures.
FIGURES = (
    ("timeline", "timeline_figure", "Timeline of mouth, eye, brow and symmetry index at rest",
     "Each dot is a session (the median of its photos). Filled: before massage; open: after massage, "
     "joined to the same day's photo before it. Bars: 95% measurement interval of one photo "
     "(\u00b11.96 \u00d7 SEM). Grey: the first session. Green: the healthy range. Triangles: massages in the log."),
    ("movement", "movement_figure", "Movement of each side in a smile, a brow raise and with the eyes closed",
     "How far each side moves, measured against the same session's resting photo. Orange: the patient's "
     "right; blue: the patient's left. When both lines meet, both sides move equally."),
    ("massage_effect", "massage_effect_figure", MASSAGE_EFFECT_TITLE,
     "The change from just before to just after each massage; up = more even. Bars inside the grey band are "
     "within measurement noise."),
)
STRIP_ALT = "The first and latest resting photos aligned on the pupils, side by side and blended"
STRIP_DPI = 110


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


def person_slug(person: str) -> str:
    """A safe folder name for a person: letters, digits, - and _ only, plus a short hash
    of the real name whenever characters had to be replaced (so names never collide)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", person).strip("_")[:40] or "person"
    if slug != person:
        slug += "-" + hashlib.sha1(person.encode("utf-8")).hexdigest()[:6]
    return slug


def build_reports(
    data: pd.DataFrame | str | os.PathLike | Trends,
    out: str | os.PathLike,
    *,
    log: pd.DataFrame | str | os.PathLike | None = None,
    persons: list[str] | None = None,
    affected_side: str | None = None,
    photos: bool = True,
    base_dir: str | os.PathLike | None = None,
    progress=None,
    jobs: int | None = None,
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
        progress: optional callable(str) told about each step.
        jobs: people drawn at the same time, one fresh ("spawn") process each (default 1: in
            this process; a forked process could hang on the landmarker's threads).

    Returns:
        A `ReportResult`.

    Raises:
        ValueError: unknown person, or not a scores table.
    """
    say = progress or (lambda msg: None)
    t = data if isinstance(data, Trends) else compute_trends(data, affected_side=affected_side, log=log)
    if isinstance(data, Trends) and log is not None:
        t.log = read_massage_log(log) if isinstance(log, (str, os.PathLike)) else log
    names = t.persons if persons is None else persons
    unknown = [p for p in names if p not in t.persons]
    if unknown:
        raise ValueError(f"no person {', '.join(map(repr, unknown))} in the table; there are: {', '.join(t.persons)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    strip_from = _base_dirs(data, base_dir) if photos else None
    made = _reports(t, names, out, strip_from, say, jobs)
    index = _write_index(t, made, out) if len(made) > 1 else None
    return ReportResult(out, made, index, t)


def _reports(t: Trends, names: list[str], out: Path, strip_from: list[Path] | None, say,
             jobs: int | None) -> list[PersonReport]:
    """Each person's report, in `names` order: in worker processes when asked for (`jobs`)
    and there are several people (drawing the figures is most of the time), else here."""
    folders = [out / person_slug(person) for person in names]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    workers = min(len(names), jobs or 1)
    if workers <= 1:
        # Drawing makes and drops many objects, so the garbage collector runs often; frozen, the objects
        # of the libraries and the trends (which live on) are left out, and its passes take half as long.
        gc.freeze()
        try:
            return [_one_report(t, person, folder, strip_from, say) for person, folder in zip(names, folders)]
        finally:
            gc.unfreeze()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_one_report, t, person, folder, strip_from, None)
                   for person, folder in zip(names, folders)]
        made = []
        for person, future in zip(names, futures):
            made.append(future.result())
            say(f"{person}: written")
        return made


def _base_dirs(data, base_dir) -> list[Path]:
    """Where relative photo paths are looked for: `base_dir`, the scores file's folder, the current folder."""
    base_dirs = [Path(base_dir)] if base_dir else []
    if isinstance(data, (str, os.PathLike)):
        base_dirs.append(Path(data).resolve().parent)
    base_dirs.append(Path.cwd())
    return base_dirs


def _write_index(t: Trends, made: list[PersonReport], out: Path) -> Path:
    index = out / "index.html"
    people = t.people.set_index("person")
    entries = [{"person": r.person, "href": f"{r.html.parent.name}/{r.html.name}",
                "sessions": f"{people.loc[r.person, 'first_session']} to {people.loc[r.person, 'latest_session']}",
                "n": int(people.loc[r.person, "n_dates"])} for r in made]
    page = _environment().get_template("index.html.j2").render(entries=entries, version=__version__,
                                                              made=_dt.date.today().isoformat())
    _write_atomic(index, page)
    return index


def _one_report(t: Trends, person: str, folder: Path, strip_from: list[Path] | None, say) -> PersonReport:
    """Write one person's figures, tables and report.html; `strip_from` None: no face strip.
    `say` may be None (in a worker process)."""
    say = say or (lambda msg: None)
    say(f"{person}: tables and figures")
    rep = PersonReport(person, folder / "report.html", notes=t.notes_for(person))
    has_data = bool((t.table["person"] == person).any())
    figures = _figures(t, person, folder, rep) if has_data else []
    strip, strip_note = None, ""
    if strip_from is None:
        strip_note = "the face strip was turned off (--no-photos)"
    elif has_data:
        say(f"{person}: face strip")
        strip, strip_note = _face_strip(t, person, folder, rep, strip_from)
    for name, frame in (("sessions", t.table), ("summary", t.summary), ("massage_effect", t.massage),
                        ("repeatability", t.repeatability)):
        path = folder / f"{name}.csv"
        frame[frame["person"] == person].to_csv(path, index=False)
        rep.tables[name] = path
    page = _page(t, person, rep, has_data)
    page.update(figures=figures, strip=strip, strip_note=strip_note,
                files=sorted(f.name for f in list(rep.figures.values()) + list(rep.tables.values())))
    _write_atomic(rep.html, _environment().get_template("report.html.j2").render(**page))
    return rep


def _figures(t: Trends, person: str, folder: Path, rep: PersonReport) -> list[dict]:
    """Draw and save the person's `FIGURES`; their SVGs as data URIs for the page."""
    figures = []
    for name, function, alt, caption in FIGURES:
        fig = getattr(plots, function)(t, person)
        if fig is None:
            continue
        png, svg = save_figure(fig, folder / name)
        rep.figures[name] = png
        rep.figures[name + "_svg"] = svg
        figures.append({"src": _data_uri(svg.read_bytes(), "image/svg+xml"), "alt": alt, "caption": caption,
                        "name": name})
    return figures


def _face_strip(t: Trends, person: str, folder: Path, rep: PersonReport, base_dirs: list[Path]
                ) -> tuple[dict | None, str]:
    """(the strip for the page as a JPEG data URI, or None; why there is none)."""
    result, why = face_strip(t, person, base_dirs)
    if result is None:
        return None, why
    fig, _ = result
    # A strip of photos is a photo: one JPEG, the file and the page's picture (no PNG or SVG:
    # rasters inside them cost a second of rendering and add nothing).
    buf = io.BytesIO()
    with settled(fig, STRIP_DPI):
        fig.savefig(buf, format="jpeg", dpi=STRIP_DPI, pil_kwargs={"quality": 85}, facecolor="white")
    path = folder / "face_strip.jpg"
    _write_atomic_bytes(path, buf.getvalue())
    rep.figures["face_strip"] = path
    return {"src": _data_uri(buf.getvalue(), "image/jpeg"), "alt": STRIP_ALT}, ""


def _page(t: Trends, person: str, rep: PersonReport, has_data: bool) -> dict:
    """The template's values that come from `Trends`: the words and the tables."""
    p = t.people.set_index("person").loc[person]
    repeat = tables.repeat_rows(t, person)
    header, sessions = tables.session_rows(t, person)
    photo_folder, photos = tables.photo_rows(t, person)
    return dict(
        person=person,
        version=__version__,
        made=_dt.date.today().isoformat(),
        disclaimer=f"{DISCLAIMER} {EYE_NOTE if _image_evidence(t, person) else SINGLE_PHOTO_NOTE}",
        people=p,
        first_words=session_words(p["first_session"]) if p["first_session"] else "",
        latest_words=session_words(p["latest_session"]) if p["latest_session"] else "",
        findings=patient_summary(t, person) if has_data else [],
        warnings=[n.message for n in rep.notes if n.level in ("warning", "error")],
        infos=[n.message for n in rep.notes if n.level == "info"],
        summary=tables.summary_rows(t, person),
        session_header=header,
        session_rows=sessions,
        massage=tables.massage_rows(t, person),
        massage_stats=tables.massage_stats(t, person),
        repeat=repeat,
        validation_used=any(r["source"] == "validation" for r in repeat),
        repeats_used=any(r["source"] == "repeats" for r in repeat),
        photo_folder=photo_folder,
        photos=photos,
        definitions=tables.definitions(t, person),
        methods=tables.method_lines(t, person),
        log=tables.log_rows(t, person),
        side_words={"right": "your right side", "left": "your left side"}.get(p["affected_side"], ""),
    )


def _image_evidence(t: Trends, person: str) -> bool:
    """Whether every photo of `person` was measured with image evidence (`IMAGE_EVIDENCE_METHODS`)."""
    rows = person_rows(t, person)
    return "method" in rows and len(rows) > 0 and bool(rows["method"].isin(IMAGE_EVIDENCE_METHODS).all())


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


@functools.lru_cache(maxsize=None)
def _environment():
    """One environment per process: it keeps the templates it has compiled."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("symmetry.render", "templates"),
        autoescape=True,  # every value is escaped: person names and file names are user input
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = num
    return env


def _write_atomic(path: Path, text: str) -> None:
    _write_atomic_bytes(path, text.encode("utf-8"))


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old one or the whole new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
