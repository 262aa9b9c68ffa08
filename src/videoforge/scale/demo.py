"""`python -m videoforge.scale.demo --out DIR` (`make demo-scale`): sweep, fit, then predict a held-out run.

1. data: the shapes demo's training manifest and autoencoder from `make demo-train`
   (DEMO/train/train_manifest.csv, DEMO/train/autoencoder/autoencoder.pt) when present, else
   the same data and autoencoder made here (videoforge.train.demo's steps);
2. `scale sweep` over the budgets, sizes and LR grid; 3. `scale fit`;
4. one held-out run at --holdout-factor x the largest budget (default 4), at the ladder size
   nearest the fit's compute-optimal N and the fitted LR / batch, scored on the same fixed
   validation set; its loss is compared with the prediction (90 % bootstrap interval) and with
   the naive baseline (the loss of the best run at the largest fitted budget).

The last line printed is `predicted LOSS [LO, HI] measured LOSS`. Re-running resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time


def _data(out: str, demo_train: str) -> tuple[str, str]:
    """(manifest, autoencoder checkpoint): make demo-train's, or made here the same way."""
    man = os.path.join(demo_train, "train_manifest.csv")
    ae = os.path.join(demo_train, "autoencoder", "autoencoder.pt")
    if os.path.exists(man) and os.path.exists(ae):
        return man, ae
    from videoforge.synth import shapes
    from videoforge.train.config import load_config
    from videoforge.train.demo import CONFIG_DIR, DEMO_RADIUS, prepare_data
    from videoforge.train.loop import train

    data = os.path.join(out, "data")
    pairs = shapes.held_out_pairs(2, seed=0)
    train_combos, held_out = shapes.split_combos(pairs)
    man, _ = prepare_data(data, 13, held_out, 0, train_combos, DEMO_RADIUS)
    cfg = load_config(os.path.join(CONFIG_DIR, "demo_autoencoder.toml"),
                      [f"data.manifest={man}", f"out_dir={os.path.join(data, 'autoencoder')}",
                       f"data.cache_dir={os.path.join(data, 'cache')}"])
    return man, train(cfg)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m videoforge.scale.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--demo-train", default="demo-out/train", help="make demo-train's folder (reused if present)")
    p.add_argument("--budgets", default="3e10,1e11,3e11")
    p.add_argument("--sizes", default="32x2,48x2,64x3")
    # session 8: at these run lengths the best LR was 8x-16x the config's (docs/benchmarks/scale.md)
    p.add_argument("--lr-mults", default="2,4,8")
    p.add_argument("--extend-lr", type=int, default=2,
                   help="extra LRs per cell beyond a grid edge until the best is interior (default 2)")
    p.add_argument("--batches", default="8")
    p.add_argument("--holdout-factor", type=float, default=4.0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--bootstrap", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    from videoforge.scale.fit import LawFit, fit_sweep, recommend
    from videoforge.scale.grid import lr_grid, parse_size
    from videoforge.scale.plot import plot_all
    from videoforge.scale.sweep import log, read_runs, sweep
    from videoforge.train.config import load_config
    from videoforge.train.demo import CONFIG_DIR

    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    man, ae = _data(out, a.demo_train)
    cache = os.path.join(out, "cache")
    base = load_config(os.path.join(CONFIG_DIR, "demo_stdit.toml"),
                       [f"data.manifest={man}", f"autoencoder_checkpoint={ae}", f"data.cache_dir={cache}"])
    budgets = [float(x) for x in a.budgets.split(",")]
    sizes = [parse_size(s) for s in a.sizes.split(",")]
    lrs = lr_grid(base.lr, [float(x) for x in a.lr_mults.split(",")])
    batches = [int(x) for x in a.batches.split(",")]
    sw = os.path.join(out, "sweep")
    t_data = time.time()
    runs = sweep(base, sw, budgets, sizes, lrs, batches, a.val_fraction)
    if a.extend_lr > 0:
        from videoforge.scale.sweep import extend_lr

        runs = extend_lr(base, sw, a.extend_lr, a.val_fraction)
    t_sweep = time.time()
    fit = fit_sweep(runs, n_boot=a.bootstrap)
    fit["plots"] = plot_all(runs, fit, sw)
    with open(os.path.join(sw, "fit.json"), "w") as f:
        json.dump(fit, f, indent=1)

    # the held-out run: beyond the fitted compute, at what the fit recommends
    hb = max(budgets) * a.holdout_factor
    rec = recommend(fit, hb)
    size = min(sizes, key=lambda s: abs(math.log(_params(s, base) / rec["params"])))
    lr = min(lrs, key=lambda x: abs(math.log(x / rec["lr"])))
    batch = min(batches, key=lambda b: abs(b - rec["batch"]))
    ho = os.path.join(out, "holdout")
    os.makedirs(ho, exist_ok=True)
    for name in ("val.pt", "train_manifest.csv"):        # the same validation set and training split
        if not os.path.exists(os.path.join(ho, name)):
            shutil.copy(os.path.join(sw, name), os.path.join(ho, name))
    log(f"held-out run: budget {hb:.3g} ({a.holdout_factor:g}x), {size.name}, lr {lr:g}, batch {batch}")
    done = sweep(base, ho, [hb], [size], [lr], [batch], a.val_fraction)
    if not done:
        print("held-out run failed: see " + os.path.join(ho, "runs.jsonl"), file=sys.stderr)
        return 1
    h = done[0]
    law = LawFit.from_dict(fit["law"])
    pred, lo, hi = law.predict_interval(h["params"], h["tokens"], 0.9)
    _, lo95, hi95 = law.predict_interval(h["params"], h["tokens"], 0.95)
    largest = [r for r in runs if r["budget"] == max(budgets)]
    naive = min(r["val_loss"] for r in largest)
    measured = h["val_loss"]
    doc = {"holdout": h, "predicted": pred, "ci90": [lo, hi], "ci95": [lo95, hi95], "measured": measured,
           "relative_error": abs(pred - measured) / measured, "naive_baseline": naive,
           "naive_relative_error": abs(naive - measured) / measured, "ci90_half_width_rel": (hi - lo) / 2 / pred,
           "inside_ci90": lo <= measured <= hi, "recommended": rec, "n_runs": len(runs),
           "seconds": {"data": round(t_data - t0, 1), "sweep": round(t_sweep - t_data, 1),
                       "holdout_and_fit": round(time.time() - t_sweep, 1), "total": round(time.time() - t0, 1)}}
    with open(os.path.join(out, "holdout.json"), "w") as f:
        json.dump(doc, f, indent=1)
    log(f"naive baseline (best run at the largest fitted budget) {naive:.4f}: relative error "
        f"{doc['naive_relative_error']:.1%}; fit: {doc['relative_error']:.1%}")
    print(f"predicted {pred:.4f} [{lo:.4f}, {hi:.4f}] measured {measured:.4f}")
    return 0


def _params(size, base) -> int:
    from videoforge.scale.grid import block_params, stdit_for

    return block_params(stdit_for(size, base.stdit, 4, 16, ["m"]))


if __name__ == "__main__":
    sys.exit(main())
