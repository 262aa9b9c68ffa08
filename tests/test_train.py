"""Training stack: shapes generator + checker, data reading, exact resume, DDP over gloo, generate CLI."""

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videoforge.synth import shapes  # noqa: E402

torch.set_num_threads(1)
PY = sys.executable

AE = {"base_channels": 8, "channel_mult": [1, 2, 2], "spatial_down": [True, False], "temporal_down": [True, True],
      "patch_size": 2, "latent_channels": 4}
DIT = {"hidden_size": 32, "depth": 1, "num_heads": 2, "patch_size": [1, 2, 2]}


# ------------------------------------------------------------------ the shapes generator + checker

def test_shapes_are_saturated_over_low_saturation_backgrounds_and_move_enough():
    clips = shapes.sample_clips(2, seed=1)
    assert len(clips) == 2 * 4 * 3 * 4
    for c in clips[::9]:
        frames = shapes.render_clip(c, frames=16, size=64).astype(float)
        sat = (frames.max(-1) - frames.min(-1)) / np.maximum(frames.max(-1), 1)
        colour = np.all(np.abs(frames - np.array(shapes.COLOURS[c.colour])) < 1, axis=-1)
        assert colour[0].sum() > 60                    # the shape is there, in its exact colour
        assert np.percentile(sat[0][~colour[0]], 99) < 0.4 < 0.8 < sat[0][colour[0]].min()  # grey-ish bg, vivid shape
        r = shapes.read_clip(frames.astype(np.uint8))
        assert (r.colour, r.shape, r.direction) == (c.colour, c.shape, c.direction)
        assert r.travel >= 0.10                        # even slow crosses >= 10 % in 16 frames
        assert c.caption.startswith(f"a {c.colour} {c.shape} moves {c.direction}")
        assert c.caption in (shapes.caption_for(c.colour, c.shape, c.direction, False),
                             shapes.caption_for(c.colour, c.shape, c.direction, True))
    assert all(c.speed == "fast" for c in clips if c.caption.endswith(", fast"))
    # the checker reads the travel the clip was rendered with (what the motion-control score relies on)
    truth = [c.travel for c in clips[:24]]
    read = [shapes.read_clip(shapes.render_clip(c, 16, 64)).travel for c in clips[:24]]
    assert np.max(np.abs(np.array(read) - np.array(truth))) < 0.05
    assert min(t for t, c in zip(truth, clips) if c.speed == "fast") >= max(t for t, c in zip(truth, clips[:24]) if c.speed == "slow")


def test_held_out_combos_are_excluded():
    held = shapes.held_out_combos(6)
    assert len(set(held)) == 6 and len({(c, d) for c, _, d in held}) == 6
    clips = shapes.sample_clips(2, exclude=held)
    assert not {(c.colour, c.shape, c.direction) for c in clips} & set(held)
    assert len(clips) == 2 * (48 - 6)


def test_pair_hold_out_really_holds_out_each_pair():
    """Every triple containing a held-out (colour, shape), (shape, direction) or (colour, direction)
    pair is out of training, every other pair stays in training, and each value stays seen."""
    for seed in range(4):
        pairs = shapes.held_out_pairs(2, seed=seed)
        assert set(pairs) == set(shapes.PAIR_KINDS) and all(len(set(v)) == 2 for v in pairs.values())
        train, test = shapes.split_combos(pairs)
        assert sorted(train + test) == sorted(shapes.combos()) and not set(train) & set(test)
        clips = shapes.sample_clips(1, exclude=test, include=train, seed=seed)
        trained = {(c.colour, c.shape, c.direction) for c in clips}
        assert trained == set(train)
        slots = {"colour_shape": (0, 1), "shape_direction": (1, 2), "colour_direction": (0, 2)}
        for kind, (i, j) in slots.items():
            seen_pairs = {(t[i], t[j]) for t in trained}
            for p in pairs[kind]:
                assert p not in seen_pairs                                   # the pair itself never trained
                assert any(t[i] == p[0] for t in trained) and any(t[j] == p[1] for t in trained)
                # every triple with that pair is a test triple, one per value of the third attribute
                assert sum((t[i], t[j]) == p for t in test) == (4 if kind != "colour_direction" else 3)
            # pairs not held out are all trained, each in >= 2 triples
            for t in shapes.combos():
                if (t[i], t[j]) not in pairs[kind]:
                    assert sum((u[i], u[j]) == (t[i], t[j]) for u in trained) >= 2
        # each test triple holds a held-out pair, so some attribute of it meets an unseen partner
        assert all(shapes.is_held_out(t, pairs) for t in test)
        assert {c for c, _, _ in trained} == set(shapes.COLOURS) and {s for _, s, _ in trained} == set(shapes.SHAPES)
        assert {d for _, _, d in trained} == set(shapes.DIRECTIONS)


