"""Camera movement from a global motion fit on the shared optical flow.

Each sampled frame pair gives a similarity fit of the flow (translation, scale). Per shot,
from the pairs inside it:

- `camera_pan`: median horizontal camera velocity, % of frame width per second; + = the
  camera turns right (content moves left).
- `camera_tilt`: median vertical camera velocity, % of frame height per second; + = the
  camera turns up (content moves down).
- `camera_zoom`: median scale change, % per second; + = zoom in (content grows).
- `camera_shake`: RMS of the frame-to-frame global displacement around its running median
  (5 pairs), % of the frame diagonal per frame: jitter, not steady movement.
- `camera_move` (text): `static`, `pan`, `tilt`, `zoom` or `shaky` -- the dominant
  movement; the signed columns give its direction.
"""

from __future__ import annotations

import math

import numpy as np

from videoforge.metrics.base import ShotContext
from videoforge.metrics.flow import DEFAULT_FLOW_RATE_HZ, FlowLogScorer, shared_tracker
from videoforge.metrics.sampling import SampleLog, split_by_shot

COLUMNS = ("camera_pan", "camera_tilt", "camera_zoom", "camera_shake", "camera_move")


def _running_median(x: np.ndarray, k: int = 5) -> np.ndarray:
    if x.size < 3:
        return np.full_like(x, np.median(x)) if x.size else x
    pad = k // 2
    xp = np.pad(x, pad, mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(xp, k)
    return np.median(win, axis=1)


def classify(pan: float, tilt: float, zoom: float, shake: float,
             move_threshold: float = 3.0, shake_threshold: float = 0.6) -> str:
    """Name the dominant camera movement from per-shot values (units as the columns).

    A zoom of z %/s moves the frame edges by about z/2 % of the frame per second, so it is
    weighed at half against pan and tilt. Shake wins when the jitter is large against the
    steady movement (shake is per frame; steady movement per second, hence the factor 25).
    """
    steady = {"pan": abs(pan), "tilt": abs(tilt), "zoom": 0.5 * abs(zoom)}
    kind, amount = max(steady.items(), key=lambda kv: kv[1])
    if shake >= shake_threshold and shake * 25.0 >= amount:
        return "shaky"
    return kind if amount >= move_threshold else "static"


class CameraScorer(FlowLogScorer):
    name = "camera"
    columns = COLUMNS

    def __init__(self, rate_hz: float = DEFAULT_FLOW_RATE_HZ, move_threshold: float = 3.0,
                 shake_threshold: float = 0.6):
        self.tracker = shared_tracker(rate_hz)
        self.move_threshold = move_threshold
        self.shake_threshold = shake_threshold
        self.log = SampleLog(6)  # pan %W/s, tilt %H/s, zoom %/s, dx %diag/frame, dy %diag/frame

    def _add(self, s) -> None:
        diag = math.hypot(s.width, s.height)
        self.log.add(s.frame,
                     -100.0 * s.tx / s.width / s.dt,
                     100.0 * s.ty / s.height / s.dt,
                     100.0 * s.scale / s.dt,
                     100.0 * s.tx / diag,
                     100.0 * s.ty / diag,
                     0.0)

    def finish(self, ctx: ShotContext) -> list[dict]:
        frames, v = self.log.arrays()
        out = []
        for sl in split_by_shot(frames, ctx.shots, first_offset=1):
            x = v[sl]
            if not len(x):
                out.append({c: None for c in COLUMNS})
                continue
            pan, tilt, zoom = (float(np.median(x[:, k])) for k in range(3))
            dx, dy = x[:, 3], x[:, 4]
            jitter = np.hypot(dx - _running_median(dx), dy - _running_median(dy))
            shake = float(np.sqrt(np.mean(jitter ** 2))) if len(x) >= 3 else 0.0
            out.append({"camera_pan": pan, "camera_tilt": tilt, "camera_zoom": zoom, "camera_shake": shake,
                        "camera_move": classify(pan, tilt, zoom, shake, self.move_threshold, self.shake_threshold)})
        return out
