"""Optical flow on sampled frame pairs, computed once and shared by the motion and camera scorers.

DIS optical flow (OpenCV, ULTRAFAST preset) on the analysis luma (160 px wide): about
0.3 ms per pair. A pair (i-1, i) is taken about `rate_hz` times per second of video. Each
pair gives the mean flow magnitude and a robust similarity fit of the global motion
(translation, scale, rotation) that the camera classifier reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.sampling import RateSampler

DEFAULT_FLOW_RATE_HZ = 6.0  # flow pairs per second of video
_GRID_STEP = 4             # px between the points used for the global fit


@dataclass
class FlowSample:
    frame: int        # the pair is (frame - 1, frame)
    dt: float         # s between the two frames
    magnitude: float  # mean |flow|, px at analysis size
    tx: float         # global translation of the content, px (+ = content moves right)
    ty: float         # px (+ = content moves down)
    scale: float      # relative scale change (+ = content grows: zoom in)
    rotation: float   # rad (small-angle)
    width: int        # analysis frame size, px
    height: int


def fit_similarity(flow: np.ndarray, step: int = _GRID_STEP) -> tuple[float, float, float, float]:
    """Least-squares similarity (tx, ty, scale, rotation) of a dense flow field, refit without outliers.

    Units: px, px, relative scale, rad. Points whose residual is far above the median
    (moving objects) are dropped before the second fit.
    """
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    u = flow[ys, xs, 0].ravel().astype(np.float64)
    v = flow[ys, xs, 1].ravel().astype(np.float64)
    x = xs.ravel() - (w - 1) / 2.0
    y = ys.ravel() - (h - 1) / 2.0
    keep = np.ones(u.size, bool)
    params = (0.0, 0.0, 0.0, 0.0)
    for _ in range(2):
        xk, yk, uk, vk = x[keep], y[keep], u[keep], v[keep]
        n = xk.size
        if n < 8:
            break
        # u = tx + s x - r y ; v = ty + s y + r x  (centred coordinates)
        mx, my = xk.mean(), yk.mean()
        mu, mv = uk.mean(), vk.mean()
        xc, yc, uc, vc = xk - mx, yk - my, uk - mu, vk - mv
        den = float((xc * xc + yc * yc).sum()) or 1.0
        s = float((xc * uc + yc * vc).sum()) / den
        r = float((xc * vc - yc * uc).sum()) / den
        tx = mu - s * mx + r * my
        ty = mv - s * my - r * mx
        params = (tx, ty, s, r)
        res = np.hypot(u - (tx + s * x - r * y), v - (ty + s * y + r * x))
        med = float(np.median(res))
        keep = res <= max(3.0 * med, 0.25)
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
            flow = self._dis.calc(self._prev_luma, luma, None)
            mag = float(np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2).mean())
            tx, ty, s, r = fit_similarity(flow)
            h, w = luma.shape
            sample = FlowSample(frame.index, max(1e-6, frame.pts_time - self._prev_pts), mag, tx, ty, s, r, w, h)
        self._prev_luma, self._prev_pts, self._prev_index = luma, frame.pts_time, frame.index
        self._last_frame, self._last_sample = frame, sample
        return sample


_SHARED: dict[float, FlowTracker] = {}


def shared_tracker(rate_hz: float = DEFAULT_FLOW_RATE_HZ) -> FlowTracker:
    """One tracker per rate per process, so motion and camera scorers pay for each flow once.

    Safe across videos: a tracker starts over whenever frame indices stop being consecutive.
    """
    t = _SHARED.get(rate_hz)
    if t is None:
        t = _SHARED[rate_hz] = FlowTracker(rate_hz)
    return t