@pytest.mark.parametrize("size", [32, 64])
def test_shape_scorer_reads_rendered_ground_truth(tmp_path, size):
    """The shape measure used to score generated clips, on fresh renders of every triple through
    H.264 and the training-size resize: all shapes read right, with a margin over the runner-up."""
    from videoforge.train.data import decode_rgb

    rng = np.random.default_rng(11)
    clips = [shapes.ShapeClip(c[0], c[1], c[2], "slow", float(rng.uniform(0.12, 0.62)), "", int(rng.integers(2**31)))
             for c in shapes.combos()]
    paths = shapes.write_clips(clips, str(tmp_path), frames=17, size=64)
    margins = []
    for c, p in zip(clips, paths):
        r = shapes.read_clip(decode_rgb(p, 17, size, size))
        assert (r.colour, r.shape, r.direction) == (c.colour, c.shape, c.direction), (c, r.shape_scores)
        sc = sorted(r.shape_scores.values())
        margins.append(sc[-1] - sc[-2])
    assert np.median(margins) > 0.05
    # a blob that is none of the three (a thin bar) is not forced to look like its best match well
    bar = np.full((8, size, size, 3), 120, np.uint8)
    bar[:, size // 2 - 1: size // 2 + 1, 4: size - 4] = (230, 30, 30)
    assert max(shapes.read_clip(bar).shape_scores.values()) < 0.6


def test_demo_sized_shapes_fit_read_back_and_survive_the_x4_latent():
    """The demo's larger shapes (radius 1/4 of the side): the whole path stays in the frame, the
    checker reads every attribute and the travel, fast still outruns slow; and the x4 latent's
    block means (the demo AE's shortcut) keep their shape where they lose the 1/7 shapes'."""
    from videoforge.models.autoencoder import pool_shortcut, unpool_shortcut

    def shape_hits(clips):
        x = np.stack([shapes.render_clip(c, 17, 64)[:, ::2, ::2] for c in clips])    # 32 x 32, as trained
        xt = torch.from_numpy(x).permute(0, 4, 1, 2, 3).float() / 127.5 - 1
        rec = unpool_shortcut(pool_shortcut(xt, 4, 4), 4, 4)
        rec = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()
        return np.mean([shapes.read_clip(r).shape == c.shape for r, c in zip(rec, clips)])

    big = shapes.sample_clips(1, seed=4, radius=0.25)
    sp = shapes.speeds_for(0.25)
    assert sp["slow"][1] == sp["fast"][0] and sp["fast"][1] <= 1 - 0.5 - 2 / 64 + 1e-9   # the path fits
    for c in big[::3]:
        frames = shapes.render_clip(c, 16, 64)
        colour = np.all(np.abs(frames.astype(float) - np.array(shapes.COLOURS[c.colour])) < 1, axis=-1)
        # the whole shape in frame on the first and last frame (area of a 16-px-radius shape, not cut)
        assert min(colour[0].sum(), colour[-1].sum()) > 0.9 * {"circle": np.pi, "square": 3.24, "triangle": 2.2}[c.shape] * 16 ** 2
        r = shapes.read_clip(frames)
        assert (r.colour, r.shape, r.direction) == (c.colour, c.shape, c.direction)
        assert abs(r.travel - c.travel) < 0.05
    small = shapes.sample_clips(1, seed=4)
    assert shape_hits(big[::2]) >= 0.9 > 0.7 > shape_hits(small[::2])          # 24 clips each


def test_checker_rejects_an_empty_clip():
    r = shapes.read_clip(np.full((16, 32, 32, 3), 120, np.uint8))
    assert r.colour is None and r.direction is None


# ------------------------------------------------------------------ a tiny export written by hand

def _tiny_export(root, n=8, frames=9, size=32):
    """Shape clips encoded with H.264 + an Open-Sora CSV with metric and lineage columns."""
    clips = shapes.sample_clips(1, seed=2)[:n]
    paths = shapes.write_clips(clips, os.path.join(root, "clips"), frames=frames, size=size, fps=8.0)
    man = os.path.join(root, "manifest.csv")
    with open(man, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "text", "num_frames", "height", "width", "aspect_ratio", "fps", "resolution",
                    "motion", "suitability", "source_path", "video_id"])
        for i, (p, c) in enumerate(zip(paths, clips)):
            w.writerow([os.path.relpath(p, root), c.caption, frames, size, size, 1.0, 8.0, size * size,
                        c.travel * 4, 0.9 if i % 2 else 0.3, p, f"v{i}"])
    return man, clips


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return _tiny_export(str(tmp_path_factory.mktemp("export")))


