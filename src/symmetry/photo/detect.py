"""A photo's faces, wherever they are in it: found at a working size, again at full
resolution when small there, in windows along a wide photo, and upright in a photo
turned on its side or upside down. Face points are always in the photo's own pixels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from symmetry.face.frame import IRIS_CENTER_LEFT, IRIS_CENTER_RIGHT
from symmetry.face.landmarks import Face
from symmetry.photo.imageio import LoadedImage, decode_scale_for, read_image

#: In a large photo measured at the working size, a face whose pupils are closer than
#: this (px, at that size) is detected again in the full-resolution image: working at a
#: reduced size must never cost a small face its detail.
FULL_RESOLUTION_BELOW_IPD_PX = 60.0
#: A face rolled further than this is looked for again in the photo turned by quarter turns.
MAX_UPRIGHT_ROLL_DEG = 45.0
#: A photo is looked at in square windows along its long side when it is at least this much
#: longer than wide and its face (if one was found) spans less than `WINDOW_BELOW_FACE_SHARE` of
#: it: MediaPipe's face detector sees the whole photo at 128 px, so faces side by side in a wide
#: photo can be missed (two faces side by side: one found; five: none).
WINDOW_ASPECT = 1.5
WINDOW_BELOW_FACE_SHARE = 0.4
#: A large photo with no face found is searched in tiles of this size (full-resolution px,
#: overlapping by a quarter) for a face too small for the whole-photo detector: the detector
#: finds a face that spans a fifth of what it sees, so a 192 px tile finds faces from about
#: 40 px wide (pupils 12 px apart), which then get `too_small` rather than `no_face`. Only
#: photos at least `SMALL_FACE_SEARCH_FROM_PX` on their short side are searched (about 2 s
#: for a 12-megapixel photo without a face); in a smaller one the whole-photo pass sees as much.
SMALL_FACE_TILE_PX = 192
SMALL_FACE_SEARCH_FROM_PX = 1000

_PUPILS = [IRIS_CENTER_RIGHT, IRIS_CENTER_LEFT]


def working(loaded: LoadedImage) -> LoadedImage:
    """`loaded` at the working size: an image still larger than the reduced-decoding rule
    allows (a full decode, a PNG, an array) is shrunk with area averaging. MediaPipe would
    otherwise resample a 12-megapixel image itself, with aliasing, and a photo would give
    different landmarks depending on how it was decoded."""
    import cv2

    factor = decode_scale_for(loaded.rgb.shape[1], loaded.rgb.shape[0])
    if factor == 1:
        return loaded
    rgb = cv2.resize(loaded.rgb, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    return replace(loaded, rgb=rgb, decode_scale=loaded.decode_scale * factor)


def detect_faces(detect, image, loaded: LoadedImage, probe=None) -> tuple[LoadedImage, list[Face]]:
    """Faces (in original pixels, largest first) found by `detect` at the working size; a face too
    small there is found again in the full-resolution image (`image` is read again if `loaded` was
    reduced), faces beside each other in a wide photo are looked for in windows (`probe`, a raw
    detector, defaults to `detect`), and a photo turned on its side or upside down (no face, or a
    face rolled past 45 degrees) is looked at turned upright. Returns the image they were found in."""
    found_in, faces = _detect_as_is(detect, image, loaded, probe)
    if faces and abs(faces[0].roll_deg) <= MAX_UPRIGHT_ROLL_DEG:
        return found_in, faces
    turns = [(-round(faces[0].roll_deg / 90)) % 4] if faces else [2, 1, 3]
    for k in turns:
        rgb = np.ascontiguousarray(np.rot90(found_in.rgb, k))
        size = (found_in.height, found_in.width) if k % 2 else (found_in.width, found_in.height)
        upright = detect(rgb, scale=found_in.decode_scale, original_size=size)
        if upright and abs(upright[0].roll_deg) <= MAX_UPRIGHT_ROLL_DEG:
            return found_in, [_turned_back(f, k, found_in) for f in upright]
    return found_in, faces


def _turned_back(face: Face, k: int, image: LoadedImage) -> Face:
    """A face found in the photo turned by `k` quarter turns counter-clockwise (`np.rot90`),
    with its points back in the photo's own pixels."""
    w, h = image.width, image.height
    x, y = face.points[:, 0], face.points[:, 1]
    back = {1: (w - y, x), 2: (w - x, h - y), 3: (y, h - x)}[k]
    return replace(face, points=np.stack(back, axis=1), image_size=(w, h), turned_deg=90 * k)


