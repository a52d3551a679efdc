"""The `symmetry` command: one small function per subcommand, around the library API."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _add_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        metavar="PATH",
        default=None,
        help="face landmarker .task file (default: $SYMMETRY_MODEL, else the model bundled in the package)",
    )


# ---------------------------------------------------------------- analyze
ANALYZE_EPILOG = """\
examples:
  symmetry analyze photo.jpg
  symmetry analyze before.jpg after.heic --overlay overlays/
  symmetry analyze *.jpg --json > results.json

Lengths are millimetres in the face frame (pupil line level, scale from the
iris); signed asymmetries are positive when the patient's RIGHT side is lower.
Exit status: 0 every photo measured, 1 some could not be, 2 usage error.
"""

TABLE_ROWS = (
    ("status", "status", ""),
    ("symmetry_index", "symmetry index (0-100)", ".0f"),
    ("mouth_droop_mm", "mouth droop, R lower + (mm)", "+.1f"),
    ("mouth_corner_height_right_mm", "  mouth corner below pupils, R (mm)", ".1f"),
    ("mouth_corner_height_left_mm", "  mouth corner below pupils, L (mm)", ".1f"),
    ("brow_asymmetry_mm", "brow asymmetry, R lower + (mm)", "+.1f"),
    ("brow_height_right_mm", "  brow above pupils, R (mm)", ".1f"),
    ("brow_height_left_mm", "  brow above pupils, L (mm)", ".1f"),
    ("eye_opening_ratio", "eye opening ratio (small/large)", ".2f"),
    ("eye_opening_right_mm", "  eye opening, R (mm)", ".1f"),
    ("eye_opening_left_mm", "  eye opening, L (mm)", ".1f"),
    ("interpupil_mm", "inter-pupil distance (mm)", ".1f"),
    ("yaw_deg", "head yaw / pitch / roll (deg)", None),
)


def _fmt(value, spec: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return format(value, spec) if spec else str(value)


def _table(rows: list[dict]) -> str:
    names = [Path(r["path"]).name or "(array)" for r in rows]
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
            cells = [_fmt(r[key], spec) for r in rows]
        lines.append(label.ljust(width) + "".join(c.rjust(col) for c in cells))
    for name, r in zip(names, rows):
        if r["message"]:
            lines.append(f"{name}: {r['message']}")
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    from PIL import Image

    from .analysis import analyze
    from .landmarks import Landmarker
    from .overlay import draw

    if args.overlay:
        Path(args.overlay).mkdir(parents=True, exist_ok=True)
    rows = []
    with Landmarker(args.model) as lm:
        for path in args.files:
            m = analyze(path, landmarker=lm)
            rows.append(m.to_dict())
            if args.overlay and m.face is not None:
                out = Path(args.overlay) / (Path(path).stem + "_overlay.png")
                Image.fromarray(draw(path, m)).save(out)
                print(f"overlay: {out}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=True).replace("NaN", "null"))
    else:
        print(_table(rows))
    return EXIT_OK if all(r["status"] == "ok" for r in rows) else EXIT_SOME_FAILED


def _add_analyze(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="measure one or more photos and print a table",
        description="Measure mouth, eye and brow asymmetry in millimetres in each photo.",
        epilog=ANALYZE_EPILOG,
        formatter_class=_Formatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="photos (JPEG, PNG, WebP, TIFF, BMP, HEIC)")
    p.add_argument("--json", action="store_true", help="print JSON (one object per photo) instead of a table")
    p.add_argument("--overlay", metavar="DIR", help="write an annotated overlay PNG per photo into DIR")
    _add_model_option(p)
    p.set_defaults(func=cmd_analyze)


# ---------------------------------------------------------------- main
SUBCOMMANDS = (_add_analyze,)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="symmetry",
        description=(
            "Measure facial symmetry in millimetres from photos and track recovery from "
            "facial palsy across massage sessions. Everything runs on this machine; "
            "nothing is uploaded or downloaded."
        ),
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"symmetry {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except FileNotFoundError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("symmetry: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
