"""Black frames and frozen (repeated) frames, on every analysis frame.

- `black_ratio`: fraction of the shot's frames that are black, 0-1. A frame is black when
  at least 98 % of its pixels have luma <= 26 (10 % of full scale), as FFmpeg's blackdetect
  defaults.
- `frozen_ratio`: fraction of the shot's frames (after its first) that repeat their
  predecessor, 0-1: mean absolute luma difference <= 0.3 levels at analysis size (the
  downscale averages sensor noise away, so a still tripod shot of a real scene still moves
  more than that; an exact repeat stays near 0 after compression). Black frames are not
  counted as frozen.
"""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer, ShotContext
from videoforge.metrics.sampling import SampleLog, split_by_shot


class BlackFrozenScorer(Scorer):
    name = "black_frozen"
    columns = ("black_ratio", "frozen_ratio")

    def __init__(self, black_level: int = 26, black_fraction: float = 0.98, frozen_diff: float = 0.3):
        self.black_level = black_level
        self.black_fraction = black_fraction
        self.frozen_diff = frozen_diff
        self.log = SampleLog(2)  # black (0/1), frozen (0/1, NaN when there is no predecessor)
        self._prev: np.ndarray | None = None
        self._prev_index = -2

    def process(self, frame: Frame) -> None:
        luma = frame.luma
        black = np.count_nonzero(luma <= self.black_level) >= self.black_fraction * luma.size
        frozen = np.nan
        if self._prev is not None and frame.index == self._prev_index + 1:
            frozen = self._frozen(self._prev, luma, black)
        self._prev, self._prev_index = luma, frame.index
        self.log.add(frame.index, float(black), frozen)

    def _frozen(self, prev: np.ndarray, luma: np.ndarray, black: bool) -> float:
        """1.0 when `luma` repeats `prev` (and is not black), else 0.0; NaN when sizes differ."""
        import cv2

        if prev.shape != luma.shape:
            return np.nan
        diff = cv2.norm(luma, prev, cv2.NORM_L1) / luma.size
        return float(diff <= self.frozen_diff and not black)

    segmentable = True

    def segment_state(self) -> SampleLog:
        return self.log

    def join_segments(self, states: list[SampleLog], seams: list) -> None:
        """Every frame is logged; a segment's first frame had no predecessor in its worker, so
        its frozen flag is decided here from the frame before it."""
        self.log = SampleLog(2)
        for k, log in enumerate(states):
            offset = seams[k - 1].offset if k else 0
            n = len(self.log)
            self.log.append_log(log, offset)
            if k and len(log) and log._frames[0] == 0:
                seam = seams[k - 1]
                black = log._rows[0][0]
                self.log._rows[n] = (black, self._frozen(seam.before.luma, seam.after.luma, bool(black)))

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, v = self.log.arrays()
        out = []
        for shot, sl in zip(ctx.shots, split_by_shot(frames, ctx.shots)):
            b = v[sl, 0]
            f = v[sl, 1][1:]  # the shot's first frame has no predecessor inside the shot
            f = f[np.isfinite(f)]
            out.append({"black_ratio": float(b.mean()) if b.size else None,
                        "frozen_ratio": float(f.mean()) if f.size else (0.0 if b.size else None)})
        return out
