"""The outline loss weight (train/loss_weights.py, issue 19): high on the cells around a subject's
edge, ~1 deep inside it and on a textured background."""

import pytest

torch = pytest.importorskip("torch")

from videoforge.train.loss_weights import boundary_weight, coverage  # noqa: E402


def _latent():
    """Two clips (B, C=4, T=3, 8, 8): textured background, a 4 x 4 'shape' at rows/cols 2-5 in the
    first 3 (shortcut-like) channels; channel 3 is pure noise that must not make edges."""
    g = torch.Generator().manual_seed(0)
    x0 = 0.15 * torch.randn(2, 4, 3, 8, 8, generator=g)
    x0[:, :3, :, 2:6, 2:6] += 2.5
    x0[:, 3] = 3 * torch.randn(2, 3, 8, 8, generator=g)
    return x0


def test_boundary_weight_marks_the_outline_not_the_inside_or_the_background():
    x0 = _latent()
    w = boundary_weight(x0, 4.0, channels=3)
    assert w.shape == (2, 1, 3, 8, 8) and float(w.min()) >= 1.0 and float(w.max()) <= 5.0 + 1e-6
    ring = torch.zeros(8, 8, dtype=torch.bool)
    ring[1:7, 1:7] = True
    ring[3:5, 3:5] = False                        # cells with both subject and background in their 3 x 3
    far = torch.ones(8, 8, dtype=torch.bool)
    far[:, :][1:7, 1:7] = False                   # the border row/column: background only
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[3:5, 3:5] = True                       # 3 x 3 neighbourhood entirely subject
    assert float(w[..., ring].min()) > 4.0
    assert float(w[..., inside].max()) < 2.0
    assert float(w[..., far].max()) < 2.0
    # the noise channel alone would put "edges" everywhere: restricting to the shortcut matters
    assert float(boundary_weight(x0[:, 3:], 4.0)[..., far].mean()) > float(w[..., far].mean())


def test_coverage_is_per_clip_and_zero_strength_is_uniform():
    x0 = _latent()
    x0[1] = 10 * x0[0]                            # the same clip ten times brighter: same coverage
    c = coverage(x0, 3)
    assert torch.allclose(c[0], c[1], atol=1e-5)
    assert torch.equal(boundary_weight(x0, 0.0, 3), torch.ones(2, 1, 3, 8, 8))
