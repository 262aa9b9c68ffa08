"""Ray backend: same catalog as a local run; crashed tasks retried, then recorded as errors."""

from __future__ import annotations

import os
import sys

import pytest

from conftest import gradient_clip
from test_serve_support import catalog_rows, same_rows
from videoforge.engine.config import AnalysisConfig
from videoforge.engine.run import run_videos
from videoforge.io.encode import write_video

ray = pytest.importorskip("ray")

CONFIG = AnalysisConfig(detector="none", ocr=False)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray (2 CPUs) for the module; the backend joins it instead of starting its own."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers cannot import the test module
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("rayin")
    for k in range(5):
        write_video(d / f"v{k}.mp4", gradient_clip(30 + 3 * k, seed=40 + k), fps=25)
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage" * 30)
    return str(d)


def test_ray_catalog_equals_local_catalog(local_ray, inputs, tmp_path):
    local, viaray = str(tmp_path / "local"), str(tmp_path / "ray")
    s1 = run_videos([inputs], local, workers=2, config=CONFIG, progress=False)
    s2 = run_videos([inputs], viaray, workers=2, config=CONFIG, progress=False, engine="ray")
    assert (s1.analyzed, s1.failed) == (s2.analyzed, s2.failed) == (5, 1)
    a, b = catalog_rows(local), catalog_rows(viaray)
    assert len(a["videos"]) == 5 and len(a["shots"]) >= 5 and len(a["errors"]) == 1
    assert same_rows(a, b)
    # a rerun through Ray skips everything and changes nothing
    s3 = run_videos([inputs], viaray, workers=2, config=CONFIG, progress=False, engine="ray")
    assert (s3.analyzed, s3.skipped) == (0, 5)
    assert catalog_rows(viaray) == b


# -- retries ----------------------------------------------------------------------------------
def die_first_time(job):
    """Kills its worker process on the first attempt (marker file), succeeds on the retry."""
    marker = job + ".tried"
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return f"ok:{os.path.basename(job)}"


def always_die(job):
    with open(job + ".attempts", "a") as f:
        f.write("x")
    os._exit(1)


def test_crashed_task_is_retried_then_reported(local_ray, tmp_path):
    from videoforge.engine.ray_backend import RayBackend

    jobs = [str(tmp_path / f"j{k}") for k in range(3)]
    backend = RayBackend(workers=2, max_retries=2)
    got = sorted(backend.imap_unordered(die_first_time, jobs, crashed=lambda j: f"crashed:{j}"))
    assert got == sorted(f"ok:j{k}" for k in range(3))   # each job's worker died once, the retry succeeded

    bad = str(tmp_path / "bad")
    got = list(backend.imap_unordered(always_die, [bad], crashed=lambda j: f"crashed:{os.path.basename(j)}"))
    assert got == ["crashed:bad"]
    assert open(bad + ".attempts").read() == "xxx"   # first try + max_retries
    backend.close()
    assert ray.is_initialized()   # a Ray it did not start is left running


def test_remote_keyframes_come_back_with_the_outcome(tmp_path):
    """A worker on another node wrote its staging files there: the parent recreates them."""
    from types import SimpleNamespace

    from videoforge.engine.ray_backend import _collect_files, _restore_files

    remote = tmp_path / "node-b" / "staging"
    (remote / "keyframes" / "vid").mkdir(parents=True)
    (remote / "keyframes" / "vid" / "000001.jpg").write_bytes(b"\xff\xd8jpeg")
    files = _collect_files(str(remote))
    here = tmp_path / "parent" / "staging"
    _restore_files(SimpleNamespace(staging=str(here)), files)
    assert (here / "keyframes" / "vid" / "000001.jpg").read_bytes() == b"\xff\xd8jpeg"
