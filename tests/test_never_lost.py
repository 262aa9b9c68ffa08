"""Data that must never be lost (issue 20): re-analysis keeps curation, same-size edits are
re-analysed, outputs are not re-ingested, one writer at a time with a stale-lock takeover,
all-failed runs exit 1, and internal errors are told apart from bad inputs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import cv2
import pytest

from conftest import VIDEOFORGE, gradient_clip, run_cli
from videoforge.catalog import Catalog
from videoforge.engine.config import AnalysisConfig
from videoforge.engine.run import run_videos
from videoforge.io.encode import write_video

SPLIT = AnalysisConfig(detector="videoforge", scorers=[], ocr=False)   # finds the cut: 2 shots
WHOLE = AnalysisConfig(detector="none", scorers=[], ocr=False)         # the whole video as 1 shot
CURATION = {"suitability": 0.83, "duplicate_of": "someother", "caption": "A red ball.",
            "caption_json": '{"subject": "a red ball"}', "caption_backend": "openai"}


def rows(cat: str, sql: str) -> list[tuple]:
    return Catalog(cat).query(sql)[1]


def write_y4m(path, frames) -> None:
    """Uncompressed 4:2:0 frames: a byte edited in a frame changes a pixel and still decodes."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n".encode())
        for fr in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(fr, cv2.COLOR_BGR2YUV_I420).tobytes())


@pytest.fixture
def cut_video(tmp_path):
    d = tmp_path / "in"
    write_video(d / "cut.mp4", gradient_clip(40, seed=1) + gradient_clip(40, seed=2), fps=25)
    return str(d)


def _curate(cat: str) -> None:
    from videoforge.curate.store import write_shot_columns

    ids = [r[0] for r in rows(cat, "SELECT shot_id FROM shots")]
    write_shot_columns(Catalog(cat), ids, {k: [v] * len(ids) for k, v in CURATION.items()})


def _curation(cat: str) -> dict[str, tuple]:
    cols = ", ".join(CURATION)
    return {r[0]: r[1:] for r in rows(cat, f"SELECT shot_id, start_frame, end_frame, curation_stale, {cols} FROM shots")}


# -- 1. re-analysis keeps curation -------------------------------------------------------------
def test_force_rerun_keeps_curation_of_unchanged_shots(cut_video, tmp_path):
    cat = str(tmp_path / "cat")
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    _curate(cat)
    before = _curation(cat)
    assert len(before) == 2
    s = run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1, force=True)
    assert s.analyzed == 1
    after = _curation(cat)
    assert after.keys() == before.keys()
    for sid, r in after.items():
        assert r[3:] == tuple(CURATION.values()), r     # every curation value survived
        assert r[2] is False                            # same boundaries: not stale


def test_changed_boundaries_keep_curation_marked_stale(cut_video, tmp_path):
    cat = str(tmp_path / "cat")
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    _curate(cat)
    first, second = sorted(_curation(cat).items(), key=lambda kv: kv[1][0])
    # another detector: one shot from frame 0 (same shot_id as the first), the second shot gone
    s = run_videos([cut_video], cat, config=WHOLE, progress=False, workers=1)
    assert s.analyzed == 1
    after = _curation(cat)
    assert list(after) == [first[0]]
    r = after[first[0]]
    assert (r[0], r[1]) == (0, 79)
    assert r[3:] == tuple(CURATION.values()) and r[2] is True   # kept, but the shot changed
    # back to the first detector: the surviving shot is still stale, the new one uncurated
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    again = _curation(cat)
    assert again[first[0]][2] is True and again[first[0]][3:] == tuple(CURATION.values())
    assert again[second[0]][3:] == (None,) * len(CURATION)


def test_shot_pointing_at_a_vanished_duplicate_is_marked_stale(cut_video, tmp_path):
    from videoforge.curate.store import write_shot_columns

    other = tmp_path / "other"
    write_video(other / "o.mp4", gradient_clip(30, seed=7), fps=25)
    cat = str(tmp_path / "cat")
    run_videos([cut_video, str(other)], cat, config=SPLIT, progress=False, workers=1)
    second = rows(cat, "SELECT shot_id FROM shots WHERE start_frame = 40")[0][0]
    o = [r[0] for r in rows(cat, "SELECT s.shot_id FROM shots s JOIN videos v USING (video_id) WHERE v.path LIKE '%o.mp4'")]
    assert len(o) == 1
    write_shot_columns(Catalog(cat), o, {"duplicate_of": [second]})
    run_videos([cut_video], cat, config=WHOLE, progress=False, workers=1)
    assert rows(cat, f"SELECT duplicate_of, curation_stale FROM shots WHERE shot_id = '{o[0]}'") == [(second, True)]


