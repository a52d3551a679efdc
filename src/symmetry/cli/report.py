"""`symmetry report`: a recovery report per person from a scores table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_model_option, fmt

NAME = "report"
HELP = "recovery report per person: trends, plots and a self-contained HTML page"
DESCRIPTION = (
    "Turn a scores table into one recovery report per person: measures per session, "
    "movement against rest, recovery since the first session, the effect of each massage, "
    "and how large a change must be to be real."
)
EPILOG = """\
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
Without --log, the logs that `symmetry massage` writes beside the sessions
(OUT/PERSON/massage_log.csv, next to OUT/PERSON/DATE_PHASE/) are read.

what a report holds (DIR/PERSON/):
  report.html        self-contained: opens offline, prints on A4; plain text for
                     the patient first, then tables for the clinician
  timeline.png/.svg  mouth, eye, brow and symmetry index at rest over the
                     sessions, pre/post massage joined, first session and
                     healthy range shaded
  movement.png/.svg  each side's movement in a smile, a brow raise, eye closure
  massage_effect.png/.svg, face_strip.jpg (first vs latest resting photo)
  sessions.csv, summary.csv, massage_effect.csv, repeatability.csv
Millimetres are rescaled to each person's calibrated inter-pupil distance. A
change is called real only above the minimal detectable change (MDC95, from
repeated photos, else the project's validation figures, measured on real people's
repeat photos). It measures; it does not diagnose and gives no clinical grade.

exit status: 0 every report written; 1 a person had no measurable photo (their
report says so); 2 usage error (missing or unreadable input, unknown person,
bad massage log).
"""


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from symmetry.render.report import build_reports
    from symmetry.batch.sinks import read_scores

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
        from symmetry.batch.discover import BatchError
        from symmetry.batch.engine import score_folder

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
        result = build_reports(rows, args.out, log=_massage_log(args, rows, scores, say), persons=args.person or None,
                               affected_side=args.affected_side, photos=not args.no_photos,
                               base_dir=scores.resolve().parent, progress=say, jobs=args.jobs or 1)
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


def _massage_log(args: argparse.Namespace, rows, scores: Path, say):
    """--log, else the logs `symmetry massage` wrote beside the scored sessions (or None)."""
    if args.log is not None:
        return args.log
    from symmetry.trends.log import find_massage_logs

    log, where = find_massage_logs(rows, scores.resolve().parent)
    for path in where:
        say(f"massage log: {path}")
    return log


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
        text = (f"mouth droop {fmt(r['first_value'], '+.1f')} mm" if one
                else f"mouth droop {fmt(r['first_value'], '+.1f')} -> {fmt(r['latest_value'], '+.1f')} mm")
        if r["verdict"]:
            rec = "" if r["recovery_pct"] != r["recovery_pct"] else f"{r['recovery_pct']:.0f}% recovered, "
            text += f" ({rec}{r['verdict']})"
        parts.append(text)
    if "symmetry_index" in s.index:
        r = s.loc["symmetry_index"]
        parts.append(f"symmetry index {r['first_value']:.0f}" if one
                     else f"symmetry index {r['first_value']:.0f} -> {r['latest_value']:.0f}")
    return "; ".join(parts)


def add_arguments(p: argparse.ArgumentParser) -> None:
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
                   help="worker processes: photos scored at the same time when they must be scored first "
                   "(default: all cores), and people drawn at the same time (default: one)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    add_model_option(p)

