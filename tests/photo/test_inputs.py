"""Bad and unusual inputs: each gives a correct measurement or a specific status with advice."""

from __future__ import annotations

import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import symmetry
from symmetry.photo.imageio import ImageLoadError, decode_scale_for, load_image

from conftest import SAMPLE_FACES


@pytest.fixture(scope="module")
def face_jpeg(sample_rgb, tmp_path_factory):
    path = tmp_path_factory.mktemp("face") / "face.jpg"
    Image.fromarray(sample_rgb["grace_hopper"]).save(path, quality=95)
    return path


@pytest.fixture(scope="module")
def reference(face_jpeg):
    return symmetry.analyze(face_jpeg)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "name, make, status, advice",
    [
        ("empty.jpg", lambda p, face: p.write_bytes(b""), "unreadable", "empty"),
        ("truncated.jpg", lambda p, face: p.write_bytes(face.read_bytes()[:3000]), "unreadable", "again"),
        ("notes.jpg", lambda p, face: p.write_text("this is not a photo"), "unreadable", "JPEG, PNG"),
        ("dot.png", lambda p, face: Image.new("RGB", (1, 1)).save(p), "too_small", "at least"),
        ("bomb.png", lambda p, face: p.write_bytes(_png_header_only(30000, 30000)), "unreadable", "SYMMETRY_MAX_PIXELS"),
    ],
)
def test_broken_files_get_a_status_and_advice(tmp_path, face_jpeg, name, make, status, advice):
    path = tmp_path / name
    make(path, face_jpeg)
    m = symmetry.analyze(path)
    assert m.status == status
    assert advice in m.message
    assert np.isnan(m.mouth_droop_mm)
    with pytest.raises(ImageLoadError):
        load_image(path)


def test_missing_file_says_so(tmp_path):
    m = symmetry.analyze(tmp_path / "nope.jpg")
    assert m.status == "unreadable" and "no such file" in m.message


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "CMYK", "P"])
def test_pixel_formats_measure_like_rgb(tmp_path, sample_rgb, reference, mode):
    rgb = sample_rgb["grace_hopper"]
    if mode == "I;16":
        gray = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.uint16) * 257
        img, ext = Image.fromarray(gray), "png"
    elif mode == "RGBA":
        img, ext = Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])), "png"
    elif mode == "CMYK":
        img, ext = Image.fromarray(rgb).convert("CMYK"), "jpg"
    elif mode == "P":
        img, ext = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=256), "png"
    else:
        img, ext = Image.fromarray(rgb).convert(mode), "png"
    path = tmp_path / f"face_{mode.replace(';', '')}.{ext}"
    img.save(path, **({"quality": 95} if ext == "jpg" else {}))
    if mode == "I;16":
        assert Image.open(path).mode.startswith("I")
    loaded = load_image(path)
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape == rgb.shape
    m = symmetry.analyze(path)
    assert m.status == "ok", m.message
    assert abs(m.interpupil_mm - reference.interpupil_mm) / reference.interpupil_mm < 0.03
    assert abs(m.mouth_droop_mm - reference.mouth_droop_mm) < 0.5


def test_exif_orientation_6_is_applied(tmp_path, sample_rgb, reference):
    # Store the pixels rotated 90 degrees counter-clockwise and tag them "rotate 90 CW to view".
    stored = np.rot90(sample_rgb["grace_hopper"], 1)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, quality=95)
    loaded = load_image(path)
    assert (loaded.width, loaded.height) == (512, 600)
    m = symmetry.analyze(path)
    assert m.status == "ok"
    assert m.face.points[61, 0] < m.face.points[291, 0]
    assert abs(m.interpupil_mm - reference.interpupil_mm) < 1.5


@pytest.mark.slow
def test_heic_from_a_phone(tmp_path, sample_rgb, reference):
    path = tmp_path / "IMG_0001.HEIC"
    Image.fromarray(sample_rgb["grace_hopper"]).save(path, format="HEIF", quality=90)
    m = symmetry.analyze(path)
    assert m.status == "ok", m.message
    assert abs(m.interpupil_mm - reference.interpupil_mm) < 1.5


@pytest.mark.parametrize("ext, fmt", [("webp", "WEBP"), ("tiff", "TIFF"), ("bmp", "BMP")])
def test_other_formats(tmp_path, sample_rgb, ext, fmt):
    path = tmp_path / f"face.{ext}"
    Image.fromarray(sample_rgb["astronaut"]).save(path, format=fmt)
    assert symmetry.analyze(path).status == "ok"


