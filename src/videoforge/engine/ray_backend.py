"""Ray backend: one video per Ray task, outcomes back to the run's single writer.

`get_backend("ray", address=..., workers=N)` returns a RayBackend. Without an address it
starts a private local Ray (N CPUs, no dashboard) and shuts it down on close(); with
`ray://HOST:PORT` (Ray Client, needs `ray[client]`) or `HOST:PORT`/`auto` it joins an existing
cluster, and on close() disconnects, leaving the cluster running. A Ray the caller already
initialised is used as it is and left alone.

What crosses the wire: a `Job` (path, fingerprint, catalog root, config) out and a
`JobOutcome` (rows as values) back; the parent commits each outcome exactly as with the
local backend, so the catalog is the same. Keyframe JPEGs written by a worker on another
machine are shipped back as bytes with the outcome and written into the parent's staging
folder, so only the *videos* need to be reachable at the same path on every node.
A task whose worker dies (segfault, OOM kill, node lost) is retried by Ray
(`max_retries`), then reported through `crashed(job)` and recorded in `errors`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Iterator

DEFAULT_RETRIES = 2   # re-runs of a task whose worker process died, before it becomes an error row


def _collect_files(folder: str) -> dict[str, bytes]:
    files = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, folder)] = f.read()
    return files


def run_task(fn: Callable, job) -> tuple:
    """Executed inside a Ray worker: fn(job) plus the staging files it wrote, and where it ran."""
    outcome = fn(job)
    staging = getattr(outcome, "staging", None)
    files = _collect_files(staging) if staging and os.path.isdir(staging) else {}
    return outcome, files, socket.gethostname(), os.getpid()


def _restore_files(outcome, files: dict[str, bytes]) -> None:
    """Recreate a remote worker's staging folder here (a no-op when it ran on this machine)."""
    staging = getattr(outcome, "staging", None)
    if not staging or not files or os.path.isdir(staging):
        return
    for rel, data in files.items():
        dest = os.path.join(staging, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)


class RayBackend:
    """Maps a job function over jobs as Ray tasks; yields outcomes as they finish."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, max_retries: int = DEFAULT_RETRIES,
                 init_kwargs: dict | None = None):
        try:
            import ray
        except ImportError as e:  # pragma: no cover - depends on the install
            raise RuntimeError("--engine ray needs Ray: pip install 'videoforge[ray]'") from e
        self._ray = ray
        self.address = address
        self.max_retries = max_retries
        self._init_here = False   # set when we call ray.init; close() then calls ray.shutdown
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="warning",
                          configure_logging=True)
            kwargs.update(init_kwargs or {})
            if address:
                ray.init(address=address, **{k: v for k, v in kwargs.items() if k != "include_dashboard"})
            else:
                ray.init(num_cpus=max(1, workers or os.cpu_count() or 1), **kwargs)
            self._init_here = True
        # Tasks in flight at once: the cluster's CPUs (or --workers), times two to hide latency.
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(workers, cpus) if workers else cpus)
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(run_task)

    def imap_unordered(self, fn: Callable, jobs: Iterable, crashed: Callable | None = None,
                       cancel=None) -> Iterator:
        """Yield fn(job) for every job (unordered); a job whose task failed after retries yields crashed(job)."""
        ray = self._ray
        pending = list(jobs)[::-1]
        in_flight: dict = {}
        fn_ref = ray.put(fn)
        while pending or in_flight:
            while pending and len(in_flight) < 2 * self.workers and not (cancel is not None and cancel.is_set()):
                job = pending.pop()
                in_flight[self._remote.remote(fn_ref, job)] = job
            if not in_flight:
                break
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                job = in_flight.pop(ref)
                try:
                    outcome, files, _host, _pid = ray.get(ref)
                except (ray.exceptions.RayTaskError, ray.exceptions.WorkerCrashedError,
                        ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError,
                        ray.exceptions.TaskUnschedulableError):
                    # Retries are spent (or the task itself raised): the video becomes an error row.
                    yield crashed(job) if crashed else None
                    continue
                _restore_files(outcome, files)
                yield outcome

    def close(self) -> None:
        if self._init_here and self._ray.is_initialized():
            self._ray.shutdown()   # a cluster we joined keeps running; a local Ray we started stops
            self._init_here = False
