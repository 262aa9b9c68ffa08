"""Shared helpers: time-based sampling during the pass and grouping samples into shots afterwards.

Sampling is by PTS, not by frame count, so a rate means the same on 24, 30 or 60 fps
sources, and it is deterministic (the same file gives the same samples on any machine).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


class RateSampler:
    """Says which frames to sample at about `rate_hz` samples per second of video (0 = every frame)."""

    def __init__(self, rate_hz: float):
        self.period = 1.0 / rate_hz if rate_hz and rate_hz > 0 else 0.0
        self.next_t: float | None = None
        self.last_index = -2

    def due(self, index: int, pts_time: float) -> bool:
        """True when the frame at `index` (PTS `pts_time`, s) is to be sampled."""
        if index != self.last_index + 1:   # a new video (or a skip): start over
            self.next_t = None
        self.last_index = index
        if self.period == 0.0:
            return True
        if self.next_t is None or pts_time + 1e-9 >= self.next_t:
            # Next sample one period on from this one; a gap in PTS does not cause a burst.
            self.next_t = max((self.next_t or pts_time) + self.period, pts_time + 0.5 * self.period)
            return True
        return False


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

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(frames (n,), values (n, width)) as NumPy arrays."""
        f = np.asarray(self._frames, dtype=np.int64)
        v = np.asarray(self._rows, dtype=np.float64).reshape(len(self._frames), self.width)
        return f, v


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
