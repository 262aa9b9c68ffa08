"""Captioned synthetic videos of one coloured shape moving over a textured background.

The training demo's data: saturated red/green/blue/yellow circles, squares and triangles
that move left/right/up/down, slow or fast, over low-saturation textures (so the shape's
colour is never ambiguous). Captions read "a red circle moves left", with ", fast"
appended to some fast clips only: a caption without a speed word is then ambiguous and the
motion metric has to carry the speed, which is what metric conditioning is for.

The same module holds the checker that scores a generated clip back into
(colour, shape, direction, speed) by tracking the saturated blob.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

COLOURS = {"red": (230, 30, 30), "green": (30, 200, 40), "blue": (30, 60, 235), "yellow": (235, 220, 20)}
SHAPES = ("circle", "square", "triangle")
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
# Distance covered in `frames` frames, as a fraction of the frame side (slow >= 10 %). The
# ranges meet, so speeds cover one continuous range: the motion metric the generator is
# conditioned on then has training clips at every level a user can ask for, not two clusters.
SPEEDS = {"slow": (0.12, 0.37), "fast": (0.37, 0.62)}


@dataclass(frozen=True)
class ShapeClip:
    """What one clip shows; `travel` is the distance covered over the clip (fraction of the side)."""

    colour: str
    shape: str
    direction: str
    speed: str
    travel: float
    caption: str
    seed: int


def combos() -> list[tuple[str, str, str]]:
    """All (colour, shape, direction) combinations, in a fixed order."""
    return list(itertools.product(COLOURS, SHAPES, DIRECTIONS))


def held_out_combos(n: int = 6, seed: int = 0) -> list[tuple[str, str, str]]:
    """`n` (colour, shape, direction) combos kept out of training; each colour, shape and direction stays seen."""
    rng = np.random.default_rng(seed)
    all_c = combos()
    # distinct (colour, direction) pairs: each held-out pairing is still seen with the other shapes
    pick, seen = [], set()
    for i in rng.permutation(len(all_c)):
        c = all_c[i]
        if (c[0], c[2]) not in seen:
            pick.append(c)
            seen.add((c[0], c[2]))
        if len(pick) == n:
            break
    return sorted(pick)


def caption_for(colour: str, shape: str, direction: str, fast_word: bool) -> str:
    """The demo's caption, e.g. "a red circle moves left" or "a red circle moves left, fast"."""
    return f"a {colour} {shape} moves {direction}" + (", fast" if fast_word else "")


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A low-saturation texture, float RGB 0-255: coarse blotches + soft stripes in a grey-ish tint.

    The texture's scale (blotches of ~h/4, stripe periods of >= ~h/5) is one a x4 autoencoder
    can represent; pixel-level noise would spend the latent on the background.
    """
    base = rng.uniform(70, 170)
    tint = rng.uniform(-12, 12, size=3)
    cell = max(2, h // 4)
    noise = rng.normal(0, 1, size=(h // cell + 2, w // cell + 2))
    noise = np.kron(noise, np.ones((cell, cell)))[:h, :w]
    yy, xx = np.mgrid[0:h, 0:w]
    ang = rng.uniform(0, math.pi)
    freq = rng.uniform(1.5, 4.0) * 2 * math.pi / h      # 1.5-4 stripes across the frame
    stripes = np.sin((xx * math.cos(ang) + yy * math.sin(ang)) * freq)
    lum = base + 12 * noise + 12 * stripes
    return np.clip(lum[..., None] + tint[None, None, :], 0, 255)


def _mask(shape: str, cx: float, cy: float, r: float, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    if shape == "circle":
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    if shape == "square":
        s = r * 0.9
        return (np.abs(xx - cx) <= s) & (np.abs(yy - cy) <= s)
    # upward triangle: apex at top, base at bottom
    top, bot = cy - r, cy + r
    half = (yy - top) / (2 * r) * r * 1.1
    return (yy >= top) & (yy <= bot) & (np.abs(xx - cx) <= half)


def render_clip(clip: ShapeClip, frames: int = 16, size: int = 64) -> np.ndarray:
    """Frames (frames, size, size, 3) uint8 RGB of `clip`; the shape's radius is size/7."""
    rng = np.random.default_rng(clip.seed)
    bg = _background(rng, size, size)
    r = size / 7
    dx, dy = DIRECTIONS[clip.direction]
    travel = clip.travel * size
    lo, hi = r + 1, size - r - 1
    # start so the whole path stays inside the frame
    def start(d):
        if d > 0:
            return rng.uniform(lo, hi - travel)
        if d < 0:
            return rng.uniform(lo + travel, hi)
        return rng.uniform(lo + 4, hi - 4)
    x0, y0 = start(dx), start(dy)
    colour = np.array(COLOURS[clip.colour], dtype=np.float64)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        f = t / max(frames - 1, 1)
        m = _mask(clip.shape, x0 + dx * travel * f, y0 + dy * travel * f, r, size, size)
        img = bg.copy()
        img[m] = colour
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def sample_clips(n_per_combo: int, exclude: list[tuple[str, str, str]] = (), seed: int = 0) -> list[ShapeClip]:
    """`n_per_combo` clips for every (colour, shape, direction) not in `exclude`, speeds alternating."""
    rng = np.random.default_rng(seed)
    out = []
    for colour, shape, direction in combos():
        if (colour, shape, direction) in set(map(tuple, exclude)):
            continue
        for k in range(n_per_combo):
            speed = "slow" if k % 2 == 0 else "fast"
            travel = float(rng.uniform(*SPEEDS[speed]))
            fast_word = speed == "fast" and rng.random() < 0.5
            out.append(ShapeClip(colour, shape, direction, speed, travel,
                                 caption_for(colour, shape, direction, fast_word), int(rng.integers(2**31))))
    return out


