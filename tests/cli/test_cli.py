"""The `symmetry analyze` command as a user runs it."""

import pytest
import json
import subprocess
import sys

from conftest import SAMPLE_FACES, SAMPLES


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symmetry.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_analyze_prints_a_table_and_writes_overlays(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_text("not a photo")
    out = run("analyze", str(SAMPLE_FACES["astronaut"]), str(bad), "--overlay", str(tmp_path / "ov"))
    assert out.returncode == 1, out.stderr  # one photo could not be measured
    assert "symmetry index" in out.stdout and "astronaut.png" in out.stdout
    assert "broken.jpg: " in out.stdout and "unreadable" in out.stdout
    assert (tmp_path / "ov" / "astronaut_overlay.jpg").is_file()  # the same name as `score --overlays` writes
    assert "W0000" not in out.stderr and "INFO" not in out.stderr  # MediaPipe's C++ log is kept quiet


@pytest.mark.slow
def test_analyze_json():
    out = run("analyze", str(SAMPLE_FACES["grace_hopper"]), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows[0]["status"] == "ok" and 55 <= rows[0]["interpupil_mm"] <= 72


@pytest.mark.slow
def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("analyze").returncode == 2
    assert run("analyze", "x.jpg", "--model", "/nonexistent.task").returncode == 2


@pytest.mark.slow
def test_analyze_against_a_reference_photo_tracks_the_change():
    demo = SAMPLE_FACES["astronaut"].parent / "demo_patient"
    first, later = demo / "2026-03-02_pre" / "rest_1.jpg", demo / "2026-04-06_pre" / "rest_1.jpg"
    out = run("analyze", str(first), str(later), "--reference", str(first), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["method"] for r in rows] == ["tracked", "tracked"]
    assert all(r["reference"] == str(first) for r in rows)
    # The simulated droop shrank from 3.5 to 0.5 mm: tracked, most of that 3 mm change is seen.
    assert rows[0]["mouth_droop_mm"] - rows[1]["mouth_droop_mm"] > 2.0, rows
    no_reference = run("analyze", str(first), "--method", "tracked")
    assert no_reference.returncode == 2 and "--reference" in no_reference.stderr


@pytest.mark.slow
def test_ordinary_mishaps_end_in_one_line_and_a_nonzero_exit(tmp_path):
    """A header-only or foreign scores.csv, a damaged model file and a folder given to `analyze`: a one-line
    message that says what to do, no traceback."""
    from symmetry.batch.sinks import BATCH_COLUMNS

    def cli(*args):
        return run(*map(str, args))

    header = tmp_path / "scores.csv"
    header.write_text(",".join(BATCH_COLUMNS) + "\n")
    bad_model = tmp_path / "bad.task"
    bad_model.write_text("not a model")
    foreign = tmp_path / "contacts.csv"
    foreign.write_text("name,phone\nann,123\n")
    photo = SAMPLES / "astronaut.png"
    cases = {
        "report": (cli("report", header, "--out", tmp_path / "rep"), 1, "has no photos in it"),
        "report foreign": (cli("report", foreign, "--out", tmp_path / "rep2"), 2, "lacks the column"),
        "analyze model": (cli("analyze", photo, "--model", bad_model), 2, "cannot be used"),
        "score model": (cli("score", photo, "--out", tmp_path / "out", "--model", bad_model), 2, "cannot be used"),
        "analyze folder": (cli("analyze", SAMPLES), 1, "is a folder, not a photo"),
    }
    for name, (result, code, words) in cases.items():
        out = result.stdout + result.stderr
        assert result.returncode == code, (name, out)
        assert words in out and "Traceback" not in out, (name, out)
    assert not (tmp_path / "out" / "scores.csv").exists()  # nothing started, nothing half-written


def test_numbers_print_without_a_sign_on_zero():
    from symmetry.cli._common import fmt as _fmt

    assert [_fmt(-0.04, "+.1f"), _fmt(-0.06, "+.1f"), _fmt(0.04, "+.2f"), _fmt(float("nan"), ".1f")] == \
        ["0.0", "-0.1", "+0.04", "-"]
