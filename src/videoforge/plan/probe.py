"""A plan's probe run: the real `run --plan` on a small sample of the inputs, timed, before planning.

Shipped costs come from another machine (or this one under another load). Per-unit costs are
refined per input by the plan's decode and suitability samples, but a small plan's cost is
mostly fixed: interpreter start-up, imports, OCR and model loading, the catalog's commit
(0.5-3 CPU-s, against 0.5-5 s of per-unit work on short clips). Those are what the first plans
of session 8 missed by 15-20 % on a quiet machine. So when the registry's fixed costs are still
the shipped figures (no catalog, or a catalog without runs), `plan` runs the real command on
the first seconds of one input - stream-copied, no re-encode - in a fresh process and a
scratch catalog, with a chain that loads everything the goal can use, and compares what it
measured with what the same registry predicts for that probe:

  rest (start-up, imports, the commit: what is neither an engine call nor a per-shot stage):
      factor_rest = measured / overhead/run (a spawned worker's imports, overhead/worker, follow it)
  engine (the call: its fixed costs, the variants' loading): factor_engine =
      (the call's CPU - its per-unit work predicted) / its fixed costs predicted
  post (per-shot stages): factor_post = (their CPU - their per-unit work predicted) / their loading

and scales the registry's fixed costs by them (overhead/*, every variant's loading; clamped to
[0.4, 2.5]). Per-unit costs are left to the samples. The probe's own CPU is not part of the
plan's cost (it is spent by `plan`, not by `run --plan`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from videoforge.plan.costs import InputInfo
from videoforge.plan.registry import ENGINE_STAGES, POST_STAGES, Variant

PROBE_SECONDS = 2.0
FACTOR_RANGE = (0.4, 2.5)


def cut_sample(src: str, dst: str, seconds: float = PROBE_SECONDS) -> bool:
    """Copy the first `seconds` of a video's first video stream into `dst` (packets copied, no
    re-encode: the sample is the input's own codec and bit rate). False when it cannot."""
    import av

    try:
        with av.open(src) as inp:
            vs = next((s for s in inp.streams if s.type == "video"), None)
            if vs is None:
                return False
            with av.open(dst, "w") as out:
                os_ = out.add_stream_from_template(vs)
                start = None
                n = 0
                for pkt in inp.demux(vs):
                    if pkt.dts is None:
                        continue   # the demuxer's flush packet
                    t = float(pkt.pts * vs.time_base) if pkt.pts is not None else 0.0
                    start = t if start is None else start
                    if t - start >= seconds:
                        break
                    pkt.stream = os_
                    out.mux(pkt)
                    n += 1
        return n > 0
    except Exception:   # noqa: BLE001 - a sample that cannot be cut: no probe, the shipped figures stay
        return False


def probe_chain(reg: dict[str, Variant], goal: str) -> tuple[dict[str, str], dict[str, str]]:
    """The engine and post chain of the probe: the best variant of every stage the goal can use
    that runs offline (so every loading a plan of this goal may pay is paid once)."""
    from videoforge.plan.planner import always_best_chain, split_chain

    best = always_best_chain(reg, goal)
    if best.get("caption") == "openai":   # no paid call for a probe
        best["caption"] = "metadata"
    eng, post = split_chain(best)
    return eng, post


def fixed_keys(reg: dict[str, Variant]) -> dict[str, list[str]]:
    """Keys whose fixed figures each side's factor scales: start-up and imports (`rest`), the
    engine calls' own fixed costs and the engine variants' loading (`engine`), the per-shot
    stages' loading (`post`)."""
    return {"rest": ["overhead/run", "overhead/worker"],
            "engine": ["overhead/group", "overhead/video"] + [k for k, v in reg.items()
                                                              if v.stage in ENGINE_STAGES and v.fixed_cpu_seconds > 0],
            "post": [k for k, v in reg.items() if (v.stage in POST_STAGES or v.stage == "load") and v.fixed_cpu_seconds > 0]}


def needs_probe(reg: dict[str, Variant]) -> bool:
    """Only while the fixed costs are the shipped ones: a catalog's runs have measured them."""
    return reg["overhead/run"].samples == 0


