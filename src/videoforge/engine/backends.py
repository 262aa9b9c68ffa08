"""Where jobs run. A backend maps `fn` over jobs and yields outcomes as they finish.

The local backend is a pool of spawned processes (safe to start from a threaded server);
a worker that dies (a decoder segfault, the OOM killer) costs only the video it held:
the pool is rebuilt and that video is retried alone, then recorded as an error.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool


class LocalBackend:
    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self, n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"))

    def imap_unordered(self, fn: Callable, jobs: Iterable, crashed: Callable | None = None,
                       cancel=None) -> Iterator:
        """Yield fn(job) for every job; a job whose worker died yields crashed(job)."""
        pending = list(jobs)[::-1]
        suspects: list = []
        self._pool = self._new_pool(self.workers)
        in_flight: dict = {}
        try:
            while pending or in_flight:
                while pending and len(in_flight) < self.workers * 2 and not (cancel and cancel.is_set()):
                    job = pending.pop()
                    in_flight[self._pool.submit(fn, job)] = job
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    job = in_flight.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(job)
                if broken:
                    # Every job still in flight is suspect; retry each alone to find the culprit.
                    suspects.extend(in_flight.values())
                    in_flight.clear()
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    for job in suspects:
                        solo = self._new_pool(1)
                        try:
                            yield solo.submit(fn, job).result()
                        except BrokenProcessPool:
                            yield crashed(job) if crashed else None
                        finally:
                            solo.shutdown(wait=False, cancel_futures=True)
                    suspects.clear()
                    self._pool = self._new_pool(self.workers)
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class InlineBackend:
    """Runs jobs in this process, one after another: for debugging and tiny runs."""

    name = "inline"

    def imap_unordered(self, fn, jobs, crashed=None, cancel=None):
        for job in jobs:
            if cancel and cancel.is_set():
                break
            yield fn(job)

    def close(self) -> None:
        pass


def get_backend(name: str = "local", workers: int | None = None, address: str | None = None):
    if name == "local":
        return LocalBackend(workers)
    if name == "inline":
        return InlineBackend()
    if name == "ray":
        from videoforge.engine.ray_backend import RayBackend

        return RayBackend(address=address, workers=workers)
    raise ValueError(f"unknown engine {name!r}; choose local, ray or inline")
