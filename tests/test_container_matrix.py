"""Every container x codec pair PyAV can write, with and without frame reordering (#18).

One tiny file per pair (64x64, 36 frames in three 12-frame scenes cut hard, a keyframe every
12 frames) with known truth: 36 frames at 25 fps, shots [0-11], [12-23], [24-35]. For each
file, `probe` (the CLI's own code), `run` (the CLI, once over the folder), `shots` (the
CLI's detect + document) and `export` (the CLI, once) must agree with the truth and with a
plain PyAV decode: the same frame count, times in presentation order, the same shots, and
every exported clip decodes to exactly its shot's frames, each the right picture.

Beside the matrix, files whose timestamps are the problem: raw H.264/HEVC elementary streams
(no timestamps at all), MPEG-TS with B-frames, Matroska with a repeated timestamp and with
every timestamp twice, and an AVI cut short on disk (its header claims more frames than
decode).
"""

from __future__ import annotations

import argparse
import csv
import json
import os

from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import gradient_clip, run_cli
from videoforge.catalog import Catalog
from videoforge.io.encode import write_video

CONTAINERS = ("mp4", "mkv", "avi", "mov", "webm")
CODECS = {"h264": "libx264", "hevc": "libx265", "mpeg4": "mpeg4", "mjpeg": "mjpeg", "vp9": "libvpx-vp9"}
FPS, SCENE, SCENES = 25, 12, 3
TRUTH = [(k * SCENE, (k + 1) * SCENE - 1) for k in range(SCENES)]

# "reorder": B-frames for the codecs that have them; for VP9, hidden alt-ref frames (lag-in-frames),
# its way of coding a frame from a later one. MJPEG is intra-only: it has no such variant.
NOT_APPLICABLE = {(c, "mjpeg", True) for c in CONTAINERS}
# What FFmpeg's muxers refuse (asserted below, so a change in PyAV/FFmpeg shows up here).
EXPECTED_REFUSED = ({("webm", c, r) for c in ("h264", "hevc", "mpeg4", "mjpeg") for r in (False, True)}
                    | {("avi", "hevc", r) for r in (False, True)}
                    | {("mov", "vp9", r) for r in (False, True)}) - NOT_APPLICABLE

PAIRS = [(c, k, r) for c in CONTAINERS for k in CODECS for r in (False, True)]


def _options(codec: str, reorder: bool) -> tuple[dict, str]:
    if codec == "h264":
        return {"bf": "2" if reorder else "0"}, "yuv420p"
    if codec == "hevc":
        return {"preset": "ultrafast", "x265-params":
                f"bframes={2 if reorder else 0}:keyint={SCENE}:min-keyint={SCENE}:scenecut=0:log-level=none"}, "yuv420p"
    if codec == "mpeg4":
        return {"bf": "2" if reorder else "0", "b": "400k"}, "yuv420p"
    if codec == "mjpeg":
        return {}, "yuvj420p"
    return {"lag-in-frames": "16" if reorder else "0", "auto-alt-ref": "1" if reorder else "0",
            "deadline": "good" if reorder else "realtime", "cpu-used": "8", "crf": "30", "b": "0"}, "yuv420p"


def _truth_frames() -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for k in range(SCENES):
        out += gradient_clip(SCENE, 64, 64, seed=60 + k, speed=1.5)
    return out


def _name(container: str, codec: str, reorder: bool) -> str:
    return f"{codec}-{'reorder' if reorder else 'plain'}.{container}"


