"""Shared fixtures: the real sample faces, enlarged copies, and a scratch folder of bad files."""

from __future__ import annotations

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
