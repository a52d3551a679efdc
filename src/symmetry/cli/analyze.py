"""`symmetry analyze`: measure photos and print a table (or JSON)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option, fmt

NAME = "analyze"
HELP = "measure one or more photos and print a table"
DESCRIPTION = "Measure mouth, eye and brow asymmetry in millimetres in each photo."
EPILOG = """\
examples:
  symmetry analyze photo.jpg
  symmetry analyze before.jpg after.heic --overlay overlays/
  symmetry analyze *.jpg --json > results.json
  symmetry analyze week1_rest.jpg week6_rest.jpg --reference week1_rest.jpg
      week 6 measured as week 1 plus the change tracked from week 1's photo
      (method "tracked": the most accurate way to see change; same person only)

Lengths are millimetres in the face frame (pupil line level, scale from the
iris); signed asymmetries are positive when the patient's RIGHT side is lower.
Exit status: 0 every photo measured, 1 some could not be, 2 usage error.
"""

def _sides(stem: str, label: str) -> tuple[tuple[str, str, str], ...]:
    """The indented right and left rows of a one-side measure in mm."""
    return tuple((f"{stem}_{side}_mm", f"  {label}, {side[0].upper()} (mm)", ".1f") for side in ("right", "left"))


#: (column, label, number format) of the table `analyze` prints; None: written by hand.
TABLE_ROWS = (
    ("status", "status", ""),
    ("symmetry_index", "symmetry index (0-100)", ".0f"),
    ("mouth_droop_mm", "mouth droop, R lower + (mm)", "+.1f"),
    *_sides("mouth_corner_height", "mouth corner below pupils"),
    ("brow_asymmetry_mm", "brow asymmetry, R lower + (mm)", "+.1f"),
    *_sides("brow_height", "brow above pupils"),
    ("eye_opening_ratio", "eye opening ratio (small/large)", ".2f"),
    *_sides("eye_opening", "eye opening"),
    ("interpupil_mm", "inter-pupil distance (mm)", ".1f"),
    ("yaw_deg", "head yaw / pitch / roll (deg)", None),
)


def _table(rows: list[dict]) -> str:
    names = [Path(r["path"]).name or "(array)" for r in rows]
    if len(set(names)) < len(names):  # same file names in different folders: show the folder too
        names = [str(Path(*Path(r["path"]).parts[-2:])) if r["path"] else "(array)" for r in rows]
    width = max(len(label) for _, label, _ in TABLE_ROWS) + 2
    col = max([12] + [len(n) + 2 for n in names])
    lines = [" " * width + "".join(n.rjust(col) for n in names)]
    for key, label, spec in TABLE_ROWS:
        if spec is None:
            cells = [
                "-" if math.isnan(r["yaw_deg"]) else f"{r['yaw_deg']:.0f}/{r['pitch_deg']:.0f}/{r['roll_deg']:.0f}"
                for r in rows
            ]
        else:
            cells = [fmt(r[key], spec) for r in rows]
        lines.append(label.ljust(width) + "".join(c.rjust(col) for c in cells))
    for name, r in zip(names, rows):
        if r["message"]:
            lines.append(f"{name}: {r['message']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from symmetry.photo.analysis import analyze, prepare_reference
    from symmetry.face.landmarks import Landmarker
    from symmetry.photo.overlay_files import draw, overlay_name, save_overlay

    if args.method == "tracked" and not args.reference:
        print("symmetry analyze: --method tracked needs --reference PHOTO (a photo of the same person)", file=sys.stderr)
        return EXIT_USAGE
    if args.overlay:
        Path(args.overlay).mkdir(parents=True, exist_ok=True)
    rows = []
    with Landmarker(args.model) as lm:
        reference = None
        if args.reference:
            try:
                reference = prepare_reference(args.reference, landmarker=lm, interpupil_mm=args.interpupil_mm)
            except ValueError as exc:
                print(f"symmetry analyze: {exc}", file=sys.stderr)
                return EXIT_USAGE
        for path in args.files:
            m = analyze(path, landmarker=lm, method=args.method, reference=reference, interpupil_mm=args.interpupil_mm)
            rows.append(m.to_dict())
            if args.overlay and m.face is not None:
                out = Path(args.overlay) / overlay_name(path)
                save_overlay(draw(path, m), out)
                print(f"overlay: {out}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=True).replace("NaN", "null"))
    else:
        print(_table(rows))
    return EXIT_OK if all(r["status"] == "ok" for r in rows) else EXIT_SOME_FAILED


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="photos (JPEG, PNG, WebP, TIFF, BMP, HEIC, GIF: its first frame)")
    p.add_argument("--json", action="store_true", help="print JSON (one object per photo) instead of a table")
    p.add_argument("--overlay", metavar="DIR", help="write an annotated overlay per photo into DIR (NAME_overlay.jpg)")
    p.add_argument(
        "--method",
        choices=("auto", "canonical", "mirrored", "balanced", "landmarks", "tracked"),
        default="auto",
        help="auto: tracked with --reference, else canonical (six mirror-averaged landmark passes: the "
        "single-photo reading least moved by rotation, scale, re-encoding and light, as `symmetry score` "
        "measures; its asymmetries are lower "
        "bounds); mirrored: one landmark pass, mouth and brow asymmetry read from the image by finding "
        "each side's mirror image on the other side, as `symmetry score --method tracked` measures a "
        "reference photo (about 1.5 raw passes); balanced: mouth and brow read as the counter-warp that makes the face "
        "look symmetric to the model (about 0.4 s a photo); landmarks: one raw MediaPipe pass, for "
        "comparison (see docs/measurements.md)",
    )
    p.add_argument(
        "--reference",
        metavar="PHOTO",
        help="a photo of the same person (ideally the same expression) to measure change against, e.g. the first session's rest photo",
    )
    p.add_argument(
        "--interpupil-mm",
        type=float,
        metavar="MM",
        help="the person's calibrated inter-pupil distance; sets the mm scale (use it for closed or squinting eyes)",
    )
    add_model_option(p)

