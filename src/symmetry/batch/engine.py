"""Many photos -> one table: parallel, resumable, and never losing a finished row.

    >>> import symmetry
    >>> df = symmetry.score_folder("clients/", out="results/")   # also writes results/scores.csv

A batch is: find the photos (`discover`), label them with person, date, phase and
expression (`labels`, recomputed on every run, so a corrected manifest applies without
rescoring), plan how each is measured and which are already scored (`plan`), score the
rest on an executor (`pool`, `worker`), and keep every finished row in ``scores.csv``
(`sinks`). With ``method="tracked"`` each person's reference photos are measured first,
in rounds: a candidate that fails keeps its row, and the next candidate is tried.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

from symmetry.batch.discover import BatchError, Discovery, find_images
from symmetry.batch.labels import Labeller, read_manifest
from symmetry.batch.plan import (
    AUTO, REFERENCE_TASK, TRACKED, Group, Plan, already_scored, batch_methods, to_score,
)
from symmetry.batch.pool import run_tasks
from symmetry.batch.sinks import CSV_NAME, JSON_NAME, OVERLAY_DIR, CsvSink, table, write_json
from symmetry.photo.imageio import IMAGE_EXTENSIONS


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
        labels.ManifestError: the manifest cannot be used.
        BatchError: no photos found, or the output folder is in use / not ours.
    """
    started = time.perf_counter()
    say = log or (lambda msg: None)
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    model_file = _checked_arguments(method, overlays, out, model)
    out_dir = Path(out).expanduser().absolute() if out is not None else None
    disc = _discover(paths, out_dir)
    labeller = Labeller({f.path: f.root for f in disc.images}, read_manifest(manifest) if manifest else {},
                        person or "")
    labels = _labels_before_scoring(labeller, method, say)
    sink = None
    if out_dir is not None:
        sink = CsvSink(out_dir / CSV_NAME)
        sink.lock()
    try:
        # Workers resolve the default model themselves (their own install, on a cluster).
        model_arg = str(model_file) if model is not None else None
        batch = _Batch(disc, labeller, Plan.for_batch(method, labels), sink, out_dir, overlays=overlays,
                       on_row=on_row, say=say, pool=dict(jobs=jobs, executor=executor, scheduler=scheduler,
                                                         model_arg=model_arg, progress=progress))
        batch.resume(model_file.name, force=force, progress=progress)
        batch.score()
        return batch.result(json_out, elapsed_s=time.perf_counter() - started)
    finally:
        if sink is not None:
            sink.close()


def _checked_arguments(method: str, overlays: bool, out, model) -> Path:
    """The model file, once the arguments are known to work together and the model loads."""
    from symmetry.face.landmarks import Landmarker, resolve_model_path

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
        Landmarker(model_file).close()
    return model_file


def _discover(paths: list, out_dir: Path | None) -> Discovery:
    disc = find_images(paths, exclude=[out_dir] if out_dir else [])
    if not disc.images:
        raise BatchError(
            f"no photos found in {', '.join(map(str, paths))} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))}; "
            f"{disc.ignored} other files ignored)."
        )
    return disc


def _labels_before_scoring(labeller: Labeller, method: str, say: Callable[[str], None]) -> dict[str, dict]:
    """Path -> labels, where they are needed before scoring: to say how many sessions a flat folder
    of photos (no person folders: one person's, whose sessions are their dates) has, and to choose
    references with "tracked". The EXIF dates are read here, once. Sets the flat folder's person."""
    flat_person = labeller.flat_folder_person()
    if flat_person:
        labeller.person = flat_person
    if not flat_person and method != TRACKED:
        return {}
    labels = {path: labeller.with_exif(path) for path in sorted(labeller.roots)}
    if flat_person:
        by_file_time = sum(lab["date_source"] == "mtime" for lab in labels.values())
        say(f"{len(labels)} photos, no person folders: taken as one person ({flat_person}), "
            f"{len({lab['date'] for lab in labels.values()})} session dates"
            + (f" ({by_file_time} dated by the file's time, having no date in their name or EXIF)" if by_file_time else "")
            + "; use --person NAME or a manifest to say otherwise")
    return labels


