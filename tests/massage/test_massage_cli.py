"""`symmetry acupoints` and `symmetry massage` as a person runs them: JSON with pixels in the
original (EXIF-rotated) photo, clear statuses, the printable guide; a headless session on a
video whose log line the report then shows; sequence errors; Ctrl-C keeps the log; the window
under Xvfb (done-when 2 and 3)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import video_samples
from PIL import Image

from symmetry.face.measures import COLUMNS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_images" / "grace_hopper.jpg"
EVIL = "<script>alert(1)</script>"
SHORT = """name = "short"
[[step]]
point = "GB14"
technique = "kneading"
seconds = {s}
[[step]]
point = "ST4"
technique = "pushing"
seconds = {s}
direction = "up-outward"
[[step]]
area = "cheek"
technique = "rubbing"
seconds = {s}
"""


def _symmetry(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symmetry.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _sequence(tmp_path: Path, seconds: float, name: str = "short.toml") -> Path:
    path = tmp_path / name
    path.write_text(SHORT.format(s=seconds))
    return path


def test_acupoints_json_is_in_the_original_photo_and_says_why_not(tmp_path):
    upright = Image.open(SAMPLE).convert("RGB")
    upright.save(tmp_path / "upright.jpg", quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the stored pixels lie on their side
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.jpg", quality=95, exif=exif)
    Image.fromarray(np.full((300, 300, 3), 128, np.uint8)).save(tmp_path / "blank.png")
    done = _symmetry("acupoints", tmp_path / "upright.jpg", tmp_path / "sideways.jpg", tmp_path / "blank.png",
                     "--json", "--out", tmp_path / "out", "--person", EVIL)
    assert done.returncode == 1, done.stderr[-2000:]  # one photo has no face
    up, side, blank = json.loads(done.stdout)
    assert up["status"] == side["status"] == "ok" and len(up["points"]) == 33
    assert blank == {"path": str(tmp_path / "blank.png"), "status": "no_face", "message": blank["message"], "points": []}
    assert "no face" in blank["message"]
    for a, b in zip(up["points"], side["points"]):
        assert (a["code"], a["side"]) == (b["code"], b["side"])
        assert abs(a["x_px"] - b["x_px"]) < 2.0 and abs(a["y_px"] - b["y_px"]) < 2.0, (a, b)
        assert abs(a["x_mm"] - b["x_mm"]) < 0.5 and abs(a["y_mm"] - b["y_mm"]) < 0.5
    page = (tmp_path / "out" / "upright_guide.html").read_text()
    assert EVIL not in page and "&lt;script&gt;" in page  # the name is text, never markup
    for words in ("not a treatment plan", "complements medical", "cannot close", "numb", "Yangbai", "Dicang"):
        assert words in page
    assert Image.open(tmp_path / "out" / "upright_acupoints.jpg").size[0] > 600


def _rest_video(tmp_path_factory) -> Path:
    """A 13 s resting face at 15 fps (made once per test session)."""
    return video_samples.cached_video(tmp_path_factory, "massage_rest", script=(("rest", 200),), fps=15.0)[0]


def _scores_for(tmp_path: Path, person: str) -> Path:
    """A small scores.csv of one resting session today (the report needs photos to report on)."""
    today = dt.date.today().isoformat()
    path = tmp_path / "scores.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for i, droop in enumerate((-2.0, -2.4)):
            r = dict.fromkeys(COLUMNS, "")
            r.update(path=f"{person}/{today}_pre/rest_{i + 1}.jpg", person=person, date=today, phase="pre",
                     expression="rest", status="ok", mouth_droop_mm=droop, brow_asymmetry_mm=-0.5,
                     mouth_corner_height_right_mm=60.0, mouth_corner_height_left_mm=60.0 - droop,
                     brow_height_right_mm=20.5, brow_height_left_mm=20.0, eye_opening_right_mm=9.0,
                     eye_opening_left_mm=9.0, eye_opening_difference_mm=0.0, eye_opening_ratio=1.0,
                     symmetry_index=90.0, interpupil_mm=62.0, mm_per_px=0.2, method="canonical")
            w.writerow(r)
    return path


def test_headless_session_writes_a_log_line_the_report_shows(tmp_path_factory, tmp_path):
    video = _rest_video(tmp_path_factory)
    scores = _scores_for(tmp_path, "ann")
    done = _symmetry("massage", "--person", "ann", "--headless", "--source", video, "--sequence",
                     _sequence(tmp_path, 1), "--out", tmp_path / "sessions", "--scores", scores)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "weak side: left" in done.stderr  # from the scores: the left mouth corner is lower
    assert "3 of 3 steps" in done.stdout and "face seen in 100%" in done.stdout
    log = tmp_path / "sessions" / "ann" / "massage_log.csv"
    with log.open(newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["date"] == dt.date.today().isoformat() and row["side"] == "left" and row["acupoints"] == "GB14 ST4"
    assert row["duration"] == "0.1"  # minutes of massage: 3 s
    report = _symmetry("report", scores, "--out", tmp_path / "report", "--log", log, "--no-photos", "-q")
    assert report.returncode == 0, report.stderr[-2000:]
    page = (tmp_path / "report" / "ann" / "report.html").read_text()
    assert "Massage log" in page and "GB14 ST4" in page and "guided: short" in page
    # Without --log, the report reads the log that sits beside the person's sessions.
    beside = tmp_path / "sessions" / "scores.csv"
    beside.write_text(scores.read_text())
    found = _symmetry("report", beside, "--out", tmp_path / "report2", "--no-photos")
    assert found.returncode == 0, found.stderr[-2000:]
    assert f"massage log: {log}" in found.stderr
    assert "GB14 ST4" in (tmp_path / "report2" / "ann" / "report.html").read_text()


def test_sequence_errors_are_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[step]]\npoint = "XX9"\ntechnique = "kneading"\nseconds = 5\n'
                   '[[step]]\npoint = "GB14"\ntechnique = "kneading"\nseconds = -1\n')
    for command in (["massage", "--person", "ann", "--headless", "--source", SAMPLE], ["acupoints", SAMPLE]):
        done = _symmetry(*command, "--sequence", bad, "--out", tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.strip() == "symmetry: bad.toml: step 1: unknown point code 'XX9' (known: " + \
            done.stderr.split("(known: ")[1].strip()
    bad.write_text('[[step]]\npoint = "GB14"\ntechnique = "kneading"\nseconds = -1\n')
    done = _symmetry("massage", "--person", "ann", "--headless", "--source", SAMPLE, "--sequence", bad)
    assert done.returncode == 2 and "step 1: seconds must be a positive number, not -1" in done.stderr
    done = _symmetry("massage", "--person", "ann", "--headless", "--source", "0")
    assert done.returncode == 2 and "needs a video file" in done.stderr


def test_ctrl_c_mid_session_keeps_the_log(tmp_path_factory, tmp_path):
    video = _rest_video(tmp_path_factory)
    log = tmp_path / "log.csv"
    cmd = [sys.executable, "-m", "symmetry.cli", "massage", "--person", "ann", "--side", "right", "--headless",
           "--source", str(video), "--sequence", str(_sequence(tmp_path, 4)), "--log", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, deadline = "", time.monotonic() + 120
    try:
        while "step 2/3" not in seen and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stderr], [], [], 0.5)[0]:
                seen += proc.stderr.readline()
        assert "step 2/3" in seen, seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted (Ctrl-C)" in out
    with log.open(newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["acupoints"].startswith("GB14") and "stopped: interrupted (Ctrl-C)" in row["notes"]


# --------------------------------------------------------------- the window under Xvfb


def _window(env) -> str:
    r = subprocess.run(["xdotool", "search", "--name", "symmetry massage"], env=env, capture_output=True, text=True)
    return (r.stdout.split() or [""])[-1]


def _key(env, key: str) -> None:
    wid = _window(env)
    if wid:
        subprocess.run(["xdotool", "windowfocus", "--sync", wid, "key", key], env=env, capture_output=True)


def test_window_opens_shows_the_point_and_closes(xvfb, tmp_path_factory, tmp_path):
    from symmetry.massage.draw import SIDE_RGB

    video, _ = video_samples.cached_video(tmp_path_factory, "massage_slow", script=(("rest", 80),), fps=4.0)
    cmd = [sys.executable, "-m", "symmetry.cli", "massage", "--person", "Win", "--side", "left", "--source",
           str(video), "--sequence", str(_sequence(tmp_path, 3)), "--log", str(tmp_path / "log.csv")]
    log_path = tmp_path / "massage.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, env=xvfb, stdout=log, stderr=subprocess.STDOUT)
    blue = np.array(SIDE_RGB["left"][::-1])  # BGR, as screenshots read
    try:
        deadline, found, pressed = time.monotonic() + 90, 0, False
        while time.monotonic() < deadline and proc.poll() is None and not found:
            time.sleep(0.4)
            if not _window(xvfb):
                continue
            shot = tmp_path / "shot.png"
            subprocess.run(["import", "-window", "root", str(shot)], env=xvfb, capture_output=True)
            img = cv2.imread(str(shot))
            if img is None:
                continue
            window = img[:480, :640].astype(int)
            if np.abs(window - 28).max(axis=2).mean() < 20:  # the start screen (dark, text only)
                if not pressed:  # start now; once only: a space later would pause (unanswered, it starts by itself)
                    _key(xvfb, "space")
                    pressed = True
                continue
            found = int((np.abs(window[66:436] - blue).max(axis=2) <= 10).sum())
        assert found > 20, f"no point drawn; output: {log_path.read_text()[-2000:]}"
        for _ in range(60):  # the steps end by themselves; any key closes the end screen
            if proc.poll() is not None:
                break
            _key(xvfb, "x")
            time.sleep(0.5)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, log_path.read_text()[-2000:]
    assert not _window(xvfb)
    with (tmp_path / "log.csv").open(newline="") as f:
        assert list(csv.DictReader(f))[0]["side"] == "left"
