"""One unit of work (one video) and its outcome as a value: workers never raise into the run."""

from __future__ import annotations

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


@dataclass
class JobOutcome:
    path: str
    fingerprint: str
    result: object | None = None        # VideoResult
    stage: str | None = None            # on error: where it failed
    message: str | None = None          # on error: what went wrong, naming the file
    staging: str | None = None          # folder holding this result's keyframe files until commit

    @property
    def ok(self) -> bool:
        return self.result is not None


def staging_root(catalog_root: str, fingerprint: str) -> str:
    return os.path.join(catalog_root, ".staging", f"{fingerprint[:16]}-{os.getpid()}")


def analyze_job(job: Job) -> JobOutcome:
    """Analyse one video into a private staging folder; return rows or an error value."""
    from videoforge.engine.analyze import analyze_video

    staging = staging_root(job.catalog_root, job.fingerprint)
    shutil.rmtree(staging, ignore_errors=True)
    try:
        result = analyze_video(job.path, staging, job.config, fp=job.fingerprint)
        return JobOutcome(job.path, job.fingerprint, result=result, staging=staging)
    except VideoError as e:
        shutil.rmtree(staging, ignore_errors=True)
        return JobOutcome(job.path, job.fingerprint, stage=e.stage, message=str(e))
    except MemoryError:
        shutil.rmtree(staging, ignore_errors=True)
        return JobOutcome(job.path, job.fingerprint, stage="analyze", message=f"{job.path}: out of memory while analysing")
    except Exception as e:  # noqa: BLE001 - any failure is recorded, never fatal to the run
        shutil.rmtree(staging, ignore_errors=True)
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        return JobOutcome(job.path, job.fingerprint, stage="analyze",
                          message=f"{job.path}: {type(e).__name__}: {e}{where}")


def publish_keyframes(outcome: JobOutcome, catalog_root: str) -> None:
    """Move a result's keyframe folder from staging into the catalog, replacing the old one."""
    if not outcome.staging or outcome.result is None:
        return
    vid = outcome.result.video["video_id"]
    src = os.path.join(outcome.staging, "keyframes", vid)
    dst = os.path.join(catalog_root, "keyframes", vid)
    if os.path.isdir(src):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        old = dst + ".old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.exists(dst):
            os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(outcome.staging, ignore_errors=True)
