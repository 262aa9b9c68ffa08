"""Teach a generator to continue: context-frame conditioning on sub-clips of longer videos.

    python -m videoforge.continuation.train BASE.pt --out DIR [--steps N] [--context-noise-max S]

From a generator checkpoint (the shapes demo's, `make demo-train`), the STDiT is rebuilt with
`context_frames` (the base's weights load; the context marker and its noise-level embedder are
new) and trained with the flow loss on windows of longer bouncing-shape videos
(continuation/data.py): the first `context` latent frames of a window are the context, noised
to a random level in [0, context_noise_max] (noise augmentation: at generation time the
context is the model's own imperfect output; 0 turns it off, for the drift comparison), the
next `chunk` latent frames are denoised. The checkpoint written is a normal generator
checkpoint plus a `continuation` entry; its path is the last word of the last line.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def log(msg: str) -> None:
    print(f"[continue {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def encode_videos(pipe, videos, frames: int) -> tuple[list[torch.Tensor], list[str]]:
    """Each video rendered at the generator's size and encoded: scaled latents (C, T, h, w)."""
    from videoforge.continuation.data import render
    from videoforge.continuation.sample import encode_frames

    size = pipe.video["height"]
    lats, caps = [], []
    for v in videos:
        z, _ = encode_frames(pipe, render(v, frames, size))
        lats.append(z[0].cpu())
        caps.append(v.caption)
    return lats, caps


def window(z: torch.Tensor, start: int, width: int) -> torch.Tensor:
    """Latent frames [start, start + width) of z (C, T, h, w); a negative start repeats frame 0."""
    if start >= 0:
        return z[:, start:start + width]
    return torch.cat([z[:, :1].expand(-1, -start, -1, -1), z[:, :width + start]], 1)


