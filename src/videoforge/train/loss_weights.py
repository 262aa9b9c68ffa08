"""Per-position flow-loss weights that point the loss at a clip's outlines (issue 19).

The demo's shapes are decided by ~12 partially covered latent cells per frame out of 64; under a
plain MSE they are the smallest part of the loss beside the background's random texture, and a
small STDiT learns them last (docs/notes/train.md, session 6). `boundary_weight` finds those cells
without labels, from the latent itself: where the subject's deviation from the clip's background
changes within a cell's 3 x 3 neighbourhood, i.e. on both sides of an edge.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def coverage(x0: torch.Tensor, channels: int = 0) -> torch.Tensor:
    """(B, 1, T, H, W) in [0, 1]: how far each position lies from the clip's median (its background),
    over the first `channels` channels (0 = all), divided by the clip's largest such distance.

    With a residual-shortcut autoencoder the first channels are block means of RGB, so this is
    about the fraction of the cell the subject covers."""
    z = x0[:, :channels] if channels else x0
    B, C = z.shape[:2]
    med = z.reshape(B, C, -1).median(-1).values.view(B, C, 1, 1, 1)
    dev = (z - med).abs().mean(1, keepdim=True)
    return dev / dev.amax(dim=(2, 3, 4), keepdim=True).clamp_min(1e-6)


def boundary_weight(x0: torch.Tensor, strength: float, channels: int = 0) -> torch.Tensor:
    """1 + strength x the local range (max - min over the 3 x 3 spatial neighbourhood, per latent
    frame) of `coverage`: ~1 on cells at an outline, ~0 deep inside the subject or the background."""
    c = coverage(x0, channels)
    B, _, T, H, W = c.shape
    # the background's own texture also varies from cell to cell: coverage up to 1.5 x the clip's
    # median (most cells are background) counts as none, so only the subject's edges stand out
    bg = 1.5 * c.reshape(B, -1).median(-1).values.view(B, 1, 1, 1, 1)
    c = ((c - bg) / (1 - bg).clamp_min(1e-6)).clamp(0, 1)
    f = c.permute(0, 2, 1, 3, 4).reshape(B * T, 1, H, W)
    hi = F.max_pool2d(f, 3, stride=1, padding=1)
    lo = -F.max_pool2d(-f, 3, stride=1, padding=1)
    rng = (hi - lo).reshape(B, T, 1, H, W).permute(0, 2, 1, 3, 4)
    return 1 + strength * rng
