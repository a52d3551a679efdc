"""Which person, date, phase and expression a photo belongs to, and where that came from.

Each value is taken from the first source that has it:

1. ``manifest``: a CSV the user gives (columns ``path`` and any of ``person``,
   ``date``, ``phase``, ``expression``; relative paths are relative to the
   manifest's own folder);
2. ``folder``: the layout ``PERSON/YYYY-MM-DD[_pre|_post]/EXPRESSION.jpg``
   (what `symmetry capture` writes), or, without a dated folder, the first
   folder under the scanned folder as the person and ``pre``/``post`` words in
   folder names as the phase;
3. ``filename``: keywords in the file name (``smile``, ``brow``, ``eyes_closed``,
   ``before``/``after``, ...) and a date written in it (``IMG_20240301_...``);
4. ``blendshapes``: the expression the face shows (expression only);
5. ``exif``: the camera's DateTimeOriginal (date only);
6. ``mtime``: the file's modification time, local date (date only);
7. ``assumed``: the person given for photos no folder names (person only).

The value of each ``*_source`` column is one of those names, or "" when no
source gave a value. Everything here is pure string handling except
`read_manifest`, `describe_file` and `Labeller` (file times, EXIF dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath

from symmetry.vocabulary import UNCLEAR
from symmetry.photo.imageio import read_exif_datetime
from symmetry.vocabulary import EXPRESSIONS

#: What `describe` labels; each has a source column, added to the output table after `measures.COLUMNS`.
FIELDS = ("person", "date", "phase", "expression")
SOURCE_COLUMNS = tuple(f"{f}_source" for f in FIELDS)

PHASE_WORDS = {"pre": "pre", "before": "pre", "post": "post", "after": "post"}

# Word sequences in a file name -> standard expression. At each position the
# longest sequence wins, so "smile_open" is smile_open and not smile.
EXPRESSION_WORDS: dict[tuple[str, ...], str] = {}
for _expr, _phrases in {
    "rest": ["rest", "resting", "at rest", "neutral", "relaxed", "relax", "repose"],
    "brow_raise": [
        "brow raise", "brows raised", "brow raised", "raise brows", "raise brow", "raised brows", "eyebrow raise",
        "eyebrows raised", "raise eyebrows", "brow", "brows", "eyebrow", "eyebrows", "forehead", "surprise", "surprised",
    ],
    "eyes_closed_gentle": [
        "eyes closed gentle", "eyes closed", "eye closure", "eyes shut", "closed gentle",
        "gentle closure", "gentle eye closure", "close eyes", "closed eyes", "closed", "gentle",
        "eyes closed light", "light closure",
    ],
    "eyes_closed_tight": [
        "eyes closed tight", "eyes closed tightly", "closed tight", "tight closure", "tight eye closure",
        "tight eyes", "eyes tight", "eyes squeezed", "squeeze", "squeezed", "squeeze eyes", "tight",
    ],
    "smile": ["smile", "smiling", "big smile", "grin", "smile closed"],
    "smile_open": ["smile open", "open smile", "open mouth smile", "smile teeth", "teeth smile", "teeth", "toothy smile"],
    "pucker": ["pucker", "puckered", "kiss", "pout", "whistle", "pursed lips", "lips pursed", "purse lips"],
    "eee": ["eee", "ee", "eeee", "eeeee", "say eee"],
    "snarl": ["snarl", "sneer", "nose wrinkle", "wrinkle nose", "scrunch", "nose scrunch"],
}.items():
    for _phrase in _phrases:
        EXPRESSION_WORDS[tuple(_phrase.split())] = _expr
_LONGEST_PHRASE = max(len(k) for k in EXPRESSION_WORDS)

# A date written as 2024-03-01, 2024_03_01, 2024.03.01, 2024/03/01 or 20240301, not inside a longer number.
_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)([-_./]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
# A session folder: a name that starts with a date ("2024-03-01", "2024-03-01_pre", "20240301 after massage").
_DATE_FOLDER_RE = re.compile(r"^((?:19|20)\d\d)([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?:$|[\W_])")
_EXIF_RE = re.compile(r"^((?:19|20)\d\d)[:\-/.](\d\d)[:\-/.](\d\d)")


@dataclass(frozen=True)
class Session:
    """Who, when and what a photo shows; each `*_source` names where the value came from."""

    person: str = ""
    date: str = ""  # ISO YYYY-MM-DD
    phase: str = ""  # "pre", "post" or ""
    expression: str = ""  # one of EXPRESSIONS (or a manifest's own word), or ""
    person_source: str = ""
    date_source: str = ""
    phase_source: str = ""
    expression_source: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class ManifestError(ValueError):
    """The manifest CSV cannot be used; the message names the line and what to fix."""


# ------------------------------------------------------------------ pure parsing
def words(name: str) -> list[str]:
    """Lower-case words of a file or folder name ("Smile_Open-2" -> ["smile", "open", "2"])."""
    return [w for w in re.split(r"[\W_]+", name.lower()) if w]


def parse_date(text: str) -> str:
    """The first valid calendar date written in `text` as ISO YYYY-MM-DD, or ""."""
    for m in _DATE_RE.finditer(text):
        iso = _valid_date(m.group(1), m.group(3), m.group(4))
        if iso:
            return iso
    return ""


def _valid_date(y: str, m: str, d: str) -> str:
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return ""


def date_folder(name: str) -> str:
    """ISO date if the folder name starts with a date (a session folder), else ""."""
    m = _DATE_FOLDER_RE.match(name)
    return _valid_date(m.group(1), m.group(3), m.group(4)) if m else ""


def phase_in(name: str) -> str:
    """"pre" or "post" when the name holds exactly one of pre/before or post/after, else ""."""
    found = {PHASE_WORDS[w] for w in words(name) if w in PHASE_WORDS}
    return found.pop() if len(found) == 1 else ""


def expression_in(name: str) -> str:
    """The standard expression named in a file name, or "" if none or several.

    Matches word sequences, longest first: "eyes_closed_tight_2" -> eyes_closed_tight,
    "IMG_0042_smile" -> smile, "open smile" -> smile_open, "brow" -> brow_raise.
    """
    ws = words(name)
    found = set()
    i = 0
    while i < len(ws):
        for n in range(min(_LONGEST_PHRASE, len(ws) - i), 0, -1):
            expr = EXPRESSION_WORDS.get(tuple(ws[i : i + n]))
            if expr:
                found.add(expr)
                i += n
                break
        else:
            i += 1
    return found.pop() if len(found) == 1 else ""


def exif_date(value: str | None) -> str:
    """EXIF "YYYY:MM:DD HH:MM:SS" -> ISO date, or "" if missing or malformed."""
    m = _EXIF_RE.match((value or "").strip())
    return _valid_date(*m.groups()) if m else ""


def mtime_date(mtime: float | None) -> str:
    """A file modification time (seconds since the epoch) as a local ISO date."""
    if mtime is None:
        return ""
    return dt.datetime.fromtimestamp(mtime).date().isoformat()


def normalize_phase(text: str) -> str:
    """Manifest phase -> "pre"/"post"; "" stays "". Raises ValueError for anything else."""
    t = text.strip().lower()
    if not t:
        return ""
    if t in PHASE_WORDS:
        return PHASE_WORDS[t]
    p = phase_in(t)
    if p:
        return p
    raise ValueError(f"phase {text!r} is not one of pre, post, before, after")


def normalize_expression(text: str) -> str:
    """Manifest expression -> a standard name where one is recognised, else the text as a word."""
    t = text.strip()
    if not t:
        return ""
    key = "_".join(words(t))
    return key if key in EXPRESSIONS else (expression_in(t) or key)


def normalize_date(text: str) -> str:
    """Manifest date -> ISO. Accepts YYYY-MM-DD (also with / . _ or none) and DD.MM.YYYY."""
    t = text.strip()
    if not t:
        return ""
    iso = parse_date(t)
    if iso:
        return iso
    m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./]((?:19|20)\d\d)", t)
    if m:
        iso = _valid_date(m.group(3), m.group(2), m.group(1))
        if iso:
            return iso
    raise ValueError(f"date {text!r} is not a date; write it as YYYY-MM-DD")


def describe(
    path: str | os.PathLike,
    root: str | os.PathLike | None = None,
    manifest: dict[str, str] | None = None,
    exif_datetime: str | None = None,
    mtime: float | None = None,
    expression_seen: str = "",
    person: str = "",
) -> Session:
    """Person, date, phase and expression of one photo, each with its source. Pure.

    Args:
        path: the photo's absolute path.
        root: the folder that was scanned to find it (its parent when the file was
            named directly); the first folder under it is the person when there is
            no dated session folder.
        manifest: this photo's manifest entry (keys person/date/phase/expression).
        exif_datetime: the EXIF DateTimeOriginal string, if any.
        mtime: the file's modification time (seconds since the epoch).
        expression_seen: the expression recognised in the face (`Measurement.expression_seen`),
            used when neither a manifest nor the file name says which it is.
        person: the person when neither a manifest nor the folders say (source "assumed").
    """
    path = PurePath(path)
    name = path.stem
    # Candidates in order of precedence: for each field the first non-empty value wins.
    candidates = [
        *((f, (manifest or {}).get(f, ""), "manifest") for f in FIELDS),
        *_from_folders(path, root),
        ("expression", expression_in(_strip_date(name)), "filename"),
        ("expression", expression_seen, "blendshapes"),
        ("phase", phase_in(name), "filename"),
        ("date", parse_date(name), "filename"),
        ("date", exif_date(exif_datetime), "exif"),
        ("date", mtime_date(mtime), "mtime"),
        ("person", person, "assumed"),
    ]
    values: dict[str, str] = {}
    for f, value, source in candidates:
        if value and f not in values:
            values[f], values[f"{f}_source"] = value, source
    return Session(**values)


def _from_folders(path: PurePath, root) -> list[tuple[str, str, str]]:
    """(field, value, "folder") from the folder layout: the deepest folder whose name starts with a
    date is the session (its parent the person); else the first folder under `root` is the person.
    The deepest folder that says pre or post gives the phase."""
    dirs = list(path.parent.parts)
    if dirs and dirs[0] == path.anchor:
        dirs = dirs[1:]
    found = []
    session_at = next((i for i in range(len(dirs) - 1, -1, -1) if date_folder(dirs[i])), None)
    if session_at is not None:
        found.append(("date", date_folder(dirs[session_at])))
        if session_at > 0:
            found.append(("person", dirs[session_at - 1]))
        phase_dirs = dirs[session_at:]
    else:
        rel = _relative_dirs(path, root)
        if rel:
            found.append(("person", rel[0]))
            phase_dirs = rel[1:]
        else:  # directly in the scanned folder: its own name may say pre/post
            phase_dirs = [PurePath(root).name] if root is not None else []
    found.extend(("phase", phase_in(_strip_date(d))) for d in reversed(phase_dirs))
    return [(f, value, "folder") for f, value in found]


def _strip_date(name: str) -> str:
    # "2024-03-01_pre" must not read the date digits as words; "IMG_20240301_smile" neither.
    return _DATE_RE.sub(" ", name)


def _relative_dirs(path: PurePath, root) -> list[str]:
    if root is None:
        return []
    try:
        return list(path.parent.relative_to(PurePath(root)).parts)
    except ValueError:
        return []


# ------------------------------------------------------------------ I/O at the edge
def read_manifest(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Read a manifest CSV into {real path of the photo: {person, date, phase, expression}}.

    The CSV needs a ``path`` column (or ``file``/``filename``/``image``); ``person``,
    ``date``, ``phase`` and ``expression`` are optional, and an empty cell means
    "take this value from the next source". Relative paths are relative to the
    manifest's folder. Dates become YYYY-MM-DD, phases pre/post, expressions the
    standard names where recognised.

    Raises:
        ManifestError: unreadable file, no path column, a bad date or phase, or the
            same photo listed twice with different values.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"manifest {path}: cannot read it ({exc}). Save it as a UTF-8 CSV.") from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    fields = {(f or "").strip().lower(): f for f in (reader.fieldnames or [])}
    path_col = next((fields[k] for k in ("path", "file", "filename", "image") if k in fields), None)
    if path_col is None:
        raise ManifestError(
            f"manifest {path}: no 'path' column (found {sorted(fields) or 'no header'}). "
            "Add a header line: path,person,date,phase,expression"
        )
    base = path.parent
    out: dict[str, dict[str, str]] = {}
    for line_no, row in enumerate(reader, start=2):
        raw = (row.get(path_col) or "").strip()
        if not raw:
            continue
        try:
            entry = {
                "person": (row.get(fields.get("person", ""), "") or "").strip(),
                "date": normalize_date(row.get(fields.get("date", ""), "") or ""),
                "phase": normalize_phase(row.get(fields.get("phase", ""), "") or ""),
                "expression": normalize_expression(row.get(fields.get("expression", ""), "") or ""),
            }
        except ValueError as exc:
            raise ManifestError(f"manifest {path}, line {line_no}: {exc}.") from None
        key = manifest_key(base / Path(raw).expanduser())
        if key in out and out[key] != entry:
            raise ManifestError(
                f"manifest {path}, line {line_no}: {raw} is listed twice with different values. "
                "Keep one line per photo."
            )
        out[key] = entry
    return out


def manifest_key(path: str | os.PathLike) -> str:
    """How manifest entries and photos are matched: the real, absolute path."""
    return os.path.normcase(os.path.realpath(path))


def describe_file(
    path: str | os.PathLike,
    root: str | os.PathLike | None = None,
    manifest: dict[str, dict[str, str]] | None = None,
    exif_datetime: str | None = None,
    *,
    expression_seen: str = "",
    person: str = "",
) -> Session:
    """`describe` for a file on disk: looks up the manifest, reads EXIF (unless given) and mtime."""
    if exif_datetime is None:
        exif_datetime = read_exif_datetime(path)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = None
    entry = (manifest or {}).get(manifest_key(path))
    return describe(os.path.abspath(path), root, entry, exif_datetime, mtime, expression_seen, person)


@dataclass
class Labeller:
    """Labels a batch's rows: person, date, phase and expression for each row's current path,
    recomputed on every run (so a corrected manifest applies without rescoring).

    `roots` maps each photo to the folder it was found under; `person` is the person of the
    photos that no folder or manifest names ("" for none).
    """

    roots: dict[str, str]
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)
    person: str = ""

    def __call__(self, row: dict) -> dict:
        """`row` with its labels and their sources; a face whose expression is unclear gives none."""
        seen = row.get("expression_seen") or ""
        s = describe_file(row["path"], self.roots.get(row["path"]), self.manifest, row.get("exif_datetime") or "",
                          expression_seen="" if seen == UNCLEAR else seen, person=self.person)
        return {**row, **s.to_dict()}

    def with_exif(self, path: str) -> dict:
        """The labels of a photo not yet scored, its EXIF date read from the file."""
        return self({"path": path, "exif_datetime": read_exif_datetime(path) or ""})

    def flat_folder_person(self) -> str:
        """The person of a flat folder of photos (more than one photo, no person folders at all):
        named after the folder; "" when a person is given or the photos have their own."""
        paths = sorted(self.roots)
        if self.person or len(paths) < 2 or any(self({"path": p})["person"] for p in paths):
            return ""
        return os.path.basename(os.path.commonpath(list(self.roots.values()))) or "person"
