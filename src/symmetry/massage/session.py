"""The guided self-massage as a state machine, and the massage log it appends to.

`MassageSession` knows nothing of cameras or windows: the shell (`massage.live`) feeds it the
time of each frame (seconds, the source's own clock, so a video file runs on video time) and the
keys pressed. Time counts while the step runs, whether or not the face is in view (hands cover
the face while massaging), and stops while paused.

The log (`append_log`) is the CSV the report reads (`symmetry report --log`): one row per
session, written atomically (a complete new file replaces the old one), so an interruption
never leaves half a line; a hand-written log keeps its columns and rows.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from symmetry.massage.sequence import Sequence, Step
from symmetry.massage.table import BY_CODE

#: Columns the session writes (the report reads date, person, duration, technique, acupoints,
#: notes; start and side are extra). duration is in minutes of massage (pauses left out).
LOG_COLUMNS = ("date", "start", "person", "duration", "technique", "acupoints", "side", "notes")
#: A step cut short (skipped, quit, Ctrl-C) counts as done when at least this share of it ran.
DONE_FRACTION = 0.5
KEYS = {" ": "pause", "n": "skip", "s": "skip", "q": "quit", "\x1b": "quit"}


@dataclass(frozen=True)
class Task:
    """One step made concrete for a person: the sides its point(s) are shown on."""

    step: Step
    sides: tuple[str, ...]  # "right"/"left"/"midline", or () for a hidden point or an area on no side

    @property
    def title(self) -> str:
        return self.step.title


def plan(sequence: Sequence, weak_side: str) -> tuple[Task, ...]:
    """The sequence's steps with their sides resolved for this person's weak side."""
    strong = "left" if weak_side == "right" else "right"
    tasks = []
    for s in sequence.steps:
        spec = BY_CODE.get(s.point)
        if spec is not None and spec.kind == "midline":
            sides = ("midline",)
        else:
            sides = {"weak": (weak_side,), "strong": (strong,), "both": ("right", "left")}[s.side]
        tasks.append(Task(s, sides))
    return tuple(tasks)


@dataclass
class MassageSession:
    """Steps through the tasks: update(t) each frame, key(k) for the keys; read its state."""

    tasks: tuple[Task, ...]
    index: int = 0
    paused: bool = False
    stop_reason: str = ""
    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    _step_run: float = 0.0  # seconds the current step has run
    _last_t: float | None = None
    active_s: float = 0.0  # seconds of massage, pauses left out

    @property
    def finished(self) -> bool:
        return bool(self.stop_reason)

    @property
    def current(self) -> Task | None:
        return self.tasks[self.index] if not self.finished and self.index < len(self.tasks) else None

    @property
    def next(self) -> Task | None:
        return self.tasks[self.index + 1] if self.index + 1 < len(self.tasks) else None

    @property
    def seconds_left(self) -> float:
        task = self.current
        return max(0.0, task.step.seconds - self._step_run) if task else 0.0

    @property
    def fraction(self) -> float:
        """Share of the current step done, 0..1."""
        task = self.current
        return min(1.0, self._step_run / task.step.seconds) if task else 1.0

    def update(self, t: float) -> None:
        """Advance to time `t` (seconds, increasing)."""
        if self._last_t is None or self.finished:
            self._last_t = t
            return
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        if self.paused:
            return
        while dt > 0 and not self.finished:
            left = self.tasks[self.index].step.seconds - self._step_run
            used = min(dt, left)
            self._step_run += used
            self.active_s += used
            dt -= used
            if self._step_run >= self.tasks[self.index].step.seconds - 1e-9:
                self._advance(done=True)

    def key(self, key: str) -> None:
        """A key press: space pauses or resumes, n or s skips the step, q or Esc quits."""
        action = KEYS.get(key.lower() if key != " " else key)
        if action == "pause" and not self.finished:
            self.paused = not self.paused
        elif action == "skip" and not self.finished:
            self._advance(done=self.fraction >= DONE_FRACTION)
        elif action == "quit":
            self.stop("quit")

    def stop(self, reason: str) -> None:
        """End the session; the step under way counts if at least `DONE_FRACTION` of it ran."""
        if self.finished:
            return
        if self.current is not None and self._step_run > 0:
            (self.done if self.fraction >= DONE_FRACTION else self.skipped).append(self.index)
        self.stop_reason = reason

    def _advance(self, done: bool) -> None:
        (self.done if done else self.skipped).append(self.index)
        self.index += 1
        self._step_run = 0.0
        if self.index >= len(self.tasks):
            self.stop_reason = "completed"

    # -------------------------------------------------------------- the log row
    def log_row(self, person: str, weak_side: str, started: _dt.datetime, sequence: Sequence) -> dict:
        """This session as one massage-log row (`LOG_COLUMNS`)."""
        done = [self.tasks[i].step for i in self.done]
        codes = list(dict.fromkeys(s.point for s in done if s.point))
        areas = list(dict.fromkeys(s.area for s in done if s.area))
        notes = [f"guided: {sequence.name}", f"{len(self.done)} of {len(self.tasks)} steps"]
        if areas:
            notes.append("areas " + " ".join(areas))
        if self.skipped:
            notes.append("skipped " + " ".join(self.tasks[i].step.target for i in self.skipped))
        if self.stop_reason and self.stop_reason != "completed":
            notes.append(f"stopped: {self.stop_reason}")
        return {
            "date": started.date().isoformat(), "start": started.strftime("%H:%M"), "person": person,
            "duration": f"{self.active_s / 60:.1f}", "technique": " ".join(dict.fromkeys(s.technique for s in done)),
            "acupoints": " ".join(codes), "side": weak_side, "notes": "; ".join(notes),
        }


def append_log(path: str | os.PathLike, row: dict) -> Path:
    """Add `row` to the CSV log at `path` atomically; create it (and its folder) if needed.

    The file is rewritten whole to a temporary file beside it, flushed to disk, and moved over
    the old one, so a reader (or a crash) sees the old log or the new one, never a broken line.
    Columns of an existing log are kept in their order; new ones are added at the end.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header, rows = list(LOG_COLUMNS), []
    if path.is_file() and path.stat().st_size:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = [c for c in (reader.fieldnames or []) if c is not None]
            rows = list(reader)
        # A hand-written log may spell its columns otherwise ("Date"): keep its spelling.
        spelling = {c.strip().lower(): c for c in header}
        row = {spelling.get(k, k): v for k, v in row.items()}
        header += [c for c in row if c not in header]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows + [row])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        f.write(buffer.getvalue())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------ the weak side from scores