class _Batch:
    """One run of `run_batch`: its photos, where their rows go, and what has been scored."""

    def __init__(self, disc: Discovery, label: Labeller, plan: Plan, sink: CsvSink | None, out_dir: Path | None, *,
                 overlays: bool, on_row: Callable[[dict], None] | None, say: Callable[[str], None], pool: dict):
        self.disc, self.label, self.plan, self.sink, self.out_dir = disc, label, plan, sink, out_dir
        self.overlays, self.on_row, self.say, self.pool = overlays, on_row, say, pool
        self.paths = [f.path for f in disc.images]
        self.base = os.path.commonpath([os.path.dirname(f.root) or f.root for f in disc.images]) if out_dir else ""
        self.done: dict[str, dict] = {}  # rows reused from an earlier run
        self.kept: list[dict] = []  # earlier rows of photos not in this batch
        self.todo: list[str] = []
        self.waiting: set[Group] = set()  # groups whose reference is still to be measured
        self.results: dict[str, dict] = {}  # rows scored in this run
        self.chosen: dict[Group, str] = {}  # group -> its reference photo, once prepared
        self.prepared: dict[Group, object] = {}  # group -> its prepared `Reference`
        self.workers, self.interrupted, self.overlays_written = 0, False, 0

    def resume(self, model_name: str, *, force: bool, progress: bool) -> None:
        """Take over the rows of an earlier run that stand (unless `force`), and decide what to score."""
        previous = self.sink.load() if self.sink is not None else []
        self.disc.notes.extend(self.sink.notes if self.sink is not None else [])
        if previous and not force:
            reused = already_scored(self.paths, previous, self.plan, model_name,
                                    overlay_dir=self.out_dir if self.overlays else None, progress=progress)
            self.done = {path: self.label(row) for path, row in reused.items()}
        self.todo, self.waiting = to_score(self.paths, self.done, self.plan)
        self.kept = [r for r in previous if r["path"] not in self.label.roots]
        if self.sink is not None:
            # Rows of photos about to be scored again are dropped now, so the file never
            # holds two rows for one photo, even if this run is killed.
            self.sink.rewrite(sorted(self.kept + list(self.done.values()), key=lambda r: r["path"]))
        n = len(self.paths)
        self.say(f"{n} photo{'s' if n != 1 else ''} found"
                 + (f", {len(self.done)} already scored (skipped)" if self.done else "")
                 + ("" if self.todo else "; nothing to score"))

    def score(self) -> None:
        """Score the references (in rounds, each group's next candidate), then the other photos."""
        rest = set(self.todo)
        left = {group: list(self.plan.candidates[group]) for group in sorted(self.waiting)}
        while left and not self.interrupted:
            # A candidate that fails keeps its row (with its status), and the next is tried.
            trying = {paths.pop(0): group for group, paths in left.items()}
            for path in trying:
                rest.discard(path)
                self.done.pop(path, None)
            self.say(f"measuring {len(trying)} reference photo{'s' if len(trying) != 1 else ''} "
                     "(each person's first photo of each expression)")
            self._run(sorted(trying), self._reference_task, partial(self._took_reference, trying), "references")
            left = {group: paths for group, paths in left.items() if group not in self.chosen and paths}
        if rest and not self.interrupted:
            self._run(sorted(rest), self._task, self._finished, "scoring")

    def _run(self, todo: list[str], task, finished, desc: str) -> None:
        workers, self.interrupted = run_tasks(todo, task, finished, say=self.say, desc=desc, **self.pool)
        self.workers = max(self.workers, workers)

    def _reference_task(self, path: str) -> tuple:
        return path, self.pool["model_arg"], REFERENCE_TASK, self._overlay_path(path)

    def _task(self, path: str) -> tuple:
        method, _ = self.plan.how(path, self.chosen)
        reference = self.prepared.get(self.plan.group_of.get(path, ("", ""))) if method == TRACKED else None
        return path, self.pool["model_arg"], method, self._overlay_path(path), reference

    def _overlay_path(self, path: str) -> str | None:
        if not self.overlays:
            return None
        from symmetry.photo.overlay_files import overlay_name

        rel = os.path.relpath(path, self.base)
        return str(self.out_dir / OVERLAY_DIR / os.path.dirname(rel) / overlay_name(rel))

    def _took_reference(self, trying: dict[str, Group], row: dict) -> None:
        ref = row.pop("_reference", None)
        if ref is not None:
            group = trying[row["path"]]
            self.chosen[group], self.prepared[group] = row["path"], ref
        self._finished(row)

    def _finished(self, row: dict) -> None:
        row = self.label(row)
        if row.get("overlay"):
            row["overlay"] = os.path.relpath(row["overlay"], self.out_dir)
            self.overlays_written += 1
        self.results[row["path"]] = row
        if self.sink is not None:
            self.sink.append(row)
        if self.on_row is not None:
            self.on_row(row)

    def result(self, json_out: bool, elapsed_s: float) -> BatchResult:
        """Write the final, sorted ``scores.csv`` (and ``scores.json``), and say what was done."""
        rows = {**self.done, **self.results}
        if self.sink is not None:
            self.sink.rewrite(sorted(self.kept + list(rows.values()), key=lambda r: r["path"]))
        df = table([rows[p] for p in sorted(rows)])
        json_path = ""
        if json_out and self.out_dir is not None:
            json_path = str(self.out_dir / JSON_NAME)
            write_json(json_path, self.kept + list(rows.values()))
        counts = dict(sorted(Counter(df["status"]).items()))
        if len(self.paths) > len(rows):
            counts["not scored (interrupted)"] = len(self.paths) - len(rows)
        return BatchResult(
            table=df, found=len(self.paths), scored=len(self.results), skipped=len(self.done),
            ignored=self.disc.ignored, counts=counts, elapsed_s=elapsed_s, workers=self.workers,
            interrupted=self.interrupted, csv_path=str(self.sink.path) if self.sink else "", json_path=json_path,
            overlay_dir=str(self.out_dir / OVERLAY_DIR) if self.overlays else "",
            overlays_written=self.overlays_written, kept_other_rows=len(self.kept), notes=self.disc.notes,
        )


