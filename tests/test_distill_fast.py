"""The inference speed-ups of one-clip generation (#21 part 3) compute what the plain paths do:
the student's sampler with its per-clip constants computed once (distill/fast.py) against
`student_sample`, the decoder's oneDNN convolutions against nn.Conv3d, and `Pipeline.generate`
with `fast` on against off (uint8 frames), on a tiny random student."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

torch.set_num_threads(1)

from generator_helpers import random_generator_checkpoint  # noqa: E402

PROMPTS = ["a red circle moves left", "a blue square moves up", "a green triangle moves right"]


def _student_checkpoint(tmp_path, text_adaln=False):
    """A tiny student checkpoint: the random teacher's weights in a GuidedSTDiT whose guidance
    embedders are random too (not the zero start), so every input of the fast path matters."""
    from videoforge.distill.student import GuidedSTDiT
    from videoforge.models.stdit import STDiTConfig

    path = random_generator_checkpoint(tmp_path / "t.pt", PROMPTS, hidden_size=32)
    ck = torch.load(path, weights_only=False)
    cfg = dict(ck["stdit"]["config"], text_adaln=text_adaln)
    cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()}
    torch.manual_seed(1)
    st = GuidedSTDiT(STDiTConfig(**cfg))
    with torch.no_grad():
        for p in st.parameters():
            p.normal_(0, 0.05) if p.dim() >= 2 else p.normal_(0, 0.02)
    ck["stdit"] = {"config": st.cfg.to_dict(), "state": st.state_dict()}
    ck["distill"] = {"method": "segment", "steps": 4, "cfg_text": 4.0, "cfg_metric": 2.0, "guidance_max": 10.0}
    out = tmp_path / "s.pt"
    torch.save(ck, out)
    return str(out)


@pytest.mark.parametrize("text_adaln", [False, True])
def test_fast_student_sampler_equals_the_plain_one(tmp_path, text_adaln):
    from videoforge.distill.fast import fast_student_sample, fast_supported
    from videoforge.distill.student import student_sample
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(_student_checkpoint(tmp_path, text_adaln))
    st = pipe.gen.stdit
    assert fast_supported(st)
    for prompts, metrics in ((PROMPTS[:1], [{"motion": 0.7}]), (PROMPTS[:2], [{}, {"motion": 1.5}])):
        y, mask = pipe.gen.encode_text(prompts)
        m = pipe.scaler.normalize(metrics)
        shape = (len(prompts), 4, 5, 8, 8)
        for cfg in ((4.0, 2.0), (1.0, 0.0)):
            kw = dict(steps=4, cfg_text=cfg[0], cfg_metric=cfg[1])
            with torch.no_grad():
                a = student_sample(st, shape, y, mask, m, generator=torch.Generator().manual_seed(5), **kw)
            b = fast_student_sample(st, shape, y, mask, m, generator=torch.Generator().manual_seed(5), **kw)
            assert a.shape == b.shape
            assert float((a - b).abs().max()) <= 1e-5 * max(1.0, float(a.abs().max())), (prompts, cfg)
    # a different guidance input gives a different clip through the fast path too (the inputs are used)
    y, mask = pipe.gen.encode_text(PROMPTS[:1])
    g1, g2 = (fast_student_sample(st, (1, 4, 5, 8, 8), y, mask, None, cfg_text=s,
                                  generator=torch.Generator().manual_seed(5)) for s in (4.0, 1.0))
    assert float((g1 - g2).abs().max()) > 1e-3


def test_fast_path_is_refused_where_it_would_compute_something_else(tmp_path):
    from videoforge.distill.fast import fast_supported
    from videoforge.models.int8 import dynamic_int8
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(_student_checkpoint(tmp_path))
    st = pipe.gen.stdit
    assert not fast_supported(dynamic_int8(st))      # int8 Linear layers: the plain path
    st.train()
    assert not fast_supported(st)
    st.eval()
    teacher = Pipeline.load(random_generator_checkpoint(tmp_path / "t2.pt", PROMPTS, hidden_size=32))
    assert not fast_supported(teacher.gen.stdit)     # no guidance input: not a student


def test_decoder_onednn_convolutions_equal_conv3d():
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder

    torch.manual_seed(0)
    ae = CausalVideoAutoencoder(AutoencoderConfig(latent_channels=8, base_channels=16, channel_mult=(1, 1, 1),
                                                  spatial_down=(False, False), temporal_down=(True, True),
                                                  patch_size=4, shortcut=True)).eval()
    z = torch.randn(1, 8, 5, 8, 8)
    with torch.no_grad():
        plain = ae.decode(z)
        ae.fast_cpu_decode()
        fast = ae.decode(z)
    assert fast.shape == plain.shape == (1, 3, 17, 32, 32)
    assert float((fast - plain).abs().max()) < 1e-5
    # with gradients on, the module's own convolution (training unchanged) and gradients flow
    out = ae.decode(z.requires_grad_())
    assert torch.equal(out.detach(), plain) or float((out.detach() - plain).abs().max()) < 1e-6
    out.sum().backward()
    assert z.grad is not None and float(z.grad.abs().sum()) > 0


def test_generate_fast_equals_plain_frames(tmp_path):
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(_student_checkpoint(tmp_path))
    kw = dict(frames=16, seed=3, metrics={"motion": 0.9})
    fast = pipe.generate(PROMPTS[0], **kw)
    pipe.fast = False
    plain = pipe.generate(PROMPTS[0], **kw)
    assert fast.shape == plain.shape == (16, 32, 32, 3)
    # uint8 frames: float rounding can move a value across a .5 boundary, by one level at most
    diff = np.abs(fast.astype(int) - plain.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    assert plain.std() > 1.0                            # a real (non-constant) clip was compared
