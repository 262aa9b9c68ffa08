"""Held-out prompt accuracy of demo generator checkpoints on fresh sampling seeds.

`make demo-train` scores its checkpoint with generation seeds 0-5; comparing two demo settings
on those same clips would choose on the reported set. This scores each checkpoint on the same
held-out (colour, shape, direction) triples (the default pair hold-out, seed 0) with generation
seeds no evaluation has used (default 100-105), 20 Euler steps, cfg 4 / 2, mid motion level.

    .venv/bin/python benchmarks/train_fresh_eval.py demo-out/train/stdit/stdit.pt [OTHER.pt ...]
"""

from __future__ import annotations

import argparse
import json

import torch

from videoforge.models.pipeline import Pipeline
from videoforge.synth import shapes
from videoforge.train import evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    pairs = shapes.held_out_pairs(2, seed=0)
    _, held = shapes.split_combos(pairs)
    seeds = list(range(a.first_seed, a.first_seed + a.seeds))
    for ck in a.checkpoints:
        pipe = Pipeline.load(ck)
        lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
        res = evaluate.prompt_accuracy(pipe, held, seeds, 16, {pipe.scaler.names[0]: (lo + hi) / 2}, pairs=pairs,
                                       steps=20, cfg_text=4.0, cfg_metric=2.0)
        print(ck, json.dumps({k: res.get(k) for k in ("colour", "shape", "direction", "joint", "ci95", "n")}), flush=True)


if __name__ == "__main__":
    main()
