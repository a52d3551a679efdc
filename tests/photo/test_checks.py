"""What a photo's own evidence says about its numbers: plausible ranges, the 95% interval,
the tracking guard, each expression against its own kind, and even light."""

import math
from dataclasses import FrozenInstanceError, replace

import numpy as np
from PIL import Image
import pytest

import symmetry
from symmetry.photo.checks import checked, tracking_disagreement
from symmetry.batch.plan import reference_candidates
from symmetry.face.measures import PLAUSIBLE_MM, implausible
from symmetry.photo.evidence.tracking import Reference
from symmetry.face.uncertainty import ci95
from symmetry.vocabulary import Method, Status


def test_implausible_names_each_measure_outside_its_range():
    fine = {"mouth_droop_mm": 4.0, "brow_asymmetry_mm": -3.0, "eye_opening_right_mm": 9.0,
            "mouth_corner_height_left_mm": 70.0, "brow_height_right_mm": float("nan")}
    assert implausible(fine) == ""
    bad = implausible({**fine, "mouth_droop_mm": -195.0, "brow_height_right_mm": -4.0})
    assert "mouth droop -195.0 mm" in bad and "brow height right -4.0 mm" in bad
    assert all(lo < 0 < hi for name, (lo, hi) in PLAUSIBLE_MM.items() if name.endswith(("droop_mm", "asymmetry_mm")))


def test_a_measurement_is_frozen_and_takes_only_known_statuses_and_methods():
    m = symmetry.Measurement(status=Status.NO_FACE, method=Method.TRACKED)
    assert type(m.status) is str and m.to_dict()["status"] == "no_face" and m.to_dict()["method"] == "tracked"
    assert symmetry.Measurement().ok and symmetry.Measurement(status="error").status == Status.ERROR
    with pytest.raises(ValueError, match="status must be one of ok, "):
        symmetry.Measurement(status="fine")
    with pytest.raises(ValueError, match="method must be one of landmarks, "):
        replace(m, method="auto")
    with pytest.raises(FrozenInstanceError):
        m.status = "ok"


def test_interval_widens_with_pose_and_light():
    m = symmetry.Measurement(method="canonical", yaw_deg=0.0, pitch_deg=0.0, light_balance=1.0)
    assert math.isnan(ci95(m)["mouth_droop_ci95_mm"])  # no face measured: no interval
    m = replace(m, face=object())
    calm = ci95(m)
    turned = ci95(replace(m, yaw_deg=15.0))
    dark = ci95(replace(m, light_balance=0.6))
    for name in calm:
        assert 0 < calm[name] < turned[name] and calm[name] < dark[name]


def _reference(values, landmark_values):
    return Reference(np.zeros((478, 2)), None, None, np.zeros((2, 2), np.uint8), np.zeros((478, 2)),
                     "ref.jpg", values, {}, landmark_values)


