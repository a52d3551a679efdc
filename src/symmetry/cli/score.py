"""`symmetry score`: every photo of folders into one scores table, in parallel and resumable."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option

NAME = "score"
HELP = "score every photo in folders into one table (parallel, resumable)"
DESCRIPTION = (
    "Measure every photo in folders and files into one table (scores.csv): "
    "in parallel, resumable after a crash, one row per photo even when it fails."
)
EPILOG = """\
examples:
  symmetry score sample_images/ --out results/
      every photo under sample_images/, one per core at a time; writes results/scores.csv
  symmetry score clients/ --out results/ --overlays --format json
      also an annotated JPEG per photo in results/overlays/ and results/scores.json
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
  overlays/    one annotated JPEG per photo with a face, NAME_overlay.jpg (with --overlays)

how photos are measured (--method auto, the default):
  Every photo on its own with "canonical" (six mirror-averaged landmark passes),
  as `symmetry analyze` does, so a photo gives the same numbers whatever else is
  in the folder. On real photos of real people it moves least with light and
  expression and spreads least between days; its asymmetries lean towards
  symmetric (about half of a mouth corner's displacement, a quarter of a brow's).
  --method tracked: each photo compared with the person's first photo of the
  same expression (rest with rest, smile with smile), registered to it and each
  feature tracked from it, where the photo's own landmarks bear the change out:
  the whole of a change on warps of one photo, but on real photos, even frames
  of one sitting, it spreads 1.4-5 times more than the default. The
  method and reference columns say which was used; a photo that could not be
  tracked says why in its message. Photos with no expression in their folder or
  file name get the one their face shows (expression_source = blendshapes).
  A flat folder of photos (no person folders) is taken as one person, named
  after the folder (--person NAME to name them), with a session per date.

Nothing under PATH is ever modified. A rerun into the same DIR skips photos
already scored with the same file content (SHA-256), model, version, method and
reference photo;
--force scores them again and replaces their rows and overlays. Hidden files,
non-images, DIR itself and symlink loops are skipped. One bad photo never stops
the batch: it gets a row with its status (unreadable, too_small, no_face,
multiple_faces, pose_out_of_range, implausible, uneven_light, error) and a message.
Ctrl-C stops within a second or two; the output stays valid; rerun to continue.

exit status: 0 every photo measured (status ok); 1 some photos could not be
measured (see their status and message); 2 usage error (bad option, missing
path, no photos found, bad manifest, DIR in use by another run); 130 stopped
by Ctrl-C (rerun the same command to continue).
"""


def run(args: argparse.Namespace) -> int:
    import signal

    from symmetry.batch.discover import BatchError
    from symmetry.batch.engine import run_batch
    from symmetry.batch.pool import default_jobs
    from symmetry.batch.labels import ManifestError

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
            person=args.person,
            force=args.force,
            overlays=args.overlays,
            json_out=args.format == "json",
            progress=not quiet and sys.stderr.isatty() or args.progress,
            log=None if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True)),
        )
    except (BatchError, ManifestError, FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError) as exc:
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
        + f"{r.found} photo{'s' if r.found != 1 else ''}: {r.scored} scored in {r.elapsed_s:.1f} s{rate}, "
        f"{r.skipped} already scored"
        + (f"; {r.ignored} other files ignored" if r.ignored else ""),
        "status: " + ", ".join(f"{k} {v}" for k, v in r.counts.items()),
        f"table: {r.csv_path} ({len(r.table) + r.kept_other_rows} row{'s' if len(r.table) + r.kept_other_rows != 1 else ''}"
        + (f", {r.kept_other_rows} from earlier runs on other photos" if r.kept_other_rows else "") + ")",
    ]
    if r.json_path:
        lines.append(f"json: {r.json_path}")
    guessed = r.table[r.table["expression_source"] == "blendshapes"] if "expression_source" in r.table else r.table[:0]
    if len(guessed):
        from symmetry.trends.table import expression_counts

        kinds = expression_counts(guessed["expression"])
        lines.append(f"expressions: {len(guessed)} photo{'s' if len(guessed) != 1 else ''} had no expression in "
                     f"their folder or file name; recognised from the face: {kinds} (column expression_source "
                     "= blendshapes). Name them rest.jpg, smile.jpg, ... to be sure.")
    if r.overlay_dir:
        lines.append(f"overlays: {r.overlay_dir}/ ({r.overlays_written} written)")
    bad = r.table[r.table["status"] != "ok"]
    for _, row in bad.head(10).iterrows():
        message = row["message"].removeprefix(os.path.basename(row["path"]) + ": ")  # the path says it already
        lines.append(f"  {row['status']}: {row['path']}: {message}")
    if len(bad) > 10:
        lines.append(f"  ... and {len(bad) - 10} more (see the status and message columns)")
    lines.extend(f"note: {n}" for n in r.notes[:10])
    if r.interrupted:
        lines.append("Run the same command again to score the rest.")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from symmetry.batch.plan import batch_methods

    p.add_argument("paths", nargs="+", metavar="PATH", help="photos and folders (searched recursively), e.g. clients/ or photo.jpg")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder for scores.csv (created if needed), e.g. --out results/")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="photos scored at the same time, one worker process each (default: all cores), e.g. --jobs 2")
    p.add_argument("--manifest", metavar="CSV", help="CSV giving person,date,phase,expression per path, e.g. --manifest anna.csv")
    p.add_argument("--overlays", action="store_true",
                   help="also write an annotated JPEG per photo into DIR/overlays/ (NAME_overlay.jpg)")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv (default): DIR/scores.csv only; json: also DIR/scores.json (scores.csv is always written: it is the crash-safe record)")
    p.add_argument("--force", action="store_true",
                   help="score every photo again, even those already in DIR/scores.csv, and overwrite their overlays")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster instead of local processes, e.g. --scheduler tcp://10.0.0.5:8786 "
                   "(needs pip install \"facial-symmetry[dask]\"; every worker must see the photos at the same paths)")
    p.add_argument("--method", choices=batch_methods(), default="auto",
                   help="auto (default): every photo measured on its own, as `symmetry analyze` does (canonical); "
                   "tracked: each photo tracked from the person's first photo of the same expression (sees the "
                   "whole of a change in warped test photos, but spreads more on real photos taken on different "
                   "days); or one single-photo method for every photo (part of the resume key)")
    p.add_argument("--person", metavar="NAME",
                   help="the person of every photo that no folder or manifest names (by default a flat folder "
                   "of photos, with no person folders, is taken as one person named after the folder)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or messages on stderr; only the summary")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is not a terminal")
    add_model_option(p)

