"""Longer demo videos for continuation: a shape that keeps moving and bounces off the edges.

Same look as the shapes demo (synth/shapes.py: its backgrounds, colours and outlines), but the
shape moves with a constant velocity (vx, vy) and is reflected at the frame's edges, so it never
leaves the frame however long the video. The true centre of every frame is returned, for the
continuation's position and speed measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videoforge.synth import shapes

# The continuation's shape radius (fraction of the side) since session 8: the demo generator's own
# (train/demo.py DEMO_RADIUS, run 7 on). At synth/shapes.py's 1/7 a shape is 9 px across at 32 x 32,
# which the demo's x4 autoencoder cannot reconstruct as a shape (its reconstructions kept the shape
# in 0.33 of windows, session 7): every continuation was bounded by that. Older checkpoints (no
# "radius" in their continuation entry) were trained at 1/7.
CONTINUE_RADIUS = 0.25


@dataclass(frozen=True)
class BounceVideo:
    colour: str
    shape: str
    vx: float          # fraction of the side per frame
    vy: float
    x0: float          # start centre, fraction of the side
    y0: float
    seed: int          # background
    radius: float = shapes.DEFAULT_RADIUS

    @property
    def caption(self) -> str:
        """The demo's wording for the main direction of the first frames."""
        if abs(self.vx) >= abs(self.vy):
            d = "right" if self.vx > 0 else "left"
        else:
            d = "down" if self.vy > 0 else "up"
        return shapes.caption_for(self.colour, self.shape, d, False)


def _reflect(p: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Positions on an unbounded line folded into [lo, hi] (a bounce at each end)."""
    span = hi - lo
    q = np.mod(p - lo, 2 * span)
    return lo + np.where(q > span, 2 * span - q, q)


def centres(v: BounceVideo, frames: int, size: int = 64) -> np.ndarray:
    """(frames, 2) true centre (x, y) in pixels."""
    r = size * v.radius
    lo, hi = r + 1, size - r - 1
    t = np.arange(frames)
    return np.stack([_reflect(v.x0 * size + v.vx * size * t, lo, hi),
                     _reflect(v.y0 * size + v.vy * size * t, lo, hi)], 1)


def render(v: BounceVideo, frames: int, size: int = 64) -> np.ndarray:
    """(frames, size, size, 3) uint8 RGB."""
    rng = np.random.default_rng(v.seed)
    bg = shapes._background(rng, size, size)
    colour = np.array(shapes.COLOURS[v.colour], dtype=np.float64)
    out = np.empty((frames, size, size, 3), np.uint8)
    for i, (cx, cy) in enumerate(centres(v, frames, size)):
        img = bg.copy()
        img[shapes._mask(v.shape, cx, cy, size * v.radius, size, size)] = colour
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def sample_videos(n: int, seed: int, speed: tuple[float, float] = (0.02, 0.035),
                  radius: float = shapes.DEFAULT_RADIUS) -> list[BounceVideo]:
    """`n` videos: every colour and shape in turn, random direction (not axis-aligned, so the
    shape bounces off both pairs of edges) and speed in fractions of the side per frame; shapes
    of `radius` (fraction of the side)."""
    rng = np.random.default_rng(seed)
    out = []
    combos = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]
    for i in range(n):
        c, s = combos[(i + int(rng.integers(len(combos)))) % len(combos)]
        sp = rng.uniform(*speed)
        ang = rng.uniform(0, 2 * np.pi)
        out.append(BounceVideo(c, s, float(sp * np.cos(ang)), float(sp * np.sin(ang)), float(rng.uniform(0.3, 0.7)),
                               float(rng.uniform(0.3, 0.7)), int(rng.integers(2**31)), float(radius)))
    return out
