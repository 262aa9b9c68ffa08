"""STDiT training step time, tokens/s and achieved FLOP/s (MFU when the peak is known).

    .venv/bin/python benchmarks/train_step.py --size demo --batch 24 --steps 5
    .venv/bin/python benchmarks/train_step.py --size STDiT-XL --latent 4x16x32x32 --batch 4 --device cuda \
        --variants fp32,bf16,bf16+ckpt,bf16+compile,bf16+compile+ckpt --fused      # H200: peak 989 found by name

FLOPs are counted as in nanoGPT's estimate_mfu: 6 x (matmul parameters) x tokens plus the
attention score/value products (`STDiT.flops_per_sample`); MFU = achieved / peak (the bf16
dense peak of a known GPU, or --peak-tflops). With --variants every variant gets its own model
and optimiser and their steps run interleaved (round-robin), so a busy machine slows all alike;
read the ratios. Switches (also on CPU): bf16 autocast, activation checkpointing per block
(ckpt), torch.compile of each block (compile), fused AdamW (--fused), SDPA kernel (--attention).
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
from videoforge.train.efficiency import attention_backend, compile_blocks, optimizer_kwargs, peak_tflops

SIZES = {"demo": dict(hidden_size=96, depth=3, num_heads=4), **STDIT_SIZES}
FLAGS = ("fp32", "bf16", "ckpt", "compile")


def parse_variant(text: str) -> dict:
    parts = [p for p in text.split("+") if p]
    bad = set(parts) - set(FLAGS)
    if bad:
        raise SystemExit(f"variant {text!r}: unknown part(s) {sorted(bad)}; parts: {', '.join(FLAGS)} joined by +")
    return {"name": text, "bf16": "bf16" in parts, "ckpt": "ckpt" in parts, "compile": "compile" in parts}


class Variant:
    """One model + optimiser + inputs under one set of switches."""

    def __init__(self, v: dict, a, C, T, H, W):
        torch.manual_seed(0)
        self.v, self.a = v, a
        self.m = STDiT(STDiTConfig(in_channels=C, text_dim=128, metrics=("motion",), grad_checkpointing=v["ckpt"],
                                   **SIZES[a.size])).to(a.device)
        if v["compile"]:
            compile_blocks(self.m, a.compile_backend)
        self.opt = torch.optim.AdamW(self.m.parameters(), lr=1e-4,
                                     **optimizer_kwargs(a.device, "on" if a.fused else "off"))
        self.x = torch.randn(a.batch, C, T, H, W, device=a.device)
        self.y = torch.randn(a.batch, 12, 128, device=a.device)
        self.mask = torch.ones(a.batch, 12, dtype=torch.bool, device=a.device)
        self.met = torch.rand(a.batch, 1, device=a.device)
        self.times: list[float] = []
        self.losses: list[float] = []

    def step(self, i: int, record: bool):
        a = self.a
        torch.manual_seed(1000 + i)       # the same t and noise for every variant at step i
        ctx = torch.autocast(torch.device(a.device).type, dtype=torch.bfloat16) if self.v["bf16"] \
            else contextlib.nullcontext()
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with ctx, attention_backend(a.attention):
            loss = flow_loss(self.m, self.x, self.y, self.mask, self.met)
        with attention_backend(a.attention):     # checkpointing recomputes with the same kernel
            loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        if record:
            self.times.append(time.perf_counter() - t0)
        self.losses.append(float(loss.detach()))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="demo", choices=list(SIZES))
    p.add_argument("--latent", default="4x5x8x8", help="C x T x H x W of one latent clip")
    p.add_argument("--batch", type=int, default=24)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first (kernels, allocator, compilation)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (single-variant mode)")
    p.add_argument("--grad-checkpointing", action="store_true", help="activation checkpointing per block")
    p.add_argument("--compile", action="store_true", help="torch.compile each STDiT block")
    p.add_argument("--compile-backend", default="inductor", help="torch.compile backend (default inductor)")
    p.add_argument("--fused", action="store_true", help="fused AdamW (else foreach)")
    p.add_argument("--attention", default="auto", choices=["auto", "flash", "efficient", "math", "cudnn"],
                   help="pin the SDPA kernel (default: PyTorch picks)")
    p.add_argument("--variants", default=None,
                   help="comma-separated variants run interleaved, each fp32|bf16 [+ckpt] [+compile], "
                        "e.g. fp32,bf16,bf16+ckpt,bf16+compile")
    p.add_argument("--peak-tflops", type=float, default=None, help="device peak, for MFU (default: a known GPU's bf16 peak)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    C, T, H, W = (int(x) for x in a.latent.split("x"))
    if a.variants:
        specs = [parse_variant(v) for v in a.variants.split(",") if v]
    else:
        parts = ["bf16" if a.bf16 else "fp32"] + (["ckpt"] if a.grad_checkpointing else []) + \
                (["compile"] if a.compile else [])
        specs = [parse_variant("+".join(parts))]
    vs = [Variant(v, a, C, T, H, W) for v in specs]
    for i in range(a.warmup + a.steps):       # round-robin: one step of each variant in turn
        for v in vs:
            v.step(i, record=i >= a.warmup)
    peak = a.peak_tflops or peak_tflops(a.device)
    m = vs[0].m
    pt, ph, pw = m.patch
    tokens = a.batch * (T // pt) * (H // ph) * (W // pw)
    flops = m.flops_per_sample(T, H, W) * a.batch
    dev = torch.cuda.get_device_name(a.device) if a.device.startswith("cuda") else (platform.processor() or platform.machine())
    print(f"machine: {dev}, {os.cpu_count()} cores, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"device {a.device}, load {os.getloadavg()[0]:.1f}, attention {a.attention}, "
          f"AdamW {'fused' if a.fused else 'foreach'}, peak {peak or 'unknown'} TFLOP/s")
    print("| variant | size | params | latent | batch | step s (median) | tokens/s | achieved TFLOP/s | MFU | "
          "vs first | last loss |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    base = None
    rows = []
    for v in vs:
        step = sorted(v.times)[len(v.times) // 2]
        base = base or step
        mfu = f"{flops / step / 1e12 / peak:.1%}" if peak else "n/a"
        rows.append({"variant": v.v["name"], "step_s": step, "tokens_per_s": tokens / step,
                     "tflops": flops / step / 1e12, "mfu": (flops / step / 1e12 / peak) if peak else None,
                     "last_loss": v.losses[-1]})
        print(f"| {v.v['name']} | {a.size} | {m.num_params() / 1e6:.2f} M | {a.latent} | {a.batch} | {step:.3f} | "
              f"{tokens / step:.0f} | {flops / step / 1e12:.4f} | {mfu} | {base / step:.2f}x | {v.losses[-1]:.4f} |")
    return rows


if __name__ == "__main__":
    main()
