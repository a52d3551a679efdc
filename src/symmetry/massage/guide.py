"""A printable one-page (A4) massage guide for one face: the points on the person's own photo,
the kneading areas, the sequence, and the care and safety notes (Jinja2, autoescaped; the
picture embedded, so the page opens offline and prints as it is)."""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
from pathlib import Path

import numpy as np

from symmetry.massage.acupoints import AcupointMap
from symmetry.massage.areas import AREA_MESH, KneadingArea
from symmetry.massage.sequence import DEFAULT, TECHNIQUES, Sequence
from symmetry.massage.table import BY_CODE, CUN_TEXT, HIDDEN

#: What the guide says first, every time (issue 16, "Care and honesty").
CARE = (
    ("Approximate", ("The points are placed from the proportions of this face in one photo. They are a "
     "guide to the area, not an exact spot: work the whole circle, and go by what you feel. This is not "
     "a treatment plan.")),
    ("With medical care", ("Massage complements medical treatment; it does not replace it. Any new facial "
     "palsy needs a doctor promptly: the treatment that works best is started in the first 72 hours.")),
    ("See a doctor first", ("Call emergency help if the face droops suddenly together with weakness or numbness "
     "of an arm or leg, trouble speaking, confusion, a severe headache or loss of vision (possible stroke). "
     "See a doctor before massaging if both sides are weak, the ear hurts or has blisters, or there is fever.")),
    ("Protect an eye that cannot close", ("Use the drops, ointment, taping or shield your doctor advises. Work "
     "around it with the eye closed and press only on bone, never on the eyeball.")),
    ("Skin", ("No massage on numb, broken, infected or inflamed skin, on a rash or blisters, or soon after "
     "surgery or injections in the face. Press firmly but never painfully; stop if it hurts.")),
)


def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("symmetry.massage", "templates"),
        autoescape=True,  # person and file names are user input
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _figure_uri(rgb: np.ndarray, amap: AcupointMap, areas) -> str:
    from symmetry.massage.figure import acupoint_figure

    fig = acupoint_figure(rgb, amap, areas, width_in=6.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=170, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _step_rows(sequence: Sequence, weak: str | None) -> list[dict]:
    rows = []
    for i, s in enumerate(sequence.steps, 1):
        spec = BY_CODE.get(s.point)
        side = {"weak": f"weak ({weak})" if weak else "weak side", "strong": "stronger side",
                "both": "both sides"}[s.side]
        if spec is not None and spec.kind == "midline":
            side = "middle"
        rows.append({"n": i, "target": s.title, "technique": s.technique, "seconds": f"{s.seconds:g}",
                     "direction": s.direction, "side": side, "note": s.note})
    return rows


def guide_html(rgb: np.ndarray, amap: AcupointMap, areas: tuple[KneadingArea, ...], *,
               title: str, sequence: Sequence = DEFAULT, weak_side: str | None = None,
               weak_reason: str = "") -> str:
    """The guide page as HTML text (`rgb`: the photo the points' pixels belong to)."""
    from symmetry._version import __version__

    points = [{"code": s.code, "name": s.name, "find": s.find, "radius": f"{s.radius_mm:g}"}
              for s in BY_CODE.values() if s.kind != "hidden"]
    return _env().get_template("guide.html.j2").render(
        title=title,
        made=_dt.date.today().isoformat(),
        version=__version__,
        figure=_figure_uri(rgb, amap, areas),
        weak_side=weak_side or "",
        weak_reason=weak_reason,
        cun_mm=f"{amap.cun_mm:.0f}",
        cun_text=CUN_TEXT,
        care=CARE,
        steps=_step_rows(sequence, weak_side),
        minutes=f"{sequence.minutes:.0f}",
        sequence_name=sequence.name,
        techniques=TECHNIQUES,
        points=points,
        hidden=[{"code": s.code, "name": s.name, "find": s.find} for s in HIDDEN],
        areas=[{"name": name, "muscle": muscle} for name, (muscle, _, _) in AREA_MESH.items()],
    )


def write_guide(path: str | os.PathLike, rgb: np.ndarray, amap: AcupointMap,
                areas: tuple[KneadingArea, ...], **options) -> Path:
    """Write the guide page (atomically: a reader never sees half a page); options as `guide_html`."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(guide_html(rgb, amap, areas, **options), encoding="utf-8")
    os.replace(tmp, path)
    return path
