"""int8 vs float generation on the shapes demo checkpoint: prompt accuracy (paired) and speed.

    nice -n 5 .venv/bin/python benchmarks/int8_generate.py demo-out/train/stdit/stdit.pt --seeds 6

Both pipelines sample the same held-out prompts (every triple containing a held-out pair, read
from the demo's results.json next to the checkpoint's folder) with the same seeds and the demo's
sampler (20 Euler steps, guidance 4 / 2); the checker reads colour, shape and direction back.
The difference int8 - float is bootstrapped over the paired clips. Speed: `generate`-sized calls
(one prompt, 16 frames), float and int8 interleaved, median of each; the ratio is what to read on
a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch


def paired_ci(a, b, n_boot=2000, seed=0):
    d = np.asarray(b, float) - np.asarray(a, float)
    idx = np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))
    m = d[idx].mean(1)
    return float(d.mean()), [float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))]


def readings(pipe, combos, seeds, kw, batch=32):
    from videoforge.synth import shapes

    jobs = [(c, s) for c in combos for s in seeds]
    out = []
    for i in range(0, len(jobs), batch):           # the batching of train/evaluate.prompt_accuracy
        part = jobs[i:i + batch]
        clips = pipe.generate([shapes.caption_for(*c, False) for c, _ in part], frames=16,
                              seed=part[0][1] * 1000 + i, **kw)
        out += [shapes.read_clip(v) for v in clips]
    hits = {"colour": [r.colour == c[0] for (c, _), r in zip(jobs, out)],
            "shape": [r.shape == c[1] for (c, _), r in zip(jobs, out)],
            "direction": [r.direction == c[2] for (c, _), r in zip(jobs, out)]}
    hits["joint"] = [a and b and c for a, b, c in zip(hits["colour"], hits["shape"], hits["direction"])]
    return hits


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--results", default=None, help="the demo's results.json (default: next to the checkpoint's folder)")
    p.add_argument("--seeds", type=int, default=6)
    p.add_argument("--timing-reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--scope", default="blocks", choices=["blocks", "linears", "all"],
                   help="which STDiT Linear layers run int8 (linears: attention + MLP only, AdaLN float)")
    p.add_argument("--combos", default="held_out", choices=["held_out", "all"],
                   help="held_out: the demo's held-out triples; all: all 48 (more paired clips for the interval)")
    p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the demo's; a student: its own)")
    p.add_argument("--no-decoder", action="store_true", help="keep the decoder's weights float")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    from videoforge.models.int8 import load_pipeline, save_quantized, to_int8
    from videoforge.models.safeload import load_tensors

    res_path = a.results or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(a.checkpoint))), "results.json")
    with open(res_path) as f:
        res = json.load(f)
    combos = [tuple(c) for c in res["held_out"]]
    if a.combos == "all":
        from videoforge.synth import shapes

        combos = shapes.combos()
    kw = dict(res.get("sampler") or {"steps": 20, "cfg_text": 4.0, "cfg_metric": 2.0})
    probe = load_tensors(a.checkpoint)
    if probe.get("distill"):             # a distilled student samples in its own steps
        kw["steps"] = int(probe["distill"]["steps"])
    if a.steps:
        kw["steps"] = a.steps
    fp = load_pipeline(a.checkpoint, int8=False)
    metric = fp.scaler.names[0]
    kw["metrics"] = {metric: (fp.scaler.lo[0] + fp.scaler.hi[0]) / 2}   # mid motion, as the demo's evaluation
    qpath = f"/tmp/int8_bench_q_{os.getpid()}.pt"
    save_quantized(load_tensors(a.checkpoint), qpath)
    # the saved quantised checkpoint, as a user loads it (its decoder weights are int8-rounded, so
    # --no-decoder starts from the float file)
    q8 = load_pipeline(a.checkpoint if a.no_decoder else qpath, int8=False)
    to_int8(q8, a.scope, decoder=not a.no_decoder)
    sizes = (os.path.getsize(a.checkpoint), os.path.getsize(qpath))

    seeds = list(range(a.seeds))
    hf, hq = readings(fp, combos, seeds, kw), readings(q8, combos, seeds, kw)
    tf, tq = [], []
    for r in range(a.timing_reps):                    # interleaved
        for pipe, ts in ((fp, tf), (q8, tq)):
            t0 = time.perf_counter()
            pipe.generate("a red circle moves left", frames=16, seed=r, **kw)
            ts.append(time.perf_counter() - t0)
    print(f"checkpoint {a.checkpoint}: {len(combos)} {'held-out' if a.combos == 'held_out' else 'seen + held-out'} triples x {len(seeds)} seeds = {len(hf['joint'])} "
          f"paired clips; int8 scope {a.scope}, decoder {'float' if a.no_decoder else 'int8 weights'}; sampler {kw}; threads {torch.get_num_threads()}; load {os.getloadavg()[0]:.1f}")
    print(f"file: float {sizes[0] / 1e6:.2f} MB, int8 {sizes[1] / 1e6:.2f} MB")
    os.remove(qpath)
    print("| attribute | float | int8 | int8 - float [95% paired bootstrap] |")
    print("|---|---|---|---|")
    for k in ("colour", "shape", "direction", "joint"):
        d, ci = paired_ci(hf[k], hq[k])
        print(f"| {k} | {np.mean(hf[k]):.3f} | {np.mean(hq[k]):.3f} | {d * 100:+.1f} pts [{ci[0] * 100:+.1f}, {ci[1] * 100:+.1f}] |")
    mf, mq = statistics.median(tf), statistics.median(tq)
    print(f"generate (1 prompt, 16 frames, {kw['steps']} steps): float {mf:.2f} s, int8 {mq:.2f} s (medians of "
          f"{a.timing_reps}, interleaved): speed-up {mf / mq:.2f}x")


if __name__ == "__main__":
    main()
