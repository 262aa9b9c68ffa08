"""Choose the demo's contrast-guidance scale on TRAINING triples only (issue 19, session 9).

    python benchmarks/train_contrast_select.py CKPT [--w 0 2 4 8 16 32] [--seeds 2] [--word shape]
        [--manifest /tmp/G8/r6k/train_manifest.csv]

For each scale w: every seen (training) triple of the demo's split x --seeds sampling seeds,
sampled as the demo samples (20 Euler steps, cfg 4 / 2, the metric at mid-range) with contrast
guidance on --word at scale w; the checker reads colour, shape and direction. Then motion control
(Spearman of 5 motion levels vs median travel) on 4 seen prompts x 2 seeds at that w.

The rule, fixed before any held-out figure is computed: the largest w of the grid whose seen
colour, shape and direction each stay >= 95 % and whose seen-prompt motion Spearman stays >= the
lower of 0.8 and its value at w = 0 (the guidance must not cost the motion control what it had;
the grid must start with 0).
(No held-out triple is sampled here. With --manifest, the triples are the ones that occur in the
training manifest's captions, a check that the split is the training side.)
Prints one JSON line per w, then {"chosen_w": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

from videoforge.synth import shapes
from videoforge.train import evaluate


def selection_setup(pipe, manifest: str | None):
    """What every training-side selection samples with: the seen triples, the conditioning metric,
    its range and mid-range value, and the 4 seen prompts the motion control is measured on."""
    seen = seen_triples(manifest)
    metric = pipe.scaler.names[0]
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    mc_combos = [seen[i] for i in np.random.default_rng(3).choice(len(seen), 4, replace=False)]
    return pipe, seen, metric, (lo, hi), {metric: (lo + hi) / 2}, mc_combos


def seen_triples(manifest: str | None) -> list[tuple]:
    pairs = shapes.held_out_pairs(2, seed=0)          # the demo's split (demo.py defaults)
    train, held = shapes.split_combos(pairs)
    if manifest:
        import csv

        with open(manifest, newline="") as f:
            caps = {r["text"].split(",")[0] for r in csv.DictReader(f)}
        in_data = [c for c in shapes.combos() if shapes.caption_for(*c, False) in caps]
        if set(in_data) & set(held) or not set(in_data) <= set(train):
            raise SystemExit(f"{manifest}: its triples are not the demo's training side")
        train = in_data
    return train


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--w", type=float, nargs="+", default=[0, 2, 4, 8, 16, 32])
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--word", default="shape", choices=("colour", "shape", "direction"))
    p.add_argument("--manifest", default=None, help="the training manifest, to check the triples are its own")
    p.add_argument("--min-acc", type=float, default=0.95)
    p.add_argument("--min-spearman", type=float, default=0.8)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from videoforge.models.pipeline import Pipeline

    pipe, seen, metric, (lo, hi), mid, mc_combos = selection_setup(Pipeline.load(a.checkpoint), a.manifest)
    chosen, base_rho = None, None
    if a.w[0] != 0:
        raise SystemExit("--w must start with 0 (the reference the rule compares with)")
    for w in a.w:
        kw = dict(steps=20, cfg_text=4.0, cfg_metric=2.0)
        ckw = {}
        if w:
            kw["cfg_contrast"] = w
            ckw = dict(contrast=a.word)
        acc = evaluate.prompt_accuracy(pipe, seen, list(range(100, 100 + a.seeds)), 16, mid, **ckw, **kw)
        mc = evaluate.motion_control(
            pipe, [shapes.caption_for(*c, False) for c in mc_combos], list(np.linspace(lo, hi, 5)), [100, 101], 16,
            metric=metric, contrast_prompts=[evaluate.contrast_captions(c, a.word) for c in mc_combos] if w else None,
            **kw)
        if base_rho is None:
            base_rho = mc["spearman_levels"]
        ok = (all(acc[k] >= a.min_acc for k in ("colour", "shape", "direction"))
              and mc["spearman_levels"] >= min(a.min_spearman, base_rho))
        if ok:
            chosen = w
        print(json.dumps({"w": w, "n": acc["n"], "colour": acc["colour"], "shape": acc["shape"],
                          "direction": acc["direction"], "joint": acc["joint"], "ci95": acc["ci95"],
                          "spearman_seen": mc["spearman_levels"], "median_travel": mc["median_travel"],
                          "passes_rule": ok}), flush=True)
    print(json.dumps({"chosen_w": chosen, "rule": f"largest w with seen colour/shape/direction >= {a.min_acc} "
                      f"and seen motion Spearman >= min({a.min_spearman}, its value at w = 0)", "checkpoint": a.checkpoint}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
