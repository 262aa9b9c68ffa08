"""One clip, in-process: teacher vs distilled student `Pipeline.generate`, before and after the
inference speed-ups (issue #21 part 3, "wall-clock generate >= 10x faster on CPU").

Loads both checkpoints once (a resident process: a library call or `serve`), then times ONE
clip's `generate` (sampling + decoding, 16 frames by default) in CPU seconds (process_time:
less disturbed than wall on a busy machine), one torch thread, interleaved: every repetition
runs all four variants in an order that rotates, so load changes hit them alike:

    teacher fast / student fast   `Pipeline.fast = True` (the default now: oneDNN decoder
                                  convolutions for both; the student's per-clip constants)
    teacher plain / student plain `Pipeline.fast = False` (the code paths before this change)

It also splits each variant into sampling and decoding (same interleaving) and checks that the
fast and plain paths give the same frames (max |difference| in uint8 levels). Reports medians,
a 95 % bootstrap interval of the teacher / student ratio (of medians, resampling repetitions),
the paired ratio (teacher / student within each repetition: median, interval, share >= 10x)
and the machine's load average.

    python benchmarks/distill_one_clip.py TEACHER.pt STUDENT.pt --reps 15 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

PROMPTS = ["a red circle moves left", "a blue square moves up", "a green triangle moves right"]


def _cpu(fn) -> float:
    c = time.process_time()
    fn()
    return time.process_time() - c


def _boot_ratio(a: list[float], b: list[float], n: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a), np.asarray(b)
    r = [np.median(rng.choice(a, len(a))) / np.median(rng.choice(b, len(b))) for _ in range(n)]
    return float(np.percentile(r, 2.5)), float(np.percentile(r, 97.5))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("teacher")
    p.add_argument("student")
    p.add_argument("--reps", type=int, default=15, help="interleaved repetitions per variant (>= 5)")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from videoforge.models.pipeline import Pipeline

    pipes = {"teacher": Pipeline.load(a.teacher), "student": Pipeline.load(a.student)}
    variants = [(m, f) for m in pipes for f in (True, False)]
    name = {v: f"{v[0]} {'fast' if v[1] else 'plain'}" for v in variants}

    def gen(v, prompt):
        pipe = pipes[v[0]]
        pipe.fast = v[1]
        return pipe.generate(prompt, frames=a.frames, seed=0)

    def split(v, prompt):
        """(sampling, decoding) CPU seconds of one clip: generate's own steps, timed apart."""
        pipe = pipes[v[0]]
        pipe.fast = v[1]
        t_all = _cpu(lambda: pipe.generate(prompt, frames=a.frames, seed=0))
        pipe.ae.fast_cpu_decode(v[1])
        z = torch.randn(1, pipe.ae.cfg.latent_channels, 1 + (a.frames - 1 + pipe.ae.cfg.temporal_factor - 1)
                        // pipe.ae.cfg.temporal_factor, pipe.video["height"] // pipe.ae.cfg.spatial_factor,
                        pipe.video["width"] // pipe.ae.cfg.spatial_factor)
        with torch.no_grad():
            t_dec = _cpu(lambda: pipe.ae.decode(z))
        return t_all - t_dec, t_dec

    # identical outputs (uint8), and warm-up (first calls allocate)
    same = {}
    for m in pipes:
        out = {f: gen((m, f), PROMPTS[0]) for f in (True, False)}
        d = np.abs(out[True].astype(int) - out[False].astype(int))
        same[m] = {"max_level_diff": int(d.max()), "fraction_differing": float((d > 0).mean())}
    for v in variants:
        gen(v, PROMPTS[1])

    times = {name[v]: [] for v in variants}
    parts = {name[v]: {"sample": [], "decode": []} for v in variants}
    for r in range(a.reps):
        k = r % len(variants)
        for v in variants[k:] + variants[:k]:
            times[name[v]].append(_cpu(lambda: gen(v, PROMPTS[r % 3])))
        for v in variants[k:] + variants[:k]:
            s, d = split(v, PROMPTS[r % 3])
            parts[name[v]]["sample"].append(s)
            parts[name[v]]["decode"].append(d)
        print(f"rep {r + 1}/{a.reps}: " + ", ".join(f"{n} {t[-1] * 1e3:.1f} ms" for n, t in times.items()),
              file=sys.stderr, flush=True)
    med = {n: statistics.median(t) for n, t in times.items()}
    ratios = {}
    for f in ("fast", "plain"):
        tn, sn = f"teacher {f}", f"student {f}"
        ratios[f] = {"ratio": med[tn] / med[sn], "ci95": _boot_ratio(times[tn], times[sn])}
    # paired: teacher / student within each repetition (run minutes apart at most: robust to load drift)
    rng = np.random.default_rng(0)
    for f in ("fast", "plain"):
        r = np.asarray(times[f"teacher {f}"]) / np.asarray(times[f"student {f}"])
        boot = [np.median(rng.choice(r, len(r))) for _ in range(2000)]
        ratios[f"{f} paired per repetition"] = {"ratio": float(np.median(r)),
                                                "ci95": (float(np.percentile(boot, 2.5)),
                                                         float(np.percentile(boot, 97.5))),
                                                "share_at_least_10x": float((r >= 10).mean())}
    ratios["fast student vs plain student"] = {"ratio": med["student plain"] / med["student fast"],
                                               "ci95": _boot_ratio(times["student plain"], times["student fast"])}
    doc = {"teacher": a.teacher, "student": a.student, "frames": a.frames, "reps": a.reps, "cpu_s": times,
           "median_cpu_s": med, "split_median_cpu_s": {n: {k: statistics.median(x) for k, x in pr.items()}
                                                       for n, pr in parts.items()},
           "ratios": ratios, "fast_equals_plain": same, "load_average": os.getloadavg(),
           "torch_threads": torch.get_num_threads()}
    print(f"{'variant':14s} {'one clip CPU ms':>16s} {'sampling':>9s} {'decoding':>9s}")
    for n in times:
        sp = doc["split_median_cpu_s"][n]
        print(f"{n:14s} {med[n] * 1e3:16.1f} {sp['sample'] * 1e3:9.1f} {sp['decode'] * 1e3:9.1f}")
    for k, r in ratios.items():
        print(f"{k}: {r['ratio']:.2f}x [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]")
    print(f"fast == plain (uint8): {same}")
    print(f"load average {doc['load_average']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
