"""Decision center (issue 25), session-12 review: the exhaustive oracle's vectorised rewrite (fixed costs
summed over the chains a row uses, shared loading per used chain, a vectorised running maximum) against
a plain reference written here - loops over every (pool, engine assignment, post assignment) - on
random fixed costs g[c, k] (random K), random loading sets M and random per-input costs and qualities.
The ILP-vs-oracle tests (test_plan.py) cannot tell an oracle error the ILP shares."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from test_plan import _inputs, _reg
from videoforge.plan.planner import Problem


def _small_random_problem(rng) -> tuple[Problem, dict]:
    """A real Problem cut to 5 engine chains + skip and 3 post chains, its arrays replaced by random ones."""
    p = Problem("search", _inputs(), _reg(), None, None, {})
    n = len(p.inputs)
    keep = sorted(rng.choice([c for c in range(len(p.chains)) if c != p.skip], 5, replace=False).tolist()) + [p.skip]
    posts = [0] + sorted(rng.choice(np.arange(1, len(p.post)), 2, replace=False).tolist())
    m, nq = len(keep), len(posts)
    p.chains, p.skip = [p.chains[c] for c in keep], m - 1
    p.Q = [p.Q[c] for c in keep]
    p.C = rng.uniform(0.0, 5.0, (n, m))
    p.C[:, p.skip] = 0.0
    p.U = np.zeros((n, m))
    p.G = rng.uniform(0.0, 1.0, m).round(2)   # rounded: ties in quality, so cost decides among them
    p.G[p.skip] = 0.0
    p.state = np.array([int(rng.integers(0, 2)) for _ in range(m - 1)] + [2])
    p.post, p.PQ = [p.post[q] for q in posts], [p.PQ[q] for q in posts]
    p.PG = np.concatenate([[0.0], rng.uniform(0.0, 0.5, nq - 1).round(2)])
    p.PC = rng.uniform(0.0, 3.0, (n, nq, 2))
    p.PC[:, 0] = 0.0
    p.PU = np.zeros((n, nq, 2))
    p.pfix = rng.uniform(0.0, 2.0, 2)
    p.PM = np.array([[0, 0]] + [rng.integers(0, 2, 2).tolist() for _ in range(nq - 1)], dtype=float)
    K = int(rng.integers(2, 5))
    g = {pool: rng.uniform(0.0, 2.0, (m, K + 1)) for pool in ("inline", "parallel")}
    shared = (["a", "b", "c"], rng.uniform(0.0, 3.0, 3), rng.integers(0, 2, (m, 3)).astype(float))
    p._fixed_by_count = lambda pool: g[pool]
    p._shared = lambda: shared
    return p, {"g": g, "K": K, "shared": shared}


def _engine_cost(p: Problem, fx: dict, pool: str, engine) -> float:
    """The engine calls' CPU, term by term, as the oracle's docstring and _fixed_by_count/_shared define it."""
    g, K, (_, shared_cost, M) = fx["g"][pool], fx["K"], fx["shared"]
    n, m = p.C.shape
    counts = [list(engine).count(c) for c in range(m)]
    cpu = p.run_overhead + sum(p.C[i, engine[i]] for i in range(n))
    cpu += sum(g[c, min(counts[c], K)] for c in range(m))          # every chain's call, at its input count
    for f in range(len(shared_cost)):   # a loading paid once when a chain run in this process needs it
        if any(M[c, f] > 0 and (pool == "inline" or counts[c] == 1) for c in set(engine)):
            cpu += shared_cost[f]
    return float(cpu)


def _post_cost(p: Problem, engine, post) -> float:
    cpu = sum(p.PC[i, post[i], min(int(p.state[engine[i]]), 1)] for i in range(len(post)))
    return float(cpu + sum(p.pfix[k] for k in range(len(p.pfix)) if any(p.PM[q, k] > 0 for q in post)))


def _reference_best(p: Problem, fx: dict, pool: str):
    n, m = p.C.shape
    best = None
    for engine in itertools.product(range(m), repeat=n):
        ecpu = _engine_cost(p, fx, pool, engine)
        for post in itertools.product(range(len(p.post)), repeat=n):
            if any(p.state[engine[i]] == 2 and post[i] != 0 for i in range(n)):
                continue   # a skipped input has no shots to post-process
            cpu = ecpu + _post_cost(p, engine, post)
            if cpu > p.cap_cpu() + 1e-9:
                continue
            goal = round(sum(p.w[i] * (p.G[engine[i]] + p.PG[post[i]]) for i in range(n)), 9)
            if best is None or (goal, -cpu) > best:
                best = (goal, -cpu)
    return best


@pytest.mark.parametrize("seed", range(3))
def test_the_oracle_equals_a_plain_reference_on_random_fixed_costs_and_loadings(seed):
    rng = np.random.default_rng(seed)
    p, fx = _small_random_problem(rng)
    for pool in ("inline", "parallel"):
        p.budget_cpu = None
        free = _reference_best(p, fx, pool)   # the best plan's cost with no budget
        # budgets from loose to one that only the cheapest plans fit
        for frac in (None, 0.7, 0.35):
            p.budget_cpu = None if frac is None else -free[1] * frac / (1 - p.margin)
            want = _reference_best(p, fx, pool)
            got = p._oracle(pool, with_mins=True)
            if want is None:
                assert got is None, (seed, pool, frac)
                continue
            assert got is not None and got.pool == pool
            cpu = _engine_cost(p, fx, pool, got.engine) + _post_cost(p, got.engine, got.post)
            goal = round(sum(p.w[i] * (p.G[c] + p.PG[q]) for i, (c, q) in enumerate(zip(got.engine, got.post))), 9)
            assert cpu <= p.cap_cpu() + 1e-9, (seed, pool, frac)
            assert goal == pytest.approx(want[0], abs=1e-9) and cpu == pytest.approx(-want[1], abs=1e-9), (seed, pool, frac)
