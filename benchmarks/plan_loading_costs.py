"""Shared loading between the per-shot stages (issue 25): what a stage's loading costs alone and
what it costs after another stage already ran in the same process.

A `run --plan` process loads each model, engine and library once, whichever stages use it:
the metadata captioner measured alone in a fresh process pays the catalog-write and curate
machinery that suitability has already paid when it ran first (session 7: predicted 0.41 CPU-s,
measured 0.12). This script measures, in fresh interpreters that first import what `run --plan`
always imports, each stage alone and each ordered pair, on copies of a one-video catalog (the
per-shot work is the same in every order, so alone - after = what the first stage already paid),
plus each stage after an in-process engine call. It then fits one shared component
(`load/post_common`: paid once by the first of the stages that declare it, K = mean saving over
their ordered pairs) and, per stage, the rest of its loading (shipped loading - K), and prints the
residuals and the savings of the pairs outside the component (the embedder's).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/plan_loading_costs.py [--tries 2] [--write]

--write stores `load/post_common` and the stages' remaining loading in plan/default_costs.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from videoforge.plan.costs import Timer  # noqa: E402
from videoforge.plan.registry import SHIPPED_COSTS  # noqa: E402

STAGES = {"suitability/default": {"suitability": "default"}, "suitability/lite": {"suitability": "lite"},
          "caption/metadata": {"caption": "metadata"}, "embed/visual": {"embed": "visual"}}
# the stages that share the component (all the per-shot stages; embed is tested, not assumed)
_SEQ = ("import videoforge.plan.execute, videoforge.engine.run\n"
        "import json, sys, resource\n"
        "from videoforge.catalog import Catalog\n"
        "from videoforge.plan.post import OFF, run_post\n"
        "from videoforge.plan.costs import Timer\n"
        "cat = Catalog(sys.argv[1]); vid = sys.argv[2]; out = []\n"
        "if sys.argv[4] == 'engine':\n"
        "    from videoforge.engine.run import run_videos\n"
        "    from videoforge.engine.config import AnalysisConfig\n"
        "    run_videos([sys.argv[5]], sys.argv[6], config=AnalysisConfig(ocr=False), progress=False)\n"
        "for ch in json.loads(sys.argv[3]):\n"
        "    c0 = Timer.tree_cpu()\n"
        "    res = run_post(cat, {**OFF, **ch}, [vid])\n"
        "    assert not res.get('error'), res\n"
        "    out.append(Timer.tree_cpu() - c0)\n"
        "print(json.dumps(out))\n")


def run_seq(catalog: str, vid: str, seq: list[str], tmp: str, tag: str, engine: tuple[str, str] | None = None) -> list[float]:
    copy = os.path.join(tmp, tag)
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(catalog, copy, ignore=shutil.ignore_patterns("index", "*.lock"))
    args = [sys.executable, "-c", _SEQ, copy, vid, json.dumps([STAGES[k] for k in seq])]
    args += ["engine", engine[0], os.path.join(tmp, tag + "_eng")] if engine else ["none"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed: {seq}\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=2, help="fresh processes per sequence (the minimum is kept)")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--json", default=None, help="write the measurements here")
    ap.add_argument("--write-from", default=None, metavar="JSON",
                    help="write (as --write) from an earlier --json output instead of measuring again")
    args = ap.parse_args()
    if args.write_from:
        with open(args.write_from) as f:
            out = json.load(f)
        after = {tuple(k.split(" after ")[::-1]): v for k, v in out["after"].items()}
        K, resid, others = fit_common(after, out["alone"])
        out.update(post_common=K, residuals=resid, pairs_without_the_component=others)
        print(json.dumps({"post_common": K, "residuals": resid, "pairs_without_the_component": others}, indent=1))
        with open(args.write_from, "w") as f:
            json.dump(out, f, indent=1)
        write(K, list(out["alone"]), len(resid), out["alone"])
        return 0
    from videoforge.catalog import Catalog
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos
    from videoforge.synth.transitions import GenSettings, generate

    with tempfile.TemporaryDirectory(prefix="vf-loadcost-") as tmp:
        video = os.path.join(tmp, "v.mp4")
        generate(video, seed=4242, settings=GenSettings(width=320, height=180, shots=3, footage="synthetic"))
        other = os.path.join(tmp, "w.mp4")
        generate(other, seed=4243, settings=GenSettings(width=320, height=180, shots=2, footage="synthetic"))
        cat = os.path.join(tmp, "cat")
        run_videos([video], cat, config=AnalysisConfig(ocr=False), progress=False)
        vid = Catalog(cat).query("SELECT video_id FROM videos")[1][0][0]

        def best(seq, tag, engine=None):
            runs = [run_seq(cat, vid, seq, tmp, f"{tag}{t}", engine) for t in range(args.tries)]
            return list(np.min(np.array(runs), axis=0))

        from videoforge.plan.registry import available, shipped_registry

        reg = shipped_registry()
        keys = [k for k in STAGES if available(reg[k])]
        alone = {k: best([k], f"a{i}")[0] for i, k in enumerate(keys)}
        after: dict[tuple[str, str], float] = {}
        for i, (a, b) in enumerate(itertools.permutations(keys, 2)):
            if a.startswith("suitability") and b.startswith("suitability"):
                continue   # a plan runs one suitability variant
            after[(a, b)] = best([a, b], f"p{i}")[1]
        eng = {k: best([k], f"e{i}", (other, "")) [0] for i, k in enumerate(keys)}
    saved = {f"{b} after {a}": alone[b] - v for (a, b), v in after.items()}
    K, resid, others = fit_common(after, alone)
    out = {"alone": alone, "after": {f"{b} after {a}": v for (a, b), v in after.items()}, "saved": saved,
           "after_engine_in_process": eng, "saved_after_engine": {k: alone[k] - eng[k] for k in keys},
           "post_common": K, "residuals": resid, "pairs_without_the_component": others,
           "note": "CPU-s of run_post on one 3-shot 320x180 video in a fresh run --plan-like process (per-shot work included, "
                   f"the same in every order); minimum of {args.tries} tries; 2-core shared machine, busy"}
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    if args.write:
        write(K, keys, len(saved))
    return 0


def fit_common(after: dict, alone: dict) -> tuple[float, dict, dict]:
    """K = mean saving over the ordered pairs of stages that both declare `load/post_common`
    in the registry (suitability, captions); the other pairs (the embedder's) are reported
    with their savings (measured: within the noise, so the embedder declares no shared part)."""
    from videoforge.plan.registry import shipped_registry

    reg = shipped_registry()
    share = {k for k in alone if "load/post_common" in reg[k].loads}
    inside = {f"{b} after {a}": alone[b] - v for (a, b), v in after.items() if a in share and b in share}
    outside = {f"{b} after {a}": alone[b] - v for (a, b), v in after.items() if not (a in share and b in share)}
    K = float(np.mean(list(inside.values()))) if inside else 0.0
    return K, {k: v - K for k, v in inside.items()}, outside


PROBE_SHOTS = 3   # shots of the probe video (GenSettings shots=3)


def write(K: float, keys: list[str], pairs: int, alone: dict | None = None) -> None:
    """`load/post_common` = K; each stage's shipped loading less K (its own part)."""
    if K is not None:
        with open(SHIPPED_COSTS) as f:
            doc = json.load(f)
        # idempotent: a component written before is given back to the stages first
        prev = doc["costs"].get("load/post_common", {}).get("fixed_cpu_seconds", 0.0)
        doc["costs"]["load/post_common"] = {"cpu_seconds": 0.0, "fixed_cpu_seconds": round(K, 6), "usd": 0.0}
        from videoforge.plan.registry import shipped_registry

        reg = shipped_registry()
        for k in keys:
            if "load/post_common" not in reg[k].loads or k not in doc["costs"]:
                continue   # a stage that does not share it (see the registry), or not measured yet
            c = doc["costs"][k]
            # what the stage loads beyond the shared component (never below zero)
            c["fixed_cpu_seconds"] = round(max(c.get("fixed_cpu_seconds", 0.0) + prev - K, 0.0), 6)
        if alone and "suitability/lite" in alone:
            # the lite model: same code and model format as the default (its own loading taken to be
            # the default's); per shot = what is left of running it alone on the probe's 3 shots.
            # (plan_post_costs.py measured 0.022 per shot after the default had run in the same process,
            # where its keyframe reads were warm: not what a plan running it alone pays)
            own = doc["costs"]["suitability/default"]["fixed_cpu_seconds"]
            per = max(alone["suitability/lite"] - K - own, 0.0) / PROBE_SHOTS
            doc["costs"]["suitability/lite"] = {"cpu_seconds": round(per, 6), "fixed_cpu_seconds": round(own, 6), "usd": 0.0}
            doc["lite_source"] = ("benchmarks/plan_loading_costs.py: suitability/lite alone in a fresh run --plan-like "
                                  f"process on a 3-shot 320x180 video ({alone['suitability/lite']:.3f} CPU-s) less the "
                                  "shared component and the default's own loading, per shot; busy 2-core machine")
        doc["load_source"] = ("benchmarks/plan_loading_costs.py: each per-shot stage alone and after another in fresh "
                              f"run --plan-like processes; shared component {K:.3f} CPU-s = mean of alone - after over "
                              f"{pairs} ordered pairs of suitability and captions; their loading less it; busy 2-core machine")
        with open(SHIPPED_COSTS, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
