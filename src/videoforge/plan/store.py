"""The catalog's `stages` table: the registry as measured on this user's machine and footage.

Rows override the shipped figures; a variant without a row keeps the shipped one. Costs are
running averages: each observation (a calibration or a real run) moves the figure by
1 / (n + 1) with n capped at `RECENT`, so the figure settles as runs accumulate yet follows a
real change (a faster engine) within a few runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone

import duckdb

from videoforge.catalog import Catalog
from videoforge.catalog.transaction import transaction
from videoforge.plan.registry import Variant, shipped_registry

RECENT = 8   # the running average's memory, in observations


def load_registry(catalog) -> dict[str, Variant]:
    """Shipped registry, with the catalog's measured rows on top. `catalog`: None, a Catalog,
    or anything with the same `read()` (the server's ReadGate)."""
    reg = shipped_registry()
    if catalog is None or (isinstance(catalog, Catalog) and not catalog.exists()):
        return reg
    try:
        with catalog.read() as con:
            cur = con.execute("SELECT * FROM stages")
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    except duckdb.CatalogException:   # a catalog from before migration 5: shipped figures
        return reg
    for r in rows:
        key = f"{r['stage']}/{r['variant']}"
        v = reg.get(key)
        if v is None:
            continue   # a variant this version no longer has
        if r.get("unit") and r["unit"] != v.unit:
            continue   # measured in another unit by an older version (suitability was per megapixel)
        if r.get("samples") or (r.get("cost_source") or "").startswith("scaled"):
            v.cpu_seconds = float(r["cpu_seconds"] or 0.0)
            v.fixed_cpu_seconds = float(r["fixed_cpu_seconds"] or 0.0)
            v.samples = int(r["samples"])
            v.units_measured = float(r["units_measured"] or 0.0)
            v.cost_source = r["cost_source"] or "measured"
        if r.get("usd") is not None:
            v.usd = float(r["usd"])
    return reg


def _row(v: Variant) -> list:
    return [v.stage, v.variant, v.unit, v.cpu_seconds, v.fixed_cpu_seconds, v.usd, json.dumps(v.quality, sort_keys=True),
            v.quality_source, v.cost_source, v.samples, v.units_measured, datetime.now(timezone.utc).replace(tzinfo=None)]


def insert_rows(con, reg: dict[str, Variant]) -> None:
    """Every variant's row in one INSERT OR REPLACE statement on an open connection (the caller's
    transaction). One multi-row statement, not `executemany`: DuckDB runs executemany as one
    statement per row, 0.25 CPU-s for the ~45 rows here, paid by every `run --plan` (session 11:
    ~0.03 CPU-s this way; the same rows)."""
    rows = [_row(v) for v in reg.values()]
    if not rows:
        return
    one = "(" + ", ".join(["?"] * len(rows[0])) + ")"
    con.execute(f"INSERT OR REPLACE INTO stages VALUES {', '.join([one] * len(rows))}", [x for r in rows for x in r])


def save_registry(catalog: Catalog, reg: dict[str, Variant]) -> None:
    """Write every variant's row (one transaction), creating the catalog (or bringing its schema
    up to date) first."""
    catalog.create()
    with catalog.write() as con:
        with transaction(con):
            insert_rows(con, reg)


PRIOR = 1      # a shipped figure counts as this many observations ...
PRIOR_NEAR = 2.0   # ... when the first observation is within this factor of it (else the observation replaces it)


def fold(v: Variant, per_unit: float, units: float, source: str, fixed: float | None = None) -> None:
    """One observation of a variant's cost per unit into its running average.

    A shipped figure near the first observation is kept as one observation (session 9): one run
    splits its CPU over stages by their timings, and a single split moved a fed-back plan by
    20-30 %; far from it (another machine, a registry 3x off) the observation replaces it.
    Forecasts (shots per second, the engine/sample decode factor, pass rates) are not costs:
    their first observation replaces the shipped figure (damping the decode factor slowed the
    convergence of a registry 3x off: it is pushed by whole calls' ratios)."""
    n = min(v.samples, RECENT)
    # `calibrate` measures on purpose, on the user's footage: its figures replace the shipped ones
    if v.samples == 0 and v.stage != "forecast" and v.cost_source.startswith("shipped") \
            and not source.startswith("measured: calibrate") and _near(v.cpu_seconds, per_unit) and (
            fixed is None or _near(v.fixed_cpu_seconds, fixed)):
        n = PRIOR
    v.cpu_seconds = (v.cpu_seconds * n + per_unit) / (n + 1)
    if fixed is not None:
        v.fixed_cpu_seconds = (v.fixed_cpu_seconds * n + fixed) / (n + 1)
    v.samples += 1
    v.units_measured += units
    v.cost_source = source


def _near(a: float, b: float) -> bool:
    # two zeros agree (a variant with no fixed or no per-unit cost); one zero is no evidence
    return (a == 0 and b == 0) or (a > 0 and b > 0 and max(a, b) / min(a, b) <= PRIOR_NEAR)


def registry_rows(reg: dict[str, Variant]) -> list[dict]:
    """Rows for `videoforge stages` and `GET /api/stages`, in registry order."""
    return [asdict(v) for v in reg.values()]
