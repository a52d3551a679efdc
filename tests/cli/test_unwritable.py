"""An output folder that cannot be written (read-only, or a full disk) ends in one line with what to
do and a non-zero exit, never a traceback, and keeps what was written before (issue 15)."""

import contextlib
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE_FACES, SAMPLES

pytestmark = pytest.mark.slow


def run(*args):
    return subprocess.run([sys.executable, "-m", "symmetry.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@contextlib.contextmanager
def _tmpfs(path: Path, options: str):
    """A small tmpfs at `path` (root only: an unprivileged user gets a chmod'ed folder or a skip)."""
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "none", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)


@pytest.fixture
def read_only(tmp_path):
    if os.geteuid() != 0:  # permissions hold for an ordinary user
        path = tmp_path / "ro"
        path.mkdir()
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    with _tmpfs(tmp_path / "ro", "ro,size=1m") as path:  # root ignores permissions: a read-only mount
        yield path


def _one_line_failure(out: subprocess.CompletedProcess, words: str) -> None:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    problem = [line for line in out.stderr.splitlines() if line.startswith("symmetry:")]
    assert len(problem) == 1 and words in problem[0], out.stderr


@pytest.mark.parametrize("command", ["score", "analyze", "report", "video"])
def test_read_only_output_folder(read_only, tmp_path, command):
    photo = SAMPLE_FACES["grace_hopper"]
    target = read_only / "out"
    if command == "score":
        out = run("score", photo, "--out", target, "--jobs", "1")
    elif command == "analyze":
        out = run("analyze", photo, "--overlay", target)
    elif command == "report":
        scored = tmp_path / "scored"
        assert run("score", photo, "--out", scored, "--jobs", "1").returncode == 0
        out = run("report", scored / "scores.csv", "--out", target)
    else:
        import video_samples

        clip = tmp_path / "clip.avi"
        video_samples.write_video(clip, script=(("rest", 10),), fps=10.0)
        out = run("video", clip, "--out", target)
    _one_line_failure(out, "cannot write")
    assert "Read-only file system" in out.stderr or "Permission denied" in out.stderr


def test_full_disk_keeps_the_rows_already_written(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs, which needs root")
    photos = tmp_path / "photos"
    shutil.copytree(SAMPLES / "demo_patient", photos / "anna")
    with _tmpfs(tmp_path / "small", "size=24k") as disk:
        out_dir = disk / "out"
        first = sorted(photos.rglob("*.jpg"))[0]
        assert run("score", first, "--out", out_dir, "--jobs", "1").returncode == 0
        before = (out_dir / "scores.csv").read_text()
        out = run("score", photos, "--out", out_dir, "--jobs", "1")
        _one_line_failure(out, "No space left on device")
        with open(out_dir / "scores.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        header = before.splitlines()[0].split(",")
        assert all(None not in r and len(r) == len(header) for r in rows)  # no half-written row
        assert str(first) in {r["path"] for r in rows}  # the earlier row is kept
        assert len(rows) > 1  # and the rows that fitted before the disk filled
