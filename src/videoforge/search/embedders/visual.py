"""Offline query-by-example embedder: hand-made multi-scale colour, gradient and DCT descriptors.

No weights to download: it finds a shot from a re-encoded, resized or cropped frame of it,
not from a description. Design, and why:
- Everything is measured on a fixed square resample, so a resized query equals the original.
- Colour (Lab means and a soft colour histogram) and gradient-orientation histograms
  (HOG-like, two scales) are pooled over soft Gaussian cells of a 1x1, 2x2 and 4x4 grid that
  covers the *central* part of the frame: a 90 % crop removes borders and shifts content
  by at most ~5 % of the frame, which moves a soft cell's pooled value little.
- Low-frequency DCT coefficients of the luma (pHash-like) add the global layout.
- JPEG/H.264 re-encoding mostly changes high frequencies, which none of these use.
Each block is power-normalised (signed square root, as Hellinger kernels) and scaled to a
tuned weight before the final L2 normalisation, so cosine similarity weighs blocks evenly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import functools

import numpy as np

from videoforge.search.embedders.base import Embedder, l2_normalize

_VERSION = 2  # bump when the descriptor changes: stored vectors are then re-embedded


@functools.lru_cache(maxsize=64)
def _soft_cells(size: int, grid: int, lo: float, hi: float) -> np.ndarray:
    """(grid, size) Gaussian weights of `grid` cells spread over [lo, hi] of an axis, rows summing to 1."""
    x = (np.arange(size) + 0.5) / size
    centres = lo + (np.arange(grid) + 0.5) * (hi - lo) / grid
    sigma = 0.6 * (hi - lo) / grid
    w = np.exp(-0.5 * ((x[None, :] - centres[:, None]) / sigma) ** 2)
    return (w / w.sum(axis=1, keepdims=True)).astype(np.float32)


def _pool(fmap: np.ndarray, grid: int, lo: float, hi: float) -> np.ndarray:
    """Soft-cell pooling of an (h, w, c) map -> (grid*grid*c,) vector."""
    h, w = fmap.shape[:2]
    wy, wx = _soft_cells(h, grid, lo, hi), _soft_cells(w, grid, lo, hi)
    rows = np.tensordot(wy, fmap, axes=(1, 0))                          # (g, w, c)
    return np.tensordot(rows, wx, axes=(1, 1)).transpose(0, 2, 1).ravel()  # (g, f, c)


def _power_l2(v: np.ndarray) -> np.ndarray:
    v = np.sign(v) * np.sqrt(np.abs(v))
    return v / max(float(np.linalg.norm(v)), 1e-12)


@dataclass
class VisualDescriptorEmbedder(Embedder):
    """Multi-scale colour/gradient/DCT descriptor; dim 640 by default. No text queries."""

    size: int = 96                       # px, side of the square resample
    grids: tuple = (1, 2, 4)             # soft pooling grids for colour and gradients
    span: float = 0.85                   # central fraction of each axis the grid cells cover
    orientations: int = 8                # gradient orientation bins (0-180 deg, contrast-insensitive)
    weights: dict = field(default_factory=lambda: {"lab": 1.0, "hist": 0.8, "grad": 1.0, "grad2": 0.7, "dct": 0.6})

    name = "visual"
    modality = "image"
    accepts_text_query = False
    accepts_image_query = True

    def __post_init__(self):
        self.grids = tuple(self.grids)
        self._dim = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._one(np.zeros((self.size, self.size, 3), np.uint8)).shape[0])
        return self._dim

    def signature(self) -> dict:
        return {"name": self.name, "version": _VERSION, "size": self.size, "grids": list(self.grids),
                "span": self.span, "orientations": self.orientations, "weights": dict(self.weights)}

    def embed_images(self, images_bgr: list[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 unit descriptors of BGR uint8 images (any size)."""
        if not images_bgr:
            return np.zeros((0, self.dim), np.float32)
        return l2_normalize(np.stack([self._one(im) for im in images_bgr]))

    # -- the descriptor ------------------------------------------------------------------
    def _grad_channels(self, luma: np.ndarray) -> np.ndarray:
        """(h, w, bins) magnitude-weighted soft orientation channels of a float luma image."""
        import cv2

        gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
        mag = np.sqrt(gx * gx + gy * gy)
        ang = (np.arctan2(gy, gx) % np.pi) / np.pi * self.orientations  # [0, bins)
        lo = np.floor(ang).astype(np.int32) % self.orientations
        frac = (ang - np.floor(ang)).astype(np.float32)
        hi = (lo + 1) % self.orientations
        bins = np.arange(self.orientations, dtype=np.int32)
        # Linear vote into the two nearest orientation bins (one broadcast instead of a scatter).
        return ((lo[..., None] == bins) * (mag * (1 - frac))[..., None]
                + (hi[..., None] == bins) * (mag * frac)[..., None]).astype(np.float32)

    def _one(self, img: np.ndarray) -> np.ndarray:
        import cv2

        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        img = np.ascontiguousarray(img[:, :, :3])
        s, lo, hi = self.size, (1 - self.span) / 2, (1 + self.span) / 2
        sq = cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(sq.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
        lab_n = lab / np.array([100.0, 128.0, 128.0], np.float32)
        blocks = []
        # Lab means per soft cell, all grids.
        blocks.append(("lab", np.concatenate([_pool(lab_n, g, lo, hi) for g in self.grids])))
        # Centre-weighted soft colour histogram: 6 L x 5 a x 5 b bins, trilinear-free (nearest) but
        # blurred by the resample; weights favour the centre so cropped borders matter little.
        li = np.clip((lab[..., 0] / 100.0 * 6).astype(int), 0, 5)
        ai = np.clip(((lab[..., 1] + 64) / 128.0 * 5).astype(int), 0, 4)
        bi = np.clip(((lab[..., 2] + 64) / 128.0 * 5).astype(int), 0, 4)
        cw = np.outer(_soft_cells(s, 1, lo, hi)[0], _soft_cells(s, 1, lo, hi)[0])
        hist = np.bincount((li * 25 + ai * 5 + bi).ravel(), weights=cw.ravel(), minlength=150)
        blocks.append(("hist", hist))
        luma = lab[..., 0] / 100.0
        g1 = self._grad_channels(luma)
        blocks.append(("grad", np.concatenate([_pool(g1, g, lo, hi) for g in self.grids])))
        half = cv2.resize(luma, (s // 2, s // 2), interpolation=cv2.INTER_AREA)
        g2 = self._grad_channels(half)
        blocks.append(("grad2", np.concatenate([_pool(g2, g, lo, hi) for g in self.grids[:2]])))
        small = cv2.resize(luma, (32, 32), interpolation=cv2.INTER_AREA)
        d = cv2.dct(small.astype(np.float32))[:8, :8].ravel()[1:]
        blocks.append(("dct", d))
        return np.concatenate([self.weights.get(name, 1.0) * _power_l2(v.astype(np.float32)) for name, v in blocks])
