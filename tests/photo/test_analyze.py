"""The core measurement on real faces with the real model."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

import symmetry
from symmetry.face.measures import CONTRACT_COLUMNS, HEALTHY_SYMMETRY_INDEX
from symmetry.lab.synthetic import warp_feature

from conftest import SAMPLE_FACES

ASYMMETRIES = ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm")
DISTANCES = (
    "eye_opening_right_mm", "eye_opening_left_mm", "brow_height_right_mm", "brow_height_left_mm",
    "mouth_corner_height_right_mm", "mouth_corner_height_left_mm", "interpupil_mm",
)
SIDE_PAIRS = (
    ("mouth_corner_height_right_mm", "mouth_corner_height_left_mm"),
    ("brow_height_right_mm", "brow_height_left_mm"),
    ("eye_opening_right_mm", "eye_opening_left_mm"),
)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SAMPLE_FACES))
def test_sample_faces_are_measured(name):
    m = symmetry.analyze(SAMPLE_FACES[name])
    assert m.status == "ok", m.message
    assert m.face.points.shape == (478, 2)
    # Patient's right mouth corner (61) appears on the image's left in an unmirrored photo.
    assert m.face.points[61, 0] < m.face.points[291, 0]
    assert 55 <= m.interpupil_mm <= 72
    assert HEALTHY_SYMMETRY_INDEX <= m.symmetry_index <= 100
    row = m.to_dict()
    assert list(row)[: len(CONTRACT_COLUMNS)] == list(CONTRACT_COLUMNS)
    assert row["model"] == "face_landmarker.task" and row["version"] == symmetry.__version__


@pytest.mark.slow
def test_repeated_calls_reuse_one_landmarker():
    from symmetry.face.landmarks import default_landmarker

    first = default_landmarker()
    symmetry.analyze(SAMPLE_FACES["astronaut"])
    assert default_landmarker() is first


def _rotate(rgb, degrees):
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _jpeg(rgb, quality):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


#: The issue's bound: no asymmetry measure moves by more than 0.3 mm.
ASYMMETRY_TOLERANCE_MM = 0.3

TRANSFORMS = {
    "rotate +15": lambda a: _rotate(a, 15),
    "rotate -15": lambda a: _rotate(a, -15),
    "scale 0.7": lambda a: cv2.resize(a, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA),
    "scale 1.5": lambda a: cv2.resize(a, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC),
    "jpeg q70": lambda a: _jpeg(a, 70),
}


@pytest.fixture(scope="module")
def baselines(large_faces):
    return {name: symmetry.analyze(rgb) for name, rgb in large_faces.items()}


@pytest.mark.slow
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("name", sorted(SAMPLE_FACES))
def test_invariance(large_faces, baselines, name, transform):
    base = baselines[name]
    changed = TRANSFORMS[transform](large_faces[name])
    m = symmetry.analyze(changed)
    assert m.status == "ok"
    assert m.face.interpupil_px >= 100
    for key in ASYMMETRIES:
        assert abs(getattr(m, key) - getattr(base, key)) <= ASYMMETRY_TOLERANCE_MM, (key, getattr(m, key), getattr(base, key))
    for key in DISTANCES:
        assert abs(getattr(m, key) / getattr(base, key) - 1) <= 0.03, key


@pytest.mark.parametrize("name", sorted(SAMPLE_FACES))
def test_mirror_swaps_sides_and_flips_droop(large_faces, baselines, name):
    base = baselines[name]
    m = symmetry.analyze(np.ascontiguousarray(large_faces[name][:, ::-1]))
    # The default's crops of a mirrored photo are the mirrored crops, pixel for pixel, so each
    # side reads what the other did (a crop shifted by a fraction of a pixel moved them 0.13 mm).
    for right, left in SIDE_PAIRS:
        assert abs(getattr(m, right) - getattr(base, left)) <= 0.05, right
        assert abs(getattr(m, left) - getattr(base, right)) <= 0.05, left
    assert np.sign(m.mouth_droop_mm) == -np.sign(base.mouth_droop_mm)


@pytest.mark.slow
@pytest.mark.parametrize("side, sign", [("right", 1), ("left", -1)])
def test_droop_grows_with_a_one_sided_mouth_corner_warp(large_faces, baselines, side, sign):
    base = baselines["grace_hopper"]
    rgb = large_faces["grace_hopper"]
    changes = []
    for shift_mm in (1, 2, 3, 4):
        warped, warp = warp_feature(rgb, base.face.points, base.frame, f"mouth_corner_{side}", shift_mm)
        assert abs(warp.true_shift_mm - shift_mm) < 0.05
        m = symmetry.analyze(warped, interpupil_mm=base.interpupil_mm)
        changes.append(sign * (m.mouth_droop_mm - base.mouth_droop_mm))
    assert changes[0] > 0, changes
    assert all(b > a for a, b in zip(changes, changes[1:])), changes


def test_raw_landmark_method_is_available(large_faces):
    m = symmetry.analyze(large_faces["astronaut"], method="landmarks")
    assert m.status == "ok" and m.method == "landmarks"
    with pytest.raises(ValueError, match="method"):
        symmetry.analyze(large_faces["astronaut"], method="magic")


def test_calibrated_scale_is_used_for_closed_eyes(large_faces, baselines):
    m = symmetry.analyze(large_faces["astronaut"], interpupil_mm=63.0)
    assert m.scale_source == "calibration"
    assert m.interpupil_mm == pytest.approx(63.0)


@pytest.mark.slow
def test_overlay_draws_the_frame_and_labels(baselines, large_faces):
    m = baselines["astronaut"]
    out = symmetry.draw(large_faces["astronaut"], m)
    assert out.dtype == np.uint8 and out.ndim == 3 and max(out.shape[:2]) >= 1200
    yellow = np.all(np.abs(out.astype(int) - (240, 228, 66)) < 30, axis=-1)
    orange = np.all(np.abs(out.astype(int) - (230, 159, 0)) < 30, axis=-1)
    blue = np.all(np.abs(out.astype(int) - (86, 180, 233)) < 30, axis=-1)
    assert yellow.sum() > 500 and orange.sum() > 200 and blue.sum() > 200
    # Patient's right (orange) is drawn on the image's left half, their left (blue) on the right.
    cols = np.arange(out.shape[1])
    assert cols[orange.any(axis=0)].mean() < out.shape[1] / 2 < cols[blue.any(axis=0)].mean()


def test_overlay_of_a_failed_photo_shows_the_reason(tmp_path):
    m = symmetry.analyze(np.full((300, 300, 3), 128, np.uint8))
    assert m.status == "no_face"
    out = symmetry.draw(np.full((300, 300, 3), 128, np.uint8), m)
    assert out.shape[0] >= 300