# -- 4. same-size edits ------------------------------------------------------------------------
def test_same_size_edit_outside_the_sampled_chunks_is_reanalysed(tmp_path):
    from videoforge.io.fingerprint import fingerprint, full_hash

    d = tmp_path / "in"
    d.mkdir()
    p = d / "big.y4m"
    write_y4m(p, gradient_clip(40, w=320, h=240, seed=5))
    size = os.path.getsize(p)
    assert size > 3 * (1 << 20)   # large enough that the fingerprint samples chunks
    cat = str(tmp_path / "cat")
    cfg = WHOLE
    assert run_videos([str(d)], cat, config=cfg, progress=False, workers=1).analyzed == 1
    (vid, h1), = rows(cat, "SELECT video_id, content_hash FROM videos")
    fp = fingerprint(p)

    # touched, not changed: the full hash is checked, nothing is re-analysed
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    s = run_videos([str(d)], cat, config=cfg, progress=False, workers=1)
    assert (s.analyzed, s.skipped) == (0, 1)
    assert rows(cat, "SELECT mtime_ns FROM videos")[0][0] == os.stat(p).st_mtime_ns   # remembered: no rehash next time

    # edit frame 11's picture (bytes ~1.27 MB in: between the first and the middle sample)
    header = len(b"YUV4MPEG2 W320 H240 F25:1 Ip A1:1 C420jpeg\n")
    frame_bytes = 320 * 240 * 3 // 2
    off = header + 11 * (6 + frame_bytes) + 6
    assert (1 << 20) < off and off + 320 * 240 < size // 2 - (1 << 19)
    with open(p, "r+b") as f:
        f.seek(off)
        f.write(bytes([250]) * (320 * 240))   # a white luma plane
    assert os.path.getsize(p) == size and fingerprint(p) == fp   # the sampled fingerprint cannot see it
    s = run_videos([str(d)], cat, config=cfg, progress=False, workers=1)
    assert s.analyzed == 1
    (vid2, h2), = rows(cat, "SELECT video_id, content_hash FROM videos")
    assert vid2 == vid                  # the id stays content-derived from the same samples
    assert h2 != h1 and h2 == full_hash(p)   # the new content was analysed


def test_content_hash_is_the_full_file_hash(tiny_videos, tmp_path):
    from videoforge.io.fingerprint import full_hash

    cat = str(tmp_path / "cat")
    run_videos([tiny_videos], cat, config=WHOLE, progress=False)
    for path, h in rows(cat, "SELECT path, content_hash FROM videos"):
        assert h == full_hash(path)
        assert subprocess.run(["sha256sum", path], capture_output=True, text=True).stdout.split()[0] == h


