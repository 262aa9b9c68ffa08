"""Closed-form refit of the SR network's last layer on training clips (ridge least squares).

The network's output is bicubic_x4(lr) + pixel_shuffle(up2(x)), where x are the features
entering its last 3x3 convolution (32 channels at 2x the input size). Given fixed features,
that layer is linear in its weights, so the weights that minimise the squared error on a set
of clips are one ridge regression: a 289x289 normal-equation system (32 channels x 3x3 taps +
bias) with 12 outputs (3 colours x the 2x2 pixel-shuffle phases). Forward passes only: on this
shared 2-core machine this costs ~1/3 of one training step per clip, against the hundreds of
gradient steps the same CPU would buy (~4 % of a core during session 8).

    nice -n 5 python -m videoforge.enhance.refit_head --weights W.npz --out W_refit.npz --p-blind 0 --clips 96

Data: sr_data.make_clip over TRAIN_PHOTOS / TRAIN_CLIPS only (seeds other than train_sr's
pool and validation). The refit is kept only when it raises Y-PSNR on a validation set from
the training sources (the script prints both and writes OUT only then, unless --force).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def head_inputs(model, lr, fn, fp):
    """Yield (x (B,32,2h,2w) features entering up2, base (B,3,4h,4w) bicubic) per frame."""
    import torch.nn.functional as F

    from videoforge.enhance.sr_model import SCALE

    b, t, _, h, w = lr.shape
    # re-run model.frames' propagation but stop before up2
    zero = lr.new_zeros(b, model.ch, h, w)
    back = [None] * t
    prop = zero
    from videoforge.enhance.sr_model import flow_warp

    for i in range(t - 1, -1, -1):
        prop = flow_warp(prop, fn[:, i]) if model.recurrent and i < t - 1 else zero
        prop = model.back(lr[:, i], prop)
        back[i] = prop
    prop = zero
    for i in range(t):
        prop = flow_warp(prop, fp[:, i - 1]) if model.recurrent and i > 0 else zero
        prop = model.fwd(lr[:, i], prop)
        feat = F.leaky_relu(model.fuse(torch_cat([back[i], prop])), 0.1)
        x = F.leaky_relu(F.pixel_shuffle(model.up1(feat), 2), 0.1)
        base = F.interpolate(lr[:, i], scale_factor=SCALE, mode="bicubic", align_corners=False)
        yield i, x, base


def torch_cat(xs):
    import torch

    return torch.cat(xs, 1)


def accumulate(model, clips, torch):
    """Normal equations (XtX (289,289), XtY (289,12)) over every pixel of the clips."""
    import torch.nn.functional as F

    from videoforge.enhance.train_sr import to_tensors

    k = model.up2.in_channels * 9 + 1
    xtx = torch.zeros(k, k, dtype=torch.float64)
    xty = torch.zeros(k, model.up2.out_channels, dtype=torch.float64)
    with torch.inference_mode():
        for j in range(0, len(clips), 4):
            lr, hr, fn, fp = to_tensors(clips[j:j + 4], torch, True)
            for i, x, base in head_inputs(model, lr, fn, fp):
                cols = F.unfold(x, 3, padding=1)                              # (B, 288, N)
                cols = torch.cat([cols, torch.ones_like(cols[:, :1])], 1)     # bias column
                tgt = F.pixel_unshuffle(hr[:, i] - base, 2).flatten(2)        # (B, 12, N)
                X = cols.permute(0, 2, 1).reshape(-1, k).double()
                Y = tgt.permute(0, 2, 1).reshape(-1, tgt.shape[1]).double()
                xtx += X.T @ X
                xty += X.T @ Y
    return xtx, xty


def solve(model, xtx, xty, ridge: float, torch, w0):
    """Set up2 to the ridge solution shrunk towards the trained weights w0 (289,12) (relative
    ridge: ridge x mean diagonal), so a small data set moves the layer only where it is sure."""
    k = xtx.shape[0]
    lam = ridge * float(torch.diagonal(xtx).mean())
    sol = torch.linalg.solve(xtx + lam * torch.eye(k, dtype=xtx.dtype), xty + lam * w0)   # (289, 12)
    w = sol[:-1].T.reshape(model.up2.out_channels, model.up2.in_channels, 3, 3)
    with torch.no_grad():
        model.up2.weight.copy_(w.float())
        model.up2.bias.copy_(sol[-1].float())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--p-blind", type=float, default=0.0)
    ap.add_argument("--clips", type=int, default=96)
    ap.add_argument("--val", type=int, default=16)
    ap.add_argument("--lr-size", type=int, default=32)
    ap.add_argument("--ridges", default="1e-3,1e-2,1e-1,1")
    ap.add_argument("--seed", type=int, default=40_001)
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    import torch

    from videoforge.enhance import sr_data, weights
    from videoforge.enhance.train_sr import validate

    torch.set_num_threads(1)
    model, meta = weights.load_sr(a.weights)
    rec = bool(meta.get("recurrent", True))
    rng = np.random.default_rng(a.seed)

    def make(r):
        return sr_data.make_clip(r, sr_data.TRAIN_PHOTOS, sr_data.TRAIN_CLIPS, frames=5, lr_size=a.lr_size,
                                 p_blind=a.p_blind, flows=True)

    vrng = np.random.default_rng(a.seed + 1)
    val = [make(vrng) for _ in range(a.val)]
    clips = [make(rng) for _ in range(a.clips)]
    v0, vb = validate(model, val, torch, rec)
    xtx, xty = accumulate(model, clips, torch)
    orig = {k: v.clone() for k, v in model.up2.state_dict().items()}
    w0 = torch.cat([orig["weight"].reshape(orig["weight"].shape[0], -1).T, orig["bias"][None]], 0).double()
    best = (v0, None)
    report = {"before": round(v0 - vb, 4)}
    for r in (float(x) for x in a.ridges.split(",")):
        solve(model, xtx, xty, r, torch, w0)
        v, _ = validate(model, val, torch, rec)
        report[f"ridge_{r:g}"] = round(v - vb, 4)
        if v > best[0]:
            best = (v, r)
    print(json.dumps({"val_gain_over_bicubic_db": report, "chosen_ridge": best[1]}), flush=True)
    if best[1] is None and not a.force:
        print("refit does not beat the weights on validation: nothing written", flush=True)
        return 0
    if best[1] is not None:
        solve(model, xtx, xty, best[1], torch, w0)
    else:
        model.up2.load_state_dict(orig)
    weights.save(model, a.out, dict(meta, head_refit={"ridge": best[1], "clips": a.clips, "p_blind": a.p_blind,
                                                      "seed": a.seed, "val_gain_db": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
