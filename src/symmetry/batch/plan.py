"""How each photo of a batch is measured, and which are already scored.

- By default (``method="auto"``) every photo is measured on its own with
  `analysis.SINGLE_PHOTO_DEFAULT` ("canonical"): on real photos of real people taken on
  different occasions it spreads least (README, "Real faces").
- With ``method="tracked"`` each photo is compared with the same person's first photo of
  the same expression (earliest date, ``pre`` before ``post``, then by path, so never by
  listing order): that photo is measured on its own as the reference, the later ones
  registered to it and their features tracked from it (see `analysis.measure_tracked`).
  Photos without a person or an expression label are measured on their own.
- A rerun skips photos already scored with the same file content (SHA-256), model,
  version, method and reference photo (the resume key).
"""

from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from symmetry._version import __version__
from symmetry.photo.analysis import METHODS, REFERENCE_METHOD, SINGLE_PHOTO_DEFAULT
from symmetry.vocabulary import FACE_STATUSES, PHASE_RANK, Method, Status

#: `method` of a batch: every photo measured on its own with `analysis.SINGLE_PHOTO_DEFAULT`,
#: the reading that on real repeat photos of real people spreads least (README, "Real faces").
AUTO = "auto"
#: `method` of a batch: each photo tracked from the same person's first photo of the same
#: expression. It sees the whole of a change in warps of one still photo, but on real photos
#: taken on different occasions it spread more than the single-photo reading, so it is asked for.
TRACKED = Method.TRACKED.value
#: Worker task that measures a person's reference photo and prepares it for tracking.
REFERENCE_TASK = "reference"

Group = tuple[str, str]  # (person, expression): the photos compared with one reference photo


def batch_methods() -> list[str]:
    """"auto" (the single-photo default), "tracked" (each photo tracked from the person's first
    photo of the same expression), then the methods that measure a photo on its own."""
    return [AUTO, TRACKED] + [m for m in METHODS if m != TRACKED]


def row_method(task_method: str) -> str:
    """The `method` column of a row scored by a worker task."""
    return REFERENCE_METHOD if task_method == REFERENCE_TASK else task_method


def reference_candidates(labels: dict[str, dict]) -> dict[Group, list[str]]:
    """(person, expression) -> the photos that may serve as that person's reference for that
    expression, best first: each photo is compared with the person's first photo of the same
    expression (rest with rest, smile with smile), never with another expression.

    `labels` maps each path to its person/date/phase/expression. Candidates are earliest
    date first (undated last), `pre` before unlabelled before `post`, then by path. Photos
    without a person or without an expression label get none (they are measured on their own)."""
    groups: dict[Group, list[tuple]] = {}
    for path, lab in labels.items():
        person, expression = lab.get("person") or "", lab.get("expression") or ""
        if person and expression:
            key = (lab.get("date") or "9999-99-99", PHASE_RANK.get(lab.get("phase") or "", 1), path)
            groups.setdefault((person, expression), []).append(key)
    return {group: [k[2] for k in sorted(keys)] for group, keys in sorted(groups.items())}


@dataclass(frozen=True)
class Plan:
    """How the photos of one batch are measured: `method` ("auto", "tracked" or a single-photo
    method) and, with "tracked", each group's reference candidates and each photo's group."""

    method: str
    candidates: dict[Group, list[str]] = field(default_factory=dict)
    group_of: dict[str, Group] = field(default_factory=dict)

    @classmethod
    def for_batch(cls, method: str, labels: dict[str, dict]) -> Plan:
        """The plan for `method`; `labels` (path -> person/date/phase/expression) choose the
        references with "tracked"."""
        if method != TRACKED:
            return cls(method)
        candidates = reference_candidates(labels)
        group_of = {p: (lab["person"], lab["expression"]) for p, lab in labels.items()
                    if (lab["person"], lab["expression"]) in candidates}
        return cls(method, candidates, group_of)

    @property
    def first_choice(self) -> dict[Group, str]:
        return {group: paths[0] for group, paths in self.candidates.items()}

    def how(self, path: str, chosen: dict[Group, str]) -> tuple[str, str]:
        """(method, reference) of a photo's row, given each group's chosen reference."""
        if self.method != TRACKED:
            return (SINGLE_PHOTO_DEFAULT if self.method == AUTO else self.method), ""
        ref = chosen.get(self.group_of.get(path, ("", "")), "")
        if not ref or ref == path:
            return row_method(REFERENCE_TASK), ""
        return TRACKED, ref


# ================================================================ resuming
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


def resume_key(sha: str, how: tuple[str, str], model_name: str) -> tuple:
    """What makes a row reusable: the content, model, version, and how the photo was to be
    measured (method, reference photo)."""
    return (sha, model_name, __version__) + tuple(how)


def _asked(row: dict) -> tuple[str, str]:
    """How a stored row was asked to be measured: a row with a reference was asked to be
    tracked, even if it fell back to being measured on its own."""
    ref = row.get("reference") or ""
    return (TRACKED, ref) if ref else (row["method"], "")


def already_scored(paths: list[str], previous: list[dict], plan: Plan, model_name: str, *,
                   overlay_dir: Path | None = None, progress: bool = False) -> dict[str, dict]:
    """The rows of `previous` that stand for photos in `paths` (by path, or a byte-identical
    photo's row): same resume key, not an error. With `overlay_dir` (overlays asked for), a
    face's row whose overlay file is missing is scored again, to draw it."""
    by_path = {r["path"]: r for r in previous}
    by_key = {resume_key(r["file_sha256"], _asked(r), model_name): r
              for r in previous if r["file_sha256"] and r["status"] != Status.ERROR}
    hashes = _hash_all(paths, progress)
    done: dict[str, dict] = {}
    for path in paths:
        if not hashes[path]:
            continue
        key = resume_key(hashes[path], plan.how(path, plan.first_choice), model_name)
        old = by_path.get(path)
        if (old is not None and old["status"] != Status.ERROR
                and resume_key(old["file_sha256"], _asked(old), model_name) == key):
            row = dict(old)
        else:
            twin = by_key.get(key)
            # Load errors name the file in their message; they cost nothing to redo.
            if twin is None or twin["message"].startswith(os.path.basename(twin["path"]) + ":"):
                continue
            row = {**twin, "path": path, "overlay": ""}
        if overlay_dir is not None and row["status"] in FACE_STATUSES and not (
            row["overlay"] and (overlay_dir / row["overlay"]).is_file()
        ):
            continue
        done[path] = row
    return done


def to_score(paths: list[str], done: dict[str, dict], plan: Plan) -> tuple[list[str], set[Group]]:
    """(photos to score, sorted; the groups waiting for their reference). A group with photos
    still to track needs its reference prepared: its photo is measured again (the same row
    comes out), so it is taken out of `done` and counts as to do."""
    todo = [p for p in paths if p not in done]
    waiting = {plan.group_of[p] for p in todo if p in plan.group_of}
    first = plan.first_choice
    for group in waiting:
        if first[group] in done:
            del done[first[group]]
            todo.append(first[group])
    return sorted(todo), waiting


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
