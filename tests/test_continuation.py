"""Long-video continuation (issue 23 part 2) on a tiny configuration: STDiT's context input
(old checkpoints unchanged), continuation training on bouncing-shape videos, and
`generate --continue` chunk by chunk for any length, from a video or a saved latent."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videoforge.continuation.data import centres, render, sample_videos  # noqa: E402
from videoforge.continuation.sample import ContinuationError, parse_schedule, prompt_at  # noqa: E402
from videoforge.io.encode import write_video  # noqa: E402
from videoforge.models.stdit import STDiT, STDiTConfig  # noqa: E402

PY = sys.executable


def _dit(**kw):
    cfg = dict(in_channels=4, hidden_size=32, depth=2, num_heads=4, text_dim=16, metrics=(), patch_size=(1, 2, 2))
    cfg.update(kw)
    return STDiT(STDiTConfig(**cfg))


def test_stdit_context_input_is_additive():
    torch.manual_seed(0)
    old = _dit()
    with torch.no_grad():   # off the AdaLN-Zero start (whose output is 0 whatever the input)
        for p in old.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    new = _dit(context_frames=2)
    missing, unexpected = new.load_state_dict(old.state_dict(), strict=False)
    assert not unexpected and sorted(missing) and all(k.startswith("ctx_") for k in missing)
    _dit().load_state_dict(old.state_dict())   # a model without context: exactly the old keys
    x, y, m = torch.randn(2, 4, 3, 4, 4), torch.randn(2, 3, 16), torch.ones(2, 3, dtype=torch.bool)
    t = torch.rand(2)
    with torch.no_grad():
        # the same weights and no context: the same output as the old model
        assert torch.allclose(new(x, t, y, m), old(x, t, y, m), atol=1e-6)
        ctx = torch.randn(2, 4, 2, 4, 4)
        out = new(x, t, y, m, context=ctx, context_level=torch.zeros(2))
        assert out.shape == x.shape   # only the denoised frames come back
        # the context reaches the prediction (temporal attention sees it)
        assert not torch.allclose(out, new(x, t, y, m, context=ctx * 0, context_level=torch.zeros(2)))
        with pytest.raises(ValueError, match="context"):
            old(x, t, y, m, context=ctx)


def test_bouncing_videos_stay_inside_and_bounce():
    v = sample_videos(4, seed=3)
    for b in v:
        c = centres(b, 200)
        r = 64 * b.radius
        assert c.min() >= r + 1 - 1e-9 and c.max() <= 64 - r - 1 + 1e-9
        vx = np.diff(c[:, 0])
        assert (vx > 0).any() and (vx < 0).any()   # it turned around at an edge
    f = render(v[0], 9)
    assert f.shape == (9, 64, 64, 3) and f.dtype == np.uint8


def test_prompt_schedule():
    s = parse_schedule("8:a red circle moves up; 20:a blue square moves left", "a red circle moves left")
    assert [prompt_at(s, k) for k in (0, 7, 8, 19, 20, 99)] == ["a red circle moves left"] * 2 + \
        ["a red circle moves up"] * 2 + ["a blue square moves left"] * 2
    with pytest.raises(ContinuationError, match="FRAME:PROMPT"):
        parse_schedule("soon:a cat", "x")


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    """A tiny generator (random init) and its continuation model after a few training steps."""
    from videoforge.continuation.train import train_continuation
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
    from videoforge.models.pipeline import FORMAT
    from videoforge.models.text import TinyTextEncoder

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("cont")
    ae = CausalVideoAutoencoder(AutoencoderConfig(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False),
                                                  temporal_down=(True, True), patch_size=2, latent_channels=4)).eval()
    words = "a red green blue yellow circle square triangle moves left right up down".split()
    text = TinyTextEncoder(words, dim=16, depth=1)
    base = {"format": FORMAT,
            "autoencoder": {"config": ae.cfg.to_dict(), "state": ae.state_dict(), "latent_scale": 1.0},
            "stdit": {"config": _dit().cfg.to_dict(), "state": _dit().state_dict()},
            "text_encoder": {"spec": text.spec(), "state": text.state_dict()},
            "metrics": {"names": [], "lo": [], "hi": []}, "video": {"height": 16, "width": 16, "fps": 8.0}}
    torch.save(base, d / "base.pt")
    path = train_continuation(str(d / "base.pt"), str(d / "out"), steps=3, videos=2, video_frames=21, context=2,
                              chunk=2, batch=2, progress=False)
    return str(d / "base.pt"), path, d


def _gen(*args):
    return subprocess.run([PY, "-m", "videoforge", "generate", *args], capture_output=True, text=True, timeout=300)


def test_generate_continue_any_length_from_video_or_latent(ckpts):
    import av

    from videoforge.continuation.sample import continue_video
    from videoforge.models.pipeline import Pipeline

    base, ck, d = ckpts
    src = d / "ctx.mp4"
    write_video(src, list(render(sample_videos(1, seed=9)[0], 8, 16)), fps=8)
    pipe = Pipeline.load(ck)
    one = continue_video(pipe, str(src), 1, "a red circle moves left", steps=2)
    assert one.frames.shape == (9, 16, 16, 3) and one.new_from == 8
    with pytest.raises(ContinuationError, match="nope.mp4"):
        continue_video(pipe, str(d / "nope.mp4"), 4, "a red circle", steps=2)
    out = d / "c13.mp4"   # 13 new frames: 4 latent frames, 2 chunks of 2, the prompt changing at frame 4
    r = _gen(ck, "a red circle moves left", "--continue", str(src), "--frames", "13", "--out", str(out),
             "--steps", "2", "--json", "--save-latent", str(d / "z13.npy"), "--prompt-schedule", "4:a red circle moves up")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["context_frames"], doc["new_frames"], doc["frames"]) == (8, 13, 21)
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 21
    z = np.load(d / "z13.npy")
    assert z.shape[:3] == (1, 4, 2 + 4)   # 8 context frames -> 5 used -> 2 latent frames, then 4 new
    r = _gen(ck, "a red circle moves left", "--continue", str(d / "z13.npy"), "--frames", "6", "--new-only",
             "--out", str(d / "again.mp4"), "--steps", "2", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames"] == 6
    # clear errors: a generator without context conditioning; continuation flags without --continue
    r = _gen(base, "a red circle", "--continue", str(src), "--frames", "4", "--out", str(d / "x.mp4"))
    assert r.returncode == 2 and "context" in r.stderr
    r = _gen(ck, "a red circle", "--prompt-schedule", "3:x", "--frames", "4", "--out", str(d / "x.mp4"))
    assert r.returncode == 2 and "--continue" in r.stderr


def test_continuation_measures_on_the_truth_itself():
    """benchmarks/continue_eval.py's measures on the true continuation: every window keeps colour
    and shape, the position error is small and does not grow, the speed is the context's."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    from continue_eval import measure

    v = sample_videos(3, seed=777)[2]
    truth = render(v, 8 + 32, 64)
    c = centres(v, 8 + 32, 64)
    m = measure(truth[8:], c[8:], c[:8], v, 64)
    assert m["kept_frac"] == 1.0 and max(m["pos_err"]) < 2.0
    assert 0.8 < m["last_speed_ratio"] < 1.25
    still = measure(np.repeat(truth[8:9], 32, 0), c[8:], c[:8], v, 64)   # a frozen frame: the shape stops
    assert still["last_speed_ratio"] < 0.1 and still["pos_slope"] > 0
