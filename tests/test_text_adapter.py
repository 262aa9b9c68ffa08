"""The Chinese prompt adapter (issue 22): a character-level student distilled from the generator's
own text encoder; English prompts untouched; adapters bound to the checkpoint they were made for."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from videoforge.adapt import zh_prompts
from videoforge.adapt.text_adapter import (AdaptedTextEncoder, AdapterConfig, CharStudent, evaluate_adapter,
                                           load_adapter, save_adapter, train_adapter)
from videoforge.models.text import TinyTextEncoder
from videoforge.synth import shapes

PY = sys.executable
VOCAB = TinyTextEncoder.build_vocab(shapes.caption_for(c, s, d, f) for c, s, d in shapes.combos() for f in (False, True))


def _teacher(seed=0, dim=16):
    torch.manual_seed(seed)
    return TinyTextEncoder(VOCAB, dim=dim, depth=1, heads=2).eval()


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    """A randomly initialised generator checkpoint in the training format (no weights to download)."""
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
    from videoforge.models.pipeline import FORMAT
    from videoforge.models.stdit import STDiT, STDiTConfig

    torch.manual_seed(0)
    ae_cfg = AutoencoderConfig(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False),
                               temporal_down=(True, True), patch_size=2, latent_channels=4)
    ae = CausalVideoAutoencoder(ae_cfg)
    text = _teacher()
    dit = STDiT(STDiTConfig(hidden_size=32, depth=1, num_heads=2, text_dim=16, metrics=("motion_peak",)))
    with torch.no_grad():   # AdaLN-Zero starts every block at zero (text has no effect yet): as after some training
        for p in dit.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    ck = {"format": FORMAT,
          "autoencoder": {"format": "videoforge-autoencoder/1", "config": ae_cfg.to_dict(), "state": ae.state_dict(),
                          "latent_scale": 1.0},
          "stdit": {"config": dit.cfg.to_dict(), "state": dit.state_dict()},
          "text_encoder": {"spec": text.spec(), "state": text.state_dict()},
          "metrics": {"names": ["motion_peak"], "lo": [0.0], "hi": [10.0]},
          "video": {"height": 32, "width": 32, "fps": 8.0, "frames": 9}}
    path = str(tmp_path_factory.mktemp("gen") / "gen.pt")
    torch.save(ck, path)
    return path


def test_english_prompts_are_bit_identical_and_chinese_go_to_the_student():
    teacher = _teacher()
    adapted = AdaptedTextEncoder(teacher, CharStudent(["红", "圆"], AdapterConfig(dim=16, out_dim=16)).eval())
    en = ["a red circle moves left", "a blue square moves up, fast"]
    for grad in (False, True):   # as `generate` calls it (no_grad) and as training would
        with torch.set_grad_enabled(grad):
            s0, m0 = teacher.encode(en)
            s1, m1 = adapted.encode(en)
        assert torch.equal(s0, s1) and torch.equal(m0, m1)
    # a mixed batch: the English rows are the teacher's own encoding of them (as a batch alone)
    mixed_s, mixed_m = adapted.encode([en[0], "一个红色的圆形向左移动"])
    alone, alone_m = teacher.encode([en[0]])
    n = int(alone_m[0].sum())
    assert torch.equal(mixed_s[0, :n], alone[0, :n]) and mixed_m[0].sum() == n
    assert mixed_m[1].any() and not torch.equal(mixed_s[1, :n], alone[0, :n])


def test_student_learns_the_teachers_states():
    teacher = _teacher()
    train_c, _ = zh_prompts.adapter_split()
    cands = [(c, f) for c in shapes.combos() for f in (False, True)]
    rows = zh_prompts.all_prompts(train_c, False)[::7]
    cfg = AdapterConfig(dim=32, depth=1, decoder_depth=1)
    untrained = evaluate_adapter(AdaptedTextEncoder(teacher, CharStudent(["红"], AdapterConfig(dim=32, out_dim=16)).eval()),
                                 rows, cands)
    student, info = train_adapter(teacher, steps=250, batch=32, cfg=cfg, progress=False)
    got = evaluate_adapter(AdaptedTextEncoder(teacher, student), rows, cands)
    assert info["log"][-1]["mse"] < info["log"][0]["mse"] / 3
    assert got["recall_at_1"] >= 0.5 and untrained["recall_at_1"] < 0.1    # chance is 1/96
    assert got["mean_cosine"] > untrained["mean_cosine"] + 0.3


def test_adapter_is_bound_to_its_teacher(tmp_path):
    teacher = _teacher()
    student = CharStudent(["红", "圆"], AdapterConfig(dim=16, out_dim=16)).eval()
    path = save_adapter(str(tmp_path / "zh.pt"), student, teacher)
    back = load_adapter(path, teacher)
    zh = ["一个红色的圆形向左移动"]
    assert torch.equal(back.encode(zh)[0], AdaptedTextEncoder(teacher, student).encode(zh)[0])
    with pytest.raises(ValueError, match="another checkpoint"):
        load_adapter(path, _teacher(seed=1))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        load_adapter(str(tmp_path / "junk.pt"), teacher)


def _frames(path):
    import av

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_cli_trains_an_adapter_that_changes_what_generate_makes(tiny_ckpt, tmp_path, cli_here):
    ad = tmp_path / "zh.pt"
    r = subprocess.run([PY, "-m", "videoforge", "train-text-adapter", "--base", tiny_ckpt, "--out", str(ad),
                        "--steps", "20", "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert os.path.exists(ad) and set(doc["scores"]) == {"held_out_compositions", "held_out_phrasings", "held_out_both"}
    assert all(0 <= s["recall_at_1"] <= 1 and s["n"] > 0 for s in doc["scores"].values())
    zh = "一个红色的圆形向左移动"
    gen = ["generate", tiny_ckpt, zh, "--steps", "2", "--frames", "3", "--seed", "4"]   # in this process
    plain = cli_here(*gen, "--out", tmp_path / "a.mp4")
    adapted = cli_here(*gen, "--text-adapter", ad, "--out", tmp_path / "b.mp4")
    assert plain.returncode == 0 and adapted.returncode == 0, adapted.stderr
    assert not np.array_equal(_frames(tmp_path / "a.mp4"), _frames(tmp_path / "b.mp4"))
    bad = cli_here(*gen, "--text-adapter", tmp_path / "nope.pt", "--out", tmp_path / "c.mp4")
    assert bad.returncode == 2 and "nope.pt" in bad.stderr
