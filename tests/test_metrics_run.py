"""Metrics and keyframes end to end through `run_videos`, on ordinary and awkward inputs."""

from __future__ import annotations

import os

import cv2
import numpy as np

from videoforge.catalog import Catalog
from videoforge.catalog.schema import METRIC_COLUMNS
from videoforge.engine.config import AnalysisConfig
from videoforge.engine.run import run_videos
from videoforge.synth import bad_inputs
from videoforge.io.encode import write_video

UNIT_RANGE = ("brightness", "contrast", "clip_dark", "clip_bright", "black_ratio", "frozen_ratio",
              "border_ratio", "text_area", "audio_silence_ratio")
AUDIO = ("audio_rms_db", "audio_peak_db", "audio_silence_ratio")


def test_every_shot_gets_metrics_and_keyframes(tmp_path):
    src = tmp_path / "in"
    # two scenes split by a hard cut, with sound; and inputs that stress sizes and timing
    a = bad_inputs.moving_frames(30, 160, 96, seed=1)
    b = [np.ascontiguousarray(255 - f[:, ::-1]) for f in bad_inputs.moving_frames(30, 160, 96, seed=7)]
    write_video(src / "two_shots.mp4", a + b, fps=25, audio_tone_hz=440)
    bad_inputs.one_frame(str(src / "one_frame.mp4"))
    bad_inputs.odd_size(str(src / "odd_size.mp4"))
    bad_inputs.rotated_phone(str(src / "rotated.mp4"))
    bad_inputs.ten_bit(str(src / "ten_bit.mp4"))
    bad_inputs.vfr(str(src / "vfr.mp4"))
    cat = str(tmp_path / "cat")
    s = run_videos([str(src)], cat, workers=1, config=AnalysisConfig(), progress=False)
    assert (s.analyzed, s.failed) == (6, 0), s.errors

    cols, rows = Catalog(cat).query(
        "SELECT v.path, v.has_audio, s.* FROM shots s JOIN videos v USING (video_id) ORDER BY v.path, s.start_frame")
    shots = [dict(zip(cols, r)) for r in rows]
    by_file = {}
    for r in shots:
        by_file.setdefault(os.path.basename(r["path"]), []).append(r)
    assert len(by_file) == 6   # (how many shots two_shots.mp4 has is the shot detector's business)
    for r in shots:
        for c in UNIT_RANGE:
            assert r[c] is None or 0.0 <= r[c] <= 1.0, (c, r[c])
        assert r["camera_move"] in ("static", "pan", "tilt", "zoom", "shaky", None)
        for c in ("brightness", "contrast", "black_ratio", "frozen_ratio", "text_area"):
            assert r[c] is not None, (r["path"], c)
        if r["has_audio"]:
            assert all(r[c] is not None for c in AUDIO) and r["audio_rms_db"] > -30
        else:
            assert all(r[c] is None for c in AUDIO)
    for r in by_file["two_shots.mp4"] + by_file["odd_size.mp4"] + by_file["rotated.mp4"]:
        assert r["motion"] is not None and r["motion"] > 1.0      # the texture drifts 2 px/frame
        assert r["sharpness"] is not None and r["sharpness"] > 0
        assert r["border_ratio"] == 0.0
    assert by_file["one_frame.mp4"][0]["motion"] is None           # no frame pair to measure
    assert set(METRIC_COLUMNS) <= set(cols)

    kcols, krows = Catalog(cat).query("SELECT shot_id, frame, path, width, height FROM keyframes")
    per_shot = {}
    for shot_id, frame, path, w, h in krows:
        per_shot.setdefault(shot_id, []).append(frame)
        img = cv2.imread(os.path.join(cat, path))
        assert img is not None and img.shape[:2] == (h, w) and max(w, h) <= 384
    assert set(per_shot) == {r["shot_id"] for r in shots}          # every shot has a keyframe
    rot = by_file["rotated.mp4"][0]["shot_id"]
    kf = [r for r in krows if r[0] == rot][0]
    assert kf[4] > kf[3]                                           # portrait keyframe, upright


def test_4k_input_stays_small_in_memory(tmp_path):
    import tracemalloc

    from videoforge.metrics.measure import measure_video

    path = bad_inputs.uhd_4k(str(tmp_path / "uhd.mp4"), n=10)
    tracemalloc.start()
    try:
        m = measure_video(path, ["motion", "camera", "sharpness", "exposure", "black_frozen", "border", "text"],
                          str(tmp_path / "cat"), video_id="uhd")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    row, kfs = m.rows[0], m.keyframes[0]
    assert row["sharpness"] > 0 and row["border_ratio"] == 0.0 and row["motion"] is not None
    assert kfs and (kfs[0]["width"], kfs[0]["height"]) == (384, 216)
    # Python-side allocations stay far below one 4K BGR frame (25 MB): nothing holds full frames
    assert peak < 20 * 2**20
