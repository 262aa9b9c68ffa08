"""`videoforge finetune BASE_CKPT --data EXPORT --method lora|oft|full --rank R --out ADAPTER`."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "finetune", help="adapt a trained generator to new footage (LoRA / OFT adapters or full fine-tuning)",
        description=(
            "Fine-tune a generator checkpoint on an export of new footage and write what changed as an adapter "
            "file (safetensors, with the base checkpoint's sha256) for `generate --adapter`. LoRA and OFT (HuggingFace "
            "peft) train small adapters on STDiT's attention (q, kv, proj) and MLP (fc1, fc2) layers and leave the base "
            "untouched; `full` trains every weight (the baseline). Against forgetting the base's domain: --replay mixes a "
            "fraction of base-domain clips (--replay-data) into each batch; --lwf adds a distillation loss to the frozen "
            "base's predictions on the new clips, under the null caption and under base-domain prompts (--lwf-prompts, "
            "or the replay export's captions)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  videoforge finetune demo-out/train/stdit/stdit.pt --data my-export/manifest.csv --method lora --rank 4 "
               "--out my.safetensors\n"
               "  videoforge finetune base.pt --data new/manifest.csv --method lora --rank 4 --replay 0.25 "
               "--replay-data old/manifest.csv --out a.safetensors\n"
               "  videoforge generate base.pt \"a yellow circle moves left\" --adapter a.safetensors --out x.mp4")
    p.add_argument("base", metavar="BASE_CKPT", help="generator checkpoint (.pt) written by training")
    p.add_argument("--data", required=True, metavar="EXPORT",
                   help="the new footage: an export (Open-Sora CSV manifest, or WebDataset shard(s)) with captions")
    p.add_argument("--captions", default=None, metavar="JSON",
                   help="captions keyed by source_path / video_id, for rows whose `text` is empty")
    p.add_argument("--method", choices=["lora", "oft", "full"], default="lora", help="default lora")
    p.add_argument("--rank", type=int, default=4,
                   help="LoRA rank, or OFT block size (must divide the layers' widths); ignored by full (default 4)")
    p.add_argument("--alpha", type=float, default=None, help="LoRA alpha (default: the rank, i.e. scaling 1)")
    p.add_argument("--replay", type=float, default=0.0, metavar="FRACTION",
                   help="fraction of each batch drawn from --replay-data (base-domain clips), e.g. 0.25")
    p.add_argument("--replay-data", default=None, metavar="EXPORT", help="an export of footage like the base's")
    p.add_argument("--lwf", type=float, default=0.0, metavar="WEIGHT",
                   help="weight of the distillation loss to the frozen base (Learning without Forgetting), e.g. 1")
    p.add_argument("--lwf-prompts", default=None, metavar="FILE",
                   help="base-domain prompts for --lwf, one per line (default: --replay-data's captions, else "
                        "the null caption only)")
    p.add_argument("--steps", type=int, default=300, help="optimiser steps (default 300)")
    p.add_argument("--batch-size", type=int, default=16, help="clips per step, replayed ones included (default 16)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: 3e-3 LoRA/OFT, 5e-4 full)")
    p.add_argument("--cache-dir", default=None, help="decoded clips and latents (default: beside the export)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="ADAPTER", help="adapter file to write (.safetensors)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    return p


def main(args) -> int:
    import os

    from videoforge.cli import UsageError

    for path, what in ((args.base, "checkpoint"), (args.data, "export")):
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such {what}")
    if args.replay > 0 and not args.replay_data:
        raise UsageError("--replay needs --replay-data EXPORT (base-domain footage to mix into each batch)")
    if args.replay_data and not os.path.exists(args.replay_data):
        raise UsageError(f"{args.replay_data}: no such export (--replay-data)")
    prompts = None
    if args.lwf_prompts:
        if not os.path.exists(args.lwf_prompts):
            raise UsageError(f"{args.lwf_prompts}: no such prompt file (--lwf-prompts)")
        with open(args.lwf_prompts, encoding="utf-8") as f:
            prompts = [ln.strip() for ln in f if ln.strip()]
        if not prompts:
            raise UsageError(f"{args.lwf_prompts}: no prompts in it")
    from videoforge.adapt.adapters import save_adapter
    from videoforge.adapt.finetune import FinetuneConfig, finetune
    from videoforge.cli._common import print_json

    cfg = FinetuneConfig(method=args.method, rank=args.rank, alpha=args.alpha, steps=args.steps,
                         batch_size=args.batch_size, lr=args.lr, replay=args.replay, lwf=args.lwf, seed=args.seed,
                         threads=args.threads)
    try:
        cfg.check()
        adapter = finetune(cfg, args.base, args.data, replay_data=args.replay_data if args.replay > 0 or args.lwf > 0
                           else None, lwf_prompts=prompts, cache_dir=args.cache_dir, captions=args.captions,
                           progress=not args.json)
    except ValueError as e:   # bad checkpoint / export / settings: say which and why
        raise UsageError(str(e)) from e
    save_adapter(args.out, adapter)
    i = adapter.info
    doc = {"adapter": os.path.abspath(args.out), "base": os.path.abspath(args.base), "method": adapter.method,
           "rank": adapter.rank, "trainable_params": i["trainable_params"], "total_params": i["total_params"],
           "trainable_fraction": round(i["trainable_fraction"], 5), "adapter_tensors": adapter.num_params(),
           "rows": i["rows"], "replay_rows": i["replay_rows"], "steps": args.steps, "seconds": i["seconds"],
           "final_loss": i["losses"][-1][1] if i["losses"] else None}
    if args.json:
        print_json(doc)
    else:
        print(f"{adapter.method}: {i['trainable_params']} of {i['total_params']} parameters trained "
              f"({100 * i['trainable_fraction']:.2f} %), {i['rows']} clips, {i['seconds']:.0f} s")
        print(f"adapter: {doc['adapter']}")
    return 0
