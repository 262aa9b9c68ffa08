"""Optical flow on sampled frame pairs, computed once and shared by the motion and camera scorers.

DIS optical flow (OpenCV, ULTRAFAST preset) on the analysis luma (160 px wide): about
0.3 ms per pair. A pair (i-1, i) is taken about `rate_hz` times per second of video. Each
pair gives the mean flow magnitude and a robust similarity fit of the global motion
(translation, scale, rotation) that the camera classifier reads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer
from videoforge.metrics.sampling import RateSampler, SampleLog, crossed

DEFAULT_FLOW_RATE_HZ = 4.0  # flow pairs per second of video
# `motion_peak` reads this quantile of |flow|: high enough to see a small moving subject, low
# enough that a few bad flow vectors do not make it.
PEAK_QUANTILE = 0.99
_GRID_STEP = 5             # px between the points used for the global fit (at analysis size)


@dataclass
class FlowSample:
    frame: int        # the pair is (frame - 1, frame)
    dt: float         # s between the two frames
    magnitude: float  # mean |flow|, px at analysis size
    peak: float       # 99th percentile of |flow|, px: the fastest-moving 1 % of the picture
    tx: float         # global translation of the content, px (+ = content moves right)
    ty: float         # px (+ = content moves down)
    scale: float      # relative scale change (+ = content grows: zoom in)
    rotation: float   # rad (small-angle)
    width: int        # analysis frame size, px
    height: int


_GRIDS: dict[tuple[int, int, int], tuple] = {}


def _grid(h: int, w: int, step: int):
    """Sample points (row, col indices and centred x, y) of a flow field, cached per size."""
    key = (h, w, step)
    g = _GRIDS.get(key)
    if g is None:
        ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
        g = _GRIDS[key] = (ys.ravel(), xs.ravel(), xs.ravel() - (w - 1) / 2.0, ys.ravel() - (h - 1) / 2.0)
    return g


def _kth_smallest(values: np.ndarray, k: int) -> float:
    """np.partition(values, k)[k] for finite values, exactly, at a fraction of its cost here.

    Flow magnitudes are mostly exact zeros (still background: ~60 % of a typical field), on
    which NumPy's introselect degenerates (0.4 ms for 14k values). Only the values at or above
    a threshold `t` taken from a strided subsample are partitioned: when at least
    `n - k` values are >= t, the k-th smallest of all is >= t too, and it sits at position
    k - (n - c) among the c values >= t."""
    n = values.size
    need = n - k                      # values at or above the answer (itself included)
    sub = values[::16]
    j = max(0, sub.size - 1 - 4 * (need // 16 + 1))   # ~4x more candidates than needed
    t = np.partition(sub, j)[j]
    top = values[values >= t]
    if top.size < need:               # the subsample misjudged: the plain way
        return float(np.partition(values, k)[k])
    i = k - (n - top.size)
    return float(np.partition(top, i)[i])


def fit_similarity(flow: np.ndarray, step: int = _GRID_STEP) -> tuple[float, float, float, float]:
    """Least-squares similarity (tx, ty, scale, rotation) of a dense flow field, refit without outliers.

    Units: px, px, relative scale, rad. Points whose residual is far above the median
    (moving objects) are dropped before the second fit.
    """
    h, w = flow.shape[:2]
    _, _, x, y = _grid(h, w, step)
    # the grid's points in the grid's order (row by row): a strided view, not a gather
    uv = flow[step // 2 :: step, step // 2 :: step].reshape(-1, 2).astype(np.float64)
    u, v = uv[:, 0], uv[:, 1]
    params = (0.0, 0.0, 0.0, 0.0)
    keep = None
    for _ in range(2):
        xk, yk, uk, vk = (x, y, u, v) if keep is None else (x[keep], y[keep], u[keep], v[keep])
        if xk.size < 8:
            break
        # u = tx + s x - r y ; v = ty + s y + r x  (centred coordinates)
        mx, my, mu, mv = xk.mean(), yk.mean(), uk.mean(), vk.mean()
        xc, yc, uc, vc = xk - mx, yk - my, uk - mu, vk - mv
        den = float(xc @ xc + yc @ yc) or 1.0
        s = float(xc @ uc + yc @ vc) / den
        r = float(xc @ vc - yc @ uc) / den
        tx = mu - s * mx + r * my
        ty = mv - s * my - r * mx
        params = (tx, ty, s, r)
        res = np.hypot(u - (tx + s * x - r * y), v - (ty + s * y + r * x))
        keep = res <= max(3.0 * float(np.median(res)), 0.25)
    return params


class FlowTracker:
    """Computes flow for sampled pairs; several scorers may call `observe` with the same frame."""

    def __init__(self, rate_hz: float = DEFAULT_FLOW_RATE_HZ):
        import cv2

        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._sampler = RateSampler(rate_hz)
        self._prev_luma: np.ndarray | None = None
        self._prev_pts = 0.0
        self._prev_index = -2
        self._last_frame: Frame | None = None
        self._last_sample: FlowSample | None = None

    def observe(self, frame: Frame) -> FlowSample | None:
        """The flow sample ending at this frame, or None when this frame is not sampled."""
        if frame is self._last_frame:
            return self._last_sample
        sample = None
        contiguous = frame.index == self._prev_index + 1 and self._prev_luma is not None
        luma = frame.luma
        if self._sampler.due(frame.index, frame.pts_time) and contiguous and luma.shape == self._prev_luma.shape:
            sample = self._pair(self._prev_luma, luma, frame.index, frame.pts_time - self._prev_pts)
        self._prev_luma, self._prev_pts, self._prev_index = luma, frame.pts_time, frame.index
        self._last_frame, self._last_sample = frame, sample
        return sample

    def _pair(self, prev_luma: np.ndarray, luma: np.ndarray, index: int, dt: float) -> FlowSample:
        """The flow sample of the pair (index - 1, index)."""
        import cv2

        flow = self._dis.calc(prev_luma, luma, None)
        mags = cv2.magnitude(flow[..., 0], flow[..., 1]).ravel()
        mean = float(mags.mean())
        k = min(mags.size - 1, int(PEAK_QUANTILE * mags.size))
        peak = _kth_smallest(mags, k) if np.isfinite(mean) else float(np.partition(mags, k)[k])
        tx, ty, s, r = fit_similarity(flow)
        h, w = luma.shape
        return FlowSample(index, max(1e-6, dt), mean, peak, tx, ty, s, r, w, h)

    def seam_sample(self, seam) -> FlowSample | None:
        """The sample one pass takes on the pair across a segment seam (metrics.base.Seam), or
        None; computed once per seam and rate for all scorers sharing this tracker's flow."""
        key = ("flow", self._sampler.period)
        if key not in seam.cache:
            b, a = seam.before, seam.after
            due = crossed(b.pts_time, a.pts_time, self._sampler.period) and b.luma.shape == a.luma.shape
            seam.cache[key] = self._pair(b.luma, a.luma, a.index, a.pts_time - b.pts_time) if due else None
        return seam.cache[key]


