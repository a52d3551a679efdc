"""Each point's construction against its definition, on faces whose geometry is known exactly
(MediaPipe's canonical face, and the same face turned, scaled, and with a drooping mouth
corner or brow). Pure geometry: no model is run, so these are fast."""

from __future__ import annotations

import numpy as np
import pytest
from canonical_face import canonical_face

from symmetry.face.frame import face_frame
from symmetry.face.landmarks import MIRROR, bundled_model_path
from symmetry.massage import acupoints as A
from symmetry.massage.areas import AREAS, kneading_areas, weak_side
from symmetry.massage.table import BY_CODE, DRAWN, HIDDEN, POINTS

BILATERAL = [s.code for s in DRAWN if s.kind == "bilateral"]
MIDLINE = [s.code for s in DRAWN if s.kind == "midline"]


@pytest.fixture(scope="module")
def face():
    return canonical_face(bundled_model_path())


@pytest.fixture(scope="module")
def amap(face):
    return A.acupoints(face[0])


def _mm(amap, code, side="midline") -> np.ndarray:
    p = amap.get(code, side)
    return np.array([p.x_mm, p.y_mm])


def _landmark_mm(face_points, index, side) -> np.ndarray:
    frame = face_frame(face_points)
    return frame.to_mm(face_points)[index if side == "right" else MIRROR[index]]


def test_the_table_lists_every_point_of_the_issue_once():
    codes = [s.code for s in POINTS]
    assert len(codes) == len(set(codes)) == 21
    assert set(codes) == {"EX-HN3", "BL2", "EX-HN4", "TE23", "GB14", "EX-HN5", "GB1", "ST1", "ST2", "ST3", "SI18",
                          "LI20", "GV26", "ST4", "CV24", "ST5", "ST6", "ST7", "TE17", "GB20", "LI4"}
    assert {s.code for s in HIDDEN} == {"TE17", "GB20", "LI4"}
    for s in POINTS:
        assert s.location and s.construction and s.find and s.anchor in ("bone", "soft tissue")
        assert (s.radius_mm > 0) == (s.kind != "hidden")


def test_every_drawn_point_is_placed_and_hidden_points_never(amap):
    labels = {(p.code, p.side) for p in amap.points}
    assert labels == {(c, s) for c in BILATERAL for s in ("right", "left")} | {(c, "midline") for c in MIDLINE}
    assert not any(p.code in ("TE17", "GB20", "LI4") for p in amap.points)


def test_a_symmetric_face_gives_mirrored_points(amap):
    for code in BILATERAL:
        right, left = _mm(amap, code, "right"), _mm(amap, code, "left")
        assert right[0] < 0 < left[0], code  # the patient's right is towards -x
        assert right[0] == pytest.approx(-left[0], abs=1e-6) and right[1] == pytest.approx(left[1], abs=1e-6), code
    for code in MIDLINE:
        assert _mm(amap, code)[0] == pytest.approx(0.0, abs=1e-6), code


def test_cun_is_a_third_of_glabella_to_subnasale(face, amap):
    mm = face_frame(face[0]).to_mm(face[0])
    assert amap.cun_mm == pytest.approx((mm[A.SUBNASALE, 1] - mm[A.GLABELLA, 1]) / 3)
    assert 17.0 < amap.cun_mm < 25.0  # an adult's B-cun, mm


