"""`videoforge scale sweep | fit | predict`: scaling laws for STDiT (issue #21)."""

from __future__ import annotations

import argparse


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers, e.g. 1e11,3e11") from None


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers, e.g. 8,16") from None


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("scale", help="scaling laws: sweep STDiT sizes at fixed compute, fit L(N, D), predict",
                       description="Fit how the validation loss of STDiT falls with model size N (the blocks' "
                                   "matrix parameters) and data D (latent tokens seen) at fixed compute "
                                   "(FLOPs as STDiT.flops_per_sample counts them), Chinchilla-style.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  videoforge scale sweep demo_stdit --set data.manifest=m.csv "
                              "--set autoencoder_checkpoint=ae.pt --budgets 2e11,6e11,2e12 --out sw\n"
                              "  videoforge scale fit sw\n"
                              "  videoforge scale predict sw --params 2e5 --tokens 5e6 --budget 8e12")
    ss = p.add_subparsers(dest="scale_command", metavar="ACTION")

    s = ss.add_parser("sweep", help="train the grid of runs (resumable; appends DIR/runs.jsonl)",
                      description="Train STDiT sizes x budgets x LR x batch, each for budget / (FLOPs per sample "
                                  "x batch) steps, and score each on one fixed validation set (fixed clips, noise "
                                  "seed and timestep grid). Re-running with the same --out skips finished runs and "
                                  "resumes an interrupted one from its last checkpoint.")
    s.add_argument("config", metavar="CONFIG", help="an stdit training config (file or packaged name, as for `train`)")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (as for `train`; data.manifest and autoencoder_checkpoint are needed)")
    s.add_argument("--budgets", type=_floats, required=True, help="compute budgets in FLOPs, comma-separated")
    s.add_argument("--out", required=True, help="sweep folder")
    s.add_argument("--sizes", default="32x2,48x2,64x3,96x3",
                   help="STDiT sizes HIDDENxDEPTH[xHEADS], comma-separated (default 32x2,48x2,64x3,96x3)")
    s.add_argument("--lr-mults", type=_floats, default=[0.5, 1.0, 2.0],
                   help="learning rates as multiples of the config's lr (default 0.5,1,2)")
    s.add_argument("--batches", type=_ints, default=None, help="batch sizes (default: the config's)")
    s.add_argument("--val-fraction", type=float, default=0.1, help="share of clips held out for validation")
    s.add_argument("--val-timesteps", type=int, default=8, help="points of the fixed timestep grid")
    s.add_argument("--min-steps", type=int, default=4, help="skip (budget, size, batch) with fewer steps")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    s.add_argument("--extend-lr", type=int, default=0, metavar="ROUNDS",
                   help="after the grid, train every (budget, size, batch) cell whose best LR is the top (bottom) of "
                        "its LRs at twice (half) that LR, up to ROUNDS extra LRs per cell, so the best LR is interior "
                        "(default 0: the grid only)")
    s.add_argument("--dry-run", action="store_true", help="print the plan (runs, steps, N, D) and stop")
    s.add_argument("--json", action="store_true")

    f = ss.add_parser("fit", help="fit L(N, D), LR and batch laws; write DIR/fit.json and PNGs",
                      description="L(N, D) = E + A/N^alpha + B/D^beta by Huber loss in log space (Chinchilla approach "
                                  "3) with bootstrap intervals over runs; best LR and batch per budget as power laws "
                                  "of compute; isoflop.png, frontier.png, residuals.png.")
    f.add_argument("dir", metavar="DIR")
    f.add_argument("--bootstrap", type=int, default=100, help="bootstrap refits (default 100)")
    f.add_argument("--form", choices=["full", "no_E"], default="full",
                   help="full: E + A/N^alpha + B/D^beta; no_E: E = 0 (four parameters), for sweeps whose losses do "
                        "not flatten enough to identify E (default full)")
    f.add_argument("--interval", choices=["residual", "pairs"], default="residual",
                   help="bootstrap: residual = refit on the fitted values plus resampled residuals, and a new run's "
                        "interval adds one more residual (default); pairs = refit on resampled runs (sessions 6-7)")
    f.add_argument("--huber-delta", type=float, default=1e-3,
                   help="Huber delta in log-loss (default 1e-3, Chinchilla's; 0.1 is least squares for these losses)")
    f.add_argument("--min-steps", type=int, default=0,
                   help="leave out runs of fewer optimiser steps (warm-up dominated; default 0: keep all)")
    f.add_argument("--best-run-loss", action="store_true",
                   help="a cell's point is its best run's loss (sessions 6-7), not the parabola vertex over log LR")
    f.add_argument("--no-plots", action="store_true")
    f.add_argument("--json", action="store_true")

    q = ss.add_parser("predict", help="predicted loss [90%% interval]; recommended LR / batch / size for a budget")
    q.add_argument("dir", metavar="DIR")
    q.add_argument("--params", type=float, required=True, help="N: block matrix parameters")
    q.add_argument("--tokens", type=float, required=True, help="D: latent tokens seen in training")
    q.add_argument("--budget", type=float, default=None,
                   help="FLOPs to recommend for (default: the compute N and D imply)")
    q.add_argument("--level", type=float, default=0.9, help="interval level (default 0.9)")
    q.add_argument("--json", action="store_true")
    return p


