"""Chunk-by-chunk continuation of a video (or of saved latents) with a context-conditioned STDiT.

Each chunk denoises `chunk` new latent frames from noise with the last `context` latent frames
as the model's context input, noised to a small level first (the model was trained with context
noise augmentation, so its own earlier outputs look like what it saw in training: the
diffusion-forcing remedy for drift). Any number of new frames: chunks are added until the
latent covers them; the causal autoencoder then decodes context and continuation in one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

LATENT_FORMAT = "videoforge-latent/1"


class ContinuationError(ValueError):
    """Bad input for a continuation (the message names the file or flag and why)."""


@dataclass
class Continued:
    frames: np.ndarray        # (F, H, W, 3) uint8: the context's frames then the new ones
    new_from: int             # index of the first new frame in `frames`
    latent: torch.Tensor      # (1, C, T, h, w) scaled latent of all of it (what --save-latent writes)


def continuation_spec(pipe) -> dict:
    """The checkpoint's continuation settings: context/chunk latent frames, context noise level."""
    ctx = int(getattr(pipe.gen.stdit.cfg, "context_frames", 0) or 0)
    if not ctx:
        raise ContinuationError("this checkpoint has no context-frame conditioning (train one with "
                                "`make demo-continue` / python -m videoforge.continuation.train)")
    spec = dict(getattr(pipe, "continuation", None) or {})
    return {"context_frames": ctx, "chunk_frames": int(spec.get("chunk_frames", 3)),
            "context_noise": float(spec.get("context_noise", 0.1))}


def parse_schedule(text: str | None, default: str) -> list[tuple[int, str]]:
    """'0:a red circle moves left;32:a red circle moves up' -> [(0, ...), (32, ...)]: from new
    frame 32 on the second prompt. Starts at frame 0 with `default` unless the schedule says."""
    out = [(0, default)]
    if not text:
        return out
    for part in text.split(";"):
        if not part.strip():
            continue
        start, sep, prompt = part.partition(":")
        try:
            k = int(start)
        except ValueError:
            raise ContinuationError(f"--prompt-schedule {part!r}: expected FRAME:PROMPT (e.g. 32:a red circle moves up)") from None
        if not sep or not prompt.strip() or k < 0:
            raise ContinuationError(f"--prompt-schedule {part!r}: expected FRAME:PROMPT with FRAME >= 0")
        out.append((k, prompt.strip()))
    out.sort(key=lambda p: p[0])
    return [p for i, p in enumerate(out) if i + 1 == len(out) or out[i + 1][0] != p[0]]


def prompt_at(schedule: list[tuple[int, str]], frame: int) -> str:
    return [p for k, p in schedule if k <= frame][-1]


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1


def encode_frames(pipe, frames: np.ndarray) -> tuple[torch.Tensor, int]:
    """RGB frames (F, H, W, 3) at the model's size -> (scaled latent (1, C, T, h, w), frames used):
    the causal AE takes 1 + k*ft frames, so the first few frames beyond that are left out."""
    ft = pipe.ae.cfg.temporal_factor
    use = 1 + (len(frames) - 1) // ft * ft
    with torch.no_grad():
        z = pipe.ae.encode(_to_tensor(frames[len(frames) - use:]).to(pipe.device))
    return z * pipe.latent_scale, use


