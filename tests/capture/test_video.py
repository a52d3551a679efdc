"""`symmetry video` and symmetry.capture.video on a recording made from the real sample faces.

The recording (tests/video_samples.py) has rest, shaky, turned, empty, smile and
eye-closure segments; it never shows a brow raise, a tight closure or a pucker.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from symmetry.cli import main
from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from symmetry.face.measures import Measurement
from symmetry.capture.video import VideoError, open_video, recalibrated

import video_samples


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return video_samples.cached_video(tmp_path_factory, "session")


@pytest.fixture(scope="module")
def video_run(recording, tmp_path_factory):
    """`symmetry video FILE --out DIR`, run once for the module."""
    path, labels = recording
    out = tmp_path_factory.mktemp("video_out")
    code = main(["video", str(path), "--out", str(out)])
    frames = pd.read_csv(out / f"{path.stem}_frames.csv", keep_default_na=False, na_values=[""])
    expressions = pd.read_csv(out / f"{path.stem}_expressions.csv", keep_default_na=False, na_values=[""])
    return code, out, frames, expressions, labels


@pytest.mark.slow
def test_every_frame_has_a_row(video_run):
    code, out, frames, _, labels = video_run
    assert code == EXIT_OK
    assert len(frames) == len(labels) == 99
    assert list(frames["frame"]) == list(range(99))
    assert np.allclose(np.diff(frames["time_s"]), 1 / 15, atol=1e-3)


@pytest.mark.slow
def test_empty_frames_have_no_face(video_run):
    _, _, frames, _, labels = video_run
    empty = frames[[lab == "empty" for lab in labels]]
    assert len(empty) == 12
    assert (empty["status"] == "no_face").all()
    assert (empty["expression"].fillna("") == "").all()
    assert not empty["quality_ok"].any()


def test_turned_frames_read_as_turned_and_fail_the_pose_gate(video_run):
    """The perspective 'turn' is fake; check that the landmarker really reads it as yaw."""
    _, _, frames, _, labels = video_run
    turned = frames[[lab.startswith("turned") for lab in labels]]
    assert len(turned) == 15
    assert (turned["yaw_deg"].abs() > 15).all(), turned["yaw_deg"].tolist()
    assert turned["problems"].str.contains("yaw").all()
    assert (turned["chosen_for"].fillna("") == "").all()
    rest = frames[[lab == "rest" for lab in labels]]
    assert (rest["yaw_deg"].abs() < 5).all()


def test_shaky_frames_fail_the_stillness_gate(video_run):
    _, _, frames, _, labels = video_run
    shaky = frames[[lab == "shaky" for lab in labels]]
    # The first shaky frame moved relative to a still frame: that already counts.
    assert shaky["problems"].str.contains("moving").all(), shaky[["frame", "jitter"]].to_string()
    still = frames[[lab == "rest" for lab in labels]].iloc[2:20]
    assert (still["jitter"] < 0.02).all()


def test_expressions_found_where_they_are_and_not_elsewhere(video_run):
    _, _, frames, expressions, labels = video_run
    by_expr = expressions.set_index("expression")
    assert by_expr.loc["rest", "status"] == "captured"
    assert by_expr.loc["smile", "status"] == "captured"
    assert by_expr.loc["eyes_closed_gentle", "status"] == "captured"
    for missing in ("brow_raise", "eyes_closed_tight", "pucker"):
        assert by_expr.loc[missing, "status"] == "not_found"
        assert by_expr.loc[missing, "reason"]
        assert math.isnan(by_expr.loc[missing, "symmetry_index"])
    assert "never squeezed" in by_expr.loc["eyes_closed_tight", "reason"]
    truth = {"rest": {"rest"}, "smile": {"smile", "smile_ramp"}, "eyes_closed_gentle": {"eyes_closed"}}
    for expr, allowed in truth.items():
        chosen = [int(i) for i in str(by_expr.loc[expr, "frames"]).split()]
        assert len(chosen) == 3
        assert {labels[i] for i in chosen} <= allowed, (expr, chosen)
        assert np.min(np.diff(chosen)) >= 0.3 * 15 - 1e-9  # at least 0.3 s apart
    # Detection (not only choice) is right on the clean segments.
    smile = frames[[lab == "smile" for lab in labels]]
    assert (smile["expression"] == "smile").mean() >= 0.9
    closed = frames[[lab == "eyes_closed" for lab in labels]]
    assert (closed["expression"] == "eyes_closed_gentle").mean() >= 0.9


def test_measures_are_calibrated_and_plausible(video_run):
    _, _, frames, expressions, labels = video_run
    ok = frames[frames["status"] == "ok"]
    assert (ok["scale_source"] == "calibration").all()
    assert ok["interpupil_mm"].nunique() == 1 and 55 < ok["interpupil_mm"].iloc[0] < 70
    by_expr = expressions.set_index("expression")
    assert by_expr.loc["rest", "symmetry_index"] >= 85  # a healthy face
    # Closing the eyes and smiling move the right measures the right way.
    assert by_expr.loc["eyes_closed_gentle", "eye_opening_right_mm"] < 0.6 * by_expr.loc["rest", "eye_opening_right_mm"]
    rest = frames[[lab == "rest" for lab in labels]]
    smile = frames[[lab == "smile" for lab in labels]]
    for side in ("right", "left"):
        lift = rest[f"mouth_corner_height_{side}_mm"].median() - smile[f"mouth_corner_height_{side}_mm"].median()
        assert 2.0 < lift < 10.0, (side, lift)  # the warp lifted each corner 8 mm


def test_plot_written(video_run):
    _, out, _, _, _ = video_run
    png = out / "session_symmetry.png"
    assert png.stat().st_size > 20_000
    from PIL import Image

    with Image.open(png) as im:
        assert im.size[0] >= 1000


def test_undecodable_video_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    with pytest.raises(VideoError, match="cannot decode"):
        open_video(bad)
    assert main(["video", str(bad), "--out", str(tmp_path)]) == EXIT_SOME_FAILED
    assert "cannot decode video" in capsys.readouterr().err
    assert main(["video", str(tmp_path / "missing.mp4")]) == EXIT_USAGE


def test_recalibrated_is_exact_rescaling():
    m = Measurement(interpupil_mm=60.0, mm_per_px=0.5, mouth_droop_mm=2.0, brow_asymmetry_mm=-1.0,
                    eye_opening_difference_mm=0.5, eye_opening_right_mm=10.0, eye_opening_left_mm=9.5,
                    eye_opening_ratio=0.95)
    r = recalibrated(m, 66.0)
    assert r.interpupil_mm == pytest.approx(66.0)
    assert r.mouth_droop_mm == pytest.approx(2.2)
    assert r.mm_per_px == pytest.approx(0.55)
    assert r.eye_opening_ratio == pytest.approx(0.95)  # ratios do not change
    assert r.symmetry_index < 100 and r.scale_source == "calibration"
    assert recalibrated(Measurement(status="no_face"), 66.0).status == "no_face"
