"""The distilled student: STDiT with the guidance scales as an input, sampled with 1 evaluation per step.

The teacher's guided velocity needs three passes per step (no condition, text, text + metrics,
`models/flow.py`). The student gets the two guidance scales (s_text, s_metric) as a conditioning
input, embedded like the timestep (a ScalarEmbedder each, added to AdaLN's c), and is trained to
produce in one pass what the guided teacher does over a whole step interval. The embedders'
output layers start at zero, so an untrained student is exactly the teacher's conditional model.

A student checkpoint is an ordinary generator checkpoint (`models/pipeline.py`) with the student's
weights under `stdit` and a `distill` entry {method, steps, teacher_sha256, cfg_text, cfg_metric,
guidance_max}; `Pipeline` builds `GuidedSTDiT` when that entry is there.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from videoforge.models.stdit import STDiT, STDiTConfig, ScalarEmbedder

# guidance scales are divided by this before the sinusoidal embedding (which expects ~[0, 1])
GUIDANCE_MAX = 10.0


class GuidedTimeEmbedder(ScalarEmbedder):
    """The timestep embedder plus the guidance scales' embeddings: STDiT adds t_embedder(t) to
    AdaLN's c, so adding the guidance embedding here puts it into c without copying STDiT.forward.
    Its own weights keep the teacher's key names (t_embedder.mlp.*)."""

    def __init__(self, hidden: int, guidance_max: float):
        super().__init__(hidden)
        self.guidance_max = float(guidance_max)
        self.g_text = ScalarEmbedder(hidden)
        self.g_metric = ScalarEmbedder(hidden)
        for e in (self.g_text, self.g_metric):      # zero output: starts as the teacher's conditional model
            nn.init.zeros_(e.mlp[-1].weight)
            nn.init.zeros_(e.mlp[-1].bias)
        self.guidance = None                        # (B, 2), set by GuidedSTDiT.forward for one call

    def forward(self, v):
        out = super().forward(v)
        if self.guidance is None:
            return out
        g = self.guidance.to(out.device, torch.float32) / self.guidance_max
        return out + self.g_text(g[:, 0]).to(out.dtype) + self.g_metric(g[:, 1]).to(out.dtype)


class GuidedSTDiT(STDiT):
    """STDiT + an embedding of (cfg_text, cfg_metric) added to the AdaLN conditioning."""

    def __init__(self, cfg: STDiTConfig, guidance_max: float = GUIDANCE_MAX):
        super().__init__(cfg)
        self.t_embedder = GuidedTimeEmbedder(cfg.hidden_size, guidance_max)

    def load_teacher(self, state: dict) -> "GuidedSTDiT":
        """The teacher's STDiT weights; the guidance embedders keep their zero start."""
        missing, unexpected = self.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("t_embedder.g_") for k in missing):
            raise ValueError(f"teacher weights do not fit the student: missing {missing}, unexpected {unexpected}")
        return self

    def forward(self, x, t, y, y_mask, metrics=None, drop_text=None, drop_metrics=None, context=None,
                context_level=None, guidance=None):
        """guidance (B, 2): (cfg_text, cfg_metric) per sample; None = the teacher's conditional pass."""
        self.t_embedder.guidance = guidance
        try:
            return super().forward(x, t, y, y_mask, metrics, drop_text, drop_metrics, context, context_level)
        finally:
            self.t_embedder.guidance = None


def build_student(cfg: STDiTConfig, guidance_max: float = GUIDANCE_MAX) -> GuidedSTDiT:
    return GuidedSTDiT(cfg, guidance_max)


def student_time_grid(steps: int, device=None) -> torch.Tensor:
    """The student's times 1 -> 0 (uniform; the teacher's sampler uses shift 1 too)."""
    return torch.linspace(1, 0, steps + 1, device=device)


@torch.no_grad()
def student_sample(model: GuidedSTDiT, shape, y, y_mask, metrics=None, steps: int = 4, cfg_text: float = 4.0,
                   cfg_metric: float = 2.0, generator: torch.Generator | None = None, noise=None):
    """Latents of `shape` from noise in `steps` Euler steps, ONE network evaluation per step:
    the guidance scales go in as an input instead of as extra passes."""
    device = y.device
    B = shape[0]
    x = torch.randn(shape, generator=generator, device="cpu").to(device) if noise is None else noise.to(device)
    if metrics is None:
        metrics = torch.full((B, 0), float("nan"), device=device)
    g = torch.tensor([[float(cfg_text), float(cfg_metric)]], device=device).expand(B, 2)
    ts = student_time_grid(steps, device)
    for i in range(steps):
        t, t_next = ts[i], ts[i + 1]
        v = model(x, t.expand(B), y, y_mask, metrics, guidance=g)
        x = x + (t_next - t) * v
    return x
