"""The `symmetry analyze` command as a user runs it."""

import json
import subprocess
import sys

from conftest import SAMPLE_FACES


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symmetry.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_analyze_prints_a_table_and_writes_overlays(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_text("not a photo")
    out = run("analyze", str(SAMPLE_FACES["astronaut"]), str(bad), "--overlay", str(tmp_path / "ov"))
    assert out.returncode == 1, out.stderr  # one photo could not be measured
    assert "symmetry index" in out.stdout and "astronaut.png" in out.stdout
    assert "broken.jpg: " in out.stdout and "unreadable" in out.stdout
    assert (tmp_path / "ov" / "astronaut_overlay.png").is_file()
    assert "W0000" not in out.stderr and "INFO" not in out.stderr  # MediaPipe's C++ log is kept quiet


def test_analyze_json():
    out = run("analyze", str(SAMPLE_FACES["grace_hopper"]), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows[0]["status"] == "ok" and 55 <= rows[0]["interpupil_mm"] <= 72


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("analyze").returncode == 2
    assert run("analyze", "x.jpg", "--model", "/nonexistent.task").returncode == 2
