"""The optional network level of training suitability (after Koala-36M's TSA): a small
PyTorch model over a shot's frames and its metrics.

Branches: dynamic (a 3D CNN over frame differences: motion quality, flicker, freezes,
shake), static (a 2D CNN over the middle frame: sharpness, noise, exposure, overlays),
metric (an MLP over the normalised metric columns with a missing-value mask). They are
fused by a weighted cross-gating block: every branch's features are gated by a sigmoid of
all branches' features, and the gated branches are mixed by softmax weights computed from
all of them, so one branch can veto or lean on another. Output: suitability in [0, 1].

Input sizes are small on purpose (8 frames of 64x64): it runs on CPU and learns from the
few hundred labelled shots a project has. Frames come from `sample_shot_frames`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TSAConfig:
    n_metrics: int
    frames: int = 8
    size: int = 64
    width: int = 16        # channels of the CNN branches
    dim: int = 64          # feature size of every branch


class TSANet(nn.Module):
    def __init__(self, cfg: TSAConfig):
        super().__init__()
        self.cfg = cfg
        w, d = cfg.width, cfg.dim
        self.static = nn.Sequential(                                   # (B, 3, S, S)
            nn.Conv2d(3, w, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv2d(w, w, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.GELU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * w, d))
        self.dynamic = nn.Sequential(                                  # (B, 3, T-1, S, S) differences
            nn.Conv3d(3, w, (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2)), nn.GELU(),
            nn.Conv3d(w, 2 * w, 3, stride=(1, 2, 2), padding=1), nn.GELU(),
            nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(2 * w, d))
        # the temporal std of the differences (flicker, freezes) is summarised explicitly too
        self.dyn_stats = nn.Linear(2 * (cfg.frames - 1), d)
        self.metric = nn.Sequential(nn.Linear(2 * cfg.n_metrics, d), nn.GELU(), nn.Linear(d, d))
        self.gate = nn.Linear(3 * d, 3 * d)
        self.mix = nn.Linear(3 * d, 3)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 1))

    def forward(self, frames: torch.Tensor, metrics: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """frames (B, T, 3, S, S) in [0, 1]; metrics (B, M) normalised, 0 where missing; mask (B, M) 1 = present.
        Returns logits (B,)."""
        b, t = frames.shape[:2]
        s = self.static(frames[:, t // 2])
        diffs = frames[:, 1:] - frames[:, :-1]                         # (B, T-1, 3, S, S)
        d = self.dynamic(diffs.transpose(1, 2))
        mag = diffs.abs().mean(dim=(2, 3, 4))                           # (B, T-1)
        d = d + self.dyn_stats(torch.cat([mag, (mag - mag.mean(1, keepdim=True)).abs()], 1) * 10)
        m = self.metric(torch.cat([metrics * mask, mask], 1))
        h = torch.cat([s, d, m], 1)                                    # (B, 3d)
        g = torch.sigmoid(self.gate(h)).view(b, 3, -1)
        w = torch.softmax(self.mix(h), dim=1).unsqueeze(-1)            # (B, 3, 1)
        fused = (w * g * h.view(b, 3, -1)).sum(1)                      # (B, d)
        return self.head(fused).squeeze(-1)


def sample_shot_frames(video_path: str, shots: list[tuple[int, int]], n: int = 8, size: int = 64) -> list[np.ndarray]:
    """For each (start_frame, end_frame) of one video: (n, 3, size, size) float32 RGB in [0, 1],
    n frames spread evenly over the shot (one decode pass for the whole video)."""
    import cv2

    from videoforge.io.decode import decode_frames

    want: dict[int, list[tuple[int, int]]] = {}
    for k, (a, b) in enumerate(shots):
        for j, f in enumerate(np.linspace(a, b, n).round().astype(int)):
            want.setdefault(int(f), []).append((k, j))
    out = [np.zeros((n, 3, size, size), np.float32) for _ in shots]
    last = max(want) if want else -1
    for fr in decode_frames(video_path):
        if fr.index in want:
            img = cv2.resize(fr.small, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
            arr = img.transpose(2, 0, 1).astype(np.float32) / 255.0
            for k, j in want[fr.index]:
                out[k][j] = arr
        if fr.index >= last:
            break
    return out


class TSAModel:
    """The network plus the metric normalisation it was trained with."""

    def __init__(self, cfg: TSAConfig, features: list[str], mean: np.ndarray, std: np.ndarray, net: TSANet | None = None):
        self.cfg, self.features, self.mean, self.std = cfg, list(features), mean, std
        self.net = net or TSANet(cfg)

    def _metric_tensors(self, x: np.ndarray):
        mask = ~np.isnan(x)
        z = np.where(mask, (np.nan_to_num(x) - self.mean) / self.std, 0.0)
        z = np.clip(z, -10, 10)
        return torch.tensor(z, dtype=torch.float32), torch.tensor(mask, dtype=torch.float32)

    @torch.no_grad()
    def predict(self, frames: np.ndarray, x: np.ndarray, batch: int = 64) -> np.ndarray:
        """Suitability in [0, 1]: frames (N, T, 3, S, S), metrics x (N, M) with NaN for missing."""
        self.net.eval()
        out = []
        for i in range(0, len(x), batch):
            m, k = self._metric_tensors(x[i:i + batch])
            out.append(torch.sigmoid(self.net(torch.as_tensor(frames[i:i + batch]), m, k)).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def save(self, path: str) -> str:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        torch.save({"format": "videoforge-tsa/1", "cfg": asdict(self.cfg), "features": self.features,
                    "mean": self.mean.tolist(), "std": self.std.tolist(), "state": self.net.state_dict()}, path)
        return path

    @classmethod
    def load(cls, path: str) -> "TSAModel":
        d = torch.load(path, map_location="cpu", weights_only=True)
        if d.get("format") != "videoforge-tsa/1":
            raise ValueError(f"{path}: not a videoforge TSA model")
        m = cls(TSAConfig(**d["cfg"]), d["features"], np.array(d["mean"]), np.array(d["std"]))
        m.net.load_state_dict(d["state"])
        return m


def fit_tsa(frames: np.ndarray, x: np.ndarray, y: np.ndarray, features: list[str], epochs: int = 30,
            lr: float = 2e-3, batch: int = 32, seed: int = 0, log=None) -> TSAModel:
    """Fit on frames (N, T, 3, S, S), metrics x (N, M) and targets y in [0, 1] (binary
    cross-entropy, so graded targets give a ranking). Returns the model; `log(epoch, loss)`."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    import warnings

    with warnings.catch_warnings():   # an all-missing metric column (e.g. no audio) is expected
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    mean, std = np.nan_to_num(mean), np.where(np.nan_to_num(std) > 1e-9, np.nan_to_num(std), 1.0)
    cfg = TSAConfig(n_metrics=x.shape[1], frames=frames.shape[1], size=frames.shape[-1])
    model = TSAModel(cfg, features, mean, std)
    opt = torch.optim.AdamW(model.net.parameters(), lr=lr, weight_decay=1e-4)
    m_all, k_all = model._metric_tensors(x)
    f_all = torch.as_tensor(frames)
    y_all = torch.tensor(y, dtype=torch.float32)
    for ep in range(epochs):
        model.net.train()
        order = rng.permutation(len(y))
        total = 0.0
        for i in range(0, len(y), batch):
            idx = torch.as_tensor(order[i:i + batch])
            fb = f_all[idx]
            if rng.random() < 0.5:                      # horizontal flip: suitability does not depend on it
                fb = fb.flip(-1)
            loss = F.binary_cross_entropy_with_logits(model.net(fb, m_all[idx], k_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        if log:
            log(ep, total / len(y))
    return model


# --------------------------------------------------------------------- shipped weights, `score --model tsa`
SHIPPED_TSA = os.path.join(os.path.dirname(__file__), "models", "suitability_tsa.npz")
TSA_FORMAT_VERSION = 1


class TSANotShipped(FileNotFoundError):
    """No TSA weights are shipped with this build (the message says why and how to make some)."""


def save_npz(model: TSAModel, path: str) -> str:
    """The network as arrays (state dict tensors) + a JSON header, no pickle."""
    import io
    import json

    head = {"format": "videoforge-tsa", "format_version": TSA_FORMAT_VERSION, "cfg": asdict(model.cfg),
            "features": model.features}
    arrays = {f"w:{k}": v.detach().cpu().numpy() for k, v in model.net.state_dict().items()}
    arrays.update(mean=np.asarray(model.mean, np.float64), std=np.asarray(model.std, np.float64),
                  header=np.frombuffer(json.dumps(head).encode(), dtype=np.uint8))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


def load_npz(path: str) -> TSAModel:
    import json

    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        head = json.loads(bytes(d["header"]).decode())
    except Exception as e:  # noqa: BLE001 - any failure means "not a TSA weights file"
        raise ValueError(f"{path}: not a readable TSA model ({type(e).__name__}: {e})") from e
    if head.get("format") != "videoforge-tsa" or head.get("format_version") != TSA_FORMAT_VERSION:
        raise ValueError(f"{path}: not a TSA model of format version {TSA_FORMAT_VERSION} "
                         f"(found {head.get('format')!r} version {head.get('format_version')!r})")
    m = TSAModel(TSAConfig(**head["cfg"]), head["features"], d["mean"], d["std"])
    m.net.load_state_dict({k[2:]: torch.as_tensor(v) for k, v in d.items() if k.startswith("w:")})
    return m


def load_shipped_tsa() -> TSAModel:
    if not os.path.exists(SHIPPED_TSA):
        raise TSANotShipped(
            "the TSA network is not shipped with this videoforge: on the frozen suitability test set it did not beat "
            "the default gradient-boosted model (figures: docs/benchmarks/curate.md, section 6), so "
            "`videoforge score` without --model uses that one; train and judge one with "
            "`benchmarks/curate_frozen_set.py tsa --ship` (it ships the weights only if the network wins)")
    return load_npz(SHIPPED_TSA)


def score_catalog_tsa(catalog, model: TSAModel, where: str | None = None) -> dict:
    """`videoforge score --model tsa`: sample each shot's frames, run the network, write shots.suitability."""
    from videoforge.curate.features import load_features
    from videoforge.curate.store import ensure_schema, write_shot_columns

    ensure_schema(catalog)
    ids, x, info = load_features(catalog, model.features, where=where)
    frames = np.zeros((len(ids), model.cfg.frames, 3, model.cfg.size, model.cfg.size), np.float32)
    by_video: dict[str, list[int]] = {}
    for i, r in enumerate(info):
        by_video.setdefault(r["path"], []).append(i)
    for path, rows in by_video.items():
        p = path if os.path.isabs(path) or not catalog.root else os.path.join(catalog.root, path)
        if not os.path.exists(p):
            continue   # a moved file: the network sees blank frames and the metrics
        got = sample_shot_frames(p, [(info[i]["start_frame"], info[i]["end_frame"]) for i in rows],
                                 n=model.cfg.frames, size=model.cfg.size)
        for i, f in zip(rows, got):
            frames[i] = f
    s = model.predict(frames, x) if len(ids) else np.zeros(0)
    write_shot_columns(catalog, ids, {"suitability": [float(v) for v in s]})
    q = np.quantile(s, [0.1, 0.5, 0.9]).tolist() if len(s) else [None] * 3
    missing = [f for f, frac in zip(model.features, np.isnan(x).mean(0) if len(x) else []) if frac == 1.0]
    return {"shots": len(ids), "mean": float(s.mean()) if len(s) else None, "p10": q[0], "median": q[1], "p90": q[2],
            "missing_features": missing, "model": "tsa"}
