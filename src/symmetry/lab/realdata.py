"""Real-photo validation: loaders for the development sets in ``../shared/real`` and the metrics
that judge each method on them (false change from light, healthy-face false asymmetry, repeat
spread, agreement with hand-placed points, palsy/healthy separation).

The photos are real people (some patients) and are never copied into the repository: the
harness (`scripts/validate_real.py`) reads them in place and writes frames and symlinks under
/tmp only. Everything here is pure except the loaders, `measure`, `write_score_layout` and
`score_readings`.

Held-out split (`split_halves`): within each set the people are sorted by id and taken in
turn: even positions (0, 2, ...) are the tuning half, odd positions the held-out half. People
are the Yale subject (lighting), the clip (videos), the Caltech person range or "deepface"
(repeats) and the file (palsy: each ``yuz`` photo is a different person). PALDA photos carry
no person id, so palda-dev is split the same way by sorted file name.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field, fields, make_dataclass
from pathlib import Path

import numpy as np

from symmetry.vocabulary import Method, Status

HALVES = ("tuning", "heldout")

#: A measure past these bounds, in a row still marked "ok", is physically implausible for a face.
#: Looser than `measures.PLAUSIBLE_MM` on purpose: an outside check that the pipeline's own
#: plausibility check lets no impossible reading through as "ok".
MAX_ABS_ASYMMETRY_MM = 25.0
EYE_OPENING_RANGE_MM = (0.0, 25.0)

#: Light direction bins, by |azimuth| in degrees (upper edge inclusive); the last is "> 90".
AZIMUTH_BINS = ((0, 20), (25, 45), (50, 60), (70, 90), (95, 180))
FRONTAL_LIGHT = "P00A+000E+00"
_LIGHT_RE = re.compile(r"P00A([+-]\d{3})E([+-]\d{2})")

#: Caltech faces 1999: consecutive file numbers are one person. Boundaries checked by eye on a
#: contact sheet of all 100 photos (gaps in the numbering are photos not in this subset).
CALTECH_PEOPLE = {
    "caltech1": (1, 21), "caltech2": (22, 41), "caltech3": (42, 46), "caltech4": (47, 68),
    "caltech5": (69, 89), "caltech6": (90, 112), "caltech7": (113, 114),
}

# Expression of a video frame from MediaPipe's blendshapes (0..1). Checked on contact sheets:
# the blink coefficients move together, so a real wink differs by only 0.35-0.45 (d3), while a
# downward gaze reads 0.7/0.4 (both lids low): a wink also needs one eye open. Nobody's resting
# face has all coefficients under 0.2 (eyeSquint reads 0.4-0.7 at rest, blinks up to 0.35 on
# hooded lids), so rest ignores squint and gaze, allows blinks under 0.4, and asks for a closed
# jaw, which drops talking frames and the one-sided grimaces of d6 that no mouth coefficient sees.
SMILE_MIN = 0.5
BROW_RAISE_MIN = 0.5
EYES_CLOSED_MIN = 0.5
WINK_DIFFERENCE_MIN, WINK_OPEN_MAX = 0.35, 0.25
REST_MAX, REST_BLINK_MAX, REST_JAW_MAX = 0.25, 0.4, 0.15
_REST_FAMILIES = ("mouth", "brow", "jaw", "cheek", "noseSneer", "eyeWide")
VIDEO_EXPRESSIONS = ("rest", "smile", "brow_raise", "eyes_closed", "wink")


# ------------------------------------------------------------------ split
def split_halves(ids) -> dict[str, str]:
    """Each id -> "tuning" (even position in sorted order) or "heldout" (odd)."""
    return {pid: HALVES[i % 2] for i, pid in enumerate(sorted(set(ids)))}


def in_half(ids, half: str) -> set[str]:
    """The ids in `half` ("tuning", "heldout" or "all")."""
    halves = split_halves(ids)
    return {pid for pid, h in halves.items() if half in ("all", h)}


# ------------------------------------------------------------------ the photos
@dataclass(frozen=True)
class Photo:
    """One real photo (or saved video frame) to measure, and what is known about it."""

    set: str  # lighting, videos, repeats, palda, palsy
    key: str  # unique within all sets
    path: str
    person: str
    reference: str = ""  # path of the person's reference photo for "tracked" ("" = none)
    azimuth: float = math.nan  # lighting: light direction, degrees
    elevation: float = math.nan
    expression: str = ""  # videos: from blendshapes
    group: str = ""  # palda: peripheral / central / healthy
    order: int = 0  # position in the person's series (frame number, photo number)


def light_direction(name: str) -> tuple[float, float] | None:
    """(azimuth, elevation) in degrees from a Yale B file name, or None (the ambient shot)."""
    m = _LIGHT_RE.search(name)
    return (float(m.group(1)), float(m.group(2))) if m else None


def azimuth_bin(azimuth: float) -> str:
    """The label of the |azimuth| bin ("0-20", ..., ">90")."""
    a = abs(azimuth)
    for lo, hi in AZIMUTH_BINS[:-1]:
        if a <= hi:
            return f"{lo}-{hi}"
    return f">{AZIMUTH_BINS[-2][1]}"


def lighting_photos(root: Path) -> list[Photo]:
    """Extended Yale B: every lit photo; each person's reference is the frontal light."""
    out = []
    for folder in sorted((root / "lighting").glob("yaleB*")):
        frontal = folder / f"{folder.name}_{FRONTAL_LIGHT}.png"
        for path in sorted(folder.glob("*.png")):
            direction = light_direction(path.name)
            if direction is None:  # the ambient shot has no light direction
                continue
            out.append(Photo("lighting", path.stem, str(path), folder.name, str(frontal),
                             azimuth=direction[0], elevation=direction[1]))
    return out