def train_continuation(base: str, out: str, steps: int = 600, videos: int = 96, video_frames: int = 65,
                       context: int = 2, chunk: int = 3, context_noise_max: float = 0.3, infer_noise: float | None = None,
                       batch: int = 8, lr: float = 2e-4, seed: int = 0, progress: bool = True,
                       concat: int = 0, context_timestep: bool = False, name: str | None = None,
                       radius: float | None = None, minutes: float | None = None) -> str:
    """concat: 1 adds the last context frame channel-wise to every denoised frame, 2 also an anchor
    (a frame of the window's past, standing for the original context at generation time);
    context_timestep: the context's tokens get their noise level as AdaLN timestep; radius: the
    shapes' radius (fraction of the side; default data.CONTINUE_RADIUS, the demo generator's);
    minutes: a wall-clock budget on a busy machine: training stops at `steps` or when it is spent,
    whichever comes first, the learning-rate schedule following the larger of the two fractions
    done (so a stopped run still ends its cosine decay); the steps done are recorded."""
    from videoforge.continuation.data import CONTINUE_RADIUS, sample_videos
    from videoforge.models.flow import sample_t
    from videoforge.models.pipeline import Pipeline
    from videoforge.models.safeload import load_tensors
    from videoforge.models.stdit import STDiT, STDiTConfig

    torch.manual_seed(seed)
    ck = load_tensors(base, "checkpoint")
    pipe = Pipeline(ck)
    scfg = STDiTConfig(**{**pipe.gen.stdit.cfg.to_dict(), "context_frames": int(context), "context_concat": int(concat),
                          "context_timestep": bool(context_timestep)})
    if int(pipe.gen.stdit.patch[0]) != 1 and (context % pipe.gen.stdit.patch[0] or chunk % pipe.gen.stdit.patch[0]):
        raise ValueError(f"context {context} and chunk {chunk} must be multiples of the temporal patch {pipe.gen.stdit.patch[0]}")
    model = STDiT(scfg)
    missing, unexpected = model.load_state_dict(pipe.gen.stdit.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("ctx_") for k in missing), (missing, unexpected)
    model.train()
    log(f"rendering and encoding {videos} bouncing videos of {video_frames} frames")
    radius = CONTINUE_RADIUS if radius is None else float(radius)
    lats, caps = encode_videos(pipe, sample_videos(videos, seed=seed + 1, radius=radius), video_frames)
    with torch.no_grad():
        ys = [pipe.gen.encode_text([c]) for c in caps]
    W = context + chunk
    T = lats[0].shape[1]
    # 8 context frames encode to 2 latent frames; a longer context is filled at generation by
    # repeating the first one (sample.extend_latent), so windows starting up to `pad_max` frames
    # before the video's start, padded the same way, are trained too (none for a 2-frame context).
    pad_max = max(int(context) - 2, 0)
    if T < W:
        raise ValueError(f"videos of {video_frames} frames give {T} latent frames, fewer than context + chunk = {W}")
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    rng = np.random.default_rng(seed)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=steps, desc="continuation", unit="step")
    losses = []
    t_start = time.time()
    done = 0
    for step in range(steps):
        frac = step / max(steps, 1)
        if minutes and step:   # at least one step, so a checkpoint always holds a trained EMA
            frac = max(frac, (time.time() - t_start) / (60 * minutes))
            if frac >= 1:
                log(f"time budget of {minutes:g} min spent after {step} steps")
                break
        idx = rng.integers(0, len(lats), batch)
        starts = rng.integers(-pad_max, T - W + 1, batch)
        win = torch.stack([window(lats[i], s, W) for i, s in zip(idx, starts)])
        ctx, x0 = win[:, :, :context], win[:, :, context:]
        anchor = None
        if concat >= 2:   # a true frame from the video's past (index >= 1: a mid-video latent, as in a context)
            ai = [int(rng.integers(min(1, s + context - 1), s + context)) for s in starts]
            anchor = torch.stack([lats[i][:, a:a + 1] for i, a in zip(idx, ai)])
        lvl = torch.rand(batch) * context_noise_max
        ctx = (1 - lvl.view(-1, 1, 1, 1, 1)) * ctx + lvl.view(-1, 1, 1, 1, 1) * torch.randn_like(ctx)
        L = max(ys[i][0].shape[1] for i in idx)
        y = torch.cat([F.pad(ys[i][0], (0, 0, 0, L - ys[i][0].shape[1])) for i in idx])
        mask = torch.cat([F.pad(ys[i][1], (0, L - ys[i][1].shape[1])) for i in idx])
        t = sample_t(batch, "cpu")
        noise = torch.randn_like(x0)
        xt = (1 - t.view(-1, 1, 1, 1, 1)) * x0 + t.view(-1, 1, 1, 1, 1) * noise
        v = model(xt, t, y, mask, None, context=ctx, context_level=lvl, anchor=anchor)
        loss = F.mse_loss(v, noise - x0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for g in opt.param_groups:   # short warm-up, then cosine
            g["lr"] = lr * min(1.0, (step + 1) / 20) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 0.02 if step > 20 else 1.0)
        losses.append(loss.item())
        done = step + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    if bar is not None:
        bar.close()
    ck = dict(ck)
    ck["stdit"] = {"config": scfg.to_dict(), "state": ema.state_dict()}
    ck["continuation"] = {"context_frames": int(context), "chunk_frames": int(chunk),
                          "context_noise": float(infer_noise if infer_noise is not None else min(0.1, context_noise_max)),
                          "context_noise_max": float(context_noise_max), "steps": int(done), "steps_planned": int(steps), "videos": int(videos),
                          "video_frames": int(video_frames), "base": os.path.abspath(base), "radius": radius,
                          "loss_first_last": [float(np.mean(losses[:20])), float(np.mean(losses[-20:]))]}
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name or f"continue-noise{context_noise_max:g}.pt")
    torch.save(ck, path + ".part")
    os.replace(path + ".part", path)
    log(f"loss {np.mean(losses[:20]):.4f} -> {np.mean(losses[-20:]):.4f}")
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m videoforge.continuation.train", description=__doc__.split("\n\n")[0])
    p.add_argument("base", help="generator checkpoint to start from")
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--videos", type=int, default=96, help="training videos (bouncing shapes)")
    p.add_argument("--video-frames", type=int, default=65)
    p.add_argument("--context", type=int, default=2, help="context latent frames")
    p.add_argument("--chunk", type=int, default=3, help="latent frames generated per chunk")
    p.add_argument("--context-noise-max", type=float, default=0.3, help="0: no context-noise augmentation")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--concat", type=int, default=0, choices=(0, 1, 2),
                   help="1: every denoised frame also sees the last context frame at its own position (channel "
                        "concatenation); 2: and an anchor frame of the original context for the whole rollout")
    p.add_argument("--context-timestep", action="store_true",
                   help="context tokens modulated by their own noise level as timestep (diffusion forcing)")
    p.add_argument("--radius", type=float, default=None,
                   help="shape radius of the training videos, fraction of the side (default 0.25, the demo "
                        "generator's; 1/7 before session 8)")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget: stop at --steps or after this many minutes, whichever first (the "
                        "schedule follows the larger fraction done; the steps done are recorded)")
    p.add_argument("--name", default=None, help="checkpoint file name (default continue-noiseS.pt)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: this model is small, and on a shared machine more threads "
                        "waiting on each other made a step 25x slower)")
    a = p.parse_args(argv)
    torch.set_num_threads(max(1, a.threads))
    path = train_continuation(a.base, a.out, a.steps, a.videos, a.video_frames, a.context, a.chunk,
                              a.context_noise_max, batch=a.batch, lr=a.lr, seed=a.seed, concat=a.concat,
                              context_timestep=a.context_timestep, name=a.name, radius=a.radius, minutes=a.minutes)
    print(f"continuation checkpoint: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
