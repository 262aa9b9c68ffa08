"""Probe and the single decode pass on real encoded files."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import gradient_clip
from videoforge.io import VideoError, probe
from videoforge.io.decode import DecodeStats, analysis_size, decode_frames
from videoforge.io.encode import write_video


def test_probe_and_decode_agree(tmp_path):
    p = write_video(tmp_path / "a.mp4", gradient_clip(50, w=128, h=72), fps=25, audio_tone_hz=440)
    info = probe(p)
    assert (info.width, info.height, info.codec, info.bit_depth) == (128, 72, "h264", 8)
    assert info.has_audio and info.audio_sample_rate == 16000
    assert info.fps == pytest.approx(25.0)
    stats, audio = DecodeStats(), []
    frames = [(f.index, f.pts_time, f.small.shape) for f in decode_frames(p, stats=stats, on_audio=audio.append)]
    assert [i for i, _, _ in frames] == list(range(50))
    assert frames[1][1] - frames[0][1] == pytest.approx(0.04)
    assert frames[0][2] == (72, 128, 3)          # never upscaled
    assert stats.frames == 50 and stats.duration == pytest.approx(2.0)
    assert stats.average_fps == pytest.approx(25.0) and not stats.vfr
    assert stats.end_time(49) == pytest.approx(2.0)
    assert audio, "audio frames come through the same pass"


def test_rotated_video_is_upright(tmp_path):
    # A landscape picture stored with a 90-degree display matrix is shown as portrait.
    img = np.zeros((64, 128, 3), np.uint8)
    img[:, :32] = (255, 0, 0)      # red band on the stored left edge
    p = write_video(tmp_path / "r.mp4", [img] * 5, fps=25, rotation=90)
    info = probe(p)
    assert (info.width, info.height, info.rotation) == (64, 128, 90)
    f = next(iter(decode_frames(p)))
    assert f.small.shape[:2] == (128, 64)
    assert f.full_luma().shape == (128, 64)
    assert f.bgr(64).shape[:2] == (64, 32)
    # 90 degrees counter-clockwise puts the stored left edge at the bottom.
    assert f.small[-8:, :, 2].mean() > 150 and f.small[:8, :, 2].mean() < 80


def test_variable_frame_rate_is_flagged(tmp_path):
    pts = np.cumsum([0] + [0.02 if i % 3 else 0.08 for i in range(39)]).tolist()
    p = write_video(tmp_path / "v.mp4", gradient_clip(40), fps=25, pts_seconds=pts)
    stats = DecodeStats()
    times = [f.pts_time for f in decode_frames(p, stats=stats)]
    assert len(times) == 40 and stats.vfr
    assert times == pytest.approx(pts, abs=1e-3)


def test_analysis_size():
    assert analysis_size(640, 360) == (160, 90)
    assert analysis_size(3840, 2160) == (160, 90)
    assert analysis_size(641, 359) == (160, 90)
    assert analysis_size(100, 60) == (100, 60)


@pytest.mark.parametrize("content,problem", [(b"", "empty"), (b"not a video at all", "not a video")])
def test_bad_files_name_file_and_problem(tmp_path, content, problem):
    p = tmp_path / "x.mp4"
    p.write_bytes(content)
    with pytest.raises(VideoError) as e:
        probe(p)
    assert str(p) in str(e.value) and problem in str(e.value)


def test_presentation_times_rebuild_labels_in_presentation_order():
    """Frames come out of the decoder in presentation order; their labels may not (#18)."""
    from videoforge.io.decode import presentation_times

    step = 0.04
    labels = [0.0, 0.04, 0.08, 0.12]
    assert presentation_times(labels, step) == labels                       # already right: unchanged
    # packed B-frames (Megamind.avi): the labels of neighbours swapped
    assert presentation_times([0.04, 0.08, 0.12, 0.2, 0.16, 0.24], step) == [0.04, 0.08, 0.12, 0.16, 0.2, 0.24]
    # no label: placed between its neighbours, or a step on from the last
    assert presentation_times([0.0, None, 0.08, None], step) == pytest.approx([0.0, 0.04, 0.08, 0.12])
    assert presentation_times([None, None, None], step) == pytest.approx([0.0, 0.04, 0.08])
    # repeated labels: spread a step apart, strictly increasing
    t = presentation_times([0.0, 0.0, 0.04, 0.04, 0.08], step)
    assert all(b > a for a, b in zip(t, t[1:])) and t == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])
    # gaps (tree.avi stores 68 of 444 frame slots): kept, they are the file's real times
    assert presentation_times([0.0, 0.7, 1.1], step) == [0.0, 0.7, 1.1]


def test_fps_is_the_streams_rate_not_a_timestamp_average():
    """A stream with timestamp gaps: 3 frames over 1.1 s at a stated 25 fps stays 25 fps."""
    s = DecodeStats(frames=3, first_pts=0.0, last_pts=1.0, last_duration=0.1, pts=[0.0, 0.5, 1.0], rate=25.0)
    assert s.fps == s.average_fps == 25.0
    assert s.measured_fps == pytest.approx(3 / 1.1)
    assert DecodeStats(frames=3, first_pts=0.0, last_pts=1.0, last_duration=0.1, pts=[0.0, 0.5, 1.0]).fps \
        == pytest.approx(3 / 1.1)   # no stated rate: frames / duration
