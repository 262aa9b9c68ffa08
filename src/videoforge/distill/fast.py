"""The student's sampler for inference, with the work that does not change between steps done once.

`student_sample` calls `GuidedSTDiT.forward` once per step, and each call recomputes things that
are the same at every step of one clip: the caption's embedding (y_embedder, null handling), the
metric and guidance-scale embeddings, the position embedding, the cross-attention keys and values
of the caption, and (for all steps at once, as the timesteps are known) the timestep embedding
and every block's AdaLN modulation. This module computes those once per clip and runs the blocks
with fewer tensor operations: the self-attention's q and kv projections as one matrix product,
LayerNorm + AdaLN modulation as one `layer_norm` with the modulation as its affine (one clip),
and the gated residuals as `addcmul`.

It is the same mathematics as `STDiT.forward` for the student's case (no context frames, eval
mode, no gradients), equal within float rounding (tests/test_distill_fast.py compares it with
`student_sample` on the saved student and on a random one). `fast_supported` says when it applies;
otherwise (training, adapters or int8 layers swapped in, an unknown block) the caller uses the
plain path.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from videoforge.models.stdit import Attention, STDiTBlock, ScalarEmbedder, pos_embed_3d

# the module types the fast path knows the mathematics of (exact types: a subclass or a wrapper,
# e.g. a LoRA layer or a dynamic int8 Linear, may compute something else)
_KNOWN = (STDiTBlock, Attention, nn.Linear, nn.LayerNorm, nn.Sequential, nn.GELU, nn.SiLU)


def fast_supported(model) -> bool:
    """True when `fast_student_sample` computes what `student_sample` would for this model."""
    from videoforge.distill.student import GuidedTimeEmbedder

    if model.training or type(model.t_embedder) is not GuidedTimeEmbedder:
        return False
    if getattr(model.cfg, "context_frames", 0) or getattr(model.cfg, "context_concat", 0):
        return False    # never given context by student_sample, but keep the plain path for such models
    if type(model.x_embedder) is not nn.Conv3d or type(model.final_layer.linear) is not nn.Linear:
        return False
    for blk in model.blocks:
        if any(type(m) not in _KNOWN for m in blk.modules()):
            return False
        if type(blk.mlp.act) is not nn.GELU or blk.mlp.act.approximate != "tanh":
            return False
    return True


def _norm_mod(norm: nn.LayerNorm, x, shift, scale):
    """modulate(norm(x), shift, scale) = norm(x) * (1 + scale) + shift, for a non-affine LayerNorm.
    One clip (B = 1): the modulation is LayerNorm's own affine, one fused kernel."""
    D = x.shape[-1]
    if x.shape[0] == 1 and norm.weight is None:
        return F.layer_norm(x, (D,), (1 + scale).reshape(D), shift.reshape(D), norm.eps)
    # in place on LayerNorm's fresh output: the same operations in the same order, two fewer
    # large temporaries (a batch of clips: each is fresh memory the allocator must map and fault in)
    return norm(x).mul_(1 + scale).add_(shift)


