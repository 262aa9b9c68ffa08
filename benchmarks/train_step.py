"""STDiT training step time and achieved FLOP/s (MFU when a peak is given).

    .venv/bin/python benchmarks/train_step.py --size demo --batch 24 --steps 5
    .venv/bin/python benchmarks/train_step.py --size STDiT-S --latent 4x9x32x32 --batch 8 \
        --device cuda --peak-tflops 989      # H100 bf16 dense peak

FLOPs are counted as in nanoGPT's estimate_mfu: 6 x (matmul parameters) x tokens plus the
attention score/value products (`STDiT.flops_per_sample`); MFU = achieved / peak.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time

import torch

from videoforge.models.flow import flow_loss
from videoforge.models.stdit import STDIT_SIZES, STDiT, STDiTConfig

SIZES = {"demo": dict(hidden_size=96, depth=3, num_heads=4), **STDIT_SIZES}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="demo", choices=list(SIZES))
    p.add_argument("--latent", default="4x5x8x8", help="C x T x H x W of one latent clip")
    p.add_argument("--batch", type=int, default=24)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast")
    p.add_argument("--grad-checkpointing", action="store_true")
    p.add_argument("--peak-tflops", type=float, default=None, help="device peak, for MFU")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    C, T, H, W = (int(x) for x in a.latent.split("x"))
    m = STDiT(STDiTConfig(in_channels=C, text_dim=128, metrics=("motion",), grad_checkpointing=a.grad_checkpointing,
                          **SIZES[a.size])).to(a.device)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    x = torch.randn(a.batch, C, T, H, W, device=a.device)
    y, mask = torch.randn(a.batch, 12, 128, device=a.device), torch.ones(a.batch, 12, dtype=torch.bool, device=a.device)
    met = torch.rand(a.batch, 1, device=a.device)
    ctx = torch.autocast(torch.device(a.device).type, dtype=torch.bfloat16) if a.bf16 else contextlib.nullcontext()
    times = []
    for i in range(a.steps + 1):
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with ctx:
            loss = flow_loss(m, x, y, mask, met)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        if i:                       # the first step warms up kernels and allocators
            times.append(time.perf_counter() - t0)
    step = sorted(times)[len(times) // 2]
    flops = m.flops_per_sample(T, H, W) * a.batch
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}")
    print("| size | params | latent | batch | step s (median) | samples/s | achieved TFLOP/s | MFU |")
    print("|---|---|---|---|---|---|---|---|")
    mfu = f"{flops / step / 1e12 / a.peak_tflops:.1%}" if a.peak_tflops else "n/a"
    print(f"| {a.size} | {m.num_params() / 1e6:.2f} M | {a.latent} | {a.batch} | {step:.3f} | "
          f"{a.batch / step:.1f} | {flops / step / 1e12:.4f} | {mfu} |")


if __name__ == "__main__":
    main()
