"""Many photos -> one table: parallel, resumable, and never losing a finished row.

    >>> import symmetry
    >>> df = symmetry.score_folder("clients/", out="results/")   # also writes results/scores.csv

How it works:

- `find_images` walks files and folders recursively in a deterministic order,
  skipping hidden files, non-images, the output folder and symlink loops.
- Each photo is scored by `score_file` on any `concurrent.futures.Executor`: by
  default a `spawn` process pool with one landmarker per worker; with
  `scheduler=` a Dask distributed cluster (`pip install "facial-symmetry[dask]"`).
- Finished rows are appended to ``scores.csv`` one whole line at a time (one
  ``write`` then ``fsync``), so after a crash or ``kill -9`` the file is valid and
  holds every finished row. At the end it is rewritten sorted by path, atomically
  (temporary file + ``os.replace``).
- By default (``method="auto"``) every photo is measured on its own with
  `analysis.SINGLE_PHOTO_DEFAULT` ("canonical"): on real photos of real people taken on
  different occasions it spreads least (README, "Real faces"). With ``method="tracked"``
  each photo is compared with the same person's first photo of the same expression
  (earliest date, ``pre`` before ``post``, then by path, so never by listing order):
  that photo is measured on its own, the later ones registered to it and their
  features tracked from it (see `refine.py`), where the tracking agrees with the
  photo's own landmarks (see `analysis.measure_tracked`). Photos without a person or
  an expression label are measured on their own.
- A rerun skips photos already scored with the same file content (SHA-256), model,
  version, method and reference photo, and scores the rest; ``force=True`` redoes all.
- Person, date, phase and expression come from `symmetry.sessions`, recomputed on
  every run (so a corrected manifest applies without rescoring).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable

from symmetry._version import __version__
from symmetry.photo.imageio import IMAGE_EXTENSIONS
from symmetry.photo.analysis import SINGLE_PHOTO_DEFAULT
from symmetry.face.measures import COLUMNS, Measurement
from symmetry.batch.sessions import SOURCE_COLUMNS, describe, manifest_key, read_exif_datetime, read_manifest

#: Provenance columns added after `measures.COLUMNS` (never renamed, only appended):
#: where person/date/phase/expression came from, the EXIF date, the file's content
#: hash (the resume key), and the overlay written for the photo (relative to the output folder).
PROVENANCE_COLUMNS = SOURCE_COLUMNS + ("exif_datetime", "file_sha256", "overlay")
BATCH_COLUMNS = COLUMNS + PROVENANCE_COLUMNS

CSV_NAME, JSON_NAME, OVERLAY_DIR, LOCK_NAME = "scores.csv", "scores.json", "overlays", ".scores.lock"
#: `method` of `run_batch`: every photo measured on its own with `analysis.SINGLE_PHOTO_DEFAULT`,
#: the reading that on real repeat photos of real people spreads least (README, "Real faces").
AUTO = "auto"
#: `method` of `run_batch`: each photo tracked from the same person's first photo of the same
#: expression. It sees the whole of a change in warps of one still photo, but on real photos
#: taken on different occasions it spread more than the single-photo reading, so it is asked for.
TRACKED = "tracked"
#: Worker task that measures a person's reference photo and prepares it for tracking.
REFERENCE_TASK = "reference"
#: Phase order when choosing a person's reference photo: before the massage first.
PHASE_RANK = {"pre": 0, "": 1, "post": 2}
#: Status of a photo whose scoring raised an unexpected error or crashed its worker.
ERROR_STATUS = "error"
#: Statuses that come with a detected face (and so an overlay when asked for).
FACE_STATUSES = ("ok", "pose_out_of_range")

_TYPES = {f.name: f.type for f in fields(Measurement)}
FLOAT_COLUMNS = tuple(c for c in COLUMNS if _TYPES.get(c) == "float")
INT_COLUMNS = tuple(c for c in COLUMNS if _TYPES.get(c) == "int")


class BatchError(Exception):
    """A batch cannot start (nothing to score, output in use, foreign scores.csv). Usage error."""


# ================================================================ finding photos
@dataclass(frozen=True)
class Found:
    """One photo to score: its absolute path and the folder it was found under."""

    path: str
    root: str


@dataclass
class Discovery:
    images: list[Found]
    ignored: int = 0  # non-image and hidden files inside scanned folders
    notes: list[str] = field(default_factory=list)


def find_images(paths: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike] = ()) -> Discovery:
    """All photos under `paths`, sorted by path, each real file once.

    Folders are walked recursively, following symbolic links but never into a
    folder already walked (symlink loops and aliases); hidden files and folders
    (names starting with ".") and files without an image extension are skipped
    and counted. Files named directly are always included. Folders in `exclude`
    (the output folder) are not walked.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    roots = []
    for p in paths:
        a = os.path.abspath(os.fspath(p))
        if not os.path.lexists(a):
            raise FileNotFoundError(f"{p}: no such file or folder")
        roots.append(a)
    # Outer folders first, so a photo found twice keeps its widest context (person folder).
    roots = sorted(set(roots))
    disc = Discovery([])
    seen_files: dict[str, Found] = {}
    seen_dirs: set[str] = set()

    def add(path: str, root: str) -> None:
        real = os.path.realpath(path)
        if real not in seen_files or path < seen_files[real].path and seen_files[real].root == root:
            seen_files[real] = Found(path, root)

    for root in roots:
        if not os.path.isdir(root):
            add(root, os.path.dirname(root))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda e: disc.notes.append(
            f"cannot read folder {e.filename}: {e.strerror}"
        )):
            real = os.path.realpath(dirpath)
            if real in seen_dirs or real in excluded:
                if real in seen_dirs and os.path.islink(dirpath):
                    disc.notes.append(f"skipped {dirpath}: a link to a folder already scanned")
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            kept = []
            for d in sorted(dirnames):
                if d.startswith("."):
                    continue
                if os.path.realpath(os.path.join(dirpath, d)) in excluded:
                    continue
                kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                if name.startswith(".") or os.path.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
                    disc.ignored += 1
                    continue
                add(os.path.join(dirpath, name), root)
    disc.images = sorted(seen_files.values(), key=lambda f: f.path)
    return disc


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the file's bytes ("" if it cannot be read)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


