#!/usr/bin/env python3
"""Redraw the pictures the README and docs show, from the current code.

    python scripts/make_docs_images.py

Writes docs/images/overlay_astronaut.jpg (the measured distances on a sample
face) and docs/images/timeline.png (the synthetic demo patient's recovery
timeline, as in the report). The notebook figures come from
scripts/make_notebook.py and the capture window screenshot from the Xvfb run
described in tests/capture/test_capture.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

import symmetry
from symmetry.render.plots import timeline_figure

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    face = ROOT / "sample_images" / "astronaut.png"
    overlay = symmetry.draw(face, symmetry.analyze(face))  # as `symmetry score` measures it
    Image.fromarray(overlay).save(IMAGES / "overlay_astronaut.jpg", quality=88)
    print(f"wrote {IMAGES / 'overlay_astronaut.jpg'}")

    scores = symmetry.score_folder(ROOT / "sample_images" / "demo_patient", progress=False)
    fig = timeline_figure(symmetry.compute_trends(scores), "demo_patient")
    fig.savefig(IMAGES / "timeline.png", dpi=100, facecolor="white")  # the report's look, smaller for the README
    print(f"wrote {IMAGES / 'timeline.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