def read_context(pipe, path: str) -> tuple[np.ndarray | None, torch.Tensor]:
    """A video (resized to the model's size) or a saved latent (.npy from --save-latent)."""
    import os

    if not os.path.exists(path):
        raise ContinuationError(f"{path}: no such video or latent file")
    if path.endswith(".npy"):
        try:
            z = np.load(path, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - numpy names the problem its own way
            raise ContinuationError(f"{path}: not a readable latent file ({e})") from None
        z = torch.from_numpy(np.asarray(z, dtype=np.float32))
        z = z[None] if z.dim() == 4 else z
        C = pipe.ae.cfg.latent_channels
        H, W = pipe.video["height"], pipe.video["width"]
        want = (C, H // pipe.ae.cfg.spatial_factor, W // pipe.ae.cfg.spatial_factor)
        if z.dim() != 5 or z.shape[0] != 1 or (z.shape[1], z.shape[3], z.shape[4]) != want:
            raise ContinuationError(f"{path}: latent of shape {tuple(z.shape)}, this checkpoint's are (1, {want[0]}, T, "
                                    f"{want[1]}, {want[2]})")
        return None, z.to(pipe.device)
    import cv2

    from videoforge.io.decode import decode_frames
    from videoforge.io.errors import VideoError

    H, W = pipe.video["height"], pipe.video["width"]
    try:
        frames = [cv2.resize(np.ascontiguousarray(f.bgr()[:, :, ::-1]), (W, H), interpolation=cv2.INTER_AREA)
                  for f in decode_frames(path, width=16, prefetch=0)]
    except VideoError as e:
        raise ContinuationError(str(e)) from None
    if not frames:
        raise ContinuationError(f"{path}: no frames to continue from")
    frames = np.stack(frames)
    z, used = encode_frames(pipe, frames)
    return frames, z


@torch.no_grad()
def extend_latent(pipe, z: torch.Tensor, new_latent: int, schedule: list[tuple[int, str]], metrics: dict | None = None,
                  seed: int = 0, steps: int = 25, cfg_text: float = 4.0, cfg_metric: float = 2.0,
                  context_noise: float | None = None, progress: bool = False) -> torch.Tensor:
    """Append `new_latent` latent frames to z (1, C, T, h, w) chunk by chunk."""
    from videoforge.models.flow import euler_sample

    spec = continuation_spec(pipe)
    Tc, Tn = spec["context_frames"], spec["chunk_frames"]
    lvl = spec["context_noise"] if context_noise is None else float(context_noise)
    pad = max(Tc - z.shape[2], 0)   # too short a context: repeat its first latent frame (a still start)
    if pad:
        z = torch.cat([z[:, :, :1].expand(-1, -1, pad, -1, -1), z], 2)
    start = z.shape[2]
    # the anchor (context_concat = 2): the original context's last frame, kept for every chunk
    anchor = z[:, :, start - 1:start] if int(getattr(pipe.gen.stdit.cfg, "context_concat", 0) or 0) >= 2 else None
    ft = pipe.ae.cfg.temporal_factor
    m = pipe.scaler.normalize([metrics or {}]).to(pipe.device)
    g = torch.Generator().manual_seed(int(seed))
    chunks = math.ceil(new_latent / Tn)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=chunks, desc="continue", unit="chunk")
    for i in range(chunks):
        first_new_frame = (z.shape[2] - start) * ft   # frames after the context this chunk starts at
        y, mask = pipe.gen.encode_text([prompt_at(schedule, first_new_frame)])
        ctx = z[:, :, -Tc:]
        ctx = (1 - lvl) * ctx + lvl * torch.randn(ctx.shape, generator=g).to(ctx.device)
        level = torch.full((3,), lvl, device=z.device)   # the sampler batches three guidance passes

        def model(x3, t, y3, m3, met3, drop_text=None, drop_metrics=None):
            return pipe.gen.stdit(x3, t, y3, m3, met3, drop_text=drop_text, drop_metrics=drop_metrics,
                                  context=ctx.expand(x3.shape[0], -1, -1, -1, -1), context_level=level[: x3.shape[0]],
                                  anchor=None if anchor is None else anchor.expand(x3.shape[0], -1, -1, -1, -1))

        shape = (1, z.shape[1], Tn, z.shape[3], z.shape[4])
        new = euler_sample(model, shape, y, mask, m, steps=steps, cfg_text=cfg_text, cfg_metric=cfg_metric, generator=g)
        z = torch.cat([z, new], 2)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return z[:, :, pad: start + new_latent]


@torch.no_grad()
def continue_video(pipe, source: str, frames: int, prompt: str, schedule_text: str | None = None, **kw) -> Continued:
    """The context (video or latent) then `frames` new frames."""
    if frames < 1:
        raise ContinuationError("--frames must be >= 1 (the number of new frames after the context)")
    ctx_frames, z = read_context(pipe, source)
    schedule = parse_schedule(schedule_text, prompt)
    ft = pipe.ae.cfg.temporal_factor
    new_latent = math.ceil(frames / ft)
    T0 = z.shape[2]
    zz = extend_latent(pipe, z, new_latent, schedule, **kw)
    video = pipe.ae.decode(zz / pipe.latent_scale)                     # (1, 3, 1 + ft*(T-1), H, W)
    rgb = ((video.clamp(-1, 1) + 1) * 127.5).round().byte()[0].permute(1, 2, 3, 0).cpu().numpy()
    first_new = 1 + ft * (T0 - 1)
    new = rgb[first_new: first_new + frames]
    ctx = ctx_frames if ctx_frames is not None else rgb[:first_new]
    return Continued(np.concatenate([ctx, new]), len(ctx), zz)
