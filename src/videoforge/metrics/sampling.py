"""Shared helpers: time-based sampling during the pass and grouping samples into shots afterwards.

Sampling is by PTS, not by frame count, so a rate means the same on 24, 30 or 60 fps
sources, and it is deterministic (the same file gives the same samples on any machine).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from videoforge.metrics.base import Scorer


def grid_slot(t: float, period: float) -> int:
    """Which `period`-long slot of the PTS timeline (from time 0) the time `t` (s) falls in."""
    return math.floor(t / period + 1e-7)


def crossed(prev_t: float | None, t: float, period: float) -> bool:
    """True when a frame at `t` is the first one at or after a multiple of `period` seconds,
    given the previous frame's time `prev_t` (None: the pass's first frame, always due).

    A function of the two neighbouring times only, so a video analysed in segments samples
    exactly the frames one pass samples (engine/segments.py decides a segment's first frame
    once the previous segment's last time is known)."""
    return prev_t is None or period <= 0.0 or grid_slot(t, period) > grid_slot(prev_t, period)


class RateSampler:
    """Says which frames to sample at about `rate_hz` samples per second of video (0 = every frame).

    A frame is sampled when it is the first at or after a multiple of 1 / `rate_hz` seconds
    of PTS (and the pass's first frame): a fixed grid on the timeline, so the samples do not
    depend on where a pass started; a gap in PTS does not cause a burst.
    """

    def __init__(self, rate_hz: float):
        self.period = 1.0 / rate_hz if rate_hz and rate_hz > 0 else 0.0
        self.prev_t: float | None = None
        self.last_index = -2

    def due(self, index: int, pts_time: float) -> bool:
        """True when the frame at `index` (PTS `pts_time`, s) is to be sampled."""
        if index != self.last_index + 1:   # a new video (or a skip): start over
            self.prev_t = None
        self.last_index = index
        due = crossed(self.prev_t, pts_time, self.period)
        self.prev_t = pts_time
        return due


class SampleLog:
    """Per-sample values, appended during the pass in frame order (compact: one float64 row each)."""

    def __init__(self, width: int):
        self.width = width
        self._frames: list[int] = []
        self._rows: list[tuple] = []

    def add(self, frame: int, *values: float) -> None:
        self._frames.append(frame)
        self._rows.append(values)

    def __len__(self) -> int:
        return len(self._frames)

    def append_log(self, other: "SampleLog", offset: int, skip_frame: int | None = None) -> None:
        """Append `other`'s samples (a later segment's), frame indices shifted by `offset`,
        leaving out the one logged at `other`'s frame `skip_frame`."""
        for f, row in zip(other._frames, other._rows):
            if f != skip_frame:
                self._frames.append(f + offset)
                self._rows.append(row)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(frames (n,), values (n, width)) as NumPy arrays."""
        f = np.asarray(self._frames, dtype=np.int64)
        v = np.asarray(self._rows, dtype=np.float64).reshape(len(self._frames), self.width)
        return f, v


def join_sampled(logs: Sequence[SampleLog], seams: Sequence, period: float) -> SampleLog:
    """One log from consecutive segments' logs of a `RateSampler`-sampled scorer.

    A segment's first frame was sampled speculatively (its worker could not know the time of
    the frame before it); it stays only where one pass samples it too (`crossed`).
    `seams[k - 1]` joins segment k - 1 to segment k (engine/segments.py: offset, before, after).
    """
    out = SampleLog(logs[0].width)
    for k, log in enumerate(logs):
        if k == 0:
            out.append_log(log, 0)
            continue
        seam = seams[k - 1]
        keep = crossed(seam.before.pts_time, seam.after.pts_time, period)
        out.append_log(log, seam.offset, None if keep else 0)
    return out


class SampledScorer(Scorer):
    """A scorer that logs values on a `RateSampler`'s grid (`self.sampler`, `self.log`).

    Its segment state is the log itself and a join is `join_sampled`, so every such scorer runs
    in parallel segments with results identical to one pass (engine/segments.py)."""

    segmentable = True
    sampler: RateSampler
    log: SampleLog

    def segment_state(self) -> SampleLog:
        return self.log

    def join_segments(self, states: list[SampleLog], seams: list) -> None:
        self.log = join_sampled(states, seams, self.sampler.period)


def split_by_shot(frames: np.ndarray, shots: Sequence, first_offset: int = 0) -> list[slice]:
    """For sorted sample frame indices, the slice of samples inside each shot.

    `first_offset` = 1 drops a sample sitting on the shot's first frame: used for frame-pair
    samples (pair (i-1, i) is logged at i), whose first frame would lie in the previous shot.
    """
    out = []
    for s in shots:
        lo = int(np.searchsorted(frames, s.start_frame + first_offset, side="left"))
        hi = int(np.searchsorted(frames, s.end_frame, side="right"))
        out.append(slice(lo, max(lo, hi)))
    return out


def reduce_or_none(values: np.ndarray, fn: Callable[[np.ndarray], float] = np.mean) -> float | None:
    """fn(values) as a float, or None (SQL NULL) when there are no finite values."""
    v = values[np.isfinite(values)] if values.size else values
    return float(fn(v)) if v.size else None