def test_a_tracked_change_the_landmarks_do_not_bear_out_is_a_failure():
    zero = {name: 0.0 for name in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm")}
    ref = _reference(zero, zero)
    photo = symmetry.Measurement(mouth_droop_mm=1.0, brow_asymmetry_mm=0.5, eye_opening_difference_mm=0.0)
    # true 4 mm changes: the landmarks see about half of a mouth corner's, next to nothing of a lid's
    assert tracking_disagreement({**zero, "mouth_droop_mm": 4.0}, replace(photo, mouth_droop_mm=2.0), ref) == ""
    assert tracking_disagreement({**zero, "eye_opening_difference_mm": 5.3}, replace(photo, eye_opening_difference_mm=0.6),
                         ref) == ""
    # a catastrophic track: the landmarks saw none of it
    far = tracking_disagreement({**zero, "mouth_droop_mm": -195.0}, photo, ref)
    assert "mouth droop changed -195.0 mm tracked, +1.0 mm by landmarks" in far and "brow" not in far
    assert tracking_disagreement({**zero, "brow_asymmetry_mm": 12.8}, replace(photo, brow_asymmetry_mm=-0.5), ref)
    # tracking that lost a change the landmarks plainly see
    assert tracking_disagreement(zero, replace(photo, mouth_droop_mm=5.0), ref)


def test_each_expression_has_its_own_reference_and_unlabelled_photos_none():
    labels = {
        "a/2024-01-02/rest.jpg": dict(person="a", date="2024-01-02", expression="rest"),
        "a/2024-01-01/rest.jpg": dict(person="a", date="2024-01-01", expression="rest"),
        "a/2024-01-01/smile.jpg": dict(person="a", date="2024-01-01", expression="smile"),
        "a/2024-01-03/smile.jpg": dict(person="a", date="2024-01-03", expression="smile"),
        "a/2024-01-01/IMG_1.jpg": dict(person="a", date="2024-01-01", expression=""),
        "b.jpg": dict(person="", date="", expression="rest"),
    }
    assert reference_candidates(labels) == {
        ("a", "rest"): ["a/2024-01-01/rest.jpg", "a/2024-01-02/rest.jpg"],
        ("a", "smile"): ["a/2024-01-01/smile.jpg", "a/2024-01-03/smile.jpg"],
    }


def test_a_smile_is_never_tracked_from_a_resting_photo(large_faces):
    """The real model: grace_hopper rests, the astronaut smiles; a photo that shows another
    expression than its reference is measured on its own, and says so."""
    ref = symmetry.prepare_reference(large_faces["astronaut"])
    assert ref.expression == "smile"
    m = symmetry.analyze(large_faces["grace_hopper"], reference=ref)
    assert m.ok and m.method == "mirrored" and m.expression_seen == "rest"
    assert "the face shows rest" in m.message and "measured on its own" in m.message


def test_one_sided_light_gets_a_status_and_a_reason(large_faces):
    rgb = large_faces["grace_hopper"].astype(float)
    m = symmetry.analyze(large_faces["grace_hopper"])
    assert m.ok and m.light_balance > 0.85
    w = rgb.shape[1]
    # the patient's left side is the image's right half: darken it to a fifth
    ramp = np.clip(np.linspace(1.6, -0.6, w), 0.2, 1.0)[None, :, None]
    dark = checked(replace(m, status="ok"), (rgb * ramp).astype(np.uint8))
    assert dark.status == "uneven_light" and "face a window or lamp" in dark.message, dark.message
    assert dark.mouth_droop_ci95_mm > m.mouth_droop_ci95_mm


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_every_row_has_an_interval_and_what_the_face_shows(large_faces, name):
    m = symmetry.analyze(large_faces[name])
    row = m.to_dict()
    for c in ("mouth_droop_ci95_mm", "brow_asymmetry_ci95_mm", "eye_opening_difference_ci95_mm"):
        assert 0.2 < row[c] < 5.0, (c, row[c])
    assert row["expression_seen"] == {"astronaut": "smile", "grace_hopper": "rest"}[name]


@pytest.mark.slow
def test_faces_side_by_side_are_never_one_measured_face(sample_rgb):
    """MediaPipe sees the whole photo at 128 px: beside another face, one can be missed (two side
    by side gave `ok` with one measured), and five gave `no_face`."""
    grace = sample_rgb["grace_hopper"]
    astro = np.asarray(Image.fromarray(sample_rgb["astronaut"]).resize(grace.shape[1::-1]))
    for photo, n in ((np.concatenate([grace, astro], axis=1), 2), (np.concatenate([grace] * 5, axis=1), 5)):
        m = symmetry.analyze(photo)
        assert m.status == "multiple_faces" and f"{n} faces" in m.message, (n, m.status, m.message)
    alone = symmetry.analyze(np.concatenate([grace, np.full_like(grace, 128)], axis=1))
    assert alone.ok, alone.message  # one face beside an empty wall is still measured


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_photo_on_its_side_or_upside_down_is_measured_upright(sample_rgb, turns):
    """No EXIF orientation to go by: a quarter-turned photo read +1.4 mm of droop, an upside-down
    one no face. Measured turned upright, the numbers are the upright photo's, and it says so."""
    grace = sample_rgb["grace_hopper"]
    upright = symmetry.analyze(grace)
    m = symmetry.analyze(np.ascontiguousarray(np.rot90(grace, turns)))
    assert m.ok and "the face was not upright" in m.message, m.message
    for c in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm"):
        assert getattr(m, c) == pytest.approx(getattr(upright, c), abs=0.05), c
    # the points are in the turned photo's own pixels (where an overlay draws them)
    h, w = grace.shape[:2]
    x, y = upright.face.points[:, 0], upright.face.points[:, 1]
    expected = {1: (y, w - x), 2: (w - x, h - y), 3: (h - y, x)}[turns]
    assert np.abs(m.face.points - np.stack(expected, axis=1)).max() < 0.5


@pytest.mark.slow
def test_a_gif_is_scored_as_analyze_reads_it(tmp_path, sample_rgb):
    """An animated GIF was measured by `analyze` (its first frame) but silently skipped by `score`."""
    from concurrent.futures import ThreadPoolExecutor

    frame = Image.fromarray(sample_rgb["grace_hopper"])
    gif = tmp_path / "p" / "clip.gif"
    gif.parent.mkdir()
    frame.save(gif, save_all=True, append_images=[frame.transpose(Image.FLIP_LEFT_RIGHT)], duration=200)
    with ThreadPoolExecutor(1) as pool:
        table = symmetry.score_folder(tmp_path / "p", executor=pool, progress=False)
    alone = symmetry.analyze(gif)
    assert list(table["status"]) == ["ok"] and table["mouth_droop_mm"].item() == pytest.approx(alone.mouth_droop_mm)
