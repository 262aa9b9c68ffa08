"""The tokenizer as a codec (issue 23 part 1): .vfc files that hold everything needed to decode,
range-coded under a learned prior, decoded losslessly to the input's frame count, size and fps."""
import functools
import json
import os
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from videoforge.codec.model import load_codec_model, save_codec_model
from videoforge.codec.prior import token_bits, train_prior
from videoforge.codec.vfc import _rgb_frames, _to_model, reconstruct
from videoforge.io.encode import write_video
from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
from videoforge.synth import shapes

PY = sys.executable
PLANES = 6


def _clip(n, h, w, seed):
    import cv2

    c = shapes.sample_clips(1, seed=seed)[seed % 48]
    return [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in shapes.render_clip(c, frames=n, size=64)]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A randomly initialised LFQ autoencoder (no weights to download) and a prior fitted to its
    tokens of moving-shape clips."""
    torch.manual_seed(0)
    cfg = AutoencoderConfig(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False),
                            temporal_down=(True, True), patch_size=2, latent_channels=PLANES, bottleneck="lfq")
    ae = CausalVideoAutoencoder(cfg).eval()
    xs = [torch.from_numpy(np.stack(_clip(9, 32, 32, s))).permute(3, 0, 1, 2)[None].float() / 127.5 - 1 for s in range(20, 36)]
    with torch.no_grad():
        bits = [token_bits(ae.tokens(x), PLANES) for x in xs]
    prior = train_prior(bits, PLANES, steps=150)
    return save_codec_model(str(tmp_path_factory.mktemp("codec") / "codec.pt"), ae, prior, 9, 32, 32)


def _cli(*args, env=None):
    return subprocess.run([PY, "-m", "videoforge", "codec", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def _decoded(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)], Fraction(s.average_rate)


def test_round_trip_restores_frames_size_fps_and_decodes_exactly(model_path, tmp_path):
    import cv2

    src = tmp_path / "in.mp4"   # odd size and NTSC rate: resized to the model and back, rate kept exactly
    write_video(src, _clip(23, 36, 50, 7), fps=Fraction(24000, 1001))
    env = {"VIDEOFORGE_CODEC_DIR": str(tmp_path / "models")}
    r = _cli("encode", str(src), "--model", model_path, "--out", str(tmp_path / "a.vfc"), "--json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["frames"], doc["width"], doc["height"], doc["fps"]) == (23, 50, 36, "24000/1001")
    assert doc["bytes"] == os.path.getsize(tmp_path / "a.vfc")
    # the range coder costs a flush (at most two 32-bit words) over the ideal code length per file
    assert 0 <= doc["payload_bytes"] * 8 - doc["ideal_bytes"] * 8 <= 64 + 1
    for ext in ("mkv", "mp4"):
        out = tmp_path / f"back.{ext}"
        r = _cli("decode", str(tmp_path / "a.vfc"), "--out", str(out), env=env)   # model found by its hash
        assert r.returncode == 0, r.stderr
        frames, rate = _decoded(out)
        assert len(frames) == 23 and frames[0].shape == (36, 50, 3) and rate == Fraction(24000, 1001)
        if ext == "mkv":   # FFV1 RGB is lossless: exactly the autoencoder's round trip, resized back
            model = load_codec_model(model_path)
            ref = reconstruct(model, [_to_model(f, model) for f in _rgb_frames(str(src))])
            ref = [cv2.resize(f, (50, 36), interpolation=cv2.INTER_CUBIC) for f in ref]
            assert all(np.array_equal(a, b) for a, b in zip(frames, ref))


def test_the_prior_codes_below_one_bit_per_bit(model_path, tmp_path):
    from videoforge.codec.vfc import encode_video

    src = tmp_path / "long.mp4"
    write_video(src, _clip(180, 32, 32, 11), fps=25)
    os.environ.setdefault("VIDEOFORGE_CODEC_DIR", str(tmp_path / "models"))
    st = encode_video(str(src), model_path, str(tmp_path / "b.vfc"))
    raw_bits = 20 * 3 * 8 * 8 * PLANES    # 20 chunks x 3 latent frames x 8 x 8 positions x planes
    assert st.ideal_bits < 0.9 * raw_bits and st.payload_bytes * 8 < 0.95 * raw_bits   # 0.55-0.59 of raw on 3 seeds
    assert 0 <= st.overhead <= 0.01     # over a longer video the coder is within 1 % of the ideal code length


def test_bad_inputs_get_clear_errors(model_path, tmp_path, cli_here):
    env = {"VIDEOFORGE_CODEC_DIR": str(tmp_path / "empty")}
    junk = tmp_path / "junk.vfc"
    junk.write_bytes(b"hello")
    r = _cli("decode", str(junk), "--out", str(tmp_path / "x.mkv"), env=env)   # one real process
    assert r.returncode == 2 and "junk.vfc" in r.stderr and "not a .vfc file" in r.stderr
    cli = functools.partial(cli_here, "codec")   # the rest in this process
    src = tmp_path / "in.mp4"
    write_video(src, _clip(9, 32, 32, 3), fps=25)
    assert cli("encode", str(src), "--model", model_path, "--out", str(tmp_path / "c.vfc"),
                env={"VIDEOFORGE_CODEC_DIR": str(tmp_path / "reg")}).returncode == 0
    r = cli("decode", str(tmp_path / "c.vfc"), "--out", str(tmp_path / "x.mkv"), env=env)   # model not registered here
    assert r.returncode == 2 and "no codec model with hash" in r.stderr and "--model" in r.stderr
    data = bytearray((tmp_path / "c.vfc").read_bytes())
    data[-40] ^= 0xFF   # a flipped byte mid-payload: the decoded tokens no longer match their CRC
    (tmp_path / "d.vfc").write_bytes(bytes(data))
    r = cli("decode", str(tmp_path / "d.vfc"), "--model", model_path, "--out", str(tmp_path / "y.mkv"), env=env)
    assert r.returncode == 2 and "d.vfc" in r.stderr and ("CRC" in r.stderr or "damaged" in r.stderr)
    assert not (tmp_path / "y.mkv").exists() and not list(tmp_path.glob("*.part*"))   # nothing half-written
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    r = cli("encode", str(text), "--model", model_path, "--out", str(tmp_path / "e.vfc"), env=env)
    assert r.returncode == 2 and "notes.mp4" in r.stderr
    r = cli("decode", str(tmp_path / "c.vfc"), "--model", model_path, "--out", str(tmp_path / "x.webm"), env=env)
    assert r.returncode == 2 and ".mkv" in r.stderr


def test_dropped_planes_are_a_lower_rate_that_still_decodes_exactly(model_path, tmp_path):
    """The rate knob: planes not sent are inferred from the prior on both sides; the decoder's
    tokens must match the encoder's (CRC per chunk) and the code must shrink."""
    from videoforge.codec.vfc import VfcError, decode_vfc, encode_video, read_header

    src = tmp_path / "in.mp4"
    write_video(src, _clip(27, 32, 32, 5), fps=25)
    os.environ.setdefault("VIDEOFORGE_CODEC_DIR", str(tmp_path / "models"))
    stats, frames = {}, {}
    for drop in ((), (4, 5), (2, 3, 4, 5)):
        out = tmp_path / f"p{len(drop)}.vfc"
        st = stats[drop] = encode_video(str(src), model_path, str(out), drop_planes=drop)
        hd = read_header(str(out))
        assert hd["planes_sent"] == st.planes_sent == tuple(k for k in range(PLANES) if k not in drop)
        assert out.read_bytes()[:4] == (b"VFC2" if drop else b"VFC1")
        assert 0 <= st.payload_bytes * 8 - st.ideal_bits <= 64 + 1
        decode_vfc(str(out), str(tmp_path / f"p{len(drop)}.mkv"), model_path)   # a token mismatch fails the CRC
        frames[drop], _ = _decoded(tmp_path / f"p{len(drop)}.mkv")
        assert len(frames[drop]) == 27
    assert stats[()].ideal_bits > stats[(4, 5)].ideal_bits > stats[(2, 3, 4, 5)].ideal_bits
    assert any(not np.array_equal(a, b) for a, b in zip(frames[()], frames[(2, 3, 4, 5)]))   # the dropped planes matter
    with pytest.raises(VfcError, match="planes"):
        encode_video(str(src), model_path, str(tmp_path / "x.vfc"), drop_planes=(PLANES,))
    env = {"VIDEOFORGE_CODEC_DIR": str(tmp_path / "models")}   # the flag, end to end
    r = _cli("encode", str(src), "--model", model_path, "--out", str(tmp_path / "f.vfc"), "--drop-planes", "4,5", "--json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["planes_sent"] == [0, 1, 2, 3] and doc["planes_coded"] == 4 and doc["bytes"] == os.path.getsize(tmp_path / "f.vfc")
    r = _cli("encode", str(src), "--model", model_path, "--out", str(tmp_path / "x.vfc"), "--drop-planes", "x", env=env)
    assert r.returncode == 2 and "--drop-planes" in r.stderr
