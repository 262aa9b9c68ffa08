"""A resumable run: discover, fingerprint, skip what is done, analyse in parallel, commit each video.

The parent process is the catalog's single writer: workers return rows as values and the
parent commits each video in its own transaction (opening the database only for that), so
`videoforge sql` and the server can read between commits, and a run killed at any moment
resumes to exactly the catalog an uninterrupted run would have made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import duckdb

from videoforge.catalog import Catalog, CatalogError
from videoforge.catalog.commit import commit_video, record_error
from videoforge.catalog.lock import RunLock
from videoforge.catalog.markers import CATALOG_MARKER, mark
from videoforge.engine.backends import get_backend
from videoforge.engine.config import AnalysisConfig
from videoforge.engine.discover import discover
from videoforge.engine.jobs import Job, JobOutcome, analyze_job, prune_keyframes, publish_keyframes
from videoforge.io.fingerprint import fingerprint, full_hash, video_id_for


@dataclass
class RunSummary:
    total: int = 0
    analyzed: int = 0
    skipped: int = 0
    failed: int = 0
    shots: int = 0
    frames: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    missing_inputs: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _done_videos(catalog: Catalog) -> dict[str, tuple]:
    """video_id -> (analysis signature, path, size, mtime_ns, content_hash) of what is committed."""
    with catalog.read() as con:
        rows = con.execute("SELECT video_id, analysis_version, path, size_bytes, mtime_ns, content_hash FROM videos").fetchall()
    return {r[0]: r[1:] for r in rows}


def _unchanged(path: str, st: os.stat_result, done: tuple, remember: list) -> bool:
    """Is the committed analysis of this content still the file's? Same path, size and mtime:
    yes. Otherwise (touched, copied, edited in place keeping its size) the full content hash
    decides; an unchanged file's new mtime is remembered so the next run need not hash it."""
    _, d_path, d_size, d_mtime, d_hash = done
    if d_path == path and d_size == st.st_size and d_mtime == st.st_mtime_ns:
        return True
    h = full_hash(path)
    if d_hash is not None and h != d_hash:
        return False
    if d_path == path:   # same file touched (or a catalog made before content hashes): remember it
        remember.append((st.st_mtime_ns, h, path))
    return True


def _remember(catalog: Catalog, remember: list) -> None:
    if not remember:
        return
    with catalog.write() as con:
        con.execute("BEGIN TRANSACTION")
        con.executemany("UPDATE videos SET mtime_ns = ?, content_hash = ? WHERE path = ?", remember)
        con.execute("COMMIT")


def _sweep_leftovers(catalog: Catalog, staging_base: str) -> None:
    """A killed run's leftovers (we hold the run lock, so no other writer is alive): its staging
    folders, and keyframe files no row names (published before a commit that never came)."""
    shutil.rmtree(staging_base, ignore_errors=True)
    kdir = catalog.keyframe_dir
    if not os.path.isdir(kdir):
        return
    with catalog.read() as con:
        named = {p for (p,) in con.execute("SELECT path FROM keyframes").fetchall()}
    for vid in os.listdir(kdir):
        d = os.path.join(kdir, vid)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if f"keyframes/{vid}/{name}" not in named:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(d, name))
        with contextlib.suppress(OSError):
            os.rmdir(d)   # only when empty


def _commit(catalog: Catalog, outcome: JobOutcome) -> None:
    """One outcome into the catalog. Keyframes: files in place (old ones kept), the commit that
    names them, then the files no row names removed - a kill anywhere leaves every row's
    files on disk, and at worst unnamed files that the next run sweeps."""
    try:
        if outcome.ok:
            publish_keyframes(outcome, catalog.root)
            with catalog.write() as con:
                commit_video(con, outcome.result)
            prune_keyframes(outcome, catalog.root)
        else:
            with catalog.write() as con:
                record_error(con, outcome.path, outcome.stage or "analyze", outcome.message or "failed", outcome.fingerprint,
                             kind=outcome.kind)
    except OSError as e:
        raise CatalogError(f"{catalog.root}: cannot write to the catalog ({e.strerror or e}); "
                           "free disk space or choose a writable --catalog, then rerun (finished videos are kept)") from e
    except duckdb.Error as e:
        if "write" not in str(e).lower() and "space" not in str(e).lower():
            raise
        # DuckDB reports a full disk / unwritable file as its own error type, not OSError.
        raise CatalogError(f"{catalog.root}: cannot write to the catalog ({e}); "
                           "free disk space or choose a writable --catalog, then rerun (finished videos are kept)") from e


def run_videos(
    inputs: list[str],
    catalog_dir: str,
    workers: int | None = None,
    force: bool = False,
    engine: str = "local",
    address: str | None = None,
    config: AnalysisConfig | None = None,
    progress: bool = True,
    cancel=None,
    on_event: Callable[[dict], None] | None = None,
    lock_wait: float | None = None,
) -> RunSummary:
    """Analyse every video in `inputs` into the catalog at `catalog_dir`; returns a summary.

    One run writes a catalog at a time: the run waits for the catalog's run lock (`lock_wait`
    seconds, None = as long as it takes; CatalogLockedError names the holder), and takes over
    the lock of a run that was killed."""
    config = config or AnalysisConfig()
    catalog = Catalog(catalog_dir).create()
    mark(catalog.root, CATALOG_MARKER)   # discovery never takes the catalog's own files for input
    emit = on_event or (lambda e: None)

    def waiting(info: dict) -> None:
        from videoforge.catalog.lock import describe

        print(f"waiting for the catalog run lock of {catalog.root}, held by {describe(info)}", file=sys.stderr, flush=True)
        emit({"event": "waiting_lock", "holder": describe(info)})

    with RunLock(catalog.root, wait=lock_wait, on_wait=waiting, cancel=cancel) as lock:
        return _run_locked(inputs, catalog, lock, workers, force, engine, address, config, progress, cancel, emit)


