"""Training-side shape check of a demo generator (issue 19, session 12): no held-out triple is sampled.

    python benchmarks/train_shape_val.py GENERATOR.pt [--split-seed S] [--raw LAST.pt] [--steps 20]
                                        [--cfg-text 4] [--seeds 2]

Samples every SEEN triple of the 4 test colours (32 with the demo's pair hold-out) and one seen
triple per (training-only colour, shape) (24) with the demo's sampler (mid motion level) and reads
them with the checker: shape accuracy on the training side, split into test colours / training-only
colours, with the confusion. `--split-seed` must be the demo's `--seed` the generator was trained
with (it decides which triples are held out, and those are never sampled here). `--raw LAST.pt`
swaps in the raw (non-EMA) weights of a training's last.pt, to see what the EMA does.
Used to compare samplers / training checkpoints without consulting the held-out test.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def seen_combos(split_seed: int) -> tuple[list, list]:
    from videoforge.synth import shapes

    pairs = shapes.held_out_pairs(2, seed=split_seed)
    train, _ = shapes.split_combos(pairs)
    return train, shapes.one_seen_extra_triple_each(pairs)


def main(argv=None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--split-seed", type=int, default=0, help="the demo's --seed of this generator's training")
    p.add_argument("--raw", default=None, help="a last.pt whose raw (non-EMA) weights replace the checkpoint's")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--cfg-text", type=float, default=4.0)
    p.add_argument("--cfg-metric", type=float, default=2.0)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--motion", action="store_true",
                   help="also the motion control on 4 seen prompts (5 levels x 2 seeds): Spearman of level vs travel")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)

    from videoforge.models.pipeline import Pipeline
    from videoforge.synth import shapes
    from videoforge.train import evaluate

    pipe = Pipeline.load(a.checkpoint)
    if a.raw:
        model = torch.load(a.raw, map_location="cpu", weights_only=True)["model"]
        st = {k[len("stdit."):]: v for k, v in model.items() if k.startswith("stdit.")}
        tx = {k[len("text_encoder."):]: v for k, v in model.items() if k.startswith("text_encoder.")}
        pipe.gen.stdit.load_state_dict(st)
        if tx:
            pipe.gen.text_encoder.load_state_dict(tx)
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    mid = {pipe.scaler.names[0]: (lo + hi) / 2}
    test_c, extra_c = seen_combos(a.split_seed)
    t0 = time.time()
    out = {"checkpoint": a.checkpoint, "raw": a.raw, "split_seed": a.split_seed, "steps": a.steps,
           "cfg_text": a.cfg_text, "cfg_metric": a.cfg_metric}
    shape_all = []
    for name, combos in (("test_colours_seen", test_c), ("training_only_colours", extra_c)):
        r = evaluate.prompt_accuracy(pipe, combos, list(range(a.seeds)), 16, mid, steps=a.steps,
                                     cfg_text=a.cfg_text, cfg_metric=a.cfg_metric)
        out[name] = {"n": r["n"], "shape": round(r["shape"], 4), "direction": round(r["direction"], 4),
                     "confusion": r["confusion_shape"]}
        shape_all += [r["shape"]] * r["n"]
    if a.motion:
        levels = list(np.linspace(lo, hi, 5))
        prompts = [shapes.caption_for(*c, False) for c in test_c[::max(1, len(test_c) // 4)][:4]]
        mc = evaluate.motion_control(pipe, prompts, levels, [0, 1], 16, metric=pipe.scaler.names[0], steps=a.steps,
                                     cfg_text=a.cfg_text, cfg_metric=a.cfg_metric)
        out["motion_seen"] = {k: mc[k] for k in ("median_travel", "spearman_levels", "spearman_all_samples", "n")}
    n = len(shape_all)
    out["shape_pooled"] = round(float(np.mean(shape_all)), 4)
    out["n"] = n
    out["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
