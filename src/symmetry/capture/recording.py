"""Save a captured session, score it at once, and compare it with the person's previous session.

Layout::

    OUT/PERSON/YYYY-MM-DD[_pre|_post]/
        rest_1.jpg rest_2.jpg ... smile_3.jpg   frames as the camera saw them (never mirrored)
        session.json                            settings, pose, quality, chosen frames, software, model
        scores.csv                              one row per photo, by `symmetry.score_folder`

Nothing is overwritten: a second capture into the same folder continues the
numbering (rest_4.jpg, ...) and writes session_2.json; scores.csv is brought up
to date for every photo in the folder (already scored photos are kept).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symmetry._version import __version__
from symmetry.capture import quality
from symmetry.capture.comparison import calibrated, compare_sessions, session_calibration
from symmetry.capture.frames import ExpressionResult
from symmetry.face import expressions
from symmetry.face.measures import MIN_CAPTURE_INTERPUPIL_PX
from symmetry.vocabulary import PHASE_RANK, PHASES, PROTOCOL_EXPRESSIONS

#: The phases a session folder can name ("" is a folder with the date alone).
NAMED_PHASES = tuple(p for p in PHASES if p)
SESSION_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:_(%s))?$" % "|".join(NAMED_PHASES))
PHOTO_NAME = re.compile(r"^([a-z_]+)_(\d+)\.jpg$")
#: Saved frames are near-lossless JPEG (quality 100, full-resolution colour): a frame's numbers
#: from the saved file stay within 0.02 mm of the frame's own (quality 95 moved a brow by 0.11 mm),
#: so `capture` and `analyze` of the same picture agree; about 250 KB for a 512x600 face.
JPEG_QUALITY = 100
SCORES_CSV = "scores.csv"
#: The quality gates (besides MIN_INTERPUPIL_PX) and expression thresholds that session.json records.
QUALITY_GATES = (
    "EDGE_MARGIN_FRACTION", "MAX_FACE_HEIGHT_FRACTION", "MAX_YAW_DEG", "MAX_PITCH_DEG",
    "MAX_JITTER", "JITTER_WINDOW", "MIN_BRIGHTNESS", "MAX_BRIGHTNESS", "MAX_CLIPPED_FRACTION", "MIN_SIDE_LIGHT_RATIO",
)
EXPRESSION_THRESHOLDS = (
    "BROW_RAISE_MIN", "SMILE_MIN", "PUCKER_MIN", "BLINK_MIN", "CLOSURE_MIN", "TIGHT_SQUEEZE_RISE", "REST_MAX_ACTIVITY",
)


@dataclass
class SavedSession:
    """Where a capture went and what it holds."""

    folder: Path
    json_path: Path
    files: dict[str, list[Path]] = field(default_factory=dict)
    scores: list[dict] = field(default_factory=list)
    calibration: dict = field(default_factory=dict)
    previous: Path | None = None
    comparison: "object" = None  # pandas.DataFrame or None

    @property
    def n_files(self) -> int:
        return sum(len(v) for v in self.files.values())


def safe_person(name: str) -> str:
    """The person's folder name; refuses names that would escape OUT or be ambiguous."""
    clean = name.strip()
    if not clean or clean in (".", "..") or any(c in clean for c in '/\\:*?"<>|') or clean.startswith("."):
        raise ValueError(
            f"--person {name!r} cannot be a folder name: use letters, digits, spaces, '-', '_' "
            "(no slashes, no leading dot)"
        )
    return clean


def session_folder(out: str | os.PathLike, person: str, date: str, phase: str = "") -> Path:
    """OUT/PERSON/YYYY-MM-DD[_phase]."""
    _dt.date.fromisoformat(date)  # raises ValueError on a bad date
    if phase and phase not in NAMED_PHASES:
        raise ValueError(f"phase must be one of {NAMED_PHASES} or empty, not {phase!r}")
    return Path(out) / safe_person(person) / (f"{date}_{phase}" if phase else date)


