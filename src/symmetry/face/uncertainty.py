"""The 95% interval of each asymmetry of one photo, from how it was measured and how good the photo is.

Half-width, mm: ``1.96 * sqrt(sd**2 + (pose_gain * angle)**2 + (light_gain * (1 - balance))**2)``,
where ``sd`` is the method's spread over real repeat photos of one person on different
occasions, ``angle`` the head's turn and tilt beyond what a frontal photo has, and
``balance`` the darker/brighter cheek brightness. The constants are measured on the real
sets by ``scripts/validate_real.py`` (docs/measurements.md, "Uncertainty"): 95% of the
differences between two repeat photos of one person fall inside the two intervals combined.
"""

from __future__ import annotations

import math

from symmetry.vocabulary import Method

#: SD of each asymmetry over real repeat photos of one person on different occasions, mm, per
#: method (mouth droop, brow asymmetry, eye-opening difference): pooled within-person SD on the
#: tuning half of the repeat sets (Caltech faces and deepface, scripts/validate_real.py).
#: "balanced" was not measured there: its mouth and brow are taken as "mirrored"'s (image
#: evidence), its eyes as "canonical"'s (which they are).
REPEAT_SD_MM = {
    Method.CANONICAL: (0.60, 0.26, 0.14),
    Method.LANDMARKS: (0.77, 0.35, 0.23),
    Method.MIRRORED: (0.81, 0.92, 0.23),
    Method.BALANCED: (0.81, 0.92, 0.14),
    Method.TRACKED: (0.76, 1.05, 0.54),
}
#: Extra SD per degree of head turn or tilt (beyond FRONTAL_DEG), mm/degree.
POSE_GAIN_MM_PER_DEG = 0.08
FRONTAL_DEG = 5.0
#: Extra SD per unit of light imbalance (1 - darker/brighter cheek), mm.
LIGHT_GAIN_MM = 2.0

#: The three signed asymmetries, and the scores column with each one's 95% interval.
ASYMMETRIES = ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm")
CI_COLUMNS = {name: f"{name.removesuffix('_mm')}_ci95_mm" for name in ASYMMETRIES}


def ci95(m) -> dict[str, float]:
    """`{measure}_ci95_mm` for each asymmetry of Measurement `m` (NaN when it was not measured)."""
    sds = REPEAT_SD_MM.get(m.method)
    if sds is None or m.face is None:
        return {column: math.nan for column in CI_COLUMNS.values()}
    angle = max(abs(_finite(m.yaw_deg)), abs(_finite(m.pitch_deg)) / 2) - FRONTAL_DEG
    pose = POSE_GAIN_MM_PER_DEG * max(angle, 0.0)
    light = LIGHT_GAIN_MM * (1.0 - _finite(m.light_balance, 1.0))
    return {CI_COLUMNS[name]: 1.96 * math.sqrt(sd ** 2 + pose ** 2 + light ** 2)
            for name, sd in zip(ASYMMETRIES, sds)}


def _finite(x: float, default: float = 0.0) -> float:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else default