def _detect_as_is(detect, image, loaded: LoadedImage, probe=None) -> tuple[LoadedImage, list[Face]]:
    work = working(loaded)
    faces = detect(work.rgb, scale=work.decode_scale, original_size=(work.width, work.height))
    small = not faces or faces[0].interpupil_px / work.decode_scale < FULL_RESOLUTION_BELOW_IPD_PX
    if work.decode_scale > 1 and small:
        full = loaded if loaded.decode_scale == 1 else read_image(image, reduce=False)
        full_faces = detect(full.rgb, scale=1.0, original_size=(full.width, full.height))
        if full_faces:
            return full, full_faces
    if len(faces) <= 1 and _room_beside(work.rgb, faces, work.decode_scale):
        found = _faces_in_windows(probe or detect, work)
        if len(found) > 1:
            return work, found  # measure_face says which: one clearly larger face, or several alike
        if found and not faces:
            x0, y0 = _window_of(work.rgb, found[0], work.decode_scale)
            side = min(work.rgb.shape[:2])
            faces = _shifted(detect(work.rgb[y0:y0 + side, x0:x0 + side], scale=work.decode_scale,
                                    original_size=(work.width, work.height)), x0, y0, work.decode_scale)
    if not faces and min(work.width, work.height) >= SMALL_FACE_SEARCH_FROM_PX:
        full = loaded if loaded.decode_scale == 1 else read_image(image, reduce=False)
        small_faces = _small_face_in_tiles(probe or detect, full)
        if small_faces:
            return full, small_faces
    return work, faces


def _small_face_in_tiles(detect, full: LoadedImage) -> list[Face]:
    """The first face found in `SMALL_FACE_TILE_PX` tiles of the full-resolution photo (points in
    the photo's pixels), or none. Stops at the first: it only has to tell a small face from none."""
    tile, step = SMALL_FACE_TILE_PX, SMALL_FACE_TILE_PX * 3 // 4
    h, w = full.rgb.shape[:2]
    for y0 in range(0, max(h - tile, 0) + step, step):
        for x0 in range(0, max(w - tile, 0) + step, step):
            crop = np.ascontiguousarray(full.rgb[y0:y0 + tile, x0:x0 + tile])
            faces = detect(crop, scale=1.0, original_size=(full.width, full.height))
            if faces:
                return _shifted(faces, x0, y0, 1.0)
    return []


def _room_beside(rgb: np.ndarray, faces: list[Face], scale: float) -> bool:
    h, w = rgb.shape[:2]
    if max(h, w) < WINDOW_ASPECT * min(h, w):
        return False
    if not faces:
        return True
    span = np.ptp(faces[0].points / scale, axis=0)
    return (span[0] / w if w >= h else span[1] / h) < WINDOW_BELOW_FACE_SHARE


def _windows(rgb: np.ndarray) -> list[tuple[int, int]]:
    """Top-left corners of square windows along the long side, overlapping by half."""
    h, w = rgb.shape[:2]
    side, long = min(h, w), max(h, w)
    starts = sorted({min(round(i * side / 2), long - side) for i in range(int(np.ceil(2 * long / side)))})
    return [(x, 0) for x in starts] if w >= h else [(0, y) for y in starts]


def _shifted(faces: list[Face], x0: int, y0: int, scale: float) -> list[Face]:
    return [replace(f, points=f.points + np.array([x0, y0]) * scale) for f in faces]


def _faces_in_windows(detect, work: LoadedImage) -> list[Face]:
    """The distinct faces found in `_windows` of the photo, largest first."""
    side = min(work.rgb.shape[:2])
    found: list[Face] = []
    for x0, y0 in _windows(work.rgb):
        for face in _shifted(detect(work.rgb[y0:y0 + side, x0:x0 + side], scale=work.decode_scale,
                                    original_size=(work.width, work.height)), x0, y0, work.decode_scale):
            centre = face.points[_PUPILS].mean(axis=0)
            if all(np.linalg.norm(centre - f.points[_PUPILS].mean(axis=0)) > f.interpupil_px for f in found):
                found.append(face)
    return sorted(found, key=lambda f: -f.interpupil_px)


def _window_of(rgb: np.ndarray, face: Face, scale: float) -> tuple[int, int]:
    """The window whose centre is nearest the face's (window px)."""
    side = min(rgb.shape[:2])
    centre = face.points[_PUPILS].mean(axis=0) / scale
    return min(_windows(rgb), key=lambda c: np.linalg.norm(np.array(c) + side / 2 - centre))
