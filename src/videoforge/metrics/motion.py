"""Motion: how much the picture moves, from optical flow on sampled frame pairs.

`motion` = mean optical-flow magnitude over the frame, in % of the frame diagonal per
second (0 = still; a pan across the whole frame width in one second of 16:9 video is
about 87). It grows with both the speed and the area of what moves, so a small fast
subject and a large slow one can score alike.

`motion_peak` = the 99th percentile of the flow magnitude, same unit: how fast the
fastest-moving 1 % of the picture goes, far less dependent on the subject's size. The
flow is computed at 1/4 of the analysis size, so subjects narrower than ~1/5 of the
frame read below their true speed. On the training demo's moving shapes it ranks the
true speed at Spearman 0.93 where `motion` reaches 0.80 (docs/benchmarks/train.md).

Per shot: the mean over the flow pairs whose two frames lie in the shot (pairs across a
cut are excluded); NULL when the shot has no sampled pair.
"""

from __future__ import annotations

import math

import numpy as np

from videoforge.metrics.base import ShotContext
from videoforge.metrics.flow import DEFAULT_FLOW_RATE_HZ, FlowLogScorer, shared_tracker
from videoforge.metrics.sampling import SampleLog, reduce_or_none, split_by_shot


class MotionScorer(FlowLogScorer):
    name = "motion"
    columns = ("motion", "motion_peak")

    def __init__(self, rate_hz: float = DEFAULT_FLOW_RATE_HZ):
        self.tracker = shared_tracker(rate_hz)
        self.log = SampleLog(2)

    def _add(self, s) -> None:
        per_s = 100.0 / math.hypot(s.width, s.height) / s.dt   # px -> % of diagonal per second
        self.log.add(s.frame, s.magnitude * per_s, s.peak * per_s)

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, values = self.log.arrays()
        return [{"motion": reduce_or_none(values[sl, 0], np.mean), "motion_peak": reduce_or_none(values[sl, 1], np.mean)}
                for sl in split_by_shot(frames, ctx.shots, first_offset=1)]
