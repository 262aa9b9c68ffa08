"""A cheap measured estimate of how degraded a low-resolution video is, to pick the SR model.

Two x4 networks ship (session 8): one trained on clean PIL-bicubic downscales ("clean"), one
on the blind second-order degradations ("blind"). They pull in opposite directions: the blind
one smooths noise and compression away and is blurrier on clean input; the clean one sharpens
noise and blocks. The plain `videoforge enhance` looks at a few input frames and picks one.

Features (luma, 0..255, averaged over up to `max_frames` frames spread over the first ones):
  noise        Immerkaer's noise estimate (Laplacian-difference kernel, mean absolute response)
  noise_floor  the 10th percentile of that response over 8x8 blocks (texture-robust: flat
               blocks of a clean frame are nearly silent, of a noisy one are not)
  chroma_noise the same estimate on the two chroma planes (colour noise, chroma blocking)
  fine_coarse  mean |Laplacian| at full size over mean |Laplacian| after an x1/2 area resize
               (a blurred input has little energy at the finest scale)
  edge_keep    99th percentile of the gradient magnitude after a Gaussian blur (sigma 1) over
               before (near 1: edges are already soft)
The classifier is a logistic regression on the logs of these, fitted on clips from the
training sources only (`fit_select.py`); its coefficients ship in weights/sr_select.json.
"""

from __future__ import annotations

import json
import math
import os

import cv2
import numpy as np

FEATURES = ["noise", "noise_floor", "chroma_noise", "fine_coarse", "edge_keep"]
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
SELECT_PATH = os.path.join(os.path.dirname(__file__), "weights", "sr_select.json")


def _immerkaer_map(plane: np.ndarray) -> np.ndarray:
    r = np.abs(cv2.filter2D(plane, cv2.CV_32F, _IMMERKAER, borderType=cv2.BORDER_REFLECT))
    return r[1:-1, 1:-1] * (math.sqrt(math.pi / 2) / 6)


def frame_features(rgb: np.ndarray) -> np.ndarray:
    """(h,w,3) uint8 RGB -> the FEATURES vector (float64, not yet logged)."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    y = ycc[..., 0]
    m = _immerkaer_map(y)
    noise = float(m.mean())
    h, w = m.shape
    bh, bw = max(1, h // 8), max(1, w // 8)
    blocks = m[:bh * 8, :bw * 8].reshape(bh, 8, bw, 8).mean((1, 3)) if h >= 8 and w >= 8 else m
    floor = float(np.percentile(blocks, 10))
    chroma = float(np.mean([_immerkaer_map(ycc[..., c]).mean() for c in (1, 2)]))
    lap = np.abs(cv2.Laplacian(y, cv2.CV_32F)).mean()
    half = cv2.resize(y, (max(1, y.shape[1] // 2), max(1, y.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    lap2 = np.abs(cv2.Laplacian(half, cv2.CV_32F)).mean()
    gx, gy = cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1)
    yb = cv2.GaussianBlur(y, (0, 0), 1.0)
    bx, by = cv2.Sobel(yb, cv2.CV_32F, 1, 0), cv2.Sobel(yb, cv2.CV_32F, 0, 1)
    e0 = np.percentile(np.hypot(gx, gy), 99)
    e1 = np.percentile(np.hypot(bx, by), 99)
    return np.array([noise, floor, chroma, lap / max(lap2, 1e-3), e1 / max(e0, 1e-3)], np.float64)


def video_features(frames, max_frames: int = 8) -> np.ndarray:
    """Mean FEATURES over up to max_frames frames spread over `frames` ((T,h,w,3) uint8)."""
    idx = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).astype(int))
    return np.mean([frame_features(np.ascontiguousarray(frames[i])) for i in idx], 0)


def _logged(f: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.asarray(f, np.float64), 1e-3))


class DegradationSelector:
    """p(blind) = sigmoid(w . standardised log-features + b); choose 'blind' when p > threshold."""

    def __init__(self, mean, scale, coef, intercept, threshold: float = 0.5, meta: dict | None = None):
        self.mean, self.scale = np.asarray(mean, float), np.asarray(scale, float)
        self.coef, self.intercept = np.asarray(coef, float), float(intercept)
        self.threshold = float(threshold)
        self.meta = meta or {}

    def p_blind(self, feats: np.ndarray) -> float:
        z = (_logged(feats) - self.mean) / self.scale
        return float(1 / (1 + math.exp(-(float(z @ self.coef) + self.intercept))))

    def choose(self, frames) -> tuple[str, dict]:
        """('clean' | 'blind', details) for a clip's low-resolution frames."""
        f = video_features(frames)
        p = self.p_blind(f)
        return ("blind" if p > self.threshold else "clean"), {
            "p_degraded": round(p, 4), "features": {k: round(float(v), 4) for k, v in zip(FEATURES, f)}}

    def to_json(self) -> dict:
        return {"features": FEATURES, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "threshold": self.threshold,
                "meta": self.meta}

    @classmethod
    def load(cls, path: str = SELECT_PATH) -> "DegradationSelector":
        try:
            with open(path) as f:
                d = json.load(f)
            if d["features"] != FEATURES:
                raise ValueError(f"features {d['features']} != {FEATURES}")
            return cls(d["mean"], d["scale"], d["coef"], d["intercept"], d.get("threshold", 0.5), d.get("meta"))
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: not a degradation-selector file ({e})") from e