def write_clips(clips: list[ShapeClip], out_dir: str, frames: int = 16, size: int = 64, fps: float = 8.0) -> list[str]:
    """Encode each clip to `out_dir/<index>_<colour>_<shape>_<direction>_<speed>.mp4` (H.264); returns paths."""
    import os

    from videoforge.io.encode import write_video

    paths = []
    for i, c in enumerate(clips):
        p = os.path.join(out_dir, f"{i:04d}_{c.colour}_{c.shape}_{c.direction}_{c.speed}.mp4")
        write_video(p, list(render_clip(c, frames, size)), fps=fps, crf=12)
        paths.append(p)
    return paths


# ---------------------------------------------------------------------------------------
# checker: read a clip back into (colour, shape, direction, speed)


@dataclass
class ClipReading:
    """What the checker saw; `travel` is centroid displacement over the clip, fraction of the side."""

    colour: str | None
    shape: str | None
    direction: str | None
    travel: float
    found_frames: int


def _saturated_mask(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(np.float32)
    mx, mn = f.max(-1), f.min(-1)
    sat = (mx - mn) / np.maximum(mx, 1)
    return (sat > 0.45) & (mx > 90)


def read_clip(frames: np.ndarray) -> ClipReading:
    """Score uint8 RGB frames (T, H, W, 3): nearest colour, fill-ratio shape, centroid-track direction."""
    T, H, W, _ = frames.shape
    cents, pixels, fills = [], [], []
    for fr in frames:
        m = _saturated_mask(fr)
        if m.sum() < 3:
            continue
        ys, xs = np.nonzero(m)
        cents.append((xs.mean(), ys.mean()))
        pixels.append(fr[m].astype(np.float64).mean(0))
        box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
        fills.append(m.sum() / box)
    if len(cents) < max(2, T // 2):
        return ClipReading(None, None, None, 0.0, len(cents))
    mean_rgb = np.mean(pixels, 0)
    colour = min(COLOURS, key=lambda c: np.sum((np.array(COLOURS[c]) - mean_rgb) ** 2))
    fill = float(np.median(fills))
    # ideal fills: square ~1, circle ~pi/4, triangle ~0.5
    shape = min({"square": 0.95, "circle": 0.78, "triangle": 0.52}.items(), key=lambda kv: abs(kv[1] - fill))[0]
    c = np.array(cents)
    k = max(1, len(c) // 4)
    dx, dy = c[-k:].mean(0) - c[:k].mean(0)
    if abs(dx) >= abs(dy):
        direction = "right" if dx > 0 else "left"
    else:
        direction = "down" if dy > 0 else "up"
    # displacement of the first-to-last quarter means, rescaled to the whole clip
    span = (len(c) - k) / max(len(c) - 1, 1)
    travel = float(math.hypot(dx / W, dy / H) / max(span, 1e-6))
    return ClipReading(colour, shape, direction, travel, len(cents))
