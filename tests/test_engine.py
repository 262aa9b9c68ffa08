"""The run engine: resumable, idempotent, stable IDs, errors as rows, readers during a write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import VIDEOFORGE, gradient_clip, run_cli
from videoforge.catalog import Catalog
from videoforge.engine.config import AnalysisConfig
from videoforge.engine.run import run_videos
from videoforge.io.encode import write_video

NONE = AnalysisConfig(detector="none", scorers=[], ocr=False)


def table(cat: str, sql: str) -> list[tuple]:
    return Catalog(cat).query(sql)[1]


def test_run_then_rerun_skips_and_force_redoes(tiny_videos, tmp_path):
    cat = str(tmp_path / "cat")
    s1 = run_videos([tiny_videos], cat, workers=2, config=NONE, progress=False)
    assert (s1.total, s1.analyzed, s1.failed) == (3, 3, 0)
    rows1 = table(cat, "SELECT video_id, frames, num_shots FROM videos ORDER BY video_id")
    assert sorted(r[1] for r in rows1) == [30, 38, 45]
    s2 = run_videos([tiny_videos], cat, workers=2, config=NONE, progress=False)
    assert (s2.analyzed, s2.skipped) == (0, 3)
    s3 = run_videos([tiny_videos], cat, workers=2, config=NONE, progress=False, force=True)
    assert s3.analyzed == 3
    assert table(cat, "SELECT video_id, frames, num_shots FROM videos ORDER BY video_id") == rows1
    assert table(cat, "SELECT count(*) FROM shots")[0][0] == 3   # never doubled


def test_ids_are_stable_across_catalogs_and_paths(tiny_videos, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.copytree(tiny_videos, moved)
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    run_videos([tiny_videos], a, workers=1, config=NONE, progress=False)
    run_videos([str(moved)], b, workers=2, config=NONE, progress=False)
    q = "SELECT s.shot_id, s.video_id, s.start_frame FROM shots s ORDER BY shot_id"
    assert table(a, q) == table(b, q)
    ids = [r[0] for r in table(a, q)]
    assert all(len(i) == 16 and all(c in "0123456789abcdef" for c in i) for i in ids)


def test_changed_settings_reanalyse(tiny_videos, tmp_path):
    cat = str(tmp_path / "cat")
    run_videos([tiny_videos], cat, config=NONE, progress=False)
    other = AnalysisConfig(detector="none", scorers=[], ocr=False, analysis_width=128)
    s = run_videos([tiny_videos], cat, config=other, progress=False)
    assert s.analyzed == 3   # different analysis signature: not skipped
    assert len({r[0] for r in table(cat, "SELECT analysis_version FROM videos")}) == 1


def test_bad_file_is_an_error_row_and_is_retried(tiny_videos, tmp_path):
    src = tmp_path / "in"
    shutil.copytree(tiny_videos, src)
    bad = src / "broken.mp4"
    bad.write_text("this is not a video")
    cat = str(tmp_path / "cat")
    s = run_videos([str(src)], cat, config=NONE, progress=False)
    assert (s.analyzed, s.failed) == (3, 1)
    errs = table(cat, "SELECT path, stage, message FROM errors")
    assert len(errs) == 1 and errs[0][0] == str(bad) and "broken.mp4" in errs[0][2]
    # Fix the file: the rerun retries it, and the error row goes away.
    write_video(bad, gradient_clip(20, seed=9), fps=25)
    s2 = run_videos([str(src)], cat, config=NONE, progress=False)
    assert (s2.analyzed, s2.skipped, s2.failed) == (1, 3, 0)
    assert table(cat, "SELECT count(*) FROM errors")[0][0] == 0


def test_cli_exit_codes_and_json(tiny_videos, tmp_path):
    cat = tmp_path / "cat"
    r = run_cli("run", tiny_videos, "--catalog", cat, "--detector", "none", "--no-ocr", "-q", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["analyzed"] == 3
    r = run_cli("sql", cat, "SELECT frames, vfr, fps FROM videos ORDER BY frames", "--json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)
    assert [x["frames"] for x in rows] == [30, 38, 45]
    assert all(isinstance(x["fps"], float) and x["vfr"] is False for x in rows)
    assert run_cli("sql", cat, "SELEC nonsense").returncode == 2
    assert run_cli("sql", cat, "DELETE FROM videos").returncode == 2   # read-only: nothing lost
    assert table(str(cat), "SELECT count(*) FROM videos")[0][0] == 3
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    r = run_cli("run", tiny_videos, "--catalog", blocker / "cat", "-q")
    assert r.returncode == 1 and "catalog" in r.stderr
    assert run_cli("run", "--catalog", cat).returncode == 2
    assert run_cli("run", tmp_path / "nothing-here.mp4", "--catalog", cat, "-q").returncode == 1


@pytest.mark.slow
def test_sql_reads_while_a_run_writes(tmp_path):
    """Real processes: `videoforge sql` keeps answering while `videoforge run` commits."""
    src = tmp_path / "in"
    for k in range(8):
        write_video(src / f"v{k}.mp4", gradient_clip(120, w=160, h=96, seed=k), fps=25)
    cat = tmp_path / "cat"
    writer = subprocess.Popen([*VIDEOFORGE, "run", str(src), "--catalog", str(cat), "--workers", "1",
                               "--detector", "none", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    counts, failures = [], []
    deadline = time.time() + 300
    while writer.poll() is None and time.time() < deadline:
        if not (cat / "catalog.duckdb").exists():
            time.sleep(0.05)
            continue
        r = run_cli("sql", cat, "SELECT count(*) AS n FROM videos", "--json")
        if r.returncode != 0:
            failures.append(r.stderr)
        else:
            counts.append(json.loads(r.stdout)[0]["n"])
    assert writer.wait(timeout=60) == 0, writer.stderr.read()
    assert not failures, failures[:3]
    assert len(counts) >= 2 and counts == sorted(counts)   # every read saw a whole commit, never a torn one
    assert table(str(cat), "SELECT count(*) FROM videos")[0][0] == 8
