"""The `symmetry` command: one thin module per subcommand, over the library API.

Each subcommand module has NAME, HELP, DESCRIPTION and EPILOG (its --help),
`add_arguments(parser)` and `run(args) -> int` (the exit status).
"""

from __future__ import annotations

import argparse
import atexit
import errno
import gc
import os
import sys

from symmetry.cli import acupoints, analyze, capture, massage, report, score, video
from symmetry.cli._common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, Formatter

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "build_parser", "main"]

SUBCOMMANDS = (analyze, score, capture, video, report, acupoints, massage)


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
            "  symmetry analyze photo.jpg                          one photo, as a table\n"
            "  symmetry acupoints photo.jpg --out guide/           massage points on your face + printable A4 guide\n"
            "  symmetry massage --person anna                      guided self-massage (webcam), written to your log\n\n"
            "`symmetry COMMAND --help` explains a command. Left and right are the patient's own sides."
        ),
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"symmetry {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in SUBCOMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.DESCRIPTION,
                           epilog=command.EPILOG, formatter_class=Formatter)
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from symmetry.face.landmarks import ModelError

    # At exit the interpreter's last garbage collections walk every object pandas and matplotlib
    # made (a quarter of a second after a report); frozen, those are left out. Once per process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
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
    except BrokenPipeError:  # the reader went away (`symmetry video x.mp4 | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        problem = write_problem(exc)
        if problem is None:
            raise
        print(f"symmetry: {problem}", file=sys.stderr)
        return EXIT_SOME_FAILED


#: errno -> what to do, for a file or folder that cannot be written.
_WRITE_ERRORS = {
    errno.ENOSPC: "free some space or choose another output folder; what was written before stays, "
                  "and the same command continues where it stopped",
    errno.EDQUOT: "free some space or choose another output folder; what was written before stays, "
                  "and the same command continues where it stopped",
    errno.EROFS: "choose an output folder on a disk you can write to",
    errno.EACCES: "choose an output folder you may write to, or ask for write permission",
    errno.EPERM: "choose an output folder you may write to, or ask for write permission",
    errno.ENOTDIR: "a file stands where a folder is needed: choose another output folder",
    errno.EISDIR: "a folder stands where a file is needed: choose another output name",
}


def write_problem(exc: OSError) -> str | None:
    """One line for an output that cannot be written (read-only, full, no permission), or None
    for any other error."""
    if exc.errno not in _WRITE_ERRORS:
        return None
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write{where}: {exc.strerror or os.strerror(exc.errno)}. {_WRITE_ERRORS[exc.errno].capitalize()}."
