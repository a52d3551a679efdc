#!/usr/bin/env python3
"""Guided capture of a massage session: a thin wrapper over `symmetry capture`.

    python scripts/capture.py --person anna --phase pre            # webcam 0
    python scripts/capture.py --person anna --phase post --source 1
    python scripts/capture.py --person anna --source visit.mp4 --headless

All options: python scripts/capture.py --help
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from symmetry.cli import main
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from symmetry.cli import main

if __name__ == "__main__":
    sys.exit(main(["capture", *sys.argv[1:]]))
