"""MIRROR (face/mirror.txt) against the canonical face mesh it was made from."""

from __future__ import annotations

import numpy as np

from canonical_face import canonical_mesh
from symmetry.face.landmarks import MIRROR, bundled_model_path


def test_mirror_pairs_each_mesh_vertex_with_its_mirror_image():
    mesh = canonical_mesh(bundled_model_path())
    mirrored = mesh * (-1.0, 1.0, 1.0)
    nearest = np.linalg.norm(mirrored[:, None, :] - mesh[None, :, :], axis=2).argmin(axis=1)
    assert np.array_equal(MIRROR[:468], nearest)


def test_mirror_is_its_own_inverse_and_pairs_the_iris_points():
    assert MIRROR.shape == (478,)
    assert np.array_equal(MIRROR[MIRROR], np.arange(478))
    assert list(MIRROR[468:]) == [473, 476, 475, 474, 477, 468, 471, 470, 469, 472]
