"""Overlays as files: draw on a photo file (the public `symmetry.draw`), name and write the JPEG.

The drawing itself is `overlay.draw` (arrays in, arrays out); this module is the thin
layer that reads and writes files around it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from symmetry.face.measures import Measurement
from symmetry.photo.imageio import load_image
from symmetry.photo import overlay

#: Overlays are JPEG files named after their photo: ``rest_1.jpg`` -> ``rest_1_overlay.jpg``.
OVERLAY_SUFFIX = "_overlay.jpg"


def draw(image: str | os.PathLike | np.ndarray, measurement: Measurement, crop: bool = True) -> np.ndarray:
    """Return an RGB uint8 overlay of `measurement` on `image` (a photo file or an RGB array).

    A file is read at full resolution (the landmarks are in its original pixels); see
    `symmetry.photo.overlay.draw` for what the overlay shows.
    """
    rgb = image if isinstance(image, np.ndarray) else load_image(image, reduce=False).rgb
    return overlay.draw(rgb, measurement, crop)


def overlay_name(photo: str | os.PathLike) -> str:
    """The overlay file name of a photo (the same in `symmetry analyze` and `symmetry score`)."""
    return Path(photo).stem + OVERLAY_SUFFIX


def save_overlay(rgb: np.ndarray, target: str | os.PathLike) -> None:
    """Write an overlay picture as JPEG, atomically (a reader never sees half a file)."""
    from PIL import Image

    tmp = f"{target}.{os.getpid()}.tmp"
    Image.fromarray(rgb).save(tmp, format="JPEG", quality=90)
    os.replace(tmp, target)