def _self_attention(attn: Attention, w_qkv, b_qkv, h):
    """Attention.forward(h) with the q and kv projections as one product."""
    N, L, D = h.shape
    qkv = F.linear(h, w_qkv, b_qkv).view(N, L, 3, attn.heads, D // attn.heads).permute(2, 0, 3, 1, 4)
    o = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
    return attn.proj(o.transpose(1, 2).reshape(N, L, D))


class _BlockConsts:
    """One block's per-clip constants: fused self-attention weights, the caption's keys/values,
    and the AdaLN modulation of every step."""

    def __init__(self, blk: STDiTBlock, y, y_mask, c_steps):
        self.blk = blk
        self.qkv_s = (torch.cat([blk.attn_s.q.weight, blk.attn_s.kv.weight]),
                      torch.cat([blk.attn_s.q.bias, blk.attn_s.kv.bias]))
        self.qkv_t = (torch.cat([blk.attn_t.q.weight, blk.attn_t.kv.weight]),
                      torch.cat([blk.attn_t.q.bias, blk.attn_t.kv.bias]))
        B, L = y.shape[:2]
        heads = blk.cross.heads
        self.k, self.v = blk.cross.kv(y).view(B, L, 2, heads, -1).permute(2, 0, 3, 1, 4)
        self.mask = y_mask[:, None, None, :]
        self.mod = blk.adaLN_modulation(c_steps)          # (steps, B, 9D)

    def __call__(self, x, step: int):
        blk = self.blk
        B, T, S, D = x.shape
        (sh_s, sc_s, g_s, sh_t, sc_t, g_t, sh_m, sc_m, g_m) = self.mod[step][:, None, None].chunk(9, -1)
        h = _norm_mod(blk.norm_s, x, sh_s, sc_s).reshape(B * T, S, D)
        x = torch.addcmul(x, g_s, _self_attention(blk.attn_s, *self.qkv_s, h).reshape(B, T, S, D))
        # contiguous: for one clip (B = 1) reshape returns a strided view here, and a Linear on a
        # 3-D input it cannot flatten runs as a batched matmul over a copied weight (~6x slower)
        h = _norm_mod(blk.norm_t, x, sh_t, sc_t).transpose(1, 2).reshape(B * S, T, D).contiguous()
        x = torch.addcmul(x, g_t, _self_attention(blk.attn_t, *self.qkv_t, h).reshape(B, S, T, D).transpose(1, 2))
        h = blk.norm_c(x).reshape(B, T * S, D)
        q = blk.cross.q(h).view(B, T * S, blk.cross.heads, -1).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, self.k, self.v, attn_mask=self.mask)
        x = x + blk.cross.proj(o.transpose(1, 2).reshape(B, T * S, D)).reshape(B, T, S, D)
        h = _norm_mod(blk.norm_m, x, sh_m, sc_m).reshape(B, T * S, D)
        return torch.addcmul(x, g_m, blk.mlp(h).reshape(B, T, S, D))


def _x_embed(conv: nn.Conv3d, x):
    from videoforge.models.autoencoder import _fast_conv3d

    return _fast_conv3d(conv, x)


@torch.inference_mode()
def fast_student_sample(model, shape, y, y_mask, metrics=None, steps: int = 4, cfg_text: float = 4.0,
                        cfg_metric: float = 2.0, generator: torch.Generator | None = None, noise=None):
    """What `student_sample` returns (same noise, same steps), the per-clip constants computed once."""
    from videoforge.distill.student import student_time_grid

    device = y.device
    B = shape[0]
    x = torch.randn(shape, generator=generator, device="cpu").to(device) if noise is None else noise.to(device)
    ts = student_time_grid(steps, device)
    te = model.t_embedder
    # AdaLN's conditioning for every step at once: t, then the guidance scales, then the metrics
    # (STDiT.forward's order of additions)
    c = ScalarEmbedder.forward(te, ts[:steps].repeat_interleave(B)).view(steps, B, -1)
    g = torch.tensor([[float(cfg_text), float(cfg_metric)]], device=device).expand(B, 2) / te.guidance_max
    c = c + te.g_text(g[:, 0]).to(c.dtype) + te.g_metric(g[:, 1]).to(c.dtype)
    if model.metric_embedder is not None:
        if metrics is None or metrics.shape[1] == 0:
            metrics = torch.full((B, len(model.cfg.metrics)), float("nan"), device=device)
        c = c + model.metric_embedder(metrics, None)
    yy, ym = model.embed_text(y, y_mask, None)
    if model.y_pool is not None:
        w = ym.to(yy.dtype)[..., None]
        c = c + model.y_pool((yy * w).sum(1) / w.sum(1).clamp_min(1.0))
    blocks = [_BlockConsts(blk, yy, ym, c) for blk in model.blocks]
    fmod = model.final_layer.adaLN_modulation(c)          # (steps, B, 2D)
    _, C, T, H, W = shape
    pt, ph, pw = model.patch
    Tp, Hp, Wp = T // pt, H // ph, W // pw
    pos = None
    for i in range(steps):
        h = _x_embed(model.x_embedder, x)                                 # (B, D, T', H', W')
        h = h.flatten(3).transpose(1, 2).transpose(2, 3)                  # (B, T', S, D)
        if pos is None:
            pos = pos_embed_3d(Tp, Hp, Wp, h.shape[-1], device).to(h.dtype)
        h = h + pos
        for blk in blocks:
            h = blk(h, i)
        shift, scale = fmod[i][:, None, None].chunk(2, -1)
        h = model.final_layer.linear(_norm_mod(model.final_layer.norm, h, shift, scale))
        v = h.view(B, Tp, Hp, Wp, pt, ph, pw, C).permute(0, 7, 1, 4, 2, 5, 3, 6).reshape(B, C, T, H, W)
        x = x + (ts[i + 1] - ts[i]) * v
    return x
