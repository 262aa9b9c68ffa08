"""Brightness, contrast and exposure clipping of the analysis luma.

All on full-range 8-bit luma of the analysis frame (BT.601), sampled about `rate_hz` times
per second (default 12.5: every 2nd frame at 25 fps; 0 = every frame), per shot the mean
over its sampled frames (NULL when none):
- `brightness`: mean luma / 255, 0-1.
- `contrast`: luma standard deviation / 255, 0-0.5 (0 = flat).
- `clip_dark`: fraction of pixels at luma <= 16, 0-1 (crushed shadows).
- `clip_bright`: fraction of pixels at luma >= 235, 0-1 (blown highlights).
"""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import ShotContext
from videoforge.metrics.sampling import RateSampler, SampledScorer, SampleLog, reduce_or_none, split_by_shot


class ExposureScorer(SampledScorer):
    name = "exposure"
    columns = ("brightness", "contrast", "clip_dark", "clip_bright")

    def __init__(self, dark_level: int = 16, bright_level: int = 235, rate_hz: float = 12.5):
        self.sampler = RateSampler(rate_hz)
        self.dark_level = dark_level
        self.bright_level = bright_level
        self.log = SampleLog(4)

    def process(self, frame: Frame) -> None:
        import cv2

        if not self.sampler.due(frame.index, frame.pts_time):
            return
        luma = frame.luma
        mean, std = cv2.meanStdDev(luma)
        n = float(luma.size)
        self.log.add(frame.index, float(mean[0, 0]) / 255.0, float(std[0, 0]) / 255.0,
                     np.count_nonzero(luma <= self.dark_level) / n, np.count_nonzero(luma >= self.bright_level) / n)

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, v = self.log.arrays()
        return [{c: reduce_or_none(v[sl, k]) for k, c in enumerate(self.columns)}
                for sl in split_by_shot(frames, ctx.shots)]
