"""STDiT: a spatial-temporal diffusion transformer over video latents (Open-Sora style, DiT layout).

Each block: spatial self-attention (tokens of one latent frame), temporal self-attention
(one spatial position across frames), cross-attention to the caption's token states, MLP.
Conditioning c = timestep embedding + one embedding per metric (each metric embedded like a
timestep, Kling-style) modulates the blocks through AdaLN-Zero: the modulation Linear and
every output projection that adds to the residual start at zero, so each block starts as
the identity. Text and each metric have a learned "null" used when they are dropped
(at random in training, on purpose for classifier-free guidance).

Shapes: latent x (B, C, T, H, W); tokens (B, T', S, D) with T' = T/pt, S = (H/ph)(W/pw).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


@dataclass
class STDiTConfig:
    in_channels: int = 4
    hidden_size: int = 384
    depth: int = 12
    num_heads: int = 6
    mlp_ratio: float = 4.0
    # (pt, ph, pw). A "tubelet" patch (T', 1, 1) makes one token per latent cell holding its
    # whole time series: spatial attention at the latent's full resolution for the cost of
    # (1, 2, 2) patches on a 5-frame latent (docs/notes/train.md); generate() rounds the latent
    # length up to a multiple of pt and trims the frames
    patch_size: tuple[int, int, int] = (1, 2, 2)
    text_dim: int = 384
    metrics: tuple[str, ...] = ("motion",)   # names of the conditioning metrics, in order
    text_drop_prob: float = 0.1
    metric_drop_prob: float = 0.1
    grad_checkpointing: bool = False
    # add the caption's pooled (masked-mean) state to the AdaLN conditioning as well as
    # cross-attending to its tokens: a direct path from every word to every block's
    # modulation (off in older checkpoints, which load unchanged)
    text_adaln: bool = False
    # continuation (issue 23): > 0 gives the model a context input, that many clean-ish latent
    # frames placed before the frames it denoises (marked by a learned embedding and their own
    # noise level, as in diffusion forcing); 0 (older checkpoints) builds nothing new
    context_frames: int = 0
    # continuation, session 7: k > 0 also adds, to every denoised frame's tokens, an embedding
    # of k latent frames at the same position (channel-concatenated, as image-to-video models
    # condition on their first frame): the last context frame and, with k = 2, an anchor (a
    # frame of the original context kept for the whole rollout); zero-initialised
    context_concat: int = 0
    # continuation, session 7: the context's tokens are modulated (AdaLN) by their own noise
    # level as timestep instead of the denoised frames' t (diffusion forcing's per-frame time)
    context_timestep: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


# named sizes, DiT-style
STDIT_SIZES = {
    "STDiT-T": dict(hidden_size=128, depth=4, num_heads=4),
    "STDiT-S": dict(hidden_size=384, depth=12, num_heads=6),
    "STDiT-B": dict(hidden_size=768, depth=12, num_heads=12),
    "STDiT-XL": dict(hidden_size=1152, depth=28, num_heads=16),
}


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


def sinusoidal(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(N,) scalars -> (N, dim) sin/cos features (DiT's timestep embedding)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ScalarEmbedder(nn.Module):
    """A scalar in [0, 1] (timestep or normalised metric) -> (N, D): sinusoid of 1000*v, then an MLP."""

    def __init__(self, hidden: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, v):
        return self.mlp(sinusoidal(v * 1000, self.freq_dim))


class MetricEmbedder(nn.Module):
    """Each metric through its own ScalarEmbedder; NaN (missing) or dropped -> that metric's null vector."""

    def __init__(self, names, hidden: int, drop_prob: float):
        super().__init__()
        self.names = list(names)
        self.drop_prob = drop_prob
        self.embedders = nn.ModuleList(ScalarEmbedder(hidden) for _ in self.names)
        self.null = nn.Parameter(torch.zeros(len(self.names), hidden))

    def forward(self, m, force_drop=None):  # m (B, M) normalised metrics, NaN = missing
        out = 0
        for i, emb in enumerate(self.embedders):
            v = m[:, i]
            drop = torch.isnan(v)
            if self.training and self.drop_prob > 0:
                drop = drop | (torch.rand(v.shape, device=v.device) < self.drop_prob)
            if force_drop is not None:
                drop = drop | force_drop
            e = emb(torch.nan_to_num(v, nan=0.0))
            out = out + torch.where(drop[:, None], self.null[i].expand_as(e), e)
        return out


