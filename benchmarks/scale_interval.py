"""Scaling-law prediction of a held-out run, its 90 % interval, and the LR check (issue #21 part 1).

Reads a sweep folder (DIR/runs.jsonl from `videoforge scale sweep`, LR grid extended with
`--extend-lr` so each cell's best LR is interior) and a held-out folder (runs at one size and a
compute beyond the sweep's largest, at several LRs). For each fitting choice (form full / no_E,
residual / pairs bootstrap, runs of fewer than --min-steps steps left out or not) it prints:
the training-side cross-validation (fit every budget but the largest, predict the largest),
then the held-out prediction [90 % interval for a new run's loss, and the law's own interval]
against the measured loss at the held-out size's tuned LR (parabola vertex over its LR sweep,
the same rule that makes each fitted point), the relative error, the interval's half-width,
and the naive baseline (the best tuned loss at the largest fitted budget). The LR check: the
fitted LR law's value at the held-out compute vs the held-out LR sweep's best.

    python benchmarks/scale_interval.py SWEEP_DIR HOLDOUT_DIR --bootstrap 200 --json out.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

import numpy as np

from videoforge.scale.fit import (LawFit, cell_points, cross_validate, eval_power, fit_sweep, _lr_vertex_loss)
from videoforge.scale.sweep import read_runs


def holdout_target(ho_runs: list[dict]) -> dict:
    """The held-out size's tuned loss (vertex over its LRs), its best run, and its LRs."""
    sizes = {(r["params"], r["tokens"]) for r in ho_runs}
    if len(sizes) != 1:
        raise SystemExit(f"held-out folder has {len(sizes)} (N, D) points; expected one size at one budget")
    (n, d), = sizes
    loss, interior = _lr_vertex_loss(ho_runs)
    best = min(ho_runs, key=lambda r: r["val_loss"])
    lrs = sorted(ho_runs, key=lambda r: r["lr"])
    lx = np.log([r["lr"] for r in lrs])
    i = int(np.argmin([r["val_loss"] for r in lrs]))
    best_lr = best["lr"]
    if 0 < i < len(lrs) - 1:                     # vertex of the parabola in log LR
        c2, c1, _ = np.polyfit(lx[i - 1:i + 2], [r["val_loss"] for r in lrs[i - 1:i + 2]], 2)
        if c2 > 0:
            best_lr = float(np.exp(-c1 / (2 * c2)))
    return {"params": n, "tokens": d, "flops": best["flops"], "tuned_loss": loss, "lr_interior": interior,
            "best_run_loss": best["val_loss"], "best_run_lr": best["lr"], "best_lr_vertex": best_lr,
            "lr_sweep": {r["lr"]: r["val_loss"] for r in lrs}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sweep")
    p.add_argument("holdout")
    p.add_argument("--bootstrap", type=int, default=200)
    p.add_argument("--min-steps", default="0,50", help="candidates for leaving out short runs")
    p.add_argument("--forms", default="full,no_E")
    p.add_argument("--intervals", default="residual,pairs")
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    runs, ho_runs = read_runs(a.sweep), read_runs(a.holdout)
    tgt = holdout_target(ho_runs)
    top = max(r["budget"] for r in runs)
    rows = []
    for form, interval, ms in itertools.product(a.forms.split(","), a.intervals.split(","),
                                                [int(x) for x in a.min_steps.split(",")]):
        fit = fit_sweep(runs, n_boot=a.bootstrap, form=form, interval=interval, min_steps=ms)
        law = LawFit.from_dict(fit["law"])
        pred, lo, hi = law.predict_interval(tgt["params"], tgt["tokens"], 0.9)
        _, llo, lhi = law.predict_interval(tgt["params"], tgt["tokens"], 0.9, new_run=False)
        naive = min(q["loss"] for q in fit["points"] if q["budget"] == top)
        m = tgt["tuned_loss"]
        row = {"form": form, "interval": interval, "min_steps": ms, "n_points": fit["n_law_points"],
               "lr_edge_cells": fit["lr_edge_cells"], "values": fit["law"]["values"],
               "residual_log_rmse": fit["law"]["residual_log_rmse"], "predicted": pred, "ci90": [lo, hi],
               "law_ci90": [llo, lhi], "measured": m, "rel_error": abs(pred - m) / m, "inside": lo <= m <= hi,
               "half_width_rel": (hi - lo) / 2 / pred, "law_half_width_rel": (lhi - llo) / 2 / pred,
               "naive": naive, "naive_rel_error": abs(naive - m) / m,
               "lr_law": fit["lr_law"], "lr_predicted": eval_power(fit["lr_law"], tgt["flops"])}
        try:
            row["cv"] = cross_validate(cell_points(runs, True, ms), form, interval, n_boot=max(30, a.bootstrap // 4))
        except ValueError as e:          # too few points below the largest budget for this form
            row["cv"] = {"error": str(e)}
        rows.append(row)
        cv = row["cv"]
        cvs = (f"CV err {cv['mean_rel_error']:.1%} cover {cv['coverage']:.2f} hw {cv['mean_half_width_rel']:.1%}"
               if "coverage" in cv else f"CV: {cv['error']}")
        print(f"{form:5s} {interval:8s} min-steps {ms:3d} n={row['n_points']:2d} rmse {row['residual_log_rmse']:.3f} | "
              f"pred {pred:.4f} [{lo:.4f}, {hi:.4f}] (law [{llo:.4f}, {lhi:.4f}]) measured {m:.4f} "
              f"err {row['rel_error']:.1%} hw {row['half_width_rel']:.1%} (law {row['law_half_width_rel']:.1%}) "
              f"inside {row['inside']} | naive {naive:.4f} err {row['naive_rel_error']:.1%} | "
              f"LR law {row['lr_predicted']:.3g} | {cvs}", flush=True)
    print(f"held-out: N={tgt['params']} D={tgt['tokens']} C={tgt['flops']:.3g} ({tgt['flops'] / top:.1f}x the largest "
          f"fitted budget); LR sweep {tgt['lr_sweep']}; best LR {tgt['best_run_lr']:g} (vertex {tgt['best_lr_vertex']:.3g}, "
          f"interior {tgt['lr_interior']}); tuned loss {tgt['tuned_loss']:.4f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"holdout": tgt, "fits": rows}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
