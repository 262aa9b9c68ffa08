"""Continuation figures (issue 23 part 2) on held-out bouncing-shape videos.

For each held-out video (continuation/data.py, seeds training never used): the first 8 frames
are the context, the model generates 64 new frames (4x the demo's 17-frame training clips),
and the truth is the same video rendered on. Over the 8 windows of 8 new frames:
  - kept: the shapes demo's reader (synth/shapes.read_clip) finds the context's colour and shape
    in the window (target >= 95 % of windows);
  - position error: mean distance (px) between the generated shape's centroid and the true
    centre in each frame; last window / first window (target <= 2);
  - speed: mean centroid displacement per frame in the last window / in the context (truth's
    own speed over the context frames) (target >= 0.8); "speed4" the same over frame pairs 4
    apart (robust to the autoencoder's 4-frame steps: see STRIDE);
  - drift slope: least-squares slope over the windows of the position error (px per window)
    and of the colour error (RGB distance of the blob's mean colour from the true colour);
    for every checkpoint given, so training with and without context-noise augmentation can
    be compared on the same videos and seeds.
95 % bootstrap intervals over videos.

    .venv/bin/python benchmarks/continue_eval.py demo-out/continue/continue-noise0.3.pt \\
        demo-out/continue/continue-noise0.pt --videos 16 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def blob(frame: np.ndarray):
    """(centroid (x, y), mean RGB) of the saturated blob, or None."""
    from videoforge.synth.shapes import _saturated_mask

    m = _saturated_mask(frame)
    if m.sum() < 3:
        return None
    ys, xs = np.nonzero(m)
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5]), frame[m].astype(np.float64).mean(0)


# The speed over frame pairs STRIDE apart (session 8). The per-frame speed ("speed") undercounts
# any video that moves in steps: the demo autoencoder (temporal x4) decodes each latent frame as
# 4 near-still frames and a jump, and an 8-frame window holds one of its two jumps (the other is at
# the window's edge), so the autoencoder's own reconstruction of the true video scored 0.52-0.58
# of the context's speed. Pairs 4 frames apart each span exactly one jump: the reconstruction
# scores ~1 (docs/benchmarks/codec.md, session 8).
STRIDE = 4


def speed_stride(frames: np.ndarray, stride: int = STRIDE) -> float:
    """Mean blob displacement per frame over pairs `stride` frames apart (0 without a blob)."""
    cents = [blob(f) for f in frames]
    d = [np.linalg.norm(a[0] - b[0]) / stride for a, b in zip(cents[stride:], cents[:-stride])
         if a is not None and b is not None]
    return float(np.mean(d)) if d else 0.0


def measure(gen: np.ndarray, truth_c: np.ndarray, ctx_c: np.ndarray, video, size: int, window: int = 8) -> dict:
    """gen: (N, H, W, 3) new frames; truth_c (N, 2) true centres; ctx_c: true centres of the context."""
    from videoforge.synth import shapes

    colour = np.array(shapes.COLOURS[video.colour], dtype=np.float64)
    out = {"kept": [], "pos_err": [], "col_err": [], "speed": [], "speed4": []}
    for w in range(len(gen) // window):
        fr = gen[w * window:(w + 1) * window]
        rd = shapes.read_clip(fr)
        out["kept"].append(float(rd.colour == video.colour and rd.shape == video.shape))
        out.setdefault("colour_kept", []).append(float(rd.colour == video.colour))
        out.setdefault("shape_kept", []).append(float(rd.shape == video.shape))
        errs, cols, cents = [], [], []
        for f, c in zip(fr, truth_c[w * window:(w + 1) * window]):
            b = blob(f)
            if b is None:
                errs.append(size / 2)   # no shape: counted as half the frame away
                continue
            errs.append(float(np.linalg.norm(b[0] - c)))
            cols.append(float(np.linalg.norm(b[1] - colour)))
            cents.append(b[0])
        out["pos_err"].append(float(np.mean(errs)))
        out["col_err"].append(float(np.mean(cols)) if cols else 255.0)
        out["speed"].append(float(np.mean(np.linalg.norm(np.diff(cents, axis=0), axis=1))) if len(cents) > 1 else 0.0)
        out["speed4"].append(speed_stride(fr, STRIDE))
    ctx_speed = float(np.mean(np.linalg.norm(np.diff(ctx_c, axis=0), axis=1)))
    ctx_speed4 = float(np.mean(np.linalg.norm(ctx_c[STRIDE:] - ctx_c[:-STRIDE], axis=1))) / STRIDE
    x = np.arange(len(out["pos_err"]))
    return {**out, "context_speed": ctx_speed, "context_speed4": ctx_speed4,
            "last_speed4_ratio": out["speed4"][-1] / max(ctx_speed4, 1e-6),
            "kept_frac": float(np.mean(out["kept"])),
            "last_first_pos": out["pos_err"][-1] / max(out["pos_err"][0], 1e-6),
            "last_speed_ratio": out["speed"][-1] / max(ctx_speed, 1e-6),
            "pos_slope": float(np.polyfit(x, out["pos_err"], 1)[0]),
            "col_slope": float(np.polyfit(x, out["col_err"], 1)[0])}


def video_radius(checkpoint: str) -> float:
    """The shapes' radius a continuation checkpoint was trained on (1/7 before session 8)."""
    from videoforge.models.safeload import load_tensors
    from videoforge.synth.shapes import DEFAULT_RADIUS

    spec = load_tensors(checkpoint, "checkpoint").get("continuation") or {}
    return float(spec.get("radius", DEFAULT_RADIUS))


