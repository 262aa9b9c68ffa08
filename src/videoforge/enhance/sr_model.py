"""Small bidirectional recurrent x4 super-resolution network (BasicVSR-style), <= 300 k parameters.

    backward pass  for t = T-1 .. 0:  h_b = body_b([lr_t, warp(h_b(t+1), flow t->t+1)])
    forward pass   for t = 0 .. T-1:  h_f = body_f([lr_t, warp(h_f(t-1), flow t->t-1)])
    output         sr_t = bicubic_x4(lr_t) + up(fuse([h_b(t), h_f(t)]))

Alignment uses optical flow on the low-resolution frames computed outside the network
(OpenCV DIS, `lr_flows`): no flow parameters to train, and the same flow at training and
inference. The upsampler is two conv + pixel-shuffle x2 steps; the network predicts the
residual over bicubic, so an untrained net already starts at the bicubic baseline.

`recurrent=False` builds the same layers (same parameter count) but never propagates:
the propagated state is always zero, so every frame is super-resolved from itself alone.
That is the single-frame baseline "of equal size" the figures compare against.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE = 4


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.leaky_relu(self.c1(x), 0.1))


class Body(nn.Module):
    """[lr (3), propagated features (ch)] -> features (ch)."""

    def __init__(self, ch: int, blocks: int):
        super().__init__()
        self.inp = nn.Conv2d(3 + ch, ch, 3, padding=1)
        self.blocks = nn.Sequential(*[ResBlock(ch) for _ in range(blocks)])

    def forward(self, lr, prop):
        return self.blocks(F.leaky_relu(self.inp(torch.cat([lr, prop], 1)), 0.1))


def flow_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample x (B,C,H,W) at p + flow(p); flow (B,2,H,W) in pixels (dx, dy)."""
    b, _, h, w = x.shape
    gy, gx = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij")
    px = gx[None] + flow[:, 0]
    py = gy[None] + flow[:, 1]
    grid = torch.stack([2 * px / max(w - 1, 1) - 1, 2 * py / max(h - 1, 1) - 1], -1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


class SRNet(nn.Module):
    def __init__(self, ch: int = 32, blocks: int = 4, recurrent: bool = True):
        super().__init__()
        self.ch, self.recurrent = ch, recurrent
        self.back = Body(ch, blocks)
        self.fwd = Body(ch, blocks)
        self.fuse = nn.Conv2d(2 * ch, ch, 1)
        self.up1 = nn.Conv2d(ch, ch * 4, 3, padding=1)
        self.up2 = nn.Conv2d(ch, 3 * 4, 3, padding=1)

    def upsample(self, feat, lr):
        x = F.leaky_relu(F.pixel_shuffle(self.up1(feat), 2), 0.1)
        x = F.pixel_shuffle(self.up2(x), 2)
        base = F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False)
        return base + x

    def forward(self, lr: torch.Tensor, flow_next: torch.Tensor | None = None,
                flow_prev: torch.Tensor | None = None) -> torch.Tensor:
        """lr (B,T,3,h,w) in 0..1; flow_next[:, t] = flow t -> t+1 and flow_prev[:, t] = flow
        t+1 -> t, both (B,T-1,2,h,w) (unused when not recurrent). Returns (B,T,3,4h,4w)."""
        return torch.stack(list(self.frames(lr, flow_next, flow_prev)), 1)

    def frames(self, lr, flow_next=None, flow_prev=None):
        """forward() one output frame at a time (B,3,4h,4w), so inference on large frames
        never holds the whole upscaled clip as floats."""
        b, t, _, h, w = lr.shape
        zero = lr.new_zeros(b, self.ch, h, w)
        back = [None] * t
        prop = zero
        for i in range(t - 1, -1, -1):
            if self.recurrent and i < t - 1:
                prop = flow_warp(prop, flow_next[:, i])
            else:
                prop = zero
            prop = self.back(lr[:, i], prop)
            back[i] = prop
        prop = zero
        for i in range(t):
            if self.recurrent and i > 0:
                prop = flow_warp(prop, flow_prev[:, i - 1])
            else:
                prop = zero
            prop = self.fwd(lr[:, i], prop)
            feat = F.leaky_relu(self.fuse(torch.cat([back[i], prop], 1)), 0.1)
            back[i] = None   # free as we go
            yield self.upsample(feat, lr[:, i])


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


_DIS = None


def _dis():
    global _DIS
    if _DIS is None:
        _DIS = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return _DIS


def dis_flow(a_rgb: np.ndarray, b_rgb: np.ndarray) -> np.ndarray:
    """Flow (H,W,2) with a(p) ~ b(p + flow(p)), OpenCV DIS on the grey frames."""
    ga = cv2.cvtColor(a_rgb, cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(b_rgb, cv2.COLOR_RGB2GRAY)
    return _dis().calc(ga, gb, None)


def lr_flows(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """frames (T,h,w,3) uint8 -> (flow_next, flow_prev), each (T-1,2,h,w) float32."""
    t = len(frames)
    if t < 2:
        z = np.zeros((0, 2) + frames.shape[1:3], np.float32)
        return z, z
    nxt = np.stack([dis_flow(frames[i], frames[i + 1]) for i in range(t - 1)])
    prv = np.stack([dis_flow(frames[i + 1], frames[i]) for i in range(t - 1)])
    return (np.ascontiguousarray(nxt.transpose(0, 3, 1, 2)), np.ascontiguousarray(prv.transpose(0, 3, 1, 2)))