def caltech_person(name: str) -> str:
    """The Caltech person of ``image_NNNN.jpg`` ("" if outside the known ranges)."""
    number = int(re.search(r"(\d+)", name).group(1))
    return next((p for p, (lo, hi) in CALTECH_PEOPLE.items() if lo <= number <= hi), "")


def repeat_photos(root: Path) -> list[Photo]:
    """Caltech people and the deepface person; each person's reference is their first photo."""
    people: dict[str, list[Path]] = {}
    for path in sorted((root / "repeats" / "caltech").glob("*.jpg")):
        people.setdefault(caltech_person(path.name), []).append(path)
    # deepface numbers are not zero-padded: img2 comes before img10.
    deepface = (root / "repeats" / "deepface").glob("img*.jpg")
    people["deepface"] = sorted(deepface, key=lambda p: int(re.search(r"(\d+)", p.name).group(1)))
    return [Photo("repeats", f"{person}/{p.stem}", str(p), person, str(paths[0]), order=i)
            for person, paths in sorted(people.items()) if person for i, p in enumerate(paths)]


def palda_photos(root: Path) -> tuple[list[Photo], dict[str, np.ndarray]]:
    """PALDA photos, and their 68 hand (iBUG order) points in original pixels by photo key."""
    data = json.loads((root / "palda-dev" / "annotations.json").read_text())
    photos, points = [], {}
    for item in data["images"]:
        key = item["file"].removeprefix("images/")
        photos.append(Photo("palda", key, str(root / "palda-dev" / item["file"]), key, group=item["group"]))
        points[key] = np.asarray(item["points"], dtype=float)
    return sorted(photos, key=lambda p: p.key), points


def palsy_photos(root: Path) -> list[Photo]:
    """The ``yuz*`` photos of people with palsy (the volunteers' selfies are left out)."""
    return [Photo("palsy", p.stem, str(p), p.stem) for p in sorted((root / "palsy").glob("yuz*"))]


# ------------------------------------------------------------------ video frames
def classify_frame(blendshapes: dict[str, float]) -> str:
    """The expression a frame shows by its blendshapes (one of VIDEO_EXPRESSIONS), or ""."""
    b = blendshapes
    if not b:
        return ""
    blink_l, blink_r = b["eyeBlinkLeft"], b["eyeBlinkRight"]
    # Wink first: it is the rarest and most specific; a smile next, whatever the eyes do.
    if abs(blink_l - blink_r) > WINK_DIFFERENCE_MIN and min(blink_l, blink_r) < WINK_OPEN_MAX:
        return "wink"
    if (b["mouthSmileLeft"] + b["mouthSmileRight"]) / 2 > SMILE_MIN:
        return "smile"
    if blink_l > EYES_CLOSED_MIN and blink_r > EYES_CLOSED_MIN:
        return "eyes_closed"
    if b["browInnerUp"] > BROW_RAISE_MIN or (b["browOuterUpLeft"] + b["browOuterUpRight"]) / 2 > BROW_RAISE_MIN:
        return "brow_raise"
    moving = max(v for k, v in b.items() if k.startswith(_REST_FAMILIES))
    if moving < REST_MAX and b["jawOpen"] < REST_JAW_MAX and max(blink_l, blink_r) < REST_BLINK_MAX:
        return "rest"
    return ""


