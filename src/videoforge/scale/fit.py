"""Fit L(N, D) = E + A / N^alpha + B / D^beta and the best LR / batch as power laws of compute.

The fit follows Hoffmann et al. (Chinchilla, approach 3): parameters (e, a, b, alpha, beta)
with E = exp(e), A = exp(a), B = exp(b); the model's log-loss is
logsumexp(a - alpha log N, b - beta log D, e), and the objective is the Huber loss
(delta 1e-3) of its difference to the measured log-loss, minimised by L-BFGS-B from the best
points of a grid of starts. Intervals come from refitting on runs resampled with replacement.
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


def _bounds(logL):
    # E below the smallest loss seen (it is the loss of an infinite model on infinite data)
    return [(-12.0, float(logL.min())), (-10.0, 40.0), (-10.0, 40.0), (0.0, 3.0), (0.0, 3.0)]


def _refine(starts, logN, logD, logL, delta):
    best = None
    for s in starts:
        r = minimize(_objective_grad, s, args=(logN, logD, logL, delta), jac=True, method="L-BFGS-B",
                     bounds=_bounds(logL), options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 3000})
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

    def predict_interval(self, N, D, level: float = 0.9) -> tuple[float, float, float]:
        logN, logD = np.log(np.array([float(N)])), np.log(np.array([float(D)]))
        boots = np.array([math.exp(_pred_log(t, logN, logD)[0]) for t in self.boot])
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        lo, hi = np.percentile(boots, q)
        return float(self.predict(N, D)[0]), float(lo), float(hi)

    def to_dict(self) -> dict:
        return {"values": self.values, "ci90": self.intervals(0.9), "ci95": self.intervals(0.95), "n": self.n,
                "n_boot": int(len(self.boot)), "huber_delta": self.delta, "theta": [float(x) for x in self.theta],
                "boot_theta": self.boot.tolist(), **self.extra}

    @classmethod
    def from_dict(cls, d: dict) -> "LawFit":
        return cls(np.array(d["theta"]), np.array(d["boot_theta"]).reshape(-1, 5), d["n"], d.get("huber_delta", 1e-3))


def fit_law(N, D, L, n_boot: int = 100, delta: float = 1e-3, seed: int = 0) -> LawFit:
    """Chinchilla fit with bootstrap refits (runs resampled with replacement)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:      # only a speed matter
        import contextlib

        limits = contextlib.nullcontext()
    else:
        # L-BFGS-B's tiny BLAS calls over many threads ran 14x slower on a loaded 2-core machine
        limits = threadpool_limits(1)
    with limits:
        return _fit_law(N, D, L, n_boot, delta, seed)


def _fit_law(N, D, L, n_boot, delta, seed) -> LawFit:
    N, D, L = (np.asarray(x, float) for x in (N, D, L))
    if len(L) < 5:
        raise ValueError(f"{len(L)} runs: fitting 5 parameters needs at least 5")
    logN, logD, logL = np.log(N), np.log(D), np.log(L)
    grid, top = _grid_starts(logL)
    # the whole grid at once: (G, 3, n) log-sum-exp
    z = np.stack([grid[:, 1:2] - grid[:, 3:4] * logN, grid[:, 2:3] - grid[:, 4:5] * logD,
                  np.repeat(grid[:, 0:1], len(logN), 1)], axis=1)
    vals = _huber(logsumexp(z, axis=1) - logL, delta).sum(1)
    starts = grid[np.argsort(vals)[:top]]
    theta, _ = _refine(starts, logN, logD, logL, delta)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(L), len(L))
        # from the full fit and the two best grid starts: a resample rarely moves the optimum far
        th, _ = _refine([theta, *starts[:3]], logN[idx], logD[idx], logL[idx], delta)
        boot.append(th)
    resid = logL - _pred_log(theta, logN, logD)
    return LawFit(theta, np.array(boot), len(L), delta,
                  {"residual_log_rmse": float(np.sqrt(np.mean(resid ** 2)))})


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


def fit_sweep(runs: list[dict], n_boot: int = 100, seed: int = 0) -> dict:
    """Everything `scale fit` writes to DIR/fit.json."""
    ok = [r for r in runs if r.get("status", "done") == "done" and np.isfinite(r.get("val_loss", np.nan))]
    # L(N, D) is the loss at tuned hyper-parameters: one point per (budget, size, batch), its best LR
    # (a run at a poor LR is not a point of the law; with one LR per cell nothing is dropped)
    cells: dict = {}
    for r in ok:
        key = (r["budget"], r["params"], r["tokens"])
        if key not in cells or r["val_loss"] < cells[key]["val_loss"]:
            cells[key] = r
    pts = list(cells.values())
    law = fit_law([r["params"] for r in pts], [r["tokens"] for r in pts], [r["val_loss"] for r in pts], n_boot,
                  seed=seed)
    best = best_hparams(ok)
    return {"law": law.to_dict(), "best_per_budget": best,
            "lr_law": power_law([b["flops"] for b in best], [b["lr"] for b in best]),
            "batch_law": power_law([b["flops"] for b in best], [b["batch"] for b in best]),
            "size_law": power_law([b["flops"] for b in best], [b["params"] for b in best]),
            "kappa": flops_per_param_token(ok), "n_runs": len(ok), "n_law_points": len(pts),
            "compute_range": [min(r["flops"] for r in ok), max(r["flops"] for r in ok)]}


def recommend(fit: dict, budget: float) -> dict:
    """Size / tokens from the fitted law, LR and batch from their power laws, at `budget` FLOPs."""
    law = LawFit.from_dict(fit["law"])
    n, d, loss = optimal_size(law, fit["kappa"], budget)
    lr, batch = eval_power(fit["lr_law"], budget), eval_power(fit["batch_law"], budget)
    hi = fit["compute_range"][1]
    return {"budget": budget, "params": n, "tokens": d, "predicted_loss": loss, "lr": lr,
            "batch": max(1, int(round(batch))), "extrapolation": budget / hi}
