"""`symmetry video`: every frame of a recording scored; rest and peak frames per expression."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option, fmt

NAME = "video"
HELP = "score every frame of a recording; rest and peak frames per expression; plot"
DESCRIPTION = (
    "Score every frame of a video, find the rest and peak frames of each expression, "
    "and write a per-frame CSV and a symmetry-over-time plot."
)
EPILOG = """\
examples:
  symmetry video visit.mp4
  symmetry video visit.mp4 --out results/ --frames 1

Writes into OUT: STEM_frames.csv (one row per frame: time, detected expression,
quality gates, blendshape evidence, mm measures), STEM_expressions.csv (rest
and peak frames of each expression with their median measures, or why an
expression was not found) and STEM_symmetry.png (symmetry over time).
The mm scale is calibrated from the recording's rest frames.

how frames are measured: every frame by one fast landmark pass (VIDEO mode;
method "landmarks" in STEM_frames.csv, for the curve over time); the chosen
frames of each expression again as a photo is measured (method "canonical", the
default of `symmetry analyze` and `symmetry score`): the figures printed and in
STEM_expressions.csv are those, so a frame gives the same numbers in every command.
Exit status: 0 done, 1 the video could not be decoded, 2 usage error.
"""


def run(args: argparse.Namespace) -> int:
    from symmetry.capture.video import VideoError, analyze_video, write_outputs
    from symmetry.render.video_plot import write_video_plot

    if not Path(args.file).is_file():
        print(f"symmetry: video file not found: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        va = analyze_video(args.file, model=args.model, frames_per_expression=args.frames,
                           interpupil_mm=args.interpupil_mm, progress=sys.stderr.isatty())
    except VideoError as exc:
        print(f"symmetry: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    paths = write_outputs(va, args.out)
    if not args.no_plot:
        paths["plot"] = write_video_plot(va, args.out)
    faces = int((va.frames["status"] != "no_face").sum()) if len(va.frames) else 0
    print(f"{len(va.frames)} frames at {va.fps:.1f} fps, a face in {faces}")
    if va.decode_note:
        print(f"warning: {va.decode_note}")
    summary = va.summary()
    for _, row in summary.iterrows():
        if row["status"] == "captured":
            print(f"  {row['expression']:<20} frames {row['frames']:<14} symmetry index {row['symmetry_index']:.0f}, "
                  f"mouth droop {fmt(row['mouth_droop_mm'], '+.1f')} mm, "
                  f"brow asym {fmt(row['brow_asymmetry_mm'], '+.1f')} mm ({row['method']})")
        else:
            print(f"  {row['expression']:<20} not found: {row['reason']}")
    for name, path in paths.items():
        print(f"{name}: {path}")
    return EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a video file (mp4, mov, avi, mkv, webm...)")
    p.add_argument("--out", default=".", metavar="DIR", help="folder for the CSVs and the plot")
    p.add_argument("--frames", type=int, default=3, metavar="N", help="frames chosen per expression")
    p.add_argument("--interpupil-mm", type=float, default=None, metavar="MM",
                   help="the person's calibrated inter-pupil distance (default: from the rest frames)")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    add_model_option(p)

