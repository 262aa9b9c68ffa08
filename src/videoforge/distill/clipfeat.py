"""A Frechet distance for generated clips: the features of a small clip classifier trained on
real (rendered through a codec, not generated) demo clips.

The classifier is a 3-layer strided 3D CNN that reads a clip (T, H, W, 3) uint8 and predicts its
colour, shape, direction and speed; its pooled 32-d features are what the distance compares
(as FVD uses an action classifier's features). The distance between two sets of features is
the Frechet distance between Gaussians fitted to them:
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
"""

from __future__ import annotations

import os
import re

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from videoforge.synth import shapes

HEADS = {"colour": list(shapes.COLOURS), "shape": list(shapes.SHAPES), "direction": list(shapes.DIRECTIONS),
         "speed": ["slow", "fast"]}
FEATURES = 32


class ClipClassifier(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        # strided convolutions (no full-resolution layer): ~14 M multiply-adds per 16 x 32 x 32 clip
        self.body = nn.Sequential(
            nn.Conv3d(3, w, 3, stride=(1, 2, 2), padding=1), nn.ReLU(),
            nn.Conv3d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv3d(2 * w, FEATURES, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1))
        self.heads = nn.ModuleDict({k: nn.Linear(FEATURES, len(v)) for k, v in HEADS.items()})

    @staticmethod
    def prepare(clips) -> torch.Tensor:
        """uint8 (N, T, H, W, 3) -> float (N, 3, T, H, W) in [-1, 1]."""
        x = torch.as_tensor(np.asarray(clips)).float()
        return x.permute(0, 4, 1, 2, 3) / 127.5 - 1

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).flatten(1)

    def forward(self, x):
        f = self.features(x)
        return {k: h(f) for k, h in self.heads.items()}


_NAME = re.compile(r"(red|green|blue|yellow)_(circle|square|triangle)_(left|right|up|down)_(slow|fast)")


def labels_from_name(path: str) -> dict | None:
    """synth/shapes.py's file names carry the truth: 0001_red_circle_left_fast.mp4."""
    m = _NAME.search(os.path.basename(path))
    if not m:
        return None
    return dict(zip(("colour", "shape", "direction", "speed"), m.groups()))


def load_clips(paths, frames: int, size: int) -> np.ndarray:
    from videoforge.train.data import decode_rgb

    return np.stack([decode_rgb(p, frames + 1, size, size)[:frames] for p in paths])


def train_classifier(clips: np.ndarray, labels: list[dict], steps: int = 300, batch: int = 32, seed: int = 0,
                     lr: float = 2e-3) -> ClipClassifier:
    """Fit on real clips (N, T, H, W, 3) uint8 with their labels; returns the classifier in eval mode."""
    torch.manual_seed(seed)
    model = ClipClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    x = ClipClassifier.prepare(clips)
    y = {k: torch.tensor([v.index(lb[k]) for lb in labels]) for k, v in HEADS.items()}
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        i = torch.randint(len(x), (batch,), generator=g)
        out = model(x[i])
        loss = sum(F.cross_entropy(out[k], y[k][i]) for k in HEADS)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: ClipClassifier, clips: np.ndarray, labels: list[dict]) -> dict:
    out = model(ClipClassifier.prepare(clips))
    return {k: float(np.mean([v[int(j)] == lb[k] for j, lb in zip(out[k].argmax(1), labels)])) for k, v in HEADS.items()}


@torch.no_grad()
def clip_features(model: ClipClassifier, clips: np.ndarray, batch: int = 64) -> np.ndarray:
    x = ClipClassifier.prepare(clips)
    return torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)]).double().numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets a (N, D) and b (M, D)."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    # a feature that is 0 on every clip (a ReLU unit that never fires) makes both covariances
    # singular; a tiny ridge keeps the square root defined (as pytorch-fid does)
    eps = 1e-6 * np.eye(a.shape[1])
    s_a, s_b = np.cov(a, rowvar=False) + eps, np.cov(b, rowvar=False) + eps
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        covmean, _ = linalg.sqrtm(s_a @ s_b, disp=False)
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean))