def software_versions() -> dict:
    import cv2

    try:
        from importlib.metadata import version

        mp_version = version("mediapipe")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        mp_version = "unknown"
    return {"symmetry": __version__, "mediapipe": mp_version, "opencv": cv2.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def model_info(model: str | os.PathLike | None = None) -> dict:
    from symmetry.face.landmarks import resolve_model_path

    path = resolve_model_path(model)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": path.name, "sha256": digest}


def _next_numbers(folder: Path) -> dict[str, int]:
    highest: dict[str, int] = {}
    for p in folder.glob("*.jpg"):
        m = PHOTO_NAME.match(p.name)
        if m:
            highest[m.group(1)] = max(highest.get(m.group(1), 0), int(m.group(2)))
    return highest


def _json_path(folder: Path) -> Path:
    path, n = folder / "session.json", 1
    while path.exists():
        n += 1
        path = folder / f"session_{n}.json"
    return path


def _rounded(values: dict) -> dict:
    """Floats to 4 decimals (NaN: None), for the per-frame quality and evidence in session.json."""
    return {k: (None if math.isnan(v) else round(v, 4)) if isinstance(v, float) else v for k, v in values.items()}


def _json_safe(obj):
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return _json_safe(obj.item())
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_session(
    out: str | os.PathLike,
    person: str,
    date: str,
    phase: str,
    results: dict[str, ExpressionResult],
    info: dict,
) -> SavedSession:
    """Write every chosen frame (its `payload`, a BGR array) as EXPRESSION_N.jpg plus the session JSON.

    `info` goes into the JSON as is (source, settings, stop reason, frame size...).
    Frames are written unmirrored, exactly as the source delivered them.
    """
    import cv2

    folder = session_folder(out, person, date, phase)
    folder.mkdir(parents=True, exist_ok=True)
    numbers = _next_numbers(folder)
    files: dict[str, list[Path]] = {}
    expressions = {}
    for expr in list(PROTOCOL_EXPRESSIONS) + [e for e in results if e not in PROTOCOL_EXPRESSIONS]:
        r = results.get(expr)
        if r is None:
            continue
        entries = []
        for c in r.frames:
            if c.payload is None:
                continue
            numbers[expr] = numbers.get(expr, 0) + 1
            path = folder / f"{expr}_{numbers[expr]}.jpg"
            if not cv2.imwrite(str(path), c.payload, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY,
                                                        cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]):
                raise OSError(f"could not write {path}: check free space and permissions")
            files.setdefault(expr, []).append(path)
            o = c.observation
            entries.append({
                "file": path.name,
                "frame_index": o.index,
                "time_s": round(o.timestamp_ms / 1000.0, 3),
                "manual": c.manual,
                "score": c.score,
                "pose_deg": {"yaw": o.quality.yaw_deg, "pitch": o.quality.pitch_deg, "roll": o.quality.roll_deg},
                "quality": _rounded(o.quality.to_dict()),
                "evidence": _rounded(o.evidence.to_dict()) if o.evidence is not None else None,
            })
        expressions[expr] = {"status": r.status, "reason": r.reason, "frames": entries}
    doc = {
        "person": person,
        "date": date,
        "phase": phase,
        "saved_at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "software": software_versions(),
        "model": model_info(info.pop("model", None)),
        **info,
        "expressions": expressions,
    }
    json_path = _json_path(folder)
    json_path.write_text(json.dumps(_json_safe(doc), indent=2), encoding="utf-8")
    return SavedSession(folder, json_path, files)


def photos_in(folder: Path) -> list[tuple[str, Path]]:
    """(expression, path) of the protocol photos in a session folder, in name order."""
    found = []
    for p in sorted(folder.glob("*.jpg")):
        m = PHOTO_NAME.match(p.name)
        if m:
            found.append((m.group(1), p))
    return found


def score_session(folder: str | os.PathLike, model: str | os.PathLike | None = None, progress: bool = False) -> list[dict]:
    """Score every photo in the session folder into FOLDER/scores.csv with `symmetry.score_folder`.

    The rows are the batch scorer's (output contract + provenance; person, date,
    phase and expression from the folder layout), so `symmetry score` later
    treats them as already done. The scorer runs on one thread of this process:
    for a dozen photos that is faster than starting worker processes.
    """
    from concurrent.futures import ThreadPoolExecutor

    from symmetry.batch.engine import score_folder

    folder = Path(folder)
    photos = [p for _, p in photos_in(folder)]
    if not photos:
        return []
    # The photos are named one by one: the scorer never walks its own output folder.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-score") as pool:
        table = score_folder(photos, folder, executor=pool, model=model, progress=progress)
    rows = table.to_dict("records")
    for row in rows:  # the protocol name from our own file name, whatever the layout parser said
        m = PHOTO_NAME.match(Path(str(row.get("path", ""))).name)
        if m:
            row["expression"] = m.group(1)
    return rows


def _session_key(name: str) -> tuple[str, int] | None:
    m = SESSION_FOLDER.match(name)
    if not m:
        return None
    return m.group(1), PHASE_RANK[m.group(2) or ""]


