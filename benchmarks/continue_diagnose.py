"""Where continuation loses colour and shape (issue 23 part 2, session 7 diagnosis).

On held-out bouncing-shape videos (continuation/data.py, seed 777; training uses seed 1), for
one continuation checkpoint, the fraction of 8-frame windows in which the shapes reader finds
the true colour and shape, window by window over 64 new frames after 8 context frames:
  - truth: the reader on the true frames, and on the autoencoder's reconstruction of them
    (is the checker or the autoencoder the limit?);
  - autoregressive: the normal rollout (each chunk conditioned on the model's own output);
  - teacher-forced: every chunk conditioned on the *true* latent frames before it (no
    accumulation: what is lost here is the model's per-chunk accuracy, not drift);
for each text-guidance scale given (--cfg-text: guidance pushes toward the caption's shape,
which the base generator knows poorly, possibly away from the context's).
95 % bootstrap intervals over windows (n = videos x 8).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/continue_diagnose.py CKPT --videos 24 --cfg-text 4 1
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def kept_by_window(gen: np.ndarray, video, window: int = 8) -> list[tuple[float, float, float]]:
    """(colour and shape, colour, shape) kept per window."""
    from videoforge.synth import shapes

    out = []
    for w in range(len(gen) // window):
        rd = shapes.read_clip(gen[w * window:(w + 1) * window])
        out.append((float(rd.colour == video.colour and rd.shape == video.shape), float(rd.colour == video.colour),
                    float(rd.shape == video.shape)))
    return out


def to_rgb(pipe, z):
    import torch

    with torch.no_grad():
        v = pipe.ae.decode(z / pipe.latent_scale)
    return ((v.clamp(-1, 1) + 1) * 127.5).round().byte()[0].permute(1, 2, 3, 0).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--videos", type=int, default=24)
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--cfg-text", type=float, nargs="+", default=[4.0])
    ap.add_argument("--modes", nargs="+", default=["autoregressive", "teacher"])
    ap.add_argument("--radius", type=float, default=None,
                    help="shapes' radius (fraction of the side; default: the checkpoint's training radius)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    import torch

    from videoforge.continuation.data import centres, render, sample_videos
    from videoforge.continuation.sample import encode_frames, extend_latent, parse_schedule
    from videoforge.models.pipeline import Pipeline
    from videoforge.train.evaluate import bootstrap_ci

    torch.set_num_threads(1)
    pipe = Pipeline.load(a.checkpoint)
    size, ft = pipe.video["height"], pipe.ae.cfg.temporal_factor
    ctx_n, new_n = 8, 64
    from continue_eval import measure, video_radius

    radius = a.radius if a.radius is not None else video_radius(a.checkpoint)
    videos = sample_videos(a.videos, seed=a.seed, radius=radius)
    rows: dict[str, list] = {}
    motion: dict[str, list] = {}   # continue_eval's per-window measures (speed, position error) per mode

    def add(name, gen, v, tc):
        rows.setdefault(name, []).append(kept_by_window(gen, v))
        motion.setdefault(name, []).append(measure(gen, tc[ctx_n:], tc[:ctx_n], v, size))

    for i, v in enumerate(videos):
        truth = render(v, ctx_n + new_n, size)
        tc = centres(v, ctx_n + new_n, size)
        zt, _ = encode_frames(pipe, truth)                 # frames 3..71 -> latent 0 is frame 3
        zc, _ = encode_frames(pipe, truth[:ctx_n])         # the context alone, as the eval sees it
        Tc0 = zc.shape[2]
        first_new = 1 + ft * (Tc0 - 1)                     # index of frame 8 in decoded latents
        add("truth", truth[ctx_n:], v, tc)
        add("truth_ae", to_rgb(pipe, zt)[first_new:first_new + new_n], v, tc)
        sched = parse_schedule(None, v.caption)
        for cfg in a.cfg_text:
            if "autoregressive" in a.modes:
                zz = extend_latent(pipe, zc, new_n // ft, sched, seed=i, steps=a.steps, cfg_text=cfg)
                add(f"autoregressive cfg{cfg:g}", to_rgb(pipe, zz)[first_new:first_new + new_n], v, tc)
            if "teacher" in a.modes:
                parts = [zt[:, :, :Tc0]]
                Tn = 3
                for k in range(-(-(new_n // ft) // Tn)):
                    ctx = zt[:, :, :Tc0 + k * Tn]               # the true latent up to this chunk
                    zz = extend_latent(pipe, ctx, Tn, sched, seed=1000 * i + k, steps=a.steps, cfg_text=cfg)
                    parts.append(zz[:, :, -Tn:])
                zz = torch.cat(parts, 2)
                add(f"teacher-forced cfg{cfg:g}", to_rgb(pipe, zz)[first_new:first_new + new_n], v, tc)
        print(f"video {i + 1}/{len(videos)}", flush=True)
    report = {"checkpoint": a.checkpoint, "videos": len(videos), "seed": a.seed, "steps": a.steps, "radius": radius,
              "rows": {}}
    for name, r in rows.items():
        arr = np.array(r)                                  # (videos, windows, 3)
        flat = arr[:, :, 0].ravel()
        report["rows"][name] = {
            "kept": float(flat.mean()), "ci95": bootstrap_ci(flat), "n": int(flat.size),
            "colour_kept": float(arr[:, :, 1].mean()), "shape_kept": float(arr[:, :, 2].mean()),
            "kept_window1": float(arr[:, 0, 0].mean()), "kept_windows2_8": float(arr[:, 1:, 0].mean()),
            "kept_by_window": arr[:, :, 0].mean(0).round(3).tolist()}
        ms = motion[name]   # speed per window over the context's true speed, per video (does the motion slow?)
        ratio = np.array([np.array(m["speed"]) / max(m["context_speed"], 1e-6) for m in ms])   # (videos, windows)
        ratio4 = np.array([np.array(m["speed4"]) / max(m["context_speed4"], 1e-6) for m in ms])
        report["rows"][name].update({
            "speed_ratio_by_window": ratio.mean(0).round(3).tolist(),
            "speed_ratio_last": float(ratio[:, -1].mean()), "speed_ratio_last_ci95": bootstrap_ci(ratio[:, -1]),
            "speed_ratio_first": float(ratio[:, 0].mean()), "speed_ratio_first_ci95": bootstrap_ci(ratio[:, 0]),
            "speed4_ratio_by_window": ratio4.mean(0).round(3).tolist(),
            "speed4_ratio_last": float(ratio4[:, -1].mean()), "speed4_ratio_last_ci95": bootstrap_ci(ratio4[:, -1]),
            "pos_err_by_window": np.mean([m["pos_err"] for m in ms], 0).round(2).tolist()})
        s = report["rows"][name]
        print(f"{name:28s} kept {s['kept']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}] n={s['n']}  colour "
              f"{s['colour_kept']:.3f} shape {s['shape_kept']:.3f}  by window {s['kept_by_window']}\n"
              f"{'':28s} speed/context by window {s['speed_ratio_by_window']}  position error {s['pos_err_by_window']}\n"
              f"{'':28s} stride-4 speed/context by window {s['speed4_ratio_by_window']}",
              flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
