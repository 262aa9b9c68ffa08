"""The safety margin a plan keeps below its budget, from how far executed plans missed their prediction.

A plan must fit `budget x (1 - margin)` so that the run, whose CPU varies around the prediction,
stays within the budget. A fixed 15 % was too little: in session 11, 4 of 39 budgeted runs went 4-10 %
over their budget (actual / predicted up to 1.29 while 1 / 0.85 = 1.18 was all a 15 % margin
absorbs). The margin is now the one-sided 99 % quantile of actual / predicted, taken as log-normal
(mean and standard deviation of log(actual / predicted)): q = exp(mean + 2.326 sd), margin =
1 - 1 / q, kept within [0.15, 0.5].

- A catalog with at least MIN_RUNS executed plans (`plan_runs`): its own last WINDOW runs - the
  spread on this machine, at this load, with costs fed back.
- Otherwise (a first plan, no catalog or too few runs): the spread of first plans measured here
  (SHIPPED below), which is wider than the fed-back one.
An explicit `--margin` (or the API's `margin`) is used as given.
"""

from __future__ import annotations

import math

Z99 = 2.326          # one-sided 99 % point of the standard normal
FLOOR, CEIL = 0.15, 0.5
MIN_RUNS = 5
WINDOW = 30

# First plans (no catalog, shipped costs refined by the plan's sample and probe run) executed on this
# machine in session 11, busy (load 1.6-5.7): the 30 first plans of series S11a-c (probe on) and the 9
# half-budget runs on real edits (H, H2, H3) - rows docs/benchmarks/plan_eval11_{FHB,FB2,FB3,H2,H3}.json;
# actual / predicted 0.79-1.29, geometric mean 1.016.
SHIPPED = {"runs": 39, "mean_log": 0.01637, "sd_log": 0.14459,
           "source": "shipped: spread of 39 first plans executed in session 11 (docs/benchmarks/plan_eval11_*.json)"}


def margin_from_log(mean_log: float, sd_log: float) -> float:
    """1 - 1 / q for q = exp(mean + Z99 sd), within [FLOOR, CEIL]."""
    q = math.exp(mean_log + Z99 * max(sd_log, 0.0))
    return min(max(1.0 - 1.0 / q, FLOOR), CEIL)


def spread(ratios: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation of log(actual / predicted)."""
    logs = [math.log(r) for r in ratios if r > 0 and math.isfinite(r)]
    n = len(logs)
    if n == 0:
        return 0.0, 0.0
    mean = sum(logs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (n - 1)) if n > 1 else 0.0
    return mean, sd


def catalog_ratios(catalog, window: int = WINDOW) -> list[float]:
    """actual / predicted CPU of the catalog's last `window` executed plans (newest first).
    `catalog`: None, a Catalog, or anything with its `read()` (the server's ReadGate)."""
    import duckdb

    from videoforge.catalog import Catalog

    if catalog is None or (isinstance(catalog, Catalog) and not catalog.exists()):
        return []
    try:
        with catalog.read() as con:
            rows = con.execute("SELECT actual_cpu_seconds / predicted_cpu_seconds FROM plan_runs "
                               "WHERE predicted_cpu_seconds > 0 AND actual_cpu_seconds > 0 "
                               "ORDER BY finished_at DESC LIMIT ?", [int(window)]).fetchall()
    except duckdb.CatalogException:   # a catalog from before migration 5: no executed plans
        return []
    return [float(r[0]) for r in rows]


def plan_margin(catalog=None) -> tuple[float, dict]:
    """(margin, where it comes from) for a plan priced with `catalog`'s costs (None: shipped)."""
    ratios = catalog_ratios(catalog)
    if len(ratios) >= MIN_RUNS:
        mean, sd = spread(ratios)
        return margin_from_log(mean, sd), {"source": f"measured: the last {len(ratios)} executed plans in the catalog",
                                           "runs": len(ratios), "mean_log": round(mean, 5), "sd_log": round(sd, 5)}
    return margin_from_log(SHIPPED["mean_log"], SHIPPED["sd_log"]), dict(SHIPPED)