_SHARED = threading.local()   # per thread: two videos analysed in two threads never mix


def shared_tracker(rate_hz: float = DEFAULT_FLOW_RATE_HZ) -> FlowTracker:
    """One tracker per rate per thread, so motion and camera scorers pay for each flow once.

    Safe across videos: a tracker starts over whenever frame indices stop being consecutive.
    """
    trackers = getattr(_SHARED, "trackers", None)
    if trackers is None:
        trackers = _SHARED.trackers = {}
    t = trackers.get(rate_hz)
    if t is None:
        t = trackers[rate_hz] = FlowTracker(rate_hz)
    return t


class FlowLogScorer(Scorer):
    """A scorer fed by a shared tracker's flow samples: subclasses set `self.tracker`
    (`shared_tracker(rate)`) and `self.log` (a SampleLog) and define `_add(sample)`, which adds
    one sample's row to `self.log`. Segmentable: a segment's state is its log."""

    tracker: FlowTracker
    log: SampleLog

    def _add(self, s: FlowSample) -> None:
        raise NotImplementedError

    def process(self, frame: Frame) -> None:
        s = self.tracker.observe(frame)
        if s is not None:
            self._add(s)

    segmentable = True

    def segment_state(self) -> SampleLog:
        return self.log

    def join_segments(self, states: list[SampleLog], seams: list) -> None:
        """Segments' flow pairs, plus the pair across each seam where one pass takes it."""
        self.log = SampleLog(self.log.width)
        for k, log in enumerate(states):
            if k:
                s = self.tracker.seam_sample(seams[k - 1])
                if s is not None:
                    self._add(s)
            self.log.append_log(log, seams[k - 1].offset if k else 0)
