"""The runs of an iso-compute sweep: every (budget, STDiT size, LR, batch) whose step count is usable.

Compute C is counted exactly as training counts it, `STDiT.flops_per_sample` (forward +
backward of the transformer blocks) times samples seen; N is the blocks' matrix parameters
(the "non-embedding" parameters those FLOPs come from) and D the latent tokens seen
(steps x batch x tokens per clip). At one budget a larger model sees fewer tokens, which is
what traces an isoFLOP curve.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

# default size ladder (hidden, depth): widths around the demo's 96 x 3, heads of 16 channels or more
DEFAULT_SIZES = ((32, 2), (48, 2), (64, 3), (96, 3))


@dataclass(frozen=True)
class Size:
    hidden: int
    depth: int
    heads: int

    @property
    def name(self) -> str:
        return f"h{self.hidden}d{self.depth}"


def parse_size(text: str) -> Size:
    """'64x3' (hidden x depth, heads = hidden // 16, at least 1) or '64x3x4' (explicit heads)."""
    parts = text.lower().split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"size {text!r}: expected HIDDENxDEPTH or HIDDENxDEPTHxHEADS, e.g. 64x3") from None
    if len(nums) not in (2, 3) or min(nums) < 1:
        raise ValueError(f"size {text!r}: expected HIDDENxDEPTH or HIDDENxDEPTHxHEADS, e.g. 64x3")
    hidden, depth = nums[:2]
    heads = nums[2] if len(nums) == 3 else max(1, hidden // 16)
    if hidden % heads:
        raise ValueError(f"size {text!r}: hidden {hidden} is not divisible by {heads} heads")
    return Size(hidden, depth, heads)


def stdit_for(size: Size, base: dict, in_channels: int, text_dim: int, metrics):
    """A STDiT of `size` with the rest of the base config (patch, MLP ratio, ...)."""
    from videoforge.models.stdit import STDIT_SIZES, STDiT, STDiTConfig

    sd = dict(base)
    named = sd.pop("size", None)
    if named:
        sd = {**STDIT_SIZES[named], **sd}
    sd.update(hidden_size=size.hidden, depth=size.depth, num_heads=size.heads, in_channels=in_channels,
              text_dim=text_dim, metrics=tuple(metrics))
    sd = {k: tuple(v) if isinstance(v, list) else v for k, v in sd.items()}
    return STDiT(STDiTConfig(**sd))


def block_params(model) -> int:
    """N: the transformer blocks' matrix parameters (what `flops_per_sample` multiplies by tokens)."""
    return int(sum(p.numel() for b in model.blocks for p in b.parameters() if p.dim() == 2))


@dataclass
class Run:
    run_id: str
    budget: float            # the budget asked for (FLOPs)
    hidden: int
    depth: int
    heads: int
    lr: float
    batch: int
    steps: int
    params: int              # N
    tokens: int              # D
    flops: float             # C actually spent = flops_per_sample x steps x batch
    flops_per_sample: float
    tokens_per_sample: int

    def to_dict(self) -> dict:
        return asdict(self)


def plan_runs(budgets, sizes, lrs, batches, latent_thw, base_stdit: dict, in_channels: int, text_dim: int,
              metrics, min_steps: int = 4) -> tuple[list[Run], list[str]]:
    """Runs of the grid, and one note per (budget, size, batch) skipped for too few steps."""
    T, H, W = latent_thw
    runs, skipped = [], []
    for size in sizes:
        m = stdit_for(size, base_stdit, in_channels, text_dim, metrics)
        fps = m.flops_per_sample(T, H, W)
        pt, ph, pw = m.patch
        tps = (T // pt) * (H // ph) * (W // pw)
        n = block_params(m)
        for budget in budgets:
            for batch in batches:
                steps = int(round(budget / (fps * batch)))
                if steps < min_steps:
                    skipped.append(f"budget {budget:.3g} {size.name} batch {batch}: {steps} steps < {min_steps}")
                    continue
                for lr in lrs:
                    rid = f"C{budget:.3g}-{size.name}-lr{lr:g}-b{batch}".replace("+", "")
                    runs.append(Run(rid, float(budget), size.hidden, size.depth, size.heads, float(lr), int(batch),
                                    steps, n, steps * batch * tps, fps * steps * batch, fps, tps))
    return runs, skipped


def lr_grid(base_lr: float, multipliers) -> list[float]:
    return [float(f"{base_lr * m:.3g}") for m in multipliers]


def log_spaced(lo: float, hi: float, n: int) -> list[float]:
    if n == 1:
        return [lo]
    return [float(f"{math.exp(math.log(lo) + i * (math.log(hi) - math.log(lo)) / (n - 1)):.3g}") for i in range(n)]
