"""`python -m videoforge.adapt.demo --base CKPT --out DIR`: both adapters of issue 22 for one checkpoint.

What `make demo-adapt` runs after `make demo-train` (CKPT = demo-out/train/stdit/stdit.pt):

1. new footage: clips of the (colour, shape, direction) triples the demo's generator was never
   trained on (its held-out pairs), through the data engine (`videoforge run` + `export`);
2. `videoforge finetune CKPT --method lora` on them, replaying a quarter of each batch from the
   demo's own training export when it is there (DIR/../train/train_manifest.csv);
3. `videoforge train-text-adapter --base CKPT` (the Chinese prompt adapter, part 2);
4. one prompt generated with and without the LoRA adapter at the same seed: it must differ.

The last two lines printed are the LoRA adapter's path and the Chinese text adapter's path,
each line ending with the path. Re-running with the same --out keeps what is already there.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def log(msg: str):
    print(f"[demo-adapt {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m videoforge.adapt.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="generator checkpoint (make demo-train's)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--replay-data", default=None,
                   help="base-domain export to replay (default: the demo's train_manifest.csv beside the checkpoint)")
    p.add_argument("--per-combo", type=int, default=4, help="new clips per never-seen triple")
    p.add_argument("--steps", type=int, default=200, help="LoRA fine-tuning steps")
    p.add_argument("--rank", type=int, default=4)
    p.add_argument("--text-steps", type=int, default=None,
                   help="text adapter training steps (default: train-text-adapter's, the length benchmarks/zh_cv.py "
                        "validated for its default student: 4000 for the session-9 align student)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: all cores, or 1 when the machine is already loaded)")
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from videoforge.adapt.adapters import load_onto, save_adapter
    from videoforge.adapt.finetune import FinetuneConfig, finetune
    from videoforge.models.pipeline import Pipeline
    from videoforge.synth import shapes
    from videoforge.train.demo import DEMO_RADIUS, _cli, prepare_data

    cores = os.cpu_count() or 1
    torch.set_num_threads(args.threads or (1 if os.getloadavg()[0] >= cores else cores))
    base = os.path.abspath(args.base)
    if not os.path.exists(base):
        print(f"{base}: no such checkpoint (run `make demo-train` first)", file=sys.stderr)
        return 2
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()

    # 1. footage of what the base never saw: the demo's held-out triples (train/demo.py's split)
    _, never_seen = shapes.split_combos(shapes.held_out_pairs(2, seed=args.seed))
    log(f"new footage: {len(never_seen)} never-seen triples x {args.per_combo} clips")
    manifest, _ = prepare_data(os.path.join(out, "data"), args.per_combo, [], args.seed + 7, never_seen, DEMO_RADIUS)

    # 2. LoRA (+ replay of the base's own training export when it is there)
    replay = args.replay_data or os.path.join(os.path.dirname(os.path.dirname(base)), "train_manifest.csv")
    replay = replay if os.path.exists(replay) else None
    lora = os.path.join(out, "lora.safetensors")
    if not os.path.exists(lora):
        cfg = FinetuneConfig(method="lora", rank=args.rank, steps=args.steps, batch_size=16,
                             replay=0.25 if replay else 0.0, seed=args.seed)
        log(f"LoRA rank {args.rank}, {args.steps} steps" + (f", replaying 25 % from {replay}" if replay else ""))
        ad = finetune(cfg, base, manifest, replay_data=replay, cache_dir=os.path.join(out, "cache"))
        save_adapter(lora, ad)
        log(f"LoRA: {ad.info['trainable_params']} of {ad.info['total_params']} parameters trained "
            f"({100 * ad.info['trainable_fraction']:.2f} %), {ad.info['seconds']:.0f} s")

    # 3. the Chinese prompt adapter for the same checkpoint
    zh = os.path.join(out, "zh_text_adapter.pt")
    if not os.path.exists(zh):
        _cli("train-text-adapter", "--base", base, "--out", zh,
             *(("--steps", str(args.text_steps)) if args.text_steps else ()))

    # 4. the adapter changes what generate makes at the same seed
    prompt = shapes.caption_for(*never_seen[0], False)
    pipe = Pipeline.load(base)
    before = pipe.generate(prompt, frames=16, seed=0, steps=20)
    load_onto(pipe, base, [lora])
    after = pipe.generate(prompt, frames=16, seed=0, steps=20)
    diff = np.abs(before.astype(int) - after.astype(int))
    log(f"'{prompt}', seed 0: base vs LoRA clip differ in {100 * (diff > 8).mean():.1f} % of pixel values "
        f"(mean |difference| {diff.mean():.1f}); total {time.time() - t0:.0f} s")
    print(f"LoRA adapter (videoforge generate {base} PROMPT --adapter PATH): {lora}")
    print(f"Chinese text adapter (videoforge generate {base} PROMPT --text-adapter PATH): {zh}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
