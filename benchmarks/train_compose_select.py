"""Choose the demo's composable-sampling weights on TRAINING triples only (issue 19, session 10).

    python benchmarks/train_compose_select.py CKPT [--candidates 4:0,0,0 4:2,2,2 0:4,4,4 ...]
        [--seeds 2] [--manifest /tmp/G10/train_manifest_st.csv]

A candidate "T:C,S,D" samples with text guidance T on the whole caption plus composable sampling
(models/flow.py euler_sample `compose`) with weights C, S, D on the caption's colour, shape and
direction words alone. For each candidate: every seen (training) triple of the demo's split x
--seeds sampling seeds, sampled as the demo samples (20 Euler steps, metric guidance 2, the metric
at mid-range); the checker reads colour, shape and direction. Then motion control (Spearman of 5
motion levels vs median travel) on 4 seen prompts x 2 seeds.

The rule, fixed before any held-out figure is computed: among the candidates whose seen colour,
shape and direction each stay >= 95 % and whose seen-prompt motion Spearman stays >= the lower of
0.8 and the first candidate's (the reference, plain CFG), take the one with the largest share of
the guidance on the parts, C+S+D / (T+C+S+D) (composition is what the held-out pairs need; the
training side says how much of it the model tolerates), ties to the larger C+S+D, then to the
one listed first. No held-out triple is sampled here.
Prints one JSON line per candidate, then {"chosen": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from train_contrast_select import selection_setup  # noqa: E402  (the same split check and setup)

from videoforge.synth import shapes  # noqa: E402
from videoforge.train import evaluate  # noqa: E402

DEFAULT = ["4:0,0,0", "4:1,1,1", "4:2,2,2", "4:4,4,4", "0:2,2,2", "0:4,4,4", "0:8,8,8"]


def parse(c: str) -> tuple[float, list[float]]:
    t, parts = c.split(":")
    w = [float(x) for x in parts.split(",")]
    if len(w) != 3:
        raise SystemExit(f"candidate {c!r}: want T:C,S,D")
    return float(t), w


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--candidates", nargs="+", default=DEFAULT)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--manifest", default=None, help="the training manifest, to check the triples are its own")
    p.add_argument("--min-acc", type=float, default=0.95)
    p.add_argument("--min-spearman", type=float, default=0.8)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from videoforge.models.pipeline import Pipeline

    pipe, seen, metric, (lo, hi), mid, mc_combos = selection_setup(Pipeline.load(a.checkpoint), a.manifest)
    best, best_key, base_rho = None, None, None
    for cand in a.candidates:
        t, w = parse(cand)
        kw = dict(steps=20, cfg_text=t, cfg_metric=2.0)
        if any(w):
            kw["compose_weights"] = w
        acc = evaluate.prompt_accuracy(pipe, seen, list(range(100, 100 + a.seeds)), 16, mid, **kw)
        mkw = dict(kw, compose_prompts=[evaluate.compose_captions(c) for c in mc_combos]) if any(w) else kw
        mc = evaluate.motion_control(pipe, [shapes.caption_for(*c, False) for c in mc_combos],
                                     list(np.linspace(lo, hi, 5)), [100, 101], 16, metric=metric, **mkw)
        if base_rho is None:
            base_rho = mc["spearman_levels"]
        ok = (all(acc[k] >= a.min_acc for k in ("colour", "shape", "direction"))
              and mc["spearman_levels"] >= min(a.min_spearman, base_rho))
        key = (sum(w) / max(t + sum(w), 1e-9), sum(w))
        if ok and (best_key is None or key > best_key):
            best, best_key = cand, key
        print(json.dumps({"candidate": cand, "n": acc["n"], "colour": acc["colour"], "shape": acc["shape"],
                          "direction": acc["direction"], "joint": acc["joint"], "ci95": acc["ci95"],
                          "spearman_seen": mc["spearman_levels"], "median_travel": mc["median_travel"],
                          "passes_rule": ok}), flush=True)
    print(json.dumps({"chosen": best, "rule": f"seen colour/shape/direction >= {a.min_acc} and seen motion "
                      f"Spearman >= min({a.min_spearman}, the first candidate's); then the largest share of "
                      "guidance on the parts, ties to the larger part sum, then the first listed",
                      "checkpoint": a.checkpoint}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
