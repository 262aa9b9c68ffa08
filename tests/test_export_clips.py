"""Frame-accurate clip cutting (io/clips.py) on real H.264 files: copy, re-encode, audio, rotation."""

from __future__ import annotations

import av
import numpy as np
import pytest

from videoforge.io.clips import build_packet_index, count_frames, cut_clip
from videoforge.io.decode import decode_frames
from videoforge.synth.bad_inputs import moving_frames
from videoforge.io.encode import write_video


def frames_of(path) -> list[np.ndarray]:
    return [f.small.astype(np.int16) for f in decode_frames(path)]


def assert_same_frames(clip: str, source_frames: list[np.ndarray], start: int, end: int) -> None:
    """The clip holds exactly source frames start..end: each clip frame matches its source frame
    far better than the source frames beside it (so an off-by-one cut fails)."""
    got = frames_of(clip)
    assert len(got) == end - start + 1
    for k, g in enumerate(got):
        i = start + k
        own = np.abs(g - source_frames[i]).mean()
        for j in (i - 1, i + 1):
            if 0 <= j < len(source_frames):
                assert own < 0.5 * np.abs(g - source_frames[j]).mean(), f"clip frame {k} is not source frame {i}"
        assert own < 8.0   # generation loss of one libx264 re-encode at crf 18 on noise-like texture


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """60 frames, 25 fps, keyframe every 12 frames, with a tone; frames differ one from the next."""
    d = tmp_path_factory.mktemp("clips")
    imgs = moving_frames(60, 96, 64, seed=21)
    for i, img in enumerate(imgs):
        img[:, :, 0] = np.clip(img[:, :, 0].astype(int) + 3 * i - 90, 0, 255)
    p = write_video(d / "src.mp4", imgs, fps=25, gop=12, audio_tone_hz=440)
    return str(p), frames_of(p)


def test_packet_index_maps_frames_to_pts(source):
    path, src = source
    idx = build_packet_index(path)
    assert idx.frames == len(src) == 60
    assert idx.time_of(0) == 0.0 and abs(idx.time_of(25) - 1.0) < 1e-9
    assert idx.frame_at(1.0) == 25
    key_frames = sorted(idx.pts.index(p) for p in idx.keyframe_pts)
    assert key_frames[0] == 0 and 12 in key_frames


@pytest.mark.parametrize("start,end,method", [(0, 11, "copy"), (12, 35, "copy"), (5, 20, "reencode"), (59, 59, "reencode")])
def test_cut_is_frame_accurate(source, tmp_path, start, end, method):
    path, src = source
    idx = build_packet_index(path)
    r = cut_clip(path, tmp_path / "c.mp4", start, end, index=idx)
    assert r.method == method
    assert r.num_frames == end - start + 1 == count_frames(r.path)
    assert (r.width, r.height) == (96, 64)
    assert abs(r.start_time - start / 25) < 1e-9 and abs(r.end_time - (end + 1) / 25) < 1e-9
    assert_same_frames(r.path, src, start, end)


def test_reencode_forced_matches_copy_content(source, tmp_path):
    path, src = source
    r = cut_clip(path, tmp_path / "c.mp4", 12, 23, reencode=True)
    assert r.method == "reencode"
    assert_same_frames(r.path, src, 12, 23)


def _pcm(path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        return np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(a)]), a.codec_context.sample_rate


def test_audio_is_kept_and_trimmed_to_the_shot(source, tmp_path):
    path, _ = source
    r = cut_clip(path, tmp_path / "c.mp4", 5, 29)   # 25 frames = 1.0 s, starting at 0.2 s
    assert r.has_audio
    src, rate = _pcm(path)
    clip, clip_rate = _pcm(r.path)
    assert clip_rate == rate
    # The AAC encoder pads its last frame: the clip may run up to 1024 samples past the shot.
    assert rate * 1.0 <= len(clip) <= rate * 1.0 + 1024
    # Sample-exact trim: the 440 Hz tone in the clip is in phase with the source at the shot's
    # start (a trim off by one video frame, 640 samples, would be ~220 degrees out of phase).
    start = int(round(r.start_time * rate))
    n = rate - 2048
    a, b = src[start + 1024: start + 1024 + n], clip[1024: 1024 + n]
    assert np.corrcoef(a, b)[0, 1] > 0.95
    assert np.corrcoef(src[start + 640 + 1024: start + 640 + 1024 + n], b)[0, 1] < 0.5
    r2 = cut_clip(path, tmp_path / "n.mp4", 5, 29, audio=False)
    with av.open(r2.path) as c:
        assert not c.streams.audio


