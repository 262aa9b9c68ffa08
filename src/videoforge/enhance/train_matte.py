"""Train the matting network on synthetic composites (TRAIN sources only).

    nice -n 5 python -m videoforge.enhance.train_matte --out src/videoforge/enhance/weights/matte.npz \
        --steps 4000 --minutes 30 --batch 6 --pool 160 --val-every 50 --lr 2e-3   (the shipped weights)

Data: a rolling pool of composite clips (composites.make_clip over TRAIN_PHOTOS/TRAIN_CLIPS);
each step draws a batch from the pool (random flips, time reversal) and replaces a few
clips with fresh ones, so generating clips costs a fraction of a step while the data keeps
changing. Loss (as RVM): L1 on alpha + L1 on its spatial gradient + L2 on the difference of
temporal derivatives (what dtSSD measures), plus binary cross-entropy (see matte_loss).

With --memoryless-p a share of the steps runs with the memory reset every frame: the same
weights then also work frame by frame, which is the no-recurrence baseline the
temporal-coherence figure compares against (one training run instead of two on a shared
2-core machine; `--no-recurrence` still trains a separate per-frame network).

Checkpoint selection: the step with the lowest alpha MAD on a validation set from the TRAIN
sources (other seeds); the held-out sources are never touched here.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace

import numpy as np


def _batch(pool, idx, rng, torch):
    rgb = np.stack([pool[i].rgb for i in idx]).astype(np.float32) / 255   # (B,T,H,W,3)
    a = np.stack([pool[i].alpha for i in idx])[..., None]                # (B,T,H,W,1)
    if rng.random() < 0.5:
        rgb, a = rgb[:, :, :, ::-1], a[:, :, :, ::-1]
    if rng.random() < 0.3:
        rgb, a = rgb[:, ::-1], a[:, ::-1]
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 1, 4, 2, 3)
    y = torch.from_numpy(np.ascontiguousarray(a)).permute(0, 1, 4, 2, 3)
    return x, y


def matte_loss(pred, true, F):
    l1 = (pred - true).abs().mean()

    def grads(t):
        return t[..., 1:, :] - t[..., :-1, :], t[..., :, 1:] - t[..., :, :-1]

    (py, px), (ty, tx) = grads(pred), grads(true)
    lg = (py - ty).abs().mean() + (px - tx).abs().mean()
    lt = ((pred[:, 1:] - pred[:, :-1]) - (true[:, 1:] - true[:, :-1])).pow(2).mean()
    # The object covers ~5-25 % of a frame, so L1 alone settles on "all background" (its median);
    # binary cross-entropy (alpha as a soft label) keeps a gradient proportional to the error.
    bce = F.binary_cross_entropy(pred.clamp(1e-5, 1 - 1e-5), true)
    return l1 + lg + 5 * lt + 0.5 * bce, {"l1": l1.item(), "grad": lg.item(), "dt": lt.item(), "bce": bce.item()}


def evaluate_mad(model, clips, torch) -> float:
    model.eval()
    tot = 0.0
    with torch.inference_mode():
        for c in clips:
            x = torch.from_numpy(c.rgb.astype(np.float32) / 255).permute(0, 3, 1, 2)[None]
            pred, _ = model.forward_clip(x)
            tot += float((pred[0, :, 0] - torch.from_numpy(c.alpha)).abs().mean())
    model.train()
    return tot / len(clips)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="weights file to write (.npz)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--minutes", type=float, default=25.0, help="stop after this long (the schedule shrinks to fit)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--pool", type=int, default=192)
    ap.add_argument("--refresh", type=int, default=2, help="fresh clips per step")
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--no-recurrence", action="store_true", help="train the baseline whose memory resets every frame")
    ap.add_argument("--memoryless-p", type=float, default=0.25,
                    help="share of steps run with the memory reset every frame, so the same weights also "
                         "work without recurrence (the baseline of the temporal-coherence figure)")
    ap.add_argument("--size", type=int, default=96, help="training clip side (px)")
    ap.add_argument("--frames", type=int, default=6, help="training clip length")
    ap.add_argument("--init", default=None, help="start from these weights (.npz) instead of random ones")
    ap.add_argument("--width", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-every", type=int, default=100)
    args = ap.parse_args(argv)

    import torch

    from videoforge.enhance import composites as C
    from videoforge.enhance import weights
    from videoforge.enhance.matte_model import MatteNet, n_params

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    photos, clips = C.train_sources()
    settings = replace(C.TRAIN_SETTINGS, size=args.size, frames=args.frames)
    t0 = time.time()
    pool = [C.make_clip(rng, photos, clips, settings) for _ in range(args.pool)]
    vrng = np.random.default_rng(10_000 + args.seed)
    val = [C.make_clip(vrng, photos, clips, settings) for _ in range(24)]
    print(f"pool of {len(pool)} clips + {len(val)} validation clips in {time.time() - t0:.0f}s", flush=True)

    model = MatteNet(recurrent=not args.no_recurrence, width=args.width)
    if args.init:
        model.load_state_dict(weights.load(args.init)[0].state_dict())
    print(f"{n_params(model)} parameters, recurrent={model.recurrent}", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    deadline = time.time() + args.minutes * 60
    best = (math.inf, None, -1)
    t_start = time.time()
    step = 0
    for step in range(1, args.steps + 1):
        # cosine schedule over the planned steps, or over the steps the time allows
        elapsed = time.time() - t_start
        planned = args.steps if step < 20 else min(args.steps, int(step / max(elapsed, 1e-6) * args.minutes * 60))
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(planned, 1))))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.choice(len(pool), args.batch, replace=False)
        x, y = _batch(pool, idx, rng, torch)
        model.recurrent = not args.no_recurrence and rng.random() >= args.memoryless_p
        pred, _ = model.forward_clip(x)
        model.recurrent = not args.no_recurrence
        loss, parts = matte_loss(pred, y, torch.nn.functional)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        for j in rng.choice(len(pool), args.refresh, replace=False):
            pool[j] = C.make_clip(rng, photos, clips, settings)
        last = time.time() > deadline or step == args.steps
        if step % args.val_every == 0 or last:
            mad = evaluate_mad(model, val, torch)
            if mad < best[0]:
                best = (mad, {k: v.clone() for k, v in model.state_dict().items()}, step)
            print(f"step {step} lr {lr:.2e} loss {loss.item():.4f} {json.dumps({k: round(v, 4) for k, v in parts.items()})}"
                  f" val_mad {mad:.4f} best {best[0]:.4f}@{best[2]} {time.time() - t_start:.0f}s", flush=True)
        if last:
            break
    model.load_state_dict(best[1])
    meta = {"recurrent": model.recurrent, "width": args.width, "memoryless_p": args.memoryless_p, "steps": step, "best_step": best[2],
            "val_mad": best[0], "params": n_params(model), "train_settings": settings.__dict__,
            "batch": args.batch, "lr": args.lr, "init": args.init, "seed": args.seed, "minutes": round((time.time() - t_start) / 60, 1)}
    weights.save(model, args.out, meta)
    print(json.dumps(meta), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
