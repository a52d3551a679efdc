"""Running a batch's photos through an executor: a bounded number in flight, crashes isolated.

By default a ``spawn`` process pool with one landmarker per worker; any
`concurrent.futures.Executor` can be given instead, or a Dask distributed scheduler
(``pip install "facial-symmetry[dask]"``). A crashed process pool is rebuilt and the photos
that were in flight are retried one at a time, so only a photo that crashes a worker on its
own gets an "error" row.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from symmetry.batch.discover import BatchError
from symmetry.batch.plan import row_method
from symmetry.batch.worker import error_row, init_worker, score_file

#: A task: path -> the arguments of `score_file` (path, model, method, overlay[, reference]).
Task = Callable[[str], tuple]


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def run_tasks(todo: list[str], task: Task, finished: Callable[[dict], None], *, jobs: int | None = None,
              executor: Executor | None = None, scheduler: str | None = None, model_arg: str | None = None,
              progress: bool = False, say: Callable[[str], None] = lambda msg: None,
              score: Callable[..., dict] = score_file, desc: str = "scoring") -> tuple[int, bool]:
    """Score `todo` (paths) with `score(*task(path))`, calling `finished(row)` for each row as it comes.

    Uses `executor` (not shut down), else a Dask `scheduler`, else a process pool of `jobs`
    workers. Ctrl-C lets the photos in progress finish (a second one stops at once).
    Returns (workers, interrupted).
    """
    from tqdm import tqdm

    feed = _Feed(todo, task, finished, score, model_arg)
    feed.start(jobs, executor, scheduler)
    say(f"scoring {len(todo)} with {feed.workers} worker{'s' if feed.workers != 1 else ''}"
        + (f" on {scheduler}" if scheduler else ""))
    feed.bar = tqdm(total=len(todo), desc=desc, unit="img", file=sys.stderr, disable=not progress, smoothing=0.05)
    interrupted = False
    try:
        feed.run()
    except KeyboardInterrupt:
        interrupted = True
        feed.bar.write("symmetry: interrupted; finishing the photos in progress (Ctrl-C again to stop at once)",
                       file=sys.stderr)
        feed.finish_in_flight()
    finally:
        feed.close(now=interrupted)
    return feed.workers, interrupted


class _Feed:
    """The state of one `run_tasks`: the queue, the futures in flight, and the crash suspects."""

    def __init__(self, todo: list[str], task: Task, finished: Callable[[dict], None], score, model_arg):
        self.task, self.finished, self.score, self.model_arg = task, finished, score, model_arg
        self.queue = list(reversed(todo))  # pop() from the end = sorted order
        self.suspects: list[str] = []  # in flight when a worker died: retried alone
        self.alone: str | None = None  # the suspect now running alone in the pool
        self.any_finished = False
        self.inflight: dict[Future, str] = {}
        self.executor: Executor | None = None
        self.owned = False  # a pool of our own, shut down at the end
        self.client = None  # a Dask client
        self.workers = 0
        self.bar = None

    def start(self, jobs: int | None, executor: Executor | None, scheduler: str | None) -> None:
        if scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise BatchError('a Dask scheduler needs the optional "distributed" package: '
                                 'pip install "facial-symmetry[dask]"') from None
            self.client = Client(scheduler)
            self.executor = self.client.get_executor()
            self.workers = max(1, sum(self.client.nthreads().values()))
        elif executor is None:
            self.workers = max(1, min(jobs or default_jobs(), len(self.queue)))
            self.executor, self.owned = process_pool(self.workers, self.model_arg), True
        else:
            self.executor = executor
            self.workers = max(1, getattr(executor, "_max_workers", None) or jobs or default_jobs())

    def run(self) -> None:
        window = 2 * self.workers + 2
        while self.queue or self.suspects or self.inflight:
            if self.suspects:
                if not self.inflight:  # isolate: one suspect alone in the pool
                    self.alone = self.suspects.pop(0)
                    self._submit(self.alone)
            else:
                while self.queue and len(self.inflight) < window:
                    self._submit(self.queue.pop())
            done, _ = wait(list(self.inflight), timeout=0.5, return_when=FIRST_COMPLETED)
            self.collect(done)

    def _submit(self, path: str) -> None:
        self.inflight[self.executor.submit(self.score, *self.task(path))] = path

    def _done_with(self, row: dict) -> None:
        self.any_finished = True
        self.finished(row)
        self.bar.update()

    def _error(self, path: str, why: str) -> None:
        self._done_with(error_row(path, self.model_arg, row_method(self.task(path)[2]), why))

    def collect(self, done_futures) -> None:
        broken = False
        for fut in done_futures:
            path = self.inflight.pop(fut)
            was_alone, self.alone = self.alone == path, (None if self.alone == path else self.alone)
            try:
                row = fut.result()
            except BrokenProcessPool as exc:
                if not self.owned:
                    raise BatchError(f"the executor's worker processes died ({exc}); use a new executor") from None
                broken = True
                if was_alone:  # it crashed a worker on its own: this photo is the culprit
                    self._error(path, "the scoring process crashed on this file")
                else:
                    self.suspects.append(path)
                continue
            except Exception as exc:  # e.g. a Dask worker lost; the photo gets its row
                self._error(path, f"{type(exc).__name__}: {exc}")
                continue
            self._done_with(row)
        if broken:
            self._replace_pool()

    def _replace_pool(self) -> None:
        """After a worker died: the rest of the pool died with it, so its photos become suspects."""
        for fut, path in list(self.inflight.items()):
            self.inflight.pop(fut)
            self.suspects.append(path)
        self.executor.shutdown(wait=False, cancel_futures=True)
        if not self.any_finished and not _pool_can_start(self.model_arg):
            raise BatchError(
                "the worker processes stop while starting. If you call symmetry.score_folder from a "
                'script, put the call under `if __name__ == "__main__":` (each worker process starts '
                "by importing your script), or pass executor=concurrent.futures.ThreadPoolExecutor(1)."
            )
        self.executor = process_pool(self.workers, self.model_arg)

    def finish_in_flight(self) -> None:
        """After Ctrl-C: cancel what has not started, wait briefly for the rest."""
        for fut in list(self.inflight):
            if fut.cancel():
                self.inflight.pop(fut)
        try:
            done, _ = wait(list(self.inflight), timeout=2.0)
            self.collect([f for f in done if not f.cancelled()])
        except (KeyboardInterrupt, BatchError):
            pass

    def close(self, now: bool) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.owned:
            _stop_pool(self.executor, now=now)
        if self.client is not None:
            self.client.close()


def process_pool(workers: int, model_arg: str | None):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: forking a process that holds a MediaPipe landmarker hangs or breaks the pool.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(model_arg,),
    )


def _pool_can_start(model_arg: str | None) -> bool:
    """Whether a fresh worker process starts at all (else no photo is to blame)."""
    pool = process_pool(1, model_arg)
    try:
        pool.submit(os.getpid).result(timeout=300)
        return True
    except Exception:
        return False
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


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
