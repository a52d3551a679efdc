"""The `symmetry` command: one small function per subcommand, around the library API."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from symmetry.face.landmarks import ModelError

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; a default shown only where it tells something."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, False, "", argparse.SUPPRESS) or action.nargs == 0:
            return text
        return text + " (default: %(default)s)"


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
  symmetry analyze week1_rest.jpg week6_rest.jpg --reference week1_rest.jpg
      week 6 measured as week 1 plus the change tracked from week 1's photo
      (method "tracked": the most accurate way to see change; same person only)

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
    if not spec:
        return str(value)
    text = format(value, spec)
    return format(0.0, spec.lstrip("+")) if isinstance(value, float) and float(text) == 0 else text  # no "-0.0"


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
            cells = [_fmt(r[key], spec) for r in rows]
        lines.append(label.ljust(width) + "".join(c.rjust(col) for c in cells))
    for name, r in zip(names, rows):
        if r["message"]:
            lines.append(f"{name}: {r['message']}")
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    from symmetry.photo.analysis import analyze, prepare_reference
    from symmetry.face.landmarks import Landmarker
    from symmetry.render.overlay import draw, overlay_name, save_overlay

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


def _add_analyze(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="measure one or more photos and print a table",
        description="Measure mouth, eye and brow asymmetry in millimetres in each photo.",
        epilog=ANALYZE_EPILOG,
        formatter_class=_Formatter,
    )
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
    _add_model_option(p)
    p.set_defaults(func=cmd_analyze)


# ---------------------------------------------------------------- score
SCORE_EPILOG = """\
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
  the whole of a change in a fixed set-up, but more spread between days. The
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


def cmd_score(args: argparse.Namespace) -> int:
    import signal

    from symmetry.batch.engine import BatchError, default_jobs, run_batch
    from symmetry.batch.sessions import ManifestError

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


def _add_score(sub) -> None:
    from symmetry.batch.engine import batch_methods

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
    _add_model_option(p)
    p.set_defaults(func=cmd_score)


# ---------------------------------------------------------------- capture
CAPTURE_EPILOG = """\
examples:
  symmetry capture --person anna --phase pre            # webcam 0, window, guided protocol
  symmetry capture --person anna --phase post --source 1
  symmetry capture --person anna --source visit.mp4     # play a recording in the window
  symmetry capture --person anna --source visit.mp4 --headless   # no window: detect expressions

The protocol: rest, brow raise, gentle eye closure, tight eye closure, big smile,
pucker. Each starts with an instruction and a countdown; then the best frames
(face large and level, held still, even light, expression visible) are taken
automatically. Keys: space captures now, r redoes, s skips, q quits (what was
captured is kept). The preview is mirrored; saved photos never are.

Saved to OUT/PERSON/YYYY-MM-DD[_pre|_post]/EXPRESSION_N.jpg with session.json
(settings, pose, quality, chosen frames, versions) and scores.csv, then
compared with the person's previous session in OUT.
Exit status: 0 every expression captured, 1 some not captured or the camera
failed (what was captured is saved), 2 usage error.
"""


def _source_arg(text: str):
    return int(text) if text.strip().isdigit() else text


def _print_session(saved, results) -> None:
    from symmetry.capture.recording import format_comparison

    print(f"saved {saved.n_files} photo(s) to {saved.folder}")
    for expr, r in results.items():
        names = ", ".join(p.name for p in saved.files.get(expr, []))
        line = f"  {expr:<20} {r.status:<12} {names}"
        if r.reason:
            line += f"  ({r.reason})"
        print(line)
    print(f"session: {saved.json_path}")
    if saved.scores:
        print(f"scores: {saved.folder / 'scores.csv'}   scale: {saved.calibration.get('source', '')}")
    if saved.comparison is not None and len(saved.comparison):
        print()
        print("\n".join(format_comparison(saved.comparison, saved.previous.name if saved.previous else None)))


