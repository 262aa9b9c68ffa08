"""Motion: how much the picture moves, from optical flow on sampled frame pairs.

`motion` = mean optical-flow magnitude over the frame, in % of the frame diagonal per
second (0 = still; a pan across the whole frame width in one second of 16:9 video is
about 87). Per shot: the mean over the flow pairs whose two frames lie in the shot
(pairs across a cut are excluded); NULL when the shot has no sampled pair.
"""

from __future__ import annotations

import math

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer, ShotContext
from videoforge.metrics.flow import DEFAULT_FLOW_RATE_HZ, shared_tracker
from videoforge.metrics.sampling import SampleLog, reduce_or_none, split_by_shot


class MotionScorer(Scorer):
    name = "motion"
    columns = ("motion",)

    def __init__(self, rate_hz: float = DEFAULT_FLOW_RATE_HZ):
        self.tracker = shared_tracker(rate_hz)
        self.log = SampleLog(1)

    def process(self, frame: Frame) -> None:
        s = self.tracker.observe(frame)
        if s is not None:
            diag = math.hypot(s.width, s.height)
            self.log.add(s.frame, 100.0 * s.magnitude / diag / s.dt)

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, values = self.log.arrays()
        return [{"motion": reduce_or_none(values[sl, 0], np.mean)}
                for sl in split_by_shot(frames, ctx.shots, first_offset=1)]
