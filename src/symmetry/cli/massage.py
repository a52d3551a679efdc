"""`symmetry massage`: a guided self-massage on the person's own mirrored face, written to their log."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option

NAME = "massage"
HELP = "guided self-massage on your mirrored face (webcam), written to your massage log"
DESCRIPTION = (
    "Guide a self-massage for facial palsy step by step: the current point on your own "
    "mirrored face, what to do and for how long, and the next step; the session is added to your "
    "massage log, which the report reads."
)
EPILOG = """\
examples:
  symmetry massage --person anna                      webcam 0, weak side from anna's latest scores
  symmetry massage --person anna --side left --photos take the pre photos first, the post photos after
  symmetry massage --person anna --sequence my.toml   your own sequence (see docs/massage.md)
  symmetry massage --person anna --source rec.mp4 --headless   follow a recording, no window

The window shows the current point on your mirrored face, what to do, a
countdown and the next step. Keys: space pauses, n (or s) skips the step,
q (or Esc) quits. The session is added to OUT/PERSON/massage_log.csv (date,
start, duration in minutes, the points done, side); Ctrl-C or q keeps what was
done. Read it in the report: symmetry report SCORES --log OUT/PERSON/massage_log.csv
Left and right are your own sides. The points are approximate; massage
complements medical care (see docs/massage.md for when to see a doctor first).
Exit status: 0 sequence completed, 1 stopped early (what was done is logged),
2 usage error, 130 interrupted (Ctrl-C; what was done is logged).
"""

INTRO_S, END_S = 20.0, 20.0


def run(args: argparse.Namespace) -> int:
    from symmetry.massage.sequence import DEFAULT, SequenceError, load_sequence

    source = int(args.source) if args.source.strip().isdigit() else args.source
    problem = _usage_problem(args, source)
    if problem:
        print(f"symmetry: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sequence = load_sequence(args.sequence) if args.sequence else DEFAULT
    except SequenceError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    side, where = _side(args)
    log_path = Path(args.log) if args.log else Path(args.out) / args.person.strip() / "massage_log.csv"
    if args.headless:
        return _headless(args, source, sequence, side, log_path)
    return _windowed(args, source, sequence, side, where, log_path)


def _usage_problem(args: argparse.Namespace, source) -> str:
    from symmetry.capture.recording import safe_person

    try:
        safe_person(args.person)
    except ValueError as exc:
        return str(exc)
    if args.headless and isinstance(source, int):
        return "--headless needs a video file as --source (a camera needs the window)"
    if isinstance(source, str) and not Path(source).is_file():
        return f"video file not found: {source}"
    if (not args.headless and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        return "no display for the massage window (DISPLAY is not set); use --headless --source VIDEO"
    return ""


def _side(args: argparse.Namespace) -> tuple[str, str]:
    """The weak side to work on, and where it came from ("" when it is not known)."""
    from symmetry.massage.session import weak_side_from_scores

    if args.side in ("right", "left"):
        return args.side, "as given"
    side, why = weak_side_from_scores(args.person.strip(), args.out, args.scores)
    if side is None:
        print(f"weak side not known ({why}): working on the right side; give --side left if that is the "
              "weak one", file=sys.stderr)
        return "right", ""
    print(f"weak side: {side} ({why})", file=sys.stderr)
    return side, "from your scores"


def _session(sequence, side: str):
    from symmetry.massage.session import MassageSession, plan

    return MassageSession(plan(sequence, side))


def _open_source(args: argparse.Namespace, source, realtime: bool):
    """The frame source, or an error message."""
    from symmetry.capture.sources import CameraError, CameraSource, FileSource
    from symmetry.capture.video import VideoError

    try:
        if isinstance(source, int):
            return CameraSource(source, args.width, args.height), ""
        return FileSource(source, realtime=realtime), ""
    except (CameraError, VideoError) as exc:
        return None, str(exc)


def _massage(args, session, src, side: str, window: str | None):
    """Run the loop; Ctrl-C (or a kill) stops it and keeps what was done. Returns (stats, interrupted).

    The first Ctrl-C only asks the loop to stop after the frame under way: an exception raised in
    the middle of the landmarker's native call would leave its objects half made (and print their
    errors); a second Ctrl-C stops at once."""
    import threading

    from symmetry.face.landmarks import Landmarker
    from symmetry.massage.live import run_loop

    asked = threading.Event()

    def interrupt(signum, frame):  # Ctrl-C, or a `kill` (SIGTERM)
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    stats = None
    try:
        with Landmarker(args.model, mode="video") as lm:
            stats = run_loop(session, src, lm, window=window, mirror=not args.no_mirror, weak_side=side,
                             on_step=_progress, stop=asked)
    except KeyboardInterrupt:
        asked.set()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        src.close()
    if asked.is_set():
        session.stop("interrupted (Ctrl-C)")
    return stats, asked.is_set()


def _finish(args, session, sequence, side: str, started: dt.datetime, log_path: Path, stats, interrupted) -> int:
    """Write the log line (when anything was done), say what happened, and the exit status."""
    from symmetry.massage.session import append_log

    done = len(session.done)
    if done:
        append_log(log_path, session.log_row(args.person.strip(), side, started, sequence))
    minutes = session.active_s / 60
    print(f"massage: {done} of {len(session.tasks)} steps, {minutes:.1f} min, {side} side; "
          f"{session.stop_reason}")
    if stats is not None and stats.frames:
        print(f"face seen in {100 * stats.face_share:.0f}% of {stats.frames} frames")
    print(f"log: {log_path}" if done else "nothing done: no log line written")
    if interrupted:
        return 130
    return EXIT_OK if session.stop_reason == "completed" else EXIT_SOME_FAILED


def _headless(args, source: str, sequence, side: str, log_path: Path) -> int:
    if args.photos:
        _photos(args, source, "pre", headless=True)
    src, error = _open_source(args, source, realtime=False)
    if src is None:
        print(f"symmetry: {error}", file=sys.stderr)
        return EXIT_SOME_FAILED
    session, started = _session(sequence, side), dt.datetime.now()
    stats, interrupted = _massage(args, session, src, side, window=None)
    status = _finish(args, session, sequence, side, started, log_path, stats, interrupted)
    if args.photos and not interrupted:
        _photos(args, source, "post", headless=True)
    return status


def _windowed(args, source, sequence, side: str, where: str, log_path: Path) -> int:
    from symmetry.capture.live import close_window, open_window
    from symmetry.massage.live import WINDOW

    open_window(WINDOW, (640, 480), "Starting the massage guide...")
    action, side = _intro(args, sequence, side, where)
    if action == "quit":
        close_window()
        print("massage not started: nothing written")
        return EXIT_SOME_FAILED
    if args.photos or action == "photos":
        close_window()
        _photos(args, source, "pre")
        open_window(WINDOW, (640, 480), "Starting the massage guide...")
    src, error = _open_source(args, source, realtime=True)
    if src is None:
        close_window()
        print(f"symmetry: {error}", file=sys.stderr)
        return EXIT_SOME_FAILED
    session, started = _session(sequence, side), dt.datetime.now()
    stats, interrupted = _massage(args, session, src, side, window=WINDOW)
    status = _finish(args, session, sequence, side, started, log_path, stats, interrupted)
    ended_here = not interrupted and session.stop_reason != "window closed"
    if ended_here and (args.photos or _end_screen(session, log_path) == "p"):
        close_window()
        _photos(args, source, "post")
    close_window()
    return status


def _intro(args, sequence, side: str, where: str) -> tuple[str, str]:
    """The start screen: ("start" | "photos" | "quit", the weak side chosen)."""
    from symmetry.massage.live import WINDOW, ask, screen

    while True:
        lines = [f"Weak side: {side} ({where or 'not known: press R or L to choose'}).",
                 "Sit facing the camera in good light; clean face, warm hands.",
                 "The points are approximate; massage complements medical care.",
                 "No massage on numb or broken skin. Protect an eye that cannot close.", "",
                 "SPACE start   P take the 'pre' photos first   R / L weak side   Q quit",
                 f"(starts by itself in {INTRO_S:.0f} s)"]
        title = f"Massage for {args.person.strip()}: {len(sequence.steps)} steps, {_duration(sequence.seconds)}"
        key = ask(WINDOW, screen(lines, title=title), " prlq", INTRO_S)
        if key in ("r", "l"):
            side, where = {"r": "right", "l": "left"}[key], "chosen"
            continue
        return {"p": "photos", "q": "quit"}.get(key or " ", "start"), side


def _duration(seconds: float) -> str:
    return f"about {seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _progress(session) -> None:
    """One line on stderr as each step starts (a log of the session, and a sign of life)."""
    from symmetry.massage.live import side_words

    task = session.current
    if task is not None:
        print(f"step {session.index + 1}/{len(session.tasks)}: {task.title}, {side_words(task)}, "
              f"{task.step.seconds:g} s", file=sys.stderr, flush=True)


def _end_screen(session, log_path: Path) -> str | None:
    from symmetry.massage.live import WINDOW, ask, screen

    head = "Done" if session.stop_reason == "completed" else f"Stopped: {session.stop_reason}"
    lines = [f"{len(session.done)} of {len(session.tasks)} steps, {session.active_s / 60:.1f} min.",
             f"Log: {log_path}" if session.done else "Nothing done: no log line written.", "",
             "P take the 'post' photos now   any other key closes"]
    return ask(WINDOW, screen(lines, title=head), None, END_S)


def _photos(args, source, phase: str, headless: bool = False) -> int:
    """Take the `phase` photos with the capture protocol (`symmetry capture`)."""
    from symmetry.cli import main

    argv = ["capture", "--person", args.person.strip(), "--phase", phase, "--source", str(source), "--out", args.out]
    if headless:
        argv.append("--headless")
    if args.model:
        argv += ["--model", args.model]
    print(f"taking the '{phase}' photos: symmetry {' '.join(argv)}", file=sys.stderr, flush=True)
    return main(argv)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--person", required=True, help="your name or code (a folder name), e.g. --person anna")
    p.add_argument("--side", choices=("auto", "right", "left"), default="auto",
                   help="the weak side to work on (auto: from your latest resting scores, else right)")
    p.add_argument("--sequence", metavar="FILE", help="your own sequence, TOML or JSON (default: built in)")
    p.add_argument("--source", default="0", metavar="0|VIDEO", help="webcam index, or a video file")
    p.add_argument("--headless", action="store_true", help="no window: follow a video file on its own clock")
    p.add_argument("--out", default="sessions", metavar="DIR",
                   help="sessions folder: scores are read from OUT/PERSON/, the log written there")
    p.add_argument("--log", metavar="CSV", help="massage log to append to (default: OUT/PERSON/massage_log.csv)")
    p.add_argument("--scores", metavar="CSV", help="scores.csv to take the weak side from (default: OUT/PERSON/*/)")
    p.add_argument("--photos", action="store_true",
                   help="take the 'pre' photos before and the 'post' photos after (symmetry capture)")
    p.add_argument("--width", type=int, default=1280, help="camera width asked for, px")
    p.add_argument("--height", type=int, default=720, help="camera height asked for, px")
    p.add_argument("--no-mirror", action="store_true", help="show the preview unmirrored")
    add_model_option(p)
