"""Where a batch's rows go: ``scores.csv`` (durable, append-only, crash-safe), ``scores.json``,
and the one reader of a scores table, `read_scores`.

Finished rows are appended to ``scores.csv`` one whole line at a time (one ``write``
then ``fsync``), so after a crash or ``kill -9`` the file is valid and holds every
finished row. At the end it is rewritten sorted by path, atomically (temporary file
+ ``os.replace``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import fields
from pathlib import Path
from typing import Iterable

from symmetry.batch.discover import BatchError
from symmetry.batch.labels import SOURCE_COLUMNS
from symmetry.face.measures import COLUMNS, Measurement

#: Provenance columns added after `measures.COLUMNS` (never renamed, only appended):
#: where person/date/phase/expression came from, the EXIF date, the file's content
#: hash (the resume key), and the overlay written for the photo (relative to the output folder).
PROVENANCE_COLUMNS = SOURCE_COLUMNS + ("exif_datetime", "file_sha256", "overlay")
BATCH_COLUMNS = COLUMNS + PROVENANCE_COLUMNS

#: What an output folder holds.
CSV_NAME, JSON_NAME, OVERLAY_DIR, LOCK_NAME = "scores.csv", "scores.json", "overlays", ".scores.lock"

_TYPES = {f.name: f.type for f in fields(Measurement)}
FLOAT_COLUMNS = tuple(c for c in COLUMNS if _TYPES.get(c) == "float")
INT_COLUMNS = tuple(c for c in COLUMNS if _TYPES.get(c) == "int")
#: Every other column of the table is text (a person called "NA" stays "NA").
TEXT_COLUMNS = tuple(c for c in BATCH_COLUMNS if c not in FLOAT_COLUMNS + INT_COLUMNS)


# ================================================================ reading
def read_scores(path: str | os.PathLike):
    """Read a scores table (``scores.csv``) into a DataFrame with the types of a fresh batch.

    Text columns keep "" (not NaN) for empty cells, measures are floats (NaN when not
    measured), counts integers. Any CSV with a header is read, with its own columns (rows
    written by hand or by another version too; a column this version does not know is
    numbers when every filled cell is one, else text). A partial last line left by a crash
    is ignored; a header alone gives an empty table.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is empty, or a line has more or fewer fields than the header.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no scores table at {path}: run `symmetry score PHOTOS --out DIR` first")
    header, lines, _ = _csv_lines(path)
    if header is None:
        raise ValueError(f"{path} is empty: it is not a scores table. Run `symmetry score PHOTOS --out DIR`")
    for number, cells in lines:
        if len(cells) != len(header):
            raise ValueError(f"{path}, line {number}: {len(cells)} fields where the header has {len(header)}")
    df = table([{c: _value(c, v) for c, v in zip(header, cells)} for _, cells in lines], header)
    for c in df.columns:
        if c not in BATCH_COLUMNS:
            df[c] = _inferred(df[c], pd)
    return df


def table(rows: list[dict], columns: Iterable[str] = BATCH_COLUMNS):
    """Rows (dicts of typed values) -> a DataFrame with float, integer and text columns."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(columns))
    for c in df.columns:
        if c in FLOAT_COLUMNS:
            df[c] = df[c].astype("float64")
        elif c in INT_COLUMNS:
            df[c] = df[c].astype("int64")
    return df.reset_index(drop=True)


def _csv_lines(path: Path) -> tuple[list[str] | None, list[tuple[int, list[str]]], list[str]]:
    """(header, [(line number, cells)], notes) of a CSV file; the header is None for an empty file.
    A last line without its newline (cut short by a crash) is dropped, with a note."""
    data = path.read_bytes()
    notes = []
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        notes.append(f"{path.name}: dropped an unfinished last line (the previous run was killed)")
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    header = next(reader, None)
    return header or None, list(enumerate(reader, start=2)), notes


def _value(column: str, text: str):
    """One cell as its column's type: float (NaN when empty or not a number), int (0), or text."""
    if column in FLOAT_COLUMNS:
        try:
            return float(text) if text != "" else math.nan
        except ValueError:
            return math.nan
    if column in INT_COLUMNS:
        try:
            return int(float(text)) if text != "" else 0
        except ValueError:
            return 0
    return text


def _typed(row: dict[str, str]) -> dict:
    """A CSV row (all strings) -> the same values and types as a fresh row."""
    return {c: _value(c, row.get(c, "") or "") for c in BATCH_COLUMNS}


def _inferred(column, pd):
    """A column this version does not know: numbers when every filled cell is one (NaN when
    empty), else the text as it is."""
    try:
        return pd.Series([float(v) if v != "" else math.nan for v in column], index=column.index, dtype="float64")
    except ValueError:
        return column


# ================================================================ writing
def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    # One row must stay one line: the crash repair relies on it.
    return str(value).replace("\r", " ").replace("\n", " ")


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
        """The rows already in the file (typed), after dropping a partial last line and any
        line with the wrong number of fields (each with a note)."""
        if not self.path.exists():
            return []
        header, lines, notes = _csv_lines(self.path)
        self.notes.extend(notes)
        if not header:
            return []
        if "path" not in header or "file_sha256" not in header:
            raise BatchError(
                f"{self.path} was not written by `symmetry score` (no path/file_sha256 columns). "
                "Choose another --out folder."
            )
        rows = []
        for number, cells in lines:
            if len(cells) != len(header):
                self.notes.append(f"{self.path.name}: line {number} has {len(cells)} fields, not {len(header)}; dropped")
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


def write_json(path: str, rows: list[dict]) -> None:
    """Write the rows as a JSON list sorted by path (NaN as null), atomically."""
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
