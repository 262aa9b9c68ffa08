"""Brightness, contrast and exposure clipping from the luma histogram of every analysis frame.

All on full-range 8-bit luma of the analysis frame (BT.601), per shot the mean over its
frames:
- `brightness`: mean luma / 255, 0-1.
- `contrast`: luma standard deviation / 255, 0-0.5 (0 = flat).
- `clip_dark`: fraction of pixels at luma <= 16, 0-1 (crushed shadows).
- `clip_bright`: fraction of pixels at luma >= 235, 0-1 (blown highlights).
"""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer, ShotContext
from videoforge.metrics.sampling import SampleLog, reduce_or_none, split_by_shot

_LEVELS = np.arange(256, dtype=np.float64)


class ExposureScorer(Scorer):
    name = "exposure"
    columns = ("brightness", "contrast", "clip_dark", "clip_bright")

    def __init__(self, dark_level: int = 16, bright_level: int = 235):
        self.dark_level = dark_level
        self.bright_level = bright_level
        self.log = SampleLog(4)

    def process(self, frame: Frame) -> None:
        import cv2

        hist = cv2.calcHist([frame.luma], [0], None, [256], [0, 256]).ravel().astype(np.float64)
        n = hist.sum() or 1.0
        mean = float(hist @ _LEVELS) / n
        var = float(hist @ (_LEVELS * _LEVELS)) / n - mean * mean
        self.log.add(frame.index, mean / 255.0, np.sqrt(max(0.0, var)) / 255.0,
                     float(hist[: self.dark_level + 1].sum()) / n, float(hist[self.bright_level:].sum()) / n)

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, v = self.log.arrays()
        return [{c: reduce_or_none(v[sl, k]) for k, c in enumerate(self.columns)}
                for sl in split_by_shot(frames, ctx.shots)]
