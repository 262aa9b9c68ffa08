"""Sharpness: variance of the Laplacian of the luma, on sampled full-resolution frames.

Unit: 8-bit luma levels squared (0 for a flat picture; higher = sharper; tens to hundreds on
our 640x360 test footage, thousands for hard edges and fine texture). Measured on the
full-resolution Y plane, brought down to at most `max_side` px on its longest side (so 4K
costs no more than 1280 px and values stay comparable across resolutions above it), about
`rate_hz` times per second of video. Per shot: the median over its sampled frames (robust
to a few motion-blurred frames).
"""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import ShotContext
from videoforge.metrics.sampling import RateSampler, SampledScorer, SampleLog, reduce_or_none, split_by_shot


def laplacian_variance(luma: np.ndarray, max_side: int = 1280) -> float:
    """Variance of the 3x3 Laplacian of an 8-bit luma image (levels^2), after scaling to <= max_side px."""
    import cv2

    h, w = luma.shape[:2]
    if max(h, w) > max_side:
        s = max_side / max(h, w)
        luma = cv2.resize(luma, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(np.ascontiguousarray(luma), cv2.CV_16S)
    _, std = cv2.meanStdDev(lap)
    return float(std[0, 0]) ** 2


class SharpnessScorer(SampledScorer):
    name = "sharpness"
    columns = ("sharpness",)

    def __init__(self, rate_hz: float = 3.0, max_side: int = 1280):
        self.sampler = RateSampler(rate_hz)
        self.max_side = max_side
        self.log = SampleLog(1)

    def process(self, frame: Frame) -> None:
        if self.sampler.due(frame.index, frame.pts_time):
            self.log.add(frame.index, laplacian_variance(frame.full_luma(), self.max_side))

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, values = self.log.arrays()
        out = []
        for shot, sl in zip(ctx.shots, split_by_shot(frames, ctx.shots)):
            out.append({"sharpness": reduce_or_none(values[sl, 0], np.median)})
        return out
