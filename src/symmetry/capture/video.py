"""Score every frame of a recording; find the rest and peak frames of each expression.

    >>> from symmetry.capture.video import analyze_video
    >>> va = analyze_video("session.mp4")
    >>> va.frames[["time_s", "expression", "symmetry_index"]]      # one row per frame
    >>> va.results["smile"].frames                                  # the best smile frames
    >>> from symmetry.render.video_plot import plot_video
    >>> plot_video(va, "session_symmetry.png")

Every frame goes through a VIDEO-mode landmarker (increasing timestamps from the
frame index and the file's frame rate), the capture quality gates
(`symmetry.capture.quality`) and the blendshape expression detector
(`symmetry.face.expressions`). The millimetre scale is
calibrated once from the recording's rest frames (median inter-pupil distance
from the iris), so frames with closed or squinting eyes keep a sound scale.
The per-frame table is that one fast landmark pass a frame (method "landmarks"); the
chosen frames of each expression are measured again as photos are (`analyze`'s default,
method "canonical"), so the summary gives a frame the numbers `symmetry analyze` and
`symmetry score` give it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from symmetry.capture.frames import ExpressionResult, choose_frames, frame_labels
from symmetry.capture.observation import FrameObservation, observe
from symmetry.capture.quality import JitterTracker
from symmetry.face.expressions import RestReference, eye_closure
from symmetry.face.measures import MM_FIELDS, Measurement, rescaled

#: Frame rate assumed when the file does not say (or says something absurd).
DEFAULT_FPS = 30.0

#: Per-frame measures written to the CSV (units in the names; see docs/measurements.md).
MEASURE_COLUMNS = (
    "status", "message", "method", "yaw_deg", "pitch_deg", "roll_deg", "mm_per_px", "scale_source", "interpupil_mm",
    "eye_opening_right_mm", "eye_opening_left_mm", "eye_opening_ratio", "eye_opening_difference_mm",
    "brow_height_right_mm", "brow_height_left_mm", "brow_asymmetry_mm",
    "mouth_corner_height_right_mm", "mouth_corner_height_left_mm", "mouth_droop_mm", "symmetry_index",
)


class VideoError(ValueError):
    """The video cannot be opened or decoded; the message says what to do."""


@dataclass
class VideoAnalysis:
    """The per-frame table and the chosen frames of a recording.

    Attributes:
        path: the video file.
        fps: its frame rate (frames per second).
        size: (width, height) in px.
        frames: one row per decoded frame (see `frame_table`).
        results: expression -> ExpressionResult (captured frames or why not found).
        rest: the resting reference (eye openings, inter-pupil distance) or None.
        interpupil_mm: the calibration used for every frame's mm, or NaN (iris per frame).
        frames_expected: the frame count the file header claims (0 if unknown).
        decode_note: set when decoding stopped early.
    """

    path: str
    fps: float
    size: tuple[int, int]
    frames: "object"  # pandas.DataFrame
    results: dict[str, ExpressionResult]
    rest: RestReference | None
    interpupil_mm: float
    model: str = ""
    frames_expected: int = 0
    decode_note: str = ""
    observations: list[FrameObservation] = field(default_factory=list, repr=False)
    #: expression -> its chosen frames measured as photos are (`analyze`'s default method);
    #: the summary's numbers. The per-frame table keeps the fast VIDEO-mode landmarks.
    measured: dict[str, list[Measurement]] = field(default_factory=dict, repr=False)

    def summary(self):
        """One row per expression: status, chosen frames and their median measures."""
        import pandas as pd

        rows = []
        for expr, r in self.results.items():
            row = {"expression": expr, "status": r.status, "frames": " ".join(str(c.observation.index) for c in r.frames),
                   "time_s": " ".join(f"{c.timestamp_ms / 1000:.2f}" for c in r.frames), "reason": r.reason}
            ms = self.measured.get(expr, [])
            row["method"] = ms[0].method if ms else ""
            for col in ("symmetry_index", "mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_ratio",
                        "eye_opening_right_mm", "eye_opening_left_mm"):
                vals = [getattr(m, col) for m in ms if m.ok]
                row[col] = float(np.median(vals)) if vals else math.nan
            rows.append(row)
        return pd.DataFrame(rows)


def open_video(path: str | os.PathLike):
    """A cv2.VideoCapture that has decoded at least one frame, rewound; raises VideoError."""
    import cv2

    p = Path(path)
    if not p.is_file():
        raise VideoError(f"video file not found: {p}")
    if not os.environ.get("SYMMETRY_DEBUG"):
        # FFmpeg's own log lines ("moov atom not found") would clutter the output; our error says it.
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    cap = cv2.VideoCapture(str(p))
    ok = cap.isOpened()
    if ok:
        ok, _ = cap.read()
    if not ok:
        cap.release()
        raise VideoError(
            f"cannot decode video {p}: OpenCV/FFmpeg could not read a frame from it. Check that the file "
            "is complete, or convert it, e.g. `ffmpeg -i input -c:v libx264 output.mp4`."
        )
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    if cap.get(cv2.CAP_PROP_POS_FRAMES) != 0:  # some containers cannot seek: reopen instead
        cap.release()
        cap = cv2.VideoCapture(str(p))
    return cap


def video_fps(cap) -> float:
    import cv2

    fps = cap.get(cv2.CAP_PROP_FPS)
    return float(fps) if fps and 1.0 <= fps <= 240.0 else DEFAULT_FPS


def recalibrated(m: Measurement, interpupil_mm: float) -> Measurement:
    """The same measurement with its mm scale set from a calibrated inter-pupil distance
    (exact: see `symmetry.face.measures.rescaled`); unchanged when it cannot be rescaled."""
    values = rescaled({f: getattr(m, f) for f in MM_FIELDS}, interpupil_mm)
    if not values:
        return m
    return replace(m, scale_source="calibration", **values)


def analyze_video(
    path: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    frames_per_expression: int = 3,
    min_gap_s: float = 0.3,
    interpupil_mm: float | None = None,
    progress: bool = False,
    keep_observations: bool = False,
) -> VideoAnalysis:
    """Score every frame of a video and pick rest and peak frames per expression.

    Args:
        path: a video file OpenCV can decode (mp4, avi, mov, mkv, webm...).
        model: landmarker .task file (default: bundled).
        frames_per_expression: frames to choose per expression (at least `min_gap_s` apart).
        interpupil_mm: the person's calibrated inter-pupil distance; default: the
            median over this recording's rest frames (iris-based).
        progress: show a progress bar on stderr.
        keep_observations: keep every frame's observation (without landmarks) on the result.

    Raises:
        VideoError: the file is missing or cannot be decoded.
    """
    import cv2

    cap = open_video(path)
    fps = video_fps(cap)
    expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=expected or None, unit="frame", desc=Path(path).name, leave=False)
    try:
        observations, model_name = _observe_frames(cap, fps, model, bar)
    finally:
        cap.release()
        if bar is not None:
            bar.close()
    note = ""
    if expected and len(observations) < expected - 1:
        note = f"decoding stopped after {len(observations)} of {expected} frames; the rest of the file is damaged"
    results, rest = choose_frames(observations, frames_per_expression, min_gap_s * 1000.0)
    measured = _measure_chosen(path, results, model)
    cal = float(interpupil_mm) if interpupil_mm else _rest_interpupil(measured, rest)
    if math.isfinite(cal):
        for o in observations:
            if o.measurement is not None:
                o.measurement = recalibrated(o.measurement, cal)
        measured = {e: [recalibrated(m, cal) for m in ms] for e, ms in measured.items()}
    analysis = VideoAnalysis(
        path=str(path), fps=fps, size=size, frames=None, results=results, rest=rest, interpupil_mm=cal,
        model=model_name, frames_expected=expected, decode_note=note,
        observations=observations if keep_observations else [], measured=measured,
    )
    # Chosen frames keep their observation (and measurement) through `results`.
    analysis.frames = frame_table(observations, results, rest)
    return analysis


def _measure_chosen(path, results: dict[str, ExpressionResult], model) -> dict[str, list[Measurement]]:
    """The chosen frames of each expression measured as a photo is (`analyze`, the lone-photo
    default), so that a frame gives the numbers `symmetry analyze` and `symmetry score` give it;
    each candidate keeps its RGB image as `payload` (what `capture --headless` saves)."""
    from symmetry.photo.analysis import analyze

    wanted = {c.observation.index for r in results.values() for c in r.frames}
    images = read_frames(path, wanted)
    measured: dict[str, list[Measurement]] = {}
    for expr, r in results.items():
        for c in r.frames:
            bgr = images.get(c.observation.index)
            c.payload = bgr
            if bgr is not None:
                rgb = np.ascontiguousarray(bgr[:, :, ::-1])
                measured.setdefault(expr, []).append(analyze(rgb, model=model))
    return measured


def _rest_interpupil(measured: dict[str, list[Measurement]], rest: RestReference | None) -> float:
    """The recording's calibration: the median inter-pupil distance of its measured rest frames
    (as `capture` calibrates a session from its rest photos), else the rest frames' landmarks."""
    values = [m.interpupil_mm for m in measured.get("rest", []) if m.ok and math.isfinite(m.interpupil_mm)]
    if values:
        return float(np.median(values))
    return rest.interpupil_mm if rest is not None else math.nan


