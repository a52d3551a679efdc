"""One photo in, its massage points out, with the project's status words when there are none.

The face is found as `analyze` finds it (canonical landmarks: the reading least moved by
rotation and scale), so the points are in the ORIGINAL photo's pixels (EXIF rotation applied,
before any reduced decoding), and the mm in its face frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from symmetry.massage.acupoints import AcupointMap, acupoints
from symmetry.massage.areas import weak_side
from symmetry.vocabulary import Method, Status

#: A face is drawn with its points for these analysis statuses: the measures of an unevenly
#: lit or implausible photo are not trusted, but the landmarks that place the points are there.
POINT_STATUSES = (Status.OK, Status.UNEVEN_LIGHT, Status.IMPLAUSIBLE)


@dataclass(frozen=True)
class PhotoPoints:
    """A photo's points (None when the photo has none: `status` says why, `message` what to do)."""

    path: str
    status: str
    message: str
    points: AcupointMap | None = None
    weak_side: str | None = None  # from the photo's own resting asymmetry, when clear
    weak_reason: str = ""
    measurement: object = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.points is not None

    def to_dict(self) -> dict:
        """The `symmetry acupoints --json` object of this photo."""
        return {"path": self.path, "status": str(self.status), "message": self.message,
                "points": self.points.to_dicts() if self.points is not None else []}


def locate(image: str | os.PathLike | np.ndarray, *, landmarker=None, model=None) -> PhotoPoints:
    """The massage points of the face in one photo (a path or an RGB array)."""
    from symmetry.photo.analysis import analyze

    m = analyze(image, landmarker=landmarker, model=model, method=Method.CANONICAL)
    path = "" if isinstance(image, np.ndarray) else str(image)
    if m.face is None or m.status not in POINT_STATUSES:
        why = m.message or "no face to place the points on"
        if m.status == Status.POSE_OUT_OF_RANGE:
            why = f"{why} The points are placed on a face looking at the camera."
        return PhotoPoints(path, str(m.status), why, measurement=m)
    side, reason = weak_side(m.mouth_droop_mm, m.brow_asymmetry_mm)
    # The measures' notes (light, plausibility) do not concern the points: kept as a message only.
    return PhotoPoints(path, str(Status.OK), m.message, acupoints(m), side, reason if side else "", m)
