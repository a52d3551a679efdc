"""Rows of scores.csv made up for the trends and report tests, and the synthetic recovery series scored
with the real model (shared by tests/trends and tests/render)."""

from __future__ import annotations
import functools
from pathlib import Path
import numpy as np
import pandas as pd
from symmetry.photo.analysis import REFERENCE_METHOD
from symmetry.face.measures import COLUMNS, symmetry_index


SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
SERIES_DATES = ("2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25")
SERIES_DROOP_MM = (4.0, 3.0, 2.0, 1.0)  # right mouth corner lowered, before massage
SERIES_MASSAGE_MM = 0.6  # immediate improvement after each massage
SERIES_SMILE_LEFT_MM = 5.0  # healthy corner's rise in a smile
SERIES_SMILE_RATIO = (0.3, 0.5, 0.7, 0.9)  # affected / healthy corner rise
#: Accuracy of a per-session value against the truth, mm: the validation's held-out figures for
#: the reference photo (`REFERENCE_METHOD`, README "How accurate it is") plus the tracked change.
SERIES_TOLERANCE_MM = 0.5


def _nuisance(img, rng):
    """A repeat photo: slight roll, zoom and exposure change."""
    import cv2

    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-2, 2), rng.uniform(0.97, 1.03))
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.clip(out.astype(np.float32) * rng.uniform(0.92, 1.08), 0, 255).astype(np.uint8)


def make_row(person="ann", date="2024-01-01", phase="pre", expression="rest", *, droop=0.0, brow=0.0,
             smile=(0.0, 0.0), raise_=(0.0, 0.0), eyes=(10.0, 10.0), ipd=62.0, scale=1.0, status="ok",
             model="face_landmarker.task", version="0.1.0", path=None):
    """One contract row. droop/brow: right side lower by that many mm; smile/raise_: (right, left) movement;
    `scale` mimics the per-photo iris-scale error (every mm value and the inter-pupil distance scale together)."""
    r = dict.fromkeys(COLUMNS, float("nan"))
    hr, hl = 70.0 + droop - smile[0], 70.0 - smile[1]
    br, bl = 20.0 - brow + raise_[0], 20.0 + raise_[1]
    vals = {
        "mouth_corner_height_right_mm": hr, "mouth_corner_height_left_mm": hl, "mouth_droop_mm": hr - hl,
        "brow_height_right_mm": br, "brow_height_left_mm": bl, "brow_asymmetry_mm": bl - br,
        "eye_opening_right_mm": eyes[0], "eye_opening_left_mm": eyes[1],
        "eye_opening_difference_mm": eyes[0] - eyes[1], "interpupil_mm": ipd,
    }
    for k, v in vals.items():
        r[k] = v * scale
    r["eye_opening_ratio"] = min(eyes) / max(eyes) if max(eyes) > 0 else float("nan")
    r["symmetry_index"] = symmetry_index(r["mouth_droop_mm"], r["brow_asymmetry_mm"], r["eye_opening_difference_mm"])
    r.update(path=path or f"{person}/{date}_{phase}/{expression}_{np.random.randint(1e9)}.jpg", person=person,
             date=date, phase=phase, expression=expression, status=status, message="" if status == "ok" else "why",
             model=model, version=version, method="landmarks", mm_per_px=0.25 * scale, scale_source="iris")
    if status != "ok":
        for k in vals:
            r[k] = float("nan")
        r["symmetry_index"] = float("nan")
    return r


def series(person="ann", side="right", droops=(4.0, 3.0, 2.0, 1.0), massage=0.5, repeats=2, noise=0.0, seed=0):
    """A recovering person: weekly sessions, pre and post, rest repeats, a smile and a brow raise."""
    rng = np.random.default_rng(seed)
    sgn = 1.0 if side == "right" else -1.0
    rows = []
    for week, droop in enumerate(droops):
        date = (pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=week)).strftime("%Y-%m-%d")
        for phase, d in (("pre", droop), ("post", droop - massage)):
            for _ in range(repeats):
                rows.append(make_row(person, date, phase, droop=sgn * (d + rng.normal(0, noise)), brow=sgn * d / 2,
                                     scale=1 + rng.normal(0, 0.02)))
            weak, strong = 5.0 - d, 5.0
            rows.append(make_row(person, date, phase, "smile", droop=sgn * d, brow=sgn * d / 2,
                                 smile=(weak, strong) if side == "right" else (strong, weak)))
            rows.append(make_row(person, date, phase, "brow_raise", droop=sgn * d, brow=sgn * d / 2,
                                 raise_=(8.0 - d, 8.0) if side == "right" else (8.0, 8.0 - d)))
    return pd.DataFrame(rows)


@functools.lru_cache(maxsize=None)
def recovery_series(root: str) -> tuple[pd.DataFrame, dict]:
    """Write the synthetic recovery series under `root` and score it as `symmetry score` does
    (once per test session): each photo tracked from the person's first resting photo.

    grace_hopper.jpg upscaled 2.5x (pupils ~208 px apart); 4 weekly sessions, pre and post,
    2 resting repeats with nuisances + 1 smile each (24 photos). Returns the scored rows
    (with `true_droop_mm`, the warp's own displacement) and facts about the unwarped face.
    """
    import cv2
    from PIL import Image

    import symmetry
    from symmetry.lab.synthetic import warp_feature

    rgb = np.asarray(Image.open(SAMPLES / "grace_hopper.jpg").convert("RGB"))
    big = cv2.resize(rgb, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    # The warps are centred on the raw landmarks, as in the validation harness: a warp's displacement
    # is defined at its centre, and a reference photo is tracked from its raw landmarks' positions
    # (centred on the canonical landmarks instead, the last smile read 0.79 for a true 0.9).
    base = symmetry.analyze(big, method="landmarks")
    assert base.ok, base.message
    pts, frame = base.face.points, base.frame

    def face(droop, smile_right=0.0, smile_left=0.0):
        img, right, left = big, 0.0, 0.0
        if droop - smile_right:
            img, w = warp_feature(img, pts, frame, "mouth_corner_right", droop - smile_right)
            right = w.true_shift_mm
        if smile_left:
            img, w = warp_feature(img, pts, frame, "mouth_corner_left", -smile_left)
            left = w.true_shift_mm
        return img, right - left

    rng = np.random.default_rng(5)
    truths = {}

    def save(img, rel, truth):
        path = Path(root) / "grace" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(path, quality=92)
        truths[str(path)] = truth

    for date, droop, ratio in zip(SERIES_DATES, SERIES_DROOP_MM, SERIES_SMILE_RATIO):
        for phase, d in (("pre", droop), ("post", droop - SERIES_MASSAGE_MM)):
            img, truth = face(d)
            for k in range(2):
                save(_nuisance(img, rng), f"{date}_{phase}/rest{'_2' if k else ''}.jpg", truth)
            img, truth = face(d, SERIES_SMILE_LEFT_MM * ratio, SERIES_SMILE_LEFT_MM)
            save(img, f"{date}_{phase}/smile.jpg", truth)
    rows = symmetry.score_folder(root, jobs=2, method="tracked", progress=False)
    rows["true_droop_mm"] = rows["path"].map(truths)
    # The unwarped face's own droop, measured the way a reference photo is: the truth starts from it.
    facts = {"base_droop_mm": symmetry.analyze(big, method=REFERENCE_METHOD).mouth_droop_mm}
    return rows, facts