def test_rotated_source_stays_upright(tmp_path):
    p = write_video(tmp_path / "rot.mp4", moving_frames(30, 128, 72, seed=3), fps=30, gop=10, rotation=90)
    src = frames_of(p)
    assert src[0].shape[0] > src[0].shape[1]   # the source decodes upright (portrait)
    for start, end in ((0, 9), (3, 17)):   # one copy, one re-encode
        r = cut_clip(p, tmp_path / f"r{start}.mp4", start, end)
        assert (r.width, r.height) == (72, 128)
        got = frames_of(r.path)
        assert got[0].shape == src[0].shape           # decoded upright, like the source
        assert_same_frames(r.path, src, start, end)


@pytest.mark.parametrize("kind", ["odd", "ten_bit", "vfr"])
def test_awkward_sources_cut_exactly(tmp_path, kind):
    if kind == "odd":
        p = write_video(tmp_path / "odd.mp4", moving_frames(20, 161, 91, seed=4), fps=25, pix_fmt="yuv444p")
    elif kind == "ten_bit":
        p = write_video(tmp_path / "10.mp4", moving_frames(20, 96, 64, seed=5), fps=25, pix_fmt="yuv420p10le")
    else:
        pts = np.cumsum([0] + [1 / 30 if (i // 4) % 2 else 1 / 12 for i in range(19)]).tolist()
        p = write_video(tmp_path / "vfr.mp4", moving_frames(20, 96, 64, seed=6), fps=30, pts_seconds=pts)
    src = frames_of(p)
    idx = build_packet_index(p)
    r = cut_clip(p, tmp_path / "c.mp4", 3, 15, index=idx, reencode=True)
    assert_same_frames(r.path, src, 3, 15)
    with av.open(r.path) as c:
        vs = c.streams.video[0]
        assert (vs.codec_context.width, vs.codec_context.height) == (idx.width, idx.height)
        if kind == "ten_bit":
            assert "10" in vs.codec_context.pix_fmt
        if kind == "vfr":   # frame times keep the source's spacing, shifted to start at 0
            times = [float(f.pts * f.time_base) for f in c.decode(vs)]
            want = [idx.time_of(i) - idx.time_of(3) for i in range(3, 16)]
            assert np.allclose(times, want, atol=1e-3)


def test_out_of_range_and_missing_source_raise_named_errors(source, tmp_path):
    from videoforge.io.errors import VideoError

    path, _ = source
    with pytest.raises(VideoError, match="outside"):
        cut_clip(path, tmp_path / "x.mp4", 50, 70)
    with pytest.raises(VideoError, match="does not exist") as e:
        cut_clip(tmp_path / "gone.mp4", tmp_path / "x.mp4", 0, 3)
    assert "gone.mp4" in str(e.value) and e.value.stage == "export"


def test_untrusted_source_cuts_many_ranges_in_one_pass_by_decoded_index(tmp_path):
    """AVI with B-frames (no stored PTS: the packet index is not trusted): every range, in any
    order and overlapping, is cut by decoded frame index in one pass; a range outside the
    source is its own error and the others are still cut."""
    from videoforge.io.clips import cut_clips
    from videoforge.io.errors import VideoError

    p = write_video(tmp_path / "b.avi", moving_frames(40, 96, 64, seed=22), fps=25, codec="mpeg4", gop=12,
                    options={"bf": "2", "b": "800k"})
    src = frames_of(p)
    idx = build_packet_index(p)
    assert not idx.timestamped
    ranges = [(10, 20), (0, 5), (15, 30), (35, 39), (38, 45)]
    results = cut_clips(p, [(s, e, tmp_path / f"c{s}.mp4") for s, e in ranges], index=idx, frames=len(src),
                        audio=False)
    for (s, e), r in zip(ranges[:-1], results):
        assert not isinstance(r, VideoError), r
        assert r.method == "reencode" and r.num_frames == e - s + 1
        assert_same_frames(r.path, src, s, e)
    assert isinstance(results[-1], VideoError) and "outside" in str(results[-1]) and "b.avi" in str(results[-1])
