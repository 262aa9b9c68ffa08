"""Session 8 continuation changes: shapes of the demo generator's radius, a step-robust speed
measure, a wall-clock training budget (issue 23 part 2)."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

from videoforge.continuation.data import CONTINUE_RADIUS, centres, render, sample_videos  # noqa: E402
from videoforge.synth import shapes  # noqa: E402


def test_videos_at_the_demo_radius_are_read_back():
    vids = sample_videos(6, seed=3, radius=CONTINUE_RADIUS)
    assert all(v.radius == CONTINUE_RADIUS for v in vids)
    assert [(v.vx, v.vy) for v in vids] == [(v.vx, v.vy) for v in sample_videos(6, seed=3)]   # same draws
    for v in vids:
        f = render(v, 24, 32)
        c = centres(v, 24, 32)
        r = 32 * CONTINUE_RADIUS
        assert (c >= r + 1 - 1e-9).all() and (c <= 32 - r - 1 + 1e-9).all()
        rd = shapes.read_clip(f[:8])
        assert (rd.colour, rd.shape) == (v.colour, v.shape)
    # a 16-pixel shape covers several times the 9-pixel one's area
    small, big = (render(sample_videos(1, seed=3, radius=rr)[0], 1, 32)[0] for rr in (shapes.DEFAULT_RADIUS, 0.25))
    assert shapes._saturated_mask(big).sum() > 2.5 * shapes._saturated_mask(small).sum()


def test_stride_speed_sees_motion_in_steps():
    """A video that moves in 4-frame steps (as the demo autoencoder decodes) moves as fast as the
    truth: the per-frame speed undercounts it, the stride-4 speed does not."""
    from continue_eval import measure

    v = sample_videos(4, seed=11, radius=CONTINUE_RADIUS)[1]
    truth = render(v, 8 + 32, 32)
    c = centres(v, 8 + 32, 32)
    steps = truth[8:][np.arange(32) // 4 * 4]   # frames held 4 at a time, jumping at 0, 4, 8, ...
    smooth = measure(truth[8:], c[8:], c[:8], v, 32)
    stepped = measure(steps, c[8:], c[:8], v, 32)
    assert 0.8 < smooth["last_speed4_ratio"] < 1.25 and 0.8 < smooth["last_speed_ratio"] < 1.25
    assert stepped["last_speed_ratio"] < 0.7            # the old measure: one of two jumps seen
    assert 0.75 < stepped["last_speed4_ratio"] < 1.3    # stride 4: every pair spans one jump
    still = measure(np.repeat(truth[8:9], 32, 0), c[8:], c[:8], v, 32)
    assert still["last_speed4_ratio"] < 0.1


def _tiny_base(path):
    """A tiny random generator checkpoint (16 x 16, 4 latent channels)."""
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
    from videoforge.models.pipeline import FORMAT
    from videoforge.models.stdit import STDiT, STDiTConfig
    from videoforge.models.text import TinyTextEncoder

    torch.manual_seed(0)
    ae = CausalVideoAutoencoder(AutoencoderConfig(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False),
                                                  temporal_down=(True, True), patch_size=2, latent_channels=4)).eval()
    text = TinyTextEncoder("a red green blue yellow circle square triangle moves left right up down".split(), dim=16,
                           depth=1)
    dit = STDiT(STDiTConfig(in_channels=4, hidden_size=32, depth=1, num_heads=4, text_dim=16, metrics=(),
                            patch_size=(1, 2, 2)))
    base = {"format": FORMAT, "autoencoder": {"config": ae.cfg.to_dict(), "state": ae.state_dict(), "latent_scale": 1.0},
            "stdit": {"config": dit.cfg.to_dict(), "state": dit.state_dict()},
            "text_encoder": {"spec": text.spec(), "state": text.state_dict()},
            "metrics": {"names": [], "lo": [], "hi": []}, "video": {"height": 16, "width": 16, "fps": 8.0}}
    torch.save(base, path)
    return str(path)


def test_training_records_radius_and_stops_on_its_budget(tmp_path):
    from continue_eval import video_radius

    from videoforge.continuation.train import train_continuation

    _tiny_base(tmp_path / "base.pt")
    path = train_continuation(str(tmp_path / "base.pt"), str(tmp_path / "out"), steps=500, videos=2, video_frames=21,
                              context=3, chunk=2, batch=2, progress=False, radius=0.3, minutes=1e-9)
    spec = torch.load(path, weights_only=False)["continuation"]
    assert spec["steps_planned"] == 500 and spec["steps"] == 1   # the budget ends it after its one step
    assert spec["radius"] == 0.3 and video_radius(path) == 0.3 and spec["context_frames"] == 3
    assert video_radius(str(tmp_path / "base.pt")) == shapes.DEFAULT_RADIUS   # older checkpoints: 1/7


def test_windows_before_the_start_repeat_the_first_latent_frame():
    """A 3-frame context trained as the sampler fills it from 8 frames (2 latent frames): the
    first latent frame repeated."""
    from videoforge.continuation.train import window

    z = torch.arange(6.0).view(1, 6, 1, 1).expand(2, 6, 2, 2)
    assert window(z, 2, 3)[0, :, 0, 0].tolist() == [2.0, 3.0, 4.0]
    assert window(z, -1, 5)[0, :, 0, 0].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0]
    assert window(z, -2, 5).shape == (2, 5, 2, 2)


def test_demo_continue_prints_its_checkpoint_last(tmp_path, capsys):
    from videoforge.continuation.demo import main

    base = _tiny_base(tmp_path / "base.pt")
    assert main(["--out", str(tmp_path / "c"), "--base", base, "--steps", "2", "--videos", "2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1].split()[-1]
    spec = torch.load(last, weights_only=False)["continuation"]
    assert os.path.exists(last) and spec["radius"] == CONTINUE_RADIUS and spec["steps"] == 2


def test_reports_from_separate_processes_are_paired(tmp_path):
    import json

    from continue_eval import pair_reports

    def rep(path, vals, seed=9001):
        json.dump({"videos": 3, "seed": seed, "context_frames": 8, "new_frames": 64, "steps": 10, "radius": 0.25,
                   "models": {str(path): {"per_video": {"kept_frac": vals, "pos_slope": [0.0, 0.0, 0.0]}}}},
                  open(path, "w"))
        return str(path)

    a, b = rep(tmp_path / "a.json", [1.0, 0.5, 1.0]), rep(tmp_path / "b.json", [0.5, 0.5, 0.0])
    pair_reports(a, b, out=str(tmp_path / "p.json"))
    d = json.load(open(tmp_path / "p.json"))["paired_first_minus_second"]
    assert abs(d["kept_frac"]["mean"] - 0.5) < 1e-9 and d["pos_slope"]["mean"] == 0.0
    with pytest.raises(SystemExit, match="seed"):
        pair_reports(a, rep(tmp_path / "c.json", [1.0, 1.0, 1.0], seed=777))
