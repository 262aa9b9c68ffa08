"""Matting figures on the frozen held-out composites (docs/benchmarks/enhance.md).

    nice -n 5 .venv/bin/python benchmarks/matte_eval.py --out /tmp/matte_eval.json

1. work side (the resolution the network runs at) chosen on TRAIN-source composites made with
   the held-out generator settings (training side only);
2. held-out composites (held-out photos and clip, held-out settings, frozen seeds): MAD, MSE,
   gradient error, dtSSD of the network with its memory, and of the same weights with the
   memory reset every frame; 95 % bootstrap intervals over clips;
3. pymatting's closed-form matting given a trimap drawn from the true alpha (an oracle
   trimap: an advantage the network does not get) on the same frames (a sample per clip);
4. speed at 256x256: frames per wall-clock second and per CPU-second with 1 and 2 threads,
   interleaved rounds; the machine's load average is printed (it is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))


def run_clip(model, torch, rgb: np.ndarray, work_side: int, recurrent: bool = True) -> np.ndarray:
    import cv2

    from videoforge.enhance.matte import work_size

    model.recurrent = recurrent
    state, out = None, []
    t, h, w = rgb.shape[:3]
    ww, wh = work_size(w, h, work_side)
    with torch.inference_mode():
        for f in rgb:
            full = torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255
            small = full if (ww, wh) == (w, h) else torch.from_numpy(
                cv2.resize(f, (ww, wh), interpolation=cv2.INTER_AREA)).permute(2, 0, 1)[None].float() / 255
            a, state = model(small, state, guide=full)
            out.append(a[0, 0].numpy())
    model.recurrent = True
    return np.stack(out)


def speed(model, torch, threads: int, frames: int = 40, side: int = 256) -> dict:
    torch.set_num_threads(threads)
    x = torch.rand(1, 3, side, side)
    with torch.inference_mode():
        s = None
        for _ in range(3):
            _, s = model(x, s)
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(frames):
            _, s = model(x, s)
        c1, w1 = time.process_time(), time.perf_counter()
    return {"wall_fps": frames / (w1 - w0), "cpu_fps": frames / max(c1 - c0, 1e-9)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--n", type=int, default=40, help="held-out clips")
    ap.add_argument("--n-select", type=int, default=12, help="train-side clips for choosing the work side")
    ap.add_argument("--pymatting-frames", type=int, default=1, help="frames per clip given to pymatting")
    ap.add_argument("--speed-rounds", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    import torch

    from videoforge.enhance import composites as C
    from videoforge.enhance import matte_metrics as M
    from videoforge.enhance import weights

    torch.set_num_threads(1)
    model, meta = weights.load(args.weights or weights.DEFAULT_MATTE)
    from videoforge.enhance.matte_model import n_params

    report: dict = {"weights": meta, "params": n_params(model), "loadavg_start": os.getloadavg()}

    # 1. work side, chosen on the training side only
    photos, clips = C.train_sources()
    sel = [C.make_clip(np.random.default_rng(77_000 + i), photos, clips, C.HELDOUT_SETTINGS)
           for i in range(args.n_select)]
    choice = {}
    for side in (96, 128, 192, 256):
        choice[side] = float(np.mean([M.mad(run_clip(model, torch, c.rgb, side), c.alpha) for c in sel]))
    work_side = min(choice, key=choice.get)
    report["work_side_selection"] = {"train_side_mad": choice, "chosen": work_side, "clips": len(sel)}
    print("work side (train-side MAD):", choice, "->", work_side, flush=True)

    # 2. held-out composites, with and without memory
    held = C.heldout_set(args.n)
    rows = []
    for i, c in enumerate(held):
        rec = run_clip(model, torch, c.rgb, work_side, True)
        mem = run_clip(model, torch, c.rgb, work_side, False)
        rows.append({
            "clip": i, **{k: c.meta[k] for k in ("bg_source", "distractor", "motion_blur")},
            "alpha_mean": float(c.alpha.mean()),
            "rec": {"mad": M.mad(rec, c.alpha), "mse": M.mse(rec, c.alpha), "grad": M.grad(rec, c.alpha),
                    "dtssd": M.dtssd(rec, c.alpha)},
            "memoryless": {"mad": M.mad(mem, c.alpha), "mse": M.mse(mem, c.alpha), "grad": M.grad(mem, c.alpha),
                           "dtssd": M.dtssd(mem, c.alpha)},
            "empty": {"mad": M.mad(np.zeros_like(c.alpha), c.alpha)},
        })
        rows[-1]["_rec"] = rec
    summary = {}
    for mode in ("rec", "memoryless"):
        summary[mode] = {k: M.bootstrap_ci([r[mode][k] for r in rows]) for k in ("mad", "mse", "grad", "dtssd")}
    summary["empty_mad"] = M.bootstrap_ci([r["empty"]["mad"] for r in rows])
    summary["dtssd_reduction"] = M.paired_reduction_ci([r["memoryless"]["dtssd"] for r in rows],
                                                       [r["rec"]["dtssd"] for r in rows])
    summary["mad_reduction"] = M.paired_reduction_ci([r["memoryless"]["mad"] for r in rows],
                                                     [r["rec"]["mad"] for r in rows])
    for sub in ("distractor", "motion_blur"):
        for flag in (True, False):
            rs = [r for r in rows if r[sub] == flag]
            if len(rs) >= 3:
                summary[f"mad_{sub}={flag}"] = (*M.bootstrap_ci([r["rec"]["mad"] for r in rs]), len(rs))
    print(json.dumps(summary, indent=1), flush=True)

    # 3. pymatting closed-form with an oracle trimap, on sampled frames of the same clips
    try:
        from pymatting import estimate_alpha_cf
    except ImportError:
        estimate_alpha_cf = None
    if estimate_alpha_cf is not None:
        pm = []
        for r, c in zip(rows, held):
            ts = np.linspace(c.rgb.shape[0] - 1, 0, args.pymatting_frames + 1)[:-1].round().astype(int)
            for t in ts:
                tri = M.trimap_from_alpha(c.alpha[t])
                t0 = time.process_time()
                try:
                    cf = np.clip(estimate_alpha_cf(c.rgb[t].astype(np.float64) / 255, tri), 0, 1)
                except Exception as e:  # noqa: BLE001 - a frame pymatting cannot solve is reported, not fatal
                    print("pymatting failed on clip", r["clip"], e, flush=True)
                    continue
                cpu = time.process_time() - t0
                net = r["_rec"][t]
                pm.append({"clip": r["clip"], "t": int(t), "cpu_s": cpu,
                           "cf": {"mad": M.mad(cf, c.alpha[t]), "mse": M.mse(cf, c.alpha[t]),
                                  "grad": M.grad(cf, c.alpha[t])},
                           "net": {"mad": M.mad(net, c.alpha[t]), "mse": M.mse(net, c.alpha[t]),
                                   "grad": M.grad(net, c.alpha[t])},
                           "unknown_share": float((tri == 0.5).mean())})
        summary["pymatting_cf"] = {
            "frames": len(pm),
            "cf": {k: M.bootstrap_ci([p["cf"][k] for p in pm]) for k in ("mad", "mse", "grad")},
            "net": {k: M.bootstrap_ci([p["net"][k] for p in pm]) for k in ("mad", "mse", "grad")},
            "cf_cpu_s_per_frame": float(np.median([p["cpu_s"] for p in pm[1:]] or [0])),   # first includes JIT
            "trimap_unknown_share": float(np.mean([p["unknown_share"] for p in pm])),
        }
        print(json.dumps(summary["pymatting_cf"], indent=1), flush=True)

    # 4. speed at 256x256, 1 and 2 threads, interleaved
    sp = {1: [], 2: []}
    for _ in range(args.speed_rounds):
        for th in (1, 2):
            sp[th].append(speed(model, torch, th))
    summary["speed_256"] = {f"{th}_threads": {k: float(np.median([s[k] for s in v])) for k in ("wall_fps", "cpu_fps")}
                            for th, v in sp.items()}
    summary["speed_256"]["loadavg_end"] = os.getloadavg()
    print(json.dumps(summary["speed_256"], indent=1), flush=True)
    for r in rows:
        r.pop("_rec", None)
    report.update(summary=summary, n_clips=len(rows), rows=rows)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
