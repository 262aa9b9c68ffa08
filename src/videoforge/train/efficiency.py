"""GPU-efficiency switches for training and benchmarks/train_step.py, all of which also run on CPU.

- `optimizer_kwargs`: fused AdamW (one kernel for the whole update) where PyTorch has it,
  else the multi-tensor `foreach` path;
- `compile_blocks`: `torch.compile` of each STDiT block in place (`Module.compile`), so the
  state-dict keys, checkpoints and FSDP's per-block units are unchanged;
- `attention_backend`: pin SDPA to flash / memory-efficient / math kernels (default: PyTorch picks);
- `step_flops` / `peak_tflops`: FLOPs of one optimiser step as `STDiT.flops_per_sample` counts
  them, and the device's bf16 dense peak when it is a known GPU, for tokens/s and MFU.

bf16 autocast (`precision`) and activation checkpointing per block (`grad_checkpointing`) were
already in the loop and STDiT; they are switched the same way.
"""

from __future__ import annotations

import contextlib
import inspect

import torch

# bf16 dense peak, TFLOP/s (vendor data sheets, without sparsity)
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "L4": 121.0,
                    "RTX 4090": 165.0, "RTX 3090": 71.0}


def optimizer_kwargs(device, mode: str = "auto") -> dict:
    """{"fused": True} or {"foreach": True} for torch.optim.AdamW.

    mode "auto": fused on CUDA (the case it exists for), foreach elsewhere; "on": fused wherever
    this PyTorch supports it (CPU too since 2.4); "off": foreach."""
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"fused_optimizer must be 'auto', 'on' or 'off', not {mode!r}")
    has_fused = "fused" in inspect.signature(torch.optim.AdamW).parameters
    dev = torch.device(device).type
    if has_fused and (mode == "on" or (mode == "auto" and dev == "cuda")):
        return {"fused": True}
    return {"foreach": True}


def compile_blocks(model, backend: str = "inductor") -> int:
    """Compile every STDiT block of `model` (a VideoGenerator, an STDiT, or anything with .stdit /
    .blocks) in place; returns how many were compiled."""
    stdit = getattr(model, "stdit", model)
    blocks = getattr(stdit, "blocks", [])
    for blk in blocks:
        blk.compile(backend=backend)
    return len(blocks)


def attention_backend(name: str = "auto"):
    """A context pinning scaled_dot_product_attention to one kernel family ("auto": no pin)."""
    if name in (None, "", "auto"):
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    table = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
             "math": SDPBackend.MATH, "cudnn": SDPBackend.CUDNN_ATTENTION}
    if name not in table:
        raise ValueError(f"attention_backend must be one of auto, {', '.join(table)}; not {name!r}")
    return sdpa_kernel([table[name]])


def peak_tflops(device) -> float | None:
    """bf16 dense peak of a known CUDA device, else None (MFU is then not reported)."""
    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(dev)
    for key, v in PEAK_BF16_TFLOPS.items():
        if key in name:
            return v
    return None


def step_flops(model, x0: torch.Tensor) -> float | None:
    """Training FLOPs of one micro-batch of latents x0 (B, C, T, H, W) through the STDiT of `model`."""
    stdit = getattr(getattr(model, "module", model), "stdit", None)
    if stdit is None or x0 is None or x0.dim() != 5:
        return None
    B, _, T, H, W = x0.shape
    return float(stdit.flops_per_sample(T, H, W)) * B


def step_tokens(model, x0: torch.Tensor) -> int | None:
    stdit = getattr(getattr(model, "module", model), "stdit", None)
    if stdit is None or x0 is None or x0.dim() != 5:
        return None
    pt, ph, pw = stdit.patch
    B, _, T, H, W = x0.shape
    return B * (T // pt) * (H // ph) * (W // pw)
