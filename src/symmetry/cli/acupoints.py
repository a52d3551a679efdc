"""`symmetry acupoints`: the massage points on each photo's face, a picture and a printable guide."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option

NAME = "acupoints"
HELP = "massage points and kneading areas on each photo's face; picture and printable guide"
DESCRIPTION = (
    "Place the acupoints of facial-palsy massage on the face in each photo (from its "
    "landmarks and the face's own proportions), and write an annotated picture and a one-page guide."
)
EPILOG = """\
examples:
  symmetry acupoints photo.jpg
  symmetry acupoints anna_rest.jpg --out guide/ --weak-side left
  symmetry acupoints *.jpg --json > points.json

Writes into OUT, per photo: NAME_acupoints.jpg (the points, their names and the
kneading areas on the face) and NAME_guide.html (a one-page A4 guide to print:
points, areas, the massage sequence, care and safety notes).
--json prints per photo {"path", "status", "message", "points": [{"code",
"name", "side", "x_px", "y_px", "x_mm", "y_mm", "radius_mm"}]}: px in the
original photo, mm in the face frame (origin between the pupils, x towards the
patient's left, y down the face). Left and right are the patient's own sides.
The points are approximate (docs/massage.md); massage complements medical care.
Exit status: 0 every photo has its points, 1 some have none, 2 usage error.
"""


def run(args: argparse.Namespace) -> int:
    from symmetry.face.landmarks import Landmarker
    from symmetry.massage.photo import locate
    from symmetry.massage.sequence import DEFAULT, SequenceError, load_sequence

    try:
        sequence = load_sequence(args.sequence) if args.sequence else DEFAULT
    except SequenceError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, used = [], set()
    with Landmarker(args.model) as lm:
        for path in args.photos:
            found = locate(path, landmarker=lm)
            results.append(found.to_dict())
            if found.ok and not args.no_files:
                for written in _write_files(found, out, _stem(path, used), args, sequence):
                    print(f"{written}", file=sys.stderr if args.json else sys.stdout)
            elif not found.ok:
                print(f"{path}: {found.status}: {found.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    return EXIT_OK if all(r["status"] == "ok" for r in results) else EXIT_SOME_FAILED


def _stem(path: str, used: set[str]) -> str:
    """The photo's file name without suffix, made unique within this run."""
    stem, n = Path(path).stem, 1
    name = stem
    while name in used:
        n += 1
        name = f"{stem}_{n}"
    used.add(name)
    return name


def _write_files(found, out: Path, stem: str, args, sequence) -> list[Path]:
    from symmetry.massage.areas import kneading_areas
    from symmetry.massage.figure import acupoint_figure, save_figure
    from symmetry.massage.guide import write_guide
    from symmetry.photo.imageio import load_image

    loaded = load_image(found.path)
    scale = loaded.decode_scale
    amap = _scaled(found.points, 1.0 / scale)
    side, reason = _weak(found, args.weak_side)
    areas = kneading_areas(found.measurement.face.points / scale, side)
    title = args.person or Path(found.path).name
    picture = save_figure(acupoint_figure(loaded.rgb, amap, areas, title=title), out / f"{stem}_acupoints.jpg")
    guide = write_guide(out / f"{stem}_guide.html", loaded.rgb, amap, areas, title=title, sequence=sequence,
                        weak_side=side, weak_reason=reason)
    return [picture, guide]


def _weak(found, choice: str) -> tuple[str | None, str]:
    if choice in ("right", "left"):
        return choice, "as given"
    if choice == "none":
        return None, ""
    return found.weak_side, found.weak_reason


def _scaled(amap, k: float):
    """The same points in pixels of an image `k` times the size (a reduced decode)."""
    from dataclasses import replace

    return replace(amap, points=tuple(replace(p, x_px=p.x_px * k, y_px=p.y_px * k) for p in amap.points),
                   frame=replace(amap.frame, origin=amap.frame.origin * k, mm_per_px=amap.frame.mm_per_px / k))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photos of a face looking at the camera, e.g. rest.jpg")
    p.add_argument("--json", action="store_true", help="print the points as JSON (one object per photo)")
    p.add_argument("--out", "-o", default=".", metavar="DIR", help="folder for the pictures and guides (created)")
    p.add_argument("--no-files", action="store_true", help="write no picture or guide (with --json: the points only)")
    p.add_argument("--weak-side", choices=("auto", "right", "left", "none"), default="auto",
                   help="side whose kneading areas are emphasised (auto: from the photo's resting droop, when clear)")
    p.add_argument("--person", metavar="NAME", help="name for the guide's title (default: the photo's file name)")
    p.add_argument("--sequence", metavar="FILE",
                   help="massage sequence for the guide (TOML or JSON; default: built in)")
    add_model_option(p)
