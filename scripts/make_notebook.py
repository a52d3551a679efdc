#!/usr/bin/env python3
"""Write notebooks/recovery_walkthrough.ipynb from the cells below, then run it in place.

    python scripts/make_notebook.py           # write and execute (keeps outputs)
    python scripts/make_notebook.py --no-run  # write only

Editing the cells here, not in Jupyter, keeps the notebook reviewable as code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "recovery_walkthrough.ipynb"

CELLS = [
    ("md", """# Is the face recovering? A walkthrough of `symmetry`

This notebook follows one person through six massage sessions over five weeks, with
photos before (`pre`) and after (`post`) each massage. It shows how to score the
photos, read the table, look at one measured face, plot the recovery and the
immediate effect of each massage, and judge what is a real change and what is
measurement noise.

**The person is not real.** The photos in `sample_images/demo_patient/` were made by
`scripts/make_samples.py` from a public-domain NASA portrait: a weakness of the
patient's right side (mouth corner, brow and upper lid lower at rest, moving less in
expressions) was simulated with smooth image warps and made to shrink over the weeks.
Because it is simulated, we know the truth (`ground_truth.csv`) and can check the
numbers against it at the end.

Everything runs on this computer; no photo leaves it."""),
    ("code", """from pathlib import Path

import pandas as pd
import matplotlib.pyplot as plt
import symmetry

DATA = Path("..") / "sample_images" / "demo_patient"
pd.set_option("display.float_format", "{:.2f}".format)
pd.set_option("display.width", 120)"""),
    ("md", """## 1. Score the photos

`score_folder` finds every photo under a folder, reads who, when, before/after and
which expression from the folder layout `PERSON/YYYY-MM-DD_pre/EXPRESSION_N.jpg`, and
measures each photo. It uses all processor cores. The result is a pandas DataFrame
with one row per photo.

How each photo is measured is in the `method` column. By default every photo is
measured on its own (`canonical`), the reading that spreads least over real photos
taken on different days or minutes apart. The demo patient's photos are warps of one still
photo, where nothing changes but the warp and its ground truth is known, so here we ask for
`method="tracked"`: the person's first photo of each expression is their **reference**,
measured on its own (`mirrored`: the mouth and brow asymmetry are read from the image,
not only from the face model, which leans towards symmetry), and every later photo of
that expression is lined up with it and each feature followed from it (`tracked`), which
sees the whole of a warp (on real photos it spreads more than the default: see the README's
"How accurate it is"); the `reference` column names the photo
it was measured against."""),
    ("code", """scores = symmetry.score_folder(DATA, method="tracked", progress=False)
print(len(scores), "photos;", scores["status"].value_counts().to_dict(), scores["method"].value_counts().to_dict())
scores[["person", "date", "phase", "expression", "method", "mouth_droop_mm", "brow_asymmetry_mm",
        "eye_opening_right_mm", "eye_opening_left_mm", "symmetry_index"]].head(8)"""),
    ("md", """Every length is in millimetres, measured in a *face frame*: level with the face,
with its origin between the pupils, scaled by the iris (about 11.7 mm across in
adults). **Right and left are the patient's own sides.** Signed asymmetries are
positive when the patient's right side is lower: `mouth_droop_mm = +2` means the right
mouth corner sits 2 mm lower than the left. The full definitions are in
`docs/measurements.md`.

## 2. Look at one measured face