def spread(items: list, k: int) -> list:
    """Up to `k` of `items`, evenly spread over the list (first and last included)."""
    if len(items) <= k:
        return list(items)
    return [items[int(i)] for i in np.unique(np.round(np.linspace(0, len(items) - 1, k)))]


# ------------------------------------------------------------------ one reading
#: The numbers a `Reading` keeps, named as in `Measurement` and the score table.
_VALUES = ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_ratio", "eye_opening_difference_mm",
           "eye_opening_right_mm", "eye_opening_left_mm", "mm_per_px", "symmetry_index",
           "mouth_corner_height_right_mm", "mouth_corner_height_left_mm", "brow_height_right_mm",
           "brow_height_left_mm", "interpupil_mm")

#: What one method read from one photo: key, method, status, message, the `_VALUES` (NaN where
#: it read nothing) and `row_method`, the method the pipeline says it used (a tracked photo
#: may fall back). Built from `_VALUES` so the number fields are named once.
Reading = make_dataclass(
    "Reading",
    [("key", str), ("method", str), ("status", str), ("message", str, field(default="")),
     *[(name, float, field(default=math.nan)) for name in _VALUES],
     ("row_method", str, field(default=""))],
    frozen=True,
    namespace={"ok": property(lambda self: self.status == Status.OK),
               "to_dict": lambda self: {f.name: getattr(self, f.name) for f in fields(self)}},
)
Reading.__module__ = __name__  # make_dataclass names no module before Python 3.12 (pickling needs it)


def reading_from(key: str, method: str, row) -> Reading:
    """A `Reading` from a `Measurement` or a score-table row (dict or pandas Series)."""
    get = row.get if hasattr(row, "get") else lambda name, default=None: getattr(row, name, default)

    def number(name: str) -> float:
        value = get(name, math.nan)
        return math.nan if value is None or value == "" else float(value)

    return Reading(key, method, str(get("status", "")), str(get("message", "") or ""),
                   **{name: number(name) for name in _VALUES}, row_method=str(get("method", "") or ""))


def measure(photo: Photo, method: str, landmarker, reference=None) -> Reading:
    """`symmetry.analyze` of one photo; a failure becomes a status, never an exception, so
    that one bad photo is counted rather than stopping the run."""
    from symmetry.photo.analysis import analyze

    try:
        m = analyze(photo.path, method=method, reference=reference, landmarker=landmarker)
    except Exception as exc:  # noqa: BLE001 - every failure is a finding to count
        return Reading(photo.key, method, Status.ERROR.value, f"{type(exc).__name__}: {exc}")
    return reading_from(photo.key, method, m)


def implausible_reasons(r: Reading) -> list[str]:
    """Why an "ok" reading cannot belong to a real face (empty when it can, or when not ok)."""
    if not r.ok:
        return []
    lo, hi = EYE_OPENING_RANGE_MM
    eyes = (r.eye_opening_right_mm, r.eye_opening_left_mm)
    reasons = []
    if any(abs(v) > MAX_ABS_ASYMMETRY_MM for v in (r.mouth_droop_mm, r.brow_asymmetry_mm)):
        reasons.append(f"|asymmetry| > {MAX_ABS_ASYMMETRY_MM:g} mm")
    if any(v < lo for v in eyes):
        reasons.append(f"eye opening < {lo:g} mm")
    if any(v > hi for v in eyes):
        reasons.append(f"eye opening > {hi:g} mm")
    return reasons


def implausible(r: Reading) -> bool:
    """An "ok" reading whose asymmetry or eye opening cannot belong to a real face."""
    return bool(implausible_reasons(r))


def tracked_from_reference(r: Reading) -> bool:
    """A reading the pipeline tracked from the reference photo. `analyze` measures a photo on its
    own instead (its method column then names the single-photo method, its message says why)
    when it does not line up with the reference or disagrees with it."""
    return r.ok and r.row_method == Method.TRACKED


