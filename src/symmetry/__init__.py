"""symmetry: facial symmetry in millimetres from photos, for tracking recovery from facial palsy.

    >>> import symmetry
    >>> m = symmetry.analyze("photo.jpg")
    >>> m.status, m.mouth_droop_mm, m.symmetry_index

Nothing is downloaded and no model is loaded at import; the bundled MediaPipe
model is loaded on the first `analyze` call and reused afterwards. The names below
are imported when first used, so `import symmetry` stays light (no pandas,
matplotlib or OpenCV until a function needs them).
"""

from importlib import import_module
from typing import TYPE_CHECKING

from symmetry._version import __version__

# public name -> module that defines it
_PUBLIC = {
    "analyze": "symmetry.photo.analysis",
    "prepare_reference": "symmetry.photo.analysis",
    "Reference": "symmetry.photo.evidence.tracking",
    "score_folder": "symmetry.batch.engine",
    "ImageLoadError": "symmetry.photo.imageio",
    "load_image": "symmetry.photo.imageio",
    "Face": "symmetry.face.landmarks",
    "Landmarker": "symmetry.face.landmarks",
    "COLUMNS": "symmetry.face.measures",
    "Measurement": "symmetry.face.measures",
    "draw": "symmetry.photo.overlay_files",
    "plot_trend": "symmetry.render.plots",
    "Trends": "symmetry.trends.compute",
    "compute_trends": "symmetry.trends.compute",
    "analyze_video": "symmetry.capture.video",
    "VideoAnalysis": "symmetry.capture.video",
    "acupoints": "symmetry.massage.acupoints",
    "Acupoint": "symmetry.massage.acupoints",
    "AcupointMap": "symmetry.massage.acupoints",
    "draw_acupoints": "symmetry.massage.draw",
    "kneading_areas": "symmetry.massage.areas",
    "load_sequence": "symmetry.massage.sequence",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value  # later look-ups skip this hook
        return value
    raise AttributeError(f"module 'symmetry' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for editors and type checkers; never run
    from symmetry.batch.engine import score_folder
    from symmetry.capture.video import VideoAnalysis, analyze_video
    from symmetry.face.landmarks import Face, Landmarker
    from symmetry.massage.acupoints import Acupoint, AcupointMap, acupoints
    from symmetry.massage.areas import kneading_areas
    from symmetry.massage.draw import draw_acupoints
    from symmetry.massage.sequence import load_sequence
    from symmetry.face.measures import COLUMNS, Measurement
    from symmetry.photo.analysis import analyze, prepare_reference
    from symmetry.photo.evidence.tracking import Reference
    from symmetry.photo.imageio import ImageLoadError, load_image
    from symmetry.photo.overlay_files import draw
    from symmetry.render.plots import plot_trend
    from symmetry.trends.compute import Trends, compute_trends
