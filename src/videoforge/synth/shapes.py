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
# Training-only colours (issue 19, session 11): hues away from the four above, so that a training
# set can show every shape with many colours and the colour word stops predicting the shape. They
# never enter `combos()`, the held-out prompts or the checker's colour vote (`read_clip` still picks
# among COLOURS only); all are saturated enough for the checker's blob mask to find the shape.
EXTRA_COLOURS = {"orange": (245, 130, 20), "cyan": (20, 200, 220), "purple": (140, 40, 220),
                 "magenta": (225, 40, 190), "pink": (250, 130, 170), "lime": (150, 235, 40),
                 "brown": (150, 80, 25), "teal": (20, 130, 120)}
SHAPES = ("circle", "square", "triangle")
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
# Distance covered in `frames` frames, as a fraction of the frame side (slow >= 10 %). The
# ranges meet, so speeds cover one continuous range: the motion metric the generator is
# conditioned on then has training clips at every level a user can ask for, not two clusters.
SPEEDS = {"slow": (0.12, 0.37), "fast": (0.37, 0.62)}
# The shape's radius as a fraction of the side. 1/7 is the original size: at the demo's 32 x 32
# training size that is a 9-pixel shape, about two cells of a x4 latent, which is too small for
# the latent to keep circle / square / triangle apart (docs/notes/train.md, issue 19).
DEFAULT_RADIUS = 1 / 7


def speeds_for(radius: float = DEFAULT_RADIUS) -> dict[str, tuple[float, float]]:
    """SPEEDS shrunk so the longest travel still fits in the frame with a shape of `radius`.

    The room a shape can travel is the side minus its diameter (and a pixel each side at 64 px);
    SPEEDS were chosen for the default radius, so larger shapes get proportionally shorter
    travels (the same fraction of the room they have)."""
    room = lambda r: 1 - 2 * r - 2 / 64          # noqa: E731
    k = min(1.0, room(radius) / room(DEFAULT_RADIUS))
    return {name: (lo * k, hi * k) for name, (lo, hi) in SPEEDS.items()}


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
    radius: float = DEFAULT_RADIUS     # the shape's radius, fraction of the side


def combos() -> list[tuple[str, str, str]]:
    """All (colour, shape, direction) combinations, in a fixed order."""
    return list(itertools.product(COLOURS, SHAPES, DIRECTIONS))


def colour_rgb(name: str) -> tuple[int, int, int]:
    """RGB of a test colour (COLOURS) or a training-only one (EXTRA_COLOURS)."""
    if name in COLOURS:
        return COLOURS[name]
    if name in EXTRA_COLOURS:
        return EXTRA_COLOURS[name]
    raise KeyError(f"unknown colour {name!r} (known: {', '.join([*COLOURS, *EXTRA_COLOURS])})")


def extra_colour_combos(colours, pairs: dict[str, list[tuple[str, str]]] | None = None) -> list[tuple[str, str, str]]:
    """Every (colour, shape, direction) for the training-only `colours` (names from EXTRA_COLOURS),
    minus triples that contain a held-out pair of `pairs` (only a (shape, direction) pair can match:
    the held-out (colour, x) pairs use the test colours), so adding them keeps every held-out
    pairing out of training."""
    bad = [c for c in colours if c not in EXTRA_COLOURS]
    if bad:
        raise ValueError(f"not training-only colours: {bad} (EXTRA_COLOURS: {', '.join(EXTRA_COLOURS)})")
    out = list(itertools.product(colours, SHAPES, DIRECTIONS))
    return [c for c in out if not (pairs and is_held_out(c, pairs))]


def one_seen_extra_triple_each(pairs: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str]]:
    """One seen (colour, shape, direction) per (training-only colour, shape), its direction turning with
    the colour and shape so every direction is asked: the training-side checks' sample of the extra
    colours (benchmarks/train_shape_val.py, train_extra_colours_checks.py), never a held-out triple."""
    dirs = list(DIRECTIONS)
    out = []
    for i, c in enumerate(EXTRA_COLOURS):
        for j, s in enumerate(SHAPES):
            d = next((dirs[(i + j + k) % 4] for k in range(4)
                      if not is_held_out((c, s, dirs[(i + j + k) % 4]), pairs)), None)
            if d is not None:
                out.append((c, s, d))
    return out


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


# The three kinds of attribute pairs a split can hold out.
PAIR_KINDS = ("colour_shape", "shape_direction", "colour_direction")
_PAIR_SLOTS = {"colour_shape": (0, 1), "shape_direction": (1, 2), "colour_direction": (0, 2)}


