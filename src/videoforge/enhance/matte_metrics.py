"""Matting error measures (as in the matting literature: Rhemann et al. 2009, RVM 2021).

All take float alpha in 0..1; `pred`/`true` are (T, H, W) clips or (H, W) frames.
  mad    mean |pred - true|
  mse    mean (pred - true)^2
  grad   mean squared difference of gradient magnitudes (Gaussian derivatives, sigma 1.4)
  dtssd  temporal coherence: per frame pair, the RMS of (d pred/dt - d true/dt); mean over pairs
"""

from __future__ import annotations

import cv2
import numpy as np


def mad(pred, true) -> float:
    return float(np.abs(pred - true).mean())


def mse(pred, true) -> float:
    return float(((pred - true) ** 2).mean())


def _grad_mag(a: np.ndarray, sigma: float = 1.4) -> np.ndarray:
    g = cv2.GaussianBlur(a.astype(np.float32), (0, 0), sigma)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8
    return np.sqrt(gx * gx + gy * gy)


def grad(pred, true) -> float:
    p, t = np.asarray(pred), np.asarray(true)
    if p.ndim == 2:
        p, t = p[None], t[None]
    return float(np.mean([((_grad_mag(a) - _grad_mag(b)) ** 2).mean() for a, b in zip(p, t)]))


def dtssd(pred, true) -> float:
    dp = np.diff(np.asarray(pred, np.float64), axis=0)
    dt = np.diff(np.asarray(true, np.float64), axis=0)
    return float(np.sqrt(((dp - dt) ** 2).reshape(len(dp), -1).mean(1)).mean())


def bootstrap_ci(values, n_boot: int = 2000, seed: int = 0, stat=np.mean) -> tuple[float, float, float]:
    """(statistic, 2.5 %, 97.5 %) over resamples of the items (clips)."""
    v = np.asarray(values, np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(v), (n_boot, len(v)))
    boots = np.array([stat(v[i]) for i in idx])
    return float(stat(v)), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def paired_reduction_ci(base, new, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """1 - mean(new)/mean(base) with a bootstrap over paired items."""
    b, n = np.asarray(base, np.float64), np.asarray(new, np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(b), (n_boot, len(b)))
    boots = 1 - n[idx].mean(1) / b[idx].mean(1)
    return float(1 - n.mean() / b.mean()), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def trimap_from_alpha(alpha: np.ndarray, band: int = 5) -> np.ndarray:
    """The trimap a user would draw: 1 inside the sure foreground, 0 in the sure background,
    0.5 in a band of `band` px around every partly transparent or edge pixel."""
    fg = (alpha > 0.98).astype(np.uint8)
    bg = (alpha < 0.02).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    fg = cv2.erode(fg, k)
    bg = cv2.erode(bg, k)
    tri = np.full(alpha.shape, 0.5, np.float64)
    tri[fg > 0] = 1.0
    tri[bg > 0] = 0.0
    return tri
