"""symmetry: facial symmetry in millimetres from photos, for tracking recovery from facial palsy.

    >>> import symmetry
    >>> m = symmetry.analyze("photo.jpg")
    >>> m.status, m.mouth_droop_mm, m.symmetry_index

Nothing is downloaded and no model is loaded at import; the bundled MediaPipe
model is loaded on the first `analyze` call and reused afterwards.
"""

__version__ = "0.4.0"

from .analysis import analyze, prepare_reference
from .batch import score_folder
from .imageio import ImageLoadError, load_image
from .landmarks import Face, Landmarker
from .measures import COLUMNS, Measurement
from .overlay import draw
from .plots import plot_trend
from .trends import Trends, trends
from .video import analyze_video

__all__ = [
    "COLUMNS",
    "Face",
    "ImageLoadError",
    "Landmarker",
    "Measurement",
    "Trends",
    "analyze",
    "analyze_video",
    "draw",
    "load_image",
    "plot_trend",
    "prepare_reference",
    "score_folder",
    "trends",
]
