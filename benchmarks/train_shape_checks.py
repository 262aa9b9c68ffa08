"""Issue 19's cheap shape checks for the training demo (docs/benchmarks/train.md, run 7).

    python benchmarks/train_shape_checks.py ceiling --radius 0.142857 0.2 0.25 0.3
        the checker on the x4 latent's shortcut alone (4x4 block means of 4 frames, nearest and
        bilinear upsampling) of 96 fresh clips per shape radius (all 48 triples x slow/fast,
        H.264, read at 32 x 32): can the latent carry the shape at that size at all?
    python benchmarks/train_shape_checks.py probe CKPT [--which held-out|seen|red-right] [--seeds N]
        [--frames F] [--cfg-text S]
        a quick accuracy probe of a generator checkpoint (e.g. a kept stdit-step1000.pt snapshot),
        on the demo's held-out triples, some seen ones, or the shape-only set ("a red <shape>
        moves right").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

from videoforge.synth import shapes
from videoforge.train import evaluate


def ceiling(radii: list[float], seed: int = 7) -> None:
    from videoforge.models.autoencoder import pool_shortcut, unpool_shortcut
    from videoforge.train.data import decode_rgb

    def bilinear(z, fs, ft):
        z = torch.cat([z[:, :, :1], z[:, :, 1:].repeat_interleave(ft, dim=2)], dim=2)
        B, C, T, H, W = z.shape
        return F.interpolate(z.reshape(B, C * T, H, W), scale_factor=fs, mode="bilinear",
                             align_corners=False).reshape(B, C, T, H * fs, W * fs)

    rng = np.random.default_rng(seed)
    for r in radii:
        speeds = shapes.speeds_for(r)
        clips = [shapes.ShapeClip(*c, sp, float(rng.uniform(*speeds[sp])), "", int(rng.integers(2**31)), r)
                 for c in shapes.combos() for sp in ("slow", "fast")]
        with tempfile.TemporaryDirectory() as d:
            frames = [decode_rgb(p, 17, 32, 32) for p in shapes.write_clips(clips, d, frames=17, size=64)]
        x = torch.from_numpy(np.stack(frames)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1

        def read(rec):
            out = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()
            return evaluate.checker_accuracy(clips, list(out))

        z = pool_shortcut(x, 4, 4)
        res = {"radius": r, "n": len(clips), "truth": read(x),
               "block4_nearest": read(unpool_shortcut(z, 4, 4)), "block4_bilinear": read(bilinear(z, 4, 4))}
        print(json.dumps({k: (v if not isinstance(v, dict) else {a: v[a] for a in ("shape", "colour", "direction")})
                          for k, v in res.items()}), flush=True)


def probe(ckpt: str, which: str, seeds: int, frames: int, cfg_text: float) -> None:
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    train, test = shapes.split_combos(shapes.held_out_pairs(2, seed=0))
    combos = {"held-out": test, "seen": train[::2], "red-right": [("red", s, "right") for s in shapes.SHAPES]}[which]
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    r = evaluate.prompt_accuracy(pipe, combos, list(range(seeds)), frames, {pipe.scaler.names[0]: (lo + hi) / 2},
                                 steps=20, cfg_text=cfg_text, cfg_metric=2.0)
    print(json.dumps({"checkpoint": ckpt, "which": which, **{k: r[k] for k in ("n", "colour", "shape", "direction", "joint")},
                      "ci95": r["ci95"], "confusion_shape": r["confusion_shape"]}))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("ceiling", help="the checker on the x4 latent's block means, per shape radius")
    c.add_argument("--radius", type=float, nargs="+", default=[1 / 7, 0.2, 0.25, 0.3])
    q = sub.add_parser("probe", help="quick accuracy of a generator checkpoint")
    q.add_argument("checkpoint")
    q.add_argument("--which", choices=("held-out", "seen", "red-right"), default="held-out")
    q.add_argument("--seeds", type=int, default=2)
    q.add_argument("--frames", type=int, default=16, help="5 for a model trained on 5-frame clips")
    q.add_argument("--cfg-text", type=float, default=4.0)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if a.cmd == "ceiling":
        ceiling(a.radius)
    else:
        probe(a.checkpoint, a.which, a.seeds, a.frames, a.cfg_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