def pairs_of(combo: tuple[str, str, str]) -> dict[str, tuple[str, str]]:
    """The (colour, shape), (shape, direction) and (colour, direction) pairs of a triple, by kind."""
    return {k: (combo[i], combo[j]) for k, (i, j) in _PAIR_SLOTS.items()}


def held_out_pairs(per_kind: int = 2, seed: int = 0) -> dict[str, list[tuple[str, str]]]:
    """`per_kind` pairs of each kind that no training clip shows.

    Held out: every (colour, shape, direction) triple that contains one of these pairs. So a
    held-out (red, circle) means no red circle at all in training (red is seen with the other
    shapes, circles with the other colours): each attribute of a test triple meets a partner it
    was never trained with, not only an unseen triple whose pairs were all seen.
    Pairs of one kind share no value (two held-out (colour, shape) pairs have different colours
    and different shapes), and every pair not held out stays in at least two training triples,
    so the model sees each value with most partners.
    """
    rng = np.random.default_rng(seed)
    values = {"colour_shape": (list(COLOURS), list(SHAPES)), "shape_direction": (list(SHAPES), list(DIRECTIONS)),
              "colour_direction": (list(COLOURS), list(DIRECTIONS))}
    for _ in range(1000):
        pick = {}
        for kind in PAIR_KINDS:
            a, b = values[kind]
            ia, ib = rng.permutation(len(a))[:per_kind], rng.permutation(len(b))[:per_kind]
            pick[kind] = sorted((a[i], b[j]) for i, j in zip(ia, ib))
        if _split_is_usable(pick):
            return pick
    raise ValueError(f"no usable split with {per_kind} held-out pairs of each kind")


def is_held_out(combo: tuple[str, str, str], pairs: dict[str, list[tuple[str, str]]]) -> bool:
    """True when the triple contains a held-out pair."""
    return any(p in pairs.get(k, ()) for k, p in pairs_of(combo).items())


def split_combos(pairs: dict[str, list[tuple[str, str]]]) -> tuple[list, list]:
    """(training triples, held-out triples) for a pair hold-out."""
    train, test = [], []
    for c in combos():
        (test if is_held_out(c, pairs) else train).append(c)
    return train, test


def _split_is_usable(pairs) -> bool:
    """Every pair that is not held out appears in >= 2 training triples."""
    train, _ = split_combos(pairs)
    count: dict = {}
    for c in train:
        for k, p in pairs_of(c).items():
            count[(k, p)] = count.get((k, p), 0) + 1
    for c in combos():
        for k, p in pairs_of(c).items():
            if p not in pairs[k] and count.get((k, p), 0) < 2:
                return False
    return True


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
    """Frames (frames, size, size, 3) uint8 RGB of `clip`; the shape's radius is `clip.radius` x size
    (size/7 by default)."""
    rng = np.random.default_rng(clip.seed)
    bg = _background(rng, size, size)
    r = size * clip.radius
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
    colour = np.array(colour_rgb(clip.colour), dtype=np.float64)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        f = t / max(frames - 1, 1)
        m = _mask(clip.shape, x0 + dx * travel * f, y0 + dy * travel * f, r, size, size)
        img = bg.copy()
        img[m] = colour
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def sample_clips(n_per_combo: int, exclude: list[tuple[str, str, str]] = (), seed: int = 0,
                 include: list[tuple[str, str, str]] | None = None,
                 radius: float = DEFAULT_RADIUS) -> list[ShapeClip]:
    """`n_per_combo` clips for every (colour, shape, direction) in `include` (default: all) and
    not in `exclude`, speeds alternating; shapes of `radius` (fraction of the side) with travels
    from `speeds_for(radius)`."""
    rng = np.random.default_rng(seed)
    speeds = speeds_for(radius)
    out = []
    chosen = combos() if include is None else [tuple(c) for c in include]
    for colour, shape, direction in chosen:
        if (colour, shape, direction) in set(map(tuple, exclude)):
            continue
        for k in range(n_per_combo):
            speed = "slow" if k % 2 == 0 else "fast"
            travel = float(rng.uniform(*speeds[speed]))
            fast_word = speed == "fast" and rng.random() < 0.5
            out.append(ShapeClip(colour, shape, direction, speed, travel,
                                 caption_for(colour, shape, direction, fast_word), int(rng.integers(2**31)), radius))
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
    """What the checker saw; `travel` is centroid displacement over the clip, fraction of the side.

    `shape_scores`: mean soft IoU of the blob with each shape's template over the frames (the
    shape is the best one); `fill` the median bounding-box fill ratio (the older shape cue).
    """

    colour: str | None
    shape: str | None
    direction: str | None
    travel: float
    found_frames: int
    shape_scores: dict | None = None
    fill: float | None = None
    # the nearest of every colour the project renders, training-only ones included: `colour` votes among
    # the test colours only, so a clip drawn in a training-only hue (purple for blue) still reads as its
    # nearest test colour; this says when that happened (evaluate.prompt_accuracy's `colour_strict`)
    colour_any: str | None = None


