"""`subject_travel`: how far a clip's subject moves, as a fraction of the frame side.

The demo's motion control conditioned on the engine's `motion_peak` (a flow magnitude): it grows
with the moving area as well as the speed, so a square's `motion_peak` per unit of travel is ~1.6x
a circle's, and the demo's top motion levels lay beyond every circle's and triangle's training
range (docs/notes/train.md, session 9). This key measures the travel itself, so its scale does not
depend on what moves:

- the subject is every pixel whose colour lies far from the frame's median colour (the background
  covers most of the frame, so the spatial median is a background colour);
- its centroid is tracked over the frames; the travel is the displacement between the means of the
  first and last quarter of the track, rescaled to the whole clip by the frames between the two
  quarters' mean times, over the frame side. A shot shorter than the clip that a reader pads by
  repeating its last frame reads less travel than it moved (one of the demo's 417 rows).

It is a conditioning column added next to the engine's metrics (the catalog's `motion_peak` is
unchanged); it suits footage with one subject that stands out from its background, as the demo's.
"""

from __future__ import annotations

import math

import numpy as np

# RGB distance from the frame's median colour beyond which a pixel is the subject: the demo's
# backgrounds vary by ~+-25 around their median, its subjects differ by > 100
SUBJECT_DISTANCE = 60.0


def subject_travel(frames: np.ndarray, distance: float = SUBJECT_DISTANCE) -> float:
    """Travel (fraction of the side) of the subject in uint8 RGB frames (T, H, W, 3); NaN when
    fewer than half the frames show a subject."""
    T, H, W, _ = frames.shape
    cents, at = [], []
    for t, fr in enumerate(frames.astype(np.float32)):
        med = np.median(fr.reshape(-1, 3), 0)
        m = np.sqrt(((fr - med) ** 2).sum(-1)) > distance
        if m.sum() < 3:
            continue
        ys, xs = np.nonzero(m)
        cents.append((xs.mean(), ys.mean()))
        at.append(t)
    if len(cents) < max(2, T // 2):
        return float("nan")
    c, at = np.array(cents), np.array(at, dtype=np.float64)
    k = max(1, len(c) // 4)
    dx, dy = c[-k:].mean(0) - c[:k].mean(0)
    # rescaled by the frames between the two quarters' mean times, not by the track's length: frames
    # where the subject is not found (it left the frame, a black frame) do not shorten the clip
    span = (at[-k:].mean() - at[:k].mean()) / max(T - 1, 1)
    return float(math.hypot(dx / W, dy / H) / max(span, 1e-6))


def add_column(rows: list[dict], frames_of, name: str = "subject_travel") -> list[dict]:
    """Rows with `name` filled from `frames_of(row)` (uint8 frames); a clip that cannot be read
    gets an empty value (the model then uses the metric's null) and the error is returned."""
    errors = []
    for r in rows:
        try:
            v = subject_travel(frames_of(r))
            r[name] = "" if not np.isfinite(v) else v
        except ValueError as e:          # decode_rgb names the file and the problem
            r[name] = ""
            errors.append(str(e))
    return errors
