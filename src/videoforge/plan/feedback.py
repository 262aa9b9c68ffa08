"""Turn one engine call's measured CPU into per-unit costs of the variants it ran.

An engine call's process-tree CPU, less its predicted fixed costs (the call, spawned workers,
model loading), is the work of its stages; the engine's own per-stage timings
(`RunSummary.timings`) say how that work divides between them. Each stage's share divided by
the units it processed (megapixels, frames, seconds) is one observation of its cost per unit.
"""

from __future__ import annotations

import math

from videoforge.plan.costs import (BASE_STAGES, InputInfo, decode_cost, group_fixed, ocr_factor, ocr_size_factor,
                                   sampled_decode_factor)
from videoforge.plan.registry import Variant
from videoforge.plan.store import fold

SHIFT = 2.0   # a call this far off its prediction (either way) restarts the running averages (1.3 was tried:
#               run-to-run differences between chains reached 1.5x and kept restarting them)

# engine timing name -> registry stage
TIMING_STAGE = {
    "probe": "decode", "decode": "decode", "shots": "shots", "keyframes": "keyframes", "text": "ocr",
    "motion": "metrics", "camera": "metrics", "sharpness": "metrics", "exposure": "metrics",
    "black_frozen": "metrics", "border": "metrics", "audio": "metrics",
}


LOADING_KEEP = 0.5   # taking a stage's loading out of its timing never leaves less than this share of it
MOSTLY_LOADING = 0.5   # a stage whose predicted loading is more than this share of its timing is not learnt


def stage_timings(timings: dict) -> dict[str, float]:
    """Seconds of timed engine work per registry stage."""
    per: dict[str, float] = {}
    for name, t in timings.items():
        stage = TIMING_STAGE.get(name)
        if stage is not None:
            per[stage] = per.get(stage, 0.0) + max(float(t), 0.0)
    return per


def mostly_loading(timings: dict, loading: dict[str, float] | None) -> set[str]:
    """Stages whose timing is mostly their (predicted) loading: what is left of it after taking the
    loading out is noise on a figure of the other's size, so such a call says nothing reliable of
    their per-unit cost (session-11 review: a 1-s clip's text timing of 0.40 s held ~0.35 s of OCR
    loading; taken out, OCR's share became 0 and its learnt per-unit cost 0.0)."""
    per = stage_timings(timings)
    return {s for s, t in (loading or {}).items() if s in per and t > MOSTLY_LOADING * per[s]}


def stage_split(timings: dict, loading: dict[str, float] | None = None) -> dict[str, float]:
    """Share (0-1) of timed engine work per registry stage. `loading`: seconds of each stage's
    timing that were its loading (costs.paid_loading), taken out first: the split is of the
    per-unit work only (session 11: OCR's model loading, inside the text timing, made OCR's share
    of a short clip's work too large and every other stage's too small). The loading is a
    prediction: it never takes out more than half of a stage's timing (LOADING_KEEP), so a stage
    that ran is never left with no share."""
    per = stage_timings(timings)
    for stage, t in (loading or {}).items():
        if stage in per:
            per[stage] = max(per[stage] - t, LOADING_KEEP * per[stage])
    total = sum(per.values())
    return {s: t / total for s, t in per.items()} if total > 0 else {}


