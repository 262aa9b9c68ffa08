"""Picture-quality features from a shot's keyframe JPEGs, for the suitability model.

The catalog's metric columns are absolute (a smooth sky has low Laplacian variance
whether or not it is blurred), so the model also gets scale-relative measures that
depend less on content: how much detail survives at the finest scale relative to a
coarser one (blur), a noise estimate that ignores edges (noise, grain), 8x8 block-edge
strength (heavy compression), colourfulness and saturation (faded pictures). Averaged
over the shot's keyframes; NaN when a shot has none.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

KEYFRAME_FEATURES = ["kf_detail_ratio", "kf_noise", "kf_blockiness", "kf_colourfulness", "kf_saturation", "kf_dynamic_range"]

_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def picture_features(bgr: np.ndarray) -> list[float]:
    """KEYFRAME_FEATURES of one BGR uint8 picture."""
    g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    h, w = g.shape
    fine = cv2.Laplacian(g, cv2.CV_32F).var()
    half = cv2.resize(g, (max(8, w // 2), max(8, h // 2)), interpolation=cv2.INTER_AREA)
    coarse = cv2.Laplacian(half, cv2.CV_32F).var()
    detail = float(np.log((fine + 1.0) / (coarse + 1.0)))          # blur removes the finest scale first
    # Immerkaer's noise estimate, taken over the flattest half of the picture so edges do not count
    resp = np.abs(cv2.filter2D(g, -1, _NOISE_KERNEL))[1:-1, 1:-1]
    grad = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1))
    flat = grad[1:-1, 1:-1] <= np.median(grad)
    noise = float(np.sqrt(np.pi / 2) / 6 * resp[flat].mean()) if flat.any() else 0.0
    # blockiness: luma steps across 8-px column boundaries vs. steps elsewhere
    dx = np.abs(np.diff(g, axis=1))
    cols = np.arange(dx.shape[1])
    at = dx[:, cols % 8 == 7].mean() if (cols % 8 == 7).any() else 0.0
    off = dx[:, cols % 8 != 7].mean() + 1e-3
    block = float(at / off)
    b, gg, r = [c.astype(np.float32) for c in cv2.split(bgr)]
    rg, yb = r - gg, 0.5 * (r + gg) - b
    colour = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    sat = float(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)[:, :, 1].mean() / 255.0)
    p1, p99 = np.percentile(g, [1, 99])
    return [detail, noise, block, colour, sat, float((p99 - p1) / 255.0)]


def shot_keyframe_features(catalog, shot_ids: list[str]) -> np.ndarray:
    """(len(shot_ids), len(KEYFRAME_FEATURES)) mean over each shot's keyframes, NaN without keyframes."""
    rows = catalog.query_dicts("SELECT shot_id, path FROM keyframes")
    by_shot: dict[str, list[str]] = {}
    for r in rows:
        if r["path"]:
            by_shot.setdefault(r["shot_id"], []).append(os.path.join(catalog.root, r["path"]))
    out = np.full((len(shot_ids), len(KEYFRAME_FEATURES)), np.nan)
    for i, sid in enumerate(shot_ids):
        feats = []
        for p in by_shot.get(sid, []):
            img = cv2.imread(p, cv2.IMREAD_COLOR)
            if img is not None:
                feats.append(picture_features(img))
        if feats:
            out[i] = np.mean(feats, axis=0)
    return out
