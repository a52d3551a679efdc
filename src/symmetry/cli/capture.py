"""`symmetry capture`: the guided webcam session (or a recorded video), saved and scored."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option

NAME = "capture"
HELP = "guided webcam capture of a session (or from a video file), saved and scored"
DESCRIPTION = (
    "Guide a person through the expression protocol with the webcam, take the best "
    "frames automatically, save them in the session layout and score them."
)
EPILOG = """\
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
    from symmetry.capture.comparison import format_comparison

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


def run(args: argparse.Namespace) -> int:
    source = _source_arg(args.source)
    problem = _usage_problem(args, source)
    if problem:
        print(f"symmetry: {problem}", file=sys.stderr)
        return EXIT_USAGE
    date = args.date or dt.date.today().isoformat()
    if args.headless:
        outcome = _capture_headless(args, source, date)
    else:
        outcome = _capture_live(args, source, date)
    if isinstance(outcome, int):
        return outcome
    saved, results, protocol = outcome
    if not args.no_score:
        from symmetry.capture.recording import finish_session

        if saved.n_files:
            print("scoring the session...", file=sys.stderr, flush=True)
        finish_session(saved, model=args.model)
    _print_session(saved, results)
    if not args.headless:
        _show_summary(args, saved, results, protocol)
    if saved.n_files == 0:
        return EXIT_SOME_FAILED
    return EXIT_OK if all(r.status == "captured" for r in results.values()) else EXIT_SOME_FAILED


def _usage_problem(args: argparse.Namespace, source) -> str:
    """What is wrong with the command line, or ""."""
    from symmetry.capture.recording import session_folder

    try:
        session_folder(args.out, args.person, args.date or dt.date.today().isoformat(), args.phase or "")
    except ValueError as exc:
        return str(exc)
    if args.frames < 1:
        return "--frames must be at least 1"
    if args.headless and isinstance(source, int):
        return "--headless needs a video file as --source (a camera needs the window)"
    if args.headless and not Path(source).is_file():
        return f"video file not found: {source}"
    if (not args.headless and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        return ("no display for the capture window (DISPLAY is not set); "
                "record a video and use --headless --source FILE")
    return ""


def _capture_headless(args: argparse.Namespace, source: str, date: str):
    """Find the expressions in a video file: (saved, results, None), or an exit status."""
    from symmetry.capture.recording import capture_from_video
    from symmetry.capture.video import VideoError

    try:
        saved, va = capture_from_video(
            source, args.out, args.person, date, args.phase or "", frames_per_expression=args.frames,
            model=args.model, progress=sys.stderr.isatty(),
        )
    except VideoError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    if va.decode_note:
        print(f"warning: {va.decode_note}", file=sys.stderr)
    return saved, va.results, None


def _capture_live(args: argparse.Namespace, source, date: str):
    """Run the guided protocol in a window: (saved, results, protocol), or an exit status."""
    from symmetry.capture import live
    from symmetry.capture.protocol import CaptureProtocol, ProtocolSettings
    from symmetry.capture.recording import save_session
    from symmetry.capture.sources import CameraError, CameraSource, FileSource
    from symmetry.capture.video import VideoError
    from symmetry.face.landmarks import Landmarker

    settings = ProtocolSettings(frames_per_expression=args.frames, countdown_s=args.countdown, max_hold_s=args.hold)
    try:
        src = FileSource(source) if isinstance(source, str) else CameraSource(source, args.width, args.height)
    except (CameraError, VideoError) as exc:
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
    saved = save_session(args.out, args.person, date, args.phase or "", protocol.results,
                         _live_info(args, src, protocol, settings, stats))
    if protocol.stop_reason not in ("completed",):
        print(f"stopped: {protocol.stop_reason}", file=sys.stderr)
    return saved, protocol.results, protocol


def _live_info(args: argparse.Namespace, src, protocol, settings, stats) -> dict:
    """What session.json records about a live capture."""
    from symmetry.capture.recording import settings_doc

    size = None
    for r in protocol.results.values():
        for c in r.frames:
            size = [int(c.payload.shape[1]), int(c.payload.shape[0])]
    return {
        "mode": "live",
        "source": src.describe(),
        "frame_size": size,
        "fps_source": getattr(src, "fps", None),
        "stop_reason": protocol.stop_reason,
        "loop": {"frames_processed": stats.processed, "frames_dropped": stats.dropped,
                 "fps": stats.fps} if stats else None,
        "mirrored_preview": not args.no_mirror,
        "model": args.model,
        "settings": settings_doc(args.frames, settings.min_gap_s, countdown_s=settings.countdown_s,
                                 max_hold_s=settings.max_hold_s, min_hold_s=settings.min_hold_s),
    }


def _show_summary(args: argparse.Namespace, saved, results, protocol) -> None:
    """The results screen in the capture window, then the window closed."""
    from symmetry.capture import live
    from symmetry.capture.comparison import comparison_cells
    from symmetry.capture.live_draw import draw_summary

    window_gone = results and protocol.stop_reason == "window closed"
    if not args.no_summary and not window_gone:
        lines = [f"{e.replace('_', ' ')}: {r.status.replace('_', ' ')}" + (f", {len(r.frames)} frames" if r.frames else "")
                 for e, r in results.items()]
        table, notes = [], []
        if saved.comparison is not None and len(saved.comparison):
            table, notes = comparison_cells(saved.comparison, saved.previous.name if saved.previous else None)
        shape = next((c.payload.shape for r in results.values() for c in r.frames), (480, 640, 3))
        screen = draw_summary(f"Saved: {saved.folder.parent.name}/{saved.folder.name}", lines, table, notes,
                              (shape[1], shape[0]))
        live.show_until_key(screen)
    live.close_window()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--person", required=True, help="the person's name or code (a folder name), e.g. --person anna")
    p.add_argument("--phase", choices=("pre", "post"), default="",
                   help="before or after the massage (part of the folder name; none: the folder is just the date)")
    p.add_argument("--source", default="0", metavar="0|FILE", help="webcam index, or a video file")
    p.add_argument("--out", default="sessions", metavar="DIR", help="where sessions are saved (OUT/PERSON/DATE_PHASE/)")
    p.add_argument("--headless", action="store_true",
                   help="no window: find the expressions in the video file by their blendshapes and pick the best frames")
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
    add_model_option(p)

