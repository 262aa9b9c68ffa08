"""Picture-quality features from a shot's keyframe JPEGs, for the suitability model.

The catalog's metric columns are absolute (a smooth sky has low Laplacian variance
whether or not it is blurred), so the model also gets scale-relative measures that
depend less on content: how much detail survives at the finest scale relative to a
coarser one (blur), a noise estimate that ignores edges (noise, grain), 8x8 block-edge
strength (heavy compression), colourfulness and saturation (faded pictures). Averaged
over the shot's keyframes; NaN when a shot has none.

Shot-level measures over the set of keyframes (added for the weak degradations, no OCR):
- `kf_text_band`: overlaid text without OCR. Small high-contrast strokes (morphological
  top-hat / black-hat over a 7x7 window above 40 grey levels) per row, smoothed over a band
  of ~1/10 of the height; the densest band in the top or bottom 35 % minus the median band
  density of the middle rows. Max over keyframes (subtitles, titles, tickers are bands).
- `kf_static_strokes`: the densest row band of strokes present at the same place in the
  first and last keyframe (overlays stay put while the picture moves); NaN with one keyframe.
- `kf_change`: mean absolute grey difference between the first and last keyframe / 255.
- `kf_bars`: bars must be uniform, dark, on BOTH opposite sides with the same width, and
  there in every keyframe: per keyframe the symmetric bar width (min of left/right runs of
  uniform dark columns, or top/bottom rows) as a fraction of the side; min over keyframes.
  A photo with a black background is rarely symmetric and rarely stays so while the camera moves.
- `kf_bright_spread`, `kf_bright_max`: spread (max - min) of keyframe mean brightness
  relative to the median, and the brightest keyframe's mean (flashes, strobes).
"""

from __future__ import annotations

import os

import cv2
import numpy as np

PICTURE_FEATURES = ["kf_detail_ratio", "kf_noise", "kf_blockiness", "kf_colourfulness", "kf_saturation", "kf_dynamic_range"]
SHOT_FEATURES = ["kf_text_band", "kf_static_strokes", "kf_change", "kf_bars", "kf_bright_spread", "kf_bright_max"]
KEYFRAME_FEATURES = PICTURE_FEATURES + SHOT_FEATURES

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


_STROKE_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))


def stroke_map(g: np.ndarray) -> np.ndarray:
    """Boolean map of small high-contrast strokes (bright-on-dark or dark-on-bright) of a grey picture."""
    g8 = g.astype(np.uint8)
    top = cv2.morphologyEx(g8, cv2.MORPH_TOPHAT, _STROKE_KERNEL)
    black = cv2.morphologyEx(g8, cv2.MORPH_BLACKHAT, _STROKE_KERNEL)
    return np.maximum(top, black) > 40


def _band_profile(m: np.ndarray) -> np.ndarray:
    rows = m.mean(axis=1).astype(np.float32)
    k = max(3, m.shape[0] // 10)
    return np.convolve(rows, np.ones(k, np.float32) / k, mode="same")


def text_band(m: np.ndarray) -> float:
    """Densest stroke band in the top/bottom 35 % minus the median band density of the middle."""
    prof = _band_profile(m)
    h = len(prof)
    edge = max(1, int(0.35 * h))
    outer = max(prof[:edge].max(), prof[h - edge:].max())
    mid = prof[edge:h - edge]
    return float(outer - (np.median(mid) if len(mid) else 0.0))


def _bar_run(lines_mean: np.ndarray, lines_std: np.ndarray) -> int:
    """Number of leading lines that are uniform and dark."""
    ok = (lines_std < 6) & (lines_mean < 40)
    return int(np.argmin(ok)) if not ok.all() else len(ok)


def symmetric_bars(g: np.ndarray) -> float:
    """Width of uniform dark bars present on both opposite sides (fraction of the side), max of the two axes."""
    h, w = g.shape
    cm, cs = g.mean(axis=0), g.std(axis=0)
    rm, rs = g.mean(axis=1), g.std(axis=1)
    lr = min(_bar_run(cm, cs), _bar_run(cm[::-1], cs[::-1])) / w
    tb = min(_bar_run(rm, rs), _bar_run(rm[::-1], rs[::-1])) / h
    return float(max(lr, tb))


def shot_level_features(greys: list[np.ndarray]) -> list[float]:
    """SHOT_FEATURES of a shot's keyframes (grey float32 pictures in time order)."""
    maps = [stroke_map(g) for g in greys]
    text = max(text_band(m) for m in maps)
    if len(greys) >= 2 and greys[0].shape == greys[-1].shape:
        a = cv2.dilate(maps[0].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        static = float(_band_profile(a & maps[-1]).max())
        change = float(np.abs(greys[0] - greys[-1]).mean() / 255.0)
    else:
        static = change = np.nan
    bars = min(symmetric_bars(g) for g in greys)
    means = np.array([g.mean() for g in greys])
    spread = float((means.max() - means.min()) / (np.median(means) + 10.0))
    return [text, static, change, bars, spread, float(means.max() / 255.0)]


def shot_keyframe_features(catalog, shot_ids: list[str]) -> np.ndarray:
    """(len(shot_ids), len(KEYFRAME_FEATURES)) mean over each shot's keyframes, NaN without keyframes."""
    rows = catalog.query_dicts("SELECT shot_id, path FROM keyframes ORDER BY shot_id, frame")
    by_shot: dict[str, list[str]] = {}
    for r in rows:
        if r["path"]:
            by_shot.setdefault(r["shot_id"], []).append(os.path.join(catalog.root, r["path"]))
    out = np.full((len(shot_ids), len(KEYFRAME_FEATURES)), np.nan)
    for i, sid in enumerate(shot_ids):
        feats, greys = [], []
        for p in by_shot.get(sid, []):
            img = cv2.imread(p, cv2.IMREAD_COLOR)
            if img is not None:
                feats.append(picture_features(img))
                greys.append(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32))
        if feats:
            out[i, :len(PICTURE_FEATURES)] = np.mean(feats, axis=0)
            out[i, len(PICTURE_FEATURES):] = shot_level_features(greys)
    return out