def observe_group(reg: dict[str, Variant], chain: dict[str, str], infos: list[InputInfo], cpu: float,
                  timings: dict, source: str, fixed: float | None = None, scale_fixed: bool = True,
                  inline: bool = False, loading: dict[str, float] | None = None) -> dict[str, float]:
    """Fold one engine call (all `infos` analysed with `chain`, `cpu` process-tree seconds) into
    the registry; returns the observations made (key -> CPU-s per unit).

    `fixed`: the call's predicted fixed cost (given when it shares the caller's loading with
    earlier calls). One call cannot tell its fixed part from its per-unit part, so with
    `scale_fixed` both are taken to be off by the same factor (actual / predicted: a slower
    machine, a faster engine), and the fixed figures involved are folded at that level too;
    calibration, which measures fixed costs directly, passes scale_fixed=False.

    `loading`: the variants' loading this call paid inside the stages' timings, by stage
    (costs.paid_loading): taken out of those timings before the split. It is not scaled by the
    call's ratio (session-11 review: a call 1.3x over its prediction then took out more than a
    short clip's whole text, shots and metrics timings). A stage whose timing is mostly loading
    (mostly_loading) is not learnt from this call: it is taken to have cost its prediction x the
    ratio, and the rest of the work is split between the other stages."""
    if fixed is None:
        fixed = group_fixed(chain, len(infos), reg, inline)
    if "frames" in chain:
        # chain_cost already holds overhead/video (BASE_STAGES), as the planner priced it: the
        # call's fixed part must not add it again (it did until the session-10 review: the factor
        # then settled low by overhead/video per video and key-frame runs landed 1.15-1.25 over)
        return _observe_sparse(reg, chain, infos, cpu, fixed, source, scale_fixed)
    fixed += len(infos) * reg["overhead/video"].cpu_seconds
    # Decoding runs in a prefetch thread the engine's timings do not see, so it is not split
    # by them: its cost is what was measured on each file (plan's sample) or the registry's.
    decode = reg["decode/default"]
    decode_pred = sum(decode_cost(i, reg) for i in infos)
    keys = [(s, v) for s, v in [*BASE_STAGES, *chain.items()] if s not in ("overhead", "decode")]
    # OCR's units are seconds weighted by what the gate passed on each file relative to the
    # registry's reference footage, so the figure folded stays one at the reference pass rate
    units = {f"{s}/{v}": sum(i.units(reg[f"{s}/{v}"].unit) * (ocr_factor(i, reg) * ocr_size_factor(i, v, reg)
                                                              if s == "ocr" and v != "off" else 1.0)
                             for i in infos) for s, v in keys}
    per_unit_pred = sum(reg[k].cpu_seconds * u for k, u in units.items())
    known = fixed + decode_pred
    ratio = cpu / (known + per_unit_pred) if scale_fixed and known + per_unit_pred > 0 else 1.0
    if scale_fixed:
        # = cpu - known * ratio exactly. (The floor below inflated it: on a short clip, where the
        # fixed part is most of the call, half the call's CPU was split as per-unit work - the
        # session-11 review's 1-s clip learnt keyframes/default 300x its figure.)
        work = ratio * per_unit_pred
    else:
        # the fixed part is predicted, not measured here; never let it swallow the whole call
        work = max(cpu - known, 0.5 * cpu)
    if scale_fixed and abs(math.log(max(ratio, 1e-9))) > math.log(SHIFT):
        # far beyond run-to-run noise: the machine, the footage or the engine changed; the
        # averages of what this call ran restart from this observation instead of creeping
        for k in [*units, "decode/default", "overhead/group", "overhead/video", "overhead/worker"]:
            reg[k].samples = 0
    timed = {k: t for k, t in timings.items() if TIMING_STAGE.get(k) != "decode"}
    skip = mostly_loading(timed, loading)
    for stage, variant in keys:
        if stage in skip:   # taken at its prediction; the rest of the work is the others'
            work = max(work - ratio * reg[f"{stage}/{variant}"].cpu_seconds * units[f"{stage}/{variant}"], 0.0)
    shares = stage_split({k: t for k, t in timed.items() if TIMING_STAGE[k] not in skip}, loading)
    seen: dict[str, float] = {}
    mpx = sum(i.mpx for i in infos)
    if mpx > 0:
        seen[decode.key] = decode_pred * ratio / mpx
        fold(decode, seen[decode.key], mpx, source)
    sampled = sum(i.mpx for i in infos if i.decode_cpu_per_mpx is not None)
    if scale_fixed and sampled > 0 and "forecast/decode_vs_sample" in reg:
        # the sampled decoding is off by the call's factor too: learn it, or the other stages
        # absorb the engine's decode overheads and mislead on files of another size
        f = reg["forecast/decode_vs_sample"]
        seen[f.key] = min(max(sampled_decode_factor(reg) * ratio, 0.5), 3.0)
        fold(f, seen[f.key], sampled, source)
    for stage, variant in keys:
        v = reg[f"{stage}/{variant}"]
        if units[v.key] <= 0 or stage in skip:
            continue
        per_unit = work * shares.get(stage, 0.0) / units[v.key]
        if per_unit <= 0 and v.cpu_seconds > 0:
            # no share (no timing of it, or no work left to split) is no measurement of a stage
            # that costs something: one call never sets a learnt per-unit cost to 0
            continue
        old = v.cpu_seconds
        fold(v, per_unit, units[v.key], source, fixed=v.fixed_cpu_seconds * ratio if scale_fixed else None)
        seen[v.key] = per_unit
        if scale_fixed and old > 0:
            follow_level(reg, v, v.cpu_seconds / old)
    if scale_fixed:
        for k in ("overhead/group", "overhead/video", "overhead/worker"):
            fold(reg[k], reg[k].cpu_seconds * ratio, 1.0, source)
            seen[k] = reg[k].cpu_seconds
    return seen


