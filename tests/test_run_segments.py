"""`run` on a long video analyses segments in parallel processes and joins them into exactly
the catalog one pass makes: shots, transitions, every metric column, keyframes (rows and
JPEG bytes), audio, the video row."""

from __future__ import annotations

import hashlib
import math
import os

import av
import cv2
import numpy as np
import pytest

from videoforge.io.encode import write_video
from videoforge.synth.transitions import GenSettings, generate

WORDS = ["HARBOUR", "STUDIO 24", "THE ROAD"]


@pytest.fixture(scope="module")
def source_frames(tmp_path_factory):
    """~560 frames at 320x180 of the held-out generator (every transition kind, flashes, shake,
    whip pans), with a caption over parts of it and a still, black and frozen stretch."""
    path = str(tmp_path_factory.mktemp("segsrc") / "src.mp4")
    st = GenSettings(width=320, height=180, shots=9, shot_len=(40, 60), gradual_len=(10, 16),
                     footage="heldout", distractor_rate=1.0, crf=20,
                     sequence=["cut", "dissolve", "fade", "wipe", "cut", "wipe", "dissolve", "fade"])
    generate(path, seed=977, settings=st)
    with av.open(path) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    for i, img in enumerate(frames):
        if (i // 90) % 2 == 0:
            cv2.putText(img, WORDS[(i // 180) % len(WORDS)], (12, 160), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                        (255, 255, 255), 2, cv2.LINE_AA)
    black = np.zeros_like(frames[0])
    frames[200:212] = [black] * 12             # black frames
    frames[300:330] = [frames[300]] * 30       # a frozen stretch
    return frames


def _encode(tmp_path, frames, kind: str) -> str:
    if kind == "h264_bframes_audio":
        return write_video(tmp_path / "a.mp4", frames, fps=25, gop=48, audio_tone_hz=440,
                           options={"bf": "3"})
    if kind == "vp9_webm":
        if "libvpx-vp9" not in av.codecs_available:
            pytest.skip("libvpx-vp9 not in this FFmpeg build")
        return write_video(tmp_path / "a.webm", frames, fps=25, codec="libvpx-vp9", crf=None,
                           options={"g": "60", "deadline": "realtime", "cpu-used": "8"})
    if kind == "hevc_mkv":
        if "libx265" not in av.codecs_available:
            pytest.skip("libx265 not in this FFmpeg build")
        return write_video(tmp_path / "a.mkv", frames, fps=25, codec="libx265", crf=None,
                           options={"x265-params": "keyint=60:no-open-gop=1:log-level=error"})
    if kind == "vfr_rotated":
        n = len(frames)
        times = list(np.cumsum(np.where(np.arange(n) % 3 == 0, 0.06, 0.03)))
        return write_video(tmp_path / "a.mp4", frames, fps=25, gop=50, rotation=90, pts_seconds=times)
    raise ValueError(kind)


def _tables(catalog: str) -> dict:
    """Every row of the analysis tables, run-specific columns left out, keyframe files by content."""
    from videoforge.catalog import Catalog

    out = {}
    skip = {"analyzed_at", "logged_at", "created_at"}
    cat = Catalog(catalog)
    for table, order in (("videos", "video_id"), ("shots", "start_frame"), ("transitions", "start_frame"),
                         ("keyframes", "frame, shot_id")):
        rows = cat.query_dicts(f"SELECT * FROM {table} ORDER BY {order}")
        out[table] = [{k: v for k, v in row.items() if k not in skip} for row in rows]
    out["errors"] = cat.query("SELECT count(*) FROM errors")[1][0][0]
    for row in out["keyframes"]:
        with open(os.path.join(catalog, row["path"]), "rb") as f:
            row["jpeg_md5"] = hashlib.md5(f.read()).hexdigest()
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        # OpenCV's DIS flow rounds differently with the one thread each segment worker gets
        # than with its own pool in one pass (segments.py says why): motion columns agree to
        # ~1e-9 relative on some CPUs, exactly on others. Every other float is exact either way.
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.fixture
def small_segments(monkeypatch):
    """Segments short enough for a ~560-frame test video (the detector still asks >= 160 frames)."""
    from videoforge.engine import segments as engine_segments
    from videoforge.io import segments

    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 120)
    monkeypatch.setattr(engine_segments, "MIN_FRAMES_PER_WORKER", 100)


@pytest.mark.parametrize("kind", ["h264_bframes_audio", "vp9_webm", "hevc_mkv", "vfr_rotated"])
def test_segmented_run_writes_the_one_pass_catalog(source_frames, tmp_path, small_segments, kind):
    from videoforge.engine.analyze import analyze_video
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos

    path = _encode(tmp_path, source_frames, kind)
    # the segmented path really runs on this file (it is not silently one pass)
    split = analyze_video(path, str(tmp_path / "probe-cat"), AnalysisConfig(segment_workers=3))
    assert "join" in split.timings
    one = run_videos([path], str(tmp_path / "one"), workers=1, progress=False)
    par = run_videos([path], str(tmp_path / "par"), workers=3, progress=False)
    assert one.analyzed == par.analyzed == 1 and one.failed == par.failed == 0
    a, b = _tables(str(tmp_path / "one")), _tables(str(tmp_path / "par"))
    assert len(a["shots"]) >= 6 and a["keyframes"] and a["errors"] == 0
    for table in ("videos", "shots", "transitions", "keyframes"):
        assert len(a[table]) == len(b[table]), table
        for x, y in zip(a[table], b[table]):
            assert _same(x, y), (table, {k: (x[k], y.get(k)) for k in x if not _same(x[k], y.get(k))})
    if kind == "h264_bframes_audio":   # every metric is measured on this file
        shots = a["shots"]
        assert all(s["audio_rms_db"] is not None for s in shots)
        assert all(s["sharpness"] is not None and s["black_ratio"] is not None for s in shots)
        assert any(s["frozen_ratio"] > 0 for s in shots)
        assert any(s["ocr_text"] for s in shots)


def test_segment_join_samples_and_keyframes_match_one_pass_at_every_seam(source_frames, tmp_path, small_segments):
    """Below the catalog: the sample logs (their frame indices) and keyframe candidates of the
    joined scorers equal one pass's, seam frames included."""
    from videoforge.engine.analyze import _build_components, _one_pass, _Timed
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.segments import analyze_in_segments

    path = _encode(tmp_path, source_frames, "h264_bframes_audio")
    config = AnalysisConfig(ocr=False)
    det, scorers, kf = _build_components(config)
    stats, shots, _ = _one_pass(path, config, det, scorers, kf, _Timed())
    det2, scorers2, kf2 = _build_components(config)
    done = analyze_in_segments(path, config, det2, scorers2, kf2, workers=3)
    assert done is not None and done.stats.segments >= 2
    assert done.stats.pts == stats.pts and [(s.start_frame, s.end_frame) for s in done.shots] == \
        [(s.start_frame, s.end_frame) for s in shots]
    for s1, s2 in zip(scorers, scorers2):
        if hasattr(s1, "log"):
            f1, v1 = s1.log.arrays()
            f2, v2 = s2.log.arrays()
            assert np.array_equal(f1, f2), s1.name
            assert np.array_equal(v1, v2, equal_nan=True), s1.name
    assert [c.frame for c in kf.candidates] == [c.frame for c in kf2.candidates]
    # the grid: about 4 flow pairs and 3 sharpness samples per second of video
    motion = next(s for s in scorers if s.name == "motion")
    seconds = stats.pts[-1] - stats.pts[0]
    assert abs(len(motion.log) - 4 * seconds) <= 3


def _fail_or_hang(path, config, spill_dir, start, stop):
    """A segment worker that fails on the video's first segment and hangs on every other."""
    import time

    if start is None or start <= 0:
        raise RuntimeError("planted failure in the first segment")
    time.sleep(600)


def test_a_failed_segment_stops_the_others_instead_of_waiting_for_them(source_frames, tmp_path, small_segments,
                                                                         monkeypatch):
    """One worker fails while the others are stuck (e.g. in their decoder): the pass gives up at
    once (one pass then decides) and terminates the stuck workers, which would otherwise outlive
    it and hang the interpreter's exit while the run holds the catalog lock."""
    import time

    from videoforge.engine import segments as engine_segments
    from videoforge.engine.analyze import _build_components
    from videoforge.engine.config import AnalysisConfig

    path = _encode(tmp_path, source_frames, "h264_bframes_audio")
    config = AnalysisConfig(ocr=False)
    monkeypatch.setattr(engine_segments, "_segment_work", _fail_or_hang)   # forked workers inherit it
    monkeypatch.setattr(engine_segments, "_audio_work", lambda *a: time.sleep(600))
    det, scorers, kf = _build_components(config)
    import multiprocessing

    t0 = time.monotonic()
    assert engine_segments.analyze_in_segments(path, config, det, scorers, kf, workers=3) is None
    assert time.monotonic() - t0 < 120   # not the 600 s the stuck workers would take
    # and no stuck worker outlives the pass (the interpreter's exit would wait on it)
    deadline = time.monotonic() + 30
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert multiprocessing.active_children() == []


def test_keyframe_join_from_synced_segment_heads_equals_full_replay_and_one_pass(source_frames, tmp_path):
    """The keyframe join replays each segment only up to the frame where the segment's own state
    became the one pass's, then takes the segment's own decisions: the same candidates (frames
    and JPEG bytes) as replaying every frame and as one pass, for segments that sync and for
    short ones that never do."""
    import dataclasses
    from types import SimpleNamespace

    from videoforge.io.decode import decode_frames
    from videoforge.metrics.keyframes import KeyframeSelector

    path = _encode(tmp_path, source_frames, "h264_bframes_audio")
    cuts = [0, 23, 60, 64, 150, 201, 290, 333, 420, 10 ** 9]   # short (4, 23 frames) and long segments
    one = KeyframeSelector()
    parts = [KeyframeSelector(spill_dir=str(tmp_path / f"spill{k}"), segment=True) for k in range(len(cuts) - 1)]
    for fr in decode_frames(path):
        one.process(fr)
        k = next(k for k in range(len(cuts) - 1) if cuts[k] <= fr.index < cuts[k + 1])
        parts[k].process(dataclasses.replace(fr, index=fr.index - cuts[k]))
    states = [p.segment_state() for p in parts]
    assert any(st["synced"] is not None for st in states) and any(st["synced"] is None for st in states)
    seams = [SimpleNamespace(offset=c) for c in cuts[1:-1]]
    fast, full = KeyframeSelector(), KeyframeSelector()
    fast.join_segments(states, seams)
    full.join_segments(states, seams, full_replay=True)

    def key(sel):
        return [(c.frame, c.pts_time, c.file if isinstance(c.file, bytes) else open(c.file, "rb").read())
                for c in sel.candidates]

    assert len(one.candidates) >= 10
    assert key(fast) == key(full) == key(one)
