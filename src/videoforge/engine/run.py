"""A resumable run: discover, fingerprint, skip what is done, analyse in parallel, commit each video.

The parent process is the catalog's single writer: workers return rows as values and the
parent commits each video in its own transaction (opening the database only for that), so
`videoforge sql` and the server can read between commits, and a run killed at any moment
resumes to exactly the catalog an uninterrupted run would have made.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import duckdb

from videoforge.catalog import Catalog, CatalogError
from videoforge.catalog.commit import commit_video, record_error
from videoforge.engine.backends import get_backend
from videoforge.engine.config import AnalysisConfig
from videoforge.engine.discover import discover
from videoforge.engine.jobs import Job, JobOutcome, analyze_job, publish_keyframes
from videoforge.io.fingerprint import fingerprint, video_id_for


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


def _done_signatures(catalog: Catalog) -> dict[str, str]:
    with catalog.read() as con:
        return dict(con.execute("SELECT video_id, analysis_version FROM videos").fetchall())


def _commit(catalog: Catalog, outcome: JobOutcome) -> None:
    try:
        if outcome.ok:
            publish_keyframes(outcome, catalog.root)
            with catalog.write() as con:
                commit_video(con, outcome.result)
        else:
            with catalog.write() as con:
                record_error(con, outcome.path, outcome.stage or "analyze", outcome.message or "failed", outcome.fingerprint)
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
) -> RunSummary:
    """Analyse every video in `inputs` into the catalog at `catalog_dir`; returns a summary."""
    t0 = time.perf_counter()
    config = config or AnalysisConfig()
    catalog = Catalog(catalog_dir).create()
    shutil.rmtree(os.path.join(catalog.root, ".staging"), ignore_errors=True)  # leftovers of a killed run
    emit = on_event or (lambda e: None)
    summary = RunSummary()
    paths, summary.missing_inputs = discover(inputs)
    summary.total = len(paths)

    done = {} if force else _done_signatures(catalog)
    signature = config.signature()
    jobs: list[Job] = []
    seen_fp: set[str] = set()
    for p in paths:
        try:
            fp = fingerprint(p)
        except OSError as e:
            with catalog.write() as con:
                record_error(con, p, "read", f"{p}: cannot read file ({e.strerror or e})")
            summary.failed += 1
            continue
        if fp in seen_fp or done.get(video_id_for(fp)) == signature:
            summary.skipped += 1   # already analysed (or the same content twice in this run)
            continue
        seen_fp.add(fp)
        jobs.append(Job(path=p, fingerprint=fp, catalog_root=catalog.root, config=config))

    if not jobs or (workers or 0) == 1 and len(jobs) == 1:
        backend = get_backend("inline")
    else:
        backend = get_backend(engine, workers=workers, address=address)
    n_workers = max(1, workers or os.cpu_count() or 1)
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
                summary.errors.append({"path": outcome.path, "stage": outcome.stage, "message": outcome.message})
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
    summary.seconds = time.perf_counter() - t0
    emit({"event": "finished", "done": n_done, "total": len(jobs), **{k: getattr(summary, k) for k in ("analyzed", "skipped", "failed", "shots", "cancelled")}})
    return summary