def _observe_sparse(reg: dict[str, Variant], chain: dict[str, str], infos: list[InputInfo], cpu: float,
                    fixed: float, source: str, scale_fixed: bool) -> dict[str, float]:
    """(`fixed`: the call's fixed costs, overhead/video not included.) A sparse pass (session 10): its stages see a fraction of the frames, so its timings say
    nothing about the full-pass figures; the call refines one factor on the modelled per-unit work
    of such passes (`forecast/sparse_vs_predicted`) and, like any call, the overheads."""
    from videoforge.plan.costs import chain_cost, sparse_factor

    seen: dict[str, float] = {}
    # the planner's own prediction of this call: the call's fixed costs (without overhead/video)
    # + chain_cost per input (overhead/video included; the sparse factor applies to the modelled
    # work only, since overhead/video is folded by the same ratio below - session 11)
    pred = fixed + sum(chain_cost(i, chain, reg) for i in infos)
    ratio = cpu / pred if pred > 0 else 1.0
    if "forecast/sparse_vs_predicted" in reg and pred > 0:
        # one call cannot tell its fixed part from its per-unit part (as for full passes): both are
        # taken to be off by the call's ratio. A key-frame call's per-unit work is small next to
        # its fixed costs, so an observation is kept within 0.5-2x of the factor it corrects
        # (session 10: (CPU - fixed) / model swung 0.2-2x between three calls of 0.1-0.5 CPU-s)
        f = reg["forecast/sparse_vs_predicted"]
        obs = sparse_factor(reg) * min(max(ratio, 0.5), 2.0)
        fold(f, obs, 1.0, source)
        seen[f.key] = obs
    ratio = ratio if scale_fixed else 1.0
    if scale_fixed:
        for k in ("overhead/group", "overhead/video", "overhead/worker"):
            fold(reg[k], reg[k].cpu_seconds * ratio, 1.0, source)
            seen[k] = reg[k].cpu_seconds
    return seen


def follow_level(reg: dict[str, Variant], v: Variant, factor: float) -> None:
    """Variants of the same stage never measured on this catalog move with the one that was:
    footage and machine change every variant's cost alike, and a sibling left at the shipped
    level looks falsely cheap or dear next to a re-measured one (a plan then picks it, and
    misses its prediction)."""
    from videoforge.plan.registry import ENGINE_STAGES

    if v.stage not in ENGINE_STAGES or not (0.2 < factor < 5.0):
        return
    for s in reg.values():
        if s.stage == v.stage and s.key != v.key and s.cpu_seconds > 0 and (
                s.samples == 0 or s.cost_source.startswith("scaled")):
            s.cpu_seconds *= factor
            s.cost_source = f"scaled with {v.key} (not measured on this catalog)"