def _saturated_mask(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(np.float32)
    mx, mn = f.max(-1), f.min(-1)
    sat = (mx - mn) / np.maximum(mx, 1)
    return (sat > 0.45) & (mx > 90)


# area of each shape's mask in units of r**2 (see `_mask`): circle pi, square (1.8)**2,
# triangle 0.5 * base 2.2 * height 2
_AREA = {"circle": math.pi, "square": 3.24, "triangle": 2.2}


def _soft_mask(frame: np.ndarray) -> np.ndarray:
    """Per-pixel shape coverage in [0, 1]: edge pixels blended with the grey background by
    resizing or by the codec get a partial weight instead of a hard in/out call."""
    f = frame.astype(np.float32)
    mx, mn = f.max(-1), f.min(-1)
    sat = (mx - mn) / np.maximum(mx, 1)
    return np.clip((sat - 0.2) / 0.5, 0, 1) * (mx > 90)


def _template(shape: str, cx: float, cy: float, r: float, h: int, w: int, ss: int = 4) -> np.ndarray:
    """Anti-aliased coverage (h, w) of `shape` centred at (cx, cy), rendered at ss x ss supersampling."""
    m = _mask(shape, cx * ss, cy * ss, r * ss, h * ss, w * ss)
    return m.reshape(h, ss, w, ss).mean((1, 3))


def shape_scores(frame: np.ndarray) -> dict | None:
    """Soft IoU of the frame's largest saturated blob with a circle, a square and a triangle
    template of the blob's area, placed on the blob's centroid; None when there is no blob.

    Templates of equal area make the score depend on the outline only (a larger or smaller
    generated shape is not mistaken for another), and the soft mask keeps a 9-pixel shape's
    blended edge pixels, which decide between a circle and a square at 32 x 32.
    """
    import cv2

    w = _soft_mask(frame)
    n, lab, st, _ = cv2.connectedComponentsWithStats((w > 0.5).astype(np.uint8), connectivity=8)
    if n < 2:
        return None
    k = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
    if st[k, cv2.CC_STAT_AREA] < 3:
        return None
    w = w * (cv2.dilate((lab == k).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    area = float(w.sum())
    yy, xx = np.mgrid[0:w.shape[0], 0:w.shape[1]] + 0.5
    cx, cy = float((w * xx).sum() / area), float((w * yy).sum() / area)
    out = {}
    for shape, k_area in _AREA.items():
        r = math.sqrt(area / k_area)
        # the triangle's centroid lies r/3 below the centre `_mask` places it around
        t = _template(shape, cx, cy - (r / 3 if shape == "triangle" else 0.0), r, *w.shape)
        out[shape] = float(np.minimum(w, t).sum() / np.maximum(w, t).sum())
    return out


def read_clip(frames: np.ndarray) -> ClipReading:
    """Score uint8 RGB frames (T, H, W, 3): nearest colour, template-matched shape, centroid-track direction."""
    T, H, W, _ = frames.shape
    cents, pixels, fills, scores = [], [], [], []
    for fr in frames:
        m = _saturated_mask(fr)
        if m.sum() < 3:
            continue
        ys, xs = np.nonzero(m)
        cents.append((xs.mean(), ys.mean()))
        pixels.append(fr[m].astype(np.float64).mean(0))
        box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
        fills.append(m.sum() / box)
        sc = shape_scores(fr)
        if sc is not None:
            scores.append(sc)
    if len(cents) < max(2, T // 2):
        return ClipReading(None, None, None, 0.0, len(cents))
    mean_rgb = np.mean(pixels, 0)
    colour = min(COLOURS, key=lambda c: np.sum((np.array(COLOURS[c]) - mean_rgb) ** 2))
    mean_scores = {s: float(np.mean([d[s] for d in scores])) for s in SHAPES} if scores else None
    shape = max(mean_scores, key=mean_scores.get) if mean_scores else None
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
    every = {**COLOURS, **EXTRA_COLOURS}
    colour_any = min(every, key=lambda c: np.sum((np.array(every[c]) - mean_rgb) ** 2))
    return ClipReading(colour, shape, direction, travel, len(cents), mean_scores, float(np.median(fills)), colour_any)
