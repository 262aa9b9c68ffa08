"""Choose, per input, the chain of stage variants that maximises a goal's quality under a budget.

Exact, by integer linear programming (`scipy.optimize.milp`), for each way of running the
engine calls (`pool`: parallel workers or inline in the plan's process; the better is kept):
  x[i, c] = 1 when input i runs engine chain c (detector, metric sampling, OCR), one per input;
            one of the chains is `coverage/skip`: the input is left out (cost 0, quality 0);
  p[i, q, b] = 1 when input i runs post chain q (suitability, gate, captioner, embedder) with
            b = 1 when its engine chain finds no shot boundaries (one shot: fewer per-shot units);
  z[c, k] = 1 when engine chain c gets k inputs (each used chain is one engine call whose fixed
            cost depends on k); u[f], v[h]: loading paid once in the plan's own process;
  maximise   sum_i w_i * (Ge(c) + Gp(q))            (w_i: the input's share of duration)
  subject to one chain per input; p's b agrees with x; a skipped input runs no post stage;
             per-unit + fixed + start-up CPU <= budget * (1 - margin); USD likewise;
             sum_i w_i * q_name >= min_name for every --min.
Two exact phases: the best quality, then the cheapest plan of that quality. Gating: the plan
decides per input which chains run (which files reach the expensive variants) and per shot
(`gate/suitable`: only shots the suitability score keeps are captioned and embedded). An
exhaustive `oracle` over every assignment checks the ILP.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass

import numpy as np

from videoforge.plan.costs import (BASE_STAGES, InputInfo, chain_cost, chain_usd, decode_per_mpx, fixed_costs,
                                   group_fixed, workers_for)
from videoforge.plan.post import OFF, post_chains, post_cost, post_fixed_keys, post_quality, post_usd
from videoforge.plan.registry import ENGINE_STAGES, FRAME_MODES, SPARSE_COMBOS, Variant, available

PLAN_VERSION = 2

# What each goal values: weights over quality names (they sum to 1, so goal quality is 0-1).
# A design choice, not a measurement (docs/benchmarks/plan.md).
GOALS: dict[str, dict[str, float]] = {
    # a training set: clean shot boundaries (gradual ones too), metrics and a suitability
    # score to filter on, captions to train with
    "dataset": {"shot_f1": 0.2, "gradual_recall": 0.2, "metric_agreement": 0.25, "suitability_auc": 0.15,
                "caption_fields": 0.2},
    # search: words on screen first, then query by example, shots/metrics/captions to rank and filter
    "search": {"text_recall": 0.5, "shot_f1": 0.1, "metric_agreement": 0.1, "visual_recall": 0.2, "caption_fields": 0.1},
    # a browsable catalog: shots and their metrics, a visual index and captions
    "catalog": {"shot_f1": 0.3, "gradual_recall": 0.15, "metric_agreement": 0.3, "visual_recall": 0.15,
                "caption_fields": 0.1},
}
DEFAULT_MARGIN = 0.15
SKIP = {"coverage": "skip"}
POOLS = ("parallel", "inline")


class PlanError(Exception):
    """The request cannot be planned (bad goal, no usable input); exit 2/1 with the message."""


class Infeasible(Exception):
    """No chain fits the budget and the --min constraints; `info` says what the budget buys."""

    def __init__(self, message: str, info: dict):
        super().__init__(message)
        self.info = info


def chains(reg: dict[str, Variant]) -> list[dict[str, str]]:
    """Every engine chain: one available variant of each engine stage."""
    stages: dict[str, list[str]] = {}
    for v in reg.values():
        if v.stage in ENGINE_STAGES and available(v):
            stages.setdefault(v.stage, []).append(v.variant)
    names = sorted(stages)
    out = [dict(zip(names, combo)) for combo in itertools.product(*(stages[n] for n in names))]
    # sparse frame modes: only with the variants their quality was measured with (session 10)
    for key, mode in FRAME_MODES.items():
        v = reg.get(key)
        if v is None or not available(v):
            continue
        allowed = {n: [x for x in stages.get(n, []) if x in SPARSE_COMBOS.get(n, ())] for n in names}
        out += [{"frames": v.variant, **dict(zip(names, combo))}
                for combo in itertools.product(*(allowed[n] for n in names))]
    return out


def chain_quality(chain: dict[str, str], reg: dict[str, Variant]) -> dict[str, float]:
    if chain == SKIP:
        return {"coverage": 0.0}
    q: dict[str, float] = {"coverage": 1.0}
    sparse = reg[f"frames/{chain['frames']}"].quality if "frames" in chain else {}
    for s, v in chain.items():
        if s != "frames":
            q.update(reg[f"{s}/{v}"].quality)
    # a sparse frame mode's figures replace those of the stages it degrades (the ones that run)
    for name, value in sparse.items():
        if q.get(name, 0.0) > 0:
            q[name] = value
    return q


def goal_value(q: dict[str, float], goal: str) -> float:
    return sum(w * q.get(name, 0.0) for name, w in GOALS[goal].items())


@dataclass
class Assignment:
    """One plan: how engine calls run, and per input its engine chain and post chain (indices)."""
    pool: str
    engine: list[int]
    post: list[int]


@dataclass
class Problem:
    goal: str
    inputs: list[InputInfo]
    reg: dict[str, Variant]
    budget_cpu: float | None          # CPU seconds, None = unlimited
    budget_usd: float | None
    mins: dict[str, float]
    margin: float = DEFAULT_MARGIN
    allow_skip: bool = True           # False (--full-coverage): every input is analysed
    prune: bool = True                # drop dominated post chains (exact; False keeps every one)

    def __post_init__(self):
        if self.goal not in GOALS:
            raise PlanError(f"unknown goal {self.goal!r}; choose one of {', '.join(GOALS)}")
        known = {q for v in self.reg.values() for q in v.quality} | {"coverage"}
        for name in self.mins:
            if name not in GOALS[self.goal] and name not in known:
                raise PlanError(f"unknown quality {name!r} in --min; known: {', '.join(sorted(known))}")
        self.chains = chains(self.reg) + ([dict(SKIP)] if self.allow_skip else [])
        self.skip = len(self.chains) - 1 if self.allow_skip else None
        self.post = post_chains(self.reg)
        if self.prune:
            self.post = self._undominated(self.post)
        n, m, nq = len(self.inputs), len(self.chains), len(self.post)
        tot = sum(i.duration for i in self.inputs)
        self.w = np.array([i.duration / tot if tot > 0 else 1.0 / n for i in self.inputs])
        self.C = np.array([[0.0 if c == SKIP else chain_cost(i, c, self.reg) for c in self.chains] for i in self.inputs])
        self.U = np.array([[0.0 if c == SKIP else chain_usd(i, c, self.reg) for c in self.chains] for i in self.inputs])
        self.Q = [chain_quality(c, self.reg) for c in self.chains]
        self.G = np.array([goal_value(q, self.goal) for q in self.Q])
        # b: 1 when the engine chain finds no boundaries (one shot per input), 2 when skipped
        self.state = np.array([2 if c == SKIP else int(c.get("shots") == "none") for c in self.chains])
        self.PQ = [post_quality(q, self.reg, self.goal) for q in self.post]
        self.PG = np.array([goal_value(q, self.goal) for q in self.PQ])
        self.PC = np.array([[[post_cost(i, q, bool(b), self.reg) for b in (0, 1)] for q in self.post] for i in self.inputs])
        self.PU = np.array([[[post_usd(i, q, bool(b), self.reg) for b in (0, 1)] for q in self.post] for i in self.inputs])
        self.pkeys = sorted({k for q in self.post for k in post_fixed_keys(q, self.reg)})
        self.pfix = np.array([self.reg[k].fixed_cpu_seconds for k in self.pkeys])
        self.PM = np.array([[k in post_fixed_keys(q, self.reg) for k in self.pkeys] for q in self.post], dtype=float)
        self.run_overhead = self.reg["overhead/run"].cpu_seconds
        self.engine_names = {k for q in self.Q for k in q}
        self.post_names = {k for q in self.PQ for k in q}

    def _undominated(self, posts: list[dict[str, str]]) -> list[dict[str, str]]:
        """Drop post chains another one beats on every count (goal quality, each --min quality,
        CPU and USD on every input, and a subset of the loading): exact, since post chains
        meet the rest of the plan only through these. The first (everything off) stays."""
        from videoforge.plan.post import post_cost as pc, post_usd as pu

        names = set(self.mins)
        rows = []
        for q in posts:
            qual = post_quality(q, self.reg, self.goal)
            rows.append((goal_value(qual, self.goal), [qual.get(nm, 0.0) for nm in sorted(names)],
                         np.array([[pc(i, q, b, self.reg), pu(i, q, b, self.reg)] for i in self.inputs for b in (0, 1)]),
                         set(post_fixed_keys(q, self.reg))))
        keep = []
        for j, (g, mq, cost, keys) in enumerate(rows):
            beaten = False
            for k, (g2, mq2, cost2, keys2) in enumerate(rows):
                if k == j or j == 0:
                    continue
                if (g2 >= g - 1e-12 and all(a >= b - 1e-12 for a, b in zip(mq2, mq)) and (cost2 <= cost + 1e-12).all()
                        and keys2 <= keys):
                    strictly = g2 > g + 1e-12 or (cost2 < cost - 1e-12).any() or keys2 < keys or any(
                        a > b + 1e-12 for a, b in zip(mq2, mq))
                    if strictly or k < j:
                        beaten = True
                        break
            if not beaten:
                keep.append(posts[j])
        return keep

    # -- exact evaluation of one plan -----------------------------------------------------
    def evaluate(self, a: Assignment) -> dict:
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(a.engine):
            if c != self.skip:
                groups.setdefault(c, []).append(i)
        cpu = self.run_overhead + sum(self.C[i, c] for i, c in enumerate(a.engine))
        cpu += sum(fixed_costs([(self.chains[c], len(ix)) for c, ix in sorted(groups.items())], self.reg,
                               inline=a.pool == "inline"))
        b = [min(int(self.state[c]), 1) for c in a.engine]
        cpu += sum(self.PC[i, q, b[i]] for i, q in enumerate(a.post))
        used = {k for q in set(a.post) for k in post_fixed_keys(self.post[q], self.reg)}
        cpu += sum(self.reg[k].fixed_cpu_seconds for k in used)
        usd = float(sum(self.U[i, c] for i, c in enumerate(a.engine)) + sum(self.PU[i, q, b[i]] for i, q in enumerate(a.post)))
        names = sorted(self.engine_names | self.post_names | set(GOALS[self.goal]))
        quality = {nm: float(sum(self.w[i] * (self.Q[c].get(nm, 0.0) + self.PQ[q].get(nm, 0.0))
                                 for i, (c, q) in enumerate(zip(a.engine, a.post)))) for nm in names}
        quality["goal"] = float(sum(self.w[i] * (self.G[c] + self.PG[q]) for i, (c, q) in enumerate(zip(a.engine, a.post))))
        return {"cpu_seconds": float(cpu), "usd": usd, "quality": quality}

    def cap_cpu(self) -> float:
        return math.inf if self.budget_cpu is None else self.budget_cpu * (1.0 - self.margin)

    def cap_usd(self) -> float:
        return math.inf if self.budget_usd is None else self.budget_usd * (1.0 - self.margin)

    # -- fixed costs of engine calls ------------------------------------------------------
    def _fixed_by_count(self, pool: str) -> np.ndarray:
        """g[c, k]: fixed CPU of chain c's engine call over k videos, k = 0..K (K = cores; every
        k >= K costs the same: the pool has as many workers as cores). A call that runs in the
        plan's process (one video, or any number inline) pays only the call here; its loading
        is shared (see _shared)."""
        K = max(2, os.cpu_count() or 1)
        g = np.zeros((len(self.chains), K + 1))
        for c, chain in enumerate(self.chains):
            if c == self.skip:
                continue
            for k in range(1, K + 1):
                g[c, k] = (self.reg["overhead/group"].cpu_seconds if k == 1 or pool == "inline"
                           else group_fixed(chain, k, self.reg))
        return g

    def _shared(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """What the plan's process loads once for all calls that run in it: keys (each variant
        with a loading cost), their costs, and M[c, f] = chain c needs f."""
        # (the engine's imports are the process's start-up, overhead/run: costs.fixed_costs)
        keys = sorted({f"{s}/{v}" for ch in self.chains for s, v in ch.items() if ch != SKIP
                       and self.reg[f"{s}/{v}"].fixed_cpu_seconds > 0})
        costs = np.array([self.reg[k].fixed_cpu_seconds for k in keys])
        M = np.array([[ch != SKIP and k in {f"{s}/{v}" for s, v in ch.items()} for k in keys]
                      for ch in self.chains], dtype=float).reshape(len(self.chains), len(keys))
        return keys, costs, M

    # -- the ILP ------------------------------------------------------------------------
    def solve(self, with_mins: bool = True) -> Assignment | None:
        """Exact: both pools solved, the better plan (quality, then cost) kept."""
        return self._better_pool(lambda pool: self._solve(pool, with_mins))

    def _better_pool(self, solve_in) -> Assignment | None:
        """The better of the two pools' plans (goal quality, then lower cost); None if neither."""
        best = None
        for pool in POOLS:
            a = solve_in(pool)
            if a is None:
                continue
            e = self.evaluate(a)
            key = (round(e["quality"]["goal"], 9), -e["cpu_seconds"])
            if best is None or key > best[0]:
                best = (key, a)
        return None if best is None else best[1]

    def cheapest_at(self, floor: float) -> Assignment | None:
        """The cheapest plan whose goal quality is at least `floor` (within the budget, if any):
        exact, one ILP per pool."""
        best = None
        for pool in POOLS:
            a = self._solve(pool, True, floor)
            if a is None:
                continue
            e = self.evaluate(a)
            if e["quality"]["goal"] < floor - 1e-9:
                continue
            if best is None or e["cpu_seconds"] < best[0]:
                best = (e["cpu_seconds"], a)
        return None if best is None else best[1]

    def _solve(self, pool: str, with_mins: bool, floor: float | None = None) -> Assignment | None:
        from scipy.optimize import Bounds, LinearConstraint, milp

        n, m = self.C.shape
        nq = len(self.post)
        g = self._fixed_by_count(pool)
        K = g.shape[1] - 1
        _, shared_cost, M = self._shared()
        nf, nh = len(shared_cost), len(self.pfix)
        nx, npv = n * m, n * nq * 2
        nz = m * (K + 1)
        xi = lambda i, c: i * m + c                                     # noqa: E731 - index helpers
        pi = lambda i, q, b: nx + (i * nq + q) * 2 + b                  # noqa: E731
        zi = lambda c, k: nx + npv + c * (K + 1) + k                    # noqa: E731
        si = lambda c: nx + npv + nz + c                                # noqa: E731
        ui = lambda f: nx + npv + nz + m + f                            # noqa: E731
        vi = lambda h: nx + npv + nz + m + nf + h                       # noqa: E731
        nv = nx + npv + nz + m + nf + nh
        cost = np.zeros(nv)
        usd = np.zeros(nv)
        quality = np.zeros(nv)
        for i in range(n):
            for c in range(m):
                cost[xi(i, c)] = self.C[i, c]
                usd[xi(i, c)] = self.U[i, c]
                quality[xi(i, c)] = self.w[i] * self.G[c]
            for q in range(nq):
                for b in (0, 1):
                    cost[pi(i, q, b)] = self.PC[i, q, b]
                    usd[pi(i, q, b)] = self.PU[i, q, b]
                    quality[pi(i, q, b)] = self.w[i] * self.PG[q]
        for c in range(m):
            for k in range(K + 1):
                cost[zi(c, k)] = g[c, k]
        for f in range(nf):
            cost[ui(f)] = shared_cost[f]
        for h in range(nh):
            cost[vi(h)] = self.pfix[h]
        A, lo, hi = [], [], []

        def row(entries: dict, lo_, hi_):
            r = np.zeros(nv)
            for j, val in entries.items():
                r[j] += val
            A.append(r), lo.append(lo_), hi.append(hi_)

        for i in range(n):
            row({xi(i, c): 1 for c in range(m)}, 1, 1)                  # one engine chain per input
            for b in (0, 1):                                            # p's b agrees with x
                e = {pi(i, q, b): 1 for q in range(nq)}
                for c in range(m):
                    if min(int(self.state[c]), 1) == b:
                        e[xi(i, c)] = -1
                row(e, 0, 0)
            if self.skip is not None:                                   # a skipped input: post off (q = 0)
                e = {pi(i, q, b): 1 for q in range(1, nq) for b in (0, 1)}
                e[xi(i, self.skip)] = 1
                row(e, -np.inf, 1)
            for q in range(nq):
                for h in range(nh):
                    if self.PM[q, h]:
                        row({vi(h): 1, pi(i, q, 0): -1, pi(i, q, 1): -1}, 0, np.inf)
            if pool == "inline":
                for c in range(m):
                    for f in range(nf):
                        if M[c, f]:
                            row({ui(f): 1, xi(i, c): -1}, 0, np.inf)    # the plan's process loads f
        for c in range(m):
            row({zi(c, k): 1 for k in range(K + 1)}, 1, 1)   # one count bucket per chain
            e = {xi(i, c): 1 for i in range(n)}
            for k in range(1, K):
                e[zi(c, k)] = -k
            e[si(c)] = -1
            row(e, 0, 0)                                     # inputs on c = bucket's count (+ s)
            row({si(c): 1, zi(c, K): -K}, 0, np.inf)         # s >= K when zbig
            row({si(c): 1, zi(c, K): -n}, -np.inf, 0)        # s = 0 unless zbig
            if pool == "parallel":
                for f in range(nf):
                    if M[c, f]:
                        row({ui(f): 1, zi(c, 1): -1}, 0, np.inf)     # a one-video call of c: the caller loads f
        if self.budget_cpu is not None:
            A.append(cost), lo.append(-np.inf), hi.append(self.cap_cpu() - self.run_overhead)
        if self.budget_usd is not None:
            A.append(usd), lo.append(-np.inf), hi.append(self.cap_usd())
        if with_mins:
            for name, least in self.mins.items():
                r = np.zeros(nv)
                for i in range(n):
                    for c in range(m):
                        r[xi(i, c)] = self.w[i] * self.Q[c].get(name, 0.0)
                    for q in range(nq):
                        for b in (0, 1):
                            r[pi(i, q, b)] = self.w[i] * self.PQ[q].get(name, 0.0)
                A.append(r), lo.append(least - 1e-9), hi.append(np.inf)
        ub = np.ones(nv)
        ub[nx + npv + nz:nx + npv + nz + m] = n
        cons = LinearConstraint(np.array(A), lo, hi)
        opts = {"mip_rel_gap": 1e-9}
        if floor is None:
            res = milp(-quality, constraints=[cons], integrality=np.ones(nv), bounds=Bounds(0, ub), options=opts)
            if res.status != 0 or res.x is None:
                return None
            floor = float(quality @ res.x) - 1e-9
        else:
            res = None
        res2 = milp(cost, constraints=[cons, LinearConstraint(quality[None, :], floor, np.inf)],
                    integrality=np.ones(nv), bounds=Bounds(0, ub), options=opts)
        if res2.status == 0 and res2.x is not None:
            res = res2
        if res is None:
            return None
        x = res.x[:nx].reshape(n, m)
        pv = res.x[nx:nx + npv].reshape(n, nq, 2).sum(axis=2)
        return Assignment(pool, [int(np.argmax(x[i])) for i in range(n)], [int(np.argmax(pv[i])) for i in range(n)])

    # -- the exhaustive oracle (small problems: evaluation and tests) ----------------------
    def oracle(self, with_mins: bool = True) -> Assignment | None:
        """Best feasible plan over every assignment (exact costs, actual worker counts), both
        pools. Engine and post assignments are enumerated separately (m^n and q^n) and joined
        exactly: for each post assignment and each pattern of per-input engine states (shots
        found / no detector / skipped), the best engine assignment of that pattern within the
        remaining budget comes from its cost-sorted running maximum of quality."""
        return self._better_pool(lambda pool: self._oracle(pool, with_mins))

    def _oracle(self, pool: str, with_mins: bool) -> Assignment | None:
        n, m = self.C.shape
        nq = len(self.post)
        g = self._fixed_by_count(pool)
        K = g.shape[1] - 1
        grid = np.stack(np.meshgrid(*[np.arange(m)] * n, indexing="ij"), -1).reshape(-1, n)
        rows = np.arange(n)
        ecpu = self.run_overhead + self.C[rows, grid].sum(axis=1)
        counts = np.zeros((len(grid), m), dtype=int)
        every = np.arange(len(grid))
        for i in range(n):   # one (row, chain) pair per row for each i: plain indexing adds exactly (np.add.at is ~10x slower)
            counts[every, grid[:, i]] += 1
        # sum over chains of g[chain, its input count]: g[c, 0] for every chain, plus, for each chain a
        # row uses (at most n of the m), its own count's figure instead (was a (rows x m) gather:
        # ~1 s per pool on 3 inputs x 73 chains)
        ecpu = ecpu + g[:, 0].sum()
        for i in range(n):
            c = grid[:, i]
            first = np.ones(len(grid), dtype=bool)
            for j in range(i):
                first &= grid[:, j] != c
            ecpu = ecpu + first * (g[c, np.minimum(counts[every, c], K)] - g[c, 0])
        _, shared_cost, M = self._shared()
        # the loadings the plan's process pays: those of the chains that run in it (inline: every
        # chain a row uses; parallel: its one-input calls), each once (M is 0/1; per used chain
        # instead of a (rows x m) product: the same sets)
        needs = np.zeros((len(grid), M.shape[1]), dtype=bool)
        for i in range(n):
            c = grid[:, i]
            in_caller = np.ones(len(grid), dtype=bool) if pool == "inline" else counts[every, c] == 1
            needs |= in_caller[:, None] & (M[c] > 0)
        ecpu = ecpu + needs.astype(float) @ shared_cost
        eusd = self.U[rows, grid].sum(axis=1)
        egoal = (self.w[None, :] * self.G[grid]).sum(axis=1)
        ok = eusd <= self.cap_usd() + 1e-12
        mins = self.mins if with_mins else {}
        for name, floor in mins.items():
            if name in self.engine_names and name not in self.post_names:
                qv = np.array([qq.get(name, 0.0) for qq in self.Q])
                ok &= (self.w[None, :] * qv[grid]).sum(axis=1) >= floor - 1e-9
        estate = self.state[grid]                                          # (assignments, n) in {0, 1, 2}
        pat = (estate * (3 ** np.arange(n))[None, :]).sum(axis=1)
        pgrid = np.stack(np.meshgrid(*[np.arange(nq)] * n, indexing="ij"), -1).reshape(-1, n)
        pgoal = (self.w[None, :] * self.PG[pgrid]).sum(axis=1)
        pfixed = ((self.PM[pgrid].max(axis=1)) @ self.pfix) if len(self.pfix) else np.zeros(len(pgrid))
        pok = np.ones(len(pgrid), dtype=bool)
        for name, floor in mins.items():
            if name in self.post_names and name not in self.engine_names:
                qv = np.array([qq.get(name, 0.0) for qq in self.PQ])
                pok &= (self.w[None, :] * qv[pgrid]).sum(axis=1) >= floor - 1e-9
        both = {nm for nm in mins if nm in self.post_names and nm in self.engine_names}
        if both:
            raise NotImplementedError(f"oracle: quality {sorted(both)} comes from both engine and post stages")
        best = None   # (goal, -cpu, engine index, post index)
        for code in np.unique(pat[ok]):
            sel = np.flatnonzero(ok & (pat == code))
            st = [(code // 3 ** i) % 3 for i in range(n)]
            b = np.array([min(s_, 1) for s_ in st])
            pc = self.PC[rows[None, :], pgrid, b[None, :]].sum(axis=1) + pfixed
            pu = self.PU[rows[None, :], pgrid, b[None, :]].sum(axis=1)
            valid = pok & (pu + eusd[sel].min() <= self.cap_usd() + 1e-12)
            for i in range(n):
                if st[i] == 2:
                    valid &= pgrid[:, i] == 0
            if not valid.any():
                continue
            order = sel[np.argsort(ecpu[sel], kind="stable")]
            costs = ecpu[order]
            run_best = np.maximum.accumulate(egoal[order])
            # the first (cheapest) position reaching each running maximum
            # (vectorised: a position starts a new maximum when it beats the previous running maximum)
            rises = np.ones(len(order), dtype=bool)
            rises[1:] = run_best[1:] > run_best[:-1] + 1e-12
            first = np.maximum.accumulate(np.where(rises, np.arange(len(order)), 0))
            pidx = np.flatnonzero(valid)
            j = np.searchsorted(costs, self.cap_cpu() - pc[pidx] + 1e-9, side="right") - 1
            keep = j >= 0
            pidx, j = pidx[keep], j[keep]
            if not len(pidx):
                continue
            eidx = order[first[j]]
            fit = eusd[eidx] + pu[pidx] <= self.cap_usd() + 1e-12
            pidx, eidx = pidx[fit], eidx[fit]
            if not len(pidx):
                continue
            tot_q = np.round(egoal[eidx] + pgoal[pidx], 9)
            tot_c = ecpu[eidx] + pc[pidx]
            k = int(np.lexsort((tot_c, -tot_q))[0])
            key = (float(tot_q[k]), -float(tot_c[k]))
            if best is None or key > best[0]:
                best = (key, int(eidx[k]), int(pidx[k]))
        if best is None:
            return None
        return Assignment(pool, [int(c) for c in grid[best[1]]], [int(q) for q in pgrid[best[2]]])

    # -- reference plans ----------------------------------------------------------------
    def uniform(self, chain: dict[str, str], post: dict[str, str] | None = None, pool: str = "parallel") -> Assignment:
        c = self.chains.index(chain)
        q = self.post.index(post or OFF)
        return Assignment(pool, [c] * len(self.inputs), [q] * len(self.inputs))

    def cheapest(self) -> Assignment:
        """The cheapest plan that analyses every input: one engine chain for all, nothing after."""
        full = [c for c in range(len(self.chains)) if c != self.skip]
        best = None
        for pool in POOLS:
            for c in full:
                a = Assignment(pool, [c] * len(self.inputs), [0] * len(self.inputs))
                cpu = self.evaluate(a)["cpu_seconds"]
                if best is None or cpu < best[0]:
                    best = (cpu, a)
        return best[1]

    def best_unconstrained(self) -> Assignment:
        """What no budget would run: the best quality, the cheapest way."""
        p = Problem(self.goal, self.inputs, self.reg, None, None, {}, self.margin, allow_skip=False)
        a = p.solve(with_mins=False)
        if self.allow_skip:   # same chain indices: skip is the last chain here, absent there
            return Assignment(a.pool, list(a.engine), list(a.post))
        return a


def always_best_chain(reg: dict[str, Variant], goal: str) -> dict[str, str]:
    """The best variant of every engine and post stage by its own quality figures, whatever the
    goal uses (the baseline 'run the best of everything'): per stage, the variant with the
    highest sum of its quality figures; ties go to the first registered. No gate (every shot
    gets every stage), and the engine's default pool (parallel workers)."""
    best: dict[str, tuple[float, str]] = {}
    for v in reg.values():
        if not v.optional or not available(v) or v.stage in ("gate", "pool", "coverage", "frames"):
            continue
        score = sum(v.quality.values())
        if v.stage not in best or score > best[v.stage][0]:
            best[v.stage] = (score, v.variant)
    out = {s: best[s][1] for s in sorted(best)}
    out["gate"] = "all"
    return out


def split_chain(chain: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A full chain (engine + post stages) -> (engine chain, post chain)."""
    from videoforge.plan.registry import POST_STAGES

    eng = {s: v for s, v in chain.items() if s in ENGINE_STAGES}
    post = {**OFF, **{s: v for s, v in chain.items() if s in POST_STAGES}}
    return eng, post


def document(p: Problem, a: Assignment, bad_inputs: list[dict] | None = None) -> dict:
    """The plan document (`plan --json` prints it, `run --plan` reads it)."""
    from videoforge.plan.post import post_cost, post_fixed_keys, shots_of
    from videoforge.plan.registry import caption_endpoint

    e = p.evaluate(a)
    analysed = [i for i, c in enumerate(a.engine) if c != p.skip]
    skipped = [i for i, c in enumerate(a.engine) if c == p.skip]
    path = lambda i: p.inputs[i].path   # noqa: E731
    stages: list[dict] = []
    for stage, variant in BASE_STAGES:
        if stage == "overhead":
            continue   # a cost, not a stage one chooses or runs
        stages.append({"stage": stage, "variant": variant, "applies_to": [path(i) for i in analysed]})
    for stage in ENGINE_STAGES:
        used: dict[str, list[str]] = {}
        for i in analysed:
            used.setdefault(p.chains[a.engine[i]][stage], []).append(path(i))
        for variant, paths in sorted(used.items()):
            entry = {"stage": stage, "variant": variant, "applies_to": paths}
            if stage == "ocr" and variant != "off":
                entry["gate"] = "the text gate (cheap) decides which sampled frames reach OCR"
            stages.append(entry)
    sparse: dict[str, list[str]] = {}
    for i in analysed:   # a sparse frame mode (session 10): listed only where a chain uses one
        if "frames" in p.chains[a.engine[i]]:
            sparse.setdefault(p.chains[a.engine[i]]["frames"], []).append(path(i))
    for variant, paths in sorted(sparse.items()):
        stages.append({"stage": "frames", "variant": variant, "applies_to": paths})
    for stage in sorted(OFF):
        used = {}
        for i in analysed:
            used.setdefault(p.post[a.post[i]][stage], []).append(path(i))
        for variant, paths in sorted(used.items()):
            entry = {"stage": stage, "variant": variant, "applies_to": paths}
            if stage == "gate" and variant == "suitable":
                entry["gate"] = "only shots whose suitability score passes the cascade's threshold are captioned and embedded"
            stages.append(entry)
    stages.append({"stage": "pool", "variant": a.pool, "applies_to": [path(i) for i in analysed]})
    if skipped:
        stages.append({"stage": "coverage", "variant": "skip", "applies_to": [path(i) for i in skipped]})
    per_stage: dict[str, float] = {}
    for i in analysed:
        info, chain = p.inputs[i], p.chains[a.engine[i]]
        if "frames" in chain:   # a sparse pass: its stages scale together; listed as one entry
            key = f"frames/{chain['frames']}"
            per_stage[key] = per_stage.get(key, 0.0) + chain_cost(info, chain, p.reg)
        for stage, variant in ([] if "frames" in chain else [*BASE_STAGES, *chain.items()]):
            if stage in ("decode", "keyframes", "overhead"):
                v = p.reg[f"{stage}/{variant}"]
                per = decode_per_mpx(info, p.reg) if stage == "decode" else v.cpu_seconds
                one = per * info.units(v.unit)
            else:
                one = chain_cost(info, {stage: variant}, p.reg) - chain_cost(info, {}, p.reg)
            per_stage[f"{stage}/{variant}"] = per_stage.get(f"{stage}/{variant}", 0.0) + one
        post = p.post[a.post[i]]
        nod = chain.get("shots") == "none"
        for stage in sorted(OFF):
            only = {**OFF, stage: post[stage]}
            if stage in ("caption", "embed"):
                only["gate"] = post["gate"]
            one = post_cost(info, only, nod, p.reg) - post_cost(info, {**OFF, "gate": only["gate"]}, nod, p.reg)
            if one:
                per_stage[f"{stage}/{post[stage]}"] = per_stage.get(f"{stage}/{post[stage]}", 0.0) + one
    for k in sorted({k for q in set(a.post[i] for i in analysed) for k in post_fixed_keys(p.post[q], p.reg)}):
        per_stage[k] = per_stage.get(k, 0.0) + p.reg[k].fixed_cpu_seconds
    per_stage["overhead"] = e["cpu_seconds"] - sum(per_stage.values())
    groups: dict[tuple, list[int]] = {}
    for i in analysed:
        key = tuple(sorted({**p.chains[a.engine[i]], **p.post[a.post[i]]}.items()))
        groups.setdefault(key, []).append(i)
    eng_count: dict[int, int] = {}
    for i in analysed:
        eng_count[a.engine[i]] = eng_count.get(a.engine[i], 0) + 1
    doc = {
        "version": PLAN_VERSION,
        "goal": p.goal,
        "inputs": [i.path for i in p.inputs],
        "budget": {"cpu_hours": None if p.budget_cpu is None else p.budget_cpu / 3600.0, "usd": p.budget_usd},
        "stages": stages,
        "predicted": {"cpu_seconds": e["cpu_seconds"], "usd": e["usd"], "quality": e["quality"],
                      "per_stage_cpu_seconds": per_stage,
                      "shots": {path(i): shots_of(p.inputs[i], p.chains[a.engine[i]].get("shots") == "none", p.reg)
                                for i in analysed}},
        "margin": p.margin,
        "min": dict(p.mins),
        "pool": a.pool,
        "chains": [{"chain": dict(key), "inputs": [path(i) for i in ix],
                    "workers": 0 if a.pool == "inline" else workers_for(eng_count[a.engine[ix[0]]])}
                   for key, ix in sorted(groups.items())],
        "inputs_info": [i.to_dict() for i in p.inputs],
        "skipped_inputs": bad_inputs or [],
        "not_analysed": [path(i) for i in skipped],
        "cost_sources": sorted({p.reg[k].cost_source for k in p.reg}),
    }
    if any(p.post[q]["caption"] == "openai" for q in a.post):
        ep = caption_endpoint() or {}
        doc["caption_endpoint"] = {k: ep.get(k) for k in ("base_url", "model", "price_input", "price_output")}
    return doc


def plan(p: Problem, bad_inputs: list[dict] | None = None) -> dict:
    """Solve and return the plan document; raises Infeasible saying what the budget buys."""
    a = p.solve()
    if a is not None and any(c != p.skip for c in a.engine):
        return document(p, a, bad_inputs)
    cheapest = p.evaluate(p.cheapest())
    info: dict = {"cheapest": cheapest}
    # the least a plan that analyses anything costs: the cheapest input alone
    if p.allow_skip:
        one = min((Problem(p.goal, [i], p.reg, None, None, {}, p.margin, allow_skip=False) for i in p.inputs),
                  key=lambda q: q.evaluate(q.cheapest())["cpu_seconds"])
        info["cheapest_one_input"] = one.evaluate(one.cheapest())
        info["cheapest_one_input"]["input"] = one.inputs[0].path
    least = info.get("cheapest_one_input", cheapest)
    fits = least["cpu_seconds"] <= p.cap_cpu() and least["usd"] <= p.cap_usd()
    if p.mins and fits:
        relaxed = p.solve(with_mins=False)
        if relaxed is not None and any(c != p.skip for c in relaxed.engine):
            info["best_within_budget"] = document(p, relaxed, bad_inputs)
    msg = []
    if not fits:
        need = least["cpu_seconds"] / (1.0 - p.margin)
        what = "" if "cheapest_one_input" not in info else f"; it analyses one input, {os.path.basename(least['input'])}"
        msg.append(f"the cheapest plan needs {least['cpu_seconds']:.1f} CPU-s "
                   f"(a budget of {need / 3600:.4f} CPU-hours with the {p.margin:.0%} safety margin{what})")
    if "best_within_budget" in info:
        q = info["best_within_budget"]["predicted"]["quality"]
        msg.append("the budget buys instead: " + ", ".join(f"{k}={q.get(k, 0):.3f}" for k in p.mins)
                   + f" (goal quality {q['goal']:.3f})")
    elif p.mins and fits:
        msg.append("no plan within the budget meets the --min constraints")
    raise Infeasible("; ".join(msg) or "no feasible plan", info)