@pytest.mark.parametrize("side", ["right", "left"])
def test_definitions(face, amap, side):
    pts, cun, sign = face[0], amap.cun_mm, A.SIGN[side]
    pupil = _landmark_mm(pts, A.PUPIL, side)
    brow = np.array([(_landmark_mm(pts, u, side) + _landmark_mm(pts, lo, side)) / 2
                     for u, lo in zip(A.BROW_UPPER, A.BROW_LOWER)])
    order = np.argsort(brow[:, 0])
    brow_at_pupil = np.interp(pupil[0], brow[order, 0], brow[order, 1])
    yuyao, yangbai = _mm(amap, "EX-HN4", side), _mm(amap, "GB14", side)
    # Yuyao: in the brow, directly above the pupil. Yangbai: 1 B-cun above the brow, above the pupil.
    assert yuyao == pytest.approx([pupil[0], brow_at_pupil])
    assert yangbai == pytest.approx([pupil[0], brow_at_pupil - cun])
    # Chengqi, Sibai, Juliao directly below the pupil, in that order down the face.
    for code in ("ST1", "ST2", "ST3"):
        assert _mm(amap, code, side)[0] == pytest.approx(pupil[0])
    assert pupil[1] < _mm(amap, "ST1", side)[1] < _mm(amap, "ST2", side)[1] < _mm(amap, "ST3", side)[1]
    assert _mm(amap, "ST1", side)[1] > _landmark_mm(pts, A.LOWER_LID_AT_PUPIL, side)[1]  # below the eye
    # Juliao and Quanliao level with the ala's lower border; Quanliao below the outer canthus.
    ala = _landmark_mm(pts, A.ALA_BASE, side)
    canthus = _landmark_mm(pts, A.OUTER_CANTHUS, side)
    assert _mm(amap, "ST3", side)[1] == pytest.approx(ala[1]) == _mm(amap, "SI18", side)[1]
    assert _mm(amap, "SI18", side)[0] == pytest.approx(canthus[0])
    # Dicang 0.4 B-cun lateral to the mouth corner; Tongziliao 0.5 B-cun lateral to the outer canthus.
    corner = _landmark_mm(pts, A.MOUTH_CORNER, side)
    assert _mm(amap, "ST4", side) == pytest.approx(corner + [sign * 0.4 * cun, 0])
    assert _mm(amap, "GB1", side) == pytest.approx(canthus + [sign * 0.5 * cun, 0])
    # Cuanzhu and Sizhukong at the brow's medial and lateral ends; Taiyang lateral to both.
    assert _mm(amap, "BL2", side) == pytest.approx(brow[-1])
    assert _mm(amap, "TE23", side) == pytest.approx(brow[0])
    assert sign * _mm(amap, "EX-HN5", side)[0] > sign * _mm(amap, "TE23", side)[0]
    # Yingxiang beside the ala, lateral to it; Jiache above the jaw angle, Daying forward of it.
    ala_side = max(sign * _landmark_mm(pts, i, side)[0] for i in A.ALA_LATERAL)
    assert 0 < sign * _mm(amap, "LI20", side)[0] - ala_side < 0.3 * cun
    gonion = _landmark_mm(pts, A.GONION, side)
    assert _mm(amap, "ST6", side)[1] < gonion[1] and sign * _mm(amap, "ST6", side)[0] < sign * gonion[0]
    assert np.linalg.norm(_mm(amap, "ST6", side) - gonion) == pytest.approx(0.75 * cun)
    assert sign * _mm(amap, "ST5", side)[0] < sign * gonion[0]


def test_midline_definitions(face, amap):
    mm = face_frame(face[0]).to_mm(face[0])
    assert _mm(amap, "EX-HN3") == pytest.approx((_mm(amap, "BL2", "right") + _mm(amap, "BL2", "left")) / 2)
    assert _mm(amap, "GV26") == pytest.approx((mm[A.SUBNASALE] + mm[A.UPPER_LIP_TOP]) / 2)
    assert mm[A.SUBNASALE, 1] < _mm(amap, "GV26")[1] < mm[0, 1]  # on the philtrum
    assert mm[17, 1] < _mm(amap, "CV24")[1] < mm[152, 1]  # between lower lip and chin


def _similar(points: np.ndarray, degrees: float, scale: float) -> np.ndarray:
    t = np.radians(degrees)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return (points - 400) @ rot.T * scale + 500


@pytest.mark.parametrize("degrees,scale", [(15, 1.0), (-15, 1.0), (0, 0.7), (0, 1.5), (10, 1.3)])
def test_a_turned_or_scaled_photo_gives_the_same_points(face, amap, degrees, scale):
    moved = A.acupoints(_similar(face[0], degrees, scale))
    for a, b in zip(amap.points, moved.points):
        assert (a.code, a.side) == (b.code, b.side)
        assert np.hypot(a.x_mm - b.x_mm, a.y_mm - b.y_mm) < 1e-6, a.label
    # ... and the pixels follow the photo.
    assert moved.px() == pytest.approx(_similar(amap.px(), degrees, scale))


def _shifted(points: np.ndarray, indices, dy_px: float) -> np.ndarray:
    out = points.copy()
    out[list(indices), 1] += dy_px
    return out


