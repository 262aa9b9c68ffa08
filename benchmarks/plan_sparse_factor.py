"""How far a first plan's key-frame engine call is off, by part: the pass without OCR and OCR in it.

First plans (no catalog) price a key-frame call (`frames/keyframes`, session 10) with the shipped
`forecast/sparse_vs_predicted` = 1: its decoding from the session-10 fit, every other stage at its
full-pass figure x the share of the 2 Hz sample grid the key frames cover. In sessions 11-12 those
calls ran 1.1-1.8x their prediction on real edits and generated clips while full-pass calls did not.
This script runs, per file, the same key-frame chain with OCR on and with OCR off (the default
detector, every metric; engine only, no per-shot stage), each planned as `plan` prices it without
a catalog (shipped registry + the file's own sample) and executed by the real `run --plan` in a fresh
process and catalog, interleaved, and prints per file:

  pass factor  = (CPU of the OCR-off call - its fixed costs - overhead/video) / its modelled work
  ocr factor   = (CPU(on) - CPU(off) - OCR's loading) / OCR's modelled work in the pass

with the medians and 95 % bootstrap intervals over files (`--tries` runs per file and chain, the
minimum kept). Files: real edits (`--real`, e.g. /tmp/vf-real-cuts/assembled_19_{3,4,5}.mp4; not the
part-H edits 0-2) and generator clips (seeds 9800+, sizes as plan_eval's footage; no series uses them).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/plan_sparse_factor.py --real A.mp4 B.mp4 --synthetic 3 --json out.json
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

CHAIN = {"frames": "keyframes", "metrics": "full", "shots": "videoforge"}
POST_OFF = {"caption": "off", "embed": "off", "gate": "all", "suitability": "off"}


def plan_doc(path: str, ocr: str) -> tuple[dict, dict]:
    """The plan document for one file and the key-frame chain, and the parts of its prediction."""
    from videoforge.plan.costs import chain_cost, count_keyframes, group_fixed, probe_input, sample_decode
    from videoforge.plan.planner import Problem, document
    from videoforge.plan.registry import shipped_registry

    reg = shipped_registry()
    i = probe_input(path)
    count_keyframes(i)
    sample_decode(i)
    chain = {**CHAIN, "ocr": ocr}
    p = Problem("search", [i], reg, None, None, {}, prune=False)
    doc = document(p, p.uniform(chain, POST_OFF, "inline"))
    fixed = group_fixed(chain, 1, reg)
    overhead = reg["overhead/video"].cpu_seconds
    work = chain_cost(i, chain, reg) - overhead          # the modelled work (factor 1 when shipped)
    ocr_work = 0.0
    if ocr != "off":
        ocr_work = work - (chain_cost(i, {**chain, "ocr": "off"}, reg) - overhead)
    return doc, {"fixed": fixed, "overhead_video": overhead, "work": work, "ocr_work": ocr_work,
                 "ocr_loading": reg[f"ocr/{ocr}"].fixed_cpu_seconds if ocr != "off" else 0.0,
                 "keyframes": i.keyframes, "duration": i.duration, "size": [i.width, i.height]}


def run_call(doc: dict, tmp: str, tag: str) -> float:
    pf = os.path.join(tmp, f"{tag}.json")
    with open(pf, "w") as f:
        json.dump(doc, f)
    r = subprocess.run([sys.executable, "-m", "videoforge", "run", "--plan", pf, "--catalog", os.path.join(tmp, f"cat-{tag}"),
                        "--json", "-q"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr[-800:])
    return float(json.loads(r.stdout)["run"][0]["cpu_seconds"])


def boot_median(x, rng, n=4000) -> tuple[float, float]:
    x = np.asarray(x, float)
    m = [np.median(x[rng.integers(0, len(x), len(x))]) for _ in range(n)]
    return tuple(float(v) for v in np.percentile(m, [2.5, 97.5]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", nargs="*", default=[], metavar="VIDEO")
    ap.add_argument("--synthetic", type=int, default=3, help="generator clips (seeds 9800+)")
    ap.add_argument("--tries", type=int, default=2, help="runs per file and chain (the minimum is kept)")
    ap.add_argument("--json", default=None, metavar="PATH")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="plan-sparse-factor-") as tmp:
        files = [os.path.abspath(f) for f in args.real]
        if args.synthetic:
            from videoforge.synth.transitions import GenSettings, generate

            for k in range(args.synthetic):
                w, h = [(320, 180), (480, 270), (640, 360)][k % 3]
                p = os.path.join(tmp, f"g{k}.mp4")
                generate(p, seed=9800 + k, settings=GenSettings(width=w, height=h, shots=3 + k % 3, footage="synthetic"))
                files.append(p)
        for n, f in enumerate(files):
            docs = {ocr: plan_doc(f, ocr) for ocr in ("off", "on")}
            cpu = {"off": [], "on": []}
            for t in range(args.tries):
                for ocr in (("off", "on") if (n + t) % 2 == 0 else ("on", "off")):
                    cpu[ocr].append(run_call(docs[ocr][0], tmp, f"f{n}-{ocr}-{t}"))
            off, on = min(cpu["off"]), min(cpu["on"])
            po, pn = docs["off"][1], docs["on"][1]
            row = {"file": os.path.basename(f), "real": n < len(args.real), **{k: po[k] for k in ("keyframes", "duration", "size")},
                   "cpu_off": cpu["off"], "cpu_on": cpu["on"], "pred_off": po["fixed"] + po["overhead_video"] + po["work"],
                   "pred_on": pn["fixed"] + pn["overhead_video"] + pn["work"],
                   "pass_factor": (off - po["fixed"] - po["overhead_video"]) / po["work"] if po["work"] > 0 else None,
                   "ocr_factor": (on - off - pn["ocr_loading"]) / pn["ocr_work"] if pn["ocr_work"] > 0 else None,
                   "ocr_work_pred": pn["ocr_work"], "ocr_cpu": on - off - pn["ocr_loading"], "load": os.getloadavg()[0]}
            row["call_ratio_off"], row["call_ratio_on"] = off / row["pred_off"], on / row["pred_on"]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    s = {}
    for k in ("pass_factor", "ocr_factor", "call_ratio_off", "call_ratio_on"):
        x = [r[k] for r in rows if r[k] is not None]
        s[k] = [float(np.median(x)), boot_median(x, rng), len(x)]
    s["finished"] = time.strftime("%H:%M UTC", time.gmtime())
    s["load_average_at_end"] = os.getloadavg()
    print(json.dumps(s, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": s, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
