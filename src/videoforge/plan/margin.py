"""The safety margin a plan keeps below its budget, from how far executed plans missed their prediction.

A plan must fit `budget x (1 - margin)` so that the run, whose CPU varies around the prediction,
stays within the budget. A fixed 15 % was too little: in session 11, 4 of 39 budgeted runs went 4-10 %
over their budget (actual / predicted up to 1.29 while 1 / 0.85 = 1.18 was all a 15 % margin
absorbs). The margin is now the one-sided 99 % quantile of actual / predicted, taken as log-normal
(mean and standard deviation of log(actual / predicted)): q = exp(mean + 2.326 sd), margin =
1 - 1 / q, kept within [0.15, 0.5].

- First plans (no catalog, or fewer than MIN_RUNS executed plans in it): the spread of first plans
  measured here (SHIPPED below), which is wider than the fed-back one.
- A catalog with executed plans (`plan_runs`): its last WINDOW runs pooled with the shipped spread
  counted as PRIOR_RUNS runs (mean and variance weighted by runs, plus the spread between the two means): a few runs that happened to land
  close cannot shrink the margin (session 12, first version: the catalog's own 9 runs alone gave
  0.17, and the next run came in 1.34x its prediction, 10 % over its budget). The shipped spread
  keeps PRIOR_RUNS / (PRIOR_RUNS + WINDOW) = 40 % of the weight however many runs the catalog has,
  so the least margin a catalog can reach is ~0.20, not FLOOR: 30 runs exactly on their prediction
  give 0.206 (FLOOR only bounds the shipped and `margin_from_log` figures). A wide catalog spread
  still raises the margin up to CEIL.
- Which runs count: those with a finite, positive predicted and actual CPU (NaN, which DuckDB
  orders above every number, and missing figures are left out; the count `n` is of the runs used).
  `plan_runs` has no column telling a failed or partial run from a clean one (run --plan records
  every run it finishes, with the CPU it used, also when some input failed; a run killed before its
  last update keeps the CPU measured before its final commits), so such runs count like the others.
An explicit `--margin` (or the API's `margin`) is used as given.
"""

from __future__ import annotations

import math

Z99 = 2.326          # one-sided 99 % point of the standard normal
FLOOR, CEIL = 0.15, 0.5
MIN_RUNS = 2         # a standard deviation needs two
WINDOW = 30
PRIOR_RUNS = 20      # the shipped spread's weight when pooled with a catalog's own runs

# First plans (no catalog, shipped costs refined by the plan's sample and probe run) executed on this
# machine, busy (load 1.6-5.7): the 30 first plans of session 11's series S11a-c (probe on), its 9
# half-budget runs on real edits (H, H2, H3) and the 10 first plans of session 12's first series -
# rows docs/benchmarks/plan_eval11_{FHB,FB2,FB3,H2,H3}.json, plan_eval12_FB1.json; actual / predicted
# 0.79-1.45, geometric mean 1.031.
SHIPPED = {"runs": 49, "mean_log": 0.03075, "sd_log": 0.14458,
           "source": "shipped: spread of 49 first plans executed in sessions 11-12 (docs/benchmarks/plan_eval1[12]_*.json)"}


def margin_from_log(mean_log: float, sd_log: float) -> float:
    """1 - 1 / q for q = exp(mean + Z99 sd), within [FLOOR, CEIL]."""
    q = math.exp(mean_log + Z99 * max(sd_log, 0.0))
    return min(max(1.0 - 1.0 / q, FLOOR), CEIL)


def spread(ratios: list[float]) -> tuple[float, float, int]:
    """Mean and sample standard deviation of log(actual / predicted), and how many ratios they
    come from (the finite, positive ones)."""
    logs = [math.log(r) for r in ratios if r > 0 and math.isfinite(r)]
    n = len(logs)
    if n == 0:
        return 0.0, 0.0, 0
    mean = sum(logs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (n - 1)) if n > 1 else 0.0
    return mean, sd, n


def catalog_ratios(catalog, window: int = WINDOW) -> list[float]:
    """actual / predicted CPU of the catalog's last `window` executed plans with finite, positive
    figures (newest first; see the module's note on which runs count).
    `catalog`: None, a Catalog, or anything with its `read()` (the server's ReadGate)."""
    import duckdb

    from videoforge.catalog import Catalog

    if catalog is None or (isinstance(catalog, Catalog) and not catalog.exists()):
        return []
    try:
        with catalog.read() as con:
            rows = con.execute("SELECT actual_cpu_seconds / predicted_cpu_seconds FROM plan_runs "
                               "WHERE predicted_cpu_seconds > 0 AND actual_cpu_seconds > 0 "
                               "AND isfinite(predicted_cpu_seconds) AND isfinite(actual_cpu_seconds) "
                               "ORDER BY finished_at DESC LIMIT ?", [int(window)]).fetchall()
    except duckdb.CatalogException:   # a catalog from before migration 5: no executed plans
        return []
    return [float(r[0]) for r in rows]


def plan_margin(catalog=None) -> tuple[float, dict]:
    """(margin, where it comes from) for a plan priced with `catalog`'s costs (None: shipped)."""
    m, s, n = spread(catalog_ratios(catalog))
    if n >= MIN_RUNS:
        mean, sd = pooled(m, s, n)
        return margin_from_log(mean, sd), {"source": f"measured: the last {n} executed plans in the catalog, pooled with "
                                                     f"the shipped spread as {PRIOR_RUNS} runs",
                                           "runs": n, "mean_log": round(m, 5), "sd_log": round(s, 5),
                                           "pooled_mean_log": round(mean, 5), "pooled_sd_log": round(sd, 5)}
    return margin_from_log(SHIPPED["mean_log"], SHIPPED["sd_log"]), dict(SHIPPED)


def pooled(mean: float, sd: float, n: int) -> tuple[float, float]:
    """A catalog's spread (mean, sd of log ratios over n runs) pooled with the shipped one counted as
    PRIOR_RUNS runs: means weighted by runs, variances by their degrees of freedom, plus the spread
    between the two means (k n / (k + n) (m1 - m2)^2): without it a catalog consistently off by the
    same factor (1.6x: sd 0) got ~0.33 and overran every budget."""
    k = PRIOR_RUNS
    m = (k * SHIPPED["mean_log"] + n * mean) / (k + n)
    between = k * n / (k + n) * (SHIPPED["mean_log"] - mean) ** 2
    var = (k * SHIPPED["sd_log"] ** 2 + (n - 1) * sd ** 2 + between) / (k + n - 1)
    return m, math.sqrt(var)
