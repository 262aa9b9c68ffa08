"""Turn one engine call's measured CPU into per-unit costs of the variants it ran.

An engine call's process-tree CPU, less its predicted fixed costs (the call, spawned workers,
model loading), is the work of its stages; the engine's own per-stage timings
(`RunSummary.timings`) say how that work divides between them. Each stage's share divided by
the units it processed (megapixels, frames, seconds) is one observation of its cost per unit.
"""

from __future__ import annotations

from videoforge.plan.costs import BASE_STAGES, InputInfo, group_fixed
from videoforge.plan.registry import Variant
from videoforge.plan.store import fold

# engine timing name -> registry stage
TIMING_STAGE = {
    "probe": "decode", "decode": "decode", "shots": "shots", "keyframes": "keyframes", "text": "ocr",
    "motion": "metrics", "camera": "metrics", "sharpness": "metrics", "exposure": "metrics",
    "black_frozen": "metrics", "border": "metrics", "audio": "metrics",
}


def stage_split(timings: dict) -> dict[str, float]:
    """Share (0-1) of timed engine work per registry stage."""
    per: dict[str, float] = {}
    for name, t in timings.items():
        stage = TIMING_STAGE.get(name)
        if stage is not None:
            per[stage] = per.get(stage, 0.0) + max(float(t), 0.0)
    total = sum(per.values())
    return {s: t / total for s, t in per.items()} if total > 0 else {}


def observe_group(reg: dict[str, Variant], chain: dict[str, str], infos: list[InputInfo], cpu: float,
                  timings: dict, source: str, fixed: float | None = None) -> dict[str, float]:
    """Fold one engine call (all `infos` analysed with `chain`, `cpu` process-tree seconds) into
    the registry; returns the per-unit observations made (key -> CPU-s per unit). `fixed`:
    the call's predicted fixed cost when it shares the caller's loading with earlier calls."""
    if fixed is None:
        fixed = group_fixed(chain, len(infos), reg)
    fixed += len(infos) * reg["overhead/video"].cpu_seconds
    # the fixed part is predicted, not measured here; never let it swallow the whole call
    work = max(cpu - fixed, 0.5 * cpu)
    shares = stage_split(timings)
    seen: dict[str, float] = {}
    for stage, variant in [*BASE_STAGES, *chain.items()]:
        if stage == "overhead":
            continue   # measured by calibrate, not divisible from one call's total
        v = reg[f"{stage}/{variant}"]
        units = sum(i.units(v.unit) for i in infos)
        if units <= 0:
            continue
        per_unit = work * shares.get(stage, 0.0) / units
        fold(v, per_unit, units, source)
        seen[v.key] = per_unit
    return seen
