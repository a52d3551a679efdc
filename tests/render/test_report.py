"""Report, plots and the `report` subcommand (issue 5, done-when 2-4).

The Chromium test opens the rendered page in headless Chromium, takes a
screenshot and checks it is not blank and that the embedded plots rendered; a
person name and a file name containing <script>alert(1)</script> must appear
escaped (as text), never as markup.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from symmetry import compute_trends as trends, plot_trend
from symmetry.cli import main
from symmetry.render.report import build_reports, person_slug
from symmetry.render.summary import recovery_words

from trend_rows import make_row, recovery_series, series

EVIL = "<script>alert(1)</script>"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium); the report's browser test needs it")


def _run_chromium(tmp_path: Path, *args: str, attempts: int = 3) -> subprocess.CompletedProcess:
    """Run headless Chromium; a browser that hangs (seen once on a loaded 2-core machine)
    is killed and started again with a fresh profile, up to `attempts` times."""
    for attempt in range(attempts):
        profile = tmp_path / f"chromium-profile-{attempt}"
        profile.mkdir(exist_ok=True)
        try:
            return subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_output=True, text=True, timeout=90)
        except subprocess.TimeoutExpired:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _not_blank(png: Path, min_ink: float = 0.05) -> np.ndarray:
    a = np.asarray(Image.open(png).convert("RGB")).astype(int)
    ink = (np.abs(a - 255).sum(axis=2) > 30).mean()
    assert ink > min_ink, f"{png.name}: only {ink:.1%} of the pixels are not white"
    assert a.std() > 20, f"{png.name} is nearly one colour"
    return a


def _has_colour(a: np.ndarray, rgb, tol=40, min_px=50) -> bool:
    return int((np.abs(a - np.array(rgb)).sum(axis=2) < tol).sum()) >= min_px


@pytest.fixture(scope="session")
def scored_series(tmp_path_factory):
    return recovery_series(str(tmp_path_factory.getbasetemp() / "recovery_series"))


@pytest.fixture(scope="module")
def evil_report(scored_series, tmp_path_factory):
    """The real synthetic series, the person renamed to contain a script tag, and one photo
    copied to a file whose path contains <script>alert(1)</script>."""
    rows, _ = scored_series
    rows = rows[rows["person"] == "grace"].copy()
    rows["person"] = f"Ann {EVIL}"
    src = Path(rows.iloc[1]["path"])  # a resting photo of the first session
    evil_dir = tmp_path_factory.mktemp("evil") / "<script>alert(1)<"
    evil_dir.mkdir()
    evil_path = evil_dir / "script>.jpg"  # the full path reads .../<script>alert(1)</script>.jpg
    shutil.copy(src, evil_path)
    extra = rows.iloc[1].copy()
    extra["path"] = str(evil_path)
    rows = pd.concat([rows, extra.to_frame().T], ignore_index=True)
    out = tmp_path_factory.mktemp("report")
    log = pd.DataFrame({"date": ["2024-03-04", "2024-03-11", "2024-03-18"], "technique": [f"kneading {EVIL}", "", ""]})
    result = build_reports(rows, out, log=log)
    return result, str(evil_path)


@pytest.mark.slow
def test_report_is_self_contained_and_escapes_user_text(evil_report):
    result, evil_path = evil_report
    assert len(result.reports) == 1 and result.index is None
    rep = result.reports[0]
    html = rep.html.read_text(encoding="utf-8")
    assert EVIL in evil_path
    assert "<script" not in html.lower(), "no script may reach the page (the template has none)"
    assert "Ann &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in html  # the file name, escaped, in the photo list
    assert "kneading &lt;script&gt;" in html  # the massage log is user text too
    # self-contained: no external resources of any kind
    assert not re.search(r'(src|href)="(?!data:|#)', html), re.findall(r'(?:src|href)="[^"]{0,60}', html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count('src="data:image/svg+xml;base64,') == 3  # timeline, movement, massage effect
    assert html.count('src="data:image/jpeg;base64,') == 1  # face strip
    assert "Measures, not a diagnosis." in html and "grade" in html
    # the report's folder name is safe and unique
    assert rep.html.parent.name == person_slug(f"Ann {EVIL}") and re.fullmatch(r"[A-Za-z0-9_-]+", rep.html.parent.name)
    for name in ("timeline", "movement", "massage_effect"):
        assert rep.figures[name].suffix == ".png" and rep.figures[name + "_svg"].stat().st_size > 1000
        _not_blank(rep.figures[name])
    assert rep.figures["face_strip"].suffix == ".jpg"  # photos stay JPEG
    _not_blank(rep.figures["face_strip"])


@pytest.mark.slow
def test_report_opens_in_headless_chromium(evil_report, tmp_path):
    result, _ = evil_report
    page = result.reports[0].html.resolve().as_uri()
    shot = tmp_path / "report.png"
    proc = _run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=900,2600", page)
    assert shot.is_file(), proc.stderr[-2000:]
    a = _not_blank(shot)
    # the embedded SVG timeline rendered: Okabe-Ito blue (before massage) and vermillion (after) are on screen
    assert _has_colour(a, (0, 114, 178)) and _has_colour(a, (213, 94, 0)), "the timeline did not render"
    dom = _run_chromium(tmp_path, "--dump-dom", page).stdout
    assert "<title>Facial symmetry report: Ann &lt;script&gt;alert(1)&lt;/script&gt;</title>" in dom
    assert "<script" not in dom.lower()  # nothing was parsed as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in dom


@pytest.mark.slow
def test_report_prints_to_pdf(evil_report, tmp_path):
    result, _ = evil_report
    pdf = tmp_path / "report.pdf"
    _run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", result.reports[0].html.resolve().as_uri())
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert data[:4] == b"%PDF" and 3 <= pages <= 30, pages


@pytest.mark.slow
def test_report_numbers_match_trends(evil_report):
    result, _ = evil_report
    t = result.trends
    person = t.persons[0]
    html = result.reports[0].html.read_text(encoding="utf-8")
    s = t.summary[(t.summary["person"] == person)].set_index("measure").loc["mouth_droop_mm"]
    assert f"{s['first_value']:+.2f}" in html and f"{s['latest_value']:+.2f}" in html
    assert recovery_words(s["recovery_pct"]).strip() in html
    assert "the right mouth corner sat" in html  # plain words for the patient, the patient's own side
    # "How the numbers are made" names the methods these photos were measured with, and how many
    methods = t.rows[(t.rows["person"] == person) & (t.rows["status"] == "ok")]["method"].value_counts()
    for method, n in methods.items():
        assert f"{n} photo{'s' if n != 1 else ''} ({method}): each " in html.replace("&#39;", "'"), method
    assert "balanced" not in set(methods) and '("balanced")' not in html
    tables = result.reports[0].tables
    assert pd.read_csv(tables["summary"])["measure"].tolist() == t.summary.loc[t.summary["person"] == person, "measure"].tolist()


# ---------------------------------------------------------------- edge cases in the report
@pytest.mark.slow
def test_edge_cases_give_clear_messages_in_the_report(tmp_path):
    messy = series("messy", droops=(3.0, 2.0, 1.0), repeats=1)
    messy = messy[~((messy["date"] == "2024-01-08") & (messy["phase"] == "pre") & (messy["expression"] == "rest"))]
    messy["version"] = np.where(messy["date"] == "2024-01-15", "0.2.0", "0.1.0")  # mixed software versions
    rows = pd.concat([
        messy.iloc[::-1],                                                            # dates out of order
        pd.DataFrame([make_row("messy", "2024-01-29", status="no_face"),             # a session where all failed
                      make_row("messy", "2024-01-29", expression="smile", status="pose_out_of_range")]),
        series("one", droops=(3.0,), repeats=1),                                     # one session only
        pd.DataFrame([make_row("failed", "2024-01-01", status="no_face"),            # nothing measurable at all
                      make_row("failed", "2024-01-01", expression="smile", status="no_face")]),
    ], ignore_index=True)
    result = build_reports(rows, tmp_path)  # the photo paths do not exist: no face strip, and it says why
    pages = {r.person: r.html.read_text(encoding="utf-8") for r in result.reports}
    assert set(pages) == {"messy", "one", "failed"} and result.index.is_file()
    for page in pages.values():
        assert "Traceback" not in page and "Measures, not a diagnosis." in page
    messy = pages["messy"]
    assert "different software versions" in messy and "(mixed versions: see the note at the top)" in messy
    assert "not listed in date order" in messy
    assert "session 2024-01-08 pre has no measured resting photo" in messy
    assert "session 2024-01-29 pre: none of its 2 photo(s) could be measured (no_face: 1, pose_out_of_range: 1)" in messy
    assert "is not where the scores table says" in messy
    assert "only one session date" in pages["one"] and "one session only" in pages["one"]
    assert "No photo of this person could be measured" in pages["failed"]
    assert "none of its 2 photo(s) could be measured (no_face: 2)" in pages["failed"]
    index = result.index.read_text(encoding="utf-8")
    assert all(f'href="{person_slug(p)}/report.html"' in index for p in pages)


# ---------------------------------------------------------------- plots
@pytest.mark.slow
def test_plot_trend_from_rows_and_every_figure_renders(tmp_path):
    from symmetry.render import plots as plots
    from symmetry.render.plot_parts import save_figure

    t = trends(series(droops=(4.0, 3.0, 2.0, 1.0)), log=pd.DataFrame({"date": ["2024-01-01", "2024-01-15"]}))
    fig = plot_trend(series(), "mouth_droop_mm")  # straight from the rows of scores.csv
    png, svg = save_figure(fig, tmp_path / "trend")
    a = _not_blank(png, 0.03)
    assert _has_colour(a, (0, 114, 178)) and _has_colour(a, (213, 94, 0))  # pre and post series
    assert svg.read_text().startswith("<?xml")
    for name, f in (("timeline", plots.timeline_figure(t, "ann")), ("movement", plots.movement_figure(t, "ann")),
                    ("massage", plots.massage_effect_figure(t, "ann")),
                    ("ratio", plot_trend(t, "mouth_excursion_ratio"))):
        a = _not_blank(save_figure(f, tmp_path / name)[0], 0.03)
        if name == "movement":  # the patient's right and left in their Okabe-Ito colours
            assert _has_colour(a, (230, 159, 0)) and _has_colour(a, (86, 180, 233))
    with pytest.raises(ValueError, match="pass person="):
        plot_trend(pd.concat([series("a"), series("b")]))
    with pytest.raises(ValueError, match="unknown measure"):
        plot_trend(t, "smile_width")


def test_align_face_maps_the_face_frame_to_the_canonical_window():
    from symmetry.face.frame import FaceFrame
    from symmetry.render.face_strip import STRIP_PX_PER_MM, STRIP_X_MM, STRIP_Y_MM, align_face

    # a "photo" with two dark dots 80 px apart (the pupils), the face rolled by 10 degrees
    ang = np.deg2rad(10)
    x_axis = np.array([np.cos(ang), np.sin(ang)])
    y_axis = np.array([-x_axis[1], x_axis[0]])
    origin = np.array([200.0, 150.0])
    frame = FaceFrame(origin, x_axis, y_axis, mm_per_px=0.75, iris_diameter_px=15.6, interpupil_px=80.0,
                      scale_source="calibration")
    img = np.full((400, 400, 3), 255, np.uint8)
    for side in (-1, 1):
        x, y = np.round(origin + side * 40 * x_axis).astype(int)
        img[y - 2:y + 3, x - 2:x + 3] = 0
    out = align_face(img, frame)
    assert out.shape[:2] == (round((STRIP_Y_MM[1] - STRIP_Y_MM[0]) * STRIP_PX_PER_MM),
                             round((STRIP_X_MM[1] - STRIP_X_MM[0]) * STRIP_PX_PER_MM))
    ys, xs = np.where(out.min(axis=2) < 128)
    y0 = -STRIP_Y_MM[0] * STRIP_PX_PER_MM  # the frame's origin row and column in the window
    x0 = -STRIP_X_MM[0] * STRIP_PX_PER_MM
    right, left = xs[xs < x0], xs[xs > x0]  # pupils 30 mm either side of the midpoint
    assert abs(ys.mean() - y0) < 1.0 and abs(ys[xs < x0].mean() - ys[xs > x0].mean()) < 1.0  # level: roll removed
    assert abs(right.mean() - (x0 - 30 * STRIP_PX_PER_MM)) < 1.0 and abs(left.mean() - (x0 + 30 * STRIP_PX_PER_MM)) < 1.0


# ---------------------------------------------------------------- CLI
@pytest.mark.slow
def test_cli_report(tmp_path, capsys):
    rows = pd.concat([series("ann", droops=(4.0, 1.0)), series("bob", side="left", droops=(2.0, 1.0))])
    rows.to_csv(tmp_path / "scores.csv", index=False)
    log = tmp_path / "log.csv"
    log.write_text("date,duration,technique,acupoints,notes,person\n2024-01-01,30,kneading,ST4,,ann\n")
    assert main(["report", str(tmp_path / "scores.csv"), "--out", str(tmp_path / "out"), "--log", str(log),
                 "--person", "ann", "-q"]) == 0
    out = capsys.readouterr().out
    assert "ann: " in out and "mouth droop +4.0 -> +1.0 mm (75% recovered, real change: better)" in out
    assert (tmp_path / "out" / "ann" / "report.html").is_file() and (tmp_path / "out" / "ann" / "timeline.svg").is_file()
    assert not (tmp_path / "out" / "bob").exists()  # --person picks one
    # a folder holding scores.csv works too
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "out2"), "--person", "bob", "-q"]) == 0
    assert "bob: " in capsys.readouterr().out and (tmp_path / "out2" / "bob" / "report.html").is_file()
    # usage errors: exit 2 with a message, no traceback
    assert main(["report", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "x")]) == 2
    assert main(["report", str(tmp_path / "scores.csv"), "--out", str(tmp_path / "x"), "--person", "zed"]) == 2
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    assert main(["report", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "no person 'zed'" in err and "lacks the column" in err


@pytest.mark.slow
def test_report_draws_from_the_scores_and_never_runs_the_landmarker(tmp_path):
    """Issue 18: the report, face strip included, is drawn from what scoring stored: building it
    from the sample scores never loads MediaPipe."""
    samples = Path(__file__).resolve().parents[2] / "sample_images"
    assert main(["score", str(samples), "--out", str(tmp_path / "scores"), "-q"]) == 0
    code = ("import sys; from symmetry.cli import main; "
            "rc = main(['report', sys.argv[1], '--out', sys.argv[2], '-q']); print(rc, 'mediapipe' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "scores" / "scores.csv"), str(tmp_path / "report")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout + done.stderr
    strips = list((tmp_path / "report").rglob("face_strip*"))
    assert strips, "no face strip drawn"
    for strip in strips:
        _not_blank(strip)