A picture says what the numbers mean. This is the first resting photo: the pupil line
and midline in yellow, the patient's right side in orange and left side in blue."""),
    ("code", """first_rest = DATA / "2026-03-02_pre" / "rest_1.jpg"
m = symmetry.analyze(first_rest, method="mirrored")  # as score_folder measured it
fig, ax = plt.subplots(figsize=(6, 6))
ax.imshow(symmetry.draw(first_rest, m))
ax.set_axis_off()
print(f"mouth droop {m.mouth_droop_mm:+.1f} mm, brow asymmetry {m.brow_asymmetry_mm:+.1f} mm, "
      f"symmetry index {m.symmetry_index:.0f}/100")"""),
    ("md", """## 3. From photos to sessions: `symmetry.compute_trends`

`trends` groups the photos by person and session (date and before/after), takes the
median of repeated photos, compares each expression with the same session's resting
photo (how far each mouth corner moves in a smile, how far each brow rises, how
completely each eye closes), finds the affected side from the first session, and
expresses the latest session as a recovery percentage: 0% = as at the start,
100% = symmetric."""),
    ("code", """t = symmetry.compute_trends(scores)
t.people[["person", "affected_side", "side_evidence", "calibrated_interpupil_mm", "n_sessions", "n_photos"]]"""),
    ("code", """t.summary.query("person == 'demo_patient'")[["expression", "measure", "first_session", "first_value", "latest_session",
           "latest_value", "change", "mdc95", "verdict", "recovery_pct"]]"""),
    ("md", """## 4. The recovery timeline

Each point is a session; before/after pairs are joined, the first session and the
healthy range are shaded, and the bars show the 95% measurement band."""),
    ("code", """symmetry.plot_trend(t, "mouth_droop_mm", person="demo_patient")"""),
    ("code", """symmetry.plot_trend(t, "symmetry_index", person="demo_patient")"""),
    ("md", """## 5. Did each massage help straight away?

For every date with photos before and after the massage, `t.massage` gives the
immediate change (after minus before). A positive `improvement` means the face was
more symmetric after the massage."""),
    ("code", """effect = t.massage.query("person == 'demo_patient' and measure == 'mouth_droop_mm'")
effect[["date", "pre", "post", "change", "improvement", "mdc95", "verdict"]]"""),
    ("code", """from symmetry.render.plots import massage_effect_figure

massage_effect_figure(t, "demo_patient")"""),
    ("md", """## 6. How sure are we? Reading the uncertainty

Two photos of the same face never give exactly the same numbers. `symmetry` measures
this *repeatability* from repeated photos within a session (here, two resting photos
each time): the standard error of measurement (SEM). A change between two sessions is
called **real** only when it is larger than the minimal detectable change,
MDC95 = 1.96 × √2 × SEM; smaller changes are reported as *within measurement noise*.
Where a person has too few repeated photos, the project's own validation figures are used
instead (for the single-photo measures, the spread measured on real people's repeat photos),
and the `source` column says so; a person's own SEM is never taken below half of them."""),
    ("code", """t.repeatability.query("person == 'demo_patient'")[["measure", "sem", "mdc95", "source"]]"""),
    ("md", """## 7. Check against the truth

The simulated palsy is known: `ground_truth.csv` gives, for every photo, the change of
mouth droop, brow asymmetry and eye-opening difference that a perfect measurement
would see (`true_*_change`, relative to the face before the palsy was simulated). The
face also has its own natural asymmetry, which the truth does not know, so we compare
the **change since the first session**, session by session, with the known change."""),
    ("code", """truth = pd.read_csv(DATA / "ground_truth.csv")
rest = truth[truth["expression"] == "rest"].groupby(["date", "phase"], sort=False)  # pre, then post
rows = []
for measure in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm"):
    known = rest[f"true_{measure}_change"].mean()
    measured = (t.table.query("person == 'demo_patient' and expression == 'rest' and measure == @measure")
                .set_index(["date", "phase"])["value"].reindex(known.index))
    rows.append(pd.DataFrame({"measure": measure, "known change": known - known.iloc[0],
                              "measured change": measured - measured.iloc[0]}))
compare = pd.concat(rows).reset_index()
compare["error"] = compare["measured change"] - compare["known change"]
compare.groupby("measure")["error"].agg(lambda e: e.abs().max()).rename("largest error, mm")"""),
    ("code", """compare.query("measure == 'mouth_droop_mm'").round(2)"""),
    ("md", """Every session's change is within a few tenths of a millimetre of the known one: the
accuracy the project's validation reports for tracked photos (README, *How accurate
it is*). The first session's own asymmetry comes from the reference photo alone,
which is less precise (about 0.3–0.6 mm for the mouth; brows the face model barely
follows are left at the model's reading, a lower bound).

## Where next

- `symmetry report scores.csv --out report/` writes the same analysis as a
  self-contained HTML page per person that a patient can read.
- `symmetry capture --person NAME --phase pre` guides a webcam session.
- `docs/measurements.md` defines every number."""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    return nb


def run(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 900) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-run", action="store_true", help="write the notebook without executing it")
    args = parser.parse_args(argv)
    nb = build()
    if not args.no_run:
        nb = run(nb, NOTEBOOK.parent)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")
    if not args.no_run:
        for path in export_figures(nb):
            print(f"wrote {path}")
    return 0


#: Notebook figures the README shows: (code that draws it, file under docs/images/).
README_FIGURES = (
    ('plot_trend(t, "mouth_droop_mm"', "notebook_mouth_trend.png"),
    ("massage_effect_figure(t", "notebook_massage_effect.png"),
)


def export_figures(nb: nbformat.NotebookNode) -> list[Path]:
    """Save the README's notebook figures from the executed cells, so the README never shows stale plots."""
    import base64

    written = []
    for marker, name in README_FIGURES:
        cell = next(c for c in nb.cells if c.cell_type == "code" and marker in c.source)
        png = next(o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {}))
        path = ROOT / "docs" / "images" / name
        path.write_bytes(base64.b64decode(png))
        written.append(path)
    return written


if __name__ == "__main__":
    sys.exit(main())
