"""The worker side of a batch: one photo in, one row out, never an exception.

Each photo is scored by `score_file` in a worker process (or a Dask worker thread), with
one landmarker per worker. The file's bytes are read once for its content hash (the resume
key) and its EXIF date.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import threading

from symmetry._version import __version__
from symmetry.batch.plan import REFERENCE_TASK, file_sha256, row_method
from symmetry.face.measures import Measurement
from symmetry.photo.imageio import read_exif_datetime
from symmetry.vocabulary import Status

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


def init_worker(model: str | None) -> None:
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
    (with `reference`, a prepared `Reference` of the same person), or "reference":
    measure the photo as a person's reference (with `analysis.REFERENCE_METHOD`) and return
    the prepared `Reference` too, under the key ``"_reference"`` (None when the photo cannot
    serve as one).

    Returns the `measures.COLUMNS` row plus ``exif_datetime``, ``file_sha256`` and
    ``overlay`` (the overlay file written, or "").
    """
    from symmetry.photo.analysis import REFERENCE_METHOD, analyze, measure_reference

    method = method or REFERENCE_METHOD
    data = _read_bytes(path)
    prepared = None
    try:
        lm = _landmarker(model)
        if method == REFERENCE_TASK:
            m, prepared = measure_reference(path, lm)
        else:
            m = analyze(path, landmarker=lm, method=method, reference=reference)
    except Exception as exc:  # one bad file never stops the batch
        m = _error(path, model, row_method(method),
                   f"unexpected error while scoring: {type(exc).__name__}: {exc}. Please report it.")
    row = m.to_dict()
    if method == REFERENCE_TASK:
        row["_reference"] = prepared
    readable = data is not None and m.status != Status.UNREADABLE
    row["exif_datetime"] = (read_exif_datetime(io.BytesIO(data)) or "") if readable else ""
    row["file_sha256"] = hashlib.sha256(data).hexdigest() if data is not None else ""
    row["overlay"] = ""
    if overlay and m.face is not None:
        try:
            _write_overlay(path, m, overlay)
            row["overlay"] = overlay
        except Exception as exc:
            row["message"] = "; ".join(filter(None, [row["message"], f"overlay not written: {exc}"]))
    return row


def error_row(path: str, model: str | None, method: str, why: str) -> dict:
    """The row of a photo whose scoring crashed its worker (or was lost with it)."""
    m = _error(path, model, method, f"{why}. The file may be damaged; try opening and re-saving it.")
    return {**m.to_dict(), "exif_datetime": "", "file_sha256": file_sha256(path), "overlay": ""}


def _error(path: str, model: str | None, method: str, message: str) -> Measurement:
    from symmetry.face.landmarks import model_name

    try:
        name = model_name(model)
    except Exception:
        name = str(model or "")
    return Measurement(path=path, status=Status.ERROR, model=name, version=__version__, method=method,
                       message=message)


def _read_bytes(path: str) -> bytes | None:
    """The file's bytes, read once for its hash and EXIF date (None if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _write_overlay(path: str, m: Measurement, target: str) -> None:
    from symmetry.photo.overlay_files import draw, save_overlay

    os.makedirs(os.path.dirname(target), exist_ok=True)
    save_overlay(draw(path, m), target)
