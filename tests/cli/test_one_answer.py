"""One photo, one answer: the same still photo through `analyze`, `score` (as a lone photo), `video`
(a clip of that photo) and `capture --headless` gives the same droop, brow and eye figures to
0.1 mm, and each output names its method (issue 15)."""

import json
import subprocess
import sys

import cv2
import pandas as pd
import pytest

from conftest import SAMPLE_FACES

pytestmark = pytest.mark.slow
MEASURES = ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_right_mm", "eye_opening_left_mm")


def run(*args):
    out = subprocess.run([sys.executable, "-m", "symmetry.cli", *map(str, args)], capture_output=True, text=True,
                         timeout=600)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def test_the_same_photo_gives_the_same_numbers_in_every_command(tmp_path):
    photo = SAMPLE_FACES["grace_hopper"]
    bgr = cv2.imread(str(photo))
    clip = tmp_path / "still.avi"  # lossless (FFV1), so that every command sees the photo's own pixels
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), 15.0, (bgr.shape[1], bgr.shape[0]))
    for _ in range(20):
        writer.write(bgr)
    writer.release()

    analyzed = json.loads(run("analyze", photo, "--json").stdout)[0]
    assert run("score", photo, "--out", tmp_path / "scored", "--jobs", "1").returncode == 0
    scored = pd.read_csv(tmp_path / "scored" / "scores.csv").iloc[0]
    assert run("video", clip, "--out", tmp_path / "video", "--no-plot").returncode == 0
    summary = pd.read_csv(tmp_path / "video" / "still_expressions.csv")
    video = summary[summary["status"] == "captured"].iloc[0]
    run("capture", "--person", "p", "--source", clip, "--headless", "--out", tmp_path / "sessions",
        "--date", "2026-01-05", "--frames", "1")
    captured = pd.read_csv(next((tmp_path / "sessions").rglob("scores.csv"))).iloc[0]

    for name, row in (("score", scored), ("video", video), ("capture", captured)):
        assert row["method"] == analyzed["method"] == "canonical", (name, row["method"])
        for measure in MEASURES:
            assert abs(row[measure] - analyzed[measure]) <= 0.1, (name, measure, row[measure], analyzed[measure])
    frames = pd.read_csv(tmp_path / "video" / "still_frames.csv")
    assert set(frames["method"].dropna()) == {"landmarks"}  # the per-frame curve says what it is