# -- 5. outputs are not re-ingested ------------------------------------------------------------
def test_catalog_and_export_folders_inside_the_input_are_skipped(tiny_videos, tmp_path):
    import shutil

    d = tmp_path / "proj"
    shutil.copytree(tiny_videos, d)
    cat = d / "cat"
    r = run_cli("run", d, "--catalog", cat, "--detector", "none", "--no-ocr", "-q", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"] == 3
    r = run_cli("export", cat, "--out", d / "clips_out", "--format", "opensora")
    assert r.returncode == 0, r.stderr
    assert any(f.endswith(".mp4") for _, _, fs in os.walk(d / "clips_out") for f in fs)
    r = run_cli("run", d, "--catalog", cat, "--detector", "none", "--no-ocr", "-q", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["total"], doc["skipped"]) == (3, 3)   # neither the catalog nor the export was taken as input


# -- 6. all failed, errors.kind ----------------------------------------------------------------
def test_all_inputs_failed_exits_1(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "a.mp4").write_bytes(b"not a video" * 30)
    (d / "b.mkv").write_bytes(b"")
    r = run_cli("run", d, "--catalog", tmp_path / "cat", "--detector", "none", "--no-ocr", "-q")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "all 2 input(s) failed" in r.stderr
    assert rows(str(tmp_path / "cat"), "SELECT DISTINCT kind FROM errors") == [("input",)]


def test_internal_errors_are_told_apart(tiny_videos, tmp_path, monkeypatch):
    import videoforge.engine.analyze as analyze

    def broken(*a, **k):
        raise KeyError("a bug, not a bad file")

    monkeypatch.setattr(analyze, "analyze_video", broken)
    cat = str(tmp_path / "cat")
    s = run_videos([os.path.join(tiny_videos, "clip0.mp4")], cat, config=WHOLE, progress=False, engine="inline")
    assert s.failed == 1 and s.errors[0]["kind"] == "internal"
    assert rows(cat, "SELECT kind, stage FROM errors") == [("internal", "analyze")]


# -- 3. one writer at a time -------------------------------------------------------------------
def test_second_run_says_who_holds_the_lock_then_waits(tiny_videos, tmp_path):
    from videoforge.catalog.lock import RunLock

    cat = tmp_path / "cat"
    Catalog(cat).create()
    lock = RunLock(str(cat))
    lock.acquire()
    try:
        r = run_cli("run", tiny_videos, "--catalog", cat, "--detector", "none", "--no-ocr", "-q", "--lock-wait", "0")
        assert r.returncode == 1
        assert f"pid {os.getpid()}" in r.stderr and socket.gethostname() in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        waiter = subprocess.Popen([*VIDEOFORGE, "run", tiny_videos, "--catalog", str(cat), "--detector", "none",
                                   "--no-ocr", "-q", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = waiter.stderr.readline()   # blocks until the waiter reports (start-up is slow on a busy machine)
        assert "waiting for the catalog run lock" in first and f"pid {os.getpid()}" in first, first
        time.sleep(1)
        assert waiter.poll() is None   # still waiting for the lock
    finally:
        lock.release()
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert json.loads(out)["analyzed"] == 3


def test_lock_of_a_killed_run_is_taken_over(tiny_videos, tmp_path):
    cat = tmp_path / "cat"
    Catalog(cat).create()
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; from videoforge.catalog.lock import RunLock; "
                               f"RunLock({str(cat)!r}).acquire(); print('held', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()   # SIGKILL: the lock file stays behind
    holder.wait()
    assert os.path.exists(cat / "run.lock")
    os.makedirs(cat / ".staging" / "deadrun" / "x", exist_ok=True)   # a killed run's leftovers
    os.makedirs(cat / "keyframes" / "0000000000000000", exist_ok=True)
    (cat / "keyframes" / "0000000000000000" / "12.jpg").write_bytes(b"orphan")
    r = run_cli("run", tiny_videos, "--catalog", cat, "--detector", "none", "--no-ocr", "-q", "--lock-wait", "0")
    assert r.returncode == 0, r.stderr
    assert "stale" in r.stderr and str(holder.pid) in r.stderr
    assert not os.path.exists(cat / "run.lock")   # released at the end
    assert not os.path.exists(cat / ".staging" / "deadrun")
    c = Catalog(cat)
    named = {p for (p,) in c.query("SELECT path FROM keyframes")[1]}
    files = {os.path.relpath(os.path.join(d, f), c.root) for d, _, fs in os.walk(c.keyframe_dir) for f in fs}
    assert named == files   # no orphaned keyframe, none missing


def test_crash_between_publish_and_commit_leaves_no_dangling_or_orphan(cut_video, tmp_path, monkeypatch):
    import videoforge.engine.run as run_mod

    cat = str(tmp_path / "cat")
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    real = run_mod.commit_video

    def dies(con, result):
        raise KeyboardInterrupt   # as if killed right after the keyframes were published

    monkeypatch.setattr(run_mod, "commit_video", dies)
    other = AnalysisConfig(detector="none", scorers=[], ocr=False, keyframe_params={"step_seconds": 0.4})
    with pytest.raises(KeyboardInterrupt):
        run_videos([cut_video], cat, config=other, progress=False, engine="inline")
    c = Catalog(cat)

    def state():
        named = {p for (p,) in c.query("SELECT path FROM keyframes")[1]}
        files = {os.path.relpath(os.path.join(d, f), c.root) for d, _, fs in os.walk(c.keyframe_dir) for f in fs}
        return named, files

    named, files = state()
    assert named <= files   # every keyframe the catalog names is on disk
    monkeypatch.setattr(run_mod, "commit_video", real)
    assert run_videos([cut_video], cat, config=other, progress=False, engine="inline").analyzed == 1
    named, files = state()
    assert named == files   # the rerun left no orphan


def test_api_force_run_keeps_curation(tmp_path):
    """The server's `force` goes through the same per-video commit: curation survives it."""
    from fastapi.testclient import TestClient

    from test_serve_runs import FAST, H, TOKEN, wait_run
    from videoforge.serve.app import create_app

    media = tmp_path / "media"
    write_video(media / "a.mp4", gradient_clip(30, seed=3), fps=25)
    cat = str(tmp_path / "cat")
    run_videos([str(media)], cat, config=FAST, progress=False, workers=1)
    _curate(cat)
    before = _curation(cat)
    with TestClient(create_app(cat, TOKEN, media_root=str(media), workers=1, run_config=FAST)) as c:
        r = c.post("/api/runs", headers=H, json={"paths": ["a.mp4"], "force": True})
        assert r.status_code == 202, r.text
        run = wait_run(c, r.json()["run_id"])
    assert run["status"] == "finished" and run["summary"]["analyzed"] == 1, run
    assert _curation(cat) == before


def test_any_later_curation_column_is_carried_too(cut_video, tmp_path):
    """User labels or any column a later stage adds to `shots` survive like the known ones."""
    cat = str(tmp_path / "cat")
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    with Catalog(cat).write() as con:
        con.execute("ALTER TABLE shots ADD COLUMN user_label DOUBLE")
        con.execute("UPDATE shots SET user_label = 4.0 + start_frame / 40")
        # a name that is an SQL keyword and one with a space must be carried as well
        con.execute('ALTER TABLE shots ADD COLUMN "order" INTEGER')
        con.execute('ALTER TABLE shots ADD COLUMN "my label" VARCHAR')
        con.execute('UPDATE shots SET "order" = start_frame + 1, "my label" = \'keep\'')
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1, force=True)
    assert rows(cat, "SELECT start_frame, user_label, curation_stale FROM shots ORDER BY start_frame") == [
        (0, 4.0, False), (40, 5.0, False)]
    assert rows(cat, 'SELECT "order", "my label" FROM shots ORDER BY start_frame') == [(1, "keep"), (41, "keep")]


def test_lock_from_another_pid_namespace_is_honoured(tmp_path):
    """Two containers on one host share hostname and boot id but number processes apart: a lock
    whose pid is not alive *here* but was written in another pid namespace is not stale."""
    import json as _json

    from videoforge.catalog.lock import RunLock, _pid_ns

    lock = RunLock(str(tmp_path))
    dead = {**lock._mine(), "pid": 2 ** 22 + 12345, "start_ticks": 1}   # no such pid in this namespace
    assert lock.is_stale(dead)                                          # same namespace: stale
    if _pid_ns():
        assert not lock.is_stale({**dead, "pid_ns": "pid:[1]"})          # another namespace: honoured
    (tmp_path / "run.lock").write_text(_json.dumps({**dead, "pid_ns": "pid:[1]"}))
    from videoforge.catalog.lock import CatalogLockedError

    with pytest.raises(CatalogLockedError, match="another run is writing this catalog"):
        RunLock(str(tmp_path), wait=0, on_wait=lambda info: None).acquire()


def test_rewriting_every_stale_column_clears_the_flag(cut_video, tmp_path):
    from videoforge.curate.store import write_shot_columns

    cat = str(tmp_path / "cat")
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    _curate(cat)
    run_videos([cut_video], cat, config=WHOLE, progress=False, workers=1)   # the first shot grows: stale
    sid, stale = rows(cat, "SELECT shot_id, stale_columns FROM shots")[0]
    assert sorted(stale) == sorted(CURATION)
    write_shot_columns(Catalog(cat), [sid], {"suitability": [0.5]})   # re-scored: captions still stale
    assert rows(cat, "SELECT curation_stale, list_contains(stale_columns, 'suitability') FROM shots") == [(True, False)]
    write_shot_columns(Catalog(cat), [sid], {k: [v] for k, v in CURATION.items() if k != "suitability"})
    assert rows(cat, "SELECT curation_stale, stale_columns FROM shots") == [(False, [])]


def test_new_analysis_version_marks_curation_stale_even_with_same_boundaries(cut_video, tmp_path):
    cat = str(tmp_path / "cat")
    run_videos([cut_video], cat, config=SPLIT, progress=False, workers=1)
    _curate(cat)
    before = _curation(cat)
    other = AnalysisConfig(detector="videoforge", scorers=["sharpness"], ocr=False)   # same cuts, other metrics
    assert other.signature() != SPLIT.signature()
    assert run_videos([cut_video], cat, config=other, progress=False, workers=1).analyzed == 1
    after = _curation(cat)
    assert after.keys() == before.keys()
    for sid, r in after.items():
        assert r[:2] == before[sid][:2] and r[3:] == tuple(CURATION.values())   # same shot, values kept
        assert r[2] is True                                                      # but made from other metrics