def test_photo_without_a_face(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "wall.png"
    Image.fromarray((rng.random((400, 400, 3)) * 40 + 100).astype(np.uint8)).save(path)
    m = symmetry.analyze(path)
    assert m.status == "no_face" and "frontal" in m.message


def test_photo_with_two_faces(tmp_path, sample_rgb):
    a = sample_rgb["grace_hopper"]
    path = tmp_path / "two.png"
    Image.fromarray(np.hstack([a, a[:, ::-1]])).save(path)
    m = symmetry.analyze(path)
    assert m.status == "multiple_faces" and "Crop" in m.message


def test_non_ascii_file_name(tmp_path):
    folder = tmp_path / "Zoë Müller 患者"
    folder.mkdir()
    path = folder / "séance_1_sourire.jpg"
    shutil.copy(SAMPLE_FACES["grace_hopper"], path)
    m = symmetry.analyze(path)
    assert m.status == "ok" and m.path == str(path)


def test_array_input_must_be_rgb_uint8():
    with pytest.raises(ValueError, match="uint8"):
        symmetry.analyze(np.zeros((200, 200, 3), dtype=np.float32))
    with pytest.raises(TypeError):
        symmetry.analyze(12345)


def test_large_jpeg_is_decoded_reduced_with_coordinates_in_original_pixels(tmp_path, sample_rgb):
    import cv2

    big = cv2.resize(sample_rgb["grace_hopper"], (2560, 3000), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "big.jpg"
    Image.fromarray(big).save(path, quality=92)
    assert decode_scale_for(2560, 3000) == 2
    reduced = symmetry.analyze(path)
    full = symmetry.analyze(path, reduce=False)  # decoded in full, then measured at the same working size
    assert reduced.decode_scale == 2 and full.decode_scale == 2
    assert (reduced.width, reduced.height) == (2560, 3000)
    # Same landmarks whichever way the photo was decoded: within 0.5% of the inter-pupil distance.
    shift = np.linalg.norm(reduced.face.points - full.face.points, axis=1)
    assert shift.max() < 0.005 * full.face.interpupil_px, shift.max() / full.face.interpupil_px


@pytest.mark.slow
def test_small_face_in_a_big_photo_is_measured_at_full_resolution(tmp_path, sample_rgb):
    """Reduced decoding (1/4) would leave this face's pupils ~50 px apart: it is measured at full size."""
    import cv2

    face = sample_rgb["grace_hopper"]  # pupils ~84 px apart
    face = cv2.resize(face, None, fx=2.4, fy=2.4, interpolation=cv2.INTER_CUBIC)
    canvas = np.full((3000, 4000, 3), 180, np.uint8)
    canvas[900 : 900 + face.shape[0], 1400 : 1400 + face.shape[1]] = face
    path = tmp_path / "group_photo_distance.jpg"
    Image.fromarray(canvas).save(path, quality=92)
    assert decode_scale_for(4000, 3000) == 4
    m = symmetry.analyze(path)
    assert m.status == "ok", m.message
    assert m.decode_scale == 1  # measured from the full-resolution image
    full = symmetry.analyze(path, reduce=False)
    assert m.face.points == pytest.approx(full.face.points)


@pytest.mark.slow
def test_a_tiny_face_in_a_big_photo_is_too_small_not_missing(tmp_path, sample_rgb):
    """A face 40 px wide in a 12-megapixel photo: the whole-photo detector cannot see it, the tile
    search finds it, and the status says what is wrong (too small), not that there is no face."""
    import cv2

    face = sample_rgb["grace_hopper"]
    face = cv2.resize(face, (70, round(70 * face.shape[0] / face.shape[1])), interpolation=cv2.INTER_AREA)
    canvas = np.full((3000, 4000, 3), 180, np.uint8)
    canvas[1500 : 1500 + face.shape[0], 2000 : 2000 + face.shape[1]] = face
    path = tmp_path / "tiny_face.jpg"
    Image.fromarray(canvas).save(path, quality=92)
    m = symmetry.analyze(path)
    assert m.status == "too_small", (m.status, m.message)
    assert "pupils" in m.message and "Move closer" in m.message
    empty = tmp_path / "empty.jpg"
    Image.fromarray(np.full((3000, 4000, 3), 180, np.uint8)).save(empty, quality=92)
    assert symmetry.analyze(empty).status == "no_face"
