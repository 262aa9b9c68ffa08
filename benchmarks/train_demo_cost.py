"""Training-step cost of the shapes demo's models now against runs 1-4's layout, interleaved.

    .venv/bin/python benchmarks/train_demo_cost.py --rounds 5

The machine is shared, so absolute step times say little; each round times one AE step and
one STDiT step of each layout back to back, and the script prints the median ratio
(new / old). The demo's wall time on a quiet machine is then about the recorded run-4 time
of each stage (AE 70 s, STDiT 600 s, 2 threads) times its ratio.

- old: 8 latent channels, the 4x4-block-mean shortcut in 3 of them; STDiT without pooled text.
- new: 28 latent channels, the 2x2 / half-group shortcut in 24 of them (bilinear); STDiT with
  the pooled caption in AdaLN. Both: the demo configs' widths, batch 8 x 9 frames (AE) and
  24 latents (STDiT).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
from videoforge.models.flow import flow_loss
from videoforge.models.stdit import STDiT, STDiTConfig

AE_COMMON = dict(base_channels=48, channel_mult=(1, 1, 1), spatial_down=(False, False), temporal_down=(True, True),
                 patch_size=4, num_res_blocks=1, shortcut=True)
LAYOUTS = {
    "old": (dict(latent_channels=8), dict(in_channels=8)),
    "new": (dict(latent_channels=28, shortcut_pool=2, shortcut_splits=2, shortcut_upsample="bilinear"),
            dict(in_channels=28, text_adaln=True)),
}


def build(name):
    ae_kw, dit_kw = LAYOUTS[name]
    ae = CausalVideoAutoencoder(AutoencoderConfig(**AE_COMMON, **ae_kw))
    dit = STDiT(STDiTConfig(hidden_size=96, depth=3, num_heads=4, patch_size=(1, 2, 2), text_dim=64,
                            metrics=("motion_peak",), **dit_kw))
    return ae, torch.optim.AdamW(ae.parameters(), 1e-3), dit, torch.optim.AdamW(dit.parameters(), 1e-3)


def step(model, opt, loss_fn) -> float:
    t0 = time.perf_counter()
    loss = loss_fn()
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    models = {n: build(n) for n in LAYOUTS}
    x = torch.rand(8, 3, 9, 32, 32) * 2 - 1
    y, mask, met = torch.randn(24, 6, 64), torch.ones(24, 6, dtype=torch.bool), torch.rand(24, 1)
    times = {(n, k): [] for n in LAYOUTS for k in ("ae", "stdit")}
    for r in range(a.rounds + 1):          # round 0 warms up
        for n, (ae, ae_opt, dit, dit_opt) in models.items():
            t_ae = step(ae, ae_opt, lambda: ae.loss(x)[0])
            z = torch.randn(24, dit.cfg.in_channels, 5, 8, 8)
            t_dit = step(dit, dit_opt, lambda: flow_loss(dit, z, y, mask, met))
            if r:
                times[(n, "ae")].append(t_ae)
                times[(n, "stdit")].append(t_dit)
    for k in ("ae", "stdit"):
        ratios = np.array(times[("new", k)]) / np.array(times[("old", k)])
        print(f"{k}: old {np.median(times[('old', k)]):.3f} s/step, new {np.median(times[('new', k)]):.3f} s/step, "
              f"new/old median {np.median(ratios):.2f} (min {ratios.min():.2f}, max {ratios.max():.2f}, {len(ratios)} rounds)")


if __name__ == "__main__":
    main()