def _cfg(tmp, manifest, **over):
    from videoforge.train.config import DataConfig, TrainConfig

    d = dict(task="autoencoder", out_dir=str(tmp), steps=4, batch_size=2, lr=1e-3, warmup_steps=1, log_every=1,
             ckpt_every=2, ema_decay=0.9, autoencoder=dict(AE),
             data=DataConfig(manifest=manifest, buckets=[[9, 32, 32]], metrics=["motion"]))
    d.update(over)
    return TrainConfig(**d)


def _losses(out_dir):
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return [json.loads(ln)["loss"] for ln in f]


def test_read_manifest_where_and_buckets(export):
    from videoforge.train.config import DataConfig
    from videoforge.train.data import BucketSampler, ClipSet, read_manifest

    man, clips = export
    rows = read_manifest(DataConfig(manifest=man, where="suitability >= 0.7"))
    assert len(rows) == 4 and all(r["suitability"] >= 0.7 for r in rows)
    assert rows[0]["caption"] == clips[1].caption
    cs = ClipSet(rows, [[17, 32, 32], [9, 32, 32], [1, 32, 32]])
    assert set(cs.bucket_of) == {1}                    # 9 frames: the 17-frame bucket does not fit
    v = cs.clip(0)
    assert v.shape == (9, 32, 32, 3) and v.dtype == np.uint8
    assert shapes.read_clip(v).colour == clips[1].colour
    s = BucketSampler(cs.bucket_of, 3, seed=5)
    assert s.batch(7) == s.batch(7) and s.batch(7, 0, 2) + s.batch(7, 1, 2) == BucketSampler(cs.bucket_of, 6, 5).batch(7)


def test_webdataset_shards_are_read(export, tmp_path):
    import tarfile

    from videoforge.train.config import DataConfig
    from videoforge.train.data import read_manifest

    man, clips = export
    with open(man) as f:
        rows = list(csv.DictReader(f))
    shard = tmp_path / "shard-000000.tar"
    with tarfile.open(shard, "w") as tar:
        for i, r in enumerate(rows[:3]):
            key = f"s{i:03d}"
            tar.add(os.path.join(os.path.dirname(man), r["path"]), arcname=f"{key}.mp4")
            j = tmp_path / f"{key}.json"
            j.write_text(json.dumps({**r, "num_frames": 9, "height": 32, "width": 32}))
            tar.add(j, arcname=f"{key}.json")
    got = read_manifest(DataConfig(manifest=str(tmp_path)))
    assert [g["caption"] for g in got] == [c.caption for c in clips[:3]]
    assert isinstance(got[0]["_src"], bytes)


