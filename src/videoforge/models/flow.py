"""Rectified flow: straight paths x_t = (1 - t) x0 + t noise, the model predicts v = noise - x0.

Sampling integrates dx/dt = v from t = 1 (noise) to t = 0 (data) with Euler steps.
Classifier-free guidance is applied separately to text and to metrics (as in
InstructPix2Pix's two-condition guidance):
    v = v(∅, ∅) + s_text (v(text, ∅) - v(∅, ∅)) + s_metric (v(text, m) - v(text, ∅))
so the metric scale steers only what the metrics add on top of the caption.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sample_t(n: int, device, logit_normal: bool = True) -> torch.Tensor:
    """Training times in (0, 1): logit-normal (SD3) puts more weight mid-path, else uniform."""
    if logit_normal:
        return torch.sigmoid(torch.randn(n, device=device))
    return torch.rand(n, device=device)


def subject_weight(x0: torch.Tensor, strength: float) -> torch.Tensor:
    """Per-position loss weight (B, 1, T, H, W): 1 + strength x how far the position's latent lies
    from the clip's median latent (its static background), scaled to [0, 1] per clip.

    A small subject over a large background gets a small share of a plain MSE: the background's
    many positions dominate the loss, and the subject's outline (what tells a circle from a
    square) is the smallest part of it. This weights the positions where the subject is without
    knowing what it is."""
    B, C = x0.shape[:2]
    med = x0.reshape(B, C, -1).median(-1).values.view(B, C, 1, 1, 1)
    dev = (x0 - med).abs().mean(1, keepdim=True)
    dev = dev / dev.amax(dim=(2, 3, 4), keepdim=True).clamp_min(1e-6)
    return 1 + strength * dev


def flow_loss(model, x0, y, y_mask, metrics=None, t=None, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error between predicted and true velocity for latents x0 (B, C, T, H, W).

    `weight` (broadcastable to x0, e.g. `subject_weight`) makes it a weighted mean; None is the
    plain MSE."""
    B = x0.shape[0]
    t = sample_t(B, x0.device) if t is None else t
    noise = torch.randn_like(x0)
    tt = t.view(B, 1, 1, 1, 1)
    xt = (1 - tt) * x0 + tt * noise
    v = model(xt, t, y, y_mask, metrics)
    if weight is None:
        return F.mse_loss(v.float(), (noise - x0).float())
    err = (v.float() - (noise - x0).float()) ** 2
    w = weight.float().expand_as(err)
    return (err * w).sum() / w.sum()


@torch.no_grad()
def euler_sample(model, shape, y, y_mask, metrics=None, steps: int = 25, cfg_text: float = 4.0,
                 cfg_metric: float = 2.0, generator: torch.Generator | None = None, shift: float = 1.0,
                 contrast: list[tuple[torch.Tensor, torch.Tensor]] | None = None, cfg_contrast: float = 0.0,
                 compose: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
                 compose_weights: list[float] | None = None):
    """Latents of `shape` (B, C, T, H, W) from noise by `steps` Euler steps with two-way CFG.

    `shift` > 1 spends more steps near the noise end (SD3's timestep shift).

    Contrast guidance (off unless `contrast` is given and `cfg_contrast` != 0): `contrast` holds K
    encoded captions (states, mask), each (B, L_k, D), that differ from the prompt in the one word
    it should follow (e.g. the prompt with each other shape word). Adds
        cfg_contrast * (v(text, ∅) - mean_k v(contrast_k, ∅))
    i.e. a push along what this word changes against its alternatives, not along the whole caption,
    which plain CFG also pulls toward the colours and shapes the caption's words were trained with.

    Composable sampling (Liu et al. 2022, "Compositional Visual Generation with Composable Diffusion
    Models"; off unless `compose` is given): `compose` holds K encoded partial prompts (states, mask),
    each (B, L_k, D), e.g. the prompt's colour, shape and direction words alone, and
    `compose_weights` one scale w_k each. Adds
        sum_k w_k * (v(compose_k, ∅) - v(∅, ∅))
    so each attribute pulls on its own, not only through the whole caption, whose words the model
    learnt to read together (a model trained with partial prompts: train/config.py caption_one_slot).
    With cfg_text = 0 the full caption's term drops out and only the parts guide (its metric term stays).
    """
    device = y.device
    B = shape[0]
    x = torch.randn(shape, generator=generator, device="cpu").to(device)
    ts = torch.linspace(1, 0, steps + 1, device=device)
    ts = shift * ts / (1 + (shift - 1) * ts)
    if metrics is None:
        metrics = torch.full((B, 0), float("nan"), device=device)
    no, yes = torch.ones(B, dtype=torch.bool, device=device), torch.zeros(B, dtype=torch.bool, device=device)
    # three passes in one batch: (no text, no metric), (text, no metric), (text, metric)
    y3, m3 = torch.cat([y, y, y]), torch.cat([y_mask, y_mask, y_mask])
    met3 = torch.cat([metrics, metrics, metrics])
    drop_t, drop_m = torch.cat([no, yes, yes]), torch.cat([no, no, yes])
    contrast_batch = _contrast_batch(contrast, metrics) if contrast and cfg_contrast else None
    if compose and (compose_weights is None or len(compose_weights) != len(compose)):
        raise ValueError("compose: one weight per partial prompt")
    compose_batch = _contrast_batch(compose, metrics) if compose and any(compose_weights) else None
    for i in range(steps):
        t, t_next = ts[i], ts[i + 1]
        x3 = torch.cat([x, x, x])
        v_u, v_t, v_tm = model(x3, t.expand(3 * B), y3, m3, met3, drop_text=drop_t, drop_metrics=drop_m).chunk(3)
        v = v_u + cfg_text * (v_t - v_u) + cfg_metric * (v_tm - v_t)
        if contrast_batch is not None:
            K = len(contrast)
            v_k = model(torch.cat([x] * K), t.expand(K * B), *contrast_batch, drop_metrics=torch.ones(K * B, dtype=torch.bool, device=device))
            v = v + cfg_contrast * (v_t - v_k.view(K, *v_t.shape).mean(0))
        if compose_batch is not None:
            K = len(compose)
            v_c = model(torch.cat([x] * K), t.expand(K * B), *compose_batch,
                        drop_metrics=torch.ones(K * B, dtype=torch.bool, device=device)).view(K, *v_t.shape)
            for k, w in enumerate(compose_weights):
                v = v + float(w) * (v_c[k] - v_u)
        x = x + (t_next - t) * v
    return x


def _contrast_batch(contrast, metrics):
    """The K contrast captions as one batch (K*B rows, padded to the longest), metrics repeated."""
    K = len(contrast)
    L = max(c[0].shape[1] for c in contrast)
    ys, ms = [], []
    for y, m in contrast:
        pad = L - y.shape[1]
        ys.append(F.pad(y, (0, 0, 0, pad)))
        ms.append(F.pad(m, (0, pad), value=False))
    return torch.cat(ys), torch.cat(ms), torch.cat([metrics] * K)
