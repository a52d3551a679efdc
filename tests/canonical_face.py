"""A symmetric, frontal face without running the model: MediaPipe's canonical face mesh (the
468 vertices stored in the bundled .task file), with iris points added at the eye centres.

For the fast geometry tests: every construction can be checked on it exactly (no landmark
noise), and its left and right sides are mirror images by construction.
"""

from __future__ import annotations

import struct
import zipfile

import numpy as np

IRIS_RADIUS_CM = 0.585  # 11.7 mm / 2: the canonical mesh is in centimetres


def _varint(b: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return value, i


def _fields(b: bytes):
    """(field number, wire type, value) of a protobuf message, one level deep."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(b, i)
        elif wire == 2:
            n, i = _varint(b, i)
            value, i = b[i:i + n], i + n
        elif wire == 5:
            value, i = b[i:i + 4], i + 4
        elif wire == 1:
            value, i = b[i:i + 8], i + 8
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def canonical_mesh(model_path) -> np.ndarray:
    """(468, 3) canonical face vertices, cm: x towards the image's right, y up, z towards the camera."""
    data = zipfile.ZipFile(model_path).read("geometry_pipeline_metadata_landmarks.binarypb")
    mesh = next(v for n, w, v in _fields(data) if n == 1 and w == 2)
    floats = [struct.unpack("<f", v)[0] for n, w, v in _fields(mesh) if n == 3 and w == 5]
    return np.array(floats, dtype=float).reshape(468, 5)[:, :3]


def canonical_face(model_path, px_per_cm: float = 40.0, centre=(400.0, 420.0)) -> tuple[np.ndarray, np.ndarray]:
    """(478, 2) landmark pixels of the canonical face seen from the front, and (478,) depths
    in image-width units as MediaPipe gives them (smaller = nearer); image 800 px wide."""
    v = canonical_mesh(model_path)
    points = np.zeros((478, 2))
    points[:468, 0] = centre[0] + px_per_cm * v[:, 0]
    points[:468, 1] = centre[1] - px_per_cm * v[:, 1]
    depth = np.zeros(478)
    depth[:468] = -v[:, 2] * px_per_cm / 800.0
    r = IRIS_RADIUS_CM * px_per_cm
    for first, eye in ((468, (33, 133, 159, 145)), (473, (263, 362, 386, 374))):
        c = points[list(eye)].mean(axis=0)
        # centre, then the ring; the horizontal pair (469/471, 474/476) sets the frame's scale,
        # and each point sits where its MIRROR twin's mirror image does (469 <-> 476).
        ring = [c + (r, 0), c + (0, -r), c - (r, 0), c + (0, r)]
        points[first] = c
        points[first + 1:first + 5] = ring
        depth[first:first + 5] = depth[list(eye)].mean()
    return points, depth