def _run_locked(inputs, catalog: Catalog, lock: RunLock, workers, force, engine, address, config: AnalysisConfig,
                progress, cancel, emit) -> RunSummary:
    t0 = time.perf_counter()
    staging_base = os.path.join(catalog.root, ".staging")
    if lock.took_over or (os.path.isdir(staging_base) and os.listdir(staging_base)):
        _sweep_leftovers(catalog, staging_base)
    # this run's own staging folder: nothing another run does can touch it
    run_staging = os.path.join(staging_base, f"{socket.gethostname()}-{os.getpid()}-{int(time.time())}")
    summary = RunSummary()
    paths, summary.missing_inputs = discover(inputs, skip=[catalog.root])
    summary.total = len(paths)

    done = {} if force else _done_videos(catalog)
    signature = config.signature()
    jobs: list[Job] = []
    seen_fp: set[str] = set()
    remember: list[tuple] = []
    for p in paths:
        try:
            st = os.stat(p)
            fp = fingerprint(p)
            prior = done.get(video_id_for(fp))
            same = fp not in seen_fp and prior is not None and prior[0] == signature and _unchanged(p, st, prior, remember)
        except OSError as e:
            with catalog.write() as con:
                record_error(con, p, "read", f"{p}: cannot read file ({e.strerror or e})")
            summary.failed += 1
            summary.errors.append({"path": p, "stage": "read", "message": f"{p}: cannot read file ({e.strerror or e})",
                                   "kind": "input"})
            continue
        if fp in seen_fp or same:
            summary.skipped += 1   # already analysed (or the same content twice in this run)
            continue
        seen_fp.add(fp)
        jobs.append(Job(path=p, fingerprint=fp, catalog_root=catalog.root, config=config, mtime_ns=st.st_mtime_ns,
                        staging_dir=run_staging))
    _remember(catalog, remember)

    n_workers = max(1, workers or os.cpu_count() or 1)
    if not jobs or len(jobs) == 1 and (n_workers == 1 or engine == "local"):
        # one video: analysed here (no fresh interpreter to start), its segments in forked
        # processes when it is long enough (engine/segments.py; identical to one pass)
        backend = get_backend("inline")
        config.segment_workers = config.segment_workers or n_workers
    else:
        backend = get_backend(engine, workers=workers, address=address)
        if engine == "local" and config.decode_prefetch is None and len(jobs) >= n_workers >= (os.cpu_count() or 1):
            # the pool's processes keep every core busy: a decode thread beside each would only
            # add its handoffs (~0.08 ms of CPU per frame); same results either way
            config.decode_prefetch = 0
    config.decode_threads = config.decode_threads or max(1, (os.cpu_count() or 1) // n_workers)
    emit({"event": "start", "done": 0, "total": len(jobs), "skipped": summary.skipped})

    bar = None
    if progress and jobs:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="video", file=sys.stderr, desc="analysing", dynamic_ncols=True)

    def crashed(job: Job) -> JobOutcome:
        return JobOutcome(job.path, job.fingerprint, stage="decode",
                          message=f"{job.path}: worker process crashed while analysing (decoder fault or out of memory)")

    n_done = 0
    try:
        for outcome in backend.imap_unordered(analyze_job, jobs, crashed=crashed, cancel=cancel):
            if outcome is None:
                continue
            _commit(catalog, outcome)
            n_done += 1
            if outcome.ok:
                summary.analyzed += 1
                summary.shots += len(outcome.result.shots)
                summary.frames += int(outcome.result.video.get("frames") or 0)
                for k, v in outcome.result.timings.items():
                    summary.timings[k] = summary.timings.get(k, 0.0) + v
                emit({"event": "video_done", "done": n_done, "total": len(jobs), "path": outcome.path,
                      "shots": len(outcome.result.shots)})
            else:
                summary.failed += 1
                summary.errors.append({"path": outcome.path, "stage": outcome.stage, "message": outcome.message,
                                       "kind": outcome.kind})
                emit({"event": "video_error", "done": n_done, "total": len(jobs), "path": outcome.path,
                      "message": outcome.message})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(shots=summary.shots, failed=summary.failed)
            if cancel is not None and cancel.is_set():
                summary.cancelled = True
                break
    finally:
        backend.close()
        if bar is not None:
            bar.close()
        shutil.rmtree(run_staging, ignore_errors=True)
    summary.seconds = time.perf_counter() - t0
    emit({"event": "finished", "done": n_done, "total": len(jobs), **{k: getattr(summary, k) for k in ("analyzed", "skipped", "failed", "shots", "cancelled")}})
    return summary
