"""Shared fixtures: the real sample faces, enlarged copies, and a scratch folder of bad files."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"
SAMPLE_FACES = {"astronaut": SAMPLES / "astronaut.png", "grace_hopper": SAMPLES / "grace_hopper.jpg"}


def enlarge_face(rgb: np.ndarray, interpupil_px: float, target_px: float = 200.0) -> np.ndarray:
    """Upscale so that the pupils are about `target_px` apart (the invariance tests need
    room to shrink the face to 0.7x and keep >= 100 px between the pupils)."""
    import cv2

    k = target_px / interpupil_px
    return cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="session")
def sample_rgb() -> dict[str, np.ndarray]:
    from symmetry.photo.imageio import load_image

    return {name: load_image(path).rgb for name, path in SAMPLE_FACES.items()}


@pytest.fixture(scope="session")
def large_faces(sample_rgb) -> dict[str, np.ndarray]:
    """The sample faces enlarged so that the pupils are about 200 px apart."""
    import symmetry

    out = {}
    for name, rgb in sample_rgb.items():
        m = symmetry.analyze(rgb, method="landmarks")
        out[name] = enlarge_face(rgb, m.face.interpupil_px)
    return out


#: Fixtures that run the model, score photos, run a command or read the real sets: every
#: test that uses one is `slow` (`pytest -m "not slow"` runs the rest in seconds).
SLOW_FIXTURES = {"baselines", "messy", "headless", "evil_report", "scored_series", "video_run", "xvfb",
                 "real_faces", "recording", "rest_video"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def xvfb():
    """A private virtual screen (Xvfb) for window tests: the environment to run a windowed command in."""
    missing = [b for b in ("Xvfb", "xdotool", "import") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb xdotool imagemagick) for the window test")
    # -displayfd: Xvfb picks a free display itself and writes its number once it is ready,
    # so two test runs at once never share (or fight over) one screen.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    number, deadline = b"", time.monotonic() + 10
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([read_end], [], [], 0.2)[0]:
            chunk = os.read(read_end, 16)
            if not chunk:  # Xvfb exited
                break
            number += chunk
    os.close(read_end)
    if not number.strip().isdigit():
        proc.kill()
        pytest.skip("Xvfb did not start")
    # Qt's X11 shared-memory path fails in some sandboxes (the window stays black and every
    # frame logs an XCB error); plain X requests work everywhere.
    env = dict(os.environ, DISPLAY=f":{int(number)}", QT_X11_NO_MITSHM="1")
    yield env
    proc.terminate()
    proc.wait(timeout=10)