class Attention(nn.Module):
    """Multi-head attention through torch SDPA; kv=None is self-attention."""

    def __init__(self, dim: int, heads: int, kv_dim: int | None = None):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(kv_dim or dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, kv=None, mask=None):  # x (N, L, D), kv (N, Lk, Dk), mask (N, Lk) True = keep
        N, L, D = x.shape
        kv = x if kv is None else kv
        q = self.q(x).view(N, L, self.heads, -1).transpose(1, 2)
        k, v = self.kv(kv).view(N, kv.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        attn_mask = None if mask is None else mask[:, None, None, :]
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.proj(o.transpose(1, 2).reshape(N, L, D))


# The linear layers adapters target (`peft`'s target_modules matches a module name's last
# part): every attention's q / kv / proj and the MLP's fc1 / fc2, in each block.
ADAPTER_TARGETS = ("q", "kv", "proj", "fc1", "fc2")
# the MLP's layers were nn.Sequential indices before they had names: old checkpoints' keys
_OLD_MLP_KEYS = {"mlp.0.": "mlp.fc1.", "mlp.2.": "mlp.fc2."}


class STDiTBlock(nn.Module):
    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written before the MLP's layers were named (mlp.0 / mlp.2) load unchanged
        for old, new in _OLD_MLP_KEYS.items():
            for k in [k for k in state_dict if k.startswith(prefix + old)]:
                state_dict[prefix + new + k[len(prefix + old):]] = state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm_s = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn_s = Attention(dim, heads)
        self.norm_t = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn_t = Attention(dim, heads)
        self.norm_c = nn.LayerNorm(dim, eps=1e-6)
        self.cross = Attention(dim, heads)
        self.norm_m = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hid = int(dim * mlp_ratio)
        # named, so adapters can target them (ADAPTER_TARGETS); same order and maths as before
        self.mlp = nn.Sequential(OrderedDict(fc1=nn.Linear(dim, hid), act=nn.GELU(approximate="tanh"),
                                             fc2=nn.Linear(hid, dim)))
        # shift/scale/gate for spatial attn, temporal attn and MLP
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 9 * dim))

    def forward(self, x, c, y, y_mask):  # x (B, T, S, D), c (B, D), y (B, L, D)
        B, T, S, D = x.shape
        mod = self.adaLN_modulation(c)   # c (B, D), or (B, T, D): one conditioning per frame
        (sh_s, sc_s, g_s, sh_t, sc_t, g_t, sh_m, sc_m, g_m) = (mod[:, None, None] if c.dim() == 2
                                                                 else mod[:, :, None]).chunk(9, -1)
        h = modulate(self.norm_s(x), sh_s, sc_s).reshape(B * T, S, D)
        x = x + g_s * self.attn_s(h).reshape(B, T, S, D)
        h = modulate(self.norm_t(x), sh_t, sc_t).transpose(1, 2).reshape(B * S, T, D)
        x = x + g_t * self.attn_t(h).reshape(B, S, T, D).transpose(1, 2)
        h = self.norm_c(x).reshape(B, T * S, D)
        x = x + self.cross(h, y, y_mask).reshape(B, T, S, D)
        # the MLP sees (B, T*S, D) tokens: same maths, and peft's OFT layers read a 4-D input as a conv's
        x = x + g_m * self.mlp(modulate(self.norm_m(x), sh_m, sc_m).reshape(B, T * S, D)).reshape(B, T, S, D)
        return x


class FinalLayer(nn.Module):
    def __init__(self, dim: int, out: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(dim, out)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))

    def forward(self, x, c):
        mod = self.adaLN_modulation(c)
        shift, scale = (mod[:, None, None] if c.dim() == 2 else mod[:, :, None]).chunk(2, -1)
        return self.linear(modulate(self.norm(x), shift, scale))


