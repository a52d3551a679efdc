"""Finding the photos of a batch: files and folders walked in a deterministic order.

Folders are walked recursively, skipping hidden files, non-images, the output
folder and symlink loops; each real file is found once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

from symmetry.photo.imageio import IMAGE_EXTENSIONS


class BatchError(Exception):
    """A batch cannot start or go on (nothing to score, output in use, foreign scores.csv). Usage error."""


@dataclass(frozen=True)
class Found:
    """One photo to score: its absolute path and the folder it was found under."""

    path: str
    root: str


@dataclass
class Discovery:
    images: list[Found]
    ignored: int = 0  # non-image and hidden files inside scanned folders
    notes: list[str] = field(default_factory=list)


def find_images(paths: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike] = ()) -> Discovery:
    """All photos under `paths`, sorted by path, each real file once.

    Folders are walked recursively, following symbolic links but never into a
    folder already walked (symlink loops and aliases); hidden files and folders
    (names starting with ".") and files without an image extension are skipped
    and counted. Files named directly are always included. Folders in `exclude`
    (the output folder) are not walked.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    disc = Discovery([])
    seen_files: dict[str, Found] = {}
    seen_dirs: set[str] = set()

    def add(path: str, root: str) -> None:
        real = os.path.realpath(path)
        if real not in seen_files or path < seen_files[real].path and seen_files[real].root == root:
            seen_files[real] = Found(path, root)

    for root in _roots(paths):
        if not os.path.isdir(root):
            add(root, os.path.dirname(root))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda e: disc.notes.append(
            f"cannot read folder {e.filename}: {e.strerror}"
        )):
            real = os.path.realpath(dirpath)
            if real in seen_dirs or real in excluded:
                if real in seen_dirs and os.path.islink(dirpath):
                    disc.notes.append(f"skipped {dirpath}: a link to a folder already scanned")
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            dirnames[:] = [d for d in sorted(dirnames) if not d.startswith(".")
                           and os.path.realpath(os.path.join(dirpath, d)) not in excluded]
            for name in sorted(filenames):
                if name.startswith(".") or os.path.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
                    disc.ignored += 1
                    continue
                add(os.path.join(dirpath, name), root)
    disc.images = sorted(seen_files.values(), key=lambda f: f.path)
    return disc


def _roots(paths: Iterable[str | os.PathLike]) -> list[str]:
    """The absolute paths, each once, outer folders first: a photo found twice keeps its widest
    context (the person folder)."""
    roots = []
    for p in paths:
        a = os.path.abspath(os.fspath(p))
        if not os.path.lexists(a):
            raise FileNotFoundError(f"{p}: no such file or folder")
        roots.append(a)
    return sorted(set(roots))