# ================================================================ the library call
def score_folder(
    paths: str | os.PathLike | Iterable[str | os.PathLike], out: str | os.PathLike | None = None, *,
    jobs: int | None = None, executor: Executor | None = None, scheduler: str | None = None,
    manifest: str | os.PathLike | None = None, model: str | os.PathLike | None = None, method: str = AUTO,
    person: str | None = None, force: bool = False, overlays: bool = False, progress: bool = True,
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
        overlays: also write an annotated JPEG per photo into ``out/overlays/``.
        progress: show a progress bar on stderr.

    Returns:
        A DataFrame with the columns of `sinks.BATCH_COLUMNS` (the output contract, then
        provenance columns), one row per photo, sorted by path. `df.attrs["summary"]`
        holds the counts per status and the output paths.

    Note:
        The default process pool uses ``spawn``, whose workers start by importing your
        script: called at a script's top level outside ``if __name__ == "__main__":``,
        the photos are scored in this process instead (one core), and a warning says how
        to use them all.
    """
    own = _one_thread_if_unguarded() if executor is None and scheduler is None else None
    try:
        result = run_batch(paths, out, jobs=jobs, executor=executor if executor is not None else own,
                           scheduler=scheduler, manifest=manifest, model=model, method=method, person=person,
                           force=force, overlays=overlays, progress=progress)
    finally:
        if own is not None:
            own.shutdown()
    df = result.table
    df.attrs["summary"] = {"found": result.found, "scored": result.scored, "skipped": result.skipped,
                           "counts": result.counts, "csv": result.csv_path, "interrupted": result.interrupted}
    return df


def _one_thread_if_unguarded() -> ThreadPoolExecutor | None:
    """A one-thread executor (with a warning) when called at a script's top level outside
    ``if __name__ == "__main__":``, where spawned worker processes would run the script again."""
    if not _unguarded_script_call():
        return None
    warnings.warn('symmetry.score_folder is called at the top level of a script, outside '
                  '`if __name__ == "__main__":`, so it scores in this process on one core (worker processes '
                  'would run the script again). Put the call under that line to use every core.', stacklevel=3)
    return ThreadPoolExecutor(1)


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
