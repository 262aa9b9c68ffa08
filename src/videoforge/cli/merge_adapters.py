"""`videoforge merge-adapters BASE_CKPT --adapter A [--adapter B ...] --out MERGED.pt`."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "merge-adapters", help="fold one or more adapters into a generator checkpoint",
        description=(
            "Merge adapters from `videoforge finetune` into their base checkpoint, in the order given, each at its "
            "--adapter-scale, and write a plain generator checkpoint (no adapter overhead at generation; `generate` "
            "loads it like any other). Every adapter must have been trained on this base (sha256 checked)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  videoforge merge-adapters base.pt --adapter style.safetensors --adapter yellow.safetensors "
               "--adapter-scale 0.8 --out merged.pt")
    p.add_argument("base", metavar="BASE_CKPT")
    p.add_argument("--adapter", action="append", required=True, metavar="ADAPTER", help="repeatable, merged in order")
    p.add_argument("--adapter-scale", action="append", type=float, default=None, metavar="S",
                   help="one scale for all adapters, or one per --adapter in the same order (default 1)")
    p.add_argument("--out", required=True, help="merged generator checkpoint (.pt)")
    return p


def adapter_scales(args, UsageError) -> list[float]:
    """--adapter-scale: none (all 1), one for all, or one per --adapter."""
    n, s = len(args.adapter or []), list(args.adapter_scale or [])
    if not s:
        return [1.0] * n
    if len(s) == 1:
        return s * n
    if len(s) != n:
        raise UsageError(f"{len(s)} --adapter-scale values for {n} --adapter files: give one, or one per adapter")
    return s


def main(args) -> int:
    import os

    import torch

    from videoforge.cli import UsageError

    if not os.path.exists(args.base):
        raise UsageError(f"{args.base}: no such checkpoint")
    scales = adapter_scales(args, UsageError)
    from videoforge.adapt.adapters import load_onto
    from videoforge.models.pipeline import Pipeline
    from videoforge.models.safeload import load_tensors

    try:
        ck = load_tensors(args.base, "checkpoint")
        pipe = Pipeline(ck)
        load_onto(pipe, args.base, args.adapter, scales)
    except ValueError as e:
        raise UsageError(str(e)) from e
    ck["stdit"]["state"] = {k: v.detach().clone() for k, v in pipe.gen.stdit.state_dict().items()}
    if ck["text_encoder"].get("state") is not None:
        ck["text_encoder"]["state"] = {k: v.detach().clone() for k, v in pipe.gen.text_encoder.state_dict().items()}
    ck["merged_adapters"] = [{"file": os.path.basename(a), "scale": s} for a, s in zip(args.adapter, scales)]
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(ck, tmp)
    os.replace(tmp, args.out)
    print(os.path.abspath(args.out))
    return 0
