"""int8 inference (#21 part 4): per-channel int8 weights, a quantised checkpoint that saves and
loads, STDiT's Linear layers running dynamically quantised, `generate --int8` / `--save-int8`."""

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

torch.set_num_threads(1)

from generator_helpers import random_generator_checkpoint  # noqa: E402


def _checkpoint(path):
    """A generator checkpoint with random (not zero-initialised) weights, so every layer matters."""
    return random_generator_checkpoint(path, ["a red circle moves left", "a blue square moves up"], hidden_size=64)


def test_per_channel_int8_round_trip_is_within_half_a_step():
    from videoforge.models.int8 import dequantize_tensor, quantize_tensor

    w = torch.randn(6, 5, 3) * torch.tensor([0.01, 0.1, 1, 10, 100, 0.5])[:, None, None]
    q, s = quantize_tensor(w)
    assert q.dtype == torch.int8 and s.shape == (6,) and int(q.abs().max()) == 127
    err = (dequantize_tensor(q, s) - w).abs().reshape(6, -1).amax(1)
    assert torch.all(err <= s / 2 + 1e-7)          # per channel: small rows keep their precision


def test_quantised_checkpoint_saves_loads_and_generates_close_to_float(tmp_path):
    from videoforge.models.int8 import load_pipeline, save_quantized
    from videoforge.models.safeload import load_tensors

    path = _checkpoint(tmp_path / "g.pt")
    q = save_quantized(load_tensors(path), str(tmp_path / "g-int8.pt"))
    assert os.path.getsize(q) < 0.6 * os.path.getsize(path)
    ck = load_tensors(q)                            # plain tensors: the safe loader takes it
    qkeys = [k for k in ck["stdit"]["state"] if k.endswith(".int8")]
    assert ck["quantization"]["scheme"] and len(qkeys) >= 8 * 2          # every block's matrices
    assert all(ck["stdit"]["state"][k].dtype == torch.int8 for k in qkeys)
    assert any(k.startswith("decoder.") and k.endswith(".int8") for k in ck["autoencoder"]["state"])
    float_pipe, int8_pipe = load_pipeline(path), load_pipeline(q)
    assert not getattr(float_pipe, "int8", False) and int8_pipe.int8
    linears = [type(m) for n, m in int8_pipe.gen.stdit.blocks.named_modules() if type(m).__name__ == "Linear"
               and "adaLN" not in n]
    assert len(linears) >= 2 * 8 and all("quantized.dynamic" in t.__module__ for t in linears)   # blocks: int8
    assert type(int8_pipe.gen.stdit.blocks[0].adaLN_modulation[-1]) is torch.nn.Linear          # AdaLN: float
    assert type(int8_pipe.gen.stdit.final_layer.linear) is torch.nn.Linear                       # kept float
    x = torch.randn(2, 4, 3, 8, 8)
    y, mask = float_pipe.gen.encode_text(["a red circle moves left", "a blue square moves up"])
    t, met = torch.tensor([0.3, 0.8]), torch.tensor([[0.5], [0.1]])
    with torch.no_grad():
        vf = float_pipe.gen.stdit(x, t, y, mask, met)
        vq = int8_pipe.gen.stdit(x, t, y, mask, met)
    rel = float((vq - vf).norm() / vf.norm())
    assert 0 < rel < 0.05                            # quantised (not identical), and close
    kw = dict(metrics={"motion": 1.0}, frames=5, seed=3, steps=3)
    a, b = float_pipe.generate("a red circle moves left", **kw), int8_pipe.generate("a red circle moves left", **kw)
    assert a.shape == b.shape == (5, 32, 32, 3)
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 6
    assert np.array_equal(b, load_pipeline(q).generate("a red circle moves left", **kw))   # deterministic


def test_generate_cli_int8_and_a_saved_int8_checkpoint(tmp_path, capsys):
    from videoforge.cli import main

    path = _checkpoint(tmp_path / "g.pt")
    q = tmp_path / "q.pt"
    assert main(["generate", path, "a red circle moves left", "--out", str(tmp_path / "a.mp4"), "--frames", "5",
                 "--steps", "2", "--int8", "--save-int8", str(q), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 5 and q.exists()
    assert main(["generate", str(q), "a blue square moves up", "--out", str(tmp_path / "b.mp4"), "--frames", "5",
                 "--steps", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 5 and (tmp_path / "b.mp4").stat().st_size > 0


def test_int8_scope_linears_keeps_adaln_float(tmp_path):
    from videoforge.models.int8 import load_pipeline, to_int8

    path = _checkpoint(tmp_path / "g.pt")
    fp, q = load_pipeline(path), load_pipeline(path)
    to_int8(q, "linears", decoder=False)
    blk = q.gen.stdit.blocks[0]
    assert type(blk.adaLN_modulation[-1]) is torch.nn.Linear                      # kept float
    for m in (blk.attn_s.q, blk.attn_t.kv, blk.cross.proj, blk.mlp.fc1, blk.mlp.fc2):
        assert "quantized.dynamic" in type(m).__module__
    kw = dict(metrics={"motion": 1.0}, frames=5, seed=3, steps=3)
    a, b = fp.generate("a red circle moves left", **kw), q.generate("a red circle moves left", **kw)
    assert 0 < np.abs(a.astype(int) - b.astype(int)).mean() < 6                 # quantised, and close
    with pytest.raises(ValueError, match="scope"):
        to_int8(load_pipeline(path), "nothing")
