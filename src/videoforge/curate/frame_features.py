"""Per-frame brightness measures of a shot (flashes, strobes), for the suitability model.

Keyframes are about one per 2 s, so a flash of a few frames is rarely on one. These measures
decode the shot's frames once (sequentially, at most `MAX_FRAMES`), take the mean luma of a
tiny thumbnail per frame and report:
- `fr_flash_jump`: the largest frame-to-frame jump of mean luma relative to the shot's median
  jump (a flash or strobe is a jump far above the shot's normal change);
- `fr_bright_dev`: the largest deviation of a frame's mean luma from the shot median, / 255.
NaN when the video cannot be opened (a moved catalog): the model handles missing values.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

FRAME_FEATURES = ["fr_flash_jump", "fr_bright_dev"]
MAX_FRAMES = 600


def luma_series(path: str, start: int, end: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Mean luma of frames start..end inclusive (the catalog's convention; at most `max_frames`)."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        return np.zeros(0)
    try:
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        out = []
        for _ in range(max(0, min(end - start + 1, max_frames))):
            ok, f = cap.read()
            if not ok:
                break
            small = cv2.resize(f, (32, 18), interpolation=cv2.INTER_AREA)
            out.append(float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean()))
        return np.asarray(out)
    finally:
        cap.release()


def series_features(m: np.ndarray) -> list[float]:
    """FRAME_FEATURES of one luma series."""
    if len(m) < 3:
        return [np.nan, np.nan]
    d = np.abs(np.diff(m))
    return [float(d.max() / (np.median(d) + 1.0)), float(np.abs(m - np.median(m)).max() / 255.0)]


def per_shot(info: list[dict], root: str | None, width: int, measure) -> np.ndarray:
    """(len(info), width): measure(path, start_frame, end_frame) for rows with path,
    start_frame, end_frame (inclusive; a relative path is under `root`); NaN where the row
    has no path or its file is gone."""
    out = np.full((len(info), width), np.nan)
    for i, r in enumerate(info):
        p = r.get("path")
        if not p:
            continue
        if root and not os.path.isabs(p):
            p = os.path.join(root, p)
        if not os.path.exists(p):
            continue
        out[i] = measure(p, int(r.get("start_frame") or 0), int(r.get("end_frame") or 0))
    return out


def shot_frame_features(info: list[dict], root: str | None = None) -> np.ndarray:
    """(len(info), len(FRAME_FEATURES)) for rows with path, start_frame, end_frame (inclusive);
    NaN where the video is unreadable."""
    return per_shot(info, root, len(FRAME_FEATURES), lambda p, s, e: series_features(luma_series(p, s, e)))
