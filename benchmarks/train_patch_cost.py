"""STDiT step cost per patch layout, interleaved in one process so machine load hits all alike.

    .venv/bin/python benchmarks/train_patch_cost.py [--rounds 6] [--threads 1]

The demo's STDiT (hidden 96, depth 3, 4 heads) on its latent (8 x 5 x 8 x 8), batch 24: one
forward + backward + AdamW step per layout per round; prints the median step time of each and its
ratio to the demo's 1x2x2 patches (docs/benchmarks/train.md, issue 19 session 6).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from videoforge.models.flow import flow_loss
from videoforge.models.stdit import STDiT, STDiTConfig

LAYOUTS = {"1x2x2": dict(patch_size=(1, 2, 2)), "5x1x1": dict(patch_size=(5, 1, 1)),
           "1x1x1": dict(patch_size=(1, 1, 1)), "1x1x1_hidden64": dict(patch_size=(1, 1, 1), hidden_size=64)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    models = {}
    for name, kw in LAYOUTS.items():
        cfg = {**dict(in_channels=8, hidden_size=96, depth=3, num_heads=4, text_dim=64, metrics=("motion_peak",)), **kw}
        m = STDiT(STDiTConfig(**cfg))
        models[name] = (m, torch.optim.AdamW(m.parameters(), 1e-4))
    x, met = torch.randn(24, 8, 5, 8, 8), torch.rand(24, 1)
    y, mask = torch.randn(24, 6, 64), torch.ones(24, 6, dtype=torch.bool)
    times = {k: [] for k in LAYOUTS}
    for r in range(a.rounds + 1):
        for name, (m, opt) in models.items():
            t0 = time.perf_counter()
            flow_loss(m, x, y, mask, met).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if r:                       # round 0 warms up kernels and allocators
                times[name].append(time.perf_counter() - t0)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    print(json.dumps({"threads": a.threads, "rounds": a.rounds, "median_step_s": {k: round(v, 3) for k, v in med.items()},
                      "ratio_to_1x2x2": {k: round(v / med["1x2x2"], 2) for k, v in med.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