@pytest.fixture(scope="module")
def autoencoder_ckpt(export, tmp_path_factory):
    from videoforge.train.loop import train

    out = tmp_path_factory.mktemp("ae")
    path = train(_cfg(out, export[0], steps=3))
    ck = torch.load(path, weights_only=True)
    assert ck["format"] == "videoforge-autoencoder/1" and ck["latent_scale"] > 0
    return path


def _straight_and_interrupted(export, tmp_path, **over):
    """One uninterrupted training run and one killed after step 4 (past the step-3 checkpoint):
    (straight dir, interrupted dir, the interrupted run's config)."""
    from videoforge.train.loop import Hooks, train

    straight = tmp_path / "straight"
    train(_cfg(straight, export[0], **over))
    interrupted = tmp_path / "interrupted"
    cfg = _cfg(interrupted, export[0], **over)

    class Stop(Exception):
        pass

    def stop_after_step_4(step, rec):     # killed mid-run, after the step-3 checkpoint
        if step + 1 == 4:
            raise Stop
    with pytest.raises(Stop):
        train(cfg, Hooks(on_step_end=stop_after_step_4))
    return straight, interrupted, cfg


def test_resume_gives_the_same_loss_curve(export, autoencoder_ckpt, tmp_path):
    from videoforge.train.loop import train

    straight, interrupted, cfg = _straight_and_interrupted(
        export, tmp_path, task="stdit", autoencoder_checkpoint=autoencoder_ckpt, stdit=dict(DIT), steps=6,
        ckpt_every=3, text_encoder={"kind": "tiny", "dim": 16, "depth": 1, "heads": 2})
    assert torch.load(interrupted / "last.pt", weights_only=True)["step"] == 3
    train(cfg)                            # resumes at step 3
    a, b = _losses(straight), _losses(interrupted)
    assert len(a) == len(b) == 6
    assert np.allclose(a, b, rtol=1e-5, atol=1e-7), (a, b)
    assert len(set(a)) == 6                # the losses do change from step to step