def test_a_drooping_mouth_corner_takes_dicang_along_and_nothing_bony(face, amap):
    left_corner = [int(MIRROR[i]) for i in (61, 185, 40, 146, 91, 76, 62, 78, 95)]
    drooped = A.acupoints(_shifted(face[0], left_corner, 20.0))  # 20 px = 5 mm down on the left
    assert drooped.get("ST4", "left").y_mm - amap.get("ST4", "left").y_mm == pytest.approx(5.0, abs=0.05)
    assert drooped.get("ST4", "right").y_mm == pytest.approx(amap.get("ST4", "right").y_mm, abs=0.05)
    for code in ("GB14", "EX-HN4", "ST1", "ST2", "ST3", "SI18", "GB1", "EX-HN5", "LI20"):
        for side in ("right", "left"):
            a, b = amap.get(code, side), drooped.get(code, side)
            assert np.hypot(a.x_mm - b.x_mm, a.y_mm - b.y_mm) < 0.05, (code, side)


def test_a_low_brow_takes_yangbai_along_but_not_the_pupil_line(face, amap):
    right_brow = list(A.BROW_UPPER + A.BROW_LOWER)
    low = A.acupoints(_shifted(face[0], right_brow, 16.0))  # 4 mm lower on the right
    assert low.get("GB14", "right").y_mm - amap.get("GB14", "right").y_mm == pytest.approx(4.0, abs=0.05)
    assert low.get("GB14", "right").x_mm == pytest.approx(amap.get("GB14", "right").x_mm, abs=0.05)
    assert low.get("ST2", "right").y_mm == pytest.approx(amap.get("ST2", "right").y_mm, abs=0.05)


def test_frontalized_takes_a_head_turn_out(face):
    points, depth = face
    mesh_turn = points.copy()
    # A 6 degree turn about the vertical axis: x' = x cos + z sin (z in px, towards the camera).
    z_px = -depth * 800.0
    t = np.radians(6.0)
    mesh_turn[:, 0] = 400 + (points[:, 0] - 400) * np.cos(t) + z_px * np.sin(t)

    class Turned:
        pass

    turned = Turned()
    turned.points, turned.depth, turned.image_size = mesh_turn, depth, (800, 800)
    raw = A.acupoints(mesh_turn)
    front = A.acupoints(A.frontalized(turned))

    def worst_mirror(amap):
        return max(np.hypot(amap.get(c, "right").x_mm + amap.get(c, "left").x_mm,
                            amap.get(c, "right").y_mm - amap.get(c, "left").y_mm) for c in BILATERAL)

    assert worst_mirror(raw) > 5.0  # a turned head: the jaw points no longer mirror each other
    assert worst_mirror(front) < 0.5


def test_areas_on_both_sides_weak_side_emphasised(face):
    areas = kneading_areas(face[0], "left")
    assert [(a.name, a.side) for a in areas] == [(n, s) for s in ("right", "left") for n in AREAS]
    assert all(a.emphasised == (a.side == "left") for a in areas)
    for a in areas:
        twin = next(b for b in areas if b.name == a.name and b.side != a.side)
        assert np.abs((a.polygon[:, 0] - 400) + (twin.polygon[:, 0] - 400)).max() < 1e-9  # mirror images
    eye = next(a for a in areas if a.name == "eye" and a.side == "right")
    assert eye.hole is not None  # the eye itself is left out
    with pytest.raises(ValueError):
        kneading_areas(face[0], "both")


def test_weak_side_from_resting_asymmetry():
    assert weak_side(3.0, 0.0)[0] == "right"  # right mouth corner 3 mm lower
    assert weak_side(-2.0, -1.0)[0] == "left"
    assert weak_side(0.5, -0.4) == (None, "no clear one-sided droop at rest")
    assert weak_side(float("nan"), 2.0)[0] == "right"
    assert "mouth corner 3.0 mm lower on the right" in weak_side(3.0, 0.0)[1]


def test_bad_input_is_refused(face):
    with pytest.raises(ValueError, match="478"):
        A.acupoints(face[0][:468])
    assert BY_CODE["ST4"].name == "Dicang"


def test_the_docs_render_the_same_table():
    """docs/massage.md shows the table of the code: every point, its location and its radius."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "massage.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in doc.splitlines() if line.startswith("| ")}
    for s in POINTS:
        assert s.code in rows, s.code
        assert s.location in rows[s.code] and s.construction in rows[s.code], s.code
        assert (f"| {s.radius_mm:g} |" if s.kind != "hidden" else "| not drawn |") in rows[s.code], s.code
