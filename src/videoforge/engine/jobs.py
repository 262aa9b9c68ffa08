"""One unit of work (one video) and its outcome as a value: workers never raise into the run."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import traceback
from dataclasses import dataclass

from videoforge.engine.config import AnalysisConfig
from videoforge.io.errors import VideoError


@dataclass
class Job:
    path: str
    fingerprint: str
    catalog_root: str
    config: AnalysisConfig
    mtime_ns: int | None = None         # the file's mtime when the run saw it (recorded with the rows)
    staging_dir: str | None = None      # this run's own staging folder (default: CATALOG/.staging)


@dataclass
class JobOutcome:
    path: str
    fingerprint: str
    result: object | None = None        # VideoResult
    stage: str | None = None            # on error: where it failed
    message: str | None = None          # on error: what went wrong, naming the file
    staging: str | None = None          # folder holding this result's keyframe files until commit
    kind: str = "input"                 # on error: 'input' (a bad file) or 'internal' (a bug, out of memory)

    @property
    def ok(self) -> bool:
        return self.result is not None


def staging_root(catalog_root: str, fingerprint: str, staging_dir: str | None = None) -> str:
    base = staging_dir or os.path.join(catalog_root, ".staging")
    return os.path.join(base, f"{fingerprint[:16]}-{os.getpid()}")


def analyze_job(job: Job) -> JobOutcome:
    """Analyse one video into a private staging folder; return rows or an error value."""
    from videoforge.engine.analyze import analyze_video

    from videoforge.io.fingerprint import HashWhileDecoding

    staging = staging_root(job.catalog_root, job.fingerprint, job.staging_dir)
    shutil.rmtree(staging, ignore_errors=True)
    if multiprocessing.parent_process() is not None:
        # a pool worker: OpenCV gets this worker's share of the cores, as the decoder does
        # (its default, one thread per core in every worker, oversubscribes the machine)
        import cv2

        cv2.setNumThreads(max(1, job.config.decode_threads))
    try:
        hasher = HashWhileDecoding(job.path)   # every byte, read beside the decoder
        result = analyze_video(job.path, staging, job.config, fp=job.fingerprint)
        result.video["content_hash"] = hasher.result()
        result.video["mtime_ns"] = job.mtime_ns
        return JobOutcome(job.path, job.fingerprint, result=result, staging=staging)
    except VideoError as e:
        shutil.rmtree(staging, ignore_errors=True)
        return JobOutcome(job.path, job.fingerprint, stage=e.stage, message=str(e))
    except MemoryError:
        shutil.rmtree(staging, ignore_errors=True)
        return JobOutcome(job.path, job.fingerprint, stage="analyze", message=f"{job.path}: out of memory while analysing",
                          kind="internal")
    except Exception as e:  # noqa: BLE001 - any failure is recorded, never fatal to the run
        shutil.rmtree(staging, ignore_errors=True)
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        return JobOutcome(job.path, job.fingerprint, stage="analyze", kind="internal",   # a bug, not the file
                          message=f"{job.path}: {type(e).__name__}: {e}{where}")


def publish_keyframes(outcome: JobOutcome, catalog_root: str) -> None:
    """Move a result's keyframe files from staging into `keyframes/<video_id>/`, one atomic
    rename per file, before the commit that names them.

    Nothing is deleted here: the rows still committed (the old analysis) keep naming files
    that exist. Names are `<frame>.jpg`, so a file replaced by its namesake shows the same
    frame. `prune_keyframes` removes what the new rows no longer name after the commit."""
    if not outcome.staging or outcome.result is None:
        return
    vid = outcome.result.video["video_id"]
    src = os.path.join(outcome.staging, "keyframes", vid)
    dst = os.path.join(catalog_root, "keyframes", vid)
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
        for name in os.listdir(src):
            os.replace(os.path.join(src, name), os.path.join(dst, name))


def prune_keyframes(outcome: JobOutcome, catalog_root: str) -> None:
    """After the commit: remove keyframe files of this video its rows do not name, and the staging folder."""
    if outcome.result is not None:
        vid = outcome.result.video["video_id"]
        named = {os.path.basename(k["path"]) for k in outcome.result.keyframes if k.get("path")}
        dst = os.path.join(catalog_root, "keyframes", vid)
        for name in os.listdir(dst) if os.path.isdir(dst) else []:
            if name not in named:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(dst, name))
    if outcome.staging:
        shutil.rmtree(outcome.staging, ignore_errors=True)