def weak_side_from_scores(person: str, out: str | os.PathLike = "sessions",
                          scores: str | os.PathLike | None = None) -> tuple[str | None, str]:
    """The person's weak side from their latest resting photos, and where that came from.

    Looks in `scores` (a scores.csv with a person column) if given, else in the person's
    session folders OUT/PERSON/DATE[_phase]/scores.csv that `symmetry capture` writes; takes the
    latest session with measured resting photos (median of them). None when there are no
    such photos or they show no clear one-sided droop (`areas.weak_side`).
    """
    from symmetry.massage.areas import weak_side

    sessions = _score_files(person, out, scores)
    for label, rows in sessions:
        rest = [r for r in rows if r.get("status") == "ok" and _expression(r) == "rest"]
        if not rest:
            continue
        droop = _median(r.get("mouth_droop_mm") for r in rest)
        brow = _median(r.get("brow_asymmetry_mm") for r in rest)
        side, why = weak_side(droop, brow)
        return side, f"{label}, {len(rest)} resting photo(s): {why}"
    return None, "no measured resting photo of this person"


def _score_files(person: str, out, scores) -> list[tuple[str, list[dict]]]:
    """[(label, rows)], latest session first."""
    if scores is not None:
        rows = [r for r in _read_csv(Path(scores)) if r.get("person", "") == person]
        by_date: dict[str, list[dict]] = {}
        for r in rows:
            by_date.setdefault(r.get("date", ""), []).append(r)
        return [(f"{scores} {d}".strip(), by_date[d]) for d in sorted(by_date, reverse=True)]
    folder = Path(out) / person
    if not folder.is_dir():
        return []
    found = [(p.name, p / "scores.csv") for p in folder.iterdir() if (p / "scores.csv").is_file()]
    rank = {"pre": 0, "": 1, "post": 2}  # the day's pre photos before its post photos
    found.sort(key=lambda f: (f[0][:10], rank.get(f[0][11:], 1)), reverse=True)
    return [(f"session {name}", _read_csv(path)) for name, path in found]


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _expression(row: dict) -> str:
    expr = row.get("expression") or ""
    if expr:
        return expr
    stem = Path(row.get("path", "")).stem  # capture names photos EXPRESSION_N.jpg
    return stem.rsplit("_", 1)[0] if stem.rsplit("_", 1)[-1].isdigit() else stem


def _median(values) -> float:
    import math
    import statistics

    numbers = []
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(x):
            numbers.append(x)
    return statistics.median(numbers) if numbers else math.nan
