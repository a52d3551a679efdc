"""What a photo's own evidence says about its numbers: the expression its face shows, how even
its light is, the 95% interval of each asymmetry, whether its readings are plausible, and
whether a change tracked from a reference photo is borne out by the photo's own landmarks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from symmetry.face.expressions import classify_expression, expression_evidence
from symmetry.face.landmarks import Face
from symmetry.face.measures import Measurement, implausible, joined
from symmetry.face.uncertainty import ASYMMETRIES, ci95
from symmetry.photo.evidence.tracking import Reference
from symmetry.photo.light import light_balance
from symmetry.vocabulary import UNCLEAR, BROW_EXPRESSIONS, REST, Status

#: Darker/brighter cheek brightness below which light is too one-sided to measure. On the
#: tuning half of Extended Yale B (one face, 64 lights) the false droop of `canonical` is
#: 0.19-0.30 mm (median) at every balance above 0.4 and doubles below it (0.59-0.61 mm).
MIN_LIGHT_BALANCE = 0.4

#: A tracked change from the reference is taken for a tracking failure (and the photo measured
#: on its own) unless the same photo's landmark change, taken along the tracked direction, lies
#: between this fraction of the tracked change and the whole of it, give or take
#: `TRACKING_AGREEMENT_MM`. The landmark model sees about half of a mouth corner's displacement
#: and a quarter of a brow's (a tenth to a third of a lid's) on warps of still photos, never more
#: than the whole; real tracking failures read tens of mm where the landmarks saw none.
TRACKING_AGREEMENT_FRACTION = 0.2
#: The give-or-take of that test, mm: about twice the SD of a raw landmark asymmetry's
#: difference between two real repeat photos of one person (0.7-1.1 mm).
TRACKING_AGREEMENT_MM = 2.0
#: Expressions told apart before tracking: eye closure is left out, because a lid that
#: droops in palsy is what tracking must follow, not a reason to stop.
TRACKED_EXPRESSIONS = (REST, "smile", "pucker") + BROW_EXPRESSIONS
#: `expression_seen` of a face that shows none of the protocol expressions clearly.


def checked(m: Measurement, rgb: np.ndarray) -> Measurement:
    """`m` with what the photo itself says about it: the expression its face shows, how even
    its light is, the 95% interval of each asymmetry, and status "implausible" or
    "uneven_light" where the numbers cannot be stood behind. `rgb` is the image the face was
    found in (any size of the photo)."""
    if m.face is None:
        return m
    balance, brighter = light_balance(rgb, m.face)
    m = replace(m, expression_seen=expression_seen(m.face), light_balance=balance)
    m = replace(m, **ci95(m))
    if m.status != Status.OK:
        return m
    bad = implausible(m.to_dict())
    if bad:
        return replace(m, status=Status.IMPLAUSIBLE, message=joined(
            f"implausible reading ({bad}): the face was not measured reliably. Retake the photo facing "
            "the camera, in even light, with nothing covering the face", m.message))
    if balance < MIN_LIGHT_BALANCE:
        return replace(m, status=Status.UNEVEN_LIGHT, message=joined(
            f"light too uneven (the {_other(brighter)} cheek has {balance:.0%} of the {brighter} cheek's "
            "brightness), which fakes asymmetry: face a window or lamp", m.message))
    return m


def _other(side: str) -> str:
    return {"right": "left", "left": "right"}.get(side, side)


def expression_seen(face: Face) -> str:
    """The protocol expression the face shows by its blendshapes, `UNCLEAR` when in between."""
    return classify_expression(expression_evidence(face)) or UNCLEAR


def tracked_kind(expression: str) -> str:
    """The expression as tracking tells expressions apart (`TRACKED_EXPRESSIONS`), "" otherwise."""
    return expression if expression in TRACKED_EXPRESSIONS else ""


def tracking_disagreement(tracked: dict, m: Measurement, reference: Reference) -> str:
    """Where a tracked change from the reference is not borne out by the same photo's own landmark
    change (see `TRACKING_AGREEMENT_FRACTION`): a tracking failure, not a face; else ""."""
    out = []
    for name in ASYMMETRIES:
        by_tracking = tracked[name] - reference.values[name]
        by_landmarks = getattr(m, name) - reference.landmark_values[name]
        along = by_landmarks * (1.0 if by_tracking >= 0 else -1.0)  # the landmark change in the tracked direction
        size = abs(by_tracking)
        if not TRACKING_AGREEMENT_FRACTION * size - TRACKING_AGREEMENT_MM <= along <= size + TRACKING_AGREEMENT_MM:
            out.append(f"{name.removesuffix('_mm').replace('_', ' ')} changed {by_tracking:+.1f} mm tracked, "
                       f"{by_landmarks:+.1f} mm by landmarks")
    return "; ".join(out)
