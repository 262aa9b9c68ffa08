"""Choose, per input, the chain of stage variants that maximises a goal's quality under a budget.

Exact, by integer linear programming (`scipy.optimize.milp`):
  x[i, c] = 1 when input i runs chain c (one chain per input),
  y[c]    = 1 when any input runs chain c (each used chain is one engine call with fixed costs),
  maximise   sum_i w_i * G(c) * x[i, c]  -  eps * cost      (w_i: the input's share of duration)
  subject to sum_c x[i, c] = 1;  x[i, c] <= y[c];
             per-unit cost + fixed cost of used chains + start-up <= budget * (1 - margin);
             USD likewise; sum_i w_i * q_name(c) * x[i, c] >= min_name for every --min.
The eps term makes the cheapest of equally good plans win. Gating: the plan decides per input
which chain (so which files reach the expensive variants); inside a chain the OCR stage is
itself gated by the text gate, and its per-second cost is what that gate let through on the
footage it was measured on. An exhaustive `oracle` over every assignment checks the ILP.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass

import numpy as np

from videoforge.plan.costs import BASE_STAGES, InputInfo, chain_cost, chain_usd, fixed_costs, group_fixed, workers_for
from videoforge.plan.registry import Variant, available

PLAN_VERSION = 1

# What each goal values: weights over quality names (they sum to 1, so goal quality is 0-1).
GOALS: dict[str, dict[str, float]] = {
    # a training set: clean shot boundaries (gradual ones too) and metrics to filter on
    "dataset": {"shot_f1": 0.3, "gradual_recall": 0.3, "metric_agreement": 0.4},
    # search: words on screen first, shots and metrics to rank and filter results
    "search": {"text_recall": 0.6, "shot_f1": 0.2, "metric_agreement": 0.2},
    # a browsable catalog: shots and their metrics
    "catalog": {"shot_f1": 0.4, "gradual_recall": 0.2, "metric_agreement": 0.4},
}
DEFAULT_MARGIN = 0.15


class PlanError(Exception):
    """The request cannot be planned (bad goal, no usable input); exit 2/1 with the message."""


class Infeasible(Exception):
    """No chain fits the budget and the --min constraints; `info` says what the budget buys."""

    def __init__(self, message: str, info: dict):
        super().__init__(message)
        self.info = info


def chains(reg: dict[str, Variant]) -> list[dict[str, str]]:
    """Every chain: one available variant of each optional stage."""
    stages: dict[str, list[str]] = {}
    for v in reg.values():
        if v.optional and available(v):
            stages.setdefault(v.stage, []).append(v.variant)
    names = sorted(stages)
    return [dict(zip(names, combo)) for combo in itertools.product(*(stages[n] for n in names))]


def chain_quality(chain: dict[str, str], reg: dict[str, Variant]) -> dict[str, float]:
    q: dict[str, float] = {}
    for s, v in chain.items():
        q.update(reg[f"{s}/{v}"].quality)
    return q


def goal_value(q: dict[str, float], goal: str) -> float:
    return sum(w * q.get(name, 0.0) for name, w in GOALS[goal].items())


@dataclass
class Problem:
    goal: str
    inputs: list[InputInfo]
    reg: dict[str, Variant]
    budget_cpu: float | None          # CPU seconds, None = unlimited
    budget_usd: float | None
    mins: dict[str, float]
    margin: float = DEFAULT_MARGIN

    def __post_init__(self):
        if self.goal not in GOALS:
            raise PlanError(f"unknown goal {self.goal!r}; choose one of {', '.join(GOALS)}")
        for name in self.mins:
            if name not in GOALS[self.goal] and name not in {q for v in self.reg.values() for q in v.quality}:
                raise PlanError(f"unknown quality {name!r} in --min; known: {', '.join(sorted(GOALS[self.goal]))}")
        self.chains = chains(self.reg)
        n = sum(i.duration for i in self.inputs)
        self.w = np.array([i.duration / n if n > 0 else 1.0 / len(self.inputs) for i in self.inputs])
        self.C = np.array([[chain_cost(i, c, self.reg) for c in self.chains] for i in self.inputs])
        self.U = np.array([[chain_usd(i, c, self.reg) for c in self.chains] for i in self.inputs])
        self.Q = [chain_quality(c, self.reg) for c in self.chains]
        self.G = np.array([goal_value(q, self.goal) for q in self.Q])
        self.run_overhead = self.reg["overhead/run"].cpu_seconds
        # a chain's fixed costs with the most workers it could start (for the cheapest-chain report)
        self.F = np.array([group_fixed(c, len(self.inputs), self.reg) for c in self.chains])

    # -- exact evaluation of one assignment (input index -> chain index) ------------------
    def evaluate(self, assign: list[int]) -> dict:
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(assign):
            groups.setdefault(c, []).append(i)
        cpu = self.run_overhead + sum(self.C[i, c] for i, c in enumerate(assign))
        cpu += sum(fixed_costs([(self.chains[c], len(ix)) for c, ix in sorted(groups.items())], self.reg))
        usd = float(sum(self.U[i, c] for i, c in enumerate(assign)))
        names = sorted({n for q in self.Q for n in q} | set(GOALS[self.goal]))
        quality = {n: float(sum(self.w[i] * self.Q[c].get(n, 0.0) for i, c in enumerate(assign))) for n in names}
        quality["goal"] = float(sum(self.w[i] * self.G[c] for i, c in enumerate(assign)))
        return {"cpu_seconds": float(cpu), "usd": usd, "quality": quality}

    def cap_cpu(self) -> float:
        return math.inf if self.budget_cpu is None else self.budget_cpu * (1.0 - self.margin)

    def cap_usd(self) -> float:
        return math.inf if self.budget_usd is None else self.budget_usd * (1.0 - self.margin)

    # -- the ILP ------------------------------------------------------------------------
    def _fixed_by_count(self) -> np.ndarray:
        """g[c, k]: fixed CPU of chain c's engine call over k videos, k = 0..K (K = cores; every
        k >= K costs the same: the pool has as many workers as cores)."""
        K = max(2, os.cpu_count() or 1)
        g = np.zeros((len(self.chains), K + 1))
        for c, chain in enumerate(self.chains):
            for k in range(2, K + 1):
                g[c, k] = group_fixed(chain, k, self.reg)
            g[c, 1] = self.reg["overhead/group"].cpu_seconds   # the caller's loading: shared, see _shared
        return g

    def _shared(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """What the calling process loads once for all one-video calls: keys (engine imports,
        then each variant with a loading cost), their costs, and M[c, f] = chain c needs f."""
        keys = ["overhead/worker"] + sorted({f"{s}/{v}" for ch in self.chains for s, v in ch.items()
                                             if self.reg[f"{s}/{v}"].fixed_cpu_seconds > 0})
        costs = np.array([self.reg[k].cpu_seconds if k == "overhead/worker" else self.reg[k].fixed_cpu_seconds for k in keys])
        M = np.array([[k == "overhead/worker" or k in {f"{s}/{v}" for s, v in ch.items()} for k in keys]
                      for ch in self.chains], dtype=float)
        return keys, costs, M

    def solve(self, with_mins: bool = True) -> list[int] | None:
        """Exact: the fixed cost of each chain's engine call is modelled by how many inputs it
        gets (one-hot count 0..K-1, or >= K), so the ILP and the oracle price plans alike.

        No chain is pruned as 'dominated': one video runs inline while two spawn workers, so
        a chain that is worse per input can still be part of the cheapest plan."""
        return self._solve(with_mins)

    def _solve(self, with_mins: bool) -> list[int] | None:
        from scipy.optimize import Bounds, LinearConstraint, milp

        n, m = self.C.shape
        g = self._fixed_by_count()
        K = g.shape[1] - 1
        _, shared_cost, M = self._shared()
        nf = len(shared_cost)
        nx = n * m
        nz = m * (K + 1)             # z[c, k] for k = 0..K-1, then zbig[c] (k >= K)
        nv = nx + nz + m + nf        # + s[c]: the count when zbig; + u[f]: the caller loaded f
        zi = lambda c, k: nx + c * (K + 1) + k          # noqa: E731 - index helpers
        si = lambda c: nx + nz + c                       # noqa: E731
        ui = lambda f: nx + nz + m + f                   # noqa: E731
        fixed = np.zeros(nv)
        for c in range(m):
            for k in range(K):
                fixed[zi(c, k)] = g[c, k]
            fixed[zi(c, K)] = g[c, K]
        for f in range(nf):
            fixed[ui(f)] = shared_cost[f]
        cost = np.zeros(nv)
        cost[:nx] = self.C.ravel()
        cost += fixed
        quality = np.zeros(nv)
        quality[:nx] = (self.w[:, None] * self.G[None, :]).ravel()
        A, lo, hi = [], [], []

        def row(entries: dict, lo_, hi_):
            r = np.zeros(nv)
            for j, val in entries.items():
                r[j] += val
            A.append(r), lo.append(lo_), hi.append(hi_)

        for i in range(n):                                  # one chain per input
            row({i * m + c: 1 for c in range(m)}, 1, 1)
        for c in range(m):
            row({zi(c, k): 1 for k in range(K + 1)}, 1, 1)   # one count bucket per chain
            e = {i * m + c: 1 for i in range(n)}
            for k in range(1, K):
                e[zi(c, k)] = -k
            e[si(c)] = -1
            row(e, 0, 0)                                     # inputs on c = bucket's count (+ s)
            row({si(c): 1, zi(c, K): -K}, 0, np.inf)         # s >= K when zbig
            row({si(c): 1, zi(c, K): -n}, -np.inf, 0)        # s = 0 unless zbig
            for f in range(nf):
                if M[c, f]:
                    row({ui(f): 1, zi(c, 1): -1}, 0, np.inf)     # a one-video call of c: the caller loads f
        if self.budget_cpu is not None:
            A.append(cost), lo.append(-np.inf), hi.append(self.cap_cpu() - self.run_overhead)
        if self.budget_usd is not None:
            r = np.zeros(nv)
            r[:nx] = self.U.ravel()
            A.append(r), lo.append(-np.inf), hi.append(self.cap_usd())
        if with_mins:
            for name, floor in self.mins.items():
                q = np.array([qq.get(name, 0.0) for qq in self.Q])
                r = np.zeros(nv)
                r[:nx] = (self.w[:, None] * q[None, :]).ravel()
                A.append(r), lo.append(floor - 1e-9), hi.append(np.inf)
        ub = np.ones(nv)
        ub[nx + nz:nx + nz + m] = n
        cons = LinearConstraint(np.array(A), lo, hi)
        # two exact phases: the best quality, then the cheapest plan of that quality (a weighted
        # sum would need a cost weight below the solver's optimality gap)
        res = milp(-quality, constraints=[cons], integrality=np.ones(nv), bounds=Bounds(0, ub),
                   options={"mip_rel_gap": 1e-9})
        if res.status != 0 or res.x is None:
            return None
        floor = float(quality @ res.x) - 1e-9
        res2 = milp(cost, constraints=[cons, LinearConstraint(quality[None, :], floor, np.inf)],
                    integrality=np.ones(nv), bounds=Bounds(0, ub), options={"mip_rel_gap": 1e-9})
        if res2.status == 0 and res2.x is not None:
            res = res2
        x = res.x[:nx].reshape(n, m)
        return [int(np.argmax(x[i])) for i in range(n)]

    # -- the exhaustive oracle (small problems: evaluation and tests) ----------------------
    def oracle(self, with_mins: bool = True) -> list[int] | None:
        """Best feasible assignment by trying every one of the m^n (exact costs, actual worker
        counts), vectorised; the same pricing as `evaluate`."""
        n, m = self.C.shape
        g = self._fixed_by_count()
        K = g.shape[1] - 1
        grids = np.stack(np.meshgrid(*[np.arange(m)] * n, indexing="ij"), -1).reshape(-1, n)
        rows = np.arange(n)
        cpu = self.run_overhead + self.C[rows, grids].sum(axis=1)
        counts = np.zeros((len(grids), m), dtype=int)
        for i in range(n):
            np.add.at(counts, (np.arange(len(grids)), grids[:, i]), 1)
        cpu = cpu + g[np.arange(m)[None, :], np.minimum(counts, K)].sum(axis=1)
        _, shared_cost, M = self._shared()
        cpu = cpu + (((counts == 1).astype(float) @ M) > 0).astype(float) @ shared_cost
        usd = self.U[rows, grids].sum(axis=1)
        goal = (self.w[None, :] * self.G[grids]).sum(axis=1)
        ok = (cpu <= self.cap_cpu() + 1e-9) & (usd <= self.cap_usd() + 1e-12)
        if with_mins:
            for name, floor in self.mins.items():
                q = np.array([qq.get(name, 0.0) for qq in self.Q])
                ok &= (self.w[None, :] * q[grids]).sum(axis=1) >= floor - 1e-9
        if not ok.any():
            return None
        idx = np.flatnonzero(ok)
        best_goal = goal[idx].max()
        tie = idx[goal[idx] >= best_goal - 1e-12]
        return [int(c) for c in grids[tie[np.argmin(cpu[tie])]]]

    def cheapest(self) -> list[int]:
        per = self.C.sum(axis=0) + self.F
        c = int(np.argmin(per))
        return [c] * len(self.inputs)

    def best_unconstrained(self) -> list[int]:
        """Every input on the best chain (the cheapest of the best): what no budget would run."""
        top = self.G.max()
        cands = [c for c in range(len(self.chains)) if self.G[c] >= top - 1e-12]
        c = min(cands, key=lambda c: self.C[:, c].sum() + self.F[c])
        return [c] * len(self.inputs)


def always_best_chain(reg: dict[str, Variant], goal: str) -> dict[str, str]:
    """The best variant of every stage by its own quality figures, whatever the goal uses
    (the baseline 'run the best of everything'): per stage, the variant with the highest
    sum of its quality figures; ties go to the first registered."""
    best: dict[str, tuple[float, str]] = {}
    for v in reg.values():
        if not v.optional or not available(v):
            continue
        score = sum(v.quality.values())
        if v.stage not in best or score > best[v.stage][0]:
            best[v.stage] = (score, v.variant)
    return {s: best[s][1] for s in sorted(best)}


def document(p: Problem, assign: list[int], bad_inputs: list[dict] | None = None) -> dict:
    """The plan document (`plan --json` prints it, `run --plan` reads it)."""
    e = p.evaluate(assign)
    stages: list[dict] = []
    for stage, variant in BASE_STAGES:
        if stage == "overhead":
            continue   # a cost, not a stage one chooses or runs
        stages.append({"stage": stage, "variant": variant, "applies_to": [i.path for i in p.inputs]})
    for stage in sorted(p.chains[0]) if p.chains else []:
        used: dict[str, list[str]] = {}
        for i, c in enumerate(assign):
            used.setdefault(p.chains[c][stage], []).append(p.inputs[i].path)
        for variant, paths in sorted(used.items()):
            entry = {"stage": stage, "variant": variant, "applies_to": paths}
            if stage == "ocr" and variant == "on":
                entry["gate"] = "the text gate (cheap) decides which sampled frames reach OCR"
            stages.append(entry)
    per_stage: dict[str, float] = {}
    for i, c in enumerate(assign):
        info = p.inputs[i]
        for stage, variant in [*BASE_STAGES, *p.chains[c].items()]:
            one = chain_cost(info, {stage: variant}, p.reg) if stage not in ("decode", "keyframes") else None
            if one is None:
                v = p.reg[f"{stage}/{variant}"]
                per = v.cpu_seconds
                if stage == "decode" and info.decode_cpu_per_mpx is not None:
                    per = info.decode_cpu_per_mpx
                one = per * info.units(v.unit)
            else:
                one -= chain_cost(info, {}, p.reg)
            per_stage[f"{stage}/{variant}"] = per_stage.get(f"{stage}/{variant}", 0.0) + one
    per_stage["overhead"] = e["cpu_seconds"] - sum(per_stage.values())
    return {
        "version": PLAN_VERSION,
        "goal": p.goal,
        "inputs": [i.path for i in p.inputs],
        "budget": {"cpu_hours": None if p.budget_cpu is None else p.budget_cpu / 3600.0, "usd": p.budget_usd},
        "stages": stages,
        "predicted": {"cpu_seconds": e["cpu_seconds"], "usd": e["usd"], "quality": e["quality"],
                      "per_stage_cpu_seconds": per_stage},
        "margin": p.margin,
        "min": dict(p.mins),
        "chains": [{"chain": p.chains[c], "inputs": [p.inputs[i].path for i, cc in enumerate(assign) if cc == c],
                    "workers": workers_for(sum(1 for cc in assign if cc == c))} for c in sorted(set(assign))],
        "inputs_info": [i.to_dict() for i in p.inputs],
        "skipped_inputs": bad_inputs or [],
        "cost_sources": sorted({p.reg[k].cost_source for k in p.reg}),
    }


def plan(p: Problem, bad_inputs: list[dict] | None = None) -> dict:
    """Solve and return the plan document; raises Infeasible saying what the budget buys."""
    assign = p.solve()
    if assign is not None:
        return document(p, assign, bad_inputs)
    info: dict = {"cheapest": p.evaluate(p.cheapest())}
    fits = info["cheapest"]["cpu_seconds"] <= p.cap_cpu() and info["cheapest"]["usd"] <= p.cap_usd()
    if p.mins and fits:
        relaxed = p.solve(with_mins=False)
        if relaxed is not None:
            info["best_within_budget"] = document(p, relaxed, bad_inputs)
    msg = []
    if not fits:
        need = info["cheapest"]["cpu_seconds"] / (1.0 - p.margin)
        msg.append(f"the cheapest plan needs {info['cheapest']['cpu_seconds']:.1f} CPU-s "
                   f"(a budget of {need / 3600:.4f} CPU-hours with the {p.margin:.0%} safety margin)")
    if "best_within_budget" in info:
        q = info["best_within_budget"]["predicted"]["quality"]
        msg.append("the budget buys instead: " + ", ".join(f"{k}={q.get(k, 0):.3f}" for k in p.mins)
                   + f" (goal quality {q['goal']:.3f})")
    elif p.mins and fits:
        msg.append("no plan within the budget meets the --min constraints")
    raise Infeasible("; ".join(msg) or "no feasible plan", info)
