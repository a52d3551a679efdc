"""One frame as capture sees it: its quality gates, expression evidence and measurement.

    faces --observe()--> FrameObservation(quality, evidence, measurement)

Both the live protocol and the recording's frame choice work on these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symmetry.capture.quality import JitterTracker, Quality, assess_quality
from symmetry.face.expressions import Evidence, RestReference, expression_evidence
from symmetry.face.landmarks import Face
from symmetry.face.measures import Measurement, measure_face


@dataclass
class FrameObservation:
    """Everything the protocol needs to know about one frame."""

    index: int
    timestamp_ms: float
    quality: Quality
    evidence: Evidence | None = None
    measurement: Measurement | None = None

    @property
    def face_found(self) -> bool:
        return self.evidence is not None


def observe(
    faces: list[Face],
    rgb: np.ndarray | None,
    index: int,
    timestamp_ms: float,
    jitter: JitterTracker,
    interpupil_mm: float | None = None,
) -> FrameObservation:
    """One frame's quality gates, expression evidence and measurement (pure; no I/O)."""
    m = measure_face(faces, Measurement(), interpupil_mm)
    face = m.face or (faces[0] if faces else None)
    j = jitter.update(face.points if face is not None else None)
    quality = assess_quality(faces, rgb, j, chosen=face)
    if face is None:
        return FrameObservation(index, timestamp_ms, quality, None, m)
    # Several faces or a small face still give evidence; the quality gates keep them out.
    return FrameObservation(index, timestamp_ms, quality, expression_evidence(face, m), m)


def rest_reference(observations: list[FrameObservation]) -> RestReference | None:
    """The person's resting values from their chosen rest frames (None without evidence)."""
    evidence = [o.evidence for o in observations if o.evidence is not None]
    ipd = [o.measurement.interpupil_mm for o in observations if o.measurement is not None and o.measurement.ok]
    return RestReference.from_evidence(evidence, ipd)