def _remux_with_timestamps(path: str, frames: list[np.ndarray], fmt: str, ms_of) -> None:
    """MPEG-4 packets muxed with the timestamps `ms_of(i)` (ms) instead of the encoder's."""
    enc = av.CodecContext.create("mpeg4", "w")
    enc.width, enc.height, enc.pix_fmt = 64, 64, "yuv420p"
    enc.time_base, enc.gop_size, enc.bit_rate = Fraction(1, FPS), SCENE, 400000
    packets = []
    for i, img in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        vf.pts = i
        packets += enc.encode(vf)
    packets += enc.encode(None)
    with av.open(path, "w", format=fmt) as out:
        vs = out.add_stream("mpeg4", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        vs.codec_context.extradata = enc.extradata
        vs.time_base = Fraction(1, 1000)
        for i, p in enumerate(packets):
            p.pts = p.dts = ms_of(i)
            p.time_base, p.stream = Fraction(1, 1000), vs
            out.mux(p)


def _write_edge_cases(src, truth) -> dict[str, str]:
    out = {}
    x265 = f"bframes=2:keyint={SCENE}:min-keyint={SCENE}:scenecut=0:log-level=none"
    for name, codec, opts in (("raw.h264", "libx264", {"bf": "2"}), ("raw.hevc", "libx265", {"x265-params": x265}),
                              ("bframes.ts", "libx264", {"bf": "2"})):
        out[name] = write_video(src / name, truth, fps=FPS, codec=codec, gop=SCENE, options=opts)
    step = 1000 // FPS
    out["repeated-stamp.mkv"] = str(src / "repeated-stamp.mkv")
    _remux_with_timestamps(out["repeated-stamp.mkv"], truth, "matroska", lambda i: step * (i - (i >= 20)))
    out["every-stamp-twice.mkv"] = str(src / "every-stamp-twice.mkv")
    _remux_with_timestamps(out["every-stamp-twice.mkv"], truth, "matroska", lambda i: step * (i // 2))
    full = write_video(src.parent / "full.avi", truth, fps=FPS, codec="mpeg4", gop=SCENE, options={"bf": "2"})
    out["cut-short.avi"] = str(src / "cut-short.avi")
    with open(full, "rb") as f:
        data = f.read()
    with open(out["cut-short.avi"], "wb") as f:
        f.write(data[: int(len(data) * 0.7)])
    return out


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    d = tmp_path_factory.mktemp("matrix")
    src = d / "src"
    truth = _truth_frames()
    written, refused = {}, {}
    for pair in PAIRS:
        if pair in NOT_APPLICABLE:
            continue
        container, codec, reorder = pair
        path = src / _name(*pair)
        opts, pix = _options(codec, reorder)
        try:
            write_video(path, truth, fps=FPS, codec=CODECS[codec], pix_fmt=pix, gop=SCENE, options=opts)
            written[pair] = str(path)
        except (ValueError, av.error.FFmpegError) as e:   # the muxer refuses the codec
            refused[pair] = f"{type(e).__name__}: {e}"
            if path.exists():
                path.unlink()
    edge = _write_edge_cases(src, truth)
    # raw elementary streams have no video extension a folder scan takes: named explicitly
    r = run_cli("run", src, edge["raw.h264"], edge["raw.hevc"], "--catalog", d / "cat", "-q", "--workers", "2", timeout=900)
    assert r.returncode == 0, r.stderr
    e = run_cli("export", d / "cat", "--out", d / "out", "--format", "opensora", timeout=900)
    assert e.returncode == 0, e.stderr
    with open(d / "out" / "manifest.csv", newline="") as f:
        manifest = list(csv.DictReader(f))
    return {"dir": d, "truth": truth, "written": written, "refused": refused, "cat": Catalog(d / "cat"),
            "manifest": manifest, "edge": edge}


def test_refused_pairs_are_the_expected_ones(matrix):
    assert set(matrix["refused"]) == EXPECTED_REFUSED, matrix["refused"]
    assert len(matrix["written"]) == len(PAIRS) - len(NOT_APPLICABLE) - len(EXPECTED_REFUSED)


def _plain_decode(path: str):
    """What PyAV delivers: its frames (RGB) and each frame's presentation time (the i-th smallest PTS)."""
    with av.open(path) as c:
        vs = c.streams.video[0]
        frames, labels = [], []
        for f in c.decode(vs):
            frames.append(f.to_ndarray(format="rgb24").astype(np.int16))
            labels.append(f.pts)
        tb = vs.time_base
    if any(p is None for p in labels):
        return frames, None
    return frames, [float(p * tb) for p in sorted(labels)]


def _probe(path: str, capsys) -> dict:
    from videoforge.cli.probe import main

    assert main(argparse.Namespace(video=path, json=True, header_only=False)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: _name(*p))
def test_probe_run_shots_export_agree(matrix, pair, capsys):
    if pair in NOT_APPLICABLE:
        pytest.skip("MJPEG is intra-only: no reordered variant")
    if pair not in matrix["written"]:
        pytest.skip(f"the muxer refuses it: {matrix['refused'][pair]}")
    _check_file(matrix, matrix["written"][pair], capsys, SCENE * SCENES, TRUTH)


EDGE = ("raw.h264", "raw.hevc", "bframes.ts", "repeated-stamp.mkv", "every-stamp-twice.mkv", "cut-short.avi")


@pytest.mark.parametrize("name", EDGE)
def test_timestamp_edge_cases_agree(matrix, name, capsys):
    path = matrix["edge"][name]
    if name == "raw.h264":   # what makes it an edge case, checked on the file itself
        with av.open(path) as c:
            assert all(f.pts is None for f in c.decode(video=0))
    if name == "cut-short.avi":   # the header claims every frame; fewer decode. Truth: what decodes.
        with av.open(path) as c:
            claimed = c.streams.video[0].frames
            n = sum(1 for _ in c.decode(video=0))
        assert 0 < n < claimed == SCENE * SCENES
        _check_file(matrix, path, capsys, n, None)
    elif name == "bframes.ts":
        _check_file(matrix, path, capsys, SCENE * SCENES, TRUTH)
    else:   # no or repeated stamps: frames one nominal step apart, as they were encoded
        _check_file(matrix, path, capsys, SCENE * SCENES, TRUTH, [i / FPS for i in range(SCENE * SCENES)])


def _check_file(matrix, path: str, capsys, frames: int, truth_shots, times=None) -> None:
    """`times`: each frame's expected time (s); by default the plain decode's i-th smallest PTS."""
    from videoforge.shots.detection import detect, shots_document

    source, plain_times = _plain_decode(path)
    times = times or plain_times
    n = len(source)
    assert n == frames
    assert all(b > a for a, b in zip(times, times[1:]))

    info = _probe(path, capsys)
    assert info["frames"] == n and info["fps"] == pytest.approx(FPS)

    video = matrix["cat"].query_dicts("SELECT * FROM videos WHERE path = ?", [os.path.abspath(path)])
    assert len(video) == 1, f"{path} not catalogued"
    video = video[0]
    assert video["frames"] == n and video["fps"] == pytest.approx(FPS)
    assert video["duration"] == pytest.approx(n / FPS, abs=1e-3)
    shots = matrix["cat"].query_dicts("SELECT * FROM shots WHERE video_id = ? ORDER BY start_frame", [video["video_id"]])
    catalogued = [(s["start_frame"], s["end_frame"]) for s in shots]
    if truth_shots is not None:
        assert catalogued == truth_shots
    for s in shots:
        assert s["start_time"] == pytest.approx(times[s["start_frame"]], abs=1e-6)

    found, transitions, stats, _ = detect(path, workers=2, with_info=False)
    doc = shots_document(path, found, transitions, stats)
    assert doc["frames"] == n and doc["fps"] == pytest.approx(FPS)
    assert [(s["start_frame"], s["end_frame"], round(s["start_time"], 6), round(s["end_time"], 6)) for s in doc["shots"]] \
        == [(s["start_frame"], s["end_frame"], round(s["start_time"], 6), round(s["end_time"], 6)) for s in shots]

    clips = [r for r in matrix["manifest"] if r["video_id"] == video["video_id"]]
    assert sorted((int(r["start_frame"]), int(r["end_frame"])) for r in clips) == catalogued
    for r in clips:
        start, end = int(r["start_frame"]), int(r["end_frame"])
        with av.open(str(matrix["dir"] / "out" / r["path"])) as c:
            got = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
        assert len(got) == end - start + 1 == int(r["num_frames"])
        for k, g in enumerate(got):   # each clip frame is the source's decoded frame, not a neighbour
            i = start + k
            own = np.abs(g - source[i]).mean()
            for j in (i - 1, i + 1):
                if 0 <= j < n:
                    assert own < 0.5 * np.abs(g - source[j]).mean(), (path, i, j)
