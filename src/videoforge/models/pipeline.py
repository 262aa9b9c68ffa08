"""Text (+ metrics) -> video: the trained pieces bundled as one self-contained checkpoint file.

A generator checkpoint is a dict saved with torch.save:
    format        "videoforge-generator/1"
    autoencoder   {config, state, latent_scale}
    stdit         {config, state}          (EMA weights)
    text_encoder  {spec, state}            (state only when the encoder was trained)
    metrics       {names, lo, hi}          (normalisation: (v - lo) / (hi - lo))
    video         {height, width, fps}
    continuation  {context_frames, chunk_frames, context_noise}   (optional: continuation models)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder, valid_frames
from videoforge.models.flow import euler_sample
from videoforge.models.stdit import STDiT, STDiTConfig
from videoforge.models.text import build_text_encoder

FORMAT = "videoforge-generator/1"


@dataclass
class MetricScaler:
    """Maps raw metric values to ~[0, 1] with per-metric (lo, hi) from the training data (1st/99th pct)."""

    names: list[str]
    lo: list[float]
    hi: list[float]

    @classmethod
    def fit(cls, names, rows: list[dict]) -> "MetricScaler":
        lo, hi = [], []
        for n in names:
            v = np.array([float(r[n]) for r in rows if r.get(n) not in (None, "") and np.isfinite(float(r[n]))])
            a, b = (np.percentile(v, 1), np.percentile(v, 99)) if len(v) else (0.0, 1.0)
            lo.append(float(a))
            hi.append(float(b if b > a else a + 1.0))
        return cls(list(names), lo, hi)

    def normalize(self, rows: list[dict]) -> torch.Tensor:
        """(B, M) float tensor; missing values are NaN (the model then uses the metric's null)."""
        out = torch.full((len(rows), len(self.names)), float("nan"))
        for i, r in enumerate(rows):
            for j, n in enumerate(self.names):
                v = r.get(n)
                if v not in (None, "") and np.isfinite(float(v)):
                    out[i, j] = (float(v) - self.lo[j]) / (self.hi[j] - self.lo[j])
        return out

    def to_dict(self):
        return {"names": self.names, "lo": self.lo, "hi": self.hi}


def _tuple_fields(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def autoencoder_from(d: dict) -> CausalVideoAutoencoder:
    ae = CausalVideoAutoencoder(AutoencoderConfig(**_tuple_fields(d["config"])))
    ae.load_state_dict(d["state"])
    return ae.eval()


class VideoGenerator(nn.Module):
    """What the diffusion stage trains: STDiT + its text encoder (trained only if trainable)."""

    def __init__(self, stdit_cfg: STDiTConfig, text_spec: dict):
        super().__init__()
        self.text_encoder = build_text_encoder(text_spec)
        if not self.text_encoder.trainable:
            self.text_encoder.requires_grad_(False)
        self.stdit = STDiT(stdit_cfg)

    def encode_text(self, prompts):
        if self.text_encoder.trainable:
            return self.text_encoder.encode(prompts)
        with torch.no_grad():
            return self.text_encoder.encode(prompts)

    def forward(self, x, t, prompts, metrics=None):
        y, mask = self.encode_text(prompts)
        return self.stdit(x, t, y, mask, metrics)


class Pipeline:
    """Load with `Pipeline.load(path)`; `generate(prompt, ...)` returns uint8 RGB frames (T, H, W, 3)."""

    def __init__(self, ckpt: dict, device: str = "cpu"):
        if ckpt.get("format") != FORMAT:
            raise ValueError(f"not a videoforge generator checkpoint (format={ckpt.get('format')!r})")
        self.device = device
        self.ae = autoencoder_from(ckpt["autoencoder"]).to(device)
        # inference-only speed-ups, same outputs within float rounding (issue 21 part 3): the
        # decoder's convolutions through oneDNN on CPU, the student's per-clip constants computed
        # once (distill/fast.py). False: the plain paths (for comparisons).
        self.fast = True
        self.ae.fast_cpu_decode()
        self.latent_scale = float(ckpt["autoencoder"]["latent_scale"])
        scfg = STDiTConfig(**_tuple_fields(ckpt["stdit"]["config"]))
        self.gen = VideoGenerator(scfg, ckpt["text_encoder"]["spec"])
        # a distilled student (issue 21, `videoforge distill`): the same checkpoint plus a `distill`
        # entry; its STDiT takes the guidance scales as an input, one evaluation per step
        self.distill = dict(ckpt.get("distill") or {})
        if self.distill:
            from videoforge.distill.student import GuidedSTDiT

            self.gen.stdit = GuidedSTDiT(scfg, float(self.distill.get("guidance_max", 10.0)))
        self.gen.stdit.load_state_dict(ckpt["stdit"]["state"])
        if ckpt["text_encoder"].get("state") is not None:
            self.gen.text_encoder.load_state_dict(ckpt["text_encoder"]["state"])
        self.gen.eval().to(device)
        self.scaler = MetricScaler(**ckpt["metrics"])
        self.video = ckpt["video"]
        # continuation settings (issue 23: chunk length, context noise) when trained for it
        self.continuation = dict(ckpt.get("continuation") or {})

    @classmethod
    def load(cls, path: str, device: str = "cpu") -> "Pipeline":
        from videoforge.models.safeload import load_tensors

        return cls(load_tensors(path, "checkpoint"), device)   # data, not code: nothing executed

    @torch.no_grad()
    def generate(self, prompt: str | list[str], metrics: dict | None = None, frames: int = 16, seed: int = 0,
                 steps: int | None = None, cfg_text: float = 4.0, cfg_metric: float = 2.0,
                 height: int | None = None, width: int | None = None,
                 contrast_prompts: list | None = None, cfg_contrast: float = 0.0,
                 compose_prompts: list | None = None, compose_weights: list[float] | None = None) -> np.ndarray:
        """Frames (T, H, W, 3) uint8 for one prompt, or (B, T, H, W, 3) for a list.

        Contrast guidance (flow.euler_sample; off by default): `contrast_prompts` are the prompt
        with the word to follow swapped for its alternatives, e.g. for "a red circle moves left"
        ["a red square moves left", "a red triangle moves left"]; for a list of prompts, one such
        list per prompt (the same count each). `cfg_contrast` is its scale.

        Composable sampling (flow.euler_sample; off by default): `compose_prompts` are partial prompts
        for one prompt, e.g. ["red", "circle", "left"] (one such list per prompt for a list of
        prompts, the same count each), `compose_weights` one scale per position in those lists.

        The AE decodes 1 + k*ft frames, so the next supported length >= `frames` is generated
        and trimmed. `metrics` maps metric names to raw values (as in the export's columns).
        steps None: 25, or a distilled student's own step count.
        """
        if steps is None:
            steps = int(self.distill.get("steps", 25)) if self.distill else 25
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        B = len(prompts)
        ae_cfg = self.ae.cfg
        T = valid_frames(max(int(frames), 1), ae_cfg.temporal_factor)
        H, W = height or self.video["height"], width or self.video["width"]
        Tl = 1 + (T - 1) // ae_cfg.temporal_factor
        pt = int(self.gen.stdit.patch[0])
        Tl = -(-Tl // pt) * pt          # a temporal patch of pt latent frames: round up, then trim
        shape = (B, ae_cfg.latent_channels, Tl, H // ae_cfg.spatial_factor, W // ae_cfg.spatial_factor)
        y, mask = self.gen.encode_text(prompts)
        m = self.scaler.normalize([metrics or {}] * B).to(self.device)
        g = torch.Generator().manual_seed(int(seed))
        if self.distill and contrast_prompts and cfg_contrast:
            raise ValueError("contrast guidance needs the full sampler; a distilled student has its guidance folded in")
        compose = None
        if compose_prompts and not compose_weights:
            raise ValueError("compose_prompts needs compose_weights (one per part; 0 turns a part off)")
        if compose_prompts and compose_weights and any(compose_weights):
            if self.distill:
                raise ValueError("composable sampling needs the full sampler; a distilled student has its guidance folded in")
            per_prompt = [compose_prompts] if isinstance(prompt, str) else list(compose_prompts)
            K = {len(c) for c in per_prompt}
            if (len(per_prompt) != B or K != {len(compose_weights)}
                    or not all(isinstance(c, (list, tuple)) and all(isinstance(w, str) for w in c) for c in per_prompt)):
                raise ValueError("compose_prompts: one list per prompt, each as long as compose_weights")
            compose = [self.gen.encode_text([c[k] for c in per_prompt]) for k in range(len(compose_weights))]
        if self.distill:   # guidance folded in: one network evaluation per step
            from videoforge.distill.fast import fast_student_sample, fast_supported
            from videoforge.distill.student import student_sample

            sample = fast_student_sample if self.fast and fast_supported(self.gen.stdit) else student_sample
            z = sample(self.gen.stdit, shape, y, mask, m, steps=steps, cfg_text=cfg_text,
                       cfg_metric=cfg_metric, generator=g)
        else:
            contrast = None
            if contrast_prompts and cfg_contrast:
                per_prompt = [contrast_prompts] if isinstance(prompt, str) else list(contrast_prompts)
                K = {len(c) for c in per_prompt}
                if (len(per_prompt) != B or len(K) != 1 or 0 in K
                        or not all(isinstance(c, (list, tuple)) and all(isinstance(w, str) for w in c) for c in per_prompt)):
                    raise ValueError("contrast_prompts: one non-empty list per prompt, the same length for each")
                contrast = [self.gen.encode_text([c[k] for c in per_prompt]) for k in range(K.pop())]
            z = euler_sample(self.gen.stdit, shape, y, mask, m, steps=steps, cfg_text=cfg_text,
                             cfg_metric=cfg_metric, generator=g, contrast=contrast, cfg_contrast=cfg_contrast,
                             compose=compose, compose_weights=list(compose_weights) if compose else None)
        self.ae.fast_cpu_decode(self.fast)
        video = self.ae.decode(z / self.latent_scale)[:, :, :frames]      # (B, 3, frames, H, W)
        out = ((video.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).cpu().numpy()
        return out[0] if isinstance(prompt, str) else out
