"""Session-7 continuation options on a tiny configuration: channel-concatenated context and
anchor frames (`context_concat`), the context's own AdaLN timestep (`context_timestep`), both
additive (a model without them, or with them at their zero start, predicts what it did), and
trained / sampled end to end with an anchor held for the whole rollout."""
import pytest

torch = pytest.importorskip("torch")

from videoforge.models.stdit import STDiT, STDiTConfig  # noqa: E402


def _dit(**kw):
    cfg = dict(in_channels=4, hidden_size=32, depth=2, num_heads=4, text_dim=16, metrics=("m",), patch_size=(1, 2, 2),
               context_frames=2)
    cfg.update(kw)
    return STDiT(STDiTConfig(**cfg))


def _perturbed(model):
    with torch.no_grad():   # off the AdaLN-Zero start (whose output is 0 whatever the input)
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def _inputs():
    x, y, m = torch.randn(2, 4, 3, 4, 4), torch.randn(2, 3, 16), torch.ones(2, 3, dtype=torch.bool)
    return x, torch.rand(2), y, m, torch.randn(2, 4, 2, 4, 4), torch.rand(2) * 0.3


def test_concat_starts_at_zero_and_then_reads_the_anchor():
    torch.manual_seed(0)
    old = _perturbed(_dit()).eval()
    new = _dit(context_concat=2).eval()
    missing, unexpected = new.load_state_dict(old.state_dict(), strict=False)
    assert not unexpected and sorted(missing) == ["ctx_concat.bias", "ctx_concat.weight"]
    x, t, y, m, ctx, lvl = _inputs()
    anchor = torch.randn(2, 4, 1, 4, 4)
    with torch.no_grad():
        ref = old(x, t, y, m, context=ctx, context_level=lvl)
        # zero-initialised: the same prediction as the model without it
        assert torch.allclose(new(x, t, y, m, context=ctx, context_level=lvl, anchor=anchor), ref, atol=1e-6)
        new.ctx_concat.weight.normal_(0, 0.1)
        a = new(x, t, y, m, context=ctx, context_level=lvl, anchor=anchor)
        b = new(x, t, y, m, context=ctx, context_level=lvl, anchor=anchor * 0)
        assert a.shape == x.shape and not torch.allclose(a, b)   # the anchor reaches the prediction
        with pytest.raises(ValueError, match="anchor"):
            new(x, t, y, m, context=ctx, context_level=lvl)


def test_context_timestep_changes_only_through_the_context_level():
    torch.manual_seed(1)
    base = _perturbed(_dit()).eval()
    per = _dit(context_timestep=True).eval()
    per.load_state_dict(base.state_dict())          # no new weights: the same keys
    x, t, y, m, ctx, lvl = _inputs()
    with torch.no_grad():
        # without context both are the same model
        assert torch.allclose(per(x, t, y, m), base(x, t, y, m), atol=1e-6)
        a = per(x, t, y, m, context=ctx, context_level=lvl)
        assert a.shape == x.shape
        assert not torch.allclose(a, base(x, t, y, m, context=ctx, context_level=lvl))
        # the context's level now modulates its tokens: a different level, a different prediction
        assert not torch.allclose(a, per(x, t, y, m, context=ctx, context_level=lvl + 0.5))


def test_train_and_continue_with_anchor_and_timestep(tmp_path):
    from videoforge.continuation.data import render, sample_videos
    from videoforge.continuation.sample import encode_frames, extend_latent, parse_schedule
    from videoforge.continuation.train import train_continuation
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
    from videoforge.models.pipeline import FORMAT, Pipeline
    from videoforge.models.text import TinyTextEncoder

    torch.manual_seed(0)
    ae = CausalVideoAutoencoder(AutoencoderConfig(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False),
                                                  temporal_down=(True, True), patch_size=2, latent_channels=4)).eval()
    text = TinyTextEncoder("a red green blue yellow circle square triangle moves left right up down".split(), dim=16,
                           depth=1)
    dit = _dit(metrics=(), context_frames=0)
    base = {"format": FORMAT, "autoencoder": {"config": ae.cfg.to_dict(), "state": ae.state_dict(), "latent_scale": 1.0},
            "stdit": {"config": dit.cfg.to_dict(), "state": dit.state_dict()},
            "text_encoder": {"spec": text.spec(), "state": text.state_dict()},
            "metrics": {"names": [], "lo": [], "hi": []}, "video": {"height": 16, "width": 16, "fps": 8.0}}
    torch.save(base, tmp_path / "base.pt")
    path = train_continuation(str(tmp_path / "base.pt"), str(tmp_path / "out"), steps=3, videos=2, video_frames=21,
                              context=2, chunk=2, batch=2, progress=False, concat=2, context_timestep=True,
                              name="anchor.pt")
    assert path.endswith("anchor.pt")
    pipe = Pipeline.load(path)
    cfg = pipe.gen.stdit.cfg
    assert (cfg.context_concat, cfg.context_timestep) == (2, True)
    assert pipe.gen.stdit.ctx_concat.weight.abs().sum() > 0   # trained off its zero start
    v = sample_videos(1, seed=5)[0]
    z, _ = encode_frames(pipe, render(v, 8, 16))
    zz = extend_latent(pipe, z, 5, parse_schedule(None, v.caption), steps=2)   # 3 chunks of 2, trimmed to 5
    assert zz.shape[2] == z.shape[2] + 5 and torch.equal(zz[:, :, :z.shape[2]], z) and torch.isfinite(zz).all()
