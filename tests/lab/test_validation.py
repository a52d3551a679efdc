"""Validation harness and the tracked method (issue 8): a small held-out accuracy check
that fails if accuracy regresses, and the "no new weakness" checks (one-sided light,
closed eye). Real faces and the real model; small images; expensive things made once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from symmetry.lab import validation as V
from symmetry.lab.nuisances import day_nuisance, repeat_nuisance
from symmetry.photo.analysis import analyze, prepare_reference
from symmetry.face.landmarks import default_landmarker
from symmetry.face.measures import Measurement, measure_face
from symmetry.face.uncertainty import ASYMMETRIES
from symmetry.lab.synthetic import warp_feature, warp_feature_shaped

#: Pupils this many pixels apart in the test faces (the harness uses 200).
IPD = 150.0


@pytest.fixture(scope="module")
def lm():
    return default_landmarker()


@pytest.fixture(scope="module")
def hopper(sample_rgb, lm) -> V.BaseFace:
    """grace_hopper is held out of all tuning."""
    return V.prepare_face(sample_rgb["grace_hopper"], "grace_hopper", "held_out", lm, IPD)


@pytest.fixture(scope="module")
def methods(lm):
    return [V.LandmarksMethod(lm, "landmarks"), V.TrackedMethod(lm)]


@pytest.fixture(scope="module")
def held_out_rows(hopper, methods) -> pd.DataFrame:
    """Held-out face x held-out warp shapes, with day-to-day nuisances."""
    rng = np.random.default_rng(3)
    ref_rgb, _ = V.render(hopper, V.Trial("grace_hopper", "reference", nuisance=day_nuisance(rng), seed=1))
    refs = {("grace_hopper", m.name): m.reference(ref_rgb) for m in methods}
    cases = [
        ("mouth_corner_right", "elongated", 3.0), ("mouth_corner_left", "elongated", -1.5),
        ("brow_left", "elongated", 2.5), ("brow_right", "elongated", -2.0),
        ("upper_lid_right", "occluding_lid", 2.0), ("upper_lid_left", "occluding_lid", 1.0),
    ]
    trials = [V.Trial("grace_hopper", "displacement", f, s, mm, day_nuisance(rng), i) for i, (f, s, mm) in enumerate(cases)]
    return V.run_trials({"grace_hopper": hopper}, trials, methods, refs)


@pytest.mark.slow
def test_held_out_accuracy_of_the_default_method(held_out_rows):
    d = held_out_rows
    assert (d.status == "ok").all()
    tracked, raw = d[d.method == "tracked"], d[d.method == "landmarks"]
    err = (tracked.est_asym_mm - tracked.true_asym_mm).abs()
    raw_err = (raw.est_asym_mm - raw.true_asym_mm).abs()
    # Measured when written: tracked MAE ~0.15 mm (mouth and brow within 0.1 mm); raw landmarks ~1 mm.
    show = tracked[["feature", "true_asym_mm", "est_asym_mm"]]
    assert err.mean() <= 0.35, show
    # Every feature within the harness's MAE bound, lids included (a lid sliding over the eye
    # behind glasses: read 0.6 mm for 1.0 and 2.0 mm for 2.0 since lids are matched as bands; 0.1 mm for 1.0 before).
    assert err.max() <= 0.5, show
    assert err.mean() < 0.5 * raw_err.mean()
    side_err = (tracked.est_side_mm - tracked.true_side_mm).abs()
    assert side_err.mean() <= 0.35


def test_one_sided_light_adds_no_false_asymmetry(hopper, methods):
    light = V.lighting_check({"grace_hopper": hopper}, methods)
    false = light.groupby("method")[list(ASYMMETRIES)].agg(lambda x: x.abs().mean())
    # Per measure, the tracked method is no worse than raw landmarks (small slack for noise).
    assert (false.loc["tracked"] <= false.loc["landmarks"] + 0.1).all(), false
    assert false.loc["tracked"].sum() <= false.loc["landmarks"].sum(), false


@pytest.fixture(scope="module")
def astronaut(sample_rgb, lm) -> V.BaseFace:
    return V.prepare_face(sample_rgb["astronaut"], "astronaut", "tuning", lm, IPD)


def test_a_closed_eye_reads_closed(astronaut, hopper, methods):
    closed = V.closed_eye_check({"astronaut": astronaut, "grace_hopper": hopper}, methods)
    wide = closed.pivot_table(index=["face", "side"], columns="method", values="reads_closed")
    # Wherever raw landmarks see the closed eye, the default method sees it too. (Behind
    # grace_hopper's glasses no method reads the synthetic closure as closed.)
    assert (wide.tracked >= wide.landmarks).all(), closed
    tracked = closed[(closed.method == "tracked") & (closed.face == "astronaut")]
    assert (tracked.open_mm > 5.0).all()  # the reference eyes are open
    assert tracked.reads_closed.all(), tracked
    assert tracked.message.str.contains("measured from landmarks").any()


@pytest.mark.slow
def test_repeat_photos_give_the_same_measures(hopper, methods):
    rng = np.random.default_rng(5)
    ref_rgb, _ = V.render(hopper, V.Trial("grace_hopper", "reference", nuisance=repeat_nuisance(rng), seed=2))
    refs = {("grace_hopper", m.name): m.reference(ref_rgb) for m in methods}
    trials = V.repeat_trials(hopper, rng, 4)
    rows = V.run_trials({"grace_hopper": hopper}, trials, methods[1:], refs)
    sd = V.repeatability_table(rows).set_index("method").loc["tracked", list(V.MEASURES)]
    assert (sd <= 0.3).all(), sd


def test_analyze_methods_and_reference_columns(hopper, lm):
    rgb = hopper.rgb
    raw = analyze(rgb, landmarker=lm, method="landmarks")
    direct = measure_face(lm.detect(rgb), Measurement(width=rgb.shape[1], height=rgb.shape[0]))
    assert raw.mouth_droop_mm == direct.mouth_droop_mm  # "landmarks" is one raw pass, unchanged
    assert raw.method == "landmarks" and raw.reference == ""
    ref = prepare_reference(rgb, landmarker=lm)
    moved, _ = warp_feature_shaped(rgb, hopper.points, hopper.frame, "mouth_corner_right", 2.0, "gaussian")
    a = analyze(moved, landmarker=lm, reference=ref)
    assert a.method == "tracked" and a.reference == "<array>" and a.scale_source == "reference"
    assert a.mouth_droop_mm - ref.values["mouth_droop_mm"] == pytest.approx(2.0, abs=0.3)
    # No state carries over between photos: the same photo gives the same row in any order.
    analyze(rgb, landmarker=lm, reference=ref)
    assert analyze(moved, landmarker=lm, reference=ref).to_dict() == a.to_dict()
    with pytest.raises(ValueError, match="reference"):
        analyze(rgb, landmarker=lm, method="tracked")
    with pytest.raises(ValueError, match="method"):
        analyze(rgb, landmarker=lm, method="nonsense")


def test_gaussian_shape_is_warp_feature_bit_for_bit(hopper):
    a, wa = warp_feature(hopper.rgb, hopper.points, hopper.frame, "brow_left", 2.0)
    b, wb = warp_feature_shaped(hopper.rgb, hopper.points, hopper.frame, "brow_left", 2.0, "gaussian")
    assert np.array_equal(a, b) and wa == wb
    assert wb.moved_points.shape == (478, 2)


def test_occluding_lid_moves_the_margin_and_not_the_lower_lid(hopper):
    out, w = warp_feature_shaped(hopper.rgb, hopper.points, hopper.frame, "upper_lid_left", 2.0, "occluding_lid")
    d_mm = (hopper.frame.to_mm(w.moved_points) - hopper.frame.to_mm(hopper.points))[:, 1]
    assert w.true_shift_mm == pytest.approx(2.0, abs=0.01)
    assert d_mm[[387, 386, 385]] == pytest.approx([2.0, 2.0, 2.0], abs=0.01)
    assert np.abs(d_mm[[373, 374, 380]]).max() < 1e-6  # the lower lid stays
    assert np.abs(d_mm[[159, 61, 291]]).max() < 1e-6  # the other eye and the mouth too
    assert not np.array_equal(out, hopper.rgb)
    with pytest.raises(ValueError):
        warp_feature_shaped(hopper.rgb, hopper.points, hopper.frame, "brow_left", 2.0, "occluding_lid")


def test_sliding_lid_moves_the_lid_over_a_still_eye(hopper):
    out, w = warp_feature_shaped(hopper.rgb, hopper.points, hopper.frame, "upper_lid_right", 1.5, "sliding_lid")
    d_mm = (hopper.frame.to_mm(w.moved_points) - hopper.frame.to_mm(hopper.points))[:, 1]
    assert 1.2 <= w.true_shift_mm <= 1.5  # tapered towards the corners
    assert d_mm[159] == pytest.approx(1.5, abs=0.05)  # the middle of the margin moves the whole shift
    assert np.abs(d_mm[[144, 145, 153, 468]]).max() < 1e-6  # the lower lid and the iris stay
    assert np.abs(d_mm[[386, 61, 291]]).max() < 1e-6  # the other eye and the mouth too
    assert 0.05 < d_mm[28] < 0.5 * 1.5  # the skin 4 mm above the margin follows only in part
    assert not np.array_equal(out, hopper.rgb)
    with pytest.raises(ValueError):
        warp_feature_shaped(hopper.rgb, hopper.points, hopper.frame, "upper_lid_right", -1.0, "sliding_lid")


def test_accuracy_table_definitions():
    true = np.array([0.5, 1.0, 2.0, 4.0, 6.0])
    rows = pd.DataFrame({
        "kind": "displacement", "status": "ok", "part": "held_out/new_shape", "method": "m", "group": "mouth",
        "true_asym_mm": true, "est_asym_mm": 0.5 * true,
    })
    acc = V.accuracy_table(rows).iloc[0]
    assert acc.n == 4  # 6 mm is outside the 0.5-4 mm acceptance range
    assert acc.slope == pytest.approx(0.5) and acc.mae_mm == pytest.approx(np.mean([0.25, 0.5, 1.0, 2.0]))
    assert not V.passes(V.accuracy_table(rows)).iloc[0]


def _mirror_composite(base: V.BaseFace, keep: str) -> np.ndarray:
    """A perfectly symmetric face: one half of the (levelled) face beside its own mirror image."""
    import cv2

    f = base.frame
    angle = float(np.degrees(np.arctan2(f.x_axis[1], f.x_axis[0])))
    level = cv2.getRotationMatrix2D((float(f.origin[0]), float(f.origin[1])), angle, 1.0)
    up = cv2.warpAffine(base.rgb, level, base.rgb.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    cx = int(round(f.origin[0]))
    half = up[:, cx:] if keep == "image_right" else up[:, :cx]
    return np.ascontiguousarray(np.hstack([half[:, ::-1], half]) if keep == "image_right" else np.hstack([half, half[:, ::-1]]))


@pytest.mark.slow
def test_balanced_reads_a_symmetric_face_as_symmetric_and_sees_a_whole_droop(astronaut, hopper, lm):
    """The "balanced" method reads asymmetry as the counter-displacement that makes the model see a
    symmetric face, so it must read a truly symmetric face as symmetric (no bias), and see all of a
    known one-sided displacement (raw landmarks see about half)."""
    for base in (astronaut, hopper):
        for keep in ("image_left", "image_right"):
            m = analyze(_mirror_composite(base, keep), landmarker=lm, method="balanced")
            assert m.method == "balanced" and abs(m.mouth_droop_mm) <= 0.25 and abs(m.brow_asymmetry_mm) <= 0.35, (
                base.name, keep, m.mouth_droop_mm, m.brow_asymmetry_mm)
    before = analyze(astronaut.rgb, landmarker=lm, method="balanced")
    raw_before = analyze(astronaut.rgb, landmarker=lm, method="canonical")
    moved, warp = warp_feature(astronaut.rgb, astronaut.points, astronaut.frame, "mouth_corner_right", 3.0)
    seen = analyze(moved, landmarker=lm, method="balanced").mouth_droop_mm - before.mouth_droop_mm
    raw_seen = analyze(moved, landmarker=lm, method="canonical").mouth_droop_mm - raw_before.mouth_droop_mm
    assert seen == pytest.approx(warp.true_shift_mm, abs=0.5) and raw_seen < 0.75 * warp.true_shift_mm, (seen, raw_seen)


@pytest.mark.slow
def test_mirrored_reads_a_symmetric_face_as_symmetric_and_sees_most_of_a_displacement(astronaut, hopper, lm):
    """The "mirrored" method finds each side's mirror image on the other side: a truly symmetric
    face reads symmetric, and a known one-sided displacement of a mouth corner or a brow is seen
    far more fully than by the raw landmarks (measured: 74-108% of a 3 mm displacement against
    21-61% for raw landmarks)."""
    for base in (astronaut, hopper):
        for keep in ("image_left", "image_right"):
            m = analyze(_mirror_composite(base, keep), landmarker=lm, method="mirrored")
            assert m.method == "mirrored" and abs(m.mouth_droop_mm) <= 0.15 and abs(m.brow_asymmetry_mm) <= 0.15, (
                base.name, keep, m.mouth_droop_mm, m.brow_asymmetry_mm)
        before = {k: analyze(base.rgb, landmarker=lm, method=k) for k in ("mirrored", "landmarks")}
        for feature, measure, least in (("mouth_corner_right", "mouth_droop_mm", 0.7), ("mouth_corner_left", "mouth_droop_mm", 0.7),
                                        ("brow_right", "brow_asymmetry_mm", 0.65), ("brow_left", "brow_asymmetry_mm", 0.65)):
            moved, warp = warp_feature(base.rgb, base.points, base.frame, feature, 3.0)
            sign = 1.0 if feature.endswith("right") else -1.0  # a lowered right side reads positive
            seen = {k: sign * (getattr(analyze(moved, landmarker=lm, method=k), measure) - getattr(b, measure))
                    for k, b in before.items()}
            assert least * warp.true_shift_mm <= seen["mirrored"] <= 1.2 * warp.true_shift_mm, (base.name, feature, seen)
            assert seen["landmarks"] < least * warp.true_shift_mm, (base.name, feature, seen)