def main(args) -> int:
    from videoforge.cli import UsageError

    cmd = getattr(args, "scale_command", None)
    if cmd is None:
        raise UsageError("choose an action: sweep, fit or predict (see `videoforge scale --help`)")
    return {"sweep": _sweep, "fit": _fit, "predict": _predict}[cmd](args)


def _sweep(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json
    from videoforge.cli.train import resolve_config_path
    from videoforge.scale.grid import parse_size
    from videoforge.train.config import load_config

    try:
        cfg = load_config(resolve_config_path(args.config), args.overrides)
        sizes = [parse_size(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError as e:
        raise UsageError(str(e)) from e
    if cfg.task != "stdit":
        raise UsageError(f"{args.config}: task is {cfg.task!r}; scale sweep trains STDiT (task = \"stdit\")")
    if not 0 < args.val_fraction < 1:
        raise UsageError("--val-fraction must be in (0, 1)")
    import torch

    torch.set_num_threads(max(1, args.threads))
    from videoforge.scale.grid import lr_grid
    from videoforge.scale.sweep import sweep

    lrs = lr_grid(cfg.lr, args.lr_mults)
    batches = args.batches or [cfg.batch_size]
    try:
        recs = sweep(cfg, args.out, args.budgets, sizes, lrs, batches, args.val_fraction, args.val_timesteps,
                     args.seed, args.min_steps, dry_run=args.dry_run)
        if args.extend_lr > 0 and not args.dry_run:
            from videoforge.scale.sweep import extend_lr

            recs = extend_lr(cfg, args.out, args.extend_lr, args.val_fraction, args.val_timesteps, args.seed)
    except ValueError as e:
        raise UsageError(str(e)) from e
    if args.json:
        print_json(recs)
    elif args.dry_run:
        for r in recs:
            print(f"{r['run_id']}\tsteps={r['steps']}\tN={r['params']}\tD={r['tokens']}\tC={r['flops']:.3g}")
    else:
        import os

        print(os.path.join(args.out, "runs.jsonl"))
    return 0


def _fit(args) -> int:
    import json
    import os

    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json
    from videoforge.scale.fit import fit_sweep
    from videoforge.scale.sweep import read_runs

    runs = read_runs(args.dir)
    if not runs:
        raise UsageError(f"{args.dir}: no finished runs in runs.jsonl (run `videoforge scale sweep` first)")
    try:
        fit = fit_sweep(runs, n_boot=args.bootstrap, form=args.form, interval=args.interval, delta=args.huber_delta,
                        lr_vertex=not args.best_run_loss, min_steps=args.min_steps)
    except ValueError as e:
        raise UsageError(f"{args.dir}: {e}") from e
    if not args.no_plots:
        from videoforge.scale.plot import plot_all

        fit["plots"] = plot_all(runs, fit, args.dir)
    path = os.path.join(args.dir, "fit.json")
    with open(path + ".tmp", "w") as f:
        json.dump(fit, f, indent=1)
    os.replace(path + ".tmp", path)
    if args.json:
        print_json({k: v for k, v in fit.items() if k != "law"} | {"law": {k: v for k, v in fit["law"].items()
                                                                             if k != "boot_theta"}})
        return 0
    v, ci = fit["law"]["values"], fit["law"]["ci90"]
    print(f"L(N, D) = E + A/N^alpha + B/D^beta from {fit['n_law_points']} (budget, size) points, the best LR of "
          f"each, of {fit['n_runs']} runs "
          f"(C {fit['compute_range'][0]:.3g}..{fit['compute_range'][1]:.3g} FLOPs; 90% bootstrap intervals)")
    for k in ("E", "A", "B", "alpha", "beta"):
        print(f"  {k:5s} = {v[k]:.4g}  [{ci[k][0]:.4g}, {ci[k][1]:.4g}]")
    print(f"  residual log-RMSE {fit['law']['residual_log_rmse']:.4f}; form {fit['law']['form']}, "
          f"{fit['law']['interval']} bootstrap")
    if fit.get("lr_edge_cells"):
        print(f"  warning: {fit['lr_edge_cells']} cell(s) have their best LR at an edge of the LRs tried: their loss is "
              "an upper bound (`scale sweep --extend-lr`)")
    for name in ("lr", "batch", "size"):
        law = fit[f"{name}_law"]
        print(f"best {name} = {law['k']:.4g} x C^{law['p']:.3f} (from {law['n']} budgets)")
    for b in fit["best_per_budget"]:
        print(f"  budget {b['budget']:.3g}: best h{b['hidden']}d{b['depth']} N={b['params']} loss {b['val_loss']:.4f} "
              f"lr {b['lr']:.3g} batch {b['batch']:.3g}")
    print(path)
    return 0


def _predict(args) -> int:
    import json
    import os

    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json
    from videoforge.scale.fit import LawFit, kappa_for, recommend

    path = os.path.join(args.dir, "fit.json")
    if not os.path.exists(path):
        raise UsageError(f"{args.dir}: no fit.json (run `videoforge scale fit {args.dir}` first)")
    if args.params <= 0 or args.tokens <= 0:
        raise UsageError("--params and --tokens must be positive")
    if not 0 < args.level < 1:
        raise UsageError("--level must be in (0, 1)")
    with open(path) as f:
        fit = json.load(f)
    law = LawFit.from_dict(fit["law"])
    loss, lo, hi = law.predict_interval(args.params, args.tokens, args.level)
    _, llo, lhi = law.predict_interval(args.params, args.tokens, args.level, new_run=False)
    budget = args.budget or kappa_for(fit["kappa"], args.params) * args.params * args.tokens
    rec = recommend(fit, budget)
    doc = {"params": args.params, "tokens": args.tokens, "predicted_loss": loss, "interval": [lo, hi],
           "law_interval": [llo, lhi],
           "level": args.level, "recommended": rec}
    if args.json:
        print_json(doc)
        return 0
    print(f"predicted loss {loss:.4f} [{lo:.4f}, {hi:.4f}] ({args.level:.0%} bootstrap) at N={args.params:.4g} "
          f"D={args.tokens:.4g}")
    if law.resid is not None:
        print(f"  (interval for a new run's measured loss; the law's own value: [{llo:.4f}, {lhi:.4f}])")
    print(f"budget {budget:.3g} FLOPs ({rec['extrapolation']:.2g}x the largest fitted run): N={rec['params']:.4g} "
          f"D={rec['tokens']:.4g} lr={rec['lr']:.3g} batch={rec['batch']} -> loss {rec['predicted_loss']:.4f}")
    return 0