def test_resume_from_a_checkpoint_with_the_old_mlp_names(export, autoencoder_ckpt, tmp_path):
    """A last.pt written before STDiT's MLP layers were named (mlp.0 / mlp.2) resumes to the same
    curve and the same exported EMA weights as an uninterrupted run."""
    from videoforge.train.loop import train

    straight, interrupted, cfg = _straight_and_interrupted(
        export, tmp_path, task="stdit", autoencoder_checkpoint=autoencoder_ckpt, stdit=dict(DIT), steps=5,
        ckpt_every=3, ema_decay=0.9, text_encoder={"kind": "tiny", "dim": 16, "depth": 1, "heads": 2})
    ck = torch.load(interrupted / "last.pt", weights_only=True)

    def old(k):
        return re.sub(r"(blocks\.\d+\.mlp\.)fc([12])\.", lambda m: m.group(1) + ("0." if m.group(2) == "1" else "2."), k)
    assert any(".mlp.fc1." in k for k in ck["ema"])
    ck["model"] = {old(k): v for k, v in ck["model"].items()}
    ck["ema"] = {old(k): v for k, v in ck["ema"].items()}
    ck["optimizer"]["state"] = {old(k): v for k, v in ck["optimizer"]["state"].items()}
    for g in ck["optimizer"]["param_groups"]:
        g["params"] = [old(p) for p in g["params"]]
    torch.save(ck, interrupted / "last.pt")
    train(cfg)
    assert np.allclose(_losses(straight), _losses(interrupted), rtol=1e-5, atol=1e-7)
    a = torch.load(straight / "stdit.pt", weights_only=True)["stdit"]["state"]     # EMA weights
    b = torch.load(interrupted / "stdit.pt", weights_only=True)["stdit"]["state"]
    fc = [k for k in a if ".mlp.fc1." in k]
    assert fc and all(torch.allclose(a[k], b[k], atol=1e-6) for k in fc)


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_processes_over_gloo_match_one_process(export, tmp_path, strategy):
    """2 ranks x batch 1 under torchrun (DDP, or FSDP2 fully_shard) == 1 process x batch 2.

    KL without posterior sampling: the loss has no random draws, so both runs see exactly the
    same problem (LFQ would too, but its sign() turns float-order noise into flipped bits)."""
    base = ["task=\"autoencoder\"", f"data.manifest=\"{export[0]}\"", "data.buckets=[[9,32,32]]", "steps=3",
            "lr=0.001", "warmup_steps=1", "ema_decay=0", "log_every=1", "data.metrics=[]",
            "autoencoder=" + json.dumps({**AE, "sample_posterior": False})]
    cfg_file = tmp_path / "ae.toml"
    cfg_file.write_text("")

    def run(prefix, out, bs):
        args = [*prefix, "-m", "videoforge", "train", str(cfg_file)]
        for o in base + [f"out_dir=\"{out}\"", f"batch_size={bs}"]:
            args += ["--set", o]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        r = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
        assert r.returncode == 0, r.stderr[-3000:]
        return torch.load(r.stdout.strip().splitlines()[-1], weights_only=True)

    base.append(f"distributed=\"{strategy}\"")
    port = {"ddp": "29533", "fsdp": "29534"}[strategy]
    ddp = run([PY, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", port],
              tmp_path / "ddp", 1)
    one = run([PY], tmp_path / "one", 2)
    a, b = _losses(tmp_path / "ddp"), _losses(tmp_path / "one")
    assert a[0] == pytest.approx(b[0], rel=1e-5)        # same weights, same global batch
    assert a == pytest.approx(b, rel=1e-4)
    # Adam turns a near-zero gradient's summation-order noise (e.g. a bias before a norm) into a
    # full lr-sized step of either sign, so a few weights may differ by up to ~lr (1e-3); the
    # bulk must agree. Each of the 3 steps moves a weight by ~lr = 1e-3, so ranks that did not
    # average their gradients would differ by ~1e-3 in the bulk; float-order noise stays 100x
    # below that (seen: median 1e-7 on an idle machine, 1.3e-5 once under heavy CPU load).
    diffs = torch.cat([(v.float() - ddp["state"][k].float()).abs().flatten() for k, v in one["state"].items()])
    assert torch.quantile(diffs, 0.5) < 5e-5 and torch.quantile(diffs, 0.9) < 2e-4, torch.quantile(diffs, 0.9)


def test_stdit_trains_with_per_block_fsdp2_over_gloo(export, autoencoder_ckpt, tmp_path):
    """The path for large models: STDiT with each transformer block its own FSDP2 unit, 2 CPU
    ranks over gloo; it trains, checkpoints a full (unsharded) state and generates."""
    dit = {**DIT, "depth": 2}
    over = ["task=\"stdit\"", f"data.manifest=\"{export[0]}\"", "data.buckets=[[9,32,32]]", "steps=3",
            "batch_size=1", "lr=0.001", "warmup_steps=1", "log_every=1", "ckpt_every=2", "data.metrics=[\"motion\"]",
            f"autoencoder_checkpoint=\"{autoencoder_ckpt}\"", "stdit=" + json.dumps(dit),
            "text_encoder=" + json.dumps({"kind": "tiny", "dim": 16, "depth": 1, "heads": 2}),
            "distributed=\"fsdp\"", f"out_dir=\"{tmp_path / 'fsdp'}\""]
    cfg_file = tmp_path / "dit.toml"
    cfg_file.write_text("")
    args = [PY, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29535",
            "-m", "videoforge", "train", str(cfg_file)]
    for o in over:
        args += ["--set", o]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "FSDP2: 2 blocks + root sharded over 2 ranks" in r.stderr
    losses = _losses(tmp_path / "fsdp")
    assert len(losses) == 3 and all(np.isfinite(losses))
    ckpt = r.stdout.strip().splitlines()[-1]
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)       # a full state: loads in one process without FSDP
    assert len(pipe.gen.stdit.blocks) == 2
    clip = pipe.generate("a red circle moves left", metrics={"motion": 1.0}, frames=5, steps=2)
    assert clip.shape[0] == 5 and clip.dtype == np.uint8


