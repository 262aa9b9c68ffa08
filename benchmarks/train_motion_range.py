"""Is the demo's motion control limited by the level grid? (issue 19, session 9; training side only)

    python benchmarks/train_motion_range.py CKPT --manifest /tmp/G8/r6k/train_manifest.csv [--seeds 2]

The demo's motion control samples 5 levels from the 1st to the 99th percentile of the conditioning
metric over ALL training clips. `motion_peak` per unit of travel depends on the shape, so the top
levels lie outside the range a circle or a triangle was ever trained with. This samples SEEN
triples (2 per shape; no held-out triple) at two grids and prints the Spearman of level vs median
travel for each: "global" (the demo's grid) and "per-shape" (1st to 99th percentile of the metric
among the training clips of the prompt's shape, read from the manifest's captions).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np
import torch
from scipy.stats import spearmanr

from videoforge.synth import shapes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--manifest", required=True)
    p.add_argument("--seeds", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(a.checkpoint)
    metric = pipe.scaler.names[0]
    with open(a.manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    rows = [r for r in rows if r.get(metric) not in ("", None)]       # a clip the engine gave no value
    by_shape = {s: np.array([float(r[metric]) for r in rows if f" {s} " in f" {r['text']} "]) for s in shapes.SHAPES}
    train, _ = shapes.split_combos(shapes.held_out_pairs(2, seed=0))
    rng = np.random.default_rng(11)
    combos = [c for s in shapes.SHAPES for c in
              [x for x in (train[i] for i in rng.permutation(len(train))) if x[1] == s][:2]]
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    grids = {"global": {s: np.linspace(lo, hi, 5) for s in shapes.SHAPES},
             "per-shape": {s: np.linspace(*np.percentile(by_shape[s], [1, 99]), 5) for s in shapes.SHAPES}}
    for name, grid in grids.items():
        travel = [[] for _ in range(5)]
        per_shape = {s: [[] for _ in range(5)] for s in shapes.SHAPES}
        for k in range(5):
            for seed in range(100, 100 + a.seeds):
                for c in combos:
                    v = pipe.generate(shapes.caption_for(*c, False), metrics={metric: float(grid[c[1]][k])},
                                      frames=16, seed=seed, steps=20, cfg_text=4.0, cfg_metric=2.0)
                    r = shapes.read_clip(v)
                    if r.direction is not None:
                        travel[k].append(r.travel)
                        per_shape[c[1]][k].append(r.travel)
        med = [float(np.median(t)) for t in travel]
        print(json.dumps({"grid": name, "levels": {s: [round(float(x), 2) for x in g] for s, g in grid.items()},
                          "prompts": [list(c) for c in combos], "n": sum(len(t) for t in travel),
                          "median_travel": [round(m, 3) for m in med],
                          "spearman_levels": float(spearmanr(range(5), med).statistic),
                          "per_shape_median_travel": {s: [round(float(np.median(t)), 3) if t else None for t in v]
                                                      for s, v in per_shape.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
