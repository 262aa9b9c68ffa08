"""A learned prior over LFQ token bits, built so that decoding stays vectorised.

An LFQ token is C sign bits (one per latent channel). The bits of latent frame t are coded
plane by plane: plane k of every position at once, with p(bit = 1) predicted from what the
decoder already has, namely every bit of latent frame t-1 and planes 0..k-1 of frame t (all
positions, so the spatial neighbourhood of the lower planes is used). One network call per
(frame, plane) instead of one per bit: a 64x64 clip with 5 latent frames and 8 planes takes
40 small convolutions to decode.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class BitPrior(nn.Module):
    def __init__(self, planes: int, width: int = 32, depth: int = 3):
        super().__init__()
        self.planes, self.width, self.depth = planes, width, depth
        layers, c = [], 3 * planes   # previous frame's bits, this frame's lower planes, one-hot plane index
        for _ in range(depth - 1):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.GELU()]
            c = width
        layers.append(nn.Conv2d(c, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def spec(self) -> dict:
        return {"planes": self.planes, "width": self.width, "depth": self.depth}

    def context(self, prev: torch.Tensor, cur: torch.Tensor, k: int) -> torch.Tensor:
        """prev, cur: (N, C, H, W) bits in {0, 1} (prev all zeros for the first frame) -> context
        for plane k: prev as +-1, cur's planes < k as +-1 (0 where not yet decoded), one-hot k."""
        N, C, H, W = cur.shape
        known = torch.zeros_like(cur, dtype=torch.float32)
        if k:
            known[:, :k] = cur[:, :k].float() * 2 - 1
        onehot = torch.zeros(N, C, H, W, device=cur.device)
        onehot[:, k] = 1
        return torch.cat([prev.float() * 2 - 1 if prev is not None else torch.zeros_like(known), known, onehot], 1)

    def logits(self, prev, cur, k: int) -> torch.Tensor:
        """(N, H, W) logit of p(plane k = 1)."""
        return self.net(self.context(prev, cur, k))[:, 0]

    def all_logits(self, bits: torch.Tensor) -> torch.Tensor:
        """bits (B, C, T, H, W) in {0, 1} -> logits of the same shape, every (frame, plane) at once
        (teacher forcing: what training and the ideal code length need)."""
        B, C, T, H, W = bits.shape
        prev = torch.cat([torch.zeros_like(bits[:, :, :1]), bits[:, :, :-1]], 2)   # frame t-1 (zeros at t=0)
        prev = prev.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)
        cur = bits.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)
        ctx = torch.cat([self.context(prev, cur, k) for k in range(C)], 0)          # (C*B*T, 3C, H, W)
        out = self.net(ctx)[:, 0].reshape(C, B, T, H, W)
        return out.permute(1, 0, 2, 3, 4)

    def ideal_bits(self, bits: torch.Tensor) -> float:
        """Ideal code length of `bits` under the prior, in bits (sum of -log2 p)."""
        with torch.no_grad():
            nll = F.binary_cross_entropy_with_logits(self.all_logits(bits), bits.float(), reduction="sum")
        return float(nll) / math.log(2)


def token_bits(tokens: torch.Tensor, planes: int) -> torch.Tensor:
    """Token ids (B, T, H, W) -> bits (B, C, T, H, W) in {0, 1} (bit k = channel k's sign)."""
    vals = 2 ** torch.arange(planes, device=tokens.device).view(1, -1, 1, 1, 1)
    return (tokens.unsqueeze(1) // vals) % 2


def train_prior(bit_batches: list[torch.Tensor], planes: int, steps: int = 500, lr: float = 3e-3, width: int = 32,
                depth: int = 3, seed: int = 0, progress: bool = False) -> BitPrior:
    """Fit the prior on a list of (B, C, T, H, W) bit tensors of training clips (cross-entropy)."""
    torch.manual_seed(seed)
    prior = BitPrior(planes, width, depth)
    opt = torch.optim.Adam(prior.parameters(), lr=lr)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=steps, desc="codec prior", unit="step")
    for step in range(steps):
        b = bit_batches[step % len(bit_batches)]
        loss = F.binary_cross_entropy_with_logits(prior.all_logits(b), b.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(bits_per_bit=f"{loss.item() / math.log(2):.3f}")
    if bar is not None:
        bar.close()
    return prior.eval()