# ------------------------------------------------------------------ hand points (PALDA)
def hand_measures(points: np.ndarray, mm_per_px: float) -> dict[str, float]:
    """Our measures from 68 iBUG points, in a frame built from the points themselves.

    iBUG 36-41 is the image-left eye, i.e. the patient's RIGHT eye. Pupil = mean of an eye's
    six points; the pupil line levels the frame; heights are along its perpendicular, in mm
    at `mm_per_px` (our landmarks' scale for the same photo, so both read the same mm).
    """
    p = np.asarray(points, dtype=float)
    pupil_r, pupil_l = p[36:42].mean(axis=0), p[42:48].mean(axis=0)
    level = (pupil_l - pupil_r) / np.linalg.norm(pupil_l - pupil_r)
    down = np.array([-level[1], level[0]])  # image y points down: this is down the face

    def below(q: np.ndarray) -> np.ndarray:
        return ((q - (pupil_r + pupil_l) / 2) @ down) * mm_per_px

    mouth_r, mouth_l = below(p[48]), below(p[54])
    brow_r, brow_l = -below(p[17:22]).mean(), -below(p[22:27]).mean()
    eye_r = float(np.mean([below(p[41]) - below(p[37]), below(p[40]) - below(p[38])]))
    eye_l = float(np.mean([below(p[47]) - below(p[43]), below(p[46]) - below(p[44])]))
    bigger = max(eye_r, eye_l)
    return {
        "mouth_droop_mm": float(mouth_r - mouth_l),
        "brow_asymmetry_mm": float(brow_l - brow_r),
        "eye_opening_ratio": min(eye_r, eye_l) / bigger if bigger > 0 else math.nan,
        "eye_opening_right_mm": eye_r,
        "eye_opening_left_mm": eye_l,
    }


# ------------------------------------------------------------------ statistics
def finite(values) -> np.ndarray:
    a = np.asarray(list(values), dtype=float)
    return a[np.isfinite(a)]


def median(values) -> float:
    """Median of the finite values (NaN when there are none)."""
    a = finite(values)
    return float(np.median(a)) if a.size else math.nan


def pearson_and_slope(ours, truth) -> tuple[float, float, int]:
    """Pearson r, least-squares slope of ours on truth (1 = sees all of it), and n (finite pairs)."""
    x, y = np.asarray(truth, dtype=float), np.asarray(ours, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        return math.nan, math.nan, int(x.size)
    r = float(np.corrcoef(x, y)[0, 1])
    slope = float(np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2))
    return r, slope, int(x.size)


def roc_auc(positives, negatives) -> float:
    """Area under the ROC curve of a score that should be higher for positives: the chance that
    a random positive outscores a random negative, ties counting half (Mann-Whitney U / n1 n0)."""
    pos, neg = finite(positives), finite(negatives)
    if not pos.size or not neg.size:
        return math.nan
    above = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(above + 0.5 * ties)


# ------------------------------------------------------------------ symmetry score
@dataclass(frozen=True)
class ScoreEntry:
    """Where one photo goes in a folder laid out for `symmetry score` (PERSON/DATE/NAME)."""

    key: str
    path: str
    person: str
    date: str  # YYYY-MM-DD
    name: str  # file stem: the expression word, with a numeric suffix where needed


def write_score_layout(entries: list[ScoreEntry], folder: Path) -> dict[str, str]:
    """Symlink each photo as ``folder/PERSON/DATE/NAME.ext`` (no copies); {link path: key}."""
    links = {}
    for e in entries:
        link = folder / e.person / e.date / (e.name + Path(e.path).suffix.lower())
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.abspath(e.path), link)
        links[os.path.abspath(link)] = e.key
    return links


def score_readings(folder: Path, out: Path, links: dict[str, str], jobs: int = 2,
                   method: str | None = None) -> list[Reading]:
    """Run `symmetry score` on a laid-out folder, by default as the command does (`method` None;
    readings named "score"), or with a batch method of its own ("score-METHOD"). One Reading
    per photo; a photo the table leaves out reads status "missing"."""
    from symmetry.batch.engine import score_folder

    options = {} if method is None else {"method": method}
    name = "score" if method is None else f"score-{method}"
    table = score_folder(folder, out=out, jobs=jobs, progress=False, **options)
    rows = {os.path.abspath(row["path"]): row for row in table.to_dict("records")}
    return [reading_from(key, name, rows[link]) if link in rows else Reading(key, name, "missing")
            for link, key in links.items()]