def _observe_frames(cap, fps: float, model, bar) -> tuple[list[FrameObservation], str]:
    """Every frame of an open video through a VIDEO-mode landmarker and `observe`,
    until decoding stops; returns the observations and the model's file name."""
    import cv2

    from symmetry.face.landmarks import Landmarker

    observations: list[FrameObservation] = []
    jitter = JitterTracker()
    with Landmarker(model, mode="video") as lm:
        index = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            t_ms = index * 1000.0 / fps
            faces = lm.detect_for_video(rgb, int(round(t_ms)))
            obs = observe(faces, rgb, index, t_ms, jitter)
            # Keep the numbers, drop the 478 landmarks: memory stays flat on long recordings.
            if obs.measurement is not None:
                obs.measurement = replace(obs.measurement, face=None, frame=None)
            observations.append(obs)
            index += 1
            if bar is not None:
                bar.update(1)
        return observations, lm.model_path.name


def frame_table(observations: list[FrameObservation], results: dict[str, ExpressionResult], rest: RestReference | None):
    """One row per frame: time, detected expression, chosen-for, quality gates, evidence, measures."""
    import pandas as pd

    chosen = {c.observation.index: expr for expr, r in results.items() for c in r.frames}
    labels = frame_labels(observations, rest)
    rows = []
    for o, label in zip(observations, labels):
        q = o.quality
        row = {
            "frame": o.index,
            "time_s": round(o.timestamp_ms / 1000.0, 4),
            "expression": label,
            "chosen_for": chosen.get(o.index, ""),
            "quality_ok": q.ok,
            "problems": ";".join(q.problems),
            "guidance": q.guidance,
            "interpupil_px": q.interpupil_px,
            "jitter": q.jitter,
            "brightness": q.brightness,
            "clipped_fraction": q.clipped_fraction,
            "side_light_ratio": q.side_light_ratio,
        }
        e = o.evidence
        for name in ("brow_raise", "blink", "squeeze", "smile", "pucker", "jaw_open"):
            row[name] = getattr(e, name) if e is not None else math.nan
        row["activity"] = e.activity if e is not None else math.nan
        row["eye_closure"] = eye_closure(e, rest) if e is not None else math.nan
        m = o.measurement or Measurement(status="no_face")
        for col in MEASURE_COLUMNS:
            row[col] = getattr(m, col)
        rows.append(row)
    return pd.DataFrame(rows)


def read_frames(path: str | os.PathLike, indices: set[int]) -> dict[int, np.ndarray]:
    """The BGR frames at `indices`, by decoding the file in order (seeking is not exact in many codecs)."""
    cap = open_video(path)
    out: dict[int, np.ndarray] = {}
    try:
        last = max(indices) if indices else -1
        index = 0
        while index <= last:
            if index in indices:
                ok, bgr = cap.read()
                if not ok:
                    break
                out[index] = bgr
            elif not cap.grab():
                break
            index += 1
    finally:
        cap.release()
    return out


def write_outputs(analysis: VideoAnalysis, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write <stem>_frames.csv and <stem>_expressions.csv into out_dir (the plot:
    `symmetry.render.video_plot.write_video_plot`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(analysis.path).stem
    paths = {"frames": out / f"{stem}_frames.csv", "expressions": out / f"{stem}_expressions.csv"}
    analysis.frames.to_csv(paths["frames"], index=False, float_format="%.4f")
    analysis.summary().to_csv(paths["expressions"], index=False, float_format="%.4f")
    return paths