def pos_embed_3d(T: int, H: int, W: int, dim: int, device) -> torch.Tensor:
    """Fixed sin/cos position embedding (T, H*W, dim): half for (y, x), half for time."""
    d_sp = dim // 2
    ys, xs = torch.meshgrid(torch.arange(H, device=device), torch.arange(W, device=device), indexing="ij")
    sp = torch.cat([sinusoidal(ys.flatten(), d_sp // 2, 100.0), sinusoidal(xs.flatten(), d_sp - d_sp // 2, 100.0)], -1)
    tm = sinusoidal(torch.arange(T, device=device), dim - d_sp, 100.0)
    return torch.cat([sp[None].expand(T, -1, -1), tm[:, None].expand(-1, H * W, -1)], -1)


class STDiT(nn.Module):
    def __init__(self, cfg: STDiTConfig):
        super().__init__()
        self.cfg = cfg
        D, p = cfg.hidden_size, tuple(cfg.patch_size)
        self.patch = p
        self.x_embedder = nn.Conv3d(cfg.in_channels, D, kernel_size=p, stride=p)
        self.t_embedder = ScalarEmbedder(D)
        self.metric_embedder = MetricEmbedder(cfg.metrics, D, cfg.metric_drop_prob) if cfg.metrics else None
        self.y_embedder = nn.Sequential(nn.Linear(cfg.text_dim, D), nn.GELU(approximate="tanh"), nn.Linear(D, D))
        self.y_null = nn.Parameter(torch.randn(1, D) * 0.02)
        self.y_pool = nn.Sequential(nn.Linear(D, D), nn.SiLU(), nn.Linear(D, D)) if cfg.text_adaln else None
        self.blocks = nn.ModuleList(STDiTBlock(D, cfg.num_heads, cfg.mlp_ratio) for _ in range(cfg.depth))
        self.final_layer = FinalLayer(D, math.prod(p) * cfg.in_channels)
        if cfg.context_frames:   # only then: checkpoints without context load with strict keys
            self.ctx_embed = nn.Parameter(torch.zeros(1, 1, 1, D))
            self.ctx_level = ScalarEmbedder(D)
        self.initialize_weights()
        if cfg.context_concat:   # after initialize_weights: starts at zero (the base model unchanged)
            self.ctx_concat = nn.Conv3d(cfg.in_channels * cfg.context_concat, D, kernel_size=(1, p[1], p[2]),
                                        stride=(1, p[1], p[2]))
            nn.init.zeros_(self.ctx_concat.weight)
            nn.init.zeros_(self.ctx_concat.bias)

    def initialize_weights(self):
        def _basic(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        self.apply(_basic)
        w = self.x_embedder.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        # AdaLN-Zero: modulation, cross-attention output and the final layer start at zero
        for blk in self.blocks:
            nn.init.zeros_(blk.adaLN_modulation[-1].weight)
            nn.init.zeros_(blk.adaLN_modulation[-1].bias)
            nn.init.zeros_(blk.cross.proj.weight)
            nn.init.zeros_(blk.cross.proj.bias)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].weight)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def embed_text(self, y, y_mask, force_drop=None):
        """Caption states (B, L, text_dim) -> (B, L, D); dropped captions become one null token."""
        y = self.y_embedder(y)
        drop = torch.zeros(y.shape[0], dtype=torch.bool, device=y.device)
        if self.training and self.cfg.text_drop_prob > 0:
            drop = torch.rand(y.shape[0], device=y.device) < self.cfg.text_drop_prob
        if force_drop is not None:
            drop = drop | force_drop
        null_y = torch.zeros_like(y)
        null_y[:, 0] = self.y_null
        null_mask = torch.zeros_like(y_mask)
        null_mask[:, 0] = True
        y = torch.where(drop[:, None, None], null_y, y)
        y_mask = torch.where(drop[:, None], null_mask, y_mask)
        return y, y_mask

    def forward(self, x, t, y, y_mask, metrics=None, drop_text=None, drop_metrics=None, context=None,
                context_level=None, anchor=None):
        """Predict the flow velocity for latent x (B, C, T, H, W) at time t (B,) in [0, 1].

        y (B, L, text_dim) caption token states, y_mask (B, L) bool; metrics (B, M) normalised
        to ~[0, 1] (NaN = unknown); drop_text / drop_metrics (B,) bool force the null condition.
        context (B, C, Tc, H, W): latent frames that come before x (a model built with
        context_frames), already noised to context_level (B,) in [0, 1]; the output is x's only.
        anchor (B, C, 1, H, W): the anchor frame of a model built with context_concat = 2.
        """
        Tx = x.shape[2]
        concat = None
        if context is not None and self.cfg.context_concat:
            if self.patch[0] != 1:
                raise ValueError("context_concat needs a temporal patch of 1")
            parts = [context[:, :, -1:]]
            if self.cfg.context_concat >= 2:
                if anchor is None:
                    raise ValueError("this STDiT (context_concat=2) needs an anchor frame")
                parts.append(anchor)
            concat = self.ctx_concat(torch.cat(parts, 1).to(x.dtype))   # (B, D, 1, H', W')
            concat = concat.flatten(3).transpose(1, 2).transpose(2, 3)     # (B, 1, S, D)
        if context is not None:
            if not self.cfg.context_frames:
                raise ValueError("this STDiT was built without context frames (context_frames=0)")
            x = torch.cat([context.to(x.dtype), x], 2)
        B, C, T, H, W = x.shape
        pt, ph, pw = self.patch
        if T % pt or H % ph or W % pw:
            raise ValueError(f"STDiT with patch {self.patch} needs a latent whose (T, H, W) it divides, "
                             f"got {(T, H, W)}")
        h = self.x_embedder(x)                                   # (B, D, T', H', W')
        Tp, Hp, Wp = h.shape[2:]
        h = h.flatten(3).transpose(1, 2).transpose(2, 3)         # (B, T', S, D)
        h = h + pos_embed_3d(Tp, Hp, Wp, h.shape[-1], x.device).to(h.dtype)
        if context is not None:   # the context's tokens: marked, with their own noise level
            tc = (T - Tx) // pt
            lvl = torch.zeros(B, device=x.device) if context_level is None else context_level.to(x.device).float()
            mark = self.ctx_embed + self.ctx_level(lvl)[:, None, None]
            h = torch.cat([h[:, :tc] + mark.to(h.dtype), h[:, tc:] if concat is None else h[:, tc:] + concat], 1)
        c = self.t_embedder(t)
        if context is not None and self.cfg.context_timestep:   # per frame: context at its level, the rest at t
            c = torch.cat([self.t_embedder(lvl)[:, None].expand(-1, tc, -1), c[:, None].expand(-1, Tp - tc, -1)], 1)
        if self.metric_embedder is not None:
            if metrics is None or metrics.shape[1] == 0:
                metrics = torch.full((B, len(self.cfg.metrics)), float("nan"), device=x.device)
            cm = self.metric_embedder(metrics, drop_metrics)
            c = c + (cm if c.dim() == 2 else cm[:, None])
        y, y_mask = self.embed_text(y, y_mask, drop_text)
        if self.y_pool is not None:
            w = y_mask.to(y.dtype)[..., None]
            cy = self.y_pool((y * w).sum(1) / w.sum(1).clamp_min(1.0))
            c = c + (cy if c.dim() == 2 else cy[:, None])
        for blk in self.blocks:
            if self.cfg.grad_checkpointing and self.training:
                h = checkpoint(blk, h, c, y, y_mask, use_reentrant=False)
            else:
                h = blk(h, c, y, y_mask)
        h = self.final_layer(h, c)                               # (B, T', S, pt*ph*pw*C)
        h = h.view(B, Tp, Hp, Wp, pt, ph, pw, C)
        out = h.permute(0, 7, 1, 4, 2, 5, 3, 6).reshape(B, C, Tp * pt, Hp * ph, Wp * pw)
        return out[:, :, T - Tx:] if context is not None else out

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_sample(self, T: int, H: int, W: int) -> float:
        """Approximate training FLOPs (fwd + bwd = 3x fwd) per latent clip of (T, H, W)."""
        pt, ph, pw = self.patch
        n = (T // pt) * (H // ph) * (W // pw)
        D, L = self.cfg.hidden_size, self.cfg.depth
        dense = 2 * n * sum(p.numel() for b in self.blocks for p in b.parameters() if p.dim() == 2)
        attn = L * 2 * 2 * n * D * ((H // ph) * (W // pw) + T // pt)
        return 3.0 * (dense + attn)
