"""Where a `run --plan` process's fixed CPU goes, and the short-SD search cell executed (session 11).

Part A of `plan_eval.py` prices "always the best variant of every stage" against the cheapest plan
within 2 % of its quality with the registry's figures. This script runs both plans for real on
footage shaped like part A's short-SD mix (640x360 12 s and 20 s at 25 fps, 854x480 9 s at 30 fps;
real libx264 files from our transition generator), each into a fresh catalog, interleaved
(plan, best, plan, best, ...), and prints the whole process tree's CPU (user + system, what
`run --plan` reports as `actual.cpu_seconds`) and the ratio best / plan with a bootstrap interval.

`--base SRC`: also run both plans with another source tree (e.g. `git archive HEAD~3 src | tar -x
-C /tmp/base`, then `--base /tmp/base/src`), interleaved with the current code, to measure what a
change to the fixed costs saved on the same plan documents.

`--fixed`: also time the fixed parts alone on a near-empty input (a 1-s 320x180 clip): the plan
document with every per-shot stage, run once per repetition and tree (4 runs per tree with --reps 4);
prints each run's parts (engine call, per-shot stages, the rest). With --base, the rest (CPU outside the
engine calls and per-shot stages: what run --plan folds as `overhead/run`) current / base over every run,
with its bootstrap interval (`rest_current_over_base`), and the current rest's mean and interval
(`rest_current`, shipped as `overhead/run` in session 11).

`--records PATH`: recompute the rest figures from a records file (`--json`'s output) without running.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/plan_fixed_costs.py --reps 4 [--base /tmp/base/src] --json out.json

The machine is shared: CPU time (not wall time) is compared, interleaved in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# part A's short-SD mix: (duration s, fps, width, height)
SHORT_SD = [(12, 25, 640, 360), (20, 25, 640, 360), (9, 30, 854, 480)]


def make_footage(folder: str) -> list[str]:
    from videoforge.synth.transitions import GenSettings, generate

    out = []
    for k, (dur, fps, w, h) in enumerate(SHORT_SD):
        # shots of 30-110 frames + ramps: enough shots to fill `dur` seconds, then the file is what it is
        shots = max(2, int(dur * fps / 85))
        p = os.path.join(folder, f"sd{k}.mp4")
        generate(p, seed=9700 + k, settings=GenSettings(width=w, height=h, fps=fps, shots=shots, footage="synthetic"))
        out.append(p)
    return out


def plan_docs(paths: list[str], goal: str) -> dict[str, dict]:
    """The two plan documents on these files, as `plan` would price them (each input probed and
    sampled; shipped registry, no probe run): the cheapest plan within 2 % of always-best's goal
    quality, and always-best (every stage's best variant on every input, parallel pool)."""
    from videoforge.plan.costs import count_keyframes, probe_input, sample_decode, sample_suitability
    from videoforge.plan.planner import Problem, always_best_chain, document, split_chain
    from videoforge.plan.registry import shipped_registry

    reg = shipped_registry()
    infos = [probe_input(p) for p in paths]
    for i in infos:
        count_keyframes(i)
        sample_decode(i)
        sample_suitability(i)
    full = Problem(goal, infos, reg, None, None, {}, prune=False)
    eng, post = split_chain(always_best_chain(reg, goal))
    best = full.uniform(eng, post, "parallel")
    eb = full.evaluate(best)
    p = Problem(goal, infos, reg, None, None, {})
    a = p.cheapest_at(0.98 * eb["quality"]["goal"])
    return {"plan": document(p, a), "best": document(full, best)}


def run_plan(doc_path: str, cat: str, src: str | None) -> dict:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    rr = subprocess.run([sys.executable, "-m", "videoforge", "run", "--plan", doc_path, "--catalog", cat, "--json", "-q"],
                        capture_output=True, text=True, env=env)
    if rr.returncode != 0:
        raise RuntimeError(rr.stderr[-800:])
    res = json.loads(rr.stdout)
    eng = sum(g["cpu_seconds"] for g in res["run"])
    post = {n: float(st.get("cpu_seconds") or 0.0) for r in res.get("post", []) for n, st in (r.get("stages") or {}).items()}
    total = res["actual"]["cpu_seconds"]
    return {"cpu": total, "engine": eng, "post": post, "rest": total - eng - sum(post.values()),
            "predicted": res["predicted"]["cpu_seconds"]}


def boot_ratio(num, den, rng, n=4000) -> tuple[float, float]:
    num, den = np.asarray(num, float), np.asarray(den, float)
    k = len(num)
    r = [num[ix].mean() / den[ix].mean() for ix in (rng.integers(0, k, k) for _ in range(n))]
    return tuple(float(v) for v in np.percentile(r, [2.5, 97.5]))


def boot_mean(x, rng, n=4000) -> tuple[float, float]:
    x = np.asarray(x, float)
    m = [x[rng.integers(0, len(x), len(x))].mean() for _ in range(n)]
    return tuple(float(v) for v in np.percentile(m, [2.5, 97.5]))


def rest_figures(rows: list[dict], rng) -> dict:
    """The rest of each run (every plan document together): the current tree's mean with its
    interval and, with a base tree, current / base with its interval."""
    cur = [r["rest"] for r in rows if r["tree"] == "current"]
    base = [r["rest"] for r in rows if r["tree"] == "base"]
    out: dict = {"rest_current": [float(np.mean(cur)), boot_mean(cur, rng), len(cur)]} if cur else {}
    if cur and base:
        out["rest_current_over_base"] = [float(np.mean(cur) / np.mean(base)), boot_ratio(cur, base, rng)]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=4, help="interleaved repetitions of each plan (per source tree)")
    ap.add_argument("--goal", default="search", choices=["search", "catalog", "dataset"])
    ap.add_argument("--base", default=None, metavar="SRC", help="another source tree to run the same plans with")
    ap.add_argument("--fixed", action="store_true", help="also time the fixed parts on a 1-s 320x180 clip")
    ap.add_argument("--json", default=None, metavar="PATH")
    ap.add_argument("--records", default=None, metavar="PATH", help="recompute the rest figures from records")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    if args.records:
        with open(args.records) as f:
            print(json.dumps(rest_figures(json.load(f)["rows"], np.random.default_rng(0)), indent=1))
        return 0
    trees = [("current", None)] + ([("base", os.path.abspath(args.base))] if args.base else [])
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="plan-fixed-") as tmp:
        foot = os.path.join(tmp, "footage")
        os.makedirs(foot)
        paths = make_footage(foot)
        docs = plan_docs(paths, args.goal)
        files = {}
        for name, doc in docs.items():
            files[name] = os.path.join(tmp, f"{name}.json")
            with open(files[name], "w") as f:
                json.dump(doc, f)
        if args.fixed:
            from videoforge.synth.transitions import GenSettings, generate

            tiny = os.path.join(tmp, "tiny")
            os.makedirs(tiny)
            generate(os.path.join(tiny, "t.mp4"), seed=9710,
                     settings=GenSettings(width=320, height=180, shots=2, shot_len=(12, 13), gradual_len=(0, 1),
                                          kind_weights={"cut": 1.0}, footage="synthetic"))
            td = plan_docs([os.path.join(tiny, "t.mp4")], "search")["best"]
            files["fixed"] = os.path.join(tmp, "fixed.json")
            with open(files["fixed"], "w") as f:
                json.dump(td, f)
        n = 0
        for rep in range(args.reps):
            order = list(trees) if rep % 2 == 0 else list(reversed(trees))
            for tree, src in order:
                for name in (["plan", "best"] if rep % 2 == 0 else ["best", "plan"]) + (["fixed"] if args.fixed else []):
                    n += 1
                    row = {"rep": rep, "tree": tree, "which": name, "load": os.getloadavg()[0],
                           **run_plan(files[name], os.path.join(tmp, f"cat{n:03d}"), src)}
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
    s: dict = {"footage": SHORT_SD, "goal": args.goal,
               "plan_chains": sorted({json.dumps(c["chain"], sort_keys=True) for c in docs["plan"]["chains"]}),
               "plan_pool": docs["plan"]["pool"], "best_pool": docs["best"]["pool"],
               "predicted": {k: d["predicted"]["cpu_seconds"] for k, d in docs.items()}}
    for tree, _ in trees:
        got = {w: [r["cpu"] for r in rows if r["tree"] == tree and r["which"] == w] for w in ("plan", "best", "fixed")}
        t = {w: [float(np.mean(v)), float(np.min(v)), len(v)] for w, v in got.items() if v}
        t["best_over_plan"] = [float(np.mean(got["best"]) / np.mean(got["plan"])), boot_ratio(got["best"], got["plan"], rng)]
        for w in ("plan", "best", "fixed"):
            rr = [r for r in rows if r["tree"] == tree and r["which"] == w]
            if rr:
                t[f"{w}_parts_mean"] = {"engine": float(np.mean([r["engine"] for r in rr])),
                                        "rest": float(np.mean([r["rest"] for r in rr])),
                                        **{k: float(np.mean([r["post"].get(k, 0.0) for r in rr]))
                                           for k in sorted({k for r in rr for k in r["post"]})}}
        s[tree] = t
    if args.base:
        for w in ("plan", "best", "fixed"):
            cur = [r["cpu"] for r in rows if r["tree"] == "current" and r["which"] == w]
            base = [r["cpu"] for r in rows if r["tree"] == "base" and r["which"] == w]
            if cur and base:
                s[f"{w}_current_over_base"] = [float(np.mean(cur) / np.mean(base)), boot_ratio(cur, base, rng)]
    s.update(rest_figures(rows, rng))
    s["load_average_at_end"] = os.getloadavg()
    s["finished"] = time.strftime("%H:%M UTC", time.gmtime())
    print(json.dumps(s, indent=1, default=str))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": s, "rows": rows}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
