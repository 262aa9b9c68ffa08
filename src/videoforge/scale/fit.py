"""Fit L(N, D) = E + A / N^alpha + B / D^beta and the best LR / batch as power laws of compute.

The fit follows Hoffmann et al. (Chinchilla, approach 3): parameters (e, a, b, alpha, beta)
with E = exp(e), A = exp(a), B = exp(b); the model's log-loss is
logsumexp(a - alpha log N, b - beta log D, e), and the objective is the Huber loss
(delta 1e-3) of its difference to the measured log-loss, minimised by L-BFGS-B from the best
points of a grid of starts.

Intervals (`interval`): "residual" (the default since session 8) refits on the fitted values plus
residuals resampled with replacement (inflated by sqrt(n / (n - p)) for the p fitted parameters),
and the interval for a new run adds one more resampled residual (its own scatter around the law:
training-seed noise and what the law does not model); "pairs" (sessions 6-7) refits on runs
resampled with replacement, which with ~10 points and 5 parameters often leaves too few distinct
points to pin E, A and B and made the interval wide and lopsided. `form` "no_E" fixes E = 0 (four
parameters) for sweeps whose losses do not flatten enough to identify an irreducible loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize


def logsumexp(z, axis=0):
    """log(sum(exp(z))) along `axis`, stable (numpy only: scipy's costs more than the fit's own work)."""
    m = z.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)

PARAMS = ("E", "A", "B", "alpha", "beta")


def _huber(r, delta):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _pred_log(theta, logN, logD):
    e, a, b, al, be = theta
    return logsumexp(np.stack([a - al * logN, b - be * logD, np.full_like(logN, e)]), axis=0)


def _objective(theta, logN, logD, logL, delta):
    return float(_huber(_pred_log(theta, logN, logD) - logL, delta).sum())


def _objective_grad(theta, logN, logD, logL, delta):
    """Huber objective and its analytic gradient (the softmax weights of the log-sum-exp)."""
    e, a, b, al, be = theta
    z = np.stack([a - al * logN, b - be * logD, np.full_like(logN, e)])
    p = logsumexp(z, axis=0)
    w = np.exp(z - p)
    r = p - logL
    g = np.clip(r, -delta, delta)
    grad = np.array([(g * w[2]).sum(), (g * w[0]).sum(), (g * w[1]).sum(),
                     -(g * w[0] * logN).sum(), -(g * w[1] * logD).sum()])
    return float(_huber(r, delta).sum()), grad


NO_E = -30.0       # log E of the reduced form: E = 1e-13, nothing next to losses of ~1
FORMS = ("full", "no_E")


def _bounds(logL, form: str = "full"):
    # E below the smallest loss seen (it is the loss of an infinite model on infinite data)
    e = (NO_E, NO_E) if form == "no_E" else (-12.0, float(logL.min()))
    return [e, (-10.0, 40.0), (-10.0, 40.0), (0.0, 3.0), (0.0, 3.0)]


def _refine(starts, logN, logD, logL, delta, form: str = "full"):
    best = None
    for s in starts:
        s = np.array(s, float)
        if form == "no_E":
            s[0] = NO_E
        r = minimize(_objective_grad, s, args=(logN, logD, logL, delta), jac=True, method="L-BFGS-B",
                     bounds=_bounds(logL, form), options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 3000})
        if best is None or r.fun < best.fun:
            best = r
    return best.x, float(best.fun)


def _grid_starts(logL, top: int = 8):
    lo = float(logL.min())
    grid = np.array(np.meshgrid(np.linspace(-3, lo - 0.05, 5), np.arange(0, 26, 5), np.arange(0, 26, 5),
                                np.arange(0.0, 2.01, 0.5), np.arange(0.0, 2.01, 0.5), indexing="ij")).reshape(5, -1).T
    return grid, top


@dataclass
class LawFit:
    theta: np.ndarray                      # (e, a, b, alpha, beta)
    boot: np.ndarray                       # (n_boot, 5) refits on resampled runs
    n: int
    delta: float = 1e-3
    extra: dict = field(default_factory=dict)
    resid: np.ndarray | None = None        # inflated log residuals ("residual" intervals): a new run's scatter
    form: str = "full"
    interval: str = "pairs"

    @property
    def values(self) -> dict:
        e, a, b, al, be = self.theta
        return {"E": math.exp(e), "A": math.exp(a), "B": math.exp(b), "alpha": al, "beta": be}

    def intervals(self, level: float = 0.9) -> dict:
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        bt = self.boot.copy()
        bt[:, :3] = np.exp(bt[:, :3])
        return {k: [float(x) for x in np.percentile(bt[:, i], q)] for i, k in enumerate(PARAMS)}

    def predict(self, N, D) -> np.ndarray:
        logN, logD = np.log(np.atleast_1d(np.asarray(N, float))), np.log(np.atleast_1d(np.asarray(D, float)))
        return np.exp(_pred_log(self.theta, logN, logD))

    def predict_interval(self, N, D, level: float = 0.9, new_run: bool = True) -> tuple[float, float, float]:
        """(prediction, lo, hi). With residual intervals and new_run, the interval is for the loss a new run
        will measure (the law's uncertainty plus one resampled residual); new_run=False: the law's value."""
        logN, logD = np.log(np.array([float(N)])), np.log(np.array([float(D)]))
        logs = np.array([_pred_log(t, logN, logD)[0] for t in self.boot])
        if new_run and self.resid is not None and len(self.resid):
            rng = np.random.default_rng(1)
            logs = logs + rng.choice(self.resid, len(logs))
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        lo, hi = np.exp(np.percentile(logs, q))
        return float(self.predict(N, D)[0]), float(lo), float(hi)

    def to_dict(self) -> dict:
        return {"values": self.values, "ci90": self.intervals(0.9), "ci95": self.intervals(0.95), "n": self.n,
                "n_boot": int(len(self.boot)), "huber_delta": self.delta, "theta": [float(x) for x in self.theta],
                "boot_theta": self.boot.tolist(), "form": self.form, "interval": self.interval,
                "resid_inflated": None if self.resid is None else [float(x) for x in self.resid], **self.extra}

    @classmethod
    def from_dict(cls, d: dict) -> "LawFit":
        resid = d.get("resid_inflated")
        return cls(np.array(d["theta"]), np.array(d["boot_theta"]).reshape(-1, 5), d["n"], d.get("huber_delta", 1e-3),
                   resid=None if resid is None else np.array(resid, float), form=d.get("form", "full"),
                   interval=d.get("interval", "pairs"))


def fit_law(N, D, L, n_boot: int = 100, delta: float = 1e-3, seed: int = 0, form: str = "full",
            interval: str = "residual") -> LawFit:
    """Chinchilla fit with bootstrap refits (residuals, or runs, resampled with replacement)."""
    if form not in FORMS:
        raise ValueError(f"form {form!r}: expected one of {FORMS}")
    if interval not in ("residual", "pairs"):
        raise ValueError(f"interval {interval!r}: expected residual or pairs")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:      # only a speed matter
        import contextlib

        limits = contextlib.nullcontext()
    else:
        # L-BFGS-B's tiny BLAS calls over many threads ran 14x slower on a loaded 2-core machine
        limits = threadpool_limits(1)
    with limits:
        return _fit_law(N, D, L, n_boot, delta, seed, form, interval)


def _fit_law(N, D, L, n_boot, delta, seed, form="full", interval="pairs") -> LawFit:
    N, D, L = (np.asarray(x, float) for x in (N, D, L))
    k = 4 if form == "no_E" else 5
    if len(L) < k + (interval == "residual"):
        raise ValueError(f"{len(L)} runs: fitting {k} parameters needs at least {k + (interval == 'residual')}")
    logN, logD, logL = np.log(N), np.log(D), np.log(L)
    grid, top = _grid_starts(logL)
    if form == "no_E":
        grid = np.unique(np.c_[np.full(len(grid), NO_E), grid[:, 1:]], axis=0)
    # the whole grid at once: (G, 3, n) log-sum-exp
    z = np.stack([grid[:, 1:2] - grid[:, 3:4] * logN, grid[:, 2:3] - grid[:, 4:5] * logD,
                  np.repeat(grid[:, 0:1], len(logN), 1)], axis=1)
    vals = _huber(logsumexp(z, axis=1) - logL, delta).sum(1)
    starts = grid[np.argsort(vals)[:top]]
    theta, _ = _refine(starts, logN, logD, logL, delta, form)
    fitted = _pred_log(theta, logN, logD)
    resid = logL - fitted
    infl = resid * math.sqrt(len(L) / max(1, len(L) - k))
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        # from the full fit and the best grid starts: a resample rarely moves the optimum far
        if interval == "residual":      # same design (N, D); new scatter drawn from the fit's own residuals
            th, _ = _refine([theta, *starts[:3]], logN, logD, fitted + rng.choice(infl, len(L)), delta, form)
        else:
            idx = rng.integers(0, len(L), len(L))
            th, _ = _refine([theta, *starts[:3]], logN[idx], logD[idx], logL[idx], delta, form)
        boot.append(th)
    return LawFit(theta, np.array(boot).reshape(-1, 5), len(L), delta,
                  {"residual_log_rmse": float(np.sqrt(np.mean(resid ** 2)))},
                  resid=infl if interval == "residual" else None, form=form, interval=interval)


def power_law(x, y) -> dict:
    """y = k x^p by least squares in log-log; with one point only the constant (p = 0)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if len(np.unique(lx)) < 2:
        return {"k": float(np.exp(ly.mean())), "p": 0.0, "n": int(len(lx))}
    p, c = np.polyfit(lx, ly, 1)
    return {"k": float(np.exp(c)), "p": float(p), "n": int(len(lx))}


def eval_power(law: dict, x: float) -> float:
    return law["k"] * float(x) ** law["p"]


def _vertex(xs, losses) -> float:
    """Best x on a log grid: the vertex of a parabola through log x when there are >= 3 points and it
    opens upward (clamped to the grid), else the grid's argmin."""
    lx = np.log(np.asarray(xs, float))
    ls = np.asarray(losses, float)
    i = int(np.argmin(ls))
    if len(lx) >= 3 and 0 < i < len(lx) - 1:
        c2, c1, _ = np.polyfit(lx, ls, 2)
        if c2 > 0:
            return float(np.exp(np.clip(-c1 / (2 * c2), lx.min(), lx.max())))
    return float(np.exp(lx[i]))


def best_hparams(runs: list[dict]) -> list[dict]:
    """Per budget: the best size, and the best LR (at that size and batch) and batch (at that size and LR)."""
    out = []
    for budget in sorted({r["budget"] for r in runs}):
        at = [r for r in runs if r["budget"] == budget]
        best = min(at, key=lambda r: r["val_loss"])
        same = [r for r in at if (r["hidden"], r["depth"]) == (best["hidden"], best["depth"])]
        by_lr = sorted((r for r in same if r["batch"] == best["batch"]), key=lambda r: r["lr"])
        by_b = sorted((r for r in same if r["lr"] == best["lr"]), key=lambda r: r["batch"])
        out.append({"budget": budget, "flops": best["flops"], "params": best["params"], "tokens": best["tokens"],
                    "hidden": best["hidden"], "depth": best["depth"], "val_loss": best["val_loss"],
                    "lr_grid_best": best["lr"], "batch_grid_best": best["batch"],
                    "lr": _vertex([r["lr"] for r in by_lr], [r["val_loss"] for r in by_lr]),
                    "batch": _vertex([r["batch"] for r in by_b], [r["val_loss"] for r in by_b])})
    return out


def flops_per_param_token(runs: list[dict]) -> dict:
    """C / (N D) per model size (6-ish plus the attention share), for turning a budget into D."""
    by = {}
    for r in runs:
        by.setdefault(r["params"], []).append(r["flops"] / (r["params"] * r["tokens"]))
    return {str(k): float(np.median(v)) for k, v in sorted(by.items())}


def kappa_for(kappas: dict, N: float) -> float:
    ns = np.array([float(k) for k in kappas])
    ks = np.array(list(kappas.values()))
    o = np.argsort(ns)
    return float(np.interp(np.log(N), np.log(ns[o]), ks[o]))


def optimal_size(law: LawFit, kappas: dict, budget: float, n_lo: float | None = None, n_hi: float | None = None):
    """N minimising the fitted loss at compute `budget` (D = budget / (kappa N)), on a fine log grid."""
    ns = np.array([float(k) for k in kappas])
    lo, hi = n_lo or ns.min() / 30, n_hi or ns.max() * 30
    grid = np.exp(np.linspace(np.log(lo), np.log(hi), 400))
    D = np.array([budget / (kappa_for(kappas, n) * n) for n in grid])
    L = law.predict(grid, D)
    i = int(np.argmin(L))
    return float(grid[i]), float(D[i]), float(L[i])


def _lr_vertex_loss(rs: list[dict]) -> tuple[float, bool]:
    """(loss at the cell's tuned LR, whether the best LR is interior). Interior: the minimum of the
    parabola in log LR through the best run and its two neighbours (never above the best run's loss);
    at an edge of the LRs tried: the best run's loss (an upper bound of the tuned loss)."""
    rs = sorted(rs, key=lambda r: r["lr"])
    ls = [r["val_loss"] for r in rs]
    i = int(np.argmin(ls))
    if not 0 < i < len(rs) - 1:
        return float(ls[i]), len(rs) == 1
    x = np.log([rs[j]["lr"] for j in (i - 1, i, i + 1)])
    c2, c1, c0 = np.polyfit(x, [ls[j] for j in (i - 1, i, i + 1)], 2)
    v = c0 - c1 * c1 / (4 * c2) if c2 > 0 else ls[i]
    return float(min(ls[i], v)), True


def cell_points(runs: list[dict], lr_vertex: bool = True, min_steps: int = 0) -> list[dict]:
    """One point of L(N, D) per (budget, size, batch) cell: the loss at its tuned LR (a run at a poor LR
    is not a point of the law). lr_vertex False: the best run's loss as is (sessions 6-7)."""
    ok = [r for r in runs if r.get("status", "done") == "done" and np.isfinite(r.get("val_loss", np.nan))
          and r.get("steps", min_steps) >= min_steps]
    cells: dict = {}
    for r in ok:
        cells.setdefault((r["budget"], r["params"], r["tokens"]), []).append(r)
    pts = []
    for (budget, n, d), rs in sorted(cells.items()):
        best = min(rs, key=lambda r: r["val_loss"])
        loss, interior = _lr_vertex_loss(rs) if lr_vertex else (best["val_loss"], True)
        pts.append({"budget": budget, "params": n, "tokens": d, "flops": best["flops"], "loss": loss,
                    "best_run_loss": best["val_loss"], "best_lr": best["lr"], "lr_interior": interior,
                    "n_lrs": len(rs), "steps": best.get("steps")})
    return pts


def cross_validate(pts: list[dict], form: str = "full", interval: str = "residual", delta: float = 1e-3,
                   n_boot: int = 100, level: float = 0.9) -> dict:
    """Training-side check of a fitting choice: fit on every budget but the largest, predict the largest
    budget's cells (an extrapolation in compute, like the held-out run's), score error and coverage."""
    top = max(p["budget"] for p in pts)
    train = [p for p in pts if p["budget"] < top]
    test = [p for p in pts if p["budget"] == top]
    law = fit_law([p["params"] for p in train], [p["tokens"] for p in train], [p["loss"] for p in train],
                  n_boot, delta, form=form, interval=interval)
    rows = []
    for p in test:
        pred, lo, hi = law.predict_interval(p["params"], p["tokens"], level)
        rows.append({"params": p["params"], "tokens": p["tokens"], "measured": p["loss"], "predicted": pred,
                     "interval": [lo, hi], "rel_error": abs(pred - p["loss"]) / p["loss"],
                     "inside": lo <= p["loss"] <= hi, "half_width_rel": (hi - lo) / 2 / pred})
    return {"form": form, "interval": interval, "delta": delta, "fit_budgets": sorted({p["budget"] for p in train}),
            "test_budget": top, "extrapolation": top / max(p["flops"] for p in train), "cells": rows,
            "mean_rel_error": float(np.mean([r["rel_error"] for r in rows])),
            "coverage": float(np.mean([r["inside"] for r in rows])),
            "mean_half_width_rel": float(np.mean([r["half_width_rel"] for r in rows]))}


def fit_sweep(runs: list[dict], n_boot: int = 100, seed: int = 0, form: str = "full", interval: str = "residual",
              delta: float = 1e-3, lr_vertex: bool = True, min_steps: int = 0) -> dict:
    """Everything `scale fit` writes to DIR/fit.json."""
    ok = [r for r in runs if r.get("status", "done") == "done" and np.isfinite(r.get("val_loss", np.nan))]
    pts = cell_points(ok, lr_vertex, min_steps)
    if interval == "residual" and len(pts) <= (4 if form == "no_E" else 5):
        interval = "pairs"      # no residual left to resample: every point is fitted exactly
    law = fit_law([p["params"] for p in pts], [p["tokens"] for p in pts], [p["loss"] for p in pts], n_boot,
                  delta, seed=seed, form=form, interval=interval)
    best = best_hparams(ok)
    return {"law": law.to_dict(), "best_per_budget": best,
            "lr_law": power_law([b["flops"] for b in best], [b["lr"] for b in best]),
            "batch_law": power_law([b["flops"] for b in best], [b["batch"] for b in best]),
            "size_law": power_law([b["flops"] for b in best], [b["params"] for b in best]),
            "kappa": flops_per_param_token(ok), "n_runs": len(ok), "n_law_points": len(pts), "points": pts,
            "lr_edge_cells": sum(not p["lr_interior"] for p in pts), "lr_vertex": lr_vertex, "min_steps": min_steps,
            "compute_range": [min(r["flops"] for r in ok), max(r["flops"] for r in ok)]}


def recommend(fit: dict, budget: float) -> dict:
    """Size / tokens from the fitted law, LR and batch from their power laws, at `budget` FLOPs."""
    law = LawFit.from_dict(fit["law"])
    n, d, loss = optimal_size(law, fit["kappa"], budget)
    lr, batch = eval_power(fit["lr_law"], budget), eval_power(fit["batch_law"], budget)
    hi = fit["compute_range"][1]
    return {"budget": budget, "params": n, "tokens": d, "predicted_loss": loss, "lr": lr,
            "batch": max(1, int(round(batch))), "extrapolation": budget / hi}
