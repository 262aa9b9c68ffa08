"""Distilled student vs its teacher on the shapes demo's held-out prompts (issue 21 part 3).

Variants, all on the same noise (same seeds, same batches) so every comparison is paired:
  teacher      the teacher as `generate` samples it by default: 25 Euler steps, guidance 4 / 2,
               3 network evaluations per step (75 in all);
  teacher@4    the same teacher naively at 4 steps (still 3 evaluations per step: 12);
  STUDENT...   each student checkpoint at its own steps, 1 evaluation per step (4).
Scores (held-out triples = every (colour, shape, direction) containing one of the demo's
held-out pairs, x --seeds, at the mid motion level, 16 frames):
  - prompt accuracy (colour, shape, direction, joint) read back by synth/shapes.py's checker,
    each with a 95 % bootstrap interval, and student - teacher with a paired 95 % interval;
  - motion-control Spearman (5 levels x the demo's 8 motion prompts x --mc-seeds);
  - Frechet distance on the features of a small clip classifier (distill/clipfeat.py) trained on
    the demo's real training clips, against fresh real renders of the held-out triples; the
    student / teacher ratio with a paired bootstrap interval (same clips resampled for both);
  - sampling time: pipe.generate for one prompt and for 16, interleaved, medians; and the whole
    `videoforge generate` command (process start, load, sample, encode), interleaved.

    python benchmarks/distill_eval.py TEACHER STUDENT [STUDENT ...] --real-dir DEMO/videos --json out.json
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
import torch


def log(msg):
    print(f"[distill-eval {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def generate_set(pipe, combos, seeds, metrics, kw, batch=32):
    """Clips and checker readings for every (combo, seed), batched and seeded as evaluate.prompt_accuracy does."""
    from videoforge.synth import shapes

    jobs = [(c, s) for c in combos for s in seeds]
    clips, readings = [], []
    for i in range(0, len(jobs), batch):
        part = jobs[i:i + batch]
        prompts = [shapes.caption_for(c[0], c[1], c[2], False) for c, _ in part]
        out = pipe.generate(prompts, metrics=metrics, frames=16, seed=part[0][1] * 1000 + i, **kw)
        clips.append(out)
        readings += [shapes.read_clip(v) for v in out]
    hits = {"colour": [r.colour == c[0] for (c, _), r in zip(jobs, readings)],
            "shape": [r.shape == c[1] for (c, _), r in zip(jobs, readings)],
            "direction": [r.direction == c[2] for (c, _), r in zip(jobs, readings)]}
    hits["joint"] = [a and b and d for a, b, d in zip(hits["colour"], hits["shape"], hits["direction"])]
    return np.concatenate(clips), {k: np.array(v, dtype=float) for k, v in hits.items()}


def motion_pairs(pipe, prompts, levels, seeds, metric, kw):
    from videoforge.synth import shapes

    pairs = []
    for lv in levels:
        for s in seeds:
            for v in pipe.generate(list(prompts), metrics={metric: lv}, frames=16, seed=s, **kw):
                r = shapes.read_clip(v)
                if r.direction is not None:
                    pairs.append((lv, r.travel))
    return np.array(pairs)


def spearman(p):
    from scipy.stats import spearmanr

    return float(spearmanr(p[:, 0], p[:, 1]).statistic) if len(p) > 2 else float("nan")


def boot(fn, n, n_boot=1000, seed=0):
    rng = np.random.default_rng(seed)
    vals = [fn(rng.integers(n, size=n)) for _ in range(n_boot)]
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("teacher")
    p.add_argument("students", nargs="*")
    p.add_argument("--real-dir", required=True, help="the demo's rendered training clips (DEMO/videos)")
    p.add_argument("--seeds", type=int, default=6, help="samples per held-out triple")
    p.add_argument("--mc-seeds", type=int, default=4, help="seeds per motion level (0: skip motion control)")
    p.add_argument("--timing-reps", type=int, default=5)
    p.add_argument("--cli-reps", type=int, default=3, help="interleaved `videoforge generate` runs each (0: skip)")
    p.add_argument("--no-teacher4", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--cache", default=None, metavar="DIR", help="keep each variant's clips here and reuse them")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from videoforge.distill import clipfeat
    from videoforge.models.pipeline import Pipeline
    from videoforge.synth import shapes
    from videoforge.train.demo import DEMO_RADIUS

    teacher = Pipeline.load(args.teacher)
    H = int(teacher.video["height"])
    pairs = shapes.held_out_pairs(2, seed=0)
    _, held_out = shapes.split_combos(pairs)
    metric = teacher.scaler.names[0]
    lo, hi = float(teacher.scaler.lo[0]), float(teacher.scaler.hi[0])
    mid = {metric: (lo + hi) / 2}
    seeds = list(range(args.seeds))
    variants = {"teacher": (teacher, dict(steps=25, cfg_text=4.0, cfg_metric=2.0), 75)}
    if not args.no_teacher4:
        variants["teacher@4"] = (teacher, dict(steps=4, cfg_text=4.0, cfg_metric=2.0), 12)
    for s in args.students:
        sp = Pipeline.load(s)
        if not sp.distill:
            raise SystemExit(f"{s}: not a distilled student")
        variants[os.path.basename(s)] = (sp, dict(cfg_text=4.0, cfg_metric=2.0), int(sp.distill["steps"]))

    # the clip classifier on real demo clips (80 % train / 20 % check), and fresh real renders of
    # the held-out triples as the reference set of the distance
    vids = sorted(os.path.join(args.real_dir, f) for f in os.listdir(args.real_dir) if f.endswith(".mp4"))
    labels = [clipfeat.labels_from_name(v) for v in vids]
    vids, labels = [v for v, lb in zip(vids, labels) if lb], [lb for lb in labels if lb]
    real = clipfeat.load_clips(vids, 16, H)
    perm = np.random.default_rng(0).permutation(len(vids))
    ntr = int(0.8 * len(vids))
    log(f"clip classifier on {ntr} real demo clips")
    clf = clipfeat.train_classifier(real[perm[:ntr]], [labels[i] for i in perm[:ntr]], steps=400)
    clf_acc = clipfeat.accuracy(clf, real[perm[ntr:]], [labels[i] for i in perm[ntr:]])
    log(f"classifier accuracy on {len(vids) - ntr} held-back real clips: {clf_acc}")
    rng = np.random.default_rng(12345)
    speeds = shapes.speeds_for(DEMO_RADIUS)

    def fresh(tag):
        cl = []
        for c in held_out:
            for k in range(args.seeds):
                sp = "slow" if k % 2 == 0 else "fast"
                cl.append(shapes.ShapeClip(c[0], c[1], c[2], sp, float(rng.uniform(*speeds[sp])),
                                           shapes.caption_for(*c, False), int(rng.integers(2**31)), DEMO_RADIUS))
        d = tempfile.mkdtemp(prefix=f"distill-eval-{tag}-")
        return clipfeat.load_clips(shapes.write_clips(cl, d, frames=17, size=64, fps=8.0), 16, H)

    ref_feat = clipfeat.clip_features(clf, fresh("ref"))
    real2_feat = clipfeat.clip_features(clf, fresh("real2"))
    out = {"teacher": os.path.abspath(args.teacher), "held_out": [list(c) for c in held_out], "seeds": args.seeds,
           "n": len(held_out) * args.seeds, "metric_mid": mid, "classifier_accuracy_real": clf_acc,
           "classifier_train_clips": ntr, "fd_real_vs_real": clipfeat.frechet_distance(real2_feat, ref_feat),
           "variants": {}}
    feats, hits = {}, {}
    ckpt_of = {"teacher": args.teacher, "teacher@4": args.teacher, **{os.path.basename(s): s for s in args.students}}
    for name, (pipe, kw, evals) in variants.items():
        t0 = time.time()
        cache = None
        if args.cache:   # generated clips and motion readings of a variant, reused by later runs
            import hashlib

            key = json.dumps([os.path.abspath(ckpt_of[name]), os.path.getmtime(ckpt_of[name]), kw, args.seeds,
                              args.mc_seeds, mid])
            os.makedirs(args.cache, exist_ok=True)
            cache = os.path.join(args.cache, hashlib.sha1(key.encode()).hexdigest()[:16] + ".npz")
        if cache and os.path.exists(cache):
            z = np.load(cache)
            clips, h, mp = z["clips"], {k: z["hit_" + k] for k in ("colour", "shape", "direction", "joint")}, z["mp"]
            log(f"{name}: from {cache}")
        else:
            clips, h = generate_set(pipe, held_out, seeds, mid, kw)
            mp = None
        feats[name], hits[name] = clipfeat.clip_features(clf, clips), h
        fd = clipfeat.frechet_distance(feats[name], ref_feat)
        n = len(h["joint"])
        rec = {"network_evals_per_clip": evals, "steps": kw.get("steps") or pipe.distill.get("steps"),
               "fd": fd, "fd_ci95": boot(lambda i: clipfeat.frechet_distance(feats[name][i], ref_feat), n, 200),
               "seconds": round(time.time() - t0, 1)}
        for k, v in h.items():
            rec[k] = float(v.mean())
            rec[k + "_ci95"] = boot(lambda i: v[i].mean(), n)
        if args.mc_seeds:
            levels = list(np.linspace(lo, hi, 5))
            seen_all = [c for c in shapes.combos() if c not in held_out]
            seen = [seen_all[i] for i in np.random.default_rng(5).choice(len(seen_all), 8, replace=False)]
            mc_prompts = [shapes.caption_for(*c, False) for c in held_out[::max(1, len(held_out) // 6)][:6] + seen[:2]]
            if mp is None or len(mp) == 0:
                mp = motion_pairs(pipe, mc_prompts, levels, list(range(args.mc_seeds)), metric, kw)
            rec["spearman"] = spearman(mp)
            rec["spearman_ci95"] = boot(lambda i: spearman(mp[i]), len(mp), 300)
            rec["spearman_n"] = int(len(mp))
            med = [float(np.median(mp[mp[:, 0] == lv, 1])) if np.any(mp[:, 0] == lv) else float("nan") for lv in levels]
            rec["median_travel_by_level"] = med
        if cache and not os.path.exists(cache):
            np.savez_compressed(cache, clips=clips, mp=mp if mp is not None else np.zeros((0, 2)),
                                **{"hit_" + k: v for k, v in h.items()})
        out["variants"][name] = rec
        log(f"{name}: {json.dumps({k: v for k, v in rec.items() if not k.endswith('ci95')})}")
    # paired differences against the teacher
    n = out["n"]
    for name in variants:
        if name == "teacher":
            continue
        d = {}
        for k in ("colour", "shape", "direction", "joint"):
            diff = hits[name][k] - hits["teacher"][k]
            d[k] = {"diff": float(diff.mean()), "ci95": boot(lambda i: diff[i].mean(), n)}
        ratio = lambda i: clipfeat.frechet_distance(feats[name][i], ref_feat) / clipfeat.frechet_distance(
            feats["teacher"][i], ref_feat)
        d["fd_ratio"] = {"ratio": out["variants"][name]["fd"] / out["variants"]["teacher"]["fd"],
                         "ci95": boot(ratio, n, 200)}
        if "spearman" in out["variants"][name]:
            d["spearman_diff"] = out["variants"][name]["spearman"] - out["variants"]["teacher"]["spearman"]
        out["variants"][name]["vs_teacher"] = d
    # timing, interleaved: one prompt and 16 prompts
    timing = {}
    for B in ((1, 16) if args.timing_reps else ()):
        prompts = [shapes.caption_for(*held_out[i % len(held_out)], False) for i in range(B)]
        ts = {name: [] for name in variants}
        for r in range(args.timing_reps + 1):
            for name, (pipe, kw, _) in variants.items():
                t0 = time.perf_counter()
                pipe.generate(prompts if B > 1 else prompts[0], metrics=mid, frames=16, seed=r, **kw)
                if r:          # the first round warms up
                    ts[name].append(time.perf_counter() - t0)
        timing[f"batch{B}"] = {name: {"median_s": float(np.median(v)), "n": len(v),
                                      "speedup_vs_teacher": float(np.median(ts["teacher"]) / np.median(v))}
                               for name, v in ts.items()}
    if args.cli_reps:
        ts = {name: [] for name in variants if name != "teacher@4"}
        d = tempfile.mkdtemp(prefix="distill-eval-cli-")
        for r in range(args.cli_reps):
            for name in ts:
                ck = args.teacher if name == "teacher" else next(s for s in args.students if os.path.basename(s) == name)
                cmd = [sys.executable, "-m", "videoforge", "generate", ck, "a red circle moves left", "--out",
                       os.path.join(d, f"{r}.mp4"), "--seed", str(r)]
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
                ts[name].append(time.perf_counter() - t0)
        timing["cli"] = {name: {"median_s": float(np.median(v)), "n": len(v),
                                "speedup_vs_teacher": float(np.median(ts["teacher"]) / np.median(v))}
                         for name, v in ts.items()}
    out["timing"] = timing
    out["load_average"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    print(json.dumps({k: out[k] for k in ("n", "fd_real_vs_real", "classifier_accuracy_real")}))
    for name, rec in out["variants"].items():
        print(name, json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rec.items()}))
    print(json.dumps(timing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
