"""Letterbox / pillarbox bars: `border_ratio`, the fraction of the frame area they cover (0-1).

On the analysis luma (160 px wide: one row is 1/90 of a 16:9 frame's height), about
`rate_hz` times per second: a row (column) belongs to a bar when its brightest pixel is at
most `level` (bars are flat black, so compression leaves them dark). A bar is the run of
such rows from the edge inwards; the top and bottom bars (left and right) must match within
25 % (+-1 row), since letterboxing is symmetric and a dark sky is not a bar. Per shot, each
edge's bar is the smallest seen on its sampled frames (a bar holds for the whole shot), so
border_ratio = 1 - inner area / frame area. Fully black frames are skipped; NULL when every
sampled frame of the shot is black.
"""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import ShotContext
from videoforge.metrics.sampling import RateSampler, SampledScorer, SampleLog, split_by_shot


def _run_from_edge(dark: np.ndarray) -> int:
    """Length of the leading run of True values."""
    idx = np.flatnonzero(~dark)
    return int(idx[0]) if idx.size else int(dark.size)


def _symmetric(a: int, b: int) -> tuple[int, int]:
    """Both bars when they match (letterboxing is centred), else none."""
    if a == 0 or b == 0:
        return 0, 0
    return (a, b) if abs(a - b) <= max(1, 0.25 * max(a, b)) else (0, 0)


def bars(luma: np.ndarray, level: int = 24) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) bar sizes in px of one luma frame, or None for an all-dark frame."""
    h, w = luma.shape
    rows = luma.max(axis=1) <= level
    cols = luma.max(axis=0) <= level
    top = _run_from_edge(rows)
    if top >= h:
        return None
    bottom = _run_from_edge(rows[::-1])
    left, right = _run_from_edge(cols), _run_from_edge(cols[::-1])
    top, bottom = _symmetric(top, bottom)
    left, right = _symmetric(left, right)
    return top, bottom, left, right


class BorderScorer(SampledScorer):
    name = "border"
    columns = ("border_ratio",)

    def __init__(self, rate_hz: float = 5.0, level: int = 24):
        self.sampler = RateSampler(rate_hz)
        self.level = level
        self.log = SampleLog(6)  # top, bottom, left, right, h, w

    def process(self, frame: Frame) -> None:
        if not self.sampler.due(frame.index, frame.pts_time):
            return
        luma = frame.luma
        b = bars(luma, self.level)
        if b is not None:
            self.log.add(frame.index, *b, *luma.shape)

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, v = self.log.arrays()
        out = []
        for sl in split_by_shot(frames, ctx.shots):
            x = v[sl]
            if not len(x):
                out.append({"border_ratio": None})
                continue
            top, bottom, left, right = x[:, :4].min(axis=0)
            h, w = x[0, 4], x[0, 5]
            inner = max(0.0, h - top - bottom) * max(0.0, w - left - right)
            out.append({"border_ratio": float(1.0 - inner / (h * w))})
        return out
