"""Keyframe selection in the decode pass: coverage, fixed step, content changes, dedup, files."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from videoforge.io.decode import decode_frames, DecodeStats
from videoforge.io.probe import probe
from videoforge.metrics.base import ShotContext
from videoforge.metrics.keyframes import KeyframeSelector
from videoforge.shots.base import Shot
from videoforge.io.encode import write_video

W, H = 160, 96


def texture(seed: int, w: int = W * 3, h: int = H * 3, cell: int = 8) -> np.ndarray:
    r = np.random.default_rng(seed)
    base = r.integers(0, 255, (h // cell + 2, w // cell + 2, 3), dtype=np.uint8)
    return cv2.resize(base, ((w // cell + 2) * cell, (h // cell + 2) * cell), interpolation=cv2.INTER_CUBIC)[:h, :w]


def still(seed: int, n: int) -> list[np.ndarray]:
    t = texture(seed)[:H, :W]
    return [t.copy() for _ in range(n)]


def pan(seed: int, n: int, speed: int = 3) -> list[np.ndarray]:
    t = texture(seed)
    return [np.ascontiguousarray(t[:H, i * speed: i * speed + W]) for i in range(n)]


def select(tmp_path, frames, shots, name="v", **params):
    path = write_video(tmp_path / f"{name}.mp4", frames, fps=25)
    sel = KeyframeSelector(**params)
    stats = DecodeStats()
    for f in decode_frames(path, stats=stats):
        sel.process(f)
    ctx = ShotContext(info=probe(path), stats=stats, shots=shots, video_id=name, catalog_root=str(tmp_path / "cat"))
    tmp = sel._tmp
    rows = sel.finish(ctx)
    assert not os.path.exists(tmp)   # candidates spilled during the pass are cleaned up
    return rows


def test_every_shot_gets_keyframes_inside_it_with_files(tmp_path):
    frames = still(1, 30) + pan(2, 60) + still(3, 20)
    shots = [Shot(0, 29), Shot(30, 89), Shot(90, 109)]
    rows = select(tmp_path, frames, shots)
    assert len(rows) == 3
    cat = tmp_path / "cat"
    for shot, kfs in zip(shots, rows):
        assert kfs, "every shot has a keyframe"
        for kf in kfs:
            assert shot.start_frame <= kf["frame"] <= shot.end_frame
            assert kf["path"] == f"keyframes/v/{kf['frame']}.jpg"
            assert kf["pts_time"] == pytest.approx(kf["frame"] / 25, abs=1e-3)
            img = cv2.imread(str(cat / kf["path"]))
            assert img is not None and img.shape[:2] == (kf["height"], kf["width"]) == (H, W)
            # the JPEG is the frame it claims to be
            assert np.abs(img.astype(int) - frames[kf["frame"]][:, :, ::-1].astype(int)).mean() < 12
    assert not [p for p in os.listdir(cat / "keyframes" / "v") if not p.endswith(".jpg")]  # no temp files left


def test_still_shot_is_deduplicated_to_one_keyframe(tmp_path):
    rows = select(tmp_path, still(4, 100), [Shot(0, 99)])   # 4 s: fixed step would give 2-3
    assert len(rows[0]) == 1


def test_moving_shot_gets_fixed_step_keyframes(tmp_path):
    rows = select(tmp_path, pan(5, 125, speed=2), [Shot(0, 124)])  # 5 s of steady pan
    times = [kf["pts_time"] for kf in rows[0]]
    assert 3 <= len(times) <= 4            # 0, 2, 4 s (+ at most one change frame)
    assert times == sorted(times) and times[0] < 0.1


def test_content_change_inside_a_shot_adds_a_keyframe(tmp_path):
    # one "shot" (as a detector that missed the change would give) holding two still pictures
    frames = still(6, 30) + still(7, 20)
    rows = select(tmp_path, frames, [Shot(0, 49)])
    got = [kf["frame"] for kf in rows[0]]
    assert len(got) == 2 and got[0] < 30 <= got[1] <= 31


def test_short_shot_after_a_dissolve_still_gets_its_own_frame(tmp_path):
    a, b = still(8, 20), still(9, 6)
    dissolve = [((1 - k / 12) * a[0] + (k / 12) * b[0]).astype(np.uint8) for k in range(1, 12)]
    frames = a + dissolve + b                   # shot A 0-19, dissolve 20-30, shot B 31-36
    rows = select(tmp_path, frames, [Shot(0, 19), Shot(31, 36)])
    assert [len(r) for r in rows] == [1, 1]
    assert 31 <= rows[1][0]["frame"] <= 36


def test_candidates_left_by_a_killed_process_are_swept(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"vf-keyframes-{int(dead.stdout)}-abc"
    stale.mkdir()
    (stale / "12.jpg").write_bytes(b"x")
    live = tmp_path / f"vf-keyframes-{os.getpid()}-def"
    live.mkdir()
    sel = KeyframeSelector(tmp_dir=str(tmp_path))
    assert not stale.exists() and live.exists() and os.path.isdir(sel._tmp)
    sel.close()
    assert not os.path.exists(sel._tmp)


def test_candidates_over_the_memory_allowance_wait_on_disk_with_the_same_result(tmp_path, monkeypatch):
    """Candidate JPEGs are held in memory up to keyframes.MEMORY_BYTES, then written to the
    temp folder; the chosen keyframes (rows and file bytes) do not depend on where they waited."""
    from videoforge.metrics import keyframes as kfmod

    frames = still(1, 30) + pan(2, 60) + still(3, 20)
    shots = [Shot(0, 29), Shot(30, 89), Shot(90, 109)]
    in_memory = select(tmp_path / "a", frames, shots)
    monkeypatch.setattr(kfmod, "MEMORY_BYTES", 0)   # every candidate waits on disk
    on_disk = select(tmp_path / "b", frames, shots)
    assert in_memory == on_disk
    for kfs in in_memory:
        for kf in kfs:
            a = (tmp_path / "a" / "cat" / kf["path"]).read_bytes()
            assert a and a == (tmp_path / "b" / "cat" / kf["path"]).read_bytes()
