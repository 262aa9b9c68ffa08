"""Causal 3D video autoencoder (MAGVIT-v2 / Open-Sora-VAE style), with a KL or LFQ bottleneck.

Causality: every temporal convolution pads only on the left (with copies of the first
frame), temporal downsampling strides over that causal padding, and normalisation is per
frame. So latent frame j depends only on input frames <= 4j, and the first frame is encoded
on its own: an image is a 1-frame video and shares the same encoder. Videos have 1 + 4k
frames with the default temporal x4 (`valid_frames` tells the lengths a config accepts).

Shapes: video x (B, 3, T, H, W) in [-1, 1] -> latent z (B, C, 1 + (T-1)/ft, H/fs, W/fs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class AutoencoderConfig:
    in_channels: int = 3
    latent_channels: int = 4
    base_channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    # one flag per level boundary (len(channel_mult) - 1): where to halve H,W and T
    spatial_down: tuple[bool, ...] = (True, True, True)      # x8
    temporal_down: tuple[bool, ...] = (False, True, True)    # x4
    num_res_blocks: int = 1
    # space-to-depth patch at the input (and depth-to-space at the output): cheap x2/x4 in space
    # with no full-resolution convolutions, which dominate the cost on CPU
    patch_size: int = 1
    # residual autoencoding (DC-AE): the first 3 latent channels get the causally average-pooled
    # RGB and the decoder adds it back, unpooled; the networks learn residuals from step 1
    shortcut: bool = False
    # the shortcut's own resolution. shortcut_pool: spatial pooling (0 = the spatial factor: 3
    # channels of block means, the original layout); a finer pool stores each latent cell's
    # (factor/pool)^2 sub-block means as channels. shortcut_splits: temporal sub-means per
    # latent frame (each of the ft frames' halves, ...), also as channels. shortcut_upsample:
    # how the decoder spreads the shortcut back, "nearest" (original) or "bilinear".
    # The shortcut uses 3 * (factor/pool)^2 * splits of the latent channels.
    shortcut_pool: int = 0
    shortcut_splits: int = 1
    shortcut_upsample: str = "nearest"
    bottleneck: str = "kl"        # "kl" (continuous, for diffusion) or "lfq" (discrete tokens)
    sample_posterior: bool = True  # KL: train on z ~ q(z|x); False trains on the mean (deterministic)
    kl_weight: float = 1e-6
    lfq_entropy_weight: float = 0.1
    lfq_commit_weight: float = 0.25

    @property
    def spatial_factor(self) -> int:
        return self.patch_size * 2 ** sum(self.spatial_down)

    @property
    def temporal_factor(self) -> int:
        return 2 ** sum(self.temporal_down)

    @property
    def shortcut_channels(self) -> int:
        """Latent channels the residual shortcut occupies (0 without it)."""
        if not self.shortcut:
            return 0
        r = self.spatial_factor // (self.shortcut_pool or self.spatial_factor)
        return self.in_channels * r * r * self.shortcut_splits

    def to_dict(self) -> dict:
        return asdict(self)


def valid_frames(n: int, temporal_factor: int) -> int:
    """Smallest frame count >= n that the causal AE accepts (1 + k * temporal_factor)."""
    if n <= 1:
        return 1
    return 1 + math.ceil((n - 1) / temporal_factor) * temporal_factor


class CausalConv3d(nn.Module):
    """Conv3d padded causally in time (first frame repeated on the left) and 'same' in space."""

    def __init__(self, cin: int, cout: int, kernel=(3, 3, 3), stride=(1, 1, 1)):
        super().__init__()
        kt, kh, kw = kernel
        self.time_pad = kt - 1
        self.conv = nn.Conv3d(cin, cout, kernel, stride=stride, padding=(0, kh // 2, kw // 2))
        # inference only (set by CausalVideoAutoencoder.fast_cpu_decode): see _fast_conv3d
        self.fast_cpu = False

    def forward(self, x):  # (B, C, T, H, W)
        if self.time_pad:
            x = torch.cat([x[:, :, :1].expand(-1, -1, self.time_pad, -1, -1), x], dim=2)
        if self.fast_cpu and not torch.is_grad_enabled():
            return _fast_conv3d(self.conv, x)
        return self.conv(x)


def _fast_conv3d(conv: nn.Conv3d, x: torch.Tensor) -> torch.Tensor:
    """The same convolution through oneDNN (mkldnn) on CPU float32.

    PyTorch's dispatcher sends small batch-1 3-D convolutions (N*C*T*H < 20480: one clip at the
    demo's size) to its native im2col + GEMM kernel (`slow_conv3d`), about 3x slower on one core
    than oneDNN for these shapes; batched inputs already take oneDNN. Same maths, float-rounding
    differences only (tests/test_distill_fast.py). Anything else falls back to the module.
    """
    if (x.device.type != "cpu" or x.dtype != torch.float32 or conv.weight.dtype != torch.float32
            or conv.padding_mode != "zeros" or not torch.backends.mkldnn.is_available()
            or not hasattr(torch, "mkldnn_convolution")):
        return conv(x)
    try:
        return torch.mkldnn_convolution(x.contiguous(), conv.weight, conv.bias, conv.padding, conv.stride,
                                        conv.dilation, conv.groups)
    except RuntimeError:   # a oneDNN build without this 3-D case: the module's own kernel
        return conv(x)


class FrameGroupNorm(nn.GroupNorm):
    """GroupNorm over each frame separately: statistics over time would leak the future."""

    def forward(self, x):
        B, C, T, H, W = x.shape
        y = super().forward(x.transpose(1, 2).reshape(B * T, C, H, W))
        return y.reshape(B, T, C, H, W).transpose(1, 2)


def _norm(c: int) -> nn.Module:
    return FrameGroupNorm(min(8, c), c, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(cin), CausalConv3d(cin, cout)
        self.norm2, self.conv2 = _norm(cout), CausalConv3d(cout, cout)
        self.skip = nn.Conv3d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Downsample(nn.Module):
    """Stride-2 causal conv in space and/or time; T = 1 + 2k -> 1 + k (frame 0 stays alone)."""

    def __init__(self, c: int, spatial: bool, temporal: bool):
        super().__init__()
        self.conv = CausalConv3d(c, c, stride=(2 if temporal else 1, 2 if spatial else 1, 2 if spatial else 1))

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest x2 in space and/or time (frame 0 -> 1 frame, others -> 2), then a causal conv."""

    def __init__(self, c: int, spatial: bool, temporal: bool):
        super().__init__()
        self.spatial, self.temporal = spatial, temporal
        self.conv = CausalConv3d(c, c)

    def forward(self, x):
        if self.temporal:
            x = torch.repeat_interleave(x, 2, dim=2)[:, :, 1:]
        if self.spatial:
            B, C, T, H, W = x.shape
            x = F.interpolate(x.reshape(B, C * T, H, W), scale_factor=2, mode="nearest").reshape(B, C, T, 2 * H, 2 * W)
        return self.conv(x)


class Encoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig, out_channels: int):
        super().__init__()
        chans = [cfg.base_channels * m for m in cfg.channel_mult]
        self.patch = cfg.patch_size
        self.conv_in = CausalConv3d(cfg.in_channels * cfg.patch_size ** 2, chans[0])
        layers, c = [], chans[0]
        for i, co in enumerate(chans):
            for _ in range(cfg.num_res_blocks):
                layers.append(ResBlock(c, co))
                c = co
            if i < len(chans) - 1 and (cfg.spatial_down[i] or cfg.temporal_down[i]):
                layers.append(Downsample(c, cfg.spatial_down[i], cfg.temporal_down[i]))
        layers.append(ResBlock(c, c))
        self.body = nn.Sequential(*layers)
        self.norm_out, self.conv_out = _norm(c), CausalConv3d(c, out_channels)

    def forward(self, x):
        x = space_to_depth(x, self.patch)
        return self.conv_out(F.silu(self.norm_out(self.body(self.conv_in(x)))))


def space_to_depth(x, p: int):
    """(B, C, T, H, W) -> (B, C*p*p, T, H/p, W/p)."""
    if p == 1:
        return x
    B, C, T, H, W = x.shape
    x = x.view(B, C, T, H // p, p, W // p, p).permute(0, 1, 4, 6, 2, 3, 5)
    return x.reshape(B, C * p * p, T, H // p, W // p)


def depth_to_space(x, p: int):
    """Inverse of space_to_depth."""
    if p == 1:
        return x
    B, Cp, T, H, W = x.shape
    C = Cp // (p * p)
    x = x.view(B, C, p, p, T, H, W).permute(0, 1, 4, 5, 2, 6, 3)
    return x.reshape(B, C, T, H * p, W * p)


class Decoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        chans = [cfg.base_channels * m for m in cfg.channel_mult][::-1]
        ups_s, ups_t = list(cfg.spatial_down)[::-1], list(cfg.temporal_down)[::-1]
        c = chans[0]
        self.conv_in = CausalConv3d(cfg.latent_channels, c)
        layers = [ResBlock(c, c)]
        for i, co in enumerate(chans):
            for _ in range(cfg.num_res_blocks):
                layers.append(ResBlock(c, co))
                c = co
            if i < len(chans) - 1 and (ups_s[i] or ups_t[i]):
                layers.append(Upsample(c, ups_s[i], ups_t[i]))
        self.body = nn.Sequential(*layers)
        self.patch = cfg.patch_size
        self.norm_out, self.conv_out = _norm(c), CausalConv3d(c, cfg.in_channels * cfg.patch_size ** 2)

    def forward(self, z):
        return depth_to_space(self.conv_out(F.silu(self.norm_out(self.body(self.conv_in(z))))), self.patch)


class LookupFreeQuantizer(nn.Module):
    """LFQ (MAGVIT-v2): each latent channel is a sign bit; the token is the integer those bits spell.

    Codebook size 2**C with no codebook to look up. Straight-through gradients; an entropy
    term keeps each position confident while the batch uses the codebook evenly.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.register_buffer("bit_values", 2 ** torch.arange(channels), persistent=False)

    def forward(self, z):  # (B, C, T, H, W)
        q = torch.where(z > 0, 1.0, -1.0).to(z.dtype)
        q_st = z + (q - z).detach()
        commit = F.mse_loss(z, q.detach())
        # entropy over the 2 states of each bit, with p(bit=1) = sigmoid(2 z)
        p = torch.sigmoid(2 * z).clamp(1e-6, 1 - 1e-6)
        per_pos = -(p * p.log() + (1 - p) * (1 - p).log()).mean()
        pm = p.mean(dim=(0, 2, 3, 4))
        codebook = -(pm * pm.log() + (1 - pm) * (1 - pm).log()).mean()
        return q_st, commit, per_pos - codebook

    def tokens(self, z) -> torch.Tensor:
        """Integer token ids (B, T, H, W) in [0, 2**C)."""
        bits = (z > 0).long()
        return (bits * self.bit_values.view(1, -1, 1, 1, 1)).sum(1)

    def codes(self, tokens) -> torch.Tensor:
        """Token ids (B, T, H, W) back to +-1 latents (B, C, T, H, W)."""
        bits = (tokens.unsqueeze(1) // self.bit_values.view(1, -1, 1, 1, 1)) % 2
        return bits.float() * 2 - 1


def pool_shortcut(x, fs: int, ft: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C, 1 + (T-1)/ft, H/fs, W/fs): frame 0 alone, then means of ft frames."""
    x = F.avg_pool3d(x, (1, fs, fs))
    B, C, T, H, W = x.shape
    rest = x[:, :, 1:].reshape(B, C, (T - 1) // ft, ft, H, W).mean(3)
    return torch.cat([x[:, :, :1], rest], dim=2)


def unpool_shortcut(z, fs: int, ft: int) -> torch.Tensor:
    """Inverse shape of pool_shortcut: latent frame j > 0 covers frames 4j-3..4j (causal)."""
    z = torch.cat([z[:, :, :1], z[:, :, 1:].repeat_interleave(ft, dim=2)], dim=2)
    B, C, T, H, W = z.shape
    return F.interpolate(z.reshape(B, C * T, H, W), scale_factor=fs, mode="nearest").reshape(B, C, T, H * fs, W * fs)


def pool_shortcut_fine(x, fs: int, ft: int, pool: int, splits: int) -> torch.Tensor:
    """The shortcut at a finer resolution than the latent grid, stored in channels.

    (B, C, T, H, W) -> (B, C * splits * (fs/pool)^2, 1 + (T-1)/ft, H/fs, W/fs): means over
    pool x pool pixels and over ft/splits consecutive frames of each causal group (frame 0
    alone, copied into every split), then space-to-depth to the latent grid.
    """
    x = F.avg_pool3d(x, (1, pool, pool))
    B, C, T, h, w = x.shape
    rest = x[:, :, 1:].reshape(B, C, (T - 1) // ft, splits, ft // splits, h, w).mean(4)
    first = x[:, :, :1, None].expand(-1, -1, -1, splits, -1, -1)
    z = torch.cat([first, rest], dim=2)                               # (B, C, T', splits, h, w)
    z = z.permute(0, 1, 3, 2, 4, 5).reshape(B, C * splits, z.shape[2], h, w)
    return space_to_depth(z, fs // pool)


def unpool_shortcut_fine(z, fs: int, ft: int, pool: int, splits: int, mode: str = "nearest",
                         channels: int = 3) -> torch.Tensor:
    """Inverse layout of pool_shortcut_fine: each split's mean held for its frames, then upsampled."""
    z = depth_to_space(z, fs // pool)                                  # (B, C*splits, T', h, w)
    B, _, Tl, h, w = z.shape
    z = z.reshape(B, channels, splits, Tl, h, w)
    first = z[:, :, :, :1].mean(2)                                     # frame 0 (every split holds it)
    rest = z[:, :, :, 1:].permute(0, 1, 3, 2, 4, 5).repeat_interleave(ft // splits, dim=3)
    v = torch.cat([first, rest.reshape(B, channels, (Tl - 1) * ft, h, w)], dim=2)
    T = v.shape[2]
    kw = {"align_corners": False} if mode == "bilinear" else {}
    v = F.interpolate(v.reshape(B, channels * T, h, w), scale_factor=pool, mode=mode, **kw)
    return v.reshape(B, channels, T, h * pool, w * pool)


class CausalVideoAutoencoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.shortcut and cfg.shortcut_channels > cfg.latent_channels:
            raise ValueError(f"the shortcut needs {cfg.shortcut_channels} latent channels, "
                             f"latent_channels is {cfg.latent_channels}")
        if cfg.shortcut_upsample not in ("nearest", "bilinear"):
            raise ValueError(f"shortcut_upsample must be 'nearest' or 'bilinear', not {cfg.shortcut_upsample!r}")
        self.kl = cfg.bottleneck == "kl"
        if cfg.bottleneck not in ("kl", "lfq"):
            raise ValueError(f"autoencoder bottleneck must be 'kl' or 'lfq', not {cfg.bottleneck!r}")
        self.encoder = Encoder(cfg, 2 * cfg.latent_channels if self.kl else cfg.latent_channels)
        if self.kl:
            # start with a near-deterministic posterior (std ~0.05): with logvar ~0 the sampling
            # noise swamps the young encoder's means and the decoder learns to ignore z
            nn.init.constant_(self.encoder.conv_out.conv.bias[cfg.latent_channels:], -6.0)
        self.decoder = Decoder(cfg)
        self.quantizer = None if self.kl else LookupFreeQuantizer(cfg.latent_channels)

    def _check(self, x):
        T = x.shape[2]
        if valid_frames(T, self.cfg.temporal_factor) != T:
            raise ValueError(f"autoencoder needs 1 + k*{self.cfg.temporal_factor} frames, got {T}")
        f = self.cfg.spatial_factor
        if x.shape[3] % f or x.shape[4] % f:
            raise ValueError(f"autoencoder needs H and W divisible by {f}, got {tuple(x.shape[3:])}")

    def encode(self, x, sample: bool = False) -> torch.Tensor:
        """Video (B, 3, T, H, W) in [-1, 1] -> latent (B, C, T', H', W'); the KL mean unless `sample`."""
        self._check(x)
        h = self._encode(x)
        if self.kl:
            mean, logvar = h.chunk(2, dim=1)
            if sample:
                return mean + torch.randn_like(mean) * torch.exp(0.5 * logvar.clamp(-30, 20))
            return mean
        return torch.where(h > 0, 1.0, -1.0)

    def fast_cpu_decode(self, on: bool = True) -> "CausalVideoAutoencoder":
        """Inference speed-up for `decode` on CPU (no effect with gradients on or off CPU float32):
        the decoder's causal convolutions go through oneDNN (_fast_conv3d). Used by Pipeline."""
        for m in self.decoder.modules():
            if isinstance(m, CausalConv3d):
                m.fast_cpu = bool(on)
        return self

    def decode(self, z) -> torch.Tensor:
        """Latent (B, C, T', H', W') -> video (B, 3, 1 + (T'-1)*ft, H'*fs, W'*fs)."""
        out = self.decoder(z)
        if self.cfg.shortcut:
            out = out + self._unpool(z[:, :self.cfg.shortcut_channels])
        return out

    def _fine_shortcut(self) -> bool:
        c = self.cfg
        return (c.shortcut_pool or c.spatial_factor) != c.spatial_factor or c.shortcut_splits != 1 \
            or c.shortcut_upsample != "nearest"

    def _pool(self, x):
        c = self.cfg
        if not self._fine_shortcut():
            return pool_shortcut(x, c.spatial_factor, c.temporal_factor)
        return pool_shortcut_fine(x, c.spatial_factor, c.temporal_factor, c.shortcut_pool or c.spatial_factor,
                                  c.shortcut_splits)

    def _unpool(self, z):
        c = self.cfg
        if not self._fine_shortcut():
            return unpool_shortcut(z, c.spatial_factor, c.temporal_factor)
        return unpool_shortcut_fine(z, c.spatial_factor, c.temporal_factor, c.shortcut_pool or c.spatial_factor,
                                    c.shortcut_splits, c.shortcut_upsample, c.in_channels)

    def _encode(self, x):
        h = self.encoder(x)
        if self.cfg.shortcut:
            sc = self._pool(x)
            n = sc.shape[1]
            h = torch.cat([h[:, :n] + sc, h[:, n:]], dim=1)
        return h

    def forward(self, x):
        """Returns (reconstruction, {loss terms}) for training."""
        self._check(x)
        h = self._encode(x)
        terms = {}
        if self.kl:
            mean, logvar = h.chunk(2, dim=1)
            logvar = logvar.clamp(-30, 20)
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar) if self.cfg.sample_posterior else mean
            terms["kl"] = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        else:
            z, commit, entropy = self.quantizer(h)
            terms["commit"], terms["entropy"] = commit, entropy
        return self.decode(z), terms

    def loss(self, x) -> tuple[torch.Tensor, dict]:
        """Reconstruction (L1 + MSE) plus the bottleneck's regulariser; returns (loss, scalars)."""
        rec, terms = self(x)
        return self.loss_terms(x, rec, terms)

    def loss_terms(self, x, rec, terms) -> tuple[torch.Tensor, dict]:
        """The training loss from a forward's outputs; returns (loss, scalars)."""
        l1, mse = (rec - x).abs().mean(), F.mse_loss(rec, x)
        loss = l1 + mse
        if self.kl:
            loss = loss + self.cfg.kl_weight * terms["kl"]
        else:
            loss = loss + self.cfg.lfq_commit_weight * terms["commit"] + self.cfg.lfq_entropy_weight * terms["entropy"]
        logs = {"l1": l1.item(), "mse": mse.item(), **{k: v.item() for k, v in terms.items()}}
        return loss, logs

    def tokens(self, x) -> torch.Tensor:
        """Discrete tokens (B, T', H', W') of a video; LFQ bottleneck only."""
        if self.kl:
            raise ValueError("tokens() needs bottleneck='lfq'")
        return self.quantizer.tokens(self._encode(x))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB between two videos in [-1, 1]."""
    mse = F.mse_loss(a.clamp(-1, 1), b.clamp(-1, 1)).item()
    return 10 * math.log10(4.0 / max(mse, 1e-12))
