"""A source that stops decoding part-way through the index-selected cut: the clips finished before
the failure are kept and verified, the rest fail with the decoder's reason (not the whole call)."""
import dataclasses

import numpy as np

import videoforge.io.clips as clips
from videoforge.io.clips import build_packet_index, count_frames, cut_clips
from videoforge.io.encode import write_video
from videoforge.io.errors import VideoError

RANGES = [(0, 29), (40, 79), (90, 119)]


def _source(tmp_path):
    rng = np.random.default_rng(3)
    frames = [np.full((48, 64, 3), rng.integers(0, 255, 3), np.uint8) for _ in range(120)]
    return write_video(tmp_path / "src.mp4", frames, fps=25, gop=12)


def _cut(tmp_path, src, tag):
    # Untrusted timestamps: every range goes through the one decode pass selected by index.
    idx = dataclasses.replace(build_packet_index(src), timestamped=False)
    return cut_clips(src, [(s, e, tmp_path / tag / f"{s}.mp4") for s, e in RANGES], index=idx, audio=False)


def test_all_ranges_cut_when_the_source_decodes(tmp_path):
    src = _source(tmp_path)
    results = _cut(tmp_path, src, "ok")
    assert [count_frames(r.path) for r in results] == [e - s + 1 for s, e in RANGES]


def test_failure_mid_source_keeps_earlier_clips(tmp_path, monkeypatch):
    src = _source(tmp_path)
    real = clips.decode_frames

    def failing(path, **kw):   # the decoder gives up at frame 60 (as after 50 undecodable packets)
        for fr in real(path, **kw):
            if fr.index == 60:
                raise VideoError(path, "too many undecodable packets (injected)")
            yield fr

    monkeypatch.setattr(clips, "decode_frames", failing)
    first, second, third = _cut(tmp_path, src, "bad")
    assert count_frames(first.path) == 30 and first.method == "reencode"
    for r, (s, e) in zip((second, third), RANGES[1:]):
        assert isinstance(r, VideoError) and r.stage == "export"
        assert str(src) in str(r) and f"frames {s}-{e}" in str(r) and "stops decoding" in str(r)
    assert not list((tmp_path / "bad").glob("*.part")) and not (tmp_path / "bad" / "40.mp4").exists()
