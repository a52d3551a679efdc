"""What every subcommand shares: exit codes, the help formatter, the --model option, number format."""

from __future__ import annotations

import argparse
import math

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; a default shown only where it tells something."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, False, "", argparse.SUPPRESS) or action.nargs == 0:
            return text
        return text + " (default: %(default)s)"


def add_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        metavar="PATH",
        default=None,
        help="face landmarker .task file (default: $SYMMETRY_MODEL, else the model bundled in the package)",
    )


def fmt(value, spec: str) -> str:
    """A number for a table: "-" for a missing one, never "-0.0"."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if not spec:
        return str(value)
    text = format(value, spec)
    return format(0.0, spec.lstrip("+")) if isinstance(value, float) and float(text) == 0 else text  # no "-0.0"
