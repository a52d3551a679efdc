"""Pure geometry on synthetic landmark arrays: the face frame and the measures."""

import numpy as np
import pytest

from symmetry.face.frame import IRIS_DIAMETER_MM, face_frame
from symmetry.face.landmarks import MIRROR, pose_from_matrix
from symmetry.face.measures import measure_points, symmetry_index


def synthetic_face(droop_mm=0.0) -> np.ndarray:
    """A symmetric 478-point face in mm (x to the image's right, y down), pupils 62 mm apart."""
    rng = np.random.default_rng(1)
    pts = rng.normal(0, 20, (478, 2))
    # Make it exactly mirror-symmetric: point MIRROR[i] is point i reflected.
    for i in range(478):
        j = MIRROR[i]
        if i < j:
            pts[j] = pts[i] * [-1, 1]
        elif i == j:
            pts[i, 0] = 0.0
    pts[468], pts[473] = (-31, 0), (31, 0)
    pts[[469, 471]] = (-31 + 5.85, 0), (-31 - 5.85, 0)
    pts[[474, 476]] = (31 + 5.85, 0), (31 - 5.85, 0)
    for k, i in enumerate((10, 151, 9, 8, 168, 6, 197, 195, 5, 4)):
        pts[i] = (0, -60 + 10 * k)
    pts[152] = (0, 120)
    pts[61], pts[291] = (-25, 70 + droop_mm), (25, 70)
    return pts


def to_image(pts_mm, angle_deg=0.0, scale=4.0, offset=(400, 300), mirror=False):
    t = np.radians(angle_deg)
    r = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    p = pts_mm * scale @ r.T + offset
    if mirror:
        p[:, 0] = 800 - p[:, 0]
    return p


def test_frame_units_and_axes():
    pts = to_image(synthetic_face())
    frame = face_frame(pts)
    assert frame.mm_per_px == pytest.approx(0.25)
    assert frame.interpupil_mm == pytest.approx(62.0)
    mm = frame.to_mm(pts)
    assert mm[473, 0] > 0 > mm[468, 0]  # x towards the patient's left
    assert mm[152, 1] > 0  # y down the face
    np.testing.assert_allclose(frame.to_px(mm), pts, atol=1e-9)


@pytest.mark.parametrize("angle", [-30, -15, 0, 10, 45])
@pytest.mark.parametrize("scale", [0.5, 1, 3])
def test_measures_do_not_depend_on_roll_or_scale(angle, scale):
    face = synthetic_face(droop_mm=2.0)
    ref = measure_points(face_frame(to_image(face)).to_mm(to_image(face)))
    pts = to_image(face, angle, scale * 4)
    got = measure_points(face_frame(pts).to_mm(pts))
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_droop_sign_and_mirror():
    face = synthetic_face(droop_mm=2.0)
    pts = to_image(face)
    m = measure_points(face_frame(pts).to_mm(pts))
    assert m["mouth_droop_mm"] == pytest.approx(2.0)  # right corner 2 mm lower
    mirrored = to_image(face, mirror=True)[MIRROR]
    mm = measure_points(face_frame(mirrored).to_mm(mirrored))
    assert mm["mouth_droop_mm"] == pytest.approx(-2.0)


def test_calibrated_interpupil_distance_sets_the_scale():
    pts = to_image(synthetic_face())
    assert face_frame(pts, interpupil_mm=65.0).mm_per_px == pytest.approx(65.0 / 248.0)
    assert IRIS_DIAMETER_MM == 11.7


def test_symmetry_index_is_100_when_symmetric_and_decreases_with_each_asymmetry():
    assert symmetry_index(0, 0, 0) == 100
    for axis in range(3):
        values = []
        for a in np.linspace(0, 10, 21):
            args = [0.0, 0.0, 0.0]
            args[axis] = a
            values.append(symmetry_index(*args))
            args[axis] = -a
            assert symmetry_index(*args) == values[-1]
        assert all(b < a for a, b in zip(values, values[1:]))


def test_mirror_map_is_an_involution_with_known_pairs():
    assert np.all(MIRROR[MIRROR] == np.arange(478))
    for a, b in [(61, 291), (33, 263), (133, 362), (70, 300), (159, 386), (468, 473), (469, 476), (471, 474)]:
        assert MIRROR[a] == b
    assert MIRROR[1] == 1 and MIRROR[152] == 152


def test_pose_from_matrix():
    yaw, pitch = np.radians(10), np.radians(-5)
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    m = np.eye(4)
    m[:3, :3] = ry @ rx
    got = pose_from_matrix(m)
    assert got == pytest.approx((10.0, -5.0, 0.0), abs=1e-9)