def run_probe(info: InputInfo, goal: str, reg: dict[str, Variant], timeout: float = 300.0) -> dict:
    """Cut the sample, plan it with `reg` (the chain of probe_chain, every video inline), run the
    real `videoforge run --plan` on it in a fresh process; the probe's report, or {"error": why}
    when it could not run (the plan then keeps the shipped figures and says so in its `probe` key).
    `info` carries the input's own decode / suitability samples (they price the sample too)."""
    from videoforge.plan.costs import probe_input
    from videoforge.plan.planner import Problem, document

    with tempfile.TemporaryDirectory(prefix="vf-plan-probe-") as tmp:
        ext = os.path.splitext(info.path)[1] or ".mp4"
        sample = os.path.join(tmp, f"sample{ext}")
        if not cut_sample(info.path, sample):
            return {"error": f"could not cut a sample of {info.path}"}
        s = probe_input(sample)
        if s.error or s.frames <= 0:
            return {"error": f"the sample of {info.path} did not decode: {s.error or 'no frames'}"}
        for k in ("decode_cpu_per_mpx", "text_pass", "suit_luma_cpu_per_frame", "suit_quality_cpu_per_frame"):
            setattr(s, k, getattr(info, k))
        eng, post = probe_chain(reg, goal)
        p = Problem(goal, [s], reg, None, None, {}, allow_skip=False, prune=False)
        a = p.uniform(eng, post, "inline")
        doc = document(p, a)
        pred = p.evaluate(a)["cpu_seconds"]
        c, q = a.engine[0], a.post[0]
        b = int(p.state[c] == 1)
        # overhead/video is a fixed cost per video that chain_cost counts with the per-unit work:
        # it belongs to the engine side's fixed part, which the factor scales (review, session 9:
        # it was scaled by a factor its own prediction was not part of)
        unit_engine = float(p.C[0, c]) - reg["overhead/video"].cpu_seconds
        unit_post = float(p.PC[0, q, b])
        path = os.path.join(tmp, "probe.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        t = time.perf_counter()
        try:
            r = subprocess.run([sys.executable, "-m", "videoforge", "run", "--plan", path, "--catalog",
                                os.path.join(tmp, "catalog"), "--json", "-q"], capture_output=True, text=True,
                               timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return {"error": f"the probe run did not finish: {e}"}
        if r.returncode != 0:
            return {"error": f"the probe run exited {r.returncode}: {r.stderr.strip()[-300:]}"}
        try:
            res = json.loads(r.stdout)
        except ValueError:
            return {"error": "the probe run printed no JSON document"}
    if any(g.get("failed") for g in res.get("run", [])) or any("error" in x for x in res.get("post", [])):
        return {"error": "the probe run recorded a failed video or stage"}
    actual = float(res["actual"]["cpu_seconds"])
    call_actual = sum(float(g["cpu_seconds"]) for g in res.get("run", []))
    post_actual = sum(float(st.get("cpu_seconds") or 0.0) for x in res.get("post", [])
                      for st in (x.get("stages") or {}).values())
    post_fixed = sum(reg[k].fixed_cpu_seconds for k in _post_fixed(p, a))
    # run --plan imports the engine before its first call: the imports are part of its start-up
    # (`overhead/run`), outside the call's measured CPU (costs.fixed_costs)
    rest_fixed = reg["overhead/run"].cpu_seconds
    call_fixed = pred - unit_engine - unit_post - post_fixed - rest_fixed
    return {"sample": {"path": os.path.basename(info.path), "seconds": s.duration, "frames": s.frames},
            "chain": {**eng, **post}, "predicted_cpu_seconds": pred, "actual_cpu_seconds": actual,
            "wall_seconds": time.perf_counter() - t,
            "rest": {"actual": actual - call_actual - post_actual, "per_unit": 0.0, "fixed": rest_fixed},
            "engine": {"actual": call_actual, "per_unit": unit_engine, "fixed": call_fixed},
            "post": {"actual": post_actual, "per_unit": unit_post, "fixed": post_fixed}}


def _post_fixed(p, a) -> list[str]:
    from videoforge.plan.post import post_fixed_keys

    return post_fixed_keys(p.post[a.post[0]], p.reg)


def factor(side: dict) -> float | None:
    """Measured / predicted fixed cost of one side of the probe (None when it has none)."""
    if side["fixed"] <= 0.05:
        return None
    f = (side["actual"] - side["per_unit"]) / side["fixed"]
    return min(max(f, FACTOR_RANGE[0]), FACTOR_RANGE[1])


def apply_probe(reg: dict[str, Variant], report: dict) -> dict[str, float]:
    """Scale the registry's fixed figures by the probe's factors (in place); the factors used."""
    used = {}
    for side, keys in fixed_keys(reg).items():
        f = factor(report[side]) if side in report else None
        if f is None:
            continue
        used[side] = f
        for k in keys:
            v = reg[k]
            if k.startswith("overhead/"):
                v.cpu_seconds *= f
            else:
                v.fixed_cpu_seconds *= f
            v.cost_source = f"{v.cost_source}; fixed x{f:.2f} by plan's probe run on a sample"
    report["factors"] = used
    return used