def observe_post(reg: dict[str, Variant], res: dict, durations: list[float], detected: bool, loaded: set,
                 source: str, mpx: float = 0.0, suit_frame_cpu: float | None = None) -> dict[str, float]:
    """Fold one post chain's run (plan/post.run_post's report) into the registry: CPU per shot
    of each stage (less its loading the first time this process paid it), the shots found
    per second (when a detector ran on all its inputs), the share the gate kept, and an
    OpenAI-compatible captioner's tokens per call from the replies' usage."""
    seen: dict[str, float] = {}
    shots = int(res.get("shots") or 0)
    ch = res["chain"]
    if shots <= 0:
        return seen
    gated = ch.get("gate") == "suitable"
    for stage, st in res.get("stages", {}).items():
        key = f"{stage}/{ch[stage]}"
        v = reg[key]
        if v.unit == "mpx":
            units = mpx
        else:
            units = shots if stage == "suitability" or not gated else int(res.get("gate_kept") or 0)
        if units <= 0:
            continue
        load = 0.0
        own = key not in loaded
        if own:
            load = v.fixed_cpu_seconds
            loaded.add(key)
        # shared loading (`load/...`) is paid by the first stage of this process that needs it
        shared = [k for k in v.loads if k in reg and k not in loaded]
        for k in shared:
            load += reg[k].fixed_cpu_seconds
            loaded.add(k)
        # one call cannot tell loading from per-unit work: both are taken to be off by the same
        # factor (as for engine calls), so a registry far off (another machine) converges
        pred = load + v.cpu_seconds * units
        actual = st["cpu_seconds"]
        if stage == "suitability" and suit_frame_cpu is not None:
            # its features' decoding is priced from the inputs' own sample, per frame: what is
            # left is the per-shot work and the loading (never less than a quarter of the stage)
            actual = max(actual - suit_frame_cpu, 0.25 * actual)
        ratio = actual / pred if pred > 0 else 1.0
        if pred > 0 and abs(math.log(max(ratio, 1e-9))) > math.log(SHIFT):
            # far off (another machine, a registry 3x off): restart its averages, as engine calls do
            # (session 9: averaged, a loading 3x too dear was still 1.3x after 6 runs)
            v.samples = 0
            for k in shared:
                reg[k].samples = 0
        per = v.cpu_seconds * ratio if pred > 0 else actual / units
        fold(v, per, float(units), source, fixed=v.fixed_cpu_seconds * ratio if own and load > 0 else None)
        for k in shared:
            c = reg[k]
            if c.fixed_cpu_seconds > 0 and pred > 0:
                fold(c, 0.0, 1.0, source, fixed=c.fixed_cpu_seconds * ratio)
                seen[k] = c.fixed_cpu_seconds
        seen[key] = per
        if stage == "caption":
            r = st.get("result") or {}
            calls = int(r.get("calls_made") or 0)
            if calls and ch[stage] == "openai":
                for name, field in (("openai_prompt_tokens", "prompt_tokens"), ("openai_completion_tokens", "completion_tokens")):
                    if r.get(field) is not None:
                        fold(reg[f"forecast/{name}"], float(r[field]) / calls, float(calls), source)
                        seen[f"forecast/{name}"] = float(r[field]) / calls
    dur = sum(durations)
    if detected and dur > 0:
        fold(reg["forecast/shots_per_second"], shots / dur, dur, source)
        seen["forecast/shots_per_second"] = shots / dur
    if res.get("suitable") is not None:
        fold(reg["forecast/suitable_fraction"], res["suitable"] / shots, float(shots), source)
        seen["forecast/suitable_fraction"] = res["suitable"] / shots
    return seen