def cmd_capture(args: argparse.Namespace) -> int:
    import datetime as dt
    import os

    from symmetry.capture.protocol import CaptureProtocol, ProtocolSettings
    from symmetry.capture.recording import _settings_doc, capture_from_video, finish_session, save_session, session_folder
    from symmetry.capture.video import VideoError

    source = _source_arg(args.source)
    date = args.date or dt.date.today().isoformat()
    try:
        session_folder(args.out, args.person, date, args.phase or "")
    except ValueError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.frames < 1:
        print("symmetry: --frames must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.headless:
        if isinstance(source, int):
            print("symmetry: --headless needs a video file as --source (a camera needs the window)", file=sys.stderr)
            return EXIT_USAGE
        if not Path(source).is_file():
            print(f"symmetry: video file not found: {source}", file=sys.stderr)
            return EXIT_USAGE
        try:
            saved, va = capture_from_video(
                source, args.out, args.person, date, args.phase or "", frames_per_expression=args.frames,
                model=args.model, progress=sys.stderr.isatty(),
            )
        except VideoError as exc:
            print(f"symmetry: {exc}", file=sys.stderr)
            return EXIT_SOME_FAILED
        results = va.results
        if va.decode_note:
            print(f"warning: {va.decode_note}", file=sys.stderr)
    else:
        from symmetry.capture import live
        from symmetry.face.landmarks import Landmarker

        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            print("symmetry: no display for the capture window (DISPLAY is not set); "
                  "record a video and use --headless --source FILE", file=sys.stderr)
            return EXIT_USAGE
        settings = ProtocolSettings(
            frames_per_expression=args.frames, countdown_s=args.countdown, max_hold_s=args.hold,
        )
        try:
            src = live.FileSource(source) if isinstance(source, str) else live.CameraSource(source, args.width, args.height)
        except (live.CameraError, VideoError) as exc:
            print(f"symmetry: {exc}", file=sys.stderr)
            return EXIT_SOME_FAILED
        protocol = CaptureProtocol(settings=settings)
        stats = None
        try:
            live.open_window()
            with Landmarker(args.model, mode="video") as lm:
                stats = live.run_loop(src, protocol, lm, mirror=not args.no_mirror)
        except KeyboardInterrupt:
            protocol.stop("interrupted (Ctrl-C)")
        finally:
            src.close()
        results = protocol.results
        size = None
        for r in results.values():
            for c in r.frames:
                size = [int(c.payload.shape[1]), int(c.payload.shape[0])]
        info = {
            "mode": "live",
            "source": src.describe(),
            "frame_size": size,
            "fps_source": getattr(src, "fps", None),
            "stop_reason": protocol.stop_reason,
            "loop": {"frames_processed": stats.processed, "frames_dropped": stats.dropped,
                     "fps": stats.fps} if stats else None,
            "mirrored_preview": not args.no_mirror,
            "model": args.model,
            "settings": _settings_doc(args.frames, settings.min_gap_s, countdown_s=settings.countdown_s,
                                      max_hold_s=settings.max_hold_s, min_hold_s=settings.min_hold_s),
        }
        saved = save_session(args.out, args.person, date, args.phase or "", results, info)
        if protocol.stop_reason not in ("completed",):
            print(f"stopped: {protocol.stop_reason}", file=sys.stderr)
    if not args.no_score:
        if saved.n_files:
            print("scoring the session...", file=sys.stderr, flush=True)
        finish_session(saved, model=args.model)
    _print_session(saved, results)
    window_gone = not args.headless and results and protocol.stop_reason == "window closed"
    if not args.headless and not args.no_summary and not window_gone:
        from symmetry.capture import live
        from symmetry.capture.recording import comparison_cells

        lines = [f"{e.replace('_', ' ')}: {r.status.replace('_', ' ')}" + (f", {len(r.frames)} frames" if r.frames else "")
                 for e, r in results.items()]
        table, notes = [], []
        if saved.comparison is not None and len(saved.comparison):
            table, notes = comparison_cells(saved.comparison, saved.previous.name if saved.previous else None)
        shape = next((c.payload.shape for r in results.values() for c in r.frames), (480, 640, 3))
        screen = live.draw_summary(f"Saved: {saved.folder.parent.name}/{saved.folder.name}", lines, table, notes, (shape[1], shape[0]))
        live.show_until_key(screen)
    if not args.headless:
        from symmetry.capture import live

        live.close_window()
    if saved.n_files == 0:
        return EXIT_SOME_FAILED
    return EXIT_OK if all(r.status == "captured" for r in results.values()) else EXIT_SOME_FAILED


def _add_capture(sub) -> None:
    p = sub.add_parser(
        "capture",
        help="guided webcam capture of a session (or from a video file), saved and scored",
        description="Guide a person through the expression protocol with the webcam, take the best "
        "frames automatically, save them in the session layout and score them.",
        epilog=CAPTURE_EPILOG,
        formatter_class=_Formatter,
    )
    p.add_argument("--person", required=True, help="the person's name or code (a folder name), e.g. --person anna")
    p.add_argument("--phase", choices=("pre", "post"), default="",
                   help="before or after the massage (part of the folder name; none: the folder is just the date)")
    p.add_argument("--source", default="0", metavar="0|FILE", help="webcam index, or a video file")
    p.add_argument("--out", default="sessions", metavar="DIR", help="where sessions are saved (OUT/PERSON/DATE_PHASE/)")
    p.add_argument("--headless", action="store_true",
                   help="no window: find the expressions in the video file by their blendshapes and pick the best frames")
    import datetime as dt

    p.add_argument("--date", metavar="YYYY-MM-DD", default=dt.date.today().isoformat(), help="session date")
    p.add_argument("--frames", type=int, default=3, metavar="N", help="frames kept per expression (for repeatability)")
    p.add_argument("--countdown", type=float, default=3.0, metavar="S", help="seconds of countdown before each expression")
    p.add_argument("--hold", type=float, default=12.0, metavar="S",
                   help="longest wait for good frames of one expression before it is marked not found")
    p.add_argument("--width", type=int, default=1280, help="camera width asked for, px")
    p.add_argument("--height", type=int, default=720, help="camera height asked for, px")
    p.add_argument("--no-mirror", action="store_true", help="show the preview unmirrored")
    p.add_argument("--no-score", action="store_true", help="save only; score later with `symmetry score`")
    p.add_argument("--no-summary", action="store_true", help="close the window at once instead of showing the results")
    _add_model_option(p)
    p.set_defaults(func=cmd_capture)


# ---------------------------------------------------------------- video
VIDEO_EPILOG = """\
examples:
  symmetry video visit.mp4
  symmetry video visit.mp4 --out results/ --frames 1

Writes into OUT: STEM_frames.csv (one row per frame: time, detected expression,
quality gates, blendshape evidence, mm measures), STEM_expressions.csv (rest
and peak frames of each expression with their median measures, or why an
expression was not found) and STEM_symmetry.png (symmetry over time).
The mm scale is calibrated from the recording's rest frames.
Exit status: 0 done, 1 the video could not be decoded, 2 usage error.
"""


def cmd_video(args: argparse.Namespace) -> int:
    from symmetry.capture.video import VideoError, analyze_video, write_outputs

    if not Path(args.file).is_file():
        print(f"symmetry: video file not found: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        va = analyze_video(args.file, model=args.model, frames_per_expression=args.frames,
                           interpupil_mm=args.interpupil_mm, progress=sys.stderr.isatty())
    except VideoError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    paths = write_outputs(va, args.out, plot=not args.no_plot)
    faces = int((va.frames["status"] != "no_face").sum()) if len(va.frames) else 0
    print(f"{len(va.frames)} frames at {va.fps:.1f} fps, a face in {faces}")
    if va.decode_note:
        print(f"warning: {va.decode_note}")
    summary = va.summary()
    for _, row in summary.iterrows():
        if row["status"] == "captured":
            print(f"  {row['expression']:<20} frames {row['frames']:<14} symmetry index {row['symmetry_index']:.0f}, "
                  f"mouth droop {_fmt(row['mouth_droop_mm'], '+.1f')} mm, "
                  f"brow asym {_fmt(row['brow_asymmetry_mm'], '+.1f')} mm")
        else:
            print(f"  {row['expression']:<20} not found: {row['reason']}")
    for name, path in paths.items():
        print(f"{name}: {path}")
    return EXIT_OK


def _add_video(sub) -> None:
    p = sub.add_parser(
        "video",
        help="score every frame of a recording; rest and peak frames per expression; plot",
        description="Score every frame of a video, find the rest and peak frames of each expression, "
        "and write a per-frame CSV and a symmetry-over-time plot.",
        epilog=VIDEO_EPILOG,
        formatter_class=_Formatter,
    )
    p.add_argument("file", metavar="FILE", help="a video file (mp4, mov, avi, mkv, webm...)")
    p.add_argument("--out", default=".", metavar="DIR", help="folder for the CSVs and the plot")
    p.add_argument("--frames", type=int, default=3, metavar="N", help="frames chosen per expression")
    p.add_argument("--interpupil-mm", type=float, default=None, metavar="MM",
                   help="the person's calibrated inter-pupil distance (default: from the rest frames)")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    _add_model_option(p)
    p.set_defaults(func=cmd_video)


# ---------------------------------------------------------------- report
REPORT_EPILOG = """\
examples:
  symmetry report results/scores.csv --out results/report/
      one report per person: results/report/PERSON/report.html (+ figures, tables)
  symmetry report sample_images/ --out results/
      scores the photos first (as `symmetry score`, resumable), then reports
  symmetry report results/ --out results/report/ --log massage_log.csv --person anna
      only anna, with the massages of the log marked on the timeline

INPUT is a scores.csv written by `symmetry score`, a folder holding one, or
photos and folders to score first (into DIR/scores.csv).

massage log (--log): a CSV with a date column (YYYY-MM-DD) and optionally
duration, technique, acupoints, notes and person (empty = every person).

what a report holds (DIR/PERSON/):
  report.html        self-contained: opens offline, prints on A4; plain text for
                     the patient first, then tables for the clinician
  timeline.png/.svg  mouth, eye, brow and symmetry index at rest over the
                     sessions, pre/post massage joined, first session and
                     healthy range shaded
  movement.png/.svg  each side's movement in a smile, a brow raise, eye closure
  massage_effect.png/.svg, face_strip.png/.svg (first vs latest resting photo)
  sessions.csv, summary.csv, massage_effect.csv, repeatability.csv
Millimetres are rescaled to each person's calibrated inter-pupil distance. A
change is called real only above the minimal detectable change (MDC95, from
repeated photos, else the project's validation figures). It measures; it does
not diagnose and gives no clinical grade.

exit status: 0 every report written; 1 a person had no measurable photo (their
report says so); 2 usage error (missing or unreadable input, unknown person,
bad massage log).
"""


def cmd_report(args: argparse.Namespace) -> int:
    import pandas as pd

    from symmetry.render.report import build_reports
    from symmetry.trends.table import read_scores

    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        print(f"symmetry: not found: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if len(inputs) == 1 and inputs[0].is_file() and inputs[0].suffix.lower() == ".csv":
        scores = inputs[0]
    elif len(inputs) == 1 and inputs[0].is_dir() and (inputs[0] / "scores.csv").is_file():
        scores = inputs[0] / "scores.csv"
    else:
        from symmetry.batch.engine import BatchError, score_folder

        say(f"scoring the photos in {', '.join(map(str, inputs))} into {args.out}/scores.csv first")
        try:
            score_folder([str(p) for p in inputs], args.out, jobs=args.jobs, model=args.model,
                         progress=not args.quiet and sys.stderr.isatty())
        except (BatchError, ValueError, OSError) as exc:
            print(f"symmetry: could not score the photos: {exc}", file=sys.stderr)
            return EXIT_USAGE
        scores = Path(args.out) / "scores.csv"
    try:
        rows = read_scores(scores)
        if rows.empty:
            print(f"symmetry: {scores} has no photos in it (only its header): nothing to report. "
                  "Score some photos first: symmetry score PHOTOS --out DIR", file=sys.stderr)
            return EXIT_SOME_FAILED
        result = build_reports(rows, args.out, log=args.log, persons=args.person or None,
                               affected_side=args.affected_side, photos=not args.no_photos,
                               base_dir=scores.resolve().parent, model=args.model, progress=say)
    except (ValueError, FileNotFoundError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    t = result.trends
    status = EXIT_OK
    for rep in result.reports:
        p = t.people.set_index("person").loc[rep.person]
        print(f"{rep.person}: {rep.html}")
        if p["n_measured"] == 0:
            status = EXIT_SOME_FAILED
        print(f"  {_report_line(t, rep.person)}")
        for note in rep.notes:
            if note.level != "info":
                print(f"  {note.level}: {note.message}", file=sys.stderr)
    if result.index:
        print(f"index: {result.index}")
    return status


def _report_line(t, person: str) -> str:
    p = t.people.set_index("person").loc[person]
    if not p["n_measured"]:
        return "no photo could be measured"
    s = t.summary[(t.summary["person"] == person) & (t.summary["expression"] == "rest")].set_index("measure")
    one = p["first_session"] == p["latest_session"]
    if one:
        parts = [f"one session ({p['first_session']})"]
    else:
        parts = [f"{p['n_dates']} session dates ({p['first_session']} to {p['latest_session']})"]
    if "mouth_droop_mm" in s.index:
        r = s.loc["mouth_droop_mm"]
        text = (f"mouth droop {_fmt(r['first_value'], '+.1f')} mm" if one
                else f"mouth droop {_fmt(r['first_value'], '+.1f')} -> {_fmt(r['latest_value'], '+.1f')} mm")
        if r["verdict"]:
            rec = "" if r["recovery_pct"] != r["recovery_pct"] else f"{r['recovery_pct']:.0f}% recovered, "
            text += f" ({rec}{r['verdict']})"
        parts.append(text)
    if "symmetry_index" in s.index:
        r = s.loc["symmetry_index"]
        parts.append(f"symmetry index {r['first_value']:.0f}" if one
                     else f"symmetry index {r['first_value']:.0f} -> {r['latest_value']:.0f}")
    return "; ".join(parts)


def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="recovery report per person: trends, plots and a self-contained HTML page",
        description=(
            "Turn a scores table into one recovery report per person: measures per session, "
            "movement against rest, recovery since the first session, the effect of each massage, "
            "and how large a change must be to be real."
        ),
        epilog=REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="scores.csv, a folder holding scores.csv, or photos/folders to score first")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder (created), e.g. --out results/report/")
    p.add_argument("--log", metavar="CSV", help="massage log to mark on the timeline, e.g. --log massage_log.csv")
    p.add_argument("--person", action="append", metavar="NAME",
                   help="report only this person (repeat for several; default: everyone in the table)")
    p.add_argument("--affected-side", choices=("right", "left"), default=None,
                   help="the patient's affected side, when known (default: found from the first session)")
    p.add_argument("--no-photos", action="store_true",
                   help="leave out the face strip (the first and latest resting photos), e.g. to share the report")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="worker processes when photos must be scored first (default: all cores)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    _add_model_option(p)
    p.set_defaults(func=cmd_report)


# ---------------------------------------------------------------- main
SUBCOMMANDS = (_add_analyze, _add_score, _add_capture, _add_video, _add_report)


def build_parser() -> argparse.ArgumentParser:
    from symmetry._version import __version__

    parser = argparse.ArgumentParser(
        prog="symmetry",
        description=(
            "Measure facial symmetry in millimetres from photos and track recovery from "
            "facial palsy across massage sessions. Everything runs on this machine; "
            "nothing is uploaded or downloaded."
        ),
        epilog=(
            "start here:\n"
            "  symmetry capture --person anna --phase pre          guided webcam session (before a massage)\n"
            "  symmetry score photos/ --out results/               every photo into results/scores.csv\n"
            "  symmetry report results/scores.csv --out results/report/   recovery report per person\n"
            "  symmetry analyze photo.jpg                          one photo, as a table\n\n"
            "`symmetry COMMAND --help` explains a command. Left and right are the patient's own sides."
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
    except (FileNotFoundError, ModelError) as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("symmetry: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
