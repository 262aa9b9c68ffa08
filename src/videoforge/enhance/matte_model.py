"""A small recurrent video-matting network (RVM-style, sized for 2 CPU cores).

Layout (H = input height):
  encoder   full -> 1/2 (plain 3x3 conv) -> 1/4 -> 1/8 -> 1/16 (depthwise-separable convs)
  memory    a ConvGRU at 1/8 over [1/8 features, upsampled 1/16 context]; its state carries
            what the network learnt about the object from earlier frames
  decoder   1/8 -> 1/4 -> 1/2 with skip connections, then a refinement at full resolution on
            [upsampled decoder features, RGB] so edges (hair-thin, text strokes) stay sharp.

Why this shape: every full-resolution operation costs H*W*channels, so the network
downsamples at once and keeps the full-resolution part to two thin convolutions; the
recurrence runs at 1/8 where a 3x3 gate sees a wide neighbourhood for little cost.
`recurrent=False` builds the same network whose memory is reset every frame: the
no-recurrence baseline the temporal-coherence figure is measured against.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DSConv(nn.Module):
    """Depthwise 3x3 (optionally strided) then pointwise 1x1 + batch norm, then ReLU.

    Without normalisation the signal shrinks layer by layer at initialisation and training
    settled on a constant matte (measured: validation MAD stayed at the all-background level
    for 450 steps); at inference the norm is a per-channel affine map."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.pw(F.relu(self.dw(x)))))


class ConvGRU(nn.Module):
    """Convolutional GRU whose gates are depthwise-separable 3x3 convolutions."""

    def __init__(self, ch: int):
        super().__init__()
        self.ch = ch
        self.dw_zr = nn.Conv2d(2 * ch, 2 * ch, 3, 1, 1, groups=2 * ch)
        self.pw_zr = nn.Conv2d(2 * ch, 2 * ch, 1)
        self.dw_c = nn.Conv2d(2 * ch, 2 * ch, 3, 1, 1, groups=2 * ch)
        self.pw_c = nn.Conv2d(2 * ch, ch, 1)

    def forward(self, x, h):
        zr = torch.sigmoid(self.pw_zr(self.dw_zr(torch.cat([x, h], 1))))
        z, r = zr.split(self.ch, 1)
        c = torch.tanh(self.pw_c(self.dw_c(torch.cat([x, r * h], 1))))
        return (1 - z) * h + z * c


def _up(x, like):
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class MatteNet(nn.Module):
    """Per-frame step: forward(rgb (N,3,H,W) in 0..1, state) -> (alpha (N,1,H,W), state).

    H and W must be multiples of 16 (`pad16` / the inference loop pad the frame)."""

    def __init__(self, recurrent: bool = True, width: int = 1):
        super().__init__()
        self.recurrent = recurrent
        c2, c3, c4, hid = 24 * width, 40 * width, 64 * width, 40 * width
        self.hid = hid
        # 1/4 at once: a 4x4 space-to-depth and a 1x1 conv see every pixel for the cost of one
        # 1x1 conv at 1/16 of the pixels (a strided full-resolution conv costs ~10x that).
        self.e2_in = nn.Conv2d(48, c2, 1)
        self.e2 = DSConv(c2, c2)
        self.e3 = DSConv(c2, c3, 2)
        self.e4 = nn.Sequential(DSConv(c3, c4, 2), DSConv(c4, c4))
        self.into_gru = nn.Conv2d(c3 + c4, hid, 1)
        self.gru = ConvGRU(hid)
        self.d2 = nn.Sequential(DSConv(hid + c2, 32), DSConv(32, 32))
        # Guided refinement (as Deep Guided Filter / RVM): at 1/4 the decoder predicts a local
        # linear model logit(alpha) = A . rgb + b; upsampled and applied at full resolution it puts the
        # matte's edges where the picture's edges are. A 3x3 conv then corrects what a linear
        # colour model cannot express (thin structures, blur).
        self.head = nn.Conv2d(32, 4, 1)
        self.r1 = nn.Conv2d(4, 4, 3, 1, 1)
        self.r2 = nn.Conv2d(4, 1, 1)

    def forward(self, rgb, state=None, guide=None):
        """`guide`: the same frame at a higher resolution; the matte is then produced at the
        guide's size (the network runs at rgb's size, its linear model is applied to guide)."""
        f2 = self.e2(F.relu(self.e2_in(F.pixel_unshuffle(rgb, 4))))
        f3 = self.e3(f2)
        f4 = self.e4(f3)
        x = F.relu(self.into_gru(torch.cat([f3, _up(f4, f3)], 1)))
        if state is None or not self.recurrent:
            state = torch.zeros_like(x)
        h = self.gru(x, state)
        d2 = self.d2(torch.cat([_up(h, f2), f2], 1))
        g = rgb if guide is None else guide
        coef = _up(self.head(d2), g)
        lin = (coef[:, :3] * g).sum(1, keepdim=True) + coef[:, 3:]
        r = F.relu(self.r1(torch.cat([lin, g], 1)))
        # a logit, not a clamped value: a clamp has no gradient where it saturates, and a
        # network stuck at "all background" there never recovers
        return torch.sigmoid(lin + self.r2(r)), h

    def forward_clip(self, clip, state=None):
        """clip (N,T,3,H,W) -> alphas (N,T,1,H,W), stepping the memory through time."""
        out = []
        for t in range(clip.shape[1]):
            a, state = self(clip[:, t], state)
            out.append(a)
        return torch.stack(out, 1), state


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
