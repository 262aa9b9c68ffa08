"""`videoforge enhance`: outputs keep frame count, fps and audio at exactly scale x the size,
bad inputs fail clearly, the degradation simulator behaves, and the shipped network beats
bicubic on a held-out real frame."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videoforge.cli import main as cli_main  # noqa: E402
from videoforge.enhance import degrade, sr_data, weights  # noqa: E402
from videoforge.enhance.sr import Upscaler, windowed  # noqa: E402
from videoforge.enhance.sr_model import SRNet, flow_warp, param_count  # noqa: E402
from videoforge.io.probe import probe  # noqa: E402
from videoforge.synth import bad_inputs  # noqa: E402

TREE = os.path.join(sr_data.OPENCV_DATA, "tree.avi")
MEGAMIND = os.path.join(sr_data.OPENCV_DATA, "Megamind.avi")


def _real_h264_with_audio(path, n=8, w=64, h=48, fps=Fraction(30000, 1001)):
    """A short real H.264 + AAC MP4: tree.avi frames, shrunk, with a 440 Hz tone."""
    frames = []
    with av.open(TREE) as c:
        for f in c.decode(video=0):
            frames.append(cv2.resize(f.to_ndarray(format="rgb24"), (w, h), interpolation=cv2.INTER_AREA))
            if len(frames) >= n:
                break
    with av.open(str(path), "w") as o:
        v = o.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        a = o.add_stream("aac", rate=16000)
        a.layout = "mono"
        for f in frames:
            for p in v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                o.mux(p)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(16000 * n / float(fps))) / 16000)).astype(np.float32)
        for i in range(0, len(tone), 1024):
            af = av.AudioFrame.from_ndarray(tone[None, i:i + 1024], format="fltp", layout="mono")
            af.sample_rate, af.pts = 16000, i
            for p in a.encode(af):
                o.mux(p)
        for p in v.encode():
            o.mux(p)
        for p in a.encode():
            o.mux(p)
    return str(path)


def _count_frames(path):
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.mark.skipif(not os.path.exists(TREE), reason="opencv-doc not installed")
@pytest.mark.parametrize("scale,ext", [(4, ".mp4"), (2, ".mkv")])
def test_enhance_keeps_frames_fps_audio_and_exact_size(tmp_path, scale, ext):
    src = _real_h264_with_audio(tmp_path / "in.mp4")
    out = str(tmp_path / f"out{ext}")
    assert cli_main(["enhance", src, "--scale", str(scale), "--out", out, "-q"]) == 0
    i, o = probe(src), probe(out)
    assert (o.width, o.height) == (scale * i.width, scale * i.height)
    assert _count_frames(out) == _count_frames(src) == 8
    with av.open(out) as c:
        assert c.streams.video[0].average_rate == Fraction(30000, 1001)
        assert c.format.name.startswith("matroska" if ext == ".mkv" else "mov")
        audio = c.streams.audio
        assert len(audio) == 1 and audio[0].codec_context.name == "aac"
        samples = sum(f.samples for f in c.decode(audio=0))
    assert samples > 0.9 * 16000 * 8 / (30000 / 1001)


@pytest.mark.parametrize("make,problem", [
    (bad_inputs.zero_byte, "empty"),
    (bad_inputs.text_as_mp4, "not a video"),
    (bad_inputs.audio_only, "no video stream"),
])
def test_bad_inputs_name_file_and_problem(tmp_path, capsys, make, problem):
    src = make(str(tmp_path / f"{make.__name__}.mp4"))
    out = tmp_path / "o.mkv"
    assert cli_main(["enhance", src, "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert src in err and problem in err
    assert not out.exists()


def test_bad_arguments(tmp_path, capsys):
    src = bad_inputs.good(str(tmp_path / "g.mp4"), n=4)
    assert cli_main(["enhance", src, "--out", str(tmp_path / "o.gif"), "-q"]) == 2
    assert "container" in capsys.readouterr().err
    assert cli_main(["enhance", src, "--out", src, "-q"]) == 2
    missing = str(tmp_path / "nope.mp4")
    assert cli_main(["enhance", missing, "--out", str(tmp_path / "o.mkv"), "-q"]) == 1
    assert missing in capsys.readouterr().err


def _hr_clip(n=4, size=64, seed=0):
    rng = np.random.default_rng(seed)
    return sr_data.camera_clip(sr_data.load_photo("skimage:astronaut.png"), rng, n, size)


def test_degradation_simulator_properties():
    hr = _hr_clip()
    a = degrade.second_order(hr, 4, np.random.default_rng(3))
    b = degrade.second_order(hr, 4, np.random.default_rng(3))
    c = degrade.second_order(hr, 4, np.random.default_rng(4))
    assert a.shape == (4, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)                         # seeded: reproducible
    assert not np.array_equal(a, c)                     # another seed, another degradation
    bi = np.stack([degrade.bicubic_down(f, 4) for f in hr])
    assert bi.shape == a.shape
    # over several seeds the blind inputs are further from the clean downscale than a 1-level rounding
    diffs = [np.abs(degrade.second_order(hr, 4, np.random.default_rng(s)).astype(float) - bi).mean() for s in range(5)]
    assert min(diffs) > 1.0
    k = degrade.gaussian_kernel(np.random.default_rng(0), (0.5, 2.0))
    assert abs(k.sum() - 1) < 1e-5 and k.shape[0] % 2 == 1 and np.allclose(k, k[::-1, ::-1], atol=1e-6)


def test_x264_roundtrip_keeps_length_and_odd_sizes():
    hr = _hr_clip(n=5, size=66)[:, :, :63]
    out = degrade.x264_roundtrip(hr, crf=18)
    assert out.shape == hr.shape
    assert sr_data.y_psnr(out, hr, border=0) > 28       # coded, not destroyed
    assert not np.array_equal(out, hr)


def test_parameter_budget_and_single_frame_baseline_size():
    rec, meta = weights.load_sr(weights.DEFAULT_SR)
    single, smeta = weights.load_sr(weights.DEFAULT_SR_SINGLE)
    assert meta["recurrent"] and not smeta["recurrent"]
    assert param_count(rec) <= 300_000
    assert param_count(single) == param_count(rec)


def test_flow_warp_moves_by_the_flow():
    x = torch.arange(64, dtype=torch.float32).reshape(1, 1, 8, 8)
    flow = torch.zeros(1, 2, 8, 8)
    flow[:, 0] = 2                                      # sample two pixels to the right
    y = flow_warp(x, flow)
    assert torch.allclose(y[0, 0, :, :6], x[0, 0, :, 2:])


def test_windows_emit_every_frame_once():
    for n in (1, 7, 12, 30):
        got = []
        for win, first, count in windowed((np.full((1,), i) for i in range(n)), chunk=5, context=2):
            got += [int(v[0]) for v in win[first:first + count]]
        assert got == list(range(n))


def test_unrecurrent_net_ignores_neighbours():
    net = SRNet(recurrent=False).eval()
    lr = torch.rand(1, 3, 3, 8, 8)
    with torch.no_grad():
        a = net(lr)[0, 1]
        lr2 = lr.clone()
        lr2[0, 0] = 0
        b = net(lr2)[0, 1]
    assert torch.allclose(a, b)


@pytest.mark.skipif(not os.path.exists(MEGAMIND), reason="opencv-doc not installed")
def test_shipped_net_beats_bicubic_on_held_out_real_frames():
    """Megamind.avi is held out from training: 5 frames, 160x160 crop, PIL-bicubic x1/4."""
    frames = sr_data.clip_frames("Megamind.avi", max_frames=125)[120:125, 200:360, 280:440]
    lr = np.stack([degrade.bicubic_down(f, 4) for f in frames])
    sr = np.stack(list(Upscaler(threads=1).super_resolve(lr)))
    bic = np.stack([degrade.bicubic_up(f, 4) for f in lr])
    gain = np.mean([sr_data.y_psnr(s, f) - sr_data.y_psnr(b, f) for s, b, f in zip(sr, bic, frames)])
    assert gain > GAIN_FLOOR_DB, gain


# The shipped weights (session 7, trained at LR 5e-4) measure +1.43 dB here (per frame +1.32..+1.61);
# the earlier weights (LR 2e-3) measured +0.23, a randomly initialised network of the same shape
# -1.97 dB and a 12-step one +0.05 dB, so this fails for an untrained or a badly trained network.
GAIN_FLOOR_DB = 0.7
