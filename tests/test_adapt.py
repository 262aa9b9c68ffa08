"""Issue 22 part 1: LoRA / OFT / full fine-tuning, replay and LwF, adapter files, merging, CLI.

Tiny configurations: a randomly initialised generator checkpoint in the training format (its
weights perturbed so every block already does something) and a hand-written export of
H.264-encoded shape clips with known captions.
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from videoforge.synth import shapes  # noqa: E402

torch.set_num_threads(1)
PY = sys.executable
FRAMES, SIZE = 9, 32


def _export(root, combos, n=1, seed=2):
    """Shape clips of `combos` encoded with H.264 + an Open-Sora CSV with captions and the metric column."""
    clips = shapes.sample_clips(n, seed=seed, include=combos, radius=0.25)
    paths = shapes.write_clips(clips, os.path.join(root, "clips"), frames=FRAMES, size=64, fps=8.0)
    man = os.path.join(root, "manifest.csv")
    with open(man, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "text", "num_frames", "height", "width", "fps", "motion_peak", "source_path"])
        for p, c in zip(paths, clips):
            w.writerow([os.path.relpath(p, root), c.caption, FRAMES, 64, 64, 8.0, c.travel * 10, p])
    return man


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """(checkpoint path, domain-A export, domain-B export) — B is the colour yellow, A the rest."""
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
    from videoforge.models.pipeline import FORMAT
    from videoforge.models.stdit import STDiT, STDiTConfig
    from videoforge.models.text import TinyTextEncoder

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("adapt")
    ae_cfg = AutoencoderConfig(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False),
                               temporal_down=(True, True), patch_size=2, latent_channels=4)
    ae = CausalVideoAutoencoder(ae_cfg)
    vocab = TinyTextEncoder.build_vocab(shapes.caption_for(*c, f) for c in shapes.combos() for f in (0, 1))
    text = TinyTextEncoder(vocab, dim=16, depth=1, heads=2)
    dit = STDiT(STDiTConfig(hidden_size=32, depth=1, num_heads=2, text_dim=16, metrics=("motion_peak",)))
    with torch.no_grad():   # AdaLN-Zero starts every block at zero; perturbed, as after some training
        for p in dit.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    ck = {"format": FORMAT,
          "autoencoder": {"format": "videoforge-autoencoder/1", "config": ae_cfg.to_dict(), "state": ae.state_dict(),
                          "latent_scale": 1.0},
          "stdit": {"config": dit.cfg.to_dict(), "state": dit.state_dict()},
          "text_encoder": {"spec": text.spec(), "state": text.state_dict()},
          "metrics": {"names": ["motion_peak"], "lo": [0.0], "hi": [5.0]},
          "video": {"height": SIZE, "width": SIZE, "fps": 8.0, "frames": FRAMES}}
    path = str(root / "gen.pt")
    torch.save(ck, path)
    a = _export(str(root / "a"), [("red", "circle", "left"), ("blue", "square", "up"), ("green", "circle", "down")], n=2)
    b = _export(str(root / "b"), [("yellow", "circle", "right"), ("yellow", "square", "left")], n=3, seed=5)
    return path, a, b


def _velocity(pipe, seed=0, prompts=("a yellow circle moves right", "a red square moves up")):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(prompts), 4, 3, 8, 8, generator=g)
    t = torch.tensor([0.3, 0.8])[: len(prompts)]
    y, m = pipe.gen.encode_text(list(prompts))
    with torch.no_grad():
        return pipe.gen.stdit(x, t, y, m, torch.full((len(prompts), 1), 0.5))


def _cfg(method, **kw):
    from videoforge.adapt.finetune import FinetuneConfig

    d = dict(method=method, rank=4, steps=6, batch_size=4, warmup_steps=1, log_every=1, seed=0, lr=5e-3)
    d.update(kw)
    return FinetuneConfig(**d)


@pytest.fixture(scope="module")
def adapters(base, tmp_path_factory):
    """One adapter per method, trained on B (LoRA also with replay and LwF), saved to files."""
    from videoforge.adapt.adapters import save_adapter
    from videoforge.adapt.finetune import finetune

    path, a, b = base
    out = tmp_path_factory.mktemp("adapters")
    cache = str(out / "cache")
    runs = {"lora": (_cfg("lora"), {}), "oft": (_cfg("oft"), {}), "full": (_cfg("full", lr=1e-3), {}),
            "lora_replay": (_cfg("lora", replay=0.5), {"replay_data": a}),
            "lora_lwf": (_cfg("lora", lwf=1.0, seed=1), {"lwf_prompts": ["a red circle moves left", "a blue square moves up"]})}
    files, infos = {}, {}
    for name, (cfg, kw) in runs.items():
        ad = finetune(cfg, path, b, cache_dir=cache, progress=False, **kw)
        files[name] = str(out / f"{name}.safetensors")
        save_adapter(files[name], ad)
        infos[name] = ad.info
    return files, infos


def test_each_method_trains_what_it_should_and_changes_the_output(base, adapters):
    from videoforge.adapt.adapters import load_adapter, load_onto
    from videoforge.models.pipeline import Pipeline

    path = base[0]
    files, infos = adapters
    v0 = _velocity(Pipeline.load(path))
    for name, f in files.items():
        ad = load_adapter(f)
        info = infos[name]
        assert all(np.isfinite([l[1] for l in info["losses"]])), name
        if ad.method == "full":
            assert info["trainable_params"] == info["total_params"]
            assert any(k.startswith("text_encoder.") for k in ad.tensors)
        else:   # only adapter weights, on every target layer of the block
            assert 0 < info["trainable_params"] < 0.5 * info["total_params"]
            key = "lora_" if ad.method == "lora" else "oft_R"
            assert all(key in k for k in ad.tensors)
            layers = {k.split(f".{key}")[0] for k in ad.tensors}
            assert layers == {f"blocks.0.{a}.{p}" for a in ("attn_s", "attn_t", "cross") for p in ("q", "kv", "proj")} \
                | {"blocks.0.mlp.fc1", "blocks.0.mlp.fc2"}
        pipe = Pipeline.load(path)
        load_onto(pipe, path, [f])
        diff = (_velocity(pipe) - v0).abs().max().item()
        assert diff > 1e-3, f"{name}: the adapter did not change the model's output ({diff})"
        # scale 0 is the base again
        pipe0 = Pipeline.load(path)
        load_onto(pipe0, path, [f], scales=[0.0])
        assert torch.allclose(_velocity(pipe0), v0, atol=1e-5), name


def test_replay_and_lwf_paths_are_used(adapters):
    files, infos = adapters
    assert infos["lora_replay"]["replay_rows"] > 0 and infos["lora"]["replay_rows"] == 0
    # 0.5 of a batch of 4 from the replay export
    assert infos["lora_replay"]["config"]["replay"] == 0.5
    lwf = [l[2] for l in infos["lora_lwf"]["losses"]]
    assert lwf[0] == 0.0 and max(lwf) > 0, "the distillation term starts at 0 (adapter = identity) and then grows"
    assert all(l[2] == 0.0 for l in infos["lora"]["losses"])


def test_lwf_keeps_the_base_closer_on_its_prompts(base, tmp_path):
    """Same run with and without a strong LwF term: the LwF model stays closer to the base on A prompts."""
    from videoforge.adapt.adapters import apply_adapters
    from videoforge.adapt.finetune import finetune
    from videoforge.models.pipeline import Pipeline

    path, a, b = base
    a_prompts = ["a red circle moves left", "a blue square moves up"]
    v0 = _velocity(Pipeline.load(path), prompts=a_prompts)
    dist = {}
    for w in (0.0, 20.0):
        ad = finetune(_cfg("lora", lwf=w, steps=12, lr=1e-2), path, b, lwf_prompts=a_prompts,
                      cache_dir=str(tmp_path / "c"), progress=False)
        pipe = Pipeline.load(path)
        apply_adapters(pipe.gen, [ad])
        dist[w] = (_velocity(pipe, prompts=a_prompts) - v0).pow(2).mean().item()
    assert dist[20.0] < dist[0.0], dist


def test_round_trip_and_mismatched_base_is_refused(base, adapters, tmp_path):
    from videoforge.adapt.adapters import load_adapter, load_onto, save_adapter
    from videoforge.models.pipeline import Pipeline

    path = base[0]
    files, _ = adapters
    ad = load_adapter(files["lora"])
    copy = str(tmp_path / "copy.safetensors")
    save_adapter(copy, ad)
    again = load_adapter(copy)
    assert again.method == "lora" and again.rank == 4 and again.base_sha256 == ad.base_sha256
    assert set(again.tensors) == set(ad.tensors) and all(torch.equal(again.tensors[k], ad.tensors[k]) for k in ad.tensors)
    # another base: same architecture, one weight changed
    ck = torch.load(path, weights_only=True)
    ck["stdit"]["state"]["final_layer.linear.bias"] += 0.01
    other = str(tmp_path / "other.pt")
    torch.save(ck, other)
    with pytest.raises(ValueError, match="trained for the base checkpoint"):
        load_onto(Pipeline.load(other), other, [files["lora"]])
    # not an adapter at all
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="bad.safetensors"):
        load_adapter(str(bad))


@pytest.mark.parametrize("which", [["lora"], ["oft"], ["lora", "lora_replay"]])
def test_merged_and_unmerged_agree(base, adapters, which):
    from videoforge.adapt.adapters import apply_adapters, load_adapter
    from videoforge.models.flow import euler_sample
    from videoforge.models.pipeline import Pipeline
    from peft.tuners.tuners_utils import BaseTunerLayer

    path = base[0]
    files, _ = adapters
    ads = [load_adapter(files[w]) for w in which]
    scales = [0.7, 1.3][: len(ads)]
    merged, unmerged = Pipeline.load(path), Pipeline.load(path)
    apply_adapters(merged.gen, ads, scales, merge=True)
    apply_adapters(unmerged.gen, ads, scales, merge=False)
    assert not any(isinstance(m, BaseTunerLayer) for m in merged.gen.modules())
    assert any(isinstance(m, BaseTunerLayer) for m in unmerged.gen.modules())
    vm, vu = _velocity(merged), _velocity(unmerged)
    assert (vm - vu).abs().max().item() < 1e-5
    # and a short sampling run: same latents
    y, m = merged.gen.encode_text(["a yellow circle moves right"])
    zs = [euler_sample(p.gen.stdit, (1, 4, 3, 8, 8), y, m, torch.full((1, 1), 0.5), steps=3,
                       generator=torch.Generator().manual_seed(1)) for p in (merged, unmerged)]
    assert (zs[0] - zs[1]).abs().max().item() < 1e-5


def test_two_loras_merged_are_their_sum(base, adapters):
    """Merging A then B = the model with both active; and it differs from either alone."""
    from videoforge.adapt.adapters import apply_adapters, load_adapter
    from videoforge.models.pipeline import Pipeline

    path = base[0]
    files, _ = adapters
    a, b = load_adapter(files["lora"]), load_adapter(files["lora_lwf"])
    both, only_a = Pipeline.load(path), Pipeline.load(path)
    apply_adapters(both.gen, [a, b])
    apply_adapters(only_a.gen, [a])
    assert (_velocity(both) - _velocity(only_a)).abs().max().item() > 1e-4


def test_oft_rank_must_divide_the_widths(base, tmp_path):
    from videoforge.adapt.finetune import finetune

    path, _, b = base
    with pytest.raises(ValueError, match="block size"):
        finetune(_cfg("oft", rank=5), path, b, cache_dir=str(tmp_path / "c"), progress=False)


def _frames(path):
    import av

    with av.open(path) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_cli_finetune_generate_and_merge(base, tmp_path, capsys):
    """The commands in-process (a subprocess each would cost a torch import per call)."""
    from videoforge.cli import main as cli

    path, a, b = base
    ad = str(tmp_path / "lora.safetensors")
    rc = cli(["finetune", path, "--data", b, "--method", "lora", "--rank", "2", "--replay", "0.25", "--replay-data", a,
              "--lwf", "0.5", "--steps", "4", "--batch-size", "4", "--out", ad, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    doc = json.loads(out.out)
    assert doc["adapter"] == os.path.abspath(ad) and doc["trainable_params"] > 0 and doc["method"] == "lora"
    assert doc["replay_rows"] > 0

    def gen(ckpt, out, *extra):
        rc = cli(["generate", ckpt, "a yellow circle moves right", "--seed", "3", "--steps", "2", "--frames", "5",
                  "--out", str(out), *extra])
        err = capsys.readouterr().err
        return rc, err

    assert gen(path, tmp_path / "base.mp4")[0] == 0
    rc, err = gen(path, tmp_path / "ad.mp4", "--adapter", ad, "--adapter-scale", "4")
    assert rc == 0, err
    assert not np.array_equal(_frames(str(tmp_path / "base.mp4")), _frames(str(tmp_path / "ad.mp4")))
    # the same adapter twice at half the scale each = once at the full scale (merging adds LoRA deltas)
    rc, err = gen(path, tmp_path / "twice.mp4", "--adapter", ad, "--adapter-scale", "2", "--adapter", ad,
                  "--adapter-scale", "2")
    assert rc == 0, err
    twice, once = _frames(str(tmp_path / "twice.mp4")).astype(int), _frames(str(tmp_path / "ad.mp4")).astype(int)
    assert np.abs(twice - once).max() <= 1
    # merge command: a plain generator checkpoint that generate loads without --adapter
    merged = str(tmp_path / "merged.pt")
    assert cli(["merge-adapters", path, "--adapter", ad, "--adapter-scale", "4", "--out", merged]) == 0
    capsys.readouterr()
    assert gen(merged, tmp_path / "m.mp4")[0] == 0
    assert np.abs(_frames(str(tmp_path / "m.mp4")).astype(int) - once).max() <= 1
    # a mismatched base is refused with a clear error (exit 2)
    rc, err = gen(merged, tmp_path / "z.mp4", "--adapter", ad)
    assert rc == 2 and "trained for the base checkpoint" in err and not os.path.exists(tmp_path / "z.mp4")
    # replay without replay data: a usage error naming the missing flag
    rc = cli(["finetune", path, "--data", b, "--method", "lora", "--replay", "0.5", "--out", str(tmp_path / "q.st")])
    assert rc == 2 and "--replay-data" in capsys.readouterr().err