# ================================================================ the worker side
_local = threading.local()


def _landmarker(model: str | None):
    """One landmarker per worker process, and per thread for threaded executors
    (Dask workers run tasks in threads; a landmarker is not thread-safe)."""
    from symmetry.face.landmarks import Landmarker, close_at_exit, default_landmarker

    if threading.current_thread() is threading.main_thread():
        return default_landmarker(model)
    cache = getattr(_local, "landmarkers", None)
    if cache is None:
        cache = _local.landmarkers = {}
    if model not in cache:
        cache[model] = Landmarker(model)
        close_at_exit(cache[model])
    return cache[model]


def _init_worker(model: str | None) -> None:
    """Process-pool worker start: Ctrl-C is the parent's job; die with the parent; load the model."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:
        # After a kill -9 of the parent nobody would ever send work again: exit.
        def watch() -> None:
            from multiprocessing.connection import wait as wait_conn

            wait_conn([parent.sentinel])
            os._exit(0)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    # One worker = one core: OpenCV's own threads would only fight the other workers.
    import cv2

    cv2.setNumThreads(1)
    _landmarker(model)


def score_file(path: str, model: str | None = None, method: str | None = None, overlay: str | None = None,
               reference=None) -> dict:
    """Score one photo (runs in a worker). Never raises: failures become a status row.

    `method` is a single-photo method (default `analysis.REFERENCE_METHOD`), "tracked"
    (with `reference`, a prepared `refine.Reference` of the same person), or "reference":
    measure the photo as a person's reference (with `analysis.REFERENCE_METHOD`) and return
    the prepared `Reference` too, under the key ``"_reference"`` (None when the photo cannot
    serve as one).

    Returns the `measures.COLUMNS` row plus ``exif_datetime``, ``file_sha256`` and
    ``overlay`` (the overlay file written, or "").
    """
    from symmetry.photo.analysis import REFERENCE_METHOD, analyze, measure_reference

    method = method or REFERENCE_METHOD
    sha = file_sha256(path)
    prepared = None
    try:
        lm = _landmarker(model)
        if method == REFERENCE_TASK:
            m, prepared = measure_reference(path, landmarker=lm)
        else:
            m = analyze(path, landmarker=lm, method=method, reference=reference)
    except Exception as exc:  # one bad file never stops the batch
        from symmetry.face.landmarks import model_name

        try:
            name = model_name(model)
        except Exception:
            name = str(model or "")
        m = Measurement(
            path=path, status=ERROR_STATUS, model=name, version=__version__, method=_row_method(method),
            message=f"unexpected error while scoring: {type(exc).__name__}: {exc}. Please report it.",
        )
    row = m.to_dict()
    if method == REFERENCE_TASK:
        row["_reference"] = prepared
    row["exif_datetime"] = read_exif_datetime(path) or "" if m.status != "unreadable" else ""
    row["file_sha256"] = sha
    row["overlay"] = ""
    if overlay and m.face is not None:
        try:
            _write_overlay(path, m, overlay)
            row["overlay"] = overlay
        except Exception as exc:
            row["message"] = "; ".join(filter(None, [row["message"], f"overlay not written: {exc}"]))
    return row


def _row_method(task_method: str) -> str:
    from symmetry.photo.analysis import REFERENCE_METHOD

    return REFERENCE_METHOD if task_method == REFERENCE_TASK else task_method


def _write_overlay(path: str, m: Measurement, target: str) -> None:
    from symmetry.render.overlay import draw, save_overlay

    os.makedirs(os.path.dirname(target), exist_ok=True)
    save_overlay(draw(path, m), target)


# ================================================================ the CSV sink
def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    # One row must stay one line: the crash repair relies on it.
    return str(value).replace("\r", " ").replace("\n", " ")


def _typed(row: dict[str, str]) -> dict:
    """A CSV row (all strings) -> the same values and types as a fresh row."""
    out: dict = {}
    for c in BATCH_COLUMNS:
        v = row.get(c, "") or ""
        if c in FLOAT_COLUMNS:
            try:
                out[c] = float(v) if v != "" else math.nan
            except ValueError:
                out[c] = math.nan
        elif c in INT_COLUMNS:
            try:
                out[c] = int(float(v)) if v != "" else 0
            except ValueError:
                out[c] = 0
        else:
            out[c] = v
    return out


class CsvSink:
    """``scores.csv`` as a durable, append-only log of finished rows.

    Every row is one line, appended with a single ``write`` and made durable with
    ``fsync``; a line cut short by a crash is dropped when the file is next opened.
    `rewrite` replaces the whole file atomically (temporary file + ``os.replace``).
    One writer at a time: a lock file next to it makes a second batch on the same
    folder stop with a clear message.
    """

    def __init__(self, path: str | os.PathLike, columns: tuple[str, ...] = BATCH_COLUMNS):
        self.path = Path(path)
        self.columns = columns
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self.notes: list[str] = []

    # -- locking
    def lock(self) -> None:
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise BatchError(f"{self.path.parent} is a file; --out needs a folder")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.parent / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # Windows: no advisory lock
            pass
        except OSError:
            os.close(fd)
            raise BatchError(
                f"another `symmetry score` is writing to {self.path.parent}. Wait for it to finish, "
                "or choose another --out folder."
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- reading
    def load(self) -> list[dict]:
        """The rows already in the file (typed), after dropping a partial last line."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            self.notes.append(f"{self.path.name}: dropped an unfinished last line (the previous run was killed)")
            data = data[:cut]
        text = data.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header:
            return []
        if "path" not in header or "file_sha256" not in header:
            raise BatchError(
                f"{self.path} was not written by `symmetry score` (no path/file_sha256 columns). "
                "Choose another --out folder."
            )
        rows = []
        for i, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                self.notes.append(f"{self.path.name}: line {i} has {len(cells)} fields, not {len(header)}; dropped")
                continue
            rows.append(_typed(dict(zip(header, cells))))
        return rows

    # -- writing
    def _line(self, row: dict) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c, "")) for c in self.columns])
        return buf.getvalue().encode("utf-8", errors="backslashreplace")

    def rewrite(self, rows: Iterable[dict]) -> None:
        """Replace the file with a header and `rows`, atomically; then reopen it for appending."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(self._line({c: c for c in self.columns}))
            for row in rows:
                f.write(self._line(row))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def append(self, row: dict) -> None:
        """Append one row durably: a single write of the whole line, then fsync."""
        if self._fd is None:
            self.rewrite([])
        os.write(self._fd, self._line(row))
        os.fsync(self._fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_scores(path: str | os.PathLike):
    """Read a ``scores.csv`` written by `symmetry score` into a DataFrame with the right types.

    Text columns keep "" (not NaN) for empty cells; measures are floats (NaN when
    not measured). A partial last line left by a crash is ignored.
    """
    import pandas as pd

    sink = CsvSink(path)
    return _frame(sink.load(), pd)


def _frame(rows: list[dict], pd=None):
    if pd is None:
        import pandas as pd
    df = pd.DataFrame(rows, columns=list(BATCH_COLUMNS))
    for c in FLOAT_COLUMNS:
        df[c] = df[c].astype("float64")
    for c in INT_COLUMNS:
        df[c] = df[c].astype("int64")
    return df.reset_index(drop=True)


# ================================================================ the engine
@dataclass
class BatchResult:
    """What a batch did. `table` holds one row per photo of this run, sorted by path."""

    table: object  # pandas.DataFrame
    found: int
    scored: int
    skipped: int
    ignored: int
    counts: dict[str, int]
    elapsed_s: float
    workers: int
    interrupted: bool = False
    csv_path: str = ""
    json_path: str = ""
    overlay_dir: str = ""
    overlays_written: int = 0
    kept_other_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def all_ok(self) -> bool:
        return not self.interrupted and set(self.counts) <= {"ok"}


def batch_methods() -> list[str]:
    """"auto" (the single-photo default), "tracked" (each photo tracked from the person's first
    photo of the same expression), then the methods that measure a photo on its own."""
    from symmetry.photo.analysis import METHODS

    return [AUTO, TRACKED] + [m for m in METHODS if m != "tracked"]


def reference_candidates(labels: dict[str, dict]) -> dict[tuple[str, str], list[str]]:
    """(person, expression) -> the photos that may serve as that person's reference for that
    expression, best first: each photo is compared with the person's first photo of the same
    expression (rest with rest, smile with smile), never with another expression.

    `labels` maps each path to its person/date/phase/expression. Candidates are earliest
    date first (undated last), `pre` before unlabelled before `post`, then by path. Photos
    without a person or without an expression label get none (they are measured on their own)."""
    groups: dict[tuple[str, str], list[tuple]] = {}
    for path, lab in labels.items():
        person, expression = lab.get("person") or "", lab.get("expression") or ""
        if person and expression:
            key = (lab.get("date") or "9999-99-99", PHASE_RANK.get(lab.get("phase") or "", 1), path)
            groups.setdefault((person, expression), []).append(key)
    return {group: [k[2] for k in sorted(keys)] for group, keys in sorted(groups.items())}


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def run_batch(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike | None = None,
    *,
    jobs: int | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
    manifest: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
    method: str = AUTO,
    person: str | None = None,
    force: bool = False,
    overlays: bool = False,
    json_out: bool = False,
    progress: bool = True,
    on_row: Callable[[dict], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> BatchResult:
    """Score every photo under `paths`; see `score_folder` for the arguments.

    Raises:
        FileNotFoundError: a path, the manifest or the model does not exist.
        landmarks.ModelError: the model file cannot be loaded.
        sessions.ManifestError: the manifest cannot be used.
        BatchError: no photos found, or the output folder is in use / not ours.
    """
    from symmetry.face.landmarks import resolve_model_path

    started = time.perf_counter()
    say = log or (lambda msg: None)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if method not in batch_methods():
        raise ValueError(
            f"method must be one of {batch_methods()}, not {method!r} "
            f"(\"auto\" tracks each person's photos from their reference photo)"
        )
    if overlays and out is None:
        raise BatchError("overlays need an output folder (out=...)")
    model_file = resolve_model_path(model)
    if model is not None:
        # A damaged model would stop every worker as it starts: say so once, before any starts.
        from symmetry.face.landmarks import Landmarker

        Landmarker(model_file).close()
    # Workers resolve the default model themselves (their own install, on a cluster).
    model_arg = str(model_file) if model is not None else None
    # The resume key: content, model, version, and how the photo was to be measured (method,
    # reference photo). A row with a reference was asked to be tracked, even if it fell back.
    key_of = lambda sha, how: (sha, model_file.name, __version__) + how  # noqa: E731

    def asked(row: dict) -> tuple[str, str]:
        ref = row.get("reference") or ""
        return ("tracked", ref) if ref else (row["method"], "")

    out_dir = Path(out).expanduser().absolute() if out is not None else None
    disc = find_images(paths, exclude=[out_dir] if out_dir else [])
    if not disc.images:
        raise BatchError(
            f"no photos found in {', '.join(map(str, paths))} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))}; "
            f"{disc.ignored} other files ignored)."
        )
    entries = read_manifest(manifest) if manifest else {}
    roots = {f.path: f.root for f in disc.images}
    base = os.path.commonpath([os.path.dirname(f.root) or f.root for f in disc.images]) if out_dir else ""

    def overlay_path(path: str) -> str:
        from symmetry.render.overlay import overlay_name

        rel = os.path.relpath(path, base)
        return str(out_dir / OVERLAY_DIR / os.path.dirname(rel) / overlay_name(rel))

    def label(row: dict) -> dict:
        """Person/date/phase/expression for the row's current path (always recomputed)."""
        path = row["path"]
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = None
        s = describe(path, roots.get(path), entries.get(manifest_key(path)), row.get("exif_datetime") or None, mtime,
                     "" if row.get("expression_seen") == "unclear" else row.get("expression_seen") or "",
                     assumed_person)
        return {**row, **s.to_dict()}

    assumed_person = person or ""
    flat = not person and len(disc.images) > 1 and not any(label({"path": f.path})["person"] for f in disc.images)
    if flat:  # a flat folder of photos: one person's, whose sessions are their dates
        assumed_person = os.path.basename(os.path.commonpath([f.root for f in disc.images])) or "person"
    # Dates (EXIF read here, once) are needed before scoring to say how many sessions a flat folder
    # has, and to choose references with "tracked".
    labels = {f.path: label({"path": f.path, "exif_datetime": read_exif_datetime(f.path) or ""})
              for f in disc.images} if flat or method == TRACKED else {}
    if flat:
        by_file_time = sum(lab["date_source"] == "mtime" for lab in labels.values())
        say(f"{len(disc.images)} photos, no person folders: taken as one person ({assumed_person}), "
            f"{len({lab['date'] for lab in labels.values()})} session dates"
            + (f" ({by_file_time} dated by the file's time, having no date in their name or EXIF)" if by_file_time else "")
            + "; use --person NAME or a manifest to say otherwise")

    sink = None
    previous: list[dict] = []
    if out_dir is not None:
        sink = CsvSink(out_dir / CSV_NAME)
        sink.lock()
    try:
        if sink is not None:
            previous = sink.load()
            disc.notes.extend(sink.notes)
        current = set(roots)
        # ---- plan: how each photo is measured (references per person and expression with "tracked")
        candidates: dict[tuple[str, str], list[str]] = {}
        group_of: dict[str, tuple[str, str]] = {}  # path -> (person, expression) of its reference
        if method == TRACKED:
            candidates = reference_candidates(labels)
            group_of = {p: (lab["person"], lab["expression"]) for p, lab in labels.items()
                        if (lab["person"], lab["expression"]) in candidates}

        def how(path: str, chosen: dict[tuple[str, str], str]) -> tuple[str, str]:
            """(method, reference) of a photo's row, given each group's chosen reference."""
            if method != TRACKED:
                return (SINGLE_PHOTO_DEFAULT if method == AUTO else method), ""
            ref = chosen.get(group_of.get(path, ("", "")), "")
            if not ref or ref == path:
                return _row_method(REFERENCE_TASK), ""
            return "tracked", ref

        first_choice = {group: paths[0] for group, paths in candidates.items()}
        # ---- which photos are already scored (same content, model, version, method, reference)?
        done: dict[str, dict] = {}
        if previous and not force:
            by_path = {r["path"]: r for r in previous}
            by_key = {key_of(r["file_sha256"], asked(r)): r
                      for r in previous if r["file_sha256"] and r["status"] != ERROR_STATUS}
            hashes = _hash_all([f.path for f in disc.images], progress)
            for f in disc.images:
                sha = hashes[f.path]
                if not sha:
                    continue
                plan = how(f.path, first_choice)
                old = by_path.get(f.path)
                if (old is not None and old["status"] != ERROR_STATUS
                        and key_of(old["file_sha256"], asked(old)) == key_of(sha, plan)):
                    row = dict(old)
                else:
                    twin = by_key.get(key_of(sha, plan))
                    # Load errors name the file in their message; they cost nothing to redo.
                    if twin is None or twin["message"].startswith(os.path.basename(twin["path"]) + ":"):
                        continue
                    row = {**twin, "path": f.path, "overlay": ""}
                if overlays and row["status"] in FACE_STATUSES and not (
                    row["overlay"] and (out_dir / row["overlay"]).is_file()
                ):
                    continue  # asked for an overlay that does not exist yet: score again to draw it
                done[f.path] = label(row)
        todo = [f.path for f in disc.images if f.path not in done]
        # A group with photos still to track needs its reference prepared: its photo is
        # measured again (the same row comes out), so it counts as to do.
        waiting = {group_of[p] for p in todo if p in group_of}
        for group in waiting:
            ref_path = first_choice[group]
            if ref_path in done:
                del done[ref_path]
                todo.append(ref_path)
        todo.sort()
        kept = [r for r in previous if r["path"] not in current]
        if sink is not None:
            # Rows of photos about to be scored again are dropped now, so the file never
            # holds two rows for one photo, even if this run is killed.
            sink.rewrite(sorted(kept + list(done.values()), key=lambda r: r["path"]))

        # ---- score
        say(
            f"{len(disc.images)} photo{'s' if len(disc.images) != 1 else ''} found"
            + (f", {len(done)} already scored (skipped)" if done else "")
            + ("" if todo else "; nothing to score")
        )
        results: dict[str, dict] = {}
        interrupted = False
        workers = 0
        overlays_written = 0
        if todo:
            def finished(row: dict) -> None:
                nonlocal overlays_written
                row = label(row)
                if row.get("overlay"):
                    row["overlay"] = os.path.relpath(row["overlay"], out_dir)
                    overlays_written += 1
                results[row["path"]] = row
                if sink is not None:
                    sink.append(row)
                if on_row is not None:
                    on_row(row)

            chosen: dict[tuple[str, str], str] = {}  # (person, expression) -> reference photo, once prepared
            prepared: dict[tuple[str, str], object] = {}  # (person, expression) -> refine.Reference
            left = {group: list(candidates[group]) for group in sorted(waiting)}
            rest = set(todo)
            while left and not interrupted:
                # One round: each waiting group's next candidate is measured as its reference.
                # A candidate that fails keeps its row (with its status), and the next is tried.
                trying = {paths.pop(0): group for group, paths in left.items()}
                for path in trying:
                    rest.discard(path)
                    done.pop(path, None)

                def took(row: dict) -> None:
                    ref = row.pop("_reference", None)
                    if ref is not None:
                        group = trying[row["path"]]
                        chosen[group], prepared[group] = row["path"], ref
                    finished(row)

                ref_task = lambda path: (path, model_arg, REFERENCE_TASK, overlay_path(path) if overlays else None)  # noqa: E731
                say(f"measuring {len(trying)} reference photo{'s' if len(trying) != 1 else ''} "
                    "(each person's first photo of each expression)")
                w, interrupted = _run(sorted(trying), ref_task, took, jobs, executor, scheduler, model_arg,
                                      progress, say, desc="references")
                workers = max(workers, w)
                left = {group: paths for group, paths in left.items() if group not in chosen and paths}
            rest = sorted(rest)
            if rest and not interrupted:
                plans = {p: how(p, chosen) for p in rest}
                task = lambda path: (path, model_arg, plans[path][0], overlay_path(path) if overlays else None,  # noqa: E731
                                     prepared.get(group_of.get(path, ("", ""))) if plans[path][0] == "tracked" else None)
                w, interrupted = _run(rest, task, finished, jobs, executor, scheduler, model_arg, progress, say)
                workers = max(workers, w)
        rows = {**done, **results}
        if sink is not None:
            sink.rewrite(sorted(kept + list(rows.values()), key=lambda r: r["path"]))
        table = _frame([rows[p] for p in sorted(rows)])
        json_path = ""
        if json_out and out_dir is not None:
            json_path = str(out_dir / JSON_NAME)
            _write_json(json_path, kept + list(rows.values()))
        counts = dict(sorted(Counter(table["status"]).items()))
        missing = len(disc.images) - len(rows)
        if missing:
            counts["not scored (interrupted)"] = missing
        return BatchResult(
            table=table,
            found=len(disc.images),
            scored=len(results),
            skipped=len(done),
            ignored=disc.ignored,
            counts=counts,
            elapsed_s=time.perf_counter() - started,
            workers=workers,
            interrupted=interrupted,
            csv_path=str(sink.path) if sink else "",
            json_path=json_path,
            overlay_dir=str(out_dir / OVERLAY_DIR) if overlays else "",
            overlays_written=overlays_written,
            kept_other_rows=len(kept),
            notes=disc.notes,
        )
    finally:
        if sink is not None:
            sink.close()