def pair_reports(a_path: str, b_path: str, out: str | None = None) -> None:
    """Paired differences (A minus B, per video, 95 % bootstrap) of two one-model reports."""
    from videoforge.train.evaluate import bootstrap_ci

    ra, rb = (json.load(open(p)) for p in (a_path, b_path))
    for k in ("videos", "seed", "context_frames", "new_frames", "steps", "radius"):
        if ra.get(k) != rb.get(k):
            raise SystemExit(f"{a_path} and {b_path} differ in {k} ({ra.get(k)} vs {rb.get(k)}): not paired")
    (ca, a), = ra["models"].items()
    (cb, b), = rb["models"].items()
    a, b = a["per_video"], b["per_video"]
    res = {"first": ca, "second": cb, "videos": ra["videos"], "seed": ra["seed"],
           "paired_first_minus_second": {k: {"mean": float(np.mean(np.subtract(a[k], b[k]))),
                                             "ci95": bootstrap_ci(np.subtract(a[k], b[k]))} for k in a if k in b}}
    print(json.dumps(res, indent=1))
    if out:
        with open(out, "w") as f:
            json.dump(res, f, indent=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="*")
    ap.add_argument("--pair", nargs=2, metavar=("A.json", "B.json"), default=None,
                    help="no evaluation: paired differences A - B from two reports of this script on the same "
                         "videos and seeds (evaluations run as separate processes, side by side)")
    ap.add_argument("--videos", type=int, default=16)
    ap.add_argument("--seed", type=int, default=777, help="held-out videos' seed (training uses seed + 1 = 1)")
    ap.add_argument("--context", type=int, default=8)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--cfg-text", type=float, default=None,
                    help="text guidance (default: the checkpoint's continuation setting, else 4)")
    ap.add_argument("--speed", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                    help="held-out generator setting: speed range (fraction of the side per frame; training: "
                         "0.02 0.035)")
    ap.add_argument("--radius", type=float, default=None,
                    help="held-out shapes' radius (fraction of the side; default: the first checkpoint's training "
                         "radius, 1/7 for checkpoints before session 8)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.pair:
        return pair_reports(*args.pair, out=args.json)
    if not args.checkpoints:
        ap.error("give checkpoints to evaluate (or --pair A.json B.json)")

    import torch
    from tqdm import tqdm

    from videoforge.continuation.data import centres, render, sample_videos
    from videoforge.continuation.sample import encode_frames, extend_latent, parse_schedule
    from videoforge.models.pipeline import Pipeline
    from videoforge.train.evaluate import bootstrap_ci

    torch.set_num_threads(1)   # a small model: more threads only wait on each other on a shared machine
    radius = args.radius if args.radius is not None else video_radius(args.checkpoints[0])
    videos = sample_videos(args.videos, seed=args.seed, radius=radius,
                           **({"speed": tuple(args.speed)} if args.speed else {}))
    report = {"videos": len(videos), "seed": args.seed, "context_frames": args.context, "new_frames": args.frames,
              "steps": args.steps, "speed": args.speed, "cfg_text": args.cfg_text, "radius": radius,
              "data": "held-out bouncing-shape videos (continuation/data.py, seed "
              f"{args.seed}; training used seed 1)", "models": {}}
    for ck in args.checkpoints:
        pipe = Pipeline.load(ck)
        size = pipe.video["height"]
        ft = pipe.ae.cfg.temporal_factor
        rows = []
        for i, v in enumerate(tqdm(videos, desc=os.path.basename(ck), unit="video")):
            total = args.context + args.frames
            truth = centres(v, total, size)
            frames = render(v, args.context, size)
            z, used = encode_frames(pipe, frames)
            cfg = args.cfg_text if args.cfg_text is not None else float((pipe.continuation or {}).get("cfg_text", 4.0))
            zz = extend_latent(pipe, z, -(-args.frames // ft), parse_schedule(None, v.caption), seed=i,
                               steps=args.steps, cfg_text=cfg)
            with torch.no_grad():
                rgb = ((pipe.ae.decode(zz / pipe.latent_scale).clamp(-1, 1) + 1) * 127.5).round().byte()
            rgb = rgb[0].permute(1, 2, 3, 0).numpy()
            first_new = 1 + ft * (z.shape[2] - 1)
            gen = rgb[first_new:first_new + args.frames]
            rows.append(measure(gen, truth[args.context:], truth[:args.context], v, size))
        summ = {}
        for key in ("kept_frac", "last_first_pos", "last_speed_ratio", "last_speed4_ratio", "pos_slope", "col_slope"):
            vals = [r[key] for r in rows]
            summ[key] = {"mean": float(np.mean(vals)), "median": float(np.median(vals)), "ci95": bootstrap_ci(vals)}
        kept = [k for r in rows for k in r["kept"]]
        summ["kept_windows"] = {"mean": float(np.mean(kept)), "ci95": bootstrap_ci(kept), "n": len(kept)}
        for key in ("colour_kept", "shape_kept"):
            vals = [k for r in rows for k in r[key]]
            summ[key] = {"mean": float(np.mean(vals)), "ci95": bootstrap_ci(vals), "n": len(vals)}
        summ["kept_by_window"] = np.mean([r["kept"] for r in rows], 0).round(3).tolist()
        summ["pos_err_by_window"] = np.mean([r["pos_err"] for r in rows], 0).round(2).tolist()
        summ["speed_by_window"] = np.mean([r["speed"] for r in rows], 0).round(3).tolist()
        summ["speed4_by_window"] = np.mean([r["speed4"] for r in rows], 0).round(3).tolist()
        summ["context_speed4"] = float(np.mean([r["context_speed4"] for r in rows]))
        summ["context_speed"] = float(np.mean([r["context_speed"] for r in rows]))
        summ["continuation"] = pipe.continuation
        summ["per_video"] = {k: [r[k] for r in rows] for k in ("pos_slope", "col_slope", "kept_frac", "last_first_pos",
                                                                "last_speed_ratio", "last_speed4_ratio")}
        report["models"][ck] = summ
        print(json.dumps({ck: summ}, indent=1), flush=True)
    cks = list(report["models"])
    if len(cks) == 2:   # paired over the same videos and seeds: first minus second
        a, b = (report["models"][c]["per_video"] for c in cks)
        report["paired_first_minus_second"] = {
            k: {"mean": float(np.mean(np.subtract(a[k], b[k]))), "ci95": bootstrap_ci(np.subtract(a[k], b[k]))}
            for k in ("pos_slope", "col_slope", "kept_frac")}
        print(json.dumps(report["paired_first_minus_second"], indent=1))
    if len(cks) > 2:   # every further checkpoint against the first, paired over the same videos and seeds
        a = report["models"][cks[0]]["per_video"]
        report["paired_vs_first"] = {}
        for c in cks[1:]:
            b = report["models"][c]["per_video"]
            report["paired_vs_first"][c] = {
                k: {"mean": float(np.mean(np.subtract(a[k], b[k]))), "ci95": bootstrap_ci(np.subtract(a[k], b[k]))}
                for k in a}
        print(json.dumps(report["paired_vs_first"], indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
