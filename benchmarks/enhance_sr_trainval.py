"""Ship-or-not check for new SR weights, on the TRAINING side only (no held-out data read).

    nice -n 5 .venv/bin/python benchmarks/enhance_sr_trainval.py --clean C.npz --clean-single CS.npz \
        --blind B.npz --out docs/benchmarks/enhance_sr_trainval_s8.json

A fresh validation set from the TRAIN sources (sr_data.TRAIN_PHOTOS + vtest.avi) with seeds
used neither by the training pool nor by train_sr's own validation set: --n clips
PIL-bicubic x1/4 ("bi") and --n clips degrade.second_order(TRAIN) ("blind"), 5 frames.
Every network runs on the same clips ("X_noprop": X's recurrent weights with the propagated
state zeroed, an ablation of what the neighbours contribute); "auto" = the selector's pick (degrade_estimate) per clip
between the given clean and blind networks. Y-PSNR gain over bicubic per clip, mean with a
95 % bootstrap interval over clips, and the paired difference new - current shipped.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def boot(v, n=2000, seed=0):
    v = np.asarray(v, float)
    rng = np.random.default_rng(seed)
    m = v[rng.integers(0, len(v), (n, len(v)))].mean(1)
    return [round(float(v.mean()), 3), round(float(np.percentile(m, 2.5)), 3), round(float(np.percentile(m, 97.5)), 3), len(v)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clean", required=True)
    ap.add_argument("--clean-single")
    ap.add_argument("--blind", required=True)
    ap.add_argument("--blind-single")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--lr-size", type=int, default=40)
    ap.add_argument("--seed", type=int, default=30_007)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kinds", default="bi,blind", help="which halves to run (split over processes)")
    a = ap.parse_args(argv)
    import torch

    from videoforge.enhance import degrade, sr_data, weights
    from videoforge.enhance.degrade_estimate import DegradationSelector
    from videoforge.enhance.train_sr import to_tensors

    torch.set_num_threads(1)
    nets = {"current": weights.DEFAULT_SR, "current_single": weights.DEFAULT_SR_SINGLE,
            "clean": a.clean, "blind": a.blind}
    if a.clean_single:
        nets["clean_single"] = a.clean_single
    if a.blind_single:
        nets["blind_single"] = a.blind_single
    models = {k: weights.load_sr(p)[0] for k, p in nets.items()}
    # ablation: the same recurrent weights with the propagated state zeroed (does the net use neighbours?)
    from videoforge.enhance.sr_model import SRNet

    for k in ("current", "clean", "blind"):
        m = SRNet(ch=models[k].ch, recurrent=False)
        m.load_state_dict(models[k].state_dict())
        models[f"{k}_noprop"] = m.eval()
    sel = DegradationSelector.load()
    rng = np.random.default_rng(a.seed)
    res = {}
    for kind, p_blind in (("bi", 0.0), ("blind", 1.0)):
        if kind not in a.kinds.split(","):
            continue
        rng = np.random.default_rng(a.seed + (0 if kind == "bi" else 1))   # each half its own clips
        rows = []
        for _ in range(a.n):
            c = sr_data.make_clip(rng, sr_data.TRAIN_PHOTOS, sr_data.TRAIN_CLIPS, frames=5, lr_size=a.lr_size, p_blind=p_blind)
            bic = sr_data.y_psnr(np.stack([degrade.bicubic_up(f, 4) for f in c.lr]), c.hr)
            row = {"bicubic": bic, "pick": sel.choose(c.lr)[0]}
            for k, m in models.items():
                lr, hr, fn, fp = to_tensors([c], torch, True)
                with torch.inference_mode():
                    sr = m(lr, fn, fp).clamp(0, 1)
                s8 = (sr[0].permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
                row[k] = sr_data.y_psnr(s8, c.hr) - bic
            row["auto"] = row[row["pick"]]
            if "clean_single" in row and "blind_single" in row:
                row["auto_single"] = row[row["pick"] + "_single"]
            rows.append(row)
        keys = [k for k in rows[0] if k not in ("bicubic", "pick")]
        res[kind] = {f"{k}_gain_db": boot([r[k] for r in rows]) for k in keys}
        res[kind]["picked_blind_share"] = boot([r["pick"] == "blind" for r in rows])
        for k in keys:
            if k != "current":
                res[kind][f"{k}_minus_current_db"] = boot([r[k] - r["current"] for r in rows])
        print(kind, json.dumps(res[kind]), flush=True)
    res["weights"] = {k: weights.load_sr(p)[1] for k, p in nets.items()}
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