def _hash_all(paths: list[str], progress: bool) -> dict[str, str]:
    """Content hashes for the resume check; threads, because hashlib releases the GIL."""
    from tqdm import tqdm

    with ThreadPoolExecutor(max_workers=4) as pool, tqdm(
        total=len(paths), desc="checking", unit="img", file=sys.stderr, disable=not progress, leave=False
    ) as bar:
        out = {}
        for path, sha in zip(paths, pool.map(file_sha256, paths)):
            out[path] = sha
            bar.update()
    return out


def _run(todo, task, finished, jobs, executor, scheduler, model_arg, progress, say, score=None,
         desc: str = "scoring") -> tuple[int, bool]:
    """Feed `todo` through an executor with a bounded number of tasks in flight.

    Returns (workers, interrupted). A crashed process pool is rebuilt and the photos
    that were in flight are retried one at a time, so only a photo that crashes a
    worker on its own gets an "error" row. `score` replaces `score_file` (tests).
    """
    from tqdm import tqdm

    score = score or score_file
    client = None
    owned = executor is None
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise BatchError(
                'a Dask scheduler needs the optional "distributed" package: pip install "facial-symmetry[dask]"'
            ) from None
        client = Client(scheduler)
        executor = client.get_executor()
        workers = max(1, sum(client.nthreads().values()))
        owned = False
    elif executor is None:
        workers = max(1, min(jobs or default_jobs(), len(todo)))
        executor = _process_pool(workers, model_arg)
    else:
        workers = max(1, getattr(executor, "_max_workers", None) or jobs or default_jobs())
    window = 2 * workers + 2
    queue = list(reversed(todo))  # pop() from the end = sorted order
    suspects: list[str] = []  # in flight when a worker died: retried alone
    alone: str | None = None  # the suspect now running alone in the pool
    any_finished = False
    inflight: dict[Future, str] = {}
    interrupted = False
    say(f"scoring {len(todo)} with {workers} worker{'s' if workers != 1 else ''}" + (f" on {scheduler}" if scheduler else ""))
    bar = tqdm(total=len(todo), desc=desc, unit="img", file=sys.stderr, disable=not progress, smoothing=0.05)

    def done_with(row: dict) -> None:
        nonlocal any_finished
        any_finished = True
        finished(row)
        bar.update()

    def collect(done_futures) -> None:
        nonlocal executor, alone
        broken = False
        for fut in done_futures:
            path = inflight.pop(fut)
            was_alone, alone = alone == path, (None if alone == path else alone)
            try:
                row = fut.result()
            except BrokenProcessPool as exc:
                if not owned:
                    raise BatchError(f"the executor's worker processes died ({exc}); use a new executor") from None
                broken = True
                if was_alone:  # it crashed a worker on its own: this photo is the culprit
                    done_with(_error_row(path, model_arg, _row_method(task(path)[2]), "the scoring process crashed on this file"))
                else:
                    suspects.append(path)
                continue
            except Exception as exc:  # e.g. a Dask worker lost; the photo gets its row
                done_with(_error_row(path, model_arg, _row_method(task(path)[2]), f"{type(exc).__name__}: {exc}"))
                continue
            done_with(row)
        if broken:
            for fut, path in list(inflight.items()):  # the rest of the pool died with it
                inflight.pop(fut)
                suspects.append(path)
            executor.shutdown(wait=False, cancel_futures=True)
            if not any_finished and not _pool_can_start(model_arg):
                raise BatchError(
                    "the worker processes stop while starting. If you call symmetry.score_folder from a "
                    'script, put the call under `if __name__ == "__main__":` (each worker process starts '
                    "by importing your script), or pass executor=concurrent.futures.ThreadPoolExecutor(1)."
                )
            executor = _process_pool(workers, model_arg)

    try:
        while queue or suspects or inflight:
            if suspects:
                if not inflight:  # isolate: one suspect alone in the pool
                    alone = suspects.pop(0)
                    inflight[executor.submit(score, *task(alone))] = alone
            else:
                while queue and len(inflight) < window:
                    path = queue.pop()
                    inflight[executor.submit(score, *task(path))] = path
            done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
            collect(done)
    except KeyboardInterrupt:
        interrupted = True
        bar.write("symmetry: interrupted; finishing the photos in progress (Ctrl-C again to stop at once)", file=sys.stderr)
        for fut in list(inflight):
            if fut.cancel():
                inflight.pop(fut)
        try:
            done, _ = wait(list(inflight), timeout=2.0)
            collect([f for f in done if not f.cancelled()])
        except (KeyboardInterrupt, BatchError):
            pass
    finally:
        bar.close()
        if owned:
            _stop_pool(executor, now=interrupted)
        if client is not None:
            client.close()
    return workers, interrupted