def previous_session(folder: str | os.PathLike) -> Path | None:
    """The person's latest session folder before `folder` (same day's pre counts before post)."""
    folder = Path(folder)
    key = _session_key(folder.name)
    if key is None or not folder.parent.is_dir():
        return None
    earlier = [(k, p) for p in folder.parent.iterdir() if p.is_dir() and (k := _session_key(p.name)) and k < key]
    earlier = [(k, p) for k, p in earlier if (p / SCORES_CSV).is_file() or photos_in(p)]
    return max(earlier)[1] if earlier else None


def load_scores(folder: Path, model=None) -> list[dict]:
    """A session's rows from its scores.csv (scored now with `score_session` if it has none)."""
    import pandas as pd

    csv_path = folder / SCORES_CSV
    if not csv_path.is_file():
        return score_session(folder, model)
    rows = pd.read_csv(csv_path).to_dict("records")
    for row in rows:
        m = PHOTO_NAME.match(Path(str(row.get("path", ""))).name)
        if m:
            row["expression"] = m.group(1)
    return rows


def finish_session(
    saved: SavedSession,
    model=None,
    interpupil_mm: float | None = None,
    progress: bool = False,
) -> SavedSession:
    """Score the saved session (scores.csv), calibrate it, compare it with the previous session.

    The comparison uses each session's own calibration (its rest photos; a
    session without one borrows the previous session's). scores.csv keeps the
    batch scorer's per-photo iris scale, like any `symmetry score` output.
    """
    saved.previous = previous_session(saved.folder)
    previous_rows = load_scores(saved.previous, model) if saved.previous else None
    if saved.n_files or photos_in(saved.folder):
        saved.scores = score_session(saved.folder, model, progress)
    previous_cal = session_calibration(previous_rows or [])
    saved.calibration = session_calibration(
        saved.scores, interpupil_mm, previous_cal["interpupil_mm"],
        f"previous session {saved.previous.name}" if saved.previous else "",
    )
    doc = json.loads(saved.json_path.read_text(encoding="utf-8"))
    doc["calibration"] = saved.calibration
    doc["scores_csv"] = SCORES_CSV if saved.scores else None
    if saved.previous is not None:
        doc["previous_session"] = saved.previous.name
    saved.json_path.write_text(json.dumps(_json_safe(doc), indent=2), encoding="utf-8")
    saved.comparison = compare_sessions(
        calibrated(saved.scores, saved.calibration["interpupil_mm"]),
        calibrated(previous_rows, previous_cal["interpupil_mm"]) if previous_rows else None,
    )
    return saved


def capture_from_video(
    path: str | os.PathLike,
    out: str | os.PathLike,
    person: str,
    date: str,
    phase: str = "",
    *,
    frames_per_expression: int = 3,
    min_gap_s: float = 0.3,
    model: str | os.PathLike | None = None,
    progress: bool = False,
):
    """Headless capture: detect the expressions in a recording, save the best frames, score them.

    Returns (SavedSession, VideoAnalysis). Expressions that never appear are
    recorded as "not_found" with the reason; nothing is made up for them.

    Raises:
        symmetry.capture.video.VideoError: the file cannot be decoded.
    """
    from symmetry.capture.video import analyze_video

    session_folder(out, person, date, phase)  # validate names before the long part
    # the chosen frames come back with their images as payload
    va = analyze_video(path, model=model, frames_per_expression=frames_per_expression, min_gap_s=min_gap_s, progress=progress)
    info = {
        "mode": "headless",
        "source": str(path),
        "frame_size": list(va.size),
        "fps": va.fps,
        "frames_read": len(va.frames),
        "frames_expected": va.frames_expected,
        "decode_note": va.decode_note,
        "stop_reason": "end of video",
        "model": model,
        "settings": settings_doc(frames_per_expression, min_gap_s),
    }
    saved = save_session(out, person, date, phase, va.results, info)
    return saved, va


def settings_doc(frames_per_expression: int, min_gap_s: float, **extra) -> dict:
    """A capture's settings for session.json: frames, gap, `extra` (e.g. the live timings),
    and every quality gate and expression threshold in force."""
    gates = {"MIN_INTERPUPIL_PX": MIN_CAPTURE_INTERPUPIL_PX}
    gates.update({name: getattr(quality, name) for name in QUALITY_GATES})
    gates.update({name: getattr(expressions, name) for name in EXPRESSION_THRESHOLDS})
    return {"frames_per_expression": frames_per_expression, "min_gap_s": min_gap_s, **extra, "gates": gates}
