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


# ---------------------------------------------------------------- score
SCORE_EPILOG = """\
examples:
  symmetry score sample_images/ --out results/
      every photo under sample_images/, one per core at a time; writes results/scores.csv
  symmetry score clients/ --out results/ --overlays --format json
      also an annotated PNG per photo in results/overlays/ and results/scores.json
  symmetry score clients/anna/ --manifest anna.csv --out results/
      person/date/phase/expression from anna.csv where given
  symmetry score clients/ --out results/              (again, after a crash or Ctrl-C)
      skips the photos already in results/scores.csv and scores the rest
  symmetry score /data/study/ --out results/ --scheduler tcp://10.0.0.5:8786
      runs on a Dask cluster (pip install "facial-symmetry[dask]")

where person, date, phase and expression come from, first source wins:
  1. --manifest CSV: columns path,person,date,phase,expression (empty cell = ask
     the next source; relative paths are relative to the manifest's folder)
  2. folders: PERSON/YYYY-MM-DD[_pre|_post]/EXPRESSION.jpg, as `symmetry capture`
     writes them; without a dated folder, the first folder under PATH is the
     person and "pre"/"post"/"before"/"after" in a folder name the phase
  3. file name: expression keywords (rest, brow, eyes_closed, tight, smile,
     smile_open, pucker, eee, snarl, ...), pre/post/before/after, a date
     (IMG_20240301_...)
  4. the photo's EXIF DateTimeOriginal (date only)
  5. the file's modification time (date only)
  The columns person_source, date_source, phase_source and expression_source say
  which one gave each value.

output (in --out DIR):
  scores.csv   one row per photo: the measures of `symmetry analyze` (mm), status
               and message, then the *_source columns, exif_datetime, file_sha256
               and overlay. Rows are appended as photos finish (a crash or kill
               leaves a valid file with every finished row) and sorted by path at
               the end. Photos of earlier runs that are not in this run stay.
  scores.json  the same rows as JSON (with --format json)
  overlays/    one annotated PNG per photo with a face (with --overlays)

Nothing under PATH is ever modified. A rerun into the same DIR skips photos
already scored with the same file content (SHA-256), model, version and method;
--force scores them again and replaces their rows and overlays. Hidden files,
non-images, DIR itself and symlink loops are skipped. One bad photo never stops
the batch: it gets a row with its status (unreadable, too_small, no_face,
multiple_faces, pose_out_of_range, error) and a message.
Ctrl-C stops within a second or two; the output stays valid; rerun to continue.

exit status: 0 every photo measured (status ok); 1 some photos could not be
measured (see their status and message); 2 usage error (bad option, missing
path, no photos found, bad manifest, DIR in use by another run); 130 stopped
by Ctrl-C (rerun the same command to continue).
"""


def cmd_score(args: argparse.Namespace) -> int:
    import signal

    from .batch import BatchError, default_jobs, run_batch
    from .sessions import ManifestError

    if args.jobs is not None and args.jobs < 1:
        print("symmetry: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.manifest and not Path(args.manifest).is_file():
        print(f"symmetry: manifest {args.manifest} not found", file=sys.stderr)
        return EXIT_USAGE

    def terminate(signum, frame):  # a `kill` (SIGTERM) stops as cleanly as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    quiet = args.quiet
    try:
        result = run_batch(
            args.paths,
            args.out,
            jobs=args.jobs or default_jobs(),
            scheduler=args.scheduler,
            manifest=args.manifest,
            model=args.model,
            method=args.method,
            force=args.force,
            overlays=args.overlays,
            json_out=args.format == "json",
            progress=not quiet and sys.stderr.isatty() or args.progress,
            log=None if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True)),
        )
    except (BatchError, ManifestError) as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(_score_summary(result))
    if result.interrupted:
        return 130
    return EXIT_OK if result.all_ok else EXIT_SOME_FAILED


def _score_summary(r) -> str:
    rate = f" ({r.scored / r.elapsed_s:.1f} photos/s, {r.workers} worker{'s' if r.workers != 1 else ''})" if r.scored else ""
    lines = [
        ("interrupted: " if r.interrupted else "")
        + f"{r.found} photos: {r.scored} scored in {r.elapsed_s:.1f} s{rate}, {r.skipped} already scored"
        + (f"; {r.ignored} other files ignored" if r.ignored else ""),
        "status: " + ", ".join(f"{k} {v}" for k, v in r.counts.items()),
        f"table: {r.csv_path} ({len(r.table) + r.kept_other_rows} rows"
        + (f", {r.kept_other_rows} from earlier runs on other photos" if r.kept_other_rows else "") + ")",
    ]
    if r.json_path:
        lines.append(f"json: {r.json_path}")
    if r.overlay_dir:
        lines.append(f"overlays: {r.overlay_dir}/ ({r.overlays_written} written)")
    bad = r.table[r.table["status"] != "ok"]
    for _, row in bad.head(10).iterrows():
        lines.append(f"  {row['status']}: {row['path']}: {row['message']}")
    if len(bad) > 10:
        lines.append(f"  ... and {len(bad) - 10} more (see the status and message columns)")
    lines.extend(f"note: {n}" for n in r.notes[:10])
    if r.interrupted:
        lines.append("Run the same command again to score the rest.")
    return "\n".join(lines)


def _add_score(sub) -> None:
    from .analysis import METHODS

    p = sub.add_parser(
        "score",
        help="score every photo in folders into one table (parallel, resumable)",
        description=(
            "Measure every photo in folders and files into one table (scores.csv): "
            "in parallel, resumable after a crash, one row per photo even when it fails."
        ),
        epilog=SCORE_EPILOG,
        # Defaults are written into each help text (argparse's "(default: None)" says nothing).
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos and folders (searched recursively), e.g. clients/ or photo.jpg")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder for scores.csv (created if needed), e.g. --out results/")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="photos scored at the same time, one worker process each (default: all cores), e.g. --jobs 2")
    p.add_argument("--manifest", metavar="CSV", help="CSV giving person,date,phase,expression per path, e.g. --manifest anna.csv")
    p.add_argument("--overlays", action="store_true", help="also write an annotated PNG per photo into DIR/overlays/")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv (default): DIR/scores.csv only; json: also DIR/scores.json (scores.csv is always written: it is the crash-safe record)")
    p.add_argument("--force", action="store_true",
                   help="score every photo again, even those already in DIR/scores.csv, and overwrite their overlays")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster instead of local processes, e.g. --scheduler tcp://10.0.0.5:8786 "
                   "(needs pip install \"facial-symmetry[dask]\"; every worker must see the photos at the same paths)")
    p.add_argument("--method", choices=sorted(METHODS), default="canonical",
                   help="landmark method, as in `symmetry analyze` (default: canonical; part of the resume key)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages on stderr; only the summary")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is not a terminal")
    _add_model_option(p)
    p.set_defaults(func=cmd_score)


# ---------------------------------------------------------------- main
SUBCOMMANDS = (_add_analyze, _add_score)


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