def _pool_can_start(model_arg) -> bool:
    """Whether a fresh worker process starts at all (else no photo is to blame)."""
    pool = _process_pool(1, model_arg)
    try:
        pool.submit(os.getpid).result(timeout=300)
        return True
    except Exception:
        return False
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _error_row(path: str, model_arg, method: str, why: str) -> dict:
    from symmetry.face.landmarks import model_name

    m = Measurement(path=path, status=ERROR_STATUS, model=model_name(model_arg), version=__version__, method=method,
                    message=f"{why}. The file may be damaged; try opening and re-saving it.")
    return {**m.to_dict(), "exif_datetime": "", "file_sha256": file_sha256(path), "overlay": ""}


def _process_pool(workers: int, model_arg):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: forking a process that holds a MediaPipe landmarker hangs or breaks the pool.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(model_arg,),
    )


def _stop_pool(executor, now: bool) -> None:
    if not now:
        executor.shutdown(wait=True)
        return
    executor.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        proc.join(timeout=2)


def _write_json(path: str, rows: list[dict]) -> None:
    def clean(v):
        return None if isinstance(v, float) and math.isnan(v) else v

    data = [{c: clean(r.get(c)) for c in BATCH_COLUMNS} for r in sorted(rows, key=lambda r: r["path"])]
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ================================================================ the library call
def score_folder(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike | None = None,
    *,
    jobs: int | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
    manifest: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
    method: str = AUTO,
    person: str | None = None,
    force: bool = False,
    overlays: bool = False,
    progress: bool = True,
):
    """Score every photo in folders and files; one row per photo, as a pandas DataFrame.

    Args:
        paths: a folder or file, or a list of them; folders are searched recursively.
        out: folder for ``scores.csv`` (and overlays). With it the batch is resumable:
            a rerun skips photos already scored with the same content, model, version,
            method and reference photo. Without it nothing is written.
        jobs: worker processes (default: all cores). Ignored with `executor`/`scheduler`.
        executor: any `concurrent.futures.Executor` to run on instead of the default
            spawn process pool (it is not shut down).
        scheduler: a Dask distributed scheduler address ("tcp://host:8786").
        manifest: a CSV with columns path, person, date, phase, expression.
        model: a face landmarker .task file (default: the bundled model).
        method: "auto" (default): every photo measured on its own with the single-photo
            default ("canonical"); "tracked": each photo tracked from the person's first
            photo of the same expression; or a single-photo method of `symmetry.analyze`
            for every photo (see `batch_methods`).
        person: the person of every photo that no folder or manifest names. Without it, a
            flat folder of photos (no person folders at all) is taken as one person, named
            after the folder, whose sessions are the photos' dates.
        force: score every photo again, even if already in ``scores.csv``.
        overlays: also write an annotated PNG per photo into ``out/overlays/``.
        progress: show a progress bar on stderr.

    Returns:
        A DataFrame with the columns of `BATCH_COLUMNS` (the output contract, then
        provenance columns), one row per photo, sorted by path. `df.attrs["summary"]`
        holds the counts per status and the output paths.

    Note:
        The default process pool uses ``spawn``, whose workers start by importing your
        script: called at a script's top level outside ``if __name__ == "__main__":``,
        the photos are scored in this process instead (one core), and a warning says how
        to use them all.
    """
    own = None
    if executor is None and scheduler is None and _unguarded_script_call():
        warnings.warn('symmetry.score_folder is called at the top level of a script, outside '
                      '`if __name__ == "__main__":`, so it scores in this process on one core (worker processes '
                      'would run the script again). Put the call under that line to use every core.', stacklevel=2)
        executor = own = ThreadPoolExecutor(1)
    try:
        result = run_batch(
            paths, out, jobs=jobs, executor=executor, scheduler=scheduler, manifest=manifest, model=model,
            method=method, person=person, force=force, overlays=overlays, progress=progress,
        )
    finally:
        if own is not None:
            own.shutdown()
    df = result.table
    df.attrs["summary"] = {
        "found": result.found, "scored": result.scored, "skipped": result.skipped,
        "counts": result.counts, "csv": result.csv_path, "interrupted": result.interrupted,
    }
    return df


def _unguarded_script_call() -> bool:
    """Whether the caller outside this package is a script's top level, outside
    ``if __name__ == "__main__":`` (found by reading the script: a spawned worker would run it
    again). False in a notebook or an interactive session, which no worker imports."""
    import ast
    import inspect

    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == __name__.split(".")[0]:
        frame = frame.f_back
    if frame is None or frame.f_globals.get("__name__") != "__main__" or frame.f_code.co_name != "<module>":
        return False
    script = frame.f_globals.get("__file__")
    try:
        tree = ast.parse(Path(script).read_text(encoding="utf-8"))
    except (TypeError, OSError, SyntaxError, ValueError):
        return False

    def is_main_test(test) -> bool:
        names = [n.id for n in ast.walk(test) if isinstance(n, ast.Name)]
        texts = [n.value for n in ast.walk(test) if isinstance(n, ast.Constant)]
        return "__name__" in names and "__main__" in texts

    line = frame.f_lineno
    return not any(isinstance(node, ast.If) and is_main_test(node.test) and node.lineno <= line <= node.end_lineno
                   for node in ast.walk(tree))