def test_bf16_autocast_and_grad_checkpointing_train(export, autoencoder_ckpt, tmp_path):
    from videoforge.train.loop import train

    path = train(_cfg(tmp_path, export[0], task="stdit", autoencoder_checkpoint=autoencoder_ckpt,
                      stdit=dict(DIT), steps=2, precision="bf16", grad_checkpointing=True,
                      text_encoder={"kind": "tiny", "dim": 16, "depth": 1, "heads": 2}))
    ck = torch.load(path, weights_only=True)
    assert ck["stdit"]["config"]["grad_checkpointing"] is True
    assert all(np.isfinite(_losses(tmp_path)))


def test_outline_weighted_flow_loss_trains_and_changes_the_loss(export, autoencoder_ckpt, tmp_path):
    """boundary_weight (issue 19) through the real loop: same seed, same batches; the weighted
    loss differs from the plain one from the first step, stays finite, and the config records it."""
    from videoforge.train.loop import train

    kw = dict(task="stdit", autoencoder_checkpoint=autoencoder_ckpt, stdit=dict(DIT), steps=2,
              text_encoder={"kind": "tiny", "dim": 16, "depth": 1, "heads": 2})
    train(_cfg(tmp_path / "plain", export[0], **kw))
    train(_cfg(tmp_path / "outline", export[0], boundary_weight=4.0, subject_weight=2.0, **kw))
    plain, outline = _losses(tmp_path / "plain"), _losses(tmp_path / "outline")
    assert all(np.isfinite(outline)) and len(outline) == 2
    assert abs(plain[0] - outline[0]) > 1e-4
    with open(tmp_path / "outline" / "config.json") as f:
        assert json.load(f)["boundary_weight"] == 4.0


@pytest.fixture(scope="module")
def generator_ckpt(export, autoencoder_ckpt, tmp_path_factory):
    from videoforge.train.loop import train

    out = tmp_path_factory.mktemp("dit")
    return train(_cfg(out, export[0], task="stdit", autoencoder_checkpoint=autoencoder_ckpt, stdit=dict(DIT),
                      steps=2, text_encoder={"kind": "tiny", "dim": 16, "depth": 1, "heads": 2}))


