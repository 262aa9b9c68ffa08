"""One entry point for planning, shared by `videoforge plan` and `POST /api/plans`."""

from __future__ import annotations

from dataclasses import dataclass, field

from videoforge.plan.planner import PlanError, Problem, plan

SAMPLE_INPUTS = 8   # inputs whose decode is timed when no measured figure exists (the rest share their median)


@dataclass
class PlanRequest:
    inputs: list[str]
    goal: str
    budget_cpu_hours: float | None = None
    budget_usd: float | None = None
    mins: dict[str, float] = field(default_factory=dict)
    margin: float | None = None
    catalog: str | None = None
    sample: bool = True
    full_coverage: bool = False   # every input analysed (no `coverage/skip` under a tight budget)
    # time a real `run --plan` on the first seconds of one input while the registry's fixed costs
    # are the shipped ones (plan/probe.py); only with `sample`
    probe: bool = True


def make_plan(req: PlanRequest, reader=None) -> dict:
    """Discover and probe the inputs, load the registry, solve; the plan document.

    `reader`: where the measured costs are read (the server's ReadGate); default req.catalog.
    Raises PlanError (bad request, nothing to plan) or planner.Infeasible."""
    from videoforge.catalog import Catalog
    from videoforge.engine.discover import discover
    from videoforge.plan.costs import count_keyframes, mark_not_sparse, probe_input, sample_decode, sample_suitability
    from videoforge.plan.store import load_registry

    paths, missing = discover(list(req.inputs))
    bad = [{"path": m, "error": f"{m}: no such file, folder or glob match"} for m in missing]
    infos = []
    for p in paths:
        i = probe_input(p)
        if i.error or i.frames <= 0:
            bad.append({"path": i.path, "error": i.error or f"{i.path}: no video frames"})
        else:
            infos.append(i)
    if not infos:
        raise PlanError("no usable video among the inputs" + (f" ({bad[0]['error']})" if bad else ""))
    source = reader if reader is not None else (Catalog(req.catalog) if req.catalog else None)
    reg = load_registry(source)
    if not req.sample:   # key frames not counted: at least the files the mode decodes whole are known
        for i in infos:     # from their header (AVI, codecs other than H.264 / HEVC)
            mark_not_sparse(i)
    if req.sample:   # decoding cost differs most between files (codec, bit rate): time it on each
        for i in infos:   # what the key-frame mode would decode (packets only; session 10)
            count_keyframes(i)
        timed = infos[:SAMPLE_INPUTS]
        for i in timed:
            sample_decode(i)
            sample_suitability(i)
        got = sorted(i.decode_cpu_per_mpx for i in timed if i.decode_cpu_per_mpx is not None)
        if got:
            for i in infos[SAMPLE_INPUTS:]:
                i.decode_cpu_per_mpx = got[len(got) // 2]
    probe = None
    if req.sample and req.probe:
        from videoforge.plan.probe import apply_probe, needs_probe, run_probe

        if needs_probe(reg):
            # the longest input: its codec and size are the ones most of the plan's work is on
            probe = run_probe(max(infos, key=lambda i: i.mpx), req.goal, reg)
            if "error" not in probe:
                apply_probe(reg, probe)
    budget_cpu = None if req.budget_cpu_hours is None else req.budget_cpu_hours * 3600.0
    if req.margin is None:   # session 12: from how far executed plans missed (plan/margin.py)
        from videoforge.plan.margin import plan_margin

        margin, margin_source = plan_margin(source)
    else:
        margin, margin_source = req.margin, {"source": "given"}
    p = Problem(req.goal, infos, reg, budget_cpu, req.budget_usd, dict(req.mins), margin,
                allow_skip=not req.full_coverage)
    doc = plan(p, bad)
    doc["margin_source"] = margin_source
    if probe is not None:
        doc["probe"] = probe
    return doc
