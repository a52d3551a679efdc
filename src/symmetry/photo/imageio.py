"""Any image file -> 8-bit RGB numpy array, with clear errors.

Real photos arrive rotated by EXIF, as HEIC from phones, in 16-bit, CMYK or
with transparency, and sometimes broken. Everything here ends in one of two
outcomes: a `LoadedImage`, or an `ImageLoadError` whose message says what to do.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from symmetry.vocabulary import Status

try:  # HEIC/HEIF from phones; optional at import so a broken install still reads JPEGs
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pillow_heif = None

#: Above this many pixels a file is refused (decompression-bomb guard); override
#: with the SYMMETRY_MAX_PIXELS environment variable.
DEFAULT_MAX_PIXELS = 150_000_000
#: Photos are decoded at a reduced size (1/2, 1/4 or 1/8) when the long side
#: stays at or above this many pixels; see `decode_scale_for`.
REDUCED_DECODE_MIN_LONG_SIDE = 1000
#: Smallest image side that can hold a measurable face.
MIN_IMAGE_SIDE = 64

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".gif"}
)

# Pillow's own guard would only warn below 2x its limit; we check sizes ourselves.
Image.MAX_IMAGE_PIXELS = None


class ImageLoadError(ValueError):
    """The file could not be turned into an image. `status` is the output-contract status."""

    def __init__(self, message: str, status: str = Status.UNREADABLE):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LoadedImage:
    """An RGB uint8 array plus how it relates to the original file.

    `rgb` may be smaller than the file (reduced decoding); multiply its pixel
    coordinates by `decode_scale` to get original-image pixels.
    """

    rgb: np.ndarray
    width: int  # original width after EXIF rotation, px
    height: int  # original height after EXIF rotation, px
    decode_scale: int = 1


def max_pixels() -> int:
    return int(os.environ.get("SYMMETRY_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def decode_scale_for(width: int, height: int) -> int:
    """The one fixed rule for reduced decoding: the largest of 1, 2, 4, 8 that keeps
    the long side at or above `REDUCED_DECODE_MIN_LONG_SIDE` pixels."""
    long_side = max(width, height)
    scale = 1
    for s in (2, 4, 8):
        if long_side / s >= REDUCED_DECODE_MIN_LONG_SIDE:
            scale = s
    return scale


def load_image(path: str | os.PathLike, *, reduce: bool = True) -> LoadedImage:
    """Read an image file as 8-bit RGB with EXIF orientation applied.

    Args:
        path: JPEG, PNG, WebP, TIFF, BMP, HEIC or GIF (its first frame) file.
        reduce: decode large photos at 1/2, 1/4 or 1/8 size (see `decode_scale_for`).

    Raises:
        ImageLoadError: missing, empty, truncated, not an image, too large or too small.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageLoadError(f"{path} is a folder, not a photo. To measure every photo in it: "
                             f"symmetry score {path} --out results/")
    if not path.is_file():
        raise ImageLoadError(f"{path}: no such file. Check the path.")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{path.name}: the file is empty (0 bytes). Copy the photo again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                return _decode(img, path.name, reduce)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(
            f"{path.name}: not a readable image. Use JPEG, PNG, WebP, TIFF, BMP or HEIC."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        hint = "the file is truncated or damaged" if "truncat" in str(exc).lower() else str(exc)
        raise ImageLoadError(
            f"{path.name}: could not decode the image ({hint}). Copy or export the photo again."
        ) from None


def _decode(img: Image.Image, name: str, reduce: bool) -> LoadedImage:
    width, height = img.size
    if width * height > max_pixels():
        raise ImageLoadError(
            f"{name}: {width}x{height} pixels is above the limit of {max_pixels():,} pixels "
            "(a guard against decompression bombs). Downscale the photo, or raise "
            "SYMMETRY_MAX_PIXELS if you trust the file.",
            status=Status.UNREADABLE,
        )
    orientation = _exif_orientation(img)
    scale = decode_scale_for(width, height) if reduce else 1
    if scale > 1 and img.format == "JPEG":
        # DCT-domain scaling: decodes several times faster than the full image.
        img.draft("RGB", (width // scale, height // scale))
        drafted = img.size
        scale = round(width / drafted[0]) if drafted[0] else 1
    img.load()
    if orientation != 1:
        img = ImageOps.exif_transpose(img)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    rgb = _to_rgb8(img)
    if scale > 1 and rgb.shape[1] * scale > width * 1.01:
        # Formats without draft decoding are reduced after loading, with area averaging.
        import cv2

        rgb = cv2.resize(
            rgb, (round(width / scale), round(height / scale)), interpolation=cv2.INTER_AREA
        )
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageLoadError(
            f"{name}: the image is only {width}x{height} pixels; a face needs at least "
            f"{MIN_IMAGE_SIDE} pixels on each side. Use the original photo.",
            status=Status.TOO_SMALL,
        )
    return LoadedImage(np.ascontiguousarray(rgb), width, height, scale)


def _exif_orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # a broken EXIF block must not cost the photo
        return 1


def read_exif_datetime(photo: str | os.PathLike | BinaryIO) -> str | None:
    """The photo's EXIF DateTimeOriginal (else DateTime) string, or None. Reads the header only.

    `photo` is a file path or the file's bytes as a binary stream (``io.BytesIO(data)``).
    """
    try:
        with Image.open(photo) as img:
            exif = img.getexif()
            value = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    except Exception:  # unreadable files get their status from analyze(); no date here
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    text = str(value).strip().strip("\x00").strip() if value else ""
    return text or None


def _to_rgb8(img: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to 8-bit RGB; transparency is composited on white."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        g = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img)


def as_rgb_array(image: np.ndarray) -> np.ndarray:
    """Validate an in-memory image: HxWx3 RGB uint8 (grayscale HxW is expanded).

    Raises:
        ValueError: wrong shape or dtype (a programming error, not a bad photo).
        ImageLoadError: the image is too small to hold a face.
    """
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 RGB array, got shape {a.shape}")
    if a.shape[2] == 4:
        a = a[:, :, :3]
    if a.dtype != np.uint8:
        raise ValueError(f"expected a uint8 RGB array, got dtype {a.dtype}; convert with .astype(np.uint8)")
    if min(a.shape[:2]) < MIN_IMAGE_SIDE:
        raise ImageLoadError(
            f"the image is only {a.shape[1]}x{a.shape[0]} pixels; a face needs at least "
            f"{MIN_IMAGE_SIDE} pixels on each side.",
            status=Status.TOO_SMALL,
        )
    return np.ascontiguousarray(a)


def read_image(image: str | os.PathLike | np.ndarray, *, reduce: bool = True) -> LoadedImage:
    """A photo given as a file path (`load_image`) or as an RGB uint8 array (`as_rgb_array`).

    Raises:
        ImageLoadError: the file cannot be read, or the image is too small.
        TypeError: neither a path nor an array.
    """
    if isinstance(image, np.ndarray):
        rgb = as_rgb_array(image)
        return LoadedImage(rgb, rgb.shape[1], rgb.shape[0])
    if isinstance(image, (str, os.PathLike)):
        return load_image(Path(image), reduce=reduce)
    raise TypeError(f"analyze() takes a file path or an RGB uint8 array, not {type(image).__name__}")