@pytest.mark.parametrize("frames", [16, 3])
def test_generate_cli_writes_a_playable_mp4_of_the_asked_length(generator_ckpt, tmp_path, frames):
    import av

    out = tmp_path / "clip.mp4"
    r = subprocess.run([PY, "-m", "videoforge", "generate", generator_ckpt, "a red circle moves left",
                        "--motion", "1.0", "--seed", "3", "--frames", str(frames), "--steps", "2",
                        "--out", str(out), "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["frames"] == frames
    with av.open(str(out)) as c:
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == frames and decoded[0].shape == (32, 32, 3)
    bad = subprocess.run([PY, "-m", "videoforge", "generate", generator_ckpt, "x", "--metric", "aesthetic=1",
                          "--out", str(tmp_path / "y.mp4")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "aesthetic" in bad.stderr


def test_packaged_configs_load():
    from videoforge.cli.train import resolve_config_path
    from videoforge.train.config import load_config

    for name in ("demo_autoencoder", "demo_stdit", "autoencoder", "stage1_image", "stage2_video", "stage3_finetune"):
        cfg = load_config(resolve_config_path(name), ["data.manifest=x.csv"])
        assert cfg.data.manifest.endswith("x.csv")
    s1 = load_config(resolve_config_path("stage1_image"))
    assert all(b[0] == 1 for b in s1.data.buckets)
    s3 = load_config(resolve_config_path("stage3_finetune"))
    assert "suitability" in s3.data.where and s3.init_from.endswith("stdit.pt")
    with pytest.raises(ValueError, match="unknown key"):
        load_config(resolve_config_path("demo_stdit"), ["stepz=3"])


@pytest.mark.slow
def test_demo_quick_runs_the_whole_pipeline_with_the_recipe_flags(tmp_path):
    """`make demo-train` / `make demo-train-full` wiring, a few steps: shapes -> videoforge run -> export ->
    AE -> STDiT -> checker. One run serves both targets (each run costs ~28 s): issue 19's recipe flags add
    training-only colours without any held-out pair, and `--stdit-set` reaches the trained generator."""
    r = subprocess.run([PY, "-m", "videoforge.train.demo", "--out", str(tmp_path / "d"), "--quick",
                        "--extra-colours", "2", "--extra-per-combo", "1", "--stdit-set", "text_encoder.depth=0",
                        "--stdit-set", 'data.metrics=["subject_travel"]'],
                       capture_output=True, text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    ckpt = r.stdout.strip().splitlines()[-1]
    assert os.path.exists(ckpt)
    res = json.loads((tmp_path / "d" / "results.json").read_text())
    assert res["data"]["captioned"] == res["data"]["rows"] > 0
    # the shape-independent motion key (train/subject_travel.py) sits beside the engine's columns
    import csv

    with open(tmp_path / "d" / "train_manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(0 <= float(r["subject_travel"]) < 1 for r in rows) and all(r["motion_peak"] for r in rows)
    assert res["checker_on_ground_truth"]["colour_and_direction"] == 1.0
    assert res["checker_on_ground_truth"]["shape"] == 1.0
    assert 0 <= res["held_out_accuracy"]["colour_and_direction"] <= 1 and res["ae_psnr_db"] > 0
    # the pair hold-out: 2 pairs of each kind, 16 held-out triples, each scored on all three words
    assert {k: len(v) for k, v in res["held_out_pairs"].items()} == {k: 2 for k in shapes.PAIR_KINDS}
    assert len(res["held_out"]) == 16
    for k in ("colour", "shape", "direction", "joint"):
        lo, hi = res["held_out_accuracy"]["ci95"][k]
        assert 0 <= lo <= res["held_out_accuracy"][k] <= hi <= 1
    # the recipe: training-only colours joined the manifest, no caption holds a held-out pair
    pairs = {k: [tuple(p) for p in v] for k, v in res["held_out_pairs"].items()}
    captions = [row["text"] for row in rows]
    extra = list(shapes.EXTRA_COLOURS)[:2]
    assert any(c in t for t in captions for c in extra)
    for t in captions:
        words = t.replace(",", " ").split()
        colour = next(w for w in words if w in shapes.COLOURS or w in shapes.EXTRA_COLOURS)
        shape = next(w for w in words if w in shapes.SHAPES)
        direction = next(w for w in words if w in shapes.DIRECTIONS)
        assert not shapes.is_held_out((colour, shape, direction), pairs), t
    cfg = json.loads((tmp_path / "d" / "stdit" / "config.json").read_text())
    assert cfg["text_encoder"]["depth"] == 0 and cfg["data"]["metrics"] == ["subject_travel"]


def test_demo_refuses_to_resume_a_folder_made_with_another_recipe(tmp_path):
    from videoforge.train import demo

    out = tmp_path / "d"
    out.mkdir()
    (out / "recipe.json").write_text(json.dumps({"seed": 0, "extra_colours": 8}))
    with pytest.raises(SystemExit, match="another recipe"):
        demo.main(["--out", str(out), "--quick", "--threads", "1"])
    assert not (out / "videos").exists()          # refused before any clip was rendered
    with pytest.raises(SystemExit):
        demo.main(["--out", str(tmp_path / "e"), "--quick", "--extra-colours", "9"])
